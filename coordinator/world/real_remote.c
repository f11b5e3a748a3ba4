/* world/real_remote.c: the world's operations that run on the instances,
 * each through the one owner of instance connections (world/reach.h). See
 * world/real_int.h. */
#include "world/real_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "aws/eb.h"
#include "base/rowlist.h"
#include "safety/blocked_emails.h"
#include "safety/changes.h"
#include "safety/freeze.h"
#include "safety/precond.h"
#include "safety/smoke.h"

/* ---- instances ---------------------------------------------------------------- */

/* ---- connections ----------------------------------------------------------- */

void
wr_follow_stop(struct wr *x)
{
	struct wr_follow *f = &x->follow;

	if (f->q == NULL && f->links == NULL && f->orig == NULL)
		return;
	qrate_stop(f->q);
	for (size_t i = 0; i < f->n; i++)
		f->orig[i]->next_id = f->links[i].next_id;
	free(f->links);
	free(f->orig);
	memset(f, 0, sizeof(*f));
}

struct wr_op {
	struct wr *x;
	host_fn fn;
	void *arg;
};

static int
op_fn(void *arg, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct wr_op *o = arg;

	return o->fn(o->x, h, c, l, o->arg, err);
}

/* fn on each of env's instances (all) or on the one with the lowest id,
 * over the cached connection of each (world/reach.h). */
int
wr_with_hosts(struct wr *x, const char *env, int all, host_fn fn, void *arg, struct cut_err *err)
{
	struct wr_op o = { x, fn, arg };

	/* The follow holds the connections on its threads. */
	wr_follow_stop(x);
	return reach_run(x->reach, env, all, op_fn, &o, err);
}

/* ---- side by side ------------------------------------------------------------ */

/* One agent operation on one instance, on a thread of its own. */
typedef int (*link_fn)(struct wr *x, struct alink *l, void *arg, struct cut_err *err);

struct par_job {
	struct wr *x;
	struct alink *l;
	link_fn fn;
	void *arg;
	int rc;
	struct cut_err err;
	pthread_t th;
	int started;
};

static void *
par_main(void *p)
{
	struct par_job *j = p;

	j->rc = j->fn(j->x, j->l, j->arg, &j->err);
	return NULL;
}

/* fn on every instance of each of envs[0..nenv) (all) or on the one with
 * the lowest id of each, with args[k] for envs[k], one thread per instance,
 * all at once: the operations are independent
 * (each its own instance, over its own cached agent connection), so the
 * environments' round trips overlap instead of adding up. The connections
 * are taken one environment after the other (world/reach.h: reach_links;
 * each cached link is its own allocation and only an environment's own
 * instances are ever dropped, so the first environment's stay valid while
 * the second's are found). Waits for every thread; returns the first
 * failure in envs' order, after telling reach to look at a failed
 * environment's instances again. */
static int
wr_side_by_side(struct wr *x, const char *const *envs, size_t nenv, int all, link_fn fn,
    void *const *args, struct cut_err *err)
{
	struct alink **links[WR_PAR_ENVS] = { 0 };
	size_t nl[WR_PAR_ENVS] = { 0 }, njobs = 0, k, i, at;
	struct par_job *jobs = NULL;
	int rc = 0;

	if (nenv > WR_PAR_ENVS)
		return cut_err_set(err, CUT_EINVAL, "At most %d environments at once.", WR_PAR_ENVS);
	wr_follow_stop(x);   /* the follow holds the connections on its threads */
	for (k = 0; rc == 0 && k < nenv; k++)
		if ((rc = reach_links(x->reach, envs[k], &links[k], &nl[k], err)) == 0) {
			if (!all && nl[k] > 1)
				nl[k] = 1;   /* reach_links lists them by id */
			njobs += nl[k];
		}
	if (rc == 0 && (jobs = calloc(njobs ? njobs : 1, sizeof(*jobs))) == NULL)
		rc = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	for (k = 0, at = 0; rc == 0 && k < nenv; k++)
		for (i = 0; i < nl[k]; i++, at++) {
			jobs[at] = (struct par_job){ .x = x, .l = links[k][i], .fn = fn, .arg = args[k] };
			if (pthread_create(&jobs[at].th, NULL, par_main, &jobs[at]) == 0) {
				jobs[at].started = 1;
				continue;
			}
			/* No thread: run it here, in turn. */
			jobs[at].rc = fn(x, jobs[at].l, jobs[at].arg, &jobs[at].err);
		}
	for (k = 0, at = 0; rc == 0 && k < nenv; k++)
		for (i = 0; i < nl[k]; i++, at++)
			if (jobs[at].started)
				pthread_join(jobs[at].th, NULL);
	for (k = 0, at = 0; jobs != NULL && k < nenv; k++)
		for (i = 0; i < nl[k]; i++, at++)
			if (jobs[at].rc != 0) {
				reach_forget(x->reach, envs[k]);
				if (rc == 0) {
					rc = jobs[at].rc;
					*err = jobs[at].err;
				}
			}
	for (k = 0; k < nenv; k++)
		free(links[k]);
	free(jobs);
	return rc;
}

