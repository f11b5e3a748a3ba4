/* step_data.c: the data-safety steps of issue 5, wired into the runbook.
 * The operations themselves (log following, crontab, blocked-email rows,
 * HTTP smoke tests, lost-writes and activity queries) are world_ops
 * functions the data-safety work implements on the agent; these entries
 * decide when they run, what "done" means and what gets recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "progress.h"
#include "rowlist.h"
#include "runbook.h"

/* --- quiet: wait until the live site has had no real requests ----------- */

struct quiet_state {
	double quiet_for;   /* seconds of consecutive silence seen */
	double total;       /* seconds watched */
};

static int
quiet_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "watch %s's access logs until no real request came for %d s "
	    "(give up after %d s)", ctx->names.live_web, ctx->names.quiet_seconds,
	    ctx->names.quiet_deadline);
	return 0;
}

/* Never "already done": the quiet period is measured now, every time. */
static int
quiet_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)ctx;
	(void)err;
	return STEP_TODO;
}

static int
nothing(struct run_ctx *ctx, struct cut_err *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

static int
poll_quiet(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	struct quiet_state *q = arg;
	struct world_rate rt;
	int r;

	if ((r = ctx->world->request_rate(ctx->world, ctx->names.live_web, &rt, err)) != 0)
		return r;
	q->total += rt.interval_s;
	q->quiet_for = rt.requests == 0 ? q->quiet_for + rt.interval_s : 0;
	*rate = rt.interval_s > 0 ? rt.requests / rt.interval_s : 0;
	*percent = ctx->names.quiet_seconds > 0 ?
	    (int)(100 * (q->quiet_for < ctx->names.quiet_seconds ? q->quiet_for /
	    ctx->names.quiet_seconds : 1)) : 100;
	snprintf(status, len, "%ld requests in %.0f s on %d instance(s), quiet for %.0f s",
	    rt.requests, rt.interval_s, rt.ninstances, q->quiet_for);
	if (q->quiet_for >= ctx->names.quiet_seconds) {
		step_put(ctx, "quiet_after_s", "%.0f", q->total);
		return 1;
	}
	if (ctx->names.quiet_deadline > 0 && q->total >= ctx->names.quiet_deadline) {
		char question[256];

		/* With --yes nobody is there to judge the risk: stop. */
		snprintf(question, sizeof(question), "%s still has real requests after %d s; take "
		    "the snapshot anyway (writes after it are lost, see lost-writes)?",
		    ctx->names.live_web, ctx->names.quiet_deadline);
		if (!ctx->opts.yes && engine_ask(ctx, question)) {
			step_put(ctx, "quiet_after_s", "%.0f", q->total);
			step_put(ctx, "quiet_forced", "yes");
			return 1;
		}
		return cut_err_set(err, CUT_ETIMEOUT, "%s still had real requests after %d s in "
		    "maintenance mode (%ld in the last %.0f s); find who is still writing (webhooks, "
		    "an admin) and run again, or raise the quiet deadline.", ctx->names.live_web,
		    ctx->names.quiet_deadline, rt.requests, rt.interval_s);
	}
	return 0;
}

static int
quiet_wait(struct run_ctx *ctx, struct cut_err *err)
{
	struct quiet_state q = { 0, 0 };
	char what[128];

	snprintf(what, sizeof(what), "no requests on %s", ctx->names.live_web);
	return engine_poll(ctx, what, poll_quiet, &q, err);
}

const struct step_entry step_quiet_entry = {
	.name = "quiet",
	.phase = STEP_PHASE_RUN,
	.summary = "wait until no real requests reach the live site",
	.describe = quiet_describe,
	.check = quiet_check,
	.apply = nothing,
	.wait = quiet_wait,
};

/* --- cron pause (before the snapshot) and its fail-back ----------------- */

static int
cron_state(struct run_ctx *ctx, int want_paused, struct cut_err *err)
{
	const char *envs[2] = { ctx->names.live_web, ctx->names.live_ses };
	int k, r, paused;

	for (k = 0; k < 2; k++) {
		if ((r = ctx->world->cron_paused(ctx->world, envs[k], &paused, err)) != 0)
			return r;
		if (paused != want_paused)
			return STEP_TODO;
	}
	return STEP_DONE;
}

static int
cron_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "save and empty the crontab on %s and %s (cron writes through "
	    "maintenance mode)", ctx->names.live_web, ctx->names.live_ses);
	return 0;
}

