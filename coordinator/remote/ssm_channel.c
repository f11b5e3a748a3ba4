/* remote/ssm_channel.c: see remote/ssm_channel.h.
 *
 * One thread per channel runs its own libwebsockets context with two
 * connections: the websocket to Session Manager and our end of the
 * socketpair, adopted as a raw file descriptor so one poll loop serves both.
 * Back pressure both ways: we stop reading the socketpair while too much
 * waits for the websocket or too many messages are unacknowledged, and stop
 * reading the websocket while too much waits for libssh2.
 */
#include "remote/ssm_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libwebsockets.h>
#include <openssl/x509.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "remote/ssh.h"
#include "remote/ssm_msg.h"

#define CHUNK 1024                  /* payload per input message, as the plugin sends */
#define UP_WINDOW 4096              /* unacknowledged input messages before we stop reading */
#define WQ_MAX (2u << 20)           /* bytes waiting for the websocket before we stop reading */
#define DOWN_HIGH (4u << 20)        /* bytes waiting for libssh2 before we stop the websocket */
#define DOWN_LOW (1u << 20)
/* The agent reads ClientVersion as a version number to pick features; one
 * older than smux port multiplexing keeps the port session a plain stream. */
#define CLIENT_VERSION "1.0.0.0"

struct qent {
	struct qent *next;
	size_t len;
	int text;
	unsigned char data[];           /* LWS_PRE bytes, then the message */
};

struct ssm_channel {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_mutex_t ctx_mu;         /* guards ctx against lws_cancel_service from ssm_channel_close */
	int destroying;                 /* callbacks from lws_context_destroy do nothing */
	int state;                      /* 0 opening, 1 ready, -1 failed; under mu */
	struct cut_err err;             /* why it failed; under mu */
	volatile int stop;              /* ssm_channel_close asked */
	int done;                       /* the loop ends */

	struct lws_context *ctx;
	struct lws *ws, *raw;
	int fd;                         /* our end of the socketpair (lws closes it) */
	char *url;                      /* lws_parse_uri cuts it up */
	const char *addr, *path;
	int port, tls;
	char pathbuf[2048];
	char *token;
	char target[64];
	char ca_file[512];
	char tls_why[160];              /* OpenSSL's verdict on the server's certificate, when it refused it */

	struct sbuf rx;                 /* the websocket message being received */
	int64_t expect_seq;             /* next output_stream_data sequence number */
	int64_t out_seq;                /* next input_stream_data sequence number */
	int ready, opened_sent, paused_pub, raw_paused, ws_paused, raw_eof;
	size_t unacked;
	struct qent *qh, *qt;           /* frames for the websocket */
	size_t qbytes;
	unsigned char *down;            /* bytes for the socketpair */
	size_t down_len, down_off, down_cap;
	uint64_t up_bytes, down_bytes;
};

static pthread_once_t lws_once = PTHREAD_ONCE_INIT;

static void
lws_quiet(int level, const char *line)
{
	if (getenv("CUTOVER_DEBUG") != NULL)
		fprintf(stderr, "cutover: libwebsockets(%d): %s", level, line);
}

static void
init_lws(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_quiet);
}

/* Records the first failure, wakes the opener, ends the loop. */
static void fail(struct ssm_channel *ch, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct ssm_channel *ch, int code, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ch->mu);
	if (ch->state >= 0 && ch->err.code == 0) {
		ch->err.code = code;
		va_start(ap, fmt);
		vsnprintf(ch->err.msg, sizeof(ch->err.msg), fmt, ap);
		va_end(ap);
	}
	ch->state = -1;
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
	ch->done = 1;
}

static void
set_ready(struct ssm_channel *ch)
{
	pthread_mutex_lock(&ch->mu);
	if (ch->state == 0)
		ch->state = 1;
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
	ch->ready = 1;
}

/* ---- the websocket queue ----------------------------------------------------- */

static int
enqueue(struct ssm_channel *ch, const void *msg, size_t len, int text)
{
	struct qent *q = malloc(sizeof(*q) + LWS_PRE + len);

	if (q == NULL) {
		fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
		return -1;
	}
	q->next = NULL;
	q->len = len;
	q->text = text;
	memcpy(q->data + LWS_PRE, msg, len);
	if (ch->qt != NULL)
		ch->qt->next = q;
	else
		ch->qh = q;
	ch->qt = q;
	ch->qbytes += len;
	if (ch->ws != NULL)
		lws_callback_on_writable(ch->ws);
	return 0;
}

