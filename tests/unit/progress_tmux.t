#!/usr/bin/env bash
# The live wait line on a real terminal: tmux runs a program that waits
# (test_progress --drive: a snapshot with AWS's percent, then a restore with
# only an expected duration, samples on a virtual clock, each released by
# this script) in a detached pane; `tmux capture-pane -p` reads the screen
# after every sample. Each wait must be ONE line that changes in place (not
# a line per poll), fit the pane, say the time left, and stay in its last
# state when the wait ends. The same program with stdout not a terminal
# writes plain lines instead (no \r, no escape codes).
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
DRIVER=$build/tests/unit/test_progress
T=$(mktemp -d /tmp/cutover-tmux.XXXXXX)
# A tmux server of this test's own (its socket in $T), killed at the end.
TM=(tmux -S "$T/tmux.sock")
trap '"${TM[@]}" kill-server 2>/dev/null; rm -rf "$T"' EXIT
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "screen:" "$(cat "$T/screen")"; fi; }
echo "1..13"

screen() { "${TM[@]}" capture-pane -p -t drive >"$T/screen" 2>>"$T/tmux.err"; }
# until_screen PATTERN: capture until the screen shows PATTERN (10 s at most).
until_screen() {
	local i
	for ((i = 0; i < 200; i++)); do
		screen
		grep -q -- "$1" "$T/screen" && return 0
		sleep 0.05
	done
	return 1
}
lines() { grep -c -- "$1" "$T/screen"; }

command -v tmux >/dev/null || { nok "tmux is installed (deploy/install-deps)"; exit 1; }
"${TM[@]}" -f /dev/null new-session -d -s drive -x 100 -y 20 "'$DRIVER' --drive '$T'" 2>"$T/tmux.err"
"${TM[@]}" set-option -t drive remain-on-exit on >/dev/null 2>&1

# The snapshot: six samples, 0% .. 100%.
snap_ok=1 snap_seen=""
for i in 0 1 2 3 4 5; do
	touch "$T/go.$((i + 1))"
	until_screen "snapshot production-blue-cutover: [a-z]* $((i * 20))%" || { snap_ok=0; break; }
	# One line for the wait, whatever the number of samples so far.
	[ "$(lines 'snapshot production-blue-cutover:')" -eq 1 ] || { snap_ok=0; break; }
	snap_seen="$snap_seen|$(grep 'snapshot production-blue-cutover:' "$T/screen")"
done
check "the snapshot wait is one line at every sample (6 samples)" [ "$snap_ok" -eq 1 ]
check "that line changed in place: 6 different states seen" \
	[ "$(tr '|' '\n' <<<"$snap_seen" | grep . | sort -u | wc -l)" -eq 6 ]
check "it says the time left while the wait runs" grep -q "snapshot   0:40  .*40%  ~1:20 left, ends about [0-9][0-9]:[0-9][0-9]" <(tr '|' '\n' <<<"$snap_seen")

# The restore: five samples, no percent, 10 minutes expected.
rest_ok=1 rest_seen=""
for i in 0 1 2 3 4; do
	touch "$T/go.$((i + 7))"
	until_screen "restore  *$((i * 150 / 60)):$(printf %02d $((i * 150 % 60)))  database cobalt-green" || { rest_ok=0; break; }
	[ "$(lines 'database cobalt-green:')" -eq 1 ] || { rest_ok=0; break; }
	[ "$(lines 'snapshot production-blue-cutover:')" -eq 1 ] || { rest_ok=0; break; }
	rest_seen="$rest_seen|$(grep 'database cobalt-green:' "$T/screen")"
done
check "the restore wait is one line at every sample, the snapshot's line stays" [ "$rest_ok" -eq 1 ]
check "past the expected duration it says so" grep -q "restore   7:30  database cobalt-green: creating  past the expected 6:40" <(tr '|' '\n' <<<"$rest_seen")

until_screen "drive: finished"
check "the program ran to its end" grep -q "drive: finished" "$T/screen"
check "the snapshot's line ends as it last was (available 100%)" \
	grep -q "snapshot   1:40  snapshot production-blue-cutover: available 100%" "$T/screen"
check "the restore's line ends as it last was (available, 10:00)" \
	grep -q "restore  10:00  database cobalt-green: available" "$T/screen"
# begin, wait, done for each wait, then the last line: 7 lines, no more.
check "the whole screen is 7 lines: begin, one wait line, done, twice; the end" \
	[ "$(grep -c . "$T/screen")" -eq 7 ]
check "no line is wider than the pane (100 columns)" [ "$(awk '{ if (length($0) > 100) n++ } END { print n + 0 }' "$T/screen")" -eq 0 ]
touch "$T/go.0"

# Not a terminal: plain timestamped lines, one per change, no escape codes.
rm -f "$T"/go.*
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do touch "$T/go.$i"; done
"$DRIVER" --drive "$T" >"$T/plain" 2>&1
check "stdout not a terminal: no carriage return or escape code" \
	[ "$(tr -d '\n' <"$T/plain" | tr -dc '\r\033' | wc -c)" -eq 0 ]
check "and a line per sample that changed (6 + 2 of 5: creating, available), 4 events, the end" \
	[ "$(grep -c ' wait ' "$T/plain")" -eq 8 -a "$(wc -l <"$T/plain")" -eq 13 ]
check "with the expected duration while there is one" \
	grep -q "wait snapshot: snapshot production-blue-cutover: creating 40% (40s, about 120s expected)" "$T/plain"
