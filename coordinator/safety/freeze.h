/* safety/freeze.h: the write freeze of issue 12, at the database itself.
 *
 * Maintenance mode swaps the response but the view, cron and webhooks still
 * write. The freeze makes the database refuse writes instead:
 * ALTER DATABASE <current> SET default_transaction_read_only = on, committed,
 * then every other session of that database is ended, so the app reconnects
 * into read-only sessions (Django turns the refused INSERT into an error, a
 * 500 for a view: loud, never silent). What RDS's rds_superuser may do: the
 * database owner may ALTER its database, and pg_signal_backend may end
 * sessions of non-superusers (rdsadmin's are left alone).
 *
 * The agent's own write sessions set default_transaction_read_only=off for
 * themselves (agent/op_sql.c), which is why the tool can still lift it.
 * A setting made with ALTER DATABASE travels into an RDS snapshot, so the
 * restored copy comes out frozen too and must be unfrozen the same way.
 */
#ifndef CUTOVER_FREEZE_H
#define CUTOVER_FREEZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "remote/agent_ops.h"

/* What frz_set did and when. */
struct frz_point {
	char at[40];        /* the server's clock after the change, ISO 8601 UTC */
	int64_t unix_s;     /* the same, in Unix seconds */
	char lsn[40];       /* pg_current_wal_lsn() then */
	long ended;         /* sessions ended */
	char value[32];     /* the database-level setting read back after the change,
			     * in the statement that ended the sessions ("" when none) */
};

/* The database-level value of default_transaction_read_only of the database
 * the instance's app uses, into value ("" when it is not set there). */
int frz_read(struct alink *l, const struct aop_conf *c, char *value, size_t len,
    struct cut_err *err);

/* Sets it to value ("on", "off", "true", "false"; NULL: RESET, the setting
 * removed), commits, then ends every other session of that database. */
int frz_set(struct alink *l, const struct aop_conf *c, const char *value, struct frz_point *out,
    struct cut_err *err);

/* One table's size: what parity compares. */
struct frz_stat {
	char table[64];
	long long rows;
	char max_id[40];    /* max(id) as text; "" when the table has no id or no rows */
};

/* Every table of the app's schema, sorted by name. *out is malloc'd
 * (the caller frees it with free()); *n its length. */
int frz_stats(struct alink *l, const struct aop_conf *c, struct frz_stat **out, size_t *n,
    struct cut_err *err);

/* Where a read replica stands against the database it replicates. */
struct frz_replica {
	char live_lsn[40];    /* pg_current_wal_lsn() of the app's database */
	int64_t live_unix;    /* its clock then, Unix seconds */
	char replay_lsn[40];  /* pg_last_wal_replay_lsn() of the replica; "" when it replayed nothing */
	int in_recovery;      /* pg_is_in_recovery() of the replica: 1 until it is promoted */
	long long behind;     /* bytes of WAL from replay_lsn to live_lsn; -1 when unknown */
};

/* Reads the app's database (the instance's env file), then the replica at
 * host:port (port 0: the env file's) with the same database name and
 * credentials, in that order, so that behind = 0 means the replica had
 * replayed everything written up to the first read. Reads only. */
int frz_replica(struct alink *l, const struct aop_conf *c, const char *host, int port,
    struct frz_replica *out, struct cut_err *err);

/* 1 when s is a value frz_set accepts. */
int frz_value_ok(const char *s);

#endif
