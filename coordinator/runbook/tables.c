/* runbook/tables.c: the runbook, as one table of step entries per command (seed
 * runbook sections in brackets). Changing the runbook is editing these
 * lists; every step lives in its step_<family>.c. */
#include "runbook/tables.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* [Prep] new environments on the new version, in maintenance mode, and a
 * copy of the blocked-email table taken before anything changes. */
static const struct step_entry *const prep_steps[] = {
	&step_create_web_entry,
	&step_create_ses_entry,
	&step_blocked_email_backup_entry,
};
/* [database] method = replica (issue 13): the same, and the new database
 * made now as a read replica of the live one, warm and current by the
 * window. */
static const struct step_entry *const prep_replica_steps[] = {
	&step_create_web_entry,
	&step_create_ses_entry,
	&step_blocked_email_backup_entry,
	&step_replica_create_entry,
};
static const struct preflight_entry *const prep_checks[] = {
	&preflight_identity, &preflight_live_envs, &preflight_dns_live, &preflight_live_db,
	&preflight_new_names_free, &preflight_ssh,
};

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
 * ignore the TTL have let go of it. */
static const struct step_entry *const run_steps[] = {
	&step_scale_live_entry,
	&step_maint_on_entry,
	&step_quiet_entry,
	&step_cron_pause_entry,
	&step_freeze_entry,
	&step_snapshot_entry,
	&step_restore_entry,
	&step_new_cron_hold_entry,
	&step_point_new_entry,
	&step_unfreeze_new_entry,
	&step_blocked_email_clear_entry,
	&step_migrate_new_entry,
	&step_parity_entry,
	&step_new_cron_back_entry,
	&step_dns_switch_entry,
	&step_convert_users_entry,
	&step_blocked_email_restore_entry,
	&step_smoke_test_entry,
	&step_dns_insync_entry,
	&step_maint_off_entry,
	&step_lost_writes_entry,
	&step_dns_tail_entry,
};
static const struct preflight_entry *const run_checks[] = {
	&preflight_identity, &preflight_live_envs, &preflight_new_envs, &preflight_dns_live,
	&preflight_new_version, &preflight_live_db, &preflight_ssh, &preflight_names_free,
};

/* The replica path: snapshot and restore become replica-catchup (after the
 * freeze, the replica has replayed every WAL record the live database
 * wrote) and promote (the replica leaves recovery and takes writes); the
 * rest is the same list. */
static const struct step_entry *const run_replica_steps[] = {
	&step_scale_live_entry,
	&step_maint_on_entry,
	&step_quiet_entry,
	&step_cron_pause_entry,
	&step_freeze_entry,
	&step_replica_catchup_entry,
	&step_promote_entry,
	&step_new_cron_hold_entry,
	&step_point_new_entry,
	&step_unfreeze_new_entry,
	&step_blocked_email_clear_entry,
	&step_migrate_new_entry,
	&step_parity_entry,
	&step_new_cron_back_entry,
	&step_dns_switch_entry,
	&step_convert_users_entry,
	&step_blocked_email_restore_entry,
	&step_smoke_test_entry,
	&step_dns_insync_entry,
	&step_maint_off_entry,
	&step_lost_writes_entry,
	&step_dns_tail_entry,
};
#define prep_replica_checks prep_checks
#define run_replica_checks run_checks

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
