#!/usr/bin/env bash
# exec_ssm_tls.t: the SSM transport over wss://, as AWS always hands it out
# (StartSession's StreamUrl). The simulated data channel listens with TLS too
# (POST /_sim/ssm-tls, a throwaway CA made here) and StartSession answers its
# wss:// URL; port 22 is closed to the tool. The data channel's certificate is
# checked against AWS_CA_BUNDLE and the URL's host name: trusted, the command
# runs exactly (exit status, stdout/stderr apart, binary byte-exact); signed by
# another CA, or not naming the host, the session fails with one sentence and
# nothing runs.
set -u
: "${CUTOVER_BUILD:?run through tests/run}" "${SIMPROD_DIR:?the simprod service is not up}"
CUTOVER="$CUTOVER_BUILD/cutover"
T=$(mktemp -d /tmp/cutover-ssmtls-t.XXXXXX)
chmod 755 "$T"
set -a
# shellcheck disable=SC1090
. "$SIMPROD_AWS_ENV"
set +a
unset AWS_CA_BUNDLE
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "failed: $*" "$(tail -c 600 "$T/err" 2>/dev/null)"; fi; }
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(head -c 600 "$1")" >&2; return 1; }; }
sim_option() { curl -fsS -X POST -d "$1" "$SIMPROD_ADMIN/options" >/dev/null; }
cleanup() {
	sim_option '{"ssh_closed": false, "ssm_stream_url": null}'
	rm -rf "$T"
}
trap cleanup EXIT

# Two throwaway CAs; the data channel's certificate names localhost, signed by the first.
mkca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=cutover test $1" -keyout "$T/$1.key" -out "$T/$1.pem" 2>/dev/null
}
mkca ca && mkca other-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
	-keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >"$T/san.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/san.ext" -out "$T/server.pem" 2>/dev/null
chmod 644 "$T"/*.pem "$T"/*.key
check "a throwaway CA and a server certificate for localhost" test -s "$T/server.pem"

url=$(curl -fsS -X POST -d "{\"cert\": \"$T/server.pem\", \"key\": \"$T/server.key\", \"name\": \"localhost\"}" \
	"$SIMPROD_ADMIN/ssm-tls" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
check "the simulated data channel listens with TLS ($url)" eq "${url%%:*}" wss
sim_option "{\"ssh_closed\": true, \"ssm_stream_url\": \"$url\"}"

CFG="$T/ssm.ini"
sed '/^\[ssh\]/a transport = ssm' "$SIMPROD_CONFIG" >"$CFG"
cx() { "$CUTOVER" exec --env cobalt-production-green -c "$CFG" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }

clear_calls() { curl -fsS -X DELETE "$SIMPROD_ADMIN/calls" >/dev/null; }
calls() { curl -fsS "$SIMPROD_ADMIN/calls?service=ssm&operation=StartSession" |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }

clear_calls
AWS_CA_BUNDLE="$T/ca.pem" cx -- sh -c 'echo to-out; echo to-err >&2; exit 3'
check "over wss:// the remote exit status comes back" eq "$rc" 3
check "stdout holds only stdout" eq "$(cat "$T/out")" "to-out"
check "stderr holds only stderr" eq "$(cat "$T/err")" "to-err"
check "the session was started through Session Manager" test "$(calls)" -ge 1

head -c 2000000 /dev/urandom >"$T/blob"; chmod 644 "$T/blob"
AWS_CA_BUNDLE="$T/ca.pem" cx -- cat "$T/blob"
check "2 MB of binary output over wss:// byte-exact" cmp -s "$T/out" "$T/blob"

# The profile's ca_bundle (the AWS CLI's config key) serves the data channel as it serves the API.
printf '[default]\nca_bundle = %s\n' "$T/ca.pem" >"$T/aws-config"
AWS_CONFIG_FILE="$T/aws-config" cx -- sh -c 'echo via-profile'
check "the profile's ca_bundle is trusted for wss:// too" eq "$(cat "$T/out")" "via-profile"

# Signed by a CA the tool was not told to trust: refused before anything runs.
tag=$((6000 + RANDOM % 1000))
start=$SECONDS
AWS_CA_BUNDLE="$T/other-ca.pem" timeout 60 "$CUTOVER" exec --env cobalt-production-green -c "$CFG" \
	-- sh -c "touch $T/ran-$tag" >"$T/out" 2>"$T/err" </dev/null; rc=$?
check "a data channel whose certificate is not trusted fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and fails within 30 s" test $((SECONDS - start)) -lt 30
check "the command did not run" test ! -e "$T/ran-$tag"
check "one sentence names the data channel's TLS check" grep -qiE 'certificate|TLS' "$T/err"
echo "# $(head -c 400 "$T/err")"
check "no raw library error code alone" sh -c "! grep -qE '^-?[0-9]+\$' '$T/err'"

# The right CA but a URL naming another host than the certificate does.
sim_option "{\"ssm_stream_url\": \"wss://127.0.0.1:${url##*:}\"}"
AWS_CA_BUNDLE="$T/ca.pem" timeout 60 "$CUTOVER" exec --env cobalt-production-green -c "$CFG" \
	-- sh -c "touch $T/ran2-$tag" >"$T/out" 2>"$T/err" </dev/null; rc=$?
check "a certificate not naming the URL's host fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "the command did not run" test ! -e "$T/ran2-$tag"
check "the sentence says the certificate does not fit" grep -qiE 'certificate|TLS' "$T/err"
echo "# $(head -c 400 "$T/err")"

echo "1..$n"
