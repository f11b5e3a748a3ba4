/* runbook/steps/step_data.c: the data-safety steps of issue 5, wired into the runbook.
 * The operations themselves (log following, crontab, blocked-email rows,
 * HTTP smoke tests, lost-writes and activity queries) are world_ops
 * functions the data-safety work implements on the agent; these entries
 * decide when they run, what "done" means and what gets recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runbook/engine.h"
#include "runbook/progress.h"
#include "base/rowlist.h"
#include "base/sfile.h"
#include "runbook/tables.h"

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
	return engine_poll_kind(ctx, what, ENGINE_WAIT_QUIET, poll_quiet, &q, err);
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

/* cron-pause and failback-cron: runbook/steps/step_cron.c */

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

/* --- blocked emails: out of the copy before migrate (issue 9) ------------
 *
 * The restored copy holds the live system's rows, whose
 * un_registered_user_id values are accounts_unregistereduser ids. Migration
 * 0055 re-points the FK at accounts_user and validates them: a row whose id
 * is no user's makes migrate fail inside the window, and one whose id is
 * some user's silently names the wrong person. So, as the runbook says,
 * the rows leave the table before migrate and come back by (email, system
 * number) after the conversion. The copy taken here is the freshest (the
 * live system at the snapshot); the restore enters it together with prep's
 * backup, so a block made between prep and the window is not lost. */

struct bclear {
	const char *step;         /* this step's name */
	const char *env, *db;     /* where the rows are cleared */
	const char *prep_step;    /* the step whose backup joins the copy, or NULL */
	const char *window_file;  /* the copy taken now */
	const char *restore_file; /* what the restore step enters (NULL: window_file) */
};

static void
bclear_of(struct run_ctx *ctx, int rehearse, struct bclear *b)
{
	if (rehearse) {
		*b = (struct bclear){ "rehearse-blocked-clear", ctx->names.test_env, ctx->names.test_db,
		    NULL, "rehearse-blocked-emails.window", NULL };
	} else {
		*b = (struct bclear){ "blocked-email-clear", ctx->names.new_web, ctx->names.new_db,
		    "blocked-email-backup", "blocked-emails.window", "blocked-emails.restore" };
	}
}

/* The rows left to clear, read once per step (step_memo): check and
 * describe ask within the same second, before anything is deleted. */
static int
blocked_count(struct run_ctx *ctx, const char *env, long *n, struct cut_err *err)
{
	const long *m;
	char key[300];
	int r;

	snprintf(key, sizeof(key), "blocked-count %s", env);
	if ((m = step_memo_get(ctx, key, sizeof(*n))) != NULL) {
		*n = *m;
		return 0;
	}
	if ((r = ctx->world->blocked_email_count(ctx->world, env, n, err)) == 0)
		step_memo_put(ctx, key, n, sizeof(*n));
	return r;
}

