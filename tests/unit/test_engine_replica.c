/* Unit tests for the read-replica path ([database] method = replica, issue
 * 13) against the in-memory world (tests/support/fakeworld.c): prep creates
 * the replica, run catches it up after the freeze and promotes it instead of
 * a snapshot and a restore, resume after a kill at every point of every
 * step, the refusals (no automated backups, no replica, lag), fail-back and
 * tidy (which deletes the old database, never the promoted one), the
 * method pinned in the journal, and plan's window. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enginerun.h"
#include "runbook/engine.h"
#include "runbook/tables.h"
#include "runbook/window.h"

#define GREEN_CNAME "cobalt-production-green.ap-southeast-2.elasticbeanstalk.com"
#define BLUE_CNAME "cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com"

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
		n++, hay++;
	return n;
}

static void
assert_replica_end_state(struct enginerun *h)
{
	struct fakeworld *fw = h->fw;
	struct fw_db *db = fakeworld_db(fw, "cobalt-production-green");

	/* no snapshot, no restore: one promotion of the replica prep made */
	assert_int_equal(fw->snapshots_created, 0);
	assert_int_equal(fw->restores, 0);
	assert_int_equal(fw->replicas_created, 0);
	assert_int_equal(fw->promotions, 1);
	assert_int_equal(fw->dns_changes, 1);
	assert_int_equal(fw->conversions, 1);
	assert_string_equal(fakeworld_rr(fw, "myabf.com.au.")->alias_dns, GREEN_CNAME ".");
	assert_non_null(db);
	assert_string_equal(db->replica_source, "");
	assert_string_equal(db->status, "available");
	assert_string_equal(db->klass, "db.t3.small");
	assert_string_equal(fakeworld_var(fw, "cobalt-production-green", "RDS_HOSTNAME"), db->endpoint);
	assert_string_equal(fakeworld_var(fw, "cobalt-ses-production-blue", "RDS_HOSTNAME"), db->endpoint);
	assert_string_equal(fakeworld_var(fw, "cobalt-production-green", "MAINTENANCE_MODE"), "OFF");
	/* the old database stays frozen and untouched; the promoted one, which
	 * replicated the freeze setting, takes writes */
	assert_string_equal(fakeworld_db(fw, "production-blue")->status, "available");
	assert_string_equal(fakeworld_db(fw, "production-blue")->data.read_only, "on");
	assert_string_equal(db->data.read_only, "");
	assert_int_equal(fakeworld_app_write(fw, "cobalt-production-blue", 2), -1);
	assert_int_equal(fakeworld_app_write(fw, "cobalt-production-green", 2), 0);
	assert_int_equal(fw->db_deletes, 0);
}

/* prep creates the replica (and no snapshot); run promotes it, in the
 * replica table's order; a rerun changes nothing. */
static void
test_replica_prep_and_run(void **state)
{
	struct enginerun h;
	struct cut_err err;
	const struct runbook *rb = runbook_for("run", "replica");
	char *j, *p;

	(void)state;
	assert_int_equal(runbook_index(rb, "snapshot"), -1);
	assert_int_equal(runbook_index(rb, "restore"), -1);
	assert_true(runbook_index(rb, "freeze") < runbook_index(rb, "replica-catchup"));
	assert_true(runbook_index(rb, "replica-catchup") < runbook_index(rb, "promote"));
	assert_true(runbook_index(rb, "promote") < runbook_index(rb, "point-new"));
	assert_true(runbook_index(runbook_for("prep", "replica"), "replica-create") >= 0);
	assert_ptr_equal(runbook_for("run", "snapshot"), runbook_find("run"));
	assert_ptr_equal(runbook_for("tidy", "replica"), runbook_find("tidy"));

	enginerun_init_method(&h, 0, "replica");
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->replicas_created, 1);
	assert_int_equal(h.fw->snapshots_created, 0);
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->replica_source,
	    "production-blue");
	assert_non_null(strstr(h.out, "read replica"));
	/* a second prep changes nothing */
	int m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->mutations, m);
	fakeworld_settle(h.fw);
	fakeworld_reset_counters(h.fw);

	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_replica_end_state(&h);
	j = enginerun_journal(&h);
	p = j;
	for (size_t i = 0; i < rb->nsteps; i++) {
		char want[128];
		snprintf(want, sizeof(want), "\"ev\":\"step-done\",\"step\":\"%s\"", rb->steps[i]->name);
		p = strstr(p, want);
		if (p == NULL)
			fail_msg("step %s is not done in order", rb->steps[i]->name);
	}
	assert_non_null(strstr(j, "\"db_method\":\"replica\""));
	assert_non_null(strstr(j, "\"replay_lsn\":"));
	assert_non_null(strstr(j, "\"wait_kind\":\"db-promote\""));
	free(j);
	/* lost writes: counted from the promotion point (none: the freeze) */
	assert_non_null(strstr(h.out, "0 row(s) were written to the old database after the "
	    "promotion point"));
	m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->mutations, m);
	enginerun_done(&h);
}

