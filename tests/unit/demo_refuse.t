#!/usr/bin/env bash
# `make demo` from a checkout other users cannot enter (a 0700 home folder)
# refuses at once: the one sentence of tests/sim/up, a non-zero exit, no word
# of taking down or keeping a simulation that never came up, and no demo
# folder left behind. The checkout is a copy of tests/sim inside a 0700
# folder (fixture and fakeaws linked), so no simulation is started.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
T=$(mktemp -d /tmp/cutover-demo-refuse.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..4"

if [ "$(id -u)" -ne 0 ]; then
	# The demo refuses a non-root user before it looks at the checkout.
	for i in 1 2 3 4; do nok "demo_refuse.t runs as root, as CI does"; done
	exit 0
fi
co=$T/home/dev/cutover
chmod 755 "$T"
mkdir -p "$co/tests" "$T/tmp"
chmod 700 "$T/home/dev"
cp -r "$top/tests/sim" "$co/tests/sim"
ln -s "$top/tests/fixture" "$co/tests/fixture"
ln -s "$top/tests/fakeaws" "$co/tests/fakeaws"

TMPDIR=$T/tmp "$co/tests/sim/demo" "$build" >"$T/out" 2>&1; rc=$?
if [ "$rc" -ne 0 ]; then ok "the demo exits non-zero ($rc)"
else nok "the demo exits non-zero" "$(cat "$T/out")"; fi
if [ "$(grep -c . "$T/out")" -eq 1 ] && grep -q "^sim up: the checkout $co is inside $T/home/dev, which other users cannot enter (.* mode 700).*chmod o+x $T/home/dev" "$T/out"; then
	ok "it prints the refusal sentence and only that"
else
	nok "it prints the refusal sentence and only that" "$(cat "$T/out")"
fi
if ! grep -Eq 'taking the simulation down|state folder kept|bringing the simulated' "$T/out"; then
	ok "no word of a simulation that never came up"
else
	nok "no word of a simulation that never came up" "$(cat "$T/out")"
fi
left=$(ls -A "$T/tmp")
if [ -z "$left" ]; then ok "no demo folder is left behind"
else nok "no demo folder is left behind" "$left"; fi
