#!/usr/bin/env bash
# The man page doc/cutover.1: clean under mandoc -Tlint -Wstyle, and it
# describes every command of the command table (cutover --help lists it),
# every option each command accepts (the getopt tables the completion script
# is written from) and every configuration key and section world/config.c
# reads. The checker is also run on copies with one command, one option and
# one key taken out, which it must refuse.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
man=$top/doc/cutover.1
T=$(mktemp -d /tmp/cutover-manpage.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..6"

# mandoc also says when the machine's own mandoc.db is stale, and when a page
# SEE ALSO names is not installed here (a machine whose packages were
# installed without their man pages): both about the machine, not the page.
# Every other line is about the page and fails.
machine='mandoc\.db|referenced manual not found: Xr (crontab 1|ssh 1|sshd 8)$'
if ! command -v mandoc >/dev/null; then
	nok "mandoc -Tlint -Wstyle" "mandoc is not installed; run make deps"
elif mandoc -Tlint -Wstyle "$man" >"$T/lint" 2>&1; ! grep -Ev "$machine" "$T/lint" | grep -q .; then
	ok "mandoc -Tlint -Wstyle says nothing about doc/cutover.1"
else
	nok "mandoc -Tlint -Wstyle doc/cutover.1" "$(grep -Ev "$machine" "$T/lint" | head -10)"
fi

# What the page must describe, from the program and config.c.
"$build/cutover" --help | awk '/^Commands:/{c=1; next} c && /^  [a-z]/{print $1}' >"$T/commands"
bash -c 'source <("$1" completion bash) || exit 1
	for c in $_cutover_commands; do
		_cutover_command_info "$c"
		for o in $_cutover_opts; do echo "$c $o"; done
	done' _ "$build/cutover" >"$T/options"
grep -o 'strcmp(name, "[a-z_]*")' "$top/coordinator/world/config.c" | sed 's/.*"\(.*\)")/\1/' | sort -u >"$T/keys"
sed -n 's/.*sect_names\[S_COUNT\] = {\(.*\)};/\1/p' "$top/coordinator/world/config.c" | tr -d '" ' | tr ',' '\n' |
	grep . >"$T/sections"

# check MANFILE: prints what MANFILE lacks; exits 1 when anything.
check() {
	python3 - "$1" "$T/commands" "$T/options" "$T/keys" "$T/sections" <<'PY'
import re, sys
man = open(sys.argv[1]).read()
lines = lambda p: [l.strip() for l in open(p) if l.strip()]
missing = []
for c in lines(sys.argv[2]):
    # a command's entry: .Nm then .Cm NAME (in an .It Xo block)
    if not re.search(r'^\.Nm\n\.Cm %s(?: |$)' % re.escape(c), man, re.M):
        missing.append('command %s (no ".Nm" then ".Cm %s")' % (c, c))
for l in lines(sys.argv[3]):
    c, o = l.split()
    fl = 'Fl ' + o[1:]          # --state -> "Fl -state", -c -> "Fl c"
    if not re.search(r'(?:^\.| )%s(?![\w-])' % re.escape(fl), man, re.M):
        missing.append('option %s of %s (no "%s")' % (o, c, fl))
for k in lines(sys.argv[4]):
    if not re.search(r'^\.It Ic %s$' % re.escape(k), man, re.M):
        missing.append('configuration key %s (no ".It Ic %s")' % (k, k))
for s in lines(sys.argv[5]):
    if not re.search(r'^\.Ss \\&\[%s(?:\]| )' % re.escape(s), man, re.M):
        missing.append('configuration section [%s]' % s)
for m in missing:
    print(m)
sys.exit(1 if missing else 0)
PY
}

nc=$(wc -l <"$T/commands"); no=$(wc -l <"$T/options"); nk=$(wc -l <"$T/keys"); ns=$(wc -l <"$T/sections")
if [ "$nc" -ge 18 ] && [ "$no" -ge 100 ] && [ "$nk" -ge 30 ] && [ "$ns" -eq 8 ]; then
	ok "found $nc commands, $no command options, $nk configuration keys, $ns sections to look for"
else
	nok "the lists to check are complete" "commands $nc, options $no, keys $nk, sections $ns"
fi

if check "$man" >"$T/out"; then
	ok "every command, option, configuration key and section is in the man page"
else
	nok "the man page lacks some" "$(head -20 "$T/out")"
fi

# The checker refuses a page without one command, one option, one key.
sed '/^\.Nm$/{N; /\n\.Cm cron$/d}' "$man" >"$T/m1"
if ! check "$T/m1" >"$T/out" && grep -q '^command cron ' "$T/out"; then
	ok "a page without the cron command fails"
else
	nok "a page without the cron command fails" "$(head -5 "$T/out")"
fi
sed 's/Fl -ignore-agent/Fl -ignored/g' "$man" >"$T/m2"
if ! check "$T/m2" >"$T/out" && grep -q '^option --ignore-agent of quiet' "$T/out"; then
	ok "a page without --ignore-agent fails"
else
	nok "a page without --ignore-agent fails" "$(head -5 "$T/out")"
fi
sed '/^\.It Ic sslrootcert$/d' "$man" >"$T/m3"
if ! check "$T/m3" >"$T/out" && grep -q '^configuration key sslrootcert' "$T/out"; then
	ok "a page without the sslrootcert key fails"
else
	nok "a page without the sslrootcert key fails" "$(head -5 "$T/out")"
fi
