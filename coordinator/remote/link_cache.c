/* remote/link_cache.c: see remote/link_cache.h. */
#include "remote/link_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_entry {
	char host[256], user[64], group[128], tag[64];
	int port;
	struct rexec_conn *conn;     /* NULL while closed */
	struct alink link;           /* over conn; closing it closes conn */
};

struct lcache {
	int reuse;
	struct lc_entry **v;         /* each its own allocation: lcache_get hands out &e->link */
	size_t n, cap;
	struct lcache_stats st;
};

int
lcache_new(struct lcache **out, int reuse, struct cut_err *err)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	(*out)->reuse = reuse;
	return 0;
}

static void
entry_close(struct lcache *lc, struct lc_entry *e)
{
	if (e->conn == NULL)
		return;
	alink_close(&e->link);
	e->conn = NULL;
	lc->st.open--;
}

static void
entry_remove(struct lcache *lc, size_t i)
{
	entry_close(lc, lc->v[i]);
	free(lc->v[i]);
	lc->v[i] = lc->v[--lc->n];
}

void
lcache_free(struct lcache *lc)
{
	if (lc == NULL)
		return;
	while (lc->n > 0)
		entry_remove(lc, lc->n - 1);
	free(lc->v);
	free(lc);
}

static int
port_of(const struct rexec_target *t)
{
	return t->ssh.port > 0 ? t->ssh.port : 22;
}

static const char *
str(const char *s)
{
	return s ? s : "";
}

static int
same_key(const struct lc_entry *e, const struct lcache_host *h)
{
	return strcmp(e->host, str(h->target.ssh.host)) == 0 && e->port == port_of(&h->target) &&
	    strcmp(e->user, str(h->target.ssh.user)) == 0;
}

static int
same_key_hosts(const struct lcache_host *a, const struct lcache_host *b)
{
	return strcmp(str(a->target.ssh.host), str(b->target.ssh.host)) == 0 &&
	    port_of(&a->target) == port_of(&b->target) &&
	    strcmp(str(a->target.ssh.user), str(b->target.ssh.user)) == 0;
}

static struct lc_entry *
find(struct lcache *lc, const struct lcache_host *h)
{
	for (size_t i = 0; i < lc->n; i++)
		if (same_key(lc->v[i], h))
			return lc->v[i];
	return NULL;
}

