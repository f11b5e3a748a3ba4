/* cli/cmd_completion.c: `cutover completion bash`: a bash completion script
 * written from the command table (cli/cmdtab.c), so that every command, each
 * command's options (its getopt table) and its subcommands complete without a
 * second list to keep. make install puts its output in
 * $(PREFIX)/share/bash-completion/completions/cutover. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

extern const struct cmd_entry cmd_completion_entry;

/* Only names made of these (words: and spaces) reach the script, so nothing
 * in it needs quoting. */
static int
plain_chars(const char *s, int spaces)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    (spaces && *s == ' ')))
			return 0;
	return 1;
}

static int
plain(const char *s)
{
	return plain_chars(s, 0);
}

/* Prints " -x --long ..." for e: every option (args 0) or those that take a
 * value (args 1). */
static void
print_opts(FILE *f, const struct cmd_entry *e, int args)
{
	const char *p;
	const struct option *o;

	for (p = e->shortopts; p != NULL && *p; p++) {
		if (*p == '+' || *p == '-' || *p == ':')
			continue;
		if (!args || p[1] == ':')
			fprintf(f, " -%c", *p);
	}
	for (o = e->longopts; o != NULL && o->name != NULL; o++)
		if (plain(o->name) && (!args || o->has_arg != no_argument))
			fprintf(f, " --%s", o->name);
}

static void
print_bash(FILE *f)
{
	size_t i;

	fputs("# bash completion for cutover(1), written by `cutover completion bash` from\n"
	    "# cutover's command table: its commands, each command's options and subcommands.\n"
	    "# Installed as share/bash-completion/completions/cutover; or: eval \"$(cutover completion bash)\"\n"
	    "\n_cutover_commands='", f);
	for (i = 0; i < cmd_table_len; i++)
		if (plain(cmd_table[i]->name))
			fprintf(f, "%s%s", i ? " " : "", cmd_table[i]->name);
	fputs("'\n\n"
	    "# _cutover_command_info COMMAND sets _cutover_opts (the options COMMAND takes),\n"
	    "# _cutover_argopts (those of them that take a value) and _cutover_words (the\n"
	    "# subcommands or words that may follow COMMAND).\n"
	    "_cutover_command_info()\n{\n\tcase $1 in\n", f);
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_entry *e = cmd_table[i];
		if (!plain(e->name))
			continue;
		fprintf(f, "\t%s)\n\t\t_cutover_opts='", e->name);
		print_opts(f, e, 0);
		fputs(" '\n\t\t_cutover_argopts='", f);
		print_opts(f, e, 1);
		fprintf(f, " '\n\t\t_cutover_words='%s' ;;\n", e->words && plain_chars(e->words, 1) ? e->words : "");
	}
	fputs("\t*) _cutover_opts= _cutover_argopts= _cutover_words= ;;\n\tesac\n}\n\n"
	    "_cutover()\n{\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= i w\n"
	    "\tCOMPREPLY=()\n"
	    "\t(( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	    "\tif (( COMP_CWORD <= 1 )); then\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -W \"$_cutover_commands --help --version\" -- \"$cur\")\n"
	    "\t\treturn 0\n\tfi\n"
	    "\t_cutover_command_info \"${COMP_WORDS[1]}\"\n"
	    "\t# --config=FILE: bash splits at '=' (COMP_WORDBREAKS)\n"
	    "\tif [[ $cur == = ]]; then cur=; prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	    "\telif [[ $prev == = ]] && (( COMP_CWORD > 2 )); then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n"
	    "\tfor (( i = 2; i < COMP_CWORD; i++ )); do\n"
	    "\t\t# after --, the words are the remote program's (exec, manage)\n"
	    "\t\t[[ ${COMP_WORDS[i]} == -- ]] && return 0\n"
	    "\tdone\n"
	    "\tif [[ -n $prev && \" $_cutover_argopts \" == *\" $prev \"* ]]; then\n"
	    "\t\tcompopt -o filenames 2>/dev/null\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	    "\t\treturn 0\n\tfi\n"
	    "\tif [[ $cur == -* ]]; then\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -W \"$_cutover_opts\" -- \"$cur\")\n"
	    "\t\treturn 0\n\tfi\n"
	    "\tif [[ -n $_cutover_words ]]; then\n"
	    "\t\tfor (( i = 2; i < COMP_CWORD; i++ )); do\n"
	    "\t\t\tfor w in $_cutover_words; do [[ ${COMP_WORDS[i]} == \"$w\" ]] && return 0; done\n"
	    "\t\tdone\n"
	    "\t\tmapfile -t COMPREPLY < <(compgen -W \"$_cutover_words\" -- \"$cur\")\n"
	    "\t\treturn 0\n\tfi\n"
	    "\treturn 0\n"
	    "}\n"
	    "complete -F _cutover cutover\n", f);
}

static int
cmd_completion_exec(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cmd_print_usage(&cmd_completion_entry);
	if (argc != 2)
		return cmd_usage_error(&cmd_completion_entry, "give the shell: cutover completion bash");
	if (strcmp(argv[1], "bash") != 0)
		return cmd_usage_error(&cmd_completion_entry, "'%s' is not a shell cutover completes for; "
		    "bash is the one", argv[1]);
	print_bash(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static const struct option completion_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

const struct cmd_entry cmd_completion_entry = {
	.name = "completion",
	.summary = "print the bash completion script: eval \"$(cutover completion bash)\"",
	.usage = "usage: cutover completion bash\n"
	    "\n"
	    "Prints a bash script that completes cutover's commands, each command's options\n"
	    "and subcommands, and file names after the options that take one. make install\n"
	    "puts it where bash-completion finds it; or run: eval \"$(cutover completion bash)\"\n",
	.exec = cmd_completion_exec,
	.longopts = completion_longopts,
	.shortopts = "h",
	.words = "bash",
};
