/* runbook/steps/step_replica.c: the read-replica path ([database] method =
 * replica, issue 13). Prep creates the new database as a read replica of the
 * live one, hours before the window, so that it is warm and current; the
 * window then waits, after the write freeze, until the replica has replayed
 * everything the live database wrote, promotes it and waits until it takes
 * writes. The rest of the run (point, migrate, parity, DNS...) is the
 * snapshot path's.
 *
 * The replica stays read-only until the promotion, so the new environments
 * are pointed at it only after it (point-new, in the window as on the
 * snapshot path): Cobalt's deploy hook (migrate) and its cron would fail
 * against a standby, and the blocked-email clear must write before migrate.
 *
 * Lost writes on this path are the rows written to the live database after
 * the catch-up reading (the promotion point): the freeze makes them none. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/journal.h"
#include "runbook/tables.h"

static int
refuse_live(struct run_ctx *ctx, struct cut_err *err)
{
	if (strcmp(ctx->names.new_db, ctx->names.live_db) == 0)
		return cut_err_set(err, CUT_ECONFIG, "The new database %s is the live database; set "
		    "another instance name for the new database in the configuration.", ctx->names.new_db);
	return 0;
}

/* The new database, which must be there from prep on. */
static int
describe_new(struct run_ctx *ctx, struct world_db *d, struct cut_err *err)
{
	int r = ctx->world->db_describe(ctx->world, ctx->names.new_db, d, err);

	if (r == CUT_ENOTFOUND)
		return cut_err_set(err, CUT_ESTATE, "The read replica %s does not exist; run `cutover "
		    "prep` first (with [database] method = replica it creates it).", ctx->names.new_db);
	return r;
}

static int
failed_state(const char *status)
{
	return strcmp(status, "failed") == 0 || strncmp(status, "incompatible", 12) == 0 ||
	    strcmp(status, "storage-full") == 0 || strcmp(status, "deleting") == 0;
}

/* --- prep: create the replica ------------------------------------------- */

static int
rc_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "create new database %s (%s) as a read replica of %s (network settings "
	    "of %s) and wait until it replicates", ctx->names.new_db, ctx->names.new_db_class,
	    ctx->names.live_db, ctx->names.live_db);
	return 0;
}

static int
rc_state(struct run_ctx *ctx, const struct world_db *d, struct cut_err *err)
{
	if (strcmp(d->replica_source, ctx->names.live_db) != 0)
		return cut_err_set(err, CUT_ESTATE, "A database named %s exists and is not a read "
		    "replica of %s%s%s; choose another name for the new database in the configuration, "
		    "or delete it.", d->id, ctx->names.live_db, d->replica_source[0] ? " (it replicates " :
		    "", d->replica_source[0] ? d->replica_source : "");
	if (failed_state(d->status))
		return cut_err_set(err, CUT_EAWS, "The read replica %s is '%s'; look at it in the RDS "
		    "console, delete it, then run prep again.", d->id, d->status);
	if (strcmp(d->status, "available") == 0 &&
	    (d->replication[0] == '\0' || strcmp(d->replication, "replicating") == 0)) {
		step_put(ctx, "endpoint", "%s", d->endpoint);
		step_put(ctx, "class", "%s", d->klass);
		return STEP_DONE;
	}
	if (strcmp(d->status, "available") == 0)
		return cut_err_set(err, CUT_EAWS, "The read replica %s is available but its replication "
		    "is '%s'; look at it in the RDS console (events, replica lag) before going on.",
		    d->id, d->replication);
	return STEP_PENDING;
}

static int
rc_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	int r;

	if ((r = refuse_live(ctx, err)) != 0)
		return r;
	r = ctx->world->db_describe(ctx->world, ctx->names.new_db, &d, err);
	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return STEP_TODO;
	}
	return r != 0 ? r : rc_state(ctx, &d, err);
}

/* RDS creates a read replica only from an instance that keeps automated
 * backups: say so before asking (AWS's own answer names no way out). */
static int
rc_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db live;
	int r;

	if ((r = ctx->world->db_describe(ctx->world, ctx->names.live_db, &live, err)) != 0)
		return r;
	if (live.backup_retention <= 0)
		return cut_err_set(err, CUT_ECONFIG, "The live database %s keeps no automated backups "
		    "(backup retention 0 days), and RDS makes read replicas only of databases that do; "
		    "turn them on (aws rds modify-db-instance --db-instance-identifier %s "
		    "--backup-retention-period 7 --apply-immediately) or set [database] method = "
		    "snapshot, then run prep again.", live.id, live.id);
	if (live.replica_source[0])
		return cut_err_set(err, CUT_ECONFIG, "The live database %s is itself a read replica of "
		    "%s; cutover replicates only a primary. Check which database the site uses.",
		    live.id, live.replica_source);
	if ((r = ctx->world->db_replica_create(ctx->world, ctx->names.live_db, ctx->names.new_db,
	    ctx->names.new_db_class, err)) != 0)
		return r;
	return step_put(ctx, "source", "%s", ctx->names.live_db);
}

