/* runbook/steps/step_freeze.c: the write freeze and the evidence before the
 * DNS switch (issue 12).
 *
 * freeze             after cron-pause, before the snapshot: the live
 *                    database refuses writes (world/ops.h db_read_only_set,
 *                    safety/freeze.h), its sessions end, and the freeze point
 *                    (time, WAL position, every table's row count and highest
 *                    id) is kept in a row list named in the journal.
 * unfreeze-new       after point-new: the setting travelled into the
 *                    snapshot, so the restored copy is frozen too; it gets
 *                    the live database's value from before the freeze.
 * parity             right before dns-switch: the live database has not
 *                    changed since the freeze (the proof), and the new one
 *                    holds the same rows, table by table, except the tables
 *                    migrate and the conversion change by design.
 * failback-unfreeze  fail-back puts the live database's exact previous
 *                    value back (RESET when it had none) before the old
 *                    site opens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rowlist.h"
#include "runbook/progress.h"
#include "runbook/tables.h"

#define FREEZE_FILE "freeze-point.json"
#define PARITY_FILE "parity.json"
#define UNSET "unset"   /* recorded prev when the database had no setting */

/* The tables parity leaves out, and why: the one list the operator reads
 * (cutover plan prints it with the parity step). Tables that exist only on
 * the new database are left out too: migrate created them. */
const struct parity_skip parity_skips[] = {
	{ "django_migrations", "migrate records the migrations it applies" },
	{ "django_content_type", "migrate adds the content types of new models" },
	{ "auth_permission", "migrate adds the permissions of new models" },
	{ "accounts_user", "convert-users turns unregistered users into users" },
	{ "accounts_unregistereduser", "convert-users removes the ones it converts" },
	{ "notifications_unregisteredblockedemail", "blocked-email-clear empties it before "
	  "migrate, blocked-email-restore fills it after the conversion" },
	{ NULL, NULL },
};

static const char *
skip_why(const char *table)
{
	for (const struct parity_skip *s = parity_skips; s->table; s++)
		if (strcmp(s->table, table) == 0)
			return s->why;
	return NULL;
}

static void
say(struct run_ctx *ctx, const char *step, const char *fmt, const char *a, const char *b)
{
	if (ctx->out)
		progress_event(ctx->out, "result", step, fmt, a, b);
}

/* --- stats as a row list: table, rows, max_id --------------------------- */

static int
stats_write(struct run_ctx *ctx, const char *file, const struct world_table_stat *st, size_t n,
    char path[4096], char sha[65], struct cut_err *err)
{
	static const char *const cols[] = { "table", "rows", "max_id" };
	struct rowlist rl;
	char rows[32];
	int r;

	if ((r = step_state_path(ctx, file, path, 4096, err)) != 0)
		return r;
	if ((r = rowlist_init(&rl, 3, cols, err)) != 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *cells[3] = { st[i].table, rows, st[i].max_id };
		snprintf(rows, sizeof(rows), "%lld", st[i].rows);
		r = rowlist_add(&rl, cells, err);
	}
	if (r == 0)
		r = rowlist_write(path, &rl, sha, err);
	rowlist_free(&rl);
	return r;
}

/* The row of `table` in a stats row list, -1 if none. */
static long
stats_find(const struct rowlist *rl, const char *table)
{
	for (size_t i = 0; i < rl->nrows; i++)
		if (strcmp(rowlist_cell(rl, i, 0), table) == 0)
			return (long)i;
	return -1;
}

static const struct world_table_stat *
stat_find(const struct world_table_stat *st, size_t n, const char *table)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].table, table) == 0)
			return &st[i];
	return NULL;
}

/* What the new database must get back: the live one's value from before
 * the freeze, except that a live database already read-only before the
 * cutover must not hand that on (the new system has to take writes). */
static const char *
new_target(const char *prev)
{
	return prev == NULL || strcmp(prev, UNSET) == 0 || strcmp(prev, "on") == 0 ||
	    strcmp(prev, "true") == 0 ? NULL : prev;
}

