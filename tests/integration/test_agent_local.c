/* Integration tests for cutover-agent without SSH: the test starts the real
 * static binary (CUTOVER_BUILD/agent/cutover-agent-x86_64, and the aarch64 one
 * under qemu-aarch64-static) over pipes and speaks the protocol to it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "frame.h"
#include "msg.h"
#include "remote/agent_blobs.h"

#define WAIT_MS 30000

static void write_file(const char *path, const char *text);   /* no single reply may take longer */

/* ---- a tiny coordinator ------------------------------------------------ */

struct buf {
	char *d;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		while (b->cap - b->len < n)
			b->cap = b->cap ? b->cap * 2 : 65536;
		b->d = realloc(b->d, b->cap);
		assert_non_null(b->d);
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

struct ac {
	pid_t pid;
	int to, from;
	struct frame_reader *r;
	msgpack_zone zone;
	struct buf q;      /* bytes not yet written to the agent */
	size_t qoff;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
agent_path(char *out, size_t n, const char *arch)
{
	const char *b = getenv("CUTOVER_BUILD");

	snprintf(out, n, "%s/agent/cutover-agent-%s", b ? b : "build", arch);
}

/* ac_start flags: the aarch64 agent under qemu; the agent's stdout a
 * socket instead of a pipe (it then copies output instead of splicing). */
#define AC_AARCH64 1
#define AC_SOCKET 2

static void
ac_start(struct ac *c, int flags)
{
	int in[2], out[2], aarch64 = flags & AC_AARCH64;
	char path[4096];

	memset(c, 0, sizeof(*c));
	agent_path(path, sizeof(path), aarch64 ? "aarch64" : "x86_64");
	assert_int_equal(access(path, X_OK), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	if (flags & AC_SOCKET)
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
	else
		assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (aarch64)
			execlp("qemu-aarch64-static", "qemu-aarch64-static", path, (char *)NULL);
		else
			execl(path, path, (char *)NULL);
		_exit(126);
	}
	close(in[0]);
	close(out[1]);
	c->to = in[1];
	c->from = out[0];
	fcntl(c->to, F_SETFL, O_NONBLOCK);
	c->r = frame_reader_new();
	msgpack_zone_init(&c->zone, 4096);
}

/* Queues the frames msg_* appended to sb, and frees sb. */
static void
ac_push(struct ac *c, msgpack_sbuffer *sb, int rc)
{
	assert_int_equal(rc, FRAME_OK);
	buf_add(&c->q, sb->data, sb->size);
	msgpack_sbuffer_destroy(sb);
}

static void
ac_queue(struct ac *c, msgpack_sbuffer *payload)
{
	msgpack_sbuffer framed;

	msgpack_sbuffer_init(&framed);
	assert_int_equal(frame_wrap_sbuf(&framed, payload), FRAME_OK);
	buf_add(&c->q, framed.data, framed.size);
	msgpack_sbuffer_destroy(&framed);
	msgpack_sbuffer_destroy(payload);
}

/* Next frame from the agent, writing queued frames meanwhile. Returns 0 with
 * *o valid until the next call, 1 at EOF, -1 after timeout_ms. */
static int
ac_next(struct ac *c, msgpack_object *o, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	msgpack_zone_clear(&c->zone);
	for (;;) {
		struct pollfd p[2] = { { c->from, POLLIN, 0 }, { c->to, POLLOUT, 0 } };
		int rc = frame_reader_next(c->r, &c->zone, o), np;
		int64_t left;

		if (rc == FRAME_OK)
			return 0;
		assert_int_equal(rc, FRAME_EAGAIN);
		left = end - now_ms();
		if (left <= 0)
			return -1;
		np = (c->to >= 0 && c->q.len > c->qoff) ? 2 : 1;
		if (poll(p, (nfds_t)np, (int)left) < 0)
			continue;
		if (np == 2 && p[1].revents) {
			ssize_t w = write(c->to, c->q.d + c->qoff, c->q.len - c->qoff);

			if (w > 0)
				c->qoff += (size_t)w;
			if (c->qoff == c->q.len)
				c->qoff = c->q.len = 0;
		}
		if (p[0].revents) {
			char b[65536];
			ssize_t n = read(c->from, b, sizeof(b));

			if (n == 0)
				return 1;
			if (n > 0)
				assert_int_equal(frame_reader_feed(c->r, b, (size_t)n), FRAME_OK);
		}
	}
}

/* Writes every queued byte (blocking) */
static void
ac_flush(struct ac *c)
{
	while (c->q.len > c->qoff) {
		struct pollfd p = { c->to, POLLOUT, 0 };
		ssize_t w;

		assert_true(poll(&p, 1, WAIT_MS) == 1);
		w = write(c->to, c->q.d + c->qoff, c->q.len - c->qoff);
		assert_true(w > 0);
		c->qoff += (size_t)w;
	}
	c->qoff = c->q.len = 0;
}

/* Closes the agent's stdin and returns its wait status (fails after 10 s). */
static int
ac_end(struct ac *c)
{
	int st = 0;
	int64_t end = now_ms() + 10000;

	ac_flush(c);
	if (c->to >= 0)
		close(c->to);
	c->to = -1;
	while (waitpid(c->pid, &st, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			fail_msg("the agent did not exit within 10 s of its stdin closing");
		}
		usleep(10000);
	}
	close(c->from);
	frame_reader_free(c->r);
	msgpack_zone_destroy(&c->zone);
	free(c->q.d);
	return st;
}

/* ---- messages ---------------------------------------------------------- */

static void
pk_init(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* hello with version v: msg_hello for ours, hand-built for another. */
static void
send_hello(struct ac *c, int v)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (v == PROTO_VERSION) {
		msgpack_sbuffer_init(&sb);
		ac_push(c, &sb, msg_hello(&sb));
		return;
	}
	pk_init(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	frame_pack_kv_str(&pk, "t", "hello");
	frame_pack_str(&pk, "v");
	msgpack_pack_int(&pk, v);
	ac_queue(c, &sb);
}

static void
send_simple(struct ac *c, const char *t, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	pk_init(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	frame_pack_kv_str(&pk, "t", t);
	frame_pack_str(&pk, "id");
	msgpack_pack_uint64(&pk, id);
	ac_queue(c, &sb);
}

struct run_opts {
	int want_stdin;
	uint64_t timeout_ms;
	const char *cwd;
	const char *const *env;   /* key, value, ..., NULL */
};

static void
send_run(struct ac *c, uint64_t id, const char *const *argv, const struct run_opts *o)
{
	struct msg_run m = { .id = id, .argv = argv };
	msgpack_sbuffer sb;

	if (o) {
		m.want_stdin = o->want_stdin;
		m.timeout_ms = o->timeout_ms;
		m.cwd = o->cwd;
		m.env = o->env;
	}
	msgpack_sbuffer_init(&sb);
	if (argv[0] == NULL) {
		/* msg_run refuses an empty argv; send one anyway to see the
		 * agent refuse it too. */
		msgpack_packer pk;
		msgpack_sbuffer p;

		msgpack_sbuffer_init(&p);
		msgpack_packer_init(&pk, &p, msgpack_sbuffer_write);
		assert_int_equal(msg_run(&sb, &m), FRAME_EMALFORMED);
		msgpack_pack_map(&pk, 3);
		frame_pack_kv_str(&pk, "t", "run");
		frame_pack_str(&pk, "id");
		msgpack_pack_uint64(&pk, id);
		frame_pack_str(&pk, "argv");
		msgpack_pack_array(&pk, 0);
		ac_queue(c, &p);
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	ac_push(c, &sb, msg_run(&sb, &m));
}

static void
send_manage(struct ac *c, uint64_t id, const char *const *args, const char *app_dir, const char *env_file,
    const char *python, const struct run_opts *o)
{
	struct msg_run m = { .id = id, .argv = args, .app_dir = app_dir, .env_file = env_file, .python = python };
	msgpack_sbuffer sb;

	if (o) {
		m.want_stdin = o->want_stdin;
		m.timeout_ms = o->timeout_ms;
		m.env = o->env;
	}
	msgpack_sbuffer_init(&sb);
	ac_push(c, &sb, msg_manage(&sb, &m));
}

static void
send_stdin(struct ac *c, uint64_t id, const void *data, size_t n, int eof)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	ac_push(c, &sb, eof ? msg_stdin_eof(&sb, id) : msg_stdin(&sb, id, data, n));
}

static void
send_cancel(struct ac *c, uint64_t id)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	ac_push(c, &sb, msg_cancel(&sb, id));
}

/* ---- collecting a request's replies ------------------------------------ */

struct result {
	uint64_t id;
	struct buf out, err;
	int done;
	int has_status, has_signal, has_error;
	int64_t status, signal;
	uint64_t duration_ms;
	int timed_out, cancelled;
	char error[512];
	char err_code[64];   /* when the request was refused with "error" */
	int out_frames;
	int count_only;      /* count stdout bytes in out_bytes, keep none */
	size_t out_bytes;
};

static void
result_free(struct result *r)
{
	free(r->out.d);
	free(r->err.d);
}

static struct result *
find_res(struct result **rs, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (rs[i]->id == id)
			return rs[i];
	return NULL;
}

static int
has_line(const struct result *r)
{
	return r->out.len > 0 && memchr(r->out.d, '\n', r->out.len) != NULL;
}

/* Reads frames into rs[0..n-1] until every one is done or, when until is
 * set, until it has printed a whole line; fails on anything unexpected. */
static void
collect_until(struct ac *c, struct result **rs, int n, const struct result *until)
{
	int left = 0;

	for (int i = 0; i < n; i++)
		left += !rs[i]->done;
	while (until ? !has_line(until) : left > 0) {
		msgpack_object o;
		struct msg_reply m;
		struct result *r;
		int rc = ac_next(c, &o, WAIT_MS);

		if (rc != 0)
			fail_msg("agent %s before all requests ended", rc > 0 ? "closed its stdout" : "went silent");
		assert_int_equal(msg_parse_reply(&o, &m), FRAME_OK);
		r = find_res(rs, n, m.id);
		assert_non_null(r);
		assert_false(r->done);
		switch (m.type) {
		case MSG_OUT:
			assert_true(m.data_len > 0 && m.data_len <= FRAME_OUT_CHUNK);
			if (r->count_only && m.fd == 1)
				r->out_bytes += m.data_len;
			else
				buf_add(m.fd == 1 ? &r->out : &r->err, m.data, m.data_len);
			r->out_frames++;
			break;
		case MSG_EXIT:
			/* every field present, even when nil */
			assert_true(frame_get(&o, "status") && frame_get(&o, "signal") && frame_get(&o, "error") &&
			    frame_get(&o, "timed_out") && frame_get(&o, "cancelled"));
			r->has_status = m.has_status;
			r->status = m.status;
			r->has_signal = m.has_signal;
			r->signal = m.signal;
			r->duration_ms = m.duration_ms;
			r->timed_out = m.timed_out;
			r->cancelled = m.cancelled;
			if (m.error) {
				r->has_error = 1;
				snprintf(r->error, sizeof(r->error), "%.*s", (int)m.error_len, m.error);
			}
			r->done = 1;
			left--;
			break;
		case MSG_ERROR:
			snprintf(r->err_code, sizeof(r->err_code), "%.*s", (int)m.code_len, m.code);
			r->done = 1;
			left--;
			break;
		default:
			fail_msg("unexpected frame type from the agent");
		}
	}
}

/* Reads frames until every result is done. */
static void
collect(struct ac *c, struct result **rs, int n)
{
	collect_until(c, rs, n, NULL);
}

static void
run_one(struct ac *c, struct result *r, uint64_t id, const char *const *argv, const struct run_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	send_run(c, id, argv, o);
	collect(c, &r, 1);
}

/* Starts an agent and completes the handshake. */
static void
ac_hello(struct ac *c, int flags)
{
	msgpack_object o;

	ac_start(c, flags);
	send_hello(c, PROTO_VERSION);
	assert_int_equal(ac_next(c, &o, (flags & AC_AARCH64) ? 60000 : WAIT_MS), 0);
	assert_true(frame_str_eq(frame_get(&o, "t"), "hello"));
}

static int
buf_is(const struct buf *b, const char *s)
{
	return b->len == strlen(s) && memcmp(b->d, s, b->len) == 0;
}

/* ---- tests ------------------------------------------------------------- */

static void
check_hello(int aarch64)
{
	struct ac c;
	msgpack_object o;
	uint64_t v = 0;
	int64_t uid = -1, pid = -1;
	size_t n = 0;
	const char *s;
	struct utsname u;
	const char *want[] = { "hello", "run", "manage", "stdin", "cancel", "bye" };

	ac_start(&c, aarch64);
	send_hello(&c, PROTO_VERSION);
	assert_int_equal(ac_next(&c, &o, 60000), 0);
	assert_true(frame_str_eq(frame_get(&o, "t"), "hello"));
	assert_true(frame_get_u64(&o, "v", &v));
	assert_int_equal(v, PROTO_VERSION);
	assert_non_null(s = frame_get_str(&o, "agent", &n));
	assert_true(n > 2 && s[0] == '0' + PROTO_VERSION && s[1] == '+');
	/* cutover --version names this agent as it names itself in hello:
	 * the build id read from the embedded copy of the same binary. */
	{
		char v[128];
		struct cut_err err;

		assert_int_equal(agent_blob_version(aarch64 ? "aarch64" : "x86_64", v, sizeof(v), &err), 0);
		assert_int_equal(strlen(v), n);
		assert_memory_equal(v, s, n);
	}
	assert_true(frame_str_eq(frame_get(&o, "arch"), aarch64 ? "aarch64" : "x86_64"));
	assert_int_equal(uname(&u), 0);
	assert_true(frame_str_eq(frame_get(&o, "hostname"), u.nodename));
	assert_true(frame_get_i64(&o, "uid", &uid));
	assert_int_equal(uid, (int64_t)getuid());
	assert_true(frame_get_i64(&o, "pid", &pid));
	if (!aarch64)
		assert_int_equal(pid, (int64_t)c.pid);
	{
		struct msg_reply m;

		assert_int_equal(msg_parse_reply(&o, &m), FRAME_OK);
		assert_int_equal(m.type, MSG_HELLO);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			assert_true(msg_hello_has_op(&m, want[i]));
		assert_false(msg_hello_has_op(&m, "tail-logs"));
	}
	/* bye: a clean exit 0 */
	{
		msgpack_sbuffer sb;

		msgpack_sbuffer_init(&sb);
		ac_push(&c, &sb, msg_bye(&sb));
		ac_flush(&c);
		assert_int_equal(ac_next(&c, &o, WAIT_MS), 1);
	}
	{
		int st = ac_end(&c);

		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static void
test_hello(void **state)
{
	(void)state;
	check_hello(0);
}

static void
test_exit_codes(void **state)
{
	struct ac c;
	struct result r;
	const char *t[] = { "true", NULL };
	const char *seven[] = { "sh", "-c", "exit 7", NULL };
	const char *sleepy[] = { "sleep", "0.3", NULL };

	(void)state;
	ac_hello(&c, 0);
	run_one(&c, &r, 1, t, NULL);
	assert_true(r.has_status && r.status == 0);
	assert_false(r.has_signal);
	assert_false(r.has_error);
	assert_false(r.timed_out);
	result_free(&r);
	run_one(&c, &r, 2, seven, NULL);
	assert_true(r.has_status && r.status == 7);
	result_free(&r);
	run_one(&c, &r, 3, sleepy, NULL);
	assert_true(r.has_status && r.status == 0);
	assert_true(r.duration_ms >= 300 && r.duration_ms < 5000);
	result_free(&r);
	/* The largest timeout means "none", not an overflow into "late". */
	{
		struct run_opts o = { .timeout_ms = UINT64_MAX };

		run_one(&c, &r, 4, sleepy, &o);
		assert_false(r.timed_out);
		assert_true(r.has_status && r.status == 0);
		result_free(&r);
	}
	ac_end(&c);
}

static void
test_signals(void **state)
{
	struct ac c;
	struct result r;
	const char *k9[] = { "sh", "-c", "kill -KILL $$", NULL };
	const char *segv[] = { "sh", "-c", "kill -SEGV $$", NULL };

	(void)state;
	ac_hello(&c, 0);
	run_one(&c, &r, 1, k9, NULL);
	assert_false(r.has_status);
	assert_true(r.has_signal);
	assert_int_equal(r.signal, SIGKILL);
	assert_false(r.timed_out);
	assert_false(r.cancelled);
	result_free(&r);
	run_one(&c, &r, 2, segv, NULL);
	assert_false(r.has_status);
	assert_int_equal(r.signal, SIGSEGV);
	result_free(&r);
	ac_end(&c);
}

static void
test_streams_apart(void **state)
{
	struct ac c;
	struct result r;
	const char *argv[] = { "sh", "-c", "echo out1; echo err1 >&2; printf out2; printf 'err2\\n' >&2", NULL };
	const char *env_argv[] = { "sh", "-c", "printf %s \"$CUT_A\"; pwd >&2", NULL };
	const char *env[] = { "CUT_A", "value with spaces = and 'quotes'", NULL };
	struct run_opts o = { .env = env, .cwd = "/tmp" };

	const char *fds[] = { "sh", "-c", "ls /proc/$$/fd", NULL };
	int leak;

	(void)state;
	/* A descriptor the agent inherits without close-on-exec (as from sshd)
	 * must not reach the programs it runs. */
	assert_true((leak = open("/dev/null", O_RDONLY)) >= 3);
	ac_hello(&c, 0);
	close(leak);
	run_one(&c, &r, 4, fds, NULL);
	assert_true(buf_is(&r.out, "0\n1\n2\n"));
	result_free(&r);
	run_one(&c, &r, 5, argv, NULL);
	assert_true(buf_is(&r.out, "out1\nout2"));
	assert_true(buf_is(&r.err, "err1\nerr2\n"));
	assert_int_equal(r.status, 0);
	result_free(&r);
	run_one(&c, &r, 6, env_argv, &o);
	assert_true(buf_is(&r.out, "value with spaces = and 'quotes'"));
	assert_true(buf_is(&r.err, "/tmp\n"));
	result_free(&r);
	ac_end(&c);
}

static void
sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
}

static void
test_binary_output(void **state)
{
	enum { SIZE = 20 * 1024 * 1024 };
	char dir[] = "/tmp/cutover-agent-test.XXXXXX", path[128], size[32];
	unsigned char want[32], got[32];
	char *data = malloc(SIZE);
	struct ac c;
	struct result r;
	int fd, rnd;
	const char *argv[] = { "head", "-c", size, path, NULL };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/random", dir);
	snprintf(size, sizeof(size), "%d", SIZE);
	assert_true((rnd = open("/dev/urandom", O_RDONLY)) >= 0);
	for (size_t off = 0; off < SIZE;) {
		ssize_t n = read(rnd, data + off, SIZE - off);

		assert_true(n > 0);
		off += (size_t)n;
	}
	close(rnd);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, data, SIZE), SIZE);
	close(fd);
	sha256(data, SIZE, want);
	ac_hello(&c, 0);
	run_one(&c, &r, 9, argv, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, SIZE);
	assert_int_equal(r.err.len, 0);
	sha256(r.out.d, r.out.len, got);
	assert_memory_equal(want, got, 32);
	result_free(&r);
	ac_end(&c);
	unlink(path);
	rmdir(dir);
	free(data);
}

/* Output of two requests at once, each writing stdout and stderr together,
 * arrives byte-exact both when the agent splices (stdout a pipe) and when
 * it copies (stdout a socket); frames of both paths interleave when a
 * splice is pending while another stream has output. */
static void
test_output_paths(void **state)
{
	enum { SIZE = 3 * 1024 * 1024 + 123 };
	char dir[] = "/tmp/cutover-agent-test.XXXXXX", path[128], cmd[300];
	unsigned char want[32], got[32];
	char *data = malloc(SIZE);
	const char *argv[] = { "sh", "-c", cmd, NULL };
	int fd;

	(void)state;
	assert_non_null(data);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/data", dir);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (char)(i * 7919 % 251);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, data, SIZE), SIZE);
	close(fd);
	sha256(data, SIZE, want);
	snprintf(cmd, sizeof(cmd), "cat %s & cat %s >&2; wait", path, path);
	for (int sock = 0; sock < 2; sock++) {
		struct ac c;
		struct result r[2], *rp[2] = { &r[0], &r[1] };

		ac_hello(&c, sock ? AC_SOCKET : 0);
		for (int i = 0; i < 2; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].id = (uint64_t)i + 1;
			send_run(&c, r[i].id, argv, NULL);
		}
		collect(&c, rp, 2);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(r[i].status, 0);
			assert_int_equal(r[i].out.len, SIZE);
			assert_int_equal(r[i].err.len, SIZE);
			sha256(r[i].out.d, r[i].out.len, got);
			assert_memory_equal(want, got, 32);
			sha256(r[i].err.d, r[i].err.len, got);
			assert_memory_equal(want, got, 32);
			result_free(&r[i]);
		}
		ac_end(&c);
	}
	unlink(path);
	rmdir(dir);
	free(data);
}

