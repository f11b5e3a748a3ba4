/* Unit tests for proto/msg.c: requests built by msg_* decode to what
 * PROTOCOL.md says, and replies that break the protocol are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"

/* Decodes the single frame in sb into o (zone owned by the caller). */
static void
decode_one(msgpack_sbuffer *sb, msgpack_zone *zone, msgpack_object *o)
{
	struct frame_reader *r = frame_reader_new();

	assert_int_equal(frame_reader_feed(r, sb->data, sb->size), FRAME_OK);
	assert_int_equal(frame_reader_next(r, zone, o), FRAME_OK);
	assert_int_equal(frame_reader_buffered(r), 0);
	frame_reader_free(r);
}

static void
test_run_request(void **state)
{
	const char *argv[] = { "ls", "-l", NULL };
	const char *env[] = { "A", "1", "B", "two words", NULL };
	struct msg_run m = { .id = 9, .argv = argv, .env = env, .cwd = "/tmp", .want_stdin = 1, .timeout_ms = 1500 };
	msgpack_sbuffer sb;
	msgpack_zone zone;
	msgpack_object o;
	const msgpack_object *a, *e;
	uint64_t u;
	int b;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(msg_run(&sb, &m), FRAME_OK);
	decode_one(&sb, &zone, &o);
	assert_true(frame_str_eq(frame_get(&o, "t"), "run"));
	assert_true(frame_get_u64(&o, "id", &u) && u == 9);
	a = frame_get(&o, "argv");
	assert_int_equal(a->via.array.size, 2);
	assert_true(frame_str_eq(&a->via.array.ptr[1], "-l"));
	e = frame_get(&o, "env");
	assert_int_equal(e->via.map.size, 2);
	assert_true(frame_str_eq(frame_get(e, "B"), "two words"));
	assert_true(frame_str_eq(frame_get(&o, "cwd"), "/tmp"));
	assert_true(frame_get_bool(&o, "stdin", &b) && b);
	assert_true(frame_get_u64(&o, "timeout_ms", &u) && u == 1500);
	assert_null(frame_get(&o, "app_dir"));
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
	/* refused before anything is sent */
	msgpack_sbuffer_init(&sb);
	m.id = 0;
	assert_int_equal(msg_run(&sb, &m), FRAME_EMALFORMED);
	m.id = 1;
	m.argv = NULL;
	assert_int_equal(msg_run(&sb, &m), FRAME_EMALFORMED);
	assert_int_equal(msg_stdin(&sb, 1, "x", 0), FRAME_EMALFORMED);
	assert_int_equal(msg_stdin(&sb, 1, "x", FRAME_DATA_CHUNK + 1), FRAME_EMALFORMED);
	assert_int_equal(sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_manage_and_small_requests(void **state)
{
	const char *args[] = { "migrate", NULL };
	struct msg_run m = { .id = 3, .argv = args, .python = "/v/*/bin/python" };
	msgpack_sbuffer sb;
	msgpack_zone zone;
	msgpack_object o;
	struct frame_reader *r = frame_reader_new();
	const char *types[] = { "manage", "hello", "stdin", "stdin", "cancel", "bye" };

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(msg_manage(&sb, &m), FRAME_OK);
	assert_int_equal(msg_hello(&sb), FRAME_OK);
	assert_int_equal(msg_stdin(&sb, 3, "abc", 3), FRAME_OK);
	assert_int_equal(msg_stdin_eof(&sb, 3), FRAME_OK);
	assert_int_equal(msg_cancel(&sb, 3), FRAME_OK);
	assert_int_equal(msg_bye(&sb), FRAME_OK);
	assert_int_equal(frame_reader_feed(r, sb.data, sb.size), FRAME_OK);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(frame_reader_next(r, &zone, &o), FRAME_OK);
		assert_true(frame_str_eq(frame_get(&o, "t"), types[i]));
		if (i == 0) {
			assert_true(frame_str_eq(frame_get(&o, "python"), "/v/*/bin/python"));
			assert_null(frame_get(&o, "app_dir"));   /* agent default */
			assert_true(frame_str_eq(&frame_get(&o, "args")->via.array.ptr[0], "migrate"));
		}
		if (i == 3) {
			int b;

			assert_true(frame_get_bool(&o, "eof", &b) && b);
		}
	}
	frame_reader_free(r);
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
}

/* Parses a reply built by hand (payload only). */
static int
parse(void (*build)(msgpack_packer *), struct msg_reply *m, msgpack_zone *zone)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_object o;
	size_t off = 0;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	build(&pk);
	assert_int_equal(msgpack_unpack(sb.data, sb.size, &off, zone, &o), MSGPACK_UNPACK_SUCCESS);
	rc = msg_parse_reply(&o, m);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static void b_exit_signal(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 8);
	frame_pack_kv_str(pk, "t", "exit");
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 4);
	frame_pack_str(pk, "status"); msgpack_pack_nil(pk);
	frame_pack_str(pk, "signal"); msgpack_pack_int(pk, 9);
	frame_pack_str(pk, "duration_ms"); msgpack_pack_uint64(pk, 12);
	frame_pack_str(pk, "timed_out"); msgpack_pack_true(pk);
	frame_pack_str(pk, "cancelled"); msgpack_pack_false(pk);
	frame_pack_str(pk, "error"); msgpack_pack_nil(pk);
}

