/* remote/agent_ops.c: see remote/agent_ops.h. */
#include "remote/agent_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define SQL_OUT_MAX (256u * 1024u * 1024u)   /* JSON kept from one query */
#define STDERR_KEEP 4096

/* What came back for one request. */
struct rsp {
	char *out;
	size_t outlen;
	int out_over;
	char errtxt[STDERR_KEEP];
	size_t errlen;
	int got_exit, has_status, timed_out, got_error;
	int64_t status, sig;
	char error[512];
	/* Called for frames of the operation's own type. */
	int (*data)(void *arg, const msgpack_object *f);
	void *darg;
};

static void
copy_str(const msgpack_object *m, const char *key, char *dst, size_t dstlen)
{
	size_t n = 0;
	const char *s = frame_get_str(m, key, &n);

	if (s == NULL)
		n = 0;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s ? s : "", n);
	dst[n] = '\0';
}

static int
rsp_cb(void *arg, const msgpack_object *f)
{
	struct rsp *r = arg;
	const msgpack_object *t = frame_get(f, "t");

	if (frame_str_eq(t, "out")) {
		const msgpack_object *d = frame_get(f, "data");
		uint64_t fd = 1;
		frame_get_u64(f, "fd", &fd);
		if (d == NULL || (d->type != MSGPACK_OBJECT_BIN && d->type != MSGPACK_OBJECT_STR))
			return 0;
		const char *p = d->type == MSGPACK_OBJECT_BIN ? d->via.bin.ptr : d->via.str.ptr;
		size_t n = d->type == MSGPACK_OBJECT_BIN ? d->via.bin.size : d->via.str.size;
		if (fd == 2) {
			size_t room = sizeof(r->errtxt) - 1 - r->errlen;
			if (n > room)
				n = room;
			memcpy(r->errtxt + r->errlen, p, n);
			r->errlen += n;
			r->errtxt[r->errlen] = '\0';
			return 0;
		}
		if (r->outlen + n > SQL_OUT_MAX) {
			r->out_over = 1;
			return 1;
		}
		char *np = realloc(r->out, r->outlen + n + 1);
		if (np == NULL) {
			r->out_over = 1;
			return 1;
		}
		r->out = np;
		memcpy(r->out + r->outlen, p, n);
		r->outlen += n;
		r->out[r->outlen] = '\0';
		return 0;
	}
	if (frame_str_eq(t, "exit")) {
		const msgpack_object *o;
		r->got_exit = 1;
		r->has_status = frame_get_i64(f, "status", &r->status);
		if (!frame_get_i64(f, "signal", &r->sig))
			r->sig = 0;
		o = frame_get(f, "timed_out");
		r->timed_out = o && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
		copy_str(f, "error", r->error, sizeof(r->error));
		return 0;
	}
	if (frame_str_eq(t, "error")) {
		char code[64], msg[400];
		r->got_error = 1;
		copy_str(f, "code", code, sizeof(code));
		copy_str(f, "message", msg, sizeof(msg));
		snprintf(r->error, sizeof(r->error), "%s (%s)", msg, code);
		return 0;
	}
	return r->data ? r->data(r->darg, f) : 0;
}

/* The first line of stderr, for messages. */
static const char *
first_line(struct rsp *r)
{
	char *nl = strchr(r->errtxt, '\n');

	if (nl != NULL)
		*nl = '\0';
	return r->errtxt;
}

static int
rsp_check(struct alink *l, int rc, struct rsp *r, const char *what, struct cut_err *err);

/* Sends sb (and frees it) and turns the outcome into 0 or one error naming what. */
static int
rsp_run(struct alink *l, msgpack_sbuffer *sb, uint64_t id, uint64_t timeout_ms,
    struct rsp *r, const char *what, struct cut_err *err)
{
	int rc = alink_request(l, sb, id, rsp_cb, r, timeout_ms, err);

	msgpack_sbuffer_destroy(sb);
	return rsp_check(l, rc, r, what, err);
}

/* rsp_run for a request sent with "stdin": in[0..inlen) follows it. */
static int
rsp_run_in(struct alink *l, msgpack_sbuffer *sb, uint64_t id, const char *in, size_t inlen,
    uint64_t timeout_ms, struct rsp *r, const char *what, struct cut_err *err)
{
	int rc = alink_request_in(l, sb, id, in, inlen, rsp_cb, r, timeout_ms, err);

	msgpack_sbuffer_destroy(sb);
	return rsp_check(l, rc, r, what, err);
}

