/* rexec.c: see rexec.h. */
#include "rexec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>
#include <openssl/evp.h>

#include "agent_blobs.h"
#include "alink.h"
#include "frame.h"

#define OUT_HIGH (256u * 1024u)     /* stop reading local stdin above this much unsent */
#define SETUP_MS 30000              /* upload, checks, hello */
#define GRACE_MS 10000              /* after timeout_ms before we cancel ourselves */
#define CANCEL_WAIT_MS 5000         /* after a cancel, how long the agent may take to report */

struct rexec_conn {
	struct ssh_conn *ssh;
	struct ssh_chan *ch;
	struct frame_reader *fr;
	msgpack_sbuffer out;       /* framed bytes not yet written */
	size_t out_off;
	int eof_seen;
	char errtail[1024];        /* the agent's stderr, last bytes, for diagnostics */
	size_t errlen;
	uint64_t next_id;
	int broken;
	int uploaded;
	char agent[128], arch[32];
};

/* ---- the embedded agents ----------------------------------------------- */

struct blob {
	const char *arch;
	const unsigned char *start, *end;
	char sha[65];
};

/* Computed once: the blobs are constant, hashing them per connection would
 * only cost time. Written under blobs_once, read-only afterwards. */
static struct blob blobs[2];
static pthread_once_t blobs_once = PTHREAD_ONCE_INIT;

static void
hash_blobs(void)
{
	unsigned char md[32];
	unsigned int mdl = 0;

	blobs[0] = (struct blob){ "x86_64", cutover_agent_x86_64_start, cutover_agent_x86_64_end, "" };
	blobs[1] = (struct blob){ "aarch64", cutover_agent_aarch64_start, cutover_agent_aarch64_end, "" };
	for (int i = 0; i < 2; i++) {
		EVP_Digest(blobs[i].start, (size_t)(blobs[i].end - blobs[i].start), md, &mdl, EVP_sha256(), NULL);
		for (int j = 0; j < 32; j++)
			snprintf(blobs[i].sha + 2 * j, 3, "%02x", md[j]);
	}
}

static const struct blob *
blob_for(const char *arch)
{
	pthread_once(&blobs_once, hash_blobs);
	for (int i = 0; i < 2; i++)
		if (strcmp(blobs[i].arch, arch) == 0)
			return &blobs[i];
	return NULL;
}

/* ---- frames out ---------------------------------------------------------- */

static void
pk_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static int
queue(struct rexec_conn *c, msgpack_sbuffer *payload, struct cut_err *err)
{
	if (payload->size > FRAME_MAX || frame_wrap_sbuf(&c->out, payload) != 0)
		return cut_err_set(err, CUT_EINVAL, "A request to %s is too large (over 1 MiB); shorten its arguments.",
		    ssh_label(c->ssh));
	return 0;
}

/* A message being built; msg_send frames and queues it, then frees. */
struct msg {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static msgpack_packer *
msg_begin(struct msg *m, const char *type, size_t nfields)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&m->pk, nfields);
	pk_str(&m->pk, "t");
	pk_str(&m->pk, type);
	return &m->pk;
}

static int
msg_send(struct rexec_conn *c, struct msg *m, struct cut_err *err)
{
	int r = queue(c, &m->sb, err);

	msgpack_sbuffer_destroy(&m->sb);
	return r;
}

static int
queue_simple(struct rexec_conn *c, const char *t, uint64_t id, struct cut_err *err)
{
	struct msg m;
	msgpack_packer *pk = msg_begin(&m, t, 2);

	if (strcmp(t, "hello") == 0) {
		pk_str(pk, "v");
		msgpack_pack_uint64(pk, PROTO_VERSION);
	} else {
		pk_str(pk, "id");
		msgpack_pack_uint64(pk, id);
	}
	return msg_send(c, &m, err);
}

static int
queue_stdin(struct rexec_conn *c, uint64_t id, const void *data, size_t len, struct cut_err *err)
{
	struct msg m;
	msgpack_packer *pk = msg_begin(&m, "stdin", 3);

	pk_str(pk, "id");
	msgpack_pack_uint64(pk, id);
	if (data == NULL) {
		pk_str(pk, "eof");
		msgpack_pack_true(pk);
	} else {
		pk_str(pk, "data");
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, data, len);
	}
	return msg_send(c, &m, err);
}

