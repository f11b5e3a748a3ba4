/* cli/cmd_version.c: `cutover version`. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

extern const struct cmd_entry cmd_version_entry;
#include "base/version.h"

static int
cmd_version_exec(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return cmd_print_usage(&cmd_version_entry);
	printf("cutover %s\n", CUTOVER_VERSION);
	return 0;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.summary = "print the version",
	.usage = "usage: cutover version\n",
	.exec = cmd_version_exec,
};
