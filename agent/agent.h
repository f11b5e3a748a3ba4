/* agent.h: cutover-agent's session, its requests and its op table.
 *
 * The agent speaks frames (proto/frame.h, proto/PROTOCOL.md) on stdin and
 * stdout. main.c runs one poll loop over the coordinator's stdin, the agent's
 * stdout queue and every child's pipes; each request type ("t") is handled by
 * an op in one file per family (op_session.c, op_run.c, op_manage.c), listed
 * in agent_ops (ops.c). A new operation is a new file plus one table line.
 *
 * Functions return 0 or a negative FRAME_E* code; a FRAME_E* from an op
 * handler ends the session (the request-level refusals are sent as "error"
 * frames and return 0).
 */
#ifndef CUTOVER_AGENT_H
#define CUTOVER_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "frame.h"

#ifndef AGENT_BUILD_ID
#define AGENT_BUILD_ID "dev"
#endif
#define AGENT_MAX_REQS 64
#define AGENT_CHILD_PIPE (256u * 1024u)  /* a child's stdout/stderr pipe (F_SETPIPE_SZ) */
#define AGENT_OUT_PIPE (1024u * 1024u)   /* the agent's own stdout pipe, when it is one */
#define AGENT_STDIN_HIGH (1024u * 1024u) /* stop reading the coordinator above this */
#define AGENT_KILL_GRACE_MS 2000          /* TERM, then KILL this much later */
#define AGENT_DRAIN_MS 1000               /* pipes kept open after the child exited */
#define AGENT_TIMEOUT_MAX_MS (1000ull * 86400 * 365 * 100) /* a century: "no deadline" */

/* A growable byte buffer (out queue, pending stdin). The buffer owns its
 * memory; abuf_free() releases it (and leaves an empty, reusable buffer). */
struct abuf {
	char *data;
	size_t len, cap, off;   /* live bytes are data[off..len) */
};
/* Makes room for n more bytes at data + len. */
int abuf_reserve(struct abuf *b, size_t n);
int abuf_add(struct abuf *b, const void *p, size_t n);
size_t abuf_live(const struct abuf *b);
void abuf_consume(struct abuf *b, size_t n);
void abuf_free(struct abuf *b);

/* One running request (a child process and its pipes). */
struct req {
	uint64_t id;
	pid_t pid;              /* also the process group id (setsid) */
	int out_fd[2];          /* stdout, stderr read ends; -1 once closed */
	int in_fd;              /* stdin write end; -1 when none or closed */
	struct abuf in;         /* stdin bytes not yet written to the child */
	int in_eof;             /* close in_fd once `in` is empty */
	int64_t start_ms, deadline_ms, kill_at_ms, drain_until_ms;
	int reaped, status;     /* wait status once reaped */
	int timed_out, cancelled, signalled;
	int64_t end_ms;
	/* Data-safety workers (op_safety.c): stdout carries whole frames,
	 * relayed by opw_relay(); sent_exit once the worker wrote its "exit". */
	struct frame_reader *frames;
	int sent_exit;
};

/* What a run or manage request asks to start. Strings point into the
 * request's frame or into memory the caller owns until req_spawn returns. */
struct spawn_spec {
	char **argv;            /* NULL-terminated */
	char **envp;            /* complete environment, NULL-terminated */
	const char *cwd;        /* NULL: the agent's */
	int want_stdin;
	uint64_t timeout_ms;    /* 0: none */
};

struct agent {
	int in_fd, out_fd;
	struct frame_reader *reader;
	struct abuf outq;       /* framed replies not yet written */
	struct req *reqs[AGENT_MAX_REQS];
	int nreqs;
	int hello_done;
	int closing;            /* bye or lost coordinator: end children, then exit */
	int exit_code;
	int out_broken;         /* stdout write failed: discard replies */
	/* Zero-copy output: when stdout is a pipe, an out frame's header goes
	 * into outq and its payload stays in the child's pipe until splice(2)
	 * moves it to stdout, right behind the header; nothing else is written
	 * in between. */
	int splice_ok;          /* stdout is a pipe */
	int splice_fd;          /* the child pipe holding the payload */
	size_t splice_left;     /* payload bytes not yet moved (0: none pending) */
	size_t splice_before;   /* outq bytes that go out before the payload */
	int sig_fd;             /* signalfd for SIGCHLD */
};

