/* Unit tests for aws/ratelim.c, the adaptive retry mode's client-side rate
 * limiter, under a virtual clock: off until throttled, the cut to 0.7 of
 * the measured rate, the CUBIC curve back to it, the token pacing, and a
 * closed loop against a simulated server that admits 5 requests a second,
 * where the limiter keeps most requests out of the throttle that a client
 * without it runs into. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <cmocka.h>

#include "aws/ratelim.h"

#define T0 1000.0

/* Sends (and answers) at `rate` per second from *now for `secs` seconds. */
static void
steady(struct ratelim *l, double *now, double rate, double secs, int throttled_last)
{
	int i, n = (int)(rate * secs);

	for (i = 0; i < n; i++) {
		*now += 1.0 / rate;
		ratelim_acquire(l, *now);
		ratelim_update(l, *now, throttled_last && i == n - 1);
	}
}

static void
test_off_until_throttled(void **state)
{
	struct ratelim l;
	double now = T0;
	int i;

	(void)state;
	ratelim_init(&l, now);
	for (i = 0; i < 200; i++) {
		assert_true(ratelim_acquire(&l, now) == 0);
		ratelim_update(&l, now, 0);
		now += 0.001;
	}
	assert_true(ratelim_rate(&l) == 0);
}

static void
test_throttle_cuts_to_beta_of_measured(void **state)
{
	struct ratelim l;
	double now = T0;

	(void)state;
	ratelim_init(&l, now);
	/* Four seconds at 10/s, the last answer throttled. */
	steady(&l, &now, 10, 4, 1);
	assert_true(fabs(l.measured - 10) < 0.5);
	assert_true(fabs(ratelim_rate(&l) - 0.7 * l.measured) < 1e-9);
	assert_true(fabs(l.w_max - l.measured) < 1e-9);
	assert_true(fabs(l.k - cbrt(l.w_max * 0.3 / 0.4)) < 1e-9);
	/* A second throttle right away cuts from the (lower) allowed rate. */
	{
		double before = ratelim_rate(&l);
		ratelim_update(&l, now + 0.01, 1);
		assert_true(fabs(ratelim_rate(&l) - 0.7 * before) < 1e-6);
	}
	/* Never below the floor. */
	for (int i = 0; i < 50; i++)
		ratelim_update(&l, now + 0.02 + i * 0.001, 1);
	assert_true(fabs(ratelim_rate(&l) - RATELIM_MIN_RATE) < 1e-9);
}

/* The rate CUBIC gives at time t after a failure at t_fail. */
static double
cubic_at(const struct ratelim *l, double t)
{
	return 0.4 * pow(t - l->last_fail - l->k, 3) + l->w_max;
}

static void
test_cubic_recovery(void **state)
{
	struct ratelim l;
	double now = T0, w, k;

	(void)state;
	ratelim_init(&l, now);
	steady(&l, &now, 10, 4, 1);
	w = l.w_max;
	k = l.k;
	/* Keep sending at 10/s, so the cap of twice the measured rate (20)
	 * stays above the curve: W(t) = C (t - K)^3 + W_max, which starts at
	 * 0.7 W_max, is back at W_max after K and grows past it after. */
	steady(&l, &now, 10, k / 2, 0);
	assert_true(fabs(ratelim_rate(&l) - cubic_at(&l, now)) < 1e-9);
	assert_true(ratelim_rate(&l) > 0.7 * w && ratelim_rate(&l) < w);
	steady(&l, &now, 10, k / 2, 0);
	assert_true(fabs(ratelim_rate(&l) - w) < 0.2);
	steady(&l, &now, 10, k, 0);
	assert_true(fabs(ratelim_rate(&l) - cubic_at(&l, now)) < 1e-9);
	assert_true(ratelim_rate(&l) > w + 1);
	/* ... but never above twice what the client actually sends. */
	steady(&l, &now, 1, 20, 0);
	assert_true(ratelim_rate(&l) <= 2.0 * l.measured + 1e-9);
	assert_true(ratelim_rate(&l) < cubic_at(&l, now));
}

static void
test_pacing(void **state)
{
	struct ratelim l;
	double now = T0, w1, w2, w3;

	(void)state;
	ratelim_init(&l, now);
	steady(&l, &now, 10, 4, 1);
	{
		double r = ratelim_rate(&l);
		/* Drain what the bucket holds, then three at the same instant
		 * wait 1, 2 and 3 token intervals. */
		while (ratelim_acquire(&l, now) == 0)
			;
		w1 = ratelim_acquire(&l, now);
		w2 = ratelim_acquire(&l, now);
		w3 = ratelim_acquire(&l, now);
		assert_true(w1 > 1.0 / r && w1 <= 2.0 / r + 1e-9);
		assert_true(fabs(w2 - w1 - 1.0 / r) < 1e-9);
		assert_true(fabs(w3 - w2 - 1.0 / r) < 1e-9);
		/* After waiting the promised time, the next is one interval on. */
		now += w3;
		assert_true(fabs(ratelim_acquire(&l, now) - 1.0 / r) < 1e-9);
	}
}

/* A server admitting `rate` requests per second (burst `burst`); a client
 * that wants to send every 20 ms for 60 s. Returns the throttled share. */
static double
closed_loop(int limited, double rate, double burst, int *sent)
{
	struct ratelim l;
	double now = T0, tokens = burst, last = T0;
	int n = 0, throttled = 0;

	ratelim_init(&l, now);
	while (now < T0 + 60) {
		int thr;
		if (limited)
			now += ratelim_acquire(&l, now);
		tokens += (now - last) * rate;
		if (tokens > burst)
			tokens = burst;
		last = now;
		thr = tokens < 1;
		if (!thr)
			tokens -= 1;
		throttled += thr;
		n++;
		if (limited)
			ratelim_update(&l, now, thr);
		now += 0.02;
	}
	*sent = n;
	return (double)throttled / n;
}

static void
test_closed_loop_fewer_throttled(void **state)
{
	int n_std, n_ad;
	double std = closed_loop(0, 5, 5, &n_std), ad = closed_loop(1, 5, 5, &n_ad);

	(void)state;
	printf("    throttled share over 60 s at a 5/s server: without limiter %.0f%% of %d, adaptive %.0f%% of %d\n",
	    std * 100, n_std, ad * 100, n_ad);
	assert_true(std > 0.85);
	assert_true(ad < 0.25);
	/* ... while still using most of what the server admits (5/s for 60 s). */
	assert_true((1 - ad) * n_ad > 0.6 * 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_until_throttled),
		cmocka_unit_test(test_throttle_cuts_to_beta_of_measured),
		cmocka_unit_test(test_cubic_recovery),
		cmocka_unit_test(test_pacing),
		cmocka_unit_test(test_closed_loop_fewer_throttled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
