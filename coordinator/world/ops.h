/* world/ops.h: everything the runbook needs from the outside world, as one
 * table of function pointers.
 *
 * The runbook steps (step_*.c) and the preflight (runbook/preflight.c) never call the
 * AWS or SSH modules directly: they call these functions. The real
 * implementation (AWS client + SSH/agent) is built by world_ops_open(); the
 * unit tests use an in-memory double (tests/support/fakeworld.c). That keeps
 * the engine's logic (order, resume, refusal, recording) testable on its own
 * and keeps the surface the lead has to wire small and written down.
 *
 * Common contract for every function below:
 *   - `w` is the table itself; implementations find their state in w->impl.
 *   - Return 0 on success or a negative CUT_E* code, with `err` holding ONE
 *     sentence (base/err.h). CUT_ENOTFOUND is reserved for "the named resource
 *     does not exist" so steps can use it as an answer, not a failure.
 *   - A function that starts an AWS change returns once AWS accepted it; the
 *     step's wait then polls the matching describe function. No function here
 *     blocks for minutes, except manage_run, the data-safety operations and
 *     blocked_email_*, which run a command to its end.
 *   - Transient AWS errors (throttling, 5xx) are retried inside the
 *     implementation; what comes back is final.
 *   - Nothing returned here may hold a secret: env_get_vars only returns the
 *     variables asked for, and steps never ask for secret-looking ones.
 *   - Names are plain identifiers ("cobalt-production-green"); fixed-size
 *     buffers are NUL-terminated and truncation is an error (CUT_EPROTO).
 */
#ifndef CUTOVER_WORLD_OPS_H
#define CUTOVER_WORLD_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* One Elastic Beanstalk environment, from DescribeEnvironments +
 * DescribeConfigurationSettings (aws:autoscaling:asg MinSize/MaxSize). */
struct world_env {
	char name[64];
	char id[64];
	char status[32];     /* Launching, Updating, Ready, Terminating, Terminated */
	char health[16];     /* Green, Yellow, Red, Grey */
	char version[128];   /* VersionLabel */
	char cname[256];     /* "cobalt-production-green.ap-southeast-2.elasticbeanstalk.com" */
	int min_size, max_size;
	int ninstances;      /* instances currently in service */
};

/* One environment variable (namespace aws:elasticbeanstalk:application:environment). */
struct world_var {
	char name[64];
	char value[256];
	int present;         /* env_get_vars: 0 when the variable is not set at all */
};

/* One RDS instance (DescribeDBInstances). */
struct world_db {
	char id[64];
	char status[32];     /* creating, backing-up, available, deleting, ... */
	char klass[32];      /* DBInstanceClass, "db.t3.small" */
	char dbname[64];     /* DBName, "ebdb" */
	char endpoint[256];  /* Endpoint/Address; "" while creating */
	int port;
	int backup_retention;    /* BackupRetentionPeriod; 0: no automated backups */
	char replica_source[64]; /* the instance it is a read replica of; "" when standalone */
	char replication[48];    /* a replica's replication status ("replicating"); "" otherwise */
};

/* Where a read replica stands (db_replica_lsn). */
struct world_replica {
	char live_lsn[40];   /* pg_current_wal_lsn() of the live database */
	int64_t live_unix;   /* the live database's clock then, Unix seconds */
	char replay_lsn[40]; /* pg_last_wal_replay_lsn() of the replica */
	int in_recovery;     /* 1 while it is a standby (read-only) */
	long long behind;    /* WAL bytes the replica has not replayed; -1 unknown */
};

/* One RDS snapshot (DescribeDBSnapshots). */
struct world_snapshot {
	char id[128];
	char db_id[64];
	char status[32];     /* creating, available, failed, ... */
	int percent;         /* PercentProgress 0..100 */
	int64_t created;     /* SnapshotCreateTime, Unix seconds; 0 while unknown */
};

/* One Route 53 record set. An alias record has alias_zone/alias_dns set and
 * no ttl/value; any other record has ttl and value (several values of one
 * record set joined by a single space). */