/* The outcome of a request (rc from the link, r its replies) as 0 or one error. */
static int
rsp_check(struct alink *l, int rc, struct rsp *r, const char *what, struct cut_err *err)
{
	if (rc != 0)
		return cut_err_wrap(err, "%s on %s", what, l->name);
	if (r->out_over)
		return cut_err_set(err, CUT_EREMOTE, "%s on %s returned more than %u MiB; "
		    "narrow the query.", what, l->name, SQL_OUT_MAX >> 20);
	if (r->got_error)
		return cut_err_set(err, CUT_EPROTO, "The agent on %s refused %s: %s; "
		    "the agent and the coordinator are probably of different versions.",
		    l->name, what, r->error);
	if (r->error[0])
		return cut_err_set(err, CUT_EREMOTE, "%s on %s failed: %s.", what, l->name, r->error);
	if (!r->got_exit || !r->has_status)
		return cut_err_set(err, CUT_EREMOTE, "%s on %s ended without a status%s%s.",
		    what, l->name, r->sig ? " (killed by a signal)" : "", r->timed_out ? " (timed out)" : "");
	if (r->status != 0)
		return cut_err_set(err, CUT_EREMOTE, "%s on %s failed with status %lld: %s",
		    what, l->name, (long long)r->status, r->errlen ? first_line(r) : "(no message)");
	return 0;
}

static void
pk_init(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

static void
pack_kv(msgpack_packer *pk, const char *k, const char *v)
{
	alink_pack_str(pk, k);
	alink_pack_str(pk, v);
}

int
aop_sql(struct alink *l, const struct aop_conf *c, const char *sql, int write,
    const char *const *vars, json_object **out, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct rsp r = { 0 };
	uint64_t id = alink_new_id(l), tmo = c && c->sql_timeout_ms ? c->sql_timeout_ms : 600000;
	size_t nv = 0;
	int rc;

	size_t sqllen = strlen(sql);
	/* SQL bigger than a frame comfortably holds (a blocked-email restore
	 * of more than some thousands of rows) follows the request as stdin
	 * frames: psql reads it as one script, still one transaction. */
	int stream = sqllen > AOP_SQL_INLINE_MAX;

	*out = NULL;
	while (vars && vars[nv])
		nv++;
	int other = c && c->db_host && c->db_host[0];
	char port[16];

	snprintf(port, sizeof(port), "%d", other && c->db_port > 0 ? c->db_port : 0);
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "sql", id, other ? 13 : 11);
	if (other) {
		pack_kv(&pk, "host", c->db_host);
		pack_kv(&pk, "port", c->db_port > 0 ? port : "");
	}
	pack_kv(&pk, "sql", stream ? "" : sql);
	alink_pack_str(&pk, "stdin");
	if (stream) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
	pack_kv(&pk, "env_file", c ? c->env_file : NULL);
	pack_kv(&pk, "psql", c ? c->psql : NULL);
	pack_kv(&pk, "sslmode", c ? c->sslmode : NULL);
	pack_kv(&pk, "sslrootcert", c ? c->sslrootcert : NULL);
	alink_pack_str(&pk, "write");
	if (write) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
	alink_pack_str(&pk, "timeout_ms");
	msgpack_pack_uint64(&pk, tmo);
	alink_pack_str(&pk, "vars");
	msgpack_pack_map(&pk, nv / 2);
	for (size_t i = 0; i + 1 < nv; i += 2)
		pack_kv(&pk, vars[i], vars[i + 1]);
	/* A little more than the agent's own deadline, so the agent's answer
	 * (with psql's message) arrives first. */
	rc = stream ? rsp_run_in(l, &sb, id, sql, sqllen, tmo + 15000, &r, "An SQL query", err) :
	    rsp_run(l, &sb, id, tmo + 15000, &r, "An SQL query", err);
	if (rc != 0)
		goto done;
	/* Leading/trailing whitespace only; anything else is not one JSON value. */
	char *s = r.out ? r.out : "";
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	if (*s == '\0') {
		rc = cut_err_set(err, CUT_EPROTO, "An SQL query on %s printed nothing; "
		    "this is a bug in cutover's SQL.", l->name);
		goto done;
	}
	json_tokener *tok = json_tokener_new();
	enum json_tokener_error je;
	*out = json_tokener_parse_ex(tok, s, (int)strlen(s));
	je = json_tokener_get_error(tok);
	size_t used = tok->char_offset;
	json_tokener_free(tok);
	while (je == json_tokener_success && s[used] && strchr(" \n\t\r", s[used]))
		used++;
	if (je != json_tokener_success || s[used] != '\0') {
		json_object_put(*out);
		*out = NULL;
		rc = cut_err_set(err, CUT_EPROTO, "An SQL query on %s did not print one JSON value (%s); "
		    "this is a bug in cutover's SQL.", l->name,
		    je != json_tokener_success ? json_tokener_error_desc(je) : "more output followed");
	}
done:
	free(r.out);
	return rc;
}

