/* op_once.c: "once", manage.py ARGS at most once per token, with the marker
 * in the app's own database (proto/PROTOCOL.md, "once").
 *
 * Why the database: it is the one place every instance of the environment
 * and every operator's coordinator sees, and it outlives an instance that
 * EB replaces. The command (temp_copy_unreg_to_user) has no transaction
 * and runs for minutes, so "once" cannot be one transaction around it:
 *   - a session-level advisory lock on the token, held by a psql session
 *     (the "holder") for as long as the command runs, tells a second
 *     caller "it is running now" (it then waits for the lock);
 *   - a row in cutover_once, inserted in the transaction that decides the
 *     start (INSERT ... ON CONFLICT DO NOTHING), says "it was started", and
 *     its finished_at/exit_status/summary, written before the lock goes,
 *     say how it ended. A row without finished_at whose lock nobody holds
 *     is a run that died mid-way: refused, the operator decides.
 *
 * The worker forks a "runner" in a session of its own, which does all of
 * the above: cancel, timeout_ms, bye and a lost connection kill the
 * worker's process group, never the runner, so a conversion is not cut
 * off half-way because the operator's network dropped; the rerun then
 * waits for it through the lock. The runner passes its frames on through
 * the worker's stdout pipe while someone reads it, and carries on when
 * nobody does. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "frame.h"
#include "opsutil.h"

#define ONCE_LOCK_CLASS 1668641134   /* advisory lock key space: "cutover once" */
#define ONCE_TOKEN_MAX 200
#define ONCE_MARK "@@cutover-once@@"
#define ONCE_SUMMARY_MAX 300

/* The holder: one psql session, fed statements on stdin, answering on
 * stdout (stderr merged, so an error is the last thing read before EOF). */
struct holder {
	pid_t pid;
	int in, out;
	char buf[16384];
	size_t len;
};

