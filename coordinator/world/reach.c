/* world/reach.c: see world/reach.h. */
#include "world/reach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "remote/link_cache.h"
#include "world/rules.h"

#define REACH_MAX_SESS 8

/* The session with one environment's instances: its key, the rules it
 * holds (rules.h counts them, so two environments on one security group
 * share one rule), and its instances as last seen. */
struct reach_sess {
	char env[128];
	struct fleet f;
	double found_at;             /* cut_mono_s() of f's discovery; 0: find again */
	char held[EC2_MAX_SG][32];   /* groups this session holds port 22 on */
	size_t nheld;
};

struct reach {
	const struct cfg *cfg;       /* borrowed */
	struct aws_client *aws;      /* borrowed */
	int open_port;
	char cidr[64];               /* the operator's /32, found on first need */
	struct rules *rules;
	struct lcache *lc;
	struct reach_sess sess[REACH_MAX_SESS];
	size_t nsess;
};

int
reach_open(const struct cfg *cfg, struct aws_client *aws, int open_port, struct reach **out,
    struct cut_err *err)
{
	struct reach *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (r == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	r->cfg = cfg;
	r->aws = aws;
	r->open_port = open_port >= 0 ? open_port : cfg->ssh.open_port;
	if ((rc = rules_open(aws, &r->rules, err)) != 0 || (rc = lcache_new(&r->lc, 1, err)) != 0) {
		struct cut_err e;
		(void)rules_close(r->rules, &e);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Ends session i: its connections, its rules, its key. */
static int
sess_end(struct reach *r, size_t i, struct cut_err *err)
{
	struct reach_sess *s = &r->sess[i];
	int rc = 0;

	if (r->lc != NULL)
		lcache_drop(r->lc, s->env);
	while (s->nheld > 0) {
		struct cut_err e;
		if (rules_release(r->rules, s->held[s->nheld - 1], r->cidr, &e) != 0 && rc == 0)
			rc = cut_err_set(err, e.code, "%s", e.msg);
		s->nheld--;
	}
	fleet_close(&s->f);
	r->sess[i] = r->sess[--r->nsess];
	return rc;
}

static void
sess_end_warn(struct reach *r, size_t i)
{
	struct cut_err e;

	if (sess_end(r, i, &e) != 0)
		fprintf(stderr, "cutover: %s\n", e.msg);
}

int
reach_close(struct reach *r, struct cut_err *err)
{
	struct cut_err e;
	int rc = 0;

	if (r == NULL)
		return 0;
	/* The connections first: bye to each agent while port 22 is open. */
	lcache_free(r->lc);
	r->lc = NULL;
	while (r->nsess > 0)
		if (sess_end(r, r->nsess - 1, &e) != 0 && rc == 0)
			rc = cut_err_set(err, e.code, "%s", e.msg);
	if (rules_close(r->rules, &e) != 0 && rc == 0)
		rc = cut_err_set(err, e.code, "%s", e.msg);
	free(r);
	return rc;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->id, ((const struct fleet_host *)b)->id);
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

/* Port 22 on the session's groups (when configured). */
static int
sess_open_port(struct reach *r, struct reach_sess *s, struct cut_err *err)
{
	int rc;

	if (!r->open_port)
		return 0;
	if (r->cidr[0] == '\0') {
		char ip[48];
		if ((rc = fleet_operator_ip(ip, sizeof(ip), err)) != 0)
			return rc;
		snprintf(r->cidr, sizeof(r->cidr), "%s/32", ip);
	}
	for (size_t i = 0; i < s->f.nsg; i++) {
		if ((rc = rules_acquire(r->rules, s->f.sgs[i], r->cidr, err)) != 0)
			return rc;
		snprintf(s->held[s->nheld++], sizeof(s->held[0]), "%s", s->f.sgs[i]);
	}
	return 0;
}

int
reach_env(struct reach *r, const char *env, const struct fleet **out, struct cut_err *err)
{
	struct fleet nf;
	struct reach_sess *s = NULL;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < r->nsess && s == NULL; i++)
		if (strcmp(r->sess[i].env, env) == 0)
			s = &r->sess[i];
	if (s != NULL && s->found_at > 0 && cut_mono_s() - s->found_at < REACH_FRESH_S) {
		*out = &s->f;
		return 0;
	}
	if ((rc = fleet_find(r->aws, r->cfg, env, &nf, err)) != 0) {
		if (s != NULL && (rc == CUT_ENOTFOUND || rc == CUT_ESTATE))
			sess_end_warn(r, (size_t)(s - r->sess));
		return rc;
	}
	qsort(nf.hosts, nf.n, sizeof(nf.hosts[0]), by_id);
	/* Port 22 was opened on the groups of the instances seen then. */
	if (s != NULL && r->open_port && !same_groups(&s->f, &nf)) {
		sess_end_warn(r, (size_t)(s - r->sess));
		s = NULL;
	}
	if (s == NULL) {
		/* More environments than slots: one session goes (its
		 * connections are opened again if it is used again). */
		if (r->nsess == REACH_MAX_SESS)
			sess_end_warn(r, 0);
		s = &r->sess[r->nsess];
		memset(s, 0, sizeof(*s));
		snprintf(s->env, sizeof(s->env), "%s", env);
		s->f = nf;
		r->nsess++;
		if ((rc = fleet_open(&s->f, err)) != 0 || (rc = sess_open_port(r, s, err)) != 0) {
			sess_end_warn(r, r->nsess - 1);
			return rc;
		}
	} else {
		free(s->f.hosts);
		s->f.hosts = nf.hosts;
		s->f.n = nf.n;
		memcpy(s->f.sgs, nf.sgs, sizeof(nf.sgs));
		s->f.nsg = nf.nsg;
	}
	s->found_at = cut_mono_s();
	*out = &s->f;
	return 0;
}

void
reach_forget(struct reach *r, const char *env)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsess; i++)
		if (env == NULL || strcmp(r->sess[i].env, env) == 0)
			r->sess[i].found_at = 0;
}

