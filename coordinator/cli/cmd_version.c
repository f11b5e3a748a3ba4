/* cli/cmd_version.c: `cutover version` (and `cutover --version`): the
 * coordinator's version and the version of each agent it carries, as the
 * agent says it in hello (PROTO_VERSION+BUILD_ID), so an operator can match
 * what runs on an instance (~/.cache/cutover, /var/lib/cutover/agent) to the
 * cutover that put it there. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "base/version.h"
#include "remote/agent_blobs.h"

extern const struct cmd_entry cmd_version_entry;

static int
cmd_version_exec(int argc, char **argv)
{
	char v[128];
	struct cut_err err;
	int status = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return cmd_print_usage(&cmd_version_entry);
	if (argc > 1)
		return cmd_usage_error(&cmd_version_entry, "unexpected argument '%s'", argv[1]);
	printf("cutover %s\n", CUTOVER_VERSION);
	for (size_t i = 0; i < AGENT_BLOB_NARCH; i++) {
		if (agent_blob_version(agent_blob_arch[i], v, sizeof(v), &err) == 0) {
			printf("agent %s %s\n", agent_blob_arch[i], v);
		} else {
			fflush(stdout);
			fprintf(stderr, "cutover version: %s\n", err.msg);
			status = 1;
		}
	}
	return status;
}

static const struct option version_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.summary = "print the version and the build ids of the agents it carries",
	.usage = "usage: cutover version\n"
	    "       cutover --version\n"
	    "\n"
	    "Prints cutover's version, then one line per agent it carries: its architecture\n"
	    "and the version it says when it starts (PROTOCOL+BUILD_ID), which names the agent\n"
	    "binary it copies to the instances.\n",
	.exec = cmd_version_exec,
	.longopts = version_longopts,
	.shortopts = "h",
};
