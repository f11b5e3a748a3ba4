/* remote/ssh.c: see remote/ssh.h. */
#include "remote/ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <openssl/crypto.h>

#include "base/clock.h"

#define WAIT_SLICE_MS 200
#define SSH_WINDOW LIBSSH2_CHANNEL_WINDOW_DEFAULT  /* receive window per channel, see ssh_chan_exec */

struct ssh_conn {
	int fd;
	const struct ssh_dialer *dialer;   /* borrowed; NULL for TCP */
	void *dial_handle;
	LIBSSH2_SESSION *s;
	int keepalive_s;
	int64_t next_keepalive_ms;
	/* The channel whose last write answered EAGAIN with its packet only
	 * partly sent, or NULL. Until that same write is called again, libssh2
	 * 1.10 cannot send any other packet on the session: a read that wants to
	 * send a window adjustment (or a keepalive) fails with
	 * LIBSSH2_ERROR_SOCKET_SEND ("Unable to send transfer-window adjustment
	 * packet"), which looked like a dropped connection whenever the socket
	 * filled while stdin was being sent (SSM's socketpair fills first). */
	const struct ssh_chan *wpending;
	char label[320];
};

struct ssh_chan {
	struct ssh_conn *c;
	LIBSSH2_CHANNEL *ch;
	int closed;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;   /* written once under init_once: libssh2_init is not thread safe */

static void
do_init(void)
{
	init_rc = libssh2_init(0);
}

int
ssh_global_init(struct cut_err *err)
{
	pthread_once(&init_once, do_init);
	if (init_rc != 0)
		return cut_err_set(err, CUT_EIO, "libssh2 could not be initialised (crypto backend); reinstall libssh2-1.");
	return 0;
}

const char *
ssh_label(const struct ssh_conn *c)
{
	return c->label;
}

/* ---- TCP connect with a deadline ---------------------------------------- */

static int
tcp_connect(const char *host, int port, int64_t deadline, const char *label, int keepalive_s,
    int *out, struct cut_err *err)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char pbuf[16];
	int fd = -1, r, last = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(pbuf, sizeof(pbuf), "%d", port);
	if ((r = getaddrinfo(host, pbuf, &hints, &res)) != 0)
		return cut_err_set(err, CUT_ENET, "Cannot resolve %s (%s); check the host name.",
		    host, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int64_t left;
			for (;;) {
				left = deadline - cut_mono_ms();
				if (left <= 0) {
					close(fd);
					freeaddrinfo(res);
					return cut_err_set(err, CUT_ETIMEOUT,
					    "Connecting to %s timed out; check that the host is up and port %d is open to you.",
					    label, port);
				}
				r = poll(&p, 1, (int)left);
				if (r < 0 && errno == EINTR)
					continue;
				break;
			}
			if (r > 0) {
				int e = 0;
				socklen_t el = sizeof(e);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e == 0)
					break;
				last = e;
			} else
				last = errno;
		} else
			last = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cut_err_set(err, CUT_ENET, "Cannot connect to %s: %s; check the address and that sshd runs there.",
		    label, strerror(last));
	/* Notice a vanished peer even while idle: TCP keepalive, and a bound on
	 * unacknowledged data so a dead link fails instead of hanging. */
	int one = 1, idle = keepalive_s, cnt = 3;
	unsigned int uto = (unsigned int)keepalive_s * 4000u;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
}

/* ---- waiting -------------------------------------------------------------- */

int
ssh_wait(struct ssh_conn *c, int want_write, int extra_fd, int64_t deadline_ms,
    int *extra_ready, struct cut_err *err)
{
	struct pollfd p[2];
	int dirs, n = 1, r;
	int64_t now, wait;

	if (extra_ready != NULL)
		*extra_ready = 0;
	for (;;) {
		now = cut_mono_ms();
		if (c->keepalive_s > 0 && now >= c->next_keepalive_ms && c->wpending == NULL) {
			int next = 0;
			r = libssh2_keepalive_send(c->s, &next);
			if (r != 0 && r != LIBSSH2_ERROR_EAGAIN)
				return cut_err_set(err, CUT_ENET, "The connection to %s dropped (keepalive failed).", c->label);
			c->next_keepalive_ms = now + (next > 0 ? next : c->keepalive_s) * 1000;
		}
		if (deadline_ms >= 0 && now >= deadline_ms)
			return CUT_ETIMEOUT; /* callers word the message */
		wait = c->keepalive_s > 0 ? c->next_keepalive_ms - now : 60000;
		if (deadline_ms >= 0 && deadline_ms - now < wait)
			wait = deadline_ms - now;
		/* Callers check their cancel flag between waits, and a signal
		 * wakes only one thread: never sleep long. */
		if (wait > WAIT_SLICE_MS)
			wait = WAIT_SLICE_MS;
		if (wait < 0)
			wait = 0;
		dirs = libssh2_session_block_directions(c->s);
		p[0].fd = c->fd;
		p[0].events = POLLIN;
		if ((dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND) || want_write)
			p[0].events |= POLLOUT;
		p[0].revents = 0;
		n = 1;
		if (extra_fd >= 0) {
			p[1].fd = extra_fd;
			p[1].events = POLLIN;
			p[1].revents = 0;
			n = 2;
		}
		r = poll(p, (nfds_t)n, (int)wait);
		if (r < 0) {
			if (errno == EINTR)
				return 0;   /* let the caller look at its cancel flag */
			return cut_err_set(err, CUT_ENET, "Waiting on the connection to %s failed: %s.",
			    c->label, strerror(errno));
		}
		if (r == 0)
			return 0;   /* a slice passed: the caller retries and rechecks */
		if (n == 2 && p[1].revents != 0 && extra_ready != NULL)
			*extra_ready = 1;
		/* POLLHUP/POLLERR: let libssh2 read and report what happened. */
		return 0;
	}
}