static void
pk_strv(msgpack_packer *pk, const char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		pk_str(pk, v[i]);
}

static void
pk_env(msgpack_packer *pk, const char *const *env)
{
	size_t n = 0;

	while (env != NULL && env[n] != NULL)
		n++;
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		size_t kl = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
		msgpack_pack_str(pk, kl);
		msgpack_pack_str_body(pk, env[i], kl);
		pk_str(pk, eq ? eq + 1 : "");
	}
}

static int
queue_request(struct rexec_conn *c, uint64_t id, const struct rexec_request *req, int with_stdin,
    struct cut_err *err)
{
	struct msg m;
	size_t n = 6;

	if (req->kind == REXEC_RUN)
		n += req->cwd != NULL;
	else
		n += (req->app_dir != NULL) + (req->env_file != NULL) + (req->python != NULL);
	msgpack_packer *pk = msg_begin(&m, req->kind == REXEC_RUN ? "run" : "manage", n);
	pk_str(pk, "id");
	msgpack_pack_uint64(pk, id);
	pk_str(pk, req->kind == REXEC_RUN ? "argv" : "args");
	pk_strv(pk, req->argv);
	pk_str(pk, "env");
	pk_env(pk, req->env);
	pk_str(pk, "stdin");
	if (with_stdin)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	pk_str(pk, "timeout_ms");
	msgpack_pack_uint64(pk, req->timeout_ms > 0 ? (uint64_t)req->timeout_ms : 0);
	if (req->kind == REXEC_RUN) {
		if (req->cwd != NULL) {
			pk_str(pk, "cwd");
			pk_str(pk, req->cwd);
		}
	} else {
		if (req->app_dir != NULL) {
			pk_str(pk, "app_dir");
			pk_str(pk, req->app_dir);
		}
		if (req->env_file != NULL) {
			pk_str(pk, "env_file");
			pk_str(pk, req->env_file);
		}
		if (req->python != NULL) {
			pk_str(pk, "python");
			pk_str(pk, req->python);
		}
	}
	return msg_send(c, &m, err);
}

/* ---- the I/O pump --------------------------------------------------------- */

static void
keep_err(struct rexec_conn *c, const char *p, size_t n)
{
	if (n >= sizeof(c->errtail) - 1) {
		p += n - (sizeof(c->errtail) - 1);
		n = sizeof(c->errtail) - 1;
	}
	if (c->errlen + n > sizeof(c->errtail) - 1) {
		size_t drop = c->errlen + n - (sizeof(c->errtail) - 1);
		memmove(c->errtail, c->errtail + drop, c->errlen - drop);
		c->errlen -= drop;
	}
	memcpy(c->errtail + c->errlen, p, n);
	c->errlen += n;
	c->errtail[c->errlen] = '\0';
}

/* One round of non-blocking I/O: write what is queued, read one chunk of
 * stdout into the frame reader (or into raw if not NULL), drain stderr.
 * *progress says whether anything moved. */
static int
pump(struct rexec_conn *c, int *progress, char *raw, size_t rawcap, size_t *rawlen, struct cut_err *err)
{
	char buf[65536];
	size_t n;
	int r;

	*progress = 0;
	while (c->out_off < c->out.size) {
		if ((r = ssh_chan_write(c->ch, c->out.data + c->out_off, c->out.size - c->out_off, &n, err)) != 0)
			return r;
		if (n == 0)
			break;
		c->out_off += n;
		*progress = 1;
	}
	if (c->out_off == c->out.size && c->out.size > 0) {
		msgpack_sbuffer_clear(&c->out);
		c->out_off = 0;
	}
	if (raw != NULL) {
		/* Before the first byte is known, read into the caller's buffer. */
		n = 0;
		if (*rawlen < rawcap && (r = ssh_chan_read(c->ch, 0, raw + *rawlen, rawcap - *rawlen, &n, err)) != 0)
			return r;
		*rawlen += n;
		*progress |= n > 0;
	} else {
		/* Several reads per round (bounded, so frames are taken and the
		 * reader's buffer stays small): fewer polls of stderr and the socket. */
		for (int k = 0; k < 4; k++) {
			if ((r = ssh_chan_read(c->ch, 0, buf, sizeof(buf), &n, err)) != 0)
				return r;
			if (n == 0)
				break;
			*progress = 1;
			if ((r = frame_reader_feed(c->fr, buf, n)) != 0)
				return cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad frame (%s); the connection was "
				    "dropped.", ssh_label(c->ssh), frame_strerror(r));
		}
	}
	do {
		if ((r = ssh_chan_read(c->ch, 1, buf, sizeof(buf), &n, err)) != 0)
			return r;
		if (n > 0) {
			*progress = 1;
			keep_err(c, buf, n);
		}
	} while (n > 0);
	if (n == 0 && !*progress && ssh_chan_eof(c->ch))
		c->eof_seen = 1;
	return 0;
}

