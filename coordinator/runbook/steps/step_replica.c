/* runbook/steps/step_replica.c: the read-replica path ([database] method =
 * replica, issue 13). Prep creates the new database as a read replica of the
 * live one, hours before the window, so that it is warm and current; the
 * window then waits, after the write freeze, until the replica has replayed
 * everything the live database wrote, promotes it and waits until it takes
 * writes. The rest of the run (point, migrate, parity, DNS...) is the
 * snapshot path's.
 *
 * Out of the window (runbook/tables.c): prep holds the new environments'
 * cron (new-cron-hold) and points them at the replica (point-new) while they
 * are still in maintenance mode. Nothing on the new side writes there: the
 * replica is read-only, cron is held, and an EB configuration update does
 * not run Cobalt's postdeploy hook (migrate, crontab); in the window both
 * steps only check that this still holds (an instance replaced since prep
 * has its crontab back from the deploy hook: new-cron-hold empties it again).
 *
 * In the window the new environments open (open-new: MAINTENANCE_MODE off,
 * applied without waiting) beside the promotion, and open-new-ready waits
 * for that update after the promotion's wait: two AWS waits side by side
 * (the dns-switch/dns-insync pattern). Before DNS moves only a request sent
 * to the new environment's own CNAME with the production Host reaches it;
 * the database is read-only (a replica, then frozen as the live one was)
 * until unfreeze-new, and parity, just before DNS moves, catches any row
 * written after that. The smoke test runs against the open site, and the
 * window ends when Route 53 says INSYNC (dns-insync, the replica method's
 * downtime end): from then every resolver gets the open new site.
 *
 * Lost writes on this path are the rows written to the live database after
 * the catch-up reading (the promotion point): the freeze makes them none. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/journal.h"
#include "runbook/tables.h"
#include "runbook/steps/env_wait.h"

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

/* --- before the window: the new side still as prep left it --------------- *
 *
 * prep's new-cron-hold and point-new are done in the journal, so the run
 * does not redo them; this step checks, cheaply (no configuration update
 * when nothing changed), that both new environments still use the replica
 * with MP_USE_DJANGO removed and that their cron is still held. An instance
 * launched since prep ran the deploy hook, which installs the crontab: it
 * is held again. Settings changed by hand are put back (one configuration
 * update, before maintenance mode goes on). */

#define NEW_ENV(ctx, i) ((i) == 0 ? (ctx)->names.new_web : (ctx)->names.new_ses)

static int
rp_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "check that %s and %s still use read replica %s (RDS_HOSTNAME, "
	    "RDS_DB_NAME=%s, no MP_USE_DJANGO) with their cron held, as prep left them, and put "
	    "back what changed", ctx->names.new_web, ctx->names.new_ses, ctx->names.new_db,
	    ctx->names.db_name);
	return 0;
}

/* The settings point-new gives, for the replica's endpoint (never the
 * live database's). */
static int
rp_vars(struct run_ctx *ctx, struct world_var set[2], struct cut_err *err)
{
	struct world_db d, live;
	int r;

	if ((r = describe_new(ctx, &d, err)) != 0 ||
	    (r = ctx->world->db_describe(ctx->world, ctx->names.live_db, &live, err)) != 0)
		return r;
	if (d.endpoint[0] == '\0' || strcmp(d.endpoint, live.endpoint) == 0)
		return cut_err_set(err, CUT_ESTATE, "Database %s has no endpoint of its own (it is "
		    "%s); look at it in the RDS console before running again.", d.id, d.status);
	memset(set, 0, 2 * sizeof(*set));
	snprintf(set[0].name, sizeof(set[0].name), "RDS_HOSTNAME");
	snprintf(set[0].value, sizeof(set[0].value), "%s", d.endpoint);
	snprintf(set[1].name, sizeof(set[1].name), "RDS_DB_NAME");
	snprintf(set[1].value, sizeof(set[1].value), "%s", ctx->names.db_name);
	set[0].present = set[1].present = 1;
	return 0;
}

/* 1 when env has set[] and no MP_USE_DJANGO. */
static int
rp_env_ok(struct run_ctx *ctx, const char *env, const struct world_var set[2], struct cut_err *err)
{
	const char *names[3] = { set[0].name, set[1].name, "MP_USE_DJANGO" };
	const char *vals[3] = { set[0].value, set[1].value, NULL };

	return step_env_vars_are(ctx, env, names, vals, 3, err);
}

static int
rp_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var set[2];
	int i, r, paused;

	if ((r = refuse_live(ctx, err)) != 0 || (r = rp_vars(ctx, set, err)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		if ((r = rp_env_ok(ctx, NEW_ENV(ctx, i), set, err)) <= 0)
			return r < 0 ? r : STEP_TODO;
		if ((r = ctx->world->cron_paused(ctx->world, NEW_ENV(ctx, i), &paused, err)) != 0)
			return r;
		if (!paused)
			return STEP_TODO;
	}
	for (i = 0; i < 2; i++) {
		if ((r = step_env_ready(ctx, NEW_ENV(ctx, i), err)) < 0)
			return r;
		if (r == 0)
			return STEP_PENDING;
	}
	return STEP_DONE;
}