static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* A coordinator that does not read must not make the agent buffer the
 * child's output: 200 MB are produced while nobody reads for a while. */
static void
test_output_memory_bounded(void **state)
{
	enum { SIZE = 200 * 1000 * 1000 };
	struct ac c;
	struct result r, *rp = &r;
	const char *argv[] = { "head", "-c", "200000000", "/dev/zero", NULL };
	long before, during;

	(void)state;
	ac_hello(&c, 0);
	before = rss_kb(c.pid);
	memset(&r, 0, sizeof(r));
	r.id = 1;
	r.count_only = 1;
	send_run(&c, 1, argv, NULL);
	ac_flush(&c);
	usleep(1500 * 1000);
	during = rss_kb(c.pid);
	/* the queue's high mark is 256 KiB plus one read: allow 4 MB */
	assert_true(during - before < 4096);
	collect(&c, &rp, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_bytes, SIZE);
	result_free(&r);
	ac_end(&c);
}

/* 4 MiB through cat: more than every buffer on the way, so the agent's
 * back-pressure in both directions is exercised. */
static void
test_stdin(void **state)
{
	enum { SIZE = 4 * 1024 * 1024 };
	char *data = malloc(SIZE);
	struct ac c;
	struct result r;
	const char *cat[] = { "cat", NULL };
	const char *wc[] = { "wc", "-c", NULL };
	struct run_opts o = { .want_stdin = 1 };

	(void)state;
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (char)(i * 7 + i / 251);
	ac_hello(&c, 0);
	memset(&r, 0, sizeof(r));
	r.id = 3;
	send_run(&c, 3, cat, &o);
	for (size_t off = 0; off < SIZE; off += FRAME_DATA_CHUNK)
		send_stdin(&c, 3, data + off, FRAME_DATA_CHUNK, 0);
	send_stdin(&c, 3, NULL, 0, 1);
	{
		struct result *rs = &r;

		collect(&c, &rs, 1);
	}
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, SIZE);
	assert_memory_equal(r.out.d, data, SIZE);
	result_free(&r);
	/* Without "stdin": the child reads /dev/null and ends at once. */
	run_one(&c, &r, 4, wc, NULL);
	assert_true(buf_is(&r.out, "0\n"));
	result_free(&r);
	ac_end(&c);
	free(data);
}

