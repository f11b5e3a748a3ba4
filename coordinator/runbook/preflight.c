/* runbook/preflight.c: the checks made before a command changes anything. On a
 * resumed run the world is half-changed by our own earlier steps (an
 * environment Updating, the snapshot name taken by our snapshot), so each
 * check accepts what the journal says this cutover did itself. */
#include "runbook/preflight.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "runbook/journal.h"
#include "runbook/progress.h"
#include "runbook/step.h"
#include "runbook/tables.h"

static int
began(struct run_ctx *ctx, const char *step)
{
	return ctx->journal && journal_step_state(ctx->journal, step).begun;
}

/* The cutover run has started changing the live and new environments, so
 * one of them may be Updating because of us: its method's first step began
 * (scale-live; the replica method's replica-pointed). */
static int
resuming(struct run_ctx *ctx)
{
	const struct runbook *rb = runbook_for("run", ctx->names.db_method);

	return began(ctx, "scale-live") || (rb && rb->nsteps && began(ctx, rb->steps[0]->name));
}

static int
env_ok(struct run_ctx *ctx, const char *env, int need_ready, struct cut_err *err)
{
	struct world_env e;
	int r = ctx->world->env_describe(ctx->world, env, &e, err);

	if (r == CUT_ENOTFOUND)
		return cut_err_set(err, CUT_ENOTFOUND, "Environment %s does not exist; check the "
		    "environment names in the configuration%s.", env,
		    strcmp(env, ctx->names.new_web) == 0 || strcmp(env, ctx->names.new_ses) == 0 ?
		    " or run `cutover prep` first" : "");
	if (r != 0)
		return r;
	if (need_ready && strcmp(e.status, "Ready") != 0)
		return cut_err_set(err, CUT_ESTATE, "Environment %s is %s, not Ready; wait for its "
		    "current operation to finish, then run again.", env, e.status);
	return 0;
}

static int
pf_identity(struct run_ctx *ctx, struct cut_err *err)
{
	char arn[256];
	int r = ctx->world->identity(ctx->world, arn, sizeof(arn), err);

	if (r == 0 && ctx->out)
		progress_event(ctx->out, "preflight", NULL, "AWS identity: %s", arn);
	return r;
}

static int
two_envs(struct run_ctx *ctx, const char *a, const char *b, struct cut_err *err)
{
	struct cut_err e2;
	int r1 = env_ok(ctx, a, !resuming(ctx), err);
	int r2 = env_ok(ctx, b, !resuming(ctx), &e2);
	char both[sizeof(e2.msg)];

	if (r1 != 0 && r2 != 0) {
		snprintf(both, sizeof(both), "%.500s %.500s", err->msg, e2.msg);
		return cut_err_set(err, r1, "%s", both);
	}
	if (r2 != 0)
		*err = e2;
	return r1 ? r1 : r2;
}

static int pf_live_envs(struct run_ctx *ctx, struct cut_err *err) { return two_envs(ctx, ctx->names.live_web, ctx->names.live_ses, err); }
static int pf_new_envs(struct run_ctx *ctx, struct cut_err *err) { return two_envs(ctx, ctx->names.new_web, ctx->names.new_ses, err); }

/* The apex must send users to the environment the configuration calls live
 * (or, once this cutover changed DNS, to the new one). */
static int
pf_dns_live(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset rr;
	struct world_env live, nw;
	const char *t;
	int r;

	r = ctx->world->dns_read(ctx->world, ctx->names.zone, ctx->names.apex, "A", &rr, err);
	if (r == CUT_ENOTFOUND)
		r = ctx->world->dns_read(ctx->world, ctx->names.zone, ctx->names.apex, "CNAME", &rr, err);
	if (r != 0)
		return r;
	t = rr.alias_dns[0] ? rr.alias_dns : rr.value;
	if ((r = ctx->world->env_describe(ctx->world, ctx->names.live_web, &live, err)) != 0)
		return r;
	if (step_same_host(t, live.cname))
		return 0;
	if (began(ctx, "dns-switch") &&
	    ctx->world->env_describe(ctx->world, ctx->names.new_web, &nw, NULL) == 0 &&
	    step_same_host(t, nw.cname))
		return 0;
	return cut_err_set(err, CUT_ESTATE, "DNS sends %s to %s, not to %s (%s) which the "
	    "configuration calls live; check which colour is live and fix the configuration.",
	    ctx->names.apex, t, ctx->names.live_web, live.cname);
}

