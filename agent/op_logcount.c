/* op_logcount.c: "logcount", follow nginx access logs and count the real
 * requests per interval, leaving out health checks and other configured
 * user agents, so the coordinator can tell when the live site is quiet.
 *
 * Following survives logrotate: when the path names a new file (another
 * inode) the rest of the old one is read first, then the new one from its
 * start; a file that shrank (copytruncate) is read again from 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "opsutil.h"

#define LC_PATHS_MAX 8
#define LC_EXCL_MAX 16
#define LC_LINE_MAX 16384
#define LC_POLL_MS 200
#define LC_DEFAULT_LOG "/var/log/nginx/access.log"
#define LC_INTERVAL_DEFAULT_MS 5000

struct lc_file {
	char path[512];
	int fd;
	dev_t dev;
	ino_t ino;
	off_t off;
	char line[LC_LINE_MAX];
	size_t linelen;
	int overlong;    /* the current line outgrew the buffer */
};

struct lc_counts {
	uint64_t requests, excluded, rotations;
};

struct lc {
	struct lc_file f[LC_PATHS_MAX];
	int nf;
	char excl[LC_EXCL_MAX][128];
	int nexcl;
	struct lc_counts c;
};

/* The user agent is the third quoted field of nginx's combined format
 * ("$request" "$http_referer" "$http_user_agent"); nginx escapes quotes
 * inside values as \x22, so a quote always delimits. A line without it is
 * matched whole. */
static void
user_agent(const char *line, size_t len, const char **ua, size_t *ualen)
{
	int field = 0;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (line[i] != '"')
			continue;
		if (start == 0) {
			start = i + 1;
			continue;
		}
		if (++field == 3) {
			*ua = line + start;
			*ualen = i - start;
			return;
		}
		start = 0;
	}
	*ua = line;
	*ualen = len;
}

static void
count_line(struct lc *lc, const char *line, size_t len)
{
	const char *ua;
	size_t ualen;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	user_agent(line, len, &ua, &ualen);
	for (int i = 0; i < lc->nexcl; i++)
		if (memmem(ua, ualen, lc->excl[i], strlen(lc->excl[i])) != NULL) {
			lc->c.excluded++;
			return;
		}
	lc->c.requests++;
}

static void
feed(struct lc *lc, struct lc_file *f, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			count_line(lc, f->line, f->linelen);
			f->linelen = 0;
			f->overlong = 0;
		} else if (f->linelen < sizeof(f->line)) {
			f->line[f->linelen++] = buf[i];
		} else {
			f->overlong = 1;   /* counted by its first bytes */
		}
	}
}

static void
drain(struct lc *lc, struct lc_file *f)
{
	char buf[65536];
	ssize_t r;

	while ((r = read(f->fd, buf, sizeof(buf))) > 0) {
		feed(lc, f, buf, (size_t)r);
		f->off += r;
	}
}

static int
lc_open(struct lc_file *f, int at_end)
{
	struct stat st;

	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -1;
	fstat(f->fd, &st);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->off = at_end ? st.st_size : 0;
	lseek(f->fd, f->off, SEEK_SET);
	f->linelen = 0;
	return 0;
}

static void
poll_file(struct lc *lc, struct lc_file *f)
{
	struct stat st, fst;

	if (f->fd < 0) {
		/* Rotated away and not yet recreated: everything in a new file
		 * is new, so read it from its start. */
		if (lc_open(f, 0) == 0)
			lc->c.rotations++;
		else
			return;
	}
	drain(lc, f);
	if (fstat(f->fd, &fst) == 0 && fst.st_size < f->off) {
		/* Truncated in place (copytruncate). */
		lseek(f->fd, 0, SEEK_SET);
		f->off = 0;
		f->linelen = 0;
		lc->c.rotations++;
		drain(lc, f);
	}
	if (stat(f->path, &st) != 0 || st.st_ino != f->ino || st.st_dev != f->dev) {
		drain(lc, f);   /* what nginx wrote before reopening */
		close(f->fd);
		f->fd = -1;
		if (lc_open(f, 0) == 0) {
			lc->c.rotations++;
			drain(lc, f);
		}
	}
}