/* Processes (not zombies) whose process group is pgid. */
static int
group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int alive = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[300], line[1024], *p, state;
		int pgrp = 0;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == pgid && state != 'Z' && state != 'X')
			alive++;
		fclose(f);
	}
	closedir(d);
	return alive;
}

static int
group_gone_within(pid_t pgid, int ms)
{
	int64_t end = now_ms() + ms;

	while (group_alive(pgid)) {
		if (now_ms() > end)
			return 0;
		usleep(20000);
	}
	return 1;
}

/* The request printed its process group id first: nothing of it is left. */
static void
assert_group_gone(struct result *r)
{
	long pgid;

	buf_add(&r->out, "", 1);
	pgid = strtol(r->out.d, NULL, 10);
	assert_true(pgid > 1);
	assert_true(group_gone_within((pid_t)pgid, 2000));
}

static void
test_timeout_kills_group(void **state)
{
	struct ac c;
	struct result r;
	/* The shell starts a grandchild and waits; both must die. */
	const char *argv[] = { "sh", "-c", "sleep 300 & echo $$; wait", NULL };
	/* Both ignore TERM: the agent must follow with KILL. */
	const char *stubborn[] = { "sh", "-c", "trap '' TERM; sleep 300 & echo $$; wait; wait", NULL };
	struct run_opts o = { .timeout_ms = 500 };

	(void)state;
	ac_hello(&c, 0);
	run_one(&c, &r, 1, argv, &o);
	assert_true(r.timed_out);
	assert_false(r.cancelled);
	assert_false(r.has_status);
	assert_int_equal(r.signal, SIGTERM);
	assert_true(r.duration_ms >= 500 && r.duration_ms < 3000);
	assert_group_gone(&r);
	result_free(&r);

	run_one(&c, &r, 2, stubborn, &o);
	assert_true(r.timed_out);
	assert_int_equal(r.signal, SIGKILL);
	assert_true(r.duration_ms >= 2400 && r.duration_ms < 6000);
	assert_group_gone(&r);
	result_free(&r);
	ac_end(&c);
}

