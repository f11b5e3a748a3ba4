/* cli/main.c: the `cutover` command line. Dispatches to the command table; every
 * command lives in its own cmd_<name>.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "base/sig.h"
#include <sys/prctl.h>
#include <sys/resource.h>

extern const struct cmd_entry cmd_version_entry;

#define NCMDS cmd_table_len

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cutover COMMAND [OPTIONS]\n\n"
	    "Blue/green cutover of a Django application on AWS Elastic Beanstalk.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-16s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "\nRun 'cutover COMMAND --help' for a command's options.\n");
}

/* The coordinator holds AWS credentials, Instance Connect private keys and
 * database passwords: no core file of it, and no ptrace or /proc/PID/mem by
 * other processes of the same user. Done before anything is read. */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
main(int argc, char **argv)
{
	size_t i;

	no_core_dumps();
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		return cmd_version_entry.exec(argc - 1, argv + 1);
	}
	for (i = 0; i < NCMDS; i++) {
		if (strcmp(argv[1], cmd_table[i]->name) != 0)
			continue;
		/* One signal policy for every command (base/sig.h). */
		sig_install();
		int rc = cmd_table[i]->exec(argc - 1, argv + 1);
		/* SIGPIPE is ignored, so a reader that went away shows here. */
		errno = 0;
		if (fflush(stdout) != 0 || ferror(stdout)) {
			if (errno == EPIPE || errno == 0)
				fprintf(stderr, "cutover %s: the output pipe was closed (EPIPE), so part of the output "
				    "was lost; the command itself ran to its end.\n", argv[1]);
			else
				fprintf(stderr, "cutover %s: writing the output failed: %s.\n", argv[1], strerror(errno));
			if (rc == 0)
				rc = 1;
		}
		return rc;
	}
	fprintf(stderr, "cutover: '%s' is not a command; run 'cutover --help' for the list.\n",
	    argv[1]);
	return 2;
}
