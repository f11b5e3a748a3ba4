/* safety/precond.h: checks that refuse a dangerous step, each from the instance
 * through the agent, each failing with one sentence saying why and what
 * to do:
 *  - mpc_sync only when GLOBAL_MPSERVER answers (it deletes every MPBatch,
 *    and MPTran with them, when the server cannot be reached);
 *  - restore and user conversion only with enough free disk and only when
 *    the instance's database is the new one, not the live one.
 */
#ifndef CUTOVER_PRECOND_H
#define CUTOVER_PRECOND_H

#include <stdint.h>

#include "remote/agent_ops.h"
#include "base/err.h"

#define PRECOND_MPC_PROBE "mpci-ranks"

/* GETs GLOBAL_MPSERVER/probe_path from the instance (NULL: PRECOND_MPC_PROBE,
 * one of the lists mpc_sync itself pulls); passes on a 2xx answer that
 * holds data (not empty, not [] or {}). Over https only TCP can be proved
 * (the agent has no TLS): that passes, and *tcp_only says so. */
int precond_mpserver(struct alink *l, const struct aop_conf *c, const char *probe_path,
    int *tcp_only, struct cut_err *err);

/* Free space at path on the instance at least min_bytes. */
int precond_disk(struct alink *l, const char *path, uint64_t min_bytes, struct cut_err *err);

/* 1 when a and b name the same database server (host compared without
 * case or a trailing dot, port defaulting to 5432). */
int precond_same_server(const struct aop_dbenv *a, const struct aop_dbenv *b);

/* Refuses when the database the instance behind l uses is the live one.
 * *target gets what the instance uses. */
int precond_target_db(struct alink *l, const struct aop_conf *c, const struct aop_dbenv *live,
    struct aop_dbenv *target, struct cut_err *err);

#endif
