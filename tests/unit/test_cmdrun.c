/* Unit tests for the runbook commands (cmd_*.c over cli/cmdrun.c): options,
 * refusal without a terminal, the report written at the end, the
 * CUTOVER_TEST_CRASH_AT hook in a real process, lock refusal, status and
 * plan. The world comes from this file's own world_ops_open (the lead's
 * real one opens AWS/SSH), over the in-memory fake world. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "fakeworld.h"
#include "runbook/journal.h"
#include "world/ops.h"

extern const struct cmd_entry cmd_prep_entry, cmd_run_entry, cmd_failback_entry,
    cmd_plan_entry, cmd_status_entry, cmd_report_entry;

/* The test's world, shared by the commands it runs (test-only state). */
static struct world_ops *world;
static struct fakeworld *fw;
static struct run_names fw_names;
static char top[64], state[128];

int
world_ops_open(const char *config_path, struct run_names *names, struct world_ops **out,
    struct cut_err *err)
{
	if (strcmp(config_path, "fake.ini") != 0)
		return cut_err_set(err, CUT_ECONFIG, "Cannot read configuration %s.", config_path);
	*names = fw_names;
	*out = world;     /* close is NULL: the world outlives the command */
	return 0;
}

static int
setup(void **st)
{
	(void)st;
	snprintf(top, sizeof(top), "/tmp/cutover-ct.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/state", top);
	world = fakeworld_new(&fw);
	fakeworld_cobalt(fw, &fw_names, 0);
	setenv("CUTOVER_POLL_MS", "0", 1);
	return 0;
}

static int
teardown(void **st)
{
	char cmd[128];

	(void)st;
	fakeworld_free(world);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs a command with stdin from /dev/null and its stdout+stderr captured. */
static int
run(const struct cmd_entry *e, char *out, size_t outlen, ...)
{
	char *argv[16], path[160];
	va_list ap;
	int argc = 0, r, fd, saved[3];
	ssize_t n;

	va_start(ap, outlen);
	argv[argc++] = (char *)e->name;
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	snprintf(path, sizeof(path), "%s/out", top);
	fflush(NULL);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved[0] = dup(0);
	saved[1] = dup(1);
	saved[2] = dup(2);
	int devnull = open("/dev/null", O_RDONLY);
	dup2(devnull, 0);
	close(devnull);
	dup2(fd, 1);
	dup2(fd, 2);
	r = e->exec(argc, argv);
	fflush(NULL);
	dup2(saved[0], 0);
	dup2(saved[1], 1);
	dup2(saved[2], 2);
	close(saved[0]);
	close(saved[1]);
	close(saved[2]);
	n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static char out[1 << 16];

static void
test_usage(void **st)
{
	(void)st;
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), NULL), 2);
	assert_non_null(strstr(out, "the configuration file is required"));
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "--help", NULL), 0);
	assert_non_null(strstr(out, "--until STEP"));
	assert_int_equal(run(&cmd_plan_entry, out, sizeof(out), "-c", "fake.ini", "--yes", NULL), 2);
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "-c", "other.ini", "--state", state,
	    NULL), 1);
	assert_non_null(strstr(out, "Cannot read configuration other.ini"));
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    "--until", "bogus", NULL), 1);
	assert_non_null(strstr(out, "--until bogus names no step of `cutover run`"));
	assert_int_equal(fw->mutations, 0);
}