static int
poll_replica(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_db d;
	int r;

	(void)arg;
	(void)percent;
	(void)rate;
	if ((r = describe_new(ctx, &d, err)) != 0)
		return r;
	snprintf(status, len, "%s%s%s", d.status, d.replication[0] ? ", " : "", d.replication);
	if ((r = rc_state(ctx, &d, err)) < 0)
		return r;
	return r == STEP_DONE;
}

static int
rc_wait(struct run_ctx *ctx, struct cut_err *err)
{
	char what[160];

	snprintf(what, sizeof(what), "read replica %s replicating", ctx->names.new_db);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_DB_REPLICA, poll_replica, NULL, err);
}

const struct step_entry step_replica_create_entry = {
	.name = "replica-create",
	.phase = STEP_PHASE_PREP,
	.summary = "create the new database as a read replica of the live one",
	.flags = STEP_F_ONCE,
	.describe = rc_describe,
	.check = rc_check,
	.apply = rc_apply,
	.wait = rc_wait,
};

/* --- the window: catch up after the freeze ------------------------------ */

static int
cu_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "wait until read replica %s has replayed everything frozen database %s "
	    "wrote (pg_current_wal_lsn() there, pg_last_wal_replay_lsn() on the replica)",
	    ctx->names.new_db, ctx->names.live_db);
	return 0;
}

static int
cu_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	int r;

	if ((r = refuse_live(ctx, err)) != 0 || (r = describe_new(ctx, &d, err)) != 0)
		return r;
	/* Caught up by an earlier run that went on to the promotion (done, or
	 * in flight: the replica leaves recovery before RDS says available). */
	if (step_get(ctx, "replica-catchup", "replay_lsn") != NULL && (d.replica_source[0] == '\0' ||
	    (ctx->journal && journal_step_state(ctx->journal, "promote").begun)))
		return STEP_DONE;
	if (strcmp(d.replica_source, ctx->names.live_db) != 0)
		return cut_err_set(err, CUT_ESTATE, "%s is not a read replica of %s, so it cannot "
		    "catch up; run `cutover prep` with [database] method = replica first.",
		    ctx->names.new_db, ctx->names.live_db);
	return STEP_TODO;
}

/* The catch-up is the data-safety gate of this path: only once the live
 * database refuses writes does "replayed everything" stay true. */
static int
cu_apply(struct run_ctx *ctx, struct cut_err *err)
{
	char v[32];
	int r;

	if ((r = ctx->world->db_read_only(ctx->world, ctx->names.live_web, v, sizeof(v), err)) != 0)
		return r;
	if (strcmp(v, "on") != 0 && strcmp(v, "true") != 0)
		return cut_err_set(err, CUT_ESTATE, "The live database %s still takes writes "
		    "(default_transaction_read_only is '%s'), so the replica could never be sure to "
		    "hold them all; the freeze step must be done first: run again.", ctx->names.live_db,
		    v);
	return 0;
}

static int
poll_catchup(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_db d;
	struct world_replica rp;
	int r;

	(void)arg;
	(void)percent;
	(void)rate;
	if ((r = describe_new(ctx, &d, err)) != 0)
		return r;
	if (d.endpoint[0] == '\0')
		return cut_err_set(err, CUT_EAWS, "The read replica %s has no endpoint (it is %s); look "
		    "at it in the RDS console.", d.id, d.status);
	if ((r = ctx->world->db_replica_lsn(ctx->world, ctx->names.live_web, d.endpoint, d.port, &rp,
	    err)) != 0)
		return r;
	if (!rp.in_recovery)
		return cut_err_set(err, CUT_ESTATE, "The read replica %s is no longer a standby (it "
		    "takes writes) though it was not promoted by this cutover; look at it before going "
		    "on.", d.id);
	snprintf(status, len, "live at %s, replica replayed %s (%lld bytes behind)", rp.live_lsn,
	    rp.replay_lsn[0] ? rp.replay_lsn : "nothing", rp.behind);
	/* behind < 0: the replica replayed a record (a checkpoint) written
	 * after the live database was read. */
	if (rp.replay_lsn[0] == '\0' || rp.behind > 0)
		return 0;
	step_put(ctx, "live_lsn", "%s", rp.live_lsn);
	step_put(ctx, "replay_lsn", "%s", rp.replay_lsn);
	step_put(ctx, "live_unix", "%lld", (long long)rp.live_unix);
	return 1;
}