/* Neither status nor signal nor error: must not read as success. */
static void b_exit_nothing(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 5);
	frame_pack_kv_str(pk, "t", "exit");
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 4);
	frame_pack_str(pk, "status"); msgpack_pack_nil(pk);
	frame_pack_str(pk, "signal"); msgpack_pack_nil(pk);
	frame_pack_str(pk, "duration_ms"); msgpack_pack_uint64(pk, 12);
}

static void b_out_bad_fd(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	frame_pack_kv_str(pk, "t", "out");
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 4);
	frame_pack_str(pk, "fd"); msgpack_pack_int(pk, 3);
	frame_pack_str(pk, "data"); msgpack_pack_bin(pk, 1); msgpack_pack_bin_body(pk, "x", 1);
}

static void b_out_str_data(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	frame_pack_kv_str(pk, "t", "out");
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 4);
	frame_pack_str(pk, "fd"); msgpack_pack_int(pk, 1);
	frame_pack_kv_str(pk, "data", "text is not bin");
}

static void b_error(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	frame_pack_kv_str(pk, "t", "error");
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 0);
	frame_pack_kv_str(pk, "code", "version");
	frame_pack_kv_str(pk, "message", "other version");
}

static void b_future(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	frame_pack_kv_str(pk, "t", "log-line");
}

static void b_no_type(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	frame_pack_str(pk, "id"); msgpack_pack_uint64(pk, 4);
}

static void
test_parse_replies(void **state)
{
	struct msg_reply m;
	msgpack_zone zone;

	(void)state;
	msgpack_zone_init(&zone, 1024);
	assert_int_equal(parse(b_exit_signal, &m, &zone), FRAME_OK);
	assert_int_equal(m.type, MSG_EXIT);
	assert_int_equal(m.id, 4);
	assert_false(m.has_status);
	assert_true(m.has_signal);
	assert_int_equal(m.signal, 9);
	assert_true(m.timed_out);
	assert_false(m.cancelled);
	assert_null(m.error);
	assert_int_equal(parse(b_exit_nothing, &m, &zone), FRAME_EMALFORMED);
	assert_int_equal(parse(b_out_bad_fd, &m, &zone), FRAME_EMALFORMED);
	assert_int_equal(parse(b_out_str_data, &m, &zone), FRAME_EMALFORMED);
	assert_int_equal(parse(b_error, &m, &zone), FRAME_OK);
	assert_int_equal(m.type, MSG_ERROR);
	assert_int_equal(m.code_len, 7);
	assert_memory_equal(m.code, "version", 7);
	assert_int_equal(parse(b_future, &m, &zone), FRAME_OK);
	assert_int_equal(m.type, MSG_UNKNOWN);
	assert_int_equal(parse(b_no_type, &m, &zone), FRAME_EMALFORMED);
	msgpack_zone_destroy(&zone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_request),
		cmocka_unit_test(test_manage_and_small_requests),
		cmocka_unit_test(test_parse_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
