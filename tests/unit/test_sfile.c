/* Unit tests for base/sfile.c's output helpers: CSV cells that no spreadsheet
 * runs as a formula, terminal text with no control character of its own,
 * and files written 0600 whatever the umask. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runbook/progress.h"
#include "base/sfile.h"

static char *
csv(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sfile_csv_field(f, s);
	fclose(f);
	return buf;
}

#define CSV_EQ(in, want) do { char *o_ = csv(in); assert_string_equal(o_, want); free(o_); } while (0)

static void
test_csv_formula_neutralised(void **state)
{
	(void)state;
	CSV_EQ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
	CSV_EQ("=1+1", "'=1+1");
	CSV_EQ("+61 400 000 000", "'+61 400 000 000");
	CSV_EQ("-2+3", "'-2+3");
	CSV_EQ("@SUM(A1)", "'@SUM(A1)");
	CSV_EQ("\t=1", "'\t=1");
	CSV_EQ("\r=1", "\"'\r=1\"");
	/* Ordinary cells are unchanged. */
	CSV_EQ("plain", "plain");
	CSV_EQ("a,b", "\"a,b\"");
	CSV_EQ("a=b", "a=b");
	CSV_EQ("", "");
}

static void
test_term_escapes(void **state)
{
	char out[64];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	sfile_term_clean(out, sizeof(out), "a\033]0;pwned\007b\r\nc\x7f\xc2\x9b" "2J d\xc3\xa9");
	assert_string_equal(out, "a\\e]0;pwned\\x07b\\r\\nc\\x7f\\u009b2J d\xc3\xa9");
	/* Too small: cut at a whole escape, always terminated. */
	sfile_term_clean(out, 4, "ab\033c");
	assert_string_equal(out, "ab");
	f = open_memstream(&buf, &len);
	sfile_term_str(f, "x\033[2Jy\tz");
	fclose(f);
	assert_string_equal(buf, "x\\e[2Jy\\tz");
	free(buf);
}

static void
test_progress_escapes(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct progress *p = progress_new(f, PROGRESS_PLAIN);
	struct progress_sample s = { "row \033[31mred", "creating\r", 10, -1, 1000, 0 };

	(void)state;
	progress_event(p, "done", "verify", "row %s", "evil\033[2J\033]0;t\007");
	progress_wait(p, "snap", &s);
	progress_free(p);
	fclose(f);
	assert_null(strchr(buf, '\033'));
	assert_null(strchr(buf, '\007'));
	assert_null(strchr(buf, '\r'));
	assert_non_null(strstr(buf, "evil\\e[2J\\e]0;t\\x07"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_formula_neutralised),
		cmocka_unit_test(test_term_escapes),
		cmocka_unit_test(test_progress_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
