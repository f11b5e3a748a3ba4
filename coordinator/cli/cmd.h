/* cli/cmd.h: one file per command (cmd_<name>.c), each defining a
 * `const struct cmd_entry cmd_<name>_entry`; cli/main.c holds the table.
 * A command only parses its options, calls the core and prints: the work
 * lives in core modules that tests call directly. */
#ifndef CUTOVER_CMD_H
#define CUTOVER_CMD_H

#include <getopt.h>
#include <stddef.h>

struct cmd_entry {
	const char *name;     /* "exec" */
	const char *summary;  /* one line for `cutover --help` */
	const char *usage;    /* full --help text of the command */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*exec)(int argc, char **argv);
	/* What the command accepts, for `cutover completion` (and its test
	 * against the man page): the getopt_long table and short options its
	 * parser uses (NULL when it takes none), and the words that may follow
	 * the command, space-separated (subcommands), or NULL. */
	const struct option *longopts;
	const char *shortopts;
	const char *words;
};

/* The command table (cli/cmdtab.c), in the order `cutover --help` lists it. */
extern const struct cmd_entry *const cmd_table[];
extern const size_t cmd_table_len;

/* Prints the entry's usage to stdout (for --help) and returns 0. */
int cmd_print_usage(const struct cmd_entry *e);

/* Prints "cutover NAME: <message>" and a hint to use --help to stderr and
 * returns exit status 2 (usage error). */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
