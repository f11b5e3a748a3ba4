# sim-lib.sh: shared by the tests/integration/sim_*.t TAP scripts (sourced).
# sim_up brings up a private simulated production in a mktemp folder (each
# script changes its world, so none uses the shared simprod service) and takes
# it down on exit.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIMD="$top/tests/sim"
n=0; nfail=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check NAME CMD...: ok when CMD succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*"; fi; }
done_testing() { echo "1..$n"; [ "$nfail" -eq 0 ]; }
T=$(mktemp -d /tmp/cutover-sim-t.XXXXXX)
chmod 755 "$T"
S="$T/sim"
_sim_cleanup() { [ -f "$S/sim.json" ] && "$SIMD/down" "$S" >/dev/null 2>&1; rm -rf "$T"; }
trap _sim_cleanup EXIT
sim_up() {
	if ! "$SIMD/up" "$S" >"$T/up.out" 2>&1; then
		echo "Bail out! tests/sim/up failed: $(tail -c 600 "$T/up.out")"; exit 1
	fi
	set -a; . "$S/simprod.env"; . "$S/aws.env"; set +a
	AWS="/usr/bin/aws --endpoint-url $AWS_ENDPOINT_URL --output text"
}
# j EXPR: evaluate a Python expression over the dump (d = the JSON document).
dump() { "$SIMD/dump" "$S" >"$T/dump.json"; }
j() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/dump.json" "$1"; }
# admin METHOD PATH [JSON]: the simulated AWS's admin API.
admin() { curl -fsS -X "$1" "$SIMPROD_ADMIN$2" ${3:+-H 'Content-Type: application/json' -d "$3"}; }
# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local end=$((SECONDS + $1)); shift
	while ! "$@" 2>/dev/null; do [ $SECONDS -ge $end ] && return 1; sleep 0.3; done
}
# st EXPR: a Python expression over the simulated AWS's state now (w); polling
# through the admin API is ten times faster than through the AWS CLI.
st() { curl -fsS "$SIMPROD_ADMIN/state" | /usr/bin/python3 -c 'import json,sys; w=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
env_ready() { [ "$(st "[e['status'] for e in w['environments'] if e['name'] == '$1' and e['status'] != 'Terminated'][0]")" = Ready ]; }
db_status() { st "([d['status'] for d in w['db_instances'] if d['id'] == '$1'] + ['gone'])[0]"; }
snap_status() { st "([s['status'] for s in w['db_snapshots'] if s['id'] == '$1'] + ['gone'])[0]"; }
# psql_at ADDRESS SQL: one value per line from that database server's ebdb.
psql_at() { psql -XAtq -v ON_ERROR_STOP=1 -h "$1" -p "$SIMPROD_DB_PORT" -U postgres -d ebdb -c "$2"; }
# http ADDRESS PATH [curl args]: the status code of the app on an instance.
http() { local a=$1 p=$2; shift 2; curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Host: $SIMPROD_SITE" "$@" "http://$a:$SIMPROD_HTTP_PORT$p"; }
ssh_to() { local a=$1; shift; ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SIMPROD_KNOWN_HOSTS" \
	-o ConnectTimeout=10 -p "$SIMPROD_SSH_PORT" "$@"; }
set_var() { # set_var ENV KEY VALUE: an EB env var change, waited to Ready
	$AWS elasticbeanstalk update-environment --environment-name "$1" \
		--option-settings "Namespace=aws:elasticbeanstalk:application:environment,OptionName=$2,Value=$3" >/dev/null &&
	sleep 0.5 && wait_for 30 env_ready "$1"
}
