#!/usr/bin/env bash
# Neither the coordinator (AWS credentials, Instance Connect keys, database
# passwords) nor the agent (the whole env file, as root) can leave a core
# file or be read through /proc by another process of its user: core size
# limit 0 and not dumpable (a non-dumpable process's /proc/PID/* files
# belong to root, which is how it is seen from outside). Both run as nobody here so
# that root ownership tells.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

tmp=$(mktemp -d /tmp/cutover-core.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
chmod 777 "$tmp"
# Copies the unprivileged user can run whatever the checkout's folder modes.
install -m 755 "$build/cutover" "$tmp/cutover"
install -m 755 "$build/agent/cutover-agent-x86_64" "$tmp/agent"
# A limit of 0 inherited from here would prove nothing: allow cores first.
ulimit -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)"

# The coordinator: its credential_process child looks at its parent.
cat >"$tmp/probe.sh" <<PROBE
#!/bin/sh
cat /proc/\$PPID/limits >$tmp/coord.limits
stat -c %u /proc/\$PPID/environ >$tmp/coord.owner
echo '{"Version": 1, "AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "x"}'
PROBE
printf '[default]\nregion = ap-southeast-2\ncredential_process = /bin/sh %s/probe.sh\n' "$tmp" >"$tmp/config"
chmod 644 "$tmp/probe.sh" "$tmp/config"
env -i PATH=/usr/bin:/bin HOME="$tmp" AWS_CONFIG_FILE="$tmp/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/none" \
	AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_MAX_ATTEMPTS=1 \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/cutover" aws whoami >"$tmp/who.out" 2>&1
check "the coordinator ran its credential_process" "[ -s '$tmp/coord.limits' ]"
check "coordinator: core file size limit 0" "grep -Eq '^Max core file size +0 +0 ' '$tmp/coord.limits'"
check "coordinator: not dumpable (/proc/PID/environ owned by root although it runs as nobody)" \
	"[ \"\$(cat '$tmp/coord.owner' 2>/dev/null)\" = 0 ]"

# The agent: waits for frames on stdin for as long as the sleep holds it open.
sleep 30 | setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/agent" >/dev/null 2>&1 &
apid=$!
for _ in $(seq 50); do
	[ "$(readlink "/proc/$apid/exe" 2>/dev/null)" = "$tmp/agent" ] && grep -q '^State:.*S' "/proc/$apid/status" 2>/dev/null && break
	sleep 0.1
done
sleep 0.2
check "agent: core file size limit 0" "grep -Eq '^Max core file size +0 +0 ' /proc/$apid/limits"
check "agent: not dumpable (/proc/PID/environ owned by root although it runs as nobody)" "[ \"\$(stat -c %u /proc/$apid/environ)\" = 0 ]"
kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
echo "1..$n"
