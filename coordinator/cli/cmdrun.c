/* cli/cmdrun.c: see cli/cmdrun.h. */
#include "cli/cmdrun.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runbook/engine.h"
#include "runbook/journal.h"
#include "runbook/names.h"
#include "runbook/lease.h"
#include "runbook/progress.h"
#include "runbook/report.h"
#include "runbook/tables.h"
#include "runbook/window.h"
#include "world/ops.h"

/* The options of the runbook commands that change the world (cmd_<name>.c's
 * entries point at it, for completion), and of those that only read it (plan,
 * status). */
const struct option cmdrun_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "yes", no_argument, NULL, 'y' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "until", required_argument, NULL, 'u' },
	{ "break-lease", required_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 },
};
const struct option cmdrun_longopts_read[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Whether arg (an option getopt refused) is one only the changing commands
 * take, for a sentence better than "unknown". */
static int
changing_only(const char *arg)
{
	static const char *const names[] = { "-y", "-n", "--yes", "--dry-run", "--until", "--break-lease" };
	size_t n = strcspn(arg, "=");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(arg, names[i], n) == 0)
			return 1;
	return 0;
}

int
cmdrun_parse(const struct cmd_entry *e, int argc, char **argv, int flags, struct cmdrun_opts *o)
{
	int changes = flags & CMDRUN_F_CHANGES, c;

	memset(o, 0, sizeof(*o));
	o->state = CMDRUN_DEFAULT_STATE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, changes ? "+" CMDRUN_SHORTOPTS : "+" CMDRUN_SHORTOPTS_READ,
	    changes ? cmdrun_longopts : cmdrun_longopts_read, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->state = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': return cmd_print_usage(e);
		case 'y': case 'n': case 'u': case 'b':
			if (c == 'y')
				o->yes = 1;
			else if (c == 'n')
				o->dry_run = 1;
			else if (c == 'b')
				o->break_lease = optarg;
			else
				o->until = optarg;
			break;
		default:
			if (!changes && changing_only(argv[optind - 1]))
				return cmd_usage_error(e, "option %s is not for this command",
				    argv[optind - 1]);
			return cmd_usage_error(e, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (o->config == NULL)
		return cmd_usage_error(e, "the configuration file is required (-c FILE)");
	o->rest = argv + optind;
	o->nrest = argc - optind;
	return -1;
}

/* The pieces every runbook command sets up and tears down. */
struct session {
	struct world_ops *world;
	struct journal *journal;
	struct progress *out;
	struct run_ctx ctx;
};

static int
session_open(struct session *s, const struct cmdrun_opts *o, const char *cmd, int lock,
    struct cut_err *err)
{
	int r;

	memset(s, 0, sizeof(*s));
	if ((s->out = progress_new(stdout, progress_mode_for(stdout, o->json))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	if ((r = world_ops_open(o->config, &s->ctx.names, &s->world, err)) != 0)
		return r;
	names_derive(&s->ctx.names, time(NULL));
	if (lock)
		r = journal_open(o->state, cmd, &s->journal, err);
	else if ((r = journal_open_readonly(o->state, &s->journal, err)) == CUT_ENOTFOUND) {
		s->journal = NULL;
		cut_err_clear(err);
		r = 0;
	}
	if (r != 0)
		return r;
	s->ctx.journal = s->journal;
	s->ctx.out = s->out;
	s->ctx.world = s->world;
	s->ctx.state_dir = o->state;
	s->ctx.opts.yes = o->yes;
	s->ctx.opts.dry_run = o->dry_run;
	s->ctx.opts.until = o->until;
	s->ctx.opts.break_lease = o->break_lease;
	s->ctx.opts.confirm_fd = STDIN_FILENO;
	/* Waits follow the adaptive schedule of aws/wait.h: the AWS CLI waiters'
	 * 20-30 s delays notice readiness late, and that lag is downtime.
	 * CUTOVER_POLL_MS forces a fixed interval instead (tests, tuning). */
	s->ctx.opts.poll_adaptive = 1;
	if (getenv("CUTOVER_POLL_MS") != NULL) {
		s->ctx.opts.poll_adaptive = 0;
		s->ctx.opts.poll_ms = (unsigned)strtoul(getenv("CUTOVER_POLL_MS"), NULL, 10);
	}
	s->ctx.opts.wait_timeout_s = 3600;
	/* A simulation's time scale (tests/fakeaws, profile "aws"), for the
	 * report's projection; operators on AWS never set it. */
	s->ctx.opts.time_scale = getenv("CUTOVER_TIME_SCALE");
	if (s->ctx.opts.time_scale != NULL && !(strtod(s->ctx.opts.time_scale, NULL) > 0 &&
	    strtod(s->ctx.opts.time_scale, NULL) <= 1))
		return cut_err_set(err, CUT_EINVAL, "CUTOVER_TIME_SCALE must be a number above 0 "
		    "and at most 1 (the simulation's time scale), not '%s'.", s->ctx.opts.time_scale);
	/* TEST-ONLY: the kill -9 hook of the crash tests (runbook/engine.h); inert
	 * unless this variable is set, and operators never set it. */
	s->ctx.crash_at = getenv("CUTOVER_TEST_CRASH_AT");
	if (s->ctx.names.quiet_seconds <= 0)
		s->ctx.names.quiet_seconds = 60;
	if (s->ctx.names.quiet_deadline <= 0)
		s->ctx.names.quiet_deadline = 900;
	return 0;
}

static void
session_close(struct session *s)
{
	journal_close(s->journal);
	world_ops_close(s->world);
	progress_free(s->out);
}

static int
fail(struct session *s, const char *cmd, const struct cut_err *err)
{
	if (s->out && progress_is_json(s->out))
		progress_event(s->out, "error", NULL, "%s", err->msg);
	else
		fprintf(stderr, "cutover %s: %s\n", cmd, err->msg);
	/* 130 is the shell's code for Ctrl-C: only an interrupt gets it; a
	 * confirmation declined or impossible (no terminal) is a plain 1. */
	return err->code == CUT_ECANCEL && engine_interrupted() ? 130 : 1;
}

/* The downtime window's split, also on stdout (--json: as numbers), so
 * the operator and a benchmark see it without opening the report. */
static void
window_event(struct session *s, const char *state)
{
	struct report_summary rs;
	struct cut_err e;
	char jpath[PATH_MAX], line[1024];

	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", state);
	if (report_compute(jpath, &rs, &e) != 0)
		return;
	if (rs.has_downtime) {
		report_window_line(&rs, line, sizeof(line));
		progress_event_obj(s->out, "window", line, "window", report_window_json(&rs));
	}
	report_summary_free(&rs);
}

int
cmdrun_runbook(const char *rb_name, const struct cmdrun_opts *o)
{
	const struct runbook *rb = runbook_find(rb_name);
	struct session s;
	struct cut_err err;
	char md[4096], html[4096];
	int r, status = 0;

	cut_err_clear(&err);
	if (rb == NULL) {
		fprintf(stderr, "cutover: no runbook named %s; this is a bug in cutover.\n", rb_name);
		return 1;
	}
	/* A dry run neither locks nor creates the state folder. */
	if ((r = session_open(&s, o, rb_name, !o->dry_run, &err)) != 0) {
		status = fail(&s, rb_name, &err);
		session_close(&s);
		return status;
	}
	engine_catch_signals();
	r = engine_run(&s.ctx, rb, &err);
	if (r != 0)
		status = fail(&s, rb_name, &err);
	if (!o->dry_run && strcmp(rb_name, "prep") != 0) {
		struct cut_err rerr;
		if (report_write_files(o->state, md, html, sizeof(md), &rerr) == 0) {
			progress_event(s.out, "report", NULL, "%s and %s", md, html);
			window_event(&s, o->state);
		} else
			progress_event(s.out, "report", NULL, "not written: %s", rerr.msg);
	}
	session_close(&s);
	return status;
}

int
cmdrun_main(const struct cmd_entry *e, const char *rb_name, int argc, char **argv)
{
	struct cmdrun_opts o;
	int r = cmdrun_parse(e, argc, argv, CMDRUN_F_CHANGES, &o);

	if (r >= 0)
		return r;
	if (o.nrest > 0)
		return cmd_usage_error(e, "unexpected argument '%s'", o.rest[0]);
	return cmdrun_runbook(rb_name, &o);
}

int
cmdrun_plan(const struct cmdrun_opts *o)
{
	static const char *const dflt[] = { "prep", "run" };
	const char *const *names = o->nrest ? (const char *const *)o->rest : dflt;
	int i, n = o->nrest ? o->nrest : 2;
	struct session s;
	struct cut_err err;
	int status = 0;

	cut_err_clear(&err);
	for (i = 0; i < n; i++)
		if (runbook_find(names[i]) == NULL) {
			fprintf(stderr, "cutover plan: '%s' is not a runbook command (prep, run, "
			    "failback, tidy, rehearse).\n", names[i]);
			return 2;
		}
	if (session_open(&s, o, "plan", 0, &err) != 0) {
		status = fail(&s, "plan", &err);
		session_close(&s);
		return status;
	}
	for (i = 0; i < n; i++) {
		progress_event(s.out, "plan", NULL, "== cutover %s", names[i]);
		if (engine_plan(&s.ctx, runbook_find(names[i]), &err) != 0)
			status = fail(&s, "plan", &err);
		if (strcmp(names[i], "run") == 0) {
			struct window_prediction wp;
			char line[2048];
			window_predict(&s.ctx, &wp);
			window_sentence(&wp, line, sizeof(line));
			progress_event_obj(s.out, "window", line, "window", window_json(&wp));
		}
	}
	session_close(&s);
	return status;
}

int
cmdrun_status(const struct cmdrun_opts *o)
{
	struct session s;
	struct cut_err err;
	struct world_rrset rr;
	char lease[WORLD_LEASE_MAX], who[512], id[WORLD_LEASE_MAX];
	int k, r, status = 0;
	size_t i;

	cut_err_clear(&err);
	if (session_open(&s, o, "status", 0, &err) != 0) {
		status = fail(&s, "status", &err);
		session_close(&s);
		return status;
	}
	if (s.journal == NULL)
		progress_event(s.out, "status", NULL, "no cutover has started in %s", o->state);
	for (k = 0; s.journal && runbook_all[k]; k++) {
		const struct runbook *rb = runbook_for(runbook_all[k]->cmd, s.ctx.names.db_method);
		for (i = 0; i < rb->nsteps; i++) {
			struct journal_step st = journal_step_state(s.journal, rb->steps[i]->name);
			progress_event(s.out, "status", rb->steps[i]->name, "%s (cutover %s)",
			    st.done ? "done" : st.failed ? "FAILED, run again to retry" :
			    st.applied ? "applied, not yet confirmed done" :
			    st.begun ? "started" : "not started", rb->cmd);
		}
	}
	if (s.world->dns_read(s.world, s.ctx.names.zone, s.ctx.names.apex, "A", &rr, &err) == 0 ||
	    s.world->dns_read(s.world, s.ctx.names.zone, s.ctx.names.apex, "CNAME", &rr, &err) == 0)
		progress_event(s.out, "status", NULL, "DNS: %s -> %s", rr.name,
		    rr.alias_dns[0] ? rr.alias_dns : rr.value);
	else
		status = fail(&s, "status", &err);
	if ((r = s.world->lease_read(s.world, s.ctx.names.zone, lease, sizeof(lease), &err)) == 0) {
		lease_holder(lease, who, sizeof(who), id, sizeof(id));
		progress_event(s.out, "status", NULL, "lease: held by %s", who);
	} else if (r == CUT_ENOTFOUND)
		progress_event(s.out, "status", NULL, "lease: free (no cutover command is running)");
	else
		status = fail(&s, "status", &err);
	session_close(&s);
	return status;
}
