/* runbook/steps/step_cron.c: every step that pauses cron on a pair of
 * environments or gives it back, as one table.
 *
 * cron-pause         the live pair, before the snapshot (cron writes
 *                    through maintenance mode; issue 5)
 * failback-cron      gives the live pair its crontab back
 * new-cron-hold      the new pair, before point-new points it at the copy:
 *                    its jobs would write there before it opens, and parity
 *                    compares exactly (issue 12)
 * new-cron-back      gives the new pair its crontab back once parity is done
 * failback-new-cron  the new pair stops writing before fail-back counts its
 *                    activity (only once point-new may have pointed it at
 *                    the copy: before that it wrote nothing that matters)
 *
 * The pause saves the crontab on the instance and empties it (agent/op_cron.c);
 * "done" is read from the world each time (the saved copy is there or not),
 * so a run killed between the two environments finishes the second one.
 * The operations on the two environments are independent, so they go to
 * the world together (world_ops cron_paused_many, cron_set_many) and run
 * side by side there.
 */
#include <stdio.h>
#include <string.h>

#include "runbook/tables.h"

enum cron_pair { CRON_LIVE, CRON_NEW };

struct cron_row {
	enum cron_pair pair;
	int pause;             /* 1: save and empty; 0: put the saved crontab back */
	int if_new_used;       /* only once the new side may have written real data */
	const char *why;       /* describe's words after the two names */
};

static void
pair_of(struct run_ctx *ctx, const struct cron_row *c, const char *envs[2])
{
	envs[0] = c->pair == CRON_LIVE ? ctx->names.live_web : ctx->names.new_web;
	envs[1] = c->pair == CRON_LIVE ? ctx->names.live_ses : ctx->names.new_ses;
}

/* The pair's state, from the world's side-by-side operation when it has
 * one, else one environment after the other. */
static int
paused_pair(struct world_ops *w, const char *const envs[2], int paused[2], struct cut_err *err)
{
	int r;

	if (w->cron_paused_many)
		return w->cron_paused_many(w, envs, 2, paused, err);
	for (int k = 0; k < 2; k++)
		if ((r = w->cron_paused(w, envs[k], &paused[k], err)) != 0)
			return r;
	return 0;
}

static int
set_pair(struct world_ops *w, const char *const envs[2], int pause, struct cut_err *err)
{
	int r = 0;

	if (w->cron_set_many)
		return w->cron_set_many(w, envs, 2, pause, err);
	for (int k = 0; r == 0 && k < 2; k++)
		r = pause ? w->cron_pause(w, envs[k], err) : w->cron_resume(w, envs[k], err);
	return r;
}

static int
cron_describe(struct run_ctx *ctx, const struct cron_row *c, char *buf, size_t len)
{
	const char *envs[2];

	pair_of(ctx, c, envs);
	snprintf(buf, len, "%s on %s and %s%s", c->pause ? "save and empty the crontab" :
	    "put the saved crontab back", envs[0], envs[1], c->why);
	return 0;
}

static int
cron_check(struct run_ctx *ctx, const struct cron_row *c, struct cut_err *err)
{
	const char *envs[2];
	int paused[2], r;

	if (c->if_new_used && !step_new_side_used(ctx))
		return STEP_DONE;
	pair_of(ctx, c, envs);
	if ((r = paused_pair(ctx->world, envs, paused, err)) != 0)
		return r;
	return paused[0] == c->pause && paused[1] == c->pause ? STEP_DONE : STEP_TODO;
}

static int
cron_apply(struct run_ctx *ctx, const struct cron_row *c, struct cut_err *err)
{
	const char *envs[2];

	pair_of(ctx, c, envs);
	return set_pair(ctx->world, envs, c->pause, err);
}

#define CRON_STEP(id, name_, phase_, undone_, summary_, pair_, pause_, if_used_, why_)      \
static const struct cron_row id##_row = { pair_, pause_, if_used_, why_ };                   \
static int id##_describe(struct run_ctx *c, char *b, size_t l, struct cut_err *e)           \
{ (void)e; return cron_describe(c, &id##_row, b, l); }                                      \
static int id##_check(struct run_ctx *c, struct cut_err *e) { return cron_check(c, &id##_row, e); } \
static int id##_apply(struct run_ctx *c, struct cut_err *e) { return cron_apply(c, &id##_row, e); } \
const struct step_entry step_##id##_entry = {                                               \
	.name = name_, .phase = phase_, .summary = summary_, .undone_by = undone_,           \
	.describe = id##_describe, .check = id##_check, .apply = id##_apply,                 \
};

CRON_STEP(cron_pause, "cron-pause", STEP_PHASE_RUN, "failback-cron",
    "pause cron on the live environments", CRON_LIVE, 1, 0,
    " (cron writes through maintenance mode)")
CRON_STEP(failback_cron, "failback-cron", STEP_PHASE_FAILBACK, NULL,
    "restore cron on the old live environments", CRON_LIVE, 0, 0, "")
CRON_STEP(new_cron_hold, "new-cron-hold", STEP_PHASE_RUN, NULL,
    "hold cron on the new environments until parity", CRON_NEW, 1, 0,
    " until parity has compared the databases (pointed at the copy, their jobs would write "
    "there before it opens)")
CRON_STEP(new_cron_back, "new-cron-back", STEP_PHASE_RUN, NULL,
    "give the new environments their cron back", CRON_NEW, 0, 0, " (parity is done)")
CRON_STEP(failback_new_cron, "failback-new-cron", STEP_PHASE_FAILBACK, NULL,
    "pause cron on the new environments", CRON_NEW, 1, 1,
    " (the new system stops writing; `cutover cron restore --env` puts it back)")
