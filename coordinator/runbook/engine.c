/* runbook/engine.c: see runbook/engine.h. */
#include "runbook/engine.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/clock.h"
#include "base/wait_sched.h"
#include "runbook/journal.h"
#include "base/sig.h"
#include "runbook/lease.h"
#include "runbook/progress.h"
#include "runbook/tables.h"
#include "runbook/window.h"

/* The process-wide policy (base/sig.h): the first Ctrl-C asks for a clean
 * stop after the current call; a second one stops at once, which the
 * journal and the ledger of opened rules are built to survive. */
void engine_catch_signals(void) { sig_install(); }
int engine_interrupted(void) { return sig_stopped(); }
void engine_set_interrupted(int on) { sig_set(on); }

/* TEST-ONLY hook (crash-safety tests; see runbook/engine.h). Compiled in so the
 * tests drive the binary that ships, but inert: ctx->crash_at is set only
 * from CUTOVER_TEST_CRASH_AT. It must look exactly like kill -9 to the
 * journal, the lock and the world, so it raises SIGKILL on itself: no
 * atexit handlers, no stdio flush, nothing closed. The one line on stderr is
 * a raw write(2) so the test can tell where it died. */
void
engine_crash_point(struct run_ctx *ctx, const char *step, const char *point)
{
	const char *c = ctx->crash_at, *colon;
	char msg[256];
	size_t n;
	int len;

	if (c == NULL || (colon = strchr(c, ':')) == NULL)
		return;
	n = (size_t)(colon - c);
	if (strlen(step) != n || strncmp(c, step, n) != 0 || strcmp(colon + 1, point) != 0)
		return;
	len = snprintf(msg, sizeof(msg), "cutover: test hook: SIGKILL at %s:%s\n", step, point);
	if (len > 0)
		(void)!write(STDERR_FILENO, msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1);
	raise(SIGKILL);
	_exit(137);  /* not reached */
}

/* The point of the current step's nth wait: "wait", "wait2", ... */
static void
crash_nth(struct run_ctx *ctx, const char *step, const char *point, unsigned nth)
{
	char p[32];

	if (ctx->crash_at == NULL)
		return;
	if (nth <= 1)
		snprintf(p, sizeof(p), "%s", point);
	else
		snprintf(p, sizeof(p), "%s%u", point, nth);
	engine_crash_point(ctx, step, p);
}

void
engine_clear_pending(struct run_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->npending; i++) {
		free(ctx->pending[i].key);
		free(ctx->pending[i].value);
	}
	free(ctx->pending);
	ctx->pending = NULL;
	ctx->npending = ctx->cappending = 0;
}

/* Appends an event carrying the current step's pending values, then drops them. */
static int
jlog(struct run_ctx *ctx, const char *ev, const char *step, const char *msg, int with_pending,
    struct cut_err *err)
{
	struct journal_kv *kv = NULL;
	struct journal_event e = { .ev = ev, .step = step, .msg = msg };
	size_t i;
	int r;

	if (ctx->opts.dry_run || ctx->journal == NULL)
		return 0;
	if (with_pending && ctx->npending > 0) {
		if ((kv = calloc(ctx->npending, sizeof(*kv))) == NULL)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory writing the journal.");
		for (i = 0; i < ctx->npending; i++) {
			kv[i].key = ctx->pending[i].key;
			kv[i].value = ctx->pending[i].value;
		}
		e.kv = kv;
		e.nkv = ctx->npending;
	}
	r = journal_append(ctx->journal, &e, err);
	free(kv);
	if (r == 0 && with_pending)
		engine_clear_pending(ctx);
	return r;
}

/* The one sink of an event that is both recorded and shown: journals ev
 * (like jlog; nothing on a dry run or without a journal) and, when that
 * worked, shows it to the operator as the progress event `show` with the
 * text of fmt. Recorded first, so what the operator reads is in the journal.
 * show NULL: journalled only. */
static int
emit(struct run_ctx *ctx, const char *ev, const char *step, const char *msg, int with_pending,
    const char *show, struct cut_err *err, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static int
emit(struct run_ctx *ctx, const char *ev, const char *step, const char *msg, int with_pending,
    const char *show, struct cut_err *err, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	int r;

	r = jlog(ctx, ev, step, msg, with_pending, err);
	if (r == 0 && show != NULL && ctx->out != NULL) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		progress_event(ctx->out, show, step, "%s", text);
	}
	return r;
}