static int
dbenv_data(void *arg, const msgpack_object *f)
{
	struct aop_dbenv *d = arg;

	if (!frame_str_eq(frame_get(f, "t"), "dbenv"))
		return 0;
	copy_str(f, "host", d->host, sizeof(d->host));
	copy_str(f, "port", d->port, sizeof(d->port));
	copy_str(f, "name", d->name, sizeof(d->name));
	copy_str(f, "user", d->user, sizeof(d->user));
	return 0;
}

int
aop_dbenv(struct alink *l, const struct aop_conf *c, struct aop_dbenv *out, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct rsp r = { .data = dbenv_data, .darg = out };

	memset(out, 0, sizeof(*out));
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "dbenv", id, 3);
	pack_kv(&pk, "env_file", c ? c->env_file : NULL);
	int rc = rsp_run(l, &sb, id, 30000, &r, "Reading the database settings", err);
	free(r.out);
	if (rc == 0 && out->host[0] == '\0')
		rc = cut_err_set(err, CUT_EPROTO, "The agent on %s sent no database settings.", l->name);
	return rc;
}

static int
http_data(void *arg, const msgpack_object *f)
{
	struct aop_http *h = arg;
	int64_t v;

	if (!frame_str_eq(frame_get(f, "t"), "http") && !frame_str_eq(frame_get(f, "t"), "reach"))
		return 0;
	h->status = frame_get_i64(f, "status", &v) ? (int)v : -1;
	copy_str(f, "reason", h->reason, sizeof(h->reason));
	copy_str(f, "location", h->location, sizeof(h->location));
	copy_str(f, "error", h->error, sizeof(h->error));
	copy_str(f, "url", h->url, sizeof(h->url));
	h->tcp_only = frame_get_i64(f, "tcp_only", &v) && v;
	frame_get_u64(f, "duration_ms", &h->duration_ms);
	const msgpack_object *b = frame_get(f, "body_head");
	if (b != NULL && b->type == MSGPACK_OBJECT_BIN) {
		h->bodylen = b->via.bin.size < sizeof(h->body) - 1 ? b->via.bin.size : sizeof(h->body) - 1;
		memcpy(h->body, b->via.bin.ptr, h->bodylen);
		h->body[h->bodylen] = '\0';
	}
	return 0;
}

/* http and reach: the same reply, the same handling. */
static int
http_like(struct alink *l, msgpack_sbuffer *sb, uint64_t id, uint64_t timeout_ms,
    struct aop_http *out, const char *what, struct cut_err *err)
{
	struct rsp r = { .data = http_data, .darg = out };
	int rc = rsp_run(l, sb, id, (timeout_ms ? timeout_ms : 10000) + 15000, &r, what, err);

	free(r.out);
	return rc;
}

int
aop_http(struct alink *l, const char *url, const char *host_header,
    const char *connect_addr, uint64_t timeout_ms, struct aop_http *out, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);

	memset(out, 0, sizeof(*out));
	out->status = -1;
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "http", id, 6);
	pack_kv(&pk, "url", url);
	pack_kv(&pk, "host_header", host_header);
	pack_kv(&pk, "connect_addr", connect_addr);
	alink_pack_str(&pk, "timeout_ms");
	msgpack_pack_uint64(&pk, timeout_ms ? timeout_ms : 10000);
	return http_like(l, &sb, id, timeout_ms, out, "An HTTP check", err);
}

int
aop_reach(struct alink *l, const struct aop_conf *c, const char *key, const char *path,
    uint64_t timeout_ms, struct aop_http *out, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);

	memset(out, 0, sizeof(*out));
	out->status = -1;
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "reach", id, 6);
	pack_kv(&pk, "env_file", c ? c->env_file : NULL);
	pack_kv(&pk, "key", key);
	pack_kv(&pk, "path", path);
	alink_pack_str(&pk, "timeout_ms");
	msgpack_pack_uint64(&pk, timeout_ms ? timeout_ms : 10000);
	return http_like(l, &sb, id, timeout_ms, out, "The reachability check", err);
}

struct df_out { uint64_t avail, total; int got; };

static int
df_data(void *arg, const msgpack_object *f)
{
	struct df_out *d = arg;

	if (frame_str_eq(frame_get(f, "t"), "df"))
		d->got = frame_get_u64(f, "avail_bytes", &d->avail) &&
		    frame_get_u64(f, "total_bytes", &d->total);
	return 0;
}