static int cron_check(struct run_ctx *ctx, struct cut_err *err) { return cron_state(ctx, 1, err); }

static int
cron_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = ctx->world->cron_pause(ctx->world, ctx->names.live_web, err);

	return r ? r : ctx->world->cron_pause(ctx->world, ctx->names.live_ses, err);
}

const struct step_entry step_cron_pause_entry = {
	.name = "cron-pause",
	.phase = STEP_PHASE_RUN,
	.summary = "pause cron on the live environments",
	.undone_by = "failback-cron",
	.describe = cron_describe,
	.check = cron_check,
	.apply = cron_apply,
};

static int
uncron_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "put the saved crontab back on %s and %s", ctx->names.live_web,
	    ctx->names.live_ses);
	return 0;
}

static int uncron_check(struct run_ctx *ctx, struct cut_err *err) { return cron_state(ctx, 0, err); }

static int
uncron_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = ctx->world->cron_resume(ctx->world, ctx->names.live_web, err);

	return r ? r : ctx->world->cron_resume(ctx->world, ctx->names.live_ses, err);
}

const struct step_entry step_failback_cron_entry = {
	.name = "failback-cron",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "restore cron on the old live environments",
	.describe = uncron_describe,
	.check = uncron_check,
	.apply = uncron_apply,
};

/* --- blocked emails: backup in prep, restore after the conversion -------- */

#define BACKUP_FILE "blocked-emails.backup"

static int
bk_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "back up notifications_unregisteredblockedemail of %s as (email, "
	    "system number) into %s/%s", ctx->names.live_web, ctx->state_dir, BACKUP_FILE);
	return 0;
}

static int
bk_check(struct run_ctx *ctx, struct cut_err *err)
{
	char path[4096];
	struct stat st;
	int r;

	if ((r = step_state_path(ctx, BACKUP_FILE, path, sizeof(path), err)) != 0)
		return r;
	return (step_get(ctx, "blocked-email-backup", "sha256") != NULL && stat(path, &st) == 0) ?
	    STEP_DONE : STEP_TODO;
}

static int
bk_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_backup_info info;
	char path[4096];
	int r;

	if ((r = step_state_path(ctx, BACKUP_FILE, path, sizeof(path), err)) != 0)
		return r;
	if ((r = ctx->world->blocked_email_backup(ctx->world, ctx->names.live_web, path, &info,
	    err)) != 0)
		return r;
	step_put(ctx, "rows", "%ld", info.rows);
	step_put(ctx, "file", "%s", path);
	return step_put(ctx, "sha256", "%s", info.sha256);
}

const struct step_entry step_blocked_email_backup_entry = {
	.name = "blocked-email-backup",
	.phase = STEP_PHASE_PREP,
	.summary = "back up the blocked-email table of the live system",
	.describe = bk_describe,
	.check = bk_check,
	.apply = bk_apply,
};

static int
rs_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	const char *rows = step_get(ctx, "blocked-email-backup", "rows");

	(void)err;
	snprintf(buf, len, "restore %s blocked-email row(s) into %s, mapping system numbers to "
	    "the converted users", rows ? rows : "the backed-up", ctx->names.new_web);
	return 0;
}

/* How many rows of a list the output and the report name; the rest are
 * counted and left to the file. */
#define SAY_ROWS 200

/* Names the people the restore could not map, one line each, from the row
 * list recorded in the journal (also the step's remind: a rerun that finds
 * the step done says it again). Emails are database text: made printable
 * first. */