static int
rp_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *remove[1] = { "MP_USE_DJANGO" };
	struct world_var set[2];
	int i, r, paused;

	if ((r = rp_vars(ctx, set, err)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		if ((r = ctx->world->cron_paused(ctx->world, NEW_ENV(ctx, i), &paused, err)) != 0)
			return r;
		if (!paused && (r = ctx->world->cron_pause(ctx->world, NEW_ENV(ctx, i), err)) != 0)
			return r;
		if (!paused)
			step_put(ctx, "cron_held_again", "%s", NEW_ENV(ctx, i));
	}
	for (i = 0; i < 2; i++) {
		if ((r = rp_env_ok(ctx, NEW_ENV(ctx, i), set, err)) < 0)
			return r;
		if (r == 1)
			continue;
		if ((r = ctx->world->env_update_vars(ctx->world, NEW_ENV(ctx, i), set, 2, remove, 1,
		    err)) != 0)
			return r;
		step_put(ctx, "repointed", "%s", NEW_ENV(ctx, i));
	}
	return 0;
}

static int
rp_wait(struct run_ctx *ctx, struct cut_err *err)
{
	int r = step_wait_env_ready(ctx, ctx->names.new_web, err);

	return r ? r : step_wait_env_ready(ctx, ctx->names.new_ses, err);
}

const struct step_entry step_replica_pointed_entry = {
	.name = "replica-pointed",
	.phase = STEP_PHASE_RUN,
	.summary = "the new environments still use the read replica, cron held, as prep left them",
	.describe = rp_describe,
	.check = rp_check,
	.apply = rp_apply,
	.wait = rp_wait,
};

/* --- the window: open the new side beside the promotion -------------------- */

#define MAINT "MAINTENANCE_MODE"
#define NEW_ENV(ctx, i) ((i) == 0 ? (ctx)->names.new_web : (ctx)->names.new_ses)

/* 1 when both new environments have MAINTENANCE_MODE=OFF. */
static int
new_open(struct run_ctx *ctx, struct cut_err *err)
{
	const char *names[1] = { MAINT }, *vals[1] = { "OFF" }, *env;
	int i, r;

	for (i = 0; i < 2; i++) {
		env = NEW_ENV(ctx, i);
		if ((r = step_env_vars_are(ctx, env, names, vals, 1, err)) <= 0)
			return r;
	}
	return 1;
}

/* 1 when both new environments are Ready. */
static int
new_ready(struct run_ctx *ctx, struct cut_err *err)
{
	const char *env;
	int i, r;

	for (i = 0; i < 2; i++) {
		env = NEW_ENV(ctx, i);
		if ((r = step_env_ready(ctx, env, err)) <= 0)
			return r;
	}
	return 1;
}

static int
on_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MAINTENANCE_MODE=OFF on %s and %s without waiting (the update runs "
	    "beside the promotion; DNS still sends users to the maintenance page of %s)",
	    ctx->names.new_web, ctx->names.new_ses, ctx->names.live_web);
	return 0;
}

static int
on_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r;

	if ((r = new_open(ctx, err)) <= 0)
		return r < 0 ? r : STEP_TODO;
	if ((r = new_ready(ctx, err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_PENDING;
}

/* Only environments that use the new database open: never one still on
 * the prep database (or, by a mistake in the configuration, the live one). */
static int
on_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *names[1] = { MAINT }, *vals[1] = { "OFF" }, *env;
	struct world_var v;
	int i, r;

	for (i = 0; i < 2; i++) {
		env = NEW_ENV(ctx, i);
		if ((r = step_env_uses_db(ctx, env, ctx->names.new_db, err)) != 0)
			return r;
	}
	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", MAINT);
	snprintf(v.value, sizeof(v.value), "OFF");
	v.present = 1;
	for (i = 0; i < 2; i++) {
		env = NEW_ENV(ctx, i);
		if ((r = step_env_vars_are(ctx, env, names, vals, 1, err)) < 0)
			return r;
		if (r == 1)
			continue;
		if ((r = ctx->world->env_update_vars(ctx->world, env, &v, 1, NULL, 0, err)) != 0)
			return r;
	}
	return 0;
}

const struct step_entry step_open_new_entry = {
	.name = "open-new",
	.phase = STEP_PHASE_RUN,
	.summary = "start taking the new environments out of maintenance mode (waited for after "
	    "the promotion)",
	.undone_by = "failback-new-maint",
	.describe = on_describe,
	.check = on_check,
	.apply = on_apply,
};

static int
ready_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "wait until %s and %s have applied open-new's MAINTENANCE_MODE=OFF",
	    ctx->names.new_web, ctx->names.new_ses);
	return 0;
}

static int
ready_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r;

	if ((r = new_open(ctx, err)) < 0)
		return r;
	if (r == 0)
		return cut_err_set(err, CUT_ESTATE, "%s or %s is still in maintenance mode, so there "
		    "is nothing to wait for; open-new must be done first: run again.",
		    ctx->names.new_web, ctx->names.new_ses);
	if ((r = new_ready(ctx, err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_TODO;
}

static int
ready_apply(struct run_ctx *ctx, struct cut_err *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

static int
ready_wait(struct run_ctx *ctx, struct cut_err *err)
{
	int r = step_wait_env_ready(ctx, ctx->names.new_web, err);

	return r ? r : step_wait_env_ready(ctx, ctx->names.new_ses, err);
}

const struct step_entry step_open_new_ready_entry = {
	.name = "open-new-ready",
	.phase = STEP_PHASE_RUN,
	.summary = "wait until the new environments are out of maintenance mode",
	.describe = ready_describe,
	.check = ready_check,
	.apply = ready_apply,
	.wait = ready_wait,
};