static const char *
exact_target(const char *prev)
{
	return prev == NULL || strcmp(prev, UNSET) == 0 ? NULL : prev;
}

/* 1 when env's database has `want` (NULL: no setting). */
static int
setting_is(struct run_ctx *ctx, const char *env, const char *want, struct cut_err *err)
{
	char v[32];
	int r;

	if ((r = ctx->world->db_read_only(ctx->world, env, v, sizeof(v), err)) != 0)
		return r;
	return strcmp(v, want ? want : "") == 0;
}

static int
put_point(struct run_ctx *ctx, const struct world_freeze *fp)
{
	step_put(ctx, "at", "%s", fp->at);
	step_put(ctx, "unix", "%lld", (long long)fp->unix_s);
	step_put(ctx, "lsn", "%s", fp->lsn[0] ? fp->lsn : "-");
	return step_put(ctx, "ended", "%ld", fp->ended);
}

/* --- freeze ---------------------------------------------------------------- */

static int
freeze_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "make %s refuse writes (ALTER DATABASE SET default_transaction_read_only "
	    "= on, through %s) and end its sessions; record the freeze point (time, WAL position, "
	    "every table's row count and highest id) in %s/%s. From here a write through the old "
	    "site, cron or a webhook fails with an error instead of being lost", ctx->names.live_db,
	    ctx->names.live_web, ctx->state_dir, FREEZE_FILE);
	return 0;
}

static int
freeze_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r;

	if (step_get(ctx, "freeze", "stats_sha256") == NULL)
		return STEP_TODO;
	if ((r = setting_is(ctx, ctx->names.live_web, "on", err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_TODO;
}

/* Before anything changes: the value fail-back must put back. */
static int
freeze_record(struct run_ctx *ctx, struct cut_err *err)
{
	char v[32];
	int r;

	if ((r = ctx->world->db_read_only(ctx->world, ctx->names.live_web, v, sizeof(v), err)) != 0)
		return r;
	return step_put(ctx, "prev", "%s", v[0] ? v : UNSET);
}

static int
freeze_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_freeze fp;
	struct world_table_stat *st = NULL;
	char path[4096], sha[65], n[32];
	size_t nst = 0;
	int r;

	if ((r = ctx->world->db_read_only_set(ctx->world, ctx->names.live_web, "on", &fp, err)) != 0)
		return r;
	/* Counted after the sessions ended: nothing can change these numbers
	 * any more, which is what parity (and the report) hold the live
	 * database to. */
	if ((r = ctx->world->db_table_stats(ctx->world, ctx->names.live_web, &st, &nst, err)) != 0)
		return r;
	r = stats_write(ctx, FREEZE_FILE, st, nst, path, sha, err);
	free(st);
	if (r != 0)
		return r;
	put_point(ctx, &fp);
	step_put(ctx, "tables", "%zu", nst);
	step_put(ctx, "stats_file", "%s", path);
	snprintf(n, sizeof(n), "%ld", fp.ended);
	say(ctx, "freeze", "the live database refuses writes from %s (%s session(s) ended)", fp.at, n);
	return step_put(ctx, "stats_sha256", "%s", sha);
}

const struct step_entry step_freeze_entry = {
	.name = "freeze",
	.phase = STEP_PHASE_RUN,
	.summary = "make the live database refuse writes",
	.undone_by = "failback-unfreeze",
	.describe = freeze_describe,
	.check = freeze_check,
	.record = freeze_record,
	.apply = freeze_apply,
};

/* --- unfreeze-new -------------------------------------------------------- */

static int
unew_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "give %s back the live database's setting from before the freeze, which "
	    "travelled into the snapshot (RESET default_transaction_read_only when it had none, "
	    "through %s), and end its sessions, so the new system takes writes",
	    ctx->names.new_db, ctx->names.new_web);
	return 0;
}

