/* Unit tests for the engine's waits (engine_poll, runbook/engine.h) on a virtual
 * clock: the in-memory world (tests/support/fakeworld.c) makes environment
 * updates take a set number of virtual seconds, and the engine sleeps by
 * moving that clock, so these tests count calls and read virtual times;
 * nothing here depends on how fast the machine is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/steps/env_wait.h"
#include "enginerun.h"
#include "aws/wait.h"

/* No 60 s window holds more than WAIT_MAX_PER_MIN of the calls t[0..n). */
static void
assert_budget(const double *t, int n)
{
	int i;

	for (i = 0; i + WAIT_MAX_PER_MIN < n; i++)
		if (t[i + WAIT_MAX_PER_MIN] - t[i] <= 60.0) {
			fprintf(stderr, "calls %d..%d at %.2f..%.2f s: 13 inside 60 s\n", i,
			    i + WAIT_MAX_PER_MIN, t[i], t[i + WAIT_MAX_PER_MIN]);
			fail();
		}
}

/* scale-live's update teaches the engine how long an update takes; maint-on
 * (run later, as a resumed cutover would) expects its update to take as
 * long and notices it within a second, where the schedule without a
 * prediction is 6 s late. */
static void
test_learned_update_is_noticed_within_a_second(void **state)
{
	struct enginerun h;
	struct run_clock clk;
	struct cut_err err;
	struct fw_env *live;
	double lag_scale, lag_maint;
	char *j;

	(void)state;
	enginerun_init(&h, 1);
	fakeworld_clock(h.fw, &clk);
	h.clock = &clk;
	h.fw->clock = 1000;
	h.fw->update_s = 40;
	h.opts.poll_adaptive = 1;
	h.opts.poll_ms = 0;   /* ignored when adaptive */
	h.opts.wait_timeout_s = 3600;
	live = fakeworld_env(h.fw, h.names.live_web);

	h.opts.until = "scale-live";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	lag_scale = live->notice_lag;
	/* No prediction: early probes, then 7 s apart (0 1 2 4 11 ... 39 46). */
	assert_true(lag_scale > 3.0);
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"wait_kind\":\"env-update\""));
	free(j);

	h.opts.until = "maint-on";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	lag_maint = live->notice_lag;
	fprintf(stderr, "# notice lag: scale-live %.2f s (no prediction), maint-on %.2f s "
	    "(learnt)\n", lag_scale, lag_maint);
	assert_true(lag_maint >= 0 && lag_maint <= 1.0);
	enginerun_done(&h);
}

/* A run_ctx for calling waits directly on the fake world's clock. */
static void
direct_ctx(struct run_ctx *ctx, struct enginerun *h, struct run_clock *clk)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->world = h->w;
	ctx->names = h->names;
	ctx->clock = clk;
	ctx->opts.wait_timeout_s = 3600;
}

/* A 10-minute update with no prediction: the schedule never makes a 13th
 * call inside 60 s, though the fixed interval asked for is 1 s. */
static void
test_long_wait_keeps_the_call_budget(void **state)
{
	struct enginerun h;
	struct run_clock clk;
	struct run_ctx ctx;
	struct cut_err err;
	int n;

	(void)state;
	enginerun_init(&h, 0);
	fakeworld_clock(h.fw, &clk);
	direct_ctx(&ctx, &h, &clk);
	ctx.opts.poll_adaptive = 1;
	ctx.opts.poll_ms = 1000;
	h.fw->clock = 1000;
	h.fw->update_s = 600;
	assert_int_equal(h.w->env_scale(h.w, h.names.live_web, 1, 1, &err), 0);
	ctx.applied_at = h.fw->clock;
	h.fw->ndescribe = 0;
	assert_int_equal(step_wait_env_ready(&ctx, h.names.live_web, &err), 0);
	n = h.fw->ndescribe;
	assert_true(n <= FW_CALLS);
	fprintf(stderr, "# 600 s update: %d calls, noticed %.2f s late\n", n,
	    fakeworld_env(h.fw, h.names.live_web)->notice_lag);
	assert_true(n <= 600 / 5 + 8);
	assert_budget(h.fw->describe_t, n);
	assert_true(fakeworld_env(h.fw, h.names.live_web)->notice_lag <= 5.0);
	enginerun_done(&h);
}

/* A snapshot-like wait whose poll reports a rising percentage finishing at
 * 300 s: the engine feeds it to the schedule, which polls densely around
 * the extrapolated end and notices within a second, inside the budget. */
struct pct_world {
	struct fakeworld *fw;
	double begin, dur;
	double t[FW_CALLS];
	int n;
};

static int
poll_pct(struct run_ctx *ctx, void *arg, char *status, size_t len, int *percent,
    double *rate, struct cut_err *err)
{
	struct pct_world *p = arg;
	double now = engine_now(ctx), f = (now - p->begin) / p->dur;

	(void)rate;
	/* A fixed interval of 0 would never move the clock: stop it there. */
	if (p->n >= FW_CALLS)
		return cut_err_set(err, CUT_ETIMEOUT, "Too many polls.");
	p->t[p->n++] = now;
	*percent = f >= 1 ? 100 : (int)(f * 100);
	snprintf(status, len, "%s", f >= 1 ? "available" : "creating");
	return f >= 1;
}

static void
test_percent_predicts_the_end(void **state)
{
	struct enginerun h;
	struct run_clock clk;
	struct run_ctx ctx;
	struct cut_err err;
	struct pct_world p;

	(void)state;
	enginerun_init(&h, 0);
	fakeworld_clock(h.fw, &clk);
	direct_ctx(&ctx, &h, &clk);
	ctx.opts.poll_adaptive = 1;
	h.fw->clock = 1000;
	memset(&p, 0, sizeof(p));
	p.begin = 1000;
	p.dur = 300.4;
	assert_int_equal(engine_poll(&ctx, "snapshot", poll_pct, &p, &err), 0);
	fprintf(stderr, "# 300 s snapshot: %d calls, noticed %.2f s late\n", p.n,
	    p.t[p.n - 1] - (p.begin + p.dur));
	assert_true(p.t[p.n - 1] - (p.begin + p.dur) <= 1.0);
	assert_budget(p.t, p.n);
	enginerun_done(&h);
}

/* CUTOVER_POLL_MS (poll_adaptive 0): a fixed interval, as tests rely on. */
static void
test_fixed_interval_override(void **state)
{
	struct enginerun h;
	struct run_clock clk;
	struct run_ctx ctx;
	struct cut_err err;
	int i;

	(void)state;
	enginerun_init(&h, 0);
	fakeworld_clock(h.fw, &clk);
	direct_ctx(&ctx, &h, &clk);
	ctx.opts.poll_ms = 300;
	h.fw->clock = 1000;
	h.fw->update_s = 10;
	assert_int_equal(h.w->env_scale(h.w, h.names.live_web, 1, 1, &err), 0);
	h.fw->ndescribe = 0;
	assert_int_equal(step_wait_env_ready(&ctx, h.names.live_web, &err), 0);
	assert_true(h.fw->ndescribe >= 33 && h.fw->ndescribe <= 35);
	for (i = 1; i < h.fw->ndescribe; i++)
		assert_true(h.fw->describe_t[i] - h.fw->describe_t[i - 1] > 0.299 &&
		    h.fw->describe_t[i] - h.fw->describe_t[i - 1] < 0.301);
	enginerun_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learned_update_is_noticed_within_a_second),
		cmocka_unit_test(test_long_wait_keeps_the_call_budget),
		cmocka_unit_test(test_percent_predicts_the_end),
		cmocka_unit_test(test_fixed_interval_override),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
