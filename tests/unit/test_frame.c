/* Unit tests for proto/frame.c: round trips, and hostile input that must fail
 * cleanly and without allocating what it claims (giant lengths, huge counts,
 * deep nesting, truncation, non-map payloads). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "frame.h"

/* A framed message {"t":"out","id":7,"data":bin(n bytes of 'x')}; caller
 * destroys the sbuffer. */
static void
make_frame(msgpack_sbuffer *framed, const char *t, uint64_t id, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *data = malloc(n ? n : 1);

	memset(data, 'x', n);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	frame_pack_str(&pk, "t");
	frame_pack_str(&pk, t);
	frame_pack_str(&pk, "id");
	msgpack_pack_uint64(&pk, id);
	frame_pack_str(&pk, "data");
	msgpack_pack_bin(&pk, n);
	msgpack_pack_bin_body(&pk, data, n);
	msgpack_sbuffer_init(framed);
	assert_int_equal(frame_wrap_sbuf(framed, &sb), FRAME_OK);
	msgpack_sbuffer_destroy(&sb);
	free(data);
}

/* Feeds a 4-byte prefix + payload and returns what next() says. */
static int
feed_payload(const unsigned char *payload, size_t n)
{
	struct frame_reader *r = frame_reader_new();
	unsigned char hdr[4] = { n >> 24, n >> 16, n >> 8, n };
	msgpack_zone zone;
	msgpack_object o;
	int rc;

	assert_non_null(r);
	msgpack_zone_init(&zone, 1024);
	rc = frame_reader_feed(r, hdr, 4);
	if (rc == FRAME_OK)
		rc = frame_reader_feed(r, payload, n);
	if (rc == FRAME_OK)
		rc = frame_reader_next(r, &zone, &o);
	msgpack_zone_destroy(&zone);
	frame_reader_free(r);
	return rc;
}

static void
test_round_trip(void **state)
{
	msgpack_sbuffer f;
	struct frame_reader *r = frame_reader_new();
	msgpack_zone zone;
	msgpack_object o;
	uint64_t id = 0;
	size_t len = 0;
	const msgpack_object *d;

	(void)state;
	make_frame(&f, "out", 7, 100);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(frame_reader_feed(r, f.data, f.size), FRAME_OK);
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_OK);
	assert_non_null(frame_get_str(&o, "t", &len));
	assert_int_equal(len, 3);
	assert_true(frame_str_eq(frame_get(&o, "t"), "out"));
	assert_true(frame_get_u64(&o, "id", &id));
	assert_int_equal(id, 7);
	d = frame_get(&o, "data");
	assert_non_null(d);
	assert_int_equal(d->type, MSGPACK_OBJECT_BIN);
	assert_int_equal(d->via.bin.size, 100);
	assert_null(frame_get(&o, "missing"));
	assert_null(frame_get_str(&o, "id", &len));   /* wrong type */
	assert_false(frame_get_u64(&o, "t", &id));
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EAGAIN);
	assert_int_equal(frame_reader_eof(r), FRAME_EEOF);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&f);
	frame_reader_free(r);
}

/* The decoded object must stay valid after the reader moves on and reuses
 * its buffer (objects point into the caller's zone, not the reader). */
static void
test_object_outlives_reader_buffer(void **state)
{
	msgpack_sbuffer a, b;
	struct frame_reader *r = frame_reader_new();
	msgpack_zone zone;
	msgpack_object o1, o2;

	(void)state;
	make_frame(&a, "aaa", 1, 10);
	make_frame(&b, "bbb", 2, 5000);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(frame_reader_feed(r, a.data, a.size), FRAME_OK);
	assert_int_equal(frame_reader_next(r, &zone, &o1), FRAME_OK);
	assert_int_equal(frame_reader_feed(r, b.data, b.size), FRAME_OK);
	assert_int_equal(frame_reader_next(r, &zone, &o2), FRAME_OK);
	assert_true(frame_str_eq(frame_get(&o1, "t"), "aaa"));
	assert_true(frame_str_eq(frame_get(&o2, "t"), "bbb"));
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&a);
	msgpack_sbuffer_destroy(&b);
	frame_reader_free(r);
}

/* Reading straight into the reader: space/commit in uneven pieces gives the
 * same frames as feed, in-place objects point into the reader's buffer,
 * and a giant length prefix is refused at commit, before its payload. */