/* ---- known_hosts ---------------------------------------------------------- */

/* known_hosts is read here rather than by libssh2: libssh2 1.10 ignores
 * @revoked lines (a revoked key would be accepted) and lets a port-less
 * "host key" line vouch for every port. We follow OpenSSH (hostfile.c,
 * sshconnect.c): a non-22 port is looked up as "[host]:port" only, a line
 * marked @revoked refuses its key, @cert-authority lines vouch for no plain
 * key, and a line that does not parse is refused by file and line rather
 * than skipped, since this file decides whom we trust. */

#define KH_MAX_LINE (64 * 1024)

enum kh_marker { KH_PLAIN, KH_REVOKED, KH_CA };

struct kh_entry {
	enum kh_marker marker;
	const char *type;            /* the key type named on the line */
	const unsigned char *blob;   /* the key in SSH wire form */
	size_t bloblen;
	int line;
};

/* Standard base64 of exactly 4n characters; returns the decoded length or -1. */
static int
kh_b64(const char *in, size_t inlen, unsigned char *out, size_t cap)
{
	int n, pad = 0;

	if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > cap || inlen > INT_MAX)
		return -1;
	if (in[inlen - 1] == '=')
		pad++;
	if (in[inlen - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
	return n < 0 ? -1 : n - pad;
}

/* A hashed host field, "|1|base64(salt)|base64(HMAC-SHA1(salt, name))".
 * Returns 1 on a match, 0 on none, -1 when the field is not well formed. */
static int
hashed_match(const char *field, const char *name)
{
	unsigned char salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const char *sep;
	int sl, hl;

	if (strncmp(field, "|1|", 3) != 0)
		return -1;
	field += 3;
	if ((sep = strchr(field, '|')) == NULL)
		return -1;
	sl = kh_b64(field, (size_t)(sep - field), salt, sizeof(salt));
	hl = kh_b64(sep + 1, strlen(sep + 1), hash, sizeof(hash));
	if (sl != 20 || hl != 20)
		return -1;
	if (HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name, strlen(name), mac, &maclen) == NULL)
		return 0;
	return maclen == 20 && CRYPTO_memcmp(mac, hash, 20) == 0;
}

/* OpenSSH's wildcard match: '*' any run, '?' one character; name is
 * lowercase already, the pattern is compared without case. */
static int
kh_wild(const char *pat, size_t pl, const char *name)
{
	while (pl > 0) {
		if (*pat == '*') {
			pat++, pl--;
			if (pl == 0)
				return 1;
			for (; *name != '\0'; name++)
				if (kh_wild(pat, pl, name))
					return 1;
			return 0;
		}
		if (*name == '\0')
			return 0;
		if (*pat != '?' && tolower((unsigned char)*pat) != *name)
			return 0;
		pat++, pl--, name++;
	}
	return *name == '\0';
}

/* A comma-separated pattern list: 1 when a pattern matches and no negated
 * ("!pattern") one does, else 0. */
static int
kh_patterns(const char *field, const char *name)
{
	const char *p = field;
	int got = 0;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int neg = l > 0 && *p == '!';
		if (kh_wild(p + neg, l - (size_t)neg, name)) {
			if (neg)
				return 0;
			got = 1;
		}
		if (e == NULL)
			return got;
		p = e + 1;
	}
}

/* The key type at the start of an SSH wire-form key blob, into out. */
static int
kh_blob_type(const unsigned char *blob, size_t len, char *out, size_t cap)
{
	uint32_t n;

	if (len < 4)
		return -1;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n >= cap || n > len - 4)
		return -1;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
	return 0;
}

/* Calls fn for every line of path whose hosts match name ("host" or
 * "[host]:port", lowercase). A missing file holds no lines. Returns 0, fn's
 * non-zero result, or CUT_EIO naming the file and line that does not parse. */
