/* aws/ratelim.c: see aws/ratelim.h. */
#include "aws/ratelim.h"

#include <math.h>

#define CUBIC_C 0.4          /* how fast the cubic curve climbs */
#define CUBIC_BETA 0.7       /* share of the rate kept after throttling */
#define SMOOTHING 0.8        /* weight of the newest bucket in the measured rate */
#define BUCKET_S 0.5         /* the measured rate is updated every half second */
#define MAX_GROWTH 2.0       /* never allow more than twice the measured rate */

static double
cubic_k(double w_max)
{
	return cbrt(w_max * (1 - CUBIC_BETA) / CUBIC_C);
}

static void
refill(struct ratelim *l, double now)
{
	double c;

	if (l->last_refill < 0) {
		l->last_refill = now;
		return;
	}
	if (now <= l->last_refill)
		return;
	c = l->capacity + (now - l->last_refill) * l->fill_rate;
	l->capacity = c < l->max_capacity ? c : l->max_capacity;
	l->last_refill = now;
}

/* Tokens earned at the old rate are credited before the rate changes. */
static void
set_rate(struct ratelim *l, double rate, double now)
{
	refill(l, now);
	l->fill_rate = rate > RATELIM_MIN_RATE ? rate : RATELIM_MIN_RATE;
	l->max_capacity = rate >= 1 ? rate : 1;
	if (l->capacity > l->max_capacity)
		l->capacity = l->max_capacity;
}

void
ratelim_init(struct ratelim *l, double now)
{
	l->enabled = 0;
	l->capacity = 0;
	l->last_refill = -1;
	l->fill_rate = 0;
	set_rate(l, 1, now);
	l->w_max = 0;
	l->k = cubic_k(0);
	l->last_fail = now;
	l->measured = 0;
	l->last_bucket = floor(now / BUCKET_S) * BUCKET_S;
	l->count = 0;
}

double
ratelim_acquire(struct ratelim *l, double now)
{
	double wait;

	if (!l->enabled)
		return 0;
	refill(l, now);
	wait = l->capacity >= 1 ? 0 : (1 - l->capacity) / l->fill_rate;
	/* The token is the caller's now; the debt is repaid by the refill
	 * during the wait. */
	l->capacity -= 1;
	return wait;
}

static double
measure(struct ratelim *l, double now)
{
	double bucket = floor(now / BUCKET_S) * BUCKET_S;

	l->count += 1;
	if (bucket > l->last_bucket) {
		double r = l->count / (bucket - l->last_bucket);
		l->measured = r * SMOOTHING + l->measured * (1 - SMOOTHING);
		l->count = 0;
		l->last_bucket = bucket;
	}
	return l->measured;
}

void
ratelim_update(struct ratelim *l, double now, int throttled)
{
	double measured = measure(l, now), rate;

	if (!throttled) {
		double dt = now - l->last_fail - l->k;
		rate = CUBIC_C * dt * dt * dt + l->w_max;
	} else {
		double at = measured;
		if (l->enabled && l->fill_rate < at)
			at = l->fill_rate;
		l->w_max = at;
		l->k = cubic_k(at);
		l->last_fail = now;
		rate = at * CUBIC_BETA;
		l->enabled = 1;
	}
	if (rate > MAX_GROWTH * measured)
		rate = MAX_GROWTH * measured;
	set_rate(l, rate, now);
}

double
ratelim_rate(const struct ratelim *l)
{
	return l->enabled ? l->fill_rate : 0;
}