static int
holder_start(struct holder *h, char *const envp[], const char *psql, const char *const *vars, char *why,
    size_t whylen)
{
	int pin[2], pout[2];
	char *argv[32];
	int argc = 0;

	memset(h, 0, sizeof(*h));
	h->in = h->out = -1;
	argv[argc++] = (char *)psql;
	argv[argc++] = "-X";
	argv[argc++] = "-q";
	argv[argc++] = "-A";
	argv[argc++] = "-t";
	argv[argc++] = "-v";
	argv[argc++] = "ON_ERROR_STOP=1";
	for (size_t i = 0; vars[i] != NULL && argc < 28; i++) {
		argv[argc++] = "-v";
		argv[argc++] = (char *)vars[i];
	}
	argv[argc++] = "-f";
	argv[argc++] = "-";
	argv[argc] = NULL;
	if (pipe2(pin, O_CLOEXEC) != 0)
		goto fail;
	if (pipe2(pout, O_CLOEXEC) != 0) {
		close(pin[0]);
		close(pin[1]);
		goto fail;
	}
	if ((h->pid = fork()) < 0) {
		close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
		goto fail;
	}
	if (h->pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(pout[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], argv, envp);
		dprintf(1, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	h->in = pin[1];
	h->out = pout[0];
	return 0;
fail:
	snprintf(why, whylen, "cannot start psql for the run-once record: %s", strerror(errno));
	return -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends sql, then reads psql's answer up to the marker line into out
 * (NUL-terminated, the marker left out). -1 with why when psql ended
 * first (its last line, the error, in why). */
static int
holder_query(struct holder *h, const char *sql, char *out, size_t outlen, char *why, size_t whylen)
{
	static const char mark[] = "\n\\echo " ONCE_MARK "\n";
	char *m;

	h->len = 0;
	if (h->in < 0 || write_all(h->in, sql, strlen(sql)) != 0 || write_all(h->in, mark, sizeof(mark) - 1) != 0) {
		snprintf(why, whylen, "the database session for the run-once record ended");
		return -1;
	}
	for (;;) {
		h->buf[h->len] = '\0';
		if ((m = strstr(h->buf, ONCE_MARK "\n")) != NULL) {
			size_t n = (size_t)(m - h->buf);

			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, h->buf, n);
			out[n] = '\0';
			return 0;
		}
		if (h->len + 1 >= sizeof(h->buf))   /* never for our statements: keep the tail */
			h->len = 0;
		ssize_t r = read(h->out, h->buf + h->len, sizeof(h->buf) - 1 - h->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		h->len += (size_t)r;
	}
	/* psql stopped (ON_ERROR_STOP): its last non-empty line says why. */
	while (h->len > 0 && (h->buf[h->len - 1] == '\n' || h->buf[h->len - 1] == ' '))
		h->len--;
	h->buf[h->len] = '\0';
	char *last = strrchr(h->buf, '\n');
	snprintf(why, whylen, "the database refused the run-once record: %.300s",
	    h->len ? (last ? last + 1 : h->buf) : "psql ended without a word");
	return -1;
}

/* Ends the session (which releases the lock) and reaps psql. */
static void
holder_end(struct holder *h)
{
	if (h->in >= 0)
		close(h->in);
	if (h->out >= 0)
		close(h->out);
	h->in = h->out = -1;
	if (h->pid > 0)
		while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
			;
	h->pid = 0;
}

/* The row of the token, as the runner reads it. */
struct once_row {
	int found;
	char host[256], pid[32], started[40], finished[40], status[16], summary[ONCE_SUMMARY_MAX + 1];
};

/* Splits "row\thost\tpid\tstarted\tfinished\tstatus\tsummary" out of text. */
static void
parse_row(const char *text, struct once_row *r)
{
	const char *p = strstr(text, "row\t");
	char *fields[6] = { r->host, r->pid, r->started, r->finished, r->status, r->summary };
	size_t sizes[6] = { sizeof(r->host), sizeof(r->pid), sizeof(r->started), sizeof(r->finished),
		sizeof(r->status), sizeof(r->summary) };

	memset(r, 0, sizeof(*r));
	if (p == NULL || (p != text && p[-1] != '\n'))
		return;
	r->found = 1;
	p += 4;
	for (int i = 0; i < 6; i++) {
		/* The summary is last and may hold anything but a newline. */
		size_t n = i == 5 ? strcspn(p, "\n") : strcspn(p, "\t\n");

		snprintf(fields[i], sizes[i], "%.*s", (int)n, p);
		p += n;
		if (*p != '\t')
			break;
		p++;
	}
}

/* 1 when text has a line that is exactly line (a summary may hold any words). */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

static void
send_result(const struct op_io *io, const char *state, const struct once_row *r)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "once", io, r ? 9 : 3);
	opu_pack_key(&pk, "state"); opu_pack_cstr(&pk, state);
	if (r) {
		opu_pack_key(&pk, "exit_status");
		if (r->status[0]) msgpack_pack_int(&pk, atoi(r->status)); else msgpack_pack_nil(&pk);
		opu_pack_key(&pk, "summary"); opu_pack_cstr(&pk, r->summary);
		opu_pack_key(&pk, "host"); opu_pack_cstr(&pk, r->host);
		opu_pack_key(&pk, "pid"); msgpack_pack_int64(&pk, atoll(r->pid));
		opu_pack_key(&pk, "started_at"); opu_pack_cstr(&pk, r->started);
		opu_pack_key(&pk, "finished_at"); opu_pack_cstr(&pk, r->finished[0] ? r->finished : NULL);
	}
	opu_send(io, &sb);   /* nobody reading (connection lost): carry on */
	msgpack_sbuffer_destroy(&sb);
}

/* What the command printed: passed on as "out" frames while someone reads,
 * and its last line kept for the record. */
struct tail {
	const struct op_io *io;
	int gone;
	char last[4096];
	size_t n;
};

static int
tail_sink(void *arg, int stream, const void *buf, size_t len)
{
	struct tail *t = arg;
	const char *p = buf;

	if (!t->gone && opu_send_out(t->io, stream, buf, len) != 0)
		t->gone = 1;
	if (len >= sizeof(t->last)) {
		p += len - (sizeof(t->last) - 1);
		len = sizeof(t->last) - 1;
	}
	if (t->n + len >= sizeof(t->last)) {
		size_t drop = t->n + len - (sizeof(t->last) - 1);
		memmove(t->last, t->last + drop, t->n - drop);
		t->n -= drop;
	}
	memcpy(t->last + t->n, p, len);
	t->n += len;
	t->last[t->n] = '\0';
	return 0;   /* never stop the command for its output */
}

/* The last non-empty line, without tabs, or a note when it may hold a
 * secret: the record is read by every later caller and reported. */
static void
summarise(const struct tail *t, char *out, size_t outlen)
{
	static const char *const words[] = { "PASSWORD", "SECRET", "TOKEN", "KEY=", "KEY:", "CREDENTIAL" };
	size_t end = t->n, start;
	char up[ONCE_SUMMARY_MAX + 2];

	while (end > 0 && (t->last[end - 1] == '\n' || t->last[end - 1] == '\r' || t->last[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && t->last[start - 1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(end - start), t->last + start);
	for (size_t i = 0; out[i]; i++) {
		if (out[i] == '\t' || (unsigned char)out[i] < 0x20)
			out[i] = ' ';
		up[i] = (char)(out[i] >= 'a' && out[i] <= 'z' ? out[i] - 32 : out[i]);
		up[i + 1] = '\0';
	}
	up[strlen(out)] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(up, words[i]) != NULL)
			snprintf(out, outlen, "(last output line withheld: it may hold a secret)");
}

static const char CLAIM_SQL[] =
	"SET client_min_messages = warning;\n"
	"BEGIN;\n"
	/* Two first runs against a fresh database must not both create the table. */
	"SELECT pg_advisory_xact_lock(1668641134, 0) IS NULL;\n"
	"CREATE TABLE IF NOT EXISTS cutover_once (token text PRIMARY KEY, command text NOT NULL, "
	"host text NOT NULL, pid bigint NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), "
	"finished_at timestamptz, exit_status integer, summary text);\n"
	"INSERT INTO cutover_once (token, command, host, pid) VALUES (:'token', :'command', :'host', :'pid') "
	"ON CONFLICT (token) DO NOTHING RETURNING 'claimed';\n"
	"COMMIT;\n"
	"SELECT 'row' || chr(9) || host || chr(9) || pid || chr(9) || "
	"to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') || chr(9) || "
	"coalesce(to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') || chr(9) || "
	"coalesce(exit_status::text, '') || chr(9) || coalesce(summary, '') FROM cutover_once WHERE token = :'token';";

/* The UPDATE that records the end; the summary dollar-quoted with a tag
 * it does not contain. */
static void
finish_sql(char *sql, size_t len, int status, const char *summary)
{
	char tag[32];

	for (unsigned i = 0;; i++) {
		snprintf(tag, sizeof(tag), "$once%u$", i);
		if (strstr(summary, tag) == NULL)
			break;
	}
	snprintf(sql, len, "UPDATE cutover_once SET finished_at = now(), exit_status = %d, summary = %s%s%s "
	    "WHERE token = :'token' AND finished_at IS NULL;", status, tag, summary, tag);
}

struct once_req {
	char token[ONCE_TOKEN_MAX + 1], env_file[512], psql[512], sslmode[16], sslrootcert[512], command[600], host[256], pid[32];
	struct manage_prep mp;
};

/* The runner (see the top). Returns 0 when the request was carried out
 * (ran, or reported the recorded run), -1 with why. */
static int
runner(struct once_req *q, const struct op_io *io, char *why, size_t whylen)
{
	struct opu_pgenv pe;
	struct holder h;
	struct once_row row;
	char ans[4096], tv[ONCE_TOKEN_MAX + 8], cv[620], hv[270], pv[40];
	const char *vars[] = { tv, cv, hv, pv, NULL };
	int rc = -1;

	snprintf(tv, sizeof(tv), "token=%s", q->token);
	snprintf(cv, sizeof(cv), "command=%s", q->command);
	snprintf(hv, sizeof(hv), "host=%s", q->host);
	snprintf(pv, sizeof(pv), "pid=%s", q->pid);
	if (opu_pgenv_init(&pe, q->env_file, 1, "cutover-once", q->sslmode, q->sslrootcert, why, whylen) != 0)
		return -1;
	int started = holder_start(&h, pe.envp, q->psql, vars, why, whylen);
	opu_pgenv_wipe(&pe);
	if (started != 0)
		return -1;

	/* 1. The token's lock: free, or someone runs it now (wait for them). */
	if (holder_query(&h, "SELECT pg_try_advisory_lock(1668641134, hashtext(:'token'));", ans, sizeof(ans),
	    why, whylen) != 0)
		goto out;
	if (strncmp(ans, "t", 1) != 0) {
		send_result(io, "waiting", NULL);
		if (holder_query(&h, "SELECT pg_advisory_lock(1668641134, hashtext(:'token')) IS NULL;", ans,
		    sizeof(ans), why, whylen) != 0)
			goto out;
	}
	/* 2. Claim the token, or read how its run went. */
	if (holder_query(&h, CLAIM_SQL, ans, sizeof(ans), why, whylen) != 0)
		goto out;
	parse_row(ans, &row);
	if (!row.found) {
		snprintf(why, whylen, "the run-once record of %s could not be read back from cutover_once", q->token);
		goto out;
	}
	if (!has_line(ans, "claimed")) {
		if (row.finished[0]) {
			send_result(io, "recorded", &row);
			rc = 0;
		} else {
			/* We hold the lock, so its runner's session is gone. */
			snprintf(why, whylen, "manage.py with run-once token %s started on %.64s (pid %.20s) at %.32s and never "
			    "recorded its end (its instance, agent or database session stopped mid-way); check what it "
			    "changed, then delete its row (DELETE FROM cutover_once WHERE token = '%s') to allow "
			    "another run", q->token, row.host, row.pid, row.started, q->token);
		}
		goto out;
	}

	/* 3. Run it, holding the lock. */
	struct tail t = { .io = io };
	int wst = 0, timed_out = 0, status;
	char rwhy[300] = "", sql[1200];

	if (chdir(q->mp.app_dir) != 0) {
		snprintf(rwhy, sizeof(rwhy), "cannot change directory to %s: %s", q->mp.app_dir, strerror(errno));
		status = 127;
	} else if (opu_spawn(q->mp.argv, q->mp.env.v, NULL, 0, tail_sink, &t, 0, &wst, &timed_out, rwhy,
	    sizeof(rwhy)) != 0) {
		status = 127;
	} else {
		status = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
	}
	if (rwhy[0])
		snprintf(row.summary, sizeof(row.summary), "%s", rwhy);
	else
		summarise(&t, row.summary, sizeof(row.summary));
	finish_sql(sql, sizeof(sql), status, row.summary);
	/* 4. Record the end before the lock goes (a waiter reads it next). */
	if (holder_query(&h, sql, ans, sizeof(ans), why, whylen) != 0) {
		/* The holder's session broke while the command ran: record the
		 * end through a new one (the row is still ours: finished_at NULL). */
		char fwhy[300];
		int fst = 0, fto = 0;
		struct opu_buf sink = { .cap = 4096, .stream = 2 };
		const char *fargv[] = { q->psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", tv, "-f", "-", NULL };

		holder_end(&h);
		if (opu_pgenv_init(&pe, q->env_file, 1, "cutover-once", q->sslmode, q->sslrootcert, fwhy, sizeof(fwhy)) != 0 ||
		    opu_spawn((char *const *)fargv, pe.envp, sql, strlen(sql), opu_sink_buf, &sink, 60000, &fst, &fto,
		    fwhy, sizeof(fwhy)) != 0 || !WIFEXITED(fst) || WEXITSTATUS(fst) != 0) {
			opu_pgenv_wipe(&pe);
			free(sink.data);
			snprintf(why, whylen, "manage.py ran (exit status %d) but its end could not be recorded in "
			    "cutover_once; record it by hand (UPDATE cutover_once SET finished_at = now(), exit_status = "
			    "%d WHERE token = '%s')", status, status, q->token);
			goto out;
		}
		opu_pgenv_wipe(&pe);
		free(sink.data);
	}
	snprintf(row.status, sizeof(row.status), "%d", status);
	snprintf(row.host, sizeof(row.host), "%s", q->host);
	snprintf(row.pid, sizeof(row.pid), "%s", q->pid);
	row.finished[0] = '\0';
	send_result(io, "ran", &row);
	rc = 0;
out:
	holder_end(&h);
	return rc;
}

int
opw_once(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	struct once_req q;
	struct utsname un;
	int st[2];
	pid_t pid;

	memset(&q, 0, sizeof(q));
	if (opu_req_str(req, "token", NULL, q.token, sizeof(q.token)) <= 0 || q.token[0] == '\0' ||
	    opu_req_str(req, "env_file", OPU_ENV_FILE, q.env_file, sizeof(q.env_file)) < 0 ||
	    opu_req_str(req, "psql", "psql", q.psql, sizeof(q.psql)) < 0 ||
	    opu_req_str(req, "sslmode", "require", q.sslmode, sizeof(q.sslmode)) < 0 ||
	    opu_req_str(req, "sslrootcert", "", q.sslrootcert, sizeof(q.sslrootcert)) < 0) {
		snprintf(why, whylen, "the once request needs a \"token\" of 1 to %d characters and string "
		    "\"env_file\" and \"psql\"", ONCE_TOKEN_MAX);
		return -1;
	}
	if (opu_sslmode_check(q.sslmode, why, whylen) != 0)
		return -1;
	for (const char *c = q.token; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '\'' || *c == '\\') {
			snprintf(why, whylen, "the once token must be printable, without quotes or backslashes");
			return -1;
		}
	switch (manage_prepare(req, &q.mp, why, whylen)) {
	case MANAGE_PREP_OK:
		break;
	case MANAGE_PREP_NOMEM:
		snprintf(why, whylen, "out of memory");
		return -1;
	default:
		return -1;
	}
	/* The command as the record shows it: manage.py and its args. */
	for (size_t i = 1; q.mp.argv[i] != NULL; i++) {
		size_t n = strlen(q.command);
		snprintf(q.command + n, sizeof(q.command) - n, "%s%s", i > 1 ? " " : "", q.mp.argv[i]);
	}
	if (uname(&un) == 0)
		snprintf(q.host, sizeof(q.host), "%s", un.nodename);
	if (pipe2(st, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(why, whylen, "cannot start the run-once runner: %s", strerror(errno));
		manage_prep_free(&q.mp);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Out of the worker's process group: see the top. Nothing to
		 * the agent's stderr either (it is the SSH channel's, which must
		 * be able to close while this runs on). */
		setsid();
		signal(SIGPIPE, SIG_IGN);
		if (null >= 0)
			dup2(null, 2);
		close(st[0]);
		snprintf(q.pid, sizeof(q.pid), "%ld", (long)getpid());
		char rwhy[1024] = "";
		int r = runner(&q, io, rwhy, sizeof(rwhy));
		if (r != 0)
			(void)write_all(st[1], rwhy, strlen(rwhy));
		_exit(r == 0 ? 0 : 1);
	}
	close(st[1]);
	manage_prep_free(&q.mp);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < whylen && ((r = read(st[0], why + n, whylen - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	why[n] = '\0';
	close(st[0]);
	int wst = 0;
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(wst) && WEXITSTATUS(wst) == 0)
		return 0;
	if (why[0] == '\0')
		snprintf(why, whylen, "the run-once runner stopped without a word");
	return -1;
}
