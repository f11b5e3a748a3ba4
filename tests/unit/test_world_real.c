/* Unit tests for the run-once wrapper world/real.c stores on an instance
 * for manage_run (the "never convert users twice" contract), run here with
 * /bin/sh as the agent would run it: a stand-in python counts its runs.
 *   - two invocations with one token, at once: one run, both get its result;
 *   - the first invocation killed with its process group (what the agent
 *     does when the coordinator's connection drops): the command still
 *     finishes, and a later invocation returns that result without running;
 *   - another token runs again; a python that matches nothing is exit 127. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "world/real.h"

static char dir[64];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int
setup(void **st)
{
	char p[128];

	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/cutover-once-t.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/once.sh", dir);
	write_file(p, world_real_once_sh, 0700);
	/* The stand-in python: counts its runs, takes a while, prints, exits 3. */
	snprintf(p, sizeof(p), "%s/python", dir);
	write_file(p, "#!/bin/sh\necho run >>\"$COUNT\"\nsleep 1\necho \"converted $*\"\nexit 3\n", 0755);
	return 0;
}

static int
teardown(void **st)
{
	char cmd[128];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Starts the wrapper as the agent would (own process group), output to out. */
static pid_t
start(const char *token, const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		char once[128], marker[160], count[128], py[128], o[160];
		setpgid(0, 0);
		snprintf(once, sizeof(once), "%s/once.sh", dir);
		snprintf(marker, sizeof(marker), "CUTOVER_ONCE=%s/%s", dir, token);
		snprintf(count, sizeof(count), "COUNT=%s/count", dir);
		snprintf(py, sizeof(py), "CUTOVER_PY=%s/pyth*", dir);
		snprintf(o, sizeof(o), "%s/%s", dir, out);
		putenv(marker);
		putenv(count);
		putenv(py);
		if (freopen(o, "w", stdout) == NULL)
			_exit(99);
		execl("/bin/sh", "sh", once, "manage.py", "temp_copy_unreg_to_user", (char *)NULL);
		_exit(98);
	}
	return pid;
}

static int
finish(pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
runs(void)
{
	char p[128], line[64];
	int n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/count", dir);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

static int
has(const char *out, const char *text)
{
	char p[128], buf[512] = "";
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, out);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, text) != NULL;
}

static void
test_concurrent_once(void **st)
{
	(void)st;
	pid_t a = start("cut1_convert-users", "a.out"), b = start("cut1_convert-users", "b.out");
	assert_int_equal(finish(a), 3);
	assert_int_equal(finish(b), 3);
	assert_int_equal(runs(), 1);
	assert_true(has("a.out", "converted manage.py temp_copy_unreg_to_user"));
	assert_true(has("b.out", "converted manage.py temp_copy_unreg_to_user"));
	/* Later: the recorded result, no new run. */
	assert_int_equal(finish(start("cut1_convert-users", "c.out")), 3);
	assert_int_equal(runs(), 1);
	/* Another token is another command. */
	assert_int_equal(finish(start("cut2_convert-users", "d.out")), 3);
	assert_int_equal(runs(), 2);
}

static void
test_survives_lost_connection(void **st)
{
	(void)st;
	pid_t a = start("cut3_convert-users", "e.out");
	usleep(300 * 1000);
	kill(-a, SIGKILL);   /* the agent ends the request's process group */
	finish(a);
	/* The rerun waits for the detached run and returns its result. */
	assert_int_equal(finish(start("cut3_convert-users", "f.out")), 3);
	assert_true(has("f.out", "converted manage.py temp_copy_unreg_to_user"));
	assert_int_equal(runs(), 3);
}

static void
test_no_python(void **st)
{
	char py[128], moved[128];

	(void)st;
	snprintf(py, sizeof(py), "%s/python", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	assert_int_equal(rename(py, moved), 0);
	assert_int_equal(finish(start("cut4_x", "g.out")), 127);
	assert_true(has("g.out", "no python matches"));
	rename(moved, py);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_once),
		cmocka_unit_test(test_survives_lost_connection),
		cmocka_unit_test(test_no_python),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
