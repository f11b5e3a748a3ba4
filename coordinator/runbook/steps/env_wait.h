/* runbook/steps/env_wait.h: waits for an Elastic Beanstalk environment, shared
 * by the step families that update or create one. */
#ifndef CUTOVER_ENV_WAIT_H
#define CUTOVER_ENV_WAIT_H

#include "base/err.h"
#include "runbook/step.h"

/* Waits until env is Ready after an update (UpdateEnvironment) — the common
 * wait; it learns from and predicts the other updates of this cutover. */
int step_wait_env_ready(struct run_ctx *ctx, const char *env, struct cut_err *err);
/* The same after CreateEnvironment (launches predict launches). */
int step_wait_env_launched(struct run_ctx *ctx, const char *env, struct cut_err *err);

#endif