static int
unew_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r;

	if ((r = step_env_uses_db(ctx, ctx->names.new_web, ctx->names.new_db, err)) != 0)
		return r;
	if (step_get(ctx, "unfreeze-new", "at") == NULL)
		return STEP_TODO;
	if ((r = setting_is(ctx, ctx->names.new_web, new_target(step_get(ctx, "freeze", "prev")),
	    err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_TODO;
}

static int
unfreeze(struct run_ctx *ctx, const char *step, const char *env, const char *db,
    const char *target, struct cut_err *err)
{
	struct world_freeze fp;
	int r;

	if ((r = ctx->world->db_read_only_set(ctx->world, env, target, &fp, err)) != 0)
		return r;
	/* Read back with the change when the world can (one round trip). */
	if (fp.value_read)
		r = strcmp(fp.value, target ? target : "") == 0;
	else if ((r = setting_is(ctx, env, target, err)) < 0)
		return r;
	if (r == 0)
		return cut_err_set(err, CUT_ESTATE, "%s still shows the wrong "
		    "default_transaction_read_only after the change; look at it with psql (ALTER "
		    "DATABASE ... %s default_transaction_read_only).", db, target ? "SET" : "RESET");
	say(ctx, step, "%s takes writes again (%s)", db, target ? target : "setting removed");
	return put_point(ctx, &fp);
}

static int
unew_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *prev = step_get(ctx, "freeze", "prev");

	if (prev == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal has no setting from before the "
		    "freeze; the freeze step must be done first.");
	return unfreeze(ctx, "unfreeze-new", ctx->names.new_web, ctx->names.new_db, new_target(prev),
	    err);
}

const struct step_entry step_unfreeze_new_entry = {
	.name = "unfreeze-new",
	.phase = STEP_PHASE_RUN,
	.summary = "let the restored database take writes",
	.describe = unew_describe,
	.check = unew_check,
	.apply = unew_apply,
};

/* --- failback-unfreeze --------------------------------------------------- */

static int
ufb_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	const char *prev = step_get(ctx, "freeze", "prev");

	(void)err;
	snprintf(buf, len, "put default_transaction_read_only of %s back as it was before the "
	    "freeze (%s) and end its sessions, so the old site writes again", ctx->names.live_db,
	    prev == NULL ? "it was never frozen" : exact_target(prev) ? exact_target(prev) : "RESET");
	return 0;
}

