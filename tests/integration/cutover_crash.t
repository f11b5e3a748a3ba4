#!/usr/bin/env bash
# cutover_crash.t: crash safety end to end (issue 4). One cutover against a
# simulated production of its own is driven through a kill -9 (the test hook
# CUTOVER_TEST_CRASH_AT=<step>:<point>, a real SIGKILL, see runbook/engine.h) at
# every boundary between the journal records of every `cutover run` step and
# inside every wait while the AWS resource is still changing, each rerun
# taking over the dead run's lock and saying it resumes; a last run without
# the hook finishes. Then the world must be what a clean run leaves, with
# exactly one snapshot, one restore, one DNS change and users converted once.
#
# The simulated AWS's transitions are made long (LONG seconds) so that a
# rerun always finds the resource still changing; the test ends a wait by
# moving the simulated clock on (or, for the second environment of a pair,
# by holding and releasing that one environment's update) once the rerun has
# begun waiting, so every point is reached deterministically.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
export CUTOVER_POLL_MS=150
# Port 22 opened by every run (issue 11): each kill -9 may leave the rule open;
# the next run closes it (world/rules.h), checked at the end.
export CUTOVER_OPERATOR_IP=127.0.0.1 XDG_STATE_HOME="$T/state-home"
sed -i 's|^\[ssh\]$|[ssh]\nopen_port = yes|' "$CFG"
LONG=600
J="$ST/journal.jsonl"

# Crash points of each step, in the order one cutover meets them (runbook/engine.h):
# before, recorded (steps with record()), apply, applied, wait/waited
# (wait2/waited2 for steps waiting on two environments), done. A step whose
# check() reads the world (cron-pause, new-cron-hold, new-cron-back; blocked-email-clear, whose table is empty
# once the delete committed) finds its change made after `apply`
# and skips ahead, so its `applied` boundary cannot follow `apply` in one
# cutover (tests/unit/test_engine.c covers it on a fresh world). So does
# dns-switch after `apply`: the records already read back as wanted and the
# change id died with the run, so there is nothing to wait for; its `apply`
# (the irreversible change made, not journalled) is cutover_e2e.t's. The
# switch does not wait for INSYNC itself: dns-insync does, after the smoke test
# (its change still PENDING there, as LONG makes it). dns-tail, last, ends its
# wait by itself: no simulated user is behind a TTL-ignoring resolver here, so
# its first sample ([dns] tail_interval, 5 s in the simulation) is idle.
declare -A POINTS=(
	[scale-live]="before recorded apply applied wait waited done"
	[maint-on]="before recorded apply applied wait waited wait2 waited2 done"
	[quiet]="before apply applied wait waited done"
	[cron-pause]="before apply done"
	[freeze]="before recorded apply applied done"
	[snapshot]="before apply applied wait waited done"
	[restore]="before apply applied wait waited done"
	[new-cron-hold]="before apply done"
	[point-new]="before recorded apply applied wait waited wait2 waited2 done"
	[unfreeze-new]="before apply applied done"
	[blocked-email-clear]="before recorded apply done"
	[migrate-new]="before apply applied done"
	[parity]="before apply applied done"
	[new-cron-back]="before apply done"
	[dns-switch]="before recorded applied done"
	[convert-users]="before apply applied done"
	[smoke-test]="before apply applied done"
	[dns-insync]="before apply applied wait waited done"
	[maint-off]="before apply applied wait waited wait2 waited2 done"
	[blocked-email-restore]="before apply applied done"
	[lost-writes]="before apply applied done"
	[dns-tail]="before apply applied wait waited done"
)
# [database] method = replica (issue 13; cutover_crash_replica.t runs this
# test so): prep makes the read replica and points the new side at it; the
# run checks that (replica-pointed), catches the replica up and promotes it
# with the new side opening beside the promotion, and moves DNS last. Its
# order differs from the snapshot run's in many places, so it is killed at
# every point of every step too (runbook/tables.c keeps both methods in one
# list; tests/unit/test_engine_replica.c checks the lists differ only where
# a row says so).
if [ "$CUT_METHOD" = replica ]; then
	sed -i '/^\[database\]/a method = replica' "$CFG"
	unset 'POINTS[snapshot]' 'POINTS[restore]' 'POINTS[new-cron-hold]' 'POINTS[point-new]' 'POINTS[maint-off]'
	POINTS[replica-pointed]="before done"
	POINTS[replica-catchup]="before apply applied wait waited done"
	POINTS[open-new]="before apply applied done"
	POINTS[promote]="before apply applied wait waited done"
	# the promotion's long wait outlasts open-new's updates (started just
	# before it), so open-new-ready finds them done (its waits are killed in
	# tests/unit/test_engine_replica.c)
	POINTS[open-new-ready]="before done"
