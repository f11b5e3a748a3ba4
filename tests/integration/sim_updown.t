#!/usr/bin/env bash
# The simulated production comes up with every piece answering, and
# tests/sim/down leaves nothing of it running.
. "$(dirname "$0")/sim-lib.sh"
t0=$SECONDS
sim_up
ok "tests/sim/up brings the simulation up ($((SECONDS - t0)) s)"
echo "# $(cat "$T/up.out")"
sleep 1
dump
check "six instances (two pairs, one test env), each with sshd and the app answering" \
	test "$(j "sum(1 for h in d['hosts'].values() if h['running'] and h['sshd'] and h['web'])")" = 6
check "the live database is on the old schema (blocked emails point at accounts_unregistereduser)" \
	test "$(j "d['databases']['production-blue']['blocked_email_fk_target']")" = accounts_unregistereduser
check "the test database is migrated (0055 applied)" \
	test "$(j "d['databases']['cobalt-test']['blocked_email_fk_target']")" = accounts_user
check "RDS_HOSTNAME of the live environment's instances names the live database's address" \
	test "$(j "d['hosts']['i-0b1e0000000000001']['env_file']['RDS_HOSTNAME']")" = "$(j "d['databases']['production-blue']['address']")"
check "secrets in the dump are masked" \
	test "$(j "d['hosts']['i-0b1e0000000000001']['env_file']['RDS_PASSWORD']")" = '***'
check "every instance has its own loopback address" \
	test "$(j "len({h['address'] for h in d['hosts'].values()})")" = 6
# Every instance over SSH with the launch key pair and known_hosts, HOME laid out like EB.
good=0
for a in $(j "' '.join(h['address'] for h in d['hosts'].values())"); do
	out=$(ssh_to "$a" -i "$SIMPROD_SSH_KEY" "$SIMPROD_SSH_USER@$a" \
		'cd "$HOME" && test -x var/app/venv/staging-LQM1lest/bin/python && grep -c "^RDS_HOSTNAME=" opt/elasticbeanstalk/deployment/env && crontab -l | grep -c wrapper.sh' </dev/null 2>&1)
	[ "$(echo $out | cut -d' ' -f1)" = 1 ] && good=$((good + 1)) || echo "# $a: $out"
done
check "SSH reaches every instance (strict host keys) and finds the EB layout and crontab" test "$good" = 6
# The cutover agent on the instances, with the paths the config file names.
CUTOVER=${CUTOVER_BUILD:-$top/build}/cutover
ini() { sed -n "s/^$1 = //p" "$SIMPROD_CONFIG"; }
hosts=(); for a in $(j "' '.join(h['address'] for h in d['hosts'].values())"); do hosts+=(--host "$SIMPROD_SSH_USER@$a"); done
"$CUTOVER" exec "${hosts[@]}" --identity "$SIMPROD_SSH_KEY" --known-hosts "$SIMPROD_KNOWN_HOSTS" -- \
	sh -c "cd \"\$HOME\" && test -r $(ini env_file) && crontab -l >/dev/null" >"$T/exec.out" 2>&1 </dev/null
check "cutover exec reaches all six instances through the agent" test $? = 0
"$CUTOVER" manage --host "$SIMPROD_SSH_USER@$(j "d['hosts']['i-0b1e0000000000001']['address']")" --identity "$SIMPROD_SSH_KEY" \
	--known-hosts "$SIMPROD_KNOWN_HOSTS" --app-dir "$(ini dir)" --env-file "$(ini env_file)" --python "$(ini python)" -- \
	showmigrations notifications >"$T/manage.out" 2>&1 </dev/null
check "cutover manage with the config's [app] paths runs on the live database (0055 not applied)" \
	grep -q '\[ \] 0055' "$T/manage.out"
check "ELB health checks reach every instance" \
	test "$(j "min(h['access_log']['health_checks'] for h in d['hosts'].values()) > 0")" = True
addrs=$(j "' '.join(h['address'] for h in d['hosts'].values()) + ' ' + ' '.join(x['address'] for x in d['databases'].values())")
root=$(j "d['sim']['data_root']")
t1=$SECONDS
check "tests/sim/down succeeds" "$SIMD/down" "$S"
echo "# down took $((SECONDS - t1)) s"
left=$(for p in /proc/[0-9]*; do
	c=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline"); w=$(readlink "$p/cwd" 2>/dev/null)
	case "$c $w" in *"$S"*|*"$root"*) echo "${p#/proc/}: $c";; esac
done | grep -v "^$$:" | grep -v "^$BASHPID:" || true)
if [ -z "$left" ]; then ok "no process of the simulation is left"; else nok "no process of the simulation is left" "$left"; fi
open=0
for a in $addrs; do
	for p in "$SIMPROD_SSH_PORT" "$SIMPROD_HTTP_PORT" "$SIMPROD_DB_PORT"; do
		(exec 3<>"/dev/tcp/$a/$p") 2>/dev/null && { open=$((open + 1)); echo "# still open: $a:$p"; }
	done
done
check "no port of the simulation answers any more" test "$open" = 0
check "the databases' memory folder is gone" test ! -e "$root"
done_testing
