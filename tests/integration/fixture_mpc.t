#!/usr/bin/env bash
# mpc_sync against the simulated Masterpoints Centre, and its danger: with no
# answer from GLOBAL_MPSERVER it deletes every MPBatch (MPTran cascades) and
# still exits 0.
. "$(dirname "$0")/../fixture/testlib.sh"
fixture_setup
# The 10 s timeout, measured in the background while the rest runs: one query
# against a server that accepts and never answers.
start_mpc hang --mode hang
"$FIX/lay-instance" "$T/hang-host" --env "GLOBAL_MPSERVER=$MPC_URL"
s=$(date +%s.%N)
( manage "$T/hang-host" shell -c 'from masterpoints.mpc import query_list; print("rows", len(query_list("mpci-clubs")))' >"$T/hang" 2>&1
  date +%s.%N >"$T/hang.end" ) &
hang_pid=$!
start_mpc mpc
new_instance i1 ebdb --env "GLOBAL_MPSERVER=$MPC_URL"
manage "$T/i1" fixture_migrate after -v0 >/dev/null 2>&1 && manage "$T/i1" seed_fixture >/dev/null 2>&1 &&
	manage "$T/i1" temp_copy_unreg_to_user >/dev/null 2>&1
ok $? "seeded, migrated and converted (mpc_sync runs after the conversion)"
counts() { q ebdb "select (select count(*) from masterpoints_mpbatch)||','||(select count(*) from masterpoints_mptran)||','||(select count(*) from organisations_organisation)||','||(select count(*) from masterpoints_clubmembershiphistory)||','||(select count(*) from masterpoints_masterpointevent)||','||(select count(*) from masterpoints_rank)"; }
check "before sync: 3 batches, 6 transactions, 3 organisations" test "$(counts)" = "3,6,3,0,1,0"

manage "$T/i1" mpc_sync >"$T/sync1" 2>&1; ok $? "mpc_sync exits 0"
check "sync added batch 1004, tran 2007, club 5501, membership, event 7002, ranks" test "$(counts)" = "4,7,4,2,2,3"
check "new MPC player became an unregistered user (Kate King 620201)" test "$(q ebdb "select first_name||' '||last_name||' '||origin from accounts_unregistereduser where system_number=620201")" = "Kate King MPCS"
check "players matched by ABF number got their MPC id (converted Grace: 201)" test "$(q ebdb "select old_mpc_id from accounts_user where system_number=620001")" = 201
check "it pulled over HTTP from GLOBAL_MPSERVER (paged batches)" grep -q '^GET /mpci-batches/0/5000 200$' "$T/mpc.log"
manage "$T/i1" mpc_sync >"$T/sync2" 2>&1; rc=$?
ok $([ $rc -eq 0 ] && [ "$(counts)" = "4,7,4,2,2,3" ]; echo $?) "second sync upserts by old_mpc_id: nothing duplicated"

# The danger: nothing listening at GLOBAL_MPSERVER.
dead=$(free_port)
sed -i "s|^GLOBAL_MPSERVER=.*|GLOBAL_MPSERVER=http://127.0.0.1:$dead|" "$T/i1/opt/elasticbeanstalk/deployment/env"
manage "$T/i1" mpc_sync >"$T/sync3" 2>&1; rc=$?
ok $rc "unreachable MPC: mpc_sync still exits 0"
check "unreachable MPC: every MPBatch deleted, every MPTran cascaded" test "$(q ebdb "select (select count(*) from masterpoints_mpbatch)||','||(select count(*) from masterpoints_mptran)")" = "0,0"
check "unreachable MPC: the only sign is a printed connection error" grep -q 'Connection refused' "$T/sync3"
check "unreachable MPC: other tables kept (upserts only)" test "$(q ebdb "select count(*) from organisations_organisation")" = 4

# An MPC that answers with nothing is just as bad.
start_mpc empty --mode empty
sed -i "s|^GLOBAL_MPSERVER=.*|GLOBAL_MPSERVER=http://127.0.0.1:$(cat "$T/mpc.port")|" "$T/i1/opt/elasticbeanstalk/deployment/env"
manage "$T/i1" mpc_sync >/dev/null 2>&1
check "a good server again restores the batches" test "$(q ebdb "select count(*) from masterpoints_mpbatch")" = 4
sed -i "s|^GLOBAL_MPSERVER=.*|GLOBAL_MPSERVER=http://127.0.0.1:$(cat "$T/empty.port")|" "$T/i1/opt/elasticbeanstalk/deployment/env"
manage "$T/i1" mpc_sync >/dev/null 2>&1; rc=$?
ok $([ $rc -eq 0 ] && [ "$(q ebdb "select count(*) from masterpoints_mpbatch")" = 0 ]; echo $?) "an MPC answering [] also wipes every batch, exit 0"

wait "$hang_pid"; e=$(cat "$T/hang.end")
check "a hung MPC: the query gives up and returns an empty list" grep -qx 'rows 0' "$T/hang"
ok $(/usr/bin/python3 -c "import sys; d=$e-$s; print('# waited', d, file=sys.stderr); sys.exit(0 if 9.5 <= d <= 15 else 1)" 2>>"$T/hang"; echo $?) "a hung MPC: it gives up after the 10 s timeout"
done_testing
