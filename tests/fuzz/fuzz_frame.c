/* libFuzzer target for the frame decoder: the input is a byte stream fed to
 * a frame_reader in chunks whose sizes come from the first input byte. Every
 * frame the reader accepts must re-encode to a payload frame_check accepts,
 * and frame_check must agree with msgpack-c on the raw input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "msg.h"

static void
touch(const msgpack_object *o)
{
	uint64_t u;
	int64_t i;
	int b;
	size_t n;

	(void)frame_get_str(o, "t", &n);
	(void)frame_get_u64(o, "id", &u);
	(void)frame_get_i64(o, "status", &i);
	(void)frame_get_bool(o, "stdin", &b);
	(void)frame_get(o, "argv");
	{
		struct msg_reply m;

		if (msg_parse_reply(o, &m) == FRAME_OK && m.type == MSG_HELLO)
			(void)msg_hello_has_op(&m, "run");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader *r;
	msgpack_zone zone;
	msgpack_object o;
	size_t chunk, off = 1;
	int rc = FRAME_OK;

	if (size == 0)
		return 0;
	/* Direct check of the whole input as a payload: when it passes,
	 * msgpack-c must unpack it as one map using all bytes. */
	if (size > 1 && frame_check(data + 1, size - 1) == FRAME_OK) {
		size_t used = 0;

		msgpack_zone_init(&zone, 1024);
		if (msgpack_unpack((const char *)data + 1, size - 1, &used, &zone, &o) != MSGPACK_UNPACK_SUCCESS ||
		    used != size - 1 || o.type != MSGPACK_OBJECT_MAP)
			abort();
		msgpack_zone_destroy(&zone);
	}
	chunk = (size_t)data[0] % 17 + 1;
	if ((r = frame_reader_new()) == NULL)
		return 0;
	while (off < size && rc == FRAME_OK) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = frame_reader_feed(r, data + off, n);
		off += n;
		for (;;) {
			msgpack_sbuffer sb;
			msgpack_packer pk;

			msgpack_zone_init(&zone, 1024);
			rc = frame_reader_next(r, &zone, &o);
			if (rc != FRAME_OK) {
				msgpack_zone_destroy(&zone);
				break;
			}
			touch(&o);
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			msgpack_pack_object(&pk, o);
			/* Re-encoding may pick other widths but never a bigger
			 * depth: it must pass the same check (if it fits). */
			if (sb.size <= FRAME_MAX && frame_check(sb.data, sb.size) != FRAME_OK)
				abort();
			msgpack_sbuffer_destroy(&sb);
			msgpack_zone_destroy(&zone);
		}
		if (rc == FRAME_EAGAIN)
			rc = FRAME_OK;
	}
	(void)frame_reader_eof(r);
	frame_reader_free(r);
	return 0;
}
