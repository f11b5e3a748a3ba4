/* world/live.c: see world/live.h. */
#include "world/live.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/sts.h"

int
live_is_secret_name(const char *name)
{
	static const char *const words[] = { "PASSWORD", "SECRET", "KEY", "TOKEN", "CREDENTIAL",
		"PRIVATE", "PASSWD", NULL };
	char up[256];
	size_t i;

	for (i = 0; name[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(up, words[i]))
			return 1;
	return 0;
}

int
live_is_secret_value(const char *value)
{
	const char *p, *auth, *end, *at;

	if (value == NULL)
		return 0;
	/* A URL whose authority holds userinfo (postgres://u:pw@host/db, a
	 * Sentry DSN https://key@o1.ingest.sentry.io/1, redis://:pw@host):
	 * the part before '@' is a credential whatever the variable's name. */
	for (p = value; (p = strstr(p, "://")) != NULL; p += 3) {
		auth = p + 3;
		end = auth + strcspn(auth, "/?#");
		at = memchr(auth, '@', (size_t)(end - auth));
		if (at != NULL && at > auth)
			return 1;
	}
	/* libpq keyword strings ("host=x password=y") carry one as a word. */
	if (strcasestr(value, "password=") != NULL || strcasestr(value, "passwd=") != NULL)
		return 1;
	return 0;
}

const char *
live_mask(const char *name, const char *value)
{
	if (value == NULL)
		return "";
	if (live_is_secret_name(name) || live_is_secret_value(value))
		return "********";
	/* DSN is not in the name list (it would catch nothing else), but a
	 * SENTRY_DSN or DATABASE_DSN is a credential even without userinfo. */
	if (strcasestr(name, "DSN") != NULL && value[0] != '\0')
		return "********";
	return value;
}

/* Lower-cased name without a trailing dot and without the "dualstack."
 * prefix Route 53 adds to load balancer aliases. */
static void
canon(const char *in, char *out, size_t sz)
{
	size_t i, n;

	if (strncasecmp(in, "dualstack.", 10) == 0)
		in += 10;
	for (i = 0; in[i] && i < sz - 1; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
	n = strlen(out);
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

int
live_target_is_env(const char *target, const struct eb_env *e)
{
	char t[256], a[256];

	if (!target[0])
		return 0;
	canon(target, t, sizeof(t));
	if (e->cname[0]) {
		canon(e->cname, a, sizeof(a));
		if (strcmp(a, t) == 0)
			return 1;
	}
	if (e->endpoint_url[0]) {
		canon(e->endpoint_url, a, sizeof(a));
		if (strcmp(a, t) == 0)
			return 1;
	}
	return 0;
}

int
live_pick_live(const struct cfg_pair *p, const struct eb_env envs[2], const int found[2],
    const struct r53_record_list *recs, struct live_record *out, char *reason, size_t rsz)
{
	size_t i;
	int live = -2, k;

	reason[0] = '\0';
	for (i = 0; i < p->nrecords; i++) {
		const struct r53_record *r = r53_record_find(recs, p->records[i], NULL);
		struct live_record *w = &out[i];
		memset(w, 0, sizeof(*w));
		snprintf(w->name, sizeof(w->name), "%s", p->records[i]);
		w->env_idx = -1;
		if (r == NULL) {
			if (!reason[0])
				snprintf(reason, rsz,
				    "The DNS record %s (an A or CNAME record) does not exist in the zone, so the live environment of pair %s cannot be read; create it or fix records in the config file.",
				    p->records[i], p->name);
			live = -1;
			continue;
		}
		snprintf(w->type, sizeof(w->type), "%s", r->type);
		w->is_alias = r->is_alias;
		snprintf(w->target, sizeof(w->target), "%s",
		    r->is_alias ? r->alias_dns : (r->nvalues ? r->values[0] : ""));
		for (k = 0; k < 2; k++)
			if (found[k] && live_target_is_env(w->target, &envs[k]))
				w->env_idx = k;
		if (w->env_idx < 0) {
			if (!reason[0])
				snprintf(reason, rsz,
				    "The DNS record %s points at %s, which is neither %s nor %s, so pair %s has no live environment; check the record and the config file.",
				    p->records[i], w->target[0] ? w->target : "nothing", p->envs[0], p->envs[1], p->name);
			live = -1;
			continue;
		}
		if (live == -2)
			live = w->env_idx;
		else if (live >= 0 && live != w->env_idx) {
			if (!reason[0])
				snprintf(reason, rsz,
				    "The DNS records of pair %s disagree: %s points at %s but %s points at %s; finish or undo the half-done switch before going on.",
				    p->name, out[0].name, out[0].env_idx >= 0 ? p->envs[out[0].env_idx] : "?",
				    w->name, p->envs[w->env_idx]);
			live = -1;
		}
	}
	if (live == -2) {
		snprintf(reason, rsz, "Pair %s has no records configured.", p->name);
		live = -1;
	}
	return live;
}

const struct cfg_pair *
live_web_pair(const struct cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->npairs; i++)
		if (strcmp(cfg->pairs[i].name, "web") == 0)
			return &cfg->pairs[i];
	return cfg->npairs ? &cfg->pairs[0] : NULL;
}

/* Reads the zone's records once; the pair lookups share them. */
static int
read_records(struct aws_client *c, const struct cfg *cfg, struct r53_zone *zone,
    struct r53_record_list *recs, struct cut_err *err)
{
	int r;

	if ((r = r53_find_hosted_zone(c, cfg->dns.zone, zone, err)) != 0)
		return r;
	return r53_list_resource_record_sets(c, zone->id, NULL, NULL, 0, recs, err);
}

static int
describe_pair_envs(struct aws_client *c, const struct cfg *cfg, const struct cfg_pair *p,
    struct eb_env envs[2], int found[2], struct cut_err *err)
{
	const char *names[2] = { p->envs[0], p->envs[1] };
	struct eb_env_list l;
	size_t i;
	int k, r;

	if ((r = eb_describe_environments(c, cfg->aws.application, names, 2, 0, &l, err)) != 0)
		return r;
	for (k = 0; k < 2; k++) {
		found[k] = 0;
		memset(&envs[k], 0, sizeof(envs[k]));
		snprintf(envs[k].name, sizeof(envs[k].name), "%s", p->envs[k]);
		for (i = 0; i < l.n; i++)
			if (strcmp(l.v[i].name, p->envs[k]) == 0 && strcmp(l.v[i].status, "Terminated") != 0) {
				envs[k] = l.v[i];
				found[k] = 1;
			}
	}
	eb_env_list_free(&l);
	return 0;
}

int
live_live_env(struct aws_client *c, const struct cfg *cfg, const struct cfg_pair *p,
    int *live_idx, struct cut_err *err)
{
	struct r53_zone zone;
	struct r53_record_list recs;
	struct live_record out[CFG_MAX_RECORDS];
	struct eb_env envs[2];
	int found[2], r, live;
	char reason[512];

	if ((r = describe_pair_envs(c, cfg, p, envs, found, err)) != 0)
		return r;
	if ((r = read_records(c, cfg, &zone, &recs, err)) != 0)
		return r;
	live = live_pick_live(p, envs, found, &recs, out, reason, sizeof(reason));
	r53_record_list_free(&recs);
	if (live < 0)
		return cut_err_set(err, CUT_ESTATE, "%s", reason);
	*live_idx = live;
	return 0;
}

static int
find_db_by_address(const struct rds_instance_list *l, const char *host)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].address[0] && strcasecmp(l->v[i].address, host) == 0)
			return (int)i;
	return -1;
}

