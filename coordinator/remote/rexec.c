/* remote/rexec.c: see remote/rexec.h. */
#include "remote/rexec.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>
#include <openssl/evp.h>

#include "base/clock.h"
#include "remote/agent_blobs.h"
#include "remote/agent_link.h"
#include "frame.h"
#include "msg.h"

#define OUT_HIGH (256u * 1024u)     /* stop reading local stdin above this much unsent */
#define READ_CHUNK (256u * 1024u)   /* largest read from the channel (as the bare libssh2 baseline) */
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

/* Turns a proto/msg.h builder's result into ours. */
static int
queued(struct rexec_conn *c, int rc, struct cut_err *err)
{
	if (rc == FRAME_OK)
		return 0;
	if (rc == FRAME_ETOOBIG)
		return cut_err_set(err, CUT_EINVAL, "A request to %s is too large (over 1 MiB); shorten its arguments.",
		    ssh_label(c->ssh));
	if (rc == FRAME_ENOMEM)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	return cut_err_set(err, CUT_EINVAL, "A request to %s could not be built from its arguments; check the "
	    "program and its environment list.", ssh_label(c->ssh));
}

/* The run or manage request for req. msg_run takes env as key, value
 * pairs; ours are "KEY=value" strings, so the keys are copied here. */
static int
queue_request(struct rexec_conn *c, uint64_t id, const struct rexec_request *req, int with_stdin,
    struct cut_err *err)
{
	struct msg_run m = {
		.id = id, .argv = req->argv, .cwd = req->cwd, .want_stdin = with_stdin,
		.timeout_ms = req->timeout_ms > 0 ? (uint64_t)req->timeout_ms : 0,
		.app_dir = req->app_dir, .env_file = req->env_file, .python = req->python,
	};
	const char **kv = NULL;
	char **keys = NULL;
	size_t n = 0;
	int rc = FRAME_ENOMEM;

