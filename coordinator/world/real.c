/* world/real.c: see world/real.h. The AWS adapter, and opening and closing
 * the world; what runs on instances is in real_remote.c and real_manage.c
 * (world/real_int.h). */
#include "world/real.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "aws/eb.h"
#include "aws/r53.h"
#include "aws/rds.h"
#include "aws/sts.h"
#include "world/live_names.h"
#include "world/real_int.h"

static int
copy(char *dst, size_t len, const char *src, const char *what, struct cut_err *err)
{
	if (src == NULL)
		src = "";
	if ((size_t)snprintf(dst, len, "%s", src) >= len)
		return cut_err_set(err, CUT_EPROTO, "AWS returned a %s longer than cutover can hold (%.60s...).", what, src);
	return 0;
}

/* ---- STS ------------------------------------------------------------------- */

static int
wr_identity(struct world_ops *w, char *arn, size_t len, struct cut_err *err)
{
	struct sts_identity id;
	int r;

	if ((r = sts_get_caller_identity(impl(w)->aws, &id, err)) != 0)
		return r;
	return copy(arn, len, id.arn, "caller ARN", err);
}

/* ---- Elastic Beanstalk --------------------------------------------------------- */

static int
settings(struct wr *x, const char *env, struct eb_config_settings_list *l, const struct eb_config_settings **d,
    struct cut_err *err)
{
	int r;

	memset(l, 0, sizeof(*l));
	r = eb_describe_configuration_settings(x->aws, x->cfg.aws.application, env, NULL, l, err);
	/* A terminated or never created environment is an answer, not a failure. */
	if (r != 0 && strstr(err->msg, "No Environment found") != NULL)
		return cut_err_set(err, CUT_ENOTFOUND, "Elastic Beanstalk has no environment %s.", env);
	if (r != 0)
		return r;
	/* During an update, the settings being deployed: see eb_config_latest. */
	if ((*d = eb_config_latest(l)) == NULL) {
		eb_config_settings_list_free(l);
		return cut_err_set(err, CUT_EPROTO, "Elastic Beanstalk returned no settings for %s; try again.", env);
	}
	return 0;
}

static int
wr_env_describe(struct world_ops *w, const char *env, struct world_env *out, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct eb_env e;
	struct eb_config_settings_list l;
	const struct eb_config_settings *d;
	struct eb_resources res;
	const char *v;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = eb_describe_environment(x->aws, x->cfg.aws.application, env, &e, err)) != 0)
		return r;
	if ((r = copy(out->name, sizeof(out->name), e.name, "environment name", err)) != 0 ||
	    (r = copy(out->id, sizeof(out->id), e.id, "environment id", err)) != 0 ||
	    (r = copy(out->status, sizeof(out->status), e.status, "status", err)) != 0 ||
	    (r = copy(out->health, sizeof(out->health), e.health, "health", err)) != 0 ||
	    (r = copy(out->version, sizeof(out->version), e.version, "version label", err)) != 0 ||
	    (r = copy(out->cname, sizeof(out->cname), e.cname, "CNAME", err)) != 0)
		return r;
	if ((r = settings(x, env, &l, &d, err)) != 0)
		return r;
	out->min_size = (v = eb_option_get(&d->options, EB_NS_ASG, "MinSize")) ? atoi(v) : -1;
	out->max_size = (v = eb_option_get(&d->options, EB_NS_ASG, "MaxSize")) ? atoi(v) : -1;
	eb_config_settings_list_free(&l);
	memset(&res, 0, sizeof(res));
	if ((r = eb_describe_environment_resources(x->aws, env, &res, err)) != 0)
		return r;
	out->ninstances = (int)res.ninstances;
	eb_resources_free(&res);
	return 0;
}

static int
wr_env_cnames(struct world_ops *w, const char *const *envs, size_t n, char (*cnames)[256],
    struct cut_err *err)
{
	struct wr *x = impl(w);
	struct eb_env_list el;
	size_t k, i;
	int r;

	if ((r = eb_describe_environments(x->aws, x->cfg.aws.application, envs, n, 0, &el, err)) != 0)
		return r;
	for (k = 0; r == 0 && k < n; k++) {
		for (i = 0; i < el.n; i++)
			if (strcmp(el.v[i].name, envs[k]) == 0 && strcmp(el.v[i].status, "Terminated") != 0)
				break;
		if (i == el.n)
			r = cut_err_set(err, CUT_ENOTFOUND, "There is no environment %s in application %s; "
			    "check the names in the configuration.", envs[k], x->cfg.aws.application);
		else
			r = copy(cnames[k], 256, el.v[i].cname, "CNAME", err);
	}
	eb_env_list_free(&el);
	return r;
}