static int
env_var(struct aws_client *c, const struct cfg *cfg, const char *env, const char *name,
    char *out, size_t sz, struct cut_err *err)
{
	struct eb_config_settings_list l;
	const struct eb_config_settings *dep;
	const char *v;
	int r;

	out[0] = '\0';
	if ((r = eb_describe_configuration_settings(c, cfg->aws.application, env, NULL, &l, err)) != 0)
		return r;
	dep = eb_config_deployed(&l);
	v = dep ? eb_option_get(&dep->options, EB_NS_ENV, name) : NULL;
	if (v)
		snprintf(out, sz, "%s", v);
	eb_config_settings_list_free(&l);
	return 0;
}

int
live_live_db(struct aws_client *c, const struct cfg *cfg, struct rds_instance *out,
    struct cut_err *err)
{
	const struct cfg_pair *web = live_web_pair(cfg);
	struct rds_instance_list l;
	char host[256];
	int live, r, i;

	if (web == NULL)
		return cut_err_set(err, CUT_ECONFIG, "%s names no pair, so there is no live web environment.", cfg->path);
	if ((r = live_live_env(c, cfg, web, &live, err)) != 0)
		return r;
	if ((r = env_var(c, cfg, web->envs[live], "RDS_HOSTNAME", host, sizeof(host), err)) != 0)
		return r;
	if (!host[0])
		return cut_err_set(err, CUT_ESTATE,
		    "The live environment %s has no RDS_HOSTNAME setting, so the live database is unknown; check its environment properties.",
		    web->envs[live]);
	if ((r = rds_describe_db_instances(c, NULL, &l, err)) != 0)
		return r;
	i = find_db_by_address(&l, host);
	if (i < 0) {
		rds_instance_list_free(&l);
		return cut_err_set(err, CUT_ESTATE,
		    "The live environment %s uses database host %s, which is no RDS instance of this account and region; check RDS_HOSTNAME.",
		    web->envs[live], host);
	}
	*out = l.v[i];
	rds_instance_list_free(&l);
	return 0;
}

