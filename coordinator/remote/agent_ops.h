/* remote/agent_ops.h: the coordinator's side of the agent's data-safety operations
 * (proto/PROTOCOL.md, "Data-safety operations"): one function per message,
 * each sending one request over an alink and turning the replies into C
 * values or one clear error.
 */
#ifndef CUTOVER_AOP_H
#define CUTOVER_AOP_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "remote/agent_link.h"
#include "base/err.h"

/* Where things are on the instance; NULL fields take the agent's defaults
 * (/opt/elasticbeanstalk/deployment/env, psql on PATH, crontab on PATH,
 * /var/lib/cutover, the agent's own user). */
struct aop_conf {
	const char *env_file;
	const char *psql;
	const char *crontab;
	const char *cron_state_dir;
	const char *cron_user;
	const char *sslmode;         /* psql's PGSSLMODE; NULL: the agent's default, require */
	const char *sslrootcert;     /* PGSSLROOTCERT on the instance, or NULL */
	uint64_t sql_timeout_ms;     /* 0: 10 minutes */
	const char *db_host;         /* sql: this server instead of the env file's RDS_HOSTNAME,
				      * with the same credentials (a read replica); NULL: the env file's */
	int db_port;                 /* with db_host; 0: the env file's RDS_PORT */
};

/* SQL longer than this travels as stdin frames after the request rather
 * than inside it (a frame is at most 1 MiB); any length works either way. */
#define AOP_SQL_INLINE_MAX (512u * 1024u)

/* Runs sql through psql with the app's database settings. write=0 runs it
 * read-only; write=1 in one transaction. vars: psql variables (name, value,
 * name, value..., NULL) for :'name' in the SQL, or NULL. The SQL must print
 * exactly one JSON value (e.g. SELECT jsonb_agg(...)); *out is that value,
 * owned by the caller (json_object_put). */
int aop_sql(struct alink *l, const struct aop_conf *c, const char *sql, int write,
    const char *const *vars, json_object **out, struct cut_err *err);

/* The database the instance's app uses (never the password). */
struct aop_dbenv {
	char host[256], port[16], name[128], user[128];
};
int aop_dbenv(struct alink *l, const struct aop_conf *c, struct aop_dbenv *out,
    struct cut_err *err);

/* The outcome of an http or reach request. status -1: no HTTP response
 * (error says why). */
struct aop_http {
	int status;
	char reason[128];
	char location[512];
	char error[300];
	char url[1400];
	int tcp_only;             /* reach over https: only TCP was proved */
	uint64_t duration_ms;
	char body[2049];          /* the first bytes of the body, NUL-terminated */
	size_t bodylen;
};
/* GET url from the instance with Host: host_header (NULL: the URL's host),
 * connecting to connect_addr instead of the URL's host when not NULL. */
int aop_http(struct alink *l, const char *url, const char *host_header,
    const char *connect_addr, uint64_t timeout_ms, struct aop_http *out, struct cut_err *err);
/* GET the URL in env-file key (NULL: GLOBAL_MPSERVER) plus path. */
int aop_reach(struct alink *l, const struct aop_conf *c, const char *key, const char *path,
    uint64_t timeout_ms, struct aop_http *out, struct cut_err *err);

int aop_df(struct alink *l, const char *path, uint64_t *avail, uint64_t *total,
    struct cut_err *err);

/* *exists = 1 when path exists on the instance (`test -e`, run by the
 * agent), 0 when it does not; any other outcome is an error. */
int aop_exists(struct alink *l, const char *path, int *exists, struct cut_err *err);

/* A crontab as saved or restored. content is owned by the struct: free
 * with aop_crontab_free(). */
struct aop_crontab {
	int had_crontab;
	char *content;
	size_t len;
	int already_paused;
	int verified;
	char saved_path[700];
};
/* action: "pause", "restore" or "show". For restore, content (len bytes)
 * and had_crontab say what to install; content NULL uses the agent's
 * saved copy. */
int aop_cron(struct alink *l, const struct aop_conf *c, const char *action,
    const char *content, size_t len, int had_crontab, struct aop_crontab *out,
    struct cut_err *err);
void aop_crontab_free(struct aop_crontab *t);

/* One interval of access-log counting. */
struct aop_count {
	uint64_t seq, elapsed_ms, interval_ms, requests, excluded, rotations;
	int missing;
};
struct aop_logcount_opts {
	const char *const *paths;       /* NULL-terminated; NULL: nginx's default */
	const char *const *exclude_ua;  /* NULL-terminated, besides ELB-HealthChecker */
	uint64_t interval_ms;           /* 0: 5000 */
	uint64_t duration_ms;           /* 0: until the callback stops it */
	int from_start;
};
/* Streams counts to cb until duration passes or cb returns 1 (stop, not an
 * error) or a negative CUT_E* (returned). */
int aop_logcount(struct alink *l, const struct aop_logcount_opts *o,
    int (*cb)(void *arg, const struct aop_count *c), void *arg, struct cut_err *err);

/* How a run-once command went (the agent's "once" reply). */
struct aop_once {
	char state[16];           /* "ran": started by this call; "recorded": an earlier one's result */
	int exit_status;          /* manage.py's exit status; -1 when it was killed by a signal */
	char summary[301];        /* its last output line (secrets withheld by the agent) */
	char host[256];           /* where it ran, and its runner's pid */
	long long pid;
	char started_at[40], finished_at[40];   /* UTC, ISO 8601; finished_at "" for "ran" */
};

/* Runs manage.py ARGS (args: NULL-terminated, each one argv element) at
 * most once per token in the app's database (proto/PROTOCOL.md, "once"):
 * the first call runs it, a concurrent one waits for it, a later one (any
 * instance, any operator) gets its recorded result. app_dir, python: NULL
 * for the agent's defaults. A run that died mid-way is an error saying how
 * to clear it. A non-zero exit is not an error: it is out->exit_status. */
int aop_once(struct alink *l, const struct aop_conf *c, const char *token, const char *const *args,
    const char *app_dir, const char *python, uint64_t timeout_ms, struct aop_once *out, struct cut_err *err);

#endif
