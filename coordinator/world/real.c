/* world/real.c: see world/real.h. */
#include "world/real.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "remote/agent_ops.h"
#include "aws/client.h"
#include "safety/blocked_emails.h"
#include "safety/changes.h"
#include "aws/eb.h"
#include "world/fleet.h"
#include "remote/link_cache.h"
#include "safety/freeze.h"
#include "safety/precond.h"
#include "safety/quiet.h"
#include "aws/r53.h"
#include "aws/rds.h"
#include "remote/rexec.h"
#include "base/rowlist.h"
#include "safety/smoke.h"
#include "aws/sts.h"
#include "world/live_names.h"

#define MANAGE_TIMEOUT_MS (6LL * 3600 * 1000)   /* mpc_sync "takes a long time" */
#define SHORT_TIMEOUT_MS 60000

/* The SSH session with one environment's instances (world/fleet.h: the Instance
 * Connect key, port 22 if configured), kept for the life of the world so
 * that its connections (x->lc) can be reused; its host list is refreshed
 * on every use, so instances that went away are dropped. */
struct wr_session {
	char env[128];
	struct fleet f;
};

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
	/* One connection per instance for the life of the world (remote/link_cache.h),
	 * the environments' sessions they were opened in, and the running
	 * access-log follow of request_rate. */
	struct lcache *lc;
	struct wr_session sess[8];
	size_t nsess;
	struct wr_follow follow;
	const char *log_paths[2];
	struct aop_logcount_opts log_opts;   /* the follow's, read by its threads */
};

static struct wr *
impl(struct world_ops *w)
{
	return w->impl;
}

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
	r = eb_create_environment(x->aws, &cr, &e, err);
	free(s);
	return r;
}

static int
wr_env_terminate(struct world_ops *w, const char *env, struct cut_err *err)
{
	struct eb_env out;

	return eb_terminate_environment(impl(w)->aws, env, 1, &out, err);
}

/* ---- instances ---------------------------------------------------------------- */

typedef int (*host_fn)(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l,
    void *arg, struct cut_err *err);

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->id, ((const struct fleet_host *)b)->id);
}

/* ---- connections ----------------------------------------------------------- */

static void
follow_stop(struct wr *x)
{
	struct wr_follow *f = &x->follow;

	if (f->q == NULL && f->links == NULL)
		return;
	qrate_stop(f->q);
	for (size_t i = 0; i < f->n; i++)
		f->orig[i]->next_id = f->links[i].next_id;
	free(f->links);
	free(f->orig);
	memset(f, 0, sizeof(*f));
}

static void
session_end(struct wr *x, size_t i)
{
	struct cut_err e;

	if (x->lc != NULL)
		lcache_drop(x->lc, x->sess[i].env);
	/* Revokes the rules this session opened: a failure names the rule. */
	if (fleet_close(&x->sess[i].f, &e) != 0)
		fprintf(stderr, "cutover: %s\n", e.msg);
	x->sess[i] = x->sess[--x->nsess];
}

static int
same_groups(const struct fleet *a, const struct fleet *b)
{
	if (a->nsg != b->nsg)
		return 0;
	for (size_t i = 0; i < a->nsg; i++) {
		size_t k = 0;
		while (k < b->nsg && strcmp(a->sgs[i], b->sgs[k]) != 0)
			k++;
		if (k == b->nsg)
			return 0;
	}
	return 1;
}

/* env's session with its current instances (sorted by id, so "one
 * instance" is the same one on a rerun); connections to instances no
 * longer there are closed. */
