/* remote/ssm_msg.h: the messages of the AWS Session Manager data channel, as
 * the open-source session-manager-plugin frames them (src/message/
 * clientmessage.go and messageparser.go): every binary websocket message is
 *
 *   offset  size  field
 *        0     4  HeaderLength (116: the offset of PayloadLength)
 *        4    32  MessageType, ASCII padded with spaces ("output_stream_data")
 *       36     4  SchemaVersion (1)
 *       40     8  CreatedDate, epoch milliseconds
 *       48     8  SequenceNumber (signed)
 *       56     8  Flags (bit 0 SYN, bit 1 FIN)
 *       64    16  MessageId: the UUID's last 8 bytes, then its first 8
 *       80    32  PayloadDigest: SHA-256 of the payload
 *      112     4  PayloadType (SSM_PT_*)
 *      116     4  PayloadLength
 *      120     n  Payload
 *
 * all integers big-endian. Pure functions, no I/O: fuzzed by
 * tests/fuzz/fuzz_ssm_msg.c.
 */
#ifndef CUTOVER_SSM_MSG_H
#define CUTOVER_SSM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/sbuf.h"

#define SSM_MSG_HL 116u             /* HeaderLength as the plugin writes it */
#define SSM_MSG_PAYLOAD_OFF 120u
#define SSM_MSG_MAX (4u << 20)      /* we refuse larger messages (the plugin sends 1 KiB) */

/* PayloadType values (clientmessage.go). */
enum {
	SSM_PT_OUTPUT = 1, SSM_PT_ERROR = 2, SSM_PT_SIZE = 3, SSM_PT_PARAMETER = 4,
	SSM_PT_HANDSHAKE_REQUEST = 5, SSM_PT_HANDSHAKE_RESPONSE = 6, SSM_PT_HANDSHAKE_COMPLETE = 7,
	SSM_PT_ENC_CHALLENGE_REQUEST = 8, SSM_PT_ENC_CHALLENGE_RESPONSE = 9, SSM_PT_FLAG = 10,
	SSM_PT_STDERR = 11, SSM_PT_EXIT_CODE = 12,
};
/* Flag payloads (a big-endian uint32 in an SSM_PT_FLAG message). */
enum { SSM_FLAG_DISCONNECT_TO_PORT = 1, SSM_FLAG_TERMINATE_SESSION = 2, SSM_FLAG_CONNECT_TO_PORT_ERROR = 3 };

#define SSM_MT_INPUT "input_stream_data"
#define SSM_MT_OUTPUT "output_stream_data"
#define SSM_MT_ACK "acknowledge"
#define SSM_MT_CLOSED "channel_closed"
#define SSM_MT_START_PUB "start_publication"
#define SSM_MT_PAUSE_PUB "pause_publication"

struct ssm_msg {
	char type[33];                  /* trimmed of spaces and NULs */
	uint32_t schema;
	uint64_t created_ms;
	int64_t seq;
	uint64_t flags;
	unsigned char id[16];           /* the UUID in its usual byte order */
	uint32_t payload_type;
	const unsigned char *payload;   /* points into the parsed buffer */
	size_t payload_len;
};

/* Parses one message. Refuses (CUT_EPROTO, one sentence naming the field)
 * a message shorter than its header, a HeaderLength other than 116, a
 * PayloadLength that does not match the bytes that follow, a payload whose
 * SHA-256 differs from PayloadDigest, a message type with bytes outside
 * printable ASCII. m->payload borrows from buf. */
int ssm_msg_parse(const void *buf, size_t len, struct ssm_msg *m, struct cut_err *err);

/* Appends one serialised message to out (out->oom tells of a failed
 * allocation). id NULL: a fresh random UUID (version 4). */
void ssm_msg_build(struct sbuf *out, const char *type, int64_t seq, uint64_t flags, uint32_t payload_type,
    const void *payload, size_t len, const unsigned char *id);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case) into out[37]. */
void ssm_uuid_str(const unsigned char id[16], char out[37]);

/* A random version-4 UUID. */
void ssm_uuid_new(unsigned char id[16]);

#endif
