/* runbook/tables.h: the runbook as tables of step entries, one per command, in
 * the order they run (seed runbook: Prep, Upgrade, Fail Back, Post
 * Implementation, Steps for Test). The data-safety steps of issue 5 are
 * wired in at their places. */
#ifndef CUTOVER_RUNBOOK_H
#define CUTOVER_RUNBOOK_H

#include <stddef.h>

#include "runbook/preflight.h"
#include "runbook/step.h"

struct runbook {
	const char *cmd;                          /* "prep", "run", ... */
	const struct step_entry *const *steps;
	size_t nsteps;
	const struct preflight_entry *const *checks;
	size_t nchecks;
};

/* The runbook of command cmd, NULL if none (the snapshot method's prep and run). */
const struct runbook *runbook_find(const char *cmd);

/* The runbook of command cmd for [database] method `method` ("snapshot",
 * "replica"; NULL or "" = snapshot): the replica method has its own prep and
 * run lists; the other commands are the same for both. */
const struct runbook *runbook_for(const char *cmd, const char *method);

/* The rows prep's and run's tables for both methods are built from (one
 * list per command, runbook/tables.c): the step and the methods that run it
 * at that place. */
enum { RUNBOOK_S = 1, RUNBOOK_R = 2 };   /* [database] method snapshot, replica */
struct runbook_row {
	const struct step_entry *step;
	unsigned methods;                 /* RUNBOOK_S | RUNBOOK_R */
};

/* The rows of cmd ("prep", "run"; *n rows), NULL (*n 0) for the commands
 * that are the same for both methods. */
const struct runbook_row *runbook_rows(const char *cmd, size_t *n);

/* Every runbook of the snapshot method, NULL-terminated (plan/status walk
 * them all; runbook_for gives a method's own). */
extern const struct runbook *const runbook_all[];

/* The step named `name` in any runbook, NULL if none. */
const struct step_entry *runbook_step(const char *name);

/* Index of step `name` in rb, -1 if absent. */
int runbook_index(const struct runbook *rb, const char *name);

/* Every step entry (declared here so runbook/tables.c and the tests see them). */
extern const struct step_entry step_create_web_entry, step_create_ses_entry,
    step_blocked_email_backup_entry,
    step_scale_live_entry, step_maint_on_entry, step_quiet_entry, step_cron_pause_entry,
    step_snapshot_entry, step_restore_entry, step_point_new_entry, step_dns_switch_entry,
    step_dns_insync_entry, step_dns_tail_entry,
    step_convert_users_entry, step_migrate_new_entry, step_smoke_test_entry, step_maint_off_entry,
    step_blocked_email_clear_entry, step_blocked_email_restore_entry, step_lost_writes_entry,
    step_failback_dns_entry, step_failback_maint_entry, step_failback_cron_entry,
    step_failback_scale_entry, step_failback_activity_entry,
    step_failback_new_cron_entry, step_failback_new_maint_entry,
    step_tidy_dns_entry, step_tidy_envs_entry, step_tidy_db_entry,
    step_rehearse_mp_django_entry, step_rehearse_snapshot_entry, step_rehearse_restore_entry,
    step_rehearse_point_entry,
    step_rehearse_blocked_clear_entry, step_rehearse_blocked_restore_entry,
    step_rehearse_migrate_entry, step_rehearse_convert_entry, step_rehearse_mpc_check_entry,
    step_rehearse_mpc_sync_entry,
    step_freeze_entry, step_unfreeze_new_entry, step_parity_entry, step_failback_unfreeze_entry,
    step_new_cron_hold_entry, step_new_cron_back_entry,
    step_replica_create_entry, step_replica_catchup_entry, step_promote_entry,
    step_open_new_entry, step_open_new_ready_entry, step_replica_pointed_entry, step_dns_insync_open_entry;

/* The tables the parity step (runbook/steps/step_freeze.c) leaves out, and
 * why; NULL-ended. */
struct parity_skip {
	const char *table, *why;
};
extern const struct parity_skip parity_skips[];

#endif
