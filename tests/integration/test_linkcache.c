/* The per-command connection cache (coordinator/remote/link_cache.h) against the real
 * sshd test hosts (tests/harness/services/sshd-hosts): K operations use one
 * connection; a killed agent or a killed SSH session is reopened (with the
 * host's prepare function called again, as a fresh Instance Connect key
 * needs) for the next operation; an operation whose link dies under it is
 * reported and never sent again; hosts that leave their group are dropped.
 *
 * The connection is identified independently of the cache's counters: every
 * operation asks for $PPID, the pid of the agent that ran it (one agent per
 * SSH connection). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tsupport.h"

#include "base/clock.h"
#include "remote/link_cache.h"
#include "world/ops.h"

static int
count_prepare(void *arg, struct cut_err *err)
{
	(void)err;
	(*(int *)arg)++;
	return 0;
}

static void
host_for(struct lcache_host *h, int idx, int *prepared)
{
	memset(h, 0, sizeof(*h));
	h->target.ssh.host = "127.0.0.1";
	h->target.ssh.port = ts_sshd_port(idx);
	h->target.ssh.user = ts_env("SSHD_USER");
	h->target.ssh.identity = ts_env("SSHD_KEY");
	h->target.ssh.known_hosts = ts_env("SSHD_KNOWN_HOSTS");
	h->target.ssh.connect_timeout_ms = 5000;
	h->group = "env-a";
	h->tag = "i-1";
	h->prepare = count_prepare;
	h->prepare_arg = prepared;
}

struct sh_op {
	const char *script;
	char out[256];
	size_t n;
	struct rexec_result res;
};

static void
collect(void *ctx, int fd, const void *data, size_t len)
{
	struct sh_op *o = ctx;

	if (fd == 1 && o->n + len < sizeof(o->out)) {
		memcpy(o->out + o->n, data, len);
		o->n += len;
		o->out[o->n] = '\0';
	}
}

static int
sh_fn(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct sh_op *o = arg;
	const char *argv[] = { "sh", "-c", o->script, NULL };
	struct rexec_request req = { .kind = REXEC_RUN, .argv = argv, .timeout_ms = 20000 };
	struct rexec_io io = { collect, o, -1, NULL };

	(void)l;
	o->n = 0;
	o->out[0] = '\0';
	return rexec_run(c, &req, &io, &o->res, err);
}

/* The pid of the agent that runs an operation on h. */
static long
agent_pid(struct lcache *lc, const struct lcache_host *h)
{
	struct sh_op o = { .script = "echo $PPID" };
	struct cut_err err;
	int r = lcache_run(lc, h, sh_fn, &o, &err);

	if (r != 0)
		fail_msg("operation failed: %s", err.msg);
	assert_int_equal(o.res.status, 0);
	return atol(o.out);
}

/* A reusing cache with one operation done on host idx; returns its agent's pid. */
static long
start(struct lcache **lc, struct lcache_host *h, int idx, int *prepared)
{
	struct cut_err err;

	host_for(h, idx, prepared);
	assert_int_equal(lcache_new(lc, 1, &err), 0);
	return agent_pid(*lc, h);
}

static void
test_k_ops_one_connection(void **state)
{
	struct lcache *lc;
	struct lcache_host h;
	struct lcache_stats st;
	struct cut_err err;
	int prepared = 0;
	const int K = 12;

	(void)state;
	long first = start(&lc, &h, 10, &prepared);
	assert_true(first > 1);
	for (int i = 1; i < K; i++)
		assert_int_equal(agent_pid(lc, &h), first);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.reused, K - 1);
	assert_int_equal(st.open, 1);
	assert_int_equal(prepared, 1);
	/* the agent is still running between operations: it is the connection */
	assert_int_equal(kill((pid_t)first, 0), 0);
	lcache_free(lc);

	/* The old behaviour (the benchmark's baseline): one connection each. */
	assert_int_equal(lcache_new(&lc, 0, &err), 0);
	long a = agent_pid(lc, &h), b = agent_pid(lc, &h);
	assert_true(a != b);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.open, 0);
	lcache_free(lc);
}

static long
parent_of(long pid)
{
	char p[64], buf[512];
	FILE *f;
	long ppid = -1;

	snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		char *e = strrchr(buf, ')');
		if (e != NULL)
			sscanf(e + 2, "%*c %ld", &ppid);
	}
	fclose(f);
	return ppid;
}

/* kill -9 and wait until the process is gone. */
static void
kill_wait(long pid)
{
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++)
		usleep(10000);
}

static void
test_killed_agent_and_session_reopened(void **state)
{
	struct lcache *lc;
	struct lcache_host h;
	struct lcache_stats st;
	int prepared = 0;

	(void)state;
	long a1 = start(&lc, &h, 10, &prepared);

	/* the agent dies between two operations */
	kill_wait(a1);
	long a2 = agent_pid(lc, &h);
	assert_true(a2 != a1);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.reopened, 1);
	assert_int_equal(st.lost, 0);
	assert_int_equal(prepared, 2);   /* a fresh key before the reconnect */

	/* the SSH session itself dies (sshd's per-connection process) */
	long sess = parent_of(a2);
	assert_true(sess > 1);
	kill_wait(sess);
	long a3 = agent_pid(lc, &h);
	assert_true(a3 != a2);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 3);
	assert_int_equal(st.reopened, 2);
	assert_int_equal(prepared, 3);
	assert_int_equal(agent_pid(lc, &h), a3);
	lcache_free(lc);
}

