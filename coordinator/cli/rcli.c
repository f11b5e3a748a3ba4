/* cli/rcli.c: see cli/rcli.h. */
#include "cli/rcli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "base/sig.h"
#include "world/config.h"
#include "world/live_names.h"
#include "world/reach.h"


/* ---- parsing -------------------------------------------------------------- */

int
rcli_split_host(const char *spec, char *user, size_t ulen, char *host, size_t hlen, int *port,
    struct cut_err *err)
{
	const char *at = strrchr(spec, '@'), *h = spec, *colon;
	char *end;

	user[0] = '\0';
	*port = 22;
	if (at != NULL) {
		if ((size_t)(at - spec) >= ulen || at == spec)
			return cut_err_set(err, CUT_EINVAL, "Bad user in --host %s; write USER@HOST[:PORT].", spec);
		memcpy(user, spec, (size_t)(at - spec));
		user[at - spec] = '\0';
		h = at + 1;
	}
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (close == NULL || close == h + 1)
			return cut_err_set(err, CUT_EINVAL, "Bad address in --host %s; write [ADDRESS]:PORT for IPv6.", spec);
		if ((size_t)(close - h - 1) >= hlen)
			return cut_err_set(err, CUT_EINVAL, "Host name too long in --host %s.", spec);
		memcpy(host, h + 1, (size_t)(close - h - 1));
		host[close - h - 1] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return cut_err_set(err, CUT_EINVAL, "Bad address in --host %s; write [ADDRESS]:PORT.", spec);
	} else {
		colon = strchr(h, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return cut_err_set(err, CUT_EINVAL, "Write the IPv6 address in --host %s as [ADDRESS]:PORT.", spec);
		size_t l = colon ? (size_t)(colon - h) : strlen(h);
		if (l == 0 || l >= hlen)
			return cut_err_set(err, CUT_EINVAL, "Bad host in --host %s; write [USER@]HOST[:PORT].", spec);
		memcpy(host, h, l);
		host[l] = '\0';
	}
	if (colon != NULL) {
		errno = 0;
		long p = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 65535)
			return cut_err_set(err, CUT_EINVAL, "Bad port in --host %s; use 1 to 65535.", spec);
		*port = (int)p;
	}
	return 0;
}

enum { O_HOST = 1000, O_USER, O_IDENTITY, O_KNOWN, O_ACCEPT, O_SUDO, O_TIMEOUT, O_JSON, O_PARALLEL,
	O_APPDIR, O_ENVFILE, O_PYTHON, O_HELP, O_CONNTIMEOUT, O_ENV, O_CONFIG, O_OPENPORT, O_NOOPENPORT };

#define RCLI_TARGET_OPTS \
	{"host", required_argument, NULL, O_HOST}, \
	{"user", required_argument, NULL, O_USER}, \
	{"identity", required_argument, NULL, O_IDENTITY}, \
	{"known-hosts", required_argument, NULL, O_KNOWN}, \
	{"accept-new-host-key", no_argument, NULL, O_ACCEPT}, \
	{"sudo", no_argument, NULL, O_SUDO}, \
	{"timeout", required_argument, NULL, O_TIMEOUT}, \
	{"json", no_argument, NULL, O_JSON}, \
	{"parallel", required_argument, NULL, O_PARALLEL}, \
	{"help", no_argument, NULL, O_HELP}, \
	{"connect-timeout", required_argument, NULL, O_CONNTIMEOUT}, \
	{"env", required_argument, NULL, O_ENV}, \
	{"config", required_argument, NULL, O_CONFIG}, \
	{"open-port", no_argument, NULL, O_OPENPORT}, \
	{"no-open-port", no_argument, NULL, O_NOOPENPORT}

const struct option rcli_exec_longopts[] = {
	RCLI_TARGET_OPTS,
	{NULL, 0, NULL, 0},
};

const struct option rcli_manage_longopts[] = {
	RCLI_TARGET_OPTS,
	{"app-dir", required_argument, NULL, O_APPDIR},
	{"env-file", required_argument, NULL, O_ENVFILE},
	{"python", required_argument, NULL, O_PYTHON},
	{NULL, 0, NULL, 0},
};

