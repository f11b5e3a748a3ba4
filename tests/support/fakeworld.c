/* fakeworld.c: see fakeworld.h. */
#include "fakeworld.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

#include "safety/precond.h"
#include "base/rowlist.h"

#define FW(w) ((struct fakeworld *)(w)->impl)
#define SETTLE 2

struct fw_env *
fakeworld_env(struct fakeworld *fw, const char *name)
{
	int i;

	for (i = 0; i < FW_ENVS; i++)
		if (fw->envs[i].exists && strcmp(fw->envs[i].name, name) == 0)
			return &fw->envs[i];
	return NULL;
}

struct fw_db *
fakeworld_db(struct fakeworld *fw, const char *id)
{
	int i;

	for (i = 0; i < FW_DBS; i++)
		if (fw->dbs[i].exists && strcmp(fw->dbs[i].id, id) == 0)
			return &fw->dbs[i];
	return NULL;
}

static struct world_var *env_var(struct fw_env *e, const char *name);

const char *const fakeworld_tables[FW_TABLES] = {
	"accounts_user", "django_migrations", "events_evententry", "payments_membertransaction",
};

struct fw_db *
fakeworld_env_db(struct fakeworld *fw, const char *env)
{
	struct fw_env *e = fakeworld_env(fw, env);
	const struct world_var *v;

	if (e == NULL || (v = env_var(e, "RDS_HOSTNAME")) == NULL)
		return NULL;
	for (int i = 0; i < FW_DBS; i++)
		if (fw->dbs[i].exists && strcmp(fw->dbs[i].endpoint, v->value) == 0)
			return &fw->dbs[i];
	return NULL;
}

/* A read replica holds what its source holds (streaming, no lag modelled
 * here but lag_polls) until it is promoted. */
static void
replica_follow(struct fakeworld *fw, struct fw_db *d)
{
	struct fw_db *src;

	if (d->replica_source[0] && !d->promoting && d->lag_polls == 0 &&
	    (src = fakeworld_db(fw, d->replica_source)) != NULL)
		d->data = src->data;
}

static int
read_only(const struct fw_data *d)
{
	return strcmp(d->read_only, "on") == 0 || strcmp(d->read_only, "true") == 0;
}

int
fakeworld_app_write(struct fakeworld *fw, const char *env, int k)
{
	struct fw_db *d = fakeworld_env_db(fw, env);

	if (d == NULL || read_only(&d->data))
		return -1;
	d->data.rows[k]++;
	d->data.max_id[k]++;
	return 0;
}

static struct fw_snap *
find_snap(struct fakeworld *fw, const char *id)
{
	int i;

	for (i = 0; i < FW_SNAPS; i++)
		if (fw->snaps[i].exists && strcmp(fw->snaps[i].id, id) == 0)
			return &fw->snaps[i];
	return NULL;
}

static struct world_var *
env_var(struct fw_env *e, const char *name)
{
	int i;

	for (i = 0; i < FW_VARS; i++)
		if (e->vars[i].present && strcmp(e->vars[i].name, name) == 0)
			return &e->vars[i];
	return NULL;
}

static void
env_set(struct fw_env *e, const char *name, const char *value)
{
	struct world_var *v = env_var(e, name);
	int i;

	for (i = 0; v == NULL && i < FW_VARS; i++)
		if (!e->vars[i].present)
			v = &e->vars[i];
	if (v == NULL)
		abort();
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->value, sizeof(v->value), "%s", value);
	v->present = 1;
}

const char *
fakeworld_var(struct fakeworld *fw, const char *env, const char *var)
{
	struct fw_env *e = fakeworld_env(fw, env);
	struct world_var *v = e ? env_var(e, var) : NULL;

	return v ? v->value : NULL;
}

const struct world_rrset *
fakeworld_rr(struct fakeworld *fw, const char *name)
{
	int i;

	for (i = 0; i < FW_RRS; i++)
		if (fw->rrs[i].name[0] && step_same_host(fw->rrs[i].name, name))
			return &fw->rrs[i];
	return NULL;
}

static void
poll_tick(struct fakeworld *fw)
{
	fw->polls++;
	if (fw->sigint_at_poll && fw->polls == fw->sigint_at_poll)
		raise(SIGINT);
}

static struct fw_env *
add_env(struct fakeworld *fw, const char *name, const char *version)
{
	int i;

	for (i = 0; i < FW_ENVS; i++)
		if (!fw->envs[i].exists) {
			struct fw_env *e = &fw->envs[i];
			memset(e, 0, sizeof(*e));
			e->exists = 1;
			snprintf(e->name, sizeof(e->name), "%s", name);
			snprintf(e->cname, sizeof(e->cname), "%s.ap-southeast-2.elasticbeanstalk.com",
			    name);
			snprintf(e->status, sizeof(e->status), "Ready");
			snprintf(e->version, sizeof(e->version), "%s", version);
			e->min_size = 1;
			e->max_size = 4;
			return e;
		}
	abort();
}

static struct fw_db *
add_db(struct fakeworld *fw, const char *id, const char *klass, const char *status)
{
	int i;

	for (i = 0; i < FW_DBS; i++)
		if (!fw->dbs[i].exists) {
			struct fw_db *d = &fw->dbs[i];
			memset(d, 0, sizeof(*d));
			d->exists = 1;
			snprintf(d->id, sizeof(d->id), "%s", id);
			snprintf(d->klass, sizeof(d->klass), "%s", klass);
			snprintf(d->status, sizeof(d->status), "%s", status);
			snprintf(d->endpoint, sizeof(d->endpoint), "%s.c97jawiow7ed.fake.rds", id);
			d->backup_retention = 7;
			return d;
		}
	abort();
}