static int
jlog_kv(struct run_ctx *ctx, const char *ev, const char *step, const char *msg,
    const struct journal_kv *kv, size_t n, struct cut_err *err)
{
	struct journal_event e = { .ev = ev, .step = step, .msg = msg, .kv = kv, .nkv = n };

	if (ctx->opts.dry_run || ctx->journal == NULL)
		return 0;
	return journal_append(ctx->journal, &e, err);
}

double
engine_now(const struct run_ctx *ctx)
{
	if (ctx->clock)
		return ctx->clock->now(ctx->clock->arg);
	return cut_mono_s();
}

/* Sleeps until t on ctx's clock; returns early when interrupted (the caller
 * checks the flag). */
static void
sleep_until(struct run_ctx *ctx, double t)
{
	double left;

	if (ctx->clock) {
		ctx->clock->sleep_until(ctx->clock->arg, t);
		return;
	}
	while (!engine_interrupted() && (left = t - engine_now(ctx)) > 0) {
		struct timespec d;

		/* nanosleep ends early on a signal, and the handler is installed
		 * without SA_RESTART, so Ctrl-C is seen at once. */
		if (left > 1.0)
			left = 1.0;
		d.tv_sec = 0;
		d.tv_nsec = (long)(left * 1e9);
		if (d.tv_nsec > 999999999L)
			d.tv_nsec = 999999999L;
		nanosleep(&d, NULL);
	}
}

struct learn {
	const char *kind;
	double s;
};

static int
learn_visit(void *arg, struct json_object *rec)
{
	struct learn *l = arg;
	struct json_object *o, *kv, *k, *v;

	/* journal_read hands on only records whose fields are text. */
	if (!json_object_object_get_ex(rec, "ev", &o) || !json_object_is_type(o, json_type_string) ||
	    strcmp(json_object_get_string(o), "wait-end") != 0 ||
	    !json_object_object_get_ex(rec, "kv", &kv) ||
	    !json_object_object_get_ex(kv, "wait_kind", &k) || !json_object_is_type(k, json_type_string) ||
	    !json_object_object_get_ex(kv, "wait_s", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(k), l->kind) != 0)
		return 0;
	l->s = strtod(json_object_get_string(v), NULL);
	return 0;
}

double
engine_learned_s(struct run_ctx *ctx, const char *kind)
{
	struct learn l = { kind, 0 };
	struct cut_err e;

	if (kind == NULL || ctx->journal == NULL)
		return 0;
	/* A few hundred lines at most; read once per wait. */
	if (journal_read(journal_file(ctx->journal), learn_visit, &l, &e) != 0)
		return 0;
	return l.s > 0 ? l.s : 0;
}

static int
wait_end(struct run_ctx *ctx, const char *step, const char *msg, const char *kind,
    double learned, struct cut_err *err)
{
	struct journal_kv kv[2];
	char secs[32];

	if (ctx->out)
		progress_wait_end(ctx->out);
	if (kind == NULL || learned <= 0)
		return jlog(ctx, "wait-end", step, msg, 0, err);
	snprintf(secs, sizeof(secs), "%.1f", learned);
	kv[0] = (struct journal_kv){ "wait_kind", kind };
	kv[1] = (struct journal_kv){ "wait_s", secs };
	return jlog_kv(ctx, "wait-end", step, msg, kv, 2, err);
}

int
engine_poll(struct run_ctx *ctx, const char *what, step_poll_fn fn, void *arg,
    struct cut_err *err)
{
	return engine_poll_kind(ctx, what, NULL, fn, arg, err);
}

