/* cli/safety_links.h: what the data-safety commands (cli/cmd_blocked_emails.c,
 * cli/cmd_quiet.c, cli/cmd_verify.c, cli/cmd_activity.c) share: their common options
 * and opening agent links to the instances of the live or the new
 * environment.
 *
 * Two ways to reach instances:
 *   --local-agent PATH [--env-file F]   one agent started on this machine
 *       (an operator working on an instance itself; the tests);
 *   -c FILE [--env NAME]                the environment's instances over SSH,
 *       from the configuration file, through the one owner of instance
 *       connections (cli/safety_ssh.h over world/reach.h).
 */
#ifndef CUTOVER_SAFETY_LINKS_H
#define CUTOVER_SAFETY_LINKS_H

#include <getopt.h>

#include <stddef.h>

#include "remote/agent_ops.h"
#include "base/err.h"

struct safety_cli {
	const char *config;        /* -c FILE */
	const char *env;           /* --env NAME: overrides live/new from DNS */
	const char *local_agent;   /* --local-agent PATH */
	const char *env_file;      /* --env-file PATH (the EB env file on the instance) */
	const char *psql;          /* --psql PATH */
};

/* Handles one of the common options (getopt_long value c, see
 * SAFETY_LONGOPTS). Returns 1 when it was one, 0 when not. */
int safety_cli_opt(struct safety_cli *o, int c, const char *arg);

#define SAFETY_OPT_ENV 1001
#define SAFETY_OPT_LOCAL 1002
#define SAFETY_OPT_ENVFILE 1003
#define SAFETY_OPT_PSQL 1004
#define SAFETY_LONGOPTS \
	{ "config", required_argument, NULL, 'c' }, \
	{ "env", required_argument, NULL, SAFETY_OPT_ENV }, \
	{ "local-agent", required_argument, NULL, SAFETY_OPT_LOCAL }, \
	{ "env-file", required_argument, NULL, SAFETY_OPT_ENVFILE }, \
	{ "psql", required_argument, NULL, SAFETY_OPT_PSQL }
#define SAFETY_USAGE_COMMON \
	"  -c, --config FILE       the cutover configuration file\n" \
	"  --env NAME              the environment (default: the live one, or the new one,\n" \
	"                          as the command needs, read from DNS)\n" \
	"  --local-agent PATH      instead, run the agent at PATH on this machine (on an\n" \
	"                          instance itself); --env-file F names its EB env file\n" \
	"  --psql PATH             psql on the instances (default: psql on PATH)\n"

/* Which environment of the web pair, when --env does not say:
 *   SAFETY_LIVE, SAFETY_NEW  the one DNS points at, the other one (quiet, cron);
 *   SAFETY_LIVE_SES          the live environment of the other pair (SES), for cron;
 *                            no instances (n 0) when there is no such pair;
 *   SAFETY_OLD_DB            the one on the old database: the live one, or after
 *                            DNS has moved to the new database the other one
 *                            (blocked-email backup, lost writes);
 *   SAFETY_NEW_DB            the one on the new system: the other one until DNS
 *                            points at the new database, then the live one
 *                            (blocked-email restore/verify, activity).
 * "On the new database": the live web environment's RDS_HOSTNAME is the
 * endpoint of [database] new. DNS alone would name the wrong system once the
 * cutover has moved it. */
enum safety_role { SAFETY_LIVE, SAFETY_NEW, SAFETY_OLD_DB, SAFETY_NEW_DB, SAFETY_LIVE_SES };

/* Connected agents, one per instance; conf filled from the options. */
struct safety_target {
	struct alink *links;
	size_t n;
	struct aop_conf conf;
	void *ssh;                 /* the SSH session (cli/safety_ssh.h), NULL with --local-agent */
	/* SAFETY_NEW_DB over SSH: the database the pair's other environment
	 * (the old system) uses, which a write to the new system must never
	 * reach; host "" when unknown (--local-agent, no other environment). */
	struct aop_dbenv old_db;
	/* Over SSH: the configuration's [app] access_log (borrowed from the
	 * session), the default of `cutover quiet --log`; NULL otherwise. */
	const char *access_log;
};

int safety_links_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err);
void safety_links_close(struct safety_target *t);

/* The body of `cutover verify` (activity 0) and `cutover activity`
 * (activity 1), in cli/cmd_verify.c; returns the exit status. */
struct cmd_entry;
int safety_changes_command(const struct cmd_entry *e, int argc, char **argv, int activity);
/* Its options (verify's and activity's cmd_entry point at them). */
extern const struct option safety_changes_longopts[];
#define SAFETY_CHANGES_SHORTOPTS "c:h"

#endif
