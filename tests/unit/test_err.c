/* Unit tests for base/err.c: messages, wrapping, truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/err.h"

static void
test_set_returns_code(void **state)
{
	struct cut_err e;

	(void)state;
	assert_int_equal(cut_err_set(&e, CUT_ETIMEOUT, "waited %d s", 5), CUT_ETIMEOUT);
	assert_int_equal(e.code, CUT_ETIMEOUT);
	assert_string_equal(e.msg, "waited 5 s");
	assert_string_equal(cut_err_name(e.code), "timeout");
}

static void
test_wrap_prefixes(void **state)
{
	struct cut_err e;

	(void)state;
	cut_err_set(&e, CUT_ENET, "connection refused");
	cut_err_wrap(&e, "host %s", "web-1");
	assert_string_equal(e.msg, "host web-1: connection refused");
	assert_int_equal(e.code, CUT_ENET);
}

static void
test_long_message_truncated(void **state)
{
	struct cut_err e;
	char big[4096];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cut_err_set(&e, CUT_EINVAL, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_int_equal(cut_err_set(NULL, CUT_EIO, "ignored"), CUT_EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_code),
		cmocka_unit_test(test_wrap_prefixes),
		cmocka_unit_test(test_long_message_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
