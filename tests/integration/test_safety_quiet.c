/* The quiet-period wait against a real access log written while the agent
 * follows it: ELB health checks never stop (and are never counted), real
 * requests stop after a while, the log is rotated in the middle; the wait
 * ends only once every instance has been quiet for the quiet period. With
 * --yes and requests still coming, the deadline stops it with a reason.
 * Also logcount on its own: exact counts, copytruncate, cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "safety/quiet.h"
#include "sx.h"

static char dir[64];

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* EB's nginx "main" format: combined plus "$http_x_forwarded_for". */
static void
log_line(const char *path, const char *ua, const char *req)
{
	FILE *f = fopen(path, "a");
	if (f == NULL)
		return;
	fprintf(f, "10.0.1.17 - - [25/Nov/2026:10:00:00 +0000] \"%s HTTP/1.1\" 200 5316 \"-\" \"%s\" \"203.0.113.9\"\n",
	    req, ua);
	fclose(f);
}

struct writer {
	char log[128];
	uint64_t real_until_ms;    /* real requests until then (absolute) */
	uint64_t rotate_at_ms;     /* rename the log then (0: never) */
	volatile int stop, started;
	int real_written, health_written;
	pthread_t th;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	int rotated = 0;

	while (!w->started)
		usleep(10000);
	while (!w->stop) {
		uint64_t t = now_ms();
		log_line(w->log, "ELB-HealthChecker/2.0", "GET /health");
		w->health_written++;
		if (t < w->real_until_ms) {
			log_line(w->log, "Mozilla/5.0 (\\\"quoted\\\" ELB-HealthChecker/2.0 in the path)",
			    "POST /events/congress/checkout");
			w->real_written++;
		}
		if (w->rotate_at_ms && !rotated && t >= w->rotate_at_ms) {
			char old[160];
			snprintf(old, sizeof(old), "%s.1", w->log);
			rename(w->log, old);
			rotated = 1;   /* nginx reopens: the next line creates the new file */
		}
		usleep(50000);
	}
	return NULL;
}

struct prog {
	struct writer *w;
	int calls;
	double max_rate;
	uint64_t excluded;
};

static void
progress(void *arg, const struct quiet_status *st)
{
	struct prog *p = arg;

	p->calls++;
	p->w->started = 1;   /* the agent follows the log from here on */
	if (st->hosts[0].per_minute > p->max_rate)
		p->max_rate = st->hosts[0].per_minute;
	p->excluded = st->hosts[0].excluded;
}

static void
test_quiet_after_requests_stop(void **state)
{
	struct alink l;
	struct writer w = { 0 };
	struct prog p = { &w, 0, 0, 0 };
	struct cut_err err = { 0 };
	(void)state;

	snprintf(w.log, sizeof(w.log), "%s/access.log", dir);
	log_line(w.log, "x", "GET /before");   /* before the follow: not counted */
	uint64_t t0 = now_ms();
	w.real_until_ms = t0 + 1500;
	w.rotate_at_ms = t0 + 700;
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	assert_int_equal(sx_agent(&l, "live-1"), 0);
	const char *paths[] = { w.log, NULL };
	struct quiet_opts o = {
		.quiet_ms = 1000, .deadline_ms = 20000,
		.log = { .paths = paths, .interval_ms = 200 },
		.progress = progress, .arg = &p,
	};
	int r = quiet_wait(&l, 1, &o, &err);
	uint64_t took = now_ms() - t0;
	w.stop = 1;
	pthread_join(w.th, NULL);
	alink_close(&l);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	/* Not before the requests stopped plus the quiet period. */
	assert_true(took >= 2500);
	assert_true(took < 8000);
	assert_true(p.max_rate > 0);
	/* Health checks kept arriving and were left out, across the rotation. */
	assert_true(p.excluded >= 20);
	assert_true(w.real_written > 10);
}

static void
test_deadline_with_yes_stops(void **state)
{
	struct alink l;
	struct writer w = { 0 };
	struct prog p = { &w, 0, 0, 0 };
	struct cut_err err = { 0 };
	(void)state;

	snprintf(w.log, sizeof(w.log), "%s/busy.log", dir);
	log_line(w.log, "x", "GET /");
	w.real_until_ms = UINT64_MAX;
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	assert_int_equal(sx_agent(&l, "live-busy"), 0);
	const char *paths[] = { w.log, NULL };
	struct quiet_opts o = {
		.quiet_ms = 1000, .deadline_ms = 1500, .yes = 1,
		.log = { .paths = paths, .interval_ms = 200 },
		.progress = progress, .arg = &p,
	};
	int r = quiet_wait(&l, 1, &o, &err);
	w.stop = 1;
	pthread_join(w.th, NULL);
	alink_close(&l);
	assert_int_equal(r, CUT_ETIMEOUT);
	assert_non_null(strstr(err.msg, "did not go quiet"));
	assert_non_null(strstr(err.msg, "live-busy"));
}

struct counts { uint64_t requests, excluded, rotations; int frames; };

static int
count_cb(void *arg, const struct aop_count *c)
{
	struct counts *k = arg;
	k->requests += c->requests;
	k->excluded += c->excluded;
	k->rotations += c->rotations;
	k->frames++;
	return 0;
}

