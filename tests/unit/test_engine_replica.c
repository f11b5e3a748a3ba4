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
	/* the new side is pointed (by prep, checked before the window), opened
	 * beside the promotion, and DNS moves after the smoke test, last */
	assert_int_equal(runbook_index(rb, "point-new"), -1);
	assert_int_equal(runbook_index(rb, "new-cron-hold"), -1);
	assert_true(runbook_index(rb, "replica-pointed") < runbook_index(rb, "maint-on"));
	assert_true(runbook_index(rb, "replica-catchup") < runbook_index(rb, "open-new"));
	assert_true(runbook_index(rb, "open-new") + 1 == runbook_index(rb, "promote"));
	assert_true(runbook_index(rb, "promote") + 1 == runbook_index(rb, "open-new-ready"));
	assert_true(runbook_index(rb, "open-new-ready") < runbook_index(rb, "unfreeze-new"));
	assert_true(runbook_index(rb, "smoke-test") < runbook_index(rb, "dns-switch"));
	assert_true(runbook_index(rb, "dns-switch") + 1 == runbook_index(rb, "dns-insync"));
	assert_int_equal(runbook_index(rb, "maint-off"), -1);
	assert_true(rb->steps[runbook_index(rb, "dns-insync")]->flags & STEP_F_DOWNTIME_END);
	assert_true(runbook_index(runbook_for("prep", "replica"), "replica-create") <
	    runbook_index(runbook_for("prep", "replica"), "point-new"));
	assert_ptr_equal(runbook_for("run", "snapshot"), runbook_find("run"));
	assert_ptr_equal(runbook_for("tidy", "replica"), runbook_find("tidy"));

	enginerun_init_method(&h, 0, "replica");
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->replicas_created, 1);
	assert_int_equal(h.fw->snapshots_created, 0);
	assert_string_equal(fakeworld_db(h.fw, "cobalt-production-green")->replica_source,
	    "production-blue");
	assert_non_null(strstr(h.out, "read replica"));
	/* prep pointed the new side at the replica, still closed, cron held */
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "RDS_HOSTNAME"),
	    fakeworld_db(h.fw, "cobalt-production-green")->endpoint);
	assert_string_equal(fakeworld_var(h.fw, "cobalt-ses-production-blue", "RDS_HOSTNAME"),
	    fakeworld_db(h.fw, "cobalt-production-green")->endpoint);
	assert_null(fakeworld_var(h.fw, "cobalt-production-green", "MP_USE_DJANGO"));
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "ON");
	/* a second prep changes nothing */
	int m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "prep", &err), 0);
	assert_int_equal(h.fw->mutations, m);
	fakeworld_settle(h.fw);
	/* since prep: MP_USE_DJANGO set by hand on one, and an instance of the
	 * other replaced (the deploy hook put its crontab back) */
	{
		struct world_var v = { "MP_USE_DJANGO", "NO", 1 };
		assert_int_equal(h.w->env_update_vars(h.w, "cobalt-production-green", &v, 1, NULL, 0,
		    &err), 0);
		assert_int_equal(h.w->cron_resume(h.w, "cobalt-ses-production-blue", &err), 0);
		fakeworld_settle(h.fw);
	}
	fakeworld_reset_counters(h.fw);

	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_replica_end_state(&h);
	assert_null(fakeworld_var(h.fw, "cobalt-production-green", "MP_USE_DJANGO"));
	j = enginerun_journal(&h);
	assert_non_null(strstr(j, "\"repointed\":\"cobalt-production-green\""));
	assert_non_null(strstr(j, "\"cron_held_again\":\"cobalt-ses-production-blue\""));
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
	/* replica-pointed: the harness's prep leaves MP_USE_DJANGO=NO behind,
	 * so it puts the settings back and waits */
	static const char *const two_waits[] = { "maint-on", "replica-pointed", "open-new-ready" };
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
	assert_non_null(strstr(line, "dns-insync dns-change 1m00s"));
	assert_null(strstr(line, "point-new"));
	assert_null(strstr(line, "maint-off"));
	/* 120 + 60 + 240 + 60 + 5 against 120 + 60 + 120 + 600 + 120 + 120 + 5 */
	assert_int_equal((int)rep.total_s, 485);
	assert_int_equal((int)snap.total_s, 1145);
	enginerun_done(&h);
}

/* Fail-back after the new side opened but before DNS moved: DNS was never
 * changed, the old side opens again and the new side is closed again. */
static void
test_replica_failback_before_dns(void **state)
{
	struct enginerun h;
	struct cut_err err;

	(void)state;
	init_prepped(&h);
	h.opts.until = "smoke-test";
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.until = NULL;
	fakeworld_settle(h.fw);
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "OFF");
	assert_int_equal(h.fw->dns_changes, 0);
	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	fakeworld_settle(h.fw);
	assert_string_equal(fakeworld_rr(h.fw, "myabf.com.au.")->alias_dns, BLUE_CNAME ".");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-green", "MAINTENANCE_MODE"), "ON");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-ses-production-blue", "MAINTENANCE_MODE"), "ON");
	assert_string_equal(fakeworld_var(h.fw, "cobalt-production-blue", "MAINTENANCE_MODE"), "OFF");
	assert_string_equal(fakeworld_db(h.fw, "production-blue")->data.read_only, "");
	enginerun_done(&h);
}

/* One list per command for both methods (runbook/tables.c): every step of
 * one method's prep or run is in the other's too, unless a row declares it
 * for that method only; and each method's table is exactly its rows, in
 * order (a step added to a hand-written second list would fail here). */
static void
test_one_run_table(void **state)
{
	static const char *const cmds[] = { "prep", "run" };
	static const char *const methods[] = { "snapshot", "replica" };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		size_t nrows, i, k, m;
		const struct runbook_row *rows = runbook_rows(cmds[c], &nrows);

		assert_non_null(rows);
		for (m = 0; m < 2; m++) {
			const struct runbook *rb = runbook_for(cmds[c], methods[m]);
			unsigned bit = m ? RUNBOOK_R : RUNBOOK_S;
			for (i = k = 0; i < nrows; i++) {
				if (!(rows[i].methods & bit))
					continue;
				if (k >= rb->nsteps || rb->steps[k] != rows[i].step)
					fail_msg("%s %s: step %zu is not row %zu (%s)", methods[m], cmds[c],
					    k, i, rows[i].step->name);
				k++;
			}
			assert_int_equal(k, rb->nsteps);
		}
		/* in one method's table only: declared so by every row naming it */
		for (m = 0; m < 2; m++) {
			const struct runbook *a = runbook_for(cmds[c], methods[m]);
			const struct runbook *b = runbook_for(cmds[c], methods[!m]);
			unsigned bit = m ? RUNBOOK_R : RUNBOOK_S;
			for (i = 0; i < a->nsteps; i++) {
				if (runbook_index(b, a->steps[i]->name) >= 0)
					continue;
				for (k = 0; k < nrows; k++)
					if (strcmp(rows[k].step->name, a->steps[i]->name) == 0 &&
					    rows[k].methods != bit)
						fail_msg("%s is in %s's %s only but a row gives it to both",
						    a->steps[i]->name, methods[m], cmds[c]);
			}
		}
	}
	/* the other commands are one table for both */
	assert_null(runbook_rows("failback", &(size_t){ 0 }));
	assert_ptr_equal(runbook_for("failback", "replica"), runbook_find("failback"));
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
		cmocka_unit_test(test_replica_failback_before_dns),
		cmocka_unit_test(test_one_run_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
