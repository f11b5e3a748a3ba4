/* opsutil.c: see opsutil.h. */
#include "opsutil.h"

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

#include "agent.h"
#include "frame.h"

uint64_t
opu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
opw_run(const struct op_worker *w, const msgpack_object *req, uint64_t id)
{
	struct op_io io = { .out_fd = STDOUT_FILENO, .id = id, .started_ms = opu_now_ms() };
	char why[1024] = "";
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int st;

	st = w->fn(req, &io, why, sizeof(why));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "exit", &io, 7);
	opu_pack_key(&pk, "status");
	if (st >= 0)
		msgpack_pack_int(&pk, st);
	else
		msgpack_pack_nil(&pk);
	opu_pack_key(&pk, "signal");
	msgpack_pack_nil(&pk);
	opu_pack_key(&pk, "duration_ms");
	msgpack_pack_uint64(&pk, opu_now_ms() - io.started_ms);
	opu_pack_key(&pk, "timed_out");
	msgpack_pack_false(&pk);
	opu_pack_key(&pk, "error");
	opu_pack_cstr(&pk, st >= 0 ? NULL : (why[0] ? why : "the operation failed"));
	opu_send(&io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return st;
}

int
opu_req_str(const msgpack_object *req, const char *key, const char *def,
    char *out, size_t outlen)
{
	const msgpack_object *o = frame_get(req, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL) {
		snprintf(out, outlen, "%s", def ? def : "");
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= outlen ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return -1;
	memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
	return 1;
}

int
opu_req_u64(const msgpack_object *req, const char *key, uint64_t def, uint64_t *out)
{
	const msgpack_object *o = frame_get(req, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL) {
		*out = def;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*out = o->via.u64;
	return 1;
}

int
opu_req_bool(const msgpack_object *req, const char *key, int def, int *out)
{
	const msgpack_object *o = frame_get(req, key);

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL) {
		*out = def;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return -1;
	*out = o->via.boolean;
	return 1;
}

int
opu_envfile_get(const char *path, const char *key, char *out, size_t outlen)
{
	/* The agent's one reading of EB env files (env.c, also what "manage"
	 * gives the app), so sql sees the same values the app does. */
	struct env_list e;
	char *text;
	size_t klen = strlen(key), len;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;

	if (fd < 0)
		return -errno;
	if ((text = malloc(OPU_ENV_MAX)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (len = 0; len < OPU_ENV_MAX && (n = read(fd, text + len, OPU_ENV_MAX - len)) != 0; ) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int eno = errno;
			close(fd);
			free(text);
			return -eno;
		}
		len += (size_t)n;
	}
	close(fd);
	if (env_init(&e, NULL) != 0 || env_load_ebfile(&e, text, len) != 0) {
		env_free(&e);
		free(text);
		return -ENOMEM;
	}
	for (size_t i = 0; i < e.n; i++)
		if (strncmp(e.v[i], key, klen) == 0 && e.v[i][klen] == '=') {
			snprintf(out, outlen, "%s", e.v[i] + klen + 1);
			found = 1;
		}
	explicit_bzero(text, len);
	env_free(&e);
	free(text);
	return found;
}

void
opu_pack_cstr(msgpack_packer *pk, const char *s)
{
	if (s == NULL) {
		msgpack_pack_nil(pk);
		return;
	}
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
opu_pack_key(msgpack_packer *pk, const char *k)
{
	opu_pack_cstr(pk, k);
}

void
opu_pack_head(msgpack_packer *pk, const char *type, const struct op_io *io, uint32_t n)
{
	msgpack_pack_map(pk, n);
	opu_pack_key(pk, "t");
	opu_pack_cstr(pk, type);
	opu_pack_key(pk, "id");
	msgpack_pack_uint64(pk, io->id);
}

int
opu_send(const struct op_io *io, msgpack_sbuffer *sb)
{
	int r = frame_write_sbuf(io->out_fd, sb);

	msgpack_sbuffer_clear(sb);
	return r;
}

int
opu_send_out(const struct op_io *io, int fd, const void *buf, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *p = buf;
	int r = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	while (len > 0 && r == 0) {
		size_t n = len > FRAME_DATA_CHUNK ? FRAME_DATA_CHUNK : len;
		opu_pack_head(&pk, "out", io, 4);
		opu_pack_key(&pk, "fd");
		msgpack_pack_int(&pk, fd);
		opu_pack_key(&pk, "data");
		msgpack_pack_bin(&pk, n);
		msgpack_pack_bin_body(&pk, p, n);
		r = opu_send(io, &sb);
		p += n;
		len -= n;
	}
	msgpack_sbuffer_destroy(&sb);
	return r;
}

int
opu_sink_buf(void *arg, int stream, const void *buf, size_t len)
{
	struct opu_buf *b = arg;
	char *p;

	if (stream != b->stream)
		return 0;
	if (b->len + len > b->cap)
		return -1;
	if ((p = realloc(b->data, b->len + len + 1)) == NULL)
		return -1;
	b->data = p;
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

static void
kill_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) != 0)
		kill(pid, sig);
}

int
opu_spawn(char *const argv[], char *const envp[], const void *in, size_t inlen,
    opu_sink_fn sink, void *arg, uint64_t timeout_ms, int *wstatus, int *timed_out,
    char *why, size_t whylen)
{
	return opu_spawn_fd(argv, envp, in, inlen, -1, sink, arg, timeout_ms, wstatus, timed_out,
	    why, whylen);
}

int
opu_spawn_fd(char *const argv[], char *const envp[], const void *in, size_t inlen, int in_fd,
    opu_sink_fn sink, void *arg, uint64_t timeout_ms, int *wstatus, int *timed_out,
    char *why, size_t whylen)
{
	int pin[2], pout[2], perr[2], pexec[2];
	size_t inoff = 0;
	pid_t pid;
	uint64_t deadline = timeout_ms ? opu_now_ms() + timeout_ms : 0, killed_at = 0;
	int eno = 0, stopped = 0;
	char buf[16384];

	*timed_out = 0;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC) ||
	    pipe2(pexec, O_CLOEXEC)) {
		snprintf(why, whylen, "cannot create pipes: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in_fd >= 0 ? in_fd : pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], argv, envp);
		eno = errno;
		if (write(pexec[1], &eno, sizeof(eno)) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	close(pexec[1]);
	if (read(pexec[0], &eno, sizeof(eno)) == (ssize_t)sizeof(eno)) {
		close(pexec[0]);
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		waitpid(pid, wstatus, 0);
		snprintf(why, whylen, "cannot run %s: %s", argv[0], strerror(eno));
		return -1;
	}
	close(pexec[0]);
	/* Our writes to a child that exits early must not kill the worker. */
	signal(SIGPIPE, SIG_IGN);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (inlen == 0 || in_fd >= 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	int open_out = 2;
	while (open_out > 0 || pin[1] >= 0) {
		struct pollfd pf[3];
		int n = 0, tmo = -1;
		uint64_t now = opu_now_ms();

		if (deadline && !killed_at && now >= deadline) {
			*timed_out = 1;
			kill_group(pid, SIGTERM);
			killed_at = now;
		}
		if (killed_at && now >= killed_at + 2000)
			kill_group(pid, SIGKILL);
		if (deadline)
			tmo = killed_at ? 200 : (int)(deadline - now) + 1;
		if (pout[0] >= 0) pf[n++] = (struct pollfd){ .fd = pout[0], .events = POLLIN };
		if (perr[0] >= 0) pf[n++] = (struct pollfd){ .fd = perr[0], .events = POLLIN };
		if (pin[1] >= 0) pf[n++] = (struct pollfd){ .fd = pin[1], .events = POLLOUT };
		if (poll(pf, n, tmo) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (pf[i].fd == pin[1]) {
				ssize_t w = write(pin[1], (const char *)in + inoff, inlen - inoff);
				if (w > 0)
					inoff += (size_t)w;
				if (w < 0 && errno != EAGAIN && errno != EINTR)
					inoff = inlen;   /* the child closed its stdin */
				if (inoff >= inlen) {
					close(pin[1]);
					pin[1] = -1;
				}
				continue;
			}
			ssize_t r = read(pf[i].fd, buf, sizeof(buf));
			if (r > 0) {
				if (!stopped && sink(arg, pf[i].fd == pout[0] ? 1 : 2, buf, (size_t)r) != 0) {
					stopped = 1;
					kill_group(pid, SIGKILL);
				}
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				if (pf[i].fd == pout[0]) { close(pout[0]); pout[0] = -1; }
				else { close(perr[0]); perr[0] = -1; }
				open_out--;
			}
		}
	}
	if (pin[1] >= 0) close(pin[1]);
	if (pout[0] >= 0) close(pout[0]);
	if (perr[0] >= 0) close(perr[0]);
	/* The child's output is closed; a child that detached its outputs and
	 * lives on would hang us, so the deadline still applies here. */
	for (;;) {
		pid_t w = waitpid(pid, wstatus, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			break;
		uint64_t now = opu_now_ms();
		if (deadline && now >= deadline && !killed_at) {
			*timed_out = 1;
			kill_group(pid, SIGTERM);
			killed_at = now;
		}
		if (killed_at && now >= killed_at + 2000)
			kill_group(pid, SIGKILL);
		usleep(10000);
	}
	if (stopped) {
		snprintf(why, whylen, "the output of %s could not be kept or passed on (too much, or the connection broke), so it was stopped", argv[0]);
		return -1;
	}
	return 0;
}