static struct reach_sess *
sess_of(struct reach *r, const struct fleet *f)
{
	for (size_t i = 0; i < r->nsess; i++)
		if (&r->sess[i].f == f)
			return &r->sess[i];
	return NULL;     /* not reached: f came from reach_env */
}

struct reach_key {
	struct fleet *f;
	size_t i;
};

/* Before every connection: an Instance Connect key lives 60 s. */
static int
push_key(void *arg, struct cut_err *err)
{
	struct reach_key *k = arg;

	return fleet_push_key(k->f, k->i, err);
}

/* The cache's view of env's instances; the connections to instances that
 * are gone are closed. keys/hs are the caller's (s->f.n each). */
static void
hosts_of(struct reach *r, struct reach_sess *s, struct reach_key *keys, struct lcache_host *hs)
{
	for (size_t i = 0; i < s->f.n; i++) {
		memset(&hs[i], 0, sizeof(hs[i]));
		fleet_target(&s->f, i, &hs[i].target);
		hs[i].group = s->env;
		hs[i].tag = s->f.hosts[i].id;
		keys[i].f = &s->f;
		keys[i].i = i;
		hs[i].prepare = push_key;
		hs[i].prepare_arg = &keys[i];
	}
	lcache_prune(r->lc, s->env, hs, s->f.n);
}

struct reach_op {
	const struct fleet_host *h;
	reach_fn fn;
	void *arg;
};

static int
op_fn(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err)
{
	struct reach_op *o = arg;

	return o->fn(o->arg, o->h, c, l, err);
}

