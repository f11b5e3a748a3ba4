/* remote/ssm_channel.h: a byte stream to a port on an instance through an AWS
 * Session Manager port session (StartSession with AWS-StartSSHSession), given
 * to the caller as one end of a socketpair, so that remote/ssh.c runs
 * libssh2 over it exactly as over TCP.
 *
 * The caller (world/fleet.c) calls StartSession itself (remote/ knows no
 * AWS) and hands over the answer: StreamUrl and TokenValue. Here a thread
 * of our own opens the websocket (libwebsockets), sends the token
 * (open_data_channel), answers the agent's handshake (session type Port),
 * then carries bytes: socketpair -> input_stream_data, output_stream_data
 * -> socketpair, every message acknowledged and its SHA-256 checked, in
 * sequence (remote/ssm_msg.h; the protocol of aws/session-manager-plugin,
 * src/datachannel/streaming.go).
 *
 * What is not done: KMS-encrypted sessions (a Session Manager preference)
 * are refused with a sentence; a dropped websocket is not resumed
 * (ResumeSession): the stream ends, libssh2 sees the connection drop and the
 * command's outcome is reported unknown, as for a dropped TCP connection.
 *
 * Threads: the channel's thread owns the websocket; the caller owns the
 * returned fd. ssm_channel_close() may be called from any one thread.
 */
#ifndef CUTOVER_SSM_CHANNEL_H
#define CUTOVER_SSM_CHANNEL_H

#include <stdint.h>

#include "base/err.h"

struct ssm_channel_opts {
	const char *stream_url;   /* wss://ssmmessages.REGION.amazonaws.com/v1/data-channel/ID?role=... */
	const char *token;        /* TokenValue: a secret, never printed */
	const char *target;       /* the instance id, for messages */
	const char *ca_file;      /* NULL: the system's CAs (wss only) */
	int64_t deadline_ms;      /* on remote/ssh.h's clock: websocket + handshake */
};

struct ssm_channel;

/* Opens the channel and waits for the agent's HandshakeComplete. On success
 * *ch is the caller's (ssm_channel_close) and *fd the stream, the caller's
 * to close (before or after ssm_channel_close). Errors: CUT_ENET (cannot
 * connect, refused, closed by Session Manager), CUT_ETIMEOUT, CUT_EPROTO,
 * CUT_ESTATE (the session is not a port session, or wants KMS encryption). */
int ssm_channel_open(struct ssm_channel **ch, const struct ssm_channel_opts *o, int *fd,
    struct cut_err *err);

/* Tells the agent the session ends (flag TerminateSession), closes the
 * websocket, ends the thread, frees. NULL is fine. */
void ssm_channel_close(struct ssm_channel *ch);

/* Bytes carried so far in each direction (for tests and benchmarks). */
void ssm_channel_counts(struct ssm_channel *ch, uint64_t *up, uint64_t *down);

#endif
