#!/usr/bin/env bash
# AWS profiles that assume a role, against the simulated AWS (which checks
# the AssumeRole request against the botocore model, verifies its SigV4
# signature with the source keys, and accepts the temporary credentials it
# issues): `cutover aws whoami --profile X` shows the assumed-role ARN, for a
# role, a chain of roles and credential_source = Environment; the STS
# endpoint settings apply to AssumeRole; a role the source may not assume is
# one clear sentence; no secret of the source or of the role reaches the
# output or the debug log. SSO profiles trade the `aws sso login` token
# cache for role credentials at the simulated SSO portal; the AWS CLI's
# credential code, reading the same files, agrees on every ARN.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${CUTOVER_BUILD:-$top/build}/cutover
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

if [ -z "${FAKEAWS_ADMIN:-}" ]; then nok "fakeaws is running (FAKEAWS_ADMIN set)"; exit 1; fi
tmp=$(mktemp -d /tmp/cutover-roles.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE
curl -fsS -X POST -d '{}' "$FAKEAWS_ADMIN/reset" >/dev/null
curl -fsS -X POST -d '{"add": [{"name": "cutover-deploy"},
	{"name": "cutover-admin", "trust": ["arn:aws:iam::123456789012:role/cutover-deploy"]},
	{"name": "cutover-partner", "external_id": "abf-2026"}]}' "$FAKEAWS_ADMIN/roles" >/dev/null