fi
# The second environment a pair step waits for (held while the first is released).
declare -A SECOND=(
	[maint-on]=cobalt-ses-production-green
	[point-new]=cobalt-ses-production-blue
	[maint-off]=cobalt-ses-production-blue
)

# The journal's records count / its last one (runbook/journal.h: one JSON object a
# line, "ev" then "step"); grep and sed, as they run between every two runs.
jcount() { grep -c "\"ev\":\"$1\",\"step\":\"$2\"" "$J"; }
jlast() { tail -n 1 "$J" | sed -n 's/.*"ev":"\([a-z-]*\)"\(,"step":"\([a-z0-9-]*\)"\)\{0,1\}.*/\1 \3/p'; }
# What the journal's last record must be after a kill at each point.
expect_last() {
	case $2 in
	before) echo "step-begin $1" ;;
	recorded) echo "step-record $1" ;;
	apply) echo "step-begin $1|step-record $1" ;;
	applied) echo "step-applied $1" ;;
	wait|wait2) echo "wait-begin $1" ;;
	waited|waited2) echo "wait-end $1" ;;
	done) echo "step-done $1|step-skipped $1" ;;
	esac
}

# An environment's pending update held (until far ahead) or released (due now).
env_until() {
	local body
	body=$(curl -fsS "$SIMPROD_ADMIN/state" | $PY -c '
import json, sys
w = json.load(sys.stdin)
e = next(e for e in w["environments"] if e["name"] == sys.argv[1] and e["status"] != "Terminated")
p = e["pending"]
if p is None:
    sys.exit("environment %s has no pending update" % sys.argv[1])
p = dict(p, version=None, until=w["now"] + float(sys.argv[2]))
print(json.dumps({"kind": "environment", "id": sys.argv[1], "set": {"pending": p}}))' "$1" "$2") &&
	simset "$body"
}
# until_waits STEP N: until the running cutover has begun N more waits of STEP.
until_waits() {
	local want=$(( base_waits + $2 )) end=$((SECONDS + 120))
	while [ "$(jcount wait-begin "$1")" -lt "$want" ]; do
		kill -0 "$runpid" 2>/dev/null || return 1
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# ---- prep, then the long transitions ----------------------------------------------
cut prep -c "$CFG" --state "$ST"
check "prep builds the new environments" eq "$rc" 0
admin POST /time "{\"durations\": {\"env_update\": $LONG, \"snapshot\": $LONG, \"db_create\": $LONG, \"dns_change\": $LONG, \"replica_promote\": $LONG}}" >/dev/null
clear_calls

# ---- the run's steps as plan lists them; each must have crash points ---------------
cut plan -c "$CFG" --state "$ST" run
steps=$(sed -n 's/^[^ ]* plan \([a-z0-9-]*\): .*/\1/p' "$T/out" | awk '!seen[$0]++')
check "plan lists the run's steps" test "$(echo "$steps" | wc -w)" -ge 10
missing=""
for s in $steps; do [ -n "${POINTS[$s]:-}" ] || missing="$missing $s"; done
check "every step plan lists has crash points here (missing:${missing:- none})" test -z "$missing"
extra=""
for s in "${!POINTS[@]}"; do echo "$steps" | grep -qx -- "$s" || extra="$extra $s"; done
check "and this test names no step plan does not list (extra:${extra:- none})" test -z "$extra"

# The steps killed here: all of them, on both paths. (A subset can be
# chosen by leaving steps out of KILL: those are then run through by
# advance_to, not killed.)
declare -A KILL=()
for s in $steps; do KILL[$s]=1; done
# advance_to STEP: the run taken, without the hook and with short transitions,
# through STEP (--until); the steps on the way are not killed here.
advance_to() {
	admin POST /time "{\"durations\": {\"env_update\": 2, \"snapshot\": 2, \"db_create\": 2, \"dns_change\": 1, \"replica_promote\": 2}}" >/dev/null
	cut run --yes --until "$1" -c "$CFG" --state "$ST"
	check "the run goes on without kills through $1" eq "$rc" 0
	admin POST /time "{\"durations\": {\"env_update\": $LONG, \"snapshot\": $LONG, \"db_create\": $LONG, \"dns_change\": $LONG, \"replica_promote\": $LONG}}" >/dev/null
	after_until=1
}

# ---- one cutover, killed at every point -------------------------------------------
npoints=0; nkilled=0; nresumed=0; nresumes=0; first=1; after_until=0; skipped=""
for s in $steps; do
	if [ -z "${KILL[$s]:-}" ]; then skipped=$s; continue; fi
	if [ -n "$skipped" ]; then advance_to "$skipped"; skipped=""; fi
	for p in ${POINTS[$s]:-}; do
		npoints=$((npoints + 1))
		# Before the run: a pair's second environment is held from `waited`
		# on, so the first can finish alone.
		if [ "$p" = waited ] && [ -n "${SECOND[$s]:-}" ]; then
			env_until "${SECOND[$s]}" 100000 || nok "hold ${SECOND[$s]} before $s:$p"
		fi
		# A few points under AWS throttling and server errors, as a real
		# resume would meet them.
		case $s:$p in
		maint-on:applied) admin POST /faults '[{"kind": "throttle", "service": "elasticbeanstalk", "operation": "DescribeEnvironments", "count": 2},
			{"kind": "5xx", "status": 503, "service": "elasticbeanstalk", "operation": "DescribeConfigurationSettings", "count": 1}]' >/dev/null ;;
		snapshot:wait|promote:wait) admin POST /faults '[{"kind": "throttle", "service": "rds", "operation": "*", "count": 2}]' >/dev/null ;;
		dns-switch:applied) admin POST /faults '[{"kind": "throttle", "service": "route53", "operation": "*", "count": 2}]' >/dev/null ;;
		esac
		base_waits=$(jcount wait-begin "$s")
		t0=$SECONDS
		dead=$(sed -n 's/^pid \([0-9]*\) .*/\1/p' "$ST/lock" 2>/dev/null)
		CUTOVER_TEST_CRASH_AT="$s:$p" "$CUTOVER" run --yes -c "$CFG" --state "$ST" >"$T/out" 2>"$T/err" </dev/null &
		runpid=$!
		# During the run: end the wait it has begun.
		case $p in
		waited) until_waits "$s" 1 && admin POST /time "{\"advance\": $((LONG + 1))}" >/dev/null ;;
		waited2) until_waits "$s" 2 && env_until "${SECOND[$s]}" 0 ;;
		esac
		# (bash would report the kill on stderr)
		{ wait "$runpid"; rc=$?; } 2>/dev/null
		echo "# $s:$p: exit $rc after $((SECONDS - t0)) s"
		want=$(expect_last "$s" "$p"); got=$(jlast)
		if [ "$rc" = 137 ] && grep -q "test hook: SIGKILL at $s:$p\$" "$T/err" && echo "$got" | grep -qxE "$want"; then
			nkilled=$((nkilled + 1))
		else
			nok "killed at $s:$p" "exit $rc, journal ends with [$got], want [$want]" \
				"$(tail -n 4 "$T/out" | tr '\n' '|')" "$(grep -v '^20' "$T/err" | tail -n 3 | tr '\n' '|')"
		fi
		if [ "$first" = 1 ]; then
			first=0; after_until=0
			check "the first kill leaves the lock file naming the dead run" has "$ST/lock" "pid $runpid "
			check "and that process is gone" test ! -e "/proc/$runpid"
		elif [ "$after_until" = 1 ]; then
			# after a run that stopped as asked (--until), not one that died
			after_until=0
		else
			nresumes=$((nresumes + 1))
			if grep -q 'resume Resuming `cutover run` of cutover .*: the last run (pid '"$dead"') died at step' "$T/out"; then
				nresumed=$((nresumed + 1))
			else
				nok "the run after a kill says it resumes ($s:$p)" "$(grep -m1 Resuming "$T/out")"
			fi
		fi
	done
