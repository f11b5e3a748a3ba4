/* main.c: cutover-agent, a static program that runs commands for the
 * coordinator and streams their results back as frames (proto/PROTOCOL.md).
 *
 * One poll loop serves the coordinator's stdin, the reply queue on stdout,
 * every child's pipes and a signalfd for SIGCHLD, so several requests run
 * at once without threads. The session state lives in one struct agent on
 * main's stack and is passed down; nothing is global.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static void
begin_close(struct agent *a, int exit_code)
{
	if (!a->closing)
		a->exit_code = exit_code;
	a->closing = 1;
	for (int i = 0; i < a->nreqs; i++) {
		a->reqs[i]->cancelled = !a->reqs[i]->reaped || a->reqs[i]->cancelled;
		req_terminate(a, a->reqs[i]);
	}
}

static const struct op *
find_op(const msgpack_object *msg)
{
	const msgpack_object *t = frame_get(msg, "t");

	for (int i = 0; agent_ops[i]; i++)
		if (frame_str_eq(t, agent_ops[i]->name))
			return agent_ops[i];
	return NULL;
}

static int
dispatch(struct agent *a, const msgpack_object *msg)
{
	const struct op *op = find_op(msg);
	uint64_t id = 0;

	if (a->closing)
		return FRAME_OK;   /* after bye, or while ending: nothing new starts */
	if (!a->hello_done && op != &op_hello) {
		agent_send_error(a, 0, "protocol", "The first frame must be hello; this agent speaks protocol version %d.",
		    PROTO_VERSION);
		begin_close(a, 3);
		return FRAME_OK;
	}
	if (op == NULL) {
		size_t n = 0;
		const char *t = frame_get_str(msg, "t", &n);

		(void)frame_get_u64(msg, "id", &id);
		return agent_send_error(a, id, "unknown-op", "This agent does not know the request type \"%.*s\".",
		    (int)(n > 64 ? 64 : n), t ? t : "");
	}
	return op->handle(a, msg);
}

/* Reads what the coordinator sent and handles every whole frame. */
static void
read_coordinator(struct agent *a)
{
	char buf[65536];
	ssize_t n = read(a->in_fd, buf, sizeof(buf));
	msgpack_zone zone;
	msgpack_object msg;
	int rc;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* The coordinator went away: end everything. */
		begin_close(a, n == 0 && frame_reader_eof(a->reader) == FRAME_EEOF ? 0 : 2);
		return;
	}
	rc = frame_reader_feed(a->reader, buf, (size_t)n);
	while (rc == FRAME_OK && !a->closing) {
		if (!msgpack_zone_init(&zone, 4096)) {
			rc = FRAME_ENOMEM;
			break;
		}
		rc = frame_reader_next(a->reader, &zone, &msg);
		if (rc == FRAME_OK)
			rc = dispatch(a, &msg);
		msgpack_zone_destroy(&zone);
	}
	if (rc != FRAME_OK && rc != FRAME_EAGAIN && !a->closing) {
		agent_send_error(a, 0, "frame", "The agent could not read a frame from the coordinator (%s); it ends "
		    "every command and exits.", frame_strerror(rc));
		begin_close(a, 2);
	}
}

static void
reap(struct agent *a)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(a->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < a->nreqs; i++) {
			struct req *r = a->reqs[i];

			if (r->pid == pid && !r->reaped) {
				r->reaped = 1;
				r->status = status;
				r->end_ms = agent_now_ms();
				r->drain_until_ms = r->end_ms + AGENT_DRAIN_MS;
			}
		}
	}
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
read_child(struct agent *a, struct req *r, int which)
{
	ssize_t n = r->frames && which == 0 ? opw_relay(a, r) :
	    agent_read_out(a, r->id, which + 1, r->out_fd[which]);

	if (n < 0 && errno == ENOMEM) {
		begin_close(a, 2);
		return;
	}
	if (n > 0) {
		if (r->reaped)
			r->drain_until_ms = agent_now_ms() + AGENT_DRAIN_MS;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close_fd(&r->out_fd[which]);
	}
}