struct world_rrset {
	char name[256];      /* fully qualified with the final dot: "myabf.com.au." */
	char type[8];        /* "A", "CNAME", ... */
	char alias_zone[64]; /* AliasTarget/HostedZoneId, "" if not an alias */
	char alias_dns[256]; /* AliasTarget/DNSName, with the final dot */
	long ttl;
	char value[512];
};

/* The lease record's first label and the longest lease string (one TXT
 * character-string holds 255 bytes). */
#define WORLD_LEASE_LABEL "_cutover-lock"
#define WORLD_LEASE_MAX 256

enum world_dns_action { WORLD_DNS_UPSERT = 1, WORLD_DNS_DELETE = 2 };

struct world_dns_change {
	enum world_dns_action action;
	struct world_rrset rr;
};

/* Result of one `manage.py COMMAND` run on an instance. */
struct world_manage_result {
	int exit_status;     /* the process's exit status; -1 if killed by a signal */
	char summary[512];   /* last non-empty line of its output, secrets removed */
	int recorded;        /* with a token: an earlier run's result, this call ran nothing */
};

/* Requests seen in the live access logs since the previous call for that
 * environment (issue 5, quiet period). Health checks and ignored agents are
 * not counted. */
struct world_rate {
	long requests;       /* real requests in the interval */
	double interval_s;   /* length of the interval they were counted over */
	int ninstances;      /* instances whose logs were read */
};

struct world_backup_info {
	long rows;
	char sha256[65];     /* hex digest of the local backup file */
};

struct world_restore_info {
	long added;          /* rows inserted by this call */
	long present;        /* rows that were already there (idempotence) */
	long unmapped;       /* rows whose system number has no accounts_user */
};

struct world_smoke {
	int passed, failed;
	char first_failure[512]; /* one sentence about the first failure, "" if none */
};

/* The names of everything one cutover touches. Filled by world_ops_open()
 * from the configuration and the live world, completed by the naming policy
 * (runbook/names.h: the snapshot names, when the configuration does not
 * give them), then pinned in the journal at the first run so that "live"
 * keeps meaning the environment that was live when the cutover began (after
 * the DNS change the world says otherwise). Nothing here is secret. */
struct run_names {
	char app[64];            /* EB application: "cobalt" */
	char live_web[64];       /* live web environment (read from DNS) */
	char live_ses[64];       /* live SES environment */
	char new_web[64];        /* the environment that becomes live */
	char new_ses[64];
	char live_db[64];        /* live RDS instance id */
	char new_db[64];         /* the instance restored from the snapshot */
	char new_db_class[32];   /* "db.t3.small" */
	char db_name[64];        /* RDS_DB_NAME of the new system: "ebdb" */
	char db_method[16];      /* "snapshot" or "replica" ([database] method; "" = snapshot) */
	char snapshot[128];      /* snapshot of live_db taken during the cutover ("": derive) */
	char final_snapshot[128];/* snapshot taken when tidy deletes live_db ("": derive) */
	char version[128];       /* application version the new environments run */
	char prep_db_host[256];  /* RDS_HOSTNAME the new envs use until the cutover */
	char prep_db_name[64];   /* RDS_DB_NAME the new envs use until the cutover */
	char zone[256];          /* hosted zone: "myabf.com.au." */
	char apex[256];          /* "myabf.com.au." */
	char www[256];           /* "www.myabf.com.au." */
	char ses[256];           /* "ses.myabf.com.au." */
	char site_host[256];     /* Host: header for smoke tests: "myabf.com.au" */
	char test_env[64];       /* rehearse: the test environment */
	char test_db[64];        /* rehearse: instance restored for the test env */
	char test_snapshot[128]; /* rehearse: existing snapshot of production to restore ("": derive) */
	char test_db_class[32];
	int quiet_seconds;       /* quiet period before the snapshot (default 60) */
	int quiet_deadline;      /* seconds before giving up waiting for quiet (default 900) */
	int tail_interval;       /* dns-tail: one sample of the old side's requests, seconds
				  * (default 60: the rate is per minute) */
	int tail_deadline;       /* dns-tail: seconds it watches at most (default 900; <0:
				  * it does not watch) */
};

