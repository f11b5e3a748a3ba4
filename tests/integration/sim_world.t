#!/usr/bin/env bash
# The simulated production behaves like the real one: the AWS CLI sees its
# instances and database endpoints, env var changes reach the instances' env
# files and the app's behaviour, users give up in maintenance mode while
# health checks go on, cron writes through maintenance mode, a snapshot is a
# point in time and its restore a separate server, DNS moves the traffic,
# EC2 Instance Connect keys work, and scaling starts and stops instances.
. "$(dirname "$0")/sim-lib.sh"
SIM_GIVEUP=3 SIM_CRON_INTERVAL=0 sim_up
admin POST /time '{"durations": {"env_update": 1, "env_launch": 1, "snapshot": 1, "db_create": 1, "dns_change": 1}}' >/dev/null
BLUE1=i-0b1e0000000000001 BLUE2=i-0b1e0000000000002 GREEN1=i-06e00000000000003
# Polling and lookups go through the admin API (fast); what the AWS CLI shows is checked where it matters.
addr_of() { st "[i['private_ip'] for i in w['instances'] if i['id'] == '$1'][0]"; }
env_ids() { st "' '.join([e['instances'] for e in w['environments'] if e['name'] == '$1' and e['status'] != 'Terminated'][0])"; }
envfile() { grep "^$2=" "$SIMPROD_DIR/hosts/$1/opt/elasticbeanstalk/deployment/env" | cut -d= -f2-; }
userreqs() { grep -vc ELB-HealthChecker "$SIMPROD_DIR/hosts/$1/var/log/nginx/access.log"; }
hcs() { grep -c ELB-HealthChecker "$SIMPROD_DIR/hosts/$1/var/log/nginx/access.log"; }

# --- the AWS CLI sees the world as it really is -------------------------------
$AWS ec2 describe-instances --query 'Reservations[].Instances[].[InstanceId,PrivateIpAddress]' >"$T/instances"
cli_addr() { awk -v i="$1" '$1 == i { print $2 }' "$T/instances"; }
B1=$(cli_addr $BLUE1); B2=$(cli_addr $BLUE2); G1=$(cli_addr $GREEN1)
check "the AWS CLI reports each instance at its own loopback address" \
	test -n "$B1" -a "$B1" != "$B2" -a "${B1%.*}" = "$SIMPROD_NET"
out=$(ssh_to "$B1" -i "$SIMPROD_SSH_KEY" "$SIMPROD_SSH_USER@$B1" 'echo $HOME' </dev/null 2>&1)
check "the address the AWS CLI reports is where that instance's sshd answers" test "$out" = "$SIMPROD_DIR/hosts/$BLUE1"
read -r ep port < <($AWS rds describe-db-instances --db-instance-identifier production-blue --query 'DBInstances[0].Endpoint.[Address,Port]')
check "the AWS CLI reports the live database's endpoint, where PostgreSQL answers" \
	test "$(psql_at "$ep" 'SELECT count(*) FROM accounts_user')" -gt 0 -a "$port" = "$SIMPROD_DB_PORT"
# --- the live data is production-shaped (tests/fixture/cobalt/utils/prodshape.py) ---
# Separate id sequences: a seed whose ids line up again hides the 0055 defect.
bq() { psql_at "$ep" "SELECT count(*) FROM notifications_unregisteredblockedemail b WHERE $1"; }
check "a few hundred people and blocked emails" test "$(psql_at "$ep" "SELECT (SELECT count(*) FROM accounts_user) >= 200
	AND (SELECT count(*) FROM accounts_unregistereduser) >= 200 AND (SELECT count(*) FROM notifications_unregisteredblockedemail) >= 200")" = t
check "user ids run well past unregistered ones and some unregistered ids past user ids" test "$(psql_at "$ep" "SELECT
	(SELECT max(id) FROM accounts_user) > 5 * (SELECT max(id) FROM accounts_unregistereduser)
	AND EXISTS (SELECT 1 FROM accounts_unregistereduser p, accounts_user u WHERE u.id > 4 AND p.id > u.id)")" = t
