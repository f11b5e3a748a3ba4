/* runbook/lease.h: one cutover at a time across machines.
 *
 * The state folder's flock only keeps two runs on ONE machine apart; two
 * operators on two laptops would both change the world, each journalling the
 * other's changes as "previous" values. So every command that changes the
 * world holds a lease in AWS from after its preflight to its end: the TXT
 * record "_cutover-lock.<zone>" (world/ops.h), created atomically, holding
 *   cutover-lease id=<journal id> user=<user> host=<host> dir=<folder tag>
 *   cmd=<command> at=<UTC time>
 * (one line; the folder tag is a hash of the state folder's real path).
 * Route 53 records never expire, so a lease left by a dead run stays until a
 * run of the SAME cutover from the same state folder on the same machine
 * takes it over (that folder's flock proves the dead run gone), or an
 * operator breaks it with --break-lease naming the holder's cutover id. */
#ifndef CUTOVER_RUNBOOK_LEASE_H
#define CUTOVER_RUNBOOK_LEASE_H

#include <stddef.h>

#include "base/err.h"
#include "runbook/step.h"

/* Takes the lease for `cmd` into ctx->lease. CUT_ESTATE, naming the holder
 * (cutover id, command, user, host, time) and the flag that breaks it, when
 * another cutover holds it and ctx->opts.break_lease does not name it. */
int lease_take(struct run_ctx *ctx, const char *cmd, struct cut_err *err);

/* Releases ctx->lease if held (a DELETE of exactly that value, so a lease
 * broken and taken by someone else is left to them); a failure is said on
 * ctx->out with what to do, and is not an error of the run. */
void lease_drop(struct run_ctx *ctx);

/* Who holds the lease string `value`, in words, into out: "cutover ID
 * (`cutover run` by USER on HOST since TIME)". Writes the holder's cutover
 * id (what --break-lease takes) into id, or the whole value when it is not
 * one cutover wrote. */
void lease_holder(const char *value, char *out, size_t len, char *id, size_t idlen);

#endif
