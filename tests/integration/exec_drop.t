#!/usr/bin/env bash
# A connection dropped mid-command (the host's sshd session processes
# killed) is reported as such, exit 255, never as success.
. "$(dirname "$0")/exec-lib.sh"
H=6
master=$(cat "$(hdir $H)/sshd.pid")
"$CUTOVER" exec --host "$(host $H)" --identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS" -- \
	sh -c 'echo started; exec sleep 30' >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 1 100); do grep -q started "$T/out" 2>/dev/null && break; sleep 0.05; done
check "command started" grep -q started "$T/out"
# The per-connection sshd processes: the [priv] child of the listener and its child.
for p in $(pgrep -P "$master"); do kill -KILL $(pgrep -P "$p") "$p" 2>/dev/null; done
start=$(date +%s%N)
wait "$pid"; rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "dropped connection exits 255" eq "$rc" 255
check "dropped connection is reported as dropped" has "$T/err" "dropped"
check "reported at once (${el} ms)" test "$el" -lt 5000
echo "1..$n"