static int
send_msg(struct ssm_channel *ch, const char *type, int64_t seq, uint64_t flags, uint32_t ptype,
    const void *payload, size_t len)
{
	struct sbuf b = SBUF_INIT;
	int r;

	ssm_msg_build(&b, type, seq, flags, ptype, payload, len, NULL);
	if (b.oom) {
		sbuf_free(&b);
		fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
		return -1;
	}
	r = enqueue(ch, b.s, b.len, 0);
	sbuf_free(&b);
	return r;
}

/* An input_stream_data message: the next in our sequence. */
static int
send_input(struct ssm_channel *ch, uint32_t ptype, const void *payload, size_t len)
{
	if (send_msg(ch, SSM_MT_INPUT, ch->out_seq, ch->out_seq == 0 ? 1 : 0, ptype, payload, len) != 0)
		return -1;
	ch->out_seq++;
	ch->unacked++;
	return 0;
}

static int
send_json_input(struct ssm_channel *ch, uint32_t ptype, struct json_object *j)
{
	size_t n;
	const char *s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN, &n);

	return send_input(ch, ptype, s, n);
}

static int
send_ack(struct ssm_channel *ch, const struct ssm_msg *m)
{
	char id[37];
	struct json_object *j = json_object_new_object();
	const char *s;
	size_t n;
	int r;

	if (j == NULL) {
		fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
		return -1;
	}
	ssm_uuid_str(m->id, id);
	json_object_object_add(j, "AcknowledgedMessageType", json_object_new_string(m->type));
	json_object_object_add(j, "AcknowledgedMessageId", json_object_new_string(id));
	json_object_object_add(j, "AcknowledgedMessageSequenceNumber", json_object_new_int64(m->seq));
	json_object_object_add(j, "IsSequentialMessage", json_object_new_boolean(1));
	s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN, &n);
	r = send_msg(ch, SSM_MT_ACK, 0, 3, 0, s, n);
	json_object_put(j);
	return r;
}

/* ---- flow control ------------------------------------------------------------ */

static int
may_read_up(const struct ssm_channel *ch)
{
	return ch->ready && !ch->paused_pub && !ch->raw_eof && ch->unacked < UP_WINDOW && ch->qbytes < WQ_MAX;
}

static void
flow(struct ssm_channel *ch)
{
	int want_raw = may_read_up(ch), want_ws = ch->down_len - ch->down_off < DOWN_LOW;

	if (ch->raw != NULL && want_raw == ch->raw_paused) {
		lws_rx_flow_control(ch->raw, want_raw);
		ch->raw_paused = !want_raw;
	}
	if (ch->ws != NULL) {
		if (ch->ws_paused && want_ws) {
			lws_rx_flow_control(ch->ws, 1);
			ch->ws_paused = 0;
		} else if (!ch->ws_paused && ch->down_len - ch->down_off > DOWN_HIGH) {
			lws_rx_flow_control(ch->ws, 0);
			ch->ws_paused = 1;
		}
	}
}

/* ---- what the agent sends ---------------------------------------------------- */

