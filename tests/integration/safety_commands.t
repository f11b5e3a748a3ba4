#!/usr/bin/env bash
# The data-safety commands end to end with --local-agent (the SSH path, -c
# FILE, is tested in exec_env.t): exit statuses, files written, messages.
. "$(dirname "$0")/../fixture/testlib.sh"
B=${CUTOVER_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
CUT="$B/cutover"; AGENT="$B/agent/cutover-agent-x86_64"
fixture_setup
new_instance live live >/dev/null
manage "$T/live" fixture_migrate before >/dev/null
manage "$T/live" seed_fixture >/dev/null
# The new system: a copy of live, migrated (FK -> accounts_user) and converted.
createdb -T live new
"$FIX/lay-instance" "$T/new" --link --db-env "$T/postgres.env" --db new >/dev/null
manage "$T/new" fixture_migrate after >/dev/null
manage "$T/new" temp_copy_unreg_to_user >/dev/null
L=(--local-agent "$AGENT" --env-file "$T/live/opt/elasticbeanstalk/deployment/env")
N=(--local-agent "$AGENT" --env-file "$T/new/opt/elasticbeanstalk/deployment/env")
cd "$T"

"$CUT" blocked-emails backup "${L[@]}" --file "$T/be.json" >out 2>err; ok $? "blocked-emails backup exits 0"
grep -q "Backed up 4 blocked emails" out; ok $? "backup says how many rows"
[ "$(stat -c %a "$T/be.json")" = 600 ]; ok $? "backup file is mode 0600"
sha256sum -c --quiet "$T/be.json.sha256" >/dev/null 2>&1 || (cd "$T" && sha256sum -c --quiet be.json.sha256); ok $? "the .sha256 file checks with sha256sum -c"

"$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "differ from the backup" err && grep -q "In the backup, missing" out; ok $? "verify lists differences and exits 1 (raw ids name the wrong people after 0055)"
"$CUT" blocked-emails restore "${N[@]}" --file "$T/be.json" --replace >out 2>err; ok $? "restore --replace exits 0"
grep -q "4 added" out && grep -q "4 removed" out; ok $? "restore reports added and removed rows"
"$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err; ok $? "verify passes after restore"
# Grace's account gets another system number: her block now names 999001 (an
# extra row), and her backed-up number 620001 has no one to map to.
q new "UPDATE accounts_user SET system_number = 999001 WHERE system_number = 620001" >/dev/null
"$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "On the system, not in the backup (1)" out; ok $? "verify: an extra row fails it (exit 1) even beside an unrestorable person"
q new "DELETE FROM notifications_unregisteredblockedemail WHERE email = 'grace.green@example.com'" >/dev/null
"$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err; rc=$?
[ $rc -eq 0 ] && grep -q "^Warning: .*cannot be restored (1)" out && grep -qE "^  620001 +grace.green@example.com" out && grep -q "What to do: create" out && [ ! -s err ]
ok $? "verify: only an unrestorable person differs: a warning with what to do, exit 0"
q new "UPDATE accounts_user SET system_number = 620001 WHERE system_number = 999001" >/dev/null
"$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err; rc=$?
[ $rc -eq 1 ] && grep -q "1 missing that could be restored" err; ok $? "verify: a missing row that could be restored fails it (exit 1)"
"$CUT" blocked-emails restore "${N[@]}" --file "$T/be.json" >/dev/null 2>&1 && "$CUT" blocked-emails verify "${N[@]}" --file "$T/be.json" >out 2>err
ok $? "restored again, verify passes"

since=$(q live "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
"$CUT" verify "${L[@]}" --since "$since" --csv "$T/lw.csv" --markdown "$T/lw.md" >out 2>err; ok $? "verify with nothing written exits 0"
grep -q "nothing was lost" out && grep -q "nothing was lost" "$T/lw.md"; ok $? "zero lost writes said in words"
q live "INSERT INTO payments_stripelog (created_date, event, event_type, cobalt_pay_id) VALUES (now(), '{}', 'charge.refunded', 'pi_late')" >/dev/null
"$CUT" verify "${L[@]}" --since "$since" --csv "$T/lw.csv" >out 2>err; rc=$?
[ $rc -eq 3 ] && grep -q "payments_stripelog" out && grep -q "cobalt_pay_id=pi_late" "$T/lw.csv"; ok $? "a write after the snapshot is listed (exit 3, CSV)"
"$CUT" activity "${N[@]}" --since 2026-01-07T00:00:00+11:00 --csv "$T/act.csv" >out 2>err; ok $? "activity exits 0"
grep -q "events_evententry" "$T/act.csv"; ok $? "activity CSV lists the entries"
"$CUT" verify "${L[@]}" >out 2>err; [ $? -eq 2 ]; ok $? "verify without --since is a usage error"

: >"$T/live/var/log/nginx/access.log"
( for i in $(seq 40); do echo "1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 1 \"-\" \"Mozilla\" \"-\"" >>"$T/live/var/log/nginx/access.log"; sleep 0.1; done ) &
"$CUT" quiet "${L[@]}" --log "$T/live/var/log/nginx/access.log" --interval 0.2 --quiet-period 1 --deadline 1.5 --yes >out 2>err; rc=$?
wait
[ $rc -eq 1 ] && grep -q "did not go quiet" err; ok $? "quiet --yes stops at the deadline while requests keep coming"
"$CUT" quiet "${L[@]}" --log "$T/live/var/log/nginx/access.log" --interval 0.2 --quiet-period 1 --deadline 10 --yes >out 2>err; ok $? "quiet ends once nothing arrives"
grep -q "The live site is quiet" out; ok $? "quiet says so"

# The SSH path (-c FILE) is tested against the simulated production in
# exec_env.t; here: a configuration that cannot be read is one clear sentence.
"$CUT" blocked-emails backup -c /nonexistent.ini >out 2>err; [ $? -eq 1 ] && grep -q "/nonexistent.ini" err; ok $? "an unreadable configuration is named in one sentence"
done_testing
