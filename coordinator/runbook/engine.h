/* runbook/engine.h: runs a runbook (a list of step entries) against the world.
 *
 * engine_run: preflight, then each step in order with the journal deciding
 * what is already done: a rerun skips done steps, re-checks a step that was
 * started but not recorded done (check() reads the world) and never applies
 * a STEP_F_ONCE step twice. Irreversible steps ask for confirmation on a
 * terminal unless --yes, and refuse when stdin is not a terminal. --until
 * stops after a step; --dry-run only describes. Ctrl-C lets the current
 * call finish, records where it stood and says how to resume.
 *
 * Test hook (TEST-ONLY, inert unless the variable is set):
 * CUTOVER_TEST_CRASH_AT=<step>:<point> (read by the commands into
 * ctx->crash_at) makes the process raise SIGKILL on itself at that point, a
 * real kill -9 (no atexit, no flush; exit status 137), after one raw line
 * "cutover: test hook: SIGKILL at <step>:<point>" on stderr. The points are
 * every boundary between the step's journal records, in order:
 *   before    step-begin journalled, nothing checked or changed
 *   recorded  step-record journalled, apply() not called (steps with record())
 *   apply     apply() returned (the change is made) but is NOT journalled yet
 *   applied   step-applied journalled (also when a rerun finds the change made
 *             by a run that died at `apply` and journals it then)
 *   wait      the step's first wait: wait-begin journalled and ONE poll made
 *             (the resource is typically still changing); wait2, wait3...
 *             the same in its second, third... wait (e.g. point-new waits
 *             for two environments)
 *   waited    that wait's wait-end journalled (waited2...: of the 2nd...)
 *   done      step-done (or step-skipped) journalled; a downtime-end is
 *             still to come (a rerun writes it when missing)
 */
#ifndef CUTOVER_ENGINE_H
#define CUTOVER_ENGINE_H

#include "base/err.h"
#include "runbook/step.h"

struct runbook;

/* Runs rb. ctx->journal must be open with journal_open (locked), except for
 * a dry run, where it may be read-only or NULL. Returns 0 when every step is
 * done or --until was reached, CUT_ECANCEL when stopped by Ctrl-C or a
 * refused confirmation, else the failing step's code; err says what to do. */
int engine_run(struct run_ctx *ctx, const struct runbook *rb, struct cut_err *err);

/* `cutover plan`: every step of rb with what it would change and whether it
 * is already done (journal, then check()). Changes nothing. */
int engine_plan(struct run_ctx *ctx, const struct runbook *rb, struct cut_err *err);

/* `cutover status`, the journal's part: the command in progress or last run
 * (the journal's latest run-begin), each of its steps with its state, and the
 * next command to run (as `cutover CMD -c config --state DIR`), as "status"
 * and "next" events. Without a journal (ctx->journal NULL): nothing has
 * started, the next command is prep. Changes nothing. */
void engine_status(struct run_ctx *ctx, const char *config);

/* Polls fn (see step_poll_fn) until done, with progress, deadline, Ctrl-C
 * and the "wait" crash point; journals wait-begin/wait-end.
 *
 * When (poll) are made: with ctx->opts.poll_adaptive, on the schedule of
 * aws/wait.h (wait_sched_*: early probes, then one poll a second around a
 * predicted completion, never more than 12 calls in 60 s); otherwise every
 * ctx->opts.poll_ms (CUTOVER_POLL_MS, tests). The prediction comes from the
 * percent fn reports (snapshots' PercentProgress), else, for a wait of a
 * `kind`, from the earlier waits of that kind in this cutover's journal:
 *
 *   A wait of a kind writes kv {"wait_kind": kind} on its wait-begin (the
 *   report tells AWS transitions from the quiet wait by it).
 *   A successful wait of a kind, whose step was applied by this run, writes
 *   kv {"wait_kind": kind, "wait_s": D} on its wait-end, where D is how long
 *   after apply() the change finished: between the last poll that saw it
 *   pending and the one that saw it done, so the middle of the two (a wait
 *   done at its first poll tells nothing and writes nothing). The next wait
 *   of that kind expects to be done D after its own apply() (e.g. how long
 *   scale-live's update took predicts maint-on's). A resumed wait (applied
 *   by an earlier run) has no start to predict from and uses no prediction.
 */
#define ENGINE_WAIT_ENV_UPDATE "env-update"   /* UpdateEnvironment -> Ready */
#define ENGINE_WAIT_ENV_LAUNCH "env-launch"   /* CreateEnvironment -> Ready */
#define ENGINE_WAIT_DB_SNAPSHOT "db-snapshot" /* CreateDBSnapshot -> available */
#define ENGINE_WAIT_DB_RESTORE "db-restore"   /* RestoreDBInstanceFromDBSnapshot -> available */
#define ENGINE_WAIT_DNS "dns-change"          /* ChangeResourceRecordSets -> INSYNC */
#define ENGINE_WAIT_DB_REPLICA "db-replica"   /* CreateDBInstanceReadReplica -> replicating */
#define ENGINE_WAIT_DB_PROMOTE "db-promote"   /* PromoteReadReplica -> available, writable */
/* Not AWS: users going quiet. The report counts it apart from AWS waits. */
#define ENGINE_WAIT_QUIET "quiet"
int engine_poll(struct run_ctx *ctx, const char *what, step_poll_fn fn, void *arg,
    struct cut_err *err);
/* The same, learning and predicting waits of `kind` (NULL: engine_poll). */
int engine_poll_kind(struct run_ctx *ctx, const char *what, const char *kind, step_poll_fn fn,
    void *arg, struct cut_err *err);
/* How long the latest wait of `kind` recorded in the journal took (wait_s,
 * seconds), or 0 when none did. */
double engine_learned_s(struct run_ctx *ctx, const char *kind);
/* Now on ctx's clock (struct run_clock), in seconds. */
double engine_now(const struct run_ctx *ctx);

/* Asks the operator a yes/no question on the terminal (opts.confirm_fd).
 * Returns 1 only when they typed "yes"; 0 otherwise, including when there is
 * no terminal (callers decide what "no" means). */
int engine_ask(struct run_ctx *ctx, const char *question);

/* SIGINT/SIGTERM set a flag the engine checks between steps and polls. */
void engine_catch_signals(void);
int engine_interrupted(void);
/* Sets or clears the flag as a signal would (tests, and the commands after a run). */
void engine_set_interrupted(int on);

/* The crash-test hook; see above. Does nothing unless ctx->crash_at matches. */
void engine_crash_point(struct run_ctx *ctx, const char *step, const char *point);

/* Frees values step_put() left pending (the engine does this itself). */
void engine_clear_pending(struct run_ctx *ctx);

#endif