static int
wr_env_list(struct world_ops *w, char (*names)[64], size_t max, size_t *n, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct eb_env_list el;
	size_t i;
	int r;

	*n = 0;
	if ((r = eb_describe_environments(x->aws, x->cfg.aws.application, NULL, 0, 0, &el, err)) != 0)
		return r;
	for (i = 0; i < el.n && r == 0; i++) {
		if (strcmp(el.v[i].status, "Terminated") == 0)
			continue;
		if (*n == max)
			r = cut_err_set(err, CUT_EPROTO, "Application %s has more than %zu environments, "
			    "more than cutover can check; terminate the ones no longer used.",
			    x->cfg.aws.application, max);
		else
			r = copy(names[(*n)++], 64, el.v[i].name, "environment name", err);
	}
	eb_env_list_free(&el);
	return r;
}

static int
wr_env_get_vars(struct world_ops *w, const char *env, const char *const *names, size_t n,
    struct world_var *out, struct cut_err *err)
{
	struct eb_config_settings_list l;
	const struct eb_config_settings *d;
	int r;

	if ((r = settings(impl(w), env, &l, &d, err)) != 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *v = eb_option_get(&d->options, EB_NS_ENV, names[i]);
		memset(&out[i], 0, sizeof(out[i]));
		if ((r = copy(out[i].name, sizeof(out[i].name), names[i], "variable name", err)) != 0)
			break;
		out[i].present = v != NULL;
		if (v != NULL && (size_t)snprintf(out[i].value, sizeof(out[i].value), "%s", v) >= sizeof(out[i].value))
			r = cut_err_set(err, CUT_EPROTO, "The value of %s on %s is longer than cutover can hold.", names[i], env);
	}
	eb_config_settings_list_free(&l);
	return r;
}

static int
update(struct wr *x, const char *env, const struct eb_option_set *set, size_t nset,
    const struct eb_option_set *rm, size_t nrm, struct cut_err *err)
{
	struct eb_update u = { env, NULL, NULL, set, nset, rm, nrm };
	struct eb_env out;

	/* Scaling changes the instances; a settings update may replace them. */
	reach_forget(x->reach, env);
	return eb_update_environment(x->aws, &u, &out, err);
}

static int
wr_env_update_vars(struct world_ops *w, const char *env, const struct world_var *set, size_t nset,
    const char *const *remove, size_t nremove, struct cut_err *err)
{
	struct eb_option_set *s = calloc(nset + 1, sizeof(*s)), *rm = calloc(nremove + 1, sizeof(*rm));
	int r;

	if (s == NULL || rm == NULL) {
		free(s);
		free(rm);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory updating %s.", env);
	}
	for (size_t i = 0; i < nset; i++)
		s[i] = (struct eb_option_set){ EB_NS_ENV, set[i].name, set[i].value };
	for (size_t i = 0; i < nremove; i++)
		rm[i] = (struct eb_option_set){ EB_NS_ENV, remove[i], NULL };
	r = update(impl(w), env, s, nset, rm, nremove, err);
	free(s);
	free(rm);
	return r;
}

static int
wr_env_scale(struct world_ops *w, const char *env, int min_size, int max_size, struct cut_err *err)
{
	char mn[16], mx[16];
	struct eb_option_set s[2] = { { EB_NS_ASG, "MinSize", mn }, { EB_NS_ASG, "MaxSize", mx } };

	snprintf(mn, sizeof(mn), "%d", min_size);
	snprintf(mx, sizeof(mx), "%d", max_size);
	/* Both in one update: EB checks MinSize <= MaxSize on the result, so
	 * the order of the two never makes an intermediate state invalid. */
	return update(impl(w), env, s, 2, NULL, 0, err);
}

