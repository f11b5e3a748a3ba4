/* The remote execution C API as the runbook engine uses it: one connection,
 * several requests (run and manage), results and output callbacks; and
 * rexec_many over every test host with one unreachable. Against the
 * sshd-hosts service (tests/harness/services/sshd-hosts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tsupport.h"

#include "remote/rexec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct capture {
	char out[4096], err[4096];
	size_t ol, el;
};

static void
cap_output(void *ctx, int fd, const void *data, size_t len)
{
	struct capture *c = ctx;
	char *b = fd == 1 ? c->out : c->err;
	size_t *l = fd == 1 ? &c->ol : &c->el;

	if (*l + len < sizeof(c->out)) {
		memcpy(b + *l, data, len);
		*l += len;
		b[*l] = '\0';
	}
}

static void
target_for(struct rexec_target *t, int port)
{
	memset(t, 0, sizeof(*t));
	t->ssh.host = "127.0.0.1";
	t->ssh.port = port;
	t->ssh.user = ts_env("SSHD_USER");
	t->ssh.identity = ts_env("SSHD_KEY");
	t->ssh.known_hosts = ts_env("SSHD_KNOWN_HOSTS");
	t->ssh.connect_timeout_ms = 5000;
}

static void
test_one_connection_many_requests(void **state)
{
	struct rexec_target t;
	struct rexec_conn *c = NULL;
	struct rexec_result res;
	struct cut_err err;
	struct capture cap;
	struct rexec_io io = { cap_output, &cap, -1, NULL };
	char app[512], envf[512], py[512];
	int r;

	(void)state;
	target_for(&t, ts_sshd_port(8));
	r = rexec_connect(&c, &t, &err);
	assert_int_equal(r, 0);
	assert_string_equal(rexec_arch(c), "x86_64");
	assert_true(strlen(rexec_agent_version(c)) > 0);

	/* run, with an env addition and a cwd */
	const char *argv1[] = {"sh", "-c", "echo \"$GREETING\" from $(pwd); echo e >&2; exit 6", NULL};
	const char *env1[] = {"GREETING=hello world", NULL};
	struct rexec_request req1 = { .kind = REXEC_RUN, .argv = argv1, .env = env1, .cwd = "/tmp",
		.timeout_ms = 10000 };
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(rexec_run(c, &req1, &io, &res, &err), 0);
	assert_int_equal(res.status, 6);
	assert_int_equal(res.signal, 0);
	assert_false(res.timed_out);
	assert_string_equal(cap.out, "hello world from /tmp\n");
	assert_string_equal(cap.err, "e\n");

	/* manage on the same connection, in the host's EB-like layout */
	const char *home = ts_env("SSHD_DIR");
	snprintf(app, sizeof(app), "%s/h8/var/app/current", home);
	snprintf(envf, sizeof(envf), "%s/h8/opt/elasticbeanstalk/deployment/env", home);
	snprintf(py, sizeof(py), "%s/h8/var/app/venv/*/bin/python", home);
	const char *args[] = {"exit_with", "9", NULL};
	struct rexec_request req2 = { .kind = REXEC_MANAGE, .argv = args, .app_dir = app, .env_file = envf,
		.python = py, .timeout_ms = 60000 };
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(rexec_run(c, &req2, &io, &res, &err), 0);
	assert_int_equal(res.status, 9);
	assert_string_equal(cap.out, "exit_with: stdout, status 9\n");

	/* a signal, then a timeout, still on the same connection */
	const char *argv3[] = {"sh", "-c", "kill -USR1 $$", NULL};
	struct rexec_request req3 = { .kind = REXEC_RUN, .argv = argv3 };
	assert_int_equal(rexec_run(c, &req3, &io, &res, &err), 0);
	assert_int_equal(res.status, -1);
	assert_int_equal(res.signal, 10);
	const char *argv4[] = {"sleep", "30", NULL};
	struct rexec_request req4 = { .kind = REXEC_RUN, .argv = argv4, .timeout_ms = 300 };
	assert_int_equal(rexec_run(c, &req4, &io, &res, &err), 0);
	assert_true(res.timed_out);
	const char *argv5[] = {"no-such-program-here", NULL};
	struct rexec_request req5 = { .kind = REXEC_RUN, .argv = argv5 };
	assert_int_equal(rexec_run(c, &req5, &io, &res, &err), 0);
	assert_true(res.error[0] != '\0');
	rexec_close(c);
}

