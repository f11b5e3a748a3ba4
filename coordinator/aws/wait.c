/* aws/wait.c: see aws/wait.h. */
#include "aws/wait.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "aws/r53.h"

/* ---- the loop ---------------------------------------------------------------- */

enum { PROBE_PENDING = 0, PROBE_DONE = 1 };

/* A probe polls once: returns PROBE_DONE, PROBE_PENDING, or a negative
 * CUT_E* (err set; failure states included). It fills status/percent. */
typedef int (*probe_fn)(struct aws_client *c, void *ctx, char *status, size_t ssz,
    int *percent, struct cut_err *err);

static int
sleep_until(double t, const struct wait_opts *o)
{
	for (;;) {
		double left = t - cut_mono_s();
		struct timespec d;
		if (o && o->cancel && *o->cancel)
			return CUT_ECANCEL;
		if (left <= 0)
			return 0;
		if (left > 0.2)
			left = 0.2;
		d.tv_sec = 0;
		d.tv_nsec = (long)(left * 1e9);
		nanosleep(&d, NULL);
	}
}

static int
wait_run(struct aws_client *c, const char *what, const char *goal, probe_fn probe,
    void *ctx, const struct wait_opts *o, double default_deadline, struct cut_err *err)
{
	struct wait_sched s;
	double start = cut_mono_s(), deadline;
	char status[64] = "";
	unsigned long calls = 0;
	int r;

	deadline = start + (o && o->deadline_s > 0 ? o->deadline_s : default_deadline);
	wait_sched_init(&s, start, o ? o->expected_s : 0);
	for (;;) {
		double now = cut_mono_s(), next;
		int percent = -1;

		if (o && o->cancel && *o->cancel) {
			r = cut_err_set(err, CUT_ECANCEL, "Stopped waiting for %s to be %s (interrupted); it was %s.",
			    what, goal, status[0] ? status : "not yet checked");
			goto out;
		}
		wait_sched_record_call(&s, now);
		calls++;
		r = probe(c, ctx, status, sizeof(status), &percent, err);
		now = cut_mono_s();
		if (percent >= 0)
			wait_sched_observe_percent(&s, now, percent);
		if (o && o->progress) {
			struct wait_progress p = { what, status, percent, now - start, calls };
			if (o->progress(o->user, &p) != 0) {
				r = cut_err_set(err, CUT_ECANCEL, "Stopped waiting for %s to be %s; it was %s.",
				    what, goal, status);
				goto out;
			}
		}
		if (r < 0)
			goto out;
		if (r == PROBE_DONE) {
			r = 0;
			goto out;
		}
		next = wait_sched_next(&s, now);
		if (now >= deadline) {
			r = cut_err_set(err, CUT_ETIMEOUT,
			    "Waited %.0f s for %s to be %s, but it is still %s; check it (cutover status, or the AWS console) and run again to keep waiting.",
			    now - start, what, goal, status[0] ? status : "unknown");
			goto out;
		}
		if (next > deadline)
			next = deadline;
		if ((r = sleep_until(next, o)) != 0) {
			r = cut_err_set(err, CUT_ECANCEL, "Stopped waiting for %s to be %s (interrupted); it was %s.",
			    what, goal, status[0] ? status : "not yet checked");
			goto out;
		}
	}
out:
	if (o && o->calls_out)
		*o->calls_out = calls;
	if (o && o->elapsed_out)
		*o->elapsed_out = cut_mono_s() - start;
	return r;
}

/* ---- Elastic Beanstalk ----------------------------------------------------- */

struct env_ctx {
	const char *app, *name, *request_id;
	int want_terminated;
	struct eb_env env;
};

static int
update_failed(const char *msg)
{
	return strstr(msg, "Failed to deploy") != NULL || strstr(msg, "but with errors") != NULL ||
	    strstr(msg, "reverted to the previous configuration") != NULL ||
	    strstr(msg, "Failed to launch environment") != NULL ||
	    strstr(msg, "Environment update failed") != NULL;
}

static int
probe_env(struct aws_client *c, void *vctx, char *status, size_t ssz, int *percent,
    struct cut_err *err)
{
	struct env_ctx *x = vctx;
	struct eb_env_list l;
	int r;

