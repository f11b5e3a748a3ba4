/* base/sig.h: the one signal policy of the process, the same for every
 * command (cli/main.c installs it before dispatching).
 *
 *   SIGINT, SIGTERM, SIGHUP  the first sets a flag that the loops read
 *                            (sig_stopped, sig_flag) and that makes them
 *                            return through their cleanup paths, which close
 *                            what the command opened (port 22, the Instance
 *                            Connect key, agent sessions); a second one
 *                            stops at once (exit 130): what the process had
 *                            opened is in the ledger of world/reach.h and
 *                            the next command closes it.
 *   SIGPIPE                  ignored: a closed output pipe (`cutover run |
 *                            tee` and tee dies) is an EPIPE write error that
 *                            main reports, never a death in the middle of a
 *                            step with port 22 open.
 * SIGHUP is a stop like Ctrl-C because the operator's terminal or bastion
 * session dropping must not leave the world half-changed either.
 */
#ifndef CUTOVER_SIG_H
#define CUTOVER_SIG_H

#include <signal.h>

/* Installs the policy above (idempotent). */
void sig_install(void);

/* 1 once a stop signal arrived. */
int sig_stopped(void);

/* The flag itself, for loops that take a cancel pointer (remote/rexec.h,
 * safety/quiet.h). */
volatile sig_atomic_t *sig_flag(void);

/* Sets or clears the flag as a signal would (tests; a command that handled
 * the stop and goes on). */
void sig_set(int on);

#endif
