/* Unit tests for runbook/window.c: `cutover plan`'s predicted window, from
 * AWS's documented durations when no rehearsal was journalled, from the
 * rehearsal's measured waits when one was, and which it says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbook/journal.h"
#include "runbook/window.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cutover-wt.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_documented_without_rehearsal(void **state)
{
	struct run_ctx ctx;
	struct window_prediction p;
	char line[2048];

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.names.quiet_seconds = 60;
	window_predict(&ctx, &p);
	assert_int_equal(p.nmeasured, 0);
	/* 120 + 60 + 120 + 600 + 120 + 120 + 5 */
	assert_int_equal((int)p.total_s, 1145);
	window_sentence(&p, line, sizeof(line));
	assert_non_null(strstr(line, "Predicted downtime window about 19m05s, from AWS's "
	    "documented durations (no rehearsal"));
	assert_non_null(strstr(line, "restore db-restore 10m00s (restore from snapshot"));
	assert_non_null(strstr(line, "quiet quiet 1m00s (the configured quiet period"));
}

static void
test_from_rehearsal(void **state)
{
	struct run_ctx ctx;
	struct window_prediction p;
	struct cut_err err;
	struct journal *j;
	struct json_object *o, *parts;
	char path[128], line[2048];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"v\":1,\"ms\":1,\"ev\":\"journal-begin\",\"kv\":{\"id\":\"x\"}}\n"
	    "{\"v\":1,\"ms\":2,\"ev\":\"wait-end\",\"step\":\"rehearse-mp-django\",\"kv\":"
	    "{\"wait_kind\":\"env-update\",\"wait_s\":\"95.0\"}}\n"
	    "{\"v\":1,\"ms\":3,\"ev\":\"wait-end\",\"step\":\"rehearse-snapshot\",\"kv\":"
	    "{\"wait_kind\":\"db-snapshot\",\"wait_s\":\"200.0\"}}\n"
	    "{\"v\":1,\"ms\":4,\"ev\":\"wait-end\",\"step\":\"rehearse-restore\",\"kv\":"
	    "{\"wait_kind\":\"db-restore\",\"wait_s\":\"900.0\"}}\n"
	    /* a real run's wait is not a rehearsal's */
	    "{\"v\":1,\"ms\":5,\"ev\":\"wait-end\",\"step\":\"restore\",\"kv\":"
	    "{\"wait_kind\":\"db-restore\",\"wait_s\":\"1.0\"}}\n"
	    "{\"v\":1,\"ms\":6,\"ev\":\"wait-end\",\"step\":\"rehearse-point\",\"kv\":"
	    "{\"wait_kind\":\"env-update\",\"wait_s\":\"100.0\"}}\n", f);
	fclose(f);
	assert_int_equal(journal_open_readonly(dir, &j, &err), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.journal = j;
	ctx.names.quiet_seconds = 30;
	window_predict(&ctx, &p);
	assert_int_equal(p.nmeasured, 5);
	/* 100 + 30 + 200 + 900 + 100 + 100 + 5 */
	assert_int_equal((int)p.total_s, 1435);
	window_sentence(&p, line, sizeof(line));
	assert_non_null(strstr(line, "from the durations cutover rehearse measured on the test "
	    "system"));
	o = window_json(&p);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "parts", &parts));
	assert_string_equal(json_object_get_string(json_object_object_get(
	    json_object_array_get_idx(parts, 3), "source")), "rehearsal");
	assert_int_equal(json_object_get_int(json_object_object_get(
	    json_object_array_get_idx(parts, 3), "seconds")), 900);
	json_object_put(o);
	journal_close(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_without_rehearsal),
		cmocka_unit_test_setup_teardown(test_from_rehearsal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
