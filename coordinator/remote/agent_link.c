/* remote/agent_link.c: see remote/agent_link.h. The local transport: the agent as a child process
 * speaking frames on its stdin/stdout. */
#include "remote/agent_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "frame.h"

#define HELLO_TIMEOUT_MS 10000

struct plink {
	pid_t pid;
	int to_fd, from_fd;
	struct frame_reader *rd;
};

uint64_t
alink_new_id(struct alink *l)
{
	return ++l->next_id;
}

int
alink_request(struct alink *l, const msgpack_sbuffer *sb, uint64_t id,
    alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err)
{
	return l->ops->request(l->ctx, sb, id, on_reply, arg, timeout_ms, err);
}

int
alink_request_in(struct alink *l, const msgpack_sbuffer *sb, uint64_t id, const void *in,
    size_t inlen, alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err)
{
	msgpack_sbuffer f;
	msgpack_packer pk;
	int r;

	if (l->ops->send == NULL)
		return cut_err_set(err, CUT_EINVAL, "The connection to %s cannot stream input to a request; "
		    "this is a bug in cutover, report it.", l->name);
	if ((r = l->ops->send(l->ctx, sb, err)) != 0)
		return r;
	msgpack_sbuffer_init(&f);
	msgpack_packer_init(&pk, &f, msgpack_sbuffer_write);
	for (size_t off = 0; off < inlen; off += FRAME_DATA_CHUNK) {
		size_t n = inlen - off < FRAME_DATA_CHUNK ? inlen - off : FRAME_DATA_CHUNK;
		msgpack_sbuffer_clear(&f);
		alink_pack_head(&pk, "stdin", id, 3);
		alink_pack_str(&pk, "data");
		msgpack_pack_bin(&pk, n);
		msgpack_pack_bin_body(&pk, (const char *)in + off, n);
		if ((r = l->ops->send(l->ctx, &f, err)) != 0) {
			msgpack_sbuffer_destroy(&f);
			return r;
		}
	}
	/* The eof goes as the request proper: the transport sends it, then
	 * hands over every reply carrying id, as for any request. */
	msgpack_sbuffer_clear(&f);
	alink_pack_head(&pk, "stdin", id, 3);
	alink_pack_str(&pk, "eof");
	msgpack_pack_true(&pk);
	r = l->ops->request(l->ctx, &f, id, on_reply, arg, timeout_ms, err);
	msgpack_sbuffer_destroy(&f);
	return r;
}

