/* runbook/step.h: one runbook step, the context it runs in, and the helpers steps
 * share.
 *
 * Like tmux's command table, each step is a `const struct step_entry` in a
 * step_<family>.c file and the runbook (runbook/tables.c) is a table of them per
 * command. Plan, run, resume, fail-back and the report all read the same
 * entries. A step never touches the journal or the terminal directly: it
 * reads and writes "recorded values" (step_put/step_get) and the engine
 * journals them at the right moment.
 *
 * The engine drives a step like this (runbook/engine.c):
 *   describe -> (plan / dry run / confirmation text)
 *   check    -> STEP_DONE: skip; STEP_PENDING: already applied, only wait;
 *               STEP_TODO: go on
 *   record   -> capture what fail-back needs BEFORE anything changes
 *               (journalled and fsync'd before apply runs)
 *   apply    -> make the change (at most once for STEP_F_ONCE steps)
 *   wait     -> poll until the change has taken effect, with progress
 */
#ifndef CUTOVER_STEP_H
#define CUTOVER_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "world/ops.h"

struct journal;
struct progress;

enum step_phase {
	STEP_PHASE_PREP = 1,
	STEP_PHASE_RUN,
	STEP_PHASE_FAILBACK,
	STEP_PHASE_TIDY,
	STEP_PHASE_REHEARSE,
};

enum step_flag {
	STEP_F_DESTRUCTIVE = 1 << 0,   /* changes or removes something that matters */
	STEP_F_IRREVERSIBLE = 1 << 1,  /* needs confirmation unless --yes */
	STEP_F_ONCE = 1 << 2,          /* never applied twice (snapshot, restore, DNS, conversion) */
	STEP_F_DOWNTIME_BEGIN = 1 << 3,/* users lose the site once this is applied */
	STEP_F_DOWNTIME_END = 1 << 4,  /* users have the site back once this is done */
};

/* check() answers */
enum step_state {
	STEP_TODO = 0,
	STEP_DONE = 1,
	STEP_PENDING = 2,  /* the change was made; it has not taken effect yet */
};

/* struct run_names (the names of everything one cutover touches) is the
 * world port's (world/ops.h); runbook/names.h derives the cutover's own. */

/* One name (string) field of struct run_names, for pinning it in the
 * journal. The tuning numbers (quiet_*) are not pinned: the operator may
 * change them between runs. */
struct run_names_field {
	const char *key;
	size_t offset, size;
};
extern const struct run_names_field run_names_fields[];
extern const size_t run_names_nfields;

struct run_opts {
	int yes;                 /* --yes: no confirmation prompts */
	int dry_run;             /* --dry-run: describe, change nothing */
	const char *until;       /* --until STEP: stop after STEP (NULL: to the end) */
	int confirm_fd;          /* where confirmations are read from (normally 0) */
	unsigned poll_ms;        /* fixed delay between polls when !poll_adaptive (tests: 0) */
	int poll_adaptive;       /* 1: waits follow wait_sched (aws/wait.h), learning how long
				  * environment updates take; the commands set it unless
				  * CUTOVER_POLL_MS asks for a fixed interval (tests) */
	unsigned wait_timeout_s; /* deadline of one wait (default 3600) */
	const char *break_lease; /* --break-lease ID: take the lease from the holder
				  * with this cutover id (runbook/lease.h); NULL: never */
	const char *time_scale;  /* the simulated AWS runs its transitions at this fraction of
				  * their real durations (CUTOVER_TIME_SCALE, set by the
				  * benchmark and tests; NULL on AWS): journalled on
				  * run-begin so the report projects the real window */
};

/* A recorded value: what fail-back (or a later step) needs. */
struct step_kv {
	char *key, *value;
};

/* The clock waits run on: tests give a virtual one so that a schedule is
 * checked by counting calls instead of sleeping. NULL in run_ctx means
 * CLOCK_MONOTONIC and nanosleep. */
struct run_clock {
	double (*now)(void *arg);                 /* seconds, any origin */
	void (*sleep_until)(void *arg, double t); /* may return early (a signal) */
	void *arg;
};

struct run_ctx {
	struct journal *journal;
	struct progress *out;
	struct world_ops *world;
	struct run_names names;
	struct run_opts opts;
	const char *state_dir;   /* the state folder (journal, backups, reports) */
	const char *config_path; /* the configuration file as an absolute path, journalled on
				  * run-begin so the report names the commands to run next;
				  * NULL when there is none (tests) */
	char state_id[64];       /* id of this cutover, from the journal's first record */

	/* Engine-owned, valid while a step runs. */
	const struct step_entry *step;
	struct step_kv *pending; /* values put by the current step, not yet journalled */
	size_t npending, cappending;
	const char *crash_at;    /* test hook, see runbook/engine.h */
	unsigned nwaits;         /* waits the current step began in this process, so the
				  * crash hook can name the second one (engine-owned) */
	const struct run_clock *clock; /* NULL: the real clock (see struct run_clock) */
	double applied_at;       /* clock time the current step's apply() returned; 0 when
				  * it was applied by an earlier run (engine-owned) */
	char lease[WORLD_LEASE_MAX]; /* the lease string this run holds, "" when none
				  * (runbook/lease.c) */
	struct step_memo *memo;  /* what the current step read before changing anything
				  * (step_memo_get); engine-owned, emptied when a step
				  * begins, when its apply returns and before its wait */
	const char *planning;    /* the command `cutover plan` is showing ("run"), so
				  * preflight says what that command would refuse; NULL
				  * otherwise (engine-owned) */
};

