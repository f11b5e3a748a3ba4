/* runbook/steps/env_wait.c: the environment waits several step families share
 * (see runbook/steps/env_wait.h). Here, above the engine, and not in
 * runbook/step.c, because they poll through engine_poll_kind: the step
 * contract stays below the engine that runs it. */
#include "runbook/steps/env_wait.h"

#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"

static int
poll_env_ready(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	struct world_env e;
	int r;

	(void)percent;
	(void)rate;
	if ((r = ctx->world->env_describe(ctx->world, arg, &e, err)) != 0)
		return r;
	snprintf(status, len, "%s/%s", e.status, e.health);
	return strcmp(e.status, "Ready") == 0;
}

int
step_wait_env_ready(struct run_ctx *ctx, const char *env, struct cut_err *err)
{
	char what[128];

	snprintf(what, sizeof(what), "environment %s Ready", env);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_ENV_UPDATE, poll_env_ready, (void *)env, err);
}

int
step_wait_env_launched(struct run_ctx *ctx, const char *env, struct cut_err *err)
{
	char what[128];

	snprintf(what, sizeof(what), "environment %s Ready", env);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_ENV_LAUNCH, poll_env_ready, (void *)env, err);
}
