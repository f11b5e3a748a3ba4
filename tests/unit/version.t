#!/usr/bin/env bash
# cutover --version names the agents it carries: one line per architecture
# with the version the agent says in hello (PROTOCOL+BUILD_ID), whose build
# id is the Makefile's AGENT_BUILD_ID and the one in the agent binaries built
# next to it. (test_agent_local checks it against a real hello.)
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
CUTOVER=$build/cutover
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..4"

out=$("$CUTOVER" --version 2>&1); rc=$?
code=$(sed -n 's/^#define CUTOVER_VERSION "\(.*\)"/\1/p' "$top/coordinator/base/version.h")
proto=$(sed -n 's/^#define PROTO_VERSION \([0-9]*\)$/\1/p' "$top/proto/frame.h")
id=$(make -s -C "$top" agent-build-id)
want=$(printf 'cutover %s\nagent x86_64 %s+%s\nagent aarch64 %s+%s' "$code" "$proto" "$id" "$proto" "$id")
if [ "$rc" -eq 0 ] && [ "$out" = "$want" ]; then
	ok "cutover --version names the version and both agents' build id ($proto+$id)"
else
	nok "cutover --version names the version and both agents' build id" "exit $rc" "wanted: $want" "got: $out"
fi
for a in x86_64 aarch64; do
	tag=$(grep -ao 'cutover-agent-build-id:[0-9a-z]*' "$build/agent/cutover-agent-$a" | head -1)
	if [ "$tag" = "cutover-agent-build-id:$id" ]; then
		ok "the $a agent binary carries build id $id"
	else
		nok "the $a agent binary carries build id $id" "found: '$tag'"
	fi
done
if [ "$("$CUTOVER" version 2>&1)" = "$out" ]; then ok "cutover version says the same"
else nok "cutover version says the same" "$("$CUTOVER" version 2>&1)"; fi
