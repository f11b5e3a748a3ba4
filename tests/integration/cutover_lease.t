#!/usr/bin/env bash
# cutover_lease.t: one cutover at a time across machines (issue 11 item 3).
# Two `cutover run --yes` from two state folders (two operators' laptops, the
# second a copy of the first's after prep, as a team sharing it would have:
# the same names and the same journal id, a folder of its own) run at once
# against one simulated production: the first to take the lease
# (the TXT record _cutover-lock.<zone>, runbook/lease.h) runs the cutover;
# the second passes its preflight on the same untouched world, is refused
# naming the holder (cutover id, user, host, time) and changes nothing. The
# world changes once and users are converted once; the lease is gone at the
# end and `status` shows it while held.
#
# Both start together; so that the slower one's preflight (the machine may
# be loaded) still meets the untouched world, the first change after the
# lease (scale-live's UpdateEnvironment) is held 50 s in the simulated AWS.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
export CUTOVER_POLL_MS=150
ST2="$T/laptop2"

cut prep -c "$CFG" --state "$ST"
check "prep builds the new environments" eq "$rc" 0
check "prep took the lease and released it" eq "$(lease_calls CREATE) $(lease_calls DELETE)" "1 1"
cp -a "$ST" "$ST2"
clear_calls
admin POST /faults '[{"kind": "latency", "seconds": 50, "service": "elasticbeanstalk", "operation": "UpdateEnvironment", "count": 1}]' >/dev/null

"$CUTOVER" run --yes -c "$CFG" --state "$ST" >"$T/out1" 2>"$T/err1" </dev/null &
pid1=$!
"$CUTOVER" run --yes -c "$CFG" --state "$ST2" >"$T/out2" 2>"$T/err2" </dev/null &
pid2=$!
# The first to end is the one refused; the other still holds the lease.
wait -n "$pid1" "$pid2"
if kill -0 "$pid1" 2>/dev/null; then win=1; else win=2; fi
cut status -c "$CFG" --state "$ST2"
jid=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["kv"]["id"])' "$ST/journal.jsonl")
check "status shows the lease held by the running cutover" has "$T/out" "lease: held by cutover $jid (\`cutover run\` by "
wait "$pid1"; rc1=$?
wait "$pid2"; rc2=$?
echo "# run 1 exit $rc1, run 2 exit $rc2; run $win took the lease"
if [ "$win" = 2 ]; then   # name the winner 1 and the loser 2
	ST="$ST2"; ST2="$T/state"; r=$rc1; rc1=$rc2; rc2=$r
	mv "$T/out1" "$T/o"; mv "$T/out2" "$T/out1"; mv "$T/o" "$T/out2"
	mv "$T/err1" "$T/o"; mv "$T/err2" "$T/err1"; mv "$T/o" "$T/err2"
fi
grep -h "FAILED\|holds the lease" "$T/out2" "$T/err2" | sed "s/^/# refused run: /"

check "the first run finishes the cutover" eq "$rc1" 0
check "the second run is refused" eq "$rc2" 1
check "naming the holder's cutover id, command, user and host" has "$T/err2" \
	"Another cutover holds the lease _cutover-lock.myabf.com.au.: cutover $jid (\`cutover run\` by $(id -un) on $(hostname) since "
check "and when it took it" grep -qE "since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\)" "$T/err2"
check "and the flag that breaks it" has "$T/err2" "run again with --break-lease $jid."
check "after passing its own preflight on the untouched world" eq "$(grep -c "\"ev\":\"preflight\"" "$ST2/journal.jsonl")" 0
check "the second run began no step" eq "$(grep -c '"ev":"step-begin","step":"scale-live"' "$ST2/journal.jsonl")" 0
check "two lease CREATEs (one refused), one release" eq "$(lease_calls CREATE) $(lease_calls DELETE)" "2 1"
check "exactly one snapshot taken" eq "$(calls rds CreateDBSnapshot)" 1
check "exactly one restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 1
check "exactly one DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 1
cutover_end_state
check "no lease record is left" eq "$(j "sum(r['Name'].startswith('_cutover-lock.') for z in d['aws']['zones'] for r in z['records'])")" 0
cut status -c "$CFG" --state "$ST"
check "status says the lease is free" has "$T/out" "lease: free"

done_testing