static void
test_lost_result_reported_not_repeated(void **state)
{
	struct lcache *lc;
	struct lcache_host h;
	struct lcache_stats st;
	struct cut_err err;
	int prepared = 0;

	(void)state;
	host_for(&h, 11, &prepared);
	assert_int_equal(lcache_new(&lc, 1, &err), 0);
	struct sh_op clean = { .script = "rm -f \"$HOME/lcache-lost\"" };
	assert_int_equal(lcache_run(lc, &h, sh_fn, &clean, &err), 0);
	long a1 = agent_pid(lc, &h);

	/* The operation runs (leaves its mark), then its agent dies before
	 * the result comes back. */
	struct sh_op lost = { .script = "echo ran >>\"$HOME/lcache-lost\"; kill -9 $PPID; sleep 10" };
	int r = lcache_run(lc, &h, sh_fn, &lost, &err);
	assert_int_equal(r, CUT_ENET);
	assert_non_null(strstr(err.msg, "outcome is unknown"));
	assert_non_null(strstr(err.msg, "did not send it again"));
	lcache_get_stats(lc, &st);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.open, 0);

	/* The next operation gets a new connection; the lost one ran once. */
	struct sh_op count = { .script = "wc -l <\"$HOME/lcache-lost\"" };
	assert_int_equal(lcache_run(lc, &h, sh_fn, &count, &err), 0);
	assert_int_equal(atoi(count.out), 1);
	assert_true(agent_pid(lc, &h) != a1);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.lost, 1);
	lcache_free(lc);
}

static void
test_prune_and_other_instance(void **state)
{
	struct lcache *lc;
	struct lcache_host h[2];
	struct lcache_stats st;
	struct cut_err err;
	int prepared = 0;

	(void)state;
	host_for(&h[0], 10, &prepared);
	host_for(&h[1], 11, &prepared);
	h[1].tag = "i-2";
	assert_int_equal(lcache_new(&lc, 1, &err), 0);
	long a0 = agent_pid(lc, &h[0]);
	(void)agent_pid(lc, &h[1]);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 2);

	/* another group is left alone; scaled down to h[0] drops h[1] */
	assert_int_equal(lcache_prune(lc, "env-b", NULL, 0), 0);
	assert_int_equal(lcache_prune(lc, "env-a", &h[0], 1), 1);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(agent_pid(lc, &h[0]), a0);

	/* a replacement instance at the same address is another machine */
	h[0].tag = "i-3";
	long b0 = agent_pid(lc, &h[0]);
	assert_true(b0 != a0);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 1);
	assert_int_equal(st.connects, 3);
	assert_int_equal(lcache_drop(lc, "env-a"), 1);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 0);
	lcache_free(lc);
}

static int
fail_prepare(void *arg, struct cut_err *err)
{
	(void)arg;
	return cut_err_set(err, CUT_EAWS, "SendSSHPublicKey was refused.");
}

static void
test_reopen_failure_not_sent(void **state)
{
	struct lcache *lc;
	struct lcache_host h;
	struct lcache_stats st;
	struct cut_err err;
	int prepared = 0;

	(void)state;
	long a1 = start(&lc, &h, 10, &prepared);
	kill_wait(a1);
	/* The key push before the reconnect fails: the operation is not run. */
	h.prepare = fail_prepare;
	struct sh_op o = { .script = "echo should-not-run" };
	assert_int_equal(lcache_run(lc, &h, sh_fn, &o, &err), CUT_EAWS);
	assert_int_equal(o.n, 0);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 0);
	h.prepare = count_prepare;
	assert_true(agent_pid(lc, &h) != a1);
	lcache_free(lc);
}

/* ---- the world (world/real.c) on the simulated production ------------- */

static long
admin_calls(const char *query)
{
	char cmd[1024], buf[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s '%s/calls%s' | /usr/bin/python3 -c "
	    "'import json,sys; print(json.load(sys.stdin)[\"count\"])'", ts_env("SIMPROD_ADMIN"), query);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), p) == NULL)
		buf[0] = '\0';
	pclose(p);
	return buf[0] ? atol(buf) : -1;
}

static long
key_pushes(void)
{
	return admin_calls("?service=ec2-instance-connect&operation=SendSSHPublicKey");
}

static void
sim_env(void)
{
	char line[1024];
	FILE *f = fopen(ts_env("SIMPROD_AWS_ENV"), "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\r\n")] = '\0';
		if (eq == NULL || line[0] == '#')
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	fclose(f);
	setenv("CUTOVER_OPERATOR_IP", "127.0.0.1", 1);
}