static int
session_for(struct wr *x, const char *env, struct wr_session **out, struct cut_err *err)
{
	struct fleet nf;
	struct wr_session *s = NULL;
	size_t i;
	int r;

	*out = NULL;
	for (i = 0; i < x->nsess && s == NULL; i++)
		if (strcmp(x->sess[i].env, env) == 0)
			s = &x->sess[i];
	if ((r = fleet_find(x->aws, &x->cfg, env, &nf, err)) != 0) {
		if (s != NULL && (r == CUT_ENOTFOUND || r == CUT_ESTATE))
			session_end(x, (size_t)(s - x->sess));
		return r;
	}
	qsort(nf.hosts, nf.n, sizeof(nf.hosts[0]), by_id);
	/* Port 22 was opened on the groups of the instances seen then. */
	if (s != NULL && x->cfg.ssh.open_port && !same_groups(&s->f, &nf)) {
		session_end(x, (size_t)(s - x->sess));
		s = NULL;
	}
	if (s == NULL) {
		struct cut_err e2;
		/* More environments than slots: one session goes (its
		 * connections are opened again if it is used again). */
		if (x->nsess == sizeof(x->sess) / sizeof(x->sess[0]))
			session_end(x, 0);
		s = &x->sess[x->nsess];
		memset(s, 0, sizeof(*s));
		snprintf(s->env, sizeof(s->env), "%s", env);
		s->f = nf;
		if ((r = fleet_open(&s->f, -1, err)) != 0) {
			(void)fleet_close(&s->f, &e2);
			return r;
		}
		x->nsess++;
	} else {
		free(s->f.hosts);
		s->f.hosts = nf.hosts;
		s->f.n = nf.n;
		memcpy(s->f.sgs, nf.sgs, sizeof(nf.sgs));
		s->f.nsg = nf.nsg;
	}
	*out = s;
	return 0;
}

struct wr_key {
	struct fleet *f;
	size_t i;
};

/* Before every connection: an Instance Connect key lives 60 s. */
static int
push_key(void *arg, struct cut_err *err)
{
	struct wr_key *k = arg;

	return fleet_push_key(k->f, k->i, err);
}

static void
host_of(struct wr_session *s, size_t i, struct wr_key *k, struct lcache_host *h)
{
	memset(h, 0, sizeof(*h));
	fleet_target(&s->f, i, &h->target);
	h->group = s->env;
	h->tag = s->f.hosts[i].id;
	k->f = &s->f;
	k->i = i;
	h->prepare = push_key;
	h->prepare_arg = k;
}

/* Drops the connections to env's instances that are gone. */
static void
prune(struct wr *x, struct wr_session *s, struct wr_key *keys, struct lcache_host *hs)
{
	for (size_t i = 0; i < s->f.n; i++)
		host_of(s, i, &keys[i], &hs[i]);
	lcache_prune(x->lc, s->env, hs, s->f.n);
}

struct wr_op {
	struct wr *x;
	const struct fleet_host *h;
	host_fn fn;
	void *arg;
};

static int
op_fn(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct wr_op *o = arg;

	return o->fn(o->x, o->h, c, l, o->arg, err);
}

/* fn on each of env's instances (all) or on the one with the lowest id,
 * over the cached connection of each (opened on first use). */
static int
with_hosts(struct wr *x, const char *env, int all, host_fn fn, void *arg, struct cut_err *err)
{
	struct wr_session *s;
	struct wr_key *keys;
	struct lcache_host *hs;
	int r;

	/* The follow holds the connections on its threads. */
	follow_stop(x);
	if ((r = session_for(x, env, &s, err)) != 0)
		return r;
	keys = calloc(s->f.n, sizeof(*keys));
	hs = calloc(s->f.n, sizeof(*hs));
	if (keys == NULL || hs == NULL) {
		free(keys);
		free(hs);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	}
	prune(x, s, keys, hs);
	for (size_t i = 0; r == 0 && i < (all ? s->f.n : 1); i++) {
		struct wr_op o = { x, &s->f.hosts[i], fn, arg };
		r = lcache_run(x->lc, &hs[i], op_fn, &o, err);
	}
	free(keys);
	free(hs);
	return r;
}

static int
noop_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	(void)x; (void)h; (void)c; (void)l; (void)arg; (void)err;
	return 0;
}

static int
wr_env_ssh_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	return with_hosts(impl(w), env, 1, noop_fn, NULL, err);
}

/* Output of a remote command, kept whole up to a limit. */
struct outbuf {
	char *p;
	size_t n, cap;
};

static void
collect_out(void *ctx, int fd, const void *data, size_t len)
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
static int
run_argv(struct rexec_conn *c, const char *const *argv, const char *const *env, struct outbuf *o,
    struct rexec_result *res, int64_t timeout_ms, struct cut_err *err)
{
	struct rexec_request req = { .kind = REXEC_RUN, .argv = argv, .env = env, .timeout_ms = timeout_ms };
	struct rexec_io io = { collect_out, o, -1, NULL };