/* Whether arg (an option exec refused) is one of manage's own. */
static int
manage_only(const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (const struct option *lo = rcli_manage_longopts; lo->name != NULL; lo++)
		if (lo->val >= O_APPDIR && lo->val <= O_PYTHON && n == strlen(lo->name) + 2 &&
		    strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, lo->name, n - 2) == 0)
			return 1;
	return 0;
}

int
rcli_parse(const struct cmd_entry *e, int manage, int argc, char **argv, struct rcli_opts *o)
{
	int c;
	char *end;
	double d;

	memset(o, 0, sizeof(*o));
	o->open_port = -1;
	o->hosts = calloc((size_t)argc, sizeof(char *));
	if (o->hosts == NULL)
		return cmd_usage_error(e, "out of memory");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+" RCLI_SHORTOPTS, manage ? rcli_manage_longopts : rcli_exec_longopts,
	    NULL)) != -1) {
		switch (c) {
		case O_ENV: o->env = optarg; break;
		case 'c': case O_CONFIG: o->config = optarg; break;
		case O_OPENPORT: o->open_port = 1; break;
		case O_NOOPENPORT: o->open_port = 0; break;
		case O_HOST: o->hosts[o->nhosts++] = optarg; break;
		case O_USER: o->user = optarg; break;
		case O_IDENTITY: o->identity = optarg; break;
		case O_KNOWN: o->known_hosts = optarg; break;
		case O_ACCEPT: o->accept_new = 1; break;
		case O_SUDO: o->sudo = 1; break;
		case O_JSON: o->json = 1; break;
		case O_TIMEOUT:
			errno = 0;
			d = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || d <= 0 || d > 86400 * 7)
				return cmd_usage_error(e, "--timeout takes seconds (for example 30 or 0.5), not '%s'", optarg);
			o->timeout_ms = (int64_t)(d * 1000);
			if (o->timeout_ms < 1)
				o->timeout_ms = 1;
			break;
		case O_CONNTIMEOUT:
			errno = 0;
			d = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || d <= 0 || d > 3600)
				return cmd_usage_error(e, "--connect-timeout takes seconds (for example 10), not '%s'", optarg);
			o->connect_timeout_ms = (int)(d * 1000) > 0 ? (int)(d * 1000) : 1;
			break;
		case O_PARALLEL:
			o->parallel = atoi(optarg);
			if (o->parallel < 1 || o->parallel > 1024)
				return cmd_usage_error(e, "--parallel takes a number from 1 to 1024, not '%s'", optarg);
			break;
		case O_APPDIR: case O_ENVFILE: case O_PYTHON:
			if (c == O_APPDIR) o->app_dir = optarg;
			else if (c == O_ENVFILE) o->env_file = optarg;
			else o->python = optarg;
			break;
		case O_HELP:
			cmd_print_usage(e);
			return 1;
		case ':':
			return cmd_usage_error(e, "%s needs a value", argv[optind - 1]);
		default:
			if (!manage && manage_only(argv[optind - 1]))
				return cmd_usage_error(e, "%s belongs to 'cutover manage'", argv[optind - 1]);
			if (optopt != 0 && optopt < O_HOST)
				return cmd_usage_error(e, "unknown option -%c", optopt);
			return cmd_usage_error(e, "unknown option or missing value in '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return cmd_usage_error(e, "put '--' before the %s (found '%s')", manage ? "manage.py arguments" : "program",
		    argv[optind]);
	o->rest = argv + optind;
	o->nrest = argc - optind;
	if (o->env != NULL && o->nhosts > 0)
		return cmd_usage_error(e, "give either --host or --env, not both");
	if (o->env != NULL && o->config == NULL)
		return cmd_usage_error(e, "--env needs -c FILE, the configuration file that says how to reach the instances");
	if (o->env == NULL && (o->config != NULL || o->open_port >= 0))
		return cmd_usage_error(e, "-c, --open-port and --no-open-port go with --env");
	if (o->nhosts == 0 && o->env == NULL)
		return cmd_usage_error(e, "no --host or --env given");
	if (o->nrest == 0)
		return cmd_usage_error(e, manage ? "no manage.py command given after '--'" : "no program given after '--'");
	for (size_t i = 0; i < o->nhosts; i++) {
		char u[128], h[256];
		int p;
		struct cut_err err;
		if (rcli_split_host(o->hosts[i], u, sizeof(u), h, sizeof(h), &p, &err) != 0)
			return cmd_usage_error(e, "%s", err.msg);
	}
	return 0;
}

