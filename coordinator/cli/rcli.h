/* cli/rcli.h: what `cutover exec` and `cutover manage` share: the TARGETS
 * options, and running one request on the targets with the output rules of
 * the command line (one host: byte-for-byte passthrough and the remote exit
 * status; several hosts: host-prefixed lines and a summary table; --json:
 * one JSON object per event). cli/cmd_exec.c and cli/cmd_manage.c stay thin.
 *
 * JSON events (one object per line, on stdout):
 *   {"host":H,"event":"output","stream":"stdout"|"stderr","data":STR}
 *       data holds the chunk as text when it is valid UTF-8; otherwise the
 *       key is "data_base64" and holds the raw bytes in base64. Chunks are
 *       cut where the agent read them (at most what the program's pipe holds,
 *       256 KiB), not at lines.
 *   {"host":H,"event":"exit","status":N|null,"signal":N|null,
 *    "duration_ms":N,"timed_out":BOOL,"error":STR|null}
 *   {"host":H,"event":"failed","code":NAME,"message":STR}   the tool's failure
 */
#ifndef CUTOVER_RCLI_H
#define CUTOVER_RCLI_H

#include "cli/cmd.h"
#include "remote/rexec.h"

#define RCLI_EXIT_TOOL 255     /* connection, authentication, host key, protocol */
#define RCLI_EXIT_TIMEOUT 124  /* --timeout passed (like timeout(1)) */
#define RCLI_EXIT_NOSTART 127  /* the program could not be started (like a shell) */
#define RCLI_EXIT_INTERRUPTED 130 /* Ctrl-C: the remote command was cancelled */

/* Parsed command line of exec/manage. Strings point into argv. */
struct rcli_opts {
	const char **hosts;          /* --host values (array owned by this struct) */
	size_t nhosts;
	const char *user, *identity, *known_hosts;
	int accept_new, sudo, json, parallel;
	int connect_timeout_ms;      /* 0: remote/ssh.h's default */
	int64_t timeout_ms;
	const char *app_dir, *env_file, *python;   /* manage only */
	const char *env;             /* --env NAME: the instances of that EB environment */
	const char *config;          /* -c FILE, with --env */
	int open_port;               /* --open-port 1, --no-open-port 0, else -1 (the config's) */
	char **rest;                 /* after "--" */
	int nrest;
};

/* The getopt tables of exec and manage (manage's adds --app-dir, --env-file
 * and --python); their cmd_entry points at them. */
extern const struct option rcli_exec_longopts[], rcli_manage_longopts[];
#define RCLI_SHORTOPTS "c:"

/* Parses argv (argv[0] is the command name). manage: accept --app-dir,
 * --env-file, --python. Returns 0, 1 when --help was printed, or 2 after a
 * usage error was printed. Free with rcli_opts_free(). */
int rcli_parse(const struct cmd_entry *e, int manage, int argc, char **argv, struct rcli_opts *o);
void rcli_opts_free(struct rcli_opts *o);

/* Runs req on every --host (or every instance of --env, found and reached
 * as the configuration file says: world/reach.h) and prints by the rules above;
 * returns the process exit status. With --env, port 22 opened for the
 * session is revoked before returning, whatever happened (Ctrl-C too; after
 * kill -9 the next command revokes it: world/rules.h). */
int rcli_run(const struct cmd_entry *e, const struct rcli_opts *o, const struct rexec_request *req);

/* Splits "[USER@]HOST[:PORT]" (IPv6 as [ADDR]:PORT) into the caller's
 * buffers. Returns 0 or CUT_EINVAL with a sentence. */
int rcli_split_host(const char *spec, char *user, size_t ulen, char *host, size_t hlen, int *port,
    struct cut_err *err);

/* 1 when buf[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int rcli_utf8_valid(const unsigned char *buf, size_t len);

#endif