int
engine_poll_kind(struct run_ctx *ctx, const char *what, const char *kind, step_poll_fn fn,
    void *arg, struct cut_err *err)
{
	const char *step = ctx->step ? ctx->step->name : "";
	char status[128] = "";
	double t0 = engine_now(ctx), now, next, deadline, pending_at = -1;
	unsigned limit = ctx->opts.wait_timeout_s ? ctx->opts.wait_timeout_s : 3600;
	/* The change began when apply() returned, if this run applied it. */
	double began = ctx->applied_at > 0 && ctx->applied_at <= t0 ? ctx->applied_at : 0;
	struct wait_sched ws;
	unsigned nth = ++ctx->nwaits, npolls = 0;
	int r;

	/* What the operator is told to expect when neither percent nor this
	 * cutover's own earlier waits predict the end: a rehearsal's figure
	 * or the documented one (runbook/window.h), from the change's start. */
	double fallback = began && kind ? window_expected_s(ctx, kind) : 0;

	wait_sched_init(&ws, began ? began : t0, began ? engine_learned_s(ctx, kind) : 0);
	deadline = t0 + limit;
	if (kind != NULL) {
		struct journal_kv kkv = { "wait_kind", kind };
		r = jlog_kv(ctx, "wait-begin", step, what, &kkv, 1, err);
	} else
		r = jlog(ctx, "wait-begin", step, what, 0, err);
	if (r != 0)
		return r;
	for (;;) {
		struct progress_sample s;
		int pct = -1;
		double rate = -1, at = engine_now(ctx);

		status[0] = '\0';
		wait_sched_record_call(&ws, at);
		r = fn(ctx, arg, status, sizeof(status), &pct, &rate, err);
		now = engine_now(ctx);
		if (r < 0) {
			wait_end(ctx, step, "failed", NULL, 0, NULL);
			return r;
		}
		/* Dies with the resource (typically) still changing. */
		if (++npolls == 1)
			crash_nth(ctx, step, "wait", nth);
		if (pct >= 0)
			wait_sched_observe_percent(&ws, now, pct);
		s.what = what;
		s.status = status;
		s.percent = pct;
		s.rate = rate;
		s.elapsed_ms = (int64_t)((now - t0) * 1000);
		s.expected_ms = 0;
		{
			double end = wait_sched_predicted(&ws);
			if (end <= 0 && fallback > 0)
				end = began + fallback;
			/* Nothing is expected of a wait that is over. */
			if (end > t0 && r != 1)
				s.expected_ms = (int64_t)((end - t0) * 1000);
		}
		if (ctx->out)
			progress_wait(ctx->out, step, &s);
		if (r == 1) {
			/* Done between the last pending poll and this one. */
			double learned = began && pending_at >= 0 ? (pending_at + at) / 2 - began : 0;
			if ((r = wait_end(ctx, step, status, kind, learned, err)) != 0)
				return r;
			crash_nth(ctx, step, "waited", nth);
			return 0;
		}
		pending_at = at;
		if (engine_interrupted()) {
			wait_end(ctx, step, "interrupted", NULL, 0, NULL);
			return cut_err_set(err, CUT_ECANCEL, "Interrupted while waiting for %s "
			    "(last status: %s).", what, status);
		}
		if (now >= deadline) {
			wait_end(ctx, step, "timed out", NULL, 0, NULL);
			return cut_err_set(err, CUT_ETIMEOUT, "Waited %u s for %s and it is still "
			    "'%s'; look at it in the AWS console, then run again to resume waiting.",
			    limit, what, status);
		}
		next = ctx->opts.poll_adaptive ? wait_sched_next(&ws, now) :
		    now + ctx->opts.poll_ms / 1000.0;
		sleep_until(ctx, next < deadline ? next : deadline);
	}
}

/* Loads the names pinned by an earlier run; otherwise, when record is set,
 * pins the given ones. engine_run records only once preflight has passed:
 * a refused run changed nothing, so the names it saw must not outlive it
 * (the operator fixes the configuration or the world and runs again). */
static int
pin_names(struct run_ctx *ctx, int record, struct cut_err *err)
{
	struct journal_kv kv[64];
	size_t i, n = 0;
	int pinned = ctx->journal && journal_value(ctx->journal, "@names", "live_web") != NULL;

	for (i = 0; i < run_names_nfields && n < 64; i++) {
		const struct run_names_field *f = &run_names_fields[i];
		char *field = (char *)&ctx->names + f->offset;

		if (pinned) {
			const char *v = journal_value(ctx->journal, "@names", f->key);
			if (v == NULL)
				continue;
			if (strcmp(field, v) != 0) {
				if (field[0] != '\0' && ctx->out && (strcmp(f->key, "live_web") == 0 ||
				    strcmp(f->key, "new_web") == 0))
					progress_event(ctx->out, "info", NULL, "%s is %s as pinned when "
					    "this cutover began (the world now says %s)", f->key, v, field);
				snprintf(field, f->size, "%s", v);
			}
			continue;
		}
		kv[n].key = f->key;
		kv[n].value = field;
		n++;
	}
	if (pinned || !record)
		return 0;
	return jlog_kv(ctx, "names", NULL, NULL, kv, n, err);
}

int
engine_ask(struct run_ctx *ctx, const char *question)
{
	char line[64];
	ssize_t r;
	size_t got = 0;

	if (!isatty(ctx->opts.confirm_fd))
		return 0;
	if (ctx->out) {
		progress_wait_end(ctx->out);
		progress_event(ctx->out, "confirm", ctx->step ? ctx->step->name : NULL,
		    "%s -- type yes to go on: ", question);
	}
	while (got < sizeof(line) - 1) {
		r = read(ctx->opts.confirm_fd, line + got, 1);
		if (r <= 0)
			break;
		if (line[got] == '\n')
			break;
		got++;
	}
	line[got] = '\0';
	return strcmp(line, "yes") == 0 && !engine_interrupted();
}

