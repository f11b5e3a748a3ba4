#!/usr/bin/env bash
# The layer lint (tests/lint/layers.sh, `make lint`): it passes on the tree and
# fails, naming the file, the line and the rule, on each way a copy of the tree
# can break the layers: an upward include, a bare include, the steps reaching
# past the world port, an exception that no longer occurs, a file outside the
# folders, and ARCHITECTURE.md showing another table.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
lint=$top/tests/lint/layers.sh
T=$(mktemp -d /tmp/lint-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0; fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/out"; }
echo "1..8"

# A fresh copy of what the lint reads, for one change.
copy() {
	rm -rf "$T/w"; mkdir -p "$T/w"
	cp -r "$top/coordinator" "$top/proto" "$top/ARCHITECTURE.md" "$T/w/"
}
# expect_fail NAME PATTERN...: the lint on the copy exits 1 and says each PATTERN.
expect_fail() {
	local name=$1 p; shift
	"$lint" "$T/w" >"$T/out" 2>&1; local rc=$?
	[ "$rc" -eq 1 ] || { notok "$name (exit $rc, not 1)"; return; }
	for p in "$@"; do
		grep -qF -- "$p" "$T/out" || { notok "$name (no '$p')"; return; }
	done
	ok "$name"
}

if "$lint" "$top" >"$T/out" 2>&1 && grep -q '^lint: layers ok' "$T/out"; then
	ok "the tree keeps its layers"
else
	notok "the tree keeps its layers"
fi

copy
echo '#include "aws/client.h"' >>"$T/w/coordinator/base/err.c"
line=$(wc -l <"$T/w/coordinator/base/err.c")
expect_fail "an upward include fails with file, line and rule" \
	"coordinator/base/err.c:$line: includes aws/client.h" "aws is a higher layer than base" \
	"rule: base may include its own files and nothing else"

copy
sed -i 's|#include "aws/eb.h"|#include "eb.h"|' "$T/w/coordinator/aws/eb.c"
expect_fail "a bare include fails and says the folder" \
	'coordinator/aws/eb.c:' '#include "eb.h" names no folder; write #include "aws/eb.h"'

copy
sed -i '0,/^#include "runbook\/engine.h"/s||#include "runbook/engine.h"\n#include "aws/rds.h"|' \
	"$T/w/coordinator/runbook/steps/step_rds.c"
expect_fail "a step reaching past the world port fails" \
	"coordinator/runbook/steps/step_rds.c:" "includes aws/rds.h, but the row of runbook/steps does not name it" \
	"runbook/steps may include its own files and base, world/ops.h, runbook"

copy
sed -i '0,/^#include "world\/ops.h"/s||#include "cli/cmd.h"\n#include "world/ops.h"|' \
	"$T/w/coordinator/world/ops.c"
expect_fail "world including the command line fails" \
	"coordinator/world/ops.c:" "includes cli/cmd.h, but cli is a higher layer than world"

# The tree has no exception today, so the case runs a copy of the lint that
# lists one the tree does not have.
copy
sed "s|^EXCEPTIONS=''\$|EXCEPTIONS='runbook/engine.c  aws/wait.h  # a debt that was paid'|" "$lint" >"$T/lint.sh"
chmod +x "$T/lint.sh"
grep -q "^EXCEPTIONS='runbook/engine.c" "$T/lint.sh" || echo "# the lint's EXCEPTIONS line changed; this case needs its sed updated"
lint_real=$lint; lint=$T/lint.sh
expect_fail "an exception that no longer occurs fails" \
	"the exception 'runbook/engine.c aws/wait.h' no longer occurs"
lint=$lint_real

copy
: >"$T/w/coordinator/stray.c"
expect_fail "a file outside the layer folders fails" "coordinator/stray.c: stands in no layer folder"

copy
sed -i 's/^cli            base aws remote safety world runbook$/cli            base/' "$T/w/ARCHITECTURE.md"
expect_fail "ARCHITECTURE.md showing another table fails" \
	"ARCHITECTURE.md: its rule table differs"

[ "$fails" -eq 0 ]
