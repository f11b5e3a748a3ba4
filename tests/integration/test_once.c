/* The agent's "once" operation (issue 10): manage.py at most once per
 * token, the marker in the app's database. Real PostgreSQL, the Cobalt
 * fixture, real agents over pipes; two instance folders ("web" and "web2")
 * point at one database, as two EB instances (or an instance and its
 * replacement) do. The command is `manage.py shell -c CODE`, CODE one argv
 * element with spaces and newlines, which bumps a counter table in the
 * database: the counter says how often it really ran.
 *   - two agents (two operators, two instances) at the same time: it runs
 *     once; one call reports "ran", the other waits and gets "recorded";
 *   - a rerun through a new agent on the other instance after it ended:
 *     "recorded", nothing runs;
 *   - the connection dropped while it runs: the command still finishes and
 *     records its end; the next call waits for / reports it;
 *   - its runner killed mid-way: the next call refuses, naming the row to
 *     delete, and does not run it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx.h"

static struct sx X;
static char env_web[512], env_web2[512], app[2][600], py[2][600];

static int
setup(void **state)
{
	(void)state;
	if (sx_setup(&X) != 0 || sx_cobalt_db(&X, "web", "after", 1) != 0 || sx_instance(&X, "web2", "web") != 0)
		return -1;
	sx_env_file(&X, "web", env_web, sizeof(env_web));
	sx_env_file(&X, "web2", env_web2, sizeof(env_web2));
	for (int i = 0; i < 2; i++) {
		snprintf(app[i], sizeof(app[i]), "%s/%s/var/app/current", X.dir, i ? "web2" : "web");
		snprintf(py[i], sizeof(py[i]), "%s/%s/var/app/venv/*/bin/python", X.dir, i ? "web2" : "web");
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sx_teardown(&X);
	return 0;
}

/* The python that counts its runs in table `table` (one argv element).
 * Its last line has the word the agent's claim query prints, so a record
 * read as a claim would show as a second run. */
static void
probe_code(char *buf, size_t len, const char *table, int sleep_s)
{
	snprintf(buf, len, "import time\nfrom django.db import connection\nc = connection.cursor()\n"
	    "c.execute('CREATE TABLE IF NOT EXISTS %s (n serial)')\nc.execute('INSERT INTO %s DEFAULT VALUES')\n"
	    "time.sleep(%d)\nprint('probe %s claimed')\n", table, table, sleep_s, table);
}

static long
runs(const char *table)
{
	char *s = sx_out(&X, "psql -d web -Atc 'SELECT count(*) FROM %s' 2>/dev/null || echo 0", table);
	long n = s ? atol(s) : -1;

	free(s);
	return n;
}

struct call {
	int inst;                  /* 0: web, 1: web2 */
	const char *token, *code;
	int rc;
	struct aop_once out;
	struct cut_err err;
};

static void *
call_once(void *arg)
{
	struct call *c = arg;
	struct alink own;
	struct aop_conf conf = { .env_file = c->inst ? env_web2 : env_web };
	const char *args[] = { "shell", "-c", c->code, NULL };

	if (sx_agent(&own, c->inst ? "web2" : "web") != 0) {
		c->rc = -1;
		return NULL;
	}
	c->rc = aop_once(&own, &conf, c->token, args, app[c->inst], py[c->inst], 120000, &c->out, &c->err);
	alink_close(&own);
	return NULL;
}

