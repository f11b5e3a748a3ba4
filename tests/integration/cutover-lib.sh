# cutover-lib.sh: shared by the tests/integration/cutover_*.t TAP scripts
# (sourced after sim-lib.sh): a private simulated production as it was
# before the runbook's Prep, its configuration with what Prep needs to know
# (the new version, the test database), and helpers over the dump.
: "${CUTOVER_BUILD:?run through tests/run}"
CUTOVER="$CUTOVER_BUILD/cutover"
PY=/usr/bin/python3
# [database] method the test runs with (snapshot, or replica: issue 13).
CUT_METHOD=${CUT_METHOD:-snapshot}
eq()  { [ "$1" = "$2" ] || { echo "# expected [$2], got [$1]" >&2; echo "# $(tail -c 600 "$T/err" 2>/dev/null)" >&2; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "# [$2] not in $1: $(tail -c 600 "$1")" >&2; return 1; }; }

# cutover_up: the simulation before Prep; sets CFG and ST.
# With CUTOVER_TRANSPORT=ssm (cutover_*_ssm.t) the simulation comes up with
# port 22 closed on every instance (SIM_SSH_CLOSED: sshd listens where only
# the simulated SSM agent connects) and its configuration says transport = ssm.
cutover_up() {
	"$SIMD/before-prep" >"$T/world.json"
	if [ "${CUTOVER_TRANSPORT:-ssh}" = ssm ]; then export SIM_SSH_CLOSED=1; fi
	SIM_WORLD="$T/world.json" sim_up
	ok "the simulated production (before Prep) comes up"
	seed_facts
	CFG="$T/cutover.ini"
	sed -e '/^\[database\]/a prep = cobalt-test' -e '/^\[app\]/a version = cobalt-6.0.1' "$S/cutover.ini" >"$CFG"
	ST="$T/state"
	export CUTOVER_POLL_MS=300 CUTOVER_QUIET_SECONDS=4 CUTOVER_QUIET_DEADLINE=120
}
# seed_facts: what the checks expect, read from the live database before
# anything runs, so they follow the seed (tests/sim: seed_fixture --shape
# production) instead of naming its numbers. Sets LIVE_DB (address), LIVE_BE
# (blocked emails), LIVE_UNREG (unregistered users), LIVE_USER_SEQ (the
# accounts_user sequence), LIVE_STUCK (ABF numbers temp_copy_unreg_to_user
# cannot create: a user has that number, or it as username), LIVE_LOST (ABF
# numbers of blocked emails no accounts_user will have after the conversion:
# stuck and no user has the number) and LIVE_BE_LOST (their row count).
seed_facts() {
	dump
	LIVE_DB=$(j "d['databases']['production-blue']['address']")
	LIVE_BE=$(psql_at "$LIVE_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail")
	LIVE_UNREG=$(psql_at "$LIVE_DB" "SELECT count(*) FROM accounts_unregistereduser")
	LIVE_USER_SEQ=$(psql_at "$LIVE_DB" "SELECT last_value FROM accounts_user_id_seq")
	LIVE_STUCK=$(psql_at "$LIVE_DB" "SELECT string_agg(p.system_number::text, ' ' ORDER BY p.system_number)
		FROM accounts_unregistereduser p WHERE EXISTS (SELECT 1 FROM accounts_user u
		WHERE u.system_number = p.system_number OR u.username = p.system_number::text)")
	LIVE_LOST=$(psql_at "$LIVE_DB" "SELECT string_agg(DISTINCT p.system_number::text, ' ')
		FROM notifications_unregisteredblockedemail b JOIN accounts_unregistereduser p ON p.id = b.un_registered_user_id
		WHERE NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.system_number = p.system_number)
		AND EXISTS (SELECT 1 FROM accounts_user u WHERE u.username = p.system_number::text)")
	LIVE_BE_LOST=$(psql_at "$LIVE_DB" "SELECT count(*) FROM notifications_unregisteredblockedemail b
		JOIN accounts_unregistereduser p ON p.id = b.un_registered_user_id WHERE p.system_number::text = ANY (string_to_array('$LIVE_LOST', ' '))")
	check "the live data has people the conversion cannot create, one with blocked emails no user will have" \
		test -n "$LIVE_STUCK" -a -n "$LIVE_LOST" -a "$LIVE_BE_LOST" -gt 0
}
# be_mapped DB: the blocked emails on DB as "system_number email" lines, by
# the accounts_user they name; be_expected FILE: the backup's rows as the same
# lines, without those of the LIVE_LOST people.
be_mapped() { psql_at "$1" "SELECT u.system_number || ' ' || b.email FROM notifications_unregisteredblockedemail b
	JOIN accounts_user u ON u.id = b.un_registered_user_id ORDER BY 1"; }
be_expected() { $PY -c 'import json, sys
lost = set(sys.argv[2].split())
rows = json.load(open(sys.argv[1]))["rows"]
print("\n".join(sorted("%s %s" % (n, e) for e, n in rows if str(n) not in lost)))' "$1" "$LIVE_LOST"; }
# cut ARGS...: one cutover command; stdout in $T/out, both in $T/err, status in $rc.
cut() { "$CUTOVER" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; cat "$T/out" >>"$T/err"; }
# ssm_checks: with CUTOVER_TRANSPORT=ssm, that the instances were reached
# through Session Manager only: port 22 refused on them, sessions used, every
# one ended, none with a protocol error.
ssm_checks() {
	[ "${CUTOVER_TRANSPORT:-ssh}" = ssm ] || return 0
	check "SSM: the configuration says transport = ssm" grep -q '^transport = ssm' "$CFG"
	check "SSM: port 22 of an instance is closed" $PY -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 22), 2).close()
except OSError:
    sys.exit(0)
sys.exit(1)' "$(j "d['aws']['instances'][0]['private_ip']")"
	check "SSM: sessions were used, all ended, none with a protocol error" $PY -c '
import json, sys
s = json.load(open(sys.argv[1]))["aws"]["ssm_sessions"]
assert len(s) >= 3, len(s)
assert not [x for x in s if x["protocol_errors"]], [x for x in s if x["protocol_errors"]][:2]
assert all(x["state"] == "Terminated" for x in s), [x["id"] for x in s if x["state"] != "Terminated"]' "$T/dump.json"
}
env_var() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['env_vars'].get('$2', '<unset>')"; }
alias_of() { j "next(r['AliasTarget']['DNSName'] for z in d['aws']['zones'] for r in z['records'] if r['Name'] == '$1' and 'AliasTarget' in r)"; }
min_size() { j "next(e for e in d['aws']['environments'] if e['name'] == '$1')['options']['aws:autoscaling:asg']['MinSize']"; }

# The simulated AWS's call log: calls SERVICE OPERATION counts them,
# mutations counts every call that is not a Describe/List/Get. Neither
# counts the changes of cutover's lease (runbook/lease.h: every changing
# command takes and releases the TXT record _cutover-lock.<zone>), which are
# not changes of the world; lease_calls ACTION counts those batches that
# name ACTION (CREATE, DELETE) on the lease.
LEASE_PY='
def lease(c):
    r = c.get("records") or []
    return bool(r) and all(x.split(" ")[1].startswith("_cutover-lock.") for x in r)
'
calls() { admin GET "/calls?service=$1&operation=$2" | $PY -c "$LEASE_PY"'
import json,sys; print(sum(1 for c in json.load(sys.stdin)["calls"] if not lease(c)))'; }
mutations() {
	admin GET /calls | $PY -c "$LEASE_PY"'
import json, sys
ro = ("Describe", "List", "Get")
print(sum(1 for c in json.load(sys.stdin)["calls"] if not c["operation"].startswith(ro) and not lease(c)))'
}
lease_calls() { admin GET "/calls?service=route53&operation=ChangeResourceRecordSets" | $PY -c "$LEASE_PY"'
import json,sys; print(sum(1 for c in json.load(sys.stdin)["calls"] if lease(c) and any(x.startswith(sys.argv[1] + " ") for x in c["records"])))' "$1"; }
clear_calls() { admin DELETE /calls >/dev/null; }
simset() { admin POST /set "$1" >/dev/null; }

# cutover_end_state: the checks of the world after a finished `cutover run`
# (DNS on the new envs, their settings, the new database as restored from
# this cutover's snapshot and migrated, users converted once, blocked emails
# back, the old database and environment untouched); dumps first.
cutover_end_state() {
	local newaddr
	dump
	check "apex points at the new web env" eq "$(alias_of myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
	check "www points at the new web env" eq "$(alias_of www.myabf.com.au.)" cobalt-production-green.ap-southeast-2.elasticbeanstalk.com.
	check "ses points at the new SES env" eq "$(alias_of ses.myabf.com.au.)" cobalt-ses-production-blue.ap-southeast-2.elasticbeanstalk.com.
	newaddr=$(j "d['databases']['cobalt-production-green']['address']")
	check "the new web env uses the new database" eq "$(env_var cobalt-production-green RDS_HOSTNAME)" "$newaddr"
	check "RDS_DB_NAME is ebdb" eq "$(env_var cobalt-production-green RDS_DB_NAME)" ebdb
	check "MP_USE_DJANGO is removed, not set" eq "$(env_var cobalt-production-green MP_USE_DJANGO)" "<unset>"
	check "the new system is out of maintenance mode" eq "$(env_var cobalt-production-green MAINTENANCE_MODE)" OFF
	check "the new SES env uses the new database" eq "$(env_var cobalt-ses-production-blue RDS_HOSTNAME)" "$newaddr"
	check "the new database is a db.t3.small" eq "$(j "[i['class'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" db.t3.small
	if [ "$CUT_METHOD" = replica ]; then
		check "the promoted replica, no replica any more" eq "$(j "[i['replica_source'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" None
	else
		check "restored from the cutover's snapshot" eq "$(j "[i['restored_from'] for i in d['aws']['db_instances'] if i['id'] == 'cobalt-production-green'][0]")" "production-blue-cutover-$(date -u +%Y%m%d)"
	fi
	check "the new database holds production's events" eq "$(j "d['databases']['cobalt-production-green']['tables']['events_evententry']['rows'] >= d['databases']['production-blue']['tables']['events_evententry']['rows'] > 3")" True
	# Each unregistered person is tried once and takes an id (a failure burns
	# it); the last one in id order converts, so a second run would show.
	check "users converted once (ids up to the sequence + $LIVE_UNREG)" eq "$(j "d['databases']['cobalt-production-green']['tables']['accounts_user']['max_id']")" $((LIVE_USER_SEQ + LIVE_UNREG))
	check "only those the conversion cannot create stay unregistered ($LIVE_STUCK)" eq "$(psql_at "$newaddr" "SELECT string_agg(system_number::text, ' ' ORDER BY system_number) FROM accounts_unregistereduser")" "$LIVE_STUCK"
	check "the new database is migrated (0055)" eq "$(j "d['databases']['cobalt-production-green']['notifications_migration']")" 0055_alter_unregisteredblockedemail_un_registered_user
	check "blocked emails are back, all but the $LIVE_BE_LOST of people with no user" eq "$(j "d['databases']['cobalt-production-green']['tables']['notifications_unregisteredblockedemail']['rows']")" $((LIVE_BE - LIVE_BE_LOST))
	check "each naming the user with the backup's system number" eq "$(be_mapped "$newaddr")" "$(be_expected "$ST/blocked-emails.backup")"
	check "the unmappable ones are listed next to the backup" eq "$(tail -n +2 "$ST/blocked-emails.restore.unmapped" 2>/dev/null | wc -l)" "$LIVE_BE_LOST"
	check "the old database is untouched: unregistered users" eq "$(j "d['databases']['production-blue']['tables']['accounts_unregistereduser']['rows']")" "$LIVE_UNREG"
	check "the old database is untouched: schema" eq "$(j "d['databases']['production-blue']['notifications_migration']")" 0035_unregisteredblockedemail
	check "the old web env is in maintenance mode" eq "$(env_var cobalt-production-blue MAINTENANCE_MODE)" ON
}
