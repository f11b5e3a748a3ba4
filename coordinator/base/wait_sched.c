/* base/wait_sched.c: see base/wait_sched.h (the schedule is described in aws/wait.h). */
#include "base/wait_sched.h"

#include <string.h>

/* ---- schedule ---------------------------------------------------------------- */

#define EARLY_N 4
static const double early[EARLY_N] = { 0, 1, 2, 4 };
#define SPARSE_GAP 10.0
#define QUIET_BEFORE 10.0
#define DENSE_BEFORE 3.0
#define DENSE_AFTER 5.0
/* Calls the dense phase needs: one a second over [T-3, T+5]. */
#define DENSE_N 9
#define STEADY_GAP 5.0
#define FIRST_MINUTE_GAP 7.0
#define MIN_GAP 1.0

void
wait_sched_init(struct wait_sched *s, double now, double expected_s)
{
	memset(s, 0, sizeof(*s));
	s->start = now;
	s->expected_s = expected_s > 0 ? expected_s : 0;
}

void
wait_sched_record_call(struct wait_sched *s, double now)
{
	s->calls[s->ncalls % WAIT_MAX_PER_MIN] = now;
	s->ncalls++;
}

void
wait_sched_observe_percent(struct wait_sched *s, double now, int percent)
{
	if (percent < 0 || percent > 100)
		return;
	if (!s->have_p || percent < s->p0) {
		s->have_p = 1;
		s->p_t0 = s->p_t1 = now;
		s->p0 = s->p1 = percent;
		return;
	}
	if (percent > s->p1) {
		s->p_t1 = now;
		s->p1 = percent;
		s->overran = 0; /* new evidence: trust the new prediction */
	}
}

double
wait_sched_predicted(const struct wait_sched *s)
{
	if (s->overran)
		return 0;
	if (s->have_p && s->p1 > s->p0 && s->p_t1 > s->p_t0) {
		double rate = (s->p1 - s->p0) / (s->p_t1 - s->p_t0);
		/* Percent is floored: the true progress at p_t1 is p1 + 0.5
		 * on average, so half a step less remains. */
		return s->p_t1 + (100 - s->p1 - 0.5) / rate;
	}
	if (s->expected_s > 0)
		return s->start + s->expected_s;
	return 0;
}

double
wait_sched_next(struct wait_sched *s, double now)
{
	double next, last = s->ncalls ? s->calls[(s->ncalls - 1) % WAIT_MAX_PER_MIN] : now;
	double T = wait_sched_predicted(s);

	if (s->ncalls < EARLY_N) {
		next = s->start + early[s->ncalls];
	} else if (T > 0) {
		if (now < T - QUIET_BEFORE) {
			/* A sparse poll is worth it only if the dense phase
			 * still has its nine calls in the 60 s window ending
			 * at T+5. */
			size_t i, recent = 0, have = s->ncalls < WAIT_MAX_PER_MIN ? s->ncalls : WAIT_MAX_PER_MIN;
			for (i = 0; i < have; i++)
				if (s->calls[i] > T + DENSE_AFTER - 60.0)
					recent++;
			next = now + SPARSE_GAP;
			if (next > T - QUIET_BEFORE || (next > T + DENSE_AFTER - 60.0 &&
			    recent + 1 + DENSE_N > WAIT_MAX_PER_MIN))
				next = T - DENSE_BEFORE;
		} else if (now < T - DENSE_BEFORE) {
			next = T - DENSE_BEFORE;
		} else if (now < T + DENSE_AFTER) {
			next = last + MIN_GAP;
		} else {
			s->overran = 1;
			next = last + STEADY_GAP;
		}
	} else {
		/* The four early probes used a third of the first minute's
		 * budget: spread the other eight over it (7 s apart), then
		 * settle at the steady 12 a minute. */
		next = last + (now - s->start < 60.0 ? FIRST_MINUTE_GAP : STEADY_GAP);
	}
	if (s->ncalls && next < last + MIN_GAP)
		next = last + MIN_GAP;
	/* The budget: the 12th most recent call must be more than 60 s old. */
	if (s->ncalls >= WAIT_MAX_PER_MIN) {
		double oldest = s->calls[s->ncalls % WAIT_MAX_PER_MIN];
		if (next < oldest + 60.0 + 0.001)
			next = oldest + 60.0 + 0.001;
	}
	return next < now ? now : next;
}
