/* frame.c: length-prefixed msgpack frames, checked before msgpack-c sees them.
 *
 * msgpack-c 4 allocates for a container the count its header claims, so a
 * 6-byte "array of 4 billion" would cost gigabytes; frame_check() walks the
 * payload first (no allocation) and refuses anything whose counts cannot fit
 * the bytes that remain, or that nests deeper than FRAME_DEPTH_MAX.
 */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

const char *
frame_strerror(int code)
{
	switch (code) {
	case FRAME_OK: return "no error";
	case FRAME_EAGAIN: return "the frame is not complete yet";
	case FRAME_ETOOBIG: return "a frame declared a length of 0 or above the 1 MiB limit";
	case FRAME_EMALFORMED: return "a frame did not hold exactly one well-formed msgpack map";
	case FRAME_ENOMEM: return "out of memory while handling a frame";
	case FRAME_EIO: return "reading or writing frames failed";
	case FRAME_EEOF: return "the peer closed the connection";
	case FRAME_ETRUNC: return "the connection ended in the middle of a frame";
	default: return "unknown frame error";
	}
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
beN(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- checking ---------------------------------------------------------- */

/* What a msgpack type byte announces: the size of the fixed part after it
 * (fixed), the size of a length field after it (lenbytes) whose value counts
 * raw bytes (str/bin/ext, plus extra for ext's type byte), or a container
 * (items per count: 1 for arrays, 2 for maps; count either inline or in
 * lenbytes). */
struct tag {
	unsigned fixed;     /* bytes after the type byte for scalars */
	unsigned lenbytes;  /* size of the length/count field, 0 if inline */
	unsigned extra;     /* ext: the type byte after the length */
	unsigned items;     /* 0 for non-containers; 1 array, 2 map */
	uint32_t inl;       /* inline length/count (fixstr/fixarray/fixmap) */
	int raw;            /* length counts raw bytes (str, bin, ext) */
	int valid;
};

static struct tag
tag_of(unsigned char b)
{
	struct tag t = { .valid = 1 };

	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return t;
	if (b >= 0x80 && b <= 0x8f) { t.items = 2; t.inl = b & 0x0f; return t; }
	if (b >= 0x90 && b <= 0x9f) { t.items = 1; t.inl = b & 0x0f; return t; }
	if (b >= 0xa0 && b <= 0xbf) { t.raw = 1; t.inl = b & 0x1f; return t; }
	switch (b) {
	case 0xc4: case 0xd9: t.raw = 1; t.lenbytes = 1; break;  /* bin8, str8 */
	case 0xc5: case 0xda: t.raw = 1; t.lenbytes = 2; break;  /* bin16, str16 */
	case 0xc6: case 0xdb: t.raw = 1; t.lenbytes = 4; break;  /* bin32, str32 */
	case 0xc7: t.raw = 1; t.lenbytes = 1; t.extra = 1; break; /* ext8 */
	case 0xc8: t.raw = 1; t.lenbytes = 2; t.extra = 1; break; /* ext16 */
	case 0xc9: t.raw = 1; t.lenbytes = 4; t.extra = 1; break; /* ext32 */
	case 0xca: t.fixed = 4; break;
	case 0xcb: t.fixed = 8; break;
	case 0xcc: case 0xd0: t.fixed = 1; break;
	case 0xcd: case 0xd1: t.fixed = 2; break;
	case 0xce: case 0xd2: t.fixed = 4; break;
	case 0xcf: case 0xd3: t.fixed = 8; break;
	case 0xd4: t.fixed = 2; break;   /* fixext1: type + 1 */
	case 0xd5: t.fixed = 3; break;
	case 0xd6: t.fixed = 5; break;
	case 0xd7: t.fixed = 9; break;
	case 0xd8: t.fixed = 17; break;
	case 0xdc: t.items = 1; t.lenbytes = 2; break;
	case 0xdd: t.items = 1; t.lenbytes = 4; break;
	case 0xde: t.items = 2; t.lenbytes = 2; break;
	case 0xdf: t.items = 2; t.lenbytes = 4; break;
	default: t.valid = 0; break;      /* 0xc1: never used */
	}
	return t;
}

int
frame_check(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;
	/* Objects still expected, in all open containers together: each needs
	 * at least one byte, which bounds every count by the bytes left. */
	uint64_t need = 1;
	uint64_t left[FRAME_DEPTH_MAX];  /* items left per open container */
	unsigned depth = 0;

	if (buf == NULL || len == 0 || len > FRAME_MAX)
		return len > FRAME_MAX ? FRAME_ETOOBIG : FRAME_EMALFORMED;
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
		return FRAME_EMALFORMED;
	while (need > 0) {
		struct tag t;
		uint64_t n;

		if (off >= len)
			return FRAME_EMALFORMED;
		t = tag_of(p[off++]);
		need--;
		if (depth > 0)
			left[depth - 1]--;
		if (!t.valid)
			return FRAME_EMALFORMED;
		if (t.lenbytes > len - off)
			return FRAME_EMALFORMED;
		n = t.lenbytes ? beN(p + off, t.lenbytes) : t.inl;
		off += t.lenbytes;
		if (t.items) {
			uint64_t items = n * t.items;

			if (depth >= FRAME_DEPTH_MAX)
				return FRAME_EMALFORMED;
			if (items > (uint64_t)(len - off) || need + items > (uint64_t)(len - off))
				return FRAME_EMALFORMED;
			left[depth++] = items;
			need += items;
		} else if (t.raw) {
			if (t.extra + n > (uint64_t)(len - off))
				return FRAME_EMALFORMED;
			off += t.extra + (size_t)n;
		} else {
			if (t.fixed > len - off)
				return FRAME_EMALFORMED;
			off += t.fixed;
		}
		while (depth > 0 && left[depth - 1] == 0)
			depth--;
	}
	return off == len ? FRAME_OK : FRAME_EMALFORMED;
}

/* ---- reading ----------------------------------------------------------- */

struct frame_reader {
	unsigned char *buf;
	size_t start;   /* first byte not yet taken */
	size_t end;     /* one past the last byte fed */
	size_t cap;
	size_t scan;    /* next length prefix not yet checked (absolute) */
	int err;        /* first error; final for the stream */
};

struct frame_reader *
frame_reader_new(void)
{
	return calloc(1, sizeof(struct frame_reader));
}

void
frame_reader_free(struct frame_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

/* Checks every length prefix that is now whole, so a giant length fails at
 * once instead of after its payload was buffered. */
static int
reader_scan(struct frame_reader *r)
{
	while (r->end - r->scan >= 4) {
		uint32_t n = be32(r->buf + r->scan);

		if (n == 0 || n > FRAME_MAX)
			return r->err = FRAME_ETOOBIG;
		if (r->end - r->scan - 4 < n)
			break;
		r->scan += 4 + (size_t)n;
	}
	return FRAME_OK;
}

int
frame_reader_space(struct frame_reader *r, size_t min, void **buf, size_t *avail)
{
	if (r->err)
		return r->err;
	if (r->start > 0 && r->start == r->end) {
		r->scan -= r->start;
		r->start = r->end = 0;
	}
	if (r->cap - r->end < min) {
		size_t live = r->end - r->start;
		size_t want, ncap;
		unsigned char *nb;

		/* Compact first: taken frames leave room at the front. */
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, live);
			r->scan -= r->start;
			r->start = 0;
			r->end = live;
		}
		if (r->cap - r->end < min) {
			if (min > SIZE_MAX / 2 - live)
				return r->err = FRAME_ENOMEM;
			want = live + min;
			ncap = r->cap ? r->cap : 4096;
			while (ncap < want)
				ncap *= 2;
			nb = realloc(r->buf, ncap);
			if (nb == NULL)
				return r->err = FRAME_ENOMEM;
			r->buf = nb;
			r->cap = ncap;
		}
	}
	*buf = r->buf + r->end;
	*avail = r->cap - r->end;
	return FRAME_OK;
}

int
frame_reader_commit(struct frame_reader *r, size_t n)
{
	if (r->err)
		return r->err;
	if (n > r->cap - r->end)
		return r->err = FRAME_ENOMEM;   /* more than frame_reader_space gave */
	r->end += n;
	return reader_scan(r);
}

int
frame_reader_feed(struct frame_reader *r, const void *buf, size_t len)
{
	void *space;
	size_t avail;
	int rc;

	if (r->err)
		return r->err;
	if (len == 0)
		return FRAME_OK;
	if ((rc = frame_reader_space(r, len, &space, &avail)) != FRAME_OK)
		return rc;
	memcpy(space, buf, len);
	return frame_reader_commit(r, len);
}

/* Decodes the frame at r->start from src (the payload itself, or a copy). */
static int
reader_take(struct frame_reader *r, msgpack_zone *zone, msgpack_object *out, int copy)
{
	uint32_t n;
	const unsigned char *payload;
	const char *src;
	char *dup;
	size_t off = 0;
	int rc;

	if (r->err)
		return r->err;
	if (r->end - r->start < 4)
		return FRAME_EAGAIN;
	n = be32(r->buf + r->start);
	if (n == 0 || n > FRAME_MAX)
		return r->err = FRAME_ETOOBIG;
	if (r->end - r->start - 4 < n)
		return FRAME_EAGAIN;
	payload = r->buf + r->start + 4;
	if ((rc = frame_check(payload, n)) != FRAME_OK)
		return r->err = rc;
	src = (const char *)payload;
	if (copy) {
		/* msgpack_unpack points str/bin objects into its input; the copy
		 * in the caller's zone keeps them valid after the reader moves on. */
		if ((dup = msgpack_zone_malloc(zone, n)) == NULL)
			return r->err = FRAME_ENOMEM;
		memcpy(dup, payload, n);
		src = dup;
	}
	switch (msgpack_unpack(src, n, &off, zone, out)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return r->err = FRAME_ENOMEM;
	default:
		return r->err = FRAME_EMALFORMED;
	}
	if (off != n || out->type != MSGPACK_OBJECT_MAP)
		return r->err = FRAME_EMALFORMED;
	r->start += 4 + (size_t)n;
	return FRAME_OK;
}

int
frame_reader_next(struct frame_reader *r, msgpack_zone *zone, msgpack_object *out)
{
	return reader_take(r, zone, out, 1);
}

int
frame_reader_next_inplace(struct frame_reader *r, msgpack_zone *zone, msgpack_object *out)
{
	return reader_take(r, zone, out, 0);
}

int
frame_reader_eof(const struct frame_reader *r)
{
	if (r->err)
		return r->err;
	return r->end == r->start ? FRAME_EEOF : FRAME_ETRUNC;
}

size_t
frame_reader_buffered(const struct frame_reader *r)
{
	return r->end - r->start;
}

/* ---- writing ----------------------------------------------------------- */

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

int
frame_write_sbuf(int fd, const msgpack_sbuffer *sb)
{
	unsigned char hdr[4];
	struct iovec iov[2];
	int idx = 0;

	if (sb->size == 0 || sb->size > FRAME_MAX)
		return FRAME_ETOOBIG;
	put_be32(hdr, (uint32_t)sb->size);
	iov[0].iov_base = hdr;
	iov[0].iov_len = 4;
	iov[1].iov_base = sb->data;
	iov[1].iov_len = sb->size;
	while (idx < 2) {
		ssize_t w = writev(fd, iov + idx, 2 - idx);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return FRAME_EIO;
		}
		while (idx < 2 && (size_t)w >= iov[idx].iov_len) {
			w -= (ssize_t)iov[idx].iov_len;
			idx++;
		}
		if (idx < 2) {
			iov[idx].iov_base = (char *)iov[idx].iov_base + w;
			iov[idx].iov_len -= (size_t)w;
		}
	}
	return FRAME_OK;
}

