/* runbook/steps/step_dns.c: Route 53 steps. The switch moves the apex, www and ses in ONE
 * change batch (all or nothing) after recording the exact records it
 * replaces; fail-back puts exactly those back; tidy deletes the old
 * environments' own records, refusing while the site still points at them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runbook/engine.h"
#include "runbook/progress.h"
#include "runbook/tables.h"

static const char *const slot_names[3] = { "apex", "www", "ses" };

static const char *
slot_record(struct run_ctx *ctx, int i)
{
	return i == 0 ? ctx->names.apex : i == 1 ? ctx->names.www : ctx->names.ses;
}

/* Where a record sends users: its alias target or its (CNAME) value. */
static const char *
target_of(const struct world_rrset *rr)
{
	return rr->alias_dns[0] ? rr->alias_dns : rr->value;
}

/* The record set `name` as A (alias) or, failing that, CNAME. Read once
 * per step (step_memo): dns-switch's check, record and apply all look at
 * the same three records within a second, and nothing else changes them. */
static int
read_any(struct run_ctx *ctx, const char *name, struct world_rrset *rr, struct cut_err *err)
{
	const struct world_rrset *m;
	char key[300];
	int r;

	snprintf(key, sizeof(key), "rrset %s %s", ctx->names.zone, name);
	if ((m = step_memo_get(ctx, key, sizeof(*rr))) != NULL) {
		*rr = *m;
		return 0;
	}
	r = ctx->world->dns_read(ctx->world, ctx->names.zone, name, "A", rr, err);
	if (r == CUT_ENOTFOUND)
		r = ctx->world->dns_read(ctx->world, ctx->names.zone, name, "CNAME", rr, err);
	if (r == CUT_ENOTFOUND)
		return cut_err_set(err, CUT_ENOTFOUND, "There is no A or CNAME record %s in zone %s; "
		    "check the DNS names in the configuration.", name, ctx->names.zone);
	if (r == 0)
		step_memo_put(ctx, key, rr, sizeof(*rr));
	return r;
}

/* An environment's CNAME, once per step (step_memo) as read_any. */
static int
env_cname(struct run_ctx *ctx, const char *env, char *buf, size_t len, struct cut_err *err)
{
	struct world_env e;
	char key[300], cn[256];
	const char *m;
	int r;

	snprintf(key, sizeof(key), "cname %s", env);
	if ((m = step_memo_get(ctx, key, sizeof(cn))) != NULL) {
		snprintf(buf, len, "%s", m);
		return 0;
	}
	if ((r = ctx->world->env_describe(ctx->world, env, &e, err)) != 0)
		return r;
	snprintf(cn, sizeof(cn), "%s", e.cname);
	step_memo_put(ctx, key, cn, sizeof(cn));
	snprintf(buf, len, "%s", e.cname);
	return 0;
}

/* The same record set sending users to `cname` instead. */
static int
retarget(const struct world_rrset *old, const char *cname, struct world_rrset *out,
    struct cut_err *err)
{
	*out = *old;
	if (old->alias_dns[0]) {
		snprintf(out->alias_dns, sizeof(out->alias_dns), "%s.", cname);
		return 0;
	}
	if (strcmp(old->type, "CNAME") == 0) {
		snprintf(out->value, sizeof(out->value), "%s", cname);
		return 0;
	}
	return cut_err_set(err, CUT_ESTATE, "Record %s is a plain %s record (%s), not an alias or "
	    "CNAME of an environment; change it by hand or make it an alias first.", old->name,
	    old->type, old->value);
}

static int
poll_change(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	int r;

	(void)percent;
	(void)rate;
	if ((r = ctx->world->dns_change_status(ctx->world, arg, status, len, err)) != 0)
		return r;
	return strcmp(status, "INSYNC") == 0;
}

/* Waits for the change `step` recorded; nothing to wait for if the
 * change id was lost in a crash (the records already read back as wanted). */
static int
wait_change_of(struct run_ctx *ctx, const char *step, struct cut_err *err)
{
	char id[128], what[160];
	const char *v = step_get(ctx, step, "change_id");

	if (v == NULL)
		return 0;
	snprintf(id, sizeof(id), "%s", v);
	snprintf(what, sizeof(what), "DNS change %s INSYNC", id);
	return engine_poll_kind(ctx, what, ENGINE_WAIT_DNS, poll_change, id, err);
}

