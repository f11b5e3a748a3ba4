/* aws/wait.h: waiting for AWS resources, adaptively and within a call budget.
 *
 * botocore's waiters (the AWS CLI's `aws ... wait`) poll every 20 s (EB) or
 * 30 s (RDS, Route 53): on average they notice readiness 10-15 s late, and
 * during a cutover that lag is downtime. These waiters poll on a schedule
 * (wait_sched_*, base/wait_sched.h) that notices sooner while never making more than 12 calls
 * in any 60 s window per waiter:
 *
 *   1. probes at 0, 1, 2 and 4 s: quick transitions (no-op updates, INSYNC
 *      within seconds) are seen at once;
 *   2. with a predicted completion time T (from PercentProgress, which
 *      snapshots report, extrapolated linearly; else the caller's
 *      expected_s, e.g. how long the same update took on the other
 *      environment, known to a few seconds): one poll every 10 s while far
 *      from T (unless that would leave the dense phase short of budget),
 *      silence for the last 10 s before it, then one poll a second from T-3
 *      to T+5; if T passes without success, T is
 *      forgotten. A vague expected_s (+-10%) does worse than none: pass it
 *      only when it is that precise;
 *   3. with no prediction: one poll every 7 s in the first minute (the early
 *      probes used a third of its budget), then every 5 s (the steady rate);
 *   4. always: at least 1 s apart, and never a 13th call inside 60 s (the
 *      next poll is pushed until the oldest of the last 12 leaves the window).
 *
 * Why a hint matters: with at most 12 calls in any 60 s and no information
 * about when readiness comes, a poll lands within x seconds after the
 * moment of readiness for at most 12 x of every 60 s of possible moments,
 * so P(lag < x) <= x / 5 s whatever the schedule, and no schedule can have
 * a median lag under 2.5 s (step 3 gets about 2.6 s). The 2 s goal is met
 * only with a prediction: PercentProgress, or the engine's learned duration
 * of the same change on the twin environment (engine_poll_kind), which
 * tests/bench/bench_waiters measures beside the bound.
 *
 * Success and failure states are botocore's (waiters-2.json) plus the
 * obvious ones botocore lacks (an environment that starts terminating while
 * we wait for Ready fails at once instead of spinning to the deadline).
 */
#ifndef CUTOVER_WAIT_H
#define CUTOVER_WAIT_H

#include <signal.h>
#include <stddef.h>

#include "aws/client.h"
#include "aws/eb.h"
#include "aws/rds.h"
#include "base/wait_sched.h"

/* ---- waiters ------------------------------------------------------------------ */

struct wait_progress {
	const char *what;        /* "environment cobalt-production-blue" */
	const char *status;      /* current AWS status ("Updating", "creating", "PENDING") */
	int percent;             /* 0-100 when AWS reports it, else -1 */
	double elapsed_s;
	unsigned long calls;
};

/* Called after every poll; return non-zero to stop waiting (CUT_ECANCEL). */
typedef int (*wait_progress_fn)(void *user, const struct wait_progress *p);

struct wait_opts {
	double deadline_s;               /* give up after this long; 0 = the waiter's default */
	double expected_s;               /* predicted duration, 0 = unknown */
	wait_progress_fn progress;       /* may be NULL */
	void *user;
	const volatile sig_atomic_t *cancel; /* set by a signal handler: stop (CUT_ECANCEL) */
	/* Filled on return (may be NULL): */
	unsigned long *calls_out;
	double *elapsed_out;
};

/* Elastic Beanstalk environment Ready (after UpdateEnvironment or
 * CreateEnvironment). If request_id is given, the update's events are
 * checked once Ready: a failed or reverted update fails the wait. Default
 * deadline 30 min. */
int wait_env_ready(struct aws_client *c, const char *application, const char *env_name,
    const char *request_id, const struct wait_opts *o, struct eb_env *out, struct cut_err *err);
/* Environment Terminated (or gone). Default deadline 30 min. */
int wait_env_terminated(struct aws_client *c, const char *application, const char *env_name,
    const struct wait_opts *o, struct cut_err *err);
/* DB snapshot available. Default deadline 2 h. */
int wait_snapshot_available(struct aws_client *c, const char *snapshot_id,
    const struct wait_opts *o, struct rds_snapshot *out, struct cut_err *err);
/* DB instance available. Default deadline 2 h. */
int wait_db_available(struct aws_client *c, const char *instance_id,
    const struct wait_opts *o, struct rds_instance *out, struct cut_err *err);
/* DB instance deleted (DBInstanceNotFound). Default deadline 1 h. */
int wait_db_deleted(struct aws_client *c, const char *instance_id,
    const struct wait_opts *o, struct cut_err *err);
/* Route 53 change INSYNC. Default deadline 30 min. */
int wait_change_insync(struct aws_client *c, const char *change_id,
    const struct wait_opts *o, struct cut_err *err);

#endif