static void
test_concurrent_then_rerun(void **state)
{
	char code[600];
	struct call a = { .inst = 0, .token = "cutover-new-db/convert-users" },
		b = { .inst = 1, .token = "cutover-new-db/convert-users" };
	pthread_t ta, tb;
	(void)state;

	probe_code(code, sizeof(code), "probe_a", 2);
	a.code = b.code = code;
	assert_int_equal(pthread_create(&ta, NULL, call_once, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, call_once, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (a.rc) fprintf(stderr, "a: %s\n", a.err.msg);
	if (b.rc) fprintf(stderr, "b: %s\n", b.err.msg);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(runs("probe_a"), 1);
	/* One ran it, the other got its result. */
	assert_int_equal((strcmp(a.out.state, "ran") == 0) + (strcmp(b.out.state, "ran") == 0), 1);
	assert_int_equal((strcmp(a.out.state, "recorded") == 0) + (strcmp(b.out.state, "recorded") == 0), 1);
	assert_int_equal(a.out.exit_status, 0);
	assert_int_equal(b.out.exit_status, 0);
	assert_string_equal(a.out.summary, "probe probe_a claimed");
	assert_string_equal(b.out.summary, "probe probe_a claimed");

	/* A rerun on the "replaced" instance (a new agent, another folder). */
	struct call c = { .inst = 1, .token = "cutover-new-db/convert-users", .code = code };
	call_once(&c);
	assert_int_equal(c.rc, 0);
	assert_string_equal(c.out.state, "recorded");
	assert_int_equal(c.out.exit_status, 0);
	assert_non_null(strstr(c.out.finished_at, "T"));
	assert_int_equal(runs("probe_a"), 1);
	/* Another token is another command: it runs. */
	struct call d = { .inst = 0, .token = "cutover-new-db/rehearse-convert", .code = code };
	call_once(&d);
	assert_int_equal(d.rc, 0);
	assert_string_equal(d.out.state, "ran");
	assert_int_equal(runs("probe_a"), 2);
	char *rows = sx_out(&X, "psql -d web -Atc 'SELECT count(*) FROM cutover_once WHERE finished_at IS NOT NULL'");
	assert_non_null(rows);
	assert_int_equal(atoi(rows), 2);
	free(rows);
}

static void
test_lost_connection(void **state)
{
	char code[600];
	struct call a = { .inst = 0, .token = "db/lost" };
	pid_t coord;
	(void)state;

	probe_code(code, sizeof(code), "probe_lost", 3);
	a.code = code;
	/* The first operator's coordinator, in a process of its own... */
	if ((coord = fork()) == 0) {
		call_once(&a);
		_exit(0);
	}
	assert_true(coord > 0);
	for (int i = 0; i < 100 && runs("probe_lost") < 1; i++)
		usleep(100000);
	assert_int_equal(runs("probe_lost"), 1);
	/* ...dies while the command runs: its agent sees end-of-file and ends. */
	kill(coord, SIGKILL);
	waitpid(coord, NULL, 0);
	/* The command went on; the next call waits for its end and reports it. */
	struct call b = { .inst = 1, .token = "db/lost", .code = code };
	call_once(&b);
	if (b.rc) fprintf(stderr, "b: %s\n", b.err.msg);
	assert_int_equal(b.rc, 0);
	assert_string_equal(b.out.state, "recorded");
	assert_int_equal(b.out.exit_status, 0);
	assert_string_equal(b.out.summary, "probe probe_lost claimed");
	assert_int_equal(runs("probe_lost"), 1);
}

static void
test_died_midway(void **state)
{
	char code[600];
	struct call a = { .inst = 0, .token = "db/died" };
	pthread_t ta;
	char *pid = NULL;
	(void)state;

	probe_code(code, sizeof(code), "probe_died", 30);
	a.code = code;
	assert_int_equal(pthread_create(&ta, NULL, call_once, &a), 0);
	for (int i = 0; i < 100 && runs("probe_died") < 1; i++)
		usleep(100000);
	for (int i = 0; i < 100 && (pid == NULL || atoi(pid) <= 0); i++) {
		free(pid);
		usleep(100000);
		pid = sx_out(&X, "psql -d web -Atc \"SELECT pid FROM cutover_once WHERE token = 'db/died'\"");
	}
	assert_non_null(pid);
	assert_true(atoi(pid) > 0);
	/* The runner, its database session and the command die (the instance
	 * went away): everything in the runner's session, by its id. */
	assert_int_equal(sx_sh(&X, "pkill -KILL -s %d", atoi(pid)), 0);
	free(pid);
	pthread_join(ta, NULL);
	assert_int_not_equal(a.rc, 0);

	struct call b = { .inst = 1, .token = "db/died", .code = code };
	call_once(&b);
	assert_int_not_equal(b.rc, 0);
	assert_non_null(strstr(b.err.msg, "never recorded its end"));
	assert_non_null(strstr(b.err.msg, "DELETE FROM cutover_once WHERE token = 'db/died'"));
	assert_null(strstr(b.err.msg, "PASSWORD"));
	assert_int_equal(runs("probe_died"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_then_rerun),
		cmocka_unit_test(test_lost_connection),
		cmocka_unit_test(test_died_midway),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
