/* op_safety.c: the data-safety family (sql, dbenv, logcount, cron, http,
 * reach, df; messages in proto/PROTOCOL.md). Each request runs its worker
 * (op_sql.c, op_logcount.c, op_cron.c, op_http.c, op_df.c) in a forked
 * child of its own session, registered as an ordinary struct req: cancel,
 * the kill grace, reaping and "bye" treat it exactly like a run child. The
 * worker writes whole reply frames to its stdout pipe; opw_relay() passes
 * them on (checked, re-encoded) instead of wrapping bytes in "out" frames,
 * and the agent adds an "exit" only if the worker died before writing its own.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "opsutil.h"

/* Closes every descriptor from lo up (in a forked worker). */
static void
close_from(int lo)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0u) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lo; fd < (int)max; fd++)
		close(fd);
}

static int
spawn_worker(struct agent *a, const msgpack_object *msg, const struct op_worker *w)
{
	int out[2] = { -1, -1 }, in[2] = { -1, -1 }, want_stdin = 0;
	struct req *r;
	uint64_t id;
	pid_t pid;

	if (!frame_get_u64(msg, "id", &id) || id == 0)
		return agent_send_error(a, 0, "bad-request", "A request needs an \"id\" of 1 or more.");
	if (agent_find(a, id) != NULL)
		return agent_send_error(a, id, "duplicate-id", "Request %llu is already running; use a new id.",
		    (unsigned long long)id);
	if (a->nreqs >= AGENT_MAX_REQS)
		return agent_send_error(a, id, "busy", "The agent already runs %d requests; wait for one to end.",
		    AGENT_MAX_REQS);
	/* Input bigger than a frame (sql) follows as stdin frames, which the
	 * agent's loop writes to the worker's stdin as for a run child. */
	(void)frame_get_bool(msg, "stdin", &want_stdin);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return FRAME_ENOMEM;
	if ((r->frames = frame_reader_new()) == NULL || pipe2(out, O_CLOEXEC) < 0 ||
	    (want_stdin && pipe2(in, O_CLOEXEC) < 0)) {
		int e = errno;
		if (out[0] >= 0) { close(out[0]); close(out[1]); }
		frame_reader_free(r->frames);
		free(r);
		return agent_send_start_error(a, id, "cannot start the %s operation: %s", w->type, strerror(e));
	}
	r->start_ms = agent_now_ms();
	if ((pid = fork()) < 0) {
		close(out[0]);
		close(out[1]);
		if (in[0] >= 0) { close(in[0]); close(in[1]); }
		frame_reader_free(r->frames);
		free(r);
		return agent_send_start_error(a, id, "cannot start the %s operation: %s", w->type, strerror(errno));
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Like a run child: own session, default signals, no SIGCHLD
		 * block inherited by what the worker runs (psql, crontab). */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		/* Never the coordinator's frames on stdin; frames out on stdout;
		 * stderr stays the agent's (silent in normal operation, where a
		 * sanitizer build's reports must show). */
		if (null < 0 || dup2(in[0] >= 0 ? in[0] : null, 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		/* A worker does not exec, so close-on-exec does not apply: drop
		 * every other descriptor of the agent, above all the write ends
		 * of stdin pipes (its own, others'), whose copies here would keep
		 * their readers from ever seeing end-of-file. */
		close_from(3);
		_exit(opw_run(w, msg, id) >= 0 ? 0 : 1);
	}
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (in[0] >= 0) {
		close(in[0]);
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	r->id = id;
	r->pid = pid;
	r->out_fd[0] = out[0];
	r->out_fd[1] = -1;
	r->in_fd = in[1];
	a->reqs[a->nreqs++] = r;
	return FRAME_OK;
}

/* msgpack_pack_object() lives in an object file of Debian's libmsgpackc.a
 * that needs glibc's fortified printf, which the musl build lacks: this is
 * the part of it a reply frame needs. */
static void
pack_obj(msgpack_packer *pk, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: msgpack_pack_nil(pk); break;
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean) msgpack_pack_true(pk); else msgpack_pack_false(pk);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: msgpack_pack_uint64(pk, o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: msgpack_pack_int64(pk, o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32: case MSGPACK_OBJECT_FLOAT64: msgpack_pack_double(pk, o->via.f64); break;
	case MSGPACK_OBJECT_STR:
		msgpack_pack_str(pk, o->via.str.size);
		msgpack_pack_str_body(pk, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		msgpack_pack_bin(pk, o->via.bin.size);
		msgpack_pack_bin_body(pk, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		msgpack_pack_array(pk, o->via.array.size);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			pack_obj(pk, &o->via.array.ptr[i]);
		break;
	case MSGPACK_OBJECT_MAP:
		msgpack_pack_map(pk, o->via.map.size);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			pack_obj(pk, &o->via.map.ptr[i].key);
			pack_obj(pk, &o->via.map.ptr[i].val);
		}
		break;
	default:
		msgpack_pack_nil(pk);   /* ext: never sent by a worker */
		break;
	}
}

ssize_t
opw_relay(struct agent *a, struct req *r)
{
	char buf[65536];
	ssize_t n = read(r->out_fd[0], buf, sizeof(buf));
	int rc;

	if (n <= 0)
		return n;
	if (frame_reader_feed(r->frames, buf, (size_t)n) != 0)
		goto broken;
	for (;;) {
		msgpack_zone zone;
		msgpack_object o;
		msgpack_sbuffer sb;
		msgpack_packer pk;
		uint64_t fid;

		msgpack_zone_init(&zone, 2048);
		rc = frame_reader_next(r->frames, &zone, &o);
		if (rc != FRAME_OK) {
			msgpack_zone_destroy(&zone);
			if (rc == FRAME_EAGAIN)
				return n;
			goto broken;
		}
		/* A worker speaks only for its own request. */
		if (!frame_get_u64(&o, "id", &fid) || fid != r->id || r->sent_exit) {
			msgpack_zone_destroy(&zone);
			goto broken;
		}
		if (frame_str_eq(frame_get(&o, "t"), "exit"))
			r->sent_exit = 1;
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		pack_obj(&pk, &o);
		rc = agent_send(a, &sb);
		msgpack_sbuffer_destroy(&sb);
		msgpack_zone_destroy(&zone);
		if (rc != 0) {
			errno = ENOMEM;
			return -1;
		}
	}
broken:
	/* Not expected from our own workers; end it and let the agent's own
	 * exit frame (signal) report it. */
	req_terminate(a, r);
	errno = EIO;
	return -1;
}

#define SAFETY_OP(name)                                                      \
	static int handle_##name(struct agent *a, const msgpack_object *msg)     \
	{                                                                        \
		static const struct op_worker w = { #name, opw_##name };             \
		return spawn_worker(a, msg, &w);                                     \
	}                                                                        \
	const struct op op_##name = { #name, handle_##name }

SAFETY_OP(sql);
SAFETY_OP(dbenv);
SAFETY_OP(logcount);
SAFETY_OP(cron);
SAFETY_OP(http);
SAFETY_OP(reach);
SAFETY_OP(df);
SAFETY_OP(once);
