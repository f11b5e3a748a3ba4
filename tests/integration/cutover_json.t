#!/usr/bin/env bash
# cutover_json.t: what the operator reads, against a simulated production of
# its own (tests/sim/up, the world before Prep).
# - plan before prep: what prep will create is "not created yet (prep creates
#   it)", not FAILED lines and AWS 404s; the preflight refusals it foresees are
#   labelled as what run would refuse; every step line reads as English.
# - status: the steps of the last command and the next command to run, not
#   every step of every command.
# - --json on plan, prep, rehearse, run, report and failback (tidy: in
#   cutover_tidy.t, as it cannot follow a fail-back): every line of a whole
#   run's standard output is a JSON object, its event one of
#   doc/json-events.md's table (json_events.py), with the fields that table
#   requires and none it does not list.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up

# events FILE: checks FILE line by line against doc/json-events.md; prints
# the problems, exits 1 when there are any; on success prints the event
# counts (one "event N" a line) for the checks below.
events() { $PY "$top/tests/integration/json_events.py" "$top/doc/json-events.md" "$1"; }
# json CMD...: one cutover command with --json; its stdout in $T/out, both in
# $T/err, status in $rc, the check of every line in $T/ev.
json() { cut "$@" --json; events "$T/out" >"$T/ev"; evrc=$?; }
has_ev() { grep -q "^$1 [1-9]" "$T/ev" || { echo "# no $1 event: $(tr '\n' ' ' <"$T/ev")" >&2; return 1; }; }

# ---- plan before prep ----------------------------------------------------------------
cut plan -c "$CFG" --state "$ST"
check "plan before prep exits 0" eq "$rc" 0
check "the new environments: not created yet (prep creates them), as run's preflight would refuse" \
	has "$T/out" "preflight new-envs: \`cutover run\` would refuse now: environments cobalt-production-green and cobalt-ses-production-blue are not created yet (prep creates them)"
check "the steps that need them say so in one line" \
	has "$T/out" "plan new-cron-hold: would save and empty the crontab on cobalt-production-green .*; cannot check it yet: environment cobalt-production-green is not created yet (prep creates it)"
check "a step that needs the new database names the step that creates it" \
	has "$T/out" "plan point-new: would point .*; cannot check it yet: database cobalt-production-green is not created yet (the restore step of \`cutover run\` creates it)"
check "the refusals are counted as what run would refuse" has "$T/out" "plan \`cutover run\` would refuse to start now: 2 problems above"
check "no FAILED, HTTP status, request id or 'cannot tell yet' in it" \
	bash -c '! grep -E "FAILED|HTTP [0-9]|request id|cannot tell yet" "$1"' _ "$T/out"
check "every step line reads 'would <verb>'" \
	bash -c '! grep -E "plan [a-z-]+: would (DNS|HTTP|the |nothing|new |maintenance|MP_USE)" "$1"' _ "$T/out"
check "the DNS switch is said as a verb" has "$T/out" "plan dns-switch: would switch DNS for apex, www and ses"

json plan -c "$CFG" --state "$ST"
check "plan --json: every line an event of doc/json-events.md with its fields" eq "$evrc" 0
check "plan --json: plan, preflight and window events" bash -c 'grep -q "^plan " "$1" && grep -q "^preflight " "$1" && grep -q "^window " "$1"' _ "$T/ev"

cut status -c "$CFG" --state "$ST"
check "status before anything: nothing has run, prep is next" has "$T/out" "next \`cutover prep -c $CFG --state $ST\`"

# ---- prep, run, report, failback with --json ------------------------------------------
json prep -c "$CFG" --state "$ST"
check "prep --json succeeds" eq "$rc" 0
check "prep --json: every line an event with its fields" eq "$evrc" 0
check "prep --json: begin, wait, done" bash -c 'grep -q "^begin " "$1" && grep -q "^wait " "$1" && grep -q "^done " "$1"' _ "$T/ev"

