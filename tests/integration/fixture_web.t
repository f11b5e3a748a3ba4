#!/usr/bin/env bash
# The fixture served like nginx + gunicorn on an EB instance: Host refusal
# (444) except ELB health checks, nginx access-log lines, and Cobalt's
# maintenance mode: 503 for ordinary users while the view (and its writes)
# still runs; exempt paths and superusers answered normally.
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
new_instance i1 ebdb
manage "$T/i1" fixture_migrate after -v0 >/dev/null 2>&1 && manage "$T/i1" seed_fixture >/dev/null 2>&1
ok $? "seeded"
start_web i1
log=$T/i1/var/log/nginx/access.log
envf=$T/i1/opt/elasticbeanstalk/deployment/env
url=http://127.0.0.1:$WEB_PORT
get() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
site=(-H 'Host: myabf.com.au')
count() { q ebdb "select count(*) from $1"; }

check "login page 200 with Host: myabf.com.au" test "$(get "${site[@]}" "$url/accounts/login/")" = 200
curl -s --max-time 10 -o /dev/null "$url/accounts/login/"; rc=$?
ok $([ $rc -eq 52 ]; echo $?) "another Host gets no answer at all (nginx 444: curl 'empty reply')"
curl -s --max-time 10 -o /dev/null -H 'Host: cobalt-production-green.eba-x.ap-southeast-2.elasticbeanstalk.com' "$url/accounts/login/"; rc=$?
ok $([ $rc -eq 52 ]; echo $?) "the environment's own EB name is refused too"
check "ELB health checker answered whatever the Host" test "$(get -A 'ELB-HealthChecker/2.0' -H 'Host: 10.0.1.23' "$url/accounts/login/")" = 200
check "a refused request is logged with status 444" grep -q '"GET /accounts/login/ HTTP/1.1" 444 0 "-" "curl/' "$log"
re='^[0-9.]+ - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} \+0000\] "GET /accounts/login/ HTTP/1.1" 200 [0-9]+ "-" "ELB-HealthChecker/2.0" "-"$'
check "health check logged in nginx main format (UTC, user agent, X-Forwarded-For)" grep -Eq "$re" "$log"
curl -s -o /dev/null -A 'Mozilla/5.0 (X11; Linux) "quoted"' -H 'X-Forwarded-For: 203.0.113.9' -e https://myabf.com.au/ "${site[@]}" "$url/dashboard"
check "user agent, referer and X-Forwarded-For logged, quotes escaped as nginx does (\\x22)" \
	grep -qF '"GET /dashboard HTTP/1.1" 200 35 "https://myabf.com.au/" "Mozilla/5.0 (X11; Linux) \x22quoted\x22" "203.0.113.9"' "$log"

e0=$(count events_evententry)
check "maintenance off: entry 200" test "$(get "${site[@]}" -X POST "$url/events/entry")" = 200
check "maintenance off: entry written (+1 entry, +2 players)" test "$(count events_evententry),$(count events_evententryplayer)" = "$((e0 + 1)),8"

