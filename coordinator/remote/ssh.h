/* remote/ssh.h: the SSH transport (libssh2 1.10), one connection to one host.
 *
 * Safety first: the host key is checked against an OpenSSH known_hosts
 * file ([host]:port entries and hashed entries too) before anything is
 * sent; an unknown host is refused unless accept_new_host_key (then its key
 * is appended, like OpenSSH's StrictHostKeyChecking=accept-new); a changed
 * key is always refused. Authentication: an ed25519 or ECDSA key file, or
 * the keys of a running ssh-agent (SSH_AUTH_SOCK). RSA keys fail with a
 * sentence naming the fix (libssh2 1.10 has no rsa-sha2-*).
 *
 * All I/O is non-blocking with our own deadlines (milliseconds on the
 * monotonic clock of base/clock.h, cut_mono_ms()); a dropped connection is an
 * error (CUT_ENET), never an end of output.
 *
 * Threads: a struct ssh_conn and its channels belong to one thread at a
 * time (libssh2 sessions are not thread safe); different connections may
 * be used from different threads at once. ssh_global_init() runs once per
 * process (it is also called by ssh_connect()).
 */
#ifndef CUTOVER_SSH_H
#define CUTOVER_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Another way than TCP to the host's sshd (remote/ssm_channel.h through
 * world/fleet.c): dial gives a connected stream, which the connection then
 * owns and closes; hang_up(arg, handle) runs once after that close (also on
 * a failed connect). With trusted, the dialer vouches that the stream ends
 * at the host it names (Session Manager binds a session to one instance
 * id over TLS, under IAM), so known_hosts is not consulted. */
struct ssh_dialer {
	int (*dial)(void *arg, int64_t deadline_ms, int *fd, void **handle, struct cut_err *err);
	void (*hang_up)(void *arg, void *handle);
	void *arg;
	int trusted;
	const char *via;            /* "SSM", for labels */
};

struct ssh_opts {
	const char *host;           /* DNS name or address (with a dialer: what labels name) */
	int port;                   /* 0: 22 */
	const char *user;           /* NULL: $USER */
	const char *identity;       /* private key file; NULL: ssh-agent keys */
	const char *known_hosts;    /* NULL: $HOME/.ssh/known_hosts */
	int accept_new_host_key;    /* record an unknown host's key instead of refusing */
	int connect_timeout_ms;     /* TCP + handshake + auth; 0: 10000 */
	int keepalive_s;            /* SSH keepalive interval; 0: 15 */
	const struct ssh_dialer *dialer;  /* NULL: TCP to host:port; borrowed until ssh_close */
};

struct ssh_conn;
struct ssh_chan;


/* Initialises libssh2 once per process (thread safe). */
int ssh_global_init(struct cut_err *err);

/* Connects, checks the host key, authenticates. On success *out is a new
 * connection the caller closes with ssh_close(). Errors: CUT_ENET,
 * CUT_ETIMEOUT, CUT_EHOSTKEY, CUT_EAUTH, CUT_EIO (key or known_hosts file). */
int ssh_connect(struct ssh_conn **out, const struct ssh_opts *o, struct cut_err *err);

/* Disconnects and frees; NULL is fine. Closes any channel still open. */
void ssh_close(struct ssh_conn *c);

/* "user@host:port", owned by the connection. */
const char *ssh_label(const struct ssh_conn *c);

/* Opens a session channel and runs `command` through the remote user's
 * shell (no pty: stdout and stderr stay apart). *out is owned by the caller,
 * freed with ssh_chan_free(). */
int ssh_chan_exec(struct ssh_conn *c, const char *command, int64_t deadline_ms,
    struct ssh_chan **out, struct cut_err *err);

/* Non-blocking reads and writes. *done is the byte count (0: would block).
 * stream 0 is stdout, 1 is stderr. */
int ssh_chan_read(struct ssh_chan *ch, int stream, void *buf, size_t len, size_t *done,
    struct cut_err *err);
int ssh_chan_write(struct ssh_chan *ch, const void *buf, size_t len, size_t *done,
    struct cut_err *err);
/* Sends EOF on the channel's stdin; 0 or CUT_EAGAIN-like retry: returns 1
 * when it would block (call again after ssh_wait). */
int ssh_chan_send_eof(struct ssh_chan *ch, struct cut_err *err);
/* True once the remote side sent EOF on stdout (stderr may still hold data). */
int ssh_chan_eof(struct ssh_chan *ch);

/* Closes the channel and waits for the close (until deadline), then gives
 * the exit status (-1 if none) and signal number (0 if none; 128+ style
 * numbers come from the name, "KILL" -> 9). Only valid after close. */
int ssh_chan_close(struct ssh_chan *ch, int64_t deadline_ms, int *status, int *sig,
    struct cut_err *err);
void ssh_chan_free(struct ssh_chan *ch);

/* Waits until the connection can make progress in the direction libssh2
 * last blocked on (or want_write), or until extra_fd (if >= 0) is readable,
 * or until deadline_ms (< 0: none). Sends keepalives on time. Returns 0, or
 * CUT_ETIMEOUT when the deadline passed, CUT_ENET on a socket error.
 * *extra_ready (if not NULL) is set when extra_fd is readable. */
int ssh_wait(struct ssh_conn *c, int want_write, int extra_fd, int64_t deadline_ms,
    int *extra_ready, struct cut_err *err);

/* Runs `command`, feeds it `in` (may be NULL) then EOF, collects stdout
 * into *out (NUL-terminated, caller frees; NULL to discard) up to max_out
 * bytes, stderr into errbuf (truncated, NUL-terminated). *status is the
 * exit status, or 128+N when killed by signal N. */
int ssh_run(struct ssh_conn *c, const char *command, const void *in, size_t inlen,
    char **out, size_t *outlen, size_t max_out, char *errbuf, size_t errlen,
    int *status, int64_t deadline_ms, struct cut_err *err);

/* Signal number for a signal name as SSH sends it ("TERM", "SIGKILL"); 0 if unknown. */
int ssh_signal_number(const char *name);

/* For tests: the types (libssh2 method names, comma-separated, at most
 * len bytes) known_hosts holds for host:port. Returns how many were found,
 * or a CUT_E* code. */
int ssh_known_types(const char *known_hosts, const char *host, int port, char *types,
    size_t len, struct cut_err *err);

/* What known_hosts says about the key (SSH wire form) host:port offers. */
enum ssh_kh_verdict { SSH_KH_NEW, SSH_KH_MATCH, SSH_KH_CHANGED, SSH_KH_REVOKED };

/* Looks up "[host]:port" (plain "host" for port 22) only, as OpenSSH does:
 * a port-less line does not vouch for another port. A key on a matching
 * @revoked line is REVOKED whatever else vouches for it. Returns a verdict
 * (>= 0) with *line the deciding line (0 for NEW), or a CUT_E* code when
 * the file cannot be read or a line does not parse (err names file:line). */
int ssh_known_check(const char *known_hosts, const char *host, int port, const void *blob,
    size_t len, int *line, struct cut_err *err);

#endif