static int
kh_scan(const char *path, const char *name, int (*fn)(void *, const struct kh_entry *), void *arg,
    struct cut_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned char *blob = NULL;
	FILE *f;
	int lineno = 0, r = 0;
	const char *why = NULL;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return cut_err_set(err, CUT_EIO, "Cannot read %s: %s; fix its permissions.", path, strerror(errno));
	}
	if ((blob = malloc(KH_MAX_LINE)) == NULL) {
		fclose(f);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading %s.", path);
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *save = NULL, *tok, *hosts, *type, *key;
		struct kh_entry e = { .marker = KH_PLAIN, .line = ++lineno };
		char btype[128];
		int m, bl;

		if ((size_t)n >= KH_MAX_LINE) {
			why = "is longer than 64 KiB";
			break;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			why = "holds a NUL byte";
			break;
		}
		tok = strtok_r(line, " \t\r\n", &save);
		if (tok == NULL || tok[0] == '#')
			continue;
		if (tok[0] == '@') {
			if (strcmp(tok, "@revoked") == 0)
				e.marker = KH_REVOKED;
			else if (strcmp(tok, "@cert-authority") == 0)
				e.marker = KH_CA;
			else {
				why = "has a marker other than @revoked or @cert-authority";
				break;
			}
			tok = strtok_r(NULL, " \t\r\n", &save);
		}
		hosts = tok;
		type = strtok_r(NULL, " \t\r\n", &save);
		key = strtok_r(NULL, " \t\r\n", &save);
		if (hosts == NULL || type == NULL || key == NULL) {
			why = "is not \"[marker] hosts key-type base64-key [comment]\"";
			break;
		}
		bl = kh_b64(key, strlen(key), blob, KH_MAX_LINE);
		if (bl < 0 || kh_blob_type(blob, (size_t)bl, btype, sizeof(btype)) != 0 ||
		    strcmp(btype, type) != 0) {
			why = "holds a key that is not valid base64 of a key of the type it names";
			break;
		}
		if (hosts[0] == '|') {
			if ((m = hashed_match(hosts, name)) < 0) {
				why = "has a hashed host name that is not |1|salt|hash";
				break;
			}
		} else {
			m = kh_patterns(hosts, name);
		}
		if (!m)
			continue;
		e.type = type;
		e.blob = blob;
		e.bloblen = (size_t)bl;
		if ((r = fn(arg, &e)) != 0)
			break;
	}
	if (why == NULL && ferror(f))
		r = cut_err_set(err, CUT_EIO, "Cannot read %s; check the disk.", path);
	else if (why != NULL)
		r = cut_err_set(err, CUT_EIO, "%s line %d %s; fix or delete that line (ssh-keygen -R host -f %s "
		    "removes a host's lines).", path, lineno, why, path);
	free(line);
	free(blob);
	fclose(f);
	return r;
}

/* "host" for port 22, "[host]:port" otherwise, lowercase, as OpenSSH looks it up. */
static void
kh_name(const char *host, int port, char *out, size_t len)
{
	if (port == 22)
		snprintf(out, len, "%s", host);
	else
		snprintf(out, len, "[%s]:%d", host, port);
	for (; *out; out++)
		*out = (char)tolower((unsigned char)*out);
}

struct kh_types {
	char *types;
	size_t len;
	int found;
};

static int
kh_types_one(void *arg, const struct kh_entry *e)
{
	struct kh_types *t = arg;
	const char *p = t->types;
	size_t tl = strlen(e->type);

	if (e->marker != KH_PLAIN)
		return 0;
	while ((p = strstr(p, e->type)) != NULL) {
		if ((p == t->types || p[-1] == ',') && (p[tl] == ',' || p[tl] == '\0'))
			return 0;
		p += tl;
	}
	if (strlen(t->types) + tl + 2 > t->len)
		return 0;
	if (t->types[0] != '\0')
		strcat(t->types, ",");
	strcat(t->types, e->type);
	t->found++;
	return 0;
}

int
ssh_known_types(const char *known_hosts, const char *host, int port, char *types, size_t len,
    struct cut_err *err)
{
	char name[300];
	struct kh_types t = { types, len, 0 };
	int r;

	types[0] = '\0';
	kh_name(host, port, name, sizeof(name));
	if ((r = kh_scan(known_hosts, name, kh_types_one, &t, err)) != 0)
		return r;
	return t.found;
}

struct kh_check {
	const unsigned char *blob;
	size_t len;
	char type[128];
	int revoked, match, changed;
};

static int
kh_check_one(void *arg, const struct kh_entry *e)
{
	struct kh_check *k = arg;
	int same = e->bloblen == k->len && memcmp(e->blob, k->blob, k->len) == 0;

	if (e->marker == KH_REVOKED && same && !k->revoked)
		k->revoked = e->line;
	else if (e->marker == KH_PLAIN && same && !k->match)
		k->match = e->line;
	else if (e->marker == KH_PLAIN && !same && strcmp(e->type, k->type) == 0 && !k->changed)
		k->changed = e->line;
	return 0;
}