static int
read_env_details(struct aws_client *c, const struct cfg *cfg, struct live_env *we,
    struct cut_err *err)
{
	struct eb_config_settings_list l;
	const struct eb_config_settings *dep;
	struct eb_resources res;
	size_t i, cap = 0;
	const char *v;
	int r;

	we->min_size = we->max_size = -1;
	if ((r = eb_describe_configuration_settings(c, cfg->aws.application, we->env.name, NULL, &l, err)) != 0)
		return r;
	if ((dep = eb_config_deployed(&l)) != NULL) {
		for (i = 0; i < dep->options.n; i++) {
			const struct eb_option *o = &dep->options.v[i];
			struct eb_option *nv;
			if (strcmp(o->namespace_, EB_NS_ENV) != 0)
				continue;
			nv = aws_array_grow(we->env_vars.v, we->env_vars.n, &cap, sizeof(*nv));
			if (nv == NULL)
				break;
			we->env_vars.v = nv;
			nv[we->env_vars.n] = *o;
			nv[we->env_vars.n].value = o->value ? strdup(o->value) : NULL;
			we->env_vars.n++;
		}
		if ((v = eb_option_get(&dep->options, EB_NS_ENVIRONMENT, "EnvironmentType")))
			snprintf(we->env_type, sizeof(we->env_type), "%s", v);
		if ((v = eb_option_get(&dep->options, EB_NS_ASG, "MinSize")))
			we->min_size = atol(v);
		if ((v = eb_option_get(&dep->options, EB_NS_ASG, "MaxSize")))
			we->max_size = atol(v);
	}
	eb_config_settings_list_free(&l);
	if ((r = eb_describe_environment_resources(c, we->env.name, &res, err)) != 0)
		return r;
	if (res.ninstances > 0)
		r = ec2_describe_instances(c, (const char *const *)res.instance_ids, res.ninstances,
		    NULL, 0, &we->instances, err);
	eb_resources_free(&res);
	return r;
}

static void
free_env_vars(struct eb_option_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].value) {
			explicit_bzero(l->v[i].value, strlen(l->v[i].value));
			free(l->v[i].value);
		}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