	(void)percent;
	if ((r = eb_describe_environments(c, x->app, &x->name, 1, x->want_terminated, &l, err)) != 0)
		return r;
	if (l.n == 0) {
		eb_env_list_free(&l);
		snprintf(status, ssz, "absent");
		if (x->want_terminated)
			return PROBE_DONE;
		return cut_err_set(err, CUT_ENOTFOUND,
		    "Elastic Beanstalk environment %s disappeared while waiting for it to be Ready; check the EB console.",
		    x->name);
	}
	x->env = l.v[0];
	/* With IncludeDeleted a terminated environment and a new one of the
	 * same name can both appear: prefer the live one. */
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].status, "Terminated") != 0)
			x->env = l.v[i];
	eb_env_list_free(&l);
	snprintf(status, ssz, "%s", x->env.status);
	if (x->want_terminated)
		return strcmp(x->env.status, "Terminated") == 0 ? PROBE_DONE : PROBE_PENDING;
	if (strcmp(x->env.status, "Terminating") == 0 || strcmp(x->env.status, "Terminated") == 0)
		return cut_err_set(err, CUT_ESTATE,
		    "Elastic Beanstalk environment %s is %s, so it will never be Ready; find out why in its events (eb events) before going on.",
		    x->name, x->env.status);
	if (strcmp(x->env.status, "Ready") != 0)
		return PROBE_PENDING;
	if (x->request_id && *x->request_id) {
		struct eb_events_query q = { .application = x->app, .env_name = x->name,
		    .request_id = x->request_id, .max = 200 };
		struct eb_event_list ev;
		size_t i;
		if ((r = eb_describe_events(c, &q, &ev, err)) != 0)
			return r;
		for (i = 0; i < ev.n; i++)
			if (update_failed(ev.v[i].message)) {
				r = cut_err_set(err, CUT_EAWS,
				    "Elastic Beanstalk reports the update of %s failed: \"%s\" (request id %s); read its events (eb events %s) and fix the cause before going on.",
				    x->name, ev.v[i].message, x->request_id, x->name);
				eb_event_list_free(&ev);
				return r;
			}
		eb_event_list_free(&ev);
	}
	return PROBE_DONE;
}

int
wait_env_ready(struct aws_client *c, const char *application, const char *env_name,
    const char *request_id, const struct wait_opts *o, struct eb_env *out, struct cut_err *err)
{
	struct env_ctx x;

	memset(&x, 0, sizeof(x));
	x.app = application;
	x.name = env_name;
	x.request_id = request_id;
	char what[200];
	int r;

	snprintf(what, sizeof(what), "environment %s", env_name);
	r = wait_run(c, what, "Ready", probe_env, &x, o, 1800, err);
	if (r == 0 && out)
		*out = x.env;
	return r;
}

int
wait_env_terminated(struct aws_client *c, const char *application, const char *env_name,
    const struct wait_opts *o, struct cut_err *err)
{
	struct env_ctx x;

	memset(&x, 0, sizeof(x));
	x.app = application;
	x.name = env_name;
	x.want_terminated = 1;
	char what[200];

	snprintf(what, sizeof(what), "environment %s", env_name);
	return wait_run(c, what, "Terminated", probe_env, &x, o, 1800, err);
}

/* ---- RDS ----------------------------------------------------------------------- */

static int
is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

struct snap_ctx {
	const char *id;
	struct rds_snapshot snap;
};

static int
probe_snapshot(struct aws_client *c, void *vctx, char *status, size_t ssz, int *percent,
    struct cut_err *err)
{
	static const char *const failure[] = { "deleted", "deleting", "failed",
		"incompatible-restore", "incompatible-parameters", NULL };
	struct snap_ctx *x = vctx;
	struct rds_snapshot_list l;
	int r;

	if ((r = rds_describe_db_snapshots(c, x->id, NULL, &l, err)) != 0)
		return r;
	if (l.n == 0) {
		rds_snapshot_list_free(&l);
		return cut_err_set(err, CUT_ENOTFOUND, "RDS snapshot %s does not exist; check its name.", x->id);
	}
	x->snap = l.v[0];
	rds_snapshot_list_free(&l);
	snprintf(status, ssz, "%s", x->snap.status);
	*percent = x->snap.percent;
	if (is_one_of(x->snap.status, failure))
		return cut_err_set(err, CUT_ESTATE,
		    "RDS snapshot %s is %s, so it will never be available; look at the RDS events and take a new snapshot.",
		    x->id, x->snap.status);
	return strcmp(x->snap.status, "available") == 0 ? PROBE_DONE : PROBE_PENDING;
}

