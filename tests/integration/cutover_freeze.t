#!/usr/bin/env bash
# cutover_freeze.t: the write freeze and the evidence before the DNS switch
# (issue 12) against a simulated production of its own, whose databases are
# real PostgreSQL clusters: from the freeze on, a write through the old
# environment's app does not land (and a direct INSERT fails loudly); the
# setting travels into the snapshot and the restored copy comes out
# writable; a row added to the new database after the restore stops the run
# before DNS moves, naming the table; fail-back lifts the freeze exactly, so
# the same write through the old app lands again.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
BLUE=cobalt-production-blue
# What a new session of the app gets (the database-level default).
ro() { psql_at "$1" "SHOW default_transaction_read_only"; }
dbsettings() { psql_at "$1" "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'ebdb'"; }
entries() { psql_at "$LIVE_DB" "SELECT count(*) FROM events_evententry"; }
b1=$(j "d['hosts']['i-0b1e0000000000001']['address']")
settings_before=$(dbsettings "$LIVE_DB")

cut prep -c "$CFG" --state "$ST"
check "prep" eq "$rc" 0
cut plan -c "$CFG" --state "$ST"
check "plan lists the freeze and parity steps" has "$T/out" "freeze"
check "and the tables parity leaves out, with why" has "$T/out" "django_migrations (migrate records the migrations it applies)"

cut run --yes --until freeze -c "$CFG" --state "$ST"
check "run --until freeze" eq "$rc" 0
check "it says from when the live database refuses writes" has "$T/out" "the live database refuses writes from"
check "new sessions of the live database are read-only" eq "$(ro "$LIVE_DB")" on
e0=$(entries)
code=$(http "$b1" /events/entry -X POST)
check "a write through the old environment's app is not answered with success ($code)" test "$code" != 200
check "and does not land" eq "$(entries)" "$e0"
psql_at "$LIVE_DB" "INSERT INTO payments_stripelog (created_date, event, event_type, cobalt_pay_id) VALUES (now(), '{}', 'x', 'pi_frozen')" >/dev/null 2>"$T/ins.err"
check "a direct INSERT fails loudly" grep -q "read-only transaction" "$T/ins.err"

cut run --yes --until migrate-new -c "$CFG" --state "$ST"
check "run --until migrate-new" eq "$rc" 0
dump
NEW_DB=$(j "d['databases']['cobalt-production-green']['address']")
check "the restored copy came out writable" eq "$(ro "$NEW_DB")" off
check "with no setting left behind" eq "$(dbsettings "$NEW_DB")" 0
check "the live database is still frozen" eq "$(ro "$LIVE_DB")" on
psql_at "$NEW_DB" "INSERT INTO payments_stripelog (created_date, event, event_type, cobalt_pay_id) VALUES (now(), '{}', 'x', 'pi_after_restore')" >/dev/null
check "the new database takes writes" eq "$?" 0

cut run --yes -c "$CFG" --state "$ST"
check "a row added to the new database after the restore stops the run" eq "$rc" 1
check "naming the table" has "$T/err" "payments_stripelog"
check "before DNS moves" eq "$(alias_of myabf.com.au.)" "$BLUE.ap-southeast-2.elasticbeanstalk.com."
check "the report shows the difference" has "$ST/report.md" "## Parity before the DNS switch"
check "and the freeze point" has "$ST/report.md" "## Write freeze"

psql_at "$NEW_DB" "DELETE FROM payments_stripelog WHERE cobalt_pay_id = 'pi_after_restore'" >/dev/null
cut run --yes --until parity -c "$CFG" --state "$ST"
check "with the row gone, parity passes" eq "$rc" 0
check "saying the live database did not change since the freeze" has "$T/out" "has not changed since the freeze"
cut report --state "$ST"
check "the report says no write landed after the freeze" has "$ST/report.md" "no write landed after the freeze"

cut failback --yes -c "$CFG" --state "$ST"
check "fail-back" eq "$rc" 0
dump
check "the old database takes writes again" eq "$(ro "$LIVE_DB")" off
check "its settings exactly as before the cutover" eq "$(dbsettings "$LIVE_DB")" "$settings_before"
check "the old web env is out of maintenance mode" eq "$(env_var "$BLUE" MAINTENANCE_MODE)" OFF
# The users' traffic writes too now, so the entry is found by its id.
curl -s -m 10 -H "Host: $SIMPROD_SITE" -X POST "http://$b1:$SIMPROD_HTTP_PORT/events/entry" >"$T/entry.json"
id=$($PY -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["event_entry_id"]))' "$T/entry.json" 2>/dev/null)
check "a write through the old environment's app is answered again" test -n "$id"
check "and lands in the old database" eq "$(psql_at "$LIVE_DB" "SELECT count(*) FROM events_evententry WHERE id = ${id:-0}")" 1

done_testing
