/* cli/cmd_plan.c: `cutover plan`: every step with what it would change and
 * which are already done; changes nothing. */
#include "cli/cmd.h"
#include "cli/cmdrun.h"

extern const struct cmd_entry cmd_plan_entry;

static int
cmd_plan_exec(int argc, char **argv)
{
	struct cmdrun_opts o;
	int r = cmdrun_parse(&cmd_plan_entry, argc, argv, 0, &o);

	return r >= 0 ? r : cmdrun_plan(&o);
}

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.summary = "show every step, what it would change and what is done",
	.usage = "usage: cutover plan -c FILE [--state DIR] [--json] [COMMAND...]\n"
	    "\n"
	    "Reads the live world and the journal and prints every step of COMMAND (prep, run,\n"
	    "failback, tidy, rehearse; default prep and run) with what it would change and\n"
	    "whether it is already done, after the preflight checks. Changes nothing.\n",
	.exec = cmd_plan_exec,
	.longopts = cmdrun_longopts_read,
	.shortopts = CMDRUN_SHORTOPTS_READ,
	.words = "prep run failback tidy rehearse",
};
