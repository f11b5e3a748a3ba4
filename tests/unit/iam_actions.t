#!/usr/bin/env bash
# `cutover iam-policy` covers every AWS operation cutover can send: each
# operation named in coordinator/aws/*.c (aws_params_init, aws_query_pages,
# aws_rest_xml, aws_json) is allowed by the policy for all commands (with
# Instance Connect, open_port and a rehearsal configured), or is one of the
# few named below with why no runbook command calls it. So a new AWS call
# that the table in coordinator/world/iam.c does not list fails here. Also:
# the command's usage errors, and the policy on stdout alone (notes on stderr).
set -u
: "${CUTOVER_BUILD:?run through tests/run}"
top=$(cd "$(dirname "$0")/../.." && pwd)
CUTOVER=$CUTOVER_BUILD/cutover
T=$(mktemp -d /tmp/iam-actions.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# Operations the aws/ modules can send that no runbook command calls, and why.
declare -A NOT_CALLED=(
	[elasticbeanstalk:SwapEnvironmentCNAMEs]="no caller: the cutover moves DNS records, not CNAMEs"
	[elasticbeanstalk:DescribeEvents]="only the aws/wait.c waiters read events; the runbook polls through world_ops"
	[ec2:DescribeSecurityGroups]="no caller outside aws/ec2.c: the instances' groups come with DescribeInstances"
	[sts:AssumeRole]="called by the credentials of a role profile: the SOURCE identity needs it, not this policy"
)

sed -e 's/^instance_connect = .*/instance_connect = yes/' -e 's/^open_port = .*/open_port = yes/' \
	-e 's/^#method = .*/method = replica/' \
	-e 's/^#\[rehearse\]/[rehearse]/' -e 's/^#environment = /environment = /' -e 's/^#database = cobalt/database = cobalt/' \
	"$top/deploy/cutover.example.ini" >"$T/c.ini"
"$CUTOVER" iam-policy -c "$T/c.ini" --offline --for all >"$T/policy.json" 2>"$T/notes"
rc=$?
# The same world reached through Systems Manager instead (port 22 never opened).
sed -e 's/^open_port = .*/open_port = no/' -e 's/^#\{0,1\}transport = .*/transport = ssm/' "$T/c.ini" >"$T/c-ssm.ini"
grep -q '^transport = ssm' "$T/c-ssm.ini" || printf '\n[ssh]\ntransport = ssm\n' >>"$T/c-ssm.ini"
"$CUTOVER" iam-policy -c "$T/c-ssm.ini" --offline --for all >"$T/policy-ssm.json" 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/policy.json"; then
	ok "iam-policy --offline prints a JSON document on stdout alone"
else
	nok "iam-policy --offline prints a JSON document on stdout alone" "exit $rc" "$(head -c 400 "$T/policy.json")"
fi
grep -q '^cutover iam-policy: note: .*give --account' "$T/notes" && ok "the wildcards' notes are on stderr" ||
	nok "the wildcards' notes are on stderr" "$(head -c 400 "$T/notes")"
grep -q 'environment/cobalt/cobalt-test-black' "$T/policy.json" && ok "the rehearsal environment is in it" ||
	nok "the rehearsal environment is in it"

svc_of() {
	case $1 in
	eb) echo elasticbeanstalk ;; rds) echo rds ;; ec2) echo ec2 ;; sts) echo sts ;;
	route53) echo route53 ;; eic) echo ec2-instance-connect ;; ssm) echo ssm ;; *) echo "?$1" ;;
	esac
}
ops=$(grep -ohE '(aws_params_init\(&p|aws_query_pages\(c|aws_rest_xml\(c|aws_json\(c), &aws_svc_[a-z0-9]+, "[A-Za-z]+"' \
	"$top"/coordinator/aws/*.c | sed -E 's/.*&aws_svc_([a-z0-9]+), "([A-Za-z]+)"/\1 \2/' | sort -u)
[ "$(echo "$ops" | wc -l)" -ge 20 ] && ok "the aws/ modules name $(echo "$ops" | wc -l) operations" ||
	nok "the aws/ modules name enough operations" "$ops"
missing=""; seen_exc=""
while read -r svc op; do
	action="$(svc_of "$svc"):$op"
	if [ -n "${NOT_CALLED[$action]:-}" ]; then
		seen_exc="$seen_exc $action"
		grep -q "\"$action\"" "$T/policy.json" && missing="$missing $action(listed-but-excepted)"
		continue
	fi
	grep -q "\"$action\"" "$T/policy.json" "$T/policy-ssm.json" || missing="$missing $action"
done <<<"$ops"
[ -z "$missing" ] && ok "every operation the aws/ modules send is in the policy or named as not called" ||
	nok "every operation the aws/ modules send is in the policy or named as not called" "missing:$missing"
for a in "${!NOT_CALLED[@]}"; do
	case " $seen_exc " in
	*" $a "*) ;;
	*) missing="$missing $a"; nok "the exception $a still names an operation the aws/ modules send" ;;
	esac
done
ok "every exception names an operation that exists"

# Usage errors: one sentence each, exit 2, nothing on stdout.
check_usage() {
	local name=$1 want=$2; shift 2
	"$CUTOVER" iam-policy "$@" >"$T/o" 2>"$T/e"; local rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$T/o" ] && grep -q -- "$want" "$T/e"; then ok "$name"
	else nok "$name" "exit $rc" "$(cat "$T/e")"; fi
}
check_usage "--for with a command that is not a runbook one is refused" "'status' is not plan, prep" -c "$T/c.ini" --for run,status
check_usage "a bad --account is refused" "12-digit" -c "$T/c.ini" --account 12345
check_usage "a bad --live-db is refused" "RDS instance identifier" -c "$T/c.ini" --live-db 'a;b'
check_usage "-c is required" "-c FILE is required" --offline
"$CUTOVER" iam-policy -c "$T/c.ini" --offline --for run --account 210987654321 --zone-id /hostedzone/ZABC --live-db prod-a \
	>"$T/p2.json" 2>"$T/n2"
grep -q '"arn:aws:rds:ap-southeast-2:210987654321:db:prod-a"' "$T/p2.json" &&
	grep -q '"arn:aws:route53:::hostedzone/ZABC"' "$T/p2.json" && ! grep -q 'give --' "$T/n2" &&
	ok "--account, --zone-id and --live-db name what the lookups would" ||
	nok "--account, --zone-id and --live-db name what the lookups would" "$(cat "$T/n2")"
echo "1..$n"
[ "$fails" -eq 0 ]