static void
add_rr(struct fakeworld *fw, const char *name, const char *type, const char *alias,
    const char *value, long ttl)
{
	int i;

	for (i = 0; i < FW_RRS; i++)
		if (!fw->rrs[i].name[0]) {
			struct world_rrset *r = &fw->rrs[i];
			snprintf(r->name, sizeof(r->name), "%s", name);
			snprintf(r->type, sizeof(r->type), "%s", type);
			if (alias) {
				snprintf(r->alias_zone, sizeof(r->alias_zone), "Z2PCDNR3VC2G1N");
				snprintf(r->alias_dns, sizeof(r->alias_dns), "%s", alias);
			} else {
				snprintf(r->value, sizeof(r->value), "%s", value);
				r->ttl = ttl;
			}
			return;
		}
	abort();
}

/* --- the vtable --------------------------------------------------------- */

static int
f_identity(struct world_ops *w, char *arn, size_t len, struct cut_err *err)
{
	if (FW(w)->identity_fail)
		return cut_err_set(err, CUT_EAUTH, "AWS refused the credentials (InvalidClientTokenId); "
		    "check the profile in the configuration.");
	snprintf(arn, len, "arn:aws:iam::123456789012:user/operator");
	return 0;
}

static int
f_env_describe(struct world_ops *w, const char *name, struct world_env *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_env *e = fakeworld_env(fw, name);

	poll_tick(fw);
	if (fw->ndescribe < FW_CALLS)
		fw->describe_t[fw->ndescribe] = fw->clock;
	fw->ndescribe++;
	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", name);
	if (e->ready_at > 0 && fw->clock >= e->ready_at) {
		e->notice_lag = fw->clock - e->ready_at;
		e->ready_at = 0;
		snprintf(e->status, sizeof(e->status), "Ready");
	}
	if (e->settle > 0 && --e->settle == 0) {
		if (e->terminating) {
			e->exists = 0;
			return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", name);
		}
		snprintf(e->status, sizeof(e->status), "Ready");
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", e->name);
	snprintf(out->id, sizeof(out->id), "e-%d", (int)(e - fw->envs));
	snprintf(out->status, sizeof(out->status), "%s", e->status);
	snprintf(out->health, sizeof(out->health), "Green");
	snprintf(out->version, sizeof(out->version), "%s", e->version);
	snprintf(out->cname, sizeof(out->cname), "%s", e->cname);
	out->min_size = e->min_size;
	out->max_size = e->max_size;
	out->ninstances = e->min_size;
	return 0;
}

static int
f_env_list(struct world_ops *w, char (*names)[64], size_t max, size_t *n, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int i;

	*n = 0;
	for (i = 0; i < FW_ENVS; i++) {
		if (!fw->envs[i].exists)
			continue;
		if (*n == max)
			return cut_err_set(err, CUT_EPROTO, "More than %zu environments.", max);
		snprintf(names[(*n)++], 64, "%s", fw->envs[i].name);
	}
	return 0;
}

static int
f_env_get_vars(struct world_ops *w, const char *env, const char *const *names, size_t n,
    struct world_var *out, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);
	size_t i;

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	for (i = 0; i < n; i++) {
		struct world_var *v = env_var(e, names[i]);
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "%s", names[i]);
		if (v)
			out[i] = *v;
	}
	return 0;
}

static int
ready_for_update(struct fw_env *e, const char *name, struct cut_err *err)
{
	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", name);
	if (strcmp(e->status, "Ready") != 0)
		return cut_err_set(err, CUT_EAWS, "Environment named %s is in an invalid state for "
		    "this operation. Must be Ready.", name);
	return 0;
}

static void
start_update(struct fakeworld *fw, struct fw_env *e)
{
	snprintf(e->status, sizeof(e->status), "Updating");
	if (fw->update_s > 0) {
		e->settle = 0;
		e->ready_at = fw->clock + fw->update_s;
		return;
	}
	e->settle = SETTLE + fw->slow;
}

static double
vclock_now(void *arg)
{
	return ((struct fakeworld *)arg)->clock;
}

static void
vclock_sleep_until(void *arg, double t)
{
	struct fakeworld *fw = arg;

	if (t > fw->clock)
		fw->clock = t;
}

void
fakeworld_clock(struct fakeworld *fw, struct run_clock *out)
{
	out->now = vclock_now;
	out->sleep_until = vclock_sleep_until;
	out->arg = fw;
}

static int
f_env_update_vars(struct world_ops *w, const char *env, const struct world_var *set, size_t nset,
    const char *const *remove, size_t nremove, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);
	size_t i;
	int r;

	if ((r = ready_for_update(e, env, err)) != 0)
		return r;
	for (i = 0; i < nset; i++)
		env_set(e, set[i].name, set[i].value);
	for (i = 0; i < nremove; i++) {
		struct world_var *v = env_var(e, remove[i]);
		if (v)
			v->present = 0;
	}
	start_update(FW(w), e);
	FW(w)->env_updates++;
	FW(w)->mutations++;
	return 0;
}

static int
f_env_scale(struct world_ops *w, const char *env, int min, int max, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);
	int r;

	if ((r = ready_for_update(e, env, err)) != 0)
		return r;
	e->min_size = min;
	e->max_size = max;
	start_update(FW(w), e);
	FW(w)->scales++;
	FW(w)->mutations++;
	return 0;
}

static int
f_env_clone(struct world_ops *w, const char *source, const char *name, const char *version,
    const struct world_var *set, size_t nset, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_env *src = fakeworld_env(fw, source), *e;
	size_t i;

	if (src == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", source);
	if (fakeworld_env(fw, name))
		return cut_err_set(err, CUT_ESTATE, "Environment %s already exists.", name);
	e = add_env(fw, name, version);
	memcpy(e->vars, src->vars, sizeof(e->vars));
	for (i = 0; i < nset; i++)
		env_set(e, set[i].name, set[i].value);
	snprintf(e->status, sizeof(e->status), "Launching");
	e->settle = SETTLE + 1;
	fw->clones++;
	fw->mutations++;
	return 0;
}

static int
f_env_template_delete(struct world_ops *w, const char *name, struct cut_err *err)
{
	(void)err;
	(void)name;
	FW(w)->template_deletes++;
	FW(w)->mutations++;
	return 0;
}

static int
f_env_terminate(struct world_ops *w, const char *env, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	snprintf(e->status, sizeof(e->status), "Terminating");
	e->terminating = 1;
	e->settle = SETTLE;
	FW(w)->terminates++;
	FW(w)->mutations++;
	return 0;
}

static int
f_env_ssh_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	if (FW(w)->ssh_fail)
		return cut_err_set(err, CUT_ENET, "Cannot reach the instances of %s over SSH "
		    "(connection timed out); check the security group.", env);
	return 0;
}

