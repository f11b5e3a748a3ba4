/* base/wait_sched.h: when to poll a change that AWS reports as pending: the
 * schedule of the waiters (aws/wait.h explains it) and of the engine's waits
 * (runbook/engine.h). Pure arithmetic over times on any clock (seconds;
 * base/clock.h's cut_mono_s in production, a virtual one in tests), so it
 * sits at the bottom where both can use it. */
#ifndef CUTOVER_WAIT_SCHED_H
#define CUTOVER_WAIT_SCHED_H

#include <stddef.h>

#define WAIT_MAX_PER_MIN 12

/* ---- the schedule (pure; unit-tested and used by the benchmark) ------------ */

struct wait_sched {
	double start;            /* time of creation (any clock, seconds) */
	double expected_s;       /* predicted duration from start; 0 = unknown */
	double calls[WAIT_MAX_PER_MIN]; /* ring of the last 12 call times */
	size_t ncalls;           /* total calls recorded */
	int have_p;              /* percent samples seen */
	double p_t0, p_t1;
	int p0, p1;
	int overran;             /* the prediction passed without success */
};

void wait_sched_init(struct wait_sched *s, double now, double expected_s);
void wait_sched_record_call(struct wait_sched *s, double now);
/* A PercentProgress reading (0-100) seen at time now. */
void wait_sched_observe_percent(struct wait_sched *s, double now, int percent);
/* Predicted completion time (absolute), or 0 when there is none. */
double wait_sched_predicted(const struct wait_sched *s);
/* Absolute time of the next poll (>= now). */
double wait_sched_next(struct wait_sched *s, double now);

#endif