live_read(struct aws_client *c, const struct cfg *cfg, struct live_world *w, struct cut_err *err)
{
	struct r53_record_list recs;
	struct rds_instance_list dbl;
	size_t i;
	int r, k;

	memset(w, 0, sizeof(*w));
	if ((r = read_records(c, cfg, &w->zone, &recs, err)) != 0)
		return r;
	for (i = 0; i < cfg->npairs; i++) {
		struct live_pair *wp = &w->pairs[w->npairs++];
		struct eb_env envs[2];
		int found[2];
		wp->cfg = &cfg->pairs[i];
		if ((r = describe_pair_envs(c, cfg, wp->cfg, envs, found, err)) != 0)
			goto fail;
		for (k = 0; k < 2; k++) {
			wp->envs[k].env = envs[k];
			wp->envs[k].found = found[k];
			if (found[k] && (r = read_env_details(c, cfg, &wp->envs[k], err)) != 0)
				goto fail;
		}
		wp->nrecords = wp->cfg->nrecords;
		wp->live = live_pick_live(wp->cfg, envs, found, &recs, wp->records, wp->live_reason,
		    sizeof(wp->live_reason));
	}
	r53_record_list_free(&recs);

	/* Databases: the live one through RDS_HOSTNAME, and the new one. */
	if ((r = rds_describe_db_instances(c, NULL, &dbl, err)) != 0)
		goto fail_nolist;
	w->ndbs = 2;
	snprintf(w->dbs[0].role, sizeof(w->dbs[0].role), "live");
	snprintf(w->dbs[1].role, sizeof(w->dbs[1].role), "new");
	{
		const struct cfg_pair *web = live_web_pair(cfg);
		struct live_pair *wp = NULL;
		for (i = 0; i < w->npairs; i++)
			if (w->pairs[i].cfg == web)
				wp = &w->pairs[i];
		if (wp == NULL || wp->live < 0) {
			snprintf(w->live_db_reason, sizeof(w->live_db_reason),
			    "The live database is unknown because the live web environment is unknown.");
		} else {
			const char *host = eb_option_get(&wp->envs[wp->live].env_vars, EB_NS_ENV, "RDS_HOSTNAME");
			int idx = host ? find_db_by_address(&dbl, host) : -1;
			if (host == NULL)
				snprintf(w->live_db_reason, sizeof(w->live_db_reason),
				    "The live environment %s has no RDS_HOSTNAME setting.", wp->envs[wp->live].env.name);
			else if (idx < 0)
				snprintf(w->live_db_reason, sizeof(w->live_db_reason),
				    "RDS_HOSTNAME of %s (%s) is no RDS instance of this account and region.",
				    wp->envs[wp->live].env.name, host);
			else {
				w->dbs[0].found = 1;
				w->dbs[0].inst = dbl.v[idx];
			}
		}
		for (i = 0; i < dbl.n; i++)
			if (strcmp(dbl.v[i].id, cfg->db.new_id) == 0) {
				w->dbs[1].found = 1;
				w->dbs[1].inst = dbl.v[i];
			}
		if (!w->dbs[1].found)
			snprintf(w->dbs[1].inst.id, sizeof(w->dbs[1].inst.id), "%s", cfg->db.new_id);
	}
	rds_instance_list_free(&dbl);
	for (i = 0; i < w->ndbs; i++) {
		struct rds_snapshot_list sl;
		const struct rds_snapshot *s;
		if (!w->dbs[i].found || (i == 1 && w->dbs[0].found &&
		    strcmp(w->dbs[0].inst.id, w->dbs[1].inst.id) == 0))
			continue;
		if ((r = rds_describe_db_snapshots(c, NULL, w->dbs[i].inst.id, &sl, err)) != 0)
			goto fail_nolist;
		if ((s = rds_latest_snapshot(&sl)) != NULL) {
			w->dbs[i].has_snapshot = 1;
			w->dbs[i].latest = *s;
		}
		rds_snapshot_list_free(&sl);
	}
	return 0;
fail:
	r53_record_list_free(&recs);
fail_nolist:
	live_free(w);
	return r;
}

