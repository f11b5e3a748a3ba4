/* op_http.c: "http" (one GET with a chosen Host header, for smoke tests
 * of a new environment: Cobalt's nginx answers 444 to any other Host) and
 * "reach" (does GLOBAL_MPSERVER answer from this instance? mpc_sync
 * deletes data when it does not).
 *
 * A minimal HTTP/1.1 client: plain http only (the agent is static and
 * carries no TLS), one request, Connection: close, every step under one
 * deadline, at most HTTP_HEAD_MAX bytes of response read. Names are
 * resolved with getaddrinfo; numeric addresses need no resolver at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "opsutil.h"

#define HTTP_TIMEOUT_DEFAULT_MS 10000
#define HTTP_HEAD_MAX 16384
#define HTTP_BODY_KEEP 2048

struct url {
	char scheme[8], host[256], port[8], path[1024];
};

/* Splits scheme://[user@]host[:port][/path]; the userinfo is dropped so
 * it never appears in a reply. Returns 0 or -1. */
static int
url_split(const char *s, struct url *u)
{
	const char *p = strstr(s, "://"), *h, *end, *at, *colon;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (p == NULL || (size_t)(p - s) >= sizeof(u->scheme))
		return -1;
	memcpy(u->scheme, s, (size_t)(p - s));
	h = p + 3;
	end = h + strcspn(h, "/?#");
	at = memchr(h, '@', (size_t)(end - h));
	if (at != NULL)
		h = at + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (rb == NULL)
			return -1;
		n = (size_t)(rb - h - 1);
		if (n == 0 || n >= sizeof(u->host))
			return -1;
		memcpy(u->host, h + 1, n);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
		if (n == 0 || n >= sizeof(u->host))
			return -1;
		memcpy(u->host, h, n);
	}
	if (colon != NULL) {
		n = (size_t)(end - colon - 1);
		if (n == 0 || n >= sizeof(u->port))
			return -1;
		memcpy(u->port, colon + 1, n);
	} else {
		snprintf(u->port, sizeof(u->port), "%s", strcmp(u->scheme, "https") == 0 ? "443" : "80");
	}
	snprintf(u->path, sizeof(u->path), "%s", *end ? end : "/");
	if (u->path[0] != '/') {   /* "http://h?x" */
		memmove(u->path + 1, u->path, sizeof(u->path) - 2);
		u->path[0] = '/';
		u->path[sizeof(u->path) - 1] = '\0';
	}
	for (const char *c = u->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -1;   /* no header injection through the path */
	return 0;
}

static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = opu_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd pf = { .fd = fd, .events = ev };
		int r = poll(&pf, 1, (int)(deadline - now));
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Connects to host:port before deadline; returns the socket or -1 with why. */
static int
dial(const char *host, const char *port, uint64_t deadline, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai, *a;
	int fd = -1, r, err = 0;

	if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", host, gai_strerror(r));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			socklen_t sl = sizeof(err);
			r = wait_fd(fd, POLLOUT, deadline);
			if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
				break;
			if (r == 0)
				err = ETIMEDOUT;
		} else {
			err = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		snprintf(why, whylen, "cannot connect to %s port %s: %s", host, port,
		    strerror(err ? err : ECONNREFUSED));
	return fd;
}

struct http_result {
	int status;             /* -1 when no response */
	char reason[128];
	char location[512];
	char error[300];
	char body[HTTP_BODY_KEEP];
	size_t bodylen;
};