static int
noop_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	(void)x; (void)h; (void)c; (void)l; (void)arg; (void)err;
	return 0;
}

int
wr_env_ssh_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	return wr_with_hosts(impl(w), env, 1, noop_fn, NULL, err);
}

/* Output of a remote command, kept whole up to a limit. */
void
wr_collect_out(void *ctx, int fd, const void *data, size_t len)
{
	struct outbuf *o = ctx;

	(void)fd;
	if (o->n + len + 1 > o->cap) {
		size_t nc = (o->n + len + 1) * 2;
		if (nc > (4u << 20))
			return;   /* past 4 MiB: the tail is what matters and it's lost; say so below */
		char *np = realloc(o->p, nc);
		if (np == NULL)
			return;
		o->p = np;
		o->cap = nc;
	}
	memcpy(o->p + o->n, data, len);
	o->n += len;
	o->p[o->n] = '\0';
}

/* RUN argv on c; output in *o (caller frees o->p). */
int
wr_run_argv(struct rexec_conn *c, const char *const *argv, const char *const *env, struct outbuf *o,
    struct rexec_result *res, int64_t timeout_ms, struct cut_err *err)
{
	struct rexec_request req = { .kind = REXEC_RUN, .argv = argv, .env = env, .timeout_ms = timeout_ms };
	struct rexec_io io = { wr_collect_out, o, -1, NULL };

	return rexec_run(c, &req, &io, res, err);
}

/* ---- SQL through the agent ------------------------------------------------------ */

static int
count_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	json_object *j = NULL;
	int r;

	(void)c;
	r = aop_sql(l, &x->aconf, "SELECT count(*) FROM accounts_unregistereduser", 0, NULL, &j, err);
	if (r != 0)
		return r;
	if (!json_object_is_type(j, json_type_int)) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "Counting unregistered users on %s gave no number.", h->label);
	}
	*(long *)arg = (long)json_object_get_int64(j);
	json_object_put(j);
	return 0;
}

int
wr_unreg_user_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	*n = -1;
	return wr_with_hosts(impl(w), env, 0, count_fn, n, err);
}

#define WR_FOLLOW_INTERVAL_MS 200

/* ---- data safety -------------------------------------------------------------------- */

/* Starts following env's access logs: one logcount per instance, on its
 * cached connection, counting until wr_follow_stop(). */