static struct lc_entry *
add(struct lcache *lc, const struct lcache_host *h)
{
	struct lc_entry *e;

	if (lc->n == lc->cap) {
		size_t nc = lc->cap ? lc->cap * 2 : 8;
		struct lc_entry **nv = realloc(lc->v, nc * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		lc->v = nv;
		lc->cap = nc;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->host, sizeof(e->host), "%s", str(h->target.ssh.host));
	snprintf(e->user, sizeof(e->user), "%s", str(h->target.ssh.user));
	e->port = port_of(&h->target);
	lc->v[lc->n++] = e;
	return e;
}

static int
probe_reply(void *arg, const msgpack_object *frame)
{
	(void)arg;
	(void)frame;
	return 0;
}

/* One small idempotent request ("df /", answered by any agent of this
 * protocol): a link that answers it is alive now. */
static int
probe(struct alink *l)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct cut_err e;
	uint64_t id = alink_new_id(l);
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	alink_pack_head(&pk, "df", id, 3);
	alink_pack_str(&pk, "path");
	alink_pack_str(&pk, "/");
	r = alink_request(l, &sb, id, probe_reply, NULL, LCACHE_PROBE_MS, &e);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

static int
entry_open(struct lcache *lc, struct lc_entry *e, const struct lcache_host *h, struct cut_err *err)
{
	const char *label = h->target.label ? h->target.label : e->host;
	int r;

	if (h->prepare != NULL && (r = h->prepare(h->prepare_arg, err)) != 0)
		return r;
	if ((r = rexec_connect(&e->conn, &h->target, err)) != 0) {
		e->conn = NULL;
		return r;
	}
	rexec_alink(e->conn, &e->link, label);
	snprintf(e->group, sizeof(e->group), "%s", str(h->group));
	snprintf(e->tag, sizeof(e->tag), "%s", str(h->tag));
	lc->st.connects++;
	lc->st.open++;
	return 0;
}

int
lcache_get(struct lcache *lc, const struct lcache_host *h, struct rexec_conn **c, struct alink **l,
    struct cut_err *err)
{
	struct lc_entry *e = find(lc, h);
	int r;

	*c = NULL;
	*l = NULL;
	if (e == NULL && (e = add(lc, h)) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	/* Another instance behind the same address: not this connection's machine. */
	if (e->conn != NULL && h->tag != NULL && strcmp(e->tag, h->tag) != 0) {
		entry_close(lc, e);
		lc->st.dropped++;
	}
	if (e->conn != NULL) {
		if (rexec_usable(e->conn) && probe(&e->link) == 0 && rexec_usable(e->conn)) {
			lc->st.reused++;
			goto ok;
		}
		/* Dead since its last use: open it again, once. */
		entry_close(lc, e);
		lc->st.reopened++;
	}
	if ((r = entry_open(lc, e, h, err)) != 0)
		return r;
ok:
	snprintf(e->group, sizeof(e->group), "%s", str(h->group));
	*c = e->conn;
	*l = &e->link;
	return 0;
}

/* One connection opened on a thread of its own: rexec_connect only (its
 * conn belongs to that thread until the join). */
struct lc_open {
	const struct lcache_host *h;
	struct rexec_conn *conn;
	int wanted, started, rc;
	pthread_t t;
	struct cut_err err;          /* dropped: the host's next use says it again */
};

static void *
open_thread(void *arg)
{
	struct lc_open *o = arg;

	if ((o->rc = rexec_connect(&o->conn, &o->h->target, &o->err)) != 0)
		o->conn = NULL;
	return NULL;
}

/* Whether hs[i] needs a connection: none open for its key and machine, and
 * no earlier host of the list has the same key. */
static int
needs_open(struct lcache *lc, const struct lcache_host *hs, size_t i)
{
	struct lc_entry *e = find(lc, &hs[i]);

	for (size_t k = 0; k < i; k++)
		if (same_key_hosts(&hs[k], &hs[i]))
			return 0;
	if (e == NULL || e->conn == NULL)
		return 1;
	return 0;
}

size_t
lcache_open_all(struct lcache *lc, const struct lcache_host *hs, size_t n)
{
	struct lc_open *v;
	size_t opened = 0, i, k, want = 0;

	if (!lc->reuse || n < 2 || (v = calloc(n, sizeof(*v))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		v[i].h = &hs[i];
		v[i].wanted = needs_open(lc, hs, i);
		want += (size_t)v[i].wanted;
	}
	if (want < 2) {
		free(v);
		return 0;   /* one handshake is no faster on a thread */
	}
	for (i = 0; i < n; i += LCACHE_OPEN_THREADS) {
		size_t end = i + LCACHE_OPEN_THREADS < n ? i + LCACHE_OPEN_THREADS : n;
		for (k = i; k < end; k++) {
			struct cut_err e;
			if (!v[k].wanted)
				continue;
			if (hs[k].prepare != NULL && hs[k].prepare(hs[k].prepare_arg, &e) != 0)
				continue;
			v[k].started = pthread_create(&v[k].t, NULL, open_thread, &v[k]) == 0;
		}
		for (k = i; k < end; k++)
			if (v[k].started)
				pthread_join(v[k].t, NULL);
	}
	for (i = 0; i < n; i++) {
		struct lc_entry *e;
		if (!v[i].started || v[i].rc != 0)
			continue;
		if ((e = find(lc, &hs[i])) == NULL && (e = add(lc, &hs[i])) == NULL) {
			rexec_close(v[i].conn);
			continue;
		}
		e->conn = v[i].conn;
		rexec_alink(e->conn, &e->link, hs[i].target.label ? hs[i].target.label : e->host);
		snprintf(e->group, sizeof(e->group), "%s", str(hs[i].group));
		snprintf(e->tag, sizeof(e->tag), "%s", str(hs[i].tag));
		lc->st.connects++;
		lc->st.open++;
		opened++;
	}
	free(v);
	return opened;
}

/* The transport's sentence, then what the operator should know: it was
 * not sent again. */
static void
lost_sentence(struct cut_err *err, const char *name)
{
	char old[sizeof(err->msg)];
	size_t n;

	snprintf(old, sizeof(old), "%s", err->msg);
	n = strlen(old);
	while (n > 0 && (old[n - 1] == '.' || old[n - 1] == ' '))
		old[--n] = '\0';
	/* Bounded so the added words always fit the message. */
	snprintf(err->msg, sizeof(err->msg), "%.850s; cutover did not send it again, so check its effect on "
	    "%.60s before running again.", old, name);
}

int
lcache_run(struct lcache *lc, const struct lcache_host *h, lcache_fn fn, void *arg, struct cut_err *err)
{
	struct rexec_conn *c;
	struct alink *l;
	struct lc_entry *e;
	int r;

	if ((r = lcache_get(lc, h, &c, &l, err)) != 0)
		return r;
	r = fn(arg, c, l, err);
	e = find(lc, h);
	if (r != 0 && !rexec_usable(c)) {
		/* Sent, and the link failed under it: the outcome is unknown and
		 * the operation may have run, so it is not sent again. */
		lc->st.lost++;
		lost_sentence(err, l->name);
		if (e != NULL)
			entry_close(lc, e);
	} else if (!lc->reuse)
		entry_close(lc, e);
	return r;
}

/* Closes the entries of group (NULL: every group) that are not in keep. */
static size_t
sweep(struct lcache *lc, const char *group, const struct lcache_host *keep, size_t n)
{
	size_t dropped = 0;

	for (size_t i = 0; i < lc->n;) {
		struct lc_entry *e = lc->v[i];
		int kept = group != NULL && strcmp(e->group, group) != 0;
		for (size_t k = 0; !kept && k < n; k++)
			kept = same_key(e, &keep[k]) && (keep[k].tag == NULL || strcmp(e->tag, keep[k].tag) == 0);
		if (kept) {
			i++;
			continue;
		}
		if (e->conn != NULL) {
			dropped++;
			lc->st.dropped++;
		}
		entry_remove(lc, i);
	}
	return dropped;
}

size_t
lcache_prune(struct lcache *lc, const char *group, const struct lcache_host *keep, size_t n)
{
	return sweep(lc, str(group), keep, n);
}

size_t
lcache_drop(struct lcache *lc, const char *group)
{
	return sweep(lc, group, NULL, 0);
}

void
lcache_get_stats(const struct lcache *lc, struct lcache_stats *out)
{
	*out = lc->st;
}
