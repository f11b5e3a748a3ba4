/* Unit tests for the waiter schedule (wait_sched_*): on simulated
 * transitions it respects the 12-calls-a-minute budget in every window,
 * notices early transitions at once, and with a prediction (percent
 * progress or expected duration) notices within about a second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws/wait.h"

/* Runs the schedule against a transition completing at D; returns the
 * notice latency and checks the budget. hint: expected duration (0 = none);
 * use_percent: feed linear PercentProgress. */
static double
simulate(double D, double hint, int use_percent, unsigned *ncalls)
{
	struct wait_sched s;
	double t = 1000.0, start = t, times[4096];
	unsigned n = 0, i, j;

	wait_sched_init(&s, start, hint);
	for (;;) {
		assert_true(n < 4096);
		times[n++] = t;
		wait_sched_record_call(&s, t);
		if (t - start >= D)
			break;
		if (use_percent)
			wait_sched_observe_percent(&s, t, (int)(100.0 * (t - start) / D));
		double nx = wait_sched_next(&s, t);
		assert_true(nx >= t);
		t = nx;
	}
	/* No window of 60 s holds more than 12 calls. */
	for (i = 0; i < n; i++) {
		unsigned in = 0;
		for (j = i; j < n && times[j] < times[i] + 60.0; j++)
			in++;
		if (in > WAIT_MAX_PER_MIN)
			fail_msg("D=%.1f hint=%.1f: %u calls within 60 s from t=%.1f", D, hint, in, times[i] - start);
	}
	for (i = 1; i < n; i++)
		assert_true(times[i] - times[i - 1] >= 0.999 || i < 1);
	if (ncalls)
		*ncalls = n;
	return t - start - D;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
test_quick_transitions_seen_at_once(void **state)
{
	(void)state;
	assert_true(simulate(0.5, 0, 0, NULL) <= 0.5 + 1e-9);
	assert_true(simulate(1.5, 0, 0, NULL) <= 0.5 + 1e-9);
	assert_true(simulate(3.0, 0, 0, NULL) <= 1.0 + 1e-9);
}

static void
test_no_prediction_steady_rate(void **state)
{
	double D, lat[200];
	int n = 0;

	(void)state;
	/* The early probes borrow from the budget, so a few later gaps
	 * stretch; steady state is one call every 5 s. */
	for (D = 5; D < 900 && n < 200; D += 4.3) {
		lat[n] = simulate(D, 0, 0, NULL);
		assert_true(lat[n] <= 10.0 + 1e-6);
		n++;
	}
	qsort(lat, (size_t)n, sizeof(lat[0]), cmpd);
	assert_true(lat[n / 2] <= 3.0);
}

static void
test_with_expected_duration(void **state)
{
	double lat[400];
	int i;

	(void)state;
	for (i = 0; i < 400; i++) {
		double D = 20 + i * 1.9;
		lat[i] = simulate(D, D, 0, NULL);
		if (lat[i] > 1.0 + 1e-6)
			fail_msg("D=%.1f: noticed %.2f s late", D, lat[i]);
	}
	/* A prediction 30% off either way still ends and keeps the budget. */
	for (i = 0; i < 100; i++) {
		double D = 30 + i * 5;
		assert_true(simulate(D, D * 0.7, 0, NULL) <= 60.0);
		assert_true(simulate(D, D * 1.3, 0, NULL) <= 60.0);
	}
}

static void
test_percent_progress(void **state)
{
	double lat[300];
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		lat[i] = simulate(30 + i * 3.1, 0, 1, NULL);
	qsort(lat, 300, sizeof(lat[0]), cmpd);
	assert_true(lat[150] < 2.0);
}

static void
test_budget_after_long_wait(void **state)
{
	unsigned n;

	(void)state;
	simulate(3600, 0, 0, &n);
	/* 12 a minute at most: an hour is at most ~720 calls. */
	assert_true(n <= 12 * 61);
	simulate(3600, 3600, 0, &n);
	assert_true(n < 400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quick_transitions_seen_at_once),
		cmocka_unit_test(test_no_prediction_steady_rate),
		cmocka_unit_test(test_with_expected_duration),
		cmocka_unit_test(test_percent_progress),
		cmocka_unit_test(test_budget_after_long_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