static int
pf_new_version(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_env e;
	int r;

	if ((r = ctx->world->env_describe(ctx->world, ctx->names.new_web, &e, err)) != 0)
		return r;
	if (ctx->names.version[0] && strcmp(e.version, ctx->names.version) != 0)
		return cut_err_set(err, CUT_ESTATE, "Environment %s runs version %s, not %s; deploy "
		    "%s to it (or fix the version in the configuration), then run again.",
		    e.name, e.version, ctx->names.version, ctx->names.version);
	return 0;
}

static int
pf_live_db(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	int r = ctx->world->db_describe(ctx->world, ctx->names.live_db, &d, err);

	if (r == CUT_ENOTFOUND)
		return cut_err_set(err, CUT_ENOTFOUND, "Database %s does not exist; check the live "
		    "database name in the configuration.", ctx->names.live_db);
	if (r != 0)
		return r;
	if (!resuming(ctx) && strcmp(d.status, "available") != 0)
		return cut_err_set(err, CUT_ESTATE, "Database %s is %s, not available; wait for it, "
		    "then run again.", ctx->names.live_db, d.status);
	return 0;
}

static int
pf_ssh(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_env e;
	int r;

	if ((r = ctx->world->env_ssh_check(ctx->world, ctx->names.live_web, err)) != 0)
		return r;
	if (ctx->world->env_describe(ctx->world, ctx->names.new_web, &e, NULL) == 0)
		return ctx->world->env_ssh_check(ctx->world, ctx->names.new_web, err);
	return 0;
}

static int
pf_names_free(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_snapshot s;
	struct world_db d;
	int r;

	if (strcmp(ctx->names.db_method, "replica") == 0) {
		/* The replica path makes no snapshot: its new database is the
		 * read replica prep made, which must be there and replicate the
		 * live one (or have been promoted by this cutover). */
		if (began(ctx, "promote")) {
			cut_err_clear(err);
			return 0;
		}
		r = ctx->world->db_describe(ctx->world, ctx->names.new_db, &d, err);
		if (r == CUT_ENOTFOUND)
			return cut_err_set(err, CUT_ESTATE, "There is no read replica %s; run `cutover "
			    "prep` first ([database] method = replica creates it there).",
			    ctx->names.new_db);
		if (r != 0)
			return r;
		if (strcmp(d.replica_source, ctx->names.live_db) != 0)
			return cut_err_set(err, CUT_ESTATE, "Database %s is not a read replica of the "
			    "live database %s; run `cutover prep` with [database] method = replica, or "
			    "choose another name for the new database.", ctx->names.new_db,
			    ctx->names.live_db);
		cut_err_clear(err);
		return 0;
	}
	if (!began(ctx, "snapshot")) {
		r = ctx->world->snapshot_describe(ctx->world, ctx->names.snapshot, &s, err);
		if (r == 0)
			return cut_err_set(err, CUT_ESTATE, "A snapshot named %s already exists; "
			    "choose another snapshot name in the configuration or delete it.",
			    ctx->names.snapshot);
		if (r != CUT_ENOTFOUND)
			return r;
	}
	if (!began(ctx, "restore")) {
		r = ctx->world->db_describe(ctx->world, ctx->names.new_db, &d, err);
		if (r == 0)
			return cut_err_set(err, CUT_ESTATE, "A database named %s already exists; "
			    "choose another name for the new database in the configuration.",
			    ctx->names.new_db);
		if (r != CUT_ENOTFOUND)
			return r;
	}
	cut_err_clear(err);
	return 0;
}