static void
rs_say_unmapped(struct run_ctx *ctx)
{
	const char *file = step_get(ctx, "blocked-email-restore", "rows_file");
	const char *sha = step_get(ctx, "blocked-email-restore", "rows_sha256");
	const char *n = step_get(ctx, "blocked-email-restore", "unmapped");
	struct rowlist rl;
	struct cut_err e;
	char email[1100], num[64];

	if (ctx->out == NULL || n == NULL || atol(n) <= 0)
		return;
	if (file == NULL || sha == NULL || rowlist_load(file, sha, &rl, NULL, &e) != 0) {
		progress_event(ctx->out, "result", "blocked-email-restore", "%s blocked email(s) could "
		    "not be restored (no accounts_user has their system number) and their list cannot "
		    "be read (%s); run `cutover blocked-emails verify` to list them.", n,
		    file && sha ? e.msg : "not recorded");
		return;
	}
	progress_event(ctx->out, "result", "blocked-email-restore", "%zu blocked email(s) NOT "
	    "restored: no accounts_user has their system number. Create the user (or enter the "
	    "block by hand), then run `cutover blocked-emails verify`:", rl.nrows);
	for (size_t i = 0; i < rl.nrows && i < SAY_ROWS; i++) {
		rowlist_printable(rowlist_cell(&rl, i, 0), email, sizeof(email));
		rowlist_printable(rowlist_cell(&rl, i, 1), num, sizeof(num));
		progress_event(ctx->out, "result", "blocked-email-restore", "  not restored: "
		    "system number %s, %s", num[0] ? num : "(none)", email);
	}
	if (rl.nrows > SAY_ROWS)
		progress_event(ctx->out, "result", "blocked-email-restore", "  ... and %zu more, "
		    "listed in %s", rl.nrows - SAY_ROWS, file);
	rowlist_free(&rl);
}

static int
rs_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return step_get(ctx, "blocked-email-restore", "added") ? STEP_DONE : STEP_TODO;
}

/* Records the row list the world wrote next to `file` (world_ops.h): its
 * path and digest, so the report can list the rows and trust them. */
static int
put_rowlist(struct run_ctx *ctx, const char *file, struct cut_err *err)
{
	struct rowlist rl;
	char path[4200], sha[65];
	int r;

	rowlist_sibling(file, path, sizeof(path));
	if ((r = rowlist_load(path, NULL, &rl, sha, err)) != 0)
		return cut_err_wrap(err, "Reading the rows just listed");
	rowlist_free(&rl);
	step_put(ctx, "rows_file", "%s", path);
	return step_put(ctx, "rows_sha256", "%s", sha);
}

static int
rs_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_restore_info info;
	const char *file = step_get(ctx, "blocked-email-backup", "file");
	char path[4096];
	int r;

	if (file == NULL)
		return cut_err_set(err, CUT_ESTATE, "There is no blocked-email backup in this "
		    "cutover's journal; run `cutover prep` (it makes the backup) before the cutover.");
	snprintf(path, sizeof(path), "%s", file);
	if ((r = ctx->world->blocked_email_restore(ctx->world, ctx->names.new_web, path, &info,
	    err)) != 0)
		return r;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ".unmapped");
	if ((r = put_rowlist(ctx, path, err)) != 0)
		return r;
	step_put(ctx, "present", "%ld", info.present);
	step_put(ctx, "unmapped", "%ld", info.unmapped);
	r = step_put(ctx, "added", "%ld", info.added);
	rs_say_unmapped(ctx);
	return r;
}

const struct step_entry step_blocked_email_restore_entry = {
	.name = "blocked-email-restore",
	.phase = STEP_PHASE_RUN,
	.summary = "enter the blocked-email rows back on the new system",
	.describe = rs_describe,
	.check = rs_check,
	.apply = rs_apply,
	.remind = rs_say_unmapped,
};

/* --- smoke test of the new system before it opens ----------------------- */

static int
smoke_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "HTTP smoke test of %s with Host: %s (each instance and the load "
	    "balancer)", ctx->names.new_web, ctx->names.site_host);
	return 0;
}

/* Always rerun: a smoke test is cheap and the world may have changed. */
static int smoke_check(struct run_ctx *ctx, struct cut_err *err) { return quiet_check(ctx, err); }

static int
smoke_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_smoke s;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = ctx->world->smoke_test(ctx->world, ctx->names.new_web, ctx->names.site_host, &s,
	    err)) != 0)
		return r;
	step_put(ctx, "passed", "%d", s.passed);
	step_put(ctx, "failed", "%d", s.failed);
	if (s.failed > 0)
		return cut_err_set(err, CUT_EREMOTE, "The smoke test of %s failed %d check(s) (%s); "
		    "the site stays in maintenance mode: fix the new system, then run again.",
		    ctx->names.new_web, s.failed, s.first_failure);
	return 0;
}

const struct step_entry step_smoke_test_entry = {
	.name = "smoke-test",
	.phase = STEP_PHASE_RUN,
	.summary = "smoke test the new system before it opens",
	.describe = smoke_describe,
	.check = smoke_check,
	.apply = smoke_apply,
};

/* --- lost writes: rows written to the old database after the snapshot --- */