static int
wait_change(struct run_ctx *ctx, struct cut_err *err)
{
	return wait_change_of(ctx, ctx->step->name, err);
}

/* DONE if the change `step` made (when we know it) is INSYNC, else PENDING. */
static int
change_state_of(struct run_ctx *ctx, const char *step, struct cut_err *err)
{
	const char *id = step_get(ctx, step, "change_id");
	char status[32];
	int r;

	if (id == NULL)
		return STEP_DONE;
	if ((r = ctx->world->dns_change_status(ctx->world, id, status, sizeof(status), err)) != 0)
		return r;
	return strcmp(status, "INSYNC") == 0 ? STEP_DONE : STEP_PENDING;
}

static int
change_state(struct run_ctx *ctx, struct cut_err *err)
{
	return change_state_of(ctx, ctx->step->name, err);
}

/* --- dns-switch --------------------------------------------------------- */

static int
cname_known(struct run_ctx *ctx, const char *env)
{
	char key[300];

	snprintf(key, sizeof(key), "cname %s", env);
	return step_memo_get(ctx, key, 256) != NULL;
}

/* The CNAMEs of a pair of environments, in one call when the world can,
 * kept in the step's memo for env_cname. */
static int
pair_cnames(struct run_ctx *ctx, const char *web, const char *ses, char cn[2][256],
    struct cut_err *err)
{
	const char *envs[2] = { web, ses };
	char key[300];
	int r;

	if (ctx->world->env_cnames == NULL || (cname_known(ctx, web) && cname_known(ctx, ses))) {
		if ((r = env_cname(ctx, web, cn[0], 256, err)) != 0)
			return r;
		return env_cname(ctx, ses, cn[1], 256, err);
	}
	if ((r = ctx->world->env_cnames(ctx->world, envs, 2, cn, err)) != 0)
		return r;
	for (int k = 0; k < 2; k++) {
		snprintf(key, sizeof(key), "cname %s", envs[k]);
		step_memo_put(ctx, key, cn[k], 256);
	}
	return 0;
}

static int
new_targets(struct run_ctx *ctx, char cn[3][256], struct cut_err *err)
{
	char two[2][256];
	int r;

	if ((r = pair_cnames(ctx, ctx->names.new_web, ctx->names.new_ses, two, err)) != 0)
		return r;
	memcpy(cn[0], two[0], sizeof(cn[0]));
	memcpy(cn[1], two[0], sizeof(cn[1]));
	memcpy(cn[2], two[1], sizeof(cn[2]));
	return 0;
}

static int
switch_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	char cn[3][256];
	int r;

	if ((r = new_targets(ctx, cn, err)) != 0)
		return r;
	snprintf(buf, len, "change DNS in one batch: %s and %s -> %s, %s -> %s (the old records "
	    "are recorded for fail-back)", ctx->names.apex, ctx->names.www, cn[0], ctx->names.ses,
	    cn[2]);
	return 0;
}

static int
switch_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset rr;
	char cn[3][256];
	int i, r;

	if ((r = new_targets(ctx, cn, err)) != 0)
		return r;
	for (i = 0; i < 3; i++) {
		if ((r = read_any(ctx, slot_record(ctx, i), &rr, err)) != 0)
			return r;
		if (!step_same_host(target_of(&rr), cn[i]))
			return STEP_TODO;
	}
	/* Route 53 going INSYNC is dns-insync's wait, later. */
	return STEP_DONE;
}

static int
switch_record(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset rr;
	char key[64], cn[2][256];
	int i, r;

	for (i = 0; i < 3; i++) {
		if ((r = read_any(ctx, slot_record(ctx, i), &rr, err)) != 0)
			return r;
		snprintf(key, sizeof(key), "old.%s", slot_names[i]);
		if ((r = step_put_rrset(ctx, key, &rr)) != 0)
			return cut_err_set(err, r, "Cannot record DNS record %s.", rr.name);
	}
	/* tidy needs these after the old environments are gone */
	if ((r = pair_cnames(ctx, ctx->names.live_web, ctx->names.live_ses, cn, err)) != 0)
		return r;
	step_put(ctx, "old_web_cname", "%s", cn[0]);
	return step_put(ctx, "old_ses_cname", "%s", cn[1]);
}

