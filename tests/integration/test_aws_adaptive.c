/* Adaptive retry mode against the simulated AWS's request-rate quota
 * (fault kind "ratelimit": STS admits 5 requests a second): the same burst
 * of calls, made once in standard mode and once in adaptive mode, all
 * succeed, and adaptive mode sends fewer requests into the throttle
 * because its client-side limiter slows down after the first throttling
 * answers instead of retrying into them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "simaws.h"
#include "aws/sts.h"
#include "tsupport.h"

#define CALLS 30

static char *home;

static int
setup(void **state)
{
	(void)state;
	if (!sim_available())
		fail_msg("FAKEAWS_ADMIN is not set: run through tests/run so the fakeaws service is up");
	home = ts_tmpdir();
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_MAX_ATTEMPTS", "10", 1);
	unsetenv("AWS_PROFILE");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	ts_rmtree(home);
	free(home);
	return 0;
}

struct run {
	int throttled, admitted;
	unsigned long attempts;
	double secs, final_rate;
};

static void
burst(const char *mode, struct run *out)
{
	struct aws_client_opts o = { .retry_scale = 0.25 };
	struct aws_client *c;
	struct sts_identity id;
	struct cut_err err;
	struct json_object *f, *arr, *one, *v;
	struct timespec t0, t1;
	int i;

	assert_int_equal(sim_reset(), 0);
	json_object_put(sim_post("faults", "{\"kind\": \"ratelimit\", \"service\": \"sts\", \"rate\": 5, \"burst\": 5}"));
	setenv("AWS_RETRY_MODE", mode, 1);
	if (aws_client_new(&o, &c, &err) != 0)
		fail_msg("aws_client_new: %s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < CALLS; i++)
		if (sts_get_caller_identity(c, &id, &err) != 0)
			fail_msg("%s mode, call %d: %s", mode, i, err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->attempts = aws_client_calls(c);
	out->final_rate = aws_client_rate_limit(c);
	out->secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	aws_client_free(c);
	f = sim_get("faults");
	assert_non_null(f);
	assert_true(json_object_object_get_ex(f, "faults", &arr));
	one = json_object_array_get_idx(arr, 0);
	assert_non_null(one);
	out->throttled = json_object_object_get_ex(one, "fired", &v) ? json_object_get_int(v) : 0;
	out->admitted = json_object_object_get_ex(one, "admitted", &v) ? json_object_get_int(v) : 0;
	json_object_put(f);
	json_object_put(sim_delete("faults"));
	printf("    %-8s %d calls: %lu attempts, %d throttled, %.1f s, limiter rate %.2f/s at the end\n",
	    mode, CALLS, out->attempts, out->throttled, out->secs, out->final_rate);
}

static void
test_adaptive_sends_fewer_into_throttling(void **state)
{
	struct run std, ad;

	(void)state;
	burst("standard", &std);
	burst("adaptive", &ad);
	/* Every call got through in both modes. */
	assert_int_equal(std.admitted, CALLS);
	assert_int_equal(ad.admitted, CALLS);
	assert_int_equal(std.attempts, (unsigned long)(CALLS + std.throttled));
	assert_true(std.final_rate == 0);
	assert_true(ad.final_rate > 0);
	/* The point: fewer requests into the throttle. */
	assert_true(ad.throttled * 2 <= std.throttled);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_adaptive_sends_fewer_into_throttling, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
