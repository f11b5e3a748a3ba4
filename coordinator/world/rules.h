/* world/rules.h: the port-22 ingress rules cutover opens to the operator's
 * /32, part of the one owner of instance connections (world/reach.h).
 *
 * A rule must never outlive the command that needed it, whatever ends that
 * command (kill -9, a second Ctrl-C, a dropped terminal). So:
 *
 *   - Every rule is recorded in the ledger BEFORE it is opened (a file
 *     per rule, written and fsync'd), completed with its SecurityGroupRuleId
 *     once AWS answers, and removed only after it was revoked.
 *   - Each process is one owner: a token "<host>.<pid>.<random>" that the
 *     rule's description carries ("cutover session <token> ...") and an
 *     owner file it holds an flock on while it lives. An owner file nobody
 *     holds is a dead run's: rules_open and rules_sweep revoke its rules
 *     (by rule id; a record without one, by the rule whose description
 *     carries its token) and remove its records.
 *   - Within a process a rule is counted: two sessions on one security
 *     group (two environments sharing it) share it and the last release
 *     revokes it. Across processes of this user on this machine, the same
 *     rule (AWS allows one rule per group, port and address) is held by
 *     each owner's record; the last live holder revokes it, so an `exec
 *     --open-port` in a second terminal does not cut a `run` off.
 *   - A rule that was there before and whose description is not cutover's
 *     is someone else's: used, never revoked. One whose description is
 *     cutover's but whose owner is not alive here is a dead run's: adopted
 *     and revoked at the end.
 *
 * The ledger is $XDG_STATE_HOME/cutover/open-rules (default
 * ~/.local/state/cutover/open-rules): one folder per user and machine that
 * every command sees, which the cross-process count needs (a state folder
 * is one run's; `exec` has none). Each record names the EC2 endpoint it
 * was opened through; a sweep closes only records of its own endpoint.
 */
#ifndef CUTOVER_RULES_H
#define CUTOVER_RULES_H

#include <stddef.h>

#include "aws/client.h"
#include "base/err.h"

struct rules;

/* The process's table over aws (borrowed; must outlive it). Creates the
 * ledger folder and this owner, then sweeps dead owners' rules (a failure
 * to revoke one is printed as a warning naming the rule, not returned). */
int rules_open(struct aws_client *aws, struct rules **out, struct cut_err *err);

/* Port 22 from cidr on group: opened (recorded first) or, when this
 * process already holds it, counted once more. */
int rules_acquire(struct rules *t, const char *group, const char *cidr, struct cut_err *err);

/* One use fewer; the last one revokes the rule unless another live owner
 * holds it too, then removes its record. A failure names the rule and the
 * command that removes it. */
int rules_release(struct rules *t, const char *group, const char *cidr, struct cut_err *err);

/* Releases what is still held, ends this owner, frees. Returns the first
 * failure. NULL is fine. */
int rules_close(struct rules *t, struct cut_err *err);

/* Revokes what dead owners left open through aws's endpoint; *closed (if
 * not NULL) is how many rules were closed. Returns the first failure (the
 * records of rules that could not be revoked stay for the next sweep). */
int rules_sweep(struct aws_client *aws, size_t *closed, struct cut_err *err);

/* The ledger folder into buf (not created). */
int rules_dir(char *buf, size_t len, struct cut_err *err);

#endif