static void
test_space_commit_inplace(void **state)
{
	msgpack_sbuffer all, f;
	struct frame_reader *r = frame_reader_new();
	msgpack_zone zone;
	msgpack_object o;
	const msgpack_object *d;
	void *space;
	size_t avail, off = 0, step = 7;
	uint64_t id;
	int got = 0;

	(void)state;
	msgpack_sbuffer_init(&all);
	for (int i = 0; i < 4; i++) {
		make_frame(&f, "out", (uint64_t)i, 20000 + (size_t)i);
		msgpack_sbuffer_write(&all, f.data, f.size);
		msgpack_sbuffer_destroy(&f);
	}
	msgpack_zone_init(&zone, 1024);
	while (off < all.size) {
		size_t n;

		assert_int_equal(frame_reader_space(r, 100, &space, &avail), FRAME_OK);
		assert_true(avail >= 100);
		n = all.size - off < step ? all.size - off : step;
		n = n < avail ? n : avail;
		memcpy(space, all.data + off, n);
		assert_int_equal(frame_reader_commit(r, n), FRAME_OK);
		off += n;
		step = step * 3 % 30011 + 1;
		while (frame_reader_next_inplace(r, &zone, &o) == FRAME_OK) {
			assert_true(frame_get_u64(&o, "id", &id));
			assert_int_equal(id, (uint64_t)got);
			d = frame_get(&o, "data");
			assert_non_null(d);
			assert_int_equal(d->via.bin.size, 20000 + (size_t)got);
			assert_int_equal(d->via.bin.ptr[0], 'x');
			assert_int_equal(d->via.bin.ptr[d->via.bin.size - 1], 'x');
			got++;
			msgpack_zone_clear(&zone);
		}
	}
	assert_int_equal(got, 4);
	assert_int_equal(frame_reader_eof(r), FRAME_EEOF);
	/* more than the space given is refused, and a giant prefix at once */
	assert_int_equal(frame_reader_space(r, 8, &space, &avail), FRAME_OK);
	memcpy(space, "\x7f\xff\xff\xff", 4);
	assert_int_equal(frame_reader_commit(r, 4), FRAME_ETOOBIG);
	assert_int_equal(frame_reader_next_inplace(r, &zone, &o), FRAME_ETOOBIG);
	frame_reader_free(r);
	r = frame_reader_new();
	assert_int_equal(frame_reader_space(r, 8, &space, &avail), FRAME_OK);
	assert_int_equal(frame_reader_commit(r, avail + 1), FRAME_ENOMEM);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&all);
	frame_reader_free(r);
}

static void
test_byte_at_a_time(void **state)
{
	msgpack_sbuffer f;
	struct frame_reader *r = frame_reader_new();
	msgpack_zone zone;
	msgpack_object o;
	uint64_t id;

	(void)state;
	make_frame(&f, "out", 42, 300);
	msgpack_zone_init(&zone, 1024);
	for (size_t i = 0; i < f.size; i++) {
		assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EAGAIN);
		assert_int_equal(frame_reader_eof(r), i == 0 ? FRAME_EEOF : FRAME_ETRUNC);
		assert_int_equal(frame_reader_feed(r, f.data + i, 1), FRAME_OK);
	}
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_OK);
	assert_true(frame_get_u64(&o, "id", &id));
	assert_int_equal(id, 42);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&f);
	frame_reader_free(r);
}

static void
test_several_frames_in_one_feed(void **state)
{
	msgpack_sbuffer all;
	struct frame_reader *r = frame_reader_new();
	msgpack_zone zone;
	msgpack_object o;
	uint64_t id;

	(void)state;
	msgpack_sbuffer_init(&all);
	for (int i = 0; i < 5; i++) {
		msgpack_sbuffer f;

		make_frame(&f, "out", (uint64_t)i, (size_t)i * 1000);
		msgpack_sbuffer_write(&all, f.data, f.size);
		msgpack_sbuffer_destroy(&f);
	}
	/* and half of a sixth */
	msgpack_sbuffer_write(&all, "\0\0\0\x10\x81", 5);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(frame_reader_feed(r, all.data, all.size), FRAME_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_OK);
		assert_true(frame_get_u64(&o, "id", &id));
		assert_int_equal(id, (uint64_t)i);
	}
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EAGAIN);
	assert_int_equal(frame_reader_buffered(r), 5);
	assert_int_equal(frame_reader_eof(r), FRAME_ETRUNC);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&all);
	frame_reader_free(r);
}