	return rexec_run(c, &req, &io, res, err);
}

/* ---- manage_run ------------------------------------------------------------------ */

const char world_real_once_sh[] =
"#!/bin/sh\n"
"# cutover-once: PYTHON manage.py ARGS at most once per token. Written by\n"
"# cutover (coordinator/world_real.c); $CUTOVER_ONCE is the token's marker\n"
"# prefix, $CUTOVER_PY the interpreter (a glob, relative to the app folder,\n"
"# or a bare name looked up in PATH).\n"
"m=$CUTOVER_ONCE\n"
"if mkdir \"$m.lock\" 2>/dev/null; then\n"
"\tpy=\n"
"\tcase $CUTOVER_PY in\n"
"\t*/*) for p in $CUTOVER_PY; do if [ -x \"$p\" ]; then py=$p; break; fi; done ;;\n"
"\t*) py=$(command -v \"$CUTOVER_PY\") ;;\n"
"\tesac\n"
"\tif [ -z \"$py\" ]; then\n"
"\t\techo \"no python matches $CUTOVER_PY in $(pwd)\" >\"$m.out\"; echo 127 >\"$m.st\"; mv \"$m.st\" \"$m.done\"\n"
"\telse\n"
"\t\t# Its own session: losing the connection must not kill a conversion.\n"
"\t\tsetsid sh -c '\"$@\" >\"$0.out\" 2>&1; echo $? >\"$0.st\"; mv \"$0.st\" \"$0.done\"' \"$m\" \"$py\" \"$@\" \\\n"
"\t\t\t</dev/null >/dev/null 2>&1 &\n"
"\tfi\n"
"fi\n"
"while [ ! -e \"$m.done\" ]; do sleep 1; done\n"
"cat \"$m.out\"\n"
"exit \"$(cat \"$m.done\")\"\n";

struct manage_arg {
	const char *command, *token;
	struct world_manage_result *out;
};

static void
safe_token(const char *token, char *out, size_t len)
{
	size_t i;

	for (i = 0; token[i] != '\0' && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)token[i]) || token[i] == '.' || token[i] == '-' ? token[i] : '_';
	out[i] = '\0';
}

static int
looks_secret(const char *line)
{
	static const char *const words[] = { "PASSWORD", "SECRET", "TOKEN", "KEY=", "KEY:", "CREDENTIAL" };
	char up[512];
	size_t i;

	for (i = 0; line[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)line[i]);
	up[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(up, words[i]) != NULL)
			return 1;
	return 0;
}

/* The last non-empty line of s, secrets withheld. */
static void
summarise(const char *s, size_t n, char *out, size_t len)
{
	size_t end = n, start;

	while (end > 0 && isspace((unsigned char)s[end - 1]))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), s + start);
	if (looks_secret(out))
		snprintf(out, len, "(last output line withheld: it may hold a secret)");
}