static void
init_prepped(struct enginerun *h)
{
	enginerun_init_method(h, 1, "replica");
	fakeworld_settle(h->fw);
	fakeworld_reset_counters(h->fw);
}

/* Kill the tool at every point of every step, rerun: the same end state
 * with one promotion, one DNS change and one conversion, and the downtime
 * recorded once. */
static void
test_replica_crash_at_every_point(void **state)
{
	static const char *const points[] = { "before", "recorded", "apply", "applied", "wait",
	    "waited", "wait2", "waited2", "done" };
	static const char *const two_waits[] = { "maint-on", "point-new", "maint-off" };
	const struct runbook *rb = runbook_for("run", "replica");
	size_t i, k;
	int crashed = 0, want = 0;

	(void)state;
	for (i = 0; i < rb->nsteps; i++) {
		const struct step_entry *st = rb->steps[i];
		int twice = 0;

		for (k = 0; k < sizeof(two_waits) / sizeof(two_waits[0]); k++)
			twice |= strcmp(st->name, two_waits[k]) == 0;
		for (k = 0; k < sizeof(points) / sizeof(points[0]); k++) {
			const char *p = points[k];
			int reach = strcmp(p, "recorded") == 0 ? st->record != NULL :
			    strncmp(p, "wait", 4) == 0 ? st->wait != NULL &&
			    (p[strlen(p) - 1] != '2' || twice) : 1;
			struct enginerun h;
			struct cut_err err;
			char at[96], *j;
			int rc;

			init_prepped(&h);
			snprintf(at, sizeof(at), "%s:%s", st->name, p);
			h.crash_at = at;
			rc = enginerun_fork(&h, "run");
			if (rc != (reach ? 137 : 0))
				fail_msg("run with the hook at %s ended %d", at, rc);
			crashed += rc == 137;
			want += reach;
			h.crash_at = NULL;
			if (enginerun_cmd(&h, "run", &err) != 0)
				fail_msg("rerun after crash at %s failed: %s", at, err.msg);
			assert_replica_end_state(&h);
			j = enginerun_journal(&h);
			if (count(j, "\"ev\":\"downtime-begin\"") != 1 ||
			    count(j, "\"ev\":\"downtime-end\"") != 1)
				fail_msg("after a crash at %s the downtime is not recorded once", at);
			free(j);
			enginerun_done(&h);
		}
	}
	assert_int_equal(crashed, want);
	assert_true(runbook_index(rb, "promote") >= 0);
}

/* The live database keeps no automated backups: prep refuses with one
 * sentence that says how to go on, and creates nothing. */
static void
test_replica_needs_backups(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	enginerun_init_method(&h, 0, "replica");
	fakeworld_db(h.fw, "production-blue")->backup_retention = 0;
	assert_int_equal(enginerun_cmd(&h, "prep", &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "keeps no automated backups"));
	assert_non_null(strstr(err.msg, "method = snapshot"));
	assert_int_equal(h.fw->replicas_created, 0);
	assert_null(fakeworld_db(h.fw, "cobalt-production-green"));
	enginerun_done(&h);
}