/* A giant length fails from its 4 prefix bytes alone, and the error sticks. */
static void
test_giant_and_zero_length(void **state)
{
	static const unsigned char giant[] = { 0xff, 0xff, 0xff, 0xff };
	static const unsigned char over[] = { 0x00, 0x10, 0x00, 0x01 };  /* FRAME_MAX+1 */
	static const unsigned char zero[] = { 0, 0, 0, 0 };
	const unsigned char *cases[] = { giant, over, zero };
	msgpack_sbuffer ok;

	(void)state;
	make_frame(&ok, "out", 1, 1);
	for (size_t i = 0; i < 3; i++) {
		struct frame_reader *r = frame_reader_new();
		msgpack_zone zone;
		msgpack_object o;

		msgpack_zone_init(&zone, 1024);
		assert_int_equal(frame_reader_feed(r, cases[i], 4), FRAME_ETOOBIG);
		assert_int_equal(frame_reader_buffered(r), 4);
		/* final: a good frame afterwards is refused too */
		assert_int_equal(frame_reader_feed(r, ok.data, ok.size), FRAME_ETOOBIG);
		assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_ETOOBIG);
		assert_int_equal(frame_reader_eof(r), FRAME_ETOOBIG);
		msgpack_zone_destroy(&zone);
		frame_reader_free(r);
	}
	/* A giant length behind a good frame in the same feed fails at feed. */
	{
		struct frame_reader *r = frame_reader_new();
		msgpack_sbuffer two;

		msgpack_sbuffer_init(&two);
		msgpack_sbuffer_write(&two, ok.data, ok.size);
		msgpack_sbuffer_write(&two, (const char *)giant, 4);
		assert_int_equal(frame_reader_feed(r, two.data, two.size), FRAME_ETOOBIG);
		msgpack_sbuffer_destroy(&two);
		frame_reader_free(r);
	}
	/* FRAME_MAX itself is accepted by the length check. */
	{
		unsigned char *big = calloc(1, FRAME_MAX);

		/* map16 of 1 entry: key bin32 holding the rest, value nil */
		big[0] = 0x81;
		big[1] = 0xc6;
		uint32_t n = FRAME_MAX - 7;
		big[2] = n >> 24; big[3] = n >> 16; big[4] = n >> 8; big[5] = n;
		big[FRAME_MAX - 1] = 0xc0;
		assert_int_equal(frame_check(big, FRAME_MAX), FRAME_OK);
		assert_int_equal(feed_payload(big, FRAME_MAX), FRAME_OK);
		assert_int_equal(frame_check(big, FRAME_MAX + 1), FRAME_ETOOBIG);
		free(big);
	}
	msgpack_sbuffer_destroy(&ok);
}

/* Claimed counts far beyond the bytes present: refused by frame_check
 * before msgpack-c could allocate for them. */
