#!/usr/bin/env bash
# report.html in a real browser: `cutover report` writes the report of a
# real demo cutover's journal (tests/unit/report-fixture, its paths put back
# in a fresh state folder); headless Chromium (Debian's chromium) renders it.
# The verdict is read from the rendered DOM, every table of report.md is in
# the page, no Unix time is shown, and the page asks for nothing: Chromium
# runs behind a proxy of this test that counts every request (checked to
# catch a page that does ask). The screenshot goes to BUILD/report-browser.png
# for a person to look at. Without chromium the test fails and says to run
# make deps.
#
# REPORT_PICTURE=FILE also writes the README's picture (doc/report.png: the
# top of the page, 1200x1250) from the same page with the same browser.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..9"

if ! command -v chromium >/dev/null 2>&1; then
	nok "chromium is not installed: run make deps (deploy/install-deps installs Debian's chromium), then run this test again"
	exit 1
fi
T=$(mktemp -d /tmp/cutover-rb.XXXXXX)
proxy_pid=""
cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# The state folder of a cutover that ran: the fixture's journal with this
# folder's paths (the row lists it names keep their recorded SHA-256).
state=$T/state config=$T/cutover.ini
mkdir -m 700 "$state"
: >"$config"
cp "$top"/tests/unit/report-fixture/*.json "$state/"
sed -e "s|@STATE@|$state|g" -e "s|@CONFIG@|$config|g" "$top/tests/unit/report-fixture/journal.jsonl" \
    >"$state/journal.jsonl"
if "$build/cutover" report --state "$state" >"$T/out" 2>&1 && [ -s "$state/report.html" ]; then
	ok "cutover report writes report.md and report.html"
else
	nok "cutover report writes report.md and report.html" "$(head -5 "$T/out")"
fi
if head -1 "$T/out" | grep -q '^Verdict: Succeeded: every step of `cutover run` is done' &&
   grep -qxF "    cutover tidy -c $config --state $state" "$T/out"; then
	ok "cutover report prints the verdict first and the next command with the run's paths"
else
	nok "cutover report prints the verdict first and the next command with the run's paths" "$(head -12 "$T/out")"
fi

# A proxy that answers every request 502 and writes down its first line.
python3 - "$T/port" "$T/requests" <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        first = c.recv(4096).split(b"\r\n")[0].decode("latin-1")
    except Exception:
        first = "(nothing read)"
    with open(sys.argv[2], "a") as f:
        f.write(first + "\n")
    try:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except Exception:
        pass
    c.close()
EOF
proxy_pid=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
: >"$T/requests"
chrome() {
	# A profile of its own; as little in the background as the flags allow;
	# every request through the counting proxy, loopback included.
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	    --no-first-run --no-default-browser-check --disable-background-networking \
	    --disable-component-update --disable-sync --disable-default-apps --disable-extensions \
	    --disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate \
	    --user-data-dir="$T/profile" --proxy-server="http://127.0.0.1:$(cat "$T/port")" \
	    --proxy-bypass-list='<-loopback>' "$@" 2>>"$T/chromium.log"
}
# The requests a page made: Debian's Chromium still asks its own update
# and sign-in services at every start, whatever it shows (no flag stops
# those); they serve no page, so they are not the page's.
page_requests() {
	grep -Ev '^(CONNECT|GET|POST) (https?://)?(update\.googleapis\.com|accounts\.google\.com|clients2\.google\.com)[:/]' \
	    "$T/requests"
}

chrome --dump-dom "file://$state/report.html" >"$T/dom.html"
# What the browser shows: the verdict section's text, the tables, the text.
python3 - "$T/dom.html" "$state/report.md" >"$T/dom.txt" <<'EOF'
import html.parser, re, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.verdict, self.text, self.tables, self.first_h2 = [], [], [], 0, None
        self.in_verdict = 0
        self.skip = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.text.append(" ")
        if self.in_verdict:
            self.verdict.append(" ")
        if tag == "section" and a.get("id") == "verdict":
            self.in_verdict = 1
        elif self.in_verdict and tag == "section":
            self.in_verdict += 1
        if tag == "table":
            self.tables += 1
        if tag in ("style", "title"):
            self.skip += 1
        if tag == "h2" and self.first_h2 is None:
            self.first_h2 = "verdict" if self.in_verdict else "other"
    def handle_endtag(self, tag):
        if tag == "section" and self.in_verdict:
            self.in_verdict -= 1
        if tag in ("style", "title"):
            self.skip -= 1
    def handle_data(self, d):
        if self.skip:
            return
        self.text.append(d)
        if self.in_verdict:
            self.verdict.append(d)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
md = open(sys.argv[2], encoding="utf-8").read().split("\n")
md_tables = sum(1 for i in range(1, len(md)) if md[i].startswith("|---") and md[i - 1].startswith("|"))
verdict = re.sub(r"\s+", " ", "".join(p.verdict))
text = "".join(p.text)
epochs = re.findall(r"(?<![0-9A-Za-z])1[6-9]\d{8}(?:\d{3})?(?![0-9A-Za-z])", text + "\n".join(md))
print("first_h2=%s" % p.first_h2)
print("tables_html=%d tables_md=%d" % (p.tables - 1, md_tables))   # less the verdict's own
print("epochs=%s" % " ".join(epochs))
print("verdict=%s" % verdict)
EOF
verdict=$(sed -n 's/^verdict=//p' "$T/dom.txt")
if grep -qx 'first_h2=verdict' "$T/dom.txt" &&
   [[ "$verdict" == *"Verdict: Succeeded Succeeded: every step of cutover run is done and the site runs on cobalt-production-green"* ]]; then
	ok "the rendered page opens with the verdict: Succeeded"
else
	nok "the rendered page opens with the verdict: Succeeded" "$(head -c 600 "$T/dom.txt")"
fi
want_site="Site myabf.com.au and www.myabf.com.au point to cobalt-production-green (the new environment) since 2026-12-05 14:51:32 UTC."
want_next="cutover tidy -c $config --state $state"
if [[ "$verdict" == *"$want_site"* && "$verdict" == *"$want_next"* &&
      "$verdict" == *"Blocked emails 249 of 250 restored; 1 NOT restored (no user with their system number): mia.moss@example.com (system number 731045)."* &&
      "$verdict" == *"Smoke checks 4 of 4 passed."* && "$verdict" == *"Lost writes 0: nothing was written"* &&
      "$verdict" == *"Users converted 218 (unregistered users on the new system: 220 before, 2 after)."* &&
      "$verdict" == *"Parity 23 of 23 compared table(s) equal"*"6 more left out by design"* &&
      "$verdict" == *"Write freeze the live database refused writes from 2026-12-05 14:51:02 UTC, and no write landed after it"* &&
      "$verdict" == *"Window Downtime 1 min 17 s, from 2026-12-05 14:50:34 UTC"* ]]; then
	ok "the verdict says where the site points, the window, the data-safety lines and the next command"
else
	nok "the verdict says where the site points, the window, the data-safety lines and the next command" "$verdict"
fi
tables=$(sed -n 's/^tables_html=//p' "$T/dom.txt")
if [[ "$tables" =~ ^([0-9]+)\ tables_md=([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
   [ "${BASH_REMATCH[2]}" -ge 4 ] && grep -q '<h2 id="waits">Waits</h2>' "$T/dom.html"; then
	ok "every table of report.md is in the page (${BASH_REMATCH[2]}, the Waits table too)"
else
	nok "every table of report.md is in the page" "$tables"
fi
if grep -qx 'epochs=' "$T/dom.txt"; then
	ok "no Unix time in the page or report.md"
else
	nok "no Unix time in the page or report.md" "$(grep '^epochs=' "$T/dom.txt")"
fi

chrome --screenshot="$build/report-browser.png" --window-size=1200,1600 "file://$state/report.html" >/dev/null
if [ "$(head -c 8 "$build/report-browser.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
   [ "$(stat -c %s "$build/report-browser.png")" -gt 20000 ]; then
	ok "screenshot for a person to look at: $build/report-browser.png"
else
	nok "screenshot for a person to look at: $build/report-browser.png" "$(tail -5 "$T/chromium.log")"
fi
if [ -n "${REPORT_PICTURE:-}" ]; then
	chrome --screenshot="$REPORT_PICTURE" --window-size=1200,1250 "file://$state/report.html" >/dev/null
	echo "# README picture written: $REPORT_PICTURE ($(stat -c %s "$REPORT_PICTURE") bytes)"
fi
if ! grep -Eq 'https?:|<link|<script|<img|<iframe|url\(' "$state/report.html" && [ -z "$(page_requests)" ]; then
	ok "the page stands alone: no URL in it, and rendering it asked the network for nothing"
else
	nok "the page stands alone" "$(grep -Eo '.{30}(https?:|<link|<script|<img|url\().{30}' "$state/report.html" | head -3)" "$(page_requests | head -5)"
fi
# The proxy would have seen a page that asks: one with an external image and font.
printf '<!DOCTYPE html><html><head><link rel="stylesheet" href="http://fonts.example.invalid/a.css">' >"$T/asks.html"
printf '</head><body><img src="http://cdn.example.invalid/x.png"></body></html>\n' >>"$T/asks.html"
chrome --dump-dom "file://$T/asks.html" >/dev/null
if page_requests | grep -q 'fonts\.example\.invalid' && page_requests | grep -q 'cdn\.example\.invalid'; then
	ok "the request count is real: a page with an external stylesheet and image is caught"
else
	nok "the request count is real: a page with an external stylesheet and image is caught" "$(tail -5 "$T/chromium.log")"
fi