static int
bclear_describe_common(struct run_ctx *ctx, int rehearse, char *buf, size_t len)
{
	struct bclear b;
	struct cut_err e = { 0 };
	char count[32] = "";
	long n = -1;

	bclear_of(ctx, rehearse, &b);
	/* Only a count from the database the step will clear means anything. */
	if (step_env_uses_db(ctx, b.env, b.db, &e) == 0 && blocked_count(ctx, b.env, &n, &e) == 0)
		snprintf(count, sizeof(count), "%ld ", n);
	snprintf(buf, len, "copy the %sblocked-email row(s) of %s to %s/%s%s, then delete them "
	    "there before migrate (they hold accounts_unregistereduser ids that migration 0055 "
	    "validates against accounts_user); %s enters them back by system number after the "
	    "conversion", count, b.db, ctx->state_dir, b.window_file,
	    b.prep_step ? " and merge them with prep's backup" : "",
	    rehearse ? "rehearse-blocked-restore" : "blocked-email-restore");
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
say_unmapped(struct run_ctx *ctx, const char *step)
{
	const char *file = step_get(ctx, step, "rows_file");
	const char *sha = step_get(ctx, step, "rows_sha256");
	const char *n = step_get(ctx, step, "unmapped");
	struct rowlist rl;
	struct cut_err e;
	char email[1100], num[64];

	if (ctx->out == NULL || n == NULL || atol(n) <= 0)
		return;
	if (file == NULL || sha == NULL || rowlist_load(file, sha, &rl, NULL, &e) != 0) {
		progress_event(ctx->out, "result", step, "%s blocked email(s) could "
		    "not be restored (no accounts_user has their system number) and their list cannot "
		    "be read (%s); run `cutover blocked-emails verify` to list them.", n,
		    file && sha ? e.msg : "not recorded");
		return;
	}
	progress_event(ctx->out, "result", step, "%zu blocked email(s) NOT "
	    "restored: no accounts_user has their system number. Create the user (or enter the "
	    "block by hand), then run `cutover blocked-emails verify`:", rl.nrows);
	for (size_t i = 0; i < rl.nrows && i < SAY_ROWS; i++) {
		sfile_term_clean(email, sizeof(email), rowlist_cell(&rl, i, 0));
		sfile_term_clean(num, sizeof(num), rowlist_cell(&rl, i, 1));
		progress_event(ctx->out, "result", step, "  not restored: "
		    "system number %s, %s", num[0] ? num : "(none)", email);
	}
	if (rl.nrows > SAY_ROWS)
		progress_event(ctx->out, "result", step, "  ... and %zu more, "
		    "listed in %s", rl.nrows - SAY_ROWS, file);
	rowlist_free(&rl);
}

static void rs_say_unmapped(struct run_ctx *ctx) { say_unmapped(ctx, "blocked-email-restore"); }
static void rrs_say_unmapped(struct run_ctx *ctx) { say_unmapped(ctx, "rehearse-blocked-restore"); }

static int
bclear_check_common(struct run_ctx *ctx, int rehearse, struct cut_err *err)
{
	struct bclear b;
	long n;
	int r;

	bclear_of(ctx, rehearse, &b);
	if (step_get(ctx, b.step, "deleted") != NULL)
		return STEP_DONE;
	/* Until the environment uses the copy, its table is not the one to clear. */
	if (step_env_uses_db(ctx, b.env, b.db, err) != 0) {
		cut_err_clear(err);
		return STEP_TODO;
	}
	if ((r = blocked_count(ctx, b.env, &n, err)) != 0)
		return r;
	/* Empty: nothing to clear, or a kill came after the delete committed
	 * (the copy was journalled before it). */
	return n == 0 ? STEP_DONE : STEP_TODO;
}

/* Before anything is deleted: the copy on disk and in the journal. */
static int
bclear_record_common(struct run_ctx *ctx, int rehearse, struct cut_err *err)
{
	struct world_backup_info win, all;
	char wpath[4096], rpath[4096];
	struct bclear b;
	int r;

	bclear_of(ctx, rehearse, &b);
	if ((r = step_env_uses_db(ctx, b.env, b.db, err)) != 0 ||
	    (r = step_target_db_check(ctx, b.env, err)) != 0)
		return r;
	if ((r = step_state_path(ctx, b.window_file, wpath, sizeof(wpath), err)) != 0)
		return r;
	if ((r = ctx->world->blocked_email_backup(ctx->world, b.env, wpath, &win, err)) != 0)
		return r;
	step_put(ctx, "window_file", "%s", wpath);
	step_put(ctx, "window_sha256", "%s", win.sha256);
	step_put(ctx, "window_rows", "%ld", win.rows);
	if (b.prep_step == NULL) {
		step_put(ctx, "restore_rows", "%ld", win.rows);
		return step_put(ctx, "restore_file", "%s", wpath);
	}
	const char *prep = step_get(ctx, b.prep_step, "file");
	if (prep == NULL)
		return cut_err_set(err, CUT_ESTATE, "There is no blocked-email backup in this "
		    "cutover's journal; run `cutover prep` (it makes the backup) before the cutover.");
	const char *paths[2] = { prep, wpath };
	if ((r = step_state_path(ctx, b.restore_file, rpath, sizeof(rpath), err)) != 0 ||
	    (r = ctx->world->blocked_email_merge(ctx->world, paths, 2, rpath, &all, err)) != 0)
		return r;
	step_put(ctx, "restore_file", "%s", rpath);
	step_put(ctx, "restore_sha256", "%s", all.sha256);
	return step_put(ctx, "restore_rows", "%ld", all.rows);
}

static int
bclear_apply_common(struct run_ctx *ctx, int rehearse, struct cut_err *err)
{
	const char *rows;
	struct bclear b;
	long deleted = 0;
	int r;

	bclear_of(ctx, rehearse, &b);
	if ((rows = step_get(ctx, b.step, "window_rows")) == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal has no copy of the blocked emails of %s; "
		    "nothing was deleted (run again: the copy is taken first).", b.db);
	if ((r = ctx->world->blocked_email_clear(ctx->world, b.env, atol(rows), &deleted, err)) != 0)
		return r;
	if (ctx->out)
		progress_event(ctx->out, "result", b.step, "%ld blocked-email row(s) copied to %s and "
		    "deleted from %s before migrate", deleted, step_get(ctx, b.step, "window_file"), b.db);
	return step_put(ctx, "deleted", "%ld", deleted);
}

static int bclear_describe(struct run_ctx *c, char *b, size_t l, struct cut_err *e) { (void)e; return bclear_describe_common(c, 0, b, l); }
static int bclear_check(struct run_ctx *c, struct cut_err *e) { return bclear_check_common(c, 0, e); }
static int bclear_record(struct run_ctx *c, struct cut_err *e) { return bclear_record_common(c, 0, e); }
static int bclear_apply(struct run_ctx *c, struct cut_err *e) { return bclear_apply_common(c, 0, e); }
static int rbclear_describe(struct run_ctx *c, char *b, size_t l, struct cut_err *e) { (void)e; return bclear_describe_common(c, 1, b, l); }
static int rbclear_check(struct run_ctx *c, struct cut_err *e) { return bclear_check_common(c, 1, e); }
static int rbclear_record(struct run_ctx *c, struct cut_err *e) { return bclear_record_common(c, 1, e); }
static int rbclear_apply(struct run_ctx *c, struct cut_err *e) { return bclear_apply_common(c, 1, e); }

const struct step_entry step_blocked_email_clear_entry = {
	.name = "blocked-email-clear",
	.phase = STEP_PHASE_RUN,
	.summary = "take the copied blocked emails out of the new database before migrate",
	.flags = STEP_F_DESTRUCTIVE,
	.describe = bclear_describe,
	.check = bclear_check,
	.record = bclear_record,
	.apply = bclear_apply,
};

const struct step_entry step_rehearse_blocked_clear_entry = {
	.name = "rehearse-blocked-clear",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "take the copied blocked emails out of the test copy before migrate",
	.flags = STEP_F_DESTRUCTIVE,
	.describe = rbclear_describe,
	.check = rbclear_check,
	.record = rbclear_record,
	.apply = rbclear_apply,
};

/* Records the row list the world wrote next to `file` (world/ops.h): its
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

/* The file the restore enters: the clear step's merged copy, or prep's
 * backup when the copy had nothing to clear. */
static const char *
restore_source(struct run_ctx *ctx, int rehearse, const char **rows)
{
	const char *clear = rehearse ? "rehearse-blocked-clear" : "blocked-email-clear";
	const char *f = step_get(ctx, clear, "restore_file");

	if (f != NULL) {
		*rows = step_get(ctx, clear, "restore_rows");
		return f;
	}
	if (rehearse) {
		*rows = "0";
		return NULL;
	}
	*rows = step_get(ctx, "blocked-email-backup", "rows");
	return step_get(ctx, "blocked-email-backup", "file");
}

static int
rs_describe_common(struct run_ctx *ctx, int rehearse, char *buf, size_t len)
{
	const char *rows = NULL;

	restore_source(ctx, rehearse, &rows);
	snprintf(buf, len, "enter %s blocked-email row(s) back into %s, mapping system numbers to "
	    "the converted users", rows ? rows : "the backed-up",
	    rehearse ? ctx->names.test_env : ctx->names.new_web);
	return 0;
}

static int
rs_apply_common(struct run_ctx *ctx, int rehearse, struct cut_err *err)
{
	struct world_restore_info info;
	const char *rows = NULL, *file = restore_source(ctx, rehearse, &rows);
	const char *env = rehearse ? ctx->names.test_env : ctx->names.new_web;
	char path[4096];
	int r;

	if (file == NULL && rehearse) {
		/* The test copy had no blocked emails to take out. */
		step_put(ctx, "present", "0");
		step_put(ctx, "unmapped", "0");
		return step_put(ctx, "added", "0");
	}
	if (file == NULL)
		return cut_err_set(err, CUT_ESTATE, "There is no blocked-email backup in this "
		    "cutover's journal; run `cutover prep` (it makes the backup) before the cutover.");
	if (rehearse && (r = step_env_uses_db(ctx, env, ctx->names.test_db, err)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s", file);
	if ((r = ctx->world->blocked_email_restore(ctx->world, env, path, &info, err)) != 0)
		return r;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), ".unmapped");
	if ((r = put_rowlist(ctx, path, err)) != 0)
		return r;
	step_put(ctx, "present", "%ld", info.present);
	step_put(ctx, "unmapped", "%ld", info.unmapped);
	r = step_put(ctx, "added", "%ld", info.added);
	say_unmapped(ctx, ctx->step ? ctx->step->name : (rehearse ? "rehearse-blocked-restore" :
	    "blocked-email-restore"));
	return r;
}

static int
rs_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return step_get(ctx, "blocked-email-restore", "added") ? STEP_DONE : STEP_TODO;
}