"$FIX/set-env" "$T/i1" MAINTENANCE_MODE=ON --no-restart
check "maintenance mode is read at start only: no change before the restart" test "$(get "${site[@]}" "$url/dashboard")" = 200
"$FIX/set-env" "$T/i1" MAINTENANCE_MODE=ON; ok $? "set-env restarts the app (SIGHUP, env file re-read, same port)"
check "maintenance on: dashboard 503" test "$(get "${site[@]}" "$url/dashboard")" = 503
curl -s "${site[@]}" -X POST "$url/events/entry" >"$T/body"
check "maintenance on: entry answered with the maintenance page" grep -q 'under maintenance' "$T/body"
check "maintenance on: the entry view still ran (rows written)" test "$(count events_evententry),$(count events_evententryplayer)" = "$((e0 + 2)),10"
s0=$(count payments_stripetransaction); m0=$(count payments_membertransaction); o0=$(count payments_organisationtransaction)
check "maintenance on: payment 503" test "$(get "${site[@]}" -X POST "$url/payments/pay")" = 503
check "maintenance on: payment still written (stripe, member, organisation)" test "$(count payments_stripetransaction),$(count payments_membertransaction),$(count payments_organisationtransaction)" = "$((s0 + 1)),$((m0 + 1)),$((o0 + 1))"
l0=$(count payments_stripelog)
check "maintenance on: stripe webhook is not exempt (503)" test "$(get "${site[@]}" -d '{"type":"charge.succeeded","reference":"pi_seed_0001"}' "$url/payments/stripe-webhook")" = 503
check "maintenance on: stripe webhook still logged" test "$(count payments_stripelog)" = $((l0 + 1))
p0=$(count payments_userpendingpayment)
get "${site[@]}" -X POST "$url/payments/pending" >/dev/null
check "maintenance on: pending payment still written" test "$(count payments_userpendingpayment)" = $((p0 + 1))
check "maintenance on: /accounts/login/ exempt (200)" test "$(get "${site[@]}" "$url/accounts/login/")" = 200
check "maintenance on: /notifications/ses/event-webhook/ exempt (200)" test "$(get "${site[@]}" -X POST "$url/notifications/ses/event-webhook/")" = 200
check "maintenance on: /xero/webhook exempt (200)" test "$(get "${site[@]}" -X POST "$url/xero/webhook")" = 200
check "maintenance on: health checks still 200" test "$(get -A 'ELB-HealthChecker/2.0' "$url/accounts/login/")" = 200
check "maintenance on: a superuser logs in" test "$(get "${site[@]}" -c "$T/jar" -d 'username=admin&password=fixture-admin' "$url/accounts/login/")" = 200
check "maintenance on: a superuser gets the real page" test "$(get "${site[@]}" -b "$T/jar" "$url/dashboard")" = 200
check "maintenance on: wrong password refused" test "$(get "${site[@]}" -d 'username=admin&password=nope' "$url/accounts/login/")" = 401

m1=$(count payments_membertransaction)
"$FIX/cron-tick" "$T/i1" >"$T/cron" 2>&1; ok $? "cron-tick runs the crontab's jobs through utils/cron/wrapper.sh"
check "maintenance on: cron still writes (one Auto Top Up)" test "$(count payments_membertransaction),$(q ebdb "select count(*) from payments_membertransaction where type='Auto Top Up'")" = "$((m1 + 1)),1"
check "cron ran every line once, the 'sleep 30;' one too" test "$(grep -c '0 emails sent' "$T/cron")" = 2
cp "$T/i1/var/spool/cron/root" "$T/crontab.saved"; : >"$T/i1/var/spool/cron/root"
"$FIX/cron-tick" "$T/i1" >/dev/null 2>&1
check "an emptied crontab (cron paused) writes nothing" test "$(count payments_membertransaction)" = $((m1 + 1))

"$FIX/set-env" "$T/i1" MAINTENANCE_MODE=on
check "MAINTENANCE_MODE=on (not exactly ON) is off" test "$(get "${site[@]}" "$url/dashboard")" = 200
"$FIX/set-env" "$T/i1" COBALT_HOSTNAME=uat.myabf.com.au
check "COBALT_HOSTNAME decides the accepted Host" test "$(get -H 'Host: uat.myabf.com.au:443' "$url/dashboard")" = 200
curl -s --max-time 10 -o /dev/null "${site[@]}" "$url/dashboard"; rc=$?
ok $([ $rc -eq 52 ]; echo $?) "...and the old name is then refused"
"$FIX/set-env" "$T/i1" COBALT_HOSTNAME=myabf.com.au
check "set-env keeps the env file private (0600)" test "$(stat -c %a "$envf")" = 600
pidf=$T/i1/var/run/cobalt-web.pid
kill -TERM "$(cat "$pidf")"; for _ in $(seq 1 100); do [ -e "$pidf" ] || break; sleep 0.05; done
check "SIGTERM stops the server and removes its pid file" test ! -e "$pidf"
done_testing
