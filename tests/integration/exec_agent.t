#!/usr/bin/env bash
# Agent delivery: uploaded once into a private folder, reused while its
# SHA-256 matches, replaced when tampered with; sudo without a password.
# exec_agent_ssm.t runs it over SSM (the last part, a user without sudo rights,
# then still goes over SSH to the test hosts: the simulated instances have no
# such user).
. "$(dirname "$0")/exec-lib.sh"
H=5
cache="$(hdir $H)/.cache/cutover"
agent="$cache/cutover-agent-x86_64"
rm -rf "$cache"

cx $H -- true
check "first run uploads and runs" eq "$rc" 0
check "agent stored in ~/.cache/cutover" test -x "$agent"
check "cache folder is private (0700)" eq "$(stat -c %a "$cache")" "700"
check "agent owned by the login user" eq "$(stat -c %U "$agent")" "$SSHD_USER"
check "stored agent is the embedded one" cmp -s "$agent" "$CUTOVER_BUILD/agent/cutover-agent-x86_64"
ino1=$(stat -c %i "$agent")
cx $H -- true
check "second run reuses the cached agent (same file)" eq "$(stat -c %i "$agent")" "$ino1"

# Tamper: a changed byte must be noticed and the binary replaced.
printf 'X' | dd of="$agent" bs=1 seek=100 conv=notrunc 2>/dev/null
cx $H -- echo after-tamper
check "tampered agent: command still runs" eq "$(cat "$T/out")" "after-tamper"
check "tampered agent was replaced (new file)" test "$(stat -c %i "$agent")" != "$ino1"
check "replacement matches the embedded agent" cmp -s "$agent" "$CUTOVER_BUILD/agent/cutover-agent-x86_64"

# An agent of another version (here: a script answering nothing) is replaced.
printf '#!/bin/sh\necho not-an-agent\n' >"$agent"
cx $H -- echo after-swap
check "foreign agent replaced, command runs" eq "$(cat "$T/out")" "after-swap"
check "foreign agent replaced by the embedded one" cmp -s "$agent" "$CUTOVER_BUILD/agent/cutover-agent-x86_64"

# With --sudo the hash is checked and the agent run by root from a folder only
# root can write (not the login user's cache, which could be swapped between
# the check and the exec).
cx $H --sudo -- sh -c 'readlink /proc/$PPID/exe'
check "--sudo: the agent runs from root's own folder" eq "$(dirname "$(cat "$T/out")")" /var/lib/cutover/agent
check "  which is root's and private (0700)" eq "$(stat -c '%U %a' /var/lib/cutover/agent)" "root 700"
check "  a copy checked against the embedded agent" cmp -s "$(cat "$T/out")" "$CUTOVER_BUILD/agent/cutover-agent-x86_64"
# A cache swapped after the login user's check reaches root's copy only if it matches.
printf '#!/bin/sh\necho swapped\n' >"$agent"
cx $H --sudo -- echo after-swap-sudo
check "--sudo: a swapped cache is replaced, not run" eq "$(cat "$T/out")" "after-swap-sudo"

# sudo that wants a password (a user without sudo rights): a clear sentence, 255.
"$CUTOVER" exec --host "$SSHD_USER_NOSUDO@127.0.0.1:${PORTS[$H]}" --identity "$SSHD_KEY" \
	--known-hosts "$SSHD_KNOWN_HOSTS" --sudo -- touch "$T/sudo-ran" >"$T/out" 2>"$T/err"; rc=$?
check "sudo with a password: 255" eq "$rc" 255
check "sudo with a password: says what to do" has "$T/err" "sudo.*wants a password"
check "sudo with a password: nothing ran" test ! -e "$T/sudo-ran"
"$CUTOVER" exec --host "$SSHD_USER_NOSUDO@127.0.0.1:${PORTS[$H]}" --identity "$SSHD_KEY" \
	--known-hosts "$SSHD_KNOWN_HOSTS" -- id -un >"$T/out" 2>"$T/err"; rc=$?
check "the same user without --sudo runs as itself" eq "$(cat "$T/out")" "$SSHD_USER_NOSUDO"
echo "1..$n"