int
frame_wrap_sbuf(msgpack_sbuffer *out, const msgpack_sbuffer *payload)
{
	unsigned char hdr[4];

	if (payload->size == 0 || payload->size > FRAME_MAX)
		return FRAME_ETOOBIG;
	put_be32(hdr, (uint32_t)payload->size);
	if (msgpack_sbuffer_write(out, (const char *)hdr, 4) != 0 ||
	    msgpack_sbuffer_write(out, payload->data, payload->size) != 0)
		return FRAME_ENOMEM;
	return FRAME_OK;
}

/* ---- lookups ----------------------------------------------------------- */

int
frame_str_eq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	    memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *
frame_get(const msgpack_object *map, const char *key)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++)
		if (frame_str_eq(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

const char *
frame_get_str(const msgpack_object *map, const char *key, size_t *len)
{
	const msgpack_object *o = frame_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	if (len)
		*len = o->via.str.size;
	/* A zero-length str may carry a NULL pointer; callers test for NULL. */
	return o->via.str.ptr ? o->via.str.ptr : "";
}

int
frame_get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
	const msgpack_object *o = frame_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return 0;
	*out = o->via.u64;
	return 1;
}

int
frame_get_i64(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = frame_get(map, key);

	if (o == NULL)
		return 0;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 1;
	}
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return 1;
	}
	return 0;
}

int
frame_get_bool(const msgpack_object *map, const char *key, int *out)
{
	const msgpack_object *o = frame_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN)
		return 0;
	*out = o->via.boolean;
	return 1;
}

/* ---- packing helpers --------------------------------------------------- */

int
frame_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	if (msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, s, n) != 0)
		return FRAME_ENOMEM;
	return FRAME_OK;
}

int
frame_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	if (frame_pack_str(pk, key) != 0 || frame_pack_str(pk, val) != 0)
		return FRAME_ENOMEM;
	return FRAME_OK;
}