/* Parses a JSON payload (not NUL-terminated); NULL when it is not JSON. */
static struct json_object *
jparse(const unsigned char *p, size_t n)
{
	struct json_tokener *t = json_tokener_new();
	struct json_object *o;

	if (t == NULL || n > INT32_MAX) {
		if (t != NULL)
			json_tokener_free(t);
		return NULL;
	}
	o = json_tokener_parse_ex(t, (const char *)p, (int)n);
	if (json_tokener_get_error(t) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* HandshakeRequest: we accept exactly a Port session; KMS encryption and
 * anything else are answered as failed and end the channel with a sentence. */
static int
on_handshake(struct ssm_channel *ch, const struct ssm_msg *m)
{
	struct json_object *req = jparse(m->payload, m->payload_len);
	struct json_object *acts = NULL, *resp, *done, *errs;
	int ok = 1, port = 0;
	char why[300] = "";

	if (req == NULL || !json_object_object_get_ex(req, "RequestedClientActions", &acts) ||
	    !json_object_is_type(acts, json_type_array)) {
		json_object_put(req);
		fail(ch, CUT_EPROTO, "The SSM agent on %s sent a handshake this tool cannot read; nothing was run.",
		    ch->target);
		return -1;
	}
	resp = json_object_new_object();
	done = json_object_new_array();
	errs = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(acts); i++) {
		struct json_object *a = json_object_array_get_idx(acts, i), *p = NULL, *pa;
		const char *type = jstr(a, "ActionType");
		const char *e = NULL;

		pa = json_object_new_object();
		json_object_object_add(pa, "ActionType", json_object_new_string(type ? type : ""));
		if (type != NULL && strcmp(type, "SessionType") == 0) {
			const char *st = NULL;
			if (json_object_object_get_ex(a, "ActionParameters", &p))
				st = jstr(p, "SessionType");
			if (st != NULL && strcmp(st, "Port") == 0)
				port = 1;
			else {
				e = "cutover opens port sessions only";
				snprintf(why, sizeof(why), "Session Manager offered a '%s' session to %s instead of a port "
				    "session; check that the document is AWS-StartSSHSession.", st ? st : "unnamed", ch->target);
			}
		} else if (type != NULL && strcmp(type, "KMSEncryption") == 0) {
			e = "cutover does not support KMS-encrypted sessions";
			snprintf(why, sizeof(why), "The Session Manager preferences of this account require KMS "
			    "encryption, which cutover does not support; the session to %s was not used.", ch->target);
		} else {
			e = "unsupported action";
		}
		json_object_object_add(pa, "ActionStatus", json_object_new_int(e ? (type && strcmp(type, "SessionType") &&
		    strcmp(type, "KMSEncryption") ? 3 : 2) : 1));
		json_object_object_add(pa, "ActionResult", NULL);
		json_object_object_add(pa, "Error", json_object_new_string(e ? e : ""));
		json_object_array_add(done, pa);
		if (e != NULL) {
			json_object_array_add(errs, json_object_new_string(e));
			if (type && (strcmp(type, "SessionType") == 0 || strcmp(type, "KMSEncryption") == 0))
				ok = 0;
		}
	}
	json_object_object_add(resp, "ClientVersion", json_object_new_string(CLIENT_VERSION));
	json_object_object_add(resp, "ProcessedClientActions", done);
	json_object_object_add(resp, "Errors", errs);
	if (send_json_input(ch, SSM_PT_HANDSHAKE_RESPONSE, resp) != 0)
		ok = -1;
	json_object_put(resp);
	json_object_put(req);
	if (ok == 1 && !port) {
		snprintf(why, sizeof(why), "Session Manager did not say what kind of session it opened to %s; "
		    "nothing was run.", ch->target);
		ok = 0;
	}
	if (ok == 0)
		fail(ch, CUT_ESTATE, "%s", why);
	return ok == 1 ? 0 : -1;
}

static int
down_add(struct ssm_channel *ch, const unsigned char *p, size_t n)
{
	if (ch->down_off > 0 && ch->down_off == ch->down_len)
		ch->down_off = ch->down_len = 0;
	if (ch->down_len + n > ch->down_cap) {
		size_t cap = ch->down_cap ? ch->down_cap : 65536;
		unsigned char *nb;
		if (ch->down_off > 0) {
			memmove(ch->down, ch->down + ch->down_off, ch->down_len - ch->down_off);
			ch->down_len -= ch->down_off;
			ch->down_off = 0;
		}
		while (cap < ch->down_len + n)
			cap *= 2;
		if (cap != ch->down_cap) {
			if ((nb = realloc(ch->down, cap)) == NULL) {
				fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
				return -1;
			}
			ch->down = nb;
			ch->down_cap = cap;
		}
	}
	memcpy(ch->down + ch->down_len, p, n);
	ch->down_len += n;
	ch->down_bytes += n;
	if (ch->raw != NULL)
		lws_callback_on_writable(ch->raw);
	return 0;
}

static int
on_output(struct ssm_channel *ch, const struct ssm_msg *m)
{
	/* A message we already had (the agent resends what it thinks lost):
	 * acknowledge it again, use it once. A later one than expected: leave
	 * it unacknowledged, the agent sends it again after the gap. */
	if (m->seq < ch->expect_seq)
		return send_ack(ch, m);
	if (m->seq > ch->expect_seq)
		return 0;
	ch->expect_seq++;
	if (send_ack(ch, m) != 0)
		return -1;
	switch (m->payload_type) {
	case SSM_PT_HANDSHAKE_REQUEST:
		return on_handshake(ch, m);
	case SSM_PT_HANDSHAKE_COMPLETE:
		set_ready(ch);
		flow(ch);
		return 0;
	case SSM_PT_ENC_CHALLENGE_REQUEST:
		fail(ch, CUT_ESTATE, "The SSM agent on %s asked for KMS encryption, which cutover does not support; "
		    "nothing was run.", ch->target);
		return -1;
	case SSM_PT_FLAG:
		if (m->payload_len == 4 && m->payload[3] == SSM_FLAG_DISCONNECT_TO_PORT) {
			/* sshd closed its connection on the instance: the stream ends
			 * (libssh2 sees the close) once what came before is delivered. */
			ch->raw_eof = 1;
			if (ch->down_off == ch->down_len)
				ch->done = 1;
			return 0;
		}
		if (m->payload_len == 4 && m->payload[3] == SSM_FLAG_CONNECT_TO_PORT_ERROR) {
			fail(ch, CUT_ENET, "The SSM agent on %s could not connect to its sshd (port 22 on the instance); "
			    "check that sshd runs there.", ch->target);
			return -1;
		}
		return 0;
	case SSM_PT_OUTPUT:
		if (!ch->ready) {
			fail(ch, CUT_EPROTO, "The SSM agent on %s sent data before completing the handshake; nothing "
			    "was run.", ch->target);
			return -1;
		}
		return down_add(ch, m->payload, m->payload_len);
	default:
		return 0;
	}
}

static int
on_message(struct ssm_channel *ch, const unsigned char *buf, size_t len)
{
	struct ssm_msg m;
	struct cut_err e;

	if (ssm_msg_parse(buf, len, &m, &e) != 0) {
		fail(ch, CUT_EPROTO, "%s", e.msg);
		return -1;
	}
	if (strcmp(m.type, SSM_MT_OUTPUT) == 0)
		return on_output(ch, &m);
	if (strcmp(m.type, SSM_MT_ACK) == 0) {
		if (ch->unacked > 0)
			ch->unacked--;
		flow(ch);
		return 0;
	}
	if (strcmp(m.type, SSM_MT_CLOSED) == 0) {
		struct json_object *j = jparse(m.payload, m.payload_len);
		const char *out = jstr(j, "Output");
		char why[400];
		snprintf(why, sizeof(why), "%s", out && out[0] ? out : "no reason given");
		json_object_put(j);
		fail(ch, CUT_ENET, "Session Manager closed the session to %s (%s).", ch->target, why);
		return -1;
	}
	if (strcmp(m.type, SSM_MT_PAUSE_PUB) == 0)
		ch->paused_pub = 1;
	else if (strcmp(m.type, SSM_MT_START_PUB) == 0)
		ch->paused_pub = 0;
	flow(ch);
	return 0;
}

/* ---- libwebsockets callbacks ------------------------------------------------- */

static int
send_open(struct ssm_channel *ch)
{
	unsigned char rid[16], cid[16];
	char rs[37], cs[37];
	struct json_object *j = json_object_new_object();
	const char *s;
	size_t n;
	int r;

	if (j == NULL)
		return -1;
	ssm_uuid_new(rid);
	ssm_uuid_new(cid);
	ssm_uuid_str(rid, rs);
	ssm_uuid_str(cid, cs);
	json_object_object_add(j, "MessageSchemaVersion", json_object_new_string("1.0"));
	json_object_object_add(j, "RequestId", json_object_new_string(rs));
	json_object_object_add(j, "TokenValue", json_object_new_string(ch->token));
	json_object_object_add(j, "ClientId", json_object_new_string(cs));
	json_object_object_add(j, "ClientVersion", json_object_new_string(CLIENT_VERSION));
	s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN, &n);
	r = enqueue(ch, s, n, 1);
	/* The token is a secret: do not leave it in freed memory. */
	memset((char *)s, 0, n);
	json_object_put(j);
	return r;
}

