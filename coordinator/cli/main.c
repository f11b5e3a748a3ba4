/* cli/main.c: the `cutover` command line. Dispatches to the command table; every
 * command lives in its own cmd_<name>.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "base/version.h"
#include <sys/prctl.h>
#include <sys/resource.h>

extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_plan_entry;
extern const struct cmd_entry cmd_prep_entry;
extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_failback_entry;
extern const struct cmd_entry cmd_tidy_entry;
extern const struct cmd_entry cmd_rehearse_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_exec_entry;
extern const struct cmd_entry cmd_manage_entry;
extern const struct cmd_entry cmd_aws_entry;
extern const struct cmd_entry cmd_iam_policy_entry;
extern const struct cmd_entry cmd_blocked_emails_entry;
extern const struct cmd_entry cmd_quiet_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_activity_entry;
extern const struct cmd_entry cmd_cron_entry;

static const struct cmd_entry *const cmd_table[] = {
	&cmd_version_entry,
	&cmd_plan_entry,
	&cmd_prep_entry,
	&cmd_run_entry,
	&cmd_failback_entry,
	&cmd_tidy_entry,
	&cmd_rehearse_entry,
	&cmd_status_entry,
	&cmd_report_entry,
	&cmd_exec_entry,
	&cmd_manage_entry,
	&cmd_aws_entry,
	&cmd_iam_policy_entry,
	&cmd_blocked_emails_entry,
	&cmd_quiet_entry,
	&cmd_verify_entry,
	&cmd_activity_entry,
	&cmd_cron_entry,
};

#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

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
		printf("cutover %s\n", CUTOVER_VERSION);
		return 0;
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], cmd_table[i]->name) == 0)
			return cmd_table[i]->exec(argc - 1, argv + 1);
	fprintf(stderr, "cutover: '%s' is not a command; run 'cutover --help' for the list.\n",
	    argv[1]);
	return 2;
}
