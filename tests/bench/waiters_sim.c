/* waiters_sim.c: the waiter benchmark (run by tests/bench/bench_waiters).
 *
 * How long after a resource becomes ready does the waiter notice, and how
 * many calls a minute does it make, next to botocore's waiters (the AWS
 * CLI's `aws ... wait`: a call at 0 s then every 20 s for EB, 30 s for RDS
 * and Route 53) on the same transitions.
 *
 * Part 1, modelled: 2000 transitions per waiter with realistic AWS
 * durations, run through the real schedule (wait_sched_*) on a virtual
 * clock. Part 2, live: the C waiters against the simulated AWS (fakeaws)
 * on real transitions of a few seconds, wall clock.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/eb.h"
#include "aws/r53.h"
#include "aws/rds.h"
#include "simaws.h"
#include "aws/wait.h"

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static double
urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	return v[(int)(p * (n - 1) + 0.5)];
}

/* botocore: calls at 0, d, 2d, ...: notices at the first multiple of d >= D. */
static double
botocore_latency(double D, double delay)
{
	return ceil(D / delay) * delay - D;
}

struct model {
	const char *name;
	double dmin, dmax;     /* duration range, s */
	double boto_delay;
	double hint_abs;       /* expected duration known to +- this many seconds */
	double hint_rel;       /* ... or to +- this fraction */
	int percent;           /* 1: PercentProgress reported */
	double twin_abs;       /* engine: the hint is learned from a twin's no-hint
	                          wait whose duration differs by up to this much */
	int bound;             /* print the no-information bound under this row */
};

struct one {
	double lat;            /* lag between readiness and the poll that saw it */
	double last_pending;   /* time of the last poll that saw it pending */
	int n;
	double maxwin;         /* most calls in any 60 s window */
};

/* One wait through the real schedule on a virtual clock starting at 0. */
static void
run_one(double D, double hint, int percent, struct one *o)
{
	static double times[4096];
	double t = 0;
	struct wait_sched s;
	int n = 0, a, b;

	o->last_pending = 0;
	wait_sched_init(&s, 0, hint);
	for (;;) {
		times[n++] = t;
		wait_sched_record_call(&s, t);
		if (t >= D || n >= 4096)
			break;
		o->last_pending = t;
		if (percent) {
			/* Integer percent of elapsed time, +-1 point of jitter
			 * (fakeaws reports exactly int(100 t / D)). */
			int p = (int)(100.0 * t / D) + (int)(3 * urand()) - 1;
			wait_sched_observe_percent(&s, t, p > 99 ? 99 : p < 0 ? 0 : p);
		}
		t = wait_sched_next(&s, t);
	}
	o->lat = t - D;
	o->n = n;
	o->maxwin = 0;
	for (a = 0; a < n; a++) {
		int in = 0;
		for (b = a; b < n && times[b] < times[a] + 60.0; b++)
			in++;
		if (in > o->maxwin)
			o->maxwin = in;
	}
}