static int
rrs_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return step_get(ctx, "rehearse-blocked-restore", "added") ? STEP_DONE : STEP_TODO;
}

static int rs_describe(struct run_ctx *c, char *b, size_t l, struct cut_err *e) { (void)e; return rs_describe_common(c, 0, b, l); }
static int rs_apply(struct run_ctx *c, struct cut_err *e) { return rs_apply_common(c, 0, e); }
static int rrs_describe(struct run_ctx *c, char *b, size_t l, struct cut_err *e) { (void)e; return rs_describe_common(c, 1, b, l); }
static int rrs_apply(struct run_ctx *c, struct cut_err *e) { return rs_apply_common(c, 1, e); }

const struct step_entry step_blocked_email_restore_entry = {
	.name = "blocked-email-restore",
	.phase = STEP_PHASE_RUN,
	.summary = "enter the blocked-email rows back on the new system",
	.describe = rs_describe,
	.check = rs_check,
	.apply = rs_apply,
	.remind = rs_say_unmapped,
};

const struct step_entry step_rehearse_blocked_restore_entry = {
	.name = "rehearse-blocked-restore",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "enter the blocked-email rows back on the test copy",
	.describe = rrs_describe,
	.check = rrs_check,
	.apply = rrs_apply,
	.remind = rrs_say_unmapped,
};

