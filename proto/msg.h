/* msg.h: the protocol's messages as C calls, for the coordinator (and tests).
 *
 * Builders append one whole frame (length prefix + payload) to the caller's
 * msgpack_sbuffer, ready to send; they return 0 or a negative FRAME_E* code
 * (FRAME_ETOOBIG when the message would exceed FRAME_MAX, FRAME_EMALFORMED
 * for arguments the agent would refuse). msg_parse_reply() reads a decoded
 * reply map (from frame_reader_next) into a struct. Every message is
 * described in proto/PROTOCOL.md.
 */
#ifndef CUTOVER_MSG_H
#define CUTOVER_MSG_H

#include <stddef.h>
#include <stdint.h>
#include "frame.h"

/* A run or manage request. NULL pointers mean "absent" (the agent's
 * default). Nothing is copied or kept: the pointers only need to live for
 * the call. */
struct msg_run {
	uint64_t id;                /* 1 or more, unique among requests in flight */
	const char *const *argv;    /* run: the program and its arguments;
	                               manage: the arguments after manage.py
	                               (NULL-terminated) */
	const char *const *env;     /* key, value, key, value, ..., NULL */
	const char *cwd;            /* run only */
	int want_stdin;             /* msg_stdin frames will follow */
	uint64_t timeout_ms;        /* 0: none */
	const char *app_dir;        /* manage only */
	const char *env_file;       /* manage only */
	const char *python;         /* manage only; may be a glob pattern */
};

int msg_hello(msgpack_sbuffer *out);
int msg_run(msgpack_sbuffer *out, const struct msg_run *m);
int msg_manage(msgpack_sbuffer *out, const struct msg_run *m);
/* len must be 1..FRAME_DATA_CHUNK: split bigger input. */
int msg_stdin(msgpack_sbuffer *out, uint64_t id, const void *data, size_t len);
int msg_stdin_eof(msgpack_sbuffer *out, uint64_t id);
int msg_cancel(msgpack_sbuffer *out, uint64_t id);
int msg_bye(msgpack_sbuffer *out);

enum msg_type { MSG_UNKNOWN = 0, MSG_HELLO, MSG_OUT, MSG_EXIT, MSG_ERROR };

/* A reply from the agent. Strings are pointer + length into the decoded
 * object (not NUL-terminated), valid as long as its zone; NULL when absent
 * or nil. */
struct msg_reply {
	enum msg_type type;
	uint64_t id;                      /* 0 for hello and connection errors */
	/* out */
	int fd;                           /* 1 stdout, 2 stderr */
	const char *data;
	size_t data_len;
	/* exit */
	int has_status, status;           /* exited with status */
	int has_signal, signal;           /* killed by signal */
	uint64_t duration_ms;
	int timed_out, cancelled;
	const char *error;                /* could not start: one sentence */
	size_t error_len;
	/* error */
	const char *code, *message;
	size_t code_len, message_len;
	/* hello */
	uint64_t v;
	const char *agent, *arch, *hostname;
	size_t agent_len, arch_len, hostname_len;
	int64_t uid, pid;
	const msgpack_object *ops;        /* array of str */
};

/* Fills *r from a decoded reply. Returns 0, or FRAME_EMALFORMED when a
 * field the type requires is missing or of the wrong type (the peer broke
 * the protocol: drop the connection). An unknown "t" gives 0 with
 * r->type == MSG_UNKNOWN (ignore it: a newer agent may add replies). */
int msg_parse_reply(const msgpack_object *map, struct msg_reply *r);

/* 1 when a hello reply lists op in "ops". */
int msg_hello_has_op(const struct msg_reply *hello, const char *op);

#endif