static void
modelled(void)
{
	static const struct model m[] = {
		{ "EB env update, hint +-3 s (twin env's update just timed)", 60, 300, 20, 3, 0, 0, 0, 0 },
		{ "EB env update, hint +-10%", 60, 300, 20, 0, 0.10, 0, 0, 0 },
		{ "engine: 2nd env update, hint learned from 1st (twin +-3 s)", 60, 300, 20, 0, 0, 0, 3, 0 },
		{ "engine: 2nd env update, hint learned from 1st (twin +-10 s)", 60, 300, 20, 0, 0, 0, 10, 0 },
		{ "EB env update, no hint", 60, 300, 20, 0, 0, 0, 0, 1 },
		{ "RDS snapshot available (PercentProgress)", 120, 1200, 30, 0, 0, 1, 0, 0 },
		{ "RDS DB instance available, no hint", 300, 900, 30, 0, 0, 0, 0, 1 },
		{ "Route 53 change INSYNC, no hint", 20, 90, 30, 0, 0, 0, 0, 1 },
	};
	enum { N = 2000 };
	static double lat[N], blat[N];
	size_t k;

	printf("modelled: %d transitions per waiter, real schedule, virtual clock\n", N);
	printf("%-62s %9s %9s %8s %8s | %9s %9s %8s\n", "waiter", "median s", "p95 s", "max/min", "avg/min",
	    "boto med", "boto p95", "boto/min");
	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		double maxwin = 0, calls = 0, mins = 0, under2 = 0;
		int i;
		for (i = 0; i < N; i++) {
			double D = m[k].dmin + urand() * (m[k].dmax - m[k].dmin);
			double hint = m[k].hint_abs > 0 ? D + m[k].hint_abs * (2 * urand() - 1) :
			    m[k].hint_rel > 0 ? D * (1 + m[k].hint_rel * (2 * urand() - 1)) : 0;
			struct one o;
			if (m[k].twin_abs > 0) {
				/* What engine_poll_kind does: the first environment's
				 * wait has no hint; the midpoint between its last
				 * pending poll and the poll that saw it Ready is the
				 * learned duration passed to the second's. */
				double D1 = D + m[k].twin_abs * (2 * urand() - 1);
				run_one(D1, 0, 0, &o);
				hint = (o.last_pending + (o.lat + D1)) / 2;
			}
			run_one(D, hint, m[k].percent, &o);
			lat[i] = o.lat;
			under2 += o.lat < 2.0;
			blat[i] = botocore_latency(D, m[k].boto_delay);
			if (o.maxwin > maxwin)
				maxwin = o.maxwin;
			calls += o.n;
			mins += (o.lat + D > 0 ? o.lat + D : 1) / 60.0;
		}
		printf("%-62s %9.2f %9.2f %8.0f %8.1f | %9.2f %9.2f %8.1f\n", m[k].name, pct(lat, N, 0.5),
		    pct(lat, N, 0.95), maxwin, calls / mins, pct(blat, N, 0.5), pct(blat, N, 0.95),
		    60.0 / m[k].boto_delay);
		if (m[k].bound)
			printf("%-62s %9.2f %9s %8s %8s | P(lag < 2 s) %.0f%%, bound %.0f%%\n",
			    "  bound with no information (12 calls / 60 s)", 2.5, "", "", "",
			    100.0 * under2 / N, 100.0 * 2.0 / 5.0);
	}
	printf("(No-hint bound: with at most 12 calls in any 60 s and nothing saying when readiness\n"
	    " comes, a poll within x s after it happens for at most 12 x of every 60 s of possible\n"
	    " readiness times, so P(lag < x) <= x / 5 s and no schedule has a median lag under\n"
	    " 2.5 s; the 2 s goal needs a hint: PercentProgress, or a duration learned from the\n"
	    " twin environment, as the engine does.)\n");
}

/* ---- live against fakeaws ------------------------------------------------------ */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
set_duration(const char *what, double d)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"durations\": {\"%s\": %.2f}}", what, d);
	json_object_put(sim_post("time", body));
}

