#!/usr/bin/env bash
# cutover_iam.t: least privilege, proved on a simulated production of its own.
# `cutover iam-policy --for prep,run` (with Instance Connect and open_port, so
# every kind of statement is in play) is attached to the operator in the
# simulated AWS, which then enforces it on every call. prep passes under it;
# run under the same policy with the rds:CreateDBSnapshot statement removed
# stops at the snapshot with one sentence naming the action and the
# database's ARN, having changed nothing it should not; with the whole
# policy back the rerun finishes the cutover, and no call but that one was
# ever denied.
. "$(dirname "$0")/sim-lib.sh"
. "$(dirname "$0")/cutover-lib.sh"
cutover_up
export CUTOVER_OPERATOR_IP=127.0.0.1
sed -e '/^\[database\]/a prep = cobalt-test' -e '/^\[app\]/a version = cobalt-6.0.1' \
	-e '/^\[ssh\]/a open_port = yes' "$S/cutover-eic.ini" >"$T/eic.ini"
CFG=$T/eic.ini
denied_calls() {
	admin GET /calls | $PY -c '
import json, sys
print(" ".join("%s:%s" % (c["service"], c["operation"]) for c in json.load(sys.stdin)["calls"]
               if c["code"] in ("AccessDenied", "UnauthorizedOperation", "AccessDeniedException")))'
}

# ---- the policy -----------------------------------------------------------------------
cut aws whoami --json
USER_ARN=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["arn"])' "$T/out")
check "the operator is a user of the simulated account" eq "$USER_ARN" arn:aws:iam::123456789012:user/cutover-operator
"$CUTOVER" iam-policy -c "$CFG" --for prep,run >"$T/policy.json" 2>"$T/notes" </dev/null
check "iam-policy --for prep,run prints a policy" eq "$?" 0
pj() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/policy.json" "$1"; }
check "its snapshot statement names the live database found in AWS" eq \
	"$(pj "[r for s in d['Statement'] if s['Sid'] == 'RdsCreateDBSnapshot' for r in s['Resource']]")" \
	"['arn:aws:rds:ap-southeast-2:123456789012:db:production-blue', 'arn:aws:rds:ap-southeast-2:123456789012:snapshot:production-blue-cutover-*']"
check "the hosted zone by the id found in AWS" eq \
	"$(pj "[s['Resource'] for s in d['Statement'] if s['Sid'] == 'Route53ChangeResourceRecordSets'][0]")" \
	"['arn:aws:route53:::hostedzone/Z0FAKEMYABF00000001']"
check "Instance Connect only for the configured user" eq \
	"$(pj "[s['Condition'] for s in d['Statement'] if s['Sid'] == 'Ec2InstanceConnectSendSSHPublicKey'][0]")" \
	"{'StringEquals': {'ec2:osuser': '$SIMPROD_SSH_USER'}}"
check "nothing for tidy: no DeleteDBInstance, no TerminateEnvironment" eq \
	"$(grep -c 'DeleteDBInstance\|TerminateEnvironment' "$T/policy.json")" 0
check "no lookup failed (no note asks for --account, --zone-id or --live-db)" eq "$(grep -c 'give --' "$T/notes")" 0
attach() { admin POST /policy "$($PY -c 'import json,sys; print(json.dumps({"principal": sys.argv[2], "document": json.load(open(sys.argv[1]))}))' "$1" "$USER_ARN")" >/dev/null; }
$PY -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["Statement"] = [s for s in d["Statement"] if s["Sid"] != "RdsCreateDBSnapshot"]
json.dump(d, open(sys.argv[2], "w"), indent=2)' "$T/policy.json" "$T/minus.json"
check "the policy without its rds:CreateDBSnapshot statement" eq "$(grep -c CreateDBSnapshot "$T/minus.json")" 0

# ---- prep under the generated policy ----------------------------------------------------
attach "$T/policy.json"
clear_calls
cut plan -c "$CFG" --state "$ST"
check "plan runs under it" eq "$rc" 0
cut prep -c "$CFG" --state "$ST"
check "prep runs under it" eq "$rc" 0
check "the Instance Connect keys and the port were used" test "$(calls ec2-instance-connect SendSSHPublicKey)" -gt 0 -a "$(calls ec2 AuthorizeSecurityGroupIngress)" -gt 0
check "no call was denied" eq "$(denied_calls)" ""

# ---- run with one statement removed ---------------------------------------------------------
attach "$T/minus.json"
clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "run without rds:CreateDBSnapshot fails" eq "$rc" 1
check "with one sentence naming the action and the database" has "$T/err" \
	"AWS denied rds:CreateDBSnapshot on arn:aws:rds:ap-southeast-2:123456789012:db:production-blue to these credentials (AccessDenied, request id"
check "saying the policy lacks it and which command prints the policy" has "$T/err" \
	"no statement of their IAM policy allows it; \`cutover iam-policy -c FILE\` prints the IAM policy this cutover needs"
check "the denied call was the only one refused" eq "$(denied_calls)" "rds:CreateDBSnapshot"
check "no snapshot was taken" eq "$(snap_status "production-blue-cutover-$(date -u +%Y%m%d)")" gone
check "nothing after the snapshot ran: no restore" eq "$(calls rds RestoreDBInstanceFromDBSnapshot)" 0
check "and no DNS change" eq "$(calls route53 ChangeResourceRecordSets)" 0
dump
check "port 22 was closed again after the failure" eq \
	"$(j "sum(1 for g in d['aws']['security_groups'] for r in g['rules'] if r.get('cidr') == '127.0.0.1/32')")" 0

# ---- the whole policy back: the rerun finishes --------------------------------------------------
attach "$T/policy.json"
clear_calls
cut run --yes -c "$CFG" --state "$ST"
check "with the whole policy the rerun finishes the cutover" eq "$rc" 0
check "no call was denied on the way" eq "$(denied_calls)" ""
check "exactly one snapshot" eq "$(calls rds CreateDBSnapshot)" 1
cutover_end_state
admin DELETE /policy >/dev/null
done_testing