static void
test_many_hosts_one_unreachable(void **state)
{
	int n = atoi(ts_env("SSHD_N")), bad = atoi(ts_env("SSHD_UNREACHABLE_PORT"));
	struct rexec_host *hosts = calloc((size_t)n + 1, sizeof(*hosts));
	const char *argv[] = {"sh", "-c", "case $HOME in */h1) exit 3;; esac; echo ok", NULL};
	struct rexec_request req = { .kind = REXEC_RUN, .argv = argv, .timeout_ms = 20000 };

	(void)state;
	assert_non_null(hosts);
	for (int i = 0; i < n; i++)
		target_for(&hosts[i].target, ts_sshd_port(i));
	target_for(&hosts[n].target, bad);
	assert_int_equal(rexec_many(hosts, (size_t)n + 1, &req, 4, NULL, NULL), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(hosts[i].rc, 0);
		assert_int_equal(hosts[i].result.status, i == 1 ? 3 : 0);
	}
	assert_int_equal(hosts[n].rc, CUT_ENET);
	assert_non_null(strstr(hosts[n].err.msg, "Cannot connect"));
	free(hosts);
}

/* The transport interface (remote/ssh.h, struct ssh_dialer) the SSM
 * transport plugs into: a dialer gives the stream, libssh2 runs over it,
 * hang_up runs exactly once after the close, a failing dialer is a clear
 * error and never a TCP fall back; an untrusted dialer still gets the
 * known_hosts check, a trusted one does not. */
struct dial_count {
	int port, dials, hangups, fail;
	int handle;
};

static int
tcp_dial(void *arg, int64_t deadline_ms, int *fd, void **handle, struct cut_err *err)
{
	struct dial_count *d = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)d->port) };
	int s;

	(void)deadline_ms;
	d->dials++;
	if (d->fail)
		return cut_err_set(err, CUT_ENET, "test dialer refuses.");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 || connect(s, (void *)&a, sizeof(a)) != 0)
		return cut_err_set(err, CUT_ENET, "test dialer cannot connect.");
	*fd = s;
	*handle = &d->handle;
	return 0;
}

static void
tcp_hang_up(void *arg, void *handle)
{
	struct dial_count *d = arg;

	assert_ptr_equal(handle, &d->handle);
	d->hangups++;
}

static void
test_dialer(void **state)
{
	struct rexec_target t;
	struct rexec_conn *c = NULL;
	struct rexec_result res;
	struct cut_err err;
	struct capture cap;
	struct rexec_io io = { cap_output, &cap, -1, NULL };
	const char *argv[] = { "sh", "-c", "echo via-dialer", NULL };
	struct rexec_request req = { .kind = REXEC_RUN, .argv = argv, .timeout_ms = 20000 };
	struct dial_count dc;
	struct ssh_dialer d = { tcp_dial, tcp_hang_up, &dc, 0, "test" };
	int port = ts_sshd_port(1);

	(void)state;
	memset(&dc, 0, sizeof(dc));
	dc.port = port;
	/* Labelled with the host's name and port (known_hosts looks it up so),
	 * but only the dialer makes the connection. */
	target_for(&t, port);
	t.ssh.dialer = &d;
	memset(&cap, 0, sizeof(cap));
	if (rexec_connect(&c, &t, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(rexec_run(c, &req, &io, &res, &err), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(cap.out, "via-dialer\n");
	rexec_close(c);
	assert_int_equal(dc.dials, 1);
	assert_int_equal(dc.hangups, 1);

	/* Untrusted: known_hosts still decides (an empty one refuses). */
	memset(&dc, 0, sizeof(dc));
	dc.port = port;
	t.ssh.known_hosts = "/dev/null";
	assert_int_equal(rexec_connect(&c, &t, &err), CUT_EHOSTKEY);
	assert_int_equal(dc.hangups, 1);
	/* Trusted (as the SSM dialer is): no known_hosts needed. */
	d.trusted = 1;
	if (rexec_connect(&c, &t, &err) != 0)
		fail_msg("%s", err.msg);
	rexec_close(c);
	/* A failing dialer: its sentence, no TCP attempt, no hang_up. */
	memset(&dc, 0, sizeof(dc));
	dc.fail = 1;
	assert_int_equal(rexec_connect(&c, &t, &err), CUT_ENET);
	assert_non_null(strstr(err.msg, "test dialer refuses"));
	assert_int_equal(dc.hangups, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection_many_requests),
		cmocka_unit_test(test_many_hosts_one_unreachable),
		cmocka_unit_test(test_dialer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
