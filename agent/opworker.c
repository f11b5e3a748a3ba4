/* opworker.c: running a data-safety worker as a child of the agent, in
 * its own session, its frames relayed whole (see opsutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "opsutil.h"

int
opw_spawn(struct opw_child *w, const struct op_worker *worker, const msgpack_object *req,
    uint64_t id)
{
	int p[2];

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if ((w->rd = frame_reader_new()) == NULL)
		return FRAME_ENOMEM;
	if (pipe2(p, O_CLOEXEC) != 0) {
		frame_reader_free(w->rd);
		return FRAME_EIO;
	}
	w->id = id;
	w->started_ms = opu_now_ms();
	if ((w->pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		frame_reader_free(w->rd);
		return FRAME_EIO;
	}
	if (w->pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		setsid();
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* The worker must never read the agent's frames or write to the
		 * coordinator directly: stdin is /dev/null, stdout the pipe. */
		dup2(null, 0);
		dup2(p[1], 1);
		_exit(opw_run(worker, req, id) >= 0 ? 0 : 1);
	}
	close(p[1]);
	w->fd = p[0];
	return 0;
}

int
opw_pump(struct opw_child *w, int out_fd)
{
	char buf[65536];
	ssize_t n = read(w->fd, buf, sizeof(buf));
	int r;

	if (n == 0)
		return 1;
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : FRAME_EIO;
	if ((r = frame_reader_feed(w->rd, buf, (size_t)n)) != 0)
		return r;
	for (;;) {
		msgpack_zone zone;
		msgpack_object o;
		msgpack_sbuffer sb;
		msgpack_packer pk;

		msgpack_zone_init(&zone, 2048);
		r = frame_reader_next(w->rd, &zone, &o);
		if (r != FRAME_OK) {
			msgpack_zone_destroy(&zone);
			return r == FRAME_EAGAIN ? 0 : r;
		}
		if (frame_str_eq(frame_get(&o, "t"), "exit"))
			w->saw_exit = 1;
		/* Re-encoded from the checked object: only whole, valid frames
		 * reach the coordinator, never a worker's partial write. */
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, o);
		r = frame_write_sbuf(out_fd, &sb);
		msgpack_sbuffer_destroy(&sb);
		msgpack_zone_destroy(&zone);
		if (r != 0)
			return r;
	}
}

void
opw_finish(struct opw_child *w, int out_fd, int wstatus, int timed_out)
{
	if (!w->saw_exit) {
		struct op_io io = { .out_fd = out_fd, .id = w->id };
		msgpack_sbuffer sb;
		msgpack_packer pk;
		int sig = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		opu_pack_head(&pk, "exit", &io, 7);
		opu_pack_key(&pk, "status");
		if (sig) msgpack_pack_nil(&pk); else msgpack_pack_int(&pk, WEXITSTATUS(wstatus));
		opu_pack_key(&pk, "signal");
		if (sig) msgpack_pack_int(&pk, sig); else msgpack_pack_nil(&pk);
		opu_pack_key(&pk, "duration_ms");
		msgpack_pack_uint64(&pk, opu_now_ms() - w->started_ms);
		opu_pack_key(&pk, "timed_out");
		if (timed_out) msgpack_pack_true(&pk); else msgpack_pack_false(&pk);
		opu_pack_key(&pk, "error");
		opu_pack_cstr(&pk, sig ? NULL : "the operation ended without reporting its result");
		opu_send(&io, &sb);
		msgpack_sbuffer_destroy(&sb);
	}
	if (w->fd >= 0)
		close(w->fd);
	frame_reader_free(w->rd);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}