static int
follow_start(struct wr *x, const char *env, struct cut_err *err)
{
	struct wr_follow *f = &x->follow;
	size_t n;
	int r;

	wr_follow_stop(x);
	if ((r = reach_links(x->reach, env, &f->orig, &n, err)) != 0)
		return r;
	if ((f->links = calloc(n ? n : 1, sizeof(*f->links))) == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		f->links[i] = *f->orig[i];
	f->n = n;
	x->log_paths[0] = x->access_log;
	x->log_paths[1] = NULL;
	/* Each follow ends at its next count (qrate_stop), so the interval is
	 * what stopping costs the step after quiet, inside the window: 200 ms,
	 * not a second (a count frame is a few bytes). */
	x->log_opts = (struct aop_logcount_opts){ x->access_log[0] ? x->log_paths : NULL, NULL,
	    WR_FOLLOW_INTERVAL_MS, 0, 0 };
	if ((r = qrate_start(f->links, f->n, &x->log_opts, &f->q, err)) != 0)
		goto out;
	snprintf(f->env, sizeof(f->env), "%s", env);
out:
	if (r != 0)
		wr_follow_stop(x);
	return r;
}

/* One log follow per instance runs from the first call on, over the
 * cached connections: each call reports what the follows counted since the
 * previous one, so no request between two polls goes unseen. */
int
wr_request_rate(struct world_ops *w, const char *env, struct world_rate *out, struct cut_err *err)
{
	struct wr *x = impl(w);
	uint64_t req = 0, ms = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((x->follow.q == NULL || strcmp(x->follow.env, env) != 0) && (r = follow_start(x, env, err)) != 0)
		return r;
	if ((r = qrate_take(x->follow.q, &req, &ms, err)) != 0) {
		/* A count that cannot see every instance is not a count. */
		wr_follow_stop(x);
		return r;
	}
	out->requests = (long)req;
	out->interval_s = (double)ms / 1000.0;
	out->ninstances = (int)x->follow.n;
	return 0;
}

static int
cron_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	const char *action = arg;
	struct aop_crontab t;
	int r;

	(void)h; (void)c;
	r = aop_cron(l, &x->aconf, action, NULL, 0, 0, &t, err);
	if (r == 0)
		aop_crontab_free(&t);
	return r;
}

/* The agent keeps the saved crontab in <state_dir>/crontab.self.saved
 * while paused and renames it when it restores (agent/op_cron.c). */
static int
paused_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	char path[400];
	struct outbuf o = { 0 };
	struct rexec_result res;
	int r;

	(void)h; (void)l;
	snprintf(path, sizeof(path), "%s/crontab.self.saved", x->cron_dir[0] ? x->cron_dir : "/var/lib/cutover");
	const char *argv[] = { "test", "-e", path, NULL };
	if ((r = wr_run_argv(c, argv, NULL, &o, &res, SHORT_TIMEOUT_MS, err)) != 0)
		return r;
	free(o.p);
	if (res.status == 0)
		(*(int *)arg)++;
	return 0;
}

/* ---- cron on several environments at once --------------------------------------- */

static int
paused_link(struct wr *x, struct alink *l, void *arg, struct cut_err *err)
{
	char path[400];
	int e, r;

	snprintf(path, sizeof(path), "%s/crontab.self.saved", x->cron_dir[0] ? x->cron_dir : "/var/lib/cutover");
	if ((r = aop_exists(l, path, &e, err)) != 0)
		return r;
	if (e)
		__atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
	return 0;
}

int
wr_cron_paused_many(struct world_ops *w, const char *const *envs, size_t n, int *paused,
    struct cut_err *err)
{
	int cnt[WR_PAR_ENVS] = { 0 };
	void *args[WR_PAR_ENVS] = { 0 };
	int r;

	if (n > WR_PAR_ENVS)
		return cut_err_set(err, CUT_EINVAL, "At most %d environments at once.", WR_PAR_ENVS);
	for (size_t k = 0; k < n; k++)
		args[k] = &cnt[k];
	r = wr_side_by_side(impl(w), envs, n, 1, paused_link, args, err);
	for (size_t k = 0; k < n; k++)
		paused[k] = r == 0 && cnt[k] > 0;
	return r;
}

static int
cron_link(struct wr *x, struct alink *l, void *arg, struct cut_err *err)
{
	struct aop_crontab t;
	int paused = 0, r;

	if (arg == NULL) {
		/* Give back: only where a saved copy is (nothing to put back elsewhere). */
		if ((r = paused_link(x, l, &paused, err)) != 0 || !paused)
			return r;
	}
	r = aop_cron(l, &x->aconf, arg ? "pause" : "restore", NULL, 0, 0, &t, err);
	if (r == 0)
		aop_crontab_free(&t);
	return r;
}

int
wr_cron_set_many(struct world_ops *w, const char *const *envs, size_t n, int pause,
    struct cut_err *err)
{
	void *args[WR_PAR_ENVS] = { 0 };

