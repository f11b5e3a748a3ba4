/* remote/agent_link.h: one connection to one agent, as the data-safety core sees it.
 *
 * The core (safety/blocked_emails.c, safety/quiet.c, safety/cronpause.c, safety/changes.c, safety/smoke.c,
 * safety/precond.c) only ever sends a request and reads the reply frames that
 * carry its id, so it takes this small interface rather than a transport:
 * alink_spawn() below runs an agent locally over pipes (tests, and an
 * operator running on the instance itself); the SSH transport provides the
 * same two functions over a channel (see the report: "what the lead wires").
 *
 * Not thread-safe: one thread per link (safety/quiet.c runs one thread per
 * instance, each with its own link).
 */
#ifndef CUTOVER_ALINK_H
#define CUTOVER_ALINK_H

#include <stdint.h>
#include <sys/types.h>
#include <msgpack.h>

#include "base/err.h"

/* Called for every reply frame of the request, the last one ("exit" or
 * "error") included. Returns 0 to go on, 1 to cancel the request (the link
 * sends "cancel" and still delivers frames until the last one), or a
 * negative CUT_E* to abandon it (cancel sent, remaining frames drained,
 * request returns that code; err is the callback's to fill). */
typedef int (*alink_reply_fn)(void *arg, const msgpack_object *frame);

struct alink_ops {
	/* Sends payload (one packed request map holding "t" and "id" = id) and
	 * delivers the replies. timeout_ms bounds the whole request (0: none);
	 * when it passes the request is cancelled and CUT_ETIMEOUT returned. */
	int (*request)(void *ctx, const msgpack_sbuffer *payload, uint64_t id,
	    alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err);
	/* Ends the connection and frees ctx. */
	void (*close)(void *ctx);
	/* Queues or writes one more frame (payload: one packed map) without
	 * waiting for replies: the stdin frames of alink_request_in. NULL when
	 * the transport cannot (alink_request_in then refuses). */
	int (*send)(void *ctx, const msgpack_sbuffer *payload, struct cut_err *err);
};

struct alink {
	const struct alink_ops *ops;
	void *ctx;
	uint64_t next_id;
	char name[128];       /* the instance, for messages ("i-0abc (10.0.0.5)") */
};

/* Next request id of this link. */
uint64_t alink_new_id(struct alink *l);

/* Sends a request map built by the caller in sb (see alink_pack_head). */
int alink_request(struct alink *l, const msgpack_sbuffer *sb, uint64_t id,
    alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err);

/* Like alink_request, for a request sent with "stdin": true (sql,
 * run, manage): sends sb, then in[0..inlen) as stdin frames of
 * FRAME_DATA_CHUNK bytes and the eof, then delivers the replies. This is
 * how more than one frame (1 MiB) of input reaches one request. */
int alink_request_in(struct alink *l, const msgpack_sbuffer *sb, uint64_t id, const void *in,
    size_t inlen, alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err);

/* Starts a request map of n entries, "t" and "id" included. */
void alink_pack_head(msgpack_packer *pk, const char *type, uint64_t id, uint32_t n);
void alink_pack_str(msgpack_packer *pk, const char *s);   /* NULL packs nil */

/* Runs the agent binary at path locally, connected by pipes, with extra
 * environment lines env ("KEY=value", NULL-terminated, may be NULL), and
 * exchanges hellos. name labels the link. On success l owns the child;
 * alink_close() ends it. */
int alink_spawn(struct alink *l, const char *path, char *const env[], const char *name,
    struct cut_err *err);

/* Ends the link (sends "bye", waits for the agent) and frees its state. */
void alink_close(struct alink *l);

#endif