check "blocked emails naming no accounts_user id (0055 refuses them), 6356 among them" \
	test "$(bq "NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = b.un_registered_user_id)")" -gt 10 -a \
	     "$(bq "b.un_registered_user_id = 6356 AND NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = 6356)")" -ge 1
check "and some naming an accounts_user id too (after 0055: the wrong person)" \
	test "$(bq "EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = b.un_registered_user_id)")" -gt 10
for e in "o'brien@example.com" 'back\slash@example.com' 'zoë@exämple.com' 'a+tag@example.org' 'Mixed.Case@Example.COM' \
	"long.addr@$(printf 'a%.0s' {1..60}).$(printf 'b%.0s' {1..60}).$(printf 'c%.0s' {1..56}).example.com"; do
	hex=$(printf %s "$e" | od -An -v -tx1 | tr -d ' \n')
	check "awkward blocked email present byte-exact: ${e:0:30} (${#e} characters)" \
		test "$(bq "encode(convert_to(b.email, 'UTF8'), 'hex') = '$hex'")" = 1
done
check "an unregistered person whose ABF number a user has (the conversion's 'likely dupe')" \
	test "$(psql_at "$ep" "SELECT count(*) FROM accounts_unregistereduser p JOIN accounts_user u USING (system_number)")" -ge 1
check "an unregistered person the conversion cannot create at all (a user's username is their number), with a blocked email" \
	test "$(bq "EXISTS (SELECT 1 FROM accounts_unregistereduser p JOIN accounts_user u ON u.username = p.system_number::text
		WHERE p.id = b.un_registered_user_id AND NOT EXISTS (SELECT 1 FROM accounts_user v WHERE v.system_number = p.system_number))")" -ge 1
live_host=$($AWS elasticbeanstalk describe-configuration-settings --application-name cobalt --environment-name cobalt-production-blue \
	--query "ConfigurationSettings[0].OptionSettings[?OptionName=='RDS_HOSTNAME'].Value | [0]")
check "the live environment's RDS_HOSTNAME is that endpoint" test "$live_host" = "$ep"

# --- env var changes: env file and app behaviour -------------------------------
check "before: the live app serves pages (200)" test "$(http "$B1" /dashboard)" = 200
base_b=$(( $(userreqs $BLUE1) + $(userreqs $BLUE2) ))
blue_grew() { [ $(( $(userreqs $BLUE1) + $(userreqs $BLUE2) )) -gt $((base_b + 3)) ]; }
check "users' requests reach the live environment's instances" wait_for 15 blue_grew
check "MAINTENANCE_MODE=ON through EB completes (Ready)" set_var cobalt-production-blue MAINTENANCE_MODE ON
check "it reaches the env file on every instance of the environment" \
	test "$(envfile $BLUE1 MAINTENANCE_MODE)$(envfile $BLUE2 MAINTENANCE_MODE)" = ONON
check "the app restarted with it: pages get the maintenance page (503)" test "$(http "$B2" /dashboard)" = 503
check "the login page is exempt (200), as in Cobalt" test "$(http "$B2" /accounts/login/)" = 200
before=$(psql_at "$ep" 'SELECT count(*) FROM payments_stripetransaction')
code=$(http "$B1" /payments/pay -X POST -d system_number=518001)
after=$(psql_at "$ep" 'SELECT count(*) FROM payments_stripetransaction')
check "a payment in maintenance mode gets 503 yet is written (the view runs)" test "$code" = 503 -a "$after" = $((before + 1))
# Users give up within SIM_GIVEUP (3 s); health checks never stop.
sleep 4
u1=$(( $(userreqs $BLUE1) + $(userreqs $BLUE2) )); h1=$(hcs $BLUE1)
sleep 4
u2=$(( $(userreqs $BLUE1) + $(userreqs $BLUE2) )); h2=$(hcs $BLUE1)
check "users stop coming within the give-up time (no user request for 4 s)" test "$u2" = "$u1"
check "ELB health checks go on during maintenance" test "$h2" -gt "$h1"
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-green \
	--options-to-remove Namespace=aws:elasticbeanstalk:application:environment,OptionName=MP_USE_DJANGO >/dev/null
