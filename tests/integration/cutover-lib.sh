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
# AWS calls through the simulated AWS's admin API: mutations counts every call
# that is not Describe/List/Get, calls SERVICE OPERATION counts one kind.
mutations() {
	admin GET /calls | $PY -c '
import json, sys
ro = ("Describe", "List", "Get")
print(sum(1 for c in json.load(sys.stdin)["calls"] if not c["operation"].startswith(ro)))'
}
calls() { admin GET "/calls?service=$1&operation=$2" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
clear_calls() { admin DELETE /calls >/dev/null; }
# cut ARGS...: one cutover command; stdout in $T/out, both in $T/err, status in $rc.
cut() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; cat "$T/out" >>"$T/err"; }
env_var() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['env_vars'].get('$2', '<unset>')"; }
alias_of() { j "next(r['AliasTarget']['DNSName'] for z in d['aws']['zones'] for r in z['records'] if r['Name'] == '$1' and 'AliasTarget' in r)"; }
min_size() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['options']['aws:autoscaling:asg']['MinSize']"; }
