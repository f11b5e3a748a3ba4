#!/usr/bin/env bash
# `cutover aws whoami` and `cutover aws status` against the simulated AWS:
# which environment is live is read from DNS (and a half-switched pair is
# reported, not guessed), secrets never reach stdout/stderr, --json is sound,
# and a broken config names its file and line.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CUTOVER_BUILD:-$top/build}/cutover
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

if [ -z "${FAKEAWS_ADMIN:-}" ]; then nok "fakeaws is running (FAKEAWS_ADMIN set)"; exit 1; fi
tmp=$(mktemp -d /tmp/cutover-status.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp AWS_EC2_METADATA_DISABLED=true
curl -fsS -X POST -d '{}' "$FAKEAWS_ADMIN/reset" >/dev/null
cfg=$top/deploy/cutover.example.ini
secrets=("$AWS_SECRET_ACCESS_KEY" fake-production-db-password fake-test-db-password fake-django-secret-key)
no_secrets() {
	local f s
	for f in "$@"; do for s in "${secrets[@]}"; do grep -qF -- "$s" "$f" && return 1; done; done
	return 0
}

"$bin" aws whoami >"$tmp/who" 2>"$tmp/who.err"
check "aws whoami exits 0" "[ $? -eq 0 ]"
check "aws whoami shows account and ARN" "grep -q '^account *123456789012' '$tmp/who' && grep -q 'user/cutover-operator' '$tmp/who'"
check "aws whoami says where the credentials came from" "grep -q 'credentials *environment' '$tmp/who'"

CUTOVER_DEBUG=1 "$bin" aws status -c "$cfg" >"$tmp/st" 2>"$tmp/st.err"
check "status exits 0" "[ $? -eq 0 ]"
check "status reads blue as the live web environment" "grep -q '^pair web: live is cobalt-production-blue' '$tmp/st'"
check "status reads green as the live ses environment (not assumed blue)" "grep -q '^pair ses: live is cobalt-ses-production-green' '$tmp/st'"
check "status shows the settings that matter" "grep -q 'MAINTENANCE_MODE=ON MP_USE_DJANGO=NO RDS_HOSTNAME=cobalt-test' '$tmp/st'"
check "status shows instances with their addresses" "grep -q 'i-0b1e0000000000001  172.31.10.11' '$tmp/st'"
check "status shows the live database from RDS_HOSTNAME and its latest snapshot" \
	"grep -q 'live  production-blue .*available *db.t3.medium' '$tmp/st' && grep -q 'latest snapshot' '$tmp/st'"
check "status shows each record and the environment it points at" \
	"grep -q 'www.myabf.com.au .*alias cobalt-production-blue.*-> cobalt-production-blue' '$tmp/st'"
check "debug output went to stderr (one line per AWS call)" "grep -q 'DescribeConfigurationSettings attempt 1/3 -> HTTP 200' '$tmp/st.err'"
check "no secret in status output or debug log" "no_secrets '$tmp/st' '$tmp/st.err'"

"$bin" aws status -c "$cfg" --json >"$tmp/j" 2>"$tmp/j.err"
check "status --json exits 0" "[ $? -eq 0 ]"
check "status --json is the world as JSON, secrets masked" "/usr/bin/python3 - '$tmp/j' <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
p = {x['name']: x for x in w['pairs']}
assert p['web']['live'] == 'cobalt-production-blue', p['web']['live']
assert p['ses']['live'] == 'cobalt-ses-production-green'
blue = p['web']['environments'][0]
assert blue['live'] and blue['instance_count'] == 2 and blue['status'] == 'Ready'
assert blue['settings']['RDS_PASSWORD'] == '********' and blue['settings']['SECRET_KEY'] == '********'
assert blue['settings']['RDS_DB_NAME'] == 'ebdb'
assert w['databases'][0]['id'] == 'production-blue' and w['databases'][0]['role'] == 'live'
assert w['databases'][1]['id'] == 'cobalt-production-green' and not w['databases'][1]['exists']
assert w['zone']['id'] == 'Z0FAKEMYABF00000001'
PY"
check "no secret in --json output" "no_secrets '$tmp/j' '$tmp/j.err'"

# Half a switch: www points at green, the apex still at blue.
/usr/bin/python3 - <<'PY' >"$tmp/flip.log" 2>&1
import os, botocore.session
s = botocore.session.get_session()
r53 = s.create_client('route53', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
r53.change_resource_record_sets(HostedZoneId='Z0FAKEMYABF00000001', ChangeBatch={'Changes': [{
    'Action': 'UPSERT', 'ResourceRecordSet': {'Name': 'www.myabf.com.au.', 'Type': 'A', 'AliasTarget': {
        'HostedZoneId': 'Z2PCDNR3VC2G1N', 'EvaluateTargetHealth': False,
        'DNSName': 'cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.'}}}]})
PY
"$bin" aws status -c "$cfg" >"$tmp/st2" 2>&1
check "status still exits 0 when a pair is half switched" "[ $? -eq 0 ]"
check "a half-switched pair is reported, not guessed" \
	"grep -q '^pair web: live is UNKNOWN' '$tmp/st2' && grep -q 'disagree: myabf.com.au points at cobalt-production-blue but www.myabf.com.au points at cobalt-production-green' '$tmp/st2'"
check "the live database is then unknown too" "grep -q 'live  unknown' '$tmp/st2'"

printf '[aws]\nregion = ap-southeast-2\napplication = cobalt\nprofle = x\n' >"$tmp/bad.ini"
"$bin" aws status -c "$tmp/bad.ini" >"$tmp/bad.out" 2>"$tmp/bad.err"
check "a bad config exits 1" "[ $? -eq 1 ]"
check "a bad config names the file and line in one sentence" "grep -q \"^cutover aws status: $tmp/bad.ini line 4: unknown key 'profle' in \\[aws\\]\" '$tmp/bad.err'"

AWS_SECRET_ACCESS_KEY=wrong-secret-for-test "$bin" aws whoami >"$tmp/w2" 2>"$tmp/w2.err"
check "wrong credentials exit 1 with a clear sentence" "[ $? -eq 1 ] && grep -q 'secret access key from environment is wrong' '$tmp/w2.err'"
check "the wrong secret is not echoed" "! grep -q wrong-secret-for-test '$tmp/w2.err'"
curl -fsS -X POST -d '{}' "$FAKEAWS_ADMIN/reset" >/dev/null
echo "1..$n"