static int
send_count(struct op_io *io, uint64_t seq, uint64_t elapsed, uint64_t interval,
    const struct lc_counts *c, int missing)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "count", io, 9);
	opu_pack_key(&pk, "seq"); msgpack_pack_uint64(&pk, seq);
	opu_pack_key(&pk, "elapsed_ms"); msgpack_pack_uint64(&pk, elapsed);
	opu_pack_key(&pk, "interval_ms"); msgpack_pack_uint64(&pk, interval);
	opu_pack_key(&pk, "requests"); msgpack_pack_uint64(&pk, c->requests);
	opu_pack_key(&pk, "excluded"); msgpack_pack_uint64(&pk, c->excluded);
	opu_pack_key(&pk, "rotations"); msgpack_pack_uint64(&pk, c->rotations);
	opu_pack_key(&pk, "missing"); msgpack_pack_int(&pk, missing);
	r = opu_send(io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

static int
str_list(const msgpack_object *req, const char *key, char *out, size_t each, int max, int *n)
{
	const msgpack_object *a = frame_get(req, key);

	if (a == NULL || a->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (a->type != MSGPACK_OBJECT_ARRAY || (int)a->via.array.size > max - *n)
		return -1;
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		const msgpack_object *s = &a->via.array.ptr[i];
		if (s->type != MSGPACK_OBJECT_STR || s->via.str.size == 0 || s->via.str.size >= each ||
		    memchr(s->via.str.ptr, '\0', s->via.str.size))
			return -1;
		char *dst = out + (size_t)*n * each;
		memcpy(dst, s->via.str.ptr, s->via.str.size);
		dst[s->via.str.size] = '\0';
		(*n)++;
	}
	return 1;
}


int
opw_logcount(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	static struct lc lc;   /* large line buffers: off the stack */
	char paths[LC_PATHS_MAX][512];
	int npaths = 0, from_start = 0, r;
	uint64_t interval, duration, next, end, seq = 0;

	memset(&lc, 0, sizeof(lc));
	if (str_list(req, "paths", paths[0], sizeof(paths[0]), LC_PATHS_MAX, &npaths) < 0 ||
	    str_list(req, "exclude_ua", lc.excl[0], sizeof(lc.excl[0]), LC_EXCL_MAX - 1,
	    &lc.nexcl) < 0 ||
	    opu_req_u64(req, "interval_ms", LC_INTERVAL_DEFAULT_MS, &interval) < 0 ||
	    opu_req_u64(req, "duration_ms", 0, &duration) < 0 ||
	    opu_req_bool(req, "from_start", 0, &from_start) < 0) {
		snprintf(why, whylen, "the logcount request has a field of the wrong type or too many entries");
		return -1;
	}
	if (interval < 100 || interval > 3600000) {
		snprintf(why, whylen, "logcount interval_ms must be between 100 and 3600000");
		return -1;
	}
	/* The load balancer's health checks never stop: never count them. */
	snprintf(lc.excl[lc.nexcl++], sizeof(lc.excl[0]), "ELB-HealthChecker");
	if (npaths == 0)
		snprintf(paths[npaths++], sizeof(paths[0]), LC_DEFAULT_LOG);
	for (int i = 0; i < npaths; i++) {
		struct lc_file *f = &lc.f[lc.nf++];
		memcpy(f->path, paths[i], sizeof(f->path));
		if (lc_open(f, !from_start) != 0) {
			snprintf(why, whylen, "cannot open the access log %s: %s", f->path, strerror(errno));
			return -1;
		}
	}
	next = io->started_ms + interval;
	end = duration ? io->started_ms + duration : 0;
	for (;;) {
		uint64_t now = opu_now_ms();
		int missing = 0;

		for (int i = 0; i < lc.nf; i++) {
			poll_file(&lc, &lc.f[i]);
			missing += lc.f[i].fd < 0;
		}
		if (now >= next || (end && now >= end)) {
			r = send_count(io, ++seq, now - io->started_ms, interval, &lc.c, missing);
			if (r != 0)
				return 0;   /* the reader went away: nothing to report to */
			memset(&lc.c, 0, sizeof(lc.c));
			next += interval;
			if (next <= now)
				next = now + interval;
		}
		if (end && now >= end)
			break;
		/* Wake for the next report, the end, or the next poll of the files. */
		uint64_t wake = now + LC_POLL_MS;
		if (next < wake)
			wake = next;
		if (end && end < wake)
			wake = end;
		now = opu_now_ms();
		if (wake > now)
			usleep((useconds_t)(wake - now) * 1000);
	}
	return 0;
}