static void
test_cancel_and_concurrency(void **state)
{
	struct ac c;
	struct result a, b, d;
	struct result *rs[] = { &a, &b, &d };
	const char *long_argv[] = { "sh", "-c", "echo $$; exec sleep 60", NULL };
	const char *slow[] = { "sh", "-c", "sleep 0.5; echo slow", NULL };
	const char *fast[] = { "echo", "fast", NULL };
	msgpack_object o;

	(void)state;
	ac_hello(&c, 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&d, 0, sizeof(d));
	a.id = 10;
	b.id = 11;
	d.id = 12;
	send_run(&c, 10, long_argv, NULL);
	send_run(&c, 11, slow, NULL);
	send_run(&c, 12, fast, NULL);
	/* A duplicate id while 10 runs is refused, and 10 keeps running. */
	send_run(&c, 10, fast, NULL);
	assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
	while (!frame_str_eq(frame_get(&o, "t"), "error")) {
		uint64_t id = 0;

		/* early output of 10/12 can come first: keep it */
		assert_true(frame_get_u64(&o, "id", &id));
		if (frame_str_eq(frame_get(&o, "t"), "out")) {
			const msgpack_object *data = frame_get(&o, "data");

			buf_add(&find_res(rs, 3, id)->out, data->via.bin.ptr, data->via.bin.size);
		} else {
			assert_int_equal(id, 12);
			d.done = 1;
			d.has_status = frame_get_i64(&o, "status", &d.status);
		}
		assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
	}
	assert_true(frame_str_eq(frame_get(&o, "code"), "duplicate-id"));
	/* Cancel only once the shell has printed its pid: a cancel that wins
	 * the race with `echo` leaves nothing to check the group against. */
	collect_until(&c, rs, 3, &a);
	send_cancel(&c, 10);
	send_cancel(&c, 999);   /* unknown ids are ignored */
	collect(&c, rs, 3);
	assert_true(a.cancelled);
	assert_false(a.timed_out);
	assert_int_equal(a.signal, SIGTERM);
	assert_true(a.duration_ms < 5000);
	assert_true(b.has_status && b.status == 0);
	assert_true(buf_is(&b.out, "slow\n"));
	assert_true(buf_is(&d.out, "fast\n"));
	assert_group_gone(&a);
	result_free(&a);
	result_free(&b);
	result_free(&d);
	ac_end(&c);
}

