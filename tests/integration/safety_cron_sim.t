#!/usr/bin/env bash
# `cutover cron` on a simulated EB instance (lay-instance), through the real
# agent and the crontab stand-in tests/harness/crontab-spool: cron-tick writes
# while cron runs (as through maintenance mode) and nothing while it is paused.
. "$(dirname "$0")/../fixture/testlib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
B=${CUTOVER_BUILD:-$top/build}
fixture_setup
new_instance web web >/dev/null
manage "$T/web" fixture_migrate after >/dev/null
manage "$T/web" seed_fixture >/dev/null
mkdir -p "$T/web/usr/bin"
ln -s "$top/tests/harness/crontab-spool" "$T/web/usr/bin/crontab"
orig=$(cat "$T/web/var/spool/cron/root")
mkdir -p "$T/local"
A=(--local-agent "$B/agent/cutover-agent-x86_64" --crontab "$T/web/usr/bin/crontab" --state-dir "$T/state" --save-dir "$T/local")
count() { q web "SELECT count(*) FROM payments_membertransaction"; }

before=$(count)
"$FIX/cron-tick" "$T/web" >/dev/null 2>&1
[ "$(count)" -gt "$before" ]; ok $? "cron writes while it runs (as in maintenance mode)"

"$B/cutover" cron pause "${A[@]}" >"$T/out" 2>&1; ok $? "cron paused through the agent"
grep -q "paused by cutover" "$T/web/var/spool/cron/root"; ok $? "the instance's crontab holds only the pause note"
before=$(count)
"$FIX/cron-tick" "$T/web" >/dev/null 2>&1
[ "$(count)" -eq "$before" ]; ok $? "nothing is written while cron is paused"
ls "$T/local"/crontab.*.json >/dev/null 2>&1; ok $? "the saved crontab is kept locally too"

"$B/cutover" cron restore "${A[@]}" >>"$T/out" 2>&1; ok $? "cron restored through the agent"
[ "$(cat "$T/web/var/spool/cron/root")" = "$orig" ]; ok $? "the crontab is exactly the original again"
"$B/cutover" cron status "${A[@]}" | grep -q "not paused"; ok $? "status says not paused"
before=$(count)
"$FIX/cron-tick" "$T/web" >/dev/null 2>&1
[ "$(count)" -gt "$before" ]; ok $? "cron writes again after the restore"
[ -n "${DEBUG_T:-}" ] && cat "$T/out"
done_testing