static int
switch_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_dns_change ch[3];
	struct world_rrset old;
	char cn[3][256], key[64], id[128];
	int i, r;

	if ((r = new_targets(ctx, cn, err)) != 0)
		return r;
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "old.%s", slot_names[i]);
		if (step_get_rrset(ctx, "dns-switch", key, &old) != 0)
			return cut_err_set(err, CUT_ESTATE, "The journal has no record of DNS record "
			    "%s before the change, so it could not be failed back; refusing to change "
			    "it.", slot_record(ctx, i));
		ch[i].action = WORLD_DNS_UPSERT;
		if ((r = retarget(&old, cn[i], &ch[i].rr, err)) != 0)
			return r;
	}
	if ((r = ctx->world->dns_change(ctx->world, ctx->names.zone, ch, 3,
	    "cutover: move the site to the new environments", id, sizeof(id), err)) != 0)
		return r;
	step_put(ctx, "change_id", "%s", id);
	return step_put(ctx, "changed_at", "%lld", (long long)time(NULL));
}

const struct step_entry step_dns_switch_entry = {
	.name = "dns-switch",
	.phase = STEP_PHASE_RUN,
	.summary = "switch DNS for apex, www and ses to the new environments in one change",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE | STEP_F_ONCE,
	.undone_by = "failback-dns",
	.describe = switch_describe,
	.check = switch_check,
	.record = switch_record,
	.apply = switch_apply,
};

/* --- dns-insync --------------------------------------------------------- */

/* Route 53 takes up to a minute to apply dns-switch's change everywhere
 * (INSYNC). Nothing between the switch and opening the new site needs it
 * (the users see the maintenance page on either side; convert-users,
 * blocked-email-restore and the smoke test work on the new system
 * directly), so that minute runs beside them instead of in series, and
 * the new site opens only once DNS sends everyone there. Measured afresh
 * every time, as quiet is. */
static int
insync_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	const char *id = step_get(ctx, "dns-switch", "change_id");

	(void)err;
	if (id == NULL)
		snprintf(buf, len, "wait until Route 53 has applied dns-switch's change everywhere "
		    "(INSYNC)");
	else
		snprintf(buf, len, "wait until Route 53 has applied the DNS change %s everywhere "
		    "(INSYNC)", id);
	return 0;
}

static int
insync_check(struct run_ctx *ctx, struct cut_err *err)
{
	int r;

	/* No change recorded: a run has nothing to wait for, but a plan made
	 * before dns-switch would otherwise call this wait "already done". */
	if (ctx->opts.dry_run && step_get(ctx, "dns-switch", "change_id") == NULL)
		return STEP_TODO;
	r = change_state_of(ctx, "dns-switch", err);

	return r == STEP_PENDING ? STEP_TODO : r;
}

static int
insync_apply(struct run_ctx *ctx, struct cut_err *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

static int insync_wait(struct run_ctx *ctx, struct cut_err *err) { return wait_change_of(ctx, "dns-switch", err); }

const struct step_entry step_dns_insync_entry = {
	.name = "dns-insync",
	.phase = STEP_PHASE_RUN,
	.summary = "wait until the DNS change is applied everywhere (INSYNC) before the new site opens",
	.describe = insync_describe,
	.check = insync_check,
	.apply = insync_apply,
	.wait = insync_wait,
};

/* [database] method = replica: the new site is open before DNS moves (the
 * smoke test ran against it), so the window ends here, when every Route 53
 * server sends users to it (runbook/steps/step_replica.c). */
const struct step_entry step_dns_insync_open_entry = {
	.name = "dns-insync",
	.phase = STEP_PHASE_RUN,
	.summary = "wait until the DNS change to the open new site is applied everywhere (INSYNC)",
	.flags = STEP_F_DOWNTIME_END,
	.describe = insync_describe,
	.check = insync_check,
	.apply = insync_apply,
	.wait = insync_wait,
};

/* --- dns-tail ----------------------------------------------------------- *
 *
 * Route 53 INSYNC means its servers answer with the new records; resolvers
 * that ignore the TTL keep sending their users to the old environment for
 * a while. The site is open on the new side by now, so this watch is off
 * the critical path: it counts the old environment's real requests (its
 * access logs, health checks left out, as the quiet wait does) one sample
 * of [dns] tail_interval at a time, until a sample has under one request a
 * minute or [dns] tail_deadline has passed, and records the rates, so the
 * operator knows when the old side is really idle before `cutover tidy`.
 * An observation, never a failure: a busy tail is reported, not refused.
 * Measured afresh when a run resumes it (the samples before a crash are
 * lost with it). */

struct tail_state {
	int started;        /* the first poll only sets the count's start */
	double watched;     /* seconds counted */
	double sample_s;    /* the current sample's length and requests */
	long sample_req;
	long total;
	char rates[512];    /* per-minute rate of each finished sample, "12 5 0" */
	size_t nrates;
};

static int
tail_interval(struct run_ctx *ctx)
{
	return ctx->names.tail_interval > 0 ? ctx->names.tail_interval : 60;
}

static int
tail_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	(void)err;
	if (ctx->names.tail_deadline < 0)
		snprintf(buf, len, "nothing: [dns] tail_deadline = 0 turns the watch of %s off",
		    ctx->names.live_web);
	else
		snprintf(buf, len, "count the requests that still reach %s (resolvers that ignore the "
		    "TTL) every %d s until under one a minute (give up after %d s); changes nothing",
		    ctx->names.live_web, tail_interval(ctx), ctx->names.tail_deadline > 0 ?
		    ctx->names.tail_deadline : 900);
	return 0;
}

