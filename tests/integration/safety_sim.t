#!/usr/bin/env bash
# safety_sim.t: the data-safety features (issue 5) against a simulated
# production of its own (tests/sim, the world before Prep) with its traffic
# generator running (users, ELB health checks): blocked emails carried across
# the FK change through the standalone commands (unmappable people reported,
# idempotent, verify), 30,000 of them over SSH (more than one agent frame),
# a restore aimed at the live database refused, mpc_sync refused while the
# Masterpoints server is unreachable, quiet detection with health checks
# still arriving, cron paused and restored exactly, a smoke-test failure
# stopping `cutover run` before maintenance mode is lifted, then the lost
# writes after the snapshot and the activity on the new system.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
export SIM_CRON_INTERVAL=0 SIM_GIVEUP=2 SIM_ENTRY_RATE=1 SIM_PAYMENT_RATE=1
cutover_up
BLUE=cobalt-production-blue GREEN=cobalt-production-green
B1=i-0b1e0000000000001 B2=i-0b1e0000000000002 SES1=i-06e5e500000000005
traffic() { $PY "$SIMD/traffic.py" "$@"; }
lacks() { ! grep -q -- "$2" "$1" || { echo "# [$2] unexpectedly in $1" >&2; return 1; }; }
# set_vars ENV K=V...: one EB env var change of several settings, waited to Ready.
set_vars() {
	local env=$1 o=() kv; shift
	for kv in "$@"; do o+=("Namespace=aws:elasticbeanstalk:application:environment,OptionName=${kv%%=*},Value=${kv#*=}"); done
	$AWS elasticbeanstalk update-environment --environment-name "$env" --option-settings "${o[@]}" >/dev/null &&
	sleep 0.5 && wait_for 60 env_ready "$env"
}
dbaddr() { j "d['databases']['$1']['address']"; }
blocked_rows() { psql_at "$1" "SELECT coalesce(string_agg(email || ':' || un_registered_user_id, ',' ORDER BY email), '') FROM notifications_unregisteredblockedemail"; }

