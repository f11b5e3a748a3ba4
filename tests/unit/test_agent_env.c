/* Unit tests for agent/env.c: the EB env file and environment lists. The
 * agent is a separate static program, not part of libcutover.a, so its
 * source is compiled into this test directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../agent/env.c"

static const char *
get(const struct env_list *e, const char *key)
{
	size_t k = strlen(key);

	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, k) == 0 && e->v[i][k] == '=')
			return e->v[i] + k + 1;
	return NULL;
}

static void
test_ebfile_values(void **state)
{
	static const char text[] =
		"PLAIN=hello\n"
		"SPACES=a b  c \n"
		"SQ='single quoted'\n"
		"DQ=\"a \\\"b\\\" \\\\ \\$HOME \\n\"\n"
		"HALF='only opening\n"
		"MIXED='a\"\n"
		"INNER=it's \"fine\"\n"
		"EQ==x==\n"
		"  INDENTED=yes\n"
		"# HASH=no\n"
		"NOEQUALS\n"
		"=novalue\n"
		"BAD KEY=no\n"
		"CR=dos\r\n"
		"\n"
		"EMPTY=\n"
		"Q1='\n"
		"DOTTED.NAME=eb allows it\n"
		"PLAIN=second wins\n"
		"LAST=no newline";
	struct env_list e;

	(void)state;
	assert_int_equal(env_init(&e, NULL), 0);
	assert_int_equal(env_load_ebfile(&e, text, sizeof(text) - 1), 0);
	assert_string_equal(get(&e, "PLAIN"), "second wins");
	assert_string_equal(get(&e, "SPACES"), "a b  c ");
	assert_string_equal(get(&e, "SQ"), "single quoted");
	assert_string_equal(get(&e, "DQ"), "a \"b\" \\ $HOME \\n");
	assert_string_equal(get(&e, "HALF"), "'only opening");
	assert_string_equal(get(&e, "MIXED"), "'a\"");
	assert_string_equal(get(&e, "INNER"), "it's \"fine\"");
	assert_string_equal(get(&e, "EQ"), "=x==");
	assert_string_equal(get(&e, "INDENTED"), "yes");
	assert_null(get(&e, "# HASH"));
	assert_null(get(&e, "NOEQUALS"));
	assert_null(get(&e, "BAD KEY"));
	assert_string_equal(get(&e, "CR"), "dos");
	assert_string_equal(get(&e, "EMPTY"), "");
	assert_string_equal(get(&e, "Q1"), "'");
	assert_string_equal(get(&e, "DOTTED.NAME"), "eb allows it");
	assert_string_equal(get(&e, "LAST"), "no newline");
	assert_int_equal(e.n, 14);
	assert_null(e.v[e.n]);
	env_free(&e);
}

static void
test_env_overrides(void **state)
{
	char *base[] = { "PATH=/bin", "HOME=/root", "NOEQ", "=x", NULL };
	struct env_list e;

	(void)state;
	assert_int_equal(env_init(&e, base), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(env_set(&e, "HOME", 4, "/home/x", 7), 0);
	assert_int_equal(env_set(&e, "HOMER", 5, "simpson", 7), 0);
	assert_string_equal(get(&e, "HOME"), "/home/x");
	assert_string_equal(get(&e, "HOMER"), "simpson");
	for (int i = 0; i < 100; i++) {
		char k[16];

		snprintf(k, sizeof(k), "K%d", i);
		assert_int_equal(env_set(&e, k, strlen(k), "v", 1), 0);
	}
	assert_int_equal(e.n, 103);
	assert_null(e.v[e.n]);
	env_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ebfile_values),
		cmocka_unit_test(test_env_overrides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