static int
wr_env_clone(struct world_ops *w, const char *source, const char *name, const char *version,
    const struct world_var *set, size_t nset, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct eb_env src, e;
	char tmpl[160], desc[300];
	struct eb_option_set *s;
	int r;

	r = eb_describe_environment(x->aws, x->cfg.aws.application, name, &e, err);
	if (r == 0)
		return cut_err_set(err, CUT_ESTATE, "Environment %s already exists (%s); choose another name or terminate it.",
		    name, e.status);
	if (r != CUT_ENOTFOUND)
		return r;
	if ((r = eb_describe_environment(x->aws, x->cfg.aws.application, source, &src, err)) != 0)
		return r;
	snprintf(tmpl, sizeof(tmpl), "%s-cutover", name);
	snprintf(desc, sizeof(desc), "cutover: the configuration of %s for %s", source, name);
	r = eb_create_configuration_template(x->aws, x->cfg.aws.application, tmpl, src.id, desc, err);
	/* A template left by an earlier attempt that crashed is the same copy. */
	if (r != 0 && strstr(err->msg, "already exists") == NULL)
		return r;
	if ((s = calloc(nset + 1, sizeof(*s))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory creating %s.", name);
	for (size_t i = 0; i < nset; i++)
		s[i] = (struct eb_option_set){ EB_NS_ENV, set[i].name, set[i].value };
	struct eb_create cr = {
		.application = x->cfg.aws.application,
		.env_name = name,
		.cname_prefix = name,
		.template_name = tmpl,
		.version_label = version,
		.tier_name = src.tier_name[0] ? src.tier_name : NULL,
		.description = desc,
		.set = s,
		.nset = nset,
	};
	cut_err_clear(err);
	reach_forget(x->reach, name);
	r = eb_create_environment(x->aws, &cr, &e, err);
	free(s);
	return r;
}

static int
wr_env_template_delete(struct world_ops *w, const char *name, struct cut_err *err)
{
	struct wr *x = impl(w);
	char tmpl[160];

	snprintf(tmpl, sizeof(tmpl), "%s-cutover", name);
	return eb_delete_configuration_template(x->aws, x->cfg.aws.application, tmpl, err);
}

static int
wr_env_terminate(struct world_ops *w, const char *env, struct cut_err *err)
{
	struct eb_env out;

	reach_forget(impl(w)->reach, env);
	return eb_terminate_environment(impl(w)->aws, env, 1, &out, err);
}

/* ---- RDS ------------------------------------------------------------------------------ */

static int
wr_db_describe(struct world_ops *w, const char *id, struct world_db *out, struct cut_err *err)
{
	struct rds_instance i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = rds_describe_db_instance(impl(w)->aws, id, &i, err)) != 0)
		return r;
	if ((r = copy(out->id, sizeof(out->id), i.id, "DB instance id", err)) != 0 ||
	    (r = copy(out->status, sizeof(out->status), i.status, "DB status", err)) != 0 ||
	    (r = copy(out->klass, sizeof(out->klass), i.klass, "DB instance class", err)) != 0 ||
	    (r = copy(out->dbname, sizeof(out->dbname), i.db_name, "DB name", err)) != 0 ||
	    (r = copy(out->endpoint, sizeof(out->endpoint), i.address, "DB endpoint", err)) != 0 ||
	    (r = copy(out->replica_source, sizeof(out->replica_source), i.replica_source,
	    "replica source", err)) != 0 ||
	    (r = copy(out->replication, sizeof(out->replication), i.replication,
	    "replication status", err)) != 0)
		return r;
	out->port = i.port;
	out->backup_retention = i.backup_retention;
	return 0;
}

static int
code_is(struct wr *x, const char *code)
{
	const char *c = aws_client_last_code(x->aws);
	return c != NULL && strcmp(c, code) == 0;
}

static int
wr_snapshot_create(struct world_ops *w, const char *db_id, const char *snap_id, struct cut_err *err)
{
	struct rds_snapshot s;
	int r = rds_create_db_snapshot(impl(w)->aws, snap_id, db_id, &s, err);

	if (r != 0 && code_is(impl(w), "DBSnapshotAlreadyExists"))
		r = CUT_ESTATE;
	return r;
}

static int64_t
iso_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