cut prep -c "$CFG" --state "$ST"
check "prep builds the new environments (on the test database, 0055)" eq "$rc" 0
dump
LIVE_DB=$(dbaddr production-blue) TEST_DB=$(dbaddr cobalt-test)
# What the checks expect, from the data (see seed_facts): the test database
# holds the seed's rows whose raw ids are accounts_user ids (TEST_BE); DUPE
# rows belong to people a user shares the ABF number with (mappable before the
# conversion); LIVE_ROWS is the live table, which nothing here may change.
TEST_BE=$(psql_at "$TEST_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail")
DUPE=$(psql_at "$LIVE_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail b JOIN accounts_unregistereduser p
	ON p.id = b.un_registered_user_id WHERE EXISTS (SELECT 1 FROM accounts_user u WHERE u.system_number = p.system_number)")
LIVE_ROWS=$(blocked_rows "$LIVE_DB")
check "the data has all three kinds of row (test database, dupe, lost)" test "$TEST_BE" -gt 0 -a "$DUPE" -gt 0 -a "$LIVE_BE_LOST" -gt 0
check "the live database is on the old schema (FK to accounts_unregistereduser)" \
	eq "$(j "d['databases']['production-blue']['blocked_email_fk_target']")" accounts_unregistereduser
check "the new web env's database is migrated (FK to accounts_user)" \
	eq "$(j "d['databases']['cobalt-test']['blocked_email_fk_target']")" accounts_user

echo "# ${SECONDS}s"
# ---- a. blocked emails across the FK change, standalone commands ---------------------
cut blocked-emails backup -c "$CFG" --file "$T/be.json"
check "blocked-emails backup -c reads the live env over SSH" eq "$rc" 0
check "every row, following the FK to the unregistered users" has "$T/out" "Backed up $LIVE_BE blocked emails from i-0b1e.*accounts_unregistereduser"
check "the backup is written here, mode 0600" eq "$(stat -c %a "$T/be.json")" 600
check "with its SHA-256" eq "$(cut -c1-64 "$T/be.json.sha256")" "$(sha256sum "$T/be.json" | cut -c1-64)"
check "holding system numbers, not ids" eq "$($PY -c 'import json,sys; print("\n".join(str(n) for n in sorted(r[1] for r in json.load(open(sys.argv[1]))["rows"])))' "$T/be.json")" \
	"$(psql_at "$LIVE_DB" "SELECT p.system_number FROM notifications_unregisteredblockedemail b JOIN accounts_unregistereduser p ON p.id = b.un_registered_user_id ORDER BY 1")"

cut blocked-emails verify -c "$CFG" --file "$T/be.json"
check "verify before the restore: different (exit 1)" eq "$rc" 1
check "the copied raw ids name the wrong people" has "$T/out" "On the system, not in the backup ($TEST_BE)"

cut blocked-emails restore -c "$CFG" --file "$T/be.json"
check "restore on the new env: done, some people unmappable (exit 4)" eq "$rc" 4
check "the dupes' rows added, the rest not" has "$T/out" "$DUPE added, 0 already there, 0 removed, $((LIVE_BE - DUPE)) could not be mapped"
check "unmappable people listed by system number and email" has "$T/out" "620001 *grace.green@example.com"
check "all of them" eq "$(grep -cE '^  [0-9]+ ' "$T/out")" $((LIVE_BE - DUPE))
check "the mapped row points at Carol's accounts_user" eq "$(psql_at "$TEST_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail b JOIN accounts_user u ON u.id = b.un_registered_user_id WHERE b.email = 'carol.chen.old@example.com' AND u.system_number = 518003")" 1
cut blocked-emails restore -c "$CFG" --file "$T/be.json"
check "a second restore adds nothing" has "$T/out" "0 added, $DUPE already there"
check "the live database was not written" eq "$(blocked_rows "$LIVE_DB")" "$LIVE_ROWS"

# The runbook's conversion, then everyone maps but the people it cannot
# create; --replace drops the wrong-people rows.
cut manage --env "$GREEN" -c "$CFG" -- temp_copy_unreg_to_user
check "the unregistered users converted on the new env" eq "$rc" 0
cut blocked-emails restore -c "$CFG" --file "$T/be.json" --replace
check "restore --replace after the conversion: done, the lost people listed (exit 4)" eq "$rc" 4
check "the rest added, the wrong-people rows removed" has "$T/out" \
	"$((LIVE_BE - DUPE - LIVE_BE_LOST)) added, $DUPE already there, $TEST_BE removed, $LIVE_BE_LOST could not be mapped"
check "each naming the user with the backup's system number" eq "$(be_mapped "$TEST_DB")" "$(be_expected "$T/be.json")"
cut blocked-emails verify -c "$CFG" --file "$T/be.json"
check "verify: only the known-unmappable people differ, so it passes (exit 0)" eq "$rc" 0
check "and lists them as warnings" has "$T/out" "Warning: in the backup, missing on the system, and no one there has their system number, so they cannot be restored ($LIVE_BE_LOST)"
check "saying what to do" has "$T/out" "What to do: create each of these people as a user"
check "nothing on the system that is not in the backup" lacks "$T/out" "On the system, not in the backup"

# 30,000 rows: ~1.5 MB of SQL, more than one agent frame, over SSH.
psql_at "$TEST_DB" "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
	is_staff, is_active, date_joined, system_number, user_type) SELECT '', false, 'big' || g, 'B', 'G', 'x@example.com',
	false, true, now(), 800000 + g, 'U' FROM generate_series(1, 30000) g" >/dev/null
$PY - "$T/big.json" <<'EOF'
import hashlib, json, os, sys
rows = [["big%05d@example.com" % g, 800000 + g] for g in range(1, 30001)]
text = json.dumps({"format": "cutover-blocked-emails", "version": 1, "taken_at": "2026-11-25T00:00:00Z",
                   "source": "test", "fk_target": "accounts_unregistereduser", "count": len(rows), "rows": rows})
open(sys.argv[1], "w").write(text)
open(sys.argv[1] + ".sha256", "w").write("%s  %s\n" % (hashlib.sha256(text.encode()).hexdigest(), os.path.basename(sys.argv[1])))
EOF
cut blocked-emails restore -c "$CFG" --file "$T/big.json"
check "a restore of 30,000 rows over SSH succeeds" eq "$rc" 0
check "all of them added" has "$T/out" "30000 added, 0 already there"
check "all of them there" eq "$(psql_at "$TEST_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail WHERE email LIKE 'big%'")" 30000
cut blocked-emails restore -c "$CFG" --file "$T/big.json"
check "and again: nothing added" has "$T/out" "0 added, 30000 already there"
psql_at "$TEST_DB" "DELETE FROM notifications_unregisteredblockedemail WHERE email LIKE 'big%'; DELETE FROM accounts_user WHERE username LIKE 'big%'" >/dev/null

