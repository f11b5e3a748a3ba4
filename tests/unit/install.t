#!/usr/bin/env bash
# make install DESTDIR=... puts the program, its man page, the bash
# completion (as the program writes it) and the example configuration where
# PREFIX says; the installed program runs; make uninstall removes them all.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
rel=$(realpath --relative-to="$top" "$build")   # the build's .d files name relative paths
T=$(mktemp -d /tmp/cutover-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..6"

d=$T/root; p=/opt/cutover-t
files="bin/cutover share/man/man1/cutover.1 share/bash-completion/completions/cutover share/doc/cutover/cutover.example.ini"
if make -s -C "$top" BUILD="$rel" PREFIX=$p DESTDIR="$d" install >"$T/out" 2>&1; then
	ok "make install PREFIX=$p DESTDIR=..."
else
	nok "make install" "$(tail -5 "$T/out")"
fi
missing=""; for f in $files; do [ -f "$d$p/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ] && [ -x "$d$p/bin/cutover" ]; then ok "installed: $files"
else nok "installed: $files" "missing:$missing"; fi
if "$d$p/bin/cutover" --version | grep -q '^agent x86_64 '; then ok "the installed cutover runs"
else nok "the installed cutover runs"; fi
if cmp -s "$d$p/share/bash-completion/completions/cutover" <("$build/cutover" completion bash) &&
   cmp -s "$d$p/share/man/man1/cutover.1" "$top/doc/cutover.1" &&
   cmp -s "$d$p/share/doc/cutover/cutover.example.ini" "$top/deploy/cutover.example.ini"; then
	ok "the completion is the program's own, the man page and example are the tree's"
else
	nok "the completion is the program's own, the man page and example are the tree's"
fi
if make -s -C "$top" BUILD="$rel" PREFIX=$p DESTDIR="$d" uninstall >"$T/out" 2>&1; then
	ok "make uninstall"
else
	nok "make uninstall" "$(tail -5 "$T/out")"
fi
left=$(find "$d" -type f | sed "s|^$d||")
if [ -z "$left" ] && [ ! -e "$d$p/share/doc/cutover" ]; then ok "make uninstall leaves no file behind"
else nok "make uninstall leaves no file behind" "$left"; fi