static int
live(void)
{
	struct aws_client_opts o = { 0 };
	struct aws_client *c;
	struct cut_err err;
	static const double durs[] = { 3.3, 6.7, 9.1, 12.6 };
	enum { ND = sizeof(durs) / sizeof(durs[0]) };
	double lat[4][ND], blat[4][ND], cpm[4][ND];
	const char *names[4] = { "EB environment update (hint +-10%)", "RDS snapshot (PercentProgress)",
		"RDS restore, DB available (no hint)", "Route 53 change INSYNC (no hint)" };
	const double boto[4] = { 20, 30, 30, 30 };
	int i, k;

	if (!sim_available() || sim_reset() != 0 || aws_client_new(&o, &c, &err) != 0) {
		fprintf(stderr, "bench_waiters: the simulated AWS is not reachable%s%s\n",
		    sim_available() ? ": " : "", sim_available() ? err.msg : "");
		return 1;
	}
	for (i = 0; i < (int)ND; i++) {
		double D = durs[i], t0, t1;
		unsigned long calls;
		double el;
		struct wait_opts wo = { .calls_out = &calls, .elapsed_out = &el };
		char id[64];

		/* EB update, hint from "the other environment's" duration +-10%. */
		set_duration("env_update", D);
		{
			struct eb_option_set set[] = { { EB_NS_ENV, "BENCH", id } };
			struct eb_update u = { .env_name = "cobalt-production-green", .set = set, .nset = 1 };
			struct eb_env e;
			snprintf(id, sizeof(id), "%d", i);
			t0 = now();
			if (eb_update_environment(c, &u, &e, &err) != 0)
				goto fail;
			wo.expected_s = D * (i % 2 ? 0.9 : 1.1);
			if (wait_env_ready(c, "cobalt", "cobalt-production-green", NULL, &wo, NULL, &err) != 0)
				goto fail;
			t1 = now();
			lat[0][i] = (t1 - t0) - D;
			cpm[0][i] = (double)calls;
		}
		wo.expected_s = 0;
		set_duration("snapshot", D);
		snprintf(id, sizeof(id), "bench-snap-%d", i);
		t0 = now();
		if (rds_create_db_snapshot(c, id, "production-blue", NULL, &err) != 0 ||
		    wait_snapshot_available(c, id, &wo, NULL, &err) != 0)
			goto fail;
		t1 = now();
		lat[1][i] = (t1 - t0) - D;
		cpm[1][i] = (double)calls;

		set_duration("db_create", D);
		snprintf(id, sizeof(id), "bench-db-%d", i);
		{
			struct rds_restore rr = { .instance_id = id, .snapshot_id = "production-blue-before-6-0",
			    .instance_class = "db.t3.small", .multi_az = -1, .publicly_accessible = -1 };
			t0 = now();
			if (rds_restore_db_instance_from_db_snapshot(c, &rr, NULL, &err) != 0 ||
			    wait_db_available(c, id, &wo, NULL, &err) != 0)
				goto fail;
			t1 = now();
		}
		lat[2][i] = (t1 - t0) - D;
		cpm[2][i] = (double)calls;

		set_duration("dns_change", D);
		{
			char *vals[] = { "203.0.113.10" };
			struct r53_record r = { .type = "A", .ttl = 60, .weight = -1, .values = vals, .nvalues = 1 };
			struct r53_change ch = { "UPSERT", &r };
			struct r53_change_info ci;
			snprintf(r.name, sizeof(r.name), "bench-%d.myabf.com.au.", i);
			t0 = now();
			if (r53_change_resource_record_sets(c, "Z0FAKEMYABF00000001", NULL, &ch, 1, &ci, &err) != 0 ||
			    wait_change_insync(c, ci.id, &wo, &err) != 0)
				goto fail;
			t1 = now();
		}
		lat[3][i] = (t1 - t0) - D;
		cpm[3][i] = (double)calls;
		for (k = 0; k < 4; k++)
			blat[k][i] = botocore_latency(D, boto[k]);
	}
	printf("\nlive: the C waiters against the simulated AWS, transitions of");
	for (i = 0; i < (int)ND; i++)
		printf(" %.1f", durs[i]);
	printf(" s (wall clock)\n");
	printf("%-40s %9s %9s %11s | %9s %9s %11s\n", "waiter", "median s", "max s", "max calls", "boto med",
	    "boto max", "boto calls");
	for (k = 0; k < 4; k++) {
		double mx = 0, bmx = 0, cm = 0;
		for (i = 0; i < (int)ND; i++) {
			if (lat[k][i] > mx) mx = lat[k][i];
			if (blat[k][i] > bmx) bmx = blat[k][i];
			if (cpm[k][i] > cm) cm = cpm[k][i];
		}
		printf("%-40s %9.2f %9.2f %11.0f | %9.2f %9.2f %11d\n", names[k], pct(lat[k], ND, 0.5), mx, cm,
		    pct(blat[k], ND, 0.5), bmx, 2);
	}
	printf("(every live wait lasted under a minute, so \"max calls\" is the count in\n"
	    " its only 60 s window: at most 12 by construction, checked by test_wait.)\n");
	aws_client_free(c);
	sim_reset();
	return 0;
fail:
	fprintf(stderr, "bench_waiters: %s\n", err.msg);
	aws_client_free(c);
	return 1;
}

int
main(int argc, char **argv)
{
	modelled();
	if (argc > 1 && strcmp(argv[1], "--modelled-only") == 0)
		return 0;
	return live();
}