void
alink_pack_str(msgpack_packer *pk, const char *s)
{
	if (s == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

void
alink_pack_head(msgpack_packer *pk, const char *type, uint64_t id, uint32_t n)
{
	msgpack_pack_map(pk, n);
	alink_pack_str(pk, "t");
	alink_pack_str(pk, type);
	alink_pack_str(pk, "id");
	msgpack_pack_uint64(pk, id);
}

static int
send_payload(struct plink *p, const msgpack_sbuffer *sb, struct cut_err *err)
{
	if (frame_write_sbuf(p->to_fd, sb) != 0)
		return cut_err_set(err, CUT_ENET, "The agent's input closed while sending a request; "
		    "the agent has probably died (see its stderr).");
	return 0;
}

static int
send_simple(struct plink *p, const char *type, uint64_t id, int with_id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (with_id) {
		alink_pack_head(&pk, type, id, 2);
	} else {
		msgpack_pack_map(&pk, 1);
		alink_pack_str(&pk, "t");
		alink_pack_str(&pk, type);
	}
	r = frame_write_sbuf(p->to_fd, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}

/* Reads until one frame is available or deadline (0: none). Returns 0 with
 * *out decoded in zone, or CUT_E*. */
static int
read_frame(struct plink *p, msgpack_zone *zone, msgpack_object *out, uint64_t deadline,
    struct cut_err *err)
{
	char buf[65536];
	int r;

	for (;;) {
		r = frame_reader_next(p->rd, zone, out);
		if (r == FRAME_OK)
			return 0;
		if (r != FRAME_EAGAIN)
			return cut_err_set(err, CUT_EPROTO, "The agent sent a broken frame (%s); "
			    "run again, and report it if it repeats.", frame_strerror(r));
		int tmo = -1;
		if (deadline) {
			uint64_t now = (uint64_t)cut_mono_ms();
			if (now >= deadline)
				return cut_err_set(err, CUT_ETIMEOUT, "The agent did not answer in time.");
			tmo = (int)(deadline - now);
		}
		struct pollfd pf = { .fd = p->from_fd, .events = POLLIN };
		int pr = poll(&pf, 1, tmo);
		if (pr < 0 && errno != EINTR)
			return cut_err_set(err, CUT_EIO, "Waiting for the agent failed: %s.", strerror(errno));
		if (pr <= 0)
			continue;
		ssize_t n = read(p->from_fd, buf, sizeof(buf));
		if (n == 0)
			return cut_err_set(err, CUT_ENET, "The agent ended the connection in the middle of "
			    "a request; it has probably died (see its stderr).");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return cut_err_set(err, CUT_EIO, "Reading from the agent failed: %s.", strerror(errno));
		}
		if ((r = frame_reader_feed(p->rd, buf, (size_t)n)) != 0)
			return cut_err_set(err, CUT_EPROTO, "The agent sent a broken frame (%s).",
			    frame_strerror(r));
	}
}

static int
plink_request(void *ctx, const msgpack_sbuffer *payload, uint64_t id,
    alink_reply_fn on_reply, void *arg, uint64_t timeout_ms, struct cut_err *err)
{
	struct plink *p = ctx;
	uint64_t deadline = timeout_ms ? (uint64_t)cut_mono_ms() + timeout_ms : 0;
	int r, result = 0, cancelled = 0;

	if ((r = send_payload(p, payload, err)) != 0)
		return r;
	for (;;) {
		msgpack_zone zone;
		msgpack_object o;
		uint64_t fid;

		msgpack_zone_init(&zone, 4096);
		/* After a cancel the agent ends the request within its 2 s kill
		 * grace; allow a little more before calling the link broken. */
		r = read_frame(p, &zone, &o, cancelled ? (uint64_t)cut_mono_ms() + 5000 : deadline, err);
		if (r == CUT_ETIMEOUT && !cancelled) {
			msgpack_zone_destroy(&zone);
			send_simple(p, "cancel", id, 1);
			cancelled = 1;
			result = cut_err_set(err, CUT_ETIMEOUT, "The agent's request did not finish "
			    "within %llu ms and was cancelled.", (unsigned long long)timeout_ms);
			continue;
		}
		if (r != 0) {
			msgpack_zone_destroy(&zone);
			return r;
		}
		if (!frame_get_u64(&o, "id", &fid) || fid != id) {
			msgpack_zone_destroy(&zone);
			continue;   /* not ours: a late frame of an earlier request */
		}
		int last = frame_str_eq(frame_get(&o, "t"), "exit") ||
		    frame_str_eq(frame_get(&o, "t"), "error");
		int cr = on_reply(arg, &o);
		msgpack_zone_destroy(&zone);
		if (cr != 0 && !cancelled && !last) {
			send_simple(p, "cancel", id, 1);
			cancelled = 1;
		}
		if (cr < 0 && result == 0)
			result = cr;
		if (last)
			return result;
	}
}

static void
plink_close(void *ctx)
{
	struct plink *p = ctx;
	int st;

	if (p == NULL)
		return;
	send_simple(p, "bye", 0, 0);
	close(p->to_fd);
	/* The agent exits when its input ends; give it a moment, then insist. */
	for (int i = 0; i < 300; i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid)
			goto done;
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
done:
	close(p->from_fd);
	frame_reader_free(p->rd);
	free(p);
}

static int
plink_send(void *ctx, const msgpack_sbuffer *payload, struct cut_err *err)
{
	return send_payload(ctx, payload, err);
}

static const struct alink_ops plink_ops = { plink_request, plink_close, plink_send };

int
alink_spawn(struct alink *l, const char *path, char *const env[], const char *name,
    struct cut_err *err)
{
	int in[2], out[2];
	struct plink *p;
	pid_t pid;

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "local agent");
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->rd = frame_reader_new()) == NULL) {
		free(p);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory starting the agent.");
	}
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		frame_reader_free(p->rd);
		free(p);
		return cut_err_set(err, CUT_EIO, "Cannot create pipes for the agent: %s.", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		frame_reader_free(p->rd);
		free(p);
		return cut_err_set(err, CUT_EIO, "Cannot start the agent: %s.", strerror(errno));
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* A dead agent must show up as an error, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	p->pid = pid;
	p->to_fd = in[1];
	p->from_fd = out[0];
	l->ops = &plink_ops;
	l->ctx = p;

	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	alink_pack_str(&pk, "t");
	alink_pack_str(&pk, "hello");
	alink_pack_str(&pk, "v");
	msgpack_pack_int(&pk, PROTO_VERSION);
	int r = send_payload(p, &sb, err);
	msgpack_sbuffer_destroy(&sb);
	if (r == 0) {
		msgpack_zone zone;
		msgpack_object o;
		msgpack_zone_init(&zone, 4096);
		r = read_frame(p, &zone, &o, (uint64_t)cut_mono_ms() + HELLO_TIMEOUT_MS, err);
		if (r == 0 && !frame_str_eq(frame_get(&o, "t"), "hello"))
			r = cut_err_set(err, CUT_EPROTO, "The agent at %s did not greet with hello; "
			    "it is not a cutover agent of this version.", path);
		msgpack_zone_destroy(&zone);
	}
	if (r != 0) {
		cut_err_wrap(err, "Starting the agent %s", path);
		alink_close(l);
		return r;
	}
	return 0;
}

void
alink_close(struct alink *l)
{
	if (l->ops != NULL)
		l->ops->close(l->ctx);
	l->ops = NULL;
	l->ctx = NULL;
}
