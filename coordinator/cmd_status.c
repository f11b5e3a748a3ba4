/* cmd_status.c: `cutover status`: the journal and the live world. */
#include "cmd.h"
#include "cmdrun.h"

extern const struct cmd_entry cmd_status_entry;

static int
cmd_status_exec(int argc, char **argv)
{
	struct cmdrun_opts o;
	int r = cmdrun_parse(&cmd_status_entry, argc, argv, 0, &o);

	return r >= 0 ? r : cmdrun_status(&o);
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "where the cutover stands: journal and live DNS",
	.usage = "usage: cutover status -c FILE [--state DIR] [--json]\n"
	    "\n"
	    "Prints the state of every step from the journal (done, started, failed) and where\n"
	    "DNS sends the site now. Changes nothing and does not need the lock.\n",
	.exec = cmd_status_exec,
};
