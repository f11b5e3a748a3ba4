#!/usr/bin/env bash
# seed_fixture --shape production (the simulation's data): deterministic, one
# run only, and shaped so that migration 0055 fails on it as it does on
# production (the re-created FK validates the old ids); the conversion leaves
# exactly the people it cannot create.
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
new_instance a dba >/dev/null
new_instance b dbb >/dev/null
for i in a b; do manage "$T/$i" fixture_migrate before -v0 >/dev/null 2>&1; done
manage "$T/a" seed_fixture --shape production >"$T/seed" 2>&1
ok $? "the production-shaped seed loads on the old schema"
check "and says what it wrote" grep -q "Seeded fixture data (production): 304 users, 220 unregistered users, 250 blocked emails" "$T/seed"
manage "$T/a" seed_fixture --shape production >"$T/seed2" 2>&1
check "a second run changes nothing" grep -q "nothing changed" "$T/seed2"
manage "$T/b" seed_fixture --shape production >/dev/null 2>&1
rows() { q "$1" "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
	SELECT 'u' || id || ',' || username || ',' || system_number || ',' || email AS x FROM accounts_user
	UNION ALL SELECT 'p' || id || ',' || system_number || ',' || first_name || ',' || created_date FROM accounts_unregistereduser
	UNION ALL SELECT 'b' || un_registered_user_id || ',' || email FROM notifications_unregisteredblockedemail) t"; }
check "the same rows on a second fresh database (fixed random seed)" test "$(rows dba)" = "$(rows dbb)"
check "the sequences are past the highest ids" test "$(q dba "SELECT (SELECT last_value FROM accounts_user_id_seq) = (SELECT max(id) FROM accounts_user)
	AND (SELECT last_value FROM accounts_unregistereduser_id_seq) = (SELECT max(id) FROM accounts_unregistereduser)")" = t

manage "$T/a" migrate --noinput -v0 >"$T/mig" 2>&1; rc=$?
check "migrate (0055) fails on it" test "$rc" -ne 0
check "naming 6356, an unregistered-user id no user has" grep -q 'Key (un_registered_user_id)=(6356) is not present in table "accounts_user"' "$T/mig"
check "and the schema stays old" test "$(q dba "SELECT confrelid::regclass FROM pg_constraint WHERE contype = 'f' AND conrelid = 'notifications_unregisteredblockedemail'::regclass")" = accounts_unregistereduser

q dba "DELETE FROM notifications_unregisteredblockedemail" >/dev/null
manage "$T/a" migrate --noinput -v0 >/dev/null 2>&1
ok $? "with the blocked emails cleared, migrate passes"
manage "$T/a" temp_copy_unreg_to_user >"$T/conv" 2>&1
check "the conversion fails the dupe and the username clash, nobody else" test "$(grep '^Error' "$T/conv" | tr '\n' ' ')" = \
	"Error - likely dupe ABF number 518003 Error - likely dupe ABF number 731045 "
check "every try took an id: the last user id is the sequence + 220" test "$(q dba "SELECT max(id) FROM accounts_user")" = $((44940 + 220))
check "no user has Mia Moss's number (731045): her blocked email cannot be mapped" test "$(q dba "SELECT count(*) FROM accounts_user WHERE system_number = 731045")" = 0

# The after schema: only rows naming an accounts_user id can exist.
new_instance c dbc >/dev/null
manage "$T/c" fixture_migrate after -v0 >/dev/null 2>&1 && manage "$T/c" seed_fixture --shape production >/dev/null 2>&1
ok $? "the production-shaped seed loads on the new schema"
check "with only the blocked emails whose ids are accounts_user ids" test "$(q dbc "SELECT count(*) FROM notifications_unregisteredblockedemail")" = 26
done_testing