static void
write_child(struct req *r)
{
	while (abuf_live(&r->in) > 0) {
		ssize_t w = write(r->in_fd, r->in.data + r->in.off, abuf_live(&r->in));

		if (w > 0) {
			abuf_consume(&r->in, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		/* The child closed its stdin: what it did not read is dropped. */
		abuf_free(&r->in);
		close_fd(&r->in_fd);
		return;
	}
	if (r->in_eof)
		close_fd(&r->in_fd);
}

static void
finish(struct agent *a, int i)
{
	struct req *r = a->reqs[i];

	/* Whatever of the group outlived a cancel or timeout dies with it. */
	if (r->signalled)
		kill(-r->pid, SIGKILL);
	close_fd(&r->in_fd);
	if (!r->sent_exit && agent_send_exit(a, r) == FRAME_ENOMEM)
		begin_close(a, 2);
	frame_reader_free(r->frames);
	abuf_free(&r->in);
	free(r);
	a->reqs[i] = a->reqs[--a->nreqs];
}

/* Deadlines and finished requests; returns the poll timeout in ms. */
static int
timers(struct agent *a)
{
	int64_t now = agent_now_ms(), next = -1;
	/* Children are not read while output is pending (see reply.c), so
	 * that time must not count against their drain period. */
	int throttled = agent_out_pending(a) > 0;

#define NEXT(t) do { if (next < 0 || (t) < next) next = (t); } while (0)
	for (int i = 0; i < a->nreqs; i++) {
		struct req *r = a->reqs[i];

		if (!r->reaped && r->deadline_ms && !r->signalled) {
			if (now >= r->deadline_ms) {
				r->timed_out = 1;
				req_terminate(a, r);
			} else {
				NEXT(r->deadline_ms);
			}
		}
		if (r->signalled && r->kill_at_ms) {
			if (now >= r->kill_at_ms) {
				kill(-r->pid, SIGKILL);
				r->kill_at_ms = 0;
			} else {
				NEXT(r->kill_at_ms);
			}
		}
		if (r->reaped && (r->out_fd[0] >= 0 || r->out_fd[1] >= 0)) {
			if (throttled) {
				r->drain_until_ms = now + AGENT_DRAIN_MS;
			} else if (now >= r->drain_until_ms) {
				/* A background process still holds the pipes. */
				close_fd(&r->out_fd[0]);
				close_fd(&r->out_fd[1]);
			} else {
				NEXT(r->drain_until_ms);
			}
		}
		if (r->reaped && r->out_fd[0] < 0 && r->out_fd[1] < 0) {
			finish(a, i);
			i--;
		}
	}
#undef NEXT
	/* poll() takes an int: wake up at least hourly for far deadlines. */
	if (next >= 0 && next - now > 3600000)
		next = now + 3600000;
	return next < 0 ? -1 : (int)(next - now);
}

static int
stdin_throttled(const struct agent *a)
{
	for (int i = 0; i < a->nreqs; i++)
		if (abuf_live(&a->reqs[i]->in) >= AGENT_STDIN_HIGH)
			return 1;
	return 0;
}

static int
run(struct agent *a)
{
	struct pollfd pfd[3 + 3 * AGENT_MAX_REQS];
	struct req *owner[3 + 3 * AGENT_MAX_REQS];
	int kind[3 + 3 * AGENT_MAX_REQS];

	for (;;) {
		int timeout = timers(a), np = 0;

		if (a->closing && a->nreqs == 0) {
			agent_flush(a, 1);
			return a->exit_code;
		}
#define ADD(f, ev, o, k) do { pfd[np].fd = (f); pfd[np].events = (ev); pfd[np].revents = 0; \
	owner[np] = (o); kind[np] = (k); np++; } while (0)
		ADD(a->sig_fd, POLLIN, NULL, 0);
		if (!a->closing && !stdin_throttled(a))
			ADD(a->in_fd, POLLIN, NULL, 1);
		if (agent_out_pending(a) > 0 && !a->out_broken)
			ADD(a->out_fd, POLLOUT, NULL, 2);
		for (int i = 0; i < a->nreqs; i++) {
			struct req *r = a->reqs[i];

			if (agent_out_pending(a) == 0 || a->out_broken) {
				if (r->out_fd[0] >= 0)
					ADD(r->out_fd[0], POLLIN, r, 3);
				if (r->out_fd[1] >= 0)
					ADD(r->out_fd[1], POLLIN, r, 4);
			}
			if (r->in_fd >= 0 && abuf_live(&r->in) > 0)
				ADD(r->in_fd, POLLOUT, r, 5);
		}
#undef ADD
		if (poll(pfd, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			begin_close(a, 2);
			continue;
		}
		/* Children first: the coordinator's frames may add requests. */
		for (int i = 0; i < np; i++) {
			if (pfd[i].revents == 0)
				continue;
			switch (kind[i]) {
			case 0: reap(a); break;
			case 2:
				if (agent_flush(a, 0) != FRAME_OK)
					begin_close(a, 2);
				break;
			case 3: read_child(a, owner[i], 0); break;
			case 4: read_child(a, owner[i], 1); break;
			case 5: write_child(owner[i]); break;
			}
		}
		for (int i = 0; i < np; i++)
			if (kind[i] == 1 && pfd[i].revents != 0)
				read_coordinator(a);
		if (a->out_broken && !a->closing)
			begin_close(a, 2);
	}
}

int
main(void)
{
	struct agent a;
	sigset_t chld;
	int rc;

	/* First thing: the agent runs as root and reads the whole env file
	 * (database password, SECRET_KEY); a crash must not write them to a
	 * core file, and nobody but root may read its memory through /proc or
	 * ptrace. The children it starts inherit the zero core limit. */
	{
		struct rlimit rl = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &rl);
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	memset(&a, 0, sizeof(a));
	a.in_fd = 0;
	a.out_fd = 1;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((a.sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return 2;
	/* Replies are queued and written as stdout accepts them; a slow
	 * coordinator must never stall the loop. */
	fcntl(a.out_fd, F_SETFL, fcntl(a.out_fd, F_GETFL) | O_NONBLOCK);
	agent_out_init(&a);
	if ((a.reader = frame_reader_new()) == NULL)
		return 2;
	rc = run(&a);
	frame_reader_free(a.reader);
	abuf_free(&a.outq);
	return rc;
}