echo "# ${SECONDS}s"
# ---- h + g. the new env pointed at the live database; the MPC server unreachable -------
MPC=$(env_var "$GREEN" GLOBAL_MPSERVER)
check "new web env reconfigured: RDS_HOSTNAME = the live database, MPC unreachable" \
	set_vars "$GREEN" "RDS_HOSTNAME=$LIVE_DB" "GLOBAL_MPSERVER=http://$SIMPROD_NET.251:9"
cut blocked-emails restore -c "$CFG" --file "$T/be.json"
check "a restore aimed at the live database is refused" eq "$rc" 1
check "saying why in one sentence" has "$T/err" "Refusing: i-.* uses the database at $LIVE_DB:.*which is the LIVE database"
check "nothing was written to the live database" eq "$(blocked_rows "$LIVE_DB")" "$LIVE_ROWS"
mp_before=$(psql_at "$LIVE_DB" "SELECT count(*) FROM masterpoints_mpbatch")
cut manage --env "$GREEN" -c "$CFG" -- mpc_sync
check "mpc_sync refused while GLOBAL_MPSERVER does not answer" eq "$rc" 1
check "saying why" has "$T/err" "Refusing to run mpc_sync: the Masterpoints server http://$SIMPROD_NET.251:9/.* does not answer"
check "and no MP batch was deleted" eq "$(psql_at "$LIVE_DB" "SELECT count(*) FROM masterpoints_mpbatch")" "$mp_before"
cut manage --host "$SIMPROD_SSH_USER@$SIMPROD_NET.10" -- mpc_sync
check "mpc_sync without --env -c is refused (nothing to check from)" has "$T/err" "mpc_sync runs only with --env NAME -c FILE"
check "new web env back on its own database and the MPC server" \
	set_vars "$GREEN" "RDS_HOSTNAME=$TEST_DB" "GLOBAL_MPSERVER=$MPC"
cut manage --env "$GREEN" -c "$CFG" -- mpc_sync
# (on both instances at once, as `manage --env` runs: one may trip over the other)
check "with the server answering, mpc_sync is not refused" lacks "$T/err" "Refusing"
check "and runs" has "$T/out" "Syncing MP transactions"

echo "# ${SECONDS}s"
# ---- b. quiet detection, health checks arriving all along ----------------------------
cut quiet -c "$CFG" --log var/log/nginx/access.log --interval 0.5 --quiet-period 3 --deadline 4 --yes
check "quiet while users are active: stops at the deadline (--yes, exit 1)" eq "$rc" 1
check "with a clear refusal" has "$T/err" "did not go quiet"
check "real requests shown for the first live instance" grep -qE "$B1[^:]*: [1-9][0-9.]* req/min" "$T/out"
check "and for the second" grep -qE "$B2[^:]*: [1-9][0-9.]* req/min" "$T/out"
check "the live web env goes into maintenance mode" set_vars "$BLUE" MAINTENANCE_MODE=ON
dump; hc0=$(j "d['hosts']['$B1']['access_log']['health_checks']")
cut quiet -c "$CFG" --log var/log/nginx/access.log --interval 0.5 --quiet-period 3 --deadline 60 --yes
check "quiet reached once users gave up on the maintenance page" eq "$rc" 0
check "and says so" has "$T/out" "The live site is quiet"
# (req/min is averaged over a window; "last" is the interval itself)
check "health checks seen and left out" grep -qE "$B1[^:]*: [0-9.]+ req/min \(last 0, [1-9][0-9]* health checks left out" "$T/out"
dump
check "health checks kept arriving meanwhile (and were not counted)" test "$(j "d['hosts']['$B1']['access_log']['health_checks']")" -gt "$hc0"
check "the live web env opens again" set_vars "$BLUE" MAINTENANCE_MODE=OFF