static int
confirm(struct run_ctx *ctx, const struct step_entry *st, const char *desc, struct cut_err *err)
{
	if (ctx->opts.yes)
		return 0;
	if (!isatty(ctx->opts.confirm_fd))
		return cut_err_set(err, CUT_ECANCEL, "Step %s cannot be undone by running again and "
		    "needs confirmation, but standard input is not a terminal; run again with --yes "
		    "to confirm it.", st->name);
	if (engine_ask(ctx, desc))
		return 0;
	return cut_err_set(err, CUT_ECANCEL, "Step %s was not confirmed, so nothing was changed "
	    "by it; run again when ready (or with --yes).", st->name);
}

static void
say_resume(struct run_ctx *ctx, const struct runbook *rb, const char *step, const char *why)
{
	if (ctx->out)
		progress_event(ctx->out, "stop", step, "%s; what is done is recorded in %s. Run "
		    "`cutover %s` again with the same configuration to resume from here.", why,
		    ctx->journal ? journal_file(ctx->journal) : "the journal", rb->cmd);
}

/* Writes the downtime-begin / downtime-end of st when the journal says the
 * step got that far but the record is missing: a run killed between the
 * step's own record and this one must not leave the report without its
 * downtime window (nor write it twice). */
static void
downtime_records(struct run_ctx *ctx, const struct step_entry *st)
{
	struct journal_step js;

	if (ctx->journal == NULL || ctx->opts.dry_run ||
	    !(st->flags & (STEP_F_DOWNTIME_BEGIN | STEP_F_DOWNTIME_END)))
		return;
	js = journal_step_state(ctx->journal, st->name);
	if ((st->flags & STEP_F_DOWNTIME_BEGIN) && (js.applied || js.done) && !js.downtime_begun)
		jlog(ctx, "downtime-begin", st->name, NULL, 0, NULL);
	if ((st->flags & STEP_F_DOWNTIME_END) && js.done && !js.downtime_ended)
		jlog(ctx, "downtime-end", st->name, NULL, 0, NULL);
}

/* Journal records and crash points (runbook/engine.h) in the order they happen. */
static int
run_step(struct run_ctx *ctx, const struct step_entry *st, struct cut_err *err)
{
	struct journal_step js = journal_step_state(ctx->journal, st->name);
	char desc[1024] = "";
	int r, state;

	ctx->applied_at = 0;
	ctx->nwaits = 0;
	step_memo_clear(ctx);
	if ((r = jlog(ctx, "step-begin", st->name, NULL, 0, err)) != 0)
		return r;
	engine_crash_point(ctx, st->name, "before");
	if ((state = st->check(ctx, err)) < 0)
		return state;
	if (state == STEP_DONE) {
		if ((r = emit(ctx, "step-skipped", st->name, "already done", 1, "skip", err,
		    "already done")) != 0)
			return r;
		if (st->remind)
			st->remind(ctx);
		engine_crash_point(ctx, st->name, "done");
		downtime_records(ctx, st);
		return 0;
	}
	if (state == STEP_TODO) {
		if (js.applied && (st->flags & STEP_F_ONCE))
			return cut_err_set(err, CUT_ESTATE, "Step %s was applied by an earlier run "
			    "(see %s) but the world does not show its result; it is never applied "
			    "twice, so look at it by hand before running again.", st->name,
			    journal_file(ctx->journal));
		if ((r = st->describe(ctx, desc, sizeof(desc), err)) != 0)
			return r;
		if ((st->flags & STEP_F_IRREVERSIBLE) && (r = confirm(ctx, st, desc, err)) != 0)
			return r;
		if (st->record && !js.recorded) {
			if ((r = st->record(ctx, err)) != 0)
				return r;
			if ((r = jlog(ctx, "step-record", st->name, NULL, 1, err)) != 0)
				return r;
			engine_crash_point(ctx, st->name, "recorded");
		}
		if (ctx->out)
			progress_event(ctx->out, "begin", st->name, "%s", desc);
		r = st->apply(ctx, err);
		step_memo_clear(ctx);
		if (r != 0)
			return r;
		ctx->applied_at = engine_now(ctx);
		engine_crash_point(ctx, st->name, "apply");
		if ((r = jlog(ctx, "step-applied", st->name, NULL, 1, err)) != 0)
			return r;
		engine_crash_point(ctx, st->name, "applied");
	} else {
		if (ctx->out)
			progress_event(ctx->out, "resume", st->name, "applied earlier; waiting for "
			    "it to take effect");
		/* Applied by a run that died before journalling it: say so now,
		 * so a later run knows a STEP_F_ONCE step must not be redone. */
		if (!js.applied) {
			if ((r = jlog(ctx, "step-applied", st->name, "found applied by an earlier "
			    "run that stopped before recording it", 1, err)) != 0)
				return r;
			engine_crash_point(ctx, st->name, "applied");
		}
	}
	downtime_records(ctx, st);
	step_memo_clear(ctx);   /* a wait reads the world as it is now */
	if (st->wait && (r = st->wait(ctx, err)) != 0)
		return r;
	if ((r = emit(ctx, "step-done", st->name, NULL, 1, "done", err, "%s", st->summary)) != 0)
		return r;
	engine_crash_point(ctx, st->name, "done");
	downtime_records(ctx, st);
	return 0;
}

