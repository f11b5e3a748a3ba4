/* The world's operations on two environments at once (world_ops
 * cron_paused_many, cron_set_many and db_table_stats_many,
 * world/real_remote.c: the instances of both environments each on a thread
 * of its own) against the simulated production: they pause and give back
 * the crontabs of both environments, agree with the one-environment
 * operations the fail-back commands use, giving back twice is a no-op, an
 * environment that does not exist is one clear error with nothing changed
 * on the other, the stats read side by side are those read one by one, and
 * the CNAMEs read in one call are those env_describe gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tsupport.h"

#include "world/ops.h"

static const char *const pair[2] = { "cobalt-production-blue", "cobalt-ses-production-blue" };

static void
sim_env(void)
{
	char line[1024];
	FILE *f = fopen(ts_env("SIMPROD_AWS_ENV"), "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\r\n")] = '\0';
		if (eq == NULL || line[0] == '#')
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	fclose(f);
	setenv("CUTOVER_OPERATOR_IP", "127.0.0.1", 1);
}

/* Both ways of asking agree, for each environment. */
static void
expect_paused(struct world_ops *w, int want)
{
	struct cut_err err;
	int many[2] = { -1, -1 }, one;

	if (w->cron_paused_many(w, pair, 2, many, &err) != 0)
		fail_msg("cron_paused_many: %s", err.msg);
	for (int k = 0; k < 2; k++) {
		if (w->cron_paused(w, pair[k], &one, &err) != 0)
			fail_msg("cron_paused %s: %s", pair[k], err.msg);
		assert_int_equal(many[k], want);
		assert_int_equal(one, want);
	}
}

static void
test_pause_and_give_back_both(void **state)
{
	struct world_ops *w;
	struct cut_err err;

	(void)state;
	sim_env();
	if (world_ops_open(ts_env("SIMPROD_CONFIG"), NULL, &w, &err) != 0)
		fail_msg("world_ops_open: %s", err.msg);
	assert_non_null(w->cron_paused_many);
	assert_non_null(w->cron_set_many);
	expect_paused(w, 0);
	if (w->cron_set_many(w, pair, 2, 1, &err) != 0)
		fail_msg("cron_set_many pause: %s", err.msg);
	expect_paused(w, 1);
	/* Pausing again keeps the first saved copy (the agent's rule). */
	if (w->cron_set_many(w, pair, 2, 1, &err) != 0)
		fail_msg("cron_set_many pause again: %s", err.msg);
	expect_paused(w, 1);
	if (w->cron_set_many(w, pair, 2, 0, &err) != 0)
		fail_msg("cron_set_many give back: %s", err.msg);
	expect_paused(w, 0);
	/* Nothing saved any more: giving back again changes nothing. */
	if (w->cron_set_many(w, pair, 2, 0, &err) != 0)
		fail_msg("cron_set_many give back again: %s", err.msg);
	expect_paused(w, 0);
	world_ops_close(w);
}

static void
test_unknown_environment(void **state)
{
	const char *const bad[2] = { pair[0], "cobalt-nowhere-blue" };
	struct world_ops *w;
	struct cut_err err;
	int paused[2];

	(void)state;
	sim_env();
	if (world_ops_open(ts_env("SIMPROD_CONFIG"), NULL, &w, &err) != 0)
		fail_msg("world_ops_open: %s", err.msg);
	memset(&err, 0, sizeof(err));
	assert_true(w->cron_set_many(w, bad, 2, 1, &err) < 0);
	assert_non_null(strstr(err.msg, "cobalt-nowhere-blue"));
	/* The environments are found before anything is sent: nothing paused. */
	assert_true(w->cron_paused_many(w, pair, 2, paused, &err) == 0);
	assert_int_equal(paused[0], 0);
	world_ops_close(w);
}

static void
test_stats_side_by_side(void **state)
{
	struct world_table_stat *st[2] = { NULL, NULL }, *one;
	size_t n[2] = { 0, 0 }, none;
	struct world_ops *w;
	struct cut_err err;

	(void)state;
	sim_env();
	if (world_ops_open(ts_env("SIMPROD_CONFIG"), NULL, &w, &err) != 0)
		fail_msg("world_ops_open: %s", err.msg);
	assert_non_null(w->db_table_stats_many);
	if (w->db_table_stats_many(w, pair, 2, st, n, &err) != 0)
		fail_msg("db_table_stats_many: %s", err.msg);
	for (int k = 0; k < 2; k++) {
		if (w->db_table_stats(w, pair[k], &one, &none, &err) != 0)
			fail_msg("db_table_stats %s: %s", pair[k], err.msg);
		assert_true(none > 0);
		assert_int_equal(n[k], none);
		for (size_t i = 0; i < none; i++) {
			assert_string_equal(st[k][i].table, one[i].table);
			assert_true(st[k][i].rows == one[i].rows);
			assert_string_equal(st[k][i].max_id, one[i].max_id);
		}
		free(one);
		free(st[k]);
	}
	world_ops_close(w);
}

static void
test_cnames_in_one_call(void **state)
{
	const char *const bad[2] = { pair[0], "cobalt-nowhere-blue" };
	char cn[2][256];
	struct world_ops *w;
	struct world_env e;
	struct cut_err err;

	(void)state;
	sim_env();
	if (world_ops_open(ts_env("SIMPROD_CONFIG"), NULL, &w, &err) != 0)
		fail_msg("world_ops_open: %s", err.msg);
	assert_non_null(w->env_cnames);
	if (w->env_cnames(w, pair, 2, cn, &err) != 0)
		fail_msg("env_cnames: %s", err.msg);
	for (int k = 0; k < 2; k++) {
		if (w->env_describe(w, pair[k], &e, &err) != 0)
			fail_msg("env_describe %s: %s", pair[k], err.msg);
		assert_true(e.cname[0] != '\0');
		assert_string_equal(cn[k], e.cname);
	}
	assert_int_equal(w->env_cnames(w, bad, 2, cn, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "cobalt-nowhere-blue"));
	world_ops_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pause_and_give_back_both),
		cmocka_unit_test(test_unknown_environment),
		cmocka_unit_test(test_stats_side_by_side),
		cmocka_unit_test(test_cnames_in_one_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
