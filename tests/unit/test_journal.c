/* Unit tests for runbook/journal.c: append/replay, fsync'd lines, torn last line,
 * damage refused, lock refusal naming the other process, secrets refused,
 * file modes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "runbook/journal.h"

static char dir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cutover-jt.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	strcat(dir, "/state/sub");   /* the journal creates missing folders */
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 10), dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
append(struct journal *j, const char *ev, const char *step, const char *k, const char *v)
{
	struct journal_kv kv = { k, v };
	struct journal_event e = { .ev = ev, .step = step, .kv = k ? &kv : NULL, .nkv = k ? 1 : 0 };
	struct cut_err err;

	assert_int_equal(journal_append(j, &e, &err), 0);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	assert_true(fread(buf, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	return buf;
}

static void
test_append_replay(void **state)
{
	struct journal *j, *r;
	struct cut_err err;
	struct journal_step st;
	struct stat sb;

	(void)state;
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	assert_true(strlen(journal_id(j)) == 16);
	append(j, "step-begin", "snapshot", NULL, NULL);
	append(j, "step-applied", "snapshot", "snapshot", "cutover-x");
	append(j, "step-begin", "restore", NULL, NULL);
	st = journal_step_state(j, "snapshot");
	assert_true(st.begun && st.applied && !st.done);
	journal_close(j);

	assert_int_equal(journal_open_readonly(dir, &r, &err), 0);
	st = journal_step_state(r, "snapshot");
	assert_true(st.begun && st.applied && !st.done);
	assert_string_equal(journal_value(r, "snapshot", "snapshot"), "cutover-x");
	assert_true(journal_step_state(r, "restore").begun);
	assert_false(journal_step_state(r, "dns-switch").begun);
	assert_null(journal_value(r, "snapshot", "nope"));
	assert_int_equal(journal_nrecords(r), 4);
	assert_int_equal(journal_torn_bytes(r), 0);
	/* read-only refuses to append */
	struct journal_event e = { .ev = "note" };
	assert_int_equal(journal_append(r, &e, &err), CUT_ESTATE);
	journal_close(r);

	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	char p[512];
	snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

/* Each line is one whole JSON object with the documented fields. */
static void
test_line_format(void **state)
{
	struct journal *j;
	struct cut_err err;
	char p[512], *text, *line;

	(void)state;
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	append(j, "step-done", "snapshot", "created", "1795600923");
	journal_close(j);
	snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
	text = slurp(p);
	line = strstr(text, "\"ev\":\"step-done\"");
	assert_non_null(line);
	assert_non_null(strstr(text, "\"v\":1"));
	assert_non_null(strstr(text, "\"step\":\"snapshot\""));
	assert_non_null(strstr(text, "\"kv\":{\"created\":\"1795600923\"}"));
	assert_non_null(strstr(text, "\"ms\":"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void
write_raw(const char *s)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* A crash mid-write leaves a partial last line: ignored, cut off, noted,
 * and the next append starts on a clean line. */
static void
test_torn_last_line(void **state)
{
	struct journal *j;
	struct cut_err err;
	const char *torn[] = {
		"{\"v\":1,\"ms\":1,\"ev\":\"step-done\",\"step\":\"snap",     /* no newline */
		"{\"v\":1,\"ms\":1,\"ev\":\"step-do\n",                       /* cut, newline */
	};
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		char p[512], *text;
		teardown(NULL);
		setup(NULL);
		assert_int_equal(journal_open(dir, "run", &j, &err), 0);
		append(j, "step-begin", "snapshot", NULL, NULL);
		journal_close(j);
		write_raw(torn[k]);

		assert_int_equal(journal_open(dir, "run", &j, &err), 0);
		assert_int_equal(journal_torn_bytes(j), strlen(torn[k]));
		assert_false(journal_step_state(j, "snapshot").done);
		assert_true(journal_step_state(j, "snapshot").begun);
		append(j, "step-done", "snapshot", NULL, NULL);
		journal_close(j);

		assert_int_equal(journal_open_readonly(dir, &j, &err), 0);
		assert_int_equal(journal_torn_bytes(j), 0);
		assert_true(journal_step_state(j, "snapshot").done);
		journal_close(j);
		snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
		text = slurp(p);
		assert_non_null(strstr(text, "torn last line"));
		assert_null(strstr(text, "\"snap\n"));
		free(text);
	}
}

/* Damage that is not the last line is not a crash: refuse, name the line. */
static void
test_damage_refused(void **state)
{
	struct journal *j;
	struct cut_err err;

	(void)state;
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	journal_close(j);
	write_raw("garbage here\n");
	write_raw("{\"v\":1,\"ms\":2,\"ev\":\"note\"}\n");
	assert_int_equal(journal_open(dir, "run", &j, &err), CUT_EIO);
	assert_null(j);
	assert_non_null(strstr(err.msg, "Line 2"));
	assert_int_equal(journal_open_readonly(dir, &j, &err), CUT_EIO);
}

/* A null, a number or a list where a string belongs (a kv value, the step,
 * the event) is refused by file and line, by every reader, not a crash. */
static int
count_visit(void *arg, struct json_object *rec)
{
	(void)rec;
	(*(int *)arg)++;
	return 0;
}

static void
test_null_values_refused(void **state)
{
	const char *bad[] = {
		"{\"v\":1,\"ms\":2,\"ev\":\"step-record\",\"step\":\"dns\",\"kv\":{\"previous\":null}}\n",
		"{\"v\":1,\"ms\":2,\"ev\":\"step-record\",\"step\":\"dns\",\"kv\":{\"previous\":[1]}}\n",
		"{\"v\":1,\"ms\":2,\"ev\":\"step-record\",\"step\":null}\n",
		"{\"v\":1,\"ms\":2,\"ev\":null}\n",
		"{\"v\":1,\"ms\":2,\"ev\":\"journal-begin\",\"kv\":{\"id\":null}}\n",
		"{\"v\":1,\"ms\":2,\"ev\":\"note\",\"kv\":null}\n",
		"{\"v\":1,\"ms\":2,\"ev\":\"note\",\"msg\":null}\n",
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct journal *j;
		struct cut_err err;
		char p[512];
		int n = 0;

		teardown(NULL);
		setup(NULL);
		assert_int_equal(journal_open(dir, "run", &j, &err), 0);
		journal_close(j);
		write_raw(bad[k]);
		snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
		assert_int_equal(journal_open_readonly(dir, &j, &err), CUT_EIO);
		assert_non_null(strstr(err.msg, "Line 2 of journal"));
		assert_non_null(strstr(err.msg, p));
		assert_int_equal(journal_open(dir, "run", &j, &err), CUT_EIO);
		assert_int_equal(journal_read(p, count_visit, &n, &err), CUT_EIO);
		assert_non_null(strstr(err.msg, "Line 2 of journal"));
		assert_int_equal(n, 1);
	}
}

/* Disk full mid-append (here a file size limit: the kernel writes what
 * fits, then EFBIG): the partial line is cut off, this process records
 * nothing more, and once there is room the journal reads and appends. */
static void
test_append_disk_full(void **state)
{
	struct journal *j;
	struct cut_err err;
	struct rlimit old, lim;
	struct stat st;
	char p[512], big[2048];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	append(j, "step-begin", "snapshot", NULL, NULL);
	assert_int_equal(stat(p, &st), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 100;   /* room for part of the next line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	struct journal_kv kv = { "note", big };
	struct journal_event ev = { .ev = "step-record", .step = "snapshot", .kv = &kv, .nkv = 1 };
	assert_int_equal(journal_append(j, &ev, &err), CUT_EIO);
	assert_non_null(strstr(err.msg, "free disk space and run again"));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	struct stat after;
	assert_int_equal(stat(p, &after), 0);
	assert_int_equal(after.st_size, st.st_size);      /* the partial line is gone */
	/* Space is back, but this process stays stopped. */
	struct journal_event note = { .ev = "step-done", .step = "snapshot" };
	assert_int_equal(journal_append(j, &note, &err), CUT_EIO);
	assert_non_null(strstr(err.msg, "earlier write"));
	journal_close(j);
	/* The next run reads it whole and goes on. */
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	assert_int_equal(journal_torn_bytes(j), 0);
	append(j, "step-done", "snapshot", NULL, NULL);
	journal_close(j);
	assert_int_equal(journal_open_readonly(dir, &j, &err), 0);
	assert_true(journal_step_state(j, "snapshot").done);
	journal_close(j);
}

/* A file system without locks (NFS without lockd: ENOLCK) is reported as
 * such, not as "another run holds it". seccomp makes flock fail so in a
 * child process, as the kernel would on such a mount. */
static void
test_lock_unsupported(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_flock, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOLCK),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
		struct journal *j;
		struct cut_err err;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(3);
		if (journal_open(dir, "run", &j, &err) != CUT_EIO)
			_exit(1);
		if (strstr(err.msg, "Another cutover run") != NULL || strstr(err.msg, "does not support locks") == NULL ||
		    strstr(err.msg, strerror(ENOLCK)) == NULL)
			_exit(2);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_lock_refusal(void **state)
{
	struct journal *a, *b;
	struct cut_err err;
	char want[64];

	(void)state;
	assert_int_equal(journal_open(dir, "run", &a, &err), 0);
	assert_int_equal(journal_open(dir, "failback", &b, &err), CUT_ESTATE);
	assert_null(b);
	snprintf(want, sizeof(want), "pid %ld", (long)getpid());
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "`cutover run`"));
	assert_non_null(strstr(err.msg, "Another cutover run"));
	/* a reader does not need the lock */
	assert_int_equal(journal_open_readonly(dir, &b, &err), 0);
	journal_close(b);
	journal_close(a);
	assert_int_equal(journal_open(dir, "failback", &b, &err), 0);
	journal_close(b);
}

/* The lock holds across processes too (flock on the lock file). */
static void
test_lock_other_process(void **state)
{
	struct journal *a;
	struct cut_err err;
	int p[2];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		if (journal_open(dir, "run", &a, &err) != 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		sleep(1);
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(journal_open(dir, "run", &a, &err), CUT_ESTATE);
	char want[64];
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	assert_non_null(strstr(err.msg, want));
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(journal_open(dir, "run", &a, &err), 0);
	journal_close(a);
	close(p[0]);
	close(p[1]);
}

static void
test_secrets_refused(void **state)
{
	struct journal *j;
	struct cut_err err;
	const char *keys[] = { "RDS_PASSWORD", "secret_access", "aws_session_token", "ApiKey" };
	size_t i;
	char p[512], *text;

	(void)state;
	assert_int_equal(journal_open(dir, "run", &j, &err), 0);
	for (i = 0; i < 4; i++) {
		struct journal_kv kv = { keys[i], "hunter2" };
		struct journal_event e = { .ev = "step-record", .step = "x", .kv = &kv, .nkv = 1 };
		assert_int_equal(journal_append(j, &e, &err), CUT_EINVAL);
		assert_non_null(strstr(err.msg, "never holds secrets"));
	}
	assert_true(journal_key_is_secret("db_password"));
	assert_false(journal_key_is_secret("old.apex.alias_zone"));
	journal_close(j);
	snprintf(p, sizeof(p), "%s/journal.jsonl", dir);
	text = slurp(p);
	assert_null(strstr(text, "hunter2"));
	free(text);
}

static void
test_readonly_missing(void **state)
{
	struct journal *j;
	struct cut_err err;

	(void)state;
	assert_int_equal(journal_open_readonly(dir, &j, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no journal"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_values_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_unsupported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
