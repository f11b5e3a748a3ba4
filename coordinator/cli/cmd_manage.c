/* cli/cmd_manage.c: `cutover manage`, run manage.py on instances (see cli/rcli.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "safety/precond.h"
#include "cli/rcli.h"
#include "cli/safety_links.h"

extern const struct cmd_entry cmd_manage_entry;

/* mpc_sync deletes every MPBatch (and the MPTran with them) when the
 * Masterpoints server cannot be reached, so it runs only after an
 * instance of the environment has reached GLOBAL_MPSERVER (safety/precond.h).
 * Returns 0 to go on, else the exit status (the reason printed). */
static int
mpc_guard(const struct rcli_opts *o)
{
	struct safety_cli sc = { .config = o->config, .env = o->env, .env_file = o->env_file };
	struct safety_target t;
	struct cut_err err = { 0 };
	int r, tcp_only = 0;

	if (o->env == NULL || o->config == NULL) {
		fprintf(stderr, "cutover manage: mpc_sync runs only with --env NAME -c FILE, so that cutover can "
		    "first check from an instance that GLOBAL_MPSERVER answers (mpc_sync deletes Masterpoints "
		    "data when it does not); nothing was run.\n");
		return 1;
	}
	if ((r = safety_links_open(&sc, SAFETY_LIVE, &t, &err)) == 0)
		r = precond_mpserver(&t.links[0], &t.conf, NULL, &tcp_only, &err);
	safety_links_close(&t);
	if (r != 0) {
		fprintf(stderr, "cutover manage: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int
cmd_manage_exec(int argc, char **argv)
{
	struct rcli_opts o;
	int r;

	if ((r = rcli_parse(&cmd_manage_entry, 1, argc, argv, &o)) != 0) {
		rcli_opts_free(&o);
		return r == 1 ? 0 : r;
	}
	if (o.nrest > 0 && strcmp(o.rest[0], "mpc_sync") == 0 && (r = mpc_guard(&o)) != 0) {
		rcli_opts_free(&o);
		return r;
	}
	struct rexec_request req = {
		.kind = REXEC_MANAGE,
		.argv = (const char *const *)o.rest,
		.app_dir = o.app_dir,
		.env_file = o.env_file,
		.python = o.python,
		.timeout_ms = o.timeout_ms,
	};
	r = rcli_run(&cmd_manage_entry, &o, &req);
	rcli_opts_free(&o);
	return r;
}

const struct cmd_entry cmd_manage_entry = {
	.name = "manage",
	.summary = "run a Django manage.py command on instances, as the EB app runs",
	.usage =
	"usage: cutover manage TARGETS [--timeout SECS] [--json] [--parallel N]\n"
	"                      [--app-dir D] [--env-file F] [--python P] -- ARGS...\n"
	"\n"
	"Runs PYTHON manage.py ARGS in the app folder with the environment of the EB\n"
	"env file loaded, as Cobalt's own scripts do. Usually with --sudo.\n"
	"\n"
	"  --app-dir D     the app folder (default /var/app/current)\n"
	"  --env-file F    KEY=value lines to load (default\n"
	"                  /opt/elasticbeanstalk/deployment/env)\n"
	"  --python P      the interpreter, may be a glob (default\n"
	"                  /var/app/venv/*/bin/python)\n"
	"\n"
	"With --env NAME -c FILE, --app-dir, --env-file and --python default to the\n"
	"file's [app] dir, env_file and python.\n"
	"\n"
	"TARGETS (--host or --env), --timeout, --json, --parallel, --connect-timeout,\n"
	"output and exit status: as for\n"
	"'cutover exec' (see cutover exec --help).\n"
	"\n"
	"mpc_sync runs only with --env NAME -c FILE, and only once an instance of that\n"
	"environment has reached GLOBAL_MPSERVER (it deletes Masterpoints data otherwise).\n"
	"\n"
	"Example: cutover manage --host ec2-user@10.0.1.5 --sudo -- migrate --noinput\n",
	.exec = cmd_manage_exec,
	.longopts = rcli_manage_longopts,
	.shortopts = RCLI_SHORTOPTS,
};
