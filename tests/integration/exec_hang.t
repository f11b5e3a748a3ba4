#!/usr/bin/env bash
# Every wait has a deadline: an agent that stops answering (SIGSTOP) while
# a command with --timeout runs is given up on (timeout + 10 s grace +
# 5 s after our cancel), reported, exit 255, never a hang or a success.
# exec_hang_ssm.t runs it over SSM.
. "$(dirname "$0")/exec-lib.sh"
H=9
tag=$((6000 + RANDOM % 1000))
start=$(date +%s%N)
# shellcheck disable=SC2046  # target prints several words on purpose
# The command's own timeout: long enough that its output is seen before it
# ends (over SSM the output crosses the simulated service, slower under load).
to=${HANG_TIMEOUT:-1}
"$CUTOVER" exec --timeout "$to" $(target $H) -- \
	sh -c "echo started; sleep $tag.7" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
# Up to 20 s: over SSM under load the session alone can take seconds.
for _ in $(seq 1 400); do grep -q started "$T/out" 2>/dev/null && break; sleep 0.05; done
agent=""
for p in $(pgrep -f cutover-agent-x86_64); do
	case "$(readlink "/proc/$p/cwd")" in "$(hdir $H)") agent=$p;; esac
done
check "found the host's agent" test -n "$agent"
[ -n "$agent" ] && kill -STOP "$agent"
wait "$pid"; rc=$?
el=$(( ($(date +%s%N) - start) / 1000000 ))
[ -n "$agent" ] && { kill -CONT "$agent" 2>/dev/null; sleep 0.5; pkill -f "sleep $tag\\.7" 2>/dev/null; }
check "unresponsive agent: exit 255" eq "$rc" 255
check "unresponsive agent: says it gave up" has "$T/err" "did not report the end"
check "gave up within the deadline (${el} ms)" test "$el" -lt $((24000 + to * 1000))
echo "1..$n"