static void
test_spawn_failures(void **state)
{
	struct ac c;
	struct result r;
	const char *nope[] = { "no-such-program-cutover", NULL };
	char dir[] = "/tmp/cutover-agent-noexec.XXXXXX", file[200], want[300];
	const char *notexec[] = { file, NULL };
	const char *t[] = { "true", NULL };
	struct run_opts o = { .cwd = "/no/such/dir" };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "#!/bin/sh\n");   /* mode 0644: not executable, even for root */
	ac_hello(&c, 0);
	run_one(&c, &r, 1, nope, NULL);
	assert_true(r.has_error);
	assert_string_equal(r.error, "no such program: no-such-program-cutover");
	assert_false(r.has_status);
	assert_false(r.has_signal);
	result_free(&r);
	run_one(&c, &r, 2, notexec, NULL);
	assert_true(r.has_error);
	snprintf(want, sizeof(want), "permission denied: %s", file);
	assert_string_equal(r.error, want);
	unlink(file);
	rmdir(dir);
	result_free(&r);
	run_one(&c, &r, 3, t, &o);
	assert_true(r.has_error);
	assert_string_equal(r.error, "cannot change directory to /no/such/dir: No such file or directory");
	result_free(&r);
	/* An empty argv is refused as a bad request. */
	{
		const char *empty[] = { NULL };

		run_one(&c, &r, 4, empty, NULL);
		assert_string_equal(r.err_code, "bad-request");
		result_free(&r);
	}
	ac_end(&c);
}