static int
check_until(struct run_ctx *ctx, const struct runbook *rb, struct cut_err *err)
{
	char names[1024] = "";
	size_t i, len = 0;

	if (ctx->opts.until == NULL || runbook_index(rb, ctx->opts.until) >= 0)
		return 0;
	for (i = 0; i < rb->nsteps && len < sizeof(names) - 1; i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
		    rb->steps[i]->name);
	return cut_err_set(err, CUT_EINVAL, "--until %s names no step of `cutover %s`; its steps "
	    "are: %s.", ctx->opts.until, rb->cmd, names);
}

static int
dry_step(struct run_ctx *ctx, const struct step_entry *st, const char *event, struct cut_err *err)
{
	char desc[1024], why[512];
	int state, r;

	if (ctx->journal && journal_step_state(ctx->journal, st->name).done) {
		if (ctx->out)
			progress_event(ctx->out, event, st->name, "done (journal)");
		return 0;
	}
	ctx->step = st;
	step_memo_clear(ctx);
	state = st->check(ctx, err);
	if (state == STEP_DONE) {
		if (ctx->out)
			progress_event(ctx->out, event, st->name, "already done");
	} else if (state < 0 && preflight_not_created(ctx, err, why, sizeof(why))) {
		/* Expected before prep (or before run's restore): one line that
		 * says so, not the AWS error of looking for it. */
		struct cut_err de;
		if (st->describe(ctx, desc, sizeof(desc), &de) != 0)
			snprintf(desc, sizeof(desc), "%s", st->summary);
		if (ctx->out)
			progress_event(ctx->out, event, st->name, "would %s%s; cannot check it yet: %s",
			    desc, (st->flags & STEP_F_IRREVERSIBLE) ? " [irreversible: asks first]" : "",
			    why);
	} else {
		if (state < 0) {
			/* A later step often cannot be checked before earlier ones ran. */
			if (ctx->out)
				progress_event(ctx->out, event, st->name, "cannot tell yet (%s)",
				    err ? err->msg : "");
		}
		if ((r = st->describe(ctx, desc, sizeof(desc), err)) != 0)
			desc[0] = '\0', snprintf(desc, sizeof(desc), "%s", st->summary);
		if (ctx->out)
			progress_event(ctx->out, event, st->name, "%s%s%s",
			    state == STEP_PENDING ? "in progress: " : "would ", desc,
			    (st->flags & STEP_F_IRREVERSIBLE) ? " [irreversible: asks first]" : "");
	}
	engine_clear_pending(ctx);
	step_memo_clear(ctx);
	ctx->step = NULL;
	return 0;
}

int
engine_plan(struct run_ctx *ctx, const struct runbook *rb, struct cut_err *err)
{
	int saved = ctx->opts.dry_run, r = 0, problems = 0;
	size_t i;

	ctx->opts.dry_run = 1;
	ctx->planning = rb->cmd;
	if (ctx->journal)
		pin_names(ctx, 0, err);
	rb = runbook_for(rb->cmd, ctx->names.db_method);
	if (rb->nchecks && preflight_run(ctx, rb->checks, rb->nchecks, &problems, err) != 0 &&
	    ctx->out)
		progress_event(ctx->out, "plan", NULL, "`cutover %s` would refuse to start now: "
		    "%d problem%s above", rb->cmd, problems, problems == 1 ? "" : "s");
	for (i = 0; i < rb->nsteps; i++)
		if ((r = dry_step(ctx, rb->steps[i], "plan", err)) != 0)
			break;
	ctx->planning = NULL;
	ctx->opts.dry_run = saved;
	cut_err_clear(err);
	return r;
}

/* What the journal says of the latest earlier run of one command. */
struct last_run {
	const char *cmd;
	int seen, ended;
	char pid[24], status[24], step[64];
};

