#!/usr/bin/env bash
# cutover_replica.t: the whole runbook with [database] method = replica
# (issue 13) against a simulated production of its own (tests/sim/up, the
# world before Prep), whose read replica is a real PostgreSQL standby of the
# live cluster: prep refused while the live database keeps no automated
# backups, then prep creating the replica (streaming, read-only), plan
# showing it and the promotion in the window, prep pointing the new
# environments at the replica (closed), run --yes killed right after the
# catch-up, the opening of the new side, the promotion and the DNS change and
# rerun, the step order (the new side opens beside the promotion, DNS moves
# last and ends the window), the world checked
# afterwards (no snapshot, no restore, one promotion, the promoted database
# out of recovery with production's data, migrated and converted, DNS, old
# database untouched and frozen, no lost writes after the promotion point),
# a rerun that changes nothing, and fail-back.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
sed -i '/^\[database\]/a method = replica' "$CFG"

cut plan -c "$CFG" --state "$ST"
check "plan lists the replica's creation in prep" has "$T/out" "replica-create"
check "and its catch-up and promotion in the run" has "$T/out" "promote"
check "plan predicts the replica window (the promotion, no restore)" has "$T/out" "promote db-promote 4m00s"
check "plan changes nothing" eq "$(mutations)" 0

# ---- prep refused while the live database keeps no automated backups -------------------
simset '{"kind": "db_instance", "id": "production-blue", "set": {"backup_retention": 0}}'
clear_calls
cut prep -c "$CFG" --state "$ST"
check "prep stops when the live database keeps no automated backups" eq "$rc" 1
check "saying so and how to go on, in one sentence" has "$T/err" "keeps no automated backups.*method = snapshot"
check "no replica was asked for" eq "$(calls rds CreateDBInstanceReadReplica)" 0
simset '{"kind": "db_instance", "id": "production-blue", "set": {"backup_retention": 7}}'

