/* cli/cmdrun.h: what the runbook commands (prep, run, failback, tidy, rehearse,
 * plan, status) share: their options, opening the world, the state folder
 * and the journal, running the engine and saying how it ended. Each
 * cmd_<name>.c stays a few lines. */
#ifndef CUTOVER_CMDRUN_H
#define CUTOVER_CMDRUN_H

#include "cli/cmd.h"

#define CMDRUN_DEFAULT_STATE "cutover-state"

enum cmdrun_flag {
	CMDRUN_F_CHANGES = 1 << 0,   /* accepts --yes, --dry-run, --until, --break-lease */
};

struct cmdrun_opts {
	const char *config;    /* -c FILE (required) */
	const char *state;     /* --state DIR */
	int yes, dry_run, json;
	const char *until;
	const char *break_lease; /* --break-lease ID (runbook/lease.h) */
	char **rest;           /* operands after the options */
	int nrest;
};

/* The getopt tables and short options of the runbook commands that change
 * the world (prep, run, failback, tidy, rehearse) and of those that read it
 * (plan, status); their cmd_entry points at them. */
extern const struct option cmdrun_longopts[], cmdrun_longopts_read[];
#define CMDRUN_SHORTOPTS "c:s:yn"
#define CMDRUN_SHORTOPTS_READ "c:s:"

/* Parses argv (argv[0] = command name). Returns -1 to go on, else the exit
 * status to return at once (0 after --help, 2 on a usage error). */
int cmdrun_parse(const struct cmd_entry *e, int argc, char **argv, int flags,
    struct cmdrun_opts *o);

/* Runs the runbook of command `rb_name` with the world from the
 * configuration; for `run`, writes the report at the end. Returns the exit
 * status: 0 done, 1 failed or refused, 130 stopped by Ctrl-C. */
int cmdrun_runbook(const char *rb_name, const struct cmdrun_opts *o);

/* Parses the options of a runbook command and runs it (the whole body of
 * cmd_prep/run/failback/tidy/rehearse). */
int cmdrun_main(const struct cmd_entry *e, const char *rb_name, int argc, char **argv);

#define CMDRUN_OPTIONS_HELP                                                              \
	"\n"                                                                             \
	"  -c, --config FILE  the configuration file\n"                                  \
	"  --state DIR        state folder holding the journal (default ./"              \
	CMDRUN_DEFAULT_STATE ")\n"                                                       \
	"  --yes              do not ask before irreversible steps (needed without a terminal)\n" \
	"  --dry-run          say what each step would change; change nothing\n"        \
	"  --until STEP       stop after STEP (`cutover plan COMMAND` lists the names)\n" \
	"  --break-lease ID   take the lease from the dead run of cutover ID, as the\n"  \
	"                     refusal names it (only when that run is gone for sure)\n" \
	"  --json             one JSON object per event\n"

/* Defines cmd_<nm>_entry for the runbook command nm. */
#define CMDRUN_RUNBOOK_COMMAND(nm, sum, text)                                            \
	extern const struct cmd_entry cmd_##nm##_entry;                                  \
	static int                                                                       \
	cmd_##nm##_exec(int argc, char **argv)                                           \
	{                                                                                \
		return cmdrun_main(&cmd_##nm##_entry, #nm, argc, argv);                  \
	}                                                                                \
	const struct cmd_entry cmd_##nm##_entry = {                                      \
		.name = #nm,                                                             \
		.summary = sum,                                                          \
		.usage = "usage: cutover " #nm " -c FILE [--state DIR] [--yes] [--dry-run] " \
		    "[--until STEP] [--break-lease ID] [--json]\n\n" text CMDRUN_OPTIONS_HELP,                 \
		.exec = cmd_##nm##_exec,                                                 \
		.longopts = cmdrun_longopts,                                             \
		.shortopts = CMDRUN_SHORTOPTS,                                           \
	};

/* `cutover plan [COMMAND...]`: the steps of each command (default prep and
 * run) with what they would change and which are done. */
int cmdrun_plan(const struct cmdrun_opts *o);

/* `cutover status`: the journal's view of every step, the live DNS and who
 * holds the lease. */
int cmdrun_status(const struct cmdrun_opts *o);

/* The --json events every command that acts shares (doc/json-events.md):
 * "error" with the error's msg and code (cut_err_name), and "report" with
 * the paths of the report's two files. */
struct progress;
struct cut_err;
void cmdrun_error_event(struct progress *out, const struct cut_err *err);
void cmdrun_report_event(struct progress *out, const char *md, const char *html);

#endif
