/* cli/cmdtab.c: the command table. A new command is a cmd_<name>.c and one
 * line here; `cutover --help`, the dispatch in cli/main.c and the shell
 * completion (cli/cmd_completion.c) all read this table. */
#include "cli/cmd.h"

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
extern const struct cmd_entry cmd_completion_entry;

const struct cmd_entry *const cmd_table[] = {
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
	&cmd_completion_entry,
};

const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);