done
check "every point was reached and killed there ($nkilled of $npoints points)" eq "$nkilled" "$npoints"
check "every rerun took over the dead run's lock and said it resumes ($nresumed)" eq "$nresumed" "$nresumes"
check "every rerun after a kill was checked ($nresumes)" eq "$nresumes" $((npoints - 1))
check "at least 80 crash points" test "$npoints" -ge 80

# ---- the last run, without the hook ---------------------------------------------
admin POST /time "{\"durations\": {\"env_update\": 2, \"snapshot\": 2, \"db_create\": 2, \"dns_change\": 1, \"replica_promote\": 2}}" >/dev/null
cut run --yes -c "$CFG" --state "$ST"
check "a run without the hook finishes the cutover" eq "$rc" 0
check "saying it resumes after the last kill" has "$T/out" "Resuming \`cutover run\`"
check "the faults were met" eq "$(admin GET /faults | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d) if isinstance(d, list) else len(d.get("faults", [])))')" 0
if [ "$CUT_METHOD" = replica ]; then
	check "no snapshot taken" eq "$(calls rds CreateDBSnapshot)" 0
	check "exactly one promotion" eq "$(calls rds PromoteReadReplica)" 1
else
	check "exactly one snapshot taken" eq "$(calls rds CreateDBSnapshot)" 1
	check "exactly one restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 1
