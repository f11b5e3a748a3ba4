#!/usr/bin/env bash
# cutover_failback.t: fail back in the middle of a cutover, right after the
# DNS change (the runbook's "Steps for Production - Fail Back"), against a
# simulated production of its own: DNS goes back to exactly the records it
# replaced, the old environments leave maintenance mode with their cron and
# scaling back, the activity on the new system is reported, and the old
# database was never written by the cutover.
set -u
: "${CUTOVER_BUILD:?run through tests/run}"
top=$(cd "$(dirname "$0")/../.." && pwd)
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
T=$(mktemp -d /tmp/cutover-fb.XXXXXX)
chmod 755 "$T"
D="$T/sim"
cleanup() { "$top/tests/sim/down" "$D" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 800 "$T/err" 2>/dev/null)"; fi; }
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(tail -c 600 "$1")" >&2; return 1; }; }

"$top/tests/sim/before-prep" >"$T/world.json"
if ! SIM_WORLD="$T/world.json" "$top/tests/sim/up" "$D" >"$T/up.log" 2>&1; then
	nok "the simulated production comes up" "$(tail -5 "$T/up.log")"
	echo "1..$n"
	exit 1
fi
ok "the simulated production (before Prep) comes up"
set -a
# shellcheck disable=SC1090
. "$D/aws.env"
# shellcheck disable=SC1090
. "$D/simprod.env"
set +a
CFG="$T/cutover.ini"
sed -e '/^\[database\]/a prep = cobalt-test' -e '/^\[app\]/a version = cobalt-6.0.1' "$D/cutover.ini" >"$CFG"
export CUTOVER_POLL_MS=300 CUTOVER_QUIET_SECONDS=4 CUTOVER_QUIET_DEADLINE=120
ST="$T/state"
cut() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; cat "$T/out" >>"$T/err"; }
dump() { "$top/tests/sim/dump" "$D" >"$T/dump.json"; }
q() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/dump.json" "$1"; }
env_var() { q "next(e for e in d['aws']['environments'] if e['name'] == '$1')['env_vars'].get('$2', '<unset>')"; }
alias_of() { q "next(r['AliasTarget']['DNSName'] for z in d['aws']['zones'] for r in z['records'] if r['Name'] == '$1' and 'AliasTarget' in r)"; }
crontab_of() { q "len(d['hosts']['$1'].get('crontab') or [])"; }

dump
blue_cron=$(crontab_of i-0b1e0000000000001)
old_db_users=$(q "d['databases']['production-blue']['tables']['accounts_user']['max_id']")
check "the old web env has a crontab to pause" test "$blue_cron" -gt 0
cut prep -c "$CFG" --state "$ST"
check "prep" eq "$rc" 0
cut run --yes --until dns-switch -c "$CFG" --state "$ST"
check "run --until dns-switch stops after the DNS change" eq "$rc" 0
dump
check "DNS points at the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" ON

cut failback --yes -c "$CFG" --state "$ST"
check "fail-back after the DNS change succeeds" eq "$rc" 0
dump
check "apex back on the old web env" eq "$(alias_of myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "www back on the old web env" eq "$(alias_of www.myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "ses back on the old SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-green.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is out of maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" OFF
check "the old SES env is out of maintenance mode" eq "$(env_var cobalt-ses-production-green MAINTENANCE_MODE)" OFF
check "the old web env has its scaling back" eq "$(q "next(e for e in d['aws']['environments'] if e['name'] == 'cobalt-production-blue')['options']['aws:autoscaling:asg']['MinSize']")" 2
check "cron is back on the old web env" eq "$(crontab_of i-0b1e0000000000001)" "$blue_cron"
check "the activity on the new system is reported" has "$T/out" "since the cutover"
check "as a CSV file" test -s "$ST/activity-since-cutover.csv"
check "users were never converted on the old database" eq "$(q "d['databases']['production-blue']['tables']['accounts_user']['max_id']")" "$old_db_users"
check "the new web env stays in maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" ON

cut tidy --yes -c "$CFG" --state "$ST"
check "tidy refuses after a fail-back (DNS on the old environment)" eq "$rc" 1

echo "1..$n"
