/* links_bench: N consecutive remote operations on one sshd test host, per
 * operation latency with the connection cache (coordinator/remote/link_cache.h) beside
 * the old behaviour, a new SSH connection and agent for each operation
 * (lcache with reuse off: the same code path except the reuse).
 *
 *   df     the smallest agent request (statvfs): connection overhead alone
 *   sql    a small SQL query through the agent (SELECT 1, via psql on the
 *          host), like the unregistered-user count or a data-safety query
 *   quiet  one quiet-period poll: one access-log count interval (100 ms),
 *          as request_rate did before; and, with the cache, the running
 *          follow that request_rate keeps now (a poll only reads its count)
 *
 * Run by tests/bench/bench_links with SSHD_* and the host's env file set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "remote/agent_ops.h"
#include "remote/link_cache.h"
#include "safety/quiet.h"

static const char *
env(const char *k)
{
	const char *v = getenv(k);
	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "links_bench: %s is not set (run tests/bench/bench_links)\n", k);
		exit(2);
	}
	return v;
}

struct bench {
	struct aop_conf conf;
	const char *log;
};

static int
sql_op(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct bench *b = arg;
	json_object *j = NULL;
	int r;

	(void)c;
	r = aop_sql(l, &b->conf, "SELECT 1", 0, NULL, &j, err);
	json_object_put(j);
	return r;
}

static int
df_op(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	uint64_t avail, total;

	(void)arg;
	(void)c;
	return aop_df(l, "/", &avail, &total, err);
}

static int
one_count(void *arg, const struct aop_count *c)
{
	(void)arg;
	(void)c;
	return 1;   /* one interval is the sample */
}

static int
quiet_op(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct bench *b = arg;
	const char *paths[] = { b->log, NULL };
	struct aop_logcount_opts o = { paths, NULL, 100, 0, 0 };

	(void)c;
	return aop_logcount(l, &o, one_count, NULL, err);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Runs fn n times through a cache (reuse on or off); per-op ms in ms[]. */
static int
series(const struct lcache_host *h, int reuse, lcache_fn fn, struct bench *b, int n, double *ms,
    unsigned long *connects)
{
	struct lcache *lc;
	struct lcache_stats st;
	struct cut_err err;

	if (lcache_new(&lc, reuse, &err) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct timespec a, z;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (lcache_run(lc, h, fn, b, &err) != 0) {
			fprintf(stderr, "links_bench: %s\n", err.msg);
			lcache_free(lc);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &z);
		ms[i] = (double)(z.tv_sec - a.tv_sec) * 1e3 + (double)(z.tv_nsec - a.tv_nsec) / 1e6;
	}
	lcache_get_stats(lc, &st);
	*connects = st.connects;
	lcache_free(lc);
	return 0;
}

static void
report(const char *what, const double *ms, int n, unsigned long connects)
{
	double s[256], sum = 0;

	memcpy(s, ms, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp);
	for (int i = 0; i < n; i++)
		sum += s[i];
	printf("   %-46s mean %9.3f ms  median %9.3f ms  (%lu connection%s)\n", what, sum / n, s[n / 2],
	    connects, connects == 1 ? "" : "s");
}

static double
mean(const double *ms, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += ms[i];
	return sum / n;
}

/* n ops of fn, baseline then cached, side by side. */
static int
compare(const struct lcache_host *h, struct bench *b, lcache_fn fn, int n, const char *what, const char *op)
{
	double old[256], cached[256];
	unsigned long c_old, c_new;
	char line[128];

	printf("-- %d %s, one after another\n", n, what);
	if (series(h, 0, fn, b, n, old, &c_old) != 0 || series(h, 1, fn, b, n, cached, &c_new) != 0)
		return -1;
	snprintf(line, sizeof(line), "baseline: new connection + agent per %s", op);
	report(line, old, n, c_old);
	report("cached connection (probe + request)", cached, n, c_new);
	printf("   %.1fx faster per %s (%.1f ms saved each)\n", mean(old, n) / mean(cached, n), op,
	    mean(old, n) - mean(cached, n));
	return 0;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	struct lcache_host h;
	struct bench b;
	double warm[2], follow[256];
	unsigned long c_warm;
	char envf[512], logf[512];

	if (n < 2 || n > 256)
		n = 20;
	memset(&h, 0, sizeof(h));
	h.target.ssh.host = "127.0.0.1";
	h.target.ssh.port = atoi(env("BENCH_PORT"));
	h.target.ssh.user = env("SSHD_USER");
	h.target.ssh.identity = env("SSHD_KEY");
	h.target.ssh.known_hosts = env("SSHD_KNOWN_HOSTS");
	snprintf(envf, sizeof(envf), "%s/h0/opt/elasticbeanstalk/deployment/env", env("SSHD_DIR"));
	snprintf(logf, sizeof(logf), "%s", env("BENCH_LOG"));
	memset(&b, 0, sizeof(b));
	b.conf.env_file = envf;
	b.log = logf;

	/* The agent is cached on the host (uploaded once) in both series. */
	if (series(&h, 1, sql_op, &b, 2, warm, &c_warm) != 0)
		return 1;

	if (compare(&h, &b, sql_op, n, "small SQL queries (SELECT 1 through the agent)", "query") != 0 ||
	    compare(&h, &b, df_op, n, "smallest agent requests (df /)", "request") != 0 ||
	    compare(&h, &b, quiet_op, n, "quiet-period polls (one 100 ms access-log interval each)", "poll") != 0)
		return 1;

	/* What request_rate does now: one follow, polls read its count. */
	{
		struct lcache *lc;
		struct rexec_conn *c;
		struct alink *l, copy;
		struct qrate *q;
		struct cut_err err;
		const char *paths[] = { logf, NULL };
		struct aop_logcount_opts o = { paths, NULL, 100, 0, 0 };
		uint64_t req, ivl;

		if (lcache_new(&lc, 1, &err) != 0 || lcache_get(lc, &h, &c, &l, &err) != 0 ||
		    (copy = *l, qrate_start(&copy, 1, &o, &q, &err)) != 0) {
			fprintf(stderr, "links_bench: %s\n", err.msg);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct timespec a, z;
			usleep(100000);   /* the engine polls on its own schedule */
			clock_gettime(CLOCK_MONOTONIC, &a);
			if (qrate_take(q, &req, &ivl, &err) != 0) {
				fprintf(stderr, "links_bench: %s\n", err.msg);
				return 1;
			}
			clock_gettime(CLOCK_MONOTONIC, &z);
			follow[i] = (double)(z.tv_sec - a.tv_sec) * 1e3 + (double)(z.tv_nsec - a.tv_nsec) / 1e6;
		}
		qrate_stop(q);
		l->next_id = copy.next_id;
		report("cached connection, running follow (now)", follow, n, 1);
		lcache_free(lc);
	}
	return 0;
}
