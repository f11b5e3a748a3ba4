/* cli/cmd_status.c: `cutover status`: the journal and the live world. */
#include "cli/cmd.h"
#include "cli/cmdrun.h"
#include "world/live.h"

#include <stdio.h>

extern const struct cmd_entry cmd_status_entry;

static int
cmd_status_exec(int argc, char **argv)
{
	struct cmdrun_opts o;
	struct cut_err err;
	int r = cmdrun_parse(&cmd_status_entry, argc, argv, 0, &o);

	if (r >= 0)
		return r;
	if ((r = cmdrun_status(&o)) != 0)
		return r;   /* it has said why */
	/* Then the live world at a glance (the same view as `aws status`). */
	fflush(stdout);
	if (!o.json)
		printf("\n");
	if (live_show(stdout, o.config, NULL, NULL, o.json ? 2 : 0, &err) != 0) {
		fflush(stdout);
		fprintf(stderr, "cutover status: %s\n", err.msg);
		return 1;
	}
	return 0;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "where the cutover stands: journal and live DNS",
	.usage = "usage: cutover status -c FILE [--state DIR] [--json]\n"
	    "\n"
	    "Prints the last command the journal holds with the state of each of its steps\n"
	    "(done, started, failed), the next command to run, the lease and where DNS sends\n"
	    "the site now, then the live world the configuration names (as\n"
	    "`cutover aws status`: environments, settings with secrets masked, which one is\n"
	    "live, databases and snapshots, DNS records). Changes nothing; needs no lock.\n",
	.exec = cmd_status_exec,
	.longopts = cmdrun_longopts_read,
	.shortopts = CMDRUN_SHORTOPTS_READ,
};
