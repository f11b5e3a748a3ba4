/* Unit tests for remote/ssm_msg.c: the Session Manager data-channel message
 * layout (aws/session-manager-plugin src/message/messageparser.go) byte for
 * byte, and every malformed message refused with a sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "remote/ssm_msg.h"

static const unsigned char ID[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x46, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

static void
test_layout(void **state)
{
	struct sbuf b = SBUF_INIT;
	const unsigned char *p;
	unsigned char dg[32];
	char u[37];

	(void)state;
	ssm_msg_build(&b, "input_stream_data", 7, 1, SSM_PT_OUTPUT, "hello", 5, ID);
	assert_false(b.oom);
	assert_int_equal(b.len, 125);
	p = (const unsigned char *)b.s;
	assert_memory_equal(p, "\0\0\0\x74", 4);                     /* HeaderLength 116 */
	assert_memory_equal(p + 4, "input_stream_data               ", 32);   /* space padded */
	assert_memory_equal(p + 36, "\0\0\0\1", 4);                  /* SchemaVersion */
	assert_memory_equal(p + 48, "\0\0\0\0\0\0\0\7", 8);          /* SequenceNumber */
	assert_memory_equal(p + 56, "\0\0\0\0\0\0\0\1", 8);          /* Flags */
	assert_memory_equal(p + 64, ID + 8, 8);                      /* UUID low half first */
	assert_memory_equal(p + 72, ID, 8);
	SHA256((const unsigned char *)"hello", 5, dg);
	assert_memory_equal(p + 80, dg, 32);
	assert_memory_equal(p + 112, "\0\0\0\1\0\0\0\5hello", 13);
	ssm_uuid_str(ID, u);
	assert_string_equal(u, "00112233-4455-4677-8899-aabbccddeeff");
	sbuf_free(&b);
}

static void
test_roundtrip(void **state)
{
	struct sbuf b = SBUF_INIT;
	struct ssm_msg m;
	struct cut_err e;

	(void)state;
	ssm_msg_build(&b, SSM_MT_OUTPUT, -3, 0, SSM_PT_HANDSHAKE_REQUEST, "{}", 2, ID);
	assert_int_equal(ssm_msg_parse(b.s, b.len, &m, &e), 0);
	assert_string_equal(m.type, "output_stream_data");
	assert_int_equal(m.seq, -3);
	assert_int_equal(m.payload_type, SSM_PT_HANDSHAKE_REQUEST);
	assert_int_equal(m.payload_len, 2);
	assert_memory_equal(m.payload, "{}", 2);
	assert_memory_equal(m.id, ID, 16);
	assert_true(m.created_ms > 1600000000000ull);
	sbuf_free(&b);
	/* An empty payload needs no digest check (as the plugin's Validate). */
	ssm_msg_build(&b, SSM_MT_ACK, 0, 3, 0, NULL, 0, NULL);
	assert_int_equal(ssm_msg_parse(b.s, b.len, &m, &e), 0);
	assert_int_equal(m.payload_len, 0);
	sbuf_free(&b);
}

static void
refused(const void *buf, size_t len, const char *word)
{
	struct ssm_msg m;
	struct cut_err e;

	assert_int_equal(ssm_msg_parse(buf, len, &m, &e), CUT_EPROTO);
	if (strstr(e.msg, word) == NULL)
		fail_msg("'%s' lacks '%s'", e.msg, word);
}

static void
test_refusals(void **state)
{
	struct sbuf b = SBUF_INIT;
	char *s;

	(void)state;
	ssm_msg_build(&b, SSM_MT_OUTPUT, 1, 0, SSM_PT_OUTPUT, "data!", 5, ID);
	s = b.s;
	refused(s, 119, "shorter than its 120-byte header");
	refused(s, b.len - 1, "claiming 5 payload bytes but carrying 4");
	s[3] = 0x75;
	refused(s, b.len, "header length 117");
	s[3] = 0x74;
	s[120] ^= 1;
	refused(s, b.len, "SHA-256");
	s[120] ^= 1;
	s[5] = '\n';
	refused(s, b.len, "not printable");
	sbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
