/* base/err.h: the one error convention of the coordinator.
 *
 * Every fallible core function returns 0 on success or a negative CUT_E*
 * code, and on failure fills the caller's struct cut_err with ONE sentence
 * that says what happened and what to do next ("Host key for 10.0.0.5:22
 * changed; if the instance was replaced, remove its line from
 * ~/.ssh/known_hosts and run again."). Callers check at once:
 *
 *     if ((r = ssh_connect(&s, &opts, err)) != 0)
 *             return r;
 *
 * The message never contains secrets (keys, passwords, secret env values).
 * A struct cut_err is plain data: no allocation, nothing to free.
 */
#ifndef CUTOVER_ERR_H
#define CUTOVER_ERR_H

#include <stddef.h>

enum cut_code {
	CUT_OK = 0,
	CUT_EINVAL = -1,    /* bad input from the user (flags, config, arguments) */
	CUT_ENOMEM = -2,
	CUT_EIO = -3,       /* local file or disk trouble */
	CUT_ENET = -4,      /* could not connect, connection dropped */
	CUT_EAUTH = -5,     /* authentication refused (SSH or AWS credentials) */
	CUT_EHOSTKEY = -6,  /* unknown or changed SSH host key */
	CUT_EPROTO = -7,    /* the peer broke the protocol (agent frames, HTTP, XML) */
	CUT_ETIMEOUT = -8,  /* a deadline passed */
	CUT_EAWS = -9,      /* AWS answered with an error */
	CUT_ECONFIG = -10,  /* the configuration file is wrong */
	CUT_ECANCEL = -11,  /* the operator interrupted (Ctrl-C) */
	CUT_ENOTFOUND = -12,/* a named resource does not exist */
	CUT_ESTATE = -13,   /* the world is not in a state that allows this */
	CUT_EREMOTE = -14,  /* a remote command failed (non-zero exit) */
};

struct cut_err {
	int code;            /* one of enum cut_code, 0 when no error */
	char msg[1024];      /* one sentence, NUL-terminated */
};

/* Sets err (if not NULL) and returns code, so callers can write
 * `return cut_err_set(err, CUT_EINVAL, "...", ...);`. */
int cut_err_set(struct cut_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context: "fmt: old message". */
int cut_err_wrap(struct cut_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void cut_err_clear(struct cut_err *err);

/* A short stable name for a code ("timeout", "host-key"), for --json output. */
const char *cut_err_name(int code);

#endif
