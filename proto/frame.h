/* frame.h: the wire format between the coordinator and the agent.
 *
 * A frame is a 4-byte big-endian payload length N (1 <= N <= FRAME_MAX)
 * followed by N bytes holding exactly one msgpack map. The length is checked
 * before a byte of payload is buffered; the payload is checked (container
 * counts against the bytes that remain, nesting depth) before msgpack-c
 * unpacks it, because msgpack-c allocates whatever the input claims. Any
 * error is final for the stream: the caller drops the connection.
 * Every message is described in proto/PROTOCOL.md.
 *
 * Errors: functions return 0 or a negative FRAME_E* code; frame_strerror()
 * gives one sentence for it.
 */
#ifndef CUTOVER_FRAME_H
#define CUTOVER_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define PROTO_VERSION 1
/* In each agent binary, right before its build id (what hello's "agent"
 * field names after "VERSION+"), so that the coordinator can name the build
 * ids of the agents it carries without starting them (cutover --version). */
#define PROTO_AGENT_BUILD_TAG "cutover-agent-build-id:"
#define FRAME_MAX (1024u * 1024u)  /* largest payload accepted or sent */
#define FRAME_DEPTH_MAX 16         /* deepest nesting accepted */
#define FRAME_DATA_CHUNK (64u * 1024u) /* largest "data" in one stdin frame */
/* Largest "data" in one out frame: what FRAME_MAX leaves after the frame's
 * other fields (an out frame's map without its data is under 64 bytes). */
#define FRAME_OUT_CHUNK (FRAME_MAX - 64u)

enum frame_code {
	FRAME_OK = 0,
	FRAME_EAGAIN = -1,   /* need more bytes (not an error) */
	FRAME_ETOOBIG = -2,  /* declared length 0 or above FRAME_MAX */
	FRAME_EMALFORMED = -3, /* not one well-formed msgpack map */
	FRAME_ENOMEM = -4,
	FRAME_EIO = -5,      /* read or write failed */
	FRAME_EEOF = -6,     /* the stream ended (cleanly between frames) */
	FRAME_ETRUNC = -7,   /* the stream ended inside a frame */
};

const char *frame_strerror(int code);

/* Incremental reader: feed bytes as they arrive, take whole frames out.
 * The reader owns its buffer (at most 4 + FRAME_MAX bytes); free with
 * frame_reader_free(). */
struct frame_reader;

/* Returns a new reader, or NULL when out of memory. Caller frees. */
struct frame_reader *frame_reader_new(void);
void frame_reader_free(struct frame_reader *r);

/* Appends len bytes. Fails with FRAME_ETOOBIG as soon as a length prefix
 * above FRAME_MAX is seen, before buffering its payload. The reader keeps
 * what was fed and not yet taken: feed what one read() returned, then call
 * frame_reader_next() until FRAME_EAGAIN, and memory stays below
 * 4 + FRAME_MAX plus one read. */
int frame_reader_feed(struct frame_reader *r, const void *buf, size_t len);

/* Reading straight into the reader (no intermediate buffer, no copy):
 * frame_reader_space() makes room for at least min more bytes and gives
 * where they go (*buf, owned by the reader) and how many fit (*avail, at
 * least min); read at most *avail bytes there, then frame_reader_commit()
 * the count, which checks length prefixes as frame_reader_feed() does.
 * The space is valid until the next call on r. */
int frame_reader_space(struct frame_reader *r, size_t min, void **buf, size_t *avail);
int frame_reader_commit(struct frame_reader *r, size_t n);

/* Takes the next whole frame. On FRAME_OK, *out is the decoded map, valid
 * until msgpack_zone_destroy(zone) (the caller's zone, initialised by the
 * caller, destroyed by the caller). FRAME_EAGAIN when no whole frame yet. */
int frame_reader_next(struct frame_reader *r, msgpack_zone *zone, msgpack_object *out);

/* Like frame_reader_next() without copying the payload into the zone: the
 * str and bin objects in *out point into the reader's buffer, so *out is
 * valid only until the next call on r (any call) and while the zone lives.
 * For streams of large data frames that are used at once. */
int frame_reader_next_inplace(struct frame_reader *r, msgpack_zone *zone, msgpack_object *out);

/* Call when the stream ended: FRAME_EEOF when it ended between frames,
 * FRAME_ETRUNC when inside one (or the reader's earlier error). */
int frame_reader_eof(const struct frame_reader *r);

/* Bytes fed and not yet taken as frames. */
size_t frame_reader_buffered(const struct frame_reader *r);

/* Checks that buf[0..len) is exactly one msgpack object that is a map,
 * whose container counts fit the bytes that remain and whose depth is at
 * most FRAME_DEPTH_MAX. Does not allocate. */
int frame_check(const void *buf, size_t len);

/* Encoding: build a map with msgpack_packer into a msgpack_sbuffer, then
 * frame_write_sbuf() writes the length prefix and payload to fd (blocking,
 * handles short writes and EINTR). */
int frame_write_sbuf(int fd, const msgpack_sbuffer *sb);

/* Writes prefix + payload into out (caller's sbuffer, appended; the caller
 * keeps owning both buffers). */
int frame_wrap_sbuf(msgpack_sbuffer *out, const msgpack_sbuffer *payload);

/* Lookups in a decoded map; return NULL / false when absent or of another type.
 * The int-returning getters return 1 (found, *out set) or 0 (absent or of
 * another type; *out untouched): they are predicates, not FRAME_E* codes. */
const msgpack_object *frame_get(const msgpack_object *map, const char *key);
/* Returns a pointer into the object (not NUL-terminated) and its length. */
const char *frame_get_str(const msgpack_object *map, const char *key, size_t *len);
int frame_get_u64(const msgpack_object *map, const char *key, uint64_t *out);
/* Accepts positive integers up to INT64_MAX and negative integers. */
int frame_get_i64(const msgpack_object *map, const char *key, int64_t *out);
int frame_get_bool(const msgpack_object *map, const char *key, int *out);
int frame_str_eq(const msgpack_object *o, const char *s);

/* Packing helpers (0 or FRAME_ENOMEM): a NUL-terminated string as msgpack
 * str, and a "key": "value" pair of them. */
int frame_pack_str(msgpack_packer *pk, const char *s);
int frame_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);

#endif
