# cutover-lib.sh: shared by the tests/integration/cutover_*.t TAP scripts
# (sourced after sim-lib.sh): a private simulated production as it was
# before the runbook's Prep, its configuration with what Prep needs to know
# (the new version, the test database), and helpers over the dump.
: "${CUTOVER_BUILD:?run through tests/run}"
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; echo "# $(tail -c 600 "$T/err" 2>/dev/null)" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(tail -c 600 "$1")" >&2; return 1; }; }

# cutover_up: the simulation before Prep; sets CFG and ST.
cutover_up() {
	"$SIMD/before-prep" >"$T/world.json"
	SIM_WORLD="$T/world.json" sim_up
	ok "the simulated production (before Prep) comes up"
	CFG="$T/cutover.ini"
	sed -e '/^\[database\]/a prep = cobalt-test' -e '/^\[app\]/a version = cobalt-6.0.1' "$S/cutover.ini" >"$CFG"
	ST="$T/state"
	export CUTOVER_POLL_MS=300 CUTOVER_QUIET_SECONDS=4 CUTOVER_QUIET_DEADLINE=120
}
# cut ARGS...: one cutover command; stdout in $T/out, both in $T/err, status in $rc.
cut() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; cat "$T/out" >>"$T/err"; }
env_var() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['env_vars'].get('$2', '<unset>')"; }
alias_of() { j "next(r['AliasTarget']['DNSName'] for z in d['aws']['zones'] for r in z['records'] if r['Name'] == '$1' and 'AliasTarget' in r)"; }
min_size() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['options']['aws:autoscaling:asg']['MinSize']"; }

# The simulated AWS's call log: calls SERVICE OPERATION counts them,
# mutations counts every call that is not a Describe/List/Get.
calls() { admin GET "/calls?service=$1&operation=$2" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
mutations() {
	admin GET /calls | $PY -c '
import json, sys
ro = ("Describe", "List", "Get")
print(sum(1 for c in json.load(sys.stdin)["calls"] if not c["operation"].startswith(ro)))'
}
clear_calls() { admin DELETE /calls >/dev/null; }
simset() { admin POST /set "$1" >/dev/null; }

# cutover_end_state: the checks of the world after a finished `cutover run`
# (DNS on the new envs, their settings, the new database as restored from
# this cutover's snapshot and migrated, users converted once, blocked emails
# back, the old database and environment untouched); dumps first.
cutover_end_state() {
	local newaddr
	dump
	check "apex points at the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
	check "www points at the new web env" eq "$(alias_of www.myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
	check "ses points at the new SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-blue.ap-southeast-2.elasticbeanstalk.com.
	newaddr=$(j "d['databases']['cobalt-production-green']['address']")
	check "the new web env uses the new database" eq "$(env_var cobalt-production-green RDS_HOSTNAME)" "$newaddr"
	check "RDS_DB_NAME is ebdb" eq "$(env_var cobalt-production-green RDS_DB_NAME)" ebdb
	check "MP_USE_DJANGO is removed, not set" eq "$(env_var cobalt-production-green MP_USE_DJANGO)" "<unset>"
	check "the new system is out of maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" OFF
	check "the new SES env uses the new database" eq "$(env_var cobalt-ses-production-blue RDS_HOSTNAME)" "$newaddr"
	check "the new database is a db.t3.small" eq "$(j "[i['class'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" db.t3.small
	check "restored from the cutover's snapshot" eq "$(j "[i['restored_from'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" "production-blue-cutover-$(date -u +%Y%m%d)"
	check "the new database holds production's events" eq "$(j "d['databases']['cobalt-production-green']['tables']['events_evententry']['rows'] >= d['databases']['production-blue']['tables']['events_evententry']['rows'] > 3")" True
	check "users converted once (ids 11, 12, 14, 15; a second run would burn 16)" eq "$(j "d['databases']['cobalt-production-green']['tables']['accounts_user']['max_id']")" 15
	check "only the duplicate stays unregistered" eq "$(j "d['databases']['cobalt-production-green']['tables']['accounts_unregistereduser']['rows']")" 1
	check "the new database is migrated (0055)" eq "$(j "d['databases']['cobalt-production-green']['notifications_migration']")" 0055_alter_unregisteredblockedemail_un_registered_user
	check "blocked emails are back, 4 rows" eq "$(j "d['databases']['cobalt-production-green']['tables']['notifications_unregisteredblockedemail']['rows']")" 4
	check "the old database is untouched: unregistered users" eq "$(j "d['databases']['production-blue']['tables']['accounts_unregistereduser']['rows']")" 5
	check "the old database is untouched: schema" eq "$(j "d['databases']['production-blue']['notifications_migration']")" 0035_unregisteredblockedemail
	check "the old web env is in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" ON
}
