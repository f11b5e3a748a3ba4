#!/usr/bin/env bash
# exec_env.t: `cutover exec/manage --env NAME -c FILE` against the simulated
# production (tests/harness/services/simprod): instances found through EB and
# EC2, reached with the configured key or with EC2 Instance Connect, and port
# 22 opened for the session and always revoked (success, failure, Ctrl-C),
# leaving alone a rule that was there before.
set -u
: "${CUTOVER_BUILD:?run through tests/run}" "${SIMPROD_DIR:?the simprod service is not up}"
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cutover-execenv-t.XXXXXX)
trap 'rm -rf "$T"' EXIT
set -a
# shellcheck disable=SC1090
. "$SIMPROD_AWS_ENV"
set +a
export CUTOVER_OPERATOR_IP=127.0.0.1
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"
CFG=$SIMPROD_CONFIG
EIC=$SIMPROD_CONFIG_EIC
SG=sg-0eb1e5eb00000001a

n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 400 "$1")" >&2; return 1; }; }

# Rules of the instances' security group open to our /32 (0 or 1).
rules() {
	curl -s "$SIMPROD_ADMIN/state" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for g in d["security_groups"] if g["id"] == sys.argv[1]
          for r in g["rules"] if r.get("cidr") == "127.0.0.1/32" and r.get("from") == 22))' "$SG"
}
calls() { curl -s "$SIMPROD_ADMIN/calls?service=$1&operation=$2" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
clear_calls() { curl -s -X DELETE "$SIMPROD_ADMIN/calls" >/dev/null; }
cx() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }

# 1. every instance of the blue web env, with the configured key
cx exec --env cobalt-production-blue -c "$CFG" -- sh -c 'echo "on $(pwd)"'
check "exec --env reaches both instances of the live web env" eq "$rc" 0
check "output names each instance" has "$T/out" 'i-0b1e0000000000001 (.*) | on .*/i-0b1e0000000000001'
check "and the second" has "$T/out" 'i-0b1e0000000000002 (.*) | on .*/i-0b1e0000000000002'

# 2. Instance Connect: an ephemeral key pushed before connecting, then gone
clear_calls
cx exec --env cobalt-production-green -c "$EIC" -- id -un
check "exec --env with Instance Connect succeeds" eq "$rc" 0
check "as the configured user" eq "$(cat "$T/out")" "$SIMPROD_SSH_USER"
check "one SendSSHPublicKey per instance" eq "$(calls ec2-instance-connect SendSSHPublicKey)" 1
check "the session key is removed afterwards" eq "$(find "$TMPDIR" -mindepth 1 | wc -l)" 0

# 3. manage --env with the config's [app] paths
cx manage --env cobalt-production-green -c "$EIC" -- showmigrations notifications
check "manage --env runs manage.py with the app's settings" eq "$rc" 0
check "and shows the migrations" has "$T/out" '0055_alter_unregisteredblockedemail'

# 4. port 22 opened and revoked after a successful command
clear_calls
cx exec --env cobalt-production-green -c "$EIC" --open-port -- true
check "exec --open-port succeeds" eq "$rc" 0
check "the ingress rule was added" eq "$(calls ec2 AuthorizeSecurityGroupIngress)" 1
check "and revoked" eq "$(calls ec2 RevokeSecurityGroupIngress)" 1
check "no rule left for our /32" eq "$(rules)" 0

# 5. ... after a failed command
cx exec --env cobalt-production-green -c "$EIC" --open-port -- sh -c 'exit 3'
check "the remote exit status comes back" eq "$rc" 3
check "no rule left after a failed command" eq "$(rules)" 0

# 6. ... after a tool failure (connecting fails: wrong known_hosts)
sed 's|^known_hosts = .*|known_hosts = /dev/null|' "$EIC" >"$T/bad.ini"
cx exec --env cobalt-production-green -c "$T/bad.ini" --open-port -- true
check "an unknown host key is refused" eq "$rc" 255
check "no rule left after the connection failed" eq "$(rules)" 0

# 7. ... after Ctrl-C in the middle of the command
clear_calls
"$CUTOVER" exec --env cobalt-production-green -c "$EIC" --open-port -- sleep 30 >"$T/out" 2>"$T/err" </dev/null &
pid=$!
for _ in $(seq 100); do [ "$(rules)" = 1 ] && break; sleep 0.1; done
sleep 1
kill -INT "$pid"
wait "$pid"; rc=$?
check "Ctrl-C cancels the remote command (exit 130)" eq "$rc" 130
check "no rule left after Ctrl-C" eq "$(rules)" 0
check "revoked exactly once" eq "$(calls ec2 RevokeSecurityGroupIngress)" 1

# 8. a rule that was already there is left alone
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ec2 authorize-security-group-ingress --group-id "$SG" \
	--protocol tcp --port 22 --cidr 127.0.0.1/32 >/dev/null 2>"$T/err"
check "a rule for our /32 exists beforehand" eq "$(rules)" 1
clear_calls
cx exec --env cobalt-production-green -c "$EIC" --open-port -- true
check "exec --open-port with the rule already there succeeds" eq "$rc" 0
check "the operator's rule is not revoked" eq "$(rules)" 1
check "no revoke call was made" eq "$(calls ec2 RevokeSecurityGroupIngress)" 0
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ec2 revoke-security-group-ingress --group-id "$SG" \
	--protocol tcp --port 22 --cidr 127.0.0.1/32 >/dev/null 2>&1

# 9. the data-safety commands reach the instances the same way
cx blocked-emails backup -c "$EIC" --file "$T/be.json"
check "blocked-emails backup -c reaches the live instances over SSH" eq "$rc" 0
# The row count from the live database itself (the simulation's seed decides it).
live_be=$("$(dirname "$0")/../sim/dump" "$SIMPROD_DIR" | $PY -c 'import json,sys
print(json.load(sys.stdin)["databases"]["production-blue"]["tables"]["notifications_unregisteredblockedemail"]["rows"])')
check "and backs up the live table" has "$T/out" "Backed up $live_be blocked emails from i-0b1e"
check "the backup file is private" eq "$(stat -c %a "$T/be.json")" 600

# 10. clear errors
cx exec --env cobalt-no-such-env -c "$CFG" -- true
check "an unknown environment fails with exit 255" eq "$rc" 255
check "saying which" has "$T/err" 'no environment cobalt-no-such-env'
cx exec --env cobalt-production-blue -- true
check "--env without -c is a usage error" eq "$rc" 2

echo "1..$n"