/* While a follow runs: truncate in place, then write three requests. */
static void *
truncate_then_write(void *arg)
{
	const char *log = arg;

	usleep(400000);
	FILE *f = fopen(log, "w");
	if (f != NULL)
		fclose(f);
	usleep(300000);
	for (int i = 0; i < 3; i++)
		log_line(log, "Mozilla/5.0", "GET /after");
	return NULL;
}

static void
test_logcount_exact_and_truncate(void **state)
{
	struct alink l;
	struct counts k = { 0 };
	struct cut_err err = { 0 };
	char log[128];
	(void)state;

	snprintf(log, sizeof(log), "%s/exact.log", dir);
	for (int i = 0; i < 7; i++)
		log_line(log, "Mozilla/5.0", "GET /a");
	for (int i = 0; i < 5; i++)
		log_line(log, "ELB-HealthChecker/2.0", "GET /");
	log_line(log, "UptimeRobot/2.0", "GET /");
	assert_int_equal(sx_agent(&l, "live-1"), 0);
	const char *paths[] = { log, NULL };
	const char *excl[] = { "UptimeRobot", NULL };
	struct aop_logcount_opts o = { .paths = paths, .exclude_ua = excl, .interval_ms = 100,
	    .duration_ms = 600, .from_start = 1 };
	assert_int_equal(aop_logcount(&l, &o, count_cb, &k, &err), 0);
	assert_int_equal(k.requests, 7);
	assert_int_equal(k.excluded, 6);
	assert_true(k.frames >= 5);

	/* copytruncate: the file shrinks under the follower, which reads from 0. */
	memset(&k, 0, sizeof(k));
	o.from_start = 0;
	o.duration_ms = 1200;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, truncate_then_write, log), 0);
	assert_int_equal(aop_logcount(&l, &o, count_cb, &k, &err), 0);
	pthread_join(th, NULL);
	alink_close(&l);
	/* The 3 lines written after the truncation, none of the old 13 again. */
	assert_int_equal(k.requests, 3);
	assert_true(k.rotations >= 1);
}

/* Cancel: a follow without a duration ends when the callback says stop. */
static int
stop_after_two(void *arg, const struct aop_count *c)
{
	int *n = arg;
	(void)c;
	return ++*n >= 2 ? 1 : 0;
}

static void
test_logcount_cancel(void **state)
{
	struct alink l;
	struct cut_err err = { 0 };
	char log[128];
	int n = 0;
	(void)state;

	snprintf(log, sizeof(log), "%s/cancel.log", dir);
	log_line(log, "x", "GET /");
	assert_int_equal(sx_agent(&l, "live-1"), 0);
	const char *paths[] = { log, NULL };
	struct aop_logcount_opts o = { .paths = paths, .interval_ms = 100 };
	uint64_t t0 = now_ms();
	assert_int_equal(aop_logcount(&l, &o, stop_after_two, &n, &err), 0);
	assert_true(now_ms() - t0 < 3000);
	/* The link still works after a cancelled request. */
	uint64_t avail, total;
	assert_int_equal(aop_df(&l, dir, &avail, &total, &err), 0);
	assert_true(total > 0);
	/* A missing log is one clear error. */
	const char *missing[] = { "/nonexistent/access.log", NULL };
	struct aop_logcount_opts o2 = { .paths = missing, .interval_ms = 100, .duration_ms = 300 };
	assert_int_not_equal(aop_logcount(&l, &o2, stop_after_two, &n, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent/access.log"));
	alink_close(&l);
}

/* Polled counts (the runbook engine's request_rate): since the previous take. */
static void
test_qrate(void **state)
{
	struct alink l[2];
	struct qrate *q;
	struct cut_err err = { 0 };
	char log[128];
	uint64_t req, ms;
	(void)state;

	snprintf(log, sizeof(log), "%s/rate.log", dir);
	log_line(log, "x", "GET /");
	assert_int_equal(sx_agent(&l[0], "live-1"), 0);
	assert_int_equal(sx_agent(&l[1], "live-2"), 0);
	const char *paths[] = { log, NULL };
	struct aop_logcount_opts o = { .paths = paths, .interval_ms = 100 };
	assert_int_equal(qrate_start(l, 2, &o, &q, &err), 0);
	usleep(400000);
	for (int i = 0; i < 5; i++)
		log_line(log, "Mozilla/5.0", "GET /a");
	log_line(log, "ELB-HealthChecker/2.0", "GET /");
	usleep(500000);
	assert_int_equal(qrate_take(q, &req, &ms, &err), 0);
	/* Both instances follow the same file here: each counts the 5. */
	assert_int_equal(req, 10);
	assert_true(ms >= 800);
	usleep(300000);
	assert_int_equal(qrate_take(q, &req, &ms, &err), 0);
	assert_int_equal(req, 0);
	qrate_stop(q);
	alink_close(&l[0]);
	alink_close(&l[1]);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cutover-quiet.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_after_requests_stop),
		cmocka_unit_test(test_deadline_with_yes_stops),
		cmocka_unit_test(test_logcount_exact_and_truncate),
		cmocka_unit_test(test_logcount_cancel),
		cmocka_unit_test(test_qrate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
