#!/usr/bin/env bash
# cutover_tidy.t: the runbook's Post Implementation against a simulated
# production of its own, after a finished cutover (prep, run --yes): tidy
# refuses while another environment (the test environment) still uses the old
# database, naming it, and changes nothing; without --yes and no terminal it
# asks nothing and changes nothing; with --yes it deletes the old
# environments' own DNS records, terminates the old web and SES environments
# and deletes the old database after a final snapshot, leaving the new world
# alone; a rerun changes nothing.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
# Fast simulated AWS: tidy's own waits are what this test is about.
admin POST /time '{"durations": {"env_update": 2, "env_launch": 3, "env_terminate": 2, "snapshot": 2, "db_create": 3, "db_delete": 2, "dns_change": 1}}' >/dev/null

env_status() { j "([e['status'] for e in d['aws']['environments'] if e['name'] == '$1' and e['status'] != 'Terminated'] + ['Terminated'])[0]"; }
db_there() { j "any(i['id'] == '$1' for i in d['aws']['db_instances'])"; }
record() { j "sorted({r['Type'] for z in d['aws']['zones'] for r in z['records'] if r['Name'] == '$1'})"; }

cut prep -c "$CFG" --state "$ST"
check "prep" eq "$rc" 0
cut run --yes -c "$CFG" --state "$ST"
check "run --yes finishes the cutover" eq "$rc" 0
dump
check "the old web env has its own DNS entry" eq "$(record cobalt-production-blue.myabf.com.au.)" "['CNAME']"
check "the old SES env has its own DNS entry" eq "$(record cobalt-ses-production-green.myabf.com.au.)" "['CNAME']"
templates() { j "sorted(t['name'] for t in d['aws']['templates'] if t['name'].endswith('-cutover'))"; }
check "prep left its configuration templates (copies of the live settings)" eq "$(templates)" \
	"['cobalt-production-green-cutover', 'cobalt-ses-production-blue-cutover']"
oldaddr=$(j "d['databases']['production-blue']['address']")
testaddr=$(j "d['databases']['cobalt-test']['address']")
newaddr=$(j "d['databases']['cobalt-production-green']['address']")

# ---- refused: the test environment still uses the old database ----------------
check "the test env is pointed at the old database (as an operator might)" set_var cobalt-test-black RDS_HOSTNAME "$oldaddr"
clear_calls
cut tidy --yes -c "$CFG" --state "$ST"
check "tidy refuses while another environment uses the old database" eq "$rc" 1
check "naming the environment" has "$T/err" "environment cobalt-test-black still uses the old database production-blue"
check "and changes nothing (test env on the old database)" eq "$(mutations)" 0
check "the test env is put back on the test database" set_var cobalt-test-black RDS_HOSTNAME "$testaddr"

# ---- refused: no terminal and no --yes ------------------------------------------
clear_calls
cut tidy -c "$CFG" --state "$ST"
check "tidy without --yes and without a terminal stops" test "$rc" -ne 0
check "saying it needs confirmation" has "$T/err" "needs confirmation"
check "and changes nothing (no confirmation)" eq "$(mutations)" 0
dump
check "the old web env is still there" eq "$(env_status cobalt-production-blue)" Ready
check "the old database is still there" eq "$(db_there production-blue)" True

clear_calls
cut plan -c "$CFG" --state "$ST" tidy
check "plan tidy names the DNS records it would delete" has "$T/out" "delete 2 DNS record(s) of the old environments: cobalt-production-blue.myabf.com.au., cobalt-ses-production-green.myabf.com.au."
check "  the environments" has "$T/out" "terminate environments cobalt-production-blue and cobalt-ses-production-green"
check "  and the database" has "$T/out" "delete database production-blue after final snapshot production-blue-final-"
check "  and changes nothing" eq "$(mutations)" 0

# ---- tidy ---------------------------------------------------------------------------
clear_calls
cut tidy --yes --json -c "$CFG" --state "$ST"
check "tidy --yes --json succeeds" eq "$rc" 0
check "every line of the whole tidy is an event of doc/json-events.md with its fields" \
	$PY "$top/tests/integration/json_events.py" "$top/doc/json-events.md" "$T/out"
check "it reports each step" has "$T/out" '"event":"done","step":"tidy-dns"'
check "  and the environments" has "$T/out" '"event":"done","step":"tidy-envs"'
check "  and the database" has "$T/out" '"event":"done","step":"tidy-db"'
check "  and the window it measured" has "$T/out" '"event":"window",'
dump
check "the old web env is terminated" eq "$(env_status cobalt-production-blue)" Terminated
check "the old SES env is terminated" eq "$(env_status cobalt-ses-production-green)" Terminated
check "its instances are stopped" eq "$(j "sum(1 for h in d['hosts'].values() if h['env'] in ('cobalt-production-blue', 'cobalt-ses-production-green') and h['running'])")" 0
check "the old database is deleted" eq "$(db_there production-blue)" False
check "  and its server stopped" eq "$(j "d['databases']['production-blue']['running']")" False
check "after a final snapshot" eq "$(j "[s['status'] for s in d['aws']['db_snapshots'] if s['id'] == 'production-blue-final-$(date -u +%Y%m%d)'][0]")" available
check "  written from the old database" eq "$(j "d['snapshots']['production-blue-final-$(date -u +%Y%m%d)']['written']")" True
check "the old web env's DNS entry is deleted" eq "$(record cobalt-production-blue.myabf.com.au.)" "[]"
check "the old SES env's DNS entry is deleted" eq "$(record cobalt-ses-production-green.myabf.com.au.)" "[]"
check "other records are kept (test, MX, SPF)" eq "$(record test.myabf.com.au.) $(record myabf.com.au.)" "['CNAME'] ['A', 'MX', 'NS', 'SOA', 'TXT']"
check "apex still on the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
check "www still on the new web env" eq "$(alias_of www.myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
check "ses still on the new SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "the new web env is Ready" eq "$(env_status cobalt-production-green)" Ready
check "  out of maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" OFF
check "  on the new database" eq "$(env_var cobalt-production-green RDS_HOSTNAME)" "$newaddr"
check "the new SES env is Ready" eq "$(env_status cobalt-ses-production-blue)" Ready
check "the test env is untouched" eq "$(env_status cobalt-test-black)" Ready
check "the new database is available" eq "$(j "[i['status'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" available
check "tidy deletes the -cutover configuration templates (secrets included)" eq "$(templates)" "[]"
check "tidy changed only what it should: one DNS change, two terminations, four template deletions (new and old names), one deletion" \
	eq "$(calls route53 ChangeResourceRecordSets) $(calls elasticbeanstalk TerminateEnvironment) $(calls elasticbeanstalk DeleteConfigurationTemplate) $(calls rds DeleteDBInstance) $(mutations)" "1 2 4 1 8"

clear_calls
cut tidy --yes -c "$CFG" --state "$ST"
check "a rerun of tidy succeeds" eq "$rc" 0
check "and changes nothing" eq "$(mutations)" 0

done_testing