/* ---- starting the agent --------------------------------------------------- */

static int
upload_agent(struct rexec_conn *c, const char *arch, int64_t deadline, struct cut_err *err)
{
	const struct blob *b = blob_for(arch);
	char cmd[512], errbuf[512];
	int status, r;

	if (b == NULL)
		return cut_err_set(err, CUT_ESTATE, "%s runs on %s, for which cutover has no agent; use an x86_64 "
		    "or aarch64 instance.", ssh_label(c->ssh), arch);
	/* Private folder, temporary name, atomic rename: a concurrent upload
	 * or a reader never sees half a binary. */
	snprintf(cmd, sizeof(cmd),
	    "umask 077; d=\"$HOME/.cache/cutover\"; mkdir -p \"$d\" && chmod 700 \"$d\" && "
	    "t=\"$d/.upload.$$\" && cat >\"$t\" && chmod 700 \"$t\" && mv -f \"$t\" \"$d/cutover-agent-%s\"", arch);
	r = ssh_run(c->ssh, cmd, b->start, (size_t)(b->end - b->start), NULL, NULL, 0, errbuf, sizeof(errbuf),
	    &status, deadline, err);
	if (r != 0)
		return r;
	if (status != 0) {
		errbuf[strcspn(errbuf, "\n")] = '\0';
		return cut_err_set(err, CUT_EIO, "Could not store the agent in ~/.cache/cutover on %s (%s); check the "
		    "user's home folder and free space.", ssh_label(c->ssh), errbuf[0] ? errbuf : "exit status");
	}
	c->uploaded = 1;
	return 0;
}

enum launch { L_HELLO, L_UPLOAD, L_REPLACE };

