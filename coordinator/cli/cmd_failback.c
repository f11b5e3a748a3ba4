/* cli/cmd_failback.c: `cutover failback` (the runbook table's "failback" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(failback, "revert DNS and reopen the old system (Fail Back)",
	    "Fail Back: DNS back to exactly the records the cutover replaced, the old environments\n"
	    "out of maintenance mode, cron and scaling restored, and the entries and payments made\n"
	    "on the new system since the DNS change listed (CSV in the state folder).\n")
