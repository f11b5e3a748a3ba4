/* world/real.h: the real world_ops (world/ops.h): AWS through the aws
 * modules (eb, rds, r53, sts), the instances through world/fleet.h and remote/rexec.h,
 * and the data-safety operations through the agent (remote/agent_ops.h, safety/blocked_emails.h).
 *
 * Every remote operation is one short session: find the environment's
 * instances, start a fleet session (Instance Connect key, port 22 if
 * configured), connect, run, disconnect, end the session (revoking what it
 * opened). Nothing stays open between calls, so a crash of the coordinator
 * leaves no connection behind and at most one session's port-22 rule.
 *
 * manage_run with a token is the agent's "once" operation
 * (proto/PROTOCOL.md): the marker is a row of cutover_once in the
 * environment's own database, so every instance and every operator sees it.
 */
#ifndef CUTOVER_WORLD_REAL_H
#define CUTOVER_WORLD_REAL_H

#include "world/config.h"
#include "base/err.h"
#include "runbook/step.h"
#include "world/ops.h"

/* Builds the real world_ops for cfg (copied) and fills names from cfg
 * and the live world (world/live_names.h). *out is the caller's: out->close(out)
 * releases it. */
int world_real_open(const struct cfg *cfg, struct run_names *names, struct world_ops **out,
    struct cut_err *err);

#endif