static int
last_run_visit(void *arg, struct json_object *rec)
{
	struct last_run *l = arg;
	struct json_object *o, *kv;
	const char *ev;

	if (!json_object_object_get_ex(rec, "ev", &o) || !json_object_is_type(o, json_type_string))
		return 0;
	ev = json_object_get_string(o);
	if (!json_object_object_get_ex(rec, "kv", &kv) || !json_object_is_type(kv, json_type_object))
		kv = NULL;
	if (strcmp(ev, "run-begin") == 0) {
		if (kv == NULL || !json_object_object_get_ex(kv, "cmd", &o) ||
		    strcmp(json_object_get_string(o), l->cmd) != 0) {
			l->seen = 0;   /* another command ran since */
			return 0;
		}
		l->seen = 1;
		l->ended = 0;
		l->step[0] = l->status[0] = '\0';
		snprintf(l->pid, sizeof(l->pid), "%s",
		    json_object_object_get_ex(kv, "pid", &o) ? json_object_get_string(o) : "?");
	} else if (l->seen && strcmp(ev, "run-end") == 0) {
		l->ended = 1;
		snprintf(l->status, sizeof(l->status), "%s", kv != NULL &&
		    json_object_object_get_ex(kv, "status", &o) ? json_object_get_string(o) : "?");
	} else if (l->seen && json_object_object_get_ex(rec, "step", &o)) {
		snprintf(l->step, sizeof(l->step), "%s", json_object_get_string(o));
	}
	return 0;
}

/* The latest command of the journal, whatever it was. */
struct latest {
	char cmd[24];
	struct last_run l;
};

static int
latest_visit(void *arg, struct json_object *rec)
{
	struct latest *x = arg;
	struct json_object *o, *kv;

	if (json_object_object_get_ex(rec, "ev", &o) && json_object_is_type(o, json_type_string) &&
	    strcmp(json_object_get_string(o), "run-begin") == 0 &&
	    json_object_object_get_ex(rec, "kv", &kv) && json_object_is_type(kv, json_type_object) &&
	    json_object_object_get_ex(kv, "cmd", &o) && json_object_is_type(o, json_type_string) &&
	    runbook_find(json_object_get_string(o)) != NULL) {
		snprintf(x->cmd, sizeof(x->cmd), "%s", json_object_get_string(o));
		x->l.cmd = runbook_find(x->cmd)->cmd;
	}
	return x->l.cmd ? last_run_visit(&x->l, rec) : 0;
}

static void
say_next(struct run_ctx *ctx, const char *config, const char *cmd, const char *why)
{
	if (cmd == NULL)
		progress_event(ctx->out, "next", NULL, "%s", why);
	else
		progress_event(ctx->out, "next", NULL, "`cutover %s -c %s --state %s` (%s)", cmd,
		    config, ctx->state_dir ? ctx->state_dir : "cutover-state", why);
}

static int
all_done(struct run_ctx *ctx, const char *cmd)
{
	const struct runbook *rb = runbook_for(cmd, ctx->names.db_method);
	size_t i;

	for (i = 0; rb && i < rb->nsteps; i++)
		if (!journal_step_state(ctx->journal, rb->steps[i]->name).done)
			return 0;
	return rb != NULL;
}