int
reach_run(struct reach *r, const char *env, int all, reach_fn fn, void *arg, struct cut_err *err)
{
	const struct fleet *f;
	struct reach_sess *s;
	struct reach_key *keys;
	struct lcache_host *hs;
	int rc;

	if ((rc = reach_env(r, env, &f, err)) != 0)
		return rc;
	s = sess_of(r, f);
	keys = calloc(f->n, sizeof(*keys));
	hs = calloc(f->n, sizeof(*hs));
	if (keys == NULL || hs == NULL) {
		free(keys);
		free(hs);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	}
	hosts_of(r, s, keys, hs);
	/* Every instance: their handshakes side by side, then fn on each in
	 * order over the connections opened. */
	if (all)
		lcache_open_all(r->lc, hs, f->n);
	for (size_t i = 0; rc == 0 && i < (all ? f->n : 1); i++) {
		struct reach_op o = { &f->hosts[i], fn, arg };
		rc = lcache_run(r->lc, &hs[i], op_fn, &o, err);
	}
	/* An instance that failed may be one that left: look again next time. */
	if (rc != 0)
		s->found_at = 0;
	free(keys);
	free(hs);
	return rc;
}

int
reach_links(struct reach *r, const char *env, struct alink ***links, size_t *n, struct cut_err *err)
{
	const struct fleet *f;
	struct reach_sess *s;
	struct reach_key *keys;
	struct lcache_host *hs;
	struct alink **v;
	int rc;

	*links = NULL;
	*n = 0;
	if ((rc = reach_env(r, env, &f, err)) != 0)
		return rc;
	s = sess_of(r, f);
	keys = calloc(f->n, sizeof(*keys));
	hs = calloc(f->n, sizeof(*hs));
	v = calloc(f->n, sizeof(*v));
	if (keys == NULL || hs == NULL || v == NULL) {
		rc = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		goto out;
	}
	hosts_of(r, s, keys, hs);
	lcache_open_all(r->lc, hs, f->n);
	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		struct rexec_conn *c;
		rc = lcache_get(r->lc, &hs[i], &c, &v[i], err);
	}
out:
	free(keys);
	free(hs);
	if (rc != 0) {
		free(v);
		return rc;
	}
	*links = v;
	*n = f->n;
	return 0;
}

int
reach_targets(struct reach *r, const char *env, struct rexec_host **hosts, size_t *n, struct cut_err *err)
{
	const struct fleet *f;
	struct reach_sess *s;
	struct rexec_host *v;
	int rc;

	*hosts = NULL;
	*n = 0;
	if ((rc = reach_env(r, env, &f, err)) != 0)
		return rc;
	s = sess_of(r, f);
	if ((v = calloc(f->n, sizeof(*v))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	for (size_t i = 0; i < f->n; i++) {
		/* The pushed key is good for 60 s: push right before connecting. */
		if ((rc = fleet_push_key(&s->f, i, err)) != 0) {
			free(v);
			return rc;
		}
		fleet_target(&s->f, i, &v[i].target);
	}
	*hosts = v;
	*n = f->n;
	return 0;
}

int
reach_probe(const struct cfg *cfg, struct aws_client *aws, const char *env, struct reach_probe **out,
    size_t *n, struct cut_err *err)
{
	struct fleet f;
	char (*st)[32] = NULL;
	int r;

	*out = NULL;
	*n = 0;
	memset(&f, 0, sizeof(f));
	if ((r = fleet_find(aws, cfg, env, &f, err)) != 0)
		goto out;
	if ((st = calloc(f.n ? f.n : 1, sizeof(*st))) == NULL || (*out = calloc(f.n ? f.n : 1, sizeof(**out))) == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory listing the instances of %s.", env);
		goto out;
	}
	if ((r = fleet_reach(&f, st, err)) != 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		snprintf((*out)[i].id, sizeof((*out)[i].id), "%s", f.hosts[i].id);
		snprintf((*out)[i].addr, sizeof((*out)[i].addr), "%s", f.hosts[i].addr);
		snprintf((*out)[i].status, sizeof((*out)[i].status), "%s", st[i]);
	}
	*n = f.n;
out:
	free(st);
	fleet_close(&f);
	return r;
}