# ---- rehearse with --json, before the cutover (the runbook's Steps for Test) ---------
RCFG="$T/rehearse.ini"
cp "$CFG" "$RCFG"
printf '\n[rehearse]\nenvironment = cobalt-test-black\ndatabase = cobalt-test-black-prod\nclass = db.t3.medium\n' >>"$RCFG"
json rehearse --yes -c "$RCFG" --state "$T/rehearse-state"
check "rehearse --json succeeds" eq "$rc" 0
check "rehearse --json: every line of the whole rehearsal an event with its fields" eq "$evrc" 0
check "rehearse --json: begin, wait, done, result, report, and no window (production never went into maintenance)" \
	bash -c 'for e in begin wait done result report; do grep -q "^$e " "$1" || exit 1; done; ! grep -q "^window " "$1"' _ "$T/ev"
check "rehearse --json: its steps by name, down to mpc_sync" \
	bash -c 'grep -q "\"event\":\"done\",\"step\":\"rehearse-convert\"" "$1" && grep -q "\"event\":\"result\",\"step\":\"rehearse-mpc-sync\"" "$1"' _ "$T/out"
check "rehearse --json: a done of the whole command (no step), then the report" \
	$PY -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1])]
whole = [i for i, o in enumerate(ev) if o["event"] == "done" and "step" not in o]
rep = [i for i, o in enumerate(ev) if o["event"] == "report"]
assert len(whole) == 1 and len(rep) == 1 and whole[0] < rep[0], [(o["event"], o.get("step")) for o in ev[-5:]]' "$T/out"

cut status -c "$CFG" --state "$ST"
check "status after prep: prep's steps" has "$T/out" "status create-web: done"
check "and run next" has "$T/out" "next \`cutover run -c $CFG --state $ST\`"
check "and not every other command's steps" bash -c '! grep -qE "status (scale-live|rehearse-|tidy-|failback-)" "$1"' _ "$T/out"

json run --yes -c "$CFG" --state "$ST"
check "run --json succeeds" eq "$rc" 0
check "run --json: every line of the whole run an event with its fields" eq "$evrc" 0
check "run --json: begin, wait, done, result, report, window" \
	bash -c 'for e in begin wait done result report window; do grep -q "^$e " "$1" || exit 1; done' _ "$T/ev"
check "the snapshot's waits carry AWS's percent" \
	grep -q '"event":"wait","step":"snapshot",.*"percent":' "$T/out"
check "the restore's waits say what they expect (no percent from AWS)" \
	grep -q '"event":"wait","step":"restore",.*"status":"creating".*"expected_ms":' "$T/out"
check "the report event names both files, which exist" $PY -c '
import json, os, sys
r = [json.loads(l)["report"] for l in open(sys.argv[1]) if "\"event\":\"report\"" in l]
assert len(r) == 1 and os.path.isfile(r[0]["md"]) and os.path.isfile(r[0]["html"]), r' "$T/out"

cut status -c "$CFG" --state "$ST"
check "status after run: run's steps, tidy next" \
	bash -c 'grep -q "status dns-switch: done" "$1" && grep -q "next \`cutover tidy " "$1" && ! grep -q "status create-web" "$1"' _ "$T/out"

json report --state "$ST"
check "report --json succeeds" eq "$rc" 0
check "report --json: one report event" bash -c '[ "$(cat "$1")" = "report 1" ]' _ "$T/ev"
cut report --state "$ST"
check "report without --json prints the verdict, then the two paths" \
	bash -c 'grep -q "^Verdict\|Succeeded\|succeeded" "$1" && tail -2 "$1" | grep -q "report.md" && tail -1 "$1" | grep -q "report.html"' _ "$T/out"

json report --state "$T/no-such-state"
check "report --json of a folder without a journal: exit 1, an error event with its code" \
	bash -c '[ "$1" -eq 1 ] && [ "$(cat "$2")" = "error 1" ]' _ "$rc" "$T/ev"

json failback --yes -c "$CFG" --state "$ST"
check "failback --json succeeds" eq "$rc" 0
check "failback --json: every line an event with its fields" eq "$evrc" 0

# The checker itself: a line it must refuse, so it cannot pass on anything.
printf '%s\n' '{"t":"2026-12-05T14:00:00Z","event":"begin","msg":"x"}' >"$T/badev"
refuses() { ! events "$1" >/dev/null; }
check "the checker refuses an event without its required field" refuses "$T/badev"
printf '%s\n' '{"t":"2026-12-05T14:00:00Z","event":"begin","step":"s","msg":"x"}' 'not json' >"$T/badev"
check "and a line that is not JSON" refuses "$T/badev"

done_testing