	if (n > WR_PAR_ENVS)
		return cut_err_set(err, CUT_EINVAL, "At most %d environments at once.", WR_PAR_ENVS);
	for (size_t k = 0; k < n; k++)
		args[k] = pause ? (void *)"pause" : NULL;
	return wr_side_by_side(impl(w), envs, n, 1, cron_link, args, err);
}

int
wr_cron_paused(struct world_ops *w, const char *env, int *paused, struct cut_err *err)
{
	int n = 0, r = wr_with_hosts(impl(w), env, 1, paused_fn, &n, err);

	*paused = n > 0;
	return r;
}

int
wr_cron_pause(struct world_ops *w, const char *env, struct cut_err *err)
{
	return wr_with_hosts(impl(w), env, 1, cron_fn, "pause", err);
}

static int
resume_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	int paused = 0, r;

	if ((r = paused_fn(x, h, c, l, &paused, err)) != 0 || !paused)
		return r;   /* not paused here: nothing to put back */
	return cron_fn(x, h, c, l, arg, err);
}

int
wr_cron_resume(struct world_ops *w, const char *env, struct cut_err *err)
{
	return wr_with_hosts(impl(w), env, 1, resume_fn, "restore", err);
}

struct blocked_arg {
	const char *path;
	struct world_backup_info *bi;
	struct world_restore_info *ri;
};

static int
backup_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct blocked_arg *b = arg;
	struct blocked_backup_info info;
	int r;

	(void)h; (void)c;
	if ((r = blocked_backup(l, &x->aconf, b->path, &info, err)) != 0)
		return r;
	b->bi->rows = (long)info.count;
	snprintf(b->bi->sha256, sizeof(b->bi->sha256), "%s", info.sha256);
	return 0;
}

int
wr_blocked_email_backup(struct world_ops *w, const char *env, const char *path, struct world_backup_info *out,
    struct cut_err *err)
{
	struct blocked_arg b = { path, out, NULL };

	memset(out, 0, sizeof(*out));
	return wr_with_hosts(impl(w), env, 0, backup_fn, &b, err);
}

/* Writes the unmapped people as a row list (world/ops.h). */
static int
unmapped_rowlist(const char *path, const struct blocked_set *s, struct cut_err *err)
{
	static const char *const cols[] = { "email", "system_number" };
	struct rowlist rl;
	char num[32];
	int r;

	if ((r = rowlist_init(&rl, 2, cols, err)) != 0)
		return r;
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		const char *cells[2] = { s->rows[i].email, num };
		if (s->rows[i].has_number)
			snprintf(num, sizeof(num), "%lld", s->rows[i].system_number);
		else
			num[0] = '\0';
		r = rowlist_add(&rl, cells, err);
	}
	if (r == 0)
		r = rowlist_write(path, &rl, NULL, err);
	rowlist_free(&rl);
	return r;
}

static int
restore_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct blocked_arg *b = arg;
	struct blocked_set set;
	struct blocked_restore_result res;
	int r;

	(void)c;
	memset(&set, 0, sizeof(set));
	memset(&res, 0, sizeof(res));
	if ((r = blocked_load(b->path, &set, err)) != 0)
		return r;
	/* No replace: the runbook cleared the copied rows (their raw ids name
	 * the wrong people after migration 0055) before migrate, so any row
	 * there now was written on the new system and is kept. */
	r = blocked_restore(l, &x->aconf, &set, 0, &res, err);
	blocked_set_free(&set);
	if (r != 0)
		return r;
	b->ri->added = (long)res.inserted;
	b->ri->present = (long)res.present;
	b->ri->unmapped = (long)res.unmapped.n;
	/* The people with no accounts_user: kept next to the backup for the
	 * operator to enter by hand (CSV), and as a row list the step names
	 * them from in the run's output and the report. */
	char up[600], rows[700];
	snprintf(up, sizeof(up), "%s.unmapped", b->path);
	rowlist_sibling(up, rows, sizeof(rows));
	if (res.unmapped.n > 0) {
		r = blocked_write_csv(up, &res.unmapped, err);
		if (r == 0)
			fprintf(stderr, "cutover: %zu blocked email(s) have no user on %s; they are listed in %s.\n",
			    res.unmapped.n, h->label, up);
	}
	if (r == 0)
		r = unmapped_rowlist(rows, &res.unmapped, err);
	blocked_restore_result_free(&res);
	return r;
}

