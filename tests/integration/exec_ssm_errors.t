#!/usr/bin/env bash
# exec_ssm_errors.t: the SSM transport against the simulated production with
# port 22 closed to the tool: SSH is really closed (so nothing can fall back
# to it), cutover status shows each instance's PingStatus, several instances
# with one unreachable, and one sentence each for an instance not registered
# with SSM, an agent offline, ssm:StartSession denied, throttling and a
# session limit.
set -u
: "${CUTOVER_BUILD:?run through tests/run}" "${SIMPROD_DIR:?the simprod service is not up}"
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cutover-ssmerr-t.XXXXXX)
chmod 755 "$T"
set -a
# shellcheck disable=SC1090
. "$SIMPROD_AWS_ENV"
set +a
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 600 "$1")" >&2; return 1; }; }
cx()  { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
admin() { curl -fsS -X "$1" -d "${3:-}" "$SIMPROD_ADMIN/$2" >/dev/null; }
ping_of() { admin POST set "{\"kind\": \"instance\", \"id\": \"$1\", \"set\": {\"ssm_ping\": $2}}"; }
instances_of() {
	curl -fsS "$SIMPROD_ADMIN/state" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join([e for e in d["environments"] if e["name"] == sys.argv[1]][0]["instances"]))' "$1"
}
CFG="$T/ssm.ini"
sed '/^\[ssh\]/a transport = ssm' "$SIMPROD_CONFIG" >"$CFG"
read -r G1 <<<"$(instances_of cobalt-production-green)"
read -r B1 B2 <<<"$(instances_of cobalt-production-blue)"
admin POST options '{"ssh_closed": true}'
cleanup() {
	for i in $G1 $B1 $B2; do ping_of "$i" '"Online"'; done
	admin DELETE faults
	admin POST options '{"ssh_closed": false}'
	rm -rf "$T"
}
trap cleanup EXIT

# 1. Port 22 is really closed to the tool: the SSH transport cannot get in.
cx exec --env cobalt-production-green -c "$SIMPROD_CONFIG" --connect-timeout 2 -- true
check "with ssh_closed, transport ssh fails (no route to port 22)" eq "$rc" 255
cx exec --env cobalt-production-green -c "$CFG" -- true
check "and transport ssm gets through" eq "$rc" 0

# 2. cutover status: PingStatus per instance.
cx status -c "$CFG"
check "status exits 0" eq "$rc" 0
check "status names the transport" has "$T/out" "Instances (transport ssm)"
check "status shows the green instance Online" has "$T/out" "cobalt-production-green *$G1 .*Online"
ping_of "$G1" '"ConnectionLost"'
ping_of "$B2" 'null'
cx status -c "$CFG" --json
check "status --json lists PingStatus per instance" $PY - "$T/out" "$G1" "$B1" "$B2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
inst = {x["instance"]: x for x in lines[-1]["instances"]}
g1, b1, b2 = sys.argv[2:5]
assert inst[g1]["reach"] == "ConnectionLost", inst[g1]
assert inst[b1]["reach"] == "Online", inst[b1]
assert inst[b2]["reach"] == "not registered", inst[b2]
assert all(x["transport"] == "ssm" for x in inst.values())
PY

# 3. One sentence for each failure.
cx exec --env cobalt-production-green -c "$CFG" -- true
check "agent offline: exit 255" eq "$rc" 255
check "agent offline: says ConnectionLost and what to check" has "$T/err" "The SSM agent on $G1 is ConnectionLost, not Online"
ping_of "$G1" 'null'
cx exec --env cobalt-production-green -c "$CFG" -- true
check "not registered: says so and names the policy" has "$T/err" "$G1 is not registered with Systems Manager.*AmazonSSMManagedInstanceCore"
ping_of "$G1" '"Online"'

admin POST faults '{"service": "ssm", "operation": "StartSession", "kind": "error", "code": "AccessDeniedException", "status": 400, "message": "User: arn:aws:iam::123456789012:user/cutover-operator is not authorized to perform: ssm:StartSession"}'
cx exec --env cobalt-production-green -c "$CFG" -- true
check "StartSession denied: exit 255" eq "$rc" 255
check "StartSession denied: names ssm:StartSession and the document" has "$T/err" "may not start a Session Manager session to $G1.*ssm:StartSession.*AWS-StartSSHSession"
admin DELETE faults

admin POST faults '{"service": "ssm", "operation": "StartSession", "kind": "throttle", "count": 20}'
cx exec --env cobalt-production-green -c "$CFG" -- true
check "throttled: says so" has "$T/err" "kept throttling StartSession to $G1"
admin DELETE faults
admin POST faults '{"service": "ssm", "operation": "StartSession", "kind": "error", "code": "ServiceQuotaExceededException", "status": 400, "message": "Session limit reached"}'
cx exec --env cobalt-production-green -c "$CFG" -- true
check "session limit: says so and how to free sessions" has "$T/err" "session limit is reached.*describe-sessions"
admin DELETE faults
check "no secret token in any message" sh -c "! grep -qi 'TokenValue\\|token' '$T/err'"

# 4. Several instances, one unreachable: the other still runs and reports.
ping_of "$B2" '"ConnectionLost"'
cx exec --env cobalt-production-blue -c "$CFG" -- sh -c 'echo "hi from $(basename "$HOME")"'
check "one of two unreachable: exit 1" eq "$rc" 1
check "the reachable one's output arrives" has "$T/out" "$B1 .*| hi from $B1"
check "the unreachable one is named with its reason" has "$T/err" "$B2 .*ConnectionLost"
check "summary: one failed, one exit 0" sh -c "grep -q '$B1.*exit 0' '$T/out' && grep -q '$B2.*failed' '$T/out'"
ping_of "$B2" '"Online"'

# 5. The session ended under a running command (TerminateSession from
#    another client, here the AWS CLI): reported as dropped, 255, at once.
tag=$((7000 + RANDOM % 1000))
"$CUTOVER" exec --env cobalt-production-green -c "$CFG" -- sh -c "echo started; exec sleep $tag.3" \
	>"$T/out" 2>"$T/err" </dev/null &
pid=$!
for _ in $(seq 1 200); do grep -q started "$T/out" 2>/dev/null && break; sleep 0.05; done
check "command started over SSM" grep -q started "$T/out"
sid=$(curl -fsS "$SIMPROD_ADMIN/state" | $PY -c '
import json, sys
print([s["id"] for s in json.load(sys.stdin)["ssm_sessions"] if s["state"] == "Connected"][0])')
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ssm terminate-session --session-id "$sid" >/dev/null 2>"$T/cli.err"
check "aws ssm terminate-session accepted by the simulation" eq "$?" 0
start=$(date +%s%N)
wait "$pid"; rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
pkill -f "sleep $tag\.3" 2>/dev/null
check "session ended under the command: exit 255" eq "$rc" 255
check "reported as dropped, outcome unknown" has "$T/err" "dropped"
check "reported at once (${el} ms)" test "$el" -lt 5000

# 6. Sessions: every one ended, no protocol error.
curl -fsS "$SIMPROD_ADMIN/state" >"$T/state"
check "SSM sessions all terminated, none with a protocol error" $PY - "$T/state" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["ssm_sessions"]
assert s, "no session"
assert not [x for x in s if x["protocol_errors"]], [x for x in s if x["protocol_errors"]][:2]
assert all(x["state"] == "Terminated" for x in s), [x for x in s if x["state"] != "Terminated"]
PY
echo "1..$n"
