/* step_envs.c: Elastic Beanstalk environment lifecycle. Prep clones the
 * live web and SES environments (configuration template + new
 * environment) on the new version, pointed at the prep database and in
 * maintenance mode; tidy terminates the old ones once nothing uses them. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "runbook.h"

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

static void
clone_describe(struct run_ctx *ctx, const char *source, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "create environment %s from %s's configuration on version %s, in "
	    "maintenance mode, using database %s/%s", name, source, ctx->names.version,
	    ctx->names.prep_db_host, ctx->names.prep_db_name);
}

static int
web_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	clone_describe(ctx, ctx->names.live_web, ctx->names.new_web, buf, len);
	return 0;
}

static int web_check(struct run_ctx *ctx, struct cut_err *err) { return env_state(ctx, ctx->names.new_web, err); }
static int web_apply(struct run_ctx *ctx, struct cut_err *err) { return clone(ctx, ctx->names.live_web, ctx->names.new_web, err); }
static int web_wait(struct run_ctx *ctx, struct cut_err *err) { return step_wait_env_ready(ctx, ctx->names.new_web, err); }

const struct step_entry step_create_web_entry = {
	.name = "create-web",
	.phase = STEP_PHASE_PREP,
	.summary = "new web environment, cloned from the live one, in maintenance mode",
	.flags = STEP_F_ONCE,
	.describe = web_describe,
	.check = web_check,
	.apply = web_apply,
	.wait = web_wait,
};

static int
ses_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	clone_describe(ctx, ctx->names.live_ses, ctx->names.new_ses, buf, len);
	return 0;
}

static int ses_check(struct run_ctx *ctx, struct cut_err *err) { return env_state(ctx, ctx->names.new_ses, err); }
static int ses_apply(struct run_ctx *ctx, struct cut_err *err) { return clone(ctx, ctx->names.live_ses, ctx->names.new_ses, err); }
static int ses_wait(struct run_ctx *ctx, struct cut_err *err) { return step_wait_env_ready(ctx, ctx->names.new_ses, err); }

const struct step_entry step_create_ses_entry = {
	.name = "create-ses",
	.phase = STEP_PHASE_PREP,
	.summary = "new SES environment, cloned from the live one, in maintenance mode",
	.flags = STEP_F_ONCE,
	.describe = ses_describe,
	.check = ses_check,
	.apply = ses_apply,
	.wait = ses_wait,
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
			const char *t = rr.alias_dns[0] ? rr.alias_dns : rr.value;
			size_t lt = strlen(t), lc = strlen(e.cname);
			if (lt && t[lt - 1] == '.')
				lt--;
			if (lt == lc && strncasecmp(t, e.cname, lc) == 0)
				return cut_err_set(err, CUT_ESTATE, "Refusing to terminate %s: DNS "
				    "record %s still points at it; fail back or finish the cutover "
				    "first.", envs[k], recs[i]);
		}
	}
	return 0;
}

static int
tenv_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	snprintf(buf, len, "terminate environments %s and %s", ctx->names.live_web,
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
	return 0;
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
	.summary = "terminate the old web and SES environments",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE | STEP_F_ONCE,
	.describe = tenv_describe,
	.check = tenv_check,
	.apply = tenv_apply,
	.wait = tenv_wait,
};