int
wait_snapshot_available(struct aws_client *c, const char *snapshot_id,
    const struct wait_opts *o, struct rds_snapshot *out, struct cut_err *err)
{
	struct snap_ctx x;

	memset(&x, 0, sizeof(x));
	x.id = snapshot_id;
	char what[300];
	int r;

	snprintf(what, sizeof(what), "snapshot %s", snapshot_id);
	r = wait_run(c, what, "available", probe_snapshot, &x, o, 7200, err);
	if (r == 0 && out)
		*out = x.snap;
	return r;
}

struct db_ctx {
	const char *id;
	int want_deleted;
	struct rds_instance db;
};

static int
probe_db(struct aws_client *c, void *vctx, char *status, size_t ssz, int *percent,
    struct cut_err *err)
{
	static const char *const fail_avail[] = { "deleted", "deleting", "failed",
		"incompatible-restore", "incompatible-parameters", NULL };
	static const char *const fail_deleted[] = { "creating", "modifying", "rebooting",
		"resetting-master-credentials", NULL };
	struct db_ctx *x = vctx;
	struct rds_instance_list l;
	int r;

	(void)percent;
	r = rds_describe_db_instances(c, x->id, &l, err);
	if (r == CUT_ENOTFOUND || (r == 0 && l.n == 0)) {
		if (r == 0)
			rds_instance_list_free(&l);
		snprintf(status, ssz, "deleted");
		if (x->want_deleted) {
			cut_err_clear(err);
			return PROBE_DONE;
		}
		return cut_err_set(err, CUT_ENOTFOUND,
		    "RDS DB instance %s does not exist (any more); check its name and the RDS events.", x->id);
	}
	if (r != 0)
		return r;
	x->db = l.v[0];
	rds_instance_list_free(&l);
	snprintf(status, ssz, "%s", x->db.status);
	if (x->want_deleted) {
		if (is_one_of(x->db.status, fail_deleted))
			return cut_err_set(err, CUT_ESTATE,
			    "RDS DB instance %s is %s, not being deleted; check who is changing it before deleting again.",
			    x->id, x->db.status);
		return PROBE_PENDING;
	}
	if (is_one_of(x->db.status, fail_avail))
		return cut_err_set(err, CUT_ESTATE,
		    "RDS DB instance %s is %s, so it will never be available; look at its RDS events before going on.",
		    x->id, x->db.status);
	return strcmp(x->db.status, "available") == 0 ? PROBE_DONE : PROBE_PENDING;
}

int
wait_db_available(struct aws_client *c, const char *instance_id,
    const struct wait_opts *o, struct rds_instance *out, struct cut_err *err)
{
	struct db_ctx x;

	memset(&x, 0, sizeof(x));
	x.id = instance_id;
	char what[200];
	int r;

	snprintf(what, sizeof(what), "DB instance %s", instance_id);
	r = wait_run(c, what, "available", probe_db, &x, o, 7200, err);
	if (r == 0 && out)
		*out = x.db;
	return r;
}

int
wait_db_deleted(struct aws_client *c, const char *instance_id,
    const struct wait_opts *o, struct cut_err *err)
{
	struct db_ctx x;

	memset(&x, 0, sizeof(x));
	x.id = instance_id;
	x.want_deleted = 1;
	char what[200];

	snprintf(what, sizeof(what), "DB instance %s", instance_id);
	return wait_run(c, what, "deleted", probe_db, &x, o, 3600, err);
}

/* ---- Route 53 ------------------------------------------------------------------ */

static int
probe_change(struct aws_client *c, void *vctx, char *status, size_t ssz, int *percent,
    struct cut_err *err)
{
	struct r53_change_info ci;
	int r;

	(void)percent;
	if ((r = r53_get_change(c, vctx, &ci, err)) != 0)
		return r;
	snprintf(status, ssz, "%s", ci.status);
	return strcmp(ci.status, "INSYNC") == 0 ? PROBE_DONE : PROBE_PENDING;
}

int
wait_change_insync(struct aws_client *c, const char *change_id,
    const struct wait_opts *o, struct cut_err *err)
{
	char what[200];

	snprintf(what, sizeof(what), "Route 53 change %s", change_id);
	return wait_run(c, what, "INSYNC", probe_change, (void *)change_id, o, 1800, err);
}