sleep 0.5; wait_for 30 env_ready cobalt-production-green
check "an option removed through EB disappears from the env file (MP_USE_DJANGO)" \
	test -z "$(envfile $GREEN1 MP_USE_DJANGO)" -a "$(envfile $GREEN1 MAINTENANCE_MODE)" = ON

# --- cron writes through maintenance mode ------------------------------------
n0=$(psql_at "$ep" "SELECT count(*) FROM payments_membertransaction WHERE type = 'Auto Top Up'")
"$SIMD/traffic.py" cron "$SIMPROD_DIR" $BLUE1 >"$T/cron.out" 2>&1
n1=$(psql_at "$ep" "SELECT count(*) FROM payments_membertransaction WHERE type = 'Auto Top Up'")
check "a cron round on a live instance in maintenance mode writes to the live database" test "$n1" -gt "$n0"
ssh_to "$B1" -i "$SIMPROD_SSH_KEY" "$SIMPROD_SSH_USER@$B1" 'cd "$HOME" && crontab -l >var/lib/saved-crontab && crontab -r' </dev/null
"$SIMD/traffic.py" cron "$SIMPROD_DIR" $BLUE1 >/dev/null 2>&1
n2=$(psql_at "$ep" "SELECT count(*) FROM payments_membertransaction WHERE type = 'Auto Top Up'")
check "with the crontab removed over SSH (crontab -r), cron writes nothing" test "$n2" = "$n1"
ssh_to "$B1" -i "$SIMPROD_SSH_KEY" "$SIMPROD_SSH_USER@$B1" 'cd "$HOME" && crontab - <var/lib/saved-crontab' </dev/null
check "crontab - puts it back" grep -q auto_pay_batch "$SIMPROD_DIR/hosts/$BLUE1/var/spool/cron/root"

# --- snapshot, later write, restore -------------------------------------------
$AWS rds create-db-snapshot --db-instance-identifier production-blue --db-snapshot-identifier sim-t-snap >/dev/null
psql_at "$ep" "INSERT INTO payments_stripelog (event, event_type, cobalt_pay_id, created_date) VALUES ('{}', 'after-snapshot', 'sim-t', now())"
snap_ok() { [ "$(snap_status sim-t-snap)" = available ]; }
check "the snapshot becomes available" wait_for 30 snap_ok
$AWS rds restore-db-instance-from-db-snapshot --db-instance-identifier cobalt-production-green \
	--db-snapshot-identifier sim-t-snap --db-instance-class db.t3.small >/dev/null
new_ok() { [ "$(db_status cobalt-production-green)" = available ]; }
check "the restored instance becomes available" wait_for 60 new_ok
read -r nep ncls < <($AWS rds describe-db-instances --db-instance-identifier cobalt-production-green --query 'DBInstances[0].[Endpoint.Address,DBInstanceClass]')
check "it is a separate server at its own endpoint, class db.t3.small" test -n "$nep" -a "$nep" != "$ep" -a "$ncls" = db.t3.small
check "the restore has the snapshot's data (database ebdb)" test "$(psql_at "$nep" 'SELECT count(*) FROM accounts_user')" -gt 0
check "the restore lacks the write made after the snapshot" \
	test "$(psql_at "$nep" "SELECT count(*) FROM payments_stripelog WHERE cobalt_pay_id = 'sim-t'")" = 0
check "the old database keeps it" \
	test "$(psql_at "$ep" "SELECT count(*) FROM payments_stripelog WHERE cobalt_pay_id = 'sim-t'")" = 1
psql_at "$nep" "INSERT INTO payments_stripelog (event, event_type, cobalt_pay_id, created_date) VALUES ('{}', 'on-new', 'sim-t-new', now())"
check "a write to the restore never reaches the old database" \
	test "$(psql_at "$ep" "SELECT count(*) FROM payments_stripelog WHERE cobalt_pay_id = 'sim-t-new'")" = 0

