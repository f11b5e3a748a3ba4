/* runbook/window.h: the downtime window `cutover plan` predicts for `cutover
 * run`, before anything is done.
 *
 * The window is the chain of waits between maintenance on and off (runbook
 * order, tables.c): maint-on's configuration update, the quiet period, the
 * snapshot, the restore, point-new's configuration update, maint-off's (the
 * replica method: maint-on, quiet, the promotion with open-new's update
 * beside it, and Route 53's INSYNC after the DNS switch, the last change);
 * dns-insync's Route 53 minute mostly runs beside the conversion and the
 * smoke test, and a pair of environments updates side by side, so each of
 * those counts once. Each AWS wait takes what `cutover rehearse` measured on
 * the test system (its wait-end wait_s in this state folder's journal, the
 * same snapshot, restore and updates) or, when there was no rehearsal, the
 * documented table below (the figures of tests/fakeaws/README.md's "aws"
 * profile, with their sources). */
#ifndef CUTOVER_WINDOW_H
#define CUTOVER_WINDOW_H

#include <stddef.h>

#include "runbook/step.h"

struct json_object;

#define WINDOW_MAX_PARTS 8

struct window_part {
	const char *step;       /* the run step it belongs to */
	const char *kind;       /* ENGINE_WAIT_* (runbook/engine.h) */
	double seconds;
	int measured;           /* 1: rehearsal's wait_s; 0: documented (or configured) */
	const char *source;     /* where the figure comes from */
};

struct window_prediction {
	struct window_part part[WINDOW_MAX_PARTS];
	size_t nparts;
	double total_s;         /* the parts plus the tool's own work */
	double work_s;          /* the tool's own work (an estimate) */
	int nmeasured;          /* parts that came from a rehearsal */
	int replica;            /* [database] method = replica's chain */
};

/* Fills *out from ctx's journal (may be NULL: no rehearsal) and
 * ctx->names.quiet_seconds. */
void window_predict(struct run_ctx *ctx, struct window_prediction *out);

/* How long one wait of kind (ENGINE_WAIT_*) is expected to take, in seconds:
 * what `cutover rehearse` measured in ctx's journal, else the documented
 * figure, else (quiet) the configured quiet period; 0 when unknown. */
double window_expected_s(struct run_ctx *ctx, const char *kind);

/* One sentence: the total, the parts, and which source they came from. */
void window_sentence(const struct window_prediction *p, char *buf, size_t len);

/* The same as JSON (the caller owns it); NULL when out of memory. */
struct json_object *window_json(const struct window_prediction *p);

#endif