static void
http_get(const struct url *u, const char *host_header, const char *connect_addr,
    uint64_t timeout_ms, struct http_result *res)
{
	uint64_t deadline = opu_now_ms() + timeout_ms;
	char req[2048], *buf = NULL;
	size_t len = 0, off = 0;
	int fd, n;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	fd = dial(connect_addr[0] ? connect_addr : u->host, u->port, deadline, res->error, sizeof(res->error));
	if (fd < 0)
		return;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cutover-agent\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n", u->path, host_header);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(res->error, sizeof(res->error), "the request line is too long");
		goto out;
	}
	while (off < (size_t)n) {
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(res->error, sizeof(res->error), "timed out sending the request");
			goto out;
		}
		ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(res->error, sizeof(res->error), "sending the request failed: %s", strerror(errno));
			goto out;
		}
		if (w > 0)
			off += (size_t)w;
	}
	buf = malloc(HTTP_HEAD_MAX + 1);
	if (buf == NULL) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	while (len < HTTP_HEAD_MAX) {
		int wr = wait_fd(fd, POLLIN, deadline);
		if (wr <= 0) {
			if (len == 0)
				snprintf(res->error, sizeof(res->error), "no response within %llu ms",
				    (unsigned long long)timeout_ms);
			break;
		}
		ssize_t r = recv(fd, buf + len, HTTP_HEAD_MAX - len, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (len == 0)
				snprintf(res->error, sizeof(res->error), "reading the response failed: %s", strerror(errno));
			break;
		}
		len += (size_t)r;
		buf[len] = '\0';
		char *eoh = strstr(buf, "\r\n\r\n");
		if (eoh != NULL && len - (size_t)(eoh + 4 - buf) >= HTTP_BODY_KEEP)
			break;
	}
	buf[len] = '\0';
	if (len == 0) {
		if (res->error[0] == '\0')
			/* nginx's 444 closes without a word. */
			snprintf(res->error, sizeof(res->error),
			    "the server closed the connection without a response (nginx does this for a Host it refuses)");
		goto out;
	}
	int major, minor, status, consumed = 0;
	if (sscanf(buf, "HTTP/%d.%d %3d%n", &major, &minor, &status, &consumed) != 3 ||
	    status < 100 || status > 999) {
		snprintf(res->error, sizeof(res->error), "the response is not HTTP");
		goto out;
	}
	res->status = status;
	const char *rs = buf + consumed, *eol = strstr(rs, "\r\n");
	while (*rs == ' ')
		rs++;
	if (eol != NULL)
		snprintf(res->reason, sizeof(res->reason), "%.*s", (int)(eol - rs > 0 ? eol - rs : 0), rs);
	/* Location, for redirects the smoke test reports. */
	for (const char *h = eol ? eol + 2 : NULL; h && strncmp(h, "\r\n", 2) != 0; ) {
		const char *e = strstr(h, "\r\n");
		if (e == NULL)
			break;
		if (strncasecmp(h, "location:", 9) == 0) {
			const char *v = h + 9;
			while (*v == ' ')
				v++;
			snprintf(res->location, sizeof(res->location), "%.*s", (int)(e - v), v);
		}
		h = e + 2;
	}
	char *eoh = strstr(buf, "\r\n\r\n");
	if (eoh != NULL) {
		size_t bl = len - (size_t)(eoh + 4 - buf);
		res->bodylen = bl > HTTP_BODY_KEEP ? HTTP_BODY_KEEP : bl;
		memcpy(res->body, eoh + 4, res->bodylen);
	}
out:
	free(buf);
	close(fd);
}

static int
send_result(struct op_io *io, const char *type, const char *url, const struct http_result *res,
    uint64_t started, int tcp_only)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, type, io, 10);
	opu_pack_key(&pk, "url"); opu_pack_cstr(&pk, url);
	opu_pack_key(&pk, "status");
	if (res->status >= 0) msgpack_pack_int(&pk, res->status); else msgpack_pack_nil(&pk);
	opu_pack_key(&pk, "reason"); opu_pack_cstr(&pk, res->reason);
	opu_pack_key(&pk, "location"); opu_pack_cstr(&pk, res->location[0] ? res->location : NULL);
	opu_pack_key(&pk, "error"); opu_pack_cstr(&pk, res->error[0] ? res->error : NULL);
	opu_pack_key(&pk, "duration_ms"); msgpack_pack_uint64(&pk, opu_now_ms() - started);
	opu_pack_key(&pk, "tcp_only"); msgpack_pack_int(&pk, tcp_only);
	opu_pack_key(&pk, "body_head");
	msgpack_pack_bin(&pk, res->bodylen);
	msgpack_pack_bin_body(&pk, res->body, res->bodylen);
	r = opu_send(io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}


