/* cli/safety_ssh.h: the SSH way of cli/safety_links.h: configuration -> the live or
 * new environment (read from DNS, world/live_names.h) or the one named -> one
 * agent link per instance, through the one owner of instance connections
 * (world/reach.h: Instance Connect key, port 22 if configured, the
 * connections). It stays open while the links are used and is ended by
 * safety_ssh_close, which closes the connections and revokes what it opened. */
#ifndef CUTOVER_SAFETY_SSH_H
#define CUTOVER_SAFETY_SSH_H

#include "cli/safety_links.h"

/* Fills t->links/t->n (copies of the reach's links: the caller frees the
 * array, never closes them) and t->conf (the env file and, in the
 * simulation's relative layout, the cron state folder) and t->ssh (the
 * session, owned: safety_ssh_close frees it). */
int safety_ssh_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err);
/* Ends the session t->ssh: the connections of links (t->links, carried
 * over to the reach's own), port 22, the key. NULL is fine. */
void safety_ssh_close(void *session, struct alink *links);

#endif