int
ssh_known_check(const char *known_hosts, const char *host, int port, const void *blob, size_t len,
    int *line, struct cut_err *err)
{
	struct kh_check k = { .blob = blob, .len = len };
	char name[300];
	int r;

	*line = 0;
	if (kh_blob_type(blob, len, k.type, sizeof(k.type)) != 0)
		return cut_err_set(err, CUT_EPROTO, "The host key %s sent is not a valid SSH key; nothing was run.",
		    host);
	kh_name(host, port, name, sizeof(name));
	if ((r = kh_scan(known_hosts, name, kh_check_one, &k, err)) != 0)
		return r;
	/* Revoked wins over any line that vouches for the key, as in OpenSSH. */
	if (k.revoked)
		return *line = k.revoked, SSH_KH_REVOKED;
	if (k.match)
		return *line = k.match, SSH_KH_MATCH;
	if (k.changed)
		return *line = k.changed, SSH_KH_CHANGED;
	return SSH_KH_NEW;
}

static const char *
hostkey_type_name(int t)
{
	switch (t) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "RSA";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "DSA";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ECDSA";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ED25519";
	default: return "unknown";
	}
}

/* "SHA256:base64" like ssh-keygen -l. */
static void
fingerprint(LIBSSH2_SESSION *s, char *out, size_t len)
{
	const char *h = libssh2_hostkey_hash(s, LIBSSH2_HOSTKEY_HASH_SHA256);
	unsigned char b64[64];
	int n;

	if (h == NULL) {
		snprintf(out, len, "(no fingerprint)");
		return;
	}
	n = EVP_EncodeBlock(b64, (const unsigned char *)h, 32);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(out, len, "SHA256:%s", b64);
}

static int
check_host_key(struct ssh_conn *c, const struct ssh_opts *o, const char *kh_path, struct cut_err *err)
{
	const char *key;
	size_t keylen = 0;
	int type = 0, r, line = 0, port = o->port ? o->port : 22;
	char fp[80], name[300], ktype[128];

	kh_name(o->host, port, name, sizeof(name));
	key = libssh2_session_hostkey(c->s, &keylen, &type);
	if (key == NULL)
		return cut_err_set(err, CUT_EPROTO, "%s sent no host key; nothing was run.", c->label);
	fingerprint(c->s, fp, sizeof(fp));
	r = ssh_known_check(kh_path, o->host, port, key, keylen, &line, err);
	if (r < 0)
		return r;
	if (r == SSH_KH_MATCH)
		return 0;
	if (r == SSH_KH_REVOKED)
		return cut_err_set(err, CUT_EHOSTKEY,
		    "The host key of %s (%s %s) is REVOKED by line %d of %s, so nothing was run; the host must "
		    "get a new key before anything connects to it.", c->label, hostkey_type_name(type), fp, line,
		    kh_path);
	if (r == SSH_KH_CHANGED)
		return cut_err_set(err, CUT_EHOSTKEY,
		    "The host key of %s has CHANGED (it now offers %s %s; line %d of %s holds another), so nothing "
		    "was run; if the instance was really replaced, remove its old key with ssh-keygen -R '%s' -f %s "
		    "and run again.", c->label, hostkey_type_name(type), fp, line, kh_path, name, kh_path);
	if (!o->accept_new_host_key)
		return cut_err_set(err, CUT_EHOSTKEY,
		    "%s is not in %s (it offers %s %s), so nothing was run; check the fingerprint and run again "
		    "with --accept-new-host-key to record it.", c->label, kh_path, hostkey_type_name(type), fp);
	/* accept-new: append just this entry, "name type base64", as
	 * ssh-keygen writes it (rewriting the file could lose lines). */
	unsigned char *b64 = malloc(keylen / 3 * 4 + 8);
	char *line_out = NULL;
	int ll = -1;
	if (b64 != NULL && kh_blob_type((const unsigned char *)key, keylen, ktype, sizeof(ktype)) == 0) {
		EVP_EncodeBlock(b64, (const unsigned char *)key, (int)keylen);
		ll = asprintf(&line_out, "%s %s %s\n", name, ktype, (char *)b64);
	}
	free(b64);
	if (ll < 0)
		return cut_err_set(err, CUT_EHOSTKEY, "Cannot record the host key of %s; add it to %s by hand.",
		    c->label, kh_path);
	int fd = open(kh_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line_out, (size_t)ll) != (ssize_t)ll) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(line_out);
		return cut_err_set(err, CUT_EIO, "Cannot append the host key of %s to %s: %s; fix the file's permissions.",
		    c->label, kh_path, strerror(e));
	}
	close(fd);
	free(line_out);
	fprintf(stderr, "cutover: recorded the %s host key of %s (%s) in %s.\n", hostkey_type_name(type),
	    c->label, fp, kh_path);
	return 0;
}

/* ---- authentication ------------------------------------------------------- */