static void
test_huge_claimed_counts(void **state)
{
	static const struct { unsigned char b[16]; size_t n; } cases[] = {
		{ { 0xdf, 0xff, 0xff, 0xff, 0xff }, 5 },                 /* map32 4G */
		{ { 0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff }, 8 }, /* array32 4G */
		{ { 0x81, 0xa1, 'a', 0xdc, 0xff, 0xff }, 6 },             /* array16 64K */
		{ { 0x81, 0xa1, 'a', 0xde, 0xff, 0xff }, 6 },             /* map16 64K */
		{ { 0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff }, 8 }, /* str32 4G */
		{ { 0x81, 0xa1, 'a', 0xc6, 0xff, 0xff, 0xff, 0xff }, 8 }, /* bin32 4G */
		{ { 0x81, 0xa1, 'a', 0xc9, 0xff, 0xff, 0xff, 0xff, 1 }, 9 }, /* ext32 */
		{ { 0x81, 0xa1, 'a', 0xd9, 0x05, 'x' }, 6 },              /* str8 5, 1 there */
		{ { 0x81, 0xa1, 'a', 0x93, 1, 2 }, 6 },                   /* array of 3, 2 there */
		{ { 0x82, 0xa1, 'a', 1 }, 4 },                            /* map of 2, 1 there */
		/* array of 4 fixints but two bytes short once the map's own value counts */
		{ { 0x82, 0xa1, 'a', 0x94, 1, 2, 3, 4, 0xa1 }, 9 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(frame_check(cases[i].b, cases[i].n), FRAME_EMALFORMED);
		assert_int_equal(feed_payload(cases[i].b, cases[i].n), FRAME_EMALFORMED);
	}
	/* A count exactly as large as the bytes allow is fine. */
	{
		static const unsigned char fits[] = { 0x81, 0xa1, 'a', 0x94, 1, 2, 3, 4 };

		assert_int_equal(frame_check(fits, sizeof(fits)), FRAME_OK);
	}
	/* A real 1 MiB frame that claims many small items decodes (bounded). */
	{
		size_t n = FRAME_MAX;
		unsigned char *p = malloc(n);
		uint32_t items = (uint32_t)(n - 8 + 1);  /* one more than the bytes left */

		p[0] = 0x81; p[1] = 0xa1; p[2] = 'a';
		p[3] = 0xdd; p[4] = items >> 24; p[5] = items >> 16; p[6] = items >> 8; p[7] = items;
		memset(p + 8, 0x01, n - 8);
		assert_int_equal(frame_check(p, n), FRAME_EMALFORMED);
		items = (uint32_t)(n - 8);
		p[4] = items >> 24; p[5] = items >> 16; p[6] = items >> 8; p[7] = items;
		assert_int_equal(frame_check(p, n), FRAME_OK);
		assert_int_equal(feed_payload(p, n), FRAME_OK);
		free(p);
	}
}

static void
test_deep_nesting(void **state)
{
	unsigned char buf[64];
	size_t n;

	(void)state;
	/* map -> "a" -> array -> array ... : depth d holds d containers */
	for (unsigned d = 1; d <= FRAME_DEPTH_MAX + 2; d++) {
		n = 0;
		buf[n++] = 0x81;
		buf[n++] = 0xa1;
		buf[n++] = 'a';
		for (unsigned i = 1; i < d; i++)
			buf[n++] = 0x91;
		buf[n++] = 0xc0;
		assert_int_equal(frame_check(buf, n), d <= FRAME_DEPTH_MAX ? FRAME_OK : FRAME_EMALFORMED);
		assert_int_equal(feed_payload(buf, n), d <= FRAME_DEPTH_MAX ? FRAME_OK : FRAME_EMALFORMED);
	}
	/* depth counted for empty containers too */
	n = 0;
	buf[n++] = 0x81; buf[n++] = 0xa1; buf[n++] = 'a';
	for (unsigned i = 1; i < FRAME_DEPTH_MAX; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x90;
	assert_int_equal(frame_check(buf, n), FRAME_EMALFORMED);
	/* siblings after a deep branch close back correctly */
	{
		static const unsigned char sib[] = { 0x82, 0xa1, 'a', 0x92, 0x91, 0x90, 0x80, 0xa1, 'b', 0x05 };

		assert_int_equal(frame_check(sib, sizeof(sib)), FRAME_OK);
		assert_int_equal(feed_payload(sib, sizeof(sib)), FRAME_OK);
	}
}

static void
test_not_one_map(void **state)
{
	static const struct { unsigned char b[8]; size_t n; } cases[] = {
		{ { 0x91, 0x01 }, 2 },           /* array */
		{ { 0xa1, 'x' }, 2 },            /* str */
		{ { 0x05 }, 1 },                 /* int */
		{ { 0xc0 }, 1 },                 /* nil */
		{ { 0x80, 0x80 }, 2 },           /* two maps */
		{ { 0x80, 0x00 }, 2 },           /* trailing byte */
		{ { 0x81, 0xa1, 'a', 0xc1 }, 4 },/* the never-used byte */
		{ { 0x81, 0xa1, 'a', 0xcb, 0, 0 }, 6 }, /* truncated float64 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(frame_check(cases[i].b, cases[i].n), FRAME_EMALFORMED);
		assert_int_equal(feed_payload(cases[i].b, cases[i].n), FRAME_EMALFORMED);
	}
	assert_int_equal(frame_check("\x80", 1), FRAME_OK);
	assert_int_equal(frame_check(NULL, 0), FRAME_EMALFORMED);
}

/* Every prefix of a good frame is "not yet" while streaming, then a
 * truncation at end of stream. */
static void
test_truncated(void **state)
{
	msgpack_sbuffer f;

	(void)state;
	make_frame(&f, "exit", 3, 50);
	for (size_t cut = 1; cut < f.size; cut++) {
		struct frame_reader *r = frame_reader_new();
		msgpack_zone zone;
		msgpack_object o;

		msgpack_zone_init(&zone, 256);
		assert_int_equal(frame_reader_feed(r, f.data, cut), FRAME_OK);
		assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EAGAIN);
		assert_int_equal(frame_reader_eof(r), FRAME_ETRUNC);
		/* and each shortened payload is malformed on its own */
		if (cut > 4)
			assert_int_equal(frame_check(f.data + 4, cut - 4), FRAME_EMALFORMED);
		msgpack_zone_destroy(&zone);
		frame_reader_free(r);
	}
	msgpack_sbuffer_destroy(&f);
}

static void
test_error_is_final(void **state)
{
	static const unsigned char bad[] = { 0, 0, 0, 2, 0x91, 0x01 };
	struct frame_reader *r = frame_reader_new();
	msgpack_sbuffer ok;
	msgpack_zone zone;
	msgpack_object o;

	(void)state;
	make_frame(&ok, "out", 1, 1);
	msgpack_zone_init(&zone, 256);
	assert_int_equal(frame_reader_feed(r, bad, sizeof(bad)), FRAME_OK);
	assert_int_equal(frame_reader_feed(r, ok.data, ok.size), FRAME_OK);
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EMALFORMED);
	assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_EMALFORMED);
	assert_int_equal(frame_reader_feed(r, ok.data, ok.size), FRAME_EMALFORMED);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&ok);
	frame_reader_free(r);
}

