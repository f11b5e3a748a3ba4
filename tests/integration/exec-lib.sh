# exec-lib.sh: shared by the tests/integration/exec*.t TAP scripts (sourced).
# Needs the variables of tests/harness/services/sshd-hosts (sshd-hosts.env).
set -u
: "${CUTOVER_BUILD:?run through tests/run}" "${SSHD_DIR:?the sshd-hosts service is not up}"
CUTOVER="$CUTOVER_BUILD/cutover"
read -r -a PORTS <<<"$SSHD_PORTS"
T=$(mktemp -d /tmp/cutover-exec-t.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
n=0
ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check NAME COND...: ok when the command succeeds, else not ok with the last output.
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
host() { echo "$SSHD_USER@127.0.0.1:${PORTS[$1]}"; }
hdir() { echo "$SSHD_DIR/h$1"; }
# The transport the scripts run over: EXEC_TRANSPORT=ssm (exec_ssm*.t) reaches
# the one instance of a simulated-production environment through a Session
# Manager session, with port 22 closed to the tool (fakeaws option
# ssh_closed: DescribeInstances shows addresses nothing routes to), so a
# transport that fell back to SSH would fail every check.
TRANSPORT=${EXEC_TRANSPORT:-ssh}
if [ "$TRANSPORT" = ssm ]; then
	: "${SIMPROD_DIR:?the simprod service is not up}"
	set -a
	# shellcheck disable=SC1090
	. "$SIMPROD_AWS_ENV"
	set +a
	SSM_CFG="$T/cutover-ssm.ini"
	sed '/^\[ssh\]/a transport = ssm' "$SIMPROD_CONFIG" >"$SSM_CFG"
	SSM_ENVS=(cobalt-production-green cobalt-ses-production-blue cobalt-ses-production-green)
	sim_option() { curl -fsS -X POST -d "$1" "$SIMPROD_ADMIN/options" >/dev/null; }
	sim_option '{"ssh_closed": true}'
	trap 'sim_option "{\"ssh_closed\": false}"; rm -rf "$T"' EXIT
	# The one instance of environment i.
	env_instance() {
		curl -fsS "$SIMPROD_ADMIN/state" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print([e for e in d["environments"] if e["name"] == sys.argv[1]][0]["instances"][0])' "${SSM_ENVS[$1]}"
	}
	# Host indexes of the SSH scripts map onto the three environments.
	target() { echo --env "${SSM_ENVS[$(($1 % ${#SSM_ENVS[@]}))]}" -c "$SSM_CFG"; }
	# The instance's folder, its login user's HOME (tests/sim/README.md).
	hdir() { echo "$SIMPROD_DIR/hosts/$(env_instance $(($1 % ${#SSM_ENVS[@]})))"; }
else
	target() { echo --host "$(host "$1")" --identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS"; }
fi
# cx HOSTINDEX ARGS... : cutover exec on one host with the test key; stdout
# in $T/out, stderr in $T/err, status in $rc.
cx() {
	local h=$1; shift
	# shellcheck disable=SC2046
	"$CUTOVER" exec $(target "$h") "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
eq() { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 400 "$1")" >&2; return 1; }; }
