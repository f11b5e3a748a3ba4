/* runbook/steps/step_rds.c: the RDS steps. The cutover's snapshot of the live database
 * and its restore as the new instance (each exactly once: the identifiers
 * are fixed names, checked before creating), the rehearsal's restore, and
 * tidy's deletion of the old database after a final snapshot. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/tables.h"

/* --- snapshot ----------------------------------------------------------- */

static int
snap_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "take snapshot %s of database %s", ctx->names.snapshot,
	    ctx->names.live_db);
	return 0;
}

static int
snap_state(struct run_ctx *ctx, const char *id, struct cut_err *err)
{
	struct world_snapshot s;
	int r = ctx->world->snapshot_describe(ctx->world, id, &s, err);

	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return STEP_TODO;
	}
	if (r != 0)
		return r;
	if (strcmp(s.status, "available") == 0) {
		step_put(ctx, "created", "%lld", (long long)s.created);
		return STEP_DONE;
	}
	if (strcmp(s.status, "creating") != 0)
		return cut_err_set(err, CUT_EAWS, "Snapshot %s is '%s', not creating or available; "
		    "delete it in the RDS console (or choose another snapshot name), then run again.",
		    id, s.status);
	return STEP_PENDING;
}

static int
snap_check(struct run_ctx *ctx, struct cut_err *err)
{
	return snap_state(ctx, ctx->names.snapshot, err);
}

static int
snap_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = ctx->world->snapshot_create(ctx->world, ctx->names.live_db, ctx->names.snapshot, err);

	if (r == 0)
		step_put(ctx, "snapshot", "%s", ctx->names.snapshot);
	return r;
}

static int
poll_snapshot(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	struct world_snapshot s;
	int r;

	(void)rate;
	if ((r = ctx->world->snapshot_describe(ctx->world, arg, &s, err)) != 0)
		return r;
	snprintf(status, len, "%s", s.status);
	*percent = s.percent;
	if (strcmp(s.status, "available") == 0) {
		step_put(ctx, "created", "%lld", (long long)s.created);
		return 1;
	}
	if (strcmp(s.status, "creating") != 0)
		return cut_err_set(err, CUT_EAWS, "Snapshot %s became '%s'; look at it in the RDS "
		    "console before running again.", s.id, s.status);
	return 0;
}

static int
wait_snapshot(struct run_ctx *ctx, const char *id, struct cut_err *err)
{
	char what[192];

	snprintf(what, sizeof(what), "snapshot %s", id);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_DB_SNAPSHOT, poll_snapshot, (void *)id, err);
}

static int snap_wait(struct run_ctx *ctx, struct cut_err *err) { return wait_snapshot(ctx, ctx->names.snapshot, err); }

const struct step_entry step_snapshot_entry = {
	.name = "snapshot",
	.phase = STEP_PHASE_RUN,
	.summary = "snapshot the live database",
	.flags = STEP_F_ONCE,
	.describe = snap_describe,
	.check = snap_check,
	.apply = snap_apply,
	.wait = snap_wait,
};

/* --- restore ------------------------------------------------------------ */

static int
db_state(struct run_ctx *ctx, const char *id, struct cut_err *err)
{
	struct world_db d;
	int r = ctx->world->db_describe(ctx->world, id, &d, err);

	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return STEP_TODO;
	}
	if (r != 0)
		return r;
	if (strcmp(d.status, "available") == 0) {
		step_put(ctx, "endpoint", "%s", d.endpoint);
		step_put(ctx, "class", "%s", d.klass);
		return STEP_DONE;
	}
	return STEP_PENDING;
}

static int
poll_db(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_db d;
	int r;

	(void)percent;
	(void)rate;
	if ((r = ctx->world->db_describe(ctx->world, arg, &d, err)) != 0)
		return r;
	snprintf(status, len, "%s", d.status);
	if (strcmp(d.status, "available") == 0) {
		step_put(ctx, "endpoint", "%s", d.endpoint);
		step_put(ctx, "class", "%s", d.klass);
		return 1;
	}
	if (strcmp(d.status, "failed") == 0 || strncmp(d.status, "incompatible", 12) == 0)
		return cut_err_set(err, CUT_EAWS, "Database %s became '%s'; look at it in the RDS "
		    "console, delete it, then run again.", d.id, d.status);
	return 0;
}

static int
wait_db(struct run_ctx *ctx, const char *id, struct cut_err *err)
{
	char what[128];

	snprintf(what, sizeof(what), "database %s available", id);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_DB_RESTORE, poll_db, (void *)id, err);
}

/* A restore must never target the live database (issue 5). */
static int
refuse_live(struct run_ctx *ctx, const char *target, struct cut_err *err)
{
	if (strcmp(target, ctx->names.live_db) == 0)
		return cut_err_set(err, CUT_ECONFIG, "The restore target %s is the live database; "
		    "set another instance name for the new database in the configuration.", target);
	return 0;
}

static int
restore_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "restore snapshot %s as new database %s (%s, network settings of %s)",
	    ctx->names.snapshot, ctx->names.new_db, ctx->names.new_db_class, ctx->names.live_db);
	return 0;
}

static int
restore_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r = refuse_live(ctx, ctx->names.new_db, err);

	return r ? r : db_state(ctx, ctx->names.new_db, err);
}

/* Before anything is restored: the environment that will run on the new
 * database must not be running on the live one already. */