/* The write freeze (issue 12): what db_read_only_set did and when. */
struct world_freeze {
	char at[40];         /* the database server's clock after the change, ISO 8601 UTC */
	int64_t unix_s;      /* the same, Unix seconds */
	char lsn[40];        /* pg_current_wal_lsn() then */
	long ended;          /* sessions of other clients ended */
	int value_read;      /* 1: value below was read back after the change, in the
			      * same statement that ended the sessions; 0: not read
			      * (ask db_read_only) */
	char value[32];      /* the database-level setting then ("" when none) */
};

/* One table's size (parity before the DNS switch). */
struct world_table_stat {
	char table[64];
	long long rows;
	char max_id[40];     /* max(id) as text; "" when no id column or no rows */
};

struct world_ops {
	void *impl;          /* the implementation's own state */

	/* STS GetCallerIdentity: writes the caller's ARN (not secret). */
	int (*identity)(struct world_ops *w, char *arn, size_t arnlen, struct cut_err *err);

	/* --- Elastic Beanstalk ------------------------------------------- */
	/* DescribeEnvironments (+ MinSize/MaxSize, instance count).
	 * CUT_ENOTFOUND if absent or Terminated. */
	int (*env_describe)(struct world_ops *w, const char *env, struct world_env *out,
	    struct cut_err *err);
	/* Optional (NULL: env_describe per environment): the CNAMEs of envs[0..n)
	 * in one call (dns-switch reads four). cnames[k] for envs[k];
	 * CUT_ENOTFOUND naming the first that does not exist. */
	int (*env_cnames)(struct world_ops *w, const char *const *envs, size_t n,
	    char (*cnames)[256], struct cut_err *err);
	/* Reads only the named variables; out[i].present = 0 for unset ones. */
	int (*env_get_vars)(struct world_ops *w, const char *env, const char *const *names,
	    size_t n, struct world_var *out, struct cut_err *err);
	/* One UpdateEnvironment: sets `set` and removes `remove` (OptionsToRemove,
	 * never set to ""). Returns when accepted; the env is then Updating. */
	int (*env_update_vars)(struct world_ops *w, const char *env, const struct world_var *set,
	    size_t nset, const char *const *remove, size_t nremove, struct cut_err *err);
	/* UpdateEnvironment with aws:autoscaling:asg MinSize/MaxSize (eb scale). */
	int (*env_scale)(struct world_ops *w, const char *env, int min_size, int max_size,
	    struct cut_err *err);
	/* CreateConfigurationTemplate from `source` then CreateEnvironment named
	 * `name` (same tier and CNAME prefix = name) on `version`, with `set`
	 * applied over the copied settings. CUT_ESTATE if `name` already exists. */
	int (*env_clone)(struct world_ops *w, const char *source, const char *name,
	    const char *version, const struct world_var *set, size_t nset, struct cut_err *err);
	/* The names of the application's environments that are not Terminated,
	 * into the caller's names[0..max); *n their number. CUT_EPROTO when the
	 * application has more than max (nothing is allocated: the caller's
	 * buffer is the result). Tidy asks every one what database it uses. */
	int (*env_list)(struct world_ops *w, char (*names)[64], size_t max, size_t *n,
	    struct cut_err *err);
	/* Deletes the configuration template env_clone made for `name`
	 * ("<name>-cutover": a copy of the live settings, secrets included).
	 * 0 when it is not there. */
	int (*env_template_delete)(struct world_ops *w, const char *name, struct cut_err *err);
	/* TerminateEnvironment (TerminateResources=true). */
	int (*env_terminate)(struct world_ops *w, const char *env, struct cut_err *err);
	/* SSH reaches every instance of the environment and the agent answers. */
	int (*env_ssh_check)(struct world_ops *w, const char *env, struct cut_err *err);