void
rcli_opts_free(struct rcli_opts *o)
{
	free(o->hosts);
	o->hosts = NULL;
}

/* ---- output helpers --------------------------------------------------------- */

int
rcli_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3; cp = c & 0x07;
		} else
			return 0;
		if (i + k >= n)
			return 0;   /* cut inside a character */
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
json_emit(json_object *j)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len);
	/* One write per event: lines of several hosts never interleave. */
	char *line = malloc(len + 1);
	if (line != NULL) {
		memcpy(line, s, len);
		line[len] = '\n';
		(void)write_all(1, line, len + 1);
		free(line);
	}
	json_object_put(j);
}

static void
json_output(const char *host, int fd, const void *data, size_t len)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "host", json_object_new_string(host));
	json_object_object_add(j, "event", json_object_new_string("output"));
	json_object_object_add(j, "stream", json_object_new_string(fd == 2 ? "stderr" : "stdout"));
	if (rcli_utf8_valid(data, len)) {
		json_object_object_add(j, "data", json_object_new_string_len(data, (int)len));
	} else {
		char *b = malloc(4 * ((len + 2) / 3) + 1);
		if (b == NULL) {
			json_object_put(j);
			return;
		}
		int bl = EVP_EncodeBlock((unsigned char *)b, data, (int)len);
		json_object_object_add(j, "data_base64", json_object_new_string_len(b, bl));
		free(b);
	}
	json_emit(j);
}

static void
json_result(const char *host, int rc, const struct cut_err *err, const struct rexec_result *res)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "host", json_object_new_string(host));
	if (rc != 0) {
		json_object_object_add(j, "event", json_object_new_string("failed"));
		json_object_object_add(j, "code", json_object_new_string(cut_err_name(rc)));
		json_object_object_add(j, "message", json_object_new_string(err->msg));
	} else {
		json_object_object_add(j, "event", json_object_new_string("exit"));
		json_object_object_add(j, "status", res->status >= 0 ? json_object_new_int(res->status) : NULL);
		json_object_object_add(j, "signal", res->signal > 0 ? json_object_new_int(res->signal) : NULL);
		json_object_object_add(j, "duration_ms", json_object_new_int64((int64_t)res->duration_ms));
		json_object_object_add(j, "timed_out", json_object_new_boolean(res->timed_out));
		json_object_object_add(j, "error", res->error[0] ? json_object_new_string(res->error) : NULL);
	}
	json_emit(j);
}

/* ---- one host ------------------------------------------------------------------ */

struct one_ctx {
	const char *host;
	int json;
	int broken_stdout;
};

static void
one_output(void *ctx, int fd, const void *data, size_t len)
{
	struct one_ctx *o = ctx;

	if (o->json)
		json_output(o->host, fd, data, len);
	else if (write_all(fd, data, len) != 0 && fd == 1)
		o->broken_stdout = 1;
}

static int
status_of(const struct cmd_entry *e, const char *host, int rc, const struct cut_err *err,
    const struct rexec_result *res, int quiet)
{
	if (rc != 0) {
		if (!quiet)
			fprintf(stderr, "cutover %s: %s\n", e->name, err->msg);
		return RCLI_EXIT_TOOL;
	}
	if (sig_stopped()) {
		if (!quiet)
			fprintf(stderr, "cutover %s: interrupted; the command on %s was cancelled (its process group "
			    "killed).\n", e->name, host);
		return RCLI_EXIT_INTERRUPTED;
	}
	if (res->timed_out) {
		if (!quiet)
			fprintf(stderr, "cutover %s: the command on %s timed out and its process group was killed.\n",
			    e->name, host);
		return RCLI_EXIT_TIMEOUT;
	}
	if (res->error[0] != '\0') {
		if (!quiet)
			fprintf(stderr, "cutover %s: %s: %s.\n", e->name, host, res->error);
		return RCLI_EXIT_NOSTART;
	}
	if (res->signal > 0)
		return 128 + res->signal;
	return res->status >= 0 ? res->status : RCLI_EXIT_TOOL;
}

