/* opsutil.h: helpers shared by the agent's data-safety operations
 * (op_sql.c, op_logcount.c, op_cron.c, op_http.c, op_df.c).
 *
 * These operations are "workers": each is a function that op_safety.c runs
 * in a forked child of its own session, so it may block, and cancel and
 * timeouts kill its whole process group exactly like a "run" child. A
 * worker writes its reply frames (data frames and, last, one "exit") to its
 * stdout, a pipe the agent's poll loop reads; the loop relays whole frames
 * (opw_relay) instead of wrapping bytes in "out" frames.
 * Messages: proto/PROTOCOL.md, section "Data-safety operations".
 */
#ifndef CUTOVER_AGENT_OPSUTIL_H
#define CUTOVER_AGENT_OPSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#define OPU_ENV_FILE "/opt/elasticbeanstalk/deployment/env"
#define OPU_ENV_MAX (1024u * 1024u)   /* largest env file read */

/* Where a worker writes and which request it answers. */
struct op_io {
	int out_fd;
	uint64_t id;
	uint64_t started_ms;   /* opu_now_ms() when the worker began */
};

/* A worker: returns the exit status to report (0 success), or -1 with why
 * set to one sentence when the operation could not be carried out. The
 * caller (opw_run) writes the "exit" frame from that. */
typedef int (*op_worker_fn)(const msgpack_object *req, struct op_io *io,
    char *why, size_t whylen);

struct op_worker {
	const char *type;      /* the request's "t" */
	op_worker_fn fn;
};


/* The workers (one file per family: op_sql.c has sql and dbenv, op_http.c
 * http and reach). */
int opw_sql(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_dbenv(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_logcount(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_cron(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_http(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_reach(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_df(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);
int opw_once(const msgpack_object *req, struct op_io *io, char *why, size_t whylen);

/* psql's whole environment for the app's database (op_sql.c): PATH, the
 * PG* settings from the env file's RDS_* lines (the password too, so only
 * ever in an environment, never argv), PGAPPNAME=appname, and
 * default_transaction_read_only unless write. Wipe with opu_pgenv_wipe
 * once psql started. */
struct opu_pgenv {
	char s[12][1100];
	char *envp[13];
};
int opu_pgenv_init(struct opu_pgenv *e, const char *env_file, int write, const char *appname,
    const char *sslmode, const char *sslrootcert, char *why, size_t whylen);
/* 0 when sslmode is one the agent allows (require, verify-ca, verify-full,
 * disable), else -1 with why: prefer and allow fall back to plain text. */
int opu_sslmode_check(const char *sslmode, char *why, size_t whylen);
void opu_pgenv_wipe(struct opu_pgenv *e);

/* Runs worker w for req in this process (the forked child calls this) and
 * writes the final "exit" frame. Returns the status written. */
int opw_run(const struct op_worker *w, const msgpack_object *req, uint64_t id);

uint64_t opu_now_ms(void);

/* Copies the string field key of req into out (NUL-terminated). Returns 1
 * when present, 0 when absent (out = def, or "" when def is NULL), -1 when
 * present but not a string or too long. */
int opu_req_str(const msgpack_object *req, const char *key, const char *def,
    char *out, size_t outlen);
/* Unsigned field with a default; -1 when present but not an unsigned int. */
int opu_req_u64(const msgpack_object *req, const char *key, uint64_t def, uint64_t *out);
/* Boolean field with a default; -1 when present but not a bool. */
int opu_req_bool(const msgpack_object *req, const char *key, int def, int *out);

/* Reads KEY from an EB env file, parsed as "manage" does (env.c). Returns
 * 1 found, 0 absent, -errno when the file cannot be read. */
int opu_envfile_get(const char *path, const char *key, char *out, size_t outlen);

/* Packing: str from a C string (NULL packs nil), "key" followed by value. */
void opu_pack_cstr(msgpack_packer *pk, const char *s);
void opu_pack_key(msgpack_packer *pk, const char *k);
/* Starts a reply map of n entries (n counts "t" and "id" too). */
void opu_pack_head(msgpack_packer *pk, const char *type, const struct op_io *io, uint32_t n);
/* Writes sb as one frame to io->out_fd and clears sb. 0 or FRAME_E*. */
int opu_send(const struct op_io *io, msgpack_sbuffer *sb);
/* An "out" frame: {"t":"out","id","fd","data":bin}. */
int opu_send_out(const struct op_io *io, int fd, const void *buf, size_t len);

/* Output handler for opu_spawn: called with stream 1 or 2 and what the
 * child wrote; returns 0 or -1 to stop (the child is then killed). */
typedef int (*opu_sink_fn)(void *arg, int stream, const void *buf, size_t len);

/* Runs argv (execvp, never a shell) with envp as its whole environment,
 * feeding in[0..inlen) to its stdin then closing it, passing its output to
 * sink, killing it (TERM, then KILL) after timeout_ms (0: none).
 * *wstatus is the waitpid status; *timed_out set when the deadline hit.
 * Returns 0, or -1 with why set when it could not be started. */
int opu_spawn(char *const argv[], char *const envp[], const void *in, size_t inlen,
    opu_sink_fn sink, void *arg, uint64_t timeout_ms, int *wstatus, int *timed_out,
    char *why, size_t whylen);

/* opu_spawn with the child's stdin read from in_fd (in/inlen unused)
 * when in_fd >= 0: input streamed to the worker passes straight on. */
int opu_spawn_fd(char *const argv[], char *const envp[], const void *in, size_t inlen, int in_fd,
    opu_sink_fn sink, void *arg, uint64_t timeout_ms, int *wstatus, int *timed_out,
    char *why, size_t whylen);

/* A growing byte buffer for collecting child output, capped at cap bytes
 * (opu_sink_buf then fails). Owned by the caller: free(b->data). */
struct opu_buf {
	char *data;
	size_t len, cap;
	int stream;   /* which stream to keep: 1 or 2 */
};
int opu_sink_buf(void *arg, int stream, const void *buf, size_t len);

#endif