	/* --- RDS ----------------------------------------------------------- */
	/* DescribeDBInstances; CUT_ENOTFOUND for DBInstanceNotFound. */
	int (*db_describe)(struct world_ops *w, const char *id, struct world_db *out,
	    struct cut_err *err);
	/* CreateDBSnapshot. CUT_ESTATE for DBSnapshotAlreadyExists. */
	int (*snapshot_create)(struct world_ops *w, const char *db_id, const char *snap_id,
	    struct cut_err *err);
	/* DescribeDBSnapshots by identifier; CUT_ENOTFOUND if absent. */
	int (*snapshot_describe)(struct world_ops *w, const char *snap_id,
	    struct world_snapshot *out, struct cut_err *err);
	/* RestoreDBInstanceFromDBSnapshot into `new_id` with `klass`, copying the
	 * subnet group, security groups, parameter group, MultiAZ and public
	 * access of `like_db`. CUT_ESTATE for DBInstanceAlreadyExists. */
	int (*db_restore)(struct world_ops *w, const char *snap_id, const char *new_id,
	    const char *klass, const char *like_db, struct cut_err *err);
	/* CreateDBInstanceReadReplica: `new_id` (class `klass`) replicating
	 * `source_id`, with the subnet group, security groups, parameter group,
	 * MultiAZ and public access of `source_id`. CUT_ESTATE for
	 * DBInstanceAlreadyExists. */
	int (*db_replica_create)(struct world_ops *w, const char *source_id, const char *new_id,
	    const char *klass, struct cut_err *err);
	/* PromoteReadReplica: the replica becomes a standalone, writable instance. */
	int (*db_promote)(struct world_ops *w, const char *id, struct cut_err *err);
	/* From one instance of `env`, through the agent's sql operation: the WAL
	 * position of env's database, then where the replica at host:port
	 * (port 0: 5432) stands against it (struct world_replica). A standby
	 * found behind is read again a few times within about 3 s (WAL in
	 * flight) before the answer comes back. Reads only. */
	int (*db_replica_lsn)(struct world_ops *w, const char *env, const char *host, int port,
	    struct world_replica *out, struct cut_err *err);
	/* DeleteDBInstance with FinalDBSnapshotIdentifier = final_snap. */
	int (*db_delete)(struct world_ops *w, const char *id, const char *final_snap,
	    struct cut_err *err);

	/* --- Route 53 ------------------------------------------------------ */
	/* The record set `name`/`type` in `zone` ("myabf.com.au."); CUT_ENOTFOUND if none. */
	int (*dns_read)(struct world_ops *w, const char *zone, const char *name,
	    const char *type, struct world_rrset *out, struct cut_err *err);
	/* Every record set of the zone. *out is malloc'd; the caller frees it with free(). */
	int (*dns_list)(struct world_ops *w, const char *zone, struct world_rrset **out,
	    size_t *n, struct cut_err *err);
	/* ChangeResourceRecordSets: all of `changes` in ONE batch (all or nothing).
	 * Writes the change id without the "/change/" prefix. */
	int (*dns_change)(struct world_ops *w, const char *zone,
	    const struct world_dns_change *changes, size_t n, const char *comment,
	    char *change_id, size_t idlen, struct cut_err *err);
	/* GetChange: writes "PENDING" or "INSYNC". */
	int (*dns_change_status)(struct world_ops *w, const char *change_id, char *status,
	    size_t len, struct cut_err *err);

	/* --- Remote execution on an environment's instances ---------------- */
	/* Runs `manage.py ARGV...` (argv NULL-terminated, each element one
	 * argument, never split again) on one instance of `env`, with the app's
	 * venv and env file. With a `token` (NULL: a plain run), at most once:
	 * the token names one step of one cutover in words every operator and
	 * every rerun derive alike (the step passes "<target database>/<step>"),
	 * and the marker lives in env's database (table cutover_once, see
	 * proto/PROTOCOL.md "once"), so a second call with that token, from any
	 * instance or operator, at the same time or later, does not start it:
	 * it waits for / returns the first one's recorded result. A first run
	 * that died mid-way is an error telling the operator how to clear it.
	 * A non-zero exit is NOT an error return: it is out->exit_status. */
	int (*manage_run)(struct world_ops *w, const char *env, const char *const *argv,
	    const char *token, struct world_manage_result *out, struct cut_err *err);
	/* SELECT count(*) FROM accounts_unregistereduser on env's database. */
	int (*unreg_user_count)(struct world_ops *w, const char *env, long *n,
	    struct cut_err *err);

