#!/usr/bin/env bash
# The fixture's before/after schemas (the notifications 0035 -> 0055 FK change),
# Cobalt's table and column names, and the deterministic seed.
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
new_instance i1 ebdb
fk_target() { q ebdb "select confrelid::regclass from pg_constraint where conrelid='notifications_unregisteredblockedemail'::regclass and contype='f'"; }

manage "$T/i1" fixture_migrate before -v0 >"$T/out" 2>&1; ok $? "fixture_migrate before runs"
check "before: blocked-email FK points at accounts_unregistereduser" test "$(fk_target)" = accounts_unregistereduser
check "before: notifications stops at 0035" test "$(q ebdb "select string_agg(name, ',') from django_migrations where app='notifications'")" = 0035_unregisteredblockedemail
check "before: every other app fully migrated" test "$(q ebdb "select count(*) from django_migrations where app in ('events','payments','masterpoints','accounts','organisations')")" = 5

# Every table and column cobalt.md lists (the lost-writes and activity reports read them).
want="events_evententry:first_created_date,entry_complete_date,event_id,primary_entrant_id,entry_status
events_evententryplayer:first_created_date,entry_complete_date,event_entry_id,player_id,paid_by_id,payment_type,payment_status,entry_fee,payment_received,batch_id
payments_stripetransaction:created_date,last_change_date,member_id,amount,status,stripe_reference
payments_membertransaction:created_date,amount,balance,type,reference_no,member_id,stripe_transaction_id,other_member_id,organisation_id,event_id,club_session_id
payments_organisationtransaction:created_date,amount,balance,type,reference_no,member_id,stripe_transaction_id,other_member_id,organisation_id,event_id,club_session_id,other_organisation_id,xero_invoice_id
payments_stripelog:created_date
payments_userpendingpayment:created_at
events_eventlog:action_date
notifications_unregisteredblockedemail:id,email,un_registered_user_id
accounts_user:id,system_number,first_name,last_name,username,email,is_active,user_type,is_superuser
accounts_unregistereduser:id,system_number
masterpoints_mpbatch:old_mpc_id
masterpoints_mptran:old_mpc_id,mp_batch_id"
pairs=""
while IFS=: read -r table cols; do
	for c in ${cols//,/ }; do pairs+="${pairs:+,}('$table','$c')"; done
done <<<"$want"
missing=$(q ebdb "select string_agg(w.t||'.'||w.c, ' ') from (values $pairs) w(t,c) where not exists (select 1 from information_schema.columns i where i.table_name=w.t and i.column_name=w.c)")
[ -z "$missing" ] || diag "missing columns:$missing"
ok $([ -z "$missing" ]; echo $?) "cobalt.md's tables and columns exist with their exact names"
check "accounts_user.system_number is unique" test "$(q ebdb "select count(*) from pg_indexes where tablename='accounts_user' and indexdef like 'CREATE UNIQUE INDEX%(system_number)'")" = 1

manage "$T/i1" seed_fixture >"$T/seed" 2>&1; ok $? "seed_fixture loads"
check "seed: 10 users, 5 unregistered users, 4 blocked emails" test "$(q ebdb "select (select count(*) from accounts_user)||','||(select count(*) from accounts_unregistereduser)||','||(select count(*) from notifications_unregisteredblockedemail)")" = "10,5,4"
check "seed: blocked emails hold unregistered-user ids (joined: 4 people)" test "$(q ebdb "select count(*) from notifications_unregisteredblockedemail b join accounts_unregistereduser u on u.id=b.un_registered_user_id")" = 4
check "seed: one unregistered user shares a registered ABF number (the dupe)" test "$(q ebdb "select string_agg(u.system_number::text, ',') from accounts_unregistereduser u join accounts_user a using (system_number)")" = 518003
check "seed: entries, players, payments, MP data" test "$(q ebdb "select (select count(*) from events_evententry)||','||(select count(*) from events_evententryplayer)||','||(select count(*) from payments_stripetransaction)||','||(select count(*) from payments_membertransaction)||','||(select count(*) from payments_organisationtransaction)||','||(select count(*) from payments_stripelog)||','||(select count(*) from payments_userpendingpayment)||','||(select count(*) from masterpoints_mpbatch)||','||(select count(*) from masterpoints_mptran)")" = "3,6,2,5,2,2,1,3,6"
check "seed: timestamps fixed in January 2026" test "$(q ebdb "select count(*) from events_evententry where first_created_date >= '2026-01-01' and first_created_date < '2026-02-01'")" = 3
manage "$T/i1" fixture_dump >"$T/dump" 2>&1
check "fixture_dump: before state, FK target, seeded counts, latest entry time" test "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["state"], d["blocked_email_fk"], d["counts"]["accounts_unregistereduser"], d["latest"]["events_evententry.first_created_date"])' "$T/dump")" = "before accounts_unregistereduser 5 2026-01-06T23:00:00+00:00"
before_dump=$(q ebdb "select * from accounts_user order by id")
manage "$T/i1" seed_fixture >"$T/seed2" 2>&1
check "seed again changes nothing and says so" grep -q "already present; nothing changed" "$T/seed2"
check "seed again: same rows" test "$(q ebdb "select * from accounts_user order by id")" = "$before_dump"

manage "$T/i1" migrate --noinput >"$T/mig" 2>&1; ok $? "migrate (the runbook's) moves before -> after"
check "migrate applied exactly notifications 0055" test "$(grep -c 'Applying' "$T/mig")-$(grep -c 'Applying notifications.0055' "$T/mig")" = 1-1
check "after: blocked-email FK points at accounts_user" test "$(fk_target)" = accounts_user
check "after: no data migration, the old ids now name the wrong people (system accounts, admin)" \
	test "$(q ebdb "select string_agg(u.username, ',' order by b.id) from notifications_unregisteredblockedemail b join accounts_user u on u.id=b.un_registered_user_id")" = "EVERYONE,TBA,ABF,admin"
manage "$T/i1" fixture_migrate before >"$T/refuse" 2>&1; rc=$?
ok $([ $rc -ne 0 ] && grep -q "already has notifications 0055" "$T/refuse"; echo $?) "fixture_migrate before refuses an after-state database"

new_instance i2 afterdb
manage "$T/i2" fixture_migrate after -v0 >/dev/null 2>&1; ok $? "fixture_migrate after on a fresh database"
check "after (fresh): FK points at accounts_user" test "$(q afterdb "select confrelid::regclass from pg_constraint where conrelid='notifications_unregisteredblockedemail'::regclass and contype='f'")" = accounts_user
manage "$T/i2" seed_fixture >/dev/null 2>&1; ok $? "seed loads on the after schema too"
done_testing