static int
ufb_check(struct run_ctx *ctx, struct cut_err *err)
{
	const char *prev = step_get(ctx, "freeze", "prev");
	int r;

	if (prev == NULL)
		return STEP_DONE;   /* never frozen: nothing to undo */
	if (step_get(ctx, "failback-unfreeze", "at") == NULL)
		return STEP_TODO;
	if ((r = setting_is(ctx, ctx->names.live_web, exact_target(prev), err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_TODO;
}

static int
ufb_apply(struct run_ctx *ctx, struct cut_err *err)
{
	return unfreeze(ctx, "failback-unfreeze", ctx->names.live_web, ctx->names.live_db,
	    exact_target(step_get(ctx, "freeze", "prev")), err);
}

const struct step_entry step_failback_unfreeze_entry = {
	.name = "failback-unfreeze",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "let the old live database take writes again",
	.describe = ufb_describe,
	.check = ufb_check,
	.apply = ufb_apply,
};

/* --- parity: evidence before the DNS switch ------------------------------ */

static int
parity_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	size_t k;
	int n;

	(void)err;
	n = snprintf(buf, len, "compare %s at the freeze, %s now and %s, table by table (row count, "
	    "highest id); any difference stops the run before DNS moves. Not compared, by design:",
	    ctx->names.live_db, ctx->names.live_db, ctx->names.new_db);
	for (k = 0; parity_skips[k].table && n > 0 && (size_t)n < len; k++)
		n += snprintf(buf + n, len - n, " %s (%s);", parity_skips[k].table, parity_skips[k].why);
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " tables only on %s (migrate created them)", ctx->names.new_db);
	return 0;
}

static int
parity_check(struct run_ctx *ctx, struct cut_err *err)
{
	const char *d = step_get(ctx, "parity", "differences");

	(void)err;
	/* Once DNS has moved, users write to the new database: comparing then
	 * would stop a finished cutover for nothing. */
	if (step_get(ctx, "dns-switch", "changed_at") != NULL)
		return STEP_DONE;
	return d != NULL && strcmp(d, "0") == 0 ? STEP_DONE : STEP_TODO;
}

struct parity_out {
	struct rowlist rl;
	size_t compared, after_freeze, differ;
	char names[600];   /* the first differing tables, for the sentence */
};

static int
parity_add(struct parity_out *o, const char *table, const char *fr, const char *fm,
    const char *nr, const char *nm, const char *what, struct cut_err *err)
{
	const char *cells[6] = { table, fr, fm, nr, nm, what };
	size_t l = strlen(o->names);

	if (l + strlen(table) + 3 < sizeof(o->names))
		snprintf(o->names + l, sizeof(o->names) - l, "%s%s", l ? ", " : "", table);
	return rowlist_add(&o->rl, cells, err);
}

static int
parity_compare(struct run_ctx *ctx, const struct rowlist *frozen, const struct world_table_stat *live,
    size_t nlive, const struct world_table_stat *nw, size_t nnew, struct parity_out *o,
    struct cut_err *err)
{
	char a[32], b[32];
	int r = 0;

	(void)ctx;
	/* The proof: the live database has not changed since the freeze. */
	for (size_t i = 0; r == 0 && i < frozen->nrows; i++) {
		const char *t = rowlist_cell(frozen, i, 0);
		const struct world_table_stat *l = stat_find(live, nlive, t);

		if (l != NULL)
			snprintf(a, sizeof(a), "%lld", l->rows);
		if (l != NULL && strcmp(rowlist_cell(frozen, i, 1), a) == 0 &&
		    strcmp(rowlist_cell(frozen, i, 2), l->max_id) == 0)
			continue;
		o->after_freeze++;
		r = parity_add(o, t, rowlist_cell(frozen, i, 1), rowlist_cell(frozen, i, 2),
		    l ? a : "-", l ? l->max_id : "-", "live database changed after the freeze", err);
	}
	for (size_t i = 0; r == 0 && i < nlive; i++)
		if (stats_find(frozen, live[i].table) < 0) {
			o->after_freeze++;
			snprintf(a, sizeof(a), "%lld", live[i].rows);
			r = parity_add(o, live[i].table, "-", "-", a, live[i].max_id,
			    "live table created after the freeze", err);
		}
	/* The evidence: the new database holds what the frozen one held. */
	for (size_t i = 0; r == 0 && i < frozen->nrows; i++) {
		const char *t = rowlist_cell(frozen, i, 0);
		const struct world_table_stat *n = stat_find(nw, nnew, t);

		if (skip_why(t) != NULL)
			continue;
		o->compared++;
		if (n == NULL) {
			r = parity_add(o, t, rowlist_cell(frozen, i, 1), rowlist_cell(frozen, i, 2), "-", "-",
			    "missing on the new database", err);
			o->differ++;
			continue;
		}
		snprintf(b, sizeof(b), "%lld", n->rows);
		if (strcmp(rowlist_cell(frozen, i, 1), b) == 0 &&
		    strcmp(rowlist_cell(frozen, i, 2), n->max_id) == 0)
			continue;
		o->differ++;
		r = parity_add(o, t, rowlist_cell(frozen, i, 1), rowlist_cell(frozen, i, 2), b, n->max_id,
		    "differs on the new database", err);
	}
	return r;
}

/* The live and the new database's stats, read side by side when the world
 * can (on a real database each count is a scan of every table). */
static int
both_stats(struct run_ctx *ctx, struct world_table_stat **live, size_t *nlive,
    struct world_table_stat **nw, size_t *nnew, struct cut_err *err)
{
	const char *envs[2] = { ctx->names.live_web, ctx->names.new_web };
	struct world_table_stat *st[2];
	size_t n[2];
	int r;

	if (ctx->world->db_table_stats_many == NULL) {
		if ((r = ctx->world->db_table_stats(ctx->world, envs[0], live, nlive, err)) != 0)
			return r;
		return ctx->world->db_table_stats(ctx->world, envs[1], nw, nnew, err);
	}
	if ((r = ctx->world->db_table_stats_many(ctx->world, envs, 2, st, n, err)) != 0)
		return r;
	*live = st[0];
	*nlive = n[0];
	*nw = st[1];
	*nnew = n[1];
	return 0;
}

static int
parity_apply(struct run_ctx *ctx, struct cut_err *err)
{
	static const char *const cols[] = { "table", "frozen_rows", "frozen_max_id", "other_rows",
	    "other_max_id", "what" };
	const char *file = step_get(ctx, "freeze", "stats_file");
	const char *sha = step_get(ctx, "freeze", "stats_sha256");
	struct world_table_stat *live = NULL, *nw = NULL;
	size_t nlive = 0, nnew = 0;
	struct rowlist frozen;
	struct parity_out o;
	char path[4096], psha[65];
	int r;

	if (file == NULL || sha == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal has no freeze point to compare with; "
		    "the freeze step must be done first.");
	if ((r = rowlist_load(file, sha, &frozen, NULL, err)) != 0)
		return cut_err_wrap(err, "Reading the freeze point");
	memset(&o, 0, sizeof(o));
	if ((r = rowlist_init(&o.rl, 6, cols, err)) != 0)
		goto out;
	if ((r = step_env_uses_db(ctx, ctx->names.new_web, ctx->names.new_db, err)) != 0)
		goto out;
	if ((r = both_stats(ctx, &live, &nlive, &nw, &nnew, err)) != 0)
		goto out;
	if ((r = parity_compare(ctx, &frozen, live, nlive, nw, nnew, &o, err)) != 0)
		goto out;
	if ((r = step_state_path(ctx, PARITY_FILE, path, sizeof(path), err)) != 0 ||
	    (r = rowlist_write(path, &o.rl, psha, err)) != 0)
		goto out;
	step_put(ctx, "rows_file", "%s", path);
	step_put(ctx, "rows_sha256", "%s", psha);
	step_put(ctx, "compared", "%zu", o.compared);
	step_put(ctx, "after_freeze", "%zu", o.after_freeze);
	step_put(ctx, "differences", "%zu", o.rl.nrows);
	for (size_t i = 0; i < o.rl.nrows; i++)
		say(ctx, "parity", "%s: %s", rowlist_cell(&o.rl, i, 0), rowlist_cell(&o.rl, i, 5));
	if (o.after_freeze > 0)
		r = cut_err_set(err, CUT_ESTATE, "%zu table(s) of %s changed after the freeze (%s): "
		    "the snapshot does not hold what was written; DNS was not changed. Find who writes "
		    "(see %s), then fail back or start again.", o.after_freeze, ctx->names.live_db,
		    o.names, path);
	else if (o.differ > 0)
		r = cut_err_set(err, CUT_ESTATE, "%s differs from the frozen %s in %zu table(s) (%s); "
		    "DNS was not changed. Find out why (see %s), then run again or fail back.",
		    ctx->names.new_db, ctx->names.live_db, o.differ, o.names, path);
	else if (ctx->out)
		progress_event(ctx->out, "result", "parity", "%zu table(s) of %s equal the frozen %s "
		    "(row count, highest id), and %s has not changed since the freeze", o.compared,
		    ctx->names.new_db, ctx->names.live_db, ctx->names.live_db);
out:
	rowlist_free(&frozen);
	rowlist_free(&o.rl);
	free(live);
	free(nw);
	return r;
}

const struct step_entry step_parity_entry = {
	.name = "parity",
	.phase = STEP_PHASE_RUN,
	.summary = "check that the new database holds what the frozen live one holds",
	.describe = parity_describe,
	.check = parity_check,
	.apply = parity_apply,
};

/* The new side's cron is held from point-new to parity (new-cron-hold,
 * new-cron-back: runbook/steps/step_cron.c): pointed at the copy, its jobs
 * would write there while the site is still closed, and parity would find
 * rows the frozen database never had. */
