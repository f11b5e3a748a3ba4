/* reply.c: the agent's outgoing frames and the byte buffers behind them.
 *
 * Replies go into one queue written to stdout without blocking, so a slow
 * coordinator never stalls the poll loop; the loop reads children only
 * while nothing is pending, which bounds memory and lets a child's pipe
 * fill meanwhile, so the next frame carries a pipe's worth at once.
 *
 * Child output is the bulk of the traffic. When stdout is a pipe (sshd's),
 * an out frame's payload is never copied through the agent: its header is
 * queued and splice(2) moves the bytes from the child's pipe to stdout
 * right behind it. Measured on a 256 MiB stream, copying (read + write of
 * every byte in ~17 KiB pieces) cost the agent about 0.2-0.3 s of CPU,
 * which on a 2-core host is taken from sshd and the stream. */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

int
abuf_reserve(struct abuf *b, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len < n) {
		size_t live = b->len - b->off, ncap;
		char *nd;

		if (b->off > 0) {
			memmove(b->data, b->data + b->off, live);
			b->off = 0;
			b->len = live;
		}
		if (b->cap - b->len < n) {
			ncap = b->cap ? b->cap : 4096;
			while (ncap - b->len < n)
				ncap *= 2;
			if ((nd = realloc(b->data, ncap)) == NULL)
				return FRAME_ENOMEM;
			b->data = nd;
			b->cap = ncap;
		}
	}
	return FRAME_OK;
}

int
abuf_add(struct abuf *b, const void *p, size_t n)
{
	if (n == 0)
		return FRAME_OK;
	if (abuf_reserve(b, n) != FRAME_OK)
		return FRAME_ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return FRAME_OK;
}

size_t
abuf_live(const struct abuf *b)
{
	return b->len - b->off;
}

