/* world/real_int.h: private to the real world (world/real.h), shared by its
 * files: real.c (the AWS adapter: STS, Elastic Beanstalk, RDS, Route 53; open
 * and close), real_remote.c (what runs on the instances, through the one owner
 * of instance connections, world/reach.h: SQL, the data-safety operations, the
 * request-rate follow) and real_manage.c (manage_run, run once through the agent).
 * Nothing outside world/real*.c includes it. */
#ifndef CUTOVER_WORLD_REAL_INT_H
#define CUTOVER_WORLD_REAL_INT_H

#include <stdint.h>

#include "remote/agent_ops.h"
#include "remote/rexec.h"
#include "safety/quiet.h"
#include "world/config.h"
#include "world/ops.h"
#include "world/reach.h"

#define MANAGE_TIMEOUT_MS (6LL * 3600 * 1000)   /* mpc_sync "takes a long time" */
#define SHORT_TIMEOUT_MS 60000

/* The access-log follow of request_rate, running between polls on the
 * cached connections (one per instance). links are copies of the cache's
 * links (the threads use them); orig the cache's own, to give the request
 * ids back. */
struct wr_follow {
	char env[128];
	struct qrate *q;
	struct alink *links, **orig;
	size_t n;
};

struct wr {
	struct world_ops ops;      /* first: the table's address is the struct's */
	struct cfg cfg;
	struct aws_client *aws;
	char zone_name[256], zone_id[64];
	/* The instance layout: absolute on EB; relative to the login folder in
	 * the simulation (cfg's app dir is then relative too). */
	struct aop_conf aconf;
	char cron_dir[256];
	char access_log[256];
	/* The instances, their keys, port 22 and one cached connection per
	 * instance for the life of the world (world/reach.h), and the running
	 * access-log follow of request_rate. */
	struct reach *reach;
	struct wr_follow follow;
	const char *log_paths[2];
	struct aop_logcount_opts log_opts;   /* the follow's, read by its threads */
};

static inline struct wr *
impl(struct world_ops *w)
{
	return w->impl;
}

/* One operation on one instance of the world (world/reach.h's reach_fn with
 * the world). */
typedef int (*host_fn)(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l,
    void *arg, struct cut_err *err);

struct outbuf {
	char *p;
	size_t n, cap;
};

/* ---- real_remote.c ---- */
/* Ends the request-rate follow (it holds the connections on its threads). */
void wr_follow_stop(struct wr *x);
/* fn on each of env's instances (all) or on the one with the lowest id. */
int wr_with_hosts(struct wr *x, const char *env, int all, host_fn fn, void *arg, struct cut_err *err);
/* The most environments one side-by-side operation takes. */
#define WR_PAR_ENVS 4
int wr_env_ssh_check(struct world_ops *w, const char *env, struct cut_err *err);
void wr_collect_out(void *ctx, int fd, const void *data, size_t len);
/* Runs argv to its end on c, its output collected into o (wr_collect_out). */
int wr_run_argv(struct rexec_conn *c, const char *const *argv, const char *const *env, struct outbuf *o,
    struct rexec_result *res, int64_t timeout_ms, struct cut_err *err);
int wr_unreg_user_count(struct world_ops *w, const char *env, long *n, struct cut_err *err);
int wr_db_replica_lsn(struct world_ops *w, const char *env, const char *host, int port,
    struct world_replica *out, struct cut_err *err);
int wr_request_rate(struct world_ops *w, const char *env, struct world_rate *out, struct cut_err *err);
int wr_cron_paused(struct world_ops *w, const char *env, int *paused, struct cut_err *err);
int wr_cron_paused_many(struct world_ops *w, const char *const *envs, size_t n, int *paused,
    struct cut_err *err);
int wr_cron_set_many(struct world_ops *w, const char *const *envs, size_t n, int pause,
    struct cut_err *err);
int wr_cron_pause(struct world_ops *w, const char *env, struct cut_err *err);
int wr_cron_resume(struct world_ops *w, const char *env, struct cut_err *err);
int wr_blocked_email_backup(struct world_ops *w, const char *env, const char *path, struct world_backup_info *out,
    struct cut_err *err);
int wr_blocked_email_restore(struct world_ops *w, const char *env, const char *path, struct world_restore_info *out,
    struct cut_err *err);
int wr_blocked_email_count(struct world_ops *w, const char *env, long *n, struct cut_err *err);
int wr_blocked_email_clear(struct world_ops *w, const char *env, long expect, long *deleted,
    struct cut_err *err);
int wr_blocked_email_merge(struct world_ops *w, const char *const *paths, size_t n, const char *out_path,
    struct world_backup_info *out, struct cut_err *err);
int wr_smoke_test(struct world_ops *w, const char *env, const char *host, struct world_smoke *out,
    struct cut_err *err);
int wr_mpserver_check(struct world_ops *w, const char *env, struct cut_err *err);
int wr_target_db_check(struct world_ops *w, const char *env, const char *live_host, int live_port,
    uint64_t min_free_bytes, struct cut_err *err);
int wr_lost_writes(struct world_ops *w, const char *env, int64_t since, const char *csv_path, long *rows,
    struct cut_err *err);
int wr_activity(struct world_ops *w, const char *env, int64_t since, const char *csv_path, long *entries,
    long *payments, struct cut_err *err);
int wr_db_read_only(struct world_ops *w, const char *env, char *value, size_t len, struct cut_err *err);
int wr_db_read_only_set(struct world_ops *w, const char *env, const char *value, struct world_freeze *out,
    struct cut_err *err);
int wr_db_table_stats(struct world_ops *w, const char *env, struct world_table_stat **out, size_t *n,
    struct cut_err *err);
int wr_db_table_stats_many(struct world_ops *w, const char *const *envs, size_t n,
    struct world_table_stat **out, size_t *nout, struct cut_err *err);

/* ---- real_manage.c ---- */
int wr_manage_run(struct world_ops *w, const char *env, const char *const *argv, const char *token,
    struct world_manage_result *out, struct cut_err *err);

#endif