static int
restore_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = step_target_db_check(ctx, ctx->names.new_web, err);

	if (r != 0)
		return r;
	return ctx->world->db_restore(ctx->world, ctx->names.snapshot, ctx->names.new_db,
	    ctx->names.new_db_class, ctx->names.live_db, err);
}

static int restore_wait(struct run_ctx *ctx, struct cut_err *err) { return wait_db(ctx, ctx->names.new_db, err); }

const struct step_entry step_restore_entry = {
	.name = "restore",
	.phase = STEP_PHASE_RUN,
	.summary = "restore the snapshot as the new database",
	.flags = STEP_F_ONCE,
	.describe = restore_describe,
	.check = restore_check,
	.apply = restore_apply,
	.wait = restore_wait,
};

/* --- rehearse: production data into the test environment's database ---- */

/* The snapshot the rehearsal restores: one named in [rehearse] (an automated
 * one, say) is used as it is; otherwise a new one of the live database,
 * taken once. A snapshot reads the database and changes no data. */
static int
rsnap_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "take snapshot %s of production database %s, unless it exists",
	    ctx->names.test_snapshot, ctx->names.live_db);
	return 0;
}

static int
rsnap_check(struct run_ctx *ctx, struct cut_err *err)
{
	return snap_state(ctx, ctx->names.test_snapshot, err);
}

static int
rsnap_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = ctx->world->snapshot_create(ctx->world, ctx->names.live_db, ctx->names.test_snapshot,
	    err);

	if (r == 0)
		step_put(ctx, "snapshot", "%s", ctx->names.test_snapshot);
	return r;
}

static int rsnap_wait(struct run_ctx *ctx, struct cut_err *err) { return wait_snapshot(ctx, ctx->names.test_snapshot, err); }

const struct step_entry step_rehearse_snapshot_entry = {
	.name = "rehearse-snapshot",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "take a snapshot of production to copy the data from",
	.flags = STEP_F_ONCE,
	.describe = rsnap_describe,
	.check = rsnap_check,
	.apply = rsnap_apply,
	.wait = rsnap_wait,
};

static int
rrestore_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "restore production snapshot %s as test database %s (%s)",
	    ctx->names.test_snapshot, ctx->names.test_db, ctx->names.test_db_class);
	return 0;
}

static int
rrestore_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r = refuse_live(ctx, ctx->names.test_db, err);

	return r ? r : db_state(ctx, ctx->names.test_db, err);
}

static int
rrestore_apply(struct run_ctx *ctx, struct cut_err *err)
{
	return ctx->world->db_restore(ctx->world, ctx->names.test_snapshot, ctx->names.test_db,
	    ctx->names.test_db_class, ctx->names.live_db, err);
}

static int rrestore_wait(struct run_ctx *ctx, struct cut_err *err) { return wait_db(ctx, ctx->names.test_db, err); }

const struct step_entry step_rehearse_restore_entry = {
	.name = "rehearse-restore",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "copy production data to a test database (snapshot restore)",
	.flags = STEP_F_ONCE,
	.describe = rrestore_describe,
	.check = rrestore_check,
	.apply = rrestore_apply,
	.wait = rrestore_wait,
};

/* --- tidy: the old database goes, after a final snapshot ---------------- */

static int
tdb_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "delete database %s after final snapshot %s", ctx->names.live_db,
	    ctx->names.final_snapshot);
	return 0;
}

/* Refuses while any environment's RDS_HOSTNAME is the old database (the
 * preflight asked the same before tidy began; this covers a change since). */
static int
tdb_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	char who[64];
	int r;

	r = ctx->world->db_describe(ctx->world, ctx->names.live_db, &d, err);
	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return STEP_DONE;
	}
	if (r != 0)
		return r;
	if (strcmp(d.status, "deleting") == 0)
		return STEP_PENDING;
	if ((r = step_db_user(ctx, ctx->names.live_db, NULL, 0, who, sizeof(who), err)) < 0)
		return r;
	if (r == 1)
		return cut_err_set(err, CUT_ESTATE, "Refusing to delete database %s: "
		    "environment %s still uses it (RDS_HOSTNAME); point it elsewhere or "
		    "terminate it first.", ctx->names.live_db, who);
	return STEP_TODO;
}

static int
tdb_apply(struct run_ctx *ctx, struct cut_err *err)
{
	step_put(ctx, "final_snapshot", "%s", ctx->names.final_snapshot);
	return ctx->world->db_delete(ctx->world, ctx->names.live_db, ctx->names.final_snapshot, err);
}

static int
poll_gone(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_db d;
	int r;

	(void)percent;
	(void)rate;
	r = ctx->world->db_describe(ctx->world, arg, &d, err);
	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		snprintf(status, len, "deleted");
		return 1;
	}
	if (r != 0)
		return r;
	snprintf(status, len, "%s", d.status);
	return 0;
}

static int
tdb_wait(struct run_ctx *ctx, struct cut_err *err)
{
	char what[128];

	snprintf(what, sizeof(what), "database %s deleted", ctx->names.live_db);
	return engine_poll(ctx, what, poll_gone, ctx->names.live_db, err);
}

const struct step_entry step_tidy_db_entry = {
	.name = "tidy-db",
	.phase = STEP_PHASE_TIDY,
	.summary = "delete the old database after a final snapshot",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE | STEP_F_ONCE,
	.describe = tdb_describe,
	.check = tdb_check,
	.apply = tdb_apply,
	.wait = tdb_wait,
};