void
engine_status(struct run_ctx *ctx, const char *config)
{
	struct latest x;
	struct cut_err e;
	const struct runbook *rb;
	size_t i;
	int done;

	memset(&x, 0, sizeof(x));
	if (ctx->out == NULL)
		return;
	if (ctx->journal == NULL || journal_read(journal_file(ctx->journal), latest_visit, &x,
	    &e) != 0 || x.cmd[0] == '\0') {
		progress_event(ctx->out, "status", NULL, "no cutover command has run in %s yet",
		    ctx->state_dir ? ctx->state_dir : "the state folder");
		say_next(ctx, config, "prep", "builds the new environments; `cutover rehearse` "
		    "first measures the waits on the test system");
		return;
	}
	rb = runbook_for(x.cmd, ctx->names.db_method);
	done = x.l.ended && strcmp(x.l.status, "done") == 0;
	if (!x.l.ended)
		progress_event(ctx->out, "status", NULL, "`cutover %s` is running (pid %s), or died "
		    "without stopping cleanly%s%s", x.cmd, x.l.pid, x.l.step[0] ? " at step " : "",
		    x.l.step);
	else if (done)
		progress_event(ctx->out, "status", NULL, "`cutover %s` finished: every step is done",
		    x.cmd);
	else
		progress_event(ctx->out, "status", NULL, "`cutover %s` %s%s%s", x.cmd,
		    strcmp(x.l.status, "until") == 0 ? "stopped as asked (--until)" :
		    strcmp(x.l.status, "refused") == 0 ? "was refused by preflight; nothing was changed" :
		    x.l.status, x.l.step[0] && strcmp(x.l.status, "refused") != 0 ? " at step " : "",
		    strcmp(x.l.status, "refused") != 0 ? x.l.step : "");
	for (i = 0; i < rb->nsteps; i++) {
		struct journal_step st = journal_step_state(ctx->journal, rb->steps[i]->name);
		progress_event(ctx->out, "status", rb->steps[i]->name, "%s",
		    st.done ? "done" : st.failed ? "FAILED, run again to retry" :
		    st.applied ? "applied, not yet confirmed done" :
		    st.begun ? "started" : "not started");
	}
	if (!done)
		say_next(ctx, config, x.cmd, !x.l.ended ? "once it is no longer running: it resumes "
		    "where it stopped" : strcmp(x.l.status, "refused") == 0 ? "after fixing what "
		    "preflight said" : "resumes where it stopped; steps done are skipped");
	else if (strcmp(x.cmd, "prep") == 0)
		say_next(ctx, config, "run", "the cutover itself, in the downtime window");
	else if (strcmp(x.cmd, "rehearse") == 0)
		say_next(ctx, config, all_done(ctx, "prep") ? "run" : "prep",
		    all_done(ctx, "prep") ? "the cutover itself, in the downtime window" :
		    "builds the new environments");
	else if (strcmp(x.cmd, "run") == 0)
		say_next(ctx, config, "tidy", "once the new system is confirmed good; "
		    "`cutover failback` instead puts the old one back");
	else if (strcmp(x.cmd, "failback") == 0)
		say_next(ctx, config, NULL, "none: the site is back on the old environments; "
		    "start again with a new state folder when ready");
	else
		say_next(ctx, config, NULL, "none: the cutover is complete and tidied");
}

/* Says that this run resumes an earlier one, and how that one ended: a run
 * killed (kill -9, a crash, a lost machine) wrote no run-end; the kernel
 * released its lock with it, so this run took the state folder over. */
static void
say_resuming(struct run_ctx *ctx, const struct runbook *rb)
{
	struct last_run l = { .cmd = rb->cmd };
	struct cut_err e;
	char msg[256];

	if (ctx->journal == NULL || ctx->out == NULL || ctx->opts.dry_run ||
	    journal_read(journal_file(ctx->journal), last_run_visit, &l, &e) != 0 || !l.seen ||
	    (l.ended && (strcmp(l.status, "done") == 0 || strcmp(l.status, "refused") == 0)))
		return;
	if (!l.ended) {
		snprintf(msg, sizeof(msg), "the last run (pid %s) died%s%s without stopping cleanly; "
		    "its lock went with it", l.pid, l.step[0] ? " at step " : "", l.step);
		jlog(ctx, "note", NULL, msg, 0, NULL);
	} else {
		snprintf(msg, sizeof(msg), "the last run (pid %s) %s%s%s", l.pid,
		    strcmp(l.status, "until") == 0 ? "stopped as asked (--until)" : l.status,
		    l.step[0] ? " at step " : "", l.step);
	}
	progress_event(ctx->out, "resume", NULL, "Resuming `cutover %s` of cutover %s: %s; "
	    "steps done are skipped, a step cut short is checked against the world first.",
	    rb->cmd, journal_id(ctx->journal), msg);
}

