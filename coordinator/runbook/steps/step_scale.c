/* runbook/steps/step_scale.c: `eb scale 1` on the live web environment before the
 * cutover (fewer instances to update) and its fail-back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/tables.h"
#include "runbook/steps/env_wait.h"

static int
scale_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	struct world_env e;
	int r;

	if ((r = ctx->world->env_describe(ctx->world, ctx->names.live_web, &e, err)) != 0)
		return r;
	snprintf(buf, len, "scale %s from %d-%d instances to 1 (it is restored on fail-back)",
	    e.name, e.min_size, e.max_size);
	return 0;
}

/* DONE when env has exactly min..max and is Ready, PENDING when the sizes
 * are set but the update is still running. */
static int
sizes_state(struct run_ctx *ctx, const char *env, int min, int max, struct cut_err *err)
{
	struct world_env e;
	int r;

	if ((r = ctx->world->env_describe(ctx->world, env, &e, err)) != 0)
		return r;
	if (e.min_size != min || e.max_size != max)
		return STEP_TODO;
	return strcmp(e.status, "Ready") == 0 ? STEP_DONE : STEP_PENDING;
}

static int
scale_check(struct run_ctx *ctx, struct cut_err *err)
{
	return sizes_state(ctx, ctx->names.live_web, 1, 1, err);
}

static int
scale_record(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_env e;
	int r;

	if ((r = ctx->world->env_describe(ctx->world, ctx->names.live_web, &e, err)) != 0)
		return r;
	step_put(ctx, "prev_min", "%d", e.min_size);
	return step_put(ctx, "prev_max", "%d", e.max_size);
}

static int
scale_apply(struct run_ctx *ctx, struct cut_err *err)
{
	return ctx->world->env_scale(ctx->world, ctx->names.live_web, 1, 1, err);
}

static int
scale_wait(struct run_ctx *ctx, struct cut_err *err)
{
	return step_wait_env_ready(ctx, ctx->names.live_web, err);
}

const struct step_entry step_scale_live_entry = {
	.name = "scale-live",
	.phase = STEP_PHASE_RUN,
	.summary = "scale the live web environment to 1 instance",
	.flags = 0,
	.undone_by = "failback-scale",
	.describe = scale_describe,
	.check = scale_check,
	.record = scale_record,
	.apply = scale_apply,
	.wait = scale_wait,
};

/* --- fail-back ---------------------------------------------------------- */

static int
prev_sizes(struct run_ctx *ctx, int *min, int *max)
{
	const char *a = step_get(ctx, "scale-live", "prev_min");
	const char *b = step_get(ctx, "scale-live", "prev_max");

	if (a == NULL || b == NULL)
		return 0;
	*min = atoi(a);
	*max = atoi(b);
	return 1;
}

static int
unscale_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	int min, max;

	(void)err;
	if (!prev_sizes(ctx, &min, &max))
		snprintf(buf, len, "change nothing (%s was never scaled by this cutover)", ctx->names.live_web);
	else
		snprintf(buf, len, "scale %s back to %d-%d instances", ctx->names.live_web, min, max);
	return 0;
}

static int
unscale_check(struct run_ctx *ctx, struct cut_err *err)
{
	int min, max;

	if (!prev_sizes(ctx, &min, &max))
		return STEP_DONE;
	return sizes_state(ctx, ctx->names.live_web, min, max, err);
}

static int
unscale_apply(struct run_ctx *ctx, struct cut_err *err)
{
	int min = 1, max = 1;

	prev_sizes(ctx, &min, &max);
	return ctx->world->env_scale(ctx->world, ctx->names.live_web, min, max, err);
}

const struct step_entry step_failback_scale_entry = {
	.name = "failback-scale",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "restore the live web environment's instance count",
	.describe = unscale_describe,
	.check = unscale_check,
	.apply = unscale_apply,
	.wait = scale_wait,
};
