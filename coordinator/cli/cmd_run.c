/* cli/cmd_run.c: `cutover run` (the runbook table's "run" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(run, "the cutover (Upgrade): maintenance, snapshot, restore, DNS, users",
	    "Upgrade: scale the live web environment to 1, maintenance mode on, wait for quiet,\n"
	    "pause cron, snapshot, restore as the new database, point the new environments at it\n"
	    "(MP_USE_DJANGO removed), DNS for apex/www/ses in one change, convert users, smoke test,\n"
	    "maintenance mode off, restore blocked emails, list lost writes; then write the report.\n"
	    "A rerun resumes where the last run stopped and never repeats a snapshot, restore,\n"
	    "DNS change or user conversion.\n")