static int
pf_new_names_free(struct run_ctx *ctx, struct cut_err *err)
{
	const char *envs[2] = { ctx->names.new_web, ctx->names.new_ses };
	const char *steps[2] = { "create-web", "create-ses" };
	struct world_env e;
	int k, r;

	for (k = 0; k < 2; k++) {
		if (began(ctx, steps[k]))
			continue;
		r = ctx->world->env_describe(ctx->world, envs[k], &e, err);
		if (r == 0)
			return cut_err_set(err, CUT_ESTATE, "An environment named %s already exists; "
			    "choose another name for the new environment or terminate it.", envs[k]);
		if (r != CUT_ENOTFOUND)
			return r;
	}
	if (strcmp(ctx->names.db_method, "replica") == 0 && !began(ctx, "replica-create")) {
		struct world_db d;

		r = ctx->world->db_describe(ctx->world, ctx->names.new_db, &d, err);
		if (r == 0)
			return cut_err_set(err, CUT_ESTATE, "A database named %s already exists; "
			    "choose another name for the new database in the configuration.",
			    ctx->names.new_db);
		if (r != CUT_ENOTFOUND)
			return r;
	}
	cut_err_clear(err);
	return 0;
}

static int
pf_cutover_done(struct run_ctx *ctx, struct cut_err *err)
{
	const struct runbook *rb = runbook_for("run", ctx->names.db_method);
	const char *end = "maint-off";
	size_t i;

	/* The step that ends the method's window (maint-off; the replica
	 * method's dns-insync). */
	for (i = 0; rb != NULL && i < rb->nsteps; i++)
		if (rb->steps[i]->flags & STEP_F_DOWNTIME_END)
			end = rb->steps[i]->name;
	if (ctx->journal == NULL || !journal_step_state(ctx->journal, end).done)
		return cut_err_set(err, CUT_ESTATE, "The cutover is not finished in this state "
		    "folder's journal, so the old system may still be needed; finish `cutover run` "
		    "first.");
	if (journal_step_state(ctx->journal, "failback-dns").applied)
		return cut_err_set(err, CUT_ESTATE, "This cutover was failed back, so the old "
		    "system is live again; tidy would remove it. Start a new cutover instead.");
	return 0;
}

static int
pf_test_env(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_db d;
	int r;

	if (ctx->names.test_env[0] == '\0' || ctx->names.test_db[0] == '\0')
		return cut_err_set(err, CUT_ECONFIG, "The configuration names no test environment and "
		    "database to rehearse on; add a [rehearse] section with environment and database "
		    "(see deploy/cutover.example.ini).");
	if (strcmp(ctx->names.test_db, ctx->names.live_db) == 0 ||
	    strcmp(ctx->names.test_db, ctx->names.new_db) == 0)
		return cut_err_set(err, CUT_ECONFIG, "The test database %s is a production database; "
		    "name a new instance for the rehearsal in [rehearse] database.", ctx->names.test_db);
	if ((r = env_ok(ctx, ctx->names.test_env, !began(ctx, "rehearse-mp-django"), err)) != 0)
		return r;
	if (strcmp(ctx->names.test_env, ctx->names.live_web) == 0 ||
	    strcmp(ctx->names.test_env, ctx->names.new_web) == 0 ||
	    strcmp(ctx->names.test_env, ctx->names.live_ses) == 0 ||
	    strcmp(ctx->names.test_env, ctx->names.new_ses) == 0)
		return cut_err_set(err, CUT_ECONFIG, "The test environment %s is a production "
		    "environment; rehearse only on a test environment.", ctx->names.test_env);
	if (!began(ctx, "rehearse-restore") &&
	    ctx->world->db_describe(ctx->world, ctx->names.test_db, &d, NULL) == 0)
		return cut_err_set(err, CUT_ESTATE, "A database named %s already exists; choose "
		    "another test database name or delete it.", ctx->names.test_db);
	return 0;
}

/* Tidy terminates the old environments before it deletes the old database;
 * any OTHER environment still using that database (a test environment
 * pointed at production, the new SES environment never repointed) must stop
 * tidy before it changes anything, not half way. */
static int
pf_old_db_unused(struct run_ctx *ctx, struct cut_err *err)
{
	const char *skip[2] = { ctx->names.live_web, ctx->names.live_ses };
	char who[64];
	int r;

	if ((r = step_db_user(ctx, ctx->names.live_db, skip, 2, who, sizeof(who), err)) < 0)
		return r;
	if (r == 1)
		return cut_err_set(err, CUT_ESTATE, "Refusing to tidy: environment %s still uses "
		    "the old database %s (its RDS_HOSTNAME); point it at another database or "
		    "terminate it, then run tidy again.", who, ctx->names.live_db);
	return 0;
}