/* ---- replies (reply.c) ---- */
int64_t agent_now_ms(void);
/* Queues one framed payload; never blocks. */
int agent_send(struct agent *a, const msgpack_sbuffer *payload);
int agent_send_error(struct agent *a, uint64_t id, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The final frame of a request that never started: status and signal nil. */
int agent_send_start_error(struct agent *a, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int agent_send_exit(struct agent *a, const struct req *r);
/* Takes what the child's fd holds as one "out" frame for stream `which`
 * (1 stdout, 2 stderr): spliced from the pipe when stdout is a pipe and
 * nothing else is pending, else read (at most FRAME_DATA_CHUNK bytes)
 * straight into the reply queue. Returns the payload size, or what read()
 * returned (0 at EOF; -1 with errno, ENOMEM when the queue could not grow,
 * EAGAIN when fd's bytes are already promised to a pending frame). */
ssize_t agent_read_out(struct agent *a, uint64_t id, int which, int fd);
/* Bytes of replies not yet written to stdout (queued and to be spliced). */
size_t agent_out_pending(const struct agent *a);
/* Writes what is pending without blocking (blocking when `block`, used
 * just before exit). */
int agent_flush(struct agent *a, int block);
/* Sets up stdout for agent_read_out (pipe size, splice); call once. */
void agent_out_init(struct agent *a);

/* ---- requests (proc.c) ---- */
struct req *agent_find(struct agent *a, uint64_t id);
/* Starts spec for request id. The new struct req is owned by a->reqs and
 * freed by the poll loop after its exit frame. On failure to start, sends
 * the exit frame with its error itself and returns 0; a negative FRAME_E*
 * only for session ends. */
int req_spawn(struct agent *a, uint64_t id, const struct spawn_spec *spec);
/* TERM the request's process group now, KILL after the grace period. */
void req_terminate(struct agent *a, struct req *r);

/* ---- environment lists (env.c) ---- */
/* A NULL-terminated "KEY=value" array; each string and the array are owned
 * by the list; env_free() frees them. */
struct env_list {
	char **v;
	size_t n, cap;
};
/* Copies envp (may be NULL). */
int env_init(struct env_list *e, char *const *envp);
/* Adds or replaces KEY. key must be non-empty, without '=' or NUL. */
int env_set(struct env_list *e, const char *key, size_t klen, const char *val, size_t vlen);
void env_free(struct env_list *e);
/* Parses an EB env file's text (KEY=value lines, see PROTOCOL.md) into e. */
int env_load_ebfile(struct env_list *e, const char *text, size_t len);
/* Adds a request's "env" map (str -> str); 0, or -1 when it is malformed. */
int env_add_map(struct env_list *e, const msgpack_object *map);

/* ---- request fields (reply.c) ---- */
/* Copies a str object to a new NUL-terminated string (caller frees);
 * NULL when o is not a str, has a NUL inside, or memory ran out. */
char *agent_strdup_obj(const msgpack_object *o);
/* Builds argv from a prefix plus an array of str (caller frees each
 * string and the array with agent_argv_free); NULL when malformed. */
char **agent_argv_from(const char *const *prefix, size_t nprefix, const msgpack_object *arr);
void agent_argv_free(char **argv);

/* ---- manage.py requests (op_manage.c) ---- */
/* What a "manage" (or "once") request runs: PYTHON manage.py ARGS in
 * app_dir, with env (the agent's environment, the EB env file, the
 * request's "env"). All owned by the struct: manage_prep_free(). */
struct manage_prep {
	char **argv;
	struct env_list env;
	char *app_dir;
};
enum { MANAGE_PREP_OK = 0, MANAGE_PREP_BAD = 1, MANAGE_PREP_START = 2, MANAGE_PREP_NOMEM = -1 };
/* Reads args, app_dir, env_file, python and env of msg. MANAGE_PREP_OK,
 * or BAD (a malformed field) / START (nothing to run: no env file, no
 * python) with why set, or NOMEM; on failure p holds nothing. */
int manage_prepare(const msgpack_object *msg, struct manage_prep *p, char *why, size_t whylen);
void manage_prep_free(struct manage_prep *p);

/* ---- the op table (ops.c) ---- */
struct op {
	const char *name;       /* the request's "t" */
	/* Handles one frame of this type; msg is the decoded map. */
	int (*handle)(struct agent *a, const msgpack_object *msg);
};
extern const struct op *const agent_ops[];  /* NULL-terminated */

extern const struct op op_hello, op_bye;       /* op_session.c */
extern const struct op op_run, op_stdin, op_cancel; /* op_run.c */
extern const struct op op_manage;             /* op_manage.c */
extern const struct op op_sql, op_dbenv, op_logcount, op_cron, op_http, op_reach, op_df, op_once; /* op_safety.c */

/* Reads a worker's stdout and queues every whole frame it holds; returns
 * what read() returned (-1 with errno EIO when the worker broke the
 * protocol: it is then terminated). */
ssize_t opw_relay(struct agent *a, struct req *r);

/* Common parts of run and manage: id, env, cwd, stdin, timeout_ms.
 * On a refusal it has sent the error frame and returns 1; 0 when the
 * request is acceptable (*id set). */
int op_check_request(struct agent *a, const msgpack_object *msg, uint64_t *id);
/* Completes spec from the request's stdin and timeout_ms and starts it
 * (req_spawn's result). envp and cwd stay the caller's. */
int op_spawn(struct agent *a, uint64_t id, const msgpack_object *msg, struct spawn_spec *spec, char **envp,
    const char *cwd);

#endif
