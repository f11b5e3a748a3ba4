/* fakeworld.h: an in-memory world behind struct world_ops, for testing the
 * ENGINE's logic (order, resume, refusal, recording) without AWS or SSH.
 * It is a test double of the world, not of the project's own modules: the
 * end-to-end tests against the simulated AWS exercise the real
 * implementation. Changes take a few polls to settle (environments
 * Updating -> Ready, snapshots creating with a percentage, DNS PENDING ->
 * INSYNC), and every change is counted so tests can assert "exactly one
 * snapshot". The state lives in a MAP_SHARED mapping so a forked child that
 * _exit()s at a crash point leaves its changes for the parent to rerun on. */
#ifndef CUTOVER_TEST_FAKEWORLD_H
#define CUTOVER_TEST_FAKEWORLD_H

#include <stdint.h>

#include "runbook/step.h"
#include "world/ops.h"

#define FW_ENVS 8
#define FW_VARS 16
#define FW_DBS 8
#define FW_SNAPS 8
#define FW_RRS 16
#define FW_CHANGES 32
#define FW_TOKENS 16
#define FW_CALLS 1024

struct fw_env {
	int exists;
	char name[64], cname[256], status[32], version[128];
	int min_size, max_size, settle;   /* settle: polls until Ready */
	double ready_at;                  /* timed updates: Ready at this clock time */
	double notice_lag;                /* timed updates: clock time from Ready to the first poll that saw it */
	int terminating;
	int cron_paused;
	struct world_var vars[FW_VARS];
};

/* The tables every fake database holds (fakeworld_tables, FW_TABLES of
 * them), their row counts and highest ids: what the write freeze counts
 * and parity compares. migrate adds a row to django_migrations. */
#define FW_TABLES 4
extern const char *const fakeworld_tables[FW_TABLES];

/* A database's data as far as the freeze and parity see it. A snapshot
 * holds a copy; a restore starts from it (the setting travels, as on RDS). */
struct fw_data {
	char read_only[16];     /* database-level default_transaction_read_only, "" unset */
	long long rows[FW_TABLES], max_id[FW_TABLES];
};

struct fw_db {
	int exists, settle, deleting;
	char id[64], status[32], klass[32], endpoint[256];
	struct fw_data data;
	int read_only_sets;     /* db_read_only_set calls on it */
	int backup_retention;   /* days; 7 unless a test sets 0 */
	char replica_source[64];/* a read replica of this database ("" standalone); its data
				 * follows the source's until it is promoted */
	int promoting;          /* PromoteReadReplica accepted, not yet complete */
	int lag_polls;          /* db_replica_lsn calls that still find it behind */
};

struct fw_snap {
	int exists, settle;
	char id[128], db[64], status[32];
	int percent;
	int64_t created;
	struct fw_data data;
};

#define FW_UNMAPPED 8

struct fw_change {
	char id[32];
	int settle;
};

struct fakeworld {
	struct fw_env envs[FW_ENVS];
	struct fw_db dbs[FW_DBS];
	struct fw_snap snaps[FW_SNAPS];
	struct world_rrset rrs[FW_RRS];
	struct fw_change changes[FW_CHANGES];
	int nchanges;
	char tokens[FW_TOKENS][160];
	int ntokens;
	long unreg_users;
	long busy_polls;          /* request_rate calls that still see traffic */

	/* counters of what was done */
	int snapshots_created, restores, dns_changes, conversions, migrates, mpc_syncs;
	int env_updates, scales, clones, terminates, db_deletes, backups, email_restores;
	int cron_pauses, cron_resumes, smoke_tests, mutations;
	int template_deletes;
	int replicas_created, promotions; /* CreateDBInstanceReadReplica, PromoteReadReplica */
	int emails_added;          /* blocked-email rows added by restores */
	long blocked_rows;         /* rows a blocked-email backup finds (default 1) */
	int blocked_cleared;       /* the new database's table was cleared */
	int blocked_clears;        /* blocked_email_clear calls that deleted */
	int target_db_checks;      /* target_db_check calls */
	int lease_takes, lease_releases; /* lease changes (not in dns_changes) */

	/* behaviour */
	int smoke_fail;           /* smoke tests report a failure */
	int identity_fail;        /* identity refuses (credentials) */
	int ssh_fail;             /* env_ssh_check fails */
	int rate_fail;            /* request_rate fails (the logs cannot be read) */
	int mpc_down;             /* mpserver_check: the Masterpoints server does not answer */
	int sigint_at_poll;       /* raise SIGINT at the Nth status poll (0: never) */
	int slow;                 /* extra polls every environment change takes */
	int polls;
	/* What target_db_check sees on the instances: */
	char instance_db_host[256]; /* their env file's RDS_HOSTNAME ("": the env's setting) */
	uint64_t free_bytes;        /* free disk (0: plenty) */
	/* What the data steps find: blocked emails the restore cannot map
	 * (email, system number; the first nunmapped), and how many rows the
	 * lost-writes and activity queries list (generated). */
	char unmapped_email[FW_UNMAPPED][300];
	long long unmapped_sn[FW_UNMAPPED];
	int nunmapped;
	int lost_rows;
	int activity_entries, activity_payments; /* 2 and 1 from fakeworld_new */

	/* A virtual clock (seconds) for the wait schedule tests: with
	 * update_s > 0 an environment update (variables or scaling) takes
	 * update_s of it instead of a number of polls. fakeworld_clock is a
	 * run_clock over it whose sleeps jump the clock forward. Every
	 * env_describe call's time is kept in describe_t (the first FW_CALLS). */
	double clock, update_s;
	double describe_t[FW_CALLS];
	int ndescribe;
};

/* A world_ops over a fresh world mapped shared (survives fork). `fw` gets
 * the state. Free with fakeworld_free(). */
struct world_ops *fakeworld_new(struct fakeworld **fw);
void fakeworld_free(struct world_ops *w);

/* Fills the world as it is after `cutover prep` (or before it, when
 * with_new_envs is 0) and names as the configuration would. */
void fakeworld_cobalt(struct fakeworld *fw, struct run_names *names, int with_new_envs);

/* A run_clock over fw->clock (see struct fakeworld). */
void fakeworld_clock(struct fakeworld *fw, struct run_clock *out);

/* Zeroes the counters of what was done (after setting a scene up). */
void fakeworld_reset_counters(struct fakeworld *fw);
/* Finishes every change in flight (environments Ready, etc.). */
void fakeworld_settle(struct fakeworld *fw);

/* Lookups for assertions. */
struct fw_env *fakeworld_env(struct fakeworld *fw, const char *name);
const char *fakeworld_var(struct fakeworld *fw, const char *env, const char *var);
const struct world_rrset *fakeworld_rr(struct fakeworld *fw, const char *name);
struct fw_db *fakeworld_db(struct fakeworld *fw, const char *id);
/* The database env's RDS_HOSTNAME names, NULL if none. */
struct fw_db *fakeworld_env_db(struct fakeworld *fw, const char *env);
/* An app write of one row to table k of env's database: -1 (refused, as
 * the app's INSERT fails) while that database is read-only, else 0. */
int fakeworld_app_write(struct fakeworld *fw, const char *env, int k);

#endif
