/* runbook/steps/step_manage.c: manage.py commands on an environment's instance: the
 * user conversion of the cutover (at most once: the token passed to
 * manage_run names the target database and the step, and the agent keeps
 * its marker in that database, so no operator, instance or rerun starts it
 * twice; the journal remembers that it ran) and the rehearsal's migrate,
 * conversion and mpc_sync, each result reported. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/progress.h"
#include "runbook/tables.h"

static const char *const CONVERT[] = { "temp_copy_unreg_to_user", NULL };
static const char *const MIGRATE_NOINPUT[] = { "migrate", "--noinput", NULL };
static const char *const MIGRATE[] = { "migrate", NULL };
static const char *const MPC_SYNC[] = { "mpc_sync", NULL };

/* "a b c" from argv, for messages only (never run). */
static void
join_argv(const char *const *argv, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

/* Runs manage.py argv on env, whose database is db; records its result.
 * A STEP_F_ONCE step runs it at most once: its token is "<db>/<step>",
 * names every operator and every rerun derive alike (not the journal's
 * id), and the marker is kept in db itself. */
static int
run_manage(struct run_ctx *ctx, const char *env, const char *db, const char *const *argv,
    struct cut_err *err)
{
	struct world_manage_result res;
	char token[160], command[200];
	int once = (ctx->step->flags & STEP_F_ONCE) != 0;
	int r;

	join_argv(argv, command, sizeof(command));
	snprintf(token, sizeof(token), "%s/%s", db, ctx->step->name);
	memset(&res, 0, sizeof(res));
	if ((r = ctx->world->manage_run(ctx->world, env, argv, once ? token : NULL, &res, err)) != 0)
		return r;
	step_put(ctx, "exit_status", "%d", res.exit_status);
	step_put(ctx, "summary", "%s", res.summary);
	if (once)
		step_put(ctx, "once_token", "%s", token);
	if (ctx->out)
		progress_event(ctx->out, "result", ctx->step->name, "manage.py %s on %s: exit %d%s: %s",
		    command, env, res.exit_status, res.recorded ? " (an earlier run's, not run again)" : "",
		    res.summary);
	if (res.exit_status != 0 && once)
		return cut_err_set(err, CUT_EREMOTE, "manage.py %s on %s exited with status %d (%s); it runs at "
		    "most once, so read its output, fix the cause, then delete its row in database %s "
		    "(DELETE FROM cutover_once WHERE token = '%s') and run again.", command, env,
		    res.exit_status, res.summary, db, token);
	if (res.exit_status != 0)
		return cut_err_set(err, CUT_EREMOTE, "manage.py %s on %s exited with status %d (%s); "
		    "read its output on the instance, fix the cause, then run again.", command, env,
		    res.exit_status, res.summary);
	return 0;
}

/* A manage step is done once the journal holds its successful result. */
static int
ran_ok(struct run_ctx *ctx)
{
	const char *v = step_get(ctx, ctx->step->name, "exit_status");

	return v != NULL && strcmp(v, "0") == 0;
}

/* --- convert-users ------------------------------------------------------ */

static int
conv_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	long n = -1;

	if (ctx->world->unreg_user_count(ctx->world, ctx->names.new_web, &n, err) != 0)
		cut_err_clear(err);
	if (n >= 0)
		snprintf(buf, len, "convert %ld unregistered users on %s (manage.py "
		    "temp_copy_unreg_to_user, once)", n, ctx->names.new_web);
	else
		snprintf(buf, len, "convert unregistered users on %s (manage.py "
		    "temp_copy_unreg_to_user, once)", ctx->names.new_web);
	return 0;
}

static int
conv_check(struct run_ctx *ctx, struct cut_err *err)
{
	long n;
	int r;

	if (ran_ok(ctx))
		return STEP_DONE;
	if ((r = ctx->world->unreg_user_count(ctx->world, ctx->names.new_web, &n, err)) != 0)
		return r;
	step_memo_put(ctx, "unregistered", &n, sizeof(n));   /* apply's count before */
	return n == 0 ? STEP_DONE : STEP_TODO;
}