#define PF(id, nm, sm) const struct preflight_entry preflight_##id = { nm, sm, pf_##id }
PF(identity, "identity", "AWS credentials work (caller identity)");
PF(live_envs, "live-envs", "the live environments exist and are Ready");
PF(new_envs, "new-envs", "the new environments exist and are Ready");
PF(dns_live, "dns-live", "DNS says the configured live environment is live");
PF(new_version, "new-version", "the new environment runs the expected version");
PF(live_db, "live-db", "the live database exists and is available");
PF(ssh, "ssh", "SSH reaches the instances");
PF(names_free, "names-free", "the snapshot and new database names are free");
PF(new_names_free, "new-names-free", "the new environment names are free");
PF(cutover_done, "cutover-done", "the cutover finished and was not failed back");
PF(old_db_unused, "old-db-unused", "no environment but the old ones uses the old database");
PF(test_env, "test-env", "the test environment is Ready and its database name free");
#undef PF

/* Whether msg names `name` as a whole word (names share parts:
 * cobalt-production-green, cobalt-ses-production-green). */
static int
names(const char *msg, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (n == 0)
		return 0;
	for (p = msg; (p = strstr(p, name)) != NULL; p++) {
		char before = p == msg ? ' ' : p[-1], after = p[n];
		if (!(isalnum((unsigned char)before) || before == '-' || before == '_') &&
		    !(isalnum((unsigned char)after) || after == '-' || after == '_'))
			return 1;
	}
	return 0;
}

int
preflight_not_created(const struct run_ctx *ctx, const struct cut_err *e, char *buf, size_t len)
{
	int web, ses;

	if (e == NULL || e->code != CUT_ENOTFOUND)
		return 0;
	/* The new database and the new web environment may share a name:
	 * RDS's own words say which one is missing. */
	if (strstr(e->msg, "RDS") != NULL || strstr(e->msg, "DB instance") != NULL ||
	    strstr(e->msg, "DBInstance") != NULL || strstr(e->msg, "atabase") != NULL) {
		if (!names(e->msg, ctx->names.new_db))
			return 0;
		snprintf(buf, len, "database %s is not created yet (the restore step of `cutover "
		    "run` creates it)", ctx->names.new_db);
		return 1;
	}
	web = names(e->msg, ctx->names.new_web);
	ses = names(e->msg, ctx->names.new_ses);
	if (web && ses)
		snprintf(buf, len, "environments %s and %s are not created yet (prep creates them)",
		    ctx->names.new_web, ctx->names.new_ses);
	else if (web || ses)
		snprintf(buf, len, "environment %s is not created yet (prep creates it)",
		    web ? ctx->names.new_web : ctx->names.new_ses);
	else
		return 0;
	return 1;
}

int
preflight_run(struct run_ctx *ctx, const struct preflight_entry *const *checks, size_t n,
    int *problems, struct cut_err *err)
{
	struct cut_err e, first;
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		cut_err_clear(&e);
		if (checks[i]->check(ctx, &e) != 0) {
			if (bad++ == 0)
				first = e;
			if (ctx->out && ctx->planning) {
				char why[512];
				/* plan runs the checks of a command it does not run:
				 * what fails is what that command would refuse. */
				if (preflight_not_created(ctx, &e, why, sizeof(why)))
					progress_event(ctx->out, "preflight", checks[i]->name,
					    "`cutover %s` would refuse now: %s", ctx->planning, why);
				else
					progress_event(ctx->out, "preflight", checks[i]->name,
					    "`cutover %s` would refuse now: %s", ctx->planning, e.msg);
			} else if (ctx->out)
				progress_event(ctx->out, "preflight", checks[i]->name, "FAILED: %s",
				    e.msg);
		}
	}
	if (problems)
		*problems = bad;
	if (bad == 0)
		return 0;
	if (bad == 1)
		return cut_err_set(err, CUT_ESTATE, "Preflight found a problem: %s Nothing was "
		    "changed; fix it and run again.", first.msg);
	return cut_err_set(err, CUT_ESTATE, "Preflight found %d problems (listed above); nothing "
	    "was changed; fix them and run again.", bad);
}