static int
manage_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct manage_arg *m = arg;
	struct outbuf o = { 0 };
	struct rexec_result res;
	char dir[512], tok[200], once[800], py[600], onceenv[900];
	int r;

	(void)l;
	/* 1. the wrapper, in the agent's private folder. */
	const char *setup[] = { "sh", "-c",
		"d=$HOME/.cache/cutover/once && mkdir -p \"$d\" && chmod 700 \"$d\" && "
		"printf '%s' \"$1\" >\"$d/once.sh.$$\" && chmod 700 \"$d/once.sh.$$\" && "
		"mv \"$d/once.sh.$$\" \"$d/once.sh\" && printf '%s' \"$d\"",
		"cutover-once", world_real_once_sh, NULL };
	if ((r = run_argv(c, setup, NULL, &o, &res, SHORT_TIMEOUT_MS, err)) != 0)
		goto out;
	if (res.status != 0 || o.p == NULL || o.p[0] != '/') {
		r = cut_err_set(err, CUT_EIO, "Could not store the run-once wrapper on %s (%s); check the login user's "
		    "home folder.", h->label, res.error[0] ? res.error : "no folder reported");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", o.p);
	free(o.p);
	memset(&o, 0, sizeof(o));

	/* 2. manage.py through it: the agent loads the env file and runs the
	 * wrapper in the app folder; the wrapper finds the python. */
	safe_token(m->token, tok, sizeof(tok));
	snprintf(once, sizeof(once), "%s/once.sh", dir);
	snprintf(onceenv, sizeof(onceenv), "CUTOVER_ONCE=%s/%s", dir, tok);
	snprintf(py, sizeof(py), "CUTOVER_PY=%s", x->cfg.app.python);
	const char *env[] = { onceenv, py, NULL };
	char *cmd = strdup(m->command), *save = NULL;
	const char *argv[64];
	size_t n = 0;
	if (cmd == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		goto out;
	}
	for (char *t = strtok_r(cmd, " ", &save); t != NULL && n + 1 < 64; t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	struct rexec_request req = {
		.kind = REXEC_MANAGE, .argv = argv, .env = env,
		.app_dir = x->cfg.app.dir, .env_file = x->cfg.app.env_file, .python = once,
		.timeout_ms = MANAGE_TIMEOUT_MS,
	};
	struct rexec_io io = { collect_out, &o, -1, NULL };
	r = rexec_run(c, &req, &io, &res, err);
	free(cmd);
	if (r != 0)
		goto out;
	if (res.error[0] != '\0') {
		r = cut_err_set(err, CUT_EIO, "manage.py %s could not start on %s: %s.", m->command, h->label, res.error);
		goto out;
	}
	m->out->exit_status = res.signal > 0 ? -1 : res.status;
	summarise(o.p ? o.p : "", o.n, m->out->summary, sizeof(m->out->summary));
out:
	free(o.p);
	return r;
}

static int
wr_manage_run(struct world_ops *w, const char *env, const char *command, const char *token,
    struct world_manage_result *out, struct cut_err *err)
{
	struct manage_arg m = { command, token, out };

	memset(out, 0, sizeof(*out));
	out->exit_status = -1;
	return with_hosts(impl(w), env, 0, manage_fn, &m, err);
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

static int
wr_unreg_user_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	*n = -1;
	return with_hosts(impl(w), env, 0, count_fn, n, err);
}

/* ---- data safety -------------------------------------------------------------------- */

/* Starts following env's access logs: one logcount per instance, on its
 * cached connection, counting until follow_stop(). */
static int
follow_start(struct wr *x, const char *env, struct cut_err *err)
{
	struct wr_follow *f = &x->follow;
	struct wr_session *s;
	struct wr_key *keys = NULL;
	struct lcache_host *hs = NULL;
	int r;

	follow_stop(x);
	if ((r = session_for(x, env, &s, err)) != 0)
		return r;
	keys = calloc(s->f.n, sizeof(*keys));
	hs = calloc(s->f.n, sizeof(*hs));
	f->links = calloc(s->f.n, sizeof(*f->links));
	f->orig = calloc(s->f.n, sizeof(*f->orig));
	if (keys == NULL || hs == NULL || f->links == NULL || f->orig == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		goto out;
	}
	prune(x, s, keys, hs);
	for (size_t i = 0; i < s->f.n; i++) {
		struct rexec_conn *c;
		if ((r = lcache_get(x->lc, &hs[i], &c, &f->orig[i], err)) != 0)
			goto out;
		f->links[i] = *f->orig[i];
		f->n++;
	}
	x->log_paths[0] = x->access_log;
	x->log_paths[1] = NULL;
	x->log_opts = (struct aop_logcount_opts){ x->access_log[0] ? x->log_paths : NULL, NULL, 1000, 0, 0 };
	if ((r = qrate_start(f->links, f->n, &x->log_opts, &f->q, err)) != 0)
		goto out;
	snprintf(f->env, sizeof(f->env), "%s", env);
out:
	free(keys);
	free(hs);
	if (r != 0)
		follow_stop(x);
	return r;
}

/* One log follow per instance runs from the first call on, over the
 * cached connections: each call reports what the follows counted since the
 * previous one, so no request between two polls goes unseen. */
static int
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
		follow_stop(x);
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
	if ((r = run_argv(c, argv, NULL, &o, &res, SHORT_TIMEOUT_MS, err)) != 0)
		return r;
	free(o.p);
	if (res.status == 0)
		(*(int *)arg)++;
	return 0;
}