static int
wr_snapshot_describe(struct world_ops *w, const char *snap_id, struct world_snapshot *out, struct cut_err *err)
{
	struct rds_snapshot_list l;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	r = rds_describe_db_snapshots(impl(w)->aws, snap_id, NULL, &l, err);
	if (r != 0 && code_is(impl(w), "DBSnapshotNotFound"))
		r = CUT_ENOTFOUND;
	if (r == 0 && l.n == 0)
		r = cut_err_set(err, CUT_ENOTFOUND, "There is no snapshot %s.", snap_id);
	if (r == 0) {
		const struct rds_snapshot *s = &l.v[0];
		if ((r = copy(out->id, sizeof(out->id), s->id, "snapshot id", err)) == 0 &&
		    (r = copy(out->db_id, sizeof(out->db_id), s->instance_id, "DB instance id", err)) == 0 &&
		    (r = copy(out->status, sizeof(out->status), s->status, "snapshot status", err)) == 0) {
			out->percent = s->percent;
			out->created = iso_time(s->create_time);
		}
	}
	rds_snapshot_list_free(&l);
	return r;
}

static int
wr_db_restore(struct world_ops *w, const char *snap_id, const char *new_id, const char *klass,
    const char *like_db, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct rds_instance like, out;
	const char *sgs[RDS_MAX_SG];
	int r;

	if ((r = rds_describe_db_instance(x->aws, like_db, &like, err)) != 0)
		return r;
	for (size_t i = 0; i < like.nvpc_sg; i++)
		sgs[i] = like.vpc_sg_ids[i];
	struct rds_tag tags[] = { { "cutover:source", like_db }, { "cutover:snapshot", snap_id } };
	struct rds_restore rr = {
		.instance_id = new_id,
		.snapshot_id = snap_id,
		.instance_class = klass,
		.subnet_group = like.subnet_group[0] ? like.subnet_group : NULL,
		.parameter_group = like.parameter_group[0] ? like.parameter_group : NULL,
		.vpc_sg_ids = sgs,
		.nvpc_sg = like.nvpc_sg,
		.multi_az = like.multi_az,
		.publicly_accessible = like.publicly_accessible,
		.tags = tags,
		.ntags = 2,
	};
	r = rds_restore_db_instance_from_db_snapshot(x->aws, &rr, &out, err);
	if (r != 0 && code_is(x, "DBInstanceAlreadyExists"))
		r = CUT_ESTATE;
	return r;
}

static int
wr_db_replica_create(struct world_ops *w, const char *source_id, const char *new_id, const char *klass,
    struct cut_err *err)
{
	struct wr *x = impl(w);
	struct rds_instance src, out;
	const char *sgs[RDS_MAX_SG];
	int r;

	if ((r = rds_describe_db_instance(x->aws, source_id, &src, err)) != 0)
		return r;
	for (size_t i = 0; i < src.nvpc_sg; i++)
		sgs[i] = src.vpc_sg_ids[i];
	struct rds_tag tags[] = { { "cutover:source", source_id }, { "cutover:method", "replica" } };
	struct rds_replica rr = {
		.instance_id = new_id,
		.source_id = source_id,
		.instance_class = klass,
		.subnet_group = src.subnet_group[0] ? src.subnet_group : NULL,
		.parameter_group = src.parameter_group[0] ? src.parameter_group : NULL,
		.vpc_sg_ids = sgs,
		.nvpc_sg = src.nvpc_sg,
		.multi_az = src.multi_az,
		.publicly_accessible = src.publicly_accessible,
		.tags = tags,
		.ntags = 2,
	};
	r = rds_create_db_instance_read_replica(x->aws, &rr, &out, err);
	if (r != 0 && code_is(x, "DBInstanceAlreadyExists"))
		r = CUT_ESTATE;
	return r;
}

static int
wr_db_promote(struct world_ops *w, const char *id, struct cut_err *err)
{
	struct rds_instance out;

	return rds_promote_read_replica(impl(w)->aws, id, &out, err);
}

static int
wr_db_delete(struct world_ops *w, const char *id, const char *final_snap, struct cut_err *err)
{
	struct rds_instance out;

	return rds_delete_db_instance(impl(w)->aws, id, final_snap, &out, err);
}

/* ---- Route 53 ------------------------------------------------------------------------ */

static int
zone_id(struct wr *x, const char *zone, struct cut_err *err)
{
	struct r53_zone z;
	int r;

	if (x->zone_id[0] != '\0' && r53_name_eq(x->zone_name, zone))
		return 0;
	if ((r = r53_find_hosted_zone(x->aws, zone, &z, err)) != 0)
		return r;
	snprintf(x->zone_name, sizeof(x->zone_name), "%s", zone);
	snprintf(x->zone_id, sizeof(x->zone_id), "%s", z.id);
	return 0;
}