static int
launch_once(struct rexec_conn *c, const struct rexec_target *t, int64_t deadline, enum launch *what,
    char *arch, size_t archlen, struct cut_err *err)
{
	const struct blob *bx = blob_for("x86_64"), *ba = blob_for("aarch64");
	char cmd[1536], raw[4096];
	size_t rawlen = 0;
	int r, progress, first = -1;
	msgpack_zone zone;
	msgpack_object o;

	/* One command checks the cached agent and starts it, so a cached agent
	 * costs one round trip. cd "$HOME": sshd starts in the passwd home,
	 * HOME is where the cache lives (they differ only on test hosts). */
	snprintf(cmd, sizeof(cmd),
	    "d=\"$HOME/.cache/cutover\"; case \"$(uname -m)\" in x86_64|amd64) a=x86_64 s=%s;; "
	    "aarch64|arm64) a=aarch64 s=%s;; *) echo \"CUTOVER:ARCH $(uname -m)\"; exit 0;; esac; "
	    "f=\"$d/cutover-agent-$a\"; "
	    "[ \"$(sha256sum \"$f\" 2>/dev/null)\" = \"$s  $f\" ] || { echo \"CUTOVER:UPLOAD $a\"; exit 0; }; "
	    "%s cd \"$HOME\" 2>/dev/null; exec %s\"$f\"",
	    bx->sha, ba->sha,
	    t->sudo ? "sudo -n true 2>/dev/null || { echo CUTOVER:NOSUDO; exit 0; };" : "",
	    t->sudo ? "sudo -n " : "");
	c->eof_seen = 0;
	c->errlen = 0;
	c->errtail[0] = '\0';
	if ((r = ssh_chan_exec(c->ssh, cmd, deadline, &c->ch, err)) != 0)
		return r;
	if ((r = queue_simple(c, "hello", 0, err)) != 0)
		return r;
	msgpack_zone_init(&zone, 4096);
	for (;;) {
		/* The first byte tells a marker line ('C') from a frame (0x00). */
		if ((r = pump(c, &progress, first == 'C' || first == -1 ? raw : NULL, sizeof(raw) - 1, &rawlen,
		    err)) != 0)
			goto out;
		if (first == -1 && rawlen > 0) {
			first = (unsigned char)raw[0];
			if (first != 'C') {
				if ((r = frame_reader_feed(c->fr, raw, rawlen)) != 0) {
					r = cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad first frame (%s).",
					    ssh_label(c->ssh), frame_strerror(r));
					goto out;
				}
				rawlen = 0;
			}
		}
		if (first != -1 && first != 'C') {
			r = frame_reader_next(c->fr, &zone, &o);
			if (r == FRAME_OK) {
				size_t tl = 0, ml = 0;
				const char *ty = frame_get_str(&o, "t", &tl), *s;
				uint64_t v = 0;
				if (ty != NULL && tl == 5 && memcmp(ty, "hello", 5) == 0 &&
				    frame_get_u64(&o, "v", &v) && v == PROTO_VERSION) {
					if ((s = frame_get_str(&o, "agent", &ml)) != NULL)
						snprintf(c->agent, sizeof(c->agent), "%.*s", (int)ml, s);
					if ((s = frame_get_str(&o, "arch", &ml)) != NULL)
						snprintf(c->arch, sizeof(c->arch), "%.*s", (int)ml, s);
					*what = L_HELLO;
					r = 0;
					goto out;
				}
				/* Another version (or anything else): never trusted, replaced. */
				*what = L_REPLACE;
				r = 0;
				goto out;
			} else if (r != FRAME_EAGAIN) {
				r = cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad frame (%s).", ssh_label(c->ssh),
				    frame_strerror(r));
				goto out;
			}
		}
		if (c->eof_seen) {
			int status, sig;
			raw[rawlen] = '\0';
			if (first == 'C' && strncmp(raw, "CUTOVER:UPLOAD ", 15) == 0) {
				snprintf(arch, archlen, "%.*s", (int)strcspn(raw + 15, "\r\n"), raw + 15);
				*what = L_UPLOAD;
				r = 0;
				goto out;
			}
			if (first == 'C' && strncmp(raw, "CUTOVER:NOSUDO", 14) == 0) {
				r = cut_err_set(err, CUT_EAUTH, "sudo on %s wants a password, so the agent cannot run as root; "
				    "allow the user passwordless sudo (as on EB's ec2-user) or leave out --sudo.",
				    ssh_label(c->ssh));
				goto out;
			}
			if (first == 'C' && strncmp(raw, "CUTOVER:ARCH ", 13) == 0) {
				r = cut_err_set(err, CUT_ESTATE, "%s is a %.*s machine, for which cutover has no agent; use an "
				    "x86_64 or aarch64 instance.", ssh_label(c->ssh), (int)strcspn(raw + 13, "\r\n"), raw + 13);
				goto out;
			}
			if (ssh_chan_close(c->ch, deadline, &status, &sig, err) != 0)
				status = -1;
			c->errtail[strcspn(c->errtail, "\n")] = '\0';
			r = cut_err_set(err, CUT_EPROTO, "The agent on %s ended before its hello (status %d%s%s); check the "
			    "host's shell and disk.", ssh_label(c->ssh), status, c->errlen ? ": " : "", c->errtail);
			goto out;
		}
		if (!progress) {
			r = ssh_wait(c->ssh, c->out_off < c->out.size, -1, deadline, NULL, err);
			if (r == CUT_ETIMEOUT) {
				r = cut_err_set(err, CUT_ETIMEOUT, "Starting the agent on %s timed out; check the host's load.",
				    ssh_label(c->ssh));
				goto out;
			}
			if (r != 0)
				goto out;
		}
	}