int
wr_blocked_email_restore(struct world_ops *w, const char *env, const char *path, struct world_restore_info *out,
    struct cut_err *err)
{
	struct blocked_arg b = { path, NULL, out };

	memset(out, 0, sizeof(*out));
	return wr_with_hosts(impl(w), env, 0, restore_fn, &b, err);
}

static int
bcount_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	size_t n = 0;
	int r;

	(void)h; (void)c;
	if ((r = blocked_count(l, &x->aconf, &n, err)) == 0)
		*(long *)arg = (long)n;
	return r;
}

int
wr_blocked_email_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	*n = -1;
	return wr_with_hosts(impl(w), env, 0, bcount_fn, n, err);
}

struct clear_arg {
	long expect, deleted;
};

static int
clear_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct clear_arg *a = arg;
	size_t n = 0;
	int r;

	(void)h; (void)c;
	if ((r = blocked_clear(l, &x->aconf, (size_t)a->expect, &n, err)) == 0)
		a->deleted = (long)n;
	return r;
}

int
wr_blocked_email_clear(struct world_ops *w, const char *env, long expect, long *deleted,
    struct cut_err *err)
{
	struct clear_arg a = { expect, 0 };
	int r;

	*deleted = 0;
	if (expect < 0)
		return cut_err_set(err, CUT_EINVAL, "No row count to clear the blocked emails against.");
	if ((r = wr_with_hosts(impl(w), env, 0, clear_fn, &a, err)) == 0)
		*deleted = a.deleted;
	return r;
}

int
wr_blocked_email_merge(struct world_ops *w, const char *const *paths, size_t n, const char *out_path,
    struct world_backup_info *out, struct cut_err *err)
{
	struct blocked_set acc, one, next;
	struct blocked_backup_info info;
	int r = 0;

	(void)w;
	memset(out, 0, sizeof(*out));
	memset(&acc, 0, sizeof(acc));
	for (size_t i = 0; r == 0 && i < n; i++) {
		if ((r = blocked_load(paths[i], &one, err)) != 0)
			break;
		r = blocked_union(&acc, &one, &next, err);
		blocked_set_free(&one);
		if (r == 0) {
			blocked_set_free(&acc);
			acc = next;
		}
	}
	if (r == 0 && (r = blocked_save(out_path, &acc, "merge", &info, err)) == 0) {
		out->rows = (long)info.count;
		snprintf(out->sha256, sizeof(out->sha256), "%s", info.sha256);
	}
	blocked_set_free(&acc);
	return r;
}

struct smoke_arg {
	const char *host;
	const char *lb_base;          /* NULL: [smoke] load_balancer = no */
	struct world_smoke *out;
};

static int
smoke_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct smoke_arg *s = arg;
	struct smoke_check checks[CFG_MAX_SMOKE_CHECKS];
	struct smoke_result *res = NULL;
	size_t nres = 0;
	char base[200];
	int r;

	(void)c;
	for (size_t i = 0; i < x->cfg.smoke.nchecks; i++) {
		checks[i].path = x->cfg.smoke.checks[i].path;
		memcpy(checks[i].expect, x->cfg.smoke.checks[i].expect, sizeof(checks[i].expect));
	}
	snprintf(base, sizeof(base), "http://%s:%d", h->addr, x->cfg.app.http_port);
	struct smoke_opts o = { .host_header = s->host, .local_base = base, .lb_base = s->lb_base,
		.checks = x->cfg.smoke.nchecks ? checks : NULL, .nchecks = x->cfg.smoke.nchecks };
	r = smoke_run(l, &o, &res, &nres, err);
	for (size_t i = 0; i < nres; i++) {
		if (res[i].ok) {
			s->out->passed++;
			continue;
		}
		s->out->failed++;
		if (s->out->first_failure[0] != '\0')
			continue;
		if (res[i].status < 0)
			snprintf(s->out->first_failure, sizeof(s->out->first_failure), "%.60s: %.150s got no answer "
			    "(%.120s) with Host: %.60s (expected %s).", h->label, res[i].url, res[i].error, s->host,
			    res[i].expected);
		else
			snprintf(s->out->first_failure, sizeof(s->out->first_failure), "%.60s: %.150s answered %d%s%.120s "
			    "with Host: %.60s (expected %s).", h->label, res[i].url, res[i].status,
			    res[i].error[0] ? ": " : "", res[i].error, s->host, res[i].expected);
	}
	free(res);
	/* A failed check is an answer (out->failed), not a tool failure. */
	return r == CUT_ESTATE && nres > 0 ? 0 : r;
}