/* True when the private key file holds an RSA key (OpenSSH or PEM format). */
static int
key_is_rsa(const char *path)
{
	char buf[4096], b64[4096];
	unsigned char raw[3200];
	FILE *f = fopen(path, "r");
	size_t n = 0, bl = 0;
	int rl;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strstr(buf, "BEGIN RSA PRIVATE KEY") != NULL)
		return 1;
	if (strstr(buf, "BEGIN OPENSSH PRIVATE KEY") == NULL)
		return 0;
	/* The public key's type name sits near the start of the base64 body. */
	const char *p = strchr(buf, '\n');
	for (p = p ? p + 1 : buf; *p != '\0' && *p != '-' && bl < 400; p++)
		if (*p != '\n' && *p != '\r')
			b64[bl++] = *p;
	bl -= bl % 4;
	b64[bl] = '\0';
	rl = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)bl);
	for (int i = 0; i + 7 <= rl; i++)
		if (memcmp(raw + i, "ssh-rsa", 7) == 0)
			return 1;
	return 0;
}

static int
auth_keyfile(struct ssh_conn *c, const struct ssh_opts *o, const char *user, int64_t deadline,
    struct cut_err *err)
{
	int r;

	if (access(o->identity, R_OK) != 0)
		return cut_err_set(err, CUT_EIO, "Cannot read the key file %s: %s; check --identity.", o->identity,
		    strerror(errno));
	while ((r = libssh2_userauth_publickey_fromfile_ex(c->s, user, (unsigned int)strlen(user), NULL,
	    o->identity, NULL)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, -1, deadline, NULL, err)) != 0)
			goto fail;
	}
	if (r == 0)
		return 0;
	/* Tried first: an old server may still take ssh-rsa signatures. */
	if (key_is_rsa(o->identity))
		return cut_err_set(err, CUT_EAUTH,
		    "%s refused the RSA key %s: libssh2 1.10 can only sign with SHA-1 (ssh-rsa), which current OpenSSH "
		    "servers refuse; use an ed25519 key (ssh-keygen -t ed25519) or EC2 Instance Connect.", c->label,
		    o->identity);
	if (r == LIBSSH2_ERROR_FILE || r == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)
		return cut_err_set(err, CUT_EAUTH,
		    "Cannot use the key file %s (encrypted, or a format libssh2 cannot read); use an unencrypted ed25519 "
		    "key or load it into ssh-agent and leave out --identity.", o->identity);
	return cut_err_set(err, CUT_EAUTH,
	    "%s refused the key %s (permission denied); check that its public key is in ~%s/.ssh/authorized_keys "
	    "on the host and that the user name is right.", c->label, o->identity, user);
fail:
	if (r == CUT_ETIMEOUT)
		return cut_err_set(err, CUT_ETIMEOUT, "Authentication to %s timed out; check the host.", c->label);
	return r;
}