static void
test_stdin_eof_kills_children(void **state)
{
	struct ac c;
	msgpack_object o;
	const char *argv[] = { "sh", "-c", "sleep 300 & echo $$; wait", NULL };
	struct buf out = { 0 };
	long pgid;
	int st;
	int64_t t0;

	(void)state;
	ac_hello(&c, 0);
	send_run(&c, 1, argv, NULL);
	while (out.len == 0 || out.d[out.len - 1] != '\n') {
		const msgpack_object *d;

		assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
		assert_true(frame_str_eq(frame_get(&o, "t"), "out"));
		d = frame_get(&o, "data");
		buf_add(&out, d->via.bin.ptr, d->via.bin.size);
	}
	buf_add(&out, "", 1);
	pgid = strtol(out.d, NULL, 10);
	assert_true(pgid > 1);
	assert_true(group_alive((pid_t)pgid) >= 2);
	t0 = now_ms();
	st = ac_end(&c);   /* closes the agent's stdin, waits for it */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(now_ms() - t0 < 5000);
	assert_true(group_gone_within((pid_t)pgid, 2000));
	free(out.d);
}

static const char manage_py[] =
	"import json, os, sys\n"
	"if len(sys.argv) > 2 and sys.argv[1] == 'exitcode':\n"
	"    sys.exit(int(sys.argv[2]))\n"
	"keys = ['PLAIN', 'SPACES', 'SQUOTED', 'DQUOTED', 'EQUALS', 'INNER', 'EXTRA', 'CRLF', 'BADLINE', 'EMPTY']\n"
	"print(json.dumps({'env': {k: os.environ.get(k) for k in keys}, 'argv': sys.argv[1:],\n"
	"                  'cwd': os.getcwd(), 'exe': sys.executable}))\n";