int
wr_smoke_test(struct world_ops *w, const char *env, const char *host, struct world_smoke *out,
    struct cut_err *err)
{
	struct wr *x = impl(w);
	struct smoke_arg s = { host, NULL, out };
	char lb[300];
	int r;

	memset(out, 0, sizeof(*out));
	if (x->cfg.smoke.load_balancer) {
		/* The load balancer listens where nginx does on the instances
		 * (80 on EB); EndpointURL is its DNS name. */
		struct eb_env e;
		if ((r = eb_describe_environment(x->aws, x->cfg.aws.application, env, &e, err)) != 0)
			return r;
		if (e.endpoint_url[0] == '\0')
			return cut_err_set(err, CUT_ESTATE, "Environment %s has no load balancer address (EndpointURL is "
			    "empty), so the smoke test cannot go through it; wait until it is Ready, or set "
			    "load_balancer = no in [smoke] of %s if it has no load balancer.", env, x->cfg.path);
		if (x->cfg.app.http_port == 80)
			snprintf(lb, sizeof(lb), "http://%.250s", e.endpoint_url);
		else
			snprintf(lb, sizeof(lb), "http://%.250s:%d", e.endpoint_url, x->cfg.app.http_port);
		s.lb_base = lb;
	}
	return wr_with_hosts(x, env, 1, smoke_fn, &s, err);
}

static int
mpc_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	int tcp_only = 0;

	(void)h; (void)c; (void)arg;
	return precond_mpserver(l, &x->aconf, NULL, &tcp_only, err);
}

int
wr_mpserver_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	return wr_with_hosts(impl(w), env, 0, mpc_fn, NULL, err);
}

struct tdb_arg {
	struct aop_dbenv live;
	uint64_t min_free;
};

static int
tdb_link(struct wr *x, struct alink *l, void *arg, struct cut_err *err)
{
	struct tdb_arg *a = arg;
	struct aop_dbenv target;
	int r;

	if ((r = precond_target_db(l, &x->aconf, &a->live, &target, err)) != 0)
		return r;
	return precond_disk(l, x->cfg.app.dir, a->min_free, err);
}

/* Every instance, side by side: each one runs the app against its own env
 * file. */
int
wr_target_db_check(struct world_ops *w, const char *env, const char *live_host, int live_port,
    uint64_t min_free_bytes, struct cut_err *err)
{
	struct tdb_arg a;

	memset(&a, 0, sizeof(a));
	if (live_host == NULL || live_host[0] == '\0')
		return cut_err_set(err, CUT_ESTATE, "The live database's endpoint is unknown, so cannot "
		    "prove %s does not use it; run again once RDS reports it.", env);
	snprintf(a.live.host, sizeof(a.live.host), "%s", live_host);
	if (live_port > 0)
		snprintf(a.live.port, sizeof(a.live.port), "%d", live_port);
	a.min_free = min_free_bytes;
	void *args[1] = { &a };
	return wr_side_by_side(impl(w), &env, 1, 1, tdb_link, args, err);
}

struct chg_arg {
	int activity;
	const char *since, *csv;
	long rows, entries, payments;
};