static void
test_write_and_limits(void **state)
{
	int fds[2];
	msgpack_sbuffer sb, out;
	msgpack_packer pk;
	unsigned char got[64];
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(frame_write_sbuf(fds[1], &sb), FRAME_ETOOBIG);  /* empty */
	msgpack_pack_map(&pk, 1);
	frame_pack_kv_str(&pk, "t", "bye");
	assert_int_equal(frame_write_sbuf(fds[1], &sb), FRAME_OK);
	n = read(fds[0], got, sizeof(got));
	assert_int_equal(n, 4 + (ssize_t)sb.size);
	assert_memory_equal(got, "\0\0\0\x07", 4);
	assert_memory_equal(got + 4, sb.data, sb.size);
	close(fds[0]);
	assert_int_equal(frame_write_sbuf(fds[1], &sb), FRAME_EIO);  /* EPIPE; SIGPIPE ignored below */
	close(fds[1]);
	assert_int_equal(frame_write_sbuf(-1, &sb), FRAME_EIO);
	msgpack_sbuffer_init(&out);
	sb.size = FRAME_MAX + 1;  /* only the size is looked at */
	assert_int_equal(frame_wrap_sbuf(&out, &sb), FRAME_ETOOBIG);
	assert_int_equal(out.size, 0);
	sb.size = 7;
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&out);
	assert_non_null(frame_strerror(FRAME_ETRUNC));
	assert_string_not_equal(frame_strerror(FRAME_ETRUNC), frame_strerror(-99));
}

static void
test_i64_and_bool(void **state)
{
	static const unsigned char m[] = { 0x84, 0xa1, 'a', 0xff, 0xa1, 'b', 0xcf, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xa1, 'c', 0xc3, 0xa1, 'd', 0x07 };
	msgpack_zone zone;
	msgpack_object o;
	size_t off = 0;
	int64_t v;
	int b;

	(void)state;
	assert_int_equal(frame_check(m, sizeof(m)), FRAME_OK);
	msgpack_zone_init(&zone, 256);
	assert_int_equal(msgpack_unpack((const char *)m, sizeof(m), &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);
	assert_true(frame_get_i64(&o, "a", &v));
	assert_int_equal(v, -1);
	assert_false(frame_get_i64(&o, "b", &v));  /* above INT64_MAX */
	assert_true(frame_get_bool(&o, "c", &b));
	assert_true(b);
	assert_false(frame_get_bool(&o, "d", &b));
	assert_true(frame_get_i64(&o, "d", &v));
	assert_int_equal(v, 7);
	msgpack_zone_destroy(&zone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_object_outlives_reader_buffer),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_space_commit_inplace),
		cmocka_unit_test(test_several_frames_in_one_feed),
		cmocka_unit_test(test_giant_and_zero_length),
		cmocka_unit_test(test_huge_claimed_counts),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_not_one_map),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_error_is_final),
		cmocka_unit_test(test_write_and_limits),
		cmocka_unit_test(test_i64_and_bool),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
