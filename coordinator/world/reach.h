/* world/reach.h: the one owner of the connections to instances. Every
 * command that reaches an Elastic Beanstalk environment's instances goes
 * through it: the runbook (world/real.c), `exec`/`manage --env`
 * (cli/rcli.c) and the data-safety commands (cli/safety_ssh.c).
 *
 * It owns, for the life of the command:
 *   - instance discovery (world/fleet.h: EB resources -> running EC2
 *     instances, sorted by id, so "one instance" is the same one on a rerun),
 *     refreshed when it is REACH_FRESH_S old, when the environment was
 *     changed through the world (reach_forget) and after a failed operation,
 *     connections to instances that left dropped;
 *   - the key: the configured one, or an Instance Connect key in a private
 *     temp folder, pushed right before every connection (a pushed key works
 *     for 60 s);
 *   - port 22 to the operator's /32 on the instances' security groups when
 *     [ssh] open_port (or the command's --open-port) says so, through
 *     world/rules.h: recorded before it is opened, counted, revoked when the
 *     last user is done, and swept after a run that died;
 *   - the connection cache (remote/link_cache.h): one agent connection per
 *     instance, opened on first use and reused.
 *
 * reach_close ends it all: connections, rules, keys. A signal only sets a
 * flag (base/sig.h); callers return through their cleanup and call it.
 * Nothing of it is global; not thread-safe (one caller at a time).
 */
#ifndef CUTOVER_REACH_H
#define CUTOVER_REACH_H

#include <stddef.h>

#include "aws/client.h"
#include "base/err.h"
#include "remote/agent_link.h"
#include "remote/rexec.h"
#include "world/config.h"
#include "world/fleet.h"

struct reach;

/* cfg and aws are borrowed and must outlive the reach. open_port: 1 or 0
 * overrides cfg's [ssh] open_port, -1 keeps it. Sweeps the rules a dead
 * run left open (world/rules.h). */
int reach_open(const struct cfg *cfg, struct aws_client *aws, int open_port, struct reach **out,
    struct cut_err *err);

/* Closes every connection, revokes the rules, removes the keys, frees.
 * Returns the first failure (a rule that could not be revoked, named with
 * the command that removes it). NULL is fine. */
int reach_close(struct reach *r, struct cut_err *err);

/* env's session with its instances as they are now (session started on
 * first use). *out is the reach's, valid until the next call for env.
 * Two AWS calls find the instances; within REACH_FRESH_S of that, with no
 * reach_forget in between, the same instances are used again: a run's
 * window makes dozens of operations on the same environments within
 * seconds (each steps' check, record and apply), and EB replaces an
 * instance in minutes, not seconds. */
#define REACH_FRESH_S 15.0
int reach_env(struct reach *r, const char *env, const struct fleet **out, struct cut_err *err);

/* The instances of env (NULL: of every environment) are found again on
 * next use: called when an update, launch or termination was sent to it. */
void reach_forget(struct reach *r, const char *env);

/* One operation on one instance over its cached connection (c and l are
 * the same connection, borrowed for the call). */
typedef int (*reach_fn)(void *arg, const struct fleet_host *h, struct rexec_conn *c, struct alink *l,
    struct cut_err *err);

/* fn on every instance of env (all) or on the one with the lowest id;
 * stops at the first failure. */
int reach_run(struct reach *r, const char *env, int all, reach_fn fn, void *arg, struct cut_err *err);

/* The cached connections of every instance of env, for a caller that holds
 * them across calls (a log follow on its own threads): (*links)[i] stay
 * the cache's, valid until the next reach_* call; *links is the caller's
 * array (free). */
int reach_links(struct reach *r, const char *env, struct alink ***links, size_t *n, struct cut_err *err);

/* rexec targets of every instance of env, keys pushed just now, for a
 * caller that runs its own connections (exec/manage: rexec_many). *hosts is
 * the caller's (free); its strings are the reach's. */
int reach_targets(struct reach *r, const char *env, struct rexec_host **hosts, size_t *n,
    struct cut_err *err);

/* Without connecting (status promises no side effect): env's running
 * instances and whether each is reachable over the configured transport
 * (fleet_reach: SSM's PingStatus, or "ssh", not probed). *out is the
 * caller's (free); CUT_ESTATE when env has no running instance. */
struct reach_probe {
	char id[32];
	char addr[64];
	char status[32];
};
int reach_probe(const struct cfg *cfg, struct aws_client *aws, const char *env, struct reach_probe **out,
    size_t *n, struct cut_err *err);

#endif