void
live_free(struct live_world *w)
{
	size_t i;
	int k;

	for (i = 0; i < w->npairs; i++)
		for (k = 0; k < 2; k++) {
			ec2_instance_list_free(&w->pairs[i].envs[k].instances);
			free_env_vars(&w->pairs[i].envs[k].env_vars);
		}
	w->npairs = 0;
}

int
live_client(const struct cfg *cfg, const char *profile_flag, const char *region_flag,
    struct aws_client **out, struct cut_err *err)
{
	struct aws_client_opts o = { 0 };

	o.profile = profile_flag ? profile_flag : (cfg && cfg->aws.profile[0] ? cfg->aws.profile : NULL);
	o.region = region_flag ? region_flag : (cfg && cfg->aws.region[0] ? cfg->aws.region : NULL);
	o.assume = sts_assume_profile;   /* role profiles: AssumeRole through STS */
	return aws_client_new(&o, out, err);
}

/* ---- presentation (status) --------------------------------------------------- */

static const char *const shown_settings[] = { "MAINTENANCE_MODE", "MP_USE_DJANGO", "RDS_HOSTNAME",
	"RDS_DB_NAME", NULL };

static struct json_object *
jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static struct json_object *
env_json(const struct live_env *we, int live)
{
	struct json_object *o = json_object_new_object(), *inst = json_object_new_array(),
	    *set = json_object_new_object();
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(we->env.name));
	json_object_object_add(o, "exists", json_object_new_boolean(we->found));
	json_object_object_add(o, "live", json_object_new_boolean(live));
	if (!we->found)
		goto out;
	json_object_object_add(o, "id", jstr_or_null(we->env.id));
	json_object_object_add(o, "status", jstr_or_null(we->env.status));
	json_object_object_add(o, "health", jstr_or_null(we->env.health));
	json_object_object_add(o, "version", jstr_or_null(we->env.version));
	json_object_object_add(o, "cname", jstr_or_null(we->env.cname));
	json_object_object_add(o, "environment_type", jstr_or_null(we->env_type));
	json_object_object_add(o, "min_size", json_object_new_int64(we->min_size));
	json_object_object_add(o, "max_size", json_object_new_int64(we->max_size));
	json_object_object_add(o, "instance_count", json_object_new_int64((int64_t)we->instances.n));
	for (i = 0; i < we->instances.n; i++) {
		const struct ec2_instance *x = &we->instances.v[i];
		struct json_object *io = json_object_new_object();
		json_object_object_add(io, "id", json_object_new_string(x->id));
		json_object_object_add(io, "state", jstr_or_null(x->state));
		json_object_object_add(io, "private_ip", jstr_or_null(x->private_ip));
		json_object_object_add(io, "public_ip", jstr_or_null(x->public_ip));
		json_object_object_add(io, "availability_zone", jstr_or_null(x->az));
		json_object_array_add(inst, io);
	}
	for (i = 0; i < we->env_vars.n; i++)
		json_object_object_add(set, we->env_vars.v[i].name,
		    json_object_new_string(live_mask(we->env_vars.v[i].name, we->env_vars.v[i].value)));
out:
	json_object_object_add(o, "instances", inst);
	json_object_object_add(o, "settings", set);
	return o;
}