/* --- smoke test of the new system before it opens ----------------------- */

static int
smoke_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "smoke test %s over HTTP with Host: %s (each instance and the load "
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
	snprintf(buf, len, "list rows written to %s after %s (entries, payments) into "
	    "%s/%s", ctx->names.live_db, strcmp(ctx->names.db_method, "replica") == 0 ?
	    "the promotion point" : "the snapshot", ctx->state_dir, LOST_FILE);
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
	/* The copy point: the snapshot's time, or on the replica path the
	 * live database's clock when the replica was seen to hold every WAL
	 * record (replica-catchup); the freeze makes both lists empty. */
	int replica = strcmp(ctx->names.db_method, "replica") == 0;
	const char *since = replica ? step_get(ctx, "replica-catchup", "live_unix") :
	    step_get(ctx, "snapshot", "created");
	const char *point = replica ? "the promotion point" : "the snapshot";
	char path[4096];
	long rows = 0;
	int r;

	if (since == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal has no time for %s, so lost "
		    "writes cannot be listed; the %s step must be done first.", point,
		    replica ? "replica-catchup" : "snapshot");
	if ((r = step_state_path(ctx, LOST_FILE, path, sizeof(path), err)) != 0)
		return r;
	if ((r = ctx->world->lost_writes(ctx->world, ctx->names.live_web, atoll(since), path,
	    &rows, err)) != 0)
		return r;
	if (ctx->out)
		progress_event(ctx->out, "result", "lost-writes", "%ld row(s) were written to the old "
		    "database after %s%s%s", rows, point, rows ? "; see " : "", rows ? path : "");
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

/* --- fail-back: the new side stops writing before its activity is read --
 *
 * Once point-new has pointed it at the copy, the new system writes real
 * people's data: users whose resolvers still have the new address, and its
 * cron (the auto top-up charges cards and writes member transactions). The
 * activity report must be the last word on what the new database holds,
 * so fail-back pauses the new side's cron before the old side's comes back
 * (never both at once) and puts it in maintenance mode before counting. */

int
step_new_side_used(struct run_ctx *ctx)
{
	return step_get(ctx, "point-new", "prev.RDS_HOSTNAME") != NULL ||
	    step_get(ctx, "point-new", "RDS_HOSTNAME") != NULL;
}

/* failback-new-cron: runbook/steps/step_cron.c */

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
	char path[4096], until_s[32];
	long entries = 0, payments = 0;
	time_t until = time(NULL);
	struct tm tm;
	int r;

	if ((r = step_state_path(ctx, ACTIVITY_FILE, path, sizeof(path), err)) != 0)
		return r;
	/* The query's own snapshot starts after this instant: it counts every
	 * row committed up to here (the new side is closed by now). */
	if ((r = ctx->world->activity(ctx->world, ctx->names.new_web, since ? atoll(since) : 0, path,
	    &entries, &payments, err)) != 0)
		return r;
	gmtime_r(&until, &tm);
	strftime(until_s, sizeof(until_s), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (ctx->out)
		progress_event(ctx->out, "result", "failback-activity", "%ld entr%s and %ld "
		    "payment(s) on the new system from the cutover up to %s; see %s", entries,
		    entries == 1 ? "y" : "ies", payments, until_s, path);
	if ((r = put_rowlist(ctx, path, err)) != 0)
		return r;
	step_put(ctx, "counted_until", "%lld", (long long)until);
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
	.summary = "check that the Masterpoints server answers from the test environment",
	.describe = mpc_describe,
	.check = mpc_check,
	.apply = mpc_apply,
};
