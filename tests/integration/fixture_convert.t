#!/usr/bin/env bash
# temp_copy_unreg_to_user on the migrated ("after") old-production data:
# Cobalt's output lines, the conversion itself, the dupe error, and a re-run
# that retries only the failures (no transaction).
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
new_instance i1 ebdb
manage "$T/i1" fixture_migrate before -v0 >/dev/null 2>&1 && manage "$T/i1" seed_fixture >/dev/null 2>&1 &&
	manage "$T/i1" migrate -v0 >/dev/null 2>&1
ok $? "old production seeded and migrated to the new schema"

manage "$T/i1" temp_copy_unreg_to_user >"$T/run1" 2>"$T/err1"; rc=$?
ok $rc "first run exits 0 even with a failure"
cat >"$T/want1" <<'OUT'
About to convert 5 unregistered users...
Create new user Grace Green (620001). Deleted old unreg user Grace Green (620001)
Create new user Henry Hill (620002). Deleted old unreg user Henry Hill (620002)
Error - likely dupe ABF number 518003
Create new user Ivy Irwin (620004). Deleted old unreg user Ivy Irwin (620004)
Create new user Jack Jones (620005). Deleted old unreg user Jack Jones (620005)
OUT
check "first run prints Cobalt's lines, the dupe in its place, and carries on after it" diff -u "$T/want1" "$T/run1"
check "four converted: inactive, noemail@notset.com, username = ABF number" test \
	"$(q ebdb "select string_agg(system_number||':'||username||':'||email||':'||is_active||':'||user_type, ' ' order by system_number) from accounts_user where system_number >= 620000")" \
	= "620001:620001:noemail@notset.com:false:N 620002:620002:noemail@notset.com:false:C 620004:620004:noemail@notset.com:false:N 620005:620005:noemail@notset.com:false:N"
check "converted users get new accounts_user ids (11,12,14,15: the dupe burnt 13), not their old ones" test "$(q ebdb "select string_agg(id::text, ',' order by id) from accounts_user where system_number >= 620000")" = "11,12,14,15"
check "only the dupe is left in accounts_unregistereduser" test "$(q ebdb "select string_agg(system_number::text, ',') from accounts_unregistereduser")" = 518003
check "the registered Carol (518003) is untouched" test "$(q ebdb "select username||':'||is_active from accounts_user where system_number=518003")" = "518003:true"
check "blocked emails untouched by the conversion (still the old ids 1-4)" test "$(q ebdb "select string_agg(un_registered_user_id::text, ',' order by id) from notifications_unregisteredblockedemail")" = "1,2,3,4"

manage "$T/i1" temp_copy_unreg_to_user >"$T/run2" 2>&1; rc=$?
ok $rc "re-run exits 0"
printf 'About to convert 1 unregistered users...\nError - likely dupe ABF number 518003\n' >"$T/want2"
check "re-run retries only the failed row" diff -u "$T/want2" "$T/run2"
check "re-run creates nothing new" test "$(q ebdb "select count(*) from accounts_user")" = 14

# No transaction: a failure part-way leaves the rows already done converted.
q ebdb "insert into accounts_unregistereduser (system_number, first_name, last_name, internal_system_number, created_date, origin) values (630001, 'Liam', 'Lee', false, now(), 'MC'), (630002, 'Mia', 'Moss', false, now(), 'MC')"
q ebdb "create function fixture_refuse() returns trigger language plpgsql as \$\$ begin if new.system_number = 630002 then raise exception 'simulated crash'; end if; return new; end \$\$;
        create trigger fixture_refuse before insert on accounts_user for each row execute function fixture_refuse()"
manage "$T/i1" temp_copy_unreg_to_user >"$T/run3" 2>&1; rc=$?
ok $([ $rc -ne 0 ]; echo $?) "a crash part-way fails the command"
check "rows converted before the crash stay converted (no transaction)" test "$(q ebdb "select count(*) from accounts_user where system_number=630001")-$(q ebdb "select count(*) from accounts_unregistereduser where system_number=630001")" = 1-0
done_testing
