/* cli/cmd_tidy.c: `cutover tidy` (the runbook table's "tidy" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(tidy, "remove the old environments, DNS entries and database (Post Implementation)",
	    "Post Implementation: delete the old environments' own DNS records, terminate the old\n"
	    "environments and delete the <env>-cutover configuration templates prep made (copies\n"
	    "of the live settings, secrets included), delete the old database after a final\n"
	    "snapshot. Refuses anything that DNS or a running environment still uses, and says\n"
	    "what.\n")
