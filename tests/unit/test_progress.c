/* Unit tests for runbook/progress.c: the terminal's live line, plain lines that
 * only repeat a wait when it changed, JSON events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runbook/progress.h"

static char *
render(enum progress_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct progress *p = progress_new(f, mode);
	struct progress_sample s = { "snapshot production-blue", "creating", 40, -1, 61000, 0 };

	progress_event(p, "begin", "snapshot", "take snapshot %s", "x");
	progress_wait(p, "snapshot", &s);
	progress_wait(p, "snapshot", &s);          /* unchanged */
	s.percent = 70;
	s.rate = 0.5;
	progress_wait(p, "snapshot", &s);
	progress_wait_end(p);
	progress_event(p, "done", "snapshot", "ok");
	progress_free(p);
	fclose(f);
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
test_tty(void **state)
{
	char *out = render(PROGRESS_TTY);

	(void)state;
	assert_non_null(strstr(out, "\r\033[K  snapshot   1:01  snapshot production-blue: creating 40%"));
	assert_non_null(strstr(out, "creating 70% 0.5 req/s"));
	/* 3 rewrites of one line, which stays (ended by a newline) */
	assert_int_equal(count(out, "\r\033[K"), 3);
	assert_non_null(strstr(out, "creating 70% 0.5 req/s\n["));
	assert_int_equal(count(out, "\n"), 3);
	assert_non_null(strstr(out, "done      snapshot: ok\n"));
	free(out);
}

/* One sample on the terminal, as the live line shows it. */
static char *
tty_line(const struct progress_sample *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct progress *p = progress_new(f, PROGRESS_TTY);

	progress_wait(p, "restore", s);
	progress_free(p);
	fclose(f);
	return buf;
}

/* The time left and the clock time of the end, while expected; past it, by
 * how much it was expected; nothing when nothing is expected. */
static void
test_tty_expected(void **state)
{
	struct progress_sample s = { "database new", "creating", -1, -1, 61000, 150000 };
	char *out;

	(void)state;
	out = tty_line(&s);
	assert_non_null(strstr(out, "  restore   1:01  database new: creating  ~1:29 left, ends about "));
	free(out);
	s.elapsed_ms = 151000;
	out = tty_line(&s);
	assert_non_null(strstr(out, "database new: creating  past the expected 2:30\n"));
	free(out);
	s.expected_ms = 0;
	out = tty_line(&s);
	assert_null(strstr(out, "left"));
	assert_null(strstr(out, "expected"));
	free(out);
}

/* A line wider than the terminal would wrap, and \r could not rewrite it
 * in place: it is cut to the width (80 when the stream is no terminal). */
static void
test_tty_fits(void **state)
{
	char what[300];
	struct progress_sample s = { what, "creating", 5, -1, 1000, 0 };
	char *out, *line;

	(void)state;
	memset(what, 'x', sizeof(what) - 1);
	what[sizeof(what) - 1] = '\0';
	out = tty_line(&s);
	line = strstr(out, "\r\033[K");
	assert_non_null(line);
	assert_int_equal(strcspn(line + 4, "\n"), 79);
	free(out);
}

/* JSON wait events carry expected_ms when there is an expectation. */
static void
test_json_expected(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct progress *p = progress_new(f, PROGRESS_JSON);
	struct progress_sample s = { "database new", "creating", -1, -1, 1000, 600000 };

	(void)state;
	progress_wait(p, "restore", &s);
	s.expected_ms = 0;
	progress_wait(p, "restore", &s);
	progress_free(p);
	fclose(f);
	assert_int_equal(count(buf, "\"expected_ms\":600000"), 1);
	assert_int_equal(count(buf, "\"event\":\"wait\""), 2);
	free(buf);
}

static void
test_plain(void **state)
{
	char *out = render(PROGRESS_PLAIN);

	(void)state;
	assert_null(strchr(out, '\r'));
	assert_int_equal(count(out, "wait snapshot: snapshot production-blue: creating 40% (61s)"), 1);
	assert_int_equal(count(out, "creating 70% 0.5 req/s"), 1);
	assert_int_equal(count(out, "\n"), 4);
	assert_true(out[4] == '-' && out[10] == 'T');   /* timestamped */
	free(out);
}

static void
test_json(void **state)
{
	char *out = render(PROGRESS_JSON);

	(void)state;
	assert_int_equal(count(out, "\n"), 5);
	assert_non_null(strstr(out, "\"event\":\"wait\",\"step\":\"snapshot\",\"what\":\"snapshot "
	    "production-blue\",\"status\":\"creating\",\"percent\":40,\"elapsed_ms\":61000}"));
	assert_non_null(strstr(out, "\"rate\":0.5"));
	assert_non_null(strstr(out, "\"event\":\"begin\",\"step\":\"snapshot\",\"msg\":\"take snapshot x\""));
	free(out);
}

/* ---- --drive DIR: a program that waits, for tests/unit/progress_tmux.t ----
 *
 * Two waits as the engine shows them (a snapshot with AWS's percent, a
 * restore with only an expected duration, which it overruns), on stdout in
 * the mode progress_mode_for picks (a terminal: one live line per wait);
 * the last sample of each is the one that found it done. Samples
 * carry virtual times; sample N is shown once DIR/go.N exists, so the test
 * looks at the screen between samples without racing the program. */
static int
await_file(const char *dir, int n)
{
	char path[4096];
	int i;

	snprintf(path, sizeof(path), "%s/go.%d", dir, n);
	for (i = 0; i < 3000; i++) {   /* 60 s */
		if (access(path, F_OK) == 0)
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "test_progress --drive: %s never came\n", path);
	return -1;
}

static int
drive(const char *dir)
{
	struct progress *p = progress_new(stdout, progress_mode_for(stdout, 0));
	struct progress_sample s;
	int i, n = 0;

	if (p == NULL)
		return 1;
	progress_event(p, "begin", "snapshot", "take snapshot production-blue-cutover");
	for (i = 0; i <= 5; i++) {
		if (await_file(dir, ++n) != 0)
			return 1;
		s = (struct progress_sample){ "snapshot production-blue-cutover",
		    i < 5 ? "creating" : "available", i * 20, -1, i * 20000, i < 5 ? 120000 : 0 };
		progress_wait(p, "snapshot", &s);
	}
	progress_wait_end(p);
	progress_event(p, "done", "snapshot", "snapshot the live database");
	progress_event(p, "begin", "restore", "restore the snapshot as cobalt-green");
	for (i = 0; i <= 4; i++) {
		if (await_file(dir, ++n) != 0)
			return 1;
		s = (struct progress_sample){ "database cobalt-green",
		    i < 4 ? "creating" : "available", -1, -1, i * 150000, i < 4 ? 400000 : 0 };
		progress_wait(p, "restore", &s);
	}
	progress_wait_end(p);
	progress_event(p, "done", "restore", "restore the snapshot as the new database");
	progress_free(p);
	printf("drive: finished\n");
	fflush(stdout);
	await_file(dir, 0);   /* the test reads the screen, then lets go */
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--drive") == 0)
		return drive(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_tty_expected),
		cmocka_unit_test(test_tty_fits),
		cmocka_unit_test(test_json_expected),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