int
engine_run(struct run_ctx *ctx, const struct runbook *rb, struct cut_err *err)
{
	struct journal_kv kv[7];
	char pid[16], state_abs[PATH_MAX];
	size_t i, nkv;
	int r, problems = 0;
	const char *stop_status = "done";

	rb = runbook_for(rb->cmd, ctx->names.db_method);
	if ((r = check_until(ctx, rb, err)) != 0)
		return r;
	if (ctx->journal == NULL && !ctx->opts.dry_run)
		return cut_err_set(err, CUT_EINVAL, "No journal is open; this is a bug in cutover.");
	if ((r = pin_names(ctx, 0, err)) != 0)
		return r;
	/* The database method pinned when this cutover began decides the
	 * steps, whatever the configuration says now. */
	rb = runbook_for(rb->cmd, ctx->names.db_method);
	if ((r = check_until(ctx, rb, err)) != 0)
		return r;
	if (ctx->journal)
		snprintf(ctx->state_id, sizeof(ctx->state_id), "%s", journal_id(ctx->journal));
	say_resuming(ctx, rb);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	kv[0] = (struct journal_kv){ "cmd", rb->cmd };
	kv[1] = (struct journal_kv){ "pid", pid };
	kv[2] = (struct journal_kv){ "until", ctx->opts.until ? ctx->opts.until : "" };
	kv[3] = (struct journal_kv){ "yes", ctx->opts.yes ? "1" : "0" };
	nkv = 4;
	if (ctx->opts.time_scale)
		kv[nkv++] = (struct journal_kv){ "time_scale", ctx->opts.time_scale };
	/* Where this run read its configuration and keeps its state: the
	 * report's next command names them (runbook/verdict.h). */
	if (ctx->config_path)
		kv[nkv++] = (struct journal_kv){ "config", ctx->config_path };
	if (ctx->state_dir) {
		/* The folder exists (the journal is in it): absolute, so the
		 * command works from any folder. */
		if (realpath(ctx->state_dir, state_abs) == NULL)
			snprintf(state_abs, sizeof(state_abs), "%s", ctx->state_dir);
		kv[nkv++] = (struct journal_kv){ "state", state_abs };
	}
	if ((r = jlog_kv(ctx, "run-begin", NULL, NULL, kv, nkv, err)) != 0)
		return r;

	if ((r = preflight_run(ctx, rb->checks, rb->nchecks, &problems, err)) != 0) {
		jlog(ctx, "preflight", NULL, err->msg, 0, NULL);
		kv[0] = (struct journal_kv){ "status", "refused" };
		jlog_kv(ctx, "run-end", NULL, err->msg, kv, 1, NULL);
		return r;
	}
	/* After preflight (a refused run changes nothing, and need not wait
	 * for anyone), before the first change: one cutover at a time. */
	if (!ctx->opts.dry_run && (r = lease_take(ctx, rb->cmd, err)) != 0) {
		kv[0] = (struct journal_kv){ "status", "refused" };
		jlog_kv(ctx, "run-end", NULL, err->msg, kv, 1, NULL);
		return r;
	}
	if ((r = pin_names(ctx, 1, err)) != 0) {
		lease_drop(ctx);
		return r;
	}

	for (i = 0; i < rb->nsteps; i++) {
		const struct step_entry *st = rb->steps[i];
		int last = ctx->opts.until && strcmp(ctx->opts.until, st->name) == 0;

		if (engine_interrupted()) {
			r = cut_err_set(err, CUT_ECANCEL, "Stopped by Ctrl-C before step %s.", st->name);
			say_resume(ctx, rb, st->name, "stopped by Ctrl-C");
			stop_status = "stopped";
			break;
		}
		if (ctx->opts.dry_run) {
			dry_step(ctx, st, "dry-run", err);
			cut_err_clear(err);
		} else if (ctx->journal && journal_step_state(ctx->journal, st->name).done) {
			downtime_records(ctx, st);
			if (ctx->out)
				progress_event(ctx->out, "skip", st->name, "done earlier");
			if (st->remind) {
				ctx->step = st;
				st->remind(ctx);
				ctx->step = NULL;
			}
		} else {
			ctx->step = st;
			r = run_step(ctx, st, err);
			if (r == CUT_ECANCEL) {
				say_resume(ctx, rb, st->name, err->msg);
				stop_status = "stopped";
			} else if (r != 0) {
				/* What the step learnt before failing is kept (e.g. a
				 * command's exit status). */
				step_put(ctx, "code", "%s", cut_err_name(r));
				emit(ctx, "step-failed", st->name, err->msg, 1, "fail", NULL, "%s",
				    err->msg);
				say_resume(ctx, rb, st->name, "stopped at a failure");
				stop_status = "failed";
			}
			ctx->step = NULL;
			engine_clear_pending(ctx);
			step_memo_clear(ctx);
			if (r != 0)
				break;
		}
		if (last) {
			if (ctx->out && !ctx->opts.dry_run)
				progress_event(ctx->out, "stop", st->name, "stopped after %s as asked "
				    "(--until); run `cutover %s` again without --until to go on.",
				    st->name, rb->cmd);
			stop_status = "until";
			break;
		}
	}
	lease_drop(ctx);
	if (r == 0)
		cut_err_clear(err);  /* a step may have left a tolerated lookup miss there */
	kv[0] = (struct journal_kv){ "status", stop_status };
	jlog_kv(ctx, "run-end", NULL, r ? err->msg : NULL, kv, 1, r ? NULL : err);
	if (r == 0 && strcmp(stop_status, "done") == 0 && ctx->out && !ctx->opts.dry_run)
		progress_event(ctx->out, "done", NULL, "`cutover %s` finished: every step is done.",
		    rb->cmd);
	return r;
}