static int
tail_check(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	if (ctx->names.tail_deadline < 0)
		return STEP_DONE;
	return step_get(ctx, "dns-tail", "result") ? STEP_DONE : STEP_TODO;
}

static int
tail_apply(struct run_ctx *ctx, struct cut_err *err)
{
	(void)err;
	return step_put(ctx, "env", "%s", ctx->names.live_web);
}

static int
tail_finish(struct run_ctx *ctx, struct tail_state *t, const char *result, double per_min)
{
	step_put(ctx, "interval_s", "%d", tail_interval(ctx));
	step_put(ctx, "per_minute", "%s", t->nrates ? t->rates : "");
	step_put(ctx, "requests", "%ld", t->total);
	step_put(ctx, "watched_s", "%.0f", t->watched);
	step_put(ctx, "last_per_minute", "%.1f", per_min);
	if (ctx->out && strcmp(result, "unmeasured") != 0) {
		if (strcmp(result, "idle") == 0)
			progress_event(ctx->out, "result", "dns-tail", "%s is idle: under one request a "
			    "minute %.0f s after the new site opened (%ld request(s) counted; per minute: "
			    "%s)", ctx->names.live_web, t->watched, t->total, t->rates);
		else
			progress_event(ctx->out, "result", "dns-tail", "%s still gets %.1f request(s) a "
			    "minute after %.0f s (per minute: %s): some resolvers ignore the TTL; wait "
			    "before `cutover tidy` (its access logs show who still comes)",
			    ctx->names.live_web, per_min, t->watched, t->rates);
	}
	return step_put(ctx, "result", "%s", result);
}

static int
poll_tail(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	struct tail_state *t = arg;
	struct world_rate rt;
	int r, iv = tail_interval(ctx);
	int deadline = ctx->names.tail_deadline > 0 ? ctx->names.tail_deadline : 900;

	(void)percent;
	if ((r = ctx->world->request_rate(ctx->world, ctx->names.live_web, &rt, err)) != 0) {
		/* The site is open on the new side: a count that cannot be made
		 * is said and recorded, it does not fail the cutover. */
		if (r == CUT_ECANCEL)
			return r;
		if (ctx->out)
			progress_event(ctx->out, "warning", "dns-tail", "the requests reaching %s could "
			    "not be counted (%s); look at its access logs before `cutover tidy`.",
			    ctx->names.live_web, err->msg);
		step_put(ctx, "problem", "%s", err->msg);
		cut_err_clear(err);
		if ((r = tail_finish(ctx, t, "unmeasured", -1)) != 0)
			return cut_err_set(err, r, "Cannot record the DNS tail's figures (out of memory).");
		return 1;
	}
	if (!t->started) {
		/* What the follow counted before now (the quiet wait's leftovers). */
		t->started = 1;
		snprintf(status, len, "counting requests to %s from now", ctx->names.live_web);
		return 0;
	}
	t->watched += rt.interval_s;
	t->sample_s += rt.interval_s;
	t->sample_req += rt.requests;
	t->total += rt.requests;
	*rate = rt.interval_s > 0 ? rt.requests / rt.interval_s : 0;
	snprintf(status, len, "%ld request(s) to %s in %.0f s of this sample; %.0f s watched",
	    t->sample_req, ctx->names.live_web, t->sample_s, t->watched);
	if (t->sample_s < iv)
		return 0;
	double per_min = t->sample_req * 60.0 / t->sample_s;
	int n = snprintf(t->rates + strlen(t->rates), sizeof(t->rates) - strlen(t->rates), "%s%.0f",
	    t->nrates ? " " : "", per_min);
	if (n > 0)
		t->nrates++;
	t->sample_s = 0;
	t->sample_req = 0;
	if (per_min >= 1.0 && t->watched < deadline)
		return 0;
	if ((r = tail_finish(ctx, t, per_min < 1.0 ? "idle" : "deadline", per_min)) != 0)
		return cut_err_set(err, r, "Cannot record the DNS tail's figures (out of memory).");
	return 1;
}