static int
auth_agent(struct ssh_conn *c, const char *user, int64_t deadline, struct cut_err *err)
{
	LIBSSH2_AGENT *a;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r, tried = 0, rsa = 0;

	if (getenv("SSH_AUTH_SOCK") == NULL)
		return cut_err_set(err, CUT_EAUTH,
		    "No --identity given and no ssh-agent running (SSH_AUTH_SOCK is unset); pass --identity KEYFILE "
		    "or start ssh-agent and ssh-add your ed25519 key.");
	a = libssh2_agent_init(c->s);
	if (a == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory starting ssh-agent authentication.");
	if (libssh2_agent_connect(a) != 0) {
		libssh2_agent_free(a);
		return cut_err_set(err, CUT_EAUTH, "Cannot talk to ssh-agent at SSH_AUTH_SOCK; start it again or pass --identity.");
	}
	if (libssh2_agent_list_identities(a) != 0) {
		libssh2_agent_disconnect(a);
		libssh2_agent_free(a);
		return cut_err_set(err, CUT_EAUTH, "ssh-agent would not list its keys; restart it or pass --identity.");
	}
	r = -1;
	while (libssh2_agent_get_identity(a, &id, prev) == 0) {
		prev = id;
		if (id->blob_len > 11 && memcmp(id->blob + 4, "ssh-rsa", 7) == 0) {
			rsa++;
			continue;
		}
		tried++;
		while ((r = libssh2_agent_userauth(a, user, id)) == LIBSSH2_ERROR_EAGAIN) {
			int w = ssh_wait(c, 0, -1, deadline, NULL, err);
			if (w != 0) {
				libssh2_agent_disconnect(a);
				libssh2_agent_free(a);
				return w == CUT_ETIMEOUT ? cut_err_set(err, CUT_ETIMEOUT,
				    "Authentication to %s timed out; check the host.", c->label) : w;
			}
		}
		if (r == 0)
			break;
	}
	libssh2_agent_disconnect(a);
	libssh2_agent_free(a);
	if (r == 0)
		return 0;
	if (tried == 0 && rsa > 0)
		return cut_err_set(err, CUT_EAUTH,
		    "ssh-agent holds only RSA keys, which libssh2 1.10 cannot use with current OpenSSH servers; "
		    "add an ed25519 key (ssh-keygen -t ed25519; ssh-add) or use EC2 Instance Connect.");
	return cut_err_set(err, CUT_EAUTH,
	    "%s refused every ssh-agent key (%d tried); check authorized_keys on the host and the user name.",
	    c->label, tried);
}

/* ---- connect ---------------------------------------------------------------- */

int
ssh_connect(struct ssh_conn **out, const struct ssh_opts *o, struct cut_err *err)
{
	struct ssh_conn *c;
	const char *user = o->user ? o->user : getenv("USER");
	int port = o->port ? o->port : 22, r;
	int64_t deadline = cut_mono_ms() + (o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000);
	char khbuf[4096], types[256];
	const char *kh = o->known_hosts;

	*out = NULL;
	if ((r = ssh_global_init(err)) != 0)
		return r;
	if (user == NULL)
		user = "root";
	if (kh == NULL) {
		const char *home = getenv("HOME");
		snprintf(khbuf, sizeof(khbuf), "%s/.ssh/known_hosts", home ? home : "");
		kh = khbuf;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory connecting to %s.", o->host);
	c->fd = -1;
	c->keepalive_s = o->keepalive_s > 0 ? o->keepalive_s : 15;
	if (o->dialer != NULL)
		snprintf(c->label, sizeof(c->label), "%s@%s (%s)", user, o->host, o->dialer->via ? o->dialer->via : "dialed");
	else
		snprintf(c->label, sizeof(c->label), "%s@%s:%d", user, o->host, port);

	if (o->dialer != NULL) {
		c->dialer = o->dialer;
		if ((r = o->dialer->dial(o->dialer->arg, deadline, &c->fd, &c->dial_handle, err)) != 0) {
			c->fd = -1;
			goto fail;
		}
	} else if ((r = tcp_connect(o->host, port, deadline, c->label, c->keepalive_s, &c->fd, err)) != 0)
		goto fail;
	c->s = libssh2_session_init();
	if (c->s == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory starting an SSH session to %s.", c->label);
		goto fail;
	}
	libssh2_session_set_blocking(c->s, 0);
	/* libssh2 prefers ECDSA host keys; if known_hosts records another type
	 * for this host, the check would fail, so ask for the recorded types. */
	if (c->dialer != NULL && c->dialer->trusted)
		r = 0;
	else if ((r = ssh_known_types(kh, o->host, port, types, sizeof(types), err)) < 0)
		goto fail;
	if (r == 0)
		snprintf(types, sizeof(types), "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
		    "ecdsa-sha2-nistp521,ssh-rsa");
	if (libssh2_session_method_pref(c->s, LIBSSH2_METHOD_HOSTKEY, types) != 0) {
		r = cut_err_set(err, CUT_EHOSTKEY,
		    "%s records only host key types this libssh2 cannot use (%s) for %s; nothing was run.", kh, types,
		    c->label);
		goto fail;
	}
	while ((r = libssh2_session_handshake(c->s, c->fd)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, -1, deadline, NULL, err)) != 0)
			break;
	}
	if (r != 0) {
		if (r == CUT_ETIMEOUT)
			r = cut_err_set(err, CUT_ETIMEOUT, "The SSH handshake with %s timed out; check the host.", c->label);
		else if (r == LIBSSH2_ERROR_KEX_FAILURE)
			r = cut_err_set(err, CUT_EHOSTKEY,
			    "%s offers none of the host key types %s records for it (%s), so nothing was run; "
			    "check that this is the right host.", c->label, kh, types);
		else if (r > -100 && r < 0 && r != CUT_ENET) {
			char *m = NULL;
			libssh2_session_last_error(c->s, &m, NULL, 0);
			r = cut_err_set(err, CUT_ENET, "The SSH handshake with %s failed (%s); check that it is an SSH server.",
			    c->label, m ? m : "unknown error");
		}
		goto fail;
	}
	if ((c->dialer == NULL || !c->dialer->trusted) && (r = check_host_key(c, o, kh, err)) != 0)
		goto fail;
	if (o->identity != NULL)
		r = auth_keyfile(c, o, user, deadline, err);
	else
		r = auth_agent(c, user, deadline, err);
	if (r != 0)
		goto fail;
	libssh2_keepalive_config(c->s, 1, (unsigned int)c->keepalive_s);
	c->next_keepalive_ms = cut_mono_ms() + c->keepalive_s * 1000;
	*out = c;
	return 0;
fail:
	ssh_close(c);
	return r;
}

void
ssh_close(struct ssh_conn *c)
{
	if (c == NULL)
		return;
	if (c->s != NULL) {
		/* In non-blocking mode both calls may answer EAGAIN and leave the
		 * session (and its channels) allocated; blocking with a short
		 * timeout lets them finish without hanging on a dead peer. */
		libssh2_session_set_timeout(c->s, 2000);
		libssh2_session_set_blocking(c->s, 1);
		libssh2_session_disconnect(c->s, "bye");
		libssh2_session_free(c->s);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->dialer != NULL && c->dial_handle != NULL && c->dialer->hang_up != NULL)
		c->dialer->hang_up(c->dialer->arg, c->dial_handle);
	free(c);
}

/* ---- channels --------------------------------------------------------------- */