static void
fill_target(const struct rcli_opts *o, const char *spec, struct rexec_target *t, char *user, size_t ulen,
    char *host, size_t hlen)
{
	int port = 22;
	struct cut_err err;

	(void)rcli_split_host(spec, user, ulen, host, hlen, &port, &err);   /* checked in rcli_parse */
	memset(t, 0, sizeof(*t));
	t->ssh.host = host;
	t->ssh.port = port;
	t->ssh.user = user[0] ? user : o->user;
	t->ssh.identity = o->identity;
	t->ssh.known_hosts = o->known_hosts;
	t->ssh.accept_new_host_key = o->accept_new;
	t->ssh.connect_timeout_ms = o->connect_timeout_ms;
	t->sudo = o->sudo;
	t->label = spec;
}

/* Without --identity or ssh-agent, the usual key files, as ssh does. */
static const char *
default_identity(char *buf, size_t len)
{
	const char *home = getenv("HOME");
	static const char *const names[] = {"id_ed25519", "id_ecdsa"};

	if (getenv("SSH_AUTH_SOCK") != NULL || home == NULL)
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		snprintf(buf, len, "%s/.ssh/%s", home, names[i]);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/* ---- several hosts ---------------------------------------------------------------- */

struct many_out {
	const struct rcli_opts *o;
	struct rexec_host *hosts;
	int width;
	struct linebuf { char *buf; size_t len, cap; } *lines;   /* 2 per host */
};

static void
flush_line(struct many_out *m, size_t h, int fd, const char *data, size_t len)
{
	/* "label | line\n" in one write so hosts never interleave within a line. */
	size_t ll = strlen(m->hosts[h].target.label);
	size_t total = (size_t)m->width + 3 + len + 1;
	char *b = malloc(total + ll);
	if (b == NULL)
		return;
	int n = snprintf(b, total + ll, "%-*s | ", m->width, m->hosts[h].target.label);
	memcpy(b + n, data, len);
	b[n + len] = '\n';
	(void)write_all(fd, b, (size_t)n + len + 1);
	free(b);
}

/* Longest partial line held per host and stream before it is printed
 * (cut): output size must never bound memory. */
#define PREFIX_LINE_MAX (64u * 1024u)

static int
linebuf_add(struct linebuf *lb, const char *p, size_t n)
{
	if (lb->len + n > lb->cap) {
		size_t nc = (lb->len + n) * 2;
		char *nb = realloc(lb->buf, nc);
		if (nb == NULL)
			return -1;
		lb->buf = nb;
		lb->cap = nc;
	}
	memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
	return 0;
}

static void
many_output(void *ctx, size_t h, int fd, const void *data, size_t len)
{
	struct many_out *m = ctx;
	struct linebuf *lb = &m->lines[2 * h + (fd == 2)];
	const char *p = data, *nl;

	if (m->o->json) {
		json_output(m->hosts[h].target.label, fd, data, len);
		return;
	}
	while (len > 0) {
		nl = memchr(p, '\n', len);
		size_t l = nl ? (size_t)(nl - p) : len;
		if (lb->len == 0 && nl != NULL && l <= PREFIX_LINE_MAX) {
			flush_line(m, h, fd, p, l);   /* the common case: no copy */
			len -= l + 1;
			p += l + 1;
			continue;
		}
		size_t take = l < PREFIX_LINE_MAX - lb->len ? l : PREFIX_LINE_MAX - lb->len;
		if (linebuf_add(lb, p, take) != 0)
			return;
		len -= take;
		p += take;
		if (lb->len >= PREFIX_LINE_MAX || (take == l && nl != NULL)) {
			/* A line ends, or one too long to hold is cut here. */
			flush_line(m, h, fd, lb->buf, lb->len);
			lb->len = 0;
			if (take == l && nl != NULL) {
				len--;
				p++;
			}
		}
	}
}

static void
many_done(void *ctx, size_t h)
{
	struct many_out *m = ctx;
	struct rexec_host *rh = &m->hosts[h];

	for (int s = 0; s < 2; s++) {
		struct linebuf *lb = &m->lines[2 * h + s];
		if (lb->len > 0 && !m->o->json)
			flush_line(m, h, s ? 2 : 1, lb->buf, lb->len);
		lb->len = 0;
	}
	if (m->o->json)
		json_result(rh->target.label, rh->rc, &rh->err, &rh->result);
	else if (rh->rc != 0) {
		char b[1200];
		int n = snprintf(b, sizeof(b), "%-*s | cutover: %s\n", m->width, rh->target.label, rh->err.msg);
		(void)write_all(2, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
	}
}

static void
describe(const struct rexec_host *h, char *buf, size_t len)
{
	if (h->rc != 0)
		snprintf(buf, len, "failed (%s)", cut_err_name(h->rc));
	else if (h->result.timed_out)
		snprintf(buf, len, "timed out");
	else if (h->result.error[0])
		snprintf(buf, len, "not started");
	else if (h->result.signal > 0)
		snprintf(buf, len, "signal %d", h->result.signal);
	else
		snprintf(buf, len, "exit %d", h->result.status);
}

/* Runs req on hosts[0..n) (targets filled by the caller). */
static int
run_many(const struct cmd_entry *e, const struct rcli_opts *o, struct rexec_host *hosts, size_t n,
    const struct rexec_request *req)
{
	struct many_out m = { o, hosts, 0, calloc(2 * n, sizeof(struct linebuf)) };
	size_t ok = 0, reached = 0;
	int rc = 0;

	if (m.lines == NULL) {
		fprintf(stderr, "cutover %s: out of memory.\n", e->name);
		return RCLI_EXIT_TOOL;
	}
	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(hosts[i].target.label);
		if (w > m.width)
			m.width = w;
	}
	struct rexec_many_cb cb = { many_output, many_done, &m };
	if (rexec_many(hosts, n, req, o->parallel, &cb, sig_flag()) != 0) {
		fprintf(stderr, "cutover %s: could not start worker threads; lower --parallel.\n", e->name);
		rc = RCLI_EXIT_TOOL;
		goto out;
	}
	if (!o->json) {
		int w = m.width < 4 ? 4 : m.width;
		fprintf(stdout, "\n%-*s  %-22s  %s\n", w, "HOST", "STATUS", "DURATION");
	}
	for (size_t i = 0; i < n; i++) {
		struct rexec_host *h = &hosts[i];
		int st = status_of(e, h->target.label, h->rc, &h->err, &h->result, 1);
		if (h->rc == 0)
			reached++;
		if (st == 0)
			ok++;
		if (!o->json) {
			char d[64];
			describe(h, d, sizeof(d));
			fprintf(stdout, "%-*s  %-22s  %.2f s\n", m.width < 4 ? 4 : m.width, h->target.label, d,
			    (double)h->wall_ms / 1000.0);
		}
	}
	fflush(stdout);
	rc = ok == n ? 0 : reached == 0 ? RCLI_EXIT_TOOL : 1;
	if (sig_stopped()) {
		fprintf(stderr, "cutover %s: interrupted; running commands were cancelled (process groups killed).\n",
		    e->name);
		rc = RCLI_EXIT_INTERRUPTED;
	}
out:
	for (size_t i = 0; i < 2 * n; i++)
		free(m.lines[i].buf);
	free(m.lines);
	return rc;
}

/* One host: the remote program's streams and status are ours. */
static int
run_one(const struct cmd_entry *e, const struct rcli_opts *o, const struct rexec_target *t,
    const struct rexec_request *req)
{
	struct rexec_result res;
	struct cut_err err;
	struct one_ctx ctx = { t->label, o->json, 0 };
	struct rexec_io io = { one_output, &ctx, 0, sig_flag() };
	int rc;

	cut_err_clear(&err);
	memset(&res, 0, sizeof(res));
	rc = rexec_call(t, req, &io, &res, &err);
	if (o->json) {
		json_result(t->label, rc, &err, &res);
		return status_of(e, t->label, rc, &err, &res, 1);
	}
	return status_of(e, t->label, rc, &err, &res, 0);
}

static int
run_hosts(const struct cmd_entry *e, const struct rcli_opts *o, const struct rexec_request *req)
{
	struct rexec_host *hosts = calloc(o->nhosts, sizeof(*hosts));
	char (*users)[128] = calloc(o->nhosts, sizeof(*users));
	char (*names)[256] = calloc(o->nhosts, sizeof(*names));
	int rc;

	if (hosts == NULL || users == NULL || names == NULL) {
		fprintf(stderr, "cutover %s: out of memory.\n", e->name);
		rc = RCLI_EXIT_TOOL;
		goto out;
	}
	for (size_t i = 0; i < o->nhosts; i++)
		fill_target(o, o->hosts[i], &hosts[i].target, users[i], sizeof(users[i]), names[i], sizeof(names[i]));
	if (o->nhosts > 1)
		rc = run_many(e, o, hosts, o->nhosts, req);
	else
		rc = run_one(e, o, &hosts[0].target, req);
out:
	free(hosts);
	free(users);
	free(names);
	return rc;
}

/* --env: the instances of an EB environment, reached as the configuration
 * says through the one owner of instance connections (world/reach.h). */
static int
run_env(const struct cmd_entry *e, const struct rcli_opts *o, const struct rexec_request *req0)
{
	struct cfg cfg;
	struct aws_client *aws = NULL;
	struct reach *reach = NULL;
	struct cut_err err;
	struct rexec_host *hosts = NULL;
	struct rexec_request req = *req0;
	size_t n = 0;
	int rc = RCLI_EXIT_TOOL;

	if (cfg_load(o->config, &cfg, &err) != 0 || wlive_client(&cfg, &aws, &err) != 0 ||
	    reach_open(&cfg, aws, o->open_port, &reach, &err) != 0) {
		fprintf(stderr, "cutover %s: %s\n", e->name, err.msg);
		goto out;
	}
	if (req.kind == REXEC_MANAGE) {
		if (req.app_dir == NULL)
			req.app_dir = cfg.app.dir;
		if (req.env_file == NULL)
			req.env_file = cfg.app.env_file;
		if (req.python == NULL)
			req.python = cfg.app.python;
	}
	if (reach_targets(reach, o->env, &hosts, &n, &err) != 0) {
		fprintf(stderr, "cutover %s: %s\n", e->name, err.msg);
		goto out;
	}
	if (sig_stopped()) {
		fprintf(stderr, "cutover %s: interrupted before running anything.\n", e->name);
		rc = RCLI_EXIT_INTERRUPTED;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		hosts[i].target.ssh.accept_new_host_key = o->accept_new;
		hosts[i].target.ssh.connect_timeout_ms = o->connect_timeout_ms;
		if (o->sudo)
			hosts[i].target.sudo = 1;   /* --sudo adds to [app] sudo, as with --host */
	}
	if (n > 1)
		rc = run_many(e, o, hosts, n, &req);
	else
		rc = run_one(e, o, &hosts[0].target, &req);
out:
	free(hosts);
	/* Always, whatever happened above (a signal only set a flag). */
	if (reach_close(reach, &err) != 0) {
		fprintf(stderr, "cutover %s: %s\n", e->name, err.msg);
		if (rc == 0)
			rc = RCLI_EXIT_TOOL;
	}
	aws_client_free(aws);
	return rc;
}

int
rcli_run(const struct cmd_entry *e, const struct rcli_opts *o, const struct rexec_request *req)
{
	char idbuf[4096];
	struct rcli_opts oo = *o;

	sig_install();
	if (oo.env != NULL)
		return run_env(e, &oo, req);
	if (oo.identity == NULL)
		oo.identity = default_identity(idbuf, sizeof(idbuf));
	return run_hosts(e, &oo, req);
}