static void
read_up(struct ssm_channel *ch)
{
	unsigned char buf[CHUNK];

	while (may_read_up(ch)) {
		ssize_t n = read(ch->fd, buf, sizeof(buf));
		if (n > 0) {
			ch->up_bytes += (uint64_t)n;
			if (send_input(ch, SSM_PT_OUTPUT, buf, (size_t)n) != 0)
				return;
			continue;
		}
		if (n == 0) {
			/* libssh2 closed its end: the session is over. */
			ch->raw_eof = 1;
			ch->done = 1;
			break;
		}
		if (errno != EINTR)
			break;
	}
	flow(ch);
}

static void
write_down(struct ssm_channel *ch)
{
	while (ch->down_off < ch->down_len) {
		ssize_t n = write(ch->fd, ch->down + ch->down_off, ch->down_len - ch->down_off);
		if (n > 0) {
			ch->down_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			lws_callback_on_writable(ch->raw);
			break;
		}
		/* The other end is gone. */
		ch->raw_eof = 1;
		ch->done = 1;
		return;
	}
	if (ch->raw_eof && ch->down_off == ch->down_len)
		ch->done = 1;   /* the agent's port closed and all it sent is delivered */
	flow(ch);
}

static int
cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ssm_channel *ch = lws_context_user(lws_get_context(wsi));

	(void)user;
	if (ch == NULL || ch->destroying)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* OpenSSL's own check decides (len is preverify_ok); only its reason
		 * is kept, because lws reports a refused certificate as a bare
		 * "SSL err 1" that tells the operator nothing. */
		if (len == 0 && user != NULL && ch->tls_why[0] == '\0') {
			X509_STORE_CTX *xs = user;
			int e = X509_STORE_CTX_get_error(xs);
			snprintf(ch->tls_why, sizeof(ch->tls_why), "%s", X509_verify_cert_error_string(e));
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		ch->ws = NULL;
		if (ch->tls_why[0] != '\0')
			fail(ch, CUT_ENET, "The Session Manager data channel to %s (%s) presented a TLS certificate this "
			    "machine does not accept (%s); set AWS_CA_BUNDLE to the CA bundle that signs it, or check for "
			    "a proxy that intercepts TLS.", ch->target, ch->addr, ch->tls_why);
		else
			fail(ch, CUT_ENET, "Cannot open the Session Manager data channel to %s (%s); check that this "
			    "machine reaches ssmmessages over HTTPS.", ch->target,
			    in && len ? (const char *)in : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (send_open(ch) != 0)
			fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (ch->rx.len + len > SSM_MSG_MAX) {
			fail(ch, CUT_EPROTO, "The Session Manager data channel to %s sent a message over %u bytes.",
			    ch->target, SSM_MSG_MAX);
			return -1;
		}
		sbuf_addn(&ch->rx, in, len);
		if (ch->rx.oom) {
			fail(ch, CUT_ENOMEM, "Out of memory on the Session Manager channel to %s.", ch->target);
			return -1;
		}
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			int r;
			if (lws_frame_is_binary(wsi))
				r = on_message(ch, (const unsigned char *)ch->rx.s, ch->rx.len);
			else
				r = 0;   /* the service sends no text after the token; ignore */
			ch->rx.len = 0;
			if (r != 0)
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (ch->qh != NULL) {
			struct qent *q = ch->qh;
			int n = lws_write(wsi, q->data + LWS_PRE, q->len, q->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
			if (n < (int)q->len) {
				fail(ch, CUT_ENET, "The Session Manager data channel to %s dropped.", ch->target);
				return -1;
			}
			ch->qh = q->next;
			if (ch->qh == NULL)
				ch->qt = NULL;
			ch->qbytes -= q->len;
			if (q->text)
				explicit_bzero(q->data, LWS_PRE + q->len);   /* the token */
			free(q);
			if (ch->qh != NULL)
				lws_callback_on_writable(wsi);
			flow(ch);
			if (ch->raw != NULL && may_read_up(ch))
				read_up(ch);
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		ch->ws = NULL;
		fail(ch, CUT_ENET, "The Session Manager data channel to %s closed.", ch->target);
		break;
	case LWS_CALLBACK_RAW_RX_FILE:
		read_up(ch);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		write_down(ch);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		ch->raw = NULL;
		ch->done = 1;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "cutover-ssm", cb, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- the thread --------------------------------------------------------------- */

static void *
run(void *arg)
{
	struct ssm_channel *ch = arg;
	struct lws_client_connect_info ci;
	lws_sock_file_fd_type fdt;
	int64_t end = 0;

	memset(&ci, 0, sizeof(ci));
	ci.context = ch->ctx;
	ci.address = ch->addr;
	ci.port = ch->port;
	ci.path = ch->pathbuf;
	ci.host = ch->addr;
	ci.origin = ch->addr;
	ci.ssl_connection = ch->tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = protocols[0].name;
	ci.pwsi = &ch->ws;
	if (lws_client_connect_via_info(&ci) == NULL && ch->state == 0)
		fail(ch, CUT_ENET, "Cannot open the Session Manager data channel to %s; check the network.", ch->target);
	fdt.filefd = ch->fd;
	ch->raw = lws_adopt_descriptor_vhost(lws_get_vhost_by_name(ch->ctx, "default"), LWS_ADOPT_RAW_FILE_DESC,
	    fdt, protocols[0].name, NULL);
	if (ch->raw == NULL) {
		close(ch->fd);
		fail(ch, CUT_EIO, "Cannot attach the Session Manager channel to %s to its stream.", ch->target);
	} else {
		lws_rx_flow_control(ch->raw, 0);   /* nothing goes up before the handshake */
		ch->raw_paused = 1;
	}
	while (!ch->done) {
		if (ch->stop) {
			/* Say goodbye once, then give the queue half a second. */
			if (end == 0) {
				end = cut_mono_ms() + 500;
				if (ch->ready && ch->ws != NULL) {
					unsigned char flag[4] = { 0, 0, 0, SSM_FLAG_TERMINATE_SESSION };
					ch->raw_eof = 1;
					(void)send_input(ch, SSM_PT_FLAG, flag, sizeof(flag));
				}
			}
			if (ch->qh == NULL || ch->ws == NULL || cut_mono_ms() >= end)
				break;
		}
		if (lws_service(ch->ctx, 0) < 0)
			break;
	}
	/* Whatever ended the loop, the stream ends: libssh2 sees the close. */
	ch->destroying = 1;
	pthread_mutex_lock(&ch->ctx_mu);
	lws_context_destroy(ch->ctx);   /* closes the socketpair end and the websocket */
	ch->ctx = NULL;
	pthread_mutex_unlock(&ch->ctx_mu);
	pthread_mutex_lock(&ch->mu);
	if (ch->state == 0) {
		ch->state = -1;
		if (ch->err.code == 0)
			cut_err_set(&ch->err, CUT_ENET, "The Session Manager data channel to %s ended before its handshake.",
			    ch->target);
	}
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
	return NULL;
}

static void
free_channel(struct ssm_channel *ch)
{
	struct qent *q, *n;

	for (q = ch->qh; q != NULL; q = n) {
		n = q->next;
		explicit_bzero(q->data, LWS_PRE + q->len);
		free(q);
	}
	if (ch->token != NULL) {
		explicit_bzero(ch->token, strlen(ch->token));
		free(ch->token);
	}
	sbuf_free(&ch->rx);
	free(ch->down);
	free(ch->url);
	pthread_mutex_destroy(&ch->mu);
	pthread_mutex_destroy(&ch->ctx_mu);
	pthread_cond_destroy(&ch->cv);
	free(ch);
}

int
ssm_channel_open(struct ssm_channel **out, const struct ssm_channel_opts *o, int *fd, struct cut_err *err)
{
	struct ssm_channel *ch;
	struct lws_context_creation_info info;
	const char *prot = NULL, *path = NULL;
	int sv[2], r;

	*out = NULL;
	*fd = -1;
	pthread_once(&lws_once, init_lws);
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory opening a Session Manager channel.");
	pthread_mutex_init(&ch->mu, NULL);
	pthread_mutex_init(&ch->ctx_mu, NULL);
	pthread_cond_init(&ch->cv, NULL);
	ch->fd = -1;
	snprintf(ch->target, sizeof(ch->target), "%s", o->target ? o->target : "the instance");
	if (o->ca_file != NULL)
		snprintf(ch->ca_file, sizeof(ch->ca_file), "%s", o->ca_file);
	ch->url = strdup(o->stream_url ? o->stream_url : "");
	ch->token = strdup(o->token ? o->token : "");
	if (ch->url == NULL || ch->token == NULL) {
		free_channel(ch);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory opening a Session Manager channel.");
	}
	if (lws_parse_uri(ch->url, &prot, &ch->addr, &ch->port, &path) != 0 || prot == NULL ||
	    (strcmp(prot, "wss") != 0 && strcmp(prot, "ws") != 0) || ch->addr[0] == '\0') {
		free_channel(ch);
		return cut_err_set(err, CUT_EPROTO, "Session Manager answered a stream URL this tool cannot use for %s "
		    "(not wss://HOST/PATH).", o->target);
	}
	ch->tls = strcmp(prot, "wss") == 0;
	if (!ch->tls && ch->port == 443)
		ch->port = 80;
	snprintf(ch->pathbuf, sizeof(ch->pathbuf), "/%s", path ? path : "");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free_channel(ch);
		return cut_err_set(err, CUT_EIO, "Cannot make a socket pair for the Session Manager channel: %s.",
		    strerror(errno));
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	ch->fd = sv[0];

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = ch;
	info.options = ch->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	if (ch->ca_file[0])
		info.client_ssl_ca_filepath = ch->ca_file;
	info.fd_limit_per_thread = 8;
	if ((ch->ctx = lws_create_context(&info)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		free_channel(ch);
		return cut_err_set(err, CUT_EIO, "Cannot start libwebsockets for the Session Manager channel to %s.",
		    o->target);
	}
	if ((r = pthread_create(&ch->th, NULL, run, ch)) != 0) {
		lws_context_destroy(ch->ctx);
		close(sv[0]);
		close(sv[1]);
		free_channel(ch);
		return cut_err_set(err, CUT_EIO, "Cannot start the Session Manager channel thread: %s.", strerror(r));
	}
	pthread_mutex_lock(&ch->mu);
	while (ch->state == 0) {
		int64_t left = o->deadline_ms - cut_mono_ms();
		struct timespec ts;
		if (left <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (left > 200)
			left = 200;
		ts.tv_sec += (time_t)(left / 1000);
		ts.tv_nsec += (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ch->cv, &ch->mu, &ts);
	}
	r = ch->state;
	if (r < 0 && err != NULL)
		*err = ch->err;
	pthread_mutex_unlock(&ch->mu);
	if (r == 1) {
		*out = ch;
		*fd = sv[1];
		return 0;
	}
	close(sv[1]);
	ch->stop = 1;
	pthread_mutex_lock(&ch->ctx_mu);
	if (ch->ctx != NULL)
		lws_cancel_service(ch->ctx);
	pthread_mutex_unlock(&ch->ctx_mu);
	pthread_join(ch->th, NULL);
	r = r < 0 ? ch->err.code : cut_err_set(err, CUT_ETIMEOUT,
	    "The Session Manager data channel to %s did not complete its handshake in time; check that the SSM agent "
	    "there is online (cutover status).", ch->target);
	free_channel(ch);
	return r < 0 ? r : CUT_ENET;
}

void
ssm_channel_close(struct ssm_channel *ch)
{
	if (ch == NULL)
		return;
	ch->stop = 1;
	/* lws_cancel_service is the one call another thread may make; the
	 * context lives until the thread ends, which join waits for. */
	pthread_mutex_lock(&ch->ctx_mu);
	if (ch->ctx != NULL)
		lws_cancel_service(ch->ctx);
	pthread_mutex_unlock(&ch->ctx_mu);
	pthread_join(ch->th, NULL);
	free_channel(ch);
}

void
ssm_channel_counts(struct ssm_channel *ch, uint64_t *up, uint64_t *down)
{
	*up = ch->up_bytes;
	*down = ch->down_bytes;
}
