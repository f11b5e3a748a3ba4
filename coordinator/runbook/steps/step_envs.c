/* runbook/steps/step_envs.c: Elastic Beanstalk environment lifecycle. Prep clones the
 * live web and SES environments (configuration template + new
 * environment) on the new version, pointed at the prep database and in
 * maintenance mode; tidy terminates the old ones once nothing uses them. */
#include <stdio.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/tables.h"
#include "runbook/steps/env_wait.h"

static int
env_state(struct run_ctx *ctx, const char *env, struct cut_err *err)
{
	struct world_env e;
	int r = ctx->world->env_describe(ctx->world, env, &e, err);

	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return STEP_TODO;
	}
	if (r != 0)
		return r;
	return strcmp(e.status, "Ready") == 0 ? STEP_DONE : STEP_PENDING;
}

static void
set_var(struct world_var *v, const char *name, const char *value)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->value, sizeof(v->value), "%s", value);
	v->present = 1;
}

static int
clone(struct run_ctx *ctx, const char *source, const char *name, struct cut_err *err)
{
	struct world_var set[3];

	set_var(&set[0], "MAINTENANCE_MODE", "ON");
	set_var(&set[1], "RDS_HOSTNAME", ctx->names.prep_db_host);
	set_var(&set[2], "RDS_DB_NAME", ctx->names.prep_db_name);
	return ctx->world->env_clone(ctx->world, source, name, ctx->names.version, set, 3, err);
}

/* create-web clones the live web environment, create-ses the live SES one. */
static void
clone_pair(struct run_ctx *ctx, const char **source, const char **name)
{
	int web = strcmp(ctx->step->name, "create-web") == 0;

	*source = web ? ctx->names.live_web : ctx->names.live_ses;
	*name = web ? ctx->names.new_web : ctx->names.new_ses;
}

static int
create_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	const char *source, *name;

	(void)err;
	clone_pair(ctx, &source, &name);
	snprintf(buf, len, "create environment %s from %s's configuration on version %s, in "
	    "maintenance mode, using database %s/%s", name, source, ctx->names.version,
	    ctx->names.prep_db_host, ctx->names.prep_db_name);
	return 0;
}

static int
create_check(struct run_ctx *ctx, struct cut_err *err)
{
	const char *source, *name;

	clone_pair(ctx, &source, &name);
	return env_state(ctx, name, err);
}

static int
create_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *source, *name;

	clone_pair(ctx, &source, &name);
	return clone(ctx, source, name, err);
}

static int
create_wait(struct run_ctx *ctx, struct cut_err *err)
{
	const char *source, *name;

	clone_pair(ctx, &source, &name);
	return step_wait_env_launched(ctx, name, err);
}

const struct step_entry step_create_web_entry = {
	.name = "create-web",
	.phase = STEP_PHASE_PREP,
	.summary = "create the new web environment, cloned from the live one, in maintenance mode",
	.flags = STEP_F_ONCE,
	.describe = create_describe,
	.check = create_check,
	.apply = create_apply,
	.wait = create_wait,
};

const struct step_entry step_create_ses_entry = {
	.name = "create-ses",
	.phase = STEP_PHASE_PREP,
	.summary = "create the new SES environment, cloned from the live one, in maintenance mode",
	.flags = STEP_F_ONCE,
	.describe = create_describe,
	.check = create_check,
	.apply = create_apply,
	.wait = create_wait,
};

/* --- tidy-envs ---------------------------------------------------------- */

/* Refuses while apex, www or ses still point at one of the old envs. */
static int
still_used(struct run_ctx *ctx, struct cut_err *err)
{
	const char *recs[3] = { ctx->names.apex, ctx->names.www, ctx->names.ses };
	const char *envs[2] = { ctx->names.live_web, ctx->names.live_ses };
	struct world_rrset rr;
	struct world_env e;
	int i, k, r;

	for (k = 0; k < 2; k++) {
		r = ctx->world->env_describe(ctx->world, envs[k], &e, err);
		if (r == CUT_ENOTFOUND) {
			cut_err_clear(err);
			continue;
		}
		if (r != 0)
			return r;
		for (i = 0; i < 3; i++) {
			r = ctx->world->dns_read(ctx->world, ctx->names.zone, recs[i], "A", &rr, err);
			if (r == CUT_ENOTFOUND)
				r = ctx->world->dns_read(ctx->world, ctx->names.zone, recs[i], "CNAME",
				    &rr, err);
			if (r == CUT_ENOTFOUND) {
				cut_err_clear(err);
				continue;
			}
			if (r != 0)
				return r;
			if (step_same_host(rr.alias_dns[0] ? rr.alias_dns : rr.value, e.cname))
				return cut_err_set(err, CUT_ESTATE, "Refusing to terminate %s: DNS "
				    "record %s still points at it; fail back or finish the cutover "
				    "first.", envs[k], recs[i]);
		}
	}
	return 0;
}