/* run without the replica: refused before anything changes. With a
 * database of that name that is no replica: refused too. */
static void
test_replica_run_needs_prep(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_prepped(&h);
	fakeworld_db(h.fw, "cobalt-production-green")->exists = 0;   /* deleted since prep */
	int m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(h.out, "There is no read replica cobalt-production-green"));
	assert_int_equal(h.fw->mutations, m);
	enginerun_done(&h);
}

/* A replica still behind: the catch-up waits (and says how far), promotion
 * comes only after. */
static void
test_replica_lag(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_prepped(&h);
	fakeworld_db(h.fw, "cobalt-production-green")->lag_polls = 3;
	h.opts.until = "replica-catchup";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->promotions, 0);
	assert_int_equal(fakeworld_db(h.fw, "cobalt-production-green")->lag_polls, 0);
	h.opts.until = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_replica_end_state(&h);
	enginerun_done(&h);
}

/* The method is pinned when the cutover begins: a configuration changed to
 * snapshot half way does not switch the steps. */
static void
test_replica_method_pinned(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_prepped(&h);
	h.opts.until = "promote";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	snprintf(h.names.db_method, sizeof(h.names.db_method), "snapshot");
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_replica_end_state(&h);
	enginerun_done(&h);
}

/* Fail-back after a replica cutover puts DNS and the old side back; tidy
 * after a completed one deletes the old database, never the promoted one. */
static void
test_replica_failback_and_tidy(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_prepped(&h);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_string_equal(fakeworld_rr(h.fw, "myabf.com.au.")->alias_dns, BLUE_CNAME ".");
	assert_string_equal(fakeworld_db(h.fw, "production-blue")->data.read_only, "");
	assert_non_null(fakeworld_db(h.fw, "cobalt-production-green"));
	enginerun_done(&h);

	init_prepped(&h);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), 0);
	assert_null(fakeworld_db(h.fw, "production-blue"));
	assert_int_equal(h.fw->db_deletes, 1);
	assert_non_null(fakeworld_db(h.fw, "cobalt-production-green"));
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->status, "available");
	enginerun_done(&h);
}

/* plan predicts the replica window: the promotion instead of the snapshot
 * and the restore. */
static void
test_replica_window(void **state)
{
	struct enginerun h;
	struct run_ctx ctx;
	struct window_prediction snap, rep;
	char line[2048];

	(void)state;
	enginerun_init_method(&h, 0, "replica");
	memset(&ctx, 0, sizeof(ctx));
	ctx.names = h.names;
	ctx.names.quiet_seconds = 60;
	window_predict(&ctx, &rep);
	window_sentence(&rep, line, sizeof(line));
	assert_non_null(strstr(line, "promote db-promote 4m00s (AWS RDS User Guide, Promoting a "
	    "read replica"));
	assert_null(strstr(line, "db-restore"));
	snprintf(ctx.names.db_method, sizeof(ctx.names.db_method), "snapshot");
	window_predict(&ctx, &snap);
	assert_true(rep.total_s < snap.total_s);
	/* 120 + 60 + 240 + 120 + 120 + 5 against 120 + 60 + 120 + 600 + 120 + 120 + 5 */
	assert_int_equal((int)rep.total_s, 665);
	assert_int_equal((int)snap.total_s, 1145);
	enginerun_done(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replica_prep_and_run),
		cmocka_unit_test(test_replica_crash_at_every_point),
		cmocka_unit_test(test_replica_needs_backups),
		cmocka_unit_test(test_replica_run_needs_prep),
		cmocka_unit_test(test_replica_lag),
		cmocka_unit_test(test_replica_method_pinned),
		cmocka_unit_test(test_replica_failback_and_tidy),
		cmocka_unit_test(test_replica_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
