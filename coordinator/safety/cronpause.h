/* safety/cronpause.h: pausing cron on the live instances before the snapshot and
 * restoring it exactly on fail-back.
 *
 * Cron jobs bypass maintenance mode (they do not pass through Django's
 * middleware), so a snapshot taken while they run loses their writes. The
 * agent keeps its own saved copy on the instance; the coordinator also
 * keeps one locally (dir/crontab.NAME.json, 0600, fsync'd), so either can
 * bring it back even if the instance's copy is gone.
 */
#ifndef CUTOVER_CRONPAUSE_H
#define CUTOVER_CRONPAUSE_H

#include "remote/agent_ops.h"
#include "base/err.h"

/* Saves and empties the crontab on the instance behind l and writes the
 * local copy under dir. Pausing twice keeps the first saved crontab.
 * saved (may be NULL) gets what was saved; free with aop_crontab_free. */
int cronp_pause(struct alink *l, const struct aop_conf *c, const char *dir,
    struct aop_crontab *saved, struct cut_err *err);

/* Restores the crontab from the local copy under dir (or, when there is
 * none, from the agent's own copy) and checks `crontab -l` shows exactly
 * it. */
int cronp_restore(struct alink *l, const struct aop_conf *c, const char *dir,
    struct cut_err *err);

/* *paused = 1 when the instance's crontab is the one cronp_pause installed. */
int cronp_is_paused(struct alink *l, const struct aop_conf *c, int *paused, struct cut_err *err);

/* The local copy's path for link l into buf. */
const char *cronp_local_path(const struct alink *l, const struct aop_conf *c, const char *dir,
    char *buf, size_t len);

#endif