static int
tail_wait(struct run_ctx *ctx, struct cut_err *err)
{
	struct tail_state t;
	char what[160];

	if (ctx->names.tail_deadline < 0)
		return 0;
	memset(&t, 0, sizeof(t));
	snprintf(what, sizeof(what), "under one request a minute on %s (the DNS tail)",
	    ctx->names.live_web);
	return engine_poll(ctx, what, poll_tail, &t, err);
}

const struct step_entry step_dns_tail_entry = {
	.name = "dns-tail",
	.phase = STEP_PHASE_RUN,
	.summary = "count the requests still reaching the old side until it is idle",
	.describe = tail_describe,
	.check = tail_check,
	.apply = tail_apply,
	.wait = tail_wait,
};

/* --- failback-dns ------------------------------------------------------- */

static int
old_records(struct run_ctx *ctx, struct world_rrset old[3])
{
	char key[64];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "old.%s", slot_names[i]);
		if (step_get_rrset(ctx, "dns-switch", key, &old[i]) != 0)
			return 0;
	}
	return 1;
}

static int
back_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	struct world_rrset old[3];

	(void)err;
	if (!old_records(ctx, old))
		snprintf(buf, len, "change nothing (DNS was never changed by this cutover)");
	else
		snprintf(buf, len, "put DNS back in one batch: %s -> %s, %s -> %s, %s -> %s",
		    old[0].name, target_of(&old[0]), old[1].name, target_of(&old[1]), old[2].name,
		    target_of(&old[2]));
	return 0;
}

static int
back_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset old[3], cur;
	int i, r;

	if (!old_records(ctx, old))
		return STEP_DONE;
	for (i = 0; i < 3; i++) {
		if ((r = read_any(ctx, old[i].name, &cur, err)) != 0)
			return r;
		if (!step_same_host(target_of(&cur), target_of(&old[i])) || strcmp(cur.type, old[i].type))
			return STEP_TODO;
	}
	return change_state(ctx, err);
}

static int
back_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_dns_change ch[3];
	struct world_rrset old[3];
	char id[128];
	int i, r;

	if (!old_records(ctx, old))
		return 0;
	for (i = 0; i < 3; i++) {
		ch[i].action = WORLD_DNS_UPSERT;
		ch[i].rr = old[i];
	}
	if ((r = ctx->world->dns_change(ctx->world, ctx->names.zone, ch, 3,
	    "cutover: fail back to the old environments", id, sizeof(id), err)) != 0)
		return r;
	return step_put(ctx, "change_id", "%s", id);
}

const struct step_entry step_failback_dns_entry = {
	.name = "failback-dns",
	.phase = STEP_PHASE_FAILBACK,
	.summary = "put DNS back to exactly the records the cutover replaced",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE,
	.describe = back_describe,
	.check = back_check,
	.apply = back_apply,
	.wait = wait_change,
};

/* --- tidy-dns ----------------------------------------------------------- */