static int
dropped(struct ssh_conn *c, int r, struct cut_err *err)
{
	char *m = NULL;

	if (r == LIBSSH2_ERROR_SOCKET_RECV || r == LIBSSH2_ERROR_SOCKET_SEND ||
	    r == LIBSSH2_ERROR_SOCKET_DISCONNECT || r == LIBSSH2_ERROR_CHANNEL_CLOSED ||
	    r == LIBSSH2_ERROR_CHANNEL_EOF_SENT || r == LIBSSH2_ERROR_SOCKET_TIMEOUT)
		return cut_err_set(err, CUT_ENET, "The connection to %s dropped; the command's outcome is unknown.",
		    c->label);
	libssh2_session_last_error(c->s, &m, NULL, 0);
	return cut_err_set(err, CUT_ENET, "The SSH connection to %s failed (%s); the command's outcome is unknown.",
	    c->label, m ? m : "unknown error");
}

int
ssh_chan_exec(struct ssh_conn *c, const char *command, int64_t deadline_ms, struct ssh_chan **out,
    struct cut_err *err)
{
	LIBSSH2_CHANNEL *ch;
	struct ssh_chan *sc;
	int r;

	*out = NULL;
	/* libssh2's default window (2 MiB). A larger one (16 MiB was tried)
	 * makes sshd run far ahead of us: measured on a 256 MiB stream, its
	 * system time went from ~0.25 s to 1-2.5 s and the whole stream got
	 * slower, while 1-4 MiB all kept pace with the bare libssh2 reader. */
	while ((ch = libssh2_channel_open_ex(c->s, "session", sizeof("session") - 1, SSH_WINDOW,
	    LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0)) == NULL) {
		r = libssh2_session_last_errno(c->s);
		if (r != LIBSSH2_ERROR_EAGAIN)
			return dropped(c, r, err);
		if ((r = ssh_wait(c, 0, -1, deadline_ms, NULL, err)) != 0)
			goto wait_failed;
	}
	while ((r = libssh2_channel_exec(ch, command)) == LIBSSH2_ERROR_EAGAIN) {
		if ((r = ssh_wait(c, 0, -1, deadline_ms, NULL, err)) != 0) {
			libssh2_channel_free(ch);
			goto wait_failed;
		}
	}
	if (r != 0) {
		libssh2_channel_free(ch);
		return dropped(c, r, err);
	}
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		libssh2_channel_free(ch);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory opening a channel to %s.", c->label);
	}
	sc->c = c;
	sc->ch = ch;
	*out = sc;
	return 0;
wait_failed:
	if (r == CUT_ETIMEOUT)
		return cut_err_set(err, CUT_ETIMEOUT, "%s did not start the command in time.", c->label);
	return r;
}

