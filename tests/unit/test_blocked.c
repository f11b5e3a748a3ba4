/* test_blocked.c: the blocked-email backup reader (blocked_load) against
 * hand-edited or damaged backups whose checksum still matches: a null or a
 * wrong type where text belongs is refused naming the file, not a crash.
 * (Reading from and writing to a database: tests/integration/test_safety_blocked.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safety/blocked_emails.h"
#include "base/sfile.h"

static char dir[64], path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_blocked.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/blocked.json", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text as the backup with a matching checksum beside it. */
static void
put_backup(const char *text)
{
	char hex[65], side[160], line[80];
	struct cut_err err;

	sfile_sha256_hex(text, strlen(text), hex);
	snprintf(side, sizeof(side), "%s.sha256", path);
	snprintf(line, sizeof(line), "%s  blocked.json\n", hex);
	assert_int_equal(sfile_write(path, text, strlen(text), &err), 0);
	assert_int_equal(sfile_write(side, line, strlen(line), &err), 0);
}

static void
test_good_backup_loads(void **state)
{
	struct blocked_set s;
	struct cut_err err;

	(void)state;
	put_backup("{\"format\":\"cutover-blocked-emails\",\"fk_target\":\"accounts_unregistereduser\","
	    "\"count\":2,\"rows\":[[\"a@example.com\",7],[\"b@example.com\",null]]}");
	assert_int_equal(blocked_load(path, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.fk_target, "accounts_unregistereduser");
	blocked_set_free(&s);
}

static void
test_nulls_refused(void **state)
{
	static const char *bad[] = {
		"{\"format\":null,\"count\":0,\"rows\":[]}",
		"{\"format\":7,\"count\":0,\"rows\":[]}",
		"{\"format\":\"cutover-blocked-emails\",\"fk_target\":null,\"count\":0,\"rows\":[]}",
		"{\"format\":\"cutover-blocked-emails\",\"count\":1,\"rows\":[[null,1]]}",
		"{\"format\":\"cutover-blocked-emails\",\"count\":1,\"rows\":null}",
		"{\"format\":\"cutover-blocked-emails\",\"count\":null,\"rows\":[]}",
		"{\"format\":\"cutover-blocked-emails\",\"count\":\"0\",\"rows\":[]}",
		"null",
		"[]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct blocked_set s;
		struct cut_err err;

		put_backup(bad[i]);
		memset(&err, 0, sizeof(err));
		assert_true(blocked_load(path, &s, &err) < 0);
		assert_non_null(strstr(err.msg, path));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_backup_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nulls_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
