/* runbook/tables.c: the runbook, as one table of step entries per command (seed
 * runbook sections in brackets). Changing the runbook is editing these
 * lists; every step lives in its step_<family>.c. */
#include "runbook/tables.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One list per command for both [database] methods (issue 13): each row
 * says which method runs it, B (both), S (snapshot) or R (replica), so a
 * step added to the run reaches both methods unless its row says otherwise;
 * a step whose place differs has one row per method. The method's own
 * tables below are built from these lists by the preprocessor, and
 * runbook_rows gives the rows to the test that checks the two runs differ
 * only where a row says so (tests/unit/test_engine_replica.c). */

/* [Prep] new environments on the new version, in maintenance mode, and a
 * copy of the blocked-email table taken before anything changes. The
 * replica method makes the new database now as a read replica of the live
 * one, warm and current by the window, then holds the new side's cron and
 * points the new environments at the replica (still in maintenance mode;
 * the replica is read-only and a configuration update runs no deploy hook),
 * so that the window needs no configuration update for it. */
#define PREP_ROWS(X) \
	X(B, create_web) X(B, create_ses) X(B, blocked_email_backup) \
	X(R, replica_create) X(R, new_cron_hold) X(R, point_new)

/* [Upgrade] in the runbook's order; quiet and cron-pause (issue 5) come
 * before the snapshot, the smoke test before maintenance mode is lifted.
 * Once quiet, the live database is frozen (it refuses writes) before the
 * snapshot; the copy, frozen too, is unfrozen as soon as the new
 * environments point at it; parity compares the two just before DNS moves,
 * with the new side's cron held in between so that it compares exactly
 * (issue 12).
 * The blocked emails leave the restored copy before migrate (0055
 * validates their ids) and come back right after the conversion, before
 * the site opens, so no blocked person is emailed in between. DNS goes
 * INSYNC (dns-insync) while the conversion and smoke test run, not before
 * them: nothing there needs it, and the minute leaves the window. Last,
 * with the site open, dns-tail watches the old side until resolvers that
 * ignore the TTL have let go of it.
 *
 * The replica path: what prep's new-cron-hold and point-new did is checked
 * before the window (replica-pointed: an instance replaced since prep gets
 * its crontab back from the deploy hook; hold it again). Snapshot and restore become
 * replica-catchup (after the freeze, the replica has replayed every WAL
 * record the live database wrote) and promote, with the new environments'
 * MAINTENANCE_MODE=OFF update (open-new) running beside the promotion and
 * waited for after it (open-new-ready). The smoke test then runs against
 * the open new site, DNS moves last, and the window ends when Route 53 is
 * INSYNC (the replica's dns-insync carries the downtime end; there is no
 * maint-off). */
#define RUN_ROWS(X) \
	X(R, replica_pointed) \
	X(B, scale_live) X(B, maint_on) X(B, quiet) X(B, cron_pause) X(B, freeze) \
	X(S, snapshot) X(S, restore) X(S, new_cron_hold) X(S, point_new) \
	X(R, replica_catchup) X(R, open_new) X(R, promote) X(R, open_new_ready) \
	X(B, unfreeze_new) X(B, blocked_email_clear) X(B, migrate_new) X(B, parity) \
	X(B, new_cron_back) \
	X(S, dns_switch) X(B, convert_users) X(B, blocked_email_restore) X(B, smoke_test) \
	X(R, dns_switch) X(S, dns_insync) X(R, dns_insync_open) X(S, maint_off) \
	X(B, lost_writes) X(B, dns_tail)

#define E(e) &step_##e##_entry,
#define SNAP_B(e) E(e)
#define SNAP_S(e) E(e)
#define SNAP_R(e)
#define REPL_B(e) E(e)
#define REPL_S(e)
#define REPL_R(e) E(e)
#define SNAP(m, e) SNAP_##m(e)
#define REPL(m, e) REPL_##m(e)
#define ROW(m, e) { &step_##e##_entry, RUNBOOK_##m },
#define RUNBOOK_B (RUNBOOK_S | RUNBOOK_R)

static const struct step_entry *const prep_steps[] = { PREP_ROWS(SNAP) };
static const struct step_entry *const prep_replica_steps[] = { PREP_ROWS(REPL) };
static const struct runbook_row prep_rows[] = { PREP_ROWS(ROW) };
static const struct preflight_entry *const prep_checks[] = {
	&preflight_identity, &preflight_live_envs, &preflight_dns_live, &preflight_live_db,
	&preflight_new_names_free, &preflight_ssh,
};

