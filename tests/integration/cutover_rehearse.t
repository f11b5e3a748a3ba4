#!/usr/bin/env bash
# cutover_rehearse.t: the runbook's Steps for Test (`cutover rehearse`)
# against a simulated production of its own, on its test environment
# cobalt-test-black: MP_USE_DJANGO set, production's data copied in (a
# snapshot of the live database restored as a new instance of the requested
# class, the test environment pointed at it), migrate, the user conversion, a
# check that the Masterpoints server answers, mpc_sync; each result reported.
# First with the Masterpoints server down: the rehearsal refuses mpc_sync with
# a clear sentence and mpc_sync never runs; then with it back: the rerun
# resumes and syncs; a third run (the server down again) changes nothing. Production (its database,
# environments and DNS) is never changed.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
admin POST /time '{"durations": {"env_update": 2, "snapshot": 2, "db_create": 3, "dns_change": 1}}' >/dev/null

# What production is, from the dump: its environments and DNS.
prod_state() {
	j "json.dumps([sorted((e['name'], e['status'], e['version'], sorted(e['env_vars'].items())) for e in d['aws']['environments'] if 'production' in e['name']), sorted(json.dumps(r, sort_keys=True) for z in d['aws']['zones'] for r in z['records'])], sort_keys=True)"
}
tdb() { j "d['databases']['cobalt-test-black-prod']['tables']['$1']['$2']"; }

RCFG="$T/rehearse.ini"
cp "$CFG" "$RCFG"
printf '\n[rehearse]\nenvironment = cobalt-test-black\ndatabase = cobalt-test-black-prod\nclass = db.t3.medium\n' >>"$RCFG"
RST="$T/rehearse-state"
snap="production-blue-rehearse-$(date -u +%Y%m%d)"

dump
prodaddr=$(j "d['databases']['production-blue']['address']")
prod_before=$(prod_state)
check "production's state is read (environments, DNS)" test "$(echo "$prod_before" | grep -c 'cobalt-ses-production-green.*ses.myabf.com.au')" -eq 1
prod_users=$(j "d['databases']['production-blue']['tables']['accounts_user']['max_id']")
check "the test environment runs on the test database" eq "$(env_var cobalt-test-black RDS_HOSTNAME)" "$(j "d['databases']['cobalt-test']['address']")"
check "without MP_USE_DJANGO" eq "$(env_var cobalt-test-black MP_USE_DJANGO)" "<unset>"
# A row only production has: the copy must be production's data as it is now.
psql_at "$prodaddr" "INSERT INTO payments_stripelog (event, event_type, cobalt_pay_id, created_date) VALUES ('{}', 'rehearse-t', 'rehearse-marker', now())"

# ---- the configuration must name a test environment ----------------------------
clear_calls
cut rehearse --yes -c "$CFG" --state "$T/no-section"
check "rehearse without a [rehearse] section refuses" eq "$rc" 1
check "saying what to add" has "$T/err" "add a \[rehearse\] section"
check "and changes nothing" eq "$(mutations)" 0

clear_calls
cut plan -c "$RCFG" --state "$RST" rehearse
check "plan lists the rehearsal's steps" has "$T/out" "take snapshot $snap of production database production-blue"
check "  down to mpc_sync" has "$T/out" "run manage.py mpc_sync on cobalt-test-black"
check "  and changes nothing" eq "$(mutations)" 0