static struct json_object *
db_json(const struct live_db *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "role", json_object_new_string(d->role));
	json_object_object_add(o, "id", jstr_or_null(d->inst.id));
	json_object_object_add(o, "exists", json_object_new_boolean(d->found));
	if (d->found) {
		json_object_object_add(o, "status", jstr_or_null(d->inst.status));
		json_object_object_add(o, "class", jstr_or_null(d->inst.klass));
		json_object_object_add(o, "engine", jstr_or_null(d->inst.engine));
		json_object_object_add(o, "db_name", jstr_or_null(d->inst.db_name));
		json_object_object_add(o, "address", jstr_or_null(d->inst.address));
		json_object_object_add(o, "port", json_object_new_int(d->inst.port));
	}
	if (d->has_snapshot) {
		struct json_object *s = json_object_new_object();
		json_object_object_add(s, "id", json_object_new_string(d->latest.id));
		json_object_object_add(s, "status", jstr_or_null(d->latest.status));
		json_object_object_add(s, "created", jstr_or_null(d->latest.create_time));
		json_object_object_add(s, "percent", json_object_new_int(d->latest.percent));
		json_object_object_add(o, "latest_snapshot", s);
	} else {
		json_object_object_add(o, "latest_snapshot", NULL);
	}
	return o;
}

struct json_object *
live_to_json(const struct live_world *w, const struct cfg *cfg)
{
	struct json_object *o = json_object_new_object(), *pairs = json_object_new_array(),
	    *dbs = json_object_new_array(), *zone = json_object_new_object();
	size_t i, j;
	int k;

	json_object_object_add(o, "config", json_object_new_string(cfg->path));
	json_object_object_add(o, "region", json_object_new_string(cfg->aws.region));
	json_object_object_add(o, "application", json_object_new_string(cfg->aws.application));
	json_object_object_add(zone, "name", json_object_new_string(cfg->dns.zone));
	json_object_object_add(zone, "id", jstr_or_null(w->zone.id));
	json_object_object_add(o, "zone", zone);
	for (i = 0; i < w->npairs; i++) {
		const struct live_pair *wp = &w->pairs[i];
		struct json_object *po = json_object_new_object(), *envs = json_object_new_array(),
		    *recs = json_object_new_array();
		json_object_object_add(po, "name", json_object_new_string(wp->cfg->name));
		json_object_object_add(po, "live", wp->live >= 0 ? json_object_new_string(wp->cfg->envs[wp->live]) : NULL);
		if (wp->live < 0)
			json_object_object_add(po, "live_problem", json_object_new_string(wp->live_reason));
		for (k = 0; k < 2; k++)
			json_object_array_add(envs, env_json(&wp->envs[k], wp->live == k));
		for (j = 0; j < wp->nrecords; j++) {
			const struct live_record *r = &wp->records[j];
			struct json_object *ro = json_object_new_object();
			json_object_object_add(ro, "name", json_object_new_string(r->name));
			json_object_object_add(ro, "type", jstr_or_null(r->type));
			json_object_object_add(ro, "alias", json_object_new_boolean(r->is_alias));
			json_object_object_add(ro, "target", jstr_or_null(r->target));
			json_object_object_add(ro, "environment",
			    r->env_idx >= 0 ? json_object_new_string(wp->cfg->envs[r->env_idx]) : NULL);
			json_object_array_add(recs, ro);
		}
		json_object_object_add(po, "environments", envs);
		json_object_object_add(po, "records", recs);
		json_object_array_add(pairs, po);
	}
	json_object_object_add(o, "pairs", pairs);
	for (i = 0; i < w->ndbs; i++)
		json_object_array_add(dbs, db_json(&w->dbs[i]));
	json_object_object_add(o, "databases", dbs);
	if (w->live_db_reason[0])
		json_object_object_add(o, "live_database_problem", json_object_new_string(w->live_db_reason));
	return o;
}

