/* cli/cmd_cron.c: `cutover cron pause|restore|status` on the live instances
 * (safety/cronpause.h): the runbook pauses cron before the snapshot and fail-back
 * restores it; this is the same by hand. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "safety/cronpause.h"
#include "cli/safety_links.h"

extern const struct cmd_entry cmd_cron_entry;

/* action on every instance of the environment role names. */
static int
cron_on(const struct safety_cli *o, enum safety_role role, const char *action, const char *crontab,
    const char *user, const char *state_dir, const char *save_dir, struct cut_err *err)
{
	struct safety_target t;
	int r = 0;

	if ((r = safety_links_open(o, role, &t, err)) != 0)
		return r;
	t.conf.crontab = crontab;
	t.conf.cron_user = user;
	/* Only when given: safety_links_open may have set the configuration's
	 * (instances laid out relative to the login folder). */
	if (state_dir != NULL)
		t.conf.cron_state_dir = state_dir;
	/* Every instance: each has its own crontab. */
	for (size_t i = 0; i < t.n && r == 0; i++) {
		struct alink *l = &t.links[i];
		char path[1200];
		int paused;
		if (strcmp(action, "pause") == 0) {
			struct aop_crontab saved;
			if ((r = cronp_pause(l, &t.conf, save_dir, &saved, err)) == 0) {
				printf("%s: cron paused (%s); saved copy %s and on the instance %s\n", l->name,
				    saved.already_paused ? "it already was; the first saved crontab is kept" :
				    saved.had_crontab ? "crontab saved and emptied" : "there was no crontab",
				    cronp_local_path(l, &t.conf, save_dir, path, sizeof(path)), saved.saved_path);
				aop_crontab_free(&saved);
			}
		} else if (strcmp(action, "restore") == 0) {
			if ((r = cronp_restore(l, &t.conf, save_dir, err)) == 0)
				printf("%s: crontab restored exactly\n", l->name);
		} else if ((r = cronp_is_paused(l, &t.conf, &paused, err)) == 0) {
			printf("%s: cron %s\n", l->name, paused ? "paused by cutover" : "not paused");
		}
	}
	safety_links_close(&t);
	return r;
}

#define CRON_SHORTOPTS "c:h"
static const struct option cron_longopts[] = {
	SAFETY_LONGOPTS,
	{ "crontab", required_argument, NULL, 'p' },
	{ "user", required_argument, NULL, 'u' },
	{ "state-dir", required_argument, NULL, 's' },
	{ "save-dir", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_cron(int argc, char **argv)
{
	struct safety_cli o = { 0 };
	const char *crontab = NULL, *user = NULL, *state_dir = NULL, *save_dir = ".", *action;
	struct cut_err err = { 0 };
	int c, r = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, CRON_SHORTOPTS, cron_longopts, NULL)) != -1) {
		if (safety_cli_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'p': crontab = optarg; break;
		case 'u': user = optarg; break;
		case 's': state_dir = optarg; break;
		case 'd': save_dir = optarg; break;
		case 'h': return cmd_print_usage(&cmd_cron_entry);
		default: return cmd_usage_error(&cmd_cron_entry, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_cron_entry, "give one of pause, restore, status");
	action = argv[optind];
	if (strcmp(action, "pause") && strcmp(action, "restore") && strcmp(action, "status"))
		return cmd_usage_error(&cmd_cron_entry, "'%s' is not pause, restore or status", action);
	/* Without --env, both live environments, as the runbook's step: the
	 * SES environment's cron writes to the same database. */
	int both = o.env == NULL && o.local_agent == NULL;
	r = cron_on(&o, SAFETY_LIVE, action, crontab, user, state_dir, save_dir, &err);
	if (r == 0 && both)
		r = cron_on(&o, SAFETY_LIVE_SES, action, crontab, user, state_dir, save_dir, &err);
	if (r != 0) {
		fprintf(stderr, "cutover cron: %s\n", err.msg);
		return 1;
	}
	return 0;
}

const struct cmd_entry cmd_cron_entry = {
	.name = "cron",
	.summary = "pause, restore or show cron on the live instances (cron writes through maintenance mode)",
	.usage =
	"usage: cutover cron pause|restore|status -c FILE [--save-dir DIR] [--user USER]\n"
	"                    [--crontab PATH] [--state-dir DIR]\n"
	"\n"
	"pause    saves each instance's crontab (on the instance in --state-dir, default\n"
	"         /var/lib/cutover, and here in --save-dir, default .) and empties it; a second\n"
	"         pause keeps the first saved copy.\n"
	"restore  puts the saved crontab back exactly (the local copy, else the instance's)\n"
	"         and checks it with crontab -l.\n"
	"status   says whether cron is paused by cutover.\n"
	"Without --env: every instance of both live environments (web and SES pairs), as\n"
	"the runbook does; the SES environment's cron writes to the same database.\n"
	"--user: whose crontab (default: the agent's user, root under sudo); --crontab: the\n"
	"crontab program on the instances (default crontab on PATH).\n"
	"\n"
	SAFETY_USAGE_COMMON
	"\n"
	"Exit status: 0 done; 1 failed; 2 usage.\n",
	.exec = exec_cron,
	.longopts = cron_longopts,
	.shortopts = CRON_SHORTOPTS,
	.words = "pause restore status",
};
