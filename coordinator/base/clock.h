/* base/clock.h: the one monotonic clock of the coordinator. Deadlines,
 * timeouts, rate limits and poll schedules all read it, so they agree and
 * none jumps when the wall clock is set. The engine's waits take a virtual
 * clock in tests instead (struct run_clock, runbook/step.h). */
#ifndef CUTOVER_CLOCK_H
#define CUTOVER_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in seconds (any origin). */
double cut_mono_s(void);
/* The same in milliseconds. */
int64_t cut_mono_ms(void);

#endif
