#!/usr/bin/env bash
# make deb: the package builds (deploy/make-deb, into BUILD/deb), lintian
# has nothing to say about it, its Depends are the runtime libraries only, and
# it installs (dpkg -i): cutover --version and man -w cutover work, the
# completion is where bash-completion looks. It is removed again (dpkg -r) on
# every path, so the machine is left as found. Needs root (CI runs as root).
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
rel=$(realpath --relative-to="$top" "$build")
T=$(mktemp -d /tmp/cutover-deb.XXXXXX)
installed=0
cleanup() {
	if [ "$installed" -eq 1 ]; then dpkg -r cutover >>"$T/remove" 2>&1 || cat "$T/remove" >&2; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..8"

if [ "$(id -u)" -ne 0 ]; then
	nok "the package test needs root (dpkg -i)"; exit 1
fi
if dpkg-query -W -f='${Status}' cutover 2>/dev/null | grep -q ' installed$'; then
	nok "cutover is already installed as a package here; the test would replace it (dpkg -r cutover first)"; exit 1
fi

if make -s -C "$top" BUILD="$rel" deb >"$T/build" 2>&1; then
	deb=$(tail -1 "$T/build")
	ok "make deb built $(basename "$deb")"
else
	nok "make deb" "$(tail -15 "$T/build")"; exit 1
fi

# No tag at any level but the experimental and overridden ones.
if lintian -I -E --pedantic --fail-on error,warning,info,pedantic "$deb" >"$T/lintian" 2>&1 &&
   ! grep -v 'running with root privileges' "$T/lintian" | grep -q .; then
	ok "lintian -I -E --pedantic reports nothing"
else
	nok "lintian -I -E --pedantic reports nothing" "$(head -20 "$T/lintian")"
fi

# The package is the project's: its Maintainer is the identity the
# repository's history is written under (its first commit's author), the
# copyright file names it too, and claims no licence the repository does not
# state (it has no LICENSE or COPYING at its top).
who=$(git -C "$top" log --reverse --format='%an <%ae>' 2>/dev/null | head -1)
maint=$(dpkg-deb -f "$deb" Maintainer)
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/cutover/copyright >"$T/copyright" 2>/dev/null
lic=$(sed -n 's/^License: //p' "$T/copyright")
licfile=$(cd "$top" && ls -d LICENSE* LICENCE* COPYING* 2>/dev/null | head -1)
if [ -n "$who" ] && [ "$maint" = "$who" ] && grep -qxF "Upstream-Contact: $who" "$T/copyright" &&
   grep -q "^Copyright: .*$who" "$T/copyright" &&
   if [ -n "$licfile" ]; then [ "$lic" != not-yet-licensed ]; else [ "$lic" = not-yet-licensed ]; fi; then
	ok "Maintainer and copyright name the project ($who); licence: ${licfile:-none stated, none claimed}"
else
	nok "Maintainer and copyright name the project" "git log's author: $who" "Maintainer: $maint" \
		"$(cat "$T/copyright")" "licence file: ${licfile:-none}"
fi

depends=$(dpkg-deb -f "$deb" Depends)
extra=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -v -E '^(libc6|libcurl4|libinih1|libjson-c5|libmsgpackc2|libssh2-1|libssl3|libwebsockets17|libxml2)$')
if [ -n "$depends" ] && [ -z "$extra" ] && grep -q libssh2-1 <<<"$depends"; then
	ok "Depends are the runtime libraries: $depends"
else
	nok "Depends are the runtime libraries" "Depends: $depends" "not a runtime library: $extra"
fi

installed=1
if dpkg -i "$deb" >"$T/install" 2>&1; then
	ok "dpkg -i"
else
	nok "dpkg -i" "$(tail -10 "$T/install")"
fi
if /usr/bin/cutover --version >"$T/v" 2>&1 && grep -q '^cutover ' "$T/v" && grep -q '^agent aarch64 ' "$T/v"; then
	ok "the installed cutover --version: $(head -1 "$T/v")"
else
	nok "the installed cutover --version" "$(cat "$T/v")"
fi
if page=$(man -w cutover 2>"$T/man") && [ "$page" = /usr/share/man/man1/cutover.1.gz ]; then
	ok "man -w cutover finds $page"
else
	nok "man -w cutover" "got '${page:-}' $(cat "$T/man")" \
		"$(grep -rs path-exclude /etc/dpkg/dpkg.cfg.d/ | head -3)"
fi

if dpkg -r cutover >"$T/remove" 2>&1 && installed=0 && [ ! -e /usr/bin/cutover ] &&
   [ ! -e /usr/share/bash-completion/completions/cutover ]; then
	ok "dpkg -r removes it"
else
	nok "dpkg -r removes it" "$(tail -5 "$T/remove")"
fi
