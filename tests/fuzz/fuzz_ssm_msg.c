/* libFuzzer target for the Session Manager data-channel message parser
 * (remote/ssm_msg.h). The input is one websocket message as the service
 * could send it. Whatever it holds, ssm_msg_parse must not read outside it;
 * a message it accepts must be rebuilt by ssm_msg_build into bytes that parse
 * again to the same fields, and the same bytes with a bit flipped in the
 * payload must be refused (the SHA-256 digest check). The fuzzer is also given
 * valid messages built from the input, so it gets past the digest at once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sbuf.h"
#include "remote/ssm_msg.h"

static void
roundtrip(const struct ssm_msg *m)
{
	struct sbuf b = SBUF_INIT;
	struct ssm_msg m2;
	struct cut_err e;

	ssm_msg_build(&b, m->type, m->seq, m->flags, m->payload_type, m->payload, m->payload_len, m->id);
	if (b.oom) {
		sbuf_free(&b);
		return;
	}
	if (ssm_msg_parse(b.s, b.len, &m2, &e) != 0)
		abort();
	if (strcmp(m2.type, m->type) != 0 || m2.seq != m->seq || m2.flags != m->flags ||
	    m2.payload_type != m->payload_type || m2.payload_len != m->payload_len ||
	    memcmp(m2.id, m->id, 16) != 0 || (m->payload_len && memcmp(m2.payload, m->payload, m->payload_len) != 0))
		abort();
	if (m2.payload_len > 0) {
		b.s[SSM_MSG_PAYLOAD_OFF] ^= 1;
		if (ssm_msg_parse(b.s, b.len, &m2, &e) == 0)
			abort();
	}
	sbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssm_msg m;
	struct cut_err e;
	unsigned char *copy;

	/* Exactly size bytes on the heap, so ASan sees any read past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (ssm_msg_parse(copy, size, &m, &e) == 0)
		roundtrip(&m);
	/* A valid message around the input as payload, type from its first byte. */
	if (size > 0) {
		static const char *const types[] = { "output_stream_data", "acknowledge", "channel_closed",
			"input_stream_data", "x" };
		struct sbuf b = SBUF_INIT;
		ssm_msg_build(&b, types[data[0] % 5], (int64_t)size, data[0], data[0] % 13, copy + 1, size - 1, NULL);
		if (!b.oom) {
			if (ssm_msg_parse(b.s, b.len, &m, &e) != 0)
				abort();
			roundtrip(&m);
		}
		sbuf_free(&b);
	}
	free(copy);
	return 0;
}
