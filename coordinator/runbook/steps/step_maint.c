/* runbook/steps/step_maint.c: MAINTENANCE_MODE on the live environments (downtime
 * begins), off on the new ones (downtime ends), and back on fail-back.
 * Cobalt reads exactly "ON"; an env update restarts the app. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/tables.h"
#include "runbook/steps/env_wait.h"

#define MAINT "MAINTENANCE_MODE"

/* Two environments get the same value. */
struct maint_pair {
	const char *env[2];
};

static int
pair_state(struct run_ctx *ctx, const char *const env[2], const char *value, struct cut_err *err)
{
	const char *names[1] = { MAINT }, *vals[1] = { value };
	int i, r, pending = 0;

	for (i = 0; i < 2; i++) {
		if ((r = step_env_vars_are(ctx, env[i], names, vals, 1, err)) < 0)
			return r;
		if (r == 0)
			return STEP_TODO;
		if ((r = step_env_ready(ctx, env[i], err)) < 0)
			return r;
		if (r == 0)
			pending = 1;
	}
	return pending ? STEP_PENDING : STEP_DONE;
}

/* Sets MAINTENANCE_MODE on each env that does not have it yet (a resumed
 * step only touches what is left). */
static int
pair_apply(struct run_ctx *ctx, const char *const env[2], const char *value, struct cut_err *err)
{
	const char *names[1] = { MAINT }, *vals[1] = { value };
	struct world_var v;
	int i, r;

	memset(&v, 0, sizeof(v));
	snprintf(v.name, sizeof(v.name), "%s", MAINT);
	snprintf(v.value, sizeof(v.value), "%s", value);
	v.present = 1;
	for (i = 0; i < 2; i++) {
		/* Fail-back passes one env twice: a second update would find it
		 * Updating, and EB refuses updates unless Ready. */
		if (i == 1 && strcmp(env[0], env[1]) == 0)
			break;
		if ((r = step_env_vars_are(ctx, env[i], names, vals, 1, err)) < 0)
			return r;
		if (r == 1)
			continue;
		if ((r = ctx->world->env_update_vars(ctx->world, env[i], &v, 1, NULL, 0, err)) != 0)
			return r;
	}
	return 0;
}

static int
pair_wait(struct run_ctx *ctx, const char *const env[2], struct cut_err *err)
{
	int i, r;

	for (i = 0; i < 2; i++)
		if ((r = step_wait_env_ready(ctx, env[i], err)) != 0)
			return r;
	return 0;
}

#define LIVE(ctx) (const char *const[2]){ (ctx)->names.live_web, (ctx)->names.live_ses }
#define NEW(ctx) (const char *const[2]){ (ctx)->names.new_web, (ctx)->names.new_ses }

static int
on_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MAINTENANCE_MODE=ON on %s and %s (users get the maintenance "
	    "page from now on)", ctx->names.live_web, ctx->names.live_ses);
	return 0;
}

static int on_check(struct run_ctx *ctx, struct cut_err *err) { return pair_state(ctx, LIVE(ctx), "ON", err); }
static int on_apply(struct run_ctx *ctx, struct cut_err *err) { return pair_apply(ctx, LIVE(ctx), "ON", err); }
static int live_wait(struct run_ctx *ctx, struct cut_err *err) { return pair_wait(ctx, LIVE(ctx), err); }

/* What the live environments had, so fail-back puts exactly that back. */
static int
on_record(struct run_ctx *ctx, struct cut_err *err)
{
	const char *names[1] = { MAINT };
	struct world_var v;
	int i, r;

	for (i = 0; i < 2; i++) {
		const char *env = LIVE(ctx)[i];
		char key[96];
		if ((r = ctx->world->env_get_vars(ctx->world, env, names, 1, &v, err)) != 0)
			return r;
		snprintf(key, sizeof(key), "prev.%s", env);
		step_put(ctx, key, "%s", v.present ? v.value : "");
	}
	return 0;
}

