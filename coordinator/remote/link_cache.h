/* remote/link_cache.h: one agent connection per instance for the life of a command.
 *
 * Opening a connection costs an SSH handshake, the agent check and its
 * hello (and, with EC2 Instance Connect, a SendSSHPublicKey call); a
 * cutover makes hundreds of small remote requests (every quiet poll, cron,
 * SQL, smoke tests). The cache opens the connection to a host on its first
 * use and hands the same one to every later operation, keyed by
 * host + port + user. It belongs to its owner (world/reach.c, the one owner
 * of instance connections):
 * no global state, closed with lcache_free() when the command ends.
 *
 * The rules that keep reuse safe:
 *   - Before an operation the link is probed (one small idempotent request,
 *     "df /", answered within LCACHE_PROBE_MS). A link found dead (agent
 *     killed, connection dropped, earlier failure) is closed and opened
 *     again ONCE, calling the host's prepare function first: with Instance
 *     Connect that pushes a fresh key, since a pushed key works for 60 s
 *     only. If that fails too, the operation fails and is not sent.
 *   - An operation is handed to the connection exactly once. If the link
 *     fails while it runs (its request was sent and the result lost), the
 *     operation is reported as failed with its outcome unknown and is never
 *     sent again; the next operation gets a new connection.
 *   - Hosts that left their group (an environment scaled down, an instance
 *     replaced) are dropped with lcache_prune(); another instance id at the
 *     same address is another machine and gets its own connection.
 *
 * Not thread-safe: one thread uses a cache at a time (the runbook engine
 * is sequential). A connection handed to fn belongs to fn for the call.
 */
#ifndef CUTOVER_LCACHE_H
#define CUTOVER_LCACHE_H

#include <stddef.h>

#include "remote/agent_link.h"
#include "base/err.h"
#include "remote/rexec.h"

#define LCACHE_PROBE_MS 5000

struct lcache;

struct lcache_host {
	struct rexec_target target;   /* borrowed for the call; host, port, user are the key */
	const char *group;            /* the environment it belongs to (lcache_prune), or NULL */
	const char *tag;              /* the instance id; a different one at the same key is
	                               * another machine; NULL: any */
	/* Called before every connection attempt to this host (first and
	 * reopened), e.g. SendSSHPublicKey; NULL: none. */
	int (*prepare)(void *arg, struct cut_err *err);
	void *prepare_arg;
};

/* One operation on one host: c and l are the same connection (l for the
 * data-safety requests, c for rexec_run), borrowed for the call only. */
typedef int (*lcache_fn)(void *arg, struct rexec_conn *c, struct alink *l, struct cut_err *err);

struct lcache_stats {
	unsigned long connects;       /* connections opened (first use and reopened) */
	unsigned long reopened;       /* of which replaced a dead cached one */
	unsigned long reused;         /* operations that ran on a cached connection */
	unsigned long lost;           /* operations whose link failed while they ran */
	unsigned long dropped;        /* connections closed by lcache_prune/lcache_drop */
	size_t open;                  /* connections open now */
};

/* reuse = 0 gives the old behaviour (a connection per operation, closed
 * after it), kept as the benchmark's baseline. *out is the caller's, freed
 * with lcache_free(). */
int lcache_new(struct lcache **out, int reuse, struct cut_err *err);

/* Closes every connection (bye to each agent) and frees. NULL is fine. */
void lcache_free(struct lcache *lc);

/* Runs fn once on h's connection, opening or reopening it as above.
 * Returns fn's result, or the failure to connect (fn not called). */
int lcache_run(struct lcache *lc, const struct lcache_host *h, lcache_fn fn, void *arg,
    struct cut_err *err);

/* The connection of h (probed, opened or reopened as for lcache_run)
 * without running anything: for a caller that holds it across calls (a log
 * follow running on its own thread). *c and *l stay the cache's; they are
 * valid until the next lcache_run/lcache_get for the same host,
 * lcache_prune, lcache_drop or lcache_free. */
int lcache_get(struct lcache *lc, const struct lcache_host *h, struct rexec_conn **c, struct alink **l,
    struct cut_err *err);

/* Opens side by side (one thread each, at most LCACHE_OPEN_THREADS at a
 * time) the connections of hs[0..n) that are not open yet: a command that
 * is about to use every instance of an environment pays one handshake's
 * time instead of n. Each host's prepare runs first, one after another on
 * the calling thread (it may call AWS, whose client is not shared between
 * threads). A host that fails is left closed: its own lcache_run or
 * lcache_get tries again and says why. Does nothing without reuse. Returns
 * how many connections were opened. */
#define LCACHE_OPEN_THREADS 8
size_t lcache_open_all(struct lcache *lc, const struct lcache_host *hs, size_t n);

/* Closes the connections of `group` whose host is not in keep[0..n) (by
 * key and tag). Returns how many were closed. */
size_t lcache_prune(struct lcache *lc, const char *group, const struct lcache_host *keep, size_t n);

/* Closes every connection of group (NULL: all). Returns how many. */
size_t lcache_drop(struct lcache *lc, const char *group);

void lcache_get_stats(const struct lcache *lc, struct lcache_stats *out);

#endif
