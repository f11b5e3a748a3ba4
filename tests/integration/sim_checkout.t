#!/usr/bin/env bash
# `make demo` (tests/sim/up) from a checkout other users cannot enter (a clone
# in a 0700 home folder, as Debian 12 makes them): refused at once, before
# anything starts, with the command that fixes it, instead of "instance ...
# did not come up" minutes later.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

home=$(mktemp -d /tmp/cutover-home.XXXXXX)   # mktemp -d makes it 0700, like a Debian 12 home
sd=$(mktemp -d /tmp/cutover-checkout-sim.XXXXXX); chmod 755 "$sd"   # the simulation's own folder is fine
trap 'rm -rf "$home"; [ -e "$sd/sim/sim.json" ] && "$top/tests/sim/down" "$sd/sim" >/dev/null 2>&1; rm -rf "$sd"' EXIT
mkdir -p "$home/cutover/tests"
cp -a "$top/tests/sim" "$top/tests/fixture" "$home/cutover/tests/"
start=$(date +%s)
"$home/cutover/tests/sim/up" "$sd/sim" >"$home/out" 2>&1; rc=$?
check "up refuses a checkout in a 0700 folder" "[ $rc -ne 0 ]"
check "at once (no instance was started)" "[ \$(( \$(date +%s) - $start )) -lt 10 ] && [ ! -e '$sd/sim/sim.json' ]"
check "naming the folder and the command that fixes it" "grep -qF 'chmod o+x $home' '$home/out'"
# Two closed folders (a 0700 home inside a 0700 parent): both named in one
# sentence, so one command fixes the checkout (a newcomer needed two rounds).
outer=$(mktemp -d /tmp/cutover-outer.XXXXXX); mkdir -p "$outer/home"; chmod 700 "$outer/home"
cp -a "$home/cutover" "$outer/home/"
"$outer/home/cutover/tests/sim/up" "$sd/sim" >"$home/out3" 2>&1
check "two closed folders are named together, with one command for both" "grep -qF 'chmod o+x $outer $outer/home' '$home/out3'"
rm -rf "$outer"
chmod o+x "$home"
"$home/cutover/tests/sim/up" --help >"$home/out2" 2>&1
check "after chmod o+x the checkout is accepted (usage, not the refusal)" "grep -q 'usage: tests/sim/up ' '$home/out2' && ! grep -q 'cannot enter' '$home/out2'"
echo "1..$n"