#define LOST_FILE "lost-writes.csv"

static int
lost_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "list rows written to %s after the snapshot (entries, payments) into "
	    "%s/%s", ctx->names.live_db, ctx->state_dir, LOST_FILE);
	return 0;
}

static int
lost_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return step_get(ctx, "lost-writes", "rows") ? STEP_DONE : STEP_TODO;
}

static int
lost_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *since = step_get(ctx, "snapshot", "created");
	char path[4096];
	long rows = 0;
	int r;

	if (since == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal has no snapshot time, so lost "
		    "writes cannot be listed; the snapshot step must be done first.");
	if ((r = step_state_path(ctx, LOST_FILE, path, sizeof(path), err)) != 0)
		return r;
	if ((r = ctx->world->lost_writes(ctx->world, ctx->names.live_web, atoll(since), path,
	    &rows, err)) != 0)
		return r;
	if (ctx->out)
		progress_event(ctx->out, "result", "lost-writes", "%ld row(s) were written to the old "
		    "database after the snapshot%s%s", rows, rows ? "; see " : "", rows ? path : "");
	if ((r = put_rowlist(ctx, path, err)) != 0)
		return r;
	step_put(ctx, "file", "%s", path);
	return step_put(ctx, "rows", "%ld", rows);
}

const struct step_entry step_lost_writes_entry = {
	.name = "lost-writes",
	.phase = STEP_PHASE_RUN,
	.summary = "list writes the snapshot missed",
	.describe = lost_describe,
	.check = lost_check,
	.apply = lost_apply,
};

/* --- fail-back: what happened on the new system since the cutover ------- */

#define ACTIVITY_FILE "activity-since-cutover.csv"

static int
act_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "list entries and payments made on %s since the DNS change into %s/%s",
	    ctx->names.new_web, ctx->state_dir, ACTIVITY_FILE);
	return 0;
}

static int
act_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	if (step_get(ctx, "dns-switch", "changed_at") == NULL)
		return STEP_DONE;   /* the new system was never reachable */
	return step_get(ctx, "failback-activity", "entries") ? STEP_DONE : STEP_TODO;
}

static int
act_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *since = step_get(ctx, "dns-switch", "changed_at");
	char path[4096];
	long entries = 0, payments = 0;
	int r;

	if ((r = step_state_path(ctx, ACTIVITY_FILE, path, sizeof(path), err)) != 0)
		return r;
	if ((r = ctx->world->activity(ctx->world, ctx->names.new_web, since ? atoll(since) : 0, path,
	    &entries, &payments, err)) != 0)
		return r;
	if (ctx->out)
		progress_event(ctx->out, "result", "failback-activity", "%ld entr%s and %ld "
		    "payment(s) on the new system since the cutover; see %s", entries,
		    entries == 1 ? "y" : "ies", payments, path);
	if ((r = put_rowlist(ctx, path, err)) != 0)
		return r;
	step_put(ctx, "file", "%s", path);
	step_put(ctx, "payments", "%ld", payments);
	return step_put(ctx, "entries", "%ld", entries);
}

const struct step_entry step_failback_activity_entry = {
	.name = "failback-activity",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "report entries and payments made on the new system",
	.describe = act_describe,
	.check = act_check,
	.apply = act_apply,
};

/* --- rehearse: the Masterpoints server must answer before mpc_sync ------ */

static int
mpc_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "check from %s that GLOBAL_MPSERVER answers (mpc_sync deletes data "
	    "when it does not)", ctx->names.test_env);
	return 0;
}

/* Once mpc_sync has run there is nothing left to protect: a rerun of a
 * finished rehearsal must not fail because the server is away now. */
static int
mpc_check(struct run_ctx *ctx, struct cut_err *err)
{
	const char *v = step_get(ctx, "rehearse-mpc-sync", "exit_status");

	(void)err;
	return v != NULL && strcmp(v, "0") == 0 ? STEP_DONE : STEP_TODO;
}

static int
mpc_apply(struct run_ctx *ctx, struct cut_err *err)
{
	return ctx->world->mpserver_check(ctx->world, ctx->names.test_env, err);
}

const struct step_entry step_rehearse_mpc_check_entry = {
	.name = "rehearse-mpc-check",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "the Masterpoints server answers from the test environment",
	.describe = mpc_describe,
	.check = mpc_check,
	.apply = mpc_apply,
};
