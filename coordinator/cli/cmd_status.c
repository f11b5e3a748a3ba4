/* cli/cmd_status.c: `cutover status`: the journal and the live world. */
#include "cli/cmd.h"
#include "cli/cmdrun.h"
#include "world/config.h"
#include "world/reach.h"
#include "world/live.h"
#include "world/live_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct cmd_entry cmd_status_entry;

/* Per instance of every paired environment: can the tool reach it over the
 * configured transport? With SSM that is the agent's PingStatus (Online,
 * ConnectionLost, Inactive, or not registered); with SSH it is not probed
 * (a TCP connection would be a side effect status promises not to make). */
static int
show_reach(const char *config, int json, struct cut_err *err)
{
	struct cfg cfg;
	struct aws_client *aws = NULL;
	int r, bad = 0;
	struct json_object *arr = json ? json_object_new_array() : NULL;

	if ((r = cfg_load(config, &cfg, err)) != 0 || (r = wlive_client(&cfg, &aws, err)) != 0)
		goto out;
	if (!json)
		printf("\nInstances (transport %s):\n", cfg.ssh.transport == CFG_TRANSPORT_SSM ? "ssm" : "ssh");
	for (size_t p = 0; p < cfg.npairs; p++)
		for (int k = 0; k < 2; k++) {
			struct reach_probe *st;
			size_t n;
			struct cut_err e2;

			if (reach_probe(&cfg, aws, cfg.pairs[p].envs[k], &st, &n, &e2) != 0) {
				if (!json)
					printf("  %-32s %s\n", cfg.pairs[p].envs[k], e2.code == CUT_ESTATE ? "no running instance" :
					    e2.msg);
				if (e2.code != CUT_ESTATE && e2.code != CUT_ENOTFOUND)
					bad = 1;
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				int ok = cfg.ssh.transport != CFG_TRANSPORT_SSM || strcmp(st[i].status, "Online") == 0;
				if (!ok)
					bad = 1;
				if (json) {
					struct json_object *o = json_object_new_object();
					json_object_object_add(o, "environment", json_object_new_string(cfg.pairs[p].envs[k]));
					json_object_object_add(o, "instance", json_object_new_string(st[i].id));
					json_object_object_add(o, "address", json_object_new_string(st[i].addr));
					json_object_object_add(o, "transport", json_object_new_string(
					    cfg.ssh.transport == CFG_TRANSPORT_SSM ? "ssm" : "ssh"));
					json_object_object_add(o, "reach", json_object_new_string(st[i].status));
					json_object_array_add(arr, o);
				} else
					printf("  %-32s %-20s %-16s %s%s\n", cfg.pairs[p].envs[k], st[i].id,
					    st[i].addr, st[i].status, ok ? "" : "  (unreachable: see the README, \"SSM\")");
			}
			free(st);
		}
	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "instances", arr);
		arr = NULL;
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	(void)bad;
out:
	json_object_put(arr);
	aws_client_free(aws);
	return r;
}

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
	fflush(stdout);
	if (show_reach(o.config, o.json, &err) != 0) {
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
	    "live, databases and snapshots, DNS records), and each instance of the paired\n"
    "environments with whether it is reachable over [ssh] transport (ssm: the SSM\n"
    "agent's PingStatus; --json adds one {\"instances\": [...]} line). Changes nothing;\n"
    "needs no lock.\n",
	.exec = cmd_status_exec,
	.longopts = cmdrun_longopts_read,
	.shortopts = CMDRUN_SHORTOPTS_READ,
};