const struct step_entry step_maint_on_entry = {
	.name = "maint-on",
	.phase = STEP_PHASE_RUN,
	.summary = "turn maintenance mode on for both live environments",
	.flags = STEP_F_DOWNTIME_BEGIN,
	.undone_by = "failback-maint",
	.describe = on_describe,
	.check = on_check,
	.record = on_record,
	.apply = on_apply,
	.wait = live_wait,
};

static int
off_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MAINTENANCE_MODE=OFF on %s and %s (the site is open again)",
	    ctx->names.new_web, ctx->names.new_ses);
	return 0;
}

static int off_check(struct run_ctx *ctx, struct cut_err *err) { return pair_state(ctx, NEW(ctx), "OFF", err); }
static int off_apply(struct run_ctx *ctx, struct cut_err *err) { return pair_apply(ctx, NEW(ctx), "OFF", err); }
static int new_wait(struct run_ctx *ctx, struct cut_err *err) { return pair_wait(ctx, NEW(ctx), err); }

const struct step_entry step_maint_off_entry = {
	.name = "maint-off",
	.phase = STEP_PHASE_RUN,
	.summary = "turn maintenance mode off on the new environments",
	.flags = STEP_F_DOWNTIME_END,
	.describe = off_describe,
	.check = off_check,
	.apply = off_apply,
	.wait = new_wait,
};

/* --- fail-back: the live envs get back what they had (OFF when unset) -- */

static const char *
prev_value(struct run_ctx *ctx, const char *env)
{
	char key[96];
	const char *v;

	snprintf(key, sizeof(key), "prev.%s", env);
	v = step_get(ctx, "maint-on", key);
	return (v == NULL || v[0] == '\0' || strcmp(v, "ON") == 0) ? "OFF" : v;
}

static int
back_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MAINTENANCE_MODE=%s on %s and %s=%s on %s",
	    prev_value(ctx, ctx->names.live_web), ctx->names.live_web, MAINT,
	    prev_value(ctx, ctx->names.live_ses), ctx->names.live_ses);
	return 0;
}

static int
back_check(struct run_ctx *ctx, struct cut_err *err)
{
	int a = pair_state(ctx, (const char *const[2]){ ctx->names.live_web, ctx->names.live_web },
	    prev_value(ctx, ctx->names.live_web), err);
	int b;

	if (a < 0 || a == STEP_TODO)
		return a;
	b = pair_state(ctx, (const char *const[2]){ ctx->names.live_ses, ctx->names.live_ses },
	    prev_value(ctx, ctx->names.live_ses), err);
	if (b < 0 || b == STEP_TODO)
		return b;
	return (a == STEP_PENDING || b == STEP_PENDING) ? STEP_PENDING : STEP_DONE;
}

static int
back_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int r = pair_apply(ctx, (const char *const[2]){ ctx->names.live_web, ctx->names.live_web },
	    prev_value(ctx, ctx->names.live_web), err);

	if (r != 0)
		return r;
	return pair_apply(ctx, (const char *const[2]){ ctx->names.live_ses, ctx->names.live_ses },
	    prev_value(ctx, ctx->names.live_ses), err);
}

const struct step_entry step_failback_maint_entry = {
	.name = "failback-maint",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "take the old live environments out of maintenance mode",
	.describe = back_describe,
	.check = back_check,
	.apply = back_apply,
	.wait = live_wait,
};

/* --- fail-back: the new environments close before their activity is read */

static int
close_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "set MAINTENANCE_MODE=ON on %s and %s (the new system closes before "
	    "its activity is counted)", ctx->names.new_web, ctx->names.new_ses);
	return 0;
}

static int
close_check(struct run_ctx *ctx, struct cut_err *err)
{
	if (!step_new_side_used(ctx))
		return STEP_DONE;
	return pair_state(ctx, NEW(ctx), "ON", err);
}

static int close_apply(struct run_ctx *ctx, struct cut_err *err) { return pair_apply(ctx, NEW(ctx), "ON", err); }

const struct step_entry step_failback_new_maint_entry = {
	.name = "failback-new-maint",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "turn maintenance mode on for the new environments",
	.describe = close_describe,
	.check = close_check,
	.apply = close_apply,
	.wait = new_wait,
};