void
live_print(FILE *f, const struct live_world *w, const struct cfg *cfg)
{
	size_t i, j;
	int k, s;

	fprintf(f, "%s: application %s in %s, zone %s (%s)\n", cfg->path, cfg->aws.application,
	    cfg->aws.region, cfg->dns.zone, w->zone.id[0] ? w->zone.id : "?");
	for (i = 0; i < w->npairs; i++) {
		const struct live_pair *wp = &w->pairs[i];
		fprintf(f, "\npair %s: live is %s\n", wp->cfg->name,
		    wp->live >= 0 ? wp->cfg->envs[wp->live] : "UNKNOWN");
		if (wp->live < 0)
			fprintf(f, "  ! %s\n", wp->live_reason);
		for (k = 0; k < 2; k++) {
			const struct live_env *we = &wp->envs[k];
			if (!we->found) {
				fprintf(f, "    %-32s does not exist\n", we->env.name);
				continue;
			}
			fprintf(f, "  %s %-32s %-5s %-10s %-7s %-16s %zu instance%s (%s, min %ld max %ld)\n",
			    wp->live == k ? "*" : " ", we->env.name, wp->live == k ? "LIVE" : "", we->env.status,
			    we->env.health, we->env.version, we->instances.n, we->instances.n == 1 ? "" : "s",
			    we->env_type[0] ? we->env_type : "?", we->min_size, we->max_size);
			for (j = 0; j < we->instances.n; j++) {
				const struct ec2_instance *x = &we->instances.v[j];
				fprintf(f, "      %-20s %-15s %-15s %s\n", x->id, x->private_ip[0] ? x->private_ip : "-",
				    x->public_ip[0] ? x->public_ip : "-", x->state);
			}
			fprintf(f, "     ");
			for (s = 0; shown_settings[s]; s++) {
				const char *v = eb_option_get(&we->env_vars, EB_NS_ENV, shown_settings[s]);
				fprintf(f, " %s=%s", shown_settings[s], v ? live_mask(shown_settings[s], v) : "(unset)");
			}
			fprintf(f, "\n");
		}
		fprintf(f, "  records:\n");
		for (j = 0; j < wp->nrecords; j++) {
			const struct live_record *r = &wp->records[j];
			fprintf(f, "    %-28s %-5s %s%s -> %s\n", r->name, r->type[0] ? r->type : "-",
			    r->is_alias ? "alias " : "", r->target[0] ? r->target : "(missing)",
			    r->env_idx >= 0 ? wp->cfg->envs[r->env_idx] : "no environment of the pair");
		}
	}
	fprintf(f, "\ndatabases:\n");
	for (i = 0; i < w->ndbs; i++) {
		const struct live_db *d = &w->dbs[i];
		if (i == 1 && w->dbs[0].found && strcmp(d->inst.id, w->dbs[0].inst.id) == 0) {
			fprintf(f, "  %-5s %s is the live database\n", d->role, d->inst.id);
			continue;
		}
		if (!d->found) {
			if (i == 0)
				fprintf(f, "  %-5s unknown: %s\n", d->role, w->live_db_reason);
			else
				fprintf(f, "  %-5s %-28s does not exist yet\n", d->role, d->inst.id);
			continue;
		}
		fprintf(f, "  %-5s %-28s %-10s %-13s %s:%d\n", d->role, d->inst.id, d->inst.status, d->inst.klass,
		    d->inst.address[0] ? d->inst.address : "-", d->inst.port);
		if (d->has_snapshot)
			fprintf(f, "        latest snapshot %s (%s, %d%%, %s)\n", d->latest.id, d->latest.status,
			    d->latest.percent, d->latest.create_time[0] ? d->latest.create_time : "in progress");
		else
			fprintf(f, "        no snapshot\n");
	}
}

int
live_show(FILE *f, const char *path, const char *profile, const char *region, int json,
    struct cut_err *err)
{
	struct cfg cfg;
	struct aws_client *c;
	struct live_world w;
	int r;

	if ((r = cfg_load(path, &cfg, err)) != 0 || (r = live_client(&cfg, profile, region, &c, err)) != 0)
		return r;
	if ((r = live_read(c, &cfg, &w, err)) != 0) {
		aws_client_free(c);
		return r;
	}
	if (json) {
		struct json_object *o = live_to_json(&w, &cfg);
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
		    (json == 2 ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY)));
		json_object_put(o);
	} else {
		live_print(f, &w, &cfg);
	}
	live_free(&w);
	aws_client_free(c);
	return 0;
}