static int
rr_from(const struct r53_record *r, struct world_rrset *o, struct cut_err *err)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = copy(o->name, sizeof(o->name), r->name, "record name", err)) != 0 ||
	    (rc = copy(o->type, sizeof(o->type), r->type, "record type", err)) != 0)
		return rc;
	if (r->is_alias) {
		if ((rc = copy(o->alias_zone, sizeof(o->alias_zone), r->alias_zone, "alias zone", err)) != 0 ||
		    (rc = copy(o->alias_dns, sizeof(o->alias_dns), r->alias_dns, "alias target", err)) != 0)
			return rc;
		return 0;
	}
	o->ttl = r->ttl < 0 ? 0 : r->ttl;
	for (size_t i = 0; i < r->nvalues; i++) {
		size_t l = strlen(o->value);
		if ((size_t)snprintf(o->value + l, sizeof(o->value) - l, "%s%s", i ? " " : "", r->values[i]) >=
		    sizeof(o->value) - l)
			return cut_err_set(err, CUT_EPROTO, "The values of record %s are longer than cutover can hold.", r->name);
	}
	return 0;
}

static int
wr_dns_list(struct world_ops *w, const char *zone, struct world_rrset **out, size_t *n, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct r53_record_list l;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = zone_id(x, zone, err)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	if ((r = r53_list_resource_record_sets(x->aws, x->zone_id, NULL, NULL, 0, &l, err)) != 0)
		return r;
	if ((*out = calloc(l.n ? l.n : 1, sizeof(**out))) == NULL) {
		r53_record_list_free(&l);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading zone %s.", zone);
	}
	for (size_t i = 0; i < l.n && r == 0; i++)
		r = rr_from(&l.v[i], &(*out)[i], err);
	*n = l.n;
	r53_record_list_free(&l);
	if (r != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

static int
wr_dns_read(struct world_ops *w, const char *zone, const char *name, const char *type, struct world_rrset *out,
    struct cut_err *err)
{
	struct wr *x = impl(w);
	struct r53_record_list l;
	const struct r53_record *rec;
	int r;

	if ((r = zone_id(x, zone, err)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	if ((r = r53_list_resource_record_sets(x->aws, x->zone_id, name, type, 1, &l, err)) != 0)
		return r;
	rec = r53_record_find(&l, name, type);
	if (rec == NULL)
		r = cut_err_set(err, CUT_ENOTFOUND, "Zone %s has no %s record %s.", zone, type, name);
	else
		r = rr_from(rec, out, err);
	r53_record_list_free(&l);
	return r;
}

static int
wr_dns_change(struct world_ops *w, const char *zone, const struct world_dns_change *changes, size_t n,
    const char *comment, char *change_id, size_t idlen, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct r53_record *recs = calloc(n ? n : 1, sizeof(*recs));
	struct r53_change *ch = calloc(n ? n : 1, sizeof(*ch));
	char **vals = calloc(n ? n : 1, sizeof(*vals));
	struct r53_change_info info;
	int r;

	if (recs == NULL || ch == NULL || vals == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory building the DNS change.");
		goto out;
	}
	if ((r = zone_id(x, zone, err)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct world_rrset *rr = &changes[i].rr;
		struct r53_record *rec = &recs[i];
		snprintf(rec->name, sizeof(rec->name), "%s", rr->name);
		snprintf(rec->type, sizeof(rec->type), "%s", rr->type);
		rec->weight = -1;
		if (rr->alias_dns[0] != '\0') {
			rec->is_alias = 1;
			rec->ttl = -1;
			snprintf(rec->alias_zone, sizeof(rec->alias_zone), "%s", rr->alias_zone);
			snprintf(rec->alias_dns, sizeof(rec->alias_dns), "%s", rr->alias_dns);
		} else {
			/* Several values are joined by spaces, except in types
			 * whose one value holds spaces itself. */
			int split = strcmp(rr->type, "A") == 0 || strcmp(rr->type, "AAAA") == 0 ||
			    strcmp(rr->type, "NS") == 0;
			rec->ttl = rr->ttl;
			if ((vals[i] = strdup(rr->value)) == NULL) {
				r = cut_err_set(err, CUT_ENOMEM, "Out of memory building the DNS change.");
				goto out;
			}
			rec->values = calloc(64, sizeof(char *));
			if (rec->values == NULL) {
				r = cut_err_set(err, CUT_ENOMEM, "Out of memory building the DNS change.");
				goto out;
			}
			if (split) {
				char *save = NULL;
				for (char *t = strtok_r(vals[i], " ", &save); t && rec->nvalues < 64; t = strtok_r(NULL, " ", &save))
					rec->values[rec->nvalues++] = t;
			} else
				rec->values[rec->nvalues++] = vals[i];
		}
		ch[i].action = changes[i].action == WORLD_DNS_DELETE ? "DELETE" : "UPSERT";
		ch[i].rec = rec;
	}
	if ((r = r53_change_resource_record_sets(x->aws, x->zone_id, comment, ch, n, &info, err)) == 0)
		r = copy(change_id, idlen, info.id, "change id", err);
out:
	for (size_t i = 0; recs != NULL && vals != NULL && i < n; i++) {
		free(recs[i].values);
		free(vals[i]);
	}
	free(recs);
	free(ch);
	free(vals);
	return r;
}

/* The lease (world/ops.h): the TXT record WORLD_LEASE_LABEL.<zone>, one
 * quoted string. */
static void
lease_name(const char *zone, char *out, size_t len)
{
	snprintf(out, len, "%s.%s", WORLD_LEASE_LABEL, zone);
}

static int
wr_lease_read(struct world_ops *w, const char *zone, char *value, size_t len, struct cut_err *err)
{
	struct wr *x = impl(w);
	struct r53_record_list l;
	const struct r53_record *rec;
	char name[300];
	const char *v;
	size_t n;
	int r;

	lease_name(zone, name, sizeof(name));
	if ((r = zone_id(x, zone, err)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	if ((r = r53_list_resource_record_sets(x->aws, x->zone_id, name, "TXT", 1, &l, err)) != 0)
		return r;
	rec = r53_record_find(&l, name, "TXT");
	if (rec == NULL || rec->nvalues == 0) {
		r53_record_list_free(&l);
		return cut_err_set(err, CUT_ENOTFOUND, "Nobody holds the lease %s.", name);
	}
	/* Route 53 gives a TXT value with its quotes: "text". */
	v = rec->values[0];
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n >= len)
		r = cut_err_set(err, CUT_EPROTO, "The lease record %s holds %zu bytes, more than "
		    "cutover ever writes; look at it in the Route 53 console.", name, n);
	else {
		memcpy(value, v, n);
		value[n] = '\0';
	}
	r53_record_list_free(&l);
	return r;
}

/* One batch of lease changes: acts[i] with the string vals[i]. */
static int
lease_batch(struct wr *x, const char *zone, const char *const *acts, const char *const *vals,
    size_t n, struct cut_err *err)
{
	struct r53_record rec[2];
	struct r53_change ch[2];
	struct r53_change_info info;
	char quoted[2][WORLD_LEASE_MAX + 2];
	char *pv[2];
	size_t i;
	int r;

	if ((r = zone_id(x, zone, err)) != 0)
		return r;
	memset(rec, 0, sizeof(rec));
	for (i = 0; i < n && i < 2; i++) {
		lease_name(zone, rec[i].name, sizeof(rec[i].name));
		snprintf(rec[i].type, sizeof(rec[i].type), "TXT");
		snprintf(quoted[i], sizeof(quoted[i]), "\"%s\"", vals[i]);
		pv[i] = quoted[i];
		rec[i].values = &pv[i];
		rec[i].nvalues = 1;
		rec[i].weight = -1;
		rec[i].ttl = 60;
		ch[i].action = acts[i];
		ch[i].rec = &rec[i];
	}
	return r53_change_resource_record_sets(x->aws, x->zone_id, "cutover lease", ch, i, &info,
	    err);
}

static int
wr_lease_take(struct world_ops *w, const char *zone, const char *value, const char *replace,
    struct cut_err *err)
{
	struct wr *x = impl(w);
	const char *acts[2], *vals[2];
	size_t n = 0;
	int r;

	if (replace != NULL) {
		acts[n] = "DELETE";
		vals[n++] = replace;
	}
	acts[n] = "CREATE";
	vals[n++] = value;
	r = lease_batch(x, zone, acts, vals, n, err);
	/* InvalidChangeBatch is Route 53 saying the record exists (or no longer
	 * holds `replace`): someone else's lease, nothing changed. */
	if (r != 0 && strcmp(aws_client_last_code(x->aws), "InvalidChangeBatch") == 0)
		r = cut_err_set(err, CUT_ESTATE, "Someone else holds the lease %s.%s.",
		    WORLD_LEASE_LABEL, zone);
	return r;
}

static int
wr_lease_release(struct world_ops *w, const char *zone, const char *value, struct cut_err *err)
{
	struct wr *x = impl(w);
	const char *acts[1] = { "DELETE" }, *vals[1] = { value };
	int r = lease_batch(x, zone, acts, vals, 1, err);

	if (r != 0 && strcmp(aws_client_last_code(x->aws), "InvalidChangeBatch") == 0)
		r = cut_err_set(err, CUT_ENOTFOUND, "The lease %s.%s no longer holds this run's "
		    "value, so it was left alone.", WORLD_LEASE_LABEL, zone);
	return r;
}

static int
wr_dns_change_status(struct world_ops *w, const char *change_id, char *status, size_t len, struct cut_err *err)
{
	struct r53_change_info info;
	int r;

	if ((r = r53_get_change(impl(w)->aws, change_id, &info, err)) != 0)
		return r;
	return copy(status, len, info.status, "change status", err);
}

/* ---- open/close ------------------------------------------------------------------------ */

static void
wr_close(struct world_ops *w)
{
	struct wr *x;

	if (w == NULL)
		return;
	x = impl(w);
	wr_follow_stop(x);
	{
		struct cut_err e;
		/* Connections, port 22, keys; a rule left open is named. */
		if (reach_close(x->reach, &e) != 0)
			fprintf(stderr, "cutover: %s\n", e.msg);
	}
	aws_client_free(x->aws);
	free(x);
}

#define SETN(f, v) do { \
		if ((r = copy(names->f, sizeof(names->f), (v), #f, err)) != 0) \
			return r; \
	} while (0)

static int
fill_names(struct wr *x, struct run_names *names, struct cut_err *err)
{
	const struct cfg *c = &x->cfg;
	struct wlive lv;
	int r;

	if ((r = wlive_read(x->aws, c, &lv, err)) != 0)
		return r;
	SETN(app, c->aws.application);
	SETN(live_web, lv.live_web);
	SETN(new_web, lv.new_web);
	SETN(live_ses, lv.live_ses);
	SETN(new_ses, lv.new_ses);
	SETN(live_db, lv.live_db);
	SETN(new_db, c->db.new_id);
	SETN(new_db_class, c->db.klass);
	SETN(db_name, c->db.name);
	SETN(db_method, c->db.method);
	/* "" for the names the cutover makes up (runbook/names.h). */
	SETN(snapshot, c->db.snapshot);
	SETN(version, c->app.version[0] ? c->app.version : lv.new_web_found ? lv.new_web_version : lv.live_web_version);
	if (c->db.prep[0] && strchr(c->db.prep, '.') == NULL) {
		struct rds_instance pi;
		if ((r = rds_describe_db_instance(x->aws, c->db.prep, &pi, err)) != 0)
			return r == CUT_ENOTFOUND ? cut_err_set(err, CUT_ECONFIG, "%s: [database] prep names %s, which is no "
			    "RDS instance of this account and region; fix it.", c->path, c->db.prep) : r;
		SETN(prep_db_host, pi.address);
	} else
		SETN(prep_db_host, c->db.prep[0] ? c->db.prep : lv.new_web_rds_host);
	SETN(prep_db_name, lv.new_web_db_name[0] ? lv.new_web_db_name : c->db.name);
	snprintf(names->zone, sizeof(names->zone), "%.254s.", c->dns.zone);
	SETN(apex, lv.apex);
	SETN(www, lv.www);
	SETN(ses, lv.ses);
	SETN(site_host, c->dns.zone);
	SETN(test_env, c->rehearse.env);
	SETN(test_db, c->rehearse.db);
	SETN(test_snapshot, c->rehearse.snapshot);
	SETN(test_db_class, c->rehearse.klass[0] ? c->rehearse.klass : c->db.klass);
	/* Tuning, not part of the world: the engine's defaults (60 s quiet,
	 * 15 min deadline) unless the operator (or a test) asks otherwise. */
	names->tail_interval = c->dns.tail_interval;
	names->tail_deadline = c->dns.tail_deadline > 0 ? c->dns.tail_deadline : -1;
	if (getenv("CUTOVER_QUIET_SECONDS") != NULL)
		names->quiet_seconds = atoi(getenv("CUTOVER_QUIET_SECONDS"));
	if (getenv("CUTOVER_QUIET_DEADLINE") != NULL)
		names->quiet_deadline = atoi(getenv("CUTOVER_QUIET_DEADLINE"));
	return 0;
}

int
world_real_open(const struct cfg *cfg, struct run_names *names, struct world_ops **out, struct cut_err *err)
{
	struct wr *x = calloc(1, sizeof(*x));
	int r;

	*out = NULL;
	if (x == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	x->cfg = *cfg;
	if ((r = wlive_client(&x->cfg, &x->aws, err)) != 0) {
		free(x);
		return r;
	}
	if ((r = reach_open(&x->cfg, x->aws, -1, &x->reach, err)) != 0) {
		aws_client_free(x->aws);
		free(x);
		return r;
	}
	/* Instance paths come from [app] (world/config.h), never from the form of dir. */
	x->aconf.env_file = x->cfg.app.env_file;
	x->aconf.sslmode = x->cfg.db.sslmode[0] ? x->cfg.db.sslmode : NULL;
	x->aconf.sslrootcert = x->cfg.db.sslrootcert[0] ? x->cfg.db.sslrootcert : NULL;
	snprintf(x->cron_dir, sizeof(x->cron_dir), "%s", x->cfg.app.cron_state_dir);
	snprintf(x->access_log, sizeof(x->access_log), "%s", x->cfg.app.access_log);
	x->aconf.cron_state_dir = x->cron_dir;
	struct world_ops *w = &x->ops;
	w->impl = x;
	w->identity = wr_identity;
	w->env_describe = wr_env_describe;
	w->env_cnames = wr_env_cnames;
	w->env_get_vars = wr_env_get_vars;
	w->env_update_vars = wr_env_update_vars;
	w->env_scale = wr_env_scale;
	w->env_clone = wr_env_clone;
	w->env_list = wr_env_list;
	w->env_terminate = wr_env_terminate;
	w->env_template_delete = wr_env_template_delete;
	w->env_ssh_check = wr_env_ssh_check;
	w->db_describe = wr_db_describe;
	w->snapshot_create = wr_snapshot_create;
	w->snapshot_describe = wr_snapshot_describe;
	w->db_restore = wr_db_restore;
	w->db_delete = wr_db_delete;
	w->db_replica_create = wr_db_replica_create;
	w->db_promote = wr_db_promote;
	w->db_replica_lsn = wr_db_replica_lsn;
	w->dns_read = wr_dns_read;
	w->dns_list = wr_dns_list;
	w->dns_change = wr_dns_change;
	w->dns_change_status = wr_dns_change_status;
	w->lease_read = wr_lease_read;
	w->lease_take = wr_lease_take;
	w->lease_release = wr_lease_release;
	w->manage_run = wr_manage_run;
	w->unreg_user_count = wr_unreg_user_count;
	w->request_rate = wr_request_rate;
	w->cron_pause = wr_cron_pause;
	w->cron_resume = wr_cron_resume;
	w->cron_paused = wr_cron_paused;
	w->cron_paused_many = wr_cron_paused_many;
	w->cron_set_many = wr_cron_set_many;
	w->blocked_email_backup = wr_blocked_email_backup;
	w->blocked_email_restore = wr_blocked_email_restore;
	w->blocked_email_count = wr_blocked_email_count;
	w->blocked_email_clear = wr_blocked_email_clear;
	w->blocked_email_merge = wr_blocked_email_merge;
	w->smoke_test = wr_smoke_test;
	w->lost_writes = wr_lost_writes;
	w->activity = wr_activity;
	w->mpserver_check = wr_mpserver_check;
	w->target_db_check = wr_target_db_check;
	w->db_read_only = wr_db_read_only;
	w->db_read_only_set = wr_db_read_only_set;
	w->db_table_stats = wr_db_table_stats;
	w->db_table_stats_many = wr_db_table_stats_many;
	w->close = wr_close;
	if (names != NULL && (r = fill_names(x, names, err)) != 0) {
		wr_close(w);
		return r;
	}
	*out = w;
	return 0;
}

int
world_ops_open(const char *config_path, struct run_names *names, struct world_ops **out, struct cut_err *err)
{
	struct cfg cfg;
	int r;

	*out = NULL;
	if ((r = cfg_load(config_path, &cfg, err)) != 0)
		return r;
	return world_real_open(&cfg, names, out, err);
}

