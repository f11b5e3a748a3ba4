#!/usr/bin/env bash
# cutover_failback.t: fail back in the middle of a cutover, right after the
# DNS change (the runbook's "Steps for Production - Fail Back"), against a
# simulated production of its own: DNS goes back to exactly the records it
# replaced, the old environments leave maintenance mode with their cron and
# scaling back, the activity on the new system is reported, and the old
# database was never written by the cutover. cutover_failback_ssm.t runs it
# all over Session Manager with port 22 closed.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
crontab_of() { j "len(d['hosts']['$1'].get('crontab') or [])"; }
env_crons() { j "sum(len(d['hosts'][i].get('crontab') or []) for e in d['aws']['environments'] if e['name'] == '$1' and e['status'] != 'Terminated' for i in e['instances'])"; }

dump
blue_cron=$(crontab_of i-0b1e0000000000001)
old_db_users=$(j "d['databases']['production-blue']['tables']['accounts_user']['max_id']")
check "the old web env has a crontab to pause" test "$blue_cron" -gt 0
cut prep -c "$CFG" --state "$ST"
check "prep" eq "$rc" 0
cut run --yes --until dns-switch -c "$CFG" --state "$ST"
check "run --until dns-switch stops after the DNS change" eq "$rc" 0
dump
check "DNS points at the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" ON
check "the new web env runs cron against the new database (to be stopped by fail-back)" test "$(env_crons cobalt-production-green)" -gt 0

cut failback --yes -c "$CFG" --state "$ST"
check "fail-back after the DNS change succeeds" eq "$rc" 0
dump
check "apex back on the old web env" eq "$(alias_of myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "www back on the old web env" eq "$(alias_of www.myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "ses back on the old SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-green.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is out of maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" OFF
check "the old SES env is out of maintenance mode" eq "$(env_var cobalt-ses-production-green MAINTENANCE_MODE)" OFF
check "the old web env has its scaling back" eq "$(min_size cobalt-production-blue)" 2
check "cron is back on the old web env" eq "$(crontab_of i-0b1e0000000000001)" "$blue_cron"
check "the activity on the new system is reported, saying up to when it counted" has "$T/out" "on the new system from the cutover up to 20[0-9-]* [0-9:]* UTC"
check "as a CSV file" test -s "$ST/activity-since-cutover.csv"
check "and in the report, saying up to when it counted" has "$ST/report.md" "counted up to 20[0-9-]* [0-9:]* UTC, after the new system was closed"
# Nothing is written on the new side after its activity was counted: it is
# closed first (maintenance mode on, cron paused, before the old side's cron
# resumes), so a cron round now writes on the old database only.
check "the new SES env is in maintenance mode too" eq "$(env_var cobalt-ses-production-blue MAINTENANCE_MODE)" ON
check "cron is paused on the new web env" eq "$(env_crons cobalt-production-green)" 0
check "and on the new SES env" eq "$(env_crons cobalt-ses-production-blue)" 0
newtx() { j "d['databases']['cobalt-production-green']['tables']['payments_membertransaction']['rows']"; }
oldtx() { j "d['databases']['production-blue']['tables']['payments_membertransaction']['rows']"; }
new_before=$(newtx) old_before=$(oldtx)
$PY "$SIMD/traffic.py" cron "$S" >/dev/null 2>&1
dump
check "a cron round after fail-back writes nothing on the new database" eq "$(newtx)" "$new_before"
check "while the old side's cron writes again" test "$(oldtx)" -gt "$old_before"
check "users were never converted on the old database" eq "$(j "d['databases']['production-blue']['tables']['accounts_user']['max_id']")" "$old_db_users"
check "the new web env stays in maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" ON

cut tidy --yes -c "$CFG" --state "$ST"
check "tidy refuses after a fail-back (DNS on the old environment)" eq "$rc" 1
dump
ssm_checks

done_testing