# ---- the Masterpoints server is down --------------------------------------------
mpc_hostport=${SIMPROD_MPC_URL#http://}
kill "$(cat "$S/mpc.pid")" && wait_for 10 sh -c "! curl -s -m 1 -o /dev/null $SIMPROD_MPC_URL/id/518001"
check "the simulated Masterpoints server is stopped" test $? -eq 0
clear_calls
cut rehearse --yes -c "$RCFG" --state "$RST"
check "the rehearsal with the Masterpoints server down fails" eq "$rc" 1
check "refusing mpc_sync in a clear sentence" has "$T/err" "Refusing to run mpc_sync: the Masterpoints server $SIMPROD_MPC_URL/[a-z-]* does not answer from i-"
check "  which says what to do" has "$T/err" "fix the server or GLOBAL_MPSERVER first"
check "mpc_sync never ran" test "$(grep -c 'begin rehearse-mpc-sync' "$T/out")" -eq 0
check "each step before it is reported done" test "$(grep -cE 'done rehearse-(mp-django|snapshot|restore|point|migrate|convert):' "$T/out")" -eq 6
check "migrate's result is reported" has "$T/out" "result rehearse-migrate: manage.py migrate on cobalt-test-black: exit 0"
check "the conversion's result is reported" has "$T/out" "result rehearse-convert: manage.py temp_copy_unreg_to_user on cobalt-test-black: exit 0"
check "the copy's blocked emails left it before migrate (0055 validates their ids)" has "$T/out" "result rehearse-blocked-clear: [0-9]* blocked-email row(s) copied to .*rehearse-blocked-emails.window and deleted from cobalt-test-black-prod before migrate"
check "  and came back after the conversion" has "$T/out" "done rehearse-blocked-restore"
dump
testaddr=$(j "d['databases']['cobalt-test-black-prod']['address']")
# jkv STEP KEY: the last value the rehearsal's journal recorded.
jkv() { $PY -c 'import json,sys
v = ""
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("step") == sys.argv[2] and sys.argv[3] in (r.get("kv") or {}): v = r["kv"][sys.argv[3]]
print(v)' "$RST/journal.jsonl" "$1" "$2"; }
window=$(jkv rehearse-blocked-clear window_rows) unmapped=$(jkv rehearse-blocked-restore unmapped)
check "the copy held blocked emails to carry" test "${window:-0}" -gt 0
psql_at "$testaddr" "SELECT coalesce(json_agg(json_build_array(b.email, u.system_number)), '[]') FROM notifications_unregisteredblockedemail b JOIN accounts_user u ON u.id = b.un_registered_user_id" >"$T/back.json"
check "every mappable one is back, naming the converted person by system number" eq "$($PY -c 'import json,sys
win = {tuple(r) for r in json.load(open(sys.argv[1]))["rows"]}
back = {tuple(r) for r in json.load(open(sys.argv[2]))}
print(len(back), back <= win, len(win) - len(back))' "$RST/rehearse-blocked-emails.window" "$T/back.json")" "$((window - unmapped)) True $unmapped"
check "the copy's batches are untouched (3)" eq "$(tdb masterpoints_mpbatch rows)" 3
check "users converted on the copy (once: ids up to the sequence + $LIVE_UNREG)" eq "$(tdb accounts_user max_id)" $((LIVE_USER_SEQ + LIVE_UNREG))
check "only those the conversion cannot create stay unregistered ($LIVE_STUCK)" eq "$(psql_at "$testaddr" "SELECT string_agg(system_number::text, ' ' ORDER BY system_number) FROM accounts_unregistereduser")" "$LIVE_STUCK"

# ---- the server is back: the rerun resumes ---------------------------------------
(cd / && setsid "$PY" "$top/tests/fixture/mpcserver.py" --bind "${mpc_hostport%:*}" --port "${mpc_hostport##*:}" \
	--port-file "$S/mpc.port" --log "$S/mpc.log" </dev/null >/dev/null 2>>"$S/mpc.err" & echo $! >"$S/mpc.pid")
check "the Masterpoints server is back" wait_for 10 curl -fs -m 1 -o /dev/null "$SIMPROD_MPC_URL/id/518001"
cut rehearse --yes -c "$RCFG" --state "$RST"
check "the rerun finishes the rehearsal" eq "$rc" 0
check "without redoing the conversion" has "$T/out" "skip rehearse-convert"
check "the Masterpoints check is reported" has "$T/out" "done rehearse-mpc-check"
check "mpc_sync's result is reported" has "$T/out" "result rehearse-mpc-sync: manage.py mpc_sync on cobalt-test-black: exit 0"
check "and says where the report is" has "$T/out" "report.md"
check "one snapshot of production taken" eq "$(calls rds CreateDBSnapshot)" 1
check "one restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 1
check "two environment updates (MP_USE_DJANGO, the database)" eq "$(calls elasticbeanstalk UpdateEnvironment)" 2
check "and nothing else changed in AWS" eq "$(mutations)" 4

# ---- the world afterwards ------------------------------------------------------------
dump
check "the test env has MP_USE_DJANGO set" eq "$(env_var cobalt-test-black MP_USE_DJANGO)" YES
check "and RDS_HOSTNAME on the restored instance" eq "$(env_var cobalt-test-black RDS_HOSTNAME)" "$testaddr"
check "and RDS_DB_NAME ebdb" eq "$(env_var cobalt-test-black RDS_DB_NAME)" ebdb
check "its instance's env file names the restored instance" eq "$(j "[h['env_file']['RDS_HOSTNAME'] for h in d['hosts'].values() if h['env'] == 'cobalt-test-black' and h['running']]")" "['$testaddr']"
check "the restored instance has the requested class" eq "$(j "[i['class'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-test-black-prod'][0]")" db.t3.medium
check "restored from the rehearsal's snapshot of production" eq "$(j "[i['restored_from'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-test-black-prod'][0]")" "$snap"
check "that snapshot is of production-blue" eq "$(j "[s['db_instance'] for s in d['aws']['db_snapshots'] if s['id'] == '$snap'][0]")" production-blue
check "the copy holds production's data (the marker row)" eq "$(psql_at "$testaddr" "SELECT count(*) FROM payments_stripelog WHERE cobalt_pay_id = 'rehearse-marker'")" 1
check "  and production's events" eq "$(j "d['databases']['cobalt-test-black-prod']['tables']['events_evententry']['rows'] >= 3")" True
check "the copy is migrated (0055)" eq "$(j "d['databases']['cobalt-test-black-prod']['notifications_migration']")" 0055_alter_unregisteredblockedemail_un_registered_user
check "mpc_sync ran: batch 1004 and tran 2007 pulled" eq "$(tdb masterpoints_mpbatch rows) $(tdb masterpoints_mptran rows)" "4 7"
check "mpc_sync ran: Kate King (620201) from the MPC" eq "$(psql_at "$testaddr" "SELECT origin FROM accounts_unregistereduser WHERE system_number = 620201")" MPCS
check "the Masterpoints server was asked" grep -q '^GET /mpci-batches/' "$S/mpc.log"
check "production's database is untouched: schema" eq "$(j "d['databases']['production-blue']['notifications_migration']")" 0035_unregisteredblockedemail
check "production's database is untouched: unregistered users" eq "$(j "d['databases']['production-blue']['tables']['accounts_unregistereduser']['rows']")" "$LIVE_UNREG"
check "production's database is untouched: users" eq "$(j "d['databases']['production-blue']['tables']['accounts_user']['max_id']")" "$prod_users"
check "production's database is untouched: batches" eq "$(j "d['databases']['production-blue']['tables']['masterpoints_mpbatch']['rows']")" 3
check "the production environments and DNS are unchanged" eq "$(prod_state)" "$prod_before"
check "production is not in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE) $(env_var cobalt-ses-production-green MAINTENANCE_MODE)" "OFF OFF"
check "no DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 0
check "the test database the test env used is kept" eq "$(j "d['databases']['cobalt-test']['running']")" True

# ---- a rerun changes nothing, even with the Masterpoints server away again --------
kill "$(cat "$S/mpc.pid")"
clear_calls
cut rehearse --yes -c "$RCFG" --state "$RST"
check "a rerun of the finished rehearsal succeeds (Masterpoints server down: nothing left to protect)" eq "$rc" 0
check "and changes nothing" eq "$(mutations)" 0
check "mpc_sync is not run twice" test "$(grep -c 'begin rehearse-mpc-sync' "$T/out")" -eq 0

done_testing