static const struct step_entry *const run_steps[] = { RUN_ROWS(SNAP) };
static const struct step_entry *const run_replica_steps[] = { RUN_ROWS(REPL) };
static const struct runbook_row run_rows[] = { RUN_ROWS(ROW) };
static const struct preflight_entry *const run_checks[] = {
	&preflight_identity, &preflight_live_envs, &preflight_new_envs, &preflight_dns_live,
	&preflight_new_version, &preflight_live_db, &preflight_ssh, &preflight_names_free,
};
#define prep_replica_checks prep_checks
#define run_replica_checks run_checks

#undef E
#undef SNAP_B
#undef SNAP_S
#undef SNAP_R
#undef REPL_B
#undef REPL_S
#undef REPL_R
#undef SNAP
#undef REPL
#undef ROW
#undef RUNBOOK_B

/* [Fail Back] DNS first, then the old system opens again (its database
 * takes writes again before its site and cron come back). The new side's
 * cron stops before the old side's resumes (two systems charging the same
 * cards), and the new side is closed before its activity is counted, so
 * nothing it writes after the report goes unlisted. */
static const struct step_entry *const failback_steps[] = {
	&step_failback_dns_entry,
	&step_failback_new_cron_entry,
	&step_failback_unfreeze_entry,
	&step_failback_maint_entry,
	&step_failback_cron_entry,
	&step_failback_scale_entry,
	&step_failback_new_maint_entry,
	&step_failback_activity_entry,
};
static const struct preflight_entry *const failback_checks[] = {
	&preflight_identity,
};

/* [Post Implementation] Route 53, Elastic Beanstalk, RDS. */
static const struct step_entry *const tidy_steps[] = {
	&step_tidy_dns_entry,
	&step_tidy_envs_entry,
	&step_tidy_db_entry,
};
static const struct preflight_entry *const tidy_checks[] = {
	&preflight_identity, &preflight_cutover_done, &preflight_old_db_unused,
};

/* [Steps for Test] */
static const struct step_entry *const rehearse_steps[] = {
	&step_rehearse_mp_django_entry,
	&step_rehearse_snapshot_entry,
	&step_rehearse_restore_entry,
	&step_rehearse_point_entry,
	&step_rehearse_blocked_clear_entry,
	&step_rehearse_migrate_entry,
	&step_rehearse_convert_entry,
	&step_rehearse_blocked_restore_entry,
	&step_rehearse_mpc_check_entry,
	&step_rehearse_mpc_sync_entry,
};
static const struct preflight_entry *const rehearse_checks[] = {
	&preflight_identity, &preflight_test_env,
};

#define RB(c) { #c, c##_steps, N(c##_steps), c##_checks, N(c##_checks) }
#define RBV(c, v) { #c, c##_##v##_steps, N(c##_##v##_steps), c##_##v##_checks, N(c##_##v##_checks) }
static const struct runbook runbooks[] = {
	RB(prep), RB(run), RB(failback), RB(tidy), RB(rehearse),
	RBV(prep, replica), RBV(run, replica),
};
#undef RB
#undef RBV
#define NDEFAULT 5

const struct runbook *const runbook_all[] = {
	&runbooks[0], &runbooks[1], &runbooks[2], &runbooks[3], &runbooks[4], NULL,
};

const struct runbook *
runbook_find(const char *cmd)
{
	size_t i;

	for (i = 0; i < NDEFAULT; i++)
		if (strcmp(runbooks[i].cmd, cmd) == 0)
			return &runbooks[i];
	return NULL;
}

const struct runbook *
runbook_for(const char *cmd, const char *method)
{
	if (method != NULL && strcmp(method, "replica") == 0) {
		if (strcmp(cmd, "prep") == 0)
			return &runbooks[NDEFAULT];
		if (strcmp(cmd, "run") == 0)
			return &runbooks[NDEFAULT + 1];
	}
	return runbook_find(cmd);
}

const struct runbook_row *
runbook_rows(const char *cmd, size_t *n)
{
	if (strcmp(cmd, "prep") == 0) {
		*n = N(prep_rows);
		return prep_rows;
	}
	if (strcmp(cmd, "run") == 0) {
		*n = N(run_rows);
		return run_rows;
	}
	*n = 0;
	return NULL;
}

int
runbook_index(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->nsteps; i++)
		if (strcmp(rb->steps[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct step_entry *
runbook_step(const char *name)
{
	size_t i;
	int k;

	for (i = 0; i < N(runbooks); i++)
		if ((k = runbook_index(&runbooks[i], name)) >= 0)
			return runbooks[i].steps[k];
	return NULL;
}
