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
 * manage_run's "never twice" contract: the command runs on the instance
 * with the lowest id through a small wrapper stored in the agent's private
 * folder (~/.cache/cutover/once/, 0700): it takes a lock named after the
 * token (mkdir, atomic), starts manage.py in its own session (so losing the
 * connection does not kill it) writing its output and exit status next to
 * the lock, and waits for that status. A second call with the same token
 * finds the lock and only waits for, then returns, the first one's result.
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

/* The wrapper script manage_run stores on the instance (for the tests). */
extern const char world_real_once_sh[];

#endif
