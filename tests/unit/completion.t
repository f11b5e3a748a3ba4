#!/usr/bin/env bash
# bash completion: the script `cutover completion bash` writes from the
# command table, sourced in bash and asked as bash asks it (COMP_WORDS,
# COMP_CWORD, then the registered function; COMPREPLY is the answer).
# Also: every option it offers is one the command's parser accepts.
set -u
top=${CUTOVER_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CUTOVER_BUILD:-$top/build}
CUTOVER=$build/cutover
T=$(mktemp -d /tmp/cutover-completion.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
echo "1..13"

"$CUTOVER" completion bash >"$T/cutover.bash" 2>"$T/err" || nok "cutover completion bash" "$(cat "$T/err")"
# comp WORDS...: what bash would offer for the last word; one answer a line, sorted.
comp() {
	(cd "$T/files" && bash -c 'source "$1" || exit 9; shift
		f=$(complete -p cutover 2>/dev/null | sed -n "s/.*-F \([^ ]*\) cutover$/\1/p")
		[ -n "$f" ] || { echo "NOT REGISTERED"; exit 0; }
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$f" cutover "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$T/cutover.bash" "$@") | grep . | sort
}
mkdir -p "$T/files/conf.d"; : >"$T/files/cutover.ini"; : >"$T/files/cutover-test.ini"; : >"$T/files/notes.txt"
# expect NAME WANT (space-separated, sorted) WORDS...
expect() {
	local name=$1 want got; want=$(tr ' ' '\n' <<<"$2" | grep . | sort); shift 2
	got=$(comp "$@")
	if [ "$got" = "$want" ]; then ok "$name"; else nok "$name" "wanted: $(echo $want)" "got:    $(echo $got)"; fi
}

if bash -n "$T/cutover.bash" && [ "$(comp cutover '')" != "NOT REGISTERED" ]; then
	ok "the script is valid bash and registers a completion for cutover"
else
	nok "the script is valid bash and registers a completion for cutover"
fi
cmds=$("$CUTOVER" --help | awk '/^Commands:/{c=1; next} c && /^  [a-z]/{print $1}' | tr '\n' ' ')
expect "cutover <TAB> offers every command of the table" "$cmds --help --version" cutover ''
expect "cutover ru<TAB> -> run" "run" cutover ru
expect "cutover run --<TAB> lists run's options" "--config --state --yes --dry-run --until --break-lease --json --help" cutover run --
expect "cutover plan --<TAB>: no --yes, --dry-run or --until" "--config --state --json --help" cutover plan --
expect "cutover plan <TAB> offers the runbook commands" "prep run failback tidy rehearse" cutover plan -c x ''
expect "cutover run -c <TAB> completes files" "conf.d cutover-test.ini cutover.ini notes.txt" cutover run -c ''
expect "cutover run --config=cut<TAB> completes files" "cutover-test.ini cutover.ini" cutover run --config = cut
expect "cutover manage --<TAB> has --python, exec does not" "--python" cutover manage --py
expect "cutover exec --py<TAB> offers nothing" "" cutover exec --py
expect "cutover aws <TAB> -> whoami status" "whoami status" cutover aws ''
expect "nothing is offered after -- (the remote program's words)" "" cutover exec --host h -- ''

# Every option offered is accepted by its command's parser: COMMAND OPTION
# [VALUE] --help, or with a subcommand first (aws status, cron pause), must
# print the usage and exit 0.
# A value each option's parser accepts (most take any word).
sample() {
	case $1 in
	--for) echo all ;;
	--account) echo 123456789012 ;;
	*) echo 1 ;;
	esac
}
bad=()
while read -r c word opts argopts; do
	for o in ${opts//,/ }; do
		[ "$o" = --help ] || [ "$o" = -h ] && continue
		args=("$o"); case ",$argopts," in *",$o,"*) args+=("$(sample "$o")") ;; esac
		if ! "$CUTOVER" "$c" "${args[@]}" --help >/dev/null 2>"$T/err" &&
		   ! { [ "$word" != - ] && "$CUTOVER" "$c" "$word" "${args[@]}" --help >/dev/null 2>>"$T/err"; }; then
			bad+=("$c [$word] ${args[*]}: $(tail -1 "$T/err")")
		fi
	done
done < <(bash -c 'source "$1"; for c in $_cutover_commands; do _cutover_command_info "$c"
	w=${_cutover_words##* }; o=$(echo $_cutover_opts | tr " " ,); a=$(echo $_cutover_argopts | tr " " ,)
	echo "$c ${w:--} $o $a"; done' _ "$T/cutover.bash")
if [ "${#bad[@]}" -eq 0 ]; then ok "every option completion offers is accepted by its command"
else nok "every option completion offers is accepted by its command" "${bad[@]}"; fi
