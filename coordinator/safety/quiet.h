/* safety/quiet.h: waiting for the live site to go quiet before the snapshot.
 *
 * Maintenance mode still runs every view for ordinary users (only the
 * response is swapped), so writes go on until people give up. The agent on
 * each live instance follows the nginx access log (op "logcount") and
 * reports real requests per interval, health checks left out; the site is
 * quiet when every instance has reported none for the quiet period. After
 * the deadline the operator is asked; with --yes the wait stops and says why.
 */
#ifndef CUTOVER_QUIET_H
#define CUTOVER_QUIET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "remote/agent_ops.h"
#include "base/err.h"

struct quiet_host {
	const char *name;
	uint64_t requests_last;     /* real requests in the last interval */
	double per_minute;          /* over the last minute of intervals */
	uint64_t quiet_ms;          /* how long this instance has been quiet */
	uint64_t total, excluded;   /* since the wait began */
	int reporting;              /* at least one interval reported */
};

struct quiet_status {
	const struct quiet_host *hosts;
	size_t n;
	uint64_t elapsed_ms;
	uint64_t quiet_ms;          /* the least quiet instance's quiet time */
};

enum quiet_answer { QUIET_WAIT = 0, QUIET_GO = 1, QUIET_STOP = 2 };

struct quiet_opts {
	uint64_t quiet_ms;           /* 0: 60 s */
	uint64_t deadline_ms;        /* 0: 15 min */
	struct aop_logcount_opts log;  /* paths, excluded user agents, interval */
	int yes;                     /* at the deadline: stop (never go on) instead of asking */
	/* Called after every interval report (serialised). May be NULL. */
	void (*progress)(void *arg, const struct quiet_status *st);
	/* At the deadline without yes: wait another deadline_ms, go on as if
	 * quiet, or stop. NULL: stop. */
	enum quiet_answer (*ask)(void *arg, const struct quiet_status *st);
	void *arg;
	volatile sig_atomic_t *cancel;   /* Ctrl-C; may be NULL */
};

/* Waits on every link (one thread each). 0: quiet (or the operator said
 * go on); CUT_ETIMEOUT: deadline passed with yes; CUT_ECANCEL: operator
 * stopped or cancel set; other CUT_E*: an instance could not be followed
 * (a wait that cannot see every instance never reports quiet). */
int quiet_wait(struct alink *links, size_t n, const struct quiet_opts *o, struct cut_err *err);

/* A running count for callers that poll ("requests since I last asked",
 * the runbook engine's request_rate): one follow per link in the
 * background until qrate_stop(). *out is the caller's: qrate_stop frees it. */
struct qrate;
int qrate_start(struct alink *links, size_t n, const struct aop_logcount_opts *o,
    struct qrate **out, struct cut_err *err);
/* Real requests reported on all links since the previous take (or the
 * start), and the time that covers. An instance whose follow failed makes
 * this fail (a count that cannot see every instance is not a count). */
int qrate_take(struct qrate *q, uint64_t *requests, uint64_t *interval_ms, struct cut_err *err);
/* Cancels every follow, joins, frees. NULL is fine. */
void qrate_stop(struct qrate *q);

#endif