void
abuf_consume(struct abuf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
abuf_free(struct abuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int64_t
agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
agent_send(struct agent *a, const msgpack_sbuffer *payload)
{
	unsigned char hdr[4];

	if (payload->size == 0 || payload->size > FRAME_MAX)
		return FRAME_ETOOBIG;
	if (a->out_broken)
		return FRAME_OK;
	hdr[0] = payload->size >> 24;
	hdr[1] = payload->size >> 16;
	hdr[2] = payload->size >> 8;
	hdr[3] = payload->size;
	if (abuf_add(&a->outq, hdr, 4) != 0 || abuf_add(&a->outq, payload->data, payload->size) != 0)
		return FRAME_ENOMEM;
	return agent_flush(a, 0);
}

size_t
agent_out_pending(const struct agent *a)
{
	return abuf_live(&a->outq) + a->splice_left;
}

void
agent_out_init(struct agent *a)
{
	struct stat st;

	a->splice_fd = -1;
	if (fstat(a->out_fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		a->splice_ok = 1;
		/* Room for a few frames, so a splice seldom stops half way.
		 * Best effort: the user's pipe quota may refuse it. */
		(void)fcntl(a->out_fd, F_SETPIPE_SZ, (int)AGENT_OUT_PIPE);
	}
}

int
agent_flush(struct agent *a, int block)
{
	while (agent_out_pending(a) > 0 && !a->out_broken) {
		ssize_t w;

		if (a->splice_left > 0 && a->splice_before == 0) {
			w = splice(a->splice_fd, NULL, a->out_fd, NULL, a->splice_left, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (w > 0) {
				a->splice_left -= (size_t)w;
				continue;
			}
			/* 0: the child's pipe lost bytes FIONREAD counted, which
			 * cannot happen; the frame cannot be completed either way. */
			if (w == 0)
				goto broken;
		} else {
			size_t len = abuf_live(&a->outq);

			if (a->splice_left > 0 && len > a->splice_before)
				len = a->splice_before;
			w = write(a->out_fd, a->outq.data + a->outq.off, len);
			if (w > 0) {
				abuf_consume(&a->outq, (size_t)w);
				if (a->splice_left > 0)
					a->splice_before -= (size_t)w;
				continue;
			}
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = a->out_fd, .events = POLLOUT };

			if (!block)
				return FRAME_OK;
			if (poll(&p, 1, 5000) <= 0)
				goto broken;  /* a reader that stalls for 5 s at exit is gone */
			continue;
		}
broken:
		/* The coordinator is gone: keep running only to end the children. */
		a->out_broken = 1;
		abuf_free(&a->outq);
		a->splice_left = a->splice_before = 0;
		a->splice_fd = -1;
		return FRAME_EIO;
	}
	return FRAME_OK;
}

static void
pack_head(msgpack_packer *pk, const char *t, uint64_t id, uint32_t nfields)
{
	msgpack_pack_map(pk, nfields + 2);
	frame_pack_kv_str(pk, "t", t);
	frame_pack_str(pk, "id");
	msgpack_pack_uint64(pk, id);
}

static int
send_packed(struct agent *a, msgpack_sbuffer *sb)
{
	int rc = agent_send(a, sb);

	msgpack_sbuffer_destroy(sb);
	return rc;
}

int
agent_send_error(struct agent *a, uint64_t id, const char *code, const char *fmt, ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_head(&pk, "error", id, 2);
	frame_pack_kv_str(&pk, "code", code);
	frame_pack_kv_str(&pk, "message", msg);
	return send_packed(a, &sb);
}

/* The exit frame; err is the start error or NULL. */
static int
send_exit(struct agent *a, uint64_t id, const struct req *r, const char *err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_head(&pk, "exit", id, 6);
	frame_pack_str(&pk, "status");
	if (r && WIFEXITED(r->status))
		msgpack_pack_int(&pk, WEXITSTATUS(r->status));
	else
		msgpack_pack_nil(&pk);
	frame_pack_str(&pk, "signal");
	if (r && WIFSIGNALED(r->status))
		msgpack_pack_int(&pk, WTERMSIG(r->status));
	else
		msgpack_pack_nil(&pk);
	frame_pack_str(&pk, "duration_ms");
	msgpack_pack_uint64(&pk, r ? (uint64_t)(r->end_ms - r->start_ms) : 0);
	frame_pack_str(&pk, "timed_out");
	if (r && r->timed_out)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	frame_pack_str(&pk, "cancelled");
	if (r && r->cancelled)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	frame_pack_str(&pk, "error");
	if (err)
		frame_pack_str(&pk, err);
	else
		msgpack_pack_nil(&pk);
	return send_packed(a, &sb);
}

int
agent_send_exit(struct agent *a, const struct req *r)
{
	return send_exit(a, r->id, r, NULL);
}

int
agent_send_start_error(struct agent *a, uint64_t id, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_exit(a, id, NULL, msg);
}

/* An "out" frame with a fixed-size head (id as uint64, data as bin32, both
 * valid msgpack), so the child's bytes can be read straight into the reply
 * queue behind it: no intermediate buffer, no copy. */
static const unsigned char out_head[] = {
	0, 0, 0, 0,                                   /* frame length */
	0x84,                                         /* map of 4 */
	0xa1, 't', 0xa3, 'o', 'u', 't',
	0xa2, 'i', 'd', 0xcf, 0, 0, 0, 0, 0, 0, 0, 0,  /* uint64 id */
	0xa2, 'f', 'd', 0x00,                         /* fixint fd */
	0xa4, 'd', 'a', 't', 'a', 0xc6, 0, 0, 0, 0,   /* bin32 length */
};
#define OUT_ID_AT 15
#define OUT_FD_AT 26
#define OUT_LEN_AT 33

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Fills an out frame's head for a payload of n bytes. */
static void
out_head_fill(unsigned char *h, uint64_t id, int which, size_t n)
{
	memcpy(h, out_head, sizeof(out_head));
	put_be(h, sizeof(out_head) - 4 + n, 4);
	put_be(h + OUT_ID_AT, id, 8);
	h[OUT_FD_AT] = (unsigned char)which;
	put_be(h + OUT_LEN_AT, (uint64_t)n, 4);
}

ssize_t
agent_read_out(struct agent *a, uint64_t id, int which, int fd)
{
	unsigned char *h;
	ssize_t n;
	int avail = 0;

	if (a->out_broken) {
		char sink[FRAME_DATA_CHUNK];

		return read(fd, sink, sizeof(sink));
	}
	if (a->splice_left > 0 && fd == a->splice_fd) {
		/* Its bytes are promised to the frame being spliced. */
		errno = EAGAIN;
		return -1;
	}
	if (a->splice_ok && agent_out_pending(a) == 0 && ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		size_t take = (size_t)avail < FRAME_OUT_CHUNK ? (size_t)avail : FRAME_OUT_CHUNK;

		if (abuf_reserve(&a->outq, sizeof(out_head)) != FRAME_OK) {
			errno = ENOMEM;
			return -1;
		}
		out_head_fill((unsigned char *)a->outq.data + a->outq.len, id, which, take);
		a->outq.len += sizeof(out_head);
		a->splice_fd = fd;
		a->splice_left = take;
		a->splice_before = sizeof(out_head);
		agent_flush(a, 0);
		return (ssize_t)take;
	}
	/* Copy path (stdout not a pipe, output already pending, or nothing
	 * counted: EOF is told by read() returning 0). */
	if (abuf_reserve(&a->outq, sizeof(out_head) + FRAME_DATA_CHUNK) != FRAME_OK) {
		errno = ENOMEM;
		return -1;
	}
	h = (unsigned char *)a->outq.data + a->outq.len;
	n = read(fd, h + sizeof(out_head), FRAME_DATA_CHUNK);
	if (n <= 0)
		return n;
	out_head_fill(h, id, which, (size_t)n);
	a->outq.len += sizeof(out_head) + (size_t)n;
	agent_flush(a, 0);
	return n;
}

char *
agent_strdup_obj(const msgpack_object *o)
{
	char *s;

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	if (o->via.str.size > 0 && memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return NULL;
	if ((s = malloc(o->via.str.size + 1)) == NULL)
		return NULL;
	if (o->via.str.size > 0)
		memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

char **
agent_argv_from(const char *const *prefix, size_t nprefix, const msgpack_object *arr)
{
	size_t n = arr ? arr->via.array.size : 0;
	char **argv;

	if (arr != NULL && arr->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	if ((argv = calloc(nprefix + n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (size_t i = 0; i < nprefix; i++)
		if ((argv[i] = strdup(prefix[i])) == NULL)
			goto fail;
	for (size_t i = 0; i < n; i++)
		if ((argv[nprefix + i] = agent_strdup_obj(&arr->via.array.ptr[i])) == NULL)
			goto fail;
	return argv;
fail:
	agent_argv_free(argv);
	return NULL;
}

void
agent_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}
