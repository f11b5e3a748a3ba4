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

#include "runbook/progress.h"

static char *
render(enum progress_mode mode)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct progress *p = progress_new(f, mode);
	struct progress_sample s = { "snapshot production-blue", "creating", 40, -1, 61000 };

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
	assert_int_equal(count(out, "\r\033[K"), 4);   /* 3 live updates + the clearing */
	assert_non_null(strstr(out, "done      snapshot: ok\n"));
	free(out);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
