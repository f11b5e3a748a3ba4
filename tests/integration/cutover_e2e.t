#!/usr/bin/env bash
# cutover_e2e.t: the whole runbook against a simulated production of its own
# (tests/sim/up, the world before Prep): preflight refusals that change
# nothing, prep, run --yes killed (as kill -9 would) right after each
# destructive change and rerun under AWS throttling, server errors and slower
# updates, the world checked afterwards (DNS, env settings, instance class,
# data on the new database, old one untouched, exactly one snapshot / restore
# / DNS change / user conversion), a rerun that changes nothing, fail-back
# after completion, and tidy refusing while DNS points at the old environment.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up

# ---- preflight refusals before prep: nothing may change ------------------------
cut plan -c "$CFG" --state "$ST"
check "plan reads the live world and lists the steps" has "$T/out" "dns-switch"
check "plan predicts the run's window and says from what (no rehearsal here)" \
	has "$T/out" "Predicted downtime window about .*, from AWS's documented durations"
check "plan changes nothing" eq "$(mutations)" 0

# ---- prep ------------------------------------------------------------------------------
cut prep -c "$CFG" --state "$ST"
check "prep builds the new environments and backs up blocked emails" eq "$rc" 0
dump
check "the new web env exists on the new version" eq "$(j "[e['version'] for e in d['aws']['environments'] if e['name'] == 'cobalt-production-green'][0]")" cobalt-6.0.1
check "the new web env is in maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" ON
check "the new SES env exists" eq "$(j "any(e['name'] == 'cobalt-ses-production-blue' for e in d['aws']['environments'])")" True
check "the blocked-email backup holds every live row ($LIVE_BE)" eq "$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$ST/blocked-emails.backup" 2>/dev/null)" "$LIVE_BE"

# ---- preflight failures of run: each refuses and changes nothing ---------------------
clear_calls
simset '{"kind": "environment", "id": "cobalt-production-blue", "set": {"status": "Updating"}}'
cut run --yes -c "$CFG" --state "$ST"
check "run refuses when the live env is not Ready" eq "$rc" 1
check "saying which environment" has "$T/err" "cobalt-production-blue"
check "and changes nothing" eq "$(mutations)" 0
simset '{"kind": "environment", "id": "cobalt-production-blue", "set": {"status": "Ready"}}'

clear_calls
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" route53 change-resource-record-sets --hosted-zone-id Z0FAKEMYABF00000001 \
	--change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"www.myabf.com.au.","Type":"A","AliasTarget":{"HostedZoneId":"Z2PCDNR3VC2G1N","DNSName":"cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.","EvaluateTargetHealth":false}}}]}' >/dev/null
clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "run refuses when DNS does not say one live colour" eq "$rc" 1
check "saying the records disagree" has "$T/err" "www.myabf.com.au"
check "and changes nothing (wrong live colour)" eq "$(mutations)" 0
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" route53 change-resource-record-sets --hosted-zone-id Z0FAKEMYABF00000001 \
	--change-batch '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"www.myabf.com.au.","Type":"A","AliasTarget":{"HostedZoneId":"Z2PCDNR3VC2G1N","DNSName":"cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.","EvaluateTargetHealth":false}}}]}' >/dev/null

sed '/^\[database\]/a snapshot = taken-already' "$CFG" >"$T/taken.ini"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" rds create-db-snapshot --db-instance-identifier cobalt-test \
	--db-snapshot-identifier taken-already >/dev/null
clear_calls
cut run --yes -c "$T/taken.ini" --state "$T/state-taken"
check "run refuses when the snapshot name is taken" eq "$rc" 1
check "naming it" has "$T/err" "taken-already"
check "and changes nothing (name taken)" eq "$(mutations)" 0

# ---- run, killed after each destructive change, rerun --------------------------------
clear_calls
for point in snapshot:apply restore:apply dns-switch:apply convert-users:apply; do
	CUTOVER_TEST_CRASH_AT=$point "$CUTOVER" run --yes -c "$CFG" --state "$ST" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	check "run killed right after $point" eq "$rc" 137
done
# The rest under AWS throttling, server errors and slower updates.
admin POST /faults '[{"kind": "throttle", "service": "elasticbeanstalk", "operation": "UpdateEnvironment", "count": 2},
	{"kind": "5xx", "status": 503, "service": "elasticbeanstalk", "operation": "DescribeEnvironments", "count": 2},
	{"kind": "throttle", "service": "rds", "operation": "*", "count": 2}]' >/dev/null
admin POST /time '{"durations": {"env_update": 6}}' >/dev/null
cut run --yes -c "$CFG" --state "$ST"
check "the rerun finishes the cutover (through throttling and 5xx)" eq "$rc" 0
check "the faults were met" eq "$(admin GET /faults | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d) if isinstance(d, list) else len(d.get("faults", [])))')" 0
check "and says where the report is" has "$T/out" "report.md"
check "the run ends with the window split: AWS, users going quiet, own work" \
	has "$T/out" "window Downtime .*: AWS transitions .*, waiting for users to go quiet .*, the tool's own work"
check "the report splits the window the same way" has "$ST/report.md" "waiting for users to go quiet"
check "the report has the lost-writes section" has "$ST/report.md" "^## Lost writes"
check "and says what became of the blocked emails" has "$ST/report.md" "^## Blocked emails not restored"
# blocked-email-restore, parity (issue 12) and lost-writes.
check "the journal names the row lists with their SHA-256" eq "$(grep -c '"rows_sha256"' "$ST/journal.jsonl")" 3
check "exactly one snapshot taken" eq "$(calls rds CreateDBSnapshot)" 1
check "exactly one restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 1
check "exactly one DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 1

# ---- the world afterwards --------------------------------------------------------------
cutover_end_state

clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "a rerun of the finished cutover succeeds" eq "$rc" 0
check "and changes nothing" eq "$(mutations)" 0

cut status -c "$CFG" --state "$ST"
check "status shows the new env live" has "$T/out" "cobalt-production-green"
check "and the journal's steps" has "$T/out" "dns-switch: done"
check "and the live world: which env of the web pair is live" has "$T/out" "pair web: live is cobalt-production-green"
check "and the live world: settings that matter" has "$T/out" "MAINTENANCE_MODE=OFF"
check "and the live world: databases" has "$T/out" "cobalt-production-green .*available"

# ---- fail back after completion ------------------------------------------------------
cut failback --yes -c "$CFG" --state "$ST"
check "fail-back succeeds" eq "$rc" 0
dump
check "apex points at the old web env again" eq "$(alias_of myabf.com.au.)" cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.
check "ses points at the old SES env again" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-green.ap-southeast-2.elasticbeanstalk.com.
check "the old web env is out of maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" OFF
check "its scaling is restored" eq "$(min_size cobalt-production-blue)" 2

# ---- tidy refuses while DNS points at the old environment ----------------------------
clear_calls
cut tidy --yes -c "$CFG" --state "$ST"
check "tidy refuses while DNS points at the old environment" eq "$rc" 1
check "and changes nothing (tidy)" eq "$(mutations)" 0

done_testing