# --- point the new environment at it, open it, move DNS ------------------------
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-green --option-settings \
	"Namespace=aws:elasticbeanstalk:application:environment,OptionName=RDS_HOSTNAME,Value=$nep" \
	"Namespace=aws:elasticbeanstalk:application:environment,OptionName=MAINTENANCE_MODE,Value=OFF" >/dev/null
sleep 0.5; wait_for 30 env_ready cobalt-production-green
check "the new environment's instances name the restored database" test "$(envfile $GREEN1 RDS_HOSTNAME)" = "$nep"
g0=$(userreqs $GREEN1)
pay=$(curl -s -m 10 -H "Host: $SIMPROD_SITE" -X POST -d system_number=518002 -d stripe_reference=sim-t-green \
	"http://$G1:$SIMPROD_HTTP_PORT/payments/pay")
check "the new environment's app writes to the restored database, not the old one" \
	test "$(psql_at "$nep" "SELECT count(*) FROM payments_stripetransaction WHERE stripe_reference = 'sim-t-green'")" = 1 -a \
	     "$(psql_at "$ep" "SELECT count(*) FROM payments_stripetransaction WHERE stripe_reference = 'sim-t-green'")" = 0
check "no user request reached the new environment before the DNS change" test "$g0" = 0
g1=$(userreqs $GREEN1)
cname=$(st "[e['cname'] for e in w['environments'] if e['name'] == 'cobalt-production-green'][0]")
cat >"$T/dns.json" <<JSON
{"Changes": [
 {"Action": "UPSERT", "ResourceRecordSet": {"Name": "myabf.com.au.", "Type": "A", "AliasTarget": {"HostedZoneId": "Z2PCDNR3VC2G1N", "DNSName": "$cname.", "EvaluateTargetHealth": false}}},
 {"Action": "UPSERT", "ResourceRecordSet": {"Name": "www.myabf.com.au.", "Type": "A", "AliasTarget": {"HostedZoneId": "Z2PCDNR3VC2G1N", "DNSName": "$cname.", "EvaluateTargetHealth": false}}}]}
JSON
$AWS route53 change-resource-record-sets --hosted-zone-id Z0FAKEMYABF00000001 --change-batch "file://$T/dns.json" >/dev/null
green_grew() { [ "$(userreqs $GREEN1)" -gt $((g1 + 3)) ]; }
check "after the DNS change users' requests reach the new environment" wait_for 20 green_grew
u3=$(( $(userreqs $BLUE1) + $(userreqs $BLUE2) ))
sleep 2
check "and no longer the old one" test $(( $(userreqs $BLUE1) + $(userreqs $BLUE2) )) = "$u3"
dump
check "the dump's traffic counters name the new target" \
	test "$(j "d['traffic']['target']['myabf.com.au']")" = cobalt-production-green

# --- EC2 Instance Connect -------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/eic" && ssh-keygen -q -t ed25519 -N '' -f "$T/never"
check "a key never pushed is refused" bash -c "! ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$SIMPROD_KNOWN_HOSTS -o IdentitiesOnly=yes -i $T/never -p $SIMPROD_SSH_PORT $SIMPROD_SSH_USER@$G1 true </dev/null 2>/dev/null"
$AWS ec2-instance-connect send-ssh-public-key --instance-id $GREEN1 --instance-os-user "$SIMPROD_SSH_USER" \
	--ssh-public-key "file://$T/eic.pub" >/dev/null
check "a key pushed with SendSSHPublicKey logs in to that instance" \
	ssh_to "$G1" -o IdentitiesOnly=yes -i "$T/eic" "$SIMPROD_SSH_USER@$G1" true </dev/null
check "but not to another one" bash -c "! ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$SIMPROD_KNOWN_HOSTS -o IdentitiesOnly=yes -i $T/eic -p $SIMPROD_SSH_PORT $SIMPROD_SSH_USER@$B1 true </dev/null 2>/dev/null"

# --- scaling: new instances are new hosts, removed ones stop -------------------
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-green --option-settings \
	Namespace=aws:autoscaling:asg,OptionName=MinSize,Value=2 >/dev/null