int
aop_df(struct alink *l, const char *path, uint64_t *avail, uint64_t *total, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct df_out d = { 0 };
	struct rsp r = { .data = df_data, .darg = &d };

	pk_init(&sb, &pk);
	alink_pack_head(&pk, "df", id, 3);
	pack_kv(&pk, "path", path);
	int rc = rsp_run(l, &sb, id, 30000, &r, "Reading free disk space", err);
	free(r.out);
	if (rc == 0 && !d.got)
		rc = cut_err_set(err, CUT_EPROTO, "The agent on %s sent no disk figures.", l->name);
	*avail = d.avail;
	*total = d.total;
	return rc;
}

int
aop_exists(struct alink *l, const char *path, int *exists, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct rsp r = { 0 };
	int rc;

	*exists = 0;
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "run", id, 4);
	alink_pack_str(&pk, "argv");
	msgpack_pack_array(&pk, 3);
	alink_pack_str(&pk, "test");
	alink_pack_str(&pk, "-e");
	alink_pack_str(&pk, path);
	alink_pack_str(&pk, "timeout_ms");
	msgpack_pack_uint64(&pk, 10000);
	rc = alink_request(l, &sb, id, rsp_cb, &r, 30000, err);
	msgpack_sbuffer_destroy(&sb);
	free(r.out);
	if (rc == 0 && r.got_exit && r.has_status && r.status == 1 && !r.error[0] && !r.got_error)
		return 0;   /* test's "no such file" */
	if ((rc = rsp_check(l, rc, &r, "Looking for a file", err)) != 0)
		return rc;
	*exists = 1;
	return 0;
}

static int
cron_data(void *arg, const msgpack_object *f)
{
	struct aop_crontab *t = arg;
	const msgpack_object *c;
	int64_t v;

	if (!frame_str_eq(frame_get(f, "t"), "crontab"))
		return 0;
	t->had_crontab = frame_get_i64(f, "had_crontab", &v) && v;
	t->already_paused = frame_get_i64(f, "already_paused", &v) && v;
	t->verified = frame_get_i64(f, "verified", &v) && v;
	copy_str(f, "saved_path", t->saved_path, sizeof(t->saved_path));
	c = frame_get(f, "content");
	if (c != NULL && c->type == MSGPACK_OBJECT_BIN) {
		free(t->content);
		if ((t->content = malloc(c->via.bin.size + 1)) == NULL)
			return CUT_ENOMEM;
		memcpy(t->content, c->via.bin.ptr, c->via.bin.size);
		t->content[c->via.bin.size] = '\0';
		t->len = c->via.bin.size;
	}
	return 0;
}

int
aop_cron(struct alink *l, const struct aop_conf *c, const char *action,
    const char *content, size_t len, int had_crontab, struct aop_crontab *out,
    struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct rsp r = { .data = cron_data, .darg = out };
	char what[64];

	memset(out, 0, sizeof(*out));
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "cron", id, content ? 9 : 7);
	pack_kv(&pk, "action", action);
	pack_kv(&pk, "user", c ? c->cron_user : NULL);
	pack_kv(&pk, "crontab", c ? c->crontab : NULL);
	pack_kv(&pk, "state_dir", c ? c->cron_state_dir : NULL);
	pack_kv(&pk, "env_file", NULL);
	if (content) {
		alink_pack_str(&pk, "content");
		msgpack_pack_bin(&pk, len);
		msgpack_pack_bin_body(&pk, content, len);
		alink_pack_str(&pk, "had_crontab");
		if (had_crontab) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
	}
	snprintf(what, sizeof(what), "Crontab %s", action);
	int rc = rsp_run(l, &sb, id, 90000, &r, what, err);
	free(r.out);
	if (rc != 0)
		aop_crontab_free(out);
	return rc;
}

void
aop_crontab_free(struct aop_crontab *t)
{
	free(t->content);
	t->content = NULL;
	t->len = 0;
}

struct lc_arg {
	int (*cb)(void *arg, const struct aop_count *c);
	void *arg;
	int stopped_by_cb;
};

static int
count_data(void *arg, const msgpack_object *f)
{
	struct lc_arg *a = arg;
	struct aop_count c = { 0 };
	int64_t m = 0;
	int r;

	if (!frame_str_eq(frame_get(f, "t"), "count") || a->stopped_by_cb)
		return 0;
	frame_get_u64(f, "seq", &c.seq);
	frame_get_u64(f, "elapsed_ms", &c.elapsed_ms);
	frame_get_u64(f, "interval_ms", &c.interval_ms);
	frame_get_u64(f, "requests", &c.requests);
	frame_get_u64(f, "excluded", &c.excluded);
	frame_get_u64(f, "rotations", &c.rotations);
	frame_get_i64(f, "missing", &m);
	c.missing = (int)m;
	r = a->cb(a->arg, &c);
	if (r != 0)
		a->stopped_by_cb = r;
	return r;
}