/* The old environments' CNAMEs, from the switch's record or the world. */
static void
old_cnames(struct run_ctx *ctx, char cn[2][256])
{
	const char *a = step_get(ctx, "dns-switch", "old_web_cname");
	const char *b = step_get(ctx, "dns-switch", "old_ses_cname");

	cn[0][0] = cn[1][0] = '\0';
	if (a)
		snprintf(cn[0], 256, "%s", a);
	else
		env_cname(ctx, ctx->names.live_web, cn[0], 256, NULL);
	if (b)
		snprintf(cn[1], 256, "%s", b);
	else
		env_cname(ctx, ctx->names.live_ses, cn[1], 256, NULL);
}

static int
points_at_old(const struct world_rrset *rr, char cn[2][256])
{
	return (cn[0][0] && step_same_host(target_of(rr), cn[0])) ||
	    (cn[1][0] && step_same_host(target_of(rr), cn[1]));
}

/* The old environments' own records; refuses if the site still uses them.
 * *out is malloc'd (caller frees). */
static int
old_own_records(struct run_ctx *ctx, struct world_rrset **out, size_t *n, struct cut_err *err)
{
	struct world_rrset *all = NULL;
	char cn[2][256];
	size_t i, k = 0, nall = 0;
	int r, s;

	*out = NULL;
	*n = 0;
	old_cnames(ctx, cn);
	if ((r = ctx->world->dns_list(ctx->world, ctx->names.zone, &all, &nall, err)) != 0)
		return r;
	for (i = 0; i < nall; i++) {
		if (!points_at_old(&all[i], cn))
			continue;
		for (s = 0; s < 3; s++)
			if (step_same_host(all[i].name, slot_record(ctx, s))) {
				r = cut_err_set(err, CUT_ESTATE, "Refusing to tidy: DNS still points "
				    "%s at the old environment (%s); fail back or finish the cutover "
				    "first.", all[i].name, target_of(&all[i]));
				free(all);
				return r;
			}
		all[k++] = all[i];
	}
	*out = all;
	*n = k;
	return 0;
}

static int
tdns_describe(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err)
{
	struct world_rrset *rr;
	size_t n, i, off;
	int r;

	if ((r = old_own_records(ctx, &rr, &n, err)) != 0)
		return r;
	off = (size_t)snprintf(buf, len, "delete %zu DNS record(s) of the old environments", n);
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : ": ", rr[i].name);
	free(rr);
	return 0;
}

static int
tdns_check(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset *rr;
	size_t n;
	int r;

	if ((r = old_own_records(ctx, &rr, &n, err)) != 0)
		return r;
	free(rr);
	if (n > 0)
		return STEP_TODO;
	return change_state(ctx, err);
}

static int
tdns_record(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset *rr;
	size_t n, i;
	char key[64];
	int r;

	if ((r = old_own_records(ctx, &rr, &n, err)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		snprintf(key, sizeof(key), "deleted.%zu", i);
		r = step_put_rrset(ctx, key, &rr[i]);
	}
	free(rr);
	return r ? r : step_put(ctx, "deleted", "%zu", n);
}

static int
tdns_apply(struct run_ctx *ctx, struct cut_err *err)
{
	struct world_rrset *rr;
	struct world_dns_change *ch;
	size_t n, i;
	char id[128];
	int r;

	if ((r = old_own_records(ctx, &rr, &n, err)) != 0)
		return r;
	if (n == 0) {
		free(rr);
		return 0;
	}
	if ((ch = calloc(n, sizeof(*ch))) == NULL) {
		free(rr);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory building the DNS change.");
	}
	for (i = 0; i < n; i++) {
		ch[i].action = WORLD_DNS_DELETE;
		ch[i].rr = rr[i];
	}
	r = ctx->world->dns_change(ctx->world, ctx->names.zone, ch, n,
	    "cutover tidy: the old environments' records", id, sizeof(id), err);
	free(ch);
	free(rr);
	return r ? r : step_put(ctx, "change_id", "%s", id);
}

const struct step_entry step_tidy_dns_entry = {
	.name = "tidy-dns",
	.phase = STEP_PHASE_TIDY,
	.summary = "delete the old environments' own DNS records",
	.flags = STEP_F_DESTRUCTIVE | STEP_F_IRREVERSIBLE,
	.describe = tdns_describe,
	.check = tdns_check,
	.record = tdns_record,
	.apply = tdns_apply,
	.wait = wait_change,
};