static int
f_db_describe(struct world_ops *w, const char *id, struct world_db *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *d = fakeworld_db(fw, id);

	poll_tick(fw);
	if (d == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", id);
	if (d->settle > 0 && --d->settle == 0) {
		if (d->deleting) {
			d->exists = 0;
			return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", id);
		}
		snprintf(d->status, sizeof(d->status), "available");
		if (d->promoting) {
			d->promoting = 0;
			d->replica_source[0] = '\0';
		}
	}
	replica_follow(fw, d);
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", d->id);
	snprintf(out->replica_source, sizeof(out->replica_source), "%s", d->replica_source);
	if (d->replica_source[0] && strcmp(d->status, "creating") != 0)
		snprintf(out->replication, sizeof(out->replication), "replicating");
	out->backup_retention = d->backup_retention;
	snprintf(out->status, sizeof(out->status), "%s", d->status);
	snprintf(out->klass, sizeof(out->klass), "%s", d->klass);
	snprintf(out->dbname, sizeof(out->dbname), "ebdb");
	if (strcmp(d->status, "creating") != 0)
		snprintf(out->endpoint, sizeof(out->endpoint), "%s", d->endpoint);
	out->port = 5432;
	return 0;
}

static int
f_snapshot_create(struct world_ops *w, const char *db, const char *snap, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int i;

	if (find_snap(fw, snap))
		return cut_err_set(err, CUT_ESTATE, "DBSnapshotAlreadyExists: %s.", snap);
	if (fakeworld_db(fw, db) == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", db);
	for (i = 0; i < FW_SNAPS; i++)
		if (!fw->snaps[i].exists) {
			struct fw_snap *s = &fw->snaps[i];
			memset(s, 0, sizeof(*s));
			s->exists = 1;
			snprintf(s->id, sizeof(s->id), "%s", snap);
			snprintf(s->db, sizeof(s->db), "%s", db);
			snprintf(s->status, sizeof(s->status), "creating");
			s->settle = 3;
			s->created = (int64_t)time(NULL);
			s->data = fakeworld_db(fw, db)->data;
			fw->snapshots_created++;
			fw->mutations++;
			return 0;
		}
	abort();
}

static int
f_snapshot_describe(struct world_ops *w, const char *id, struct world_snapshot *out,
    struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_snap *s = find_snap(fw, id);

	poll_tick(fw);
	if (s == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBSnapshotNotFound: %s.", id);
	if (s->settle > 0) {
		s->settle--;
		s->percent = s->settle ? 100 - 30 * s->settle : 100;
		if (s->settle == 0)
			snprintf(s->status, sizeof(s->status), "available");
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", s->id);
	snprintf(out->db_id, sizeof(out->db_id), "%s", s->db);
	snprintf(out->status, sizeof(out->status), "%s", s->status);
	out->percent = s->percent;
	out->created = s->created;
	return 0;
}

static int
f_db_restore(struct world_ops *w, const char *snap, const char *id, const char *klass,
    const char *like, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *d;

	(void)like;
	if (find_snap(fw, snap) == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBSnapshotNotFound: %s.", snap);
	if (fakeworld_db(fw, id))
		return cut_err_set(err, CUT_ESTATE, "DBInstanceAlreadyExists: %s.", id);
	d = add_db(fw, id, klass, "creating");
	d->settle = 3;
	d->data = find_snap(fw, snap)->data;
	fw->restores++;
	fw->mutations++;
	return 0;
}

static int
f_db_replica_create(struct world_ops *w, const char *source, const char *id, const char *klass,
    struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *src = fakeworld_db(fw, source), *d;

	if (src == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", source);
	if (fakeworld_db(fw, id))
		return cut_err_set(err, CUT_ESTATE, "DBInstanceAlreadyExists: %s.", id);
	if (src->backup_retention <= 0)
		return cut_err_set(err, CUT_EAWS, "InvalidDBInstanceState: Automated backups are not "
		    "enabled for this database instance.");
	d = add_db(fw, id, klass, "creating");
	d->settle = 3;
	d->backup_retention = 0;
	snprintf(d->replica_source, sizeof(d->replica_source), "%s", source);
	d->data = src->data;
	fw->replicas_created++;
	fw->mutations++;
	return 0;
}

static int
f_db_promote(struct world_ops *w, const char *id, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *d = fakeworld_db(fw, id);

	if (d == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", id);
	if (d->replica_source[0] == '\0' || d->promoting)
		return cut_err_set(err, CUT_EAWS, "InvalidDBInstanceState: DB Instance %s is not a read "
		    "replica.", id);
	if (strcmp(d->status, "available") != 0)
		return cut_err_set(err, CUT_EAWS, "InvalidDBInstanceState: DB Instance is not in "
		    "available state. Current state: %s", d->status);
	replica_follow(fw, d);
	snprintf(d->status, sizeof(d->status), "modifying");
	d->promoting = 1;
	d->settle = 3;
	d->backup_retention = 1;
	fw->promotions++;
	fw->mutations++;
	return 0;
}

static int
f_db_replica_lsn(struct world_ops *w, const char *env, const char *host, int port,
    struct world_replica *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *live = fakeworld_env_db(fw, env), *d = NULL;

	(void)port;
	poll_tick(fw);
	for (int i = 0; i < FW_DBS; i++)
		if (fw->dbs[i].exists && strcmp(fw->dbs[i].endpoint, host) == 0)
			d = &fw->dbs[i];
	if (live == NULL || d == NULL)
		return cut_err_set(err, CUT_ENET, "psql: could not connect to %s.", live ? host : env);
	memset(out, 0, sizeof(*out));
	snprintf(out->live_lsn, sizeof(out->live_lsn), "0/%llX", 0x1000ULL + (unsigned long long)
	    live->data.rows[0] + (unsigned long long)live->data.rows[3]);
	out->live_unix = (int64_t)time(NULL);
	/* As the simulation's pg_ctl promote: out of recovery as soon as the
	 * promotion is accepted, while RDS still says modifying. */
	out->in_recovery = d->replica_source[0] != '\0' && !d->promoting;
	if (d->replica_source[0] && d->lag_polls > 0) {
		out->behind = 100LL * d->lag_polls--;
		snprintf(out->replay_lsn, sizeof(out->replay_lsn), "0/F00");
		return 0;
	}
	replica_follow(fw, d);
	out->behind = 0;
	snprintf(out->replay_lsn, sizeof(out->replay_lsn), "%s", out->live_lsn);
	return 0;
}

static int
f_db_delete(struct world_ops *w, const char *id, const char *final, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_db *d = fakeworld_db(fw, id);

	(void)final;
	if (d == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "DBInstanceNotFound: %s.", id);
	snprintf(d->status, sizeof(d->status), "deleting");
	d->deleting = 1;
	d->settle = SETTLE;
	fw->db_deletes++;
	fw->mutations++;
	return 0;
}

static int
f_dns_read(struct world_ops *w, const char *zone, const char *name, const char *type,
    struct world_rrset *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int i;

	(void)zone;
	for (i = 0; i < FW_RRS; i++)
		if (fw->rrs[i].name[0] && step_same_host(fw->rrs[i].name, name) &&
		    strcmp(fw->rrs[i].type, type) == 0) {
			*out = fw->rrs[i];
			return 0;
		}
	return cut_err_set(err, CUT_ENOTFOUND, "No %s record %s.", type, name);
}

static int
f_dns_list(struct world_ops *w, const char *zone, struct world_rrset **out, size_t *n,
    struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int i;

	(void)zone;
	if ((*out = calloc(FW_RRS, sizeof(**out))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	*n = 0;
	for (i = 0; i < FW_RRS; i++)
		if (fw->rrs[i].name[0])
			(*out)[(*n)++] = fw->rrs[i];
	return 0;
}

static int
rr_equal(const struct world_rrset *a, const struct world_rrset *b)
{
	return step_same_host(a->name, b->name) && strcmp(a->type, b->type) == 0 &&
	    strcmp(a->alias_zone, b->alias_zone) == 0 && step_same_host(a->alias_dns, b->alias_dns) &&
	    a->ttl == b->ttl && strcmp(a->value, b->value) == 0;
}

static int
f_dns_change(struct world_ops *w, const char *zone, const struct world_dns_change *ch, size_t n,
    const char *comment, char *id, size_t idlen, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct world_rrset next[FW_RRS];
	size_t i;
	int k;

	(void)zone;
	(void)comment;
	memcpy(next, fw->rrs, sizeof(next));
	/* All or nothing, as Route 53: work on a copy. */
	for (i = 0; i < n; i++) {
		int found = -1;
		for (k = 0; k < FW_RRS; k++)
			if (next[k].name[0] && step_same_host(next[k].name, ch[i].rr.name) &&
			    strcmp(next[k].type, ch[i].rr.type) == 0)
				found = k;
		if (ch[i].action == WORLD_DNS_DELETE) {
			if (found < 0 || !rr_equal(&next[found], &ch[i].rr))
				return cut_err_set(err, CUT_EAWS, "InvalidChangeBatch: the record %s "
				    "to delete does not match.", ch[i].rr.name);
			memset(&next[found], 0, sizeof(next[found]));
			continue;
		}
		for (k = 0; found < 0 && k < FW_RRS; k++)
			if (!next[k].name[0])
				found = k;
		if (found < 0)
			abort();
		next[found] = ch[i].rr;
	}
	memcpy(fw->rrs, next, sizeof(next));
	if (fw->nchanges >= FW_CHANGES)
		abort();
	snprintf(fw->changes[fw->nchanges].id, sizeof(fw->changes[0].id), "C%04d", fw->nchanges + 1);
	fw->changes[fw->nchanges].settle = SETTLE;
	snprintf(id, idlen, "%s", fw->changes[fw->nchanges].id);
	fw->nchanges++;
	fw->dns_changes++;
	fw->mutations++;
	return 0;
}

/* The lease (world/ops.h) lives among the zone's records, as in Route 53,
 * so dns_list shows it to the steps that read the zone (tidy-dns). */
static int
lease_slot(struct fakeworld *fw, const char *zone)
{
	char name[300];
	int k;

	snprintf(name, sizeof(name), "%s.%s", WORLD_LEASE_LABEL, zone);
	for (k = 0; k < FW_RRS; k++)
		if (fw->rrs[k].name[0] && step_same_host(fw->rrs[k].name, name) &&
		    strcmp(fw->rrs[k].type, "TXT") == 0)
			return k;
	return -1;
}

static int
lease_holds(const struct world_rrset *rr, const char *value)
{
	size_t n = strlen(value);

	return rr->value[0] == '"' && strncmp(rr->value + 1, value, n) == 0 &&
	    rr->value[n + 1] == '"' && rr->value[n + 2] == '\0';
}

static int
f_lease_read(struct world_ops *w, const char *zone, char *value, size_t len, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int k = lease_slot(fw, zone);
	size_t n;

	if (k < 0)
		return cut_err_set(err, CUT_ENOTFOUND, "Nobody holds the lease.");
	n = strlen(fw->rrs[k].value);
	if (n < 2 || n - 2 >= len)
		return cut_err_set(err, CUT_EPROTO, "The lease record is malformed.");
	memcpy(value, fw->rrs[k].value + 1, n - 2);
	value[n - 2] = '\0';
	return 0;
}

static int
f_lease_take(struct world_ops *w, const char *zone, const char *value, const char *replace,
    struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int k = lease_slot(fw, zone);

	if (replace != NULL ? k < 0 || !lease_holds(&fw->rrs[k], replace) : k >= 0)
		return cut_err_set(err, CUT_ESTATE, "Someone else holds the lease.");
	for (int i = 0; k < 0 && i < FW_RRS; i++)
		if (!fw->rrs[i].name[0])
			k = i;
	if (k < 0)
		abort();
	memset(&fw->rrs[k], 0, sizeof(fw->rrs[k]));
	snprintf(fw->rrs[k].name, sizeof(fw->rrs[k].name), "%s.%s", WORLD_LEASE_LABEL, zone);
	snprintf(fw->rrs[k].type, sizeof(fw->rrs[k].type), "TXT");
	fw->rrs[k].ttl = 60;
	snprintf(fw->rrs[k].value, sizeof(fw->rrs[k].value), "\"%s\"", value);
	fw->lease_takes++;
	return 0;
}

static int
f_lease_release(struct world_ops *w, const char *zone, const char *value, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int k = lease_slot(fw, zone);

	if (k < 0 || !lease_holds(&fw->rrs[k], value))
		return cut_err_set(err, CUT_ENOTFOUND, "The lease no longer holds this value.");
	memset(&fw->rrs[k], 0, sizeof(fw->rrs[k]));
	fw->lease_releases++;
	return 0;
}

static int
f_dns_change_status(struct world_ops *w, const char *id, char *status, size_t len,
    struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	int i;

	poll_tick(fw);
	for (i = 0; i < fw->nchanges; i++)
		if (strcmp(fw->changes[i].id, id) == 0) {
			if (fw->changes[i].settle > 0)
				fw->changes[i].settle--;
			snprintf(status, len, "%s", fw->changes[i].settle ? "PENDING" : "INSYNC");
			return 0;
		}
	return cut_err_set(err, CUT_ENOTFOUND, "NoSuchChange: %s.", id);
}

static int
f_manage_run(struct world_ops *w, const char *env, const char *const *argv, const char *token,
    struct world_manage_result *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	const char *command = argv[0];
	int i;

	if (fakeworld_env(fw, env) == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	memset(out, 0, sizeof(*out));
	/* The token contract: a second start with the same token does not run. */
	for (i = 0; token != NULL && i < fw->ntokens; i++)
		if (strcmp(fw->tokens[i], token) == 0) {
			snprintf(out->summary, sizeof(out->summary), "already ran (token %s)", token);
			out->recorded = 1;
			return 0;
		}
	/* Production-shaped data: the copied blocked-email rows hold
	 * unregistered-user ids that migration 0055 validates against
	 * accounts_user, so migrate fails until the table was cleared. */
	if (strncmp(command, "migrate", 7) == 0 && !fw->blocked_cleared) {
		out->exit_status = 1;
		snprintf(out->summary, sizeof(out->summary), "django.db.utils.IntegrityError: insert or "
		    "update on table \"notifications_unregisteredblockedemail\" violates foreign key "
		    "constraint; Key (un_registered_user_id)=(6356) is not present in table \"accounts_user\".");
		return 0;
	}
	if (token != NULL && fw->ntokens < FW_TOKENS)
		snprintf(fw->tokens[fw->ntokens++], sizeof(fw->tokens[0]), "%s", token);
	if (strcmp(command, "temp_copy_unreg_to_user") == 0) {
		snprintf(out->summary, sizeof(out->summary), "About to convert %ld unregistered "
		    "users...", fw->unreg_users);
		fw->unreg_users = 0;
		fw->conversions++;
	} else if (strncmp(command, "migrate", 7) == 0) {
		struct fw_db *d = fakeworld_env_db(fw, env);
		fw->migrates++;
		if (d != NULL) {   /* migrate records what it applied (parity leaves it out) */
			d->data.rows[1]++;
			d->data.max_id[1]++;
		}
		snprintf(out->summary, sizeof(out->summary), "No migrations to apply.");
	} else if (strcmp(command, "mpc_sync") == 0) {
		fw->mpc_syncs++;
		snprintf(out->summary, sizeof(out->summary), "sync complete");
	}
	fw->mutations++;
	return 0;
}

static int
f_unreg_user_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	(void)env;
	(void)err;
	*n = FW(w)->unreg_users;
	return 0;
}

static int
f_request_rate(struct world_ops *w, const char *env, struct world_rate *out, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);

	(void)env;
	poll_tick(fw);
	if (fw->rate_fail)
		return cut_err_set(err, CUT_EREMOTE, "The access log of i-0fake cannot be read.");
	out->interval_s = 10;
	out->ninstances = 1;
	out->requests = fw->busy_polls > 0 ? 5 : 0;
	if (fw->busy_polls > 0)
		fw->busy_polls--;
	return 0;
}

static int
f_cron_pause(struct world_ops *w, const char *env, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	if (!e->cron_paused)
		FW(w)->cron_pauses++, FW(w)->mutations++;
	e->cron_paused = 1;
	return 0;
}

static int
f_cron_resume(struct world_ops *w, const char *env, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	if (e->cron_paused)
		FW(w)->cron_resumes++, FW(w)->mutations++;
	e->cron_paused = 0;
	return 0;
}

static int
f_cron_paused(struct world_ops *w, const char *env, int *paused, struct cut_err *err)
{
	struct fw_env *e = fakeworld_env(FW(w), env);

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	*paused = e->cron_paused;
	return 0;
}

static int
f_blocked_email_backup(struct world_ops *w, const char *env, const char *path,
    struct world_backup_info *out, struct cut_err *err)
{
	FILE *f = fopen(path, "w");

	(void)env;
	if (f == NULL)
		return cut_err_set(err, CUT_EIO, "Cannot write %s.", path);
	fputs("email,system_number\nblocked@example.com,100\n", f);
	fclose(f);
	out->rows = FW(w)->blocked_rows > 0 ? FW(w)->blocked_rows : 1;
	snprintf(out->sha256, sizeof(out->sha256), "%064d", 7);
	FW(w)->backups++;
	return 0;
}

static int
f_blocked_email_restore(struct world_ops *w, const char *env, const char *path,
    struct world_restore_info *out, struct cut_err *err)
{
	(void)env;
	out->added = FW(w)->emails_added ? 0 : 1;
	FW(w)->emails_added += (int)out->added;
	out->present = FW(w)->email_restores ? 1 : 0;
	out->unmapped = FW(w)->nunmapped;
	/* The row list world/ops.h promises next to "<path>.unmapped". */
	{
		static const char *const cols[] = { "email", "system_number" };
		struct rowlist rl;
		char up[4200], rows[4300], num[32];
		int r;

		snprintf(up, sizeof(up), "%s.unmapped", path);
		rowlist_sibling(up, rows, sizeof(rows));
		if ((r = rowlist_init(&rl, 2, cols, err)) != 0)
			return r;
		for (int i = 0; r == 0 && i < FW(w)->nunmapped && i < FW_UNMAPPED; i++) {
			const char *cells[2] = { FW(w)->unmapped_email[i], num };
			snprintf(num, sizeof(num), "%lld", FW(w)->unmapped_sn[i]);
			r = rowlist_add(&rl, cells, err);
		}
		if (r == 0)
			r = rowlist_write(rows, &rl, NULL, err);
		rowlist_free(&rl);
		if (r != 0)
			return r;
	}
	FW(w)->email_restores++;
	FW(w)->mutations++;
	return 0;
}

static int
f_blocked_email_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	(void)env;
	(void)err;
	*n = FW(w)->blocked_cleared ? 0 : (FW(w)->blocked_rows > 0 ? FW(w)->blocked_rows : 1);
	return 0;
}

static int
f_blocked_email_clear(struct world_ops *w, const char *env, long expect, long *deleted,
    struct cut_err *err)
{
	long n;

	f_blocked_email_count(w, env, &n, err);
	if (n != expect)
		return cut_err_set(err, CUT_ESTATE, "The blocked-email table holds %ld rows, not %ld.", n,
		    expect);
	*deleted = n;
	FW(w)->blocked_cleared = 1;
	FW(w)->blocked_clears++;
	FW(w)->mutations++;
	return 0;
}

static int
f_blocked_email_merge(struct world_ops *w, const char *const *paths, size_t n, const char *out_path,
    struct world_backup_info *out, struct cut_err *err)
{
	FILE *f = fopen(out_path, "w");

	(void)paths;
	(void)n;
	if (f == NULL)
		return cut_err_set(err, CUT_EIO, "Cannot write %s.", out_path);
	fputs("merged\n", f);
	fclose(f);
	out->rows = FW(w)->blocked_rows > 0 ? FW(w)->blocked_rows : 1;
	snprintf(out->sha256, sizeof(out->sha256), "%064d", 8);
	return 0;
}

static int
f_smoke_test(struct world_ops *w, const char *env, const char *host, struct world_smoke *out,
    struct cut_err *err)
{
	(void)env;
	(void)host;
	(void)err;
	FW(w)->smoke_tests++;
	out->passed = FW(w)->smoke_fail ? 1 : 2;
	out->failed = FW(w)->smoke_fail ? 1 : 0;
	if (FW(w)->smoke_fail)
		snprintf(out->first_failure, sizeof(out->first_failure),
		    "GET /accounts/login/ answered 502, not 200");
	return 0;
}

/* Writes n generated rows (the first `entries` of them entries, the rest
 * payments) as the CSV and the row list world/ops.h promises. */
static int
fw_changes(const char *csv, int entries, int payments, struct cut_err *err)
{
	static const char *const cols[] = { "table", "id", "at", "fields" };
	struct rowlist rl;
	char path[4200], id[32], fields[96];
	FILE *f = fopen(csv, "w");
	int r;

	if (f == NULL)
		return cut_err_set(err, CUT_EIO, "Cannot write %s.", csv);
	fputs("table,id,at,fields\r\n", f);
	if ((r = rowlist_init(&rl, 4, cols, err)) != 0) {
		fclose(f);
		return r;
	}
	for (int i = 0; r == 0 && i < entries + payments; i++) {
		const char *table = i < entries ? "events_basketitem" : "payments_memberTransaction";
		const char *cells[4] = { table, id, "2026-11-25T10:00:00Z", fields };
		snprintf(id, sizeof(id), "%d", 1000 + i);
		snprintf(fields, sizeof(fields), "player_id=%d; note=a|b <c>", 7 + i);
		fprintf(f, "%s,%s,%s,\"%s\"\r\n", table, id, cells[2], fields);
		r = rowlist_add(&rl, cells, err);
	}
	fclose(f);
	rowlist_sibling(csv, path, sizeof(path));
	if (r == 0)
		r = rowlist_write(path, &rl, NULL, err);
	rowlist_free(&rl);
	return r;
}

static int
f_lost_writes(struct world_ops *w, const char *env, int64_t since, const char *csv, long *rows,
    struct cut_err *err)
{
	(void)env;
	(void)since;
	*rows = FW(w)->lost_rows;
	return fw_changes(csv, FW(w)->lost_rows, 0, err);
}

static int
f_activity(struct world_ops *w, const char *env, int64_t since, const char *csv, long *entries,
    long *payments, struct cut_err *err)
{
	(void)env;
	(void)since;
	*entries = FW(w)->activity_entries;
	*payments = FW(w)->activity_payments;
	return fw_changes(csv, (int)*entries, (int)*payments, err);
}

static int
f_mpserver_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	if (FW(w)->mpc_down)
		return cut_err_set(err, CUT_ESTATE, "Refusing to run mpc_sync: the Masterpoints server "
		    "does not answer from %s.", env);
	return 0;
}

/* The instances read RDS_HOSTNAME from their env file: the environment's
 * setting unless a test says the file names another host. */
static int
f_target_db_check(struct world_ops *w, const char *env, const char *live_host, int live_port,
    uint64_t min_free_bytes, struct cut_err *err)
{
	struct fakeworld *fw = FW(w);
	struct fw_env *e = fakeworld_env(fw, env);
	struct aop_dbenv live, target;
	struct world_var *v;

	if (e == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "No environment %s.", env);
	fw->target_db_checks++;
	memset(&live, 0, sizeof(live));
	memset(&target, 0, sizeof(target));
	snprintf(live.host, sizeof(live.host), "%s", live_host);
	if (live_port > 0)
		snprintf(live.port, sizeof(live.port), "%d", live_port);
	v = env_var(e, "RDS_HOSTNAME");
	snprintf(target.host, sizeof(target.host), "%s",
	    fw->instance_db_host[0] ? fw->instance_db_host : v ? v->value : "");
	if (live_host[0] == '\0' || precond_same_server(&target, &live))
		return cut_err_set(err, CUT_ESTATE, "Refusing: %s-i-0 uses the database at %s:5432, "
		    "which is the LIVE database; point the new environment at the restored database "
		    "(RDS_HOSTNAME, RDS_DB_NAME) before restoring or converting.", env, target.host);
	if (fw->free_bytes > 0 && fw->free_bytes < min_free_bytes)
		return cut_err_set(err, CUT_ESTATE, "Only %llu MiB are free at /var/app/current on "
		    "%s-i-0, and %llu MiB are needed; free some space (old logs, /tmp) and run again.",
		    (unsigned long long)(fw->free_bytes >> 20), env,
		    (unsigned long long)(min_free_bytes >> 20));
	return 0;
}

/* --- write freeze and parity ------------------------------------------ */

static int
env_data(struct fakeworld *fw, const char *env, struct fw_db **d, struct cut_err *err)
{
	if ((*d = fakeworld_env_db(fw, env)) == NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "Environment %s uses no database of this world.", env);
	return 0;
}

static int
f_db_read_only(struct world_ops *w, const char *env, char *value, size_t len, struct cut_err *err)
{
	struct fw_db *d;
	int r;

	if ((r = env_data(FW(w), env, &d, err)) != 0)
		return r;
	snprintf(value, len, "%s", d->data.read_only);
	return 0;
}

static int
f_db_read_only_set(struct world_ops *w, const char *env, const char *value, struct world_freeze *out,
    struct cut_err *err)
{
	struct fw_db *d;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = env_data(FW(w), env, &d, err)) != 0)
		return r;
	snprintf(d->data.read_only, sizeof(d->data.read_only), "%s", value ? value : "");
	d->read_only_sets++;
	FW(w)->mutations++;
	out->unix_s = (int64_t)time(NULL);
	snprintf(out->at, sizeof(out->at), "2026-11-25T10:00:00.000000Z");
	snprintf(out->lsn, sizeof(out->lsn), "0/16B3748");
	out->ended = 2;
	return 0;
}

static int
f_db_table_stats(struct world_ops *w, const char *env, struct world_table_stat **out, size_t *n,
    struct cut_err *err)
{
	struct fw_db *d;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = env_data(FW(w), env, &d, err)) != 0)
		return r;
	if ((*out = calloc(FW_TABLES, sizeof(**out))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	for (int k = 0; k < FW_TABLES; k++) {
		snprintf((*out)[k].table, sizeof((*out)[k].table), "%s", fakeworld_tables[k]);
		(*out)[k].rows = d->data.rows[k];
		if (d->data.rows[k] > 0)
			snprintf((*out)[k].max_id, sizeof((*out)[k].max_id), "%lld", d->data.max_id[k]);
	}
	*n = FW_TABLES;
	return 0;
}

struct world_ops *
fakeworld_new(struct fakeworld **fwp)
{
	struct world_ops *w = calloc(1, sizeof(*w));
	struct fakeworld *fw = mmap(NULL, sizeof(*fw), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (w == NULL || fw == MAP_FAILED)
		abort();
	memset(fw, 0, sizeof(*fw));
	fw->activity_entries = 2;
	fw->activity_payments = 1;
	w->impl = fw;
	w->identity = f_identity;
	w->env_describe = f_env_describe;
	w->env_get_vars = f_env_get_vars;
	w->env_update_vars = f_env_update_vars;
	w->env_scale = f_env_scale;
	w->env_clone = f_env_clone;
	w->env_list = f_env_list;
	w->env_terminate = f_env_terminate;
	w->env_template_delete = f_env_template_delete;
	w->env_ssh_check = f_env_ssh_check;
	w->db_describe = f_db_describe;
	w->snapshot_create = f_snapshot_create;
	w->snapshot_describe = f_snapshot_describe;
	w->db_restore = f_db_restore;
	w->db_replica_create = f_db_replica_create;
	w->db_promote = f_db_promote;
	w->db_replica_lsn = f_db_replica_lsn;
	w->db_delete = f_db_delete;
	w->dns_read = f_dns_read;
	w->dns_list = f_dns_list;
	w->dns_change = f_dns_change;
	w->dns_change_status = f_dns_change_status;
	w->lease_read = f_lease_read;
	w->lease_take = f_lease_take;
	w->lease_release = f_lease_release;
	w->manage_run = f_manage_run;
	w->unreg_user_count = f_unreg_user_count;
	w->request_rate = f_request_rate;
	w->cron_pause = f_cron_pause;
	w->cron_resume = f_cron_resume;
	w->cron_paused = f_cron_paused;
	w->blocked_email_backup = f_blocked_email_backup;
	w->blocked_email_restore = f_blocked_email_restore;
	w->blocked_email_count = f_blocked_email_count;
	w->blocked_email_clear = f_blocked_email_clear;
	w->blocked_email_merge = f_blocked_email_merge;
	w->smoke_test = f_smoke_test;
	w->lost_writes = f_lost_writes;
	w->activity = f_activity;
	w->mpserver_check = f_mpserver_check;
	w->target_db_check = f_target_db_check;
	w->db_read_only = f_db_read_only;
	w->db_read_only_set = f_db_read_only_set;
	w->db_table_stats = f_db_table_stats;
	*fwp = fw;
	return w;
}

void
fakeworld_free(struct world_ops *w)
{
	if (w == NULL)
		return;
	munmap(w->impl, sizeof(struct fakeworld));
	free(w);
}

#define SET(f, v) snprintf(names->f, sizeof(names->f), "%s", v)

void
fakeworld_cobalt(struct fakeworld *fw, struct run_names *names, int with_new_envs)
{
	struct fw_env *e;
	struct fw_db *d;

	memset(names, 0, sizeof(*names));
	SET(app, "cobalt");
	SET(live_web, "cobalt-production-blue");
	SET(live_ses, "cobalt-ses-production-green");
	SET(new_web, "cobalt-production-green");
	SET(new_ses, "cobalt-ses-production-blue");
	SET(live_db, "production-blue");
	SET(new_db, "cobalt-production-green");
	SET(new_db_class, "db.t3.small");
	SET(db_name, "ebdb");
	SET(snapshot, "cutover-production-blue");
	SET(final_snapshot, "production-blue-final");
	SET(version, "v6.3.20");
	SET(prep_db_host, "cobalt-test-db.c97jawiow7ed.fake.rds");
	SET(prep_db_name, "ebdb");
	SET(zone, "myabf.com.au.");
	SET(apex, "myabf.com.au.");
	SET(www, "www.myabf.com.au.");
	SET(ses, "ses.myabf.com.au.");
	SET(site_host, "myabf.com.au");
	SET(test_env, "cobalt-test-black");
	SET(test_db, "cobalt-test-black-prod");
	SET(test_snapshot, "rds:production-blue-2026-11-24");
	SET(test_db_class, "db.t3.small");
	names->quiet_seconds = 60;
	names->quiet_deadline = 900;
	names->tail_interval = 60;
	names->tail_deadline = 900;

	e = add_env(fw, names->live_web, "v6.3.19");
	env_set(e, "MAINTENANCE_MODE", "OFF");
	env_set(e, "RDS_HOSTNAME", "production-blue.c97jawiow7ed.fake.rds");
	env_set(e, "RDS_DB_NAME", "ebdb");
	env_set(e, "RDS_PASSWORD", "hunter2-secret");
	e = add_env(fw, names->live_ses, "v6.3.19");
	env_set(e, "MAINTENANCE_MODE", "OFF");
	env_set(e, "RDS_HOSTNAME", "production-blue.c97jawiow7ed.fake.rds");
	e = add_env(fw, names->test_env, "v6.3.20");
	env_set(e, "RDS_HOSTNAME", "cobalt-test-db.c97jawiow7ed.fake.rds");
	if (with_new_envs) {
		e = add_env(fw, names->new_web, names->version);
		env_set(e, "MAINTENANCE_MODE", "ON");
		env_set(e, "RDS_HOSTNAME", names->prep_db_host);
		env_set(e, "RDS_DB_NAME", "ebdb");
		env_set(e, "MP_USE_DJANGO", "NO");
		e = add_env(fw, names->new_ses, names->version);
		env_set(e, "MAINTENANCE_MODE", "ON");
		env_set(e, "RDS_HOSTNAME", names->prep_db_host);
	}
	d = add_db(fw, names->live_db, "db.t3.medium", "available");
	for (int k = 0; k < FW_TABLES; k++) {
		d->data.rows[k] = 10 * (k + 1);
		d->data.max_id[k] = 10 * (k + 1) + 3;
	}
	add_db(fw, "cobalt-test-db", "db.t3.micro", "available");
	add_rr(fw, "myabf.com.au.", "A", "cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.",
	    NULL, 0);
	add_rr(fw, "www.myabf.com.au.", "A",
	    "cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com.", NULL, 0);
	add_rr(fw, "ses.myabf.com.au.", "CNAME", NULL,
	    "cobalt-ses-production-green.ap-southeast-2.elasticbeanstalk.com", 300);
	add_rr(fw, "cobalt-production-blue.myabf.com.au.", "CNAME", NULL,
	    "cobalt-production-blue.ap-southeast-2.elasticbeanstalk.com", 300);
	add_rr(fw, "myabf.com.au.", "MX", NULL, "10 mail.example.com.", 3600);
	fw->unreg_users = 1234;
	fw->busy_polls = 3;
}

void
fakeworld_reset_counters(struct fakeworld *fw)
{
	fw->snapshots_created = fw->restores = fw->dns_changes = fw->conversions = 0;
	fw->migrates = fw->mpc_syncs = fw->env_updates = fw->scales = fw->clones = fw->template_deletes = 0;
	fw->terminates = fw->db_deletes = fw->backups = fw->email_restores = 0;
	fw->cron_pauses = fw->cron_resumes = fw->smoke_tests = fw->mutations = 0;
	fw->emails_added = 0;
	fw->blocked_clears = 0;
	fw->target_db_checks = 0;
	fw->lease_takes = fw->lease_releases = 0;
	fw->replicas_created = fw->promotions = 0;
	fw->polls = 0;
}

void
fakeworld_settle(struct fakeworld *fw)
{
	int i;

	for (i = 0; i < FW_ENVS; i++)
		if (fw->envs[i].exists && fw->envs[i].settle > 0) {
			fw->envs[i].settle = 0;
			if (fw->envs[i].terminating)
				fw->envs[i].exists = 0;
			else
				snprintf(fw->envs[i].status, sizeof(fw->envs[i].status), "Ready");
		}
}