/* Writes the rows as the row list next to the CSV (world/ops.h). */
static int
changes_rowlist(const char *csv, const struct chg_report *rep, struct cut_err *err)
{
	static const char *const cols[] = { "table", "id", "at", "fields" };
	struct rowlist rl;
	char path[4200], id[32];
	int r;

	if ((r = rowlist_init(&rl, 4, cols, err)) != 0)
		return r;
	for (size_t i = 0; r == 0 && i < rep->n; i++) {
		const char *cells[4] = { rep->rows[i].table, id, rep->rows[i].at, rep->rows[i].fields };
		snprintf(id, sizeof(id), "%lld", rep->rows[i].id);
		r = rowlist_add(&rl, cells, err);
	}
	rowlist_sibling(csv, path, sizeof(path));
	if (r == 0)
		r = rowlist_write(path, &rl, NULL, err);
	rowlist_free(&rl);
	return r;
}

static int
chg_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct chg_arg *a = arg;
	struct chg_report rep;
	int r;

	(void)h; (void)c;
	memset(&rep, 0, sizeof(rep));
	r = a->activity ? chg_activity(l, &x->aconf, a->since, &rep, err) :
	    chg_lost_writes(l, &x->aconf, a->since, &rep, err);
	if (r == 0)
		r = chg_write_csv(a->csv, &rep, err);
	if (r == 0)
		r = changes_rowlist(a->csv, &rep, err);
	if (r == 0) {
		a->rows = (long)rep.n;
		for (size_t i = 0; i < rep.n; i++) {
			if (strncmp(rep.rows[i].table, "events_", 7) == 0)
				a->entries++;
			else if (strncmp(rep.rows[i].table, "payments_", 9) == 0)
				a->payments++;
		}
	}
	chg_report_free(&rep);
	return r;
}

static int
changes(struct world_ops *w, const char *env, int activity, int64_t since, const char *csv, struct chg_arg *a,
    struct cut_err *err)
{
	char iso[40];
	time_t t = (time_t)since;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memset(a, 0, sizeof(*a));
	a->activity = activity;
	a->since = iso;
	a->csv = csv;
	return wr_with_hosts(impl(w), env, 0, chg_fn, a, err);
}

int
wr_lost_writes(struct world_ops *w, const char *env, int64_t since, const char *csv_path, long *rows,
    struct cut_err *err)
{
	struct chg_arg a;
	int r = changes(w, env, 0, since, csv_path, &a, err);

	*rows = r == 0 ? a.rows : -1;
	return r;
}

int
wr_activity(struct world_ops *w, const char *env, int64_t since, const char *csv_path, long *entries,
    long *payments, struct cut_err *err)
{
	struct chg_arg a;
	int r = changes(w, env, 1, since, csv_path, &a, err);

	*entries = r == 0 ? a.entries : -1;
	*payments = r == 0 ? a.payments : -1;
	return r;
}

/* ---- Write freeze and parity (issue 12) ---------------------------------------- */

struct frz_arg {
	const char *value;        /* set: the value, NULL for RESET */
	char *out;                /* read: where the value goes */
	size_t len;
	struct world_freeze *fp;
	struct world_table_stat *stats;
	size_t n;
};

static int
frz_read_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct frz_arg *a = arg;

	(void)h; (void)c;
	return frz_read(l, &x->aconf, a->out, a->len, err);
}

int
wr_db_read_only(struct world_ops *w, const char *env, char *value, size_t len, struct cut_err *err)
{
	struct frz_arg a = { .out = value, .len = len };

	return wr_with_hosts(impl(w), env, 0, frz_read_fn, &a, err);
}

static int
frz_set_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct frz_arg *a = arg;
	struct frz_point p;
	int r;

	(void)h; (void)c;
	if ((r = frz_set(l, &x->aconf, a->value, &p, err)) != 0)
		return r;
	snprintf(a->fp->at, sizeof(a->fp->at), "%s", p.at);
	snprintf(a->fp->lsn, sizeof(a->fp->lsn), "%s", p.lsn);
	a->fp->unix_s = p.unix_s;
	a->fp->ended = p.ended;
	snprintf(a->fp->value, sizeof(a->fp->value), "%s", p.value);
	a->fp->value_read = 1;
	return 0;
}

int
wr_db_read_only_set(struct world_ops *w, const char *env, const char *value, struct world_freeze *out,
    struct cut_err *err)
{
	struct frz_arg a = { .value = value, .fp = out };