/* K operations of the world on every instance of an environment: with
 * Instance Connect every new connection needs a SendSSHPublicKey, so the
 * simulated AWS's call count is the number of connections. */
static long
world_pushes(int k, int *ninst)
{
	const char *envname = "cobalt-production-blue";
	struct world_ops *w;
	struct world_env e;
	struct world_rate rt;
	struct cut_err err;
	int paused;
	long before;

	if (world_ops_open(ts_env("SIMPROD_CONFIG_EIC"), NULL, &w, &err) != 0)
		fail_msg("world_ops_open: %s", err.msg);
	if (w->env_describe(w, envname, &e, &err) != 0)
		fail_msg("env_describe: %s", err.msg);
	*ninst = e.ninstances;
	before = key_pushes();
	for (int i = 0; i < k; i++)
		if (w->cron_paused(w, envname, &paused, &err) != 0)
			fail_msg("cron_paused: %s", err.msg);
	/* quiet polls (a follow on the same connections), then an op again */
	for (int i = 0; i < 3; i++)
		if (w->request_rate(w, envname, &rt, &err) != 0)
			fail_msg("request_rate: %s", err.msg);
	assert_int_equal(rt.ninstances, e.ninstances);
	if (w->cron_paused(w, envname, &paused, &err) != 0)
		fail_msg("cron_paused after the polls: %s", err.msg);
	world_ops_close(w);
	return key_pushes() - before;
}

static void
test_world_one_connection_per_instance(void **state)
{
	int n1 = 0;
	const int K = 4;

	(void)state;
	sim_env();
	long cached = world_pushes(K, &n1);
	assert_true(n1 >= 1);
	assert_int_equal(cached, n1);
}

/* A TCP port that accepts (the kernel's backlog) and never speaks: an SSH
 * handshake there waits for its deadline. Returns the listening fd. */
static int
mute_port(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* lcache_open_all: every host's connection opened side by side, then used
 * by the operations; open ones are not opened again; a host that does not
 * answer costs its own deadline once, not one after another, and is left
 * for its own operation to report. */
static void
test_open_all_side_by_side(void **state)
{
	struct lcache *lc;
	struct lcache_host h[3], slow[3];
	struct lcache_stats st;
	struct cut_err err;
	int prepared = 0, sprep = 0, p1, p2;
	long pid[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		host_for(&h[i], 9 + i, &prepared);
		h[i].tag = i == 0 ? "i-1" : i == 1 ? "i-2" : "i-3";
	}
	assert_int_equal(lcache_new(&lc, 1, &err), 0);
	assert_int_equal(lcache_open_all(lc, h, 3), 3);
	assert_int_equal(prepared, 3);
	for (int i = 0; i < 3; i++)
		pid[i] = agent_pid(lc, &h[i]);
	assert_true(pid[0] != pid[1] && pid[1] != pid[2] && pid[0] != pid[2]);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 3);
	assert_int_equal(st.reused, 3);
	assert_int_equal(st.open, 3);
	/* all open: nothing to do */
	assert_int_equal(lcache_open_all(lc, h, 3), 0);
	assert_int_equal(prepared, 3);
	lcache_free(lc);

	/* Two mute hosts, 1.5 s deadline each, and one that answers: one
	 * deadline's time in all (one after another would take 3 s). */
	int f1 = mute_port(&p1), f2 = mute_port(&p2);
	host_for(&slow[0], 10, &sprep);
	host_for(&slow[1], 10, &sprep);
	host_for(&slow[2], 10, &sprep);
	slow[0].target.ssh.port = p1;
	slow[1].target.ssh.port = p2;
	for (int i = 0; i < 2; i++)
		slow[i].target.ssh.connect_timeout_ms = 1500;
	assert_int_equal(lcache_new(&lc, 1, &err), 0);
	int64_t t0 = cut_mono_ms();
	assert_int_equal(lcache_open_all(lc, slow, 3), 1);
	int64_t took = cut_mono_ms() - t0;
	assert_true(took >= 1400);
	if (took >= 2900)
		fail_msg("two mute hosts took %lld ms: opened one after another", (long long)took);
	assert_int_equal(sprep, 3);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.open, 1);
	assert_true(agent_pid(lc, &slow[2]) > 1);
	lcache_get_stats(lc, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.reused, 1);
	lcache_free(lc);
	close(f1);
	close(f2);

	/* Without reuse (a connection per operation) nothing is opened ahead. */
	assert_int_equal(lcache_new(&lc, 0, &err), 0);
	assert_int_equal(lcache_open_all(lc, h, 3), 0);
	lcache_free(lc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k_ops_one_connection),
		cmocka_unit_test(test_killed_agent_and_session_reopened),
		cmocka_unit_test(test_lost_result_reported_not_repeated),
		cmocka_unit_test(test_prune_and_other_instance),
		cmocka_unit_test(test_reopen_failure_not_sent),
		cmocka_unit_test(test_world_one_connection_per_instance),
		cmocka_unit_test(test_open_all_side_by_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