int
opw_http(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	char urls[1200], hosth[256], addr[256];
	uint64_t timeout_ms, t0 = opu_now_ms();
	struct url u;
	static struct http_result res;

	if (opu_req_str(req, "url", NULL, urls, sizeof(urls)) <= 0 ||
	    opu_req_str(req, "host_header", "", hosth, sizeof(hosth)) < 0 ||
	    opu_req_str(req, "connect_addr", "", addr, sizeof(addr)) < 0 ||
	    opu_req_u64(req, "timeout_ms", HTTP_TIMEOUT_DEFAULT_MS, &timeout_ms) < 0) {
		snprintf(why, whylen, "the http request needs a \"url\" string and valid optional fields");
		return -1;
	}
	if (url_split(urls, &u) != 0 || strcmp(u.scheme, "http") != 0) {
		snprintf(why, whylen, "the http request's url must be a plain http:// URL (the agent carries no TLS)");
		return -1;
	}
	for (const char *c = hosth; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			snprintf(why, whylen, "the http request's host_header holds a control character or space");
			return -1;
		}
	if (timeout_ms == 0 || timeout_ms > 300000)
		timeout_ms = HTTP_TIMEOUT_DEFAULT_MS;
	http_get(&u, hosth[0] ? hosth : u.host, addr, timeout_ms, &res);
	send_result(io, "http", urls, &res, t0, 0);
	return 0;
}

int
opw_reach(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	char env_file[512], key[64], path[512], val[1024], shown[1400];
	uint64_t timeout_ms, t0 = opu_now_ms();
	struct url u;
	static struct http_result res;
	int r;

	if (opu_req_str(req, "env_file", OPU_ENV_FILE, env_file, sizeof(env_file)) < 0 ||
	    opu_req_str(req, "key", "GLOBAL_MPSERVER", key, sizeof(key)) < 0 ||
	    opu_req_str(req, "path", "", path, sizeof(path)) < 0 ||
	    opu_req_u64(req, "timeout_ms", HTTP_TIMEOUT_DEFAULT_MS, &timeout_ms) < 0) {
		snprintf(why, whylen, "the reach request has a field of the wrong type");
		return -1;
	}
	if (timeout_ms == 0 || timeout_ms > 300000)
		timeout_ms = HTTP_TIMEOUT_DEFAULT_MS;
	r = opu_envfile_get(env_file, key, val, sizeof(val));
	if (r < 0) {
		snprintf(why, whylen, "cannot read the env file %s: %s", env_file, strerror(-r));
		return -1;
	}
	if (r == 0 || val[0] == '\0') {
		snprintf(why, whylen, "%s is not set in %s", key, env_file);
		return -1;
	}
	/* mpc_sync asks for f"{GLOBAL_MPSERVER}/{query}": probe the same way. */
	char full[1600];
	snprintf(full, sizeof(full), "%s%s%s", val, path[0] && val[strlen(val) - 1] != '/' ? "/" : "", path);
	if (url_split(full, &u) != 0) {
		snprintf(why, whylen, "%s in %s is not a URL", key, env_file);
		return -1;
	}
	snprintf(shown, sizeof(shown), "%s://%s:%s%s", u.scheme, u.host, u.port, u.path);
	if (strcmp(u.scheme, "http") == 0) {
		http_get(&u, u.host, "", timeout_ms, &res);
		send_result(io, "reach", shown, &res, t0, 0);
	} else {
		/* No TLS in the agent: for https only the TCP connection is proved. */
		memset(&res, 0, sizeof(res));
		res.status = -1;
		int fd = dial(u.host, u.port, opu_now_ms() + timeout_ms, res.error, sizeof(res.error));
		if (fd >= 0)
			close(fd);
		send_result(io, "reach", shown, &res, t0, 1);
	}
	return 0;
}