static void
test_prep_run_report(void **st)
{
	char p[256];

	(void)st;
	assert_int_equal(run(&cmd_plan_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 0);
	assert_non_null(strstr(out, "plan create-web: would create environment cobalt-production-green"));
	assert_int_equal(fw->mutations, 0);

	/* status before anything ran: nothing started, prep is next (the
	 * live-world part fails here: no configuration file, see below). */
	run(&cmd_status_entry, out, sizeof(out), "-c", "fake.ini", "--state", state, NULL);
	assert_non_null(strstr(out, "status no cutover command has run in"));
	assert_non_null(strstr(out, "next `cutover prep -c fake.ini --state "));
	assert_int_equal(run(&cmd_prep_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 0);
	/* status after prep: prep's steps, run next; no other command's steps. */
	run(&cmd_status_entry, out, sizeof(out), "-c", "fake.ini", "--state", state, NULL);
	assert_non_null(strstr(out, "status `cutover prep` finished: every step is done"));
	assert_non_null(strstr(out, "status create-web: done\n"));
	assert_non_null(strstr(out, "next `cutover run -c fake.ini --state "));
	assert_null(strstr(out, "scale-live"));
	assert_null(strstr(out, "rehearse-"));
	assert_null(strstr(out, "not started"));
	/* stdin is not a terminal and no --yes: refuses at the DNS step, with
	 * exit 1 (130 would say Ctrl-C) */
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 1);
	assert_non_null(strstr(out, "cutover run: Step dns-switch cannot be undone by running "
	    "again and needs confirmation, but standard input is not a terminal; run again with "
	    "--yes to confirm it."));
	assert_int_equal(fw->dns_changes, 0);
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    "--yes", NULL), 0);
	assert_int_equal(fw->dns_changes, 1);
	assert_non_null(strstr(out, "report.md"));
	snprintf(p, sizeof(p), "%s/report.html", state);
	assert_int_equal(access(p, R_OK), 0);

	/* The journal part comes from the test world; the live-world part reads
	 * the configuration file itself, which does not exist here: status
	 * still shows the journal, then says in one sentence why the live
	 * world is missing, and exits 1. */
	assert_int_equal(run(&cmd_status_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 1);
	assert_non_null(strstr(out, "status dns-switch: done\n"));
	assert_non_null(strstr(out, "next `cutover tidy -c fake.ini"));
	assert_null(strstr(out, "rehearse-"));
	assert_null(strstr(out, "create-web"));
	assert_non_null(strstr(out, "DNS: myabf.com.au. -> cobalt-production-green"));
	assert_non_null(strstr(out, "cutover status: "));
	assert_non_null(strstr(out, "fake.ini"));

	assert_int_equal(run(&cmd_report_entry, out, sizeof(out), "--state", state, NULL), 0);
	assert_non_null(strstr(out, "report.md"));
	/* The verdict first, with the next commands naming the configuration
	 * and the (absolute) state folder the run used. */
	assert_true(strncmp(out, "Verdict: Succeeded: every step of `cutover run` is done", 55) == 0);
	assert_non_null(strstr(out, "\nSite: myabf.com.au and www.myabf.com.au point to "
	    "cobalt-production-green (the new environment)"));
	{
		char want[PATH_MAX + 100], abs[PATH_MAX];
		assert_non_null(realpath(state, abs));
		snprintf(want, sizeof(want), "\n    cutover tidy -c fake.ini --state %s\n", abs);
		assert_non_null(strstr(out, want));
		snprintf(want, sizeof(want), "\n    cutover failback -c fake.ini --state %s\n", abs);
		assert_non_null(strstr(out, want));
	}

	assert_int_equal(run(&cmd_failback_entry, out, sizeof(out), "-c", "fake.ini", "--state",
	    state, "--yes", "--json", NULL), 0);
	assert_non_null(strstr(out, "{\"t\":"));
	assert_int_equal(fw->dns_changes, 2);
}

static int
read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

/* The kill -9 hook in a real process: SIGKILL at the point, the stale lock
 * taken over, and the rerun says it resumes and finishes. */
static void
test_crash_hook(void **st)
{
	static char buf[1 << 16];
	char p[256], mine[64];
	int status;
	pid_t pid;

	(void)st;
	assert_int_equal(run(&cmd_prep_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setenv("CUTOVER_TEST_CRASH_AT", "dns-switch:apply", 1);
		run(&cmd_run_entry, out, sizeof(out), "-c", "fake.ini", "--state", state, "--yes", NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* a real kill -9: killed by SIGKILL, not an exit status */
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(fw->dns_changes, 1);
	snprintf(p, sizeof(p), "%s/out", top);
	assert_int_equal(read_file(p, buf, sizeof(buf)), 0);
	if (strstr(buf, "cutover: test hook: SIGKILL at dns-switch:apply") == NULL)
		fail_msg("the killed run said: %s", buf);
	/* the dead run's lock file still names it; the rerun takes it over */
	snprintf(p, sizeof(p), "%s/lock", state);
	assert_int_equal(read_file(p, buf, sizeof(buf)), 0);
	snprintf(mine, sizeof(mine), "pid %ld ", (long)pid);
	assert_non_null(strstr(buf, mine));
	assert_int_equal(run(&cmd_run_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    "--yes", NULL), 0);
	assert_non_null(strstr(out, "Resuming `cutover run` of cutover "));
	assert_non_null(strstr(out, "died at step dns-switch without stopping cleanly"));
	assert_int_equal(read_file(p, buf, sizeof(buf)), 0);
	snprintf(mine, sizeof(mine), "pid %ld ", (long)getpid());
	assert_non_null(strstr(buf, mine));
	assert_int_equal(fw->dns_changes, 1);
	assert_int_equal(fw->snapshots_created, 1);
	assert_int_equal(fw->conversions, 1);
}

static void
test_lock(void **st)
{
	struct journal *j;
	struct cut_err err;

	(void)st;
	assert_int_equal(journal_open(state, "run", &j, &err), 0);
	assert_int_equal(run(&cmd_prep_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    NULL), 1);
	assert_non_null(strstr(out, "Another cutover run holds the state folder"));
	assert_int_equal(fw->mutations, 0);
	/* status and a dry run do not need the lock */
	assert_int_equal(run(&cmd_prep_entry, out, sizeof(out), "-c", "fake.ini", "--state", state,
	    "--dry-run", NULL), 0);
	assert_int_equal(fw->mutations, 0);
	journal_close(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prep_run_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
