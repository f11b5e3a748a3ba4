#!/usr/bin/env bash
# Several hosts at once: lines prefixed by host, a summary table, one
# host's failure (a failing command, an unreachable host) never stops or
# hides the others; exit 0 / 1 / 255.
. "$(dirname "$0")/exec-lib.sh"
args=(--identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS")
hosts=()
for i in $(seq 0 $((SSHD_N - 1))); do hosts+=(--host "$(host "$i")"); done
bad="$SSHD_USER@127.0.0.1:$SSHD_UNREACHABLE_PORT"

# Every host; host 2 fails (exit 7), one more host is unreachable.
start=$(date +%s%N)
"$CUTOVER" exec "${hosts[@]}" --host "$bad" "${args[@]}" -- \
	sh -c 'case "$HOME" in */h2) echo h2-fails >&2; exit 7;; esac; sleep 1; echo "hi from ${HOME##*/}"' >"$T/out" 2>"$T/err"; rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "one failing + one unreachable: exit 1" eq "$rc" 1
ok_hosts=0
for i in $(seq 0 $((SSHD_N - 1))); do
	[ "$i" = 2 ] && continue
	grep -q "^$(host "$i") *| hi from h$i\$" "$T/out" && ok_hosts=$((ok_hosts + 1))
done
check "every other host's output arrives, prefixed ($ok_hosts of $((SSHD_N - 2)))" eq "$ok_hosts" "$((SSHD_N - 1))"
check "failing host's stderr prefixed on stderr" grep -q "^$(host 2) *| h2-fails" "$T/err"
check "unreachable host explained on stderr" grep -q "^$bad *| cutover: Cannot connect" "$T/err"
check "summary table has a header" grep -q "^HOST  *STATUS  *DURATION" "$T/out"
check "summary: failing host exit 7" grep -q "^$(host 2)  *exit 7 " "$T/out"
check "summary: unreachable host failed (network)" grep -q "^$bad  *failed (network)" "$T/out"
check "summary: $((SSHD_N - 1)) hosts exit 0" eq "$(grep -c '  exit 0  ' "$T/out")" "$((SSHD_N - 1))"
check "hosts ran in parallel (${el} ms for $SSHD_N x 1 s)" test "$el" -lt 6000

"$CUTOVER" exec "${hosts[@]}" "${args[@]}" -- true >"$T/out" 2>"$T/err"; rc=$?
check "all succeed: exit 0" eq "$rc" 0
"$CUTOVER" exec --host "$bad" --host "$SSHD_USER@127.0.0.1:$SSHD_UNREACHABLE_PORT" "${args[@]}" -- true >"$T/out" 2>"$T/err"; rc=$?
check "none reachable: exit 255" eq "$rc" 255

# A partial last line is still printed, and --parallel bounds the fan-out.
"$CUTOVER" exec --parallel 2 --host "$(host 0)" --host "$(host 1)" --host "$(host 3)" "${args[@]}" -- printf 'no-newline' >"$T/out" 2>"$T/err"; rc=$?
check "partial last line printed with its host" eq "$(grep -c '| no-newline$' "$T/out")" 3

# A 200 kB line without newline: printed in pieces of at most 64 KiB, nothing lost.
"$CUTOVER" exec --host "$(host 0)" --host "$(host 1)" "${args[@]}" -- sh -c "head -c 200000 /dev/zero | tr '\\0' a" >"$T/out" 2>"$T/err"; rc=$?
check "long line: exit 0" eq "$rc" 0
check "long line: every byte arrives for each host" eq "$(grep "^$(host 0) " "$T/out" | cut -d'|' -f2- | tr -cd a | wc -c)" 200000
check "long line: cut into bounded pieces" test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/out")" -le 65700

# --json for several hosts: one exit or failed event per host.
"$CUTOVER" exec --json --host "$(host 0)" --host "$(host 1)" --host "$bad" "${args[@]}" -- echo x >"$T/out" 2>"$T/err"; rc=$?
check "--json several hosts: exit 1" eq "$rc" 1
check "--json several hosts: events per host" /usr/bin/python3 - "$T/out" "$bad" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ends = {e["host"]: e for e in ev if e["event"] in ("exit", "failed")}
assert len(ends) == 3, ends
assert ends[sys.argv[2]]["event"] == "failed" and ends[sys.argv[2]]["code"] == "network"
assert sum(1 for e in ev if e["event"] == "output") == 2
PY
echo "1..$n"
