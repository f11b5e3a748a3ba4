/* runbook/steps/step_envvars.c: environment-variable steps. Pointing the new
 * environments at the restored database (RDS_HOSTNAME, RDS_DB_NAME) with
 * MP_USE_DJANGO removed (Cobalt treats any value, even "NO", as on), and the
 * rehearsal's MP_USE_DJANGO / test database settings. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/tables.h"
#include "runbook/steps/env_wait.h"

static void
var(struct world_var *v, const char *name, const char *value)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->value, sizeof(v->value), "%s", value);
	v->present = 1;
}

/* The endpoint of an available database, refusing the live one. */
static int
endpoint_of(struct run_ctx *ctx, const char *db, char *buf, size_t len, struct cut_err *err)
{
	struct world_db d, live;
	int r;

	if ((r = ctx->world->db_describe(ctx->world, db, &d, err)) != 0)
		return r;
	if (d.endpoint[0] == '\0')
		return cut_err_set(err, CUT_ESTATE, "Database %s has no endpoint yet (it is %s); "
		    "run again once it is available.", db, d.status);
	if (ctx->world->db_describe(ctx->world, ctx->names.live_db, &live, NULL) == 0 &&
	    strcmp(live.endpoint, d.endpoint) == 0)
		return cut_err_set(err, CUT_ESTATE, "Database %s has the live database's endpoint "
		    "%s; the new system must never be pointed at the live database, so check the "
		    "configuration.", db, d.endpoint);
	snprintf(buf, len, "%s", d.endpoint);
	return 0;
}

/* DONE/PENDING/TODO for "env has these values and lacks `gone`". */
static int
vars_state(struct run_ctx *ctx, const char *env, const struct world_var *set, size_t n,
    const char *gone, struct cut_err *err)
{
	const char *names[4], *vals[4];
	size_t i, k = 0;
	int r;

	for (i = 0; i < n; i++, k++) {
		names[k] = set[i].name;
		vals[k] = set[i].value;
	}
	if (gone) {
		names[k] = gone;
		vals[k++] = NULL;
	}
	if ((r = step_env_vars_are(ctx, env, names, vals, k, err)) <= 0)
		return r < 0 ? r : STEP_TODO;
	if ((r = step_env_ready(ctx, env, err)) < 0)
		return r;
	return r ? STEP_DONE : STEP_PENDING;
}

/* --- point-new ---------------------------------------------------------- */

static int
point_vars(struct run_ctx *ctx, struct world_var set[2], struct cut_err *err)
{
	char ep[256];
	int r;

	if ((r = endpoint_of(ctx, ctx->names.new_db, ep, sizeof(ep), err)) != 0)
		return r;
	var(&set[0], "RDS_HOSTNAME", ep);
	var(&set[1], "RDS_DB_NAME", ctx->names.db_name);
	return 0;
}

static int
point_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "point %s and %s at database %s (RDS_HOSTNAME, RDS_DB_NAME=%s) and "
	    "remove MP_USE_DJANGO", ctx->names.new_web, ctx->names.new_ses, ctx->names.new_db,
	    ctx->names.db_name);
	return 0;
}

static int
point_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var set[2];
	int a, b, r;

	if ((r = point_vars(ctx, set, err)) != 0)
		return r;
	if ((a = vars_state(ctx, ctx->names.new_web, set, 2, "MP_USE_DJANGO", err)) <= 0)
		return a;
	if ((b = vars_state(ctx, ctx->names.new_ses, set, 2, "MP_USE_DJANGO", err)) <= 0)
		return b;
	return (a == STEP_PENDING || b == STEP_PENDING) ? STEP_PENDING : STEP_DONE;
}

/* What the new environments pointed at before (the prep database). */
static int
point_record(struct run_ctx *ctx, struct cut_err *err)
{
	const char *names[2] = { "RDS_HOSTNAME", "RDS_DB_NAME" };
	struct world_var v[2];
	int r;

	if ((r = ctx->world->env_get_vars(ctx->world, ctx->names.new_web, names, 2, v, err)) != 0)
		return r;
	step_put(ctx, "prev.RDS_HOSTNAME", "%s", v[0].present ? v[0].value : "");
	return step_put(ctx, "prev.RDS_DB_NAME", "%s", v[1].present ? v[1].value : "");
}