struct step_entry {
	const char *name;        /* "snapshot": what --until and the journal use */
	enum step_phase phase;
	const char *summary;     /* one line: "take a snapshot of the live database" */
	int flags;               /* enum step_flag */
	const char *undone_by;   /* name of the fail-back step that reverts it, or NULL */

	/* What it will change, given the context, into buf (one or a few lines). */
	int (*describe)(struct run_ctx *ctx, char *buf, size_t len, struct cut_err *err);
	/* Is it already done? Reads the world (and recorded values). Returns
	 * enum step_state or a negative CUT_E*. */
	int (*check)(struct run_ctx *ctx, struct cut_err *err);
	/* Optional: step_put() what fail-back needs, before apply. */
	int (*record)(struct run_ctx *ctx, struct cut_err *err);
	int (*apply)(struct run_ctx *ctx, struct cut_err *err);
	/* Optional: until the change has taken effect (uses step_poll). */
	int (*wait)(struct run_ctx *ctx, struct cut_err *err);
	/* Optional: when a run skips the step as done (earlier run, or found
	 * done), says again what it left for the operator (from recorded
	 * values), so a resume after a crash does not hide it. */
	void (*remind)(struct run_ctx *ctx);
};

/* Adds (or replaces) a recorded value of the current step. The engine
 * journals it (after record, after apply, after wait). Keys that look like
 * secrets are refused (CUT_EINVAL). The strings are copied. */
int step_put(struct run_ctx *ctx, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A value recorded by `step` (any earlier run, or the current step's pending
 * values). Returns a pointer owned by the journal/context, valid until the
 * next step_put or journal append; NULL when not recorded. */
const char *step_get(struct run_ctx *ctx, const char *step, const char *key);

/* Records an rrset as keys "<prefix>.name", ".type", ".alias_zone",
 * ".alias_dns", ".ttl", ".value", and reads it back (CUT_ENOTFOUND if absent). */
int step_put_rrset(struct run_ctx *ctx, const char *prefix, const struct world_rrset *rr);
int step_get_rrset(struct run_ctx *ctx, const char *step, const char *prefix,
    struct world_rrset *rr);

/* One poll of a wait: fills status (AWS status word), *percent (leave -1
 * if none) and *rate (requests/s, leave -1 if none). Returns 1 when
 * finished, 0 to poll again, <0 on failure. */
typedef int (*step_poll_fn)(struct run_ctx *ctx, void *arg, char *status, size_t len,
    int *percent, double *rate, struct cut_err *err);


/* Helpers over the vtable used by several families. */
/* 1 if every var in `want` has that value (or, with value NULL, is absent). */
int step_env_vars_are(struct run_ctx *ctx, const char *env, const char *const *names,
    const char *const *values, size_t n, struct cut_err *err);
/* 1 if env exists and is Ready. */
int step_env_ready(struct run_ctx *ctx, const char *env, struct cut_err *err);

/* Environments one application may hold for step_db_user (Cobalt has ~10). */
#define STEP_MAX_ENVS 64

/* Does any environment of the application (other than the nskip names in
 * skip) use database db_id, i.e. is its RDS_HOSTNAME that database's
 * endpoint? Returns 1 with the first such environment's name in who, 0 when
 * none does (or the database is gone), CUT_E* on failure. Tidy asks this of
 * every environment, not only the pairs: a test or UAT environment pointed
 * at production must stop tidy from deleting its database. */
int step_db_user(struct run_ctx *ctx, const char *db_id, const char *const *skip, size_t nskip,
    char *who, size_t len, struct cut_err *err);

/* 1 when two DNS names are the same host: no case, final dot optional. */
int step_same_host(const char *a, const char *b);

/* Free space the new web environment's instances must have before the
 * restore and the user conversion: the steps after them (migrate, the
 * conversion, the blocked-email restore) write logs and temporary files
 * there, and running out half way leaves the new data half converted. */
#define STEP_MIN_FREE_BYTES ((uint64_t)1 << 30)

/* The precondition of the restore and the user conversion (issue 5): env's
 * instances do not use the live database (its endpoint, from RDS, compared
 * with what the instances' own settings say) and have STEP_MIN_FREE_BYTES
 * free. Changes nothing; 0 or CUT_E* with one sentence. */
int step_target_db_check(struct run_ctx *ctx, const char *env, struct cut_err *err);

/* 0 when env's RDS_HOSTNAME is db's endpoint; CUT_ESTATE with one sentence
 * (run the earlier steps first) when it is not, or db has no endpoint yet.
 * The steps that change data on a database check it first. */
int step_env_uses_db(struct run_ctx *ctx, const char *env, const char *db, struct cut_err *err);

/* 1 once point-new has (or may have) pointed the new environments at the
 * restored copy: from then on they write real data, and fail-back closes
 * them before it counts their activity. */
int step_new_side_used(struct run_ctx *ctx);

/* The step's memo: a read from AWS (a DNS record, an environment's CNAME,
 * a database's endpoint) that the step's check, describe, record and apply
 * would otherwise each make again within the same second. A value put
 * under key is found by step_memo_get (size bytes, copied) until the
 * engine empties the memo: when a step begins, as soon as its apply
 * returns and before its wait, so nothing read before a change is trusted
 * after it, and a resumed run reads everything afresh. step_memo_get returns
 * NULL when the key is not there; step_memo_put gives up quietly when out
 * of memory (the value is then read again). */
const void *step_memo_get(struct run_ctx *ctx, const char *key, size_t size);
void step_memo_put(struct run_ctx *ctx, const char *key, const void *data, size_t size);
void step_memo_clear(struct run_ctx *ctx);

/* Writes "<state_dir>/<file>" into buf. */
int step_state_path(struct run_ctx *ctx, const char *file, char *buf, size_t len,
    struct cut_err *err);

#endif