out:
	msgpack_zone_destroy(&zone);
	if (r != 0 || *what != L_HELLO) {
		ssh_chan_free(c->ch);
		c->ch = NULL;
		msgpack_sbuffer_clear(&c->out);
		c->out_off = 0;
		frame_reader_free(c->fr);
		c->fr = frame_reader_new();
		if (c->fr == NULL && r == 0)
			r = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	}
	return r;
}

int
rexec_connect(struct rexec_conn **out, const struct rexec_target *t, struct cut_err *err)
{
	struct rexec_conn *c;
	int64_t deadline;
	enum launch what = L_HELLO;
	char arch[32] = "";
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	msgpack_sbuffer_init(&c->out);
	c->next_id = 1;
	c->fr = frame_reader_new();
	if (c->fr == NULL) {
		rexec_close(c);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	}
	if ((r = ssh_connect(&c->ssh, &t->ssh, err)) != 0) {
		rexec_close(c);
		return r;
	}
	deadline = ssh_now_ms() + SETUP_MS;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = launch_once(c, t, deadline, &what, arch, sizeof(arch), err)) != 0)
			break;
		if (what == L_HELLO)
			break;
		if (what == L_REPLACE)
			snprintf(arch, sizeof(arch), "%s", c->arch[0] ? c->arch : "x86_64");
		if ((r = upload_agent(c, arch, deadline, err)) != 0)
			break;
	}
	if (r == 0 && what != L_HELLO)
		r = cut_err_set(err, CUT_EPROTO, "The agent on %s still does not match after uploading it again; check "
		    "the host's disk and that nothing rewrites ~/.cache/cutover.", ssh_label(c->ssh));
	if (r != 0) {
		rexec_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void
rexec_close(struct rexec_conn *c)
{
	if (c == NULL)
		return;
	if (c->ch != NULL) {
		if (!c->broken) {
			/* bye, then EOF: the agent ends its children and exits. Best
			 * effort and short: the connection is going away anyway. */
			struct cut_err e;
			int progress, status, sig;
			int64_t dl = ssh_now_ms() + 2000;
			if (queue_simple(c, "bye", 1, &e) == 0) {
				while (c->out_off < c->out.size && ssh_now_ms() < dl) {
					if (pump(c, &progress, NULL, 0, NULL, &e) != 0)
						break;
					if (!progress && ssh_wait(c->ssh, 1, -1, dl, NULL, &e) != 0)
						break;
				}
			}
			while (ssh_chan_send_eof(c->ch, &e) == 1 && ssh_now_ms() < dl)
				if (ssh_wait(c->ssh, 1, -1, dl, NULL, &e) != 0)
					break;
			(void)ssh_chan_close(c->ch, dl, &status, &sig, &e);
		}
		ssh_chan_free(c->ch);
	}
	ssh_close(c->ssh);
	frame_reader_free(c->fr);
	msgpack_sbuffer_destroy(&c->out);
	free(c);
}

const char *
rexec_agent_version(const struct rexec_conn *c)
{
	return c->agent;
}

const char *
rexec_arch(const struct rexec_conn *c)
{
	return c->arch;
}

int
rexec_uploaded(const struct rexec_conn *c)
{
	return c->uploaded;
}

/* ---- one request ---------------------------------------------------------- */

static int
frame_is(const msgpack_object *o, const char *t)
{
	size_t l = 0;
	const char *s = frame_get_str(o, "t", &l);
	return s != NULL && l == strlen(t) && memcmp(s, t, l) == 0;
}

/* Applies one frame of request `id`; *done when it ended it. */
static int
on_frame(struct rexec_conn *c, uint64_t id, const msgpack_object *o, const struct rexec_io *io,
    struct rexec_result *res, int *done, struct cut_err *err)
{
	uint64_t fid = 0, u = 0;
	int64_t i = 0;
	const msgpack_object *v;
	size_t l = 0;
	const char *s;

	if (!frame_get_u64(o, "id", &fid) || (fid != id && fid != 0))
		return 0;   /* not ours (a late reply to something cancelled) */
	if (frame_is(o, "out")) {
		v = frame_get(o, "data");
		if (v == NULL || (v->type != MSGPACK_OBJECT_BIN && v->type != MSGPACK_OBJECT_STR) ||
		    !frame_get_u64(o, "fd", &u) || (u != 1 && u != 2))
			return cut_err_set(err, CUT_EPROTO, "The agent on %s sent a malformed out frame.", ssh_label(c->ssh));
		if (io != NULL && io->on_output != NULL) {
			if (v->type == MSGPACK_OBJECT_BIN)
				io->on_output(io->ctx, (int)u, v->via.bin.ptr, v->via.bin.size);
			else
				io->on_output(io->ctx, (int)u, v->via.str.ptr, v->via.str.size);
		}
		return 0;
	}
	if (frame_is(o, "exit")) {
		v = frame_get(o, "status");
		if (v != NULL && v->type != MSGPACK_OBJECT_NIL && frame_get_i64(o, "status", &i))
			res->status = (int)i;
		v = frame_get(o, "signal");
		if (v != NULL && v->type != MSGPACK_OBJECT_NIL && frame_get_i64(o, "signal", &i))
			res->signal = (int)i;
		if (frame_get_u64(o, "duration_ms", &u))
			res->duration_ms = u;
		v = frame_get(o, "timed_out");
		res->timed_out = v != NULL && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
		if ((s = frame_get_str(o, "error", &l)) != NULL && l > 0)
			snprintf(res->error, sizeof(res->error), "%.*s", (int)l, s);
		*done = 1;
		return 0;
	}
	if (frame_is(o, "error")) {
		const char *code = frame_get_str(o, "code", &l);
		size_t ml = 0;
		const char *m = frame_get_str(o, "message", &ml);
		snprintf(res->error, sizeof(res->error), "agent refused the request (%.*s): %.*s", (int)(code ? l : 0),
		    code ? code : "", (int)(m ? ml : 0), m ? m : "");
		*done = 1;
		return 0;
	}
	return 0;   /* unknown types are ignored: later agents may add some */
}

int
rexec_run(struct rexec_conn *c, const struct rexec_request *req, const struct rexec_io *io,
    struct rexec_result *res, struct cut_err *err)
{
	uint64_t id;
	int r = 0, done = 0, progress, stdin_open, cancelled = 0;
	int64_t start = ssh_now_ms(), deadline = -1;
	msgpack_zone zone;
	msgpack_object o;
	char ibuf[FRAME_DATA_CHUNK];

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if (c->broken || c->ch == NULL)
		return cut_err_set(err, CUT_ESTATE, "The connection to %s is no longer usable; connect again.",
		    ssh_label(c->ssh));
	if (req->argv == NULL || (req->kind == REXEC_RUN && req->argv[0] == NULL))
		return cut_err_set(err, CUT_EINVAL, "No program given to run.");
	stdin_open = io != NULL && io->stdin_fd >= 0;
	id = c->next_id++;
	if ((r = queue_request(c, id, req, stdin_open, err)) != 0)
		return r;
	if (req->timeout_ms > 0)
		deadline = start + req->timeout_ms + GRACE_MS;
	msgpack_zone_init(&zone, 8192);
	while (!done) {
		/* Take every whole frame first: output is passed on as it comes. */
		while (!done && (r = frame_reader_next(c->fr, &zone, &o)) == FRAME_OK) {
			r = on_frame(c, id, &o, io, res, &done, err);
			msgpack_zone_clear(&zone);
			if (r != 0)
				goto fail;
		}
		if (done)
			break;
		if (r != FRAME_EAGAIN) {
			r = cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad frame (%s); the connection was dropped.",
			    ssh_label(c->ssh), frame_strerror(r));
			goto fail;
		}
		if (io != NULL && io->cancel != NULL && *io->cancel && !cancelled) {
			if ((r = queue_simple(c, "cancel", id, err)) != 0)
				goto fail;
			cancelled = 1;
			deadline = ssh_now_ms() + CANCEL_WAIT_MS;
		}
		if ((r = pump(c, &progress, NULL, 0, NULL, err)) != 0)
			goto fail;
		if (c->eof_seen) {
			c->errtail[strcspn(c->errtail, "\n")] = '\0';
			r = cut_err_set(err, CUT_ENET, "The agent on %s stopped before the command ended (connection or agent "
			    "lost%s%s); its outcome is unknown.", ssh_label(c->ssh), c->errlen ? ": " : "", c->errtail);
			goto fail;
		}
		if (progress)
			continue;
		int ready = 0;
		int watch = stdin_open && c->out.size - c->out_off < OUT_HIGH ? io->stdin_fd : -1;
		r = ssh_wait(c->ssh, c->out_off < c->out.size, watch, deadline, &ready, err);
		if (r == CUT_ETIMEOUT) {
			if (!cancelled) {
				/* The agent should have ended it at timeout_ms; ask
				 * once more before giving up on the connection. */
				if ((r = queue_simple(c, "cancel", id, err)) != 0)
					goto fail;
				cancelled = 1;
				deadline = ssh_now_ms() + CANCEL_WAIT_MS;
				continue;
			}
			r = cut_err_set(err, CUT_ETIMEOUT, "The agent on %s did not report the end of the command after it "
			    "was cancelled; the connection was dropped.", ssh_label(c->ssh));
			goto fail;
		}
		if (r != 0)
			goto fail;
		if (ready) {
			ssize_t n = read(io->stdin_fd, ibuf, sizeof(ibuf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				stdin_open = 0;
				r = queue_stdin(c, id, NULL, 0, err);
			} else
				r = queue_stdin(c, id, ibuf, (size_t)n, err);
			if (r != 0)
				goto fail;
		}
	}
	msgpack_zone_destroy(&zone);
	if (res->duration_ms == 0 && res->error[0] == '\0')
		res->duration_ms = (uint64_t)(ssh_now_ms() - start);
	return 0;
fail:
	msgpack_zone_destroy(&zone);
	c->broken = 1;
	return r;
}

/* ---- the data-safety link ----------------------------------------------------- */

/* alink_ops.request over the SSH channel: sends the caller's payload and
 * hands every frame carrying its id to on_reply until "exit" or "error". */
static int
rl_request(void *ctx, const msgpack_sbuffer *payload, uint64_t id, alink_reply_fn on_reply, void *arg,
    uint64_t timeout_ms, struct cut_err *err)
{
	struct rexec_conn *c = ctx;
	int64_t deadline = timeout_ms ? ssh_now_ms() + (int64_t)timeout_ms : -1;
	int r, result = 0, cancelled = 0, progress;
	msgpack_zone zone;
	msgpack_object o;

	if (c->broken || c->ch == NULL)
		return cut_err_set(err, CUT_ESTATE, "The connection to %s is no longer usable; connect again.",
		    ssh_label(c->ssh));
	if ((r = queue(c, (msgpack_sbuffer *)payload, err)) != 0)
		return r;
	msgpack_zone_init(&zone, 8192);
	for (;;) {
		while ((r = frame_reader_next(c->fr, &zone, &o)) == FRAME_OK) {
			uint64_t fid = 0;
			if (!frame_get_u64(&o, "id", &fid) || fid != id) {
				msgpack_zone_clear(&zone);
				continue;
			}
			int last = frame_is(&o, "exit") || frame_is(&o, "error");
			int cr = on_reply(arg, &o);
			msgpack_zone_clear(&zone);
			if (cr != 0 && !cancelled && !last) {
				if ((r = queue_simple(c, "cancel", id, err)) != 0)
					goto fail;
				cancelled = 1;
				deadline = ssh_now_ms() + CANCEL_WAIT_MS;
			}
			if (cr < 0 && result == 0)
				result = cr;
			if (last) {
				msgpack_zone_destroy(&zone);
				return result;
			}
		}
		if (r != FRAME_EAGAIN) {
			r = cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad frame (%s); the connection was dropped.",
			    ssh_label(c->ssh), frame_strerror(r));
			goto fail;
		}
		if ((r = pump(c, &progress, NULL, 0, NULL, err)) != 0)
			goto fail;
		if (c->eof_seen) {
			r = cut_err_set(err, CUT_ENET, "The agent on %s stopped in the middle of a request; its outcome is "
			    "unknown.", ssh_label(c->ssh));
			goto fail;
		}
		if (progress)
			continue;
		r = ssh_wait(c->ssh, c->out_off < c->out.size, -1, deadline, NULL, err);
		if (r == CUT_ETIMEOUT && !cancelled) {
			if ((r = queue_simple(c, "cancel", id, err)) != 0)
				goto fail;
			cancelled = 1;
			deadline = ssh_now_ms() + CANCEL_WAIT_MS;
			result = cut_err_set(err, CUT_ETIMEOUT, "A request to the agent on %s did not finish within %llu ms "
			    "and was cancelled.", ssh_label(c->ssh), (unsigned long long)timeout_ms);
			continue;
		}
		if (r == CUT_ETIMEOUT)
			r = cut_err_set(err, CUT_ETIMEOUT, "The agent on %s did not end a cancelled request; the connection "
			    "was dropped.", ssh_label(c->ssh));
		if (r != 0)
			goto fail;
	}
fail:
	msgpack_zone_destroy(&zone);
	c->broken = 1;
	return r;
}