static int
point_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *remove[1] = { "MP_USE_DJANGO" };
	const char *envs[2] = { ctx->names.new_web, ctx->names.new_ses };
	struct world_var set[2];
	int i, r;

	if ((r = point_vars(ctx, set, err)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		if ((r = vars_state(ctx, envs[i], set, 2, "MP_USE_DJANGO", err)) < 0)
			return r;
		if (r != STEP_TODO)
			continue;
		if ((r = ctx->world->env_update_vars(ctx->world, envs[i], set, 2, remove, 1, err)) != 0)
			return r;
	}
	return step_put(ctx, "RDS_HOSTNAME", "%s", set[0].value);
}

static int
point_wait(struct run_ctx *ctx, struct cut_err *err)
{
	int r = step_wait_env_ready(ctx, ctx->names.new_web, err);

	return r ? r : step_wait_env_ready(ctx, ctx->names.new_ses, err);
}

const struct step_entry step_point_new_entry = {
	.name = "point-new",
	.phase = STEP_PHASE_RUN,
	.summary = "point the new environments at the new database, MP_USE_DJANGO removed",
	.describe = point_describe,
	.check = point_check,
	.record = point_record,
	.apply = point_apply,
	.wait = point_wait,
};

/* --- rehearse ----------------------------------------------------------- */

static int
mpd_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MP_USE_DJANGO=YES on %s", ctx->names.test_env);
	return 0;
}

static int
mpd_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var v;

	var(&v, "MP_USE_DJANGO", "YES");
	return vars_state(ctx, ctx->names.test_env, &v, 1, NULL, err);
}

static int
mpd_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var v;

	var(&v, "MP_USE_DJANGO", "YES");
	return ctx->world->env_update_vars(ctx->world, ctx->names.test_env, &v, 1, NULL, 0, err);
}

static int test_wait(struct run_ctx *ctx, struct cut_err *err) { return step_wait_env_ready(ctx, ctx->names.test_env, err); }

const struct step_entry step_rehearse_mp_django_entry = {
	.name = "rehearse-mp-django",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "set MP_USE_DJANGO on the test environment",
	.describe = mpd_describe,
	.check = mpd_check,
	.apply = mpd_apply,
	.wait = test_wait,
};

static int
tpoint_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "point %s at test database %s (RDS_HOSTNAME, RDS_DB_NAME=%s)",
	    ctx->names.test_env, ctx->names.test_db, ctx->names.db_name);
	return 0;
}

static int
tpoint_vars(struct run_ctx *ctx, struct world_var set[2], struct cut_err *err)
{
	char ep[256];
	int r;

	if ((r = endpoint_of(ctx, ctx->names.test_db, ep, sizeof(ep), err)) != 0)
		return r;
	var(&set[0], "RDS_HOSTNAME", ep);
	var(&set[1], "RDS_DB_NAME", ctx->names.db_name);
	return 0;
}

static int
tpoint_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var set[2];
	int r;

	if ((r = tpoint_vars(ctx, set, err)) != 0)
		return r;
	return vars_state(ctx, ctx->names.test_env, set, 2, NULL, err);
}

static int
tpoint_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_var set[2];
	int r;

	if ((r = tpoint_vars(ctx, set, err)) != 0)
		return r;
	return ctx->world->env_update_vars(ctx->world, ctx->names.test_env, set, 2, NULL, 0, err);
}

const struct step_entry step_rehearse_point_entry = {
	.name = "rehearse-point",
	.phase = STEP_PHASE_REHEARSE,
	.summary = "point the test environment at the copied data",
	.describe = tpoint_describe,
	.check = tpoint_check,
	.apply = tpoint_apply,
	.wait = test_wait,
};