echo "# ${SECONDS}s"
# ---- c. cron paused and restored on the live instances (web and SES) ----------------
spool() { echo "$S/hosts/$1/var/spool/cron/root"; }
for h in $B1 $B2 $SES1; do cp "$(spool $h)" "$T/cron.$h"; done
check "the live instances have crontabs" test -s "$T/cron.$B1" -a -s "$T/cron.$SES1"
topups() { psql_at "$LIVE_DB" "SELECT count(*) FROM payments_membertransaction WHERE type = 'Auto Top Up'"; }
# One round of cron on the live web and SES instances.
cron_round() { traffic cron "$S" $B1 $B2 $SES1 >/dev/null; }
n0=$(topups); cron_round
check "a cron round on the live instances writes (Auto Top Up)" test "$(topups)" -gt "$n0"
mkdir -p "$T/cronsave"
cut cron pause -c "$CFG" --save-dir "$T/cronsave"
check "cron pause -c on the live envs" eq "$rc" 0
for h in $B1 $B2 $SES1; do
	check "crontab emptied on $h" has "$(spool $h)" "paused by cutover"
done
check "nothing of the jobs left" lacks "$(spool $B1)" "auto_pay_batch"
check "the SES env's jobs too (they write to the same database)" lacks "$(spool $SES1)" "auto_pay_batch"
check "saved copies kept locally" test "$(ls "$T/cronsave" | wc -l)" -ge 3
n0=$(topups); cron_round
check "a cron round while paused writes nothing" eq "$(topups)" "$n0"
cut cron status -c "$CFG"
check "status says paused on every live instance" eq "$(grep -c "cron paused by cutover" "$T/out")" 3
cut cron restore -c "$CFG" --save-dir "$T/cronsave"
check "cron restore -c" eq "$rc" 0
for h in $B1 $B2 $SES1; do
	check "the crontab of $h is exactly the original" cmp -s "$(spool $h)" "$T/cron.$h"
done
cron_round
check "cron writes again" test "$(topups)" -gt "$n0"

echo "# ${SECONDS}s"
# ---- f. a smoke test failure stops the run before maintenance mode is lifted ----------
# A configured check the app fails ([smoke] checks).
{ cat "$CFG"; printf '[smoke]\nchecks = /accounts/login/ 200, /no/such/page/ 200 302\n'; } >"$T/smoke.ini"
cut run --yes -c "$T/smoke.ini" --state "$ST"
check "run stops on a configured smoke check the app fails" test "$rc" -ne 0
check "naming the path and what it answered" has "$T/err" "/no/such/page/ answered [0-9][0-9][0-9]"
check "and what was expected" has "$T/err" "/no/such/page/ answered [0-9][0-9][0-9].*(expected 200 or 302)"
check "the new web env stays in maintenance mode (configured check)" eq "$(env_var "$GREEN" MAINTENANCE_MODE)" ON
check "the step after it never ran (configured check)" lacks "$T/out" "maint-off: done"
# Through the load balancer: the local checks pass, the load balancer gives no answer.
lbpid=$(cat "$S/lb/pid") lbaddr=$($PY -c "import json; print(json.load(open('$S/sim.json'))['lbs']['$GREEN'])")
kill "$lbpid"
check "the simulated load balancers are down" wait_for 10 sh -c "! kill -0 $lbpid 2>/dev/null"
cut run --yes -c "$CFG" --state "$ST"
check "run stops when only the load balancer fails the smoke test" test "$rc" -ne 0
check "naming the load balancer's address" has "$T/err" "http://$lbaddr[:0-9]*/accounts/login/ got no answer"
check "the new web env stays in maintenance mode (load balancer)" eq "$(env_var "$GREEN" MAINTENANCE_MODE)" ON
: >"$S/lb/ready"
setsid $PY "$SIMD/lb.py" run "$S" </dev/null >>"$S/lb/lb.log" 2>&1 &
echo $! >"$S/lb/pid"
check "the load balancers back" wait_for 10 grep -q "$GREEN" "$S/lb/ready"
check "the new web env's app misconfigured (its nginx refuses the site name)" \
	set_vars "$GREEN" COBALT_HOSTNAME=wrong.example.invalid