static int
wr_cron_paused(struct world_ops *w, const char *env, int *paused, struct cut_err *err)
{
	int n = 0, r = with_hosts(impl(w), env, 1, paused_fn, &n, err);

	*paused = n > 0;
	return r;
}

static int
wr_cron_pause(struct world_ops *w, const char *env, struct cut_err *err)
{
	return with_hosts(impl(w), env, 1, cron_fn, "pause", err);
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

static int
wr_cron_resume(struct world_ops *w, const char *env, struct cut_err *err)
{
	return with_hosts(impl(w), env, 1, resume_fn, "restore", err);
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

static int
wr_blocked_email_backup(struct world_ops *w, const char *env, const char *path, struct world_backup_info *out,
    struct cut_err *err)
{
	struct blocked_arg b = { path, out, NULL };

	memset(out, 0, sizeof(*out));
	return with_hosts(impl(w), env, 0, backup_fn, &b, err);
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

static int
wr_blocked_email_restore(struct world_ops *w, const char *env, const char *path, struct world_restore_info *out,
    struct cut_err *err)
{
	struct blocked_arg b = { path, NULL, out };

	memset(out, 0, sizeof(*out));
	return with_hosts(impl(w), env, 0, restore_fn, &b, err);
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

static int
wr_blocked_email_count(struct world_ops *w, const char *env, long *n, struct cut_err *err)
{
	*n = -1;
	return with_hosts(impl(w), env, 0, bcount_fn, n, err);
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

static int
wr_blocked_email_clear(struct world_ops *w, const char *env, long expect, long *deleted,
    struct cut_err *err)
{
	struct clear_arg a = { expect, 0 };
	int r;

	*deleted = 0;
	if (expect < 0)
		return cut_err_set(err, CUT_EINVAL, "No row count to clear the blocked emails against.");
	if ((r = with_hosts(impl(w), env, 0, clear_fn, &a, err)) == 0)
		*deleted = a.deleted;
	return r;
}

static int
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

static int
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
	return with_hosts(x, env, 1, smoke_fn, &s, err);
}

static int
mpc_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	int tcp_only = 0;

	(void)h; (void)c; (void)arg;
	return precond_mpserver(l, &x->aconf, NULL, &tcp_only, err);
}

static int
wr_mpserver_check(struct world_ops *w, const char *env, struct cut_err *err)
{
	return with_hosts(impl(w), env, 0, mpc_fn, NULL, err);
}

struct tdb_arg {
	struct aop_dbenv live;
	uint64_t min_free;
};

static int
tdb_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct tdb_arg *a = arg;
	struct aop_dbenv target;
	int r;

	(void)h; (void)c;
	if ((r = precond_target_db(l, &x->aconf, &a->live, &target, err)) != 0)
		return r;
	return precond_disk(l, x->cfg.app.dir, a->min_free, err);
}

/* Every instance: each one runs the app against its own env file. */
static int
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
	return with_hosts(impl(w), env, 1, tdb_fn, &a, err);
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
	return with_hosts(impl(w), env, 0, chg_fn, a, err);
}

static int
wr_lost_writes(struct world_ops *w, const char *env, int64_t since, const char *csv_path, long *rows,
    struct cut_err *err)
{
	struct chg_arg a;
	int r = changes(w, env, 0, since, csv_path, &a, err);

	*rows = r == 0 ? a.rows : -1;
	return r;
}

static int
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

static int
wr_db_read_only(struct world_ops *w, const char *env, char *value, size_t len, struct cut_err *err)
{
	struct frz_arg a = { .out = value, .len = len };

	return with_hosts(impl(w), env, 0, frz_read_fn, &a, err);
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
	return 0;
}

static int
wr_db_read_only_set(struct world_ops *w, const char *env, const char *value, struct world_freeze *out,
    struct cut_err *err)
{
	struct frz_arg a = { .value = value, .fp = out };

	memset(out, 0, sizeof(*out));
	return with_hosts(impl(w), env, 0, frz_set_fn, &a, err);
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

static int
wr_db_table_stats(struct world_ops *w, const char *env, struct world_table_stat **out, size_t *n,
    struct cut_err *err)
{
	struct frz_arg a = { 0 };
	int r = with_hosts(impl(w), env, 0, frz_stats_fn, &a, err);

	*out = r == 0 ? a.stats : NULL;
	*n = r == 0 ? a.n : 0;
	if (r != 0)
		free(a.stats);
	return r;
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
	    (r = copy(out->endpoint, sizeof(out->endpoint), i.address, "DB endpoint", err)) != 0)
		return r;
	out->port = i.port;
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
	follow_stop(x);
	/* Every agent gets its bye before the sessions revoke their access. */
	lcache_free(x->lc);
	x->lc = NULL;
	while (x->nsess > 0)
		session_end(x, x->nsess - 1);
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
	char day[16];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if ((r = wlive_read(x->aws, c, &lv, err)) != 0)
		return r;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	SETN(app, c->aws.application);
	SETN(live_web, lv.live_web);
	SETN(new_web, lv.new_web);
	SETN(live_ses, lv.live_ses);
	SETN(new_ses, lv.new_ses);
	SETN(live_db, lv.live_db);
	SETN(new_db, c->db.new_id);
	SETN(new_db_class, c->db.klass);
	SETN(db_name, c->db.name);
	if (c->db.snapshot[0])
		SETN(snapshot, c->db.snapshot);
	else
		snprintf(names->snapshot, sizeof(names->snapshot), "%.64s-cutover-%.8s", lv.live_db, day);
	snprintf(names->final_snapshot, sizeof(names->final_snapshot), "%.64s-final-%.8s", lv.live_db, day);
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
	if (c->rehearse.snapshot[0])
		SETN(test_snapshot, c->rehearse.snapshot);
	else  /* rehearse-snapshot takes it: production's data as it is today */
		snprintf(names->test_snapshot, sizeof(names->test_snapshot), "%.64s-rehearse-%.8s",
		    lv.live_db, day);
	SETN(test_db_class, c->rehearse.klass[0] ? c->rehearse.klass : c->db.klass);
	/* Tuning, not part of the world: the engine's defaults (60 s quiet,
	 * 15 min deadline) unless the operator (or a test) asks otherwise. */
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
	/* CUTOVER_SSH_REUSE=0: a connection per operation, as before the cache
	 * (for comparison; the default reuses). */
	const char *reuse = getenv("CUTOVER_SSH_REUSE");
	if ((r = lcache_new(&x->lc, reuse == NULL || strcmp(reuse, "0") != 0, err)) != 0) {
		aws_client_free(x->aws);
		free(x);
		return r;
	}
	/* In the simulation the instance paths are relative to the login
	 * folder; on EB they are absolute and the agent's defaults apply. */
	x->aconf.env_file = x->cfg.app.env_file;
	if (x->cfg.app.dir[0] != '/') {
		snprintf(x->cron_dir, sizeof(x->cron_dir), "var/lib/cutover");
		snprintf(x->access_log, sizeof(x->access_log), "var/log/nginx/access.log");
		x->aconf.cron_state_dir = x->cron_dir;
	}
	struct world_ops *w = &x->ops;
	w->impl = x;
	w->identity = wr_identity;
	w->env_describe = wr_env_describe;
	w->env_get_vars = wr_env_get_vars;
	w->env_update_vars = wr_env_update_vars;
	w->env_scale = wr_env_scale;
	w->env_clone = wr_env_clone;
	w->env_list = wr_env_list;
	w->env_terminate = wr_env_terminate;
	w->env_ssh_check = wr_env_ssh_check;
	w->db_describe = wr_db_describe;
	w->snapshot_create = wr_snapshot_create;
	w->snapshot_describe = wr_snapshot_describe;
	w->db_restore = wr_db_restore;
	w->db_delete = wr_db_delete;
	w->dns_read = wr_dns_read;
	w->dns_list = wr_dns_list;
	w->dns_change = wr_dns_change;
	w->dns_change_status = wr_dns_change_status;
	w->manage_run = wr_manage_run;
	w->unreg_user_count = wr_unreg_user_count;
	w->request_rate = wr_request_rate;
	w->cron_pause = wr_cron_pause;
	w->cron_resume = wr_cron_resume;
	w->cron_paused = wr_cron_paused;
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
