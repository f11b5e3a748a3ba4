/* remote/rexec.h: run programs and manage.py commands on remote hosts through the
 * cutover agent. This is the API the runbook engine calls from C.
 *
 *   struct rexec_conn *c;
 *   struct rexec_result res;
 *   if ((r = rexec_connect(&c, &target, err)) != 0) ...      // SSH + agent + hello
 *   const char *args[] = {"migrate", "--noinput", NULL};
 *   struct rexec_request req = { .kind = REXEC_MANAGE, .argv = args, .timeout_ms = 600000 };
 *   r = rexec_run(c, &req, &io, &res, err);   // as many requests as needed
 *   rexec_close(c);
 *
 * rexec_run() returns 0 when the request ran to an end the agent reported
 * (whatever its exit status: look at res.status / res.signal / res.timed_out
 * / res.error), or a negative CUT_E* code when the tool itself failed
 * (connection dropped: CUT_ENET; protocol: CUT_EPROTO; our own deadline:
 * CUT_ETIMEOUT); after such a failure the connection is unusable
 * (rexec_run returns CUT_ESTATE) and must be closed.
 *
 * Agent delivery: the agent binary for the remote `uname -m` (embedded in
 * the coordinator, remote/agent_blobs.h) lives in ~/.cache/cutover/ (0700) of the
 * login user. Before every start its SHA-256 is checked on the host, in the
 * same command that starts it; when missing or different it is uploaded
 * again (atomic rename) and checked again. With sudo it runs as
 * `sudo -n AGENT` (a clear error if sudo wants a password).
 *
 * Threads: a struct rexec_conn belongs to one thread at a time. rexec_many()
 * runs hosts on its own threads, one connection each.
 */
#ifndef CUTOVER_REXEC_H
#define CUTOVER_REXEC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "remote/ssh.h"

struct rexec_target {
	struct ssh_opts ssh;     /* host, port, user, identity, known_hosts... (borrowed) */
	int sudo;                /* run the agent as root via `sudo -n` */
	const char *label;       /* how output names this host; NULL: "host" or "host:port" */
};

enum rexec_kind { REXEC_RUN, REXEC_MANAGE };

struct rexec_request {
	enum rexec_kind kind;
	/* RUN: PROGRAM ARGS... (executed directly, no shell); MANAGE: manage.py
	 * ARGS... NULL-terminated, borrowed for the call. */
	const char *const *argv;
	const char *const *env;  /* "KEY=value" additions, NULL-terminated, or NULL */
	const char *cwd;         /* RUN only; NULL: the agent's */
	/* MANAGE only; NULL: the agent's EB defaults (/var/app/current,
	 * /opt/elasticbeanstalk/deployment/env, /var/app/venv/ * /bin/python). */
	const char *app_dir, *env_file, *python;
	int64_t timeout_ms;      /* 0: none; the agent kills the process group when it passes */
};

struct rexec_result {
	int status;              /* exit status, -1 when none (signal, error, tool failure) */
	int signal;              /* signal number that ended it, 0 when none */
	uint64_t duration_ms;    /* as measured by the agent (0 when it never ran) */
	int timed_out;           /* killed because timeout_ms passed */
	char error[512];         /* the agent could not start it ("no such program: x"), or "" */
};

/* Output and input of one request. Callbacks run on the thread calling
 * rexec_run (or, in rexec_many, serialised under rexec_many's lock). */
struct rexec_io {
	/* fd 1 or 2; data is only valid during the call. */
	void (*on_output)(void *ctx, int fd, const void *data, size_t len);
	void *ctx;
	int stdin_fd;            /* forwarded to the program until EOF; -1: /dev/null */
	/* When it becomes non-zero (e.g. set by a SIGINT handler) the request
	 * is cancelled: the agent kills its process group. May be NULL. */
	volatile sig_atomic_t *cancel;
};

struct rexec_conn;

/* Connects (ssh_connect), delivers and starts the agent, handshakes.
 * *out is the caller's, closed with rexec_close(). */
int rexec_connect(struct rexec_conn **out, const struct rexec_target *t, struct cut_err *err);

/* Runs one request to its end (see above). res is always filled. */
int rexec_run(struct rexec_conn *c, const struct rexec_request *req, const struct rexec_io *io,
    struct rexec_result *res, struct cut_err *err);

/* Says bye to the agent (it ends every child), disconnects, frees. NULL is fine. */
void rexec_close(struct rexec_conn *c);

/* One request on a connection of its own: connect, run, close (exec with
 * one host). As rexec_run; a failure to connect is returned as is. */
int rexec_call(const struct rexec_target *t, const struct rexec_request *req, const struct rexec_io *io,
    struct rexec_result *res, struct cut_err *err);

/* 1 while c can take requests; 0 after a failure left it unusable (its
 * request's outcome unknown): close it and connect again. */
int rexec_usable(const struct rexec_conn *c);

/* What the agent said in its hello (owned by the connection). */
const char *rexec_agent_version(const struct rexec_conn *c);
const char *rexec_arch(const struct rexec_conn *c);
/* 1 when this connection had to upload the agent (missing or tampered). */
int rexec_uploaded(const struct rexec_conn *c);

/* ---- the data-safety link (remote/agent_link.h) over this connection ------------ */

struct alink;
/* Makes l an alink (remote/agent_link.h) whose requests travel over c; alink_close(l)
 * then closes c too. Request ids of the link start far above rexec_run's
 * own so both can share the connection. name labels the link. */
void rexec_alink(struct rexec_conn *c, struct alink *l, const char *name);

/* ---- many hosts --------------------------------------------------------- */

struct rexec_host {
	struct rexec_target target;  /* in: borrowed */
	int rc;                      /* out: 0, or the CUT_E* of the tool's failure */
	struct cut_err err;          /* out: the sentence when rc != 0 */
	struct rexec_result result;  /* out: when rc == 0 */
	int64_t wall_ms;             /* out: connect to end, as the coordinator saw it */
};

struct rexec_many_cb {
	/* Both serialised (never two at once), from worker threads. */
	void (*on_output)(void *ctx, size_t host, int fd, const void *data, size_t len);
	void (*on_done)(void *ctx, size_t host);   /* hosts[host] is final */
	void *ctx;
};

/* Runs req on every host, at most `concurrency` at once (0: 32), one thread
 * and one SSH connection per running host. A host's failure is recorded in
 * its rexec_host and never stops the others. Returns 0 once every host is
 * done (look at each host), or CUT_ENOMEM if no worker could start.
 * cancel (may be NULL) is passed to every request. No stdin is forwarded. */
int rexec_many(struct rexec_host *hosts, size_t n, const struct rexec_request *req, int concurrency,
    const struct rexec_many_cb *cb, volatile sig_atomic_t *cancel);

#endif