static int
conv_apply(struct run_ctx *ctx, struct cut_err *err)
{
	long before = -1, after = -1;
	int r;

	/* RDS_HOSTNAME in EB says what the instances should use; the check
	 * reads what they will actually connect to. */
	if ((r = step_env_uses_db(ctx, ctx->names.new_web, ctx->names.new_db, err)) != 0 ||
	    (r = step_target_db_check(ctx, ctx->names.new_web, err)) != 0)
		return r;
	const long *m = step_memo_get(ctx, "unregistered", sizeof(before));
	if (m != NULL)
		before = *m;   /* the check counted them just now */
	else
		ctx->world->unreg_user_count(ctx->world, ctx->names.new_web, &before, NULL);
	if ((r = run_manage(ctx, ctx->names.new_web, ctx->names.new_db, CONVERT, err)) != 0)
		return r;
	ctx->world->unreg_user_count(ctx->world, ctx->names.new_web, &after, NULL);
	step_put(ctx, "unregistered_before", "%ld", before);
	return step_put(ctx, "unregistered_after", "%ld", after);
}

const struct step_entry step_convert_users_entry = {
	.name = "convert-users",
	.phase = STEP_PHASE_RUN,
	.summary = "convert unregistered users on the new system",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_ONCE,
	.describe = conv_describe,
	.check = conv_check,
	.apply = conv_apply,
};

/* --- migrate-new ---------------------------------------------------------- */

/* Every deploy runs migrate (cobalt.md), but pointing the new environment
 * at the restored database is a configuration change, not a deploy: the
 * restored copy still has the live system's schema until migrate runs on
 * it, and the new code (and the blocked-email restore, which needs
 * migration 0055) expects the new one. Idempotent, so no ONCE flag. */
static int
migrate_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "run manage.py migrate --noinput on %s against database %s", ctx->names.new_web,
	    ctx->names.new_db);
	return 0;
}

static int
migrate_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return ran_ok(ctx) ? STEP_DONE : STEP_TODO;
}

static int
migrate_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = step_env_uses_db(ctx, ctx->names.new_web, ctx->names.new_db, err);

	return r ? r : run_manage(ctx, ctx->names.new_web, ctx->names.new_db, MIGRATE_NOINPUT, err);
}

const struct step_entry step_migrate_new_entry = {
	.name = "migrate-new",
	.phase = STEP_PHASE_RUN,
	.summary = "bring the new database's schema up to the new code",
	.flags = STEP_F_DESTRUCTIVE,
	.describe = migrate_describe,
	.check = migrate_check,
	.apply = migrate_apply,
};

/* --- rehearse ----------------------------------------------------------- */

static int
rcheck(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return ran_ok(ctx) ? STEP_DONE : STEP_TODO;
}

#define REHEARSE_MANAGE(id, stepname, command, argv, flags_, summary_)                  \
static int                                                                         \
id##_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)      \
{                                                                                  \
	(void)err;                                                                 \
	snprintf(buf, len, "run manage.py %s on %s and report the result", command, \
	    ctx->names.test_env);                                                  \
	return 0;                                                                  \
}                                                                                  \
static int                                                                         \
id##_apply(struct run_ctx *ctx, struct cut_err *err)                               \
{                                                                                  \
	int r = step_env_uses_db(ctx, ctx->names.test_env, ctx->names.test_db, err);        \
	return r ? r : run_manage(ctx, ctx->names.test_env, ctx->names.test_db, argv, err); \
}                                                                                  \
const struct step_entry step_##id##_entry = {                                      \
	.name = stepname, .phase = STEP_PHASE_REHEARSE, .summary = summary_,       \
	.flags = flags_, .describe = id##_describe, .check = rcheck,               \
	.apply = id##_apply,                                                       \
};

REHEARSE_MANAGE(rehearse_migrate, "rehearse-migrate", "migrate", MIGRATE, 0,
    "run manage.py migrate on the test environment")
REHEARSE_MANAGE(rehearse_convert, "rehearse-convert", "temp_copy_unreg_to_user", CONVERT, STEP_F_ONCE,
    "convert unregistered users on the test environment")
REHEARSE_MANAGE(rehearse_mpc_sync, "rehearse-mpc-sync", "mpc_sync", MPC_SYNC, STEP_F_ONCE,
    "run manage.py mpc_sync on the test environment")
