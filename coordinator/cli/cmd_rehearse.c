/* cli/cmd_rehearse.c: `cutover rehearse` (the runbook table's "rehearse" list; cli/cmdrun.c does
 * what the runbook commands share). */
#include "cli/cmdrun.h"

CMDRUN_RUNBOOK_COMMAND(rehearse, "the Steps for Test on a test environment",
	    "Steps for Test: MP_USE_DJANGO set on the test environment, production data copied in\n"
	    "from a snapshot restore, migrate, temp_copy_unreg_to_user, a check that the Masterpoints\n"
	    "server answers, mpc_sync; each result reported.\n")
