/* cli/cmd.h: one file per command (cmd_<name>.c), each defining a
 * `const struct cmd_entry cmd_<name>_entry`; cli/main.c holds the table.
 * A command only parses its options, calls the core and prints: the work
 * lives in core modules that tests call directly. */
#ifndef CUTOVER_CMD_H
#define CUTOVER_CMD_H

struct cmd_entry {
	const char *name;     /* "exec" */
	const char *summary;  /* one line for `cutover --help` */
	const char *usage;    /* full --help text of the command */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*exec)(int argc, char **argv);
};

/* Prints the entry's usage to stdout (for --help) and returns 0. */
int cmd_print_usage(const struct cmd_entry *e);

/* Prints "cutover NAME: <message>" and a hint to use --help to stderr and
 * returns exit status 2 (usage error). */
int cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