acct=123456789012
mkdir -p "$tmp/.aws"
cat >"$tmp/.aws/credentials" <<CRED
[base]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
[selfref]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CRED
cat >"$tmp/.aws/config" <<CONF
[profile deploy]
role_arn = arn:aws:iam::$acct:role/cutover-deploy
source_profile = base
role_session_name = cutover-test
[profile admin]
role_arn = arn:aws:iam::$acct:role/cutover-admin
source_profile = deploy
role_session_name = chained
[profile partner]
role_arn = arn:aws:iam::$acct:role/cutover-partner
source_profile = base
external_id = abf-2026
duration_seconds = 900
[profile partner-noext]
role_arn = arn:aws:iam::$acct:role/cutover-partner
source_profile = base
[profile fromenv]
role_arn = arn:aws:iam::$acct:role/cutover-deploy
credential_source = Environment
role_session_name = from-env
[profile nope]
role_arn = arn:aws:iam::$acct:role/no-such-role
source_profile = base
[profile viaconfig]
role_arn = arn:aws:iam::$acct:role/cutover-deploy
source_profile = base
role_session_name = via-config
endpoint_url = $FAKEAWS_URL
[profile selfref]
role_arn = arn:aws:iam::$acct:role/cutover-deploy
source_profile = selfref
role_session_name = self
[profile mfa]
role_arn = arn:aws:iam::$acct:role/cutover-deploy
source_profile = base
mfa_serial = arn:aws:iam::$acct:mfa/operator
[profile sso]
sso_session = abf
sso_account_id = $acct
sso_role_name = CutoverOperator
[sso-session abf]
sso_start_url = https://abf.awsapps.com/start
sso_region = ap-southeast-2
[profile sso-legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = ap-southeast-2
sso_account_id = $acct
sso_role_name = ReadOnly
[profile sso-other-role]
sso_session = abf
sso_account_id = $acct
sso_role_name = Admin
CONF
secret_seen() { # the source's secret, or anything shaped like the sim's role secrets/tokens
	grep -qF -- "$AWS_SECRET_ACCESS_KEY" "$@" || grep -qE 'FwoGZXIvYXdzE[0-9a-f]|[0-9a-f]{40}' "$@"
}

CUTOVER_DEBUG=1 "$bin" aws whoami --profile deploy >"$tmp/o" 2>"$tmp/e"
check "whoami --profile deploy exits 0" "[ $? -eq 0 ]"
check "whoami shows the assumed-role ARN" "grep -q '^arn *arn:aws:sts::$acct:assumed-role/cutover-deploy/cutover-test$' '$tmp/o'"
check "whoami says the credentials come from assume-role" "grep -q '^credentials *assume-role (profile deploy)' '$tmp/o'"
check "the debug log shows AssumeRole then GetCallerIdentity" \
	"grep -n 'AssumeRole attempt 1/3 -> HTTP 200' '$tmp/e' >/dev/null && grep -q 'GetCallerIdentity attempt 1/3 -> HTTP 200' '$tmp/e'"
check "no secret of the source or of the role in output or debug log" "! secret_seen '$tmp/o' '$tmp/e'"

"$bin" aws whoami --profile admin --json >"$tmp/o" 2>"$tmp/e"
check "a chained role (admin via deploy via base) works" \
	"/usr/bin/python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))[\"arn\"] == sys.argv[2]' '$tmp/o' arn:aws:sts::$acct:assumed-role/cutover-admin/chained"
"$bin" aws whoami --profile partner >"$tmp/o" 2>"$tmp/e"
check "external_id and duration_seconds reach STS (the role demands the id)" \
	"grep -q 'assumed-role/cutover-partner/cutover-session-' '$tmp/o'"
"$bin" aws whoami --profile partner-noext >"$tmp/o" 2>"$tmp/e"
check "without the external id the role is refused" "[ $? -ne 0 ] && grep -q 'AccessDenied' '$tmp/e'"

AWS_ACCESS_KEY_ID=$FAKEAWS_SESSION_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKEAWS_SESSION_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN=$FAKEAWS_SESSION_SESSION_TOKEN "$bin" aws whoami --profile fromenv >"$tmp/o" 2>"$tmp/e"
check "credential_source = Environment signs AssumeRole with the environment's session keys" \
	"grep -q 'assumed-role/cutover-deploy/from-env' '$tmp/o'"

"$bin" aws whoami --profile nope >"$tmp/o" 2>"$tmp/e"
rc=$?
check "a role the source may not assume fails" "[ $rc -eq 1 ] && [ ! -s '$tmp/o' ]"
check "... with one sentence naming the profile, the role, the AWS code and what to check" \
	"[ \$(wc -l <'$tmp/e') -eq 1 ] && grep -q \"AWS profile 'nope' could not assume role arn:aws:iam::$acct:role/no-such-role: STS answered AccessDenied .*request id .*check role_arn\" '$tmp/e'"
check "... and no secret in it" "! secret_seen '$tmp/e'"

(unset AWS_ENDPOINT_URL; AWS_ENDPOINT_URL_STS=$FAKEAWS_URL "$bin" aws whoami --profile deploy) >"$tmp/o" 2>"$tmp/e"
check "AWS_ENDPOINT_URL_STS alone points AssumeRole and STS at the simulation" \
	"grep -q 'assumed-role/cutover-deploy/cutover-test' '$tmp/o'"
(unset AWS_ENDPOINT_URL; "$bin" aws whoami --profile viaconfig) >"$tmp/o" 2>"$tmp/e"
check "the role profile's endpoint_url applies to AssumeRole" "grep -q 'assumed-role/cutover-deploy/via-config' '$tmp/o'"

curl -fsS -X DELETE "$FAKEAWS_ADMIN/calls" >/dev/null
"$bin" aws whoami --profile mfa >"$tmp/o" 2>"$tmp/e"
check "an mfa_serial profile is refused with what to run instead" \
	"[ \$? -ne 0 ] && grep -q 'needs an MFA code .*aws sts get-session-token --serial-number arn:aws:iam::$acct:mfa/operator' '$tmp/e'"
"$bin" aws whoami --profile sso >"$tmp/o" 2>"$tmp/e"
check "an SSO profile without an \`aws sso login\` says to log in" \
	"[ \$? -ne 0 ] && grep -q \"no login for it in ~/.aws/sso/cache; run \\\`aws sso login --profile sso\\\` and run again\" '$tmp/e'"
check "... and neither called AWS" \
	"[ \"\$(curl -fsS '$FAKEAWS_ADMIN/calls' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"count\"])')\" = 0 ]"

# `aws sso login` leaves the token in ~/.aws/sso/cache/<sha1 of the session
# name (sso_session) or of the start URL (legacy form)>.json.
sso_cache() { # KEY TOKEN EXPIRES
	mkdir -p "$tmp/.aws/sso/cache"
	printf '{"startUrl": "https://abf.awsapps.com/start", "region": "ap-southeast-2", "accessToken": "%s", "expiresAt": "%s"}\n' \
		"$2" "$3" >"$tmp/.aws/sso/cache/$(printf '%s' "$1" | sha1sum | cut -d' ' -f1).json"
}
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
curl -fsS -X POST -d "{\"token\": \"fake-sso-token-abf-0001\", \"user\": \"jane@abf\",
	\"roles\": [[\"$acct\", \"CutoverOperator\"], [\"$acct\", \"ReadOnly\"]]}" "$FAKEAWS_ADMIN/sso" >/dev/null
curl -fsS -X POST -d '{"token": "fake-sso-token-legacy-0002", "roles": [["'$acct'", "ReadOnly"]]}' "$FAKEAWS_ADMIN/sso" >/dev/null
sso_cache abf fake-sso-token-abf-0001 "$later"
sso_cache https://legacy.awsapps.com/start fake-sso-token-legacy-0002 "$later"
CUTOVER_DEBUG=1 "$bin" aws whoami --profile sso >"$tmp/o" 2>"$tmp/e"
check "an SSO profile (sso-session form) trades the cached login for role credentials" \
	"grep -q '^arn *arn:aws:sts::$acct:assumed-role/AWSReservedSSO_CutoverOperator_[0-9a-f]*/jane@abf$' '$tmp/o' && grep -q '^credentials *sso (profile sso)' '$tmp/o'"
check "... and no token or secret in output or debug log" \
	"! grep -q 'fake-sso-token' '$tmp/o' '$tmp/e' && ! grep -q IQoJb3JpZ2luX2Vj '$tmp/o' '$tmp/e' && ! secret_seen '$tmp/o' '$tmp/e'"
"$bin" aws whoami --profile sso-legacy >"$tmp/o" 2>"$tmp/e"
check "an SSO profile in the legacy form (start URL in the profile) works" \
	"grep -q 'assumed-role/AWSReservedSSO_ReadOnly_' '$tmp/o'"
"$bin" aws whoami --profile sso-other-role >"$tmp/o" 2>"$tmp/e"
check "a role the SSO user lacks is one sentence naming role and account" \
	"[ \$? -ne 0 ] && [ \$(wc -l <'$tmp/e') -eq 1 ] && grep -q 'has no role Admin in account $acct; check sso_role_name' '$tmp/e'"
sso_cache abf fake-sso-token-abf-0001 "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)"
"$bin" aws whoami --profile sso >"$tmp/o" 2>"$tmp/e"
check "an expired SSO login says to log in again" \
	"[ \$? -ne 0 ] && grep -q \"SSO login of AWS profile 'sso' expired at .*aws sso login --profile sso\" '$tmp/e'"
sso_cache abf fake-sso-token-revoked "$later"
"$bin" aws whoami --profile sso >"$tmp/o" 2>"$tmp/e"
check "a login the portal no longer knows says to log in again" \
	"[ \$? -ne 0 ] && grep -q 'SSO portal refused the login .*aws sso login --profile sso' '$tmp/e'"

# The AWS CLI's own credential code (/usr/bin/aws runs awscli.botocore, its
# bundled botocore), with the same config files and token cache, agrees on
# every ARN. CLI 2.9 predates endpoint settings in the config, so the STS and
# SSO clients of its role and SSO providers are pointed at the simulation by
# hand; everything else (profile reading, chain, cache key) is the CLI's.
sso_cache abf fake-sso-token-abf-0001 "$later"
for p in deploy admin sso selfref; do "$bin" aws whoami --profile $p --json; done >"$tmp/ours" 2>"$tmp/e"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=$AWS_REGION /usr/bin/python3 - >"$tmp/boto" 2>"$tmp/boto.err" <<'PY'
import os
import awscli.botocore.session as cli_session
url = os.environ['FAKEAWS_URL']
for prof in ('deploy', 'admin', 'sso', 'selfref'):
    s = cli_session.Session(profile=prof)
    resolver = s.get_component('credential_provider')
    for name in ('assume-role', 'sso'):
        p = resolver.get_provider(name)
        p._client_creator = (lambda orig: lambda *a, **kw: orig(*a, **dict(kw, endpoint_url=url)))(p._client_creator)
    print(s.create_client('sts', endpoint_url=url).get_caller_identity()['Arn'])
PY
check "the AWS CLI's credential code with the same files gets the same ARNs (role, chain, SSO, and keys beside role_arn in one profile: the role wins)" \
	"/usr/bin/python3 -c 'import json,re,sys; ours=[json.loads(x)[\"arn\"] for x in re.findall(r\"\\{[^}]*\\}\", open(sys.argv[1]).read())]; boto=open(sys.argv[2]).read().split(); assert ours == boto and len(ours) == 4, (ours, boto)' '$tmp/ours' '$tmp/boto'"
