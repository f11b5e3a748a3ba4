/* world/real.h: the real world_ops (world/ops.h): AWS through the aws
 * modules (eb, rds, r53, sts) in world/real.c; the instances through the one
 * owner of instance connections (world/reach.h) in world/real_remote.c and
 * world/real_manage.c (private header world/real_int.h).
 *
 * Connections live as long as the world: the reach opens one agent
 * connection per instance on first use and reuses it (remote/link_cache.h);
 * the world's close ends them, revokes port 22 and removes the Instance
 * Connect key. A crash leaves no connection (the agents end with their SSH
 * session) and the port-22 rules recorded for the next command to close
 * (world/rules.h).
 *
 * manage_run with a token is the agent's "once" operation
 * (proto/PROTOCOL.md): the marker is a row of cutover_once in the
 * environment's own database, so every instance and every operator sees it.
 */
#ifndef CUTOVER_WORLD_REAL_H
#define CUTOVER_WORLD_REAL_H

#include "world/config.h"
#include "base/err.h"
#include "world/ops.h"

/* Builds the real world_ops for cfg (copied) and fills names from cfg
 * and the live world (world/live_names.h). *out is the caller's: out->close(out)
 * releases it. */
int world_real_open(const struct cfg *cfg, struct run_names *names, struct world_ops **out,
    struct cut_err *err);

#endif
