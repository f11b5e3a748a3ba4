#!/usr/bin/env bash
# tests/harness/cleanup, which tests/run calls when a run ends: it removes the
# users the harness made (with their sudoers files, homes and crontabs), the
# root-only agent copies and finished test folders, but only when no other run
# holds the harness lock and no other test folder has a live server. Here
# against a user and folders of its own (the real ones serve this very run).
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

T=$(mktemp -d /tmp/cutover-cleanup-t.XXXXXX)
u="cutover-z$$"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; userdel "$u" 2>/dev/null; rm -f "/etc/sudoers.d/$u"; rm -rf "/home/$u" "$T"' EXIT
export CUTOVER_HARNESS_LOCK="$T/lock" CUTOVER_HARNESS_USERS="$u" CUTOVER_HARNESS_TMP="$T/tmp" \
	CUTOVER_HARNESS_VARLIB="$T/varlib"
mkdir -p "$T/tmp/cutover-test.done1/sshd-hosts/h0/client" "$T/tmp/cutover-test.live1/sshd-hosts/h0" \
	"$T/varlib/agent" "/home/$u"
echo 999999999 >"$T/tmp/cutover-test.done1/sshd-hosts/h0/sshd.pid"     # a server long gone
echo key >"$T/tmp/cutover-test.done1/sshd-hosts/h0/client/id_ed25519"
echo agent >"$T/varlib/agent/cutover-agent-x86_64-abc"
useradd -M -d "/home/$u" -s /bin/bash "$u"
echo "$u ALL=(ALL) NOPASSWD: ALL" >"/etc/sudoers.d/$u"; chmod 440 "/etc/sudoers.d/$u"
there() { id "$u" >/dev/null 2>&1 && [ -f "/etc/sudoers.d/$u" ]; }

# Another run holds its shared lock: nothing is removed.
( exec 7>>"$T/lock"; flock -s 7; exec sleep 60 ) & holder=$!; pids+=("$holder")
for _ in $(seq 50); do [ -e "$T/lock" ] && ! flock -x -n "$T/lock" true && break; sleep 0.1; done
"$top/tests/harness/cleanup" >"$T/out1" 2>&1
check "with another run holding the lock it exits 0" "[ $? -eq 0 ]"
check "and removes nothing" "there && [ -d '$T/tmp/cutover-test.done1' ] && [ -d '$T/varlib/agent' ]"
check "saying another run uses the harness" "grep -q 'another test run is using the harness' '$T/out1'"
kill "$holder"; wait "$holder" 2>/dev/null

# A run of an older tests/run (no lock) whose server still runs: nothing either.
sleep 60 & srv=$!; pids+=("$srv")
echo "$srv" >"$T/tmp/cutover-test.live1/sshd-hosts/h0/sshd.pid"
"$top/tests/harness/cleanup" >"$T/out2" 2>&1
check "with a live test folder it removes nothing" "there && [ -d '$T/tmp/cutover-test.done1' ]"
check "naming that folder" "grep -q 'cutover-test.live1 is still going' '$T/out2'"
kill "$srv"; wait "$srv" 2>/dev/null

# The last run: everything the harness added goes.
"$top/tests/harness/cleanup" >"$T/out3" 2>&1
check "the last run's cleanup exits 0" "[ $? -eq 0 ]"
check "the user is removed" "! id '$u' >/dev/null 2>&1"
check "  with its passwordless sudo" "[ ! -e '/etc/sudoers.d/$u' ]"
check "  and its home" "[ ! -e '/home/$u' ]"
check "finished test folders (keys included) are removed" "[ ! -e '$T/tmp/cutover-test.done1' ] && [ ! -e '$T/tmp/cutover-test.live1' ]"
check "the root-only agent copies are removed" "[ ! -e '$T/varlib' ]"
check "tests/run calls it when a run ends" "grep -q 'tests/harness/cleanup' '$top/tests/run'"
echo "1..$n"