fi
check "exactly one DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 1
check "the downtime window is journalled once: begin" eq "$($PY -c 'import json,sys; print(sum(json.loads(l).get("ev") == "downtime-begin" for l in open(sys.argv[1])))' "$J")" 1
check "the downtime window is journalled once: end" eq "$($PY -c 'import json,sys; print(sum(json.loads(l).get("ev") == "downtime-end" for l in open(sys.argv[1])))' "$J")" 1
cutover_end_state
open_rules=$(admin GET /state | $PY -c '
import json, sys
print(sum(1 for g in json.load(sys.stdin)["security_groups"] for r in g["rules"]
          if r.get("cidr") == "127.0.0.1/32" and r.get("from") == 22))')
check "no port-22 rule left after the kills and the completed rerun" eq "$open_rules" 0
nauth=$(calls ec2 AuthorizeSecurityGroupIngress)
check "port 22 was opened by the runs" test "$nauth" -gt 0
check "exactly one revoke per authorize" eq "$(calls ec2 RevokeSecurityGroupIngress)" "$nauth"
check "nothing left in the ledger of opened rules" eq "$(find "$XDG_STATE_HOME" -name '*.rule' | wc -l)" 0
# The rerun below checks that a finished cutover changes nothing: no port 22.
sed -i '/^open_port = yes$/d' "$CFG"

clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "a rerun of the finished cutover succeeds" eq "$rc" 0
check "and changes nothing" eq "$(mutations)" 0

done_testing
