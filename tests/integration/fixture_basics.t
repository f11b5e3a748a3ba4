#!/usr/bin/env bash
# The Cobalt fixture laid out like an EB instance: env file written raw, migrate
# runs against real PostgreSQL through the venv path, exit_with keeps streams
# apart and returns its status.
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
new_instance i1 ebdb --env 'ODD=it'"'"'s "a b"  c' --env MP_USE_DJANGO=NO
envf=$T/i1/opt/elasticbeanstalk/deployment/env

check "env file holds the value raw, quotes and spaces kept" grep -qxF 'ODD=it'"'"'s "a b"  c' "$envf"
check "env file is private (0600)" test "$(stat -c %a "$envf")" = 600
check "venv python is an EB-style staging path" test -x "$T/i1/var/app/venv/staging-LQM1lest/bin/python"
check "empty nginx access log laid out" test -f "$T/i1/var/log/nginx/access.log" -a ! -s "$T/i1/var/log/nginx/access.log"
out=$("$FIX/lay-instance" "$T/x" --bogus 2>&1); rc=$?
ok $([ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ $out == *"unknown option"* ]]; echo $?) "lay-instance refuses a bad option: exit 2, one sentence"

manage "$T/i1" shell -c 'import os; from django.conf import settings as s; print(repr(os.environ["ODD"])); print(s.MP_USE_DJANGO, s.MAINTENANCE_MODE, s.COBALT_HOSTNAME, s.DATABASES["default"]["NAME"])' >"$T/out" 2>&1
check "settings read the env file (raw value, MP_USE_DJANGO=NO kept, RDS_DB_NAME)" \
	grep -qxF "NO OFF myabf.com.au ebdb" "$T/out"
check "value with quotes and spaces reaches the app unchanged" grep -qxF "'it\\'s \"a b\"  c'" "$T/out" 

"$FIX/set-env" "$T/i1" --unset MP_USE_DJANGO NEW="a  b" ODD=changed
check "set-env removes a variable (OptionsToRemove) and sets others raw" \
	test "$(grep -c '^MP_USE_DJANGO=' "$envf"),$(grep -cxF 'NEW=a  b' "$envf"),$(grep -cxF 'ODD=changed' "$envf"),$(grep -c '^ODD=' "$envf")" = "0,1,1,1"
manage "$T/i1" shell -c 'from django.conf import settings as s; print(repr(s.MP_USE_DJANGO))' >"$T/out2" 2>&1
check "MP_USE_DJANGO removed reads as unset (None), not as a value" grep -qx None "$T/out2"

manage "$T/i1" migrate --noinput >"$T/mig" 2>&1; rc=$?
ok $rc "migrate runs against PostgreSQL"
check "migrate created accounts_user" test "$(q ebdb "select to_regclass('accounts_user') is not null")" = t
manage "$T/i1" migrate --noinput >"$T/mig2" 2>&1
check "second migrate has nothing to apply" grep -q "No migrations to apply" "$T/mig2"

gc=$T/i1/opt/elasticbeanstalk/bin/get-config
check "get-config environment -k returns a raw value" test "$("$gc" environment -k NEW)" = "a  b"
check "get-config environment prints the env file as JSON" test "$("$gc" environment | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ODD"], d["RDS_DB_NAME"])')" = "changed ebdb"
manage "$T/i1" fixture_dump >"$T/dump" 2>&1
check "fixture_dump: after migrate, state after, zero rows" test "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["state"], d["blocked_email_fk"], d["counts"]["accounts_user"])' "$T/dump")" = "after accounts_user 0"

manage "$T/i1" exit_with 42 >"$T/o" 2>"$T/e"; rc=$?
ok $([ $rc -eq 42 ]; echo $?) "exit_with 42 exits 42"
check "exit_with stdout only on stdout" test "$(cat "$T/o")" = "exit_with: stdout, status 42"
check "exit_with stderr only on stderr" test "$(cat "$T/e")" = "exit_with: stderr, status 42"
manage "$T/i1" exit_with 0 >/dev/null 2>&1; ok $? "exit_with 0 exits 0"

sed -i 's/^RDS_PORT=.*/RDS_PORT=1/' "$envf"
manage "$T/i1" migrate --noinput >"$T/bad" 2>&1; rc=$?
ok $([ $rc -ne 0 ]; echo $?) "migrate against a dead database port fails (non-zero)"
done_testing
