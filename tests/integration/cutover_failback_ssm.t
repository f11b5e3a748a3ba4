#!/usr/bin/env bash
# cutover_failback.t over Session Manager: prep, run (to the DNS change) and
# fail back with [ssh] transport = ssm against a simulated production whose
# instances have port 22 closed, so any step that fell back to SSH fails.
export CUTOVER_TRANSPORT=ssm
exec "$(dirname "$0")/cutover_failback.t"