static const char env_file[] =
	"PLAIN=hello\n"
	"SPACES=a b  c\n"
	"SQUOTED='quoted value with spaces'\n"
	"DQUOTED=\"say \\\"hi\\\" = ok\"\n"
	"EQUALS=x=y=z\n"
	"INNER=it's \"fine\"\n"
	"# COMMENT=no\n"
	"BADLINE\n"
	"CRLF=dos\r\n"
	"EMPTY=\n"
	"EXTRA=from-file";

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *
jstr(json_object *env, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(env, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static void
test_manage(void **state)
{
	char dir[] = "/tmp/cutover-agent-manage.XXXXXX", app[300], envf[300], venv[300], py[400], pat[300];
	const char *args[] = { "showenv", "--flag", "two words", NULL };
	const char *extra[] = { "EXTRA", "from-request", NULL };
	struct run_opts o = { .env = extra };
	struct ac c;
	struct result r;
	struct result *rp = &r;
	json_object *j, *env, *argv, *v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(app, sizeof(app), "%s/current", dir);
	snprintf(envf, sizeof(envf), "%s/env", dir);
	assert_int_equal(mkdir(app, 0755), 0);
	snprintf(py, sizeof(py), "%s/manage.py", app);
	write_file(py, manage_py);
	write_file(envf, env_file);
	/* An EB-like venv whose folder name is random: found by the glob. */
	snprintf(venv, sizeof(venv), "%s/venv", dir);
	assert_int_equal(mkdir(venv, 0755), 0);
	snprintf(venv, sizeof(venv), "%s/venv/staging-Ab12", dir);
	assert_int_equal(mkdir(venv, 0755), 0);
	strcat(venv, "/bin");
	assert_int_equal(mkdir(venv, 0755), 0);
	strcat(venv, "/python");
	assert_int_equal(symlink("/usr/bin/python3", venv), 0);
	snprintf(pat, sizeof(pat), "%s/venv/*/bin/python", dir);

	ac_hello(&c, 0);
	memset(&r, 0, sizeof(r));
	r.id = 1;
	send_manage(&c, 1, args, app, envf, pat, &o);
	collect(&c, &rp, 1);
	if (r.err.len)
		fprintf(stderr, "manage.py stderr: %.*s\n", (int)r.err.len, r.err.d);
	assert_false(r.has_error);
	assert_int_equal(r.status, 0);
	buf_add(&r.out, "", 1);
	assert_non_null(j = json_tokener_parse(r.out.d));
	assert_true(json_object_object_get_ex(j, "env", &env));
	assert_string_equal(jstr(env, "PLAIN"), "hello");
	assert_string_equal(jstr(env, "SPACES"), "a b  c");
	assert_string_equal(jstr(env, "SQUOTED"), "quoted value with spaces");
	assert_string_equal(jstr(env, "DQUOTED"), "say \"hi\" = ok");
	assert_string_equal(jstr(env, "EQUALS"), "x=y=z");
	assert_string_equal(jstr(env, "INNER"), "it's \"fine\"");
	assert_string_equal(jstr(env, "CRLF"), "dos");
	assert_string_equal(jstr(env, "EMPTY"), "");
	assert_string_equal(jstr(env, "EXTRA"), "from-request");   /* the request wins */
	assert_null(jstr(env, "BADLINE"));
	assert_true(json_object_object_get_ex(j, "argv", &argv));
	assert_int_equal(json_object_array_length(argv), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(argv, 2)), "two words");
	assert_true(json_object_object_get_ex(j, "cwd", &v));
	assert_string_equal(json_object_get_string(v), app);
	assert_true(json_object_object_get_ex(j, "exe", &v));
	assert_string_equal(json_object_get_string(v), venv);
	json_object_put(j);
	result_free(&r);

	/* A chosen exit code comes back; python given as a plain path. */
	{
		const char *ex[] = { "exitcode", "42", NULL };

		memset(&r, 0, sizeof(r));
		r.id = 2;
		send_manage(&c, 2, ex, app, envf, "/usr/bin/python3", NULL);
		collect(&c, &rp, 1);
		assert_true(r.has_status);
		assert_int_equal(r.status, 42);
		result_free(&r);
	}
	/* Failures to start are one sentence each. */
	{
		char msg[400];

		memset(&r, 0, sizeof(r));
		r.id = 3;
		snprintf(pat, sizeof(pat), "%s/venv/*/bin/pythonX", dir);
		send_manage(&c, 3, args, app, envf, pat, NULL);
		collect(&c, &rp, 1);
		snprintf(msg, sizeof(msg), "no python matches %s", pat);
		assert_string_equal(r.error, msg);
		result_free(&r);
		memset(&r, 0, sizeof(r));
		r.id = 4;
		send_manage(&c, 4, args, app, "/no/such/env", "/usr/bin/python3", NULL);
		collect(&c, &rp, 1);
		assert_string_equal(r.error,
		    "cannot read the environment file /no/such/env: No such file or directory");
		result_free(&r);
	}
	ac_end(&c);

	/* Relative app folder and python pattern (instances whose HOME holds
	 * the app, as the simulated production lays them out): the pattern is
	 * found from the agent's folder and still runs from inside the app. */
	{
		char here[PATH_MAX];
		const char *ex[] = { "exitcode", "7", NULL };

		assert_non_null(getcwd(here, sizeof(here)));
		assert_int_equal(chdir(dir), 0);
		ac_hello(&c, 0);
		assert_int_equal(chdir(here), 0);
		memset(&r, 0, sizeof(r));
		r.id = 5;
		send_manage(&c, 5, ex, "current", "env", "../venv/*/bin/python", NULL);
		collect(&c, &rp, 1);
		if (r.has_error)
			fprintf(stderr, "manage start error: %s\n", r.error);
		assert_false(r.has_error);
		assert_true(r.has_status);
		assert_int_equal(r.status, 7);
		result_free(&r);
		ac_end(&c);
	}
	unlink(py);
	unlink(envf);
	unlink(venv);
	snprintf(py, sizeof(py), "rm -rf '%s'", dir);
	assert_int_equal(system(py), 0);
}

static void
test_version_mismatch(void **state)
{
	struct ac c;
	msgpack_object o;
	int st;

	(void)state;
	ac_start(&c, 0);
	send_hello(&c, PROTO_VERSION + 1);
	assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
	assert_true(frame_str_eq(frame_get(&o, "t"), "error"));
	assert_true(frame_str_eq(frame_get(&o, "code"), "version"));
	assert_int_equal(ac_next(&c, &o, WAIT_MS), 1);
	st = ac_end(&c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);

	/* A run before hello is refused the same way. */
	{
		const char *t[] = { "true", NULL };

		ac_start(&c, 0);
		send_run(&c, 1, t, NULL);
		assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
		assert_true(frame_str_eq(frame_get(&o, "code"), "protocol"));
		st = ac_end(&c);
		assert_int_equal(WEXITSTATUS(st), 3);
	}
}

static void
test_bad_frames(void **state)
{
	struct ac c;
	msgpack_object o;
	const char *argv[] = { "sh", "-c", "echo $$; exec sleep 300", NULL };
	long pgid;
	int st;

	(void)state;
	/* An unknown op is refused and the session goes on. */
	ac_hello(&c, 0);
	send_simple(&c, "tail-logs", 5);
	assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
	assert_true(frame_str_eq(frame_get(&o, "code"), "unknown-op"));
	/* A giant length ends the session, and its children with it. */
	send_run(&c, 6, argv, NULL);
	assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
	assert_true(frame_str_eq(frame_get(&o, "t"), "out"));
	{
		const msgpack_object *d = frame_get(&o, "data");
		char num[32];

		snprintf(num, sizeof(num), "%.*s", (int)d->via.bin.size, d->via.bin.ptr);
		pgid = strtol(num, NULL, 10);
		assert_true(pgid > 1);
	}
	buf_add(&c.q, "\xff\xff\xff\xff", 4);
	for (;;) {
		assert_int_equal(ac_next(&c, &o, WAIT_MS), 0);
		if (frame_str_eq(frame_get(&o, "t"), "error"))
			break;
	}
	assert_true(frame_str_eq(frame_get(&o, "code"), "frame"));
	st = ac_end(&c);
	assert_int_equal(WEXITSTATUS(st), 2);
	assert_true(group_gone_within((pid_t)pgid, 2000));
}

static void
test_aarch64_under_qemu(void **state)
{
	struct ac c;
	struct result r;
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };

	(void)state;
	check_hello(1);
	ac_hello(&c, 1);
	run_one(&c, &r, 1, argv, NULL);
	assert_true(buf_is(&r.out, "out\n"));
	assert_true(buf_is(&r.err, "err\n"));
	assert_int_equal(r.status, 3);
	result_free(&r);
	ac_end(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_streams_apart),
		cmocka_unit_test(test_binary_output),
		cmocka_unit_test(test_output_paths),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_output_memory_bounded),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_cancel_and_concurrency),
		cmocka_unit_test(test_spawn_failures),
		cmocka_unit_test(test_stdin_eof_kills_children),
		cmocka_unit_test(test_manage),
		cmocka_unit_test(test_version_mismatch),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_aarch64_under_qemu),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
