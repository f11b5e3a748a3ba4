/* cli/cmd_prep.c: `cutover prep` (the runbook table's "prep" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(prep, "build the new environments (Prep) and back up blocked emails",
	    "Prep: create the new web and SES environments from the live ones' configuration on\n"
	    "the new version, pointed at the prep database and in maintenance mode, then back up\n"
	    "the blocked-email table of the live system into the state folder.\n")
