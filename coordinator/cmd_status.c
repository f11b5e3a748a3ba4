/* cmd_status.c: `cutover status -c FILE [--state DIR] [--json]`: the live
 * world at a glance (world.h), then where the cutover in the state folder
 * stands (cmdrun_status: the journal's steps and where DNS sends the site). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "cmdrun.h"
#include "world.h"

extern const struct cmd_entry cmd_status_entry;

static int
cmd_status_exec(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "profile", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *profile = NULL, *region = NULL, *state = CMDRUN_DEFAULT_STATE;
	struct cfg cfg;
	struct aws_client *c;
	struct world w;
	struct cut_err err;
	struct stat st;
	int json = 0, ch, status = 0;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 's': state = optarg; break;
		case 'p': profile = optarg; break;
		case 'r': region = optarg; break;
		case 'j': json = 1; break;
		case 'h': return cmd_print_usage(&cmd_status_entry);
		default: return cmd_usage_error(&cmd_status_entry, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_status_entry, "unexpected argument '%s'", argv[optind]);
	if (path == NULL)
		return cmd_usage_error(&cmd_status_entry, "-c FILE is required");
	/* The world, then the journal: a failure of the first is said, and
	 * the journal is still shown (it also reads where DNS points). */
	if (cfg_load(path, &cfg, &err) != 0 || world_client(&cfg, profile, region, &c, &err) != 0) {
		fprintf(stderr, "cutover status: %s\n", err.msg);
		status = 1;
	} else if (world_read(c, &cfg, &w, &err) != 0) {
		fprintf(stderr, "cutover status: %s\n", err.msg);
		aws_client_free(c);
		status = 1;
	} else {
		if (json) {
			/* One JSON object per line: the world first, then the journal's events. */
			struct json_object *o = world_to_json(&w, &cfg);
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		} else {
			world_print(stdout, &w, &cfg);
		}
		fflush(stdout);
		world_free(&w);
		aws_client_free(c);
	}
	/* The journal only when a cutover has begun here. */
	if (stat(state, &st) == 0) {
		struct cmdrun_opts o;
		memset(&o, 0, sizeof(o));
		o.config = path;
		o.state = state;
		o.json = json;
		if (!json)
			printf("\nCutover state in %s:\n", state);
		fflush(stdout);
		/* A cutover in progress: its state decides the exit status. */
		status = cmdrun_status(&o);
	}
	return status;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "show the live world and where the cutover stands",
	.usage =
	    "usage: cutover status -c FILE [--state DIR] [--json] [--profile NAME] [--region REGION]\n"
	    "\n"
	    "Reads the world FILE names from AWS and prints, per pair, each environment's\n"
	    "status, health, version and instances, the settings that matter\n"
	    "(MAINTENANCE_MODE, MP_USE_DJANGO, RDS_HOSTNAME, RDS_DB_NAME; secrets masked),\n"
	    "which one is live (read from where the pair's DNS records point), each record\n"
	    "and its target, and the live and new databases with their latest snapshots.\n"
	    "When the state folder (default ./" CMDRUN_DEFAULT_STATE ") holds a cutover, then\n"
	    "the state of every step from its journal (done, started, failed). Changes\n"
	    "nothing and does not need the lock.\n"
	    "--json: one JSON object per line: the world first (all environment settings,\n"
	    "masked), then one per journal step.\n",
	.exec = cmd_status_exec,
};
