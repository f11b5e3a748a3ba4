/* cli/cmd_tidy.c: `cutover tidy` (the runbook table's "tidy" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(tidy, "remove the old environments, DNS entries and database (Post Implementation)",
	    "Post Implementation: delete the old environments' own DNS records, terminate the old\n"
	    "environments, delete the old database after a final snapshot. Refuses anything that\n"
	    "DNS or a running environment still uses, and says what.\n")