# ---- prep ---------------------------------------------------------------------------------
cut prep -c "$CFG" --state "$ST"
check "prep creates the read replica" eq "$rc" 0
check "exactly one CreateDBInstanceReadReplica" eq "$(calls rds CreateDBInstanceReadReplica)" 1
dump
check "the new database is a replica of the live one" eq "$(j "[i['replica_source'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" production-blue
check "at the configured class" eq "$(j "[i['class'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" db.t3.small
REP=$(j "d['databases']['cobalt-production-green']['address']")
check "it is a real standby (pg_is_in_recovery)" eq "$(psql_at "$REP" "SELECT pg_is_in_recovery()")" t
psql_at "$REP" "CREATE TABLE cutover_probe (i int)" >/dev/null 2>"$T/ro.err"
check "read-only until promoted" has "$T/ro.err" "read-only transaction"
psql_at "$LIVE_DB" "CREATE TABLE replica_probe (i int); INSERT INTO replica_probe VALUES (42)" >/dev/null
probe_replicated() { [ "$(psql_at "$REP" "SELECT i FROM replica_probe" 2>/dev/null)" = 42 ]; }
wait_for 20 probe_replicated
check "a write to the live database reaches it" eq "$(psql_at "$REP" "SELECT i FROM replica_probe" 2>/dev/null)" 42
psql_at "$LIVE_DB" "DROP TABLE replica_probe" >/dev/null
check "prep points the new web env at the replica" eq "$(env_var cobalt-production-green RDS_HOSTNAME)" "$REP"
check "and the new SES env" eq "$(env_var cobalt-ses-production-blue RDS_HOSTNAME)" "$REP"
check "with MP_USE_DJANGO removed" eq "$(env_var cobalt-production-green MP_USE_DJANGO)" "<unset>"
check "still in maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" ON

# ---- run, killed after each change of the replica path, rerun ------------------------------
clear_calls
for point in replica-catchup:done open-new:apply promote:apply dns-switch:apply; do
	CUTOVER_TEST_CRASH_AT=$point "$CUTOVER" run --yes -c "$CFG" --state "$ST" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	check "run killed right after $point" eq "$rc" 137
done
cut run --yes -c "$CFG" --state "$ST"
check "the rerun finishes the cutover" eq "$rc" 0
check "no snapshot taken" eq "$(calls rds CreateDBSnapshot)" 0
check "no restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 0
check "exactly one promotion" eq "$(calls rds PromoteReadReplica)" 1
check "exactly one DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 1
# the new side opens beside the promotion; DNS moves last, after the smoke test
order=$($PY -c '
import json, sys
done = [r["step"] for r in map(json.loads, open(sys.argv[1])) if r.get("ev") in ("step-done", "step-skipped") and r.get("step")]
first = lambda s: done.index(s) if s in done else -1
print(0 <= first("open-new") < first("promote") < first("open-new-ready") < first("smoke-test") < first("dns-switch") < first("dns-insync"), "maint-off" in done, "point-new" in done[done.index("scale-live"):])' "$ST/journal.jsonl")
check "open-new before the promotion's wait, DNS after the smoke test, no maint-off or point-new in the run" eq "$order" "True False False"
check "the window ends at dns-insync" has "$ST/journal.jsonl" '"ev":"downtime-end","step":"dns-insync"'
check "the journal has the catch-up's positions" has "$ST/journal.jsonl" '"step":"replica-catchup".*"replay_lsn"'
check "lost writes are counted from the promotion point: none" has "$T/out" "0 row(s) were written to the old database after the promotion point"
check "the report has the lost-writes section" has "$ST/report.md" "^## Lost writes"

# ---- the world afterwards --------------------------------------------------------------------
dump
NEW=$(j "d['databases']['cobalt-production-green']['address']")
check "the new database is no replica any more" eq "$(j "[i['replica_source'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" None
check "and out of recovery (it takes writes)" eq "$(psql_at "$NEW" "SELECT pg_is_in_recovery()")" f
check "the same server prep created" eq "$NEW" "$REP"
check "apex points at the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
check "ses points at the new SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "the new web env uses the promoted database" eq "$(env_var cobalt-production-green RDS_HOSTNAME)" "$NEW"
check "the new SES env uses it" eq "$(env_var cobalt-ses-production-blue RDS_HOSTNAME)" "$NEW"
check "the new system is out of maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" OFF
check "the promoted database holds production's events" eq "$(j "d['databases']['cobalt-production-green']['tables']['events_evententry']['rows'] >= d['databases']['production-blue']['tables']['events_evententry']['rows'] > 3")" True
check "users converted once (ids up to the sequence + $LIVE_UNREG)" eq "$(j "d['databases']['cobalt-production-green']['tables']['accounts_user']['max_id']")" $((LIVE_USER_SEQ + LIVE_UNREG))
check "the promoted database is migrated (0055)" eq "$(j "d['databases']['cobalt-production-green']['notifications_migration']")" 0055_alter_unregisteredblockedemail_un_registered_user
check "blocked emails are back, all but the $LIVE_BE_LOST of people with no user" eq "$(j "d['databases']['cobalt-production-green']['tables']['notifications_unregisteredblockedemail']['rows']")" $((LIVE_BE - LIVE_BE_LOST))
check "the old database is untouched: unregistered users" eq "$(j "d['databases']['production-blue']['tables']['accounts_unregistereduser']['rows']")" "$LIVE_UNREG"
check "the old database is untouched: schema" eq "$(j "d['databases']['production-blue']['notifications_migration']")" 0035_unregisteredblockedemail
check "the old database is still frozen" eq "$(psql_at "$LIVE_DB" "SELECT setting FROM pg_settings WHERE name = 'default_transaction_read_only'")" on
check "the old web env is in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" ON

clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "a rerun of the finished cutover succeeds" eq "$rc" 0
check "and changes nothing" eq "$(mutations)" 0

# ---- fail back after completion ------------------------------------------------------------
cut failback --yes -c "$CFG" --state "$ST"
check "fail-back succeeds" eq "$rc" 0
dump
check "apex points at the old web env again" eq "$(alias_of myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is out of maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" OFF
check "the promoted database is kept" eq "$(db_status cobalt-production-green)" available

done_testing
