#!/usr/bin/env bash
# cutover manage against the Django fixture laid out on the sshd hosts
# like EB instances, with PostgreSQL: migrate for real, a chosen exit code.
. "$(dirname "$0")/exec-lib.sh"
: "${PG_PORT:?the postgres service is not up}"
H=7
d=$(hdir $H)
m() {
	"$CUTOVER" manage --host "$(host $H)" --identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS" \
		--app-dir "$d/var/app/current" --env-file "$d/opt/elasticbeanstalk/deployment/env" \
		--python "$d/var/app/venv/*/bin/python" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
psql_q() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d cobalt -Atc "$1"; }

m --sudo -- migrate --noinput
check "manage migrate exits 0" eq "$rc" 0
check "migrate applied migrations" has "$T/out" "Apply"
check "migrations recorded in PostgreSQL" test "$(psql_q 'select count(*) from django_migrations')" -gt 0
m --sudo -- migrate --noinput
check "second migrate: nothing to apply" has "$T/out" "No migrations to apply"

m -- exit_with 42
check "manage command's exit code passed through" eq "$rc" 42
check "its stdout arrives on stdout" eq "$(cat "$T/out")" "exit_with: stdout, status 42"
check "its stderr arrives on stderr" eq "$(cat "$T/err")" "exit_with: stderr, status 42"
m -- exit_with 0
check "manage exit 0" eq "$rc" 0

m -- no_such_command
check "unknown manage command fails (1)" eq "$rc" 1
check "Django's message on stderr" has "$T/err" "Unknown command"

m --python /no/python -- check
check "missing interpreter is a clear failure" test "$rc" -ne 0
echo "1..$n"
