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
# cx HOSTINDEX ARGS... : cutover exec on one host with the test key; stdout
# in $T/out, stderr in $T/err, status in $rc.
cx() {
	local h=$1; shift
	"$CUTOVER" exec --host "$(host "$h")" --identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS" "$@" \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
eq() { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 400 "$1")" >&2; return 1; }; }
