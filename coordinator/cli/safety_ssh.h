/* cli/safety_ssh.h: the SSH way of cli/safety_links.h: configuration -> the live or
 * new environment (read from DNS, world/live_names.h) or the one named -> its
 * instances (world/fleet.h) -> one agent link per instance (rexec_alink). The
 * fleet session (Instance Connect key, port 22 if configured) stays open
 * while the links are used and is ended by safety_ssh_close, which revokes
 * what it opened. */
#ifndef CUTOVER_SAFETY_SSH_H
#define CUTOVER_SAFETY_SSH_H

#include "cli/safety_links.h"

/* Fills t->links/t->n and t->conf (the env file and, in the simulation's
 * relative layout, the cron state folder) and t->ssh (the session, owned:
 * safety_ssh_close frees it). */
int safety_ssh_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err);
/* Ends the session t->ssh (after the links were closed); NULL is fine. */
void safety_ssh_close(void *session);

#endif
