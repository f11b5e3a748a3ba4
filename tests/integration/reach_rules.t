#!/usr/bin/env bash
# reach_rules.t: nothing left open (issue 11, items 1, 2, 4) against the simulated
# production. The port-22 rule a command opens is recorded before it is opened
# (world/rules.h) and closed by the next command after a kill -9; a rule whose
# description is cutover's is cutover's; SIGHUP and SIGTERM end every command
# through its cleanup (base/sig.h), the data-safety commands included; and a
# rule two cutover processes use is revoked by the last one, once.
set -u
: "${CUTOVER_BUILD:?run through tests/run}" "${SIMPROD_DIR:?the simprod service is not up}"
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cutover-reach-t.XXXXXX)
trap 'rm -rf "$T"' EXIT
set -a
# shellcheck disable=SC1090
. "$SIMPROD_AWS_ENV"
set +a
export CUTOVER_OPERATOR_IP=127.0.0.1
export TMPDIR="$T/tmp" XDG_STATE_HOME="$T/state"
mkdir -p "$TMPDIR"
LEDGER="$XDG_STATE_HOME/cutover/open-rules"
# Instance Connect, and port 22 opened by the configuration itself.
sed 's|^\[ssh\]$|[ssh]\nopen_port = yes|' "$SIMPROD_CONFIG_EIC" >"$T/open.ini"
CFG="$T/open.ini"
ENV=cobalt-production-green
SG=sg-0eb1e5eb00000001a

n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 400 "$1")" >&2; return 1; }; }

# Port-22 rules open to our /32, on every security group.
rules() {
	curl -s "$SIMPROD_ADMIN/state" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for g in d["security_groups"] for r in g["rules"]
          if r.get("cidr") == "127.0.0.1/32" and r.get("from") == 22))'
}
calls() { curl -s "$SIMPROD_ADMIN/calls?service=$1&operation=$2" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
clear_calls() { curl -s -X DELETE "$SIMPROD_ADMIN/calls" >/dev/null; }
records() { find "$LEDGER" -name '*.rule' 2>/dev/null | wc -l; }
keys() { find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'cutover-key.*' | wc -l; }
wait_rule() { for _ in $(seq 150); do [ "$(rules)" -ge 1 ] && return 0; sleep 0.1; done; return 1; }
cx() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }

check "no rule for our /32 to begin with" eq "$(rules)" 0

# ---- 1. kill -9 with open_port = yes, then a completed rerun ---------------------------
clear_calls
"$CUTOVER" exec --env "$ENV" -c "$CFG" -- sleep 30 >"$T/out" 2>"$T/err" </dev/null &
pid=$!
check "the command opens port 22" wait_rule
check "the rule is recorded in the ledger while it is open" test "$(records)" -ge 1
check "its description carries its owner" has <(curl -s "$SIMPROD_ADMIN/state") 'cutover session [^"]*\.'"$pid"'\.'
kill -9 "$pid"
wait "$pid" 2>/dev/null
check "after kill -9 the rule is still open" eq "$(rules)" 1
cx exec --env "$ENV" -c "$CFG" -- true
check "the rerun completes" eq "$rc" 0
check "and says it closed what the dead run left open" has "$T/err" 'closed 1 port-22 rule'
check "no rule is left" eq "$(rules)" 0
check "exactly one revoke per authorize (2 and 2)" eq "$(calls ec2 AuthorizeSecurityGroupIngress) $(calls ec2 RevokeSecurityGroupIngress)" "2 2"
check "the ledger is empty" eq "$(records)" 0

# A dead run's rule with no record left (its ledger lost): the description says
# it is cutover's, so it is cutover's to close.
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ec2 authorize-security-group-ingress --group-id "$SG" \
	--ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"127.0.0.1/32","Description":"cutover session gone-host.1.00000000 (revoked when it ends)"}]}]' \
	>/dev/null 2>"$T/err"
check "a leftover cutover rule exists" eq "$(rules)" 1
cx exec --env "$ENV" -c "$CFG" -- true
check "a command finding it succeeds" eq "$rc" 0
check "and closes it at its end" eq "$(rules)" 0

# ---- 2. SIGHUP and SIGTERM, in exec and in a data-safety command -------------------------
# The kill -9 above left its Instance Connect key folder (sweeping those is
# issue 11 item 15's); what counts here is that a signal leaves none.
rm -rf "$TMPDIR"/cutover-key.*
"$CUTOVER" exec --env "$ENV" -c "$CFG" -- sleep 30 >"$T/out" 2>"$T/err" </dev/null &
pid=$!
wait_rule; sleep 1
kill -HUP "$pid"
wait "$pid"; rc=$?
check "SIGHUP stops exec like Ctrl-C (exit 130)" eq "$rc" 130
check "no rule left after SIGHUP" eq "$(rules)" 0
check "no key folder left after SIGHUP" eq "$(keys)" 0

# The simulation's access log is relative to the login folder.
"$CUTOVER" quiet -c "$CFG" --log var/log/nginx/access.log --quiet-period 600 --deadline 900 --interval 1 \
	>"$T/out" 2>"$T/err" </dev/null &
pid=$!
wait_rule; sleep 3
check "quiet is still waiting when the signal comes" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"; rc=$?
check "SIGTERM stops quiet (exit 1, not killed)" eq "$rc" 1
check "quiet did not fail on its own" eval '! grep -q "failed" "$T/err"'
check "no rule left after SIGTERM in quiet" eq "$(rules)" 0
check "no key folder left after SIGTERM in quiet" eq "$(keys)" 0
check "the ledger is empty again" eq "$(records)" 0

# ---- 4. one rule, two cutover processes: the last one revokes it ---------------------------
clear_calls
"$CUTOVER" exec --env "$ENV" -c "$CFG" -- sleep 8 >"$T/out1" 2>"$T/err1" </dev/null &
pid=$!
wait_rule; sleep 1
cx exec --env "$ENV" -c "$CFG" -- true
check "a second exec during the first succeeds" eq "$rc" 0
check "and leaves the first one's rule open" eq "$(rules)" 1
check "no revoke yet" eq "$(calls ec2 RevokeSecurityGroupIngress)" 0
wait "$pid"; rc=$?
check "the first exec finishes" eq "$rc" 0
check "then the rule is closed" eq "$(rules)" 0
check "revoked once" eq "$(calls ec2 RevokeSecurityGroupIngress)" 1
check "the ledger is empty at the end" eq "$(records)" 0

echo "1..$n"