static void
rl_close(void *ctx)
{
	rexec_close(ctx);
}

static const struct alink_ops rl_ops = { rl_request, rl_close };

void
rexec_alink(struct rexec_conn *c, struct alink *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->ops = &rl_ops;
	l->ctx = c;
	l->next_id = (uint64_t)1 << 40;
	snprintf(l->name, sizeof(l->name), "%s", name ? name : ssh_label(c->ssh));
}

/* ---- many hosts ------------------------------------------------------------ */

struct many {
	struct rexec_host *hosts;
	size_t n, next;
	const struct rexec_request *req;
	const struct rexec_many_cb *cb;
	volatile sig_atomic_t *cancel;
	pthread_mutex_t lock;   /* guards next and every callback */
};

struct host_ctx {
	struct many *m;
	size_t i;
};

static void
many_output(void *ctx, int fd, const void *data, size_t len)
{
	struct host_ctx *h = ctx;

	if (h->m->cb == NULL || h->m->cb->on_output == NULL)
		return;
	pthread_mutex_lock(&h->m->lock);
	h->m->cb->on_output(h->m->cb->ctx, h->i, fd, data, len);
	pthread_mutex_unlock(&h->m->lock);
}

static void *
many_worker(void *arg)
{
	struct many *m = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&m->lock);
		i = m->next++;
		pthread_mutex_unlock(&m->lock);
		if (i >= m->n)
			break;
		struct rexec_host *h = &m->hosts[i];
		struct host_ctx hc = { m, i };
		struct rexec_io io = { many_output, &hc, -1, m->cancel };
		struct rexec_conn *c = NULL;
		int64_t t0 = ssh_now_ms();

		cut_err_clear(&h->err);
		memset(&h->result, 0, sizeof(h->result));
		h->result.status = -1;
		if (m->cancel != NULL && *m->cancel)
			h->rc = cut_err_set(&h->err, CUT_ECANCEL, "Interrupted before %s was reached.", h->target.ssh.host);
		else if ((h->rc = rexec_connect(&c, &h->target, &h->err)) == 0)
			h->rc = rexec_run(c, m->req, &io, &h->result, &h->err);
		rexec_close(c);
		h->wall_ms = ssh_now_ms() - t0;
		pthread_mutex_lock(&m->lock);
		if (m->cb != NULL && m->cb->on_done != NULL)
			m->cb->on_done(m->cb->ctx, i);
		pthread_mutex_unlock(&m->lock);
	}
	return NULL;
}

int
rexec_many(struct rexec_host *hosts, size_t n, const struct rexec_request *req, int concurrency,
    const struct rexec_many_cb *cb, volatile sig_atomic_t *cancel)
{
	struct many m = { hosts, n, 0, req, cb, cancel, PTHREAD_MUTEX_INITIALIZER };
	pthread_t *th;
	size_t nt, started = 0;
	struct cut_err e;

	if (ssh_global_init(&e) != 0)
		return e.code;
	if (concurrency <= 0)
		concurrency = 32;
	nt = (size_t)concurrency < n ? (size_t)concurrency : n;
	if (nt == 0)
		return 0;
	th = calloc(nt, sizeof(*th));
	if (th == NULL)
		return CUT_ENOMEM;
	for (size_t i = 0; i < nt; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 512 * 1024);
		if (pthread_create(&th[started], &a, many_worker, &m) == 0)
			started++;
		pthread_attr_destroy(&a);
	}
	if (started == 0) {
		free(th);
		return CUT_ENOMEM;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&m.lock);
	return 0;
}