cut run --yes -c "$CFG" --state "$ST"
check "run stops on the smoke test" test "$rc" -ne 0
check "saying the smoke test failed" has "$T/err" "smoke test of $GREEN failed"
check "naming what answered what" has "$T/err" "accounts/login/"
dump
check "the new web env stays in maintenance mode" eq "$(env_var "$GREEN" MAINTENANCE_MODE)" ON
check "the step after it never ran" lacks "$T/out" "maint-off: done"
check "the app fixed" set_vars "$GREEN" COBALT_HOSTNAME=myabf.com.au
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cut run --yes -c "$CFG" --state "$ST"
check "the rerun finishes the cutover" eq "$rc" 0
check "its smoke test went through the new env's load balancer with the site name" \
	grep -q " $GREEN .* GET /accounts/login/ Host=myabf.com.au -> .* 200\$" "$S/lb/access.log"
dump
check "the new web env is open" eq "$(env_var "$GREEN" MAINTENANCE_MODE)" OFF
snap=$(j "[s for s in d['snapshots'] if s.startswith('production-blue-cutover')][0]")
snap_at=$($AWS rds describe-db-snapshots --db-snapshot-identifier "$snap" --query 'DBSnapshots[0].SnapshotCreateTime')
check "the cutover's snapshot has a creation time" test -n "$snap_at"

echo "# ${SECONDS}s"
# ---- d. lost writes: zero said, then a write after the snapshot listed ---------------
cut verify -c "$CFG" --since "$snap_at" --csv "$T/lw0.csv"
check "verify after the cutover: nothing written to the old database since the snapshot" eq "$rc" 0
check "zero said in words" has "$T/out" "nothing was lost"
# The old database is frozen since the cutover (issue 12): this write stands
# for one that got past it (a superuser's session turning the default off).
# (The session's own setting, given at connection: a SET in the same -c
# string would come too late, its implicit transaction already read-only.)
PGOPTIONS='-c default_transaction_read_only=off' psql_at "$LIVE_DB" "INSERT INTO payments_stripelog (created_date, event, event_type, cobalt_pay_id) VALUES (now(), '{}', 'charge.succeeded', 'pi_after_snapshot')" >/dev/null
check "the write past the freeze landed" test -n "$(psql_at "$LIVE_DB" "SELECT id FROM payments_stripelog WHERE cobalt_pay_id = 'pi_after_snapshot'")"
lw_id=$(psql_at "$LIVE_DB" "SELECT id FROM payments_stripelog WHERE cobalt_pay_id = 'pi_after_snapshot'")
cut verify -c "$CFG" --since "$snap_at" --csv "$T/lw.csv"
check "a write to the old database after the snapshot is reported (exit 3)" eq "$rc" 3
check "in the table, with its table name" has "$T/out" "payments_stripelog"
check "in the CSV, with its id and key fields" grep -q "payments_stripelog,$lw_id,.*cobalt_pay_id=pi_after_snapshot" "$T/lw.csv"
check "only that one row" eq "$(($(wc -l <"$T/lw.csv") - 1))" 1

echo "# ${SECONDS}s"
# ---- e. activity on the new system since a time ---------------------------------------
check "users write on the new system" wait_for 30 sh -c "[ \$($SIMD/dump $S | $PY -c 'import json,sys; e=json.load(sys.stdin)[\"traffic\"][\"envs\"].get(\"$GREEN\", {}); print(min(len(e.get(\"entry_ids\", [])), len(e.get(\"payment_ids\", []))))') -ge 2 ]"
dump   # what the users had done by now must all be in the report made after it
cut activity -c "$CFG" --since "$since" --csv "$T/act.csv"
check "activity --since on the new system" eq "$rc" 0
check "lists event entries" grep -q "^events_evententry," "$T/act.csv"
check "and payments" grep -q "^payments_" "$T/act.csv"
check "in the table too" has "$T/out" "events_evententry"
check "every entry the users made on the new system is listed" $PY -c '
import csv, json, sys
d = json.load(open(sys.argv[1])); got = {r["id"] for r in csv.DictReader(open(sys.argv[2])) if r["table"] == "events_evententry"}
want = {str(i) for i in d["traffic"]["envs"][sys.argv[3]]["entry_ids"]}
missing = want - got
print("# missing:", sorted(missing)[:5], file=sys.stderr) if missing else None
sys.exit(1 if missing else 0)' "$T/dump.json" "$T/act.csv" "$GREEN"
cut activity -c "$CFG" --since 2099-01-01T00:00:00Z --csv "$T/act0.csv"
check "activity with nothing since: exit 0" eq "$rc" 0
check "zero said in words" has "$T/out" "No entries or payments were made on the new system"

echo "# ${SECONDS}s"
done_testing