/* The "<env>-cutover" configuration templates prep made to clone the
 * environments hold every environment variable of the live one, database
 * password and SECRET_KEY included; nothing needs them once the new
 * environments exist. Tidy deletes them (for the new and the old names:
 * a rehearsal or an earlier cutover may have left either). */
static int
tidy_templates(struct run_ctx *ctx, struct cut_err *err)
{
	const char *names[4] = { ctx->names.new_web, ctx->names.new_ses, ctx->names.live_web,
		ctx->names.live_ses };
	int r;

	for (int k = 0; k < 4; k++) {
		if (names[k][0] == '\0' || (k >= 2 && (strcmp(names[k], names[0]) == 0 ||
		    strcmp(names[k], names[1]) == 0)))
			continue;
		if ((r = ctx->world->env_template_delete(ctx->world, names[k], err)) != 0)
			return r;
	}
	return 0;
}

static int
tenv_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "terminate environments %s and %s, and delete the configuration templates "
	    "prep made (<env>-cutover: copies of the live settings, secrets included)", ctx->names.live_web,
	    ctx->names.live_ses);
	return 0;
}

static int
tenv_check(struct run_ctx *ctx, struct cut_err *err)
{
	const char *envs[2] = { ctx->names.live_web, ctx->names.live_ses };
	struct world_env e;
	int k, r, pending = 0;

	if ((r = still_used(ctx, err)) != 0)
		return r;
	for (k = 0; k < 2; k++) {
		r = ctx->world->env_describe(ctx->world, envs[k], &e, err);
		if (r == CUT_ENOTFOUND) {
			cut_err_clear(err);
			continue;
		}
		if (r != 0)
			return r;
		if (strcmp(e.status, "Terminating") != 0)
			return STEP_TODO;
		pending = 1;
	}
	return pending ? STEP_PENDING : STEP_DONE;
}

static int
tenv_apply(struct run_ctx *ctx, struct cut_err *err)
{
	const char *envs[2] = { ctx->names.live_web, ctx->names.live_ses };
	struct world_env e;
	int k, r;

	for (k = 0; k < 2; k++) {
		r = ctx->world->env_describe(ctx->world, envs[k], &e, err);
		if (r == CUT_ENOTFOUND) {
			cut_err_clear(err);
			continue;
		}
		if (r != 0)
			return r;
		if (strcmp(e.status, "Terminating") == 0)
			continue;
		if ((r = ctx->world->env_terminate(ctx->world, envs[k], err)) != 0)
			return r;
	}
	return tidy_templates(ctx, err);
}

static int
poll_gone(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent, double *rate,
    struct cut_err *err)
{
	struct world_env e;
	int r;

	(void)percent;
	(void)rate;
	r = ctx->world->env_describe(ctx->world, arg, &e, err);
	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		snprintf(status, len, "Terminated");
		return 1;
	}
	if (r != 0)
		return r;
	snprintf(status, len, "%s", e.status);
	return 0;
}

static int
tenv_wait(struct run_ctx *ctx, struct cut_err *err)
{
	char what[128];
	int r;

	snprintf(what, sizeof(what), "environment %s terminated", ctx->names.live_web);
	if ((r = engine_poll(ctx, what, poll_gone, ctx->names.live_web, err)) != 0)
		return r;
	snprintf(what, sizeof(what), "environment %s terminated", ctx->names.live_ses);
	return engine_poll(ctx, what, poll_gone, ctx->names.live_ses, err);
}

const struct step_entry step_tidy_envs_entry = {
	.name = "tidy-envs",
	.phase = STEP_PHASE_TIDY,
	.summary = "terminate the old web and SES environments; delete the <env>-cutover templates",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE | STEP_F_ONCE,
	.describe = tenv_describe,
	.check = tenv_check,
	.apply = tenv_apply,
	.wait = tenv_wait,
};
