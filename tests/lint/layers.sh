#!/usr/bin/env bash
# tests/lint/layers.sh [TOP]: the layer rule of coordinator/ (`make lint`).
#
# Every #include "..." in coordinator/ names its folder ("aws/eb.h"; proto's
# "frame.h" and "msg.h" are the one bare exception) and reaches only down: a
# file may include the files of its own folder and what its folder's row of
# RULES names. Prints one line per broken include (file, line, the rule broken)
# and exits 1; prints one summary line and exits 0 when all is well.
# TOP defaults to the repository this script is in.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}

# ---- the rule table: the ONE place the layers are written ---------------------
# Rows go from the bottom layer up. A row names what its folder may include
# besides itself: a folder (all of it) or one header (only that one). A row may
# name only rows above it (lower layers), so the table itself cannot point up.
# ARCHITECTURE.md shows this table; the lint checks that it shows it unchanged.
RULES='proto          -
base           -
aws            base
remote         base proto
safety         base remote
world          base aws remote safety
runbook        base world/ops.h
runbook/steps  base world/ops.h runbook
cli            base aws remote safety world runbook'
# Includes that break the rule today, each with why and what removes it. An
# exception that no longer occurs is an error too, so a fixed one leaves the list.
# None today: the last two went with base/wait_sched and world/ops.h's run_names.
EXCEPTIONS=''

problems=0
say() { echo "$*"; problems=$((problems + 1)); }

declare -A rank allow
i=0
while read -r folder rest; do
	rank[$folder]=$i
	allow[$folder]=" "
	for a in $rest; do
		[ "$a" = "-" ] && continue
		f=$a; case "$a" in *.h) f=$(dirname "$a") ;; esac
		if [ -z "${rank[$f]+x}" ] || [ "${rank[$f]}" -ge "$i" ]; then
			say "tests/lint/layers.sh: the row of $folder names $a, which is not a lower row; reorder the table."
		fi
		allow[$folder]+="$a "
	done
	i=$((i + 1))
done <<<"$RULES"

declare -A exc_used=()
while read -r file inc _; do
	[ -n "$file" ] || continue
	exc_used["$file $inc"]=0
done <<<"$EXCEPTIONS"

nfiles=0; nincs=0
while IFS= read -r path; do
	rel=${path#"$top/coordinator/"}
	# (parameter expansion, not dirname/sed: a fork per include made the
	# lint, run several times by tests/unit/lint_layers.t, take minutes)
	folder=.; [[ $rel == */* ]] && folder=${rel%/*}
	nfiles=$((nfiles + 1))
	if [ "$folder" = "." ]; then
		say "coordinator/$rel: stands in no layer folder; move it into one (ARCHITECTURE.md says which holds what)."
		continue
	fi
	if [ -z "${rank[$folder]+x}" ] || [ "$folder" = proto ]; then
		say "coordinator/$rel: its folder $folder has no row in the rule table of tests/lint/layers.sh; add one or move the file."
		continue
	fi
	while IFS=: read -r n line; do
		inc_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)"'
		[[ $line =~ $inc_re ]] && inc=${BASH_REMATCH[1]}
		nincs=$((nincs + 1))
		case "$inc" in
		*/*)
			if [ ! -f "$top/coordinator/$inc" ]; then
				say "coordinator/$rel:$n: #include \"$inc\" names no file of coordinator/."
				continue
			fi
			to=${inc%/*} ;;
		*)
			if [ -f "$top/proto/$inc" ]; then
				to=proto
			else
				where=$(cd "$top/coordinator" && find . -name "$inc" -printf '%P\n' | head -1)
				say "coordinator/$rel:$n: #include \"$inc\" names no folder; write #include \"${where:-FOLDER/$inc}\"."
				continue
			fi ;;
		esac
		[ "$to" = "$folder" ] && continue
		case "${allow[$folder]}" in *" $to "*|*" $inc "*) continue ;; esac
		if [ -n "${exc_used["$rel $inc"]+x}" ]; then
			exc_used["$rel $inc"]=1
			continue
		fi
		if [ -n "${rank[$to]+x}" ] && [ "${rank[$to]}" -gt "${rank[$folder]}" ]; then
			why="$to is a higher layer than $folder"
		else
			why="the row of $folder does not name it"
		fi
		may=${allow[$folder]# }; may=${may% }; may=${may// /, }
		say "coordinator/$rel:$n: includes $inc, but $why (rule: $folder may include its own files and ${may:-nothing else}); move what it needs down a layer, or see tests/lint/layers.sh."
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$path")
done < <(find "$top/coordinator" -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' \) | LC_ALL=C sort)

for k in "${!exc_used[@]}"; do
	[ "${exc_used[$k]}" = 1 ] || say "tests/lint/layers.sh: the exception '$k' no longer occurs; remove it from EXCEPTIONS."
done

# ARCHITECTURE.md shows the table between these two lines; it must be this one.
shown=$(sed -n '/^<!-- rule table: begin/,/^<!-- rule table: end/p' "$top/ARCHITECTURE.md" 2>/dev/null |
	grep -v '^<!--' | grep -v '^```')
if [ "$shown" != "$(printf '%s\n\n%s' "$RULES" "$EXCEPTIONS")" ]; then
	say "ARCHITECTURE.md: its rule table differs from the one in tests/lint/layers.sh; copy RULES, a blank line and EXCEPTIONS over."
fi

if [ "$problems" -gt 0 ]; then
	echo "lint: $problems problem(s) with the layers of coordinator/"
	exit 1
fi
echo "lint: layers ok ($nfiles files, $nincs includes, ${#exc_used[@]} known exceptions)"