int
aop_logcount(struct alink *l, const struct aop_logcount_opts *o,
    int (*cb)(void *arg, const struct aop_count *c), void *arg, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct lc_arg a = { cb, arg, 0 };
	struct rsp r = { .data = count_data, .darg = &a };
	size_t np = 0, ne = 0;
	int rc;

	while (o->paths && o->paths[np])
		np++;
	while (o->exclude_ua && o->exclude_ua[ne])
		ne++;
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "logcount", id, 7);
	alink_pack_str(&pk, "paths");
	msgpack_pack_array(&pk, np);
	for (size_t i = 0; i < np; i++)
		alink_pack_str(&pk, o->paths[i]);
	alink_pack_str(&pk, "exclude_ua");
	msgpack_pack_array(&pk, ne);
	for (size_t i = 0; i < ne; i++)
		alink_pack_str(&pk, o->exclude_ua[i]);
	alink_pack_str(&pk, "interval_ms");
	msgpack_pack_uint64(&pk, o->interval_ms ? o->interval_ms : 5000);
	alink_pack_str(&pk, "duration_ms");
	msgpack_pack_uint64(&pk, o->duration_ms);
	alink_pack_str(&pk, "from_start");
	if (o->from_start) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
	rc = alink_request(l, &sb, id, rsp_cb, &r, 0, err);
	msgpack_sbuffer_destroy(&sb);
	free(r.out);
	if (rc != 0 && a.stopped_by_cb >= 0)
		return cut_err_wrap(err, "Following the access log on %s", l->name);
	if (a.stopped_by_cb < 0)
		return a.stopped_by_cb;
	if (a.stopped_by_cb == 1)
		return 0;    /* we cancelled it: its exit says "killed", as expected */
	if (r.got_error || r.error[0])
		return cut_err_set(err, CUT_EREMOTE, "Following the access log on %s failed: %s.",
		    l->name, r.error);
	return 0;
}

static int
once_data(void *arg, const msgpack_object *f)
{
	struct aop_once *o = arg;
	int64_t v;

	if (!frame_str_eq(frame_get(f, "t"), "once"))
		return 0;
	copy_str(f, "state", o->state, sizeof(o->state));
	if (strcmp(o->state, "waiting") == 0)
		return 0;
	o->exit_status = frame_get_i64(f, "exit_status", &v) ? (int)v : -1;
	copy_str(f, "summary", o->summary, sizeof(o->summary));
	copy_str(f, "host", o->host, sizeof(o->host));
	o->pid = frame_get_i64(f, "pid", &v) ? (long long)v : 0;
	copy_str(f, "started_at", o->started_at, sizeof(o->started_at));
	copy_str(f, "finished_at", o->finished_at, sizeof(o->finished_at));
	return 0;
}

int
aop_once(struct alink *l, const struct aop_conf *c, const char *token, const char *const *args,
    const char *app_dir, const char *python, uint64_t timeout_ms, struct aop_once *out, struct cut_err *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = alink_new_id(l);
	struct rsp r = { .data = once_data, .darg = out };
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->exit_status = -1;
	while (args[n] != NULL)
		n++;
	pk_init(&sb, &pk);
	alink_pack_head(&pk, "once", id, 10);
	pack_kv(&pk, "token", token);
	alink_pack_str(&pk, "args");
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		alink_pack_str(&pk, args[i]);
	pack_kv(&pk, "app_dir", app_dir);
	pack_kv(&pk, "python", python);
	pack_kv(&pk, "env_file", c ? c->env_file : NULL);
	pack_kv(&pk, "psql", c ? c->psql : NULL);
	pack_kv(&pk, "sslmode", c ? c->sslmode : NULL);
	pack_kv(&pk, "sslrootcert", c ? c->sslrootcert : NULL);
	rc = rsp_run(l, &sb, id, timeout_ms, &r, "A run-once manage.py", err);
	free(r.out);
	if (rc != 0)
		return rc;
	if (strcmp(out->state, "ran") != 0 && strcmp(out->state, "recorded") != 0)
		return cut_err_set(err, CUT_EPROTO, "The agent on %s ended a run-once manage.py without saying "
		    "how it went; the agent and the coordinator are probably of different versions.", l->name);
	return 0;
}
