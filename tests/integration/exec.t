#!/usr/bin/env bash
# cutover exec on one host (over SSH, or over SSM from exec_ssm.t): exit
# codes and signals, stdout/stderr apart,
# 50 MB of binary output byte-exact, stdin, timeouts that leave nothing
# running, --json, --sudo, --help.
. "$(dirname "$0")/exec-lib.sh"
# shellcheck disable=SC2046  # target prints several words on purpose
H=0

cx $H -- true;                         check "exit 0" eq "$rc" 0
cx $H -- sh -c 'exit 3';               check "exit 3 passed through" eq "$rc" 3
cx $H -- sh -c 'exit 254';             check "exit 254 passed through" eq "$rc" 254
cx $H -- sh -c 'kill -TERM $$';        check "SIGTERM gives 143" eq "$rc" 143
cx $H -- sh -c 'kill -KILL $$';        check "SIGKILL gives 137" eq "$rc" 137
cx $H -- /no/such/program;             check "program not found gives 127" eq "$rc" 127
check "program not found is explained" has "$T/err" "no such program"

cx $H -- sh -c 'echo to-out; echo to-err >&2; echo more-out'
check "stdout holds only stdout" eq "$(cat "$T/out")" "to-out
more-out"
check "stderr holds only stderr" eq "$(cat "$T/err")" "to-err"

# 50 MB of random bytes, read on the "instance" by the remote user.
head -c 50000000 /dev/urandom >"$T/blob"; chmod 644 "$T/blob"
cx $H -- cat "$T/blob"
check "50 MB binary output exit 0" eq "$rc" 0
check "50 MB binary output byte-exact" cmp -s "$T/out" "$T/blob"
cx $H -- sh -c "cat '$T/blob' >&2"
check "50 MB binary on stderr byte-exact" cmp -s "$T/err" "$T/blob"

# stdin forwarded (binary, then EOF).
head -c 3000000 /dev/urandom >"$T/in"
"$CUTOVER" exec $(target $H) -- cat <"$T/in" >"$T/out" 2>"$T/err"; rc=$?
check "stdin forwarded byte-exact" cmp -s "$T/out" "$T/in"
printf 'line1\nline2\n' | "$CUTOVER" exec $(target $H) -- wc -l >"$T/out" 2>"$T/err"
check "stdin EOF reaches the program" eq "$(tr -d ' ' <"$T/out")" "2"

# Timeout: the whole remote process group is killed, nothing left running.
tag=$((4000 + RANDOM % 1000))
start=$(date +%s%N)
cx $H --timeout 1 -- sh -c "sleep $tag.1 & sleep $tag.2 & sleep $tag.3"
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "timeout exits 124" eq "$rc" 124
check "timeout says so" has "$T/err" "timed out"
check "timeout ends within 5 s (took ${el} ms)" test "$el" -lt 5000
sleep 0.5
check "timeout leaves no process of the group running" sh -c "! pgrep -f 'sleep $tag\\.'"

# Ctrl-C (SIGINT to cutover): the remote command is cancelled, exit 130.
tag2=$((5000 + RANDOM % 1000))
"$CUTOVER" exec $(target $H) -- \
	sh -c "echo go; sleep $tag2.5" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
for _ in $(seq 1 100); do grep -q go "$T/out" 2>/dev/null && break; sleep 0.05; done
kill -INT "$pid"; wait "$pid"; rc=$?
check "SIGINT cancels: exit 130" eq "$rc" 130
check "SIGINT says interrupted" has "$T/err" "interrupted"
sleep 0.3
check "SIGINT leaves nothing running" sh -c "! pgrep -f 'sleep $tag2\\.5'"

# --json: valid JSON per line, base64 for bytes that are not UTF-8.
cx $H --json -- sh -c 'printf "h\303\251llo\n"; printf "\377\376bin" >&2; exit 4'
check "--json keeps the exit status" eq "$rc" 4
check "--json lines parse, text and base64 data right" /usr/bin/python3 - "$T/out" <<'PY'
import base64, json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
out = b"".join(e["data"].encode() for e in ev if e["event"] == "output" and e["stream"] == "stdout")
err = b"".join(base64.b64decode(e["data_base64"]) if "data_base64" in e else e["data"].encode()
               for e in ev if e["event"] == "output" and e["stream"] == "stderr")
ex = [e for e in ev if e["event"] == "exit"]
assert out == "héllo\n".encode(), out
assert err == b"\xff\xfebin", err
assert len(ex) == 1 and ex[0]["status"] == 4 and ex[0]["signal"] is None and ex[0]["timed_out"] is False, ex
assert all(e["host"] for e in ev)
PY
cx $H --json -- sh -c 'kill -INT $$'
check "--json reports a signal" /usr/bin/python3 -c '
import json,sys; e=[json.loads(l) for l in open(sys.argv[1])][-1]; assert e["signal"]==2 and e["status"] is None, e' "$T/out"

# --sudo: root through sudo -n, as on EB.
cx $H --sudo -- id -u
check "--sudo runs as root" eq "$(cat "$T/out")" "0"

# Help and usage errors.
"$CUTOVER" exec --help >"$T/out" 2>&1; rc=$?
check "exec --help exits 0" eq "$rc" 0
check "exec --help shows the usage" has "$T/out" "usage: cutover exec TARGETS"
"$CUTOVER" manage --help >"$T/out" 2>&1; rc=$?
check "manage --help exits 0 and names --app-dir" has "$T/out" "app-dir"
"$CUTOVER" exec --host x -- >"$T/out" 2>&1; rc=$?
check "missing program is a usage error (2)" eq "$rc" 2
"$CUTOVER" exec --host "a:99999" -- true >"$T/out" 2>&1; rc=$?
check "bad port is a usage error" has "$T/out" "Bad port"
if [ "$TRANSPORT" = ssm ]; then
	# Every command above went through Session Manager, and cleanly.
	curl -fsS "$SIMPROD_ADMIN/state" >"$T/state"
	check "SSM: sessions were used, none has a protocol error, all ended" /usr/bin/python3 - "$T/state" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["ssm_sessions"]
assert len(s) >= 10, len(s)
bad = [x for x in s if x["protocol_errors"]]
assert not bad, bad[:3]
import time
assert all(x["state"] == "Terminated" for x in s), [x for x in s if x["state"] != "Terminated"][:3]
assert max(x["bytes_down"] for x in s) >= 50000000, max(x["bytes_down"] for x in s)
PY
fi
echo "1..$n"