	while (req->env != NULL && req->env[n] != NULL)
		n++;
	if (n > 0) {
		kv = calloc(2 * n + 1, sizeof(*kv));
		keys = calloc(n, sizeof(*keys));
		if (kv == NULL || keys == NULL)
			goto out;
		for (size_t i = 0; i < n; i++) {
			const char *eq = strchr(req->env[i], '=');
			keys[i] = strndup(req->env[i], eq ? (size_t)(eq - req->env[i]) : strlen(req->env[i]));
			if (keys[i] == NULL)
				goto out;
			kv[2 * i] = keys[i];
			kv[2 * i + 1] = eq ? eq + 1 : "";
		}
		m.env = kv;
	}
	rc = req->kind == REXEC_RUN ? msg_run(&c->out, &m) : msg_manage(&c->out, &m);
out:
	for (size_t i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	free(kv);
	return queued(c, rc, err);
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

/* One round of non-blocking I/O: write what is queued, read what stdout
 * has (up to READ_CHUNK) straight into the frame reader (or into raw if not
 * NULL), drain stderr. *progress says whether anything moved. */
static int
pump(struct rexec_conn *c, int *progress, char *raw, size_t rawcap, size_t *rawlen, struct cut_err *err)
{
	char ebuf[4096];
	void *space;
	size_t n, avail;
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
		/* One large read into the reader's own buffer: libssh2 copies
		 * every packet it holds, and frames are used where they lie
		 * (frame_reader_next_inplace), so the payload is copied once
		 * here and never again. */
		if ((r = frame_reader_space(c->fr, READ_CHUNK, &space, &avail)) != 0)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory reading from the agent on %s.", ssh_label(c->ssh));
		if ((r = ssh_chan_read(c->ch, 0, space, avail < READ_CHUNK ? avail : READ_CHUNK, &n, err)) != 0)
			return r;
		if (n > 0) {
			*progress = 1;
			if ((r = frame_reader_commit(c->fr, n)) != 0)
				return cut_err_set(err, CUT_EPROTO, "The agent on %s sent a bad frame (%s); the connection was "
				    "dropped.", ssh_label(c->ssh), frame_strerror(r));
		}
	}
	/* stderr (the agent's diagnostics, normally nothing) only once stdout
	 * has nothing: each read asks the socket again, and while stdout
	 * flows that is a wasted system call per round. Unread stderr cannot
	 * block stdout for good: once it fills the window, stdout runs dry and
	 * stderr is read. */
	if (*progress)
		return 0;
	do {
		if ((r = ssh_chan_read(c->ch, 1, ebuf, sizeof(ebuf), &n, err)) != 0)
			return r;
		if (n > 0) {
			*progress = 1;
			keep_err(c, ebuf, n);
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

/* Where the agent that runs as root is kept on the instance: a folder only
 * root can write (see launch_once). */
#define REXEC_ROOT_DIR "/var/lib/cutover/agent"

enum launch { L_HELLO, L_UPLOAD, L_REPLACE };

static int
launch_once(struct rexec_conn *c, const struct rexec_target *t, int64_t deadline, enum launch *what,
    char *arch, size_t archlen, struct cut_err *err)
{
	const struct blob *bx = blob_for("x86_64"), *ba = blob_for("aarch64");
	char cmd[2048], raw[4096];
	size_t rawlen = 0;
	int r, progress, first = -1;
	msgpack_zone zone;
	msgpack_object o;

	/* One command checks the cached agent and starts it, so a cached agent
	 * costs one round trip. cd "$HOME": sshd starts in the passwd home,
	 * HOME is where the cache lives (they differ only on test hosts).
	 *
	 * With sudo the login user's cache is not trusted between the check
	 * and the exec (anything running as that user could swap the file):
	 * root copies it into a folder only root can write, checks the copy
	 * there and runs that same file, named by its hash so concurrent
	 * sessions of one version share it and another version never
	 * replaces it under a running one. A copy that does not match asks
	 * for an upload as a bad cache does. */
	snprintf(cmd, sizeof(cmd),
	    "d=\"$HOME/.cache/cutover\"; case \"$(uname -m)\" in x86_64|amd64) a=x86_64 s=%s;; "
	    "aarch64|arm64) a=aarch64 s=%s;; *) echo \"CUTOVER:ARCH $(uname -m)\"; exit 0;; esac; "
	    "f=\"$d/cutover-agent-$a\"; "
	    "[ \"$(sha256sum \"$f\" 2>/dev/null)\" = \"$s  $f\" ] || { echo \"CUTOVER:UPLOAD $a\"; exit 0; }; "
	    "%s cd \"$HOME\" 2>/dev/null; exec %s",
	    bx->sha, ba->sha,
	    t->sudo ? "sudo -n true 2>/dev/null || { echo CUTOVER:NOSUDO; exit 0; };" : "",
	    t->sudo ? "sudo -n sh -c '"
	        "umask 077; r=" REXEC_ROOT_DIR "; mkdir -p \"$r\" && chown 0:0 \"$r\" && chmod 700 \"$r\" || exit 1; "
	        "g=\"$r/cutover-agent-$3-$2\"; "
	        "if [ \"$(sha256sum \"$g\" 2>/dev/null)\" != \"$2  $g\" ]; then t=\"$r/.new.$$\"; "
	        "cp -- \"$1\" \"$t\" && [ \"$(sha256sum \"$t\")\" = \"$2  $t\" ] && mv -f \"$t\" \"$g\" || "
	        "{ rm -f \"$t\"; echo \"CUTOVER:UPLOAD $3\"; exit 0; }; fi; "
	        "exec \"$g\"' cutover-agent \"$f\" \"$s\" \"$a\"" : "\"$f\"");
	c->eof_seen = 0;
	c->errlen = 0;
	c->errtail[0] = '\0';
	if ((r = ssh_chan_exec(c->ssh, cmd, deadline, &c->ch, err)) != 0)
		return r;
	if ((r = queued(c, msg_hello(&c->out), err)) != 0)
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
				struct msg_reply h;
				/* Another version (or anything else, an error included):
				 * never trusted, replaced. */
				*what = L_REPLACE;
				r = 0;
				if (msg_parse_reply(&o, &h) == FRAME_OK && h.type == MSG_HELLO && h.v == PROTO_VERSION) {
					snprintf(c->agent, sizeof(c->agent), "%.*s", (int)h.agent_len, h.agent);
					snprintf(c->arch, sizeof(c->arch), "%.*s", (int)h.arch_len, h.arch);
					*what = L_HELLO;
				}
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
	deadline = cut_mono_ms() + SETUP_MS;
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
			int64_t dl = cut_mono_ms() + 2000;
			if (queued(c, msg_bye(&c->out), &e) == 0) {
				while (c->out_off < c->out.size && cut_mono_ms() < dl) {
					if (pump(c, &progress, NULL, 0, NULL, &e) != 0)
						break;
					if (!progress && ssh_wait(c->ssh, 1, -1, dl, NULL, &e) != 0)
						break;
				}
			}
			while (ssh_chan_send_eof(c->ch, &e) == 1 && cut_mono_ms() < dl)
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

int
rexec_usable(const struct rexec_conn *c)
{
	return c != NULL && !c->broken && c->ch != NULL;
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

/* Applies one frame of request `id`; *done when it ended it. */
static int
on_frame(struct rexec_conn *c, uint64_t id, const msgpack_object *o, const struct rexec_io *io,
    struct rexec_result *res, int *done, struct cut_err *err)
{
	struct msg_reply m;

	if (msg_parse_reply(o, &m) != FRAME_OK)
		return cut_err_set(err, CUT_EPROTO, "The agent on %s sent a malformed reply; the connection was dropped.",
		    ssh_label(c->ssh));
	if (m.id != id && !(m.type == MSG_ERROR && m.id == 0))
		return 0;   /* not ours (a late reply to something cancelled) */
	switch (m.type) {
	case MSG_OUT:
		if (io != NULL && io->on_output != NULL)
			io->on_output(io->ctx, m.fd, m.data, m.data_len);
		return 0;
	case MSG_EXIT:
		if (m.has_status)
			res->status = m.status;
		if (m.has_signal)
			res->signal = m.signal;
		res->duration_ms = m.duration_ms;
		res->timed_out = m.timed_out;
		if (m.error != NULL && m.error_len > 0)
			snprintf(res->error, sizeof(res->error), "%.*s", (int)m.error_len, m.error);
		*done = 1;
		return 0;
	case MSG_ERROR:
		snprintf(res->error, sizeof(res->error), "agent refused the request (%.*s): %.*s", (int)m.code_len,
		    m.code, (int)m.message_len, m.message);
		*done = 1;
		return 0;
	default:
		return 0;   /* unknown types are ignored: later agents may add some */
	}
}

int
rexec_run(struct rexec_conn *c, const struct rexec_request *req, const struct rexec_io *io,
    struct rexec_result *res, struct cut_err *err)
{
	uint64_t id;
	int r = 0, done = 0, progress, stdin_open, cancelled = 0;
	int64_t start = cut_mono_ms(), deadline = -1;
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
		while (!done && (r = frame_reader_next_inplace(c->fr, &zone, &o)) == FRAME_OK) {
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
			if ((r = queued(c, msg_cancel(&c->out, id), err)) != 0)
				goto fail;
			cancelled = 1;
			deadline = cut_mono_ms() + CANCEL_WAIT_MS;
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
				if ((r = queued(c, msg_cancel(&c->out, id), err)) != 0)
					goto fail;
				cancelled = 1;
				deadline = cut_mono_ms() + CANCEL_WAIT_MS;
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
				r = queued(c, msg_stdin_eof(&c->out, id), err);
			} else
				r = queued(c, msg_stdin(&c->out, id, ibuf, (size_t)n), err);
			if (r != 0)
				goto fail;
		}
	}
	msgpack_zone_destroy(&zone);
	if (res->duration_ms == 0 && res->error[0] == '\0')
		res->duration_ms = (uint64_t)(cut_mono_ms() - start);
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
	int64_t deadline = timeout_ms ? cut_mono_ms() + (int64_t)timeout_ms : -1;
	int r, result = 0, cancelled = 0, progress;
	msgpack_zone zone;
	msgpack_object o;

	if (c->broken || c->ch == NULL)
		return cut_err_set(err, CUT_ESTATE, "The connection to %s is no longer usable; connect again.",
		    ssh_label(c->ssh));
	if ((r = queued(c, frame_wrap_sbuf(&c->out, payload), err)) != 0)
		return r;
	msgpack_zone_init(&zone, 8192);
	for (;;) {
		while ((r = frame_reader_next(c->fr, &zone, &o)) == FRAME_OK) {
			uint64_t fid = 0;
			if (!frame_get_u64(&o, "id", &fid) || fid != id) {
				msgpack_zone_clear(&zone);
				continue;
			}
			const msgpack_object *t = frame_get(&o, "t");
			int last = frame_str_eq(t, "exit") || frame_str_eq(t, "error");
			int cr = on_reply(arg, &o);
			msgpack_zone_clear(&zone);
			if (cr != 0 && !cancelled && !last) {
				if ((r = queued(c, msg_cancel(&c->out, id), err)) != 0)
					goto fail;
				cancelled = 1;
				deadline = cut_mono_ms() + CANCEL_WAIT_MS;
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
			if ((r = queued(c, msg_cancel(&c->out, id), err)) != 0)
				goto fail;
			cancelled = 1;
			deadline = cut_mono_ms() + CANCEL_WAIT_MS;
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

/* alink_ops.send: queued with the request; rl_request's pump writes it
 * (and reads replies meanwhile, so a full SSH window cannot deadlock). */
static int
rl_send(void *ctx, const msgpack_sbuffer *payload, struct cut_err *err)
{
	struct rexec_conn *c = ctx;

	if (c->broken || c->ch == NULL)
		return cut_err_set(err, CUT_ESTATE, "The connection to %s is no longer usable; connect again.",
		    ssh_label(c->ssh));
	return queued(c, frame_wrap_sbuf(&c->out, payload), err);
}

static const struct alink_ops rl_ops = { rl_request, rl_close, rl_send };

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
		int64_t t0 = cut_mono_ms();

		cut_err_clear(&h->err);
		memset(&h->result, 0, sizeof(h->result));
		h->result.status = -1;
		if (m->cancel != NULL && *m->cancel)
			h->rc = cut_err_set(&h->err, CUT_ECANCEL, "Interrupted before %s was reached.", h->target.ssh.host);
		else if ((h->rc = rexec_connect(&c, &h->target, &h->err)) == 0)
			h->rc = rexec_run(c, m->req, &io, &h->result, &h->err);
		rexec_close(c);
		h->wall_ms = cut_mono_ms() - t0;
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

int
rexec_call(const struct rexec_target *t, const struct rexec_request *req, const struct rexec_io *io,
    struct rexec_result *res, struct cut_err *err)
{
	struct rexec_conn *c = NULL;
	int rc;

	if ((rc = rexec_connect(&c, t, err)) == 0)
		rc = rexec_run(c, req, io, res, err);
	rexec_close(c);
	return rc;
}
