#!/usr/bin/env bash
# exec_hang.t over Session Manager ([ssh] transport = ssm) against the simulated
# production with port 22 closed to the tool (tests/integration/exec-lib.sh).
export EXEC_TRANSPORT=ssm HANG_TIMEOUT=5
exec "$(dirname "$0")/exec_hang.t"