static int
cu_wait(struct run_ctx *ctx, struct cut_err *err)
{
	char what[160];

	snprintf(what, sizeof(what), "read replica %s caught up", ctx->names.new_db);
	return engine_poll(ctx, what, poll_catchup, NULL, err);
}

const struct step_entry step_replica_catchup_entry = {
	.name = "replica-catchup",
	.phase = STEP_PHASE_RUN,
	.summary = "the read replica has replayed everything the frozen live database wrote",
	.describe = cu_describe,
	.check = cu_check,
	.apply = cu_apply,
	.wait = cu_wait,
};

/* --- the window: promote --------------------------------------------------- */

static int
pr_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "promote read replica %s to a standalone database and wait until it "
	    "takes writes (pg_is_in_recovery() false)", ctx->names.new_db);
	return 0;
}

/* 1 when the promoted database answers as a primary, 0 while it is still
 * in recovery. */
static int
writable(struct run_ctx *ctx, const struct world_db *d, char *status, size_t len,
    struct cut_err *err)
{
	struct world_replica rp;
	int r;

	if ((r = ctx->world->db_replica_lsn(ctx->world, ctx->names.live_web, d->endpoint, d->port,
	    &rp, err)) != 0)
		return r;
	if (status)
		snprintf(status, len, "%s, %s", d->status, rp.in_recovery ? "still in recovery" :
		    "takes writes");
	return !rp.in_recovery;
}

static int
pr_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	int r;

	if ((r = refuse_live(ctx, err)) != 0 || (r = describe_new(ctx, &d, err)) != 0)
		return r;
	if (failed_state(d.status))
		return cut_err_set(err, CUT_EAWS, "Database %s is '%s'; look at it in the RDS console "
		    "before running again (fail back with `cutover failback` if the site must open).",
		    d.id, d.status);
	if (strcmp(d.replica_source, ctx->names.live_db) == 0)
		return strcmp(d.status, "available") == 0 ? STEP_TODO : STEP_PENDING;
	if (d.replica_source[0])
		return cut_err_set(err, CUT_ESTATE, "%s replicates %s, not the live database %s; look "
		    "at it before going on.", d.id, d.replica_source, ctx->names.live_db);
	if (strcmp(d.status, "available") != 0)
		return STEP_PENDING;
	if ((r = writable(ctx, &d, NULL, 0, err)) < 0)
		return r;
	if (r == 0)
		return STEP_PENDING;
	step_put(ctx, "endpoint", "%s", d.endpoint);
	step_put(ctx, "class", "%s", d.klass);
	return STEP_DONE;
}

static int
pr_apply(struct run_ctx *ctx, struct cut_err *err)
{
	if (step_get(ctx, "replica-catchup", "replay_lsn") == NULL)
		return cut_err_set(err, CUT_ESTATE, "The journal does not say the read replica caught "
		    "up with the frozen live database; run again so that replica-catchup checks it.");
	return ctx->world->db_promote(ctx->world, ctx->names.new_db, err);
}

static int
poll_promoted(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_db d;
	int r;

	(void)arg;
	(void)percent;
	(void)rate;
	if ((r = describe_new(ctx, &d, err)) != 0)
		return r;
	snprintf(status, len, "%s%s", d.status, d.replica_source[0] ? ", still a replica" : "");
	if (failed_state(d.status))
		return cut_err_set(err, CUT_EAWS, "Database %s became '%s' while being promoted; look "
		    "at it in the RDS console (fail back with `cutover failback` if the site must "
		    "open).", d.id, d.status);
	if (strcmp(d.status, "available") != 0)
		return 0;
	if (d.replica_source[0])
		/* Available and still a replica: the promotion never started
		 * (it was modifying for another reason when checked). */
		return cut_err_set(err, CUT_EAWS, "Database %s is available but still a read replica "
		    "of %s: the promotion did not take; run again.", d.id, d.replica_source);
	if ((r = writable(ctx, &d, status, len, err)) <= 0)
		return r;
	step_put(ctx, "endpoint", "%s", d.endpoint);
	step_put(ctx, "class", "%s", d.klass);
	return 1;
}

static int
pr_wait(struct run_ctx *ctx, struct cut_err *err)
{
	char what[160];

	snprintf(what, sizeof(what), "database %s promoted and writable", ctx->names.new_db);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_DB_PROMOTE, poll_promoted, NULL, err);
}

const struct step_entry step_promote_entry = {
	.name = "promote",
	.phase = STEP_PHASE_RUN,
	.summary = "promote the read replica to the new database",
	.flags = STEP_F_ONCE,
	.describe = pr_describe,
	.check = pr_check,
	.apply = pr_apply,
	.wait = pr_wait,
};