/* libssh2's byte count or error as (done, CUT_E*): EAGAIN is 0 bytes. */
static int
io_result(struct ssh_chan *ch, ssize_t n, size_t *done, struct cut_err *err)
{
	*done = 0;
	if (n == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (n < 0)
		return dropped(ch->c, (int)n, err);
	*done = (size_t)n;
	return 0;
}

/* Reading waits (0 bytes, as EAGAIN) while a write is half sent: the caller
 * writes again first (rexec's pump does, every round), which finishes it. */
int
ssh_chan_read(struct ssh_chan *ch, int stream, void *buf, size_t len, size_t *done, struct cut_err *err)
{
	if (ch->c->wpending != NULL) {
		*done = 0;
		return 0;
	}
	return io_result(ch, libssh2_channel_read_ex(ch->ch, stream, buf, len), done, err);
}

int
ssh_chan_write(struct ssh_chan *ch, const void *buf, size_t len, size_t *done, struct cut_err *err)
{
	ssize_t n;

	if (ch->c->wpending != NULL && ch->c->wpending != ch) {
		*done = 0;   /* another channel's packet goes out first */
		return 0;
	}
	n = libssh2_channel_write_ex(ch->ch, 0, buf, len);
	ch->c->wpending = n == LIBSSH2_ERROR_EAGAIN ? ch : NULL;
	return io_result(ch, n, done, err);
}

int
ssh_chan_send_eof(struct ssh_chan *ch, struct cut_err *err)
{
	int r = libssh2_channel_send_eof(ch->ch);

	if (r == LIBSSH2_ERROR_EAGAIN)
		return 1;
	if (r < 0)
		return dropped(ch->c, r, err);
	return 0;
}

int
ssh_chan_eof(struct ssh_chan *ch)
{
	return libssh2_channel_eof(ch->ch);
}

int
ssh_signal_number(const char *name)
{
	static const struct { const char *n; int s; } t[] = {
		{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
		{"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
		{"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
		{"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"SYS", SIGSYS},
	};
	if (name == NULL)
		return 0;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].n) == 0)
			return t[i].s;
	return 0;
}

int
ssh_chan_close(struct ssh_chan *ch, int64_t deadline_ms, int *status, int *sig, struct cut_err *err)
{
	int r;
	char *sname = NULL;
	size_t slen = 0;

	*status = -1;
	*sig = 0;
	if (!ch->closed) {
		while ((r = libssh2_channel_close(ch->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((r = ssh_wait(ch->c, 0, -1, deadline_ms, NULL, err)) != 0)
				goto wait_failed;
		if (r != 0)
			return dropped(ch->c, r, err);
		while ((r = libssh2_channel_wait_closed(ch->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((r = ssh_wait(ch->c, 0, -1, deadline_ms, NULL, err)) != 0)
				goto wait_failed;
		if (r != 0)
			return dropped(ch->c, r, err);
		ch->closed = 1;
	}
	/* Only now are exit-status and exit-signal final. */
	if (libssh2_channel_get_exit_signal(ch->ch, &sname, &slen, NULL, NULL, NULL, NULL) == 0 &&
	    sname != NULL) {
		*sig = ssh_signal_number(sname);
		if (*sig == 0)
			*sig = 255;
		libssh2_free(ch->c->s, sname);
		return 0;
	}
	*status = libssh2_channel_get_exit_status(ch->ch);
	return 0;
wait_failed:
	if (r == CUT_ETIMEOUT)
		return cut_err_set(err, CUT_ETIMEOUT, "%s did not close the channel in time.", ch->c->label);
	return r;
}

void
ssh_chan_free(struct ssh_chan *ch)
{
	int64_t dl = cut_mono_ms() + 2000;

	if (ch == NULL)
		return;
	if (ch->c->wpending == ch)
		ch->c->wpending = NULL;
	/* If it cannot finish here, libssh2_session_free() frees it later. */
	while (libssh2_channel_free(ch->ch) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(ch->c, 0, -1, dl, NULL, NULL) != 0)
			break;
	free(ch);
}

/* ---- run a small command, collect its output -------------------------------- */

int
ssh_run(struct ssh_conn *c, const char *command, const void *in, size_t inlen, char **out,
    size_t *outlen, size_t max_out, char *errbuf, size_t errlen, int *status, int64_t deadline_ms,
    struct cut_err *err)
{
	struct ssh_chan *ch = NULL;
	char buf[32768], *ob = NULL;
	size_t ol = 0, el = 0, off = 0, n;
	int r, eof_sent = (in == NULL || inlen == 0) ? 0 : 0, sig = 0;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	*status = -1;
	if ((r = ssh_chan_exec(c, command, deadline_ms, &ch, err)) != 0)
		return r;
	ob = malloc(max_out + 1);
	if (ob == NULL) {
		ssh_chan_free(ch);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	}
	for (;;) {
		int progress = 0, want_write = 0;
		if (off < inlen) {
			if ((r = ssh_chan_write(ch, (const char *)in + off, inlen - off, &n, err)) != 0)
				goto out;
			off += n;
			progress |= n > 0;
			want_write = n == 0;
		} else if (!eof_sent) {
			if ((r = ssh_chan_send_eof(ch, err)) < 0)
				goto out;
			eof_sent = r == 0;
			progress |= eof_sent;
		}
		for (int s = 0; s < 2; s++) {
			if ((r = ssh_chan_read(ch, s, buf, sizeof(buf), &n, err)) != 0)
				goto out;
			if (n == 0)
				continue;
			progress = 1;
			if (s == 0) {
				size_t take = n < max_out - ol ? n : max_out - ol;
				memcpy(ob + ol, buf, take);
				ol += take;
			} else if (errbuf != NULL && errlen > 1) {
				size_t take = n < errlen - 1 - el ? n : errlen - 1 - el;
				memcpy(errbuf + el, buf, take);
				el += take;
				errbuf[el] = '\0';
			}
		}
		if (ssh_chan_eof(ch) && off >= inlen) {
			/* Drain whatever stderr remains, then close. */
			size_t n2 = 0;
			do {
				if ((r = ssh_chan_read(ch, 1, buf, sizeof(buf), &n2, err)) != 0)
					goto out;
				if (errbuf != NULL && errlen > 1 && n2 > 0) {
					size_t take = n2 < errlen - 1 - el ? n2 : errlen - 1 - el;
					memcpy(errbuf + el, buf, take);
					el += take;
					errbuf[el] = '\0';
				}
			} while (n2 > 0);
			break;
		}
		if (!progress) {
			r = ssh_wait(c, want_write, -1, deadline_ms, NULL, err);
			if (r == CUT_ETIMEOUT) {
				r = cut_err_set(err, CUT_ETIMEOUT, "A setup command on %s did not finish in time.", c->label);
				goto out;
			}
			if (r != 0)
				goto out;
		}
	}
	if ((r = ssh_chan_close(ch, deadline_ms, status, &sig, err)) != 0)
		goto out;
	if (sig != 0)
		*status = 128 + sig;
	ob[ol] = '\0';
	if (out != NULL) {
		*out = ob;
		ob = NULL;
	}
	if (outlen != NULL)
		*outlen = ol;
out:
	free(ob);
	ssh_chan_free(ch);
	return r;
}