	memset(out, 0, sizeof(*out));
	return wr_with_hosts(impl(w), env, 0, frz_set_fn, &a, err);
}

static int
frz_stats_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct frz_arg *a = arg;
	struct frz_stat *st;
	size_t n;
	int r;

	(void)h; (void)c;
	if ((r = frz_stats(l, &x->aconf, &st, &n, err)) != 0)
		return r;
	if ((a->stats = calloc(n + 1, sizeof(*a->stats))) == NULL) {
		free(st);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory counting rows.");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(a->stats[i].table, sizeof(a->stats[i].table), "%s", st[i].table);
		snprintf(a->stats[i].max_id, sizeof(a->stats[i].max_id), "%s", st[i].max_id);
		a->stats[i].rows = st[i].rows;
	}
	a->n = n;
	free(st);
	return 0;
}

int
wr_db_table_stats(struct world_ops *w, const char *env, struct world_table_stat **out, size_t *n,
    struct cut_err *err)
{
	struct frz_arg a = { 0 };
	int r = wr_with_hosts(impl(w), env, 0, frz_stats_fn, &a, err);

	*out = r == 0 ? a.stats : NULL;
	*n = r == 0 ? a.n : 0;
	if (r != 0)
		free(a.stats);
	return r;
}

/* On one instance of each environment: its database answers for all. */
static int
stats_link(struct wr *x, struct alink *l, void *arg, struct cut_err *err)
{
	return frz_stats_fn(x, NULL, NULL, l, arg, err);
}

int
wr_db_table_stats_many(struct world_ops *w, const char *const *envs, size_t n,
    struct world_table_stat **out, size_t *nout, struct cut_err *err)
{
	struct frz_arg a[WR_PAR_ENVS];
	void *args[WR_PAR_ENVS] = { 0 };
	int r;

	if (n > WR_PAR_ENVS)
		return cut_err_set(err, CUT_EINVAL, "At most %d environments at once.", WR_PAR_ENVS);
	memset(a, 0, sizeof(a));
	for (size_t k = 0; k < n; k++)
		args[k] = &a[k];
	r = wr_side_by_side(impl(w), envs, n, 0, stats_link, args, err);
	for (size_t k = 0; k < n; k++) {
		if (r != 0)
			free(a[k].stats);
		out[k] = r == 0 ? a[k].stats : NULL;
		nout[k] = r == 0 ? a[k].n : 0;
	}
	return r;
}

/* ---- Read replica (issue 13) ----------------------------------------------------- */

#define REPLICA_TRIES 10

struct rep_arg {
	const char *host;
	int port;
	struct world_replica *out;
};

static int
rep_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct rep_arg *a = arg;
	struct frz_replica f;
	int r;

	(void)h; (void)c;
	/* A replica of a quiet (frozen) database is behind only by what is in
	 * flight: a few readings 300 ms apart save the engine's next poll,
	 * seconds away, inside the window. */
	for (int k = 0; k < REPLICA_TRIES; k++) {
		if ((r = frz_replica(l, &x->aconf, a->host, a->port, &f, err)) != 0)
			return r;
		if (!f.in_recovery || (f.replay_lsn[0] != '\0' && f.behind <= 0))
			break;
		if (k + 1 < REPLICA_TRIES)
			nanosleep(&(struct timespec){ 0, 300 * 1000 * 1000 }, NULL);
	}
	snprintf(a->out->live_lsn, sizeof(a->out->live_lsn), "%s", f.live_lsn);
	snprintf(a->out->replay_lsn, sizeof(a->out->replay_lsn), "%s", f.replay_lsn);
	a->out->in_recovery = f.in_recovery;
	a->out->live_unix = f.live_unix;
	a->out->behind = f.behind;
	return 0;
}

int
wr_db_replica_lsn(struct world_ops *w, const char *env, const char *host, int port,
    struct world_replica *out, struct cut_err *err)
{
	struct rep_arg a = { host, port, out };

	memset(out, 0, sizeof(*out));
	out->behind = -1;
	return wr_with_hosts(impl(w), env, 0, rep_fn, &a, err);
}
