#!/usr/bin/env bash
# cutover_tail.t: the DNS tail after the switch (issue 12, part 4) against a
# simulated production of its own. Some of its users sit behind resolvers
# that ignore the TTL (tests/sim/traffic.py stale_share/stale_hold): after
# the DNS switch they keep reaching the old environment, fewer each second.
# The run's last step, dns-tail, counts them from the old environment's
# access logs after the site has opened (off the downtime window), one
# sample of [dns] tail_interval at a time, until a sample has under one
# request a minute; the report and --json show the rate of each sample.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
BLUE=cobalt-production-blue
J="$ST/journal.jsonl"
counter() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$S/traffic/counters.json" "$1"; }

cut prep -c "$CFG" --state "$ST"
check "prep" eq "$rc" 0
cut plan -c "$CFG" --state "$ST" run
check "plan lists dns-tail with what it watches" has "$T/out" "plan dns-tail: would count the requests that still reach $BLUE"

# 60% of the page views keep the old address after the switch, fading out over 2 min.
"$SIMD/traffic.py" ctl "$S" stale_share=0.6 stale_hold=120
"$CUTOVER" run --yes --json -c "$CFG" --state "$ST" >"$T/out" 2>"$T/err" </dev/null; rc=$?
check "the run finishes" eq "$rc" 0
check "the simulated resolvers kept sending users to the old side" test "$(counter "d['stale']['requests']")" -gt 0
check "they left from the switch on: $BLUE" eq "$(counter "d['stale']['env']")" "$BLUE"

tail_json=$(grep '"event":"dns-tail"' "$T/out" | tail -n 1)
check "--json has the DNS tail" test -n "$tail_json"
field() { echo "$tail_json" | $PY -c 'import json,sys; t=json.load(sys.stdin)["dns_tail"]; print(eval(sys.argv[1]))' "$1"; }
echo "# dns_tail: $(field t)"
check "of the old environment" eq "$(field "t['env']")" "$BLUE"
check "it went idle before the deadline" eq "$(field "t['idle']")" True
check "one figure per 5 s sample" eq "$(field "t['interval_s']")" 5
check "the first sample saw the tail (over one request a minute)" eq "$(field "t['per_minute'][0] >= 1")" True
check "which decays: the last sample is under one a minute" eq "$(field "t['per_minute'][-1] < 1")" True
check "and fewer came later than in the first samples" eq "$(field "sum(t['per_minute'][:2]) > sum(t['per_minute'][-2:])")" True
check "it is no more than the simulation sent" test "$(field "t['requests']")" -le "$(counter "d['stale']['requests']")"
check "the text says when the old side went idle" has "$T/out" "is idle: under one request a minute"

# Off the critical path: after the window closed (maint-off) and lost-writes.
order=$($PY -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ix = lambda ev, step=None: next(i for i, r in enumerate(recs) if r["ev"] == ev and (step is None or r.get("step") == step))
print(ix("downtime-end") < ix("step-begin", "dns-tail") and ix("step-done", "lost-writes") < ix("step-begin", "dns-tail"))' "$J")
check "dns-tail begins after the downtime window closed and lost-writes" eq "$order" True
check "the report has the DNS tail" has "$ST/report.md" "## DNS tail"
check "saying the old side went idle" has "$ST/report.md" "was idle (under one request a minute)"
check "the HTML report too" has "$ST/report.html" "<h2 id=\"dns-tail\">DNS tail</h2>"

clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "a rerun of the finished cutover succeeds" eq "$rc" 0
check "and does not watch again" eq "$(grep -c '"ev":"wait-begin","step":"dns-tail"' "$J")" 1

done_testing