	/* --- Data safety (issue 5; implemented by that work) --------------- */
	/* Access-log request count since the previous call (see struct world_rate). */
	int (*request_rate)(struct world_ops *w, const char *env, struct world_rate *out,
	    struct cut_err *err);
	/* Saves the crontab of every instance of env (kept for cron_resume) and
	 * empties it. Idempotent: pausing a paused env keeps the first saved copy. */
	int (*cron_pause)(struct world_ops *w, const char *env, struct cut_err *err);
	/* Puts the saved crontab back exactly; no-op if not paused. */
	int (*cron_resume)(struct world_ops *w, const char *env, struct cut_err *err);
	/* *paused = 1 when cron is paused (saved copy present) on env's instances. */
	int (*cron_paused)(struct world_ops *w, const char *env, int *paused,
	    struct cut_err *err);
	/* Optional (NULL: the caller asks cron_paused, cron_pause or cron_resume
	 * per environment): the same on envs[0..n) at once, every instance of
	 * each side by side. paused[k] for envs[k]; pause 1 pauses, 0 puts the
	 * saved crontabs back. At most 4 environments. */
	int (*cron_paused_many)(struct world_ops *w, const char *const *envs, size_t n, int *paused,
	    struct cut_err *err);
	int (*cron_set_many)(struct world_ops *w, const char *const *envs, size_t n, int pause,
	    struct cut_err *err);
	/* Backs up notifications_unregisteredblockedemail of env's database as
	 * (email, system_number) into the local file `path` (0600, fsync'd). */
	int (*blocked_email_backup)(struct world_ops *w, const char *env, const char *path,
	    struct world_backup_info *out, struct cut_err *err);
	/* Rows of notifications_unregisteredblockedemail on env's database. */
	int (*blocked_email_count)(struct world_ops *w, const char *env, long *n,
	    struct cut_err *err);
	/* Deletes every row of that table on env's database in one transaction,
	 * only while it holds exactly `expect` rows (the ones just backed up);
	 * CUT_E* with nothing deleted otherwise. *deleted: rows removed. */
	int (*blocked_email_clear)(struct world_ops *w, const char *env, long expect,
	    long *deleted, struct cut_err *err);
	/* Local files only: writes to out_path (0600, with out_path.sha256) the
	 * union of the backups at paths[0..n), each checked against its SHA-256;
	 * out->rows is the union's size. */
	int (*blocked_email_merge)(struct world_ops *w, const char *const *paths, size_t n,
	    const char *out_path, struct world_backup_info *out, struct cut_err *err);
	/* Restores the backup at `path` into env's database, idempotently, in one
	 * transaction; rows whose system number has no user are counted in
	 * out->unmapped and written (email, system number) to "<path>.unmapped";
	 * the same people, columns email and system_number, go to the row list
	 * (base/rowlist.h) rowlist_sibling("<path>.unmapped"), written even when empty,
	 * which the step reads to name them in the output and the report. */
	int (*blocked_email_restore)(struct world_ops *w, const char *env, const char *path,
	    struct world_restore_info *out, struct cut_err *err);
	/* HTTP smoke test of env with Host: `host` (from each instance and
	 * through the load balancer). */
	int (*smoke_test)(struct world_ops *w, const char *env, const char *host,
	    struct world_smoke *out, struct cut_err *err);
	/* Rows written to env's database after `since` (Unix s) in the tables of
	 * cobalt.md, written as CSV to `csv_path`; *rows is their number. The
	 * same rows, columns table, id, at, fields, also go to the row list
	 * (base/rowlist.h) rowlist_sibling(csv_path), for the output and the report. */
	int (*lost_writes)(struct world_ops *w, const char *env, int64_t since,
	    const char *csv_path, long *rows, struct cut_err *err);
	/* Entries and payments on env's database since `since`, CSV at csv_path
	 * and a row list at rowlist_sibling(csv_path), as for lost_writes. */
	int (*activity)(struct world_ops *w, const char *env, int64_t since,
	    const char *csv_path, long *entries, long *payments, struct cut_err *err);
	/* GLOBAL_MPSERVER answers from env's instance (before mpc_sync). */
	int (*mpserver_check)(struct world_ops *w, const char *env, struct cut_err *err);
	/* Before the restore and the user conversion, from env's instance: the
	 * database its app uses (the instance's own env file, read by the agent,
	 * which is what manage.py will connect to) is not on the server
	 * live_host:live_port (port 0: 5432), and at least min_free_bytes are
	 * free in the app's folder. CUT_ESTATE with one sentence otherwise. */
	int (*target_db_check)(struct world_ops *w, const char *env, const char *live_host,
	    int live_port, uint64_t min_free_bytes, struct cut_err *err);

