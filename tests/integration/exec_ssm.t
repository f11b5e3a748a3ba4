#!/usr/bin/env bash
# exec.t over Session Manager ([ssh] transport = ssm) against the simulated
# production with port 22 closed to the tool: exit codes, signals 128+N,
# stdout/stderr apart, 50 MB binary byte-exact, stdin, timeouts that leave
# nothing running, Ctrl-C, --json.
export EXEC_TRANSPORT=ssm
exec "$(dirname "$0")/exec.t"