sleep 0.5; wait_for 30 env_ready cobalt-production-green
new=$(env_ids cobalt-production-green | tr ' ' '\n' | grep -v "^$GREEN1$" | head -1)
NA=$(addr_of "$new")
check "scaling up starts a new instance at a new address ($NA)" test -n "$new" -a -n "$NA" -a "$NA" != "$G1"
out=$(ssh_to "$NA" -i "$SIMPROD_SSH_KEY" "$SIMPROD_SSH_USER@$NA" 'grep ^RDS_HOSTNAME= "$HOME/opt/elasticbeanstalk/deployment/env"' </dev/null 2>&1)
check "it answers SSH (known_hosts updated) with the environment's settings" test "$out" = "RDS_HOSTNAME=$nep"
check "and serves the app" test "$(http "$NA" /accounts/login/)" = 200
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-blue --option-settings \
	Namespace=aws:autoscaling:asg,OptionName=MinSize,Value=1 Namespace=aws:autoscaling:asg,OptionName=MaxSize,Value=1 >/dev/null
sleep 0.5; wait_for 30 env_ready cobalt-production-blue
left=$(env_ids cobalt-production-blue)
gone=$B2; [ "$left" = $BLUE2 ] && gone=$B1
check "scaling down to 1 leaves one instance" test "$(echo $left | wc -w)" = 1
check "the removed instance's sshd and app stop" bash -c "! (exec 3<>/dev/tcp/$gone/$SIMPROD_SSH_PORT) 2>/dev/null && ! (exec 3<>/dev/tcp/$gone/$SIMPROD_HTTP_PORT) 2>/dev/null"

# --- a deploy runs migrate against the environment's database ------------------
fk() { psql_at "$1" "SELECT confrelid::regclass FROM pg_constraint WHERE contype = 'f' AND conrelid = 'notifications_unregisteredblockedemail'::regclass"; }
check "the restore is on the old schema (blocked emails point at accounts_unregistereduser)" test "$(fk "$nep")" = accounts_unregistereduser
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-green --version-label cobalt-6.0.1 >/dev/null
sleep 0.5; wait_for 60 env_ready cobalt-production-green
# Production-shaped data: 0055 re-creates the FK and validates the old ids.
check "on production's blocked emails the deploy's migrate fails (0055 validates the old ids)" test "$(fk "$nep")" = accounts_unregistereduser
check "  saying which id is not in accounts_user" bash -c "grep -q 'migrate on .* exited 1' '$S/sim.log' &&
	grep -q 'Key (un_registered_user_id)=([0-9]*) is not present in table \"accounts_user\"' '$S/sim.log'"
psql_at "$nep" "DELETE FROM notifications_unregisteredblockedemail" >/dev/null
# (another label: the simulated EB deploys only when the version label changes)
$AWS elasticbeanstalk update-environment --environment-name cobalt-production-green --version-label cobalt-6.0.0 >/dev/null
sleep 0.5; wait_for 60 env_ready cobalt-production-green
check "with them cleared, the next deploy migrates the database (0055 applied)" test "$(fk "$nep")" = accounts_user
check "and leaves the old database alone" test "$(fk "$ep")" = accounts_unregistereduser

# --- deleting a database stops its server --------------------------------------
$AWS rds delete-db-instance --db-instance-identifier cobalt-test --skip-final-snapshot >/dev/null
test_gone() { ! (exec 3<>"/dev/tcp/$(j "d['databases']['cobalt-test']['address']")/$SIMPROD_DB_PORT") 2>/dev/null; }
check "a deleted database's server stops" wait_for 30 test_gone

# --- a reset of the simulated AWS brings the real side back in line -------------
admin POST /reset '{}' >/dev/null
check "after /_sim/reset the old environment's env files are as the world says again" \
	test "$(envfile $BLUE1 MAINTENANCE_MODE)$(envfile $BLUE2 MAINTENANCE_MODE)" = OFFOFF
check "its instances run again (sshd and app)" test "$(http "$B1" /dashboard)$(http "$B2" /dashboard)" = 200200
check "the deleted database's server runs again" bash -c "(exec 3<>/dev/tcp/$(j "d['databases']['cobalt-test']['address']")/$SIMPROD_DB_PORT) 2>/dev/null"
done_testing