	/* --- The lease: one cutover at a time across machines ------------- */
	/* The lease is the TXT record "_cutover-lock.<zone>" (WORLD_LEASE_LABEL)
	 * holding one string (at most WORLD_LEASE_MAX - 1 bytes, no quote or
	 * backslash) that names its holder; runbook/lease.c writes and reads it.
	 * Route 53 records never expire, so a lease lasts until it is deleted. */
	/* The lease's string into value; CUT_ENOTFOUND when nobody holds it. */
	int (*lease_read)(struct world_ops *w, const char *zone, char *value, size_t len,
	    struct cut_err *err);
	/* Takes the lease as `value` in ONE atomic change: a CREATE, which fails
	 * when the record exists, or, when `replace` is not NULL, a DELETE of
	 * exactly `replace` and a CREATE in one batch (taking over a lease whose
	 * holder is known). CUT_ESTATE when someone else holds it (the record
	 * exists, or no longer holds `replace`): nothing was changed. */
	int (*lease_take)(struct world_ops *w, const char *zone, const char *value,
	    const char *replace, struct cut_err *err);
	/* Deletes the lease only while it holds exactly `value`, so a run never
	 * deletes another's lease; CUT_ENOTFOUND when it does not (gone, or
	 * taken by someone else). */
	int (*lease_release)(struct world_ops *w, const char *zone, const char *value,
	    struct cut_err *err);
	/* --- Write freeze and parity (issue 12) ---------------------------- */
	/* The database-level default_transaction_read_only of env's database
	 * (ALTER DATABASE ... SET; the app's sessions start with it) into value:
	 * "on", "off", ..., or "" when it is not set there. */
	int (*db_read_only)(struct world_ops *w, const char *env, char *value, size_t len,
	    struct cut_err *err);
	/* Sets it on env's database to value ("on", "off", "true", "false"; NULL:
	 * RESET), commits, then ends every other client session of that database
	 * so none keeps the old default. Idempotent. */
	int (*db_read_only_set)(struct world_ops *w, const char *env, const char *value,
	    struct world_freeze *out, struct cut_err *err);
	/* Row count and highest id of every table of env's database, sorted by
	 * name. *out is malloc'd; the caller frees it with free(). Reads only. */
	int (*db_table_stats)(struct world_ops *w, const char *env, struct world_table_stat **out,
	    size_t *n, struct cut_err *err);
	/* Optional (NULL: db_table_stats per environment): the same for envs[0..n)
	 * at once, side by side (parity reads the live and the new database).
	 * out[k], nout[k] for envs[k], each the caller's (free); on failure all
	 * are NULL. At most 4 environments. */
	int (*db_table_stats_many)(struct world_ops *w, const char *const *envs, size_t n,
	    struct world_table_stat **out, size_t *nout, struct cut_err *err);

	/* Releases the implementation (connections, temp files) and w itself
	 * (world_ops_close calls it); may be NULL when there is nothing to free. */
	void (*close)(struct world_ops *w);
};

struct run_names;

/* Builds the real implementation from the configuration file at
 * `config_path` (world/config.h): AWS client for the configured
 * region/profile/endpoints, the instances through world/reach.h. Also fills
 * `names` (above) from the configuration and from the live world (which
 * environment DNS says is live, world/live_names.h); the names the cutover
 * makes up are left "" for runbook/names.h. *out is allocated; the caller
 * releases it with world_ops_close(). Built in world/real.c. */
int world_ops_open(const char *config_path, struct run_names *names, struct world_ops **out,
    struct cut_err *err);
/* Calls w->close (which frees w); NULL is fine. In world/ops.c. */
void world_ops_close(struct world_ops *w);

#endif
