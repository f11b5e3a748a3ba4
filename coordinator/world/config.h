/* world/config.h: the cutover configuration file (INI, parsed with libinih).
 *
 * It names the world the cutover acts on; see deploy/cutover.example.ini.
 *
 *   [aws]        region, application, profile (optional)
 *   [pair NAME]  environments = A, B        (exactly two)
 *                records = name, name...    (DNS records that point at the live one)
 *   [database]   new, class, name, prep (optional), snapshot (optional),
 *                sslmode (optional: require, verify-ca, verify-full, disable),
 *                sslrootcert (optional; a path on the instances)
 *   [dns]        zone, tail_interval (seconds, default 60), tail_deadline
 *                (seconds, default 900; 0: do not watch the DNS tail)
 *   [ssh]        user, identity, known_hosts, instance_connect = yes|no,
 *                address = private|public, port (default 22), open_port = yes|no,
 *                transport = ssh|ssm (default ssh; ssm: Session Manager, no port 22)
 *   [app]        dir, env_file, python, sudo = yes|no, version (optional),
 *                http_port (default 80), access_log, cron_state_dir
 *   [rehearse]   environment, database, snapshot, class (optional section: the
 *                Steps for Test, `cutover rehearse`)
 *   [smoke]      checks = /accounts/login/ 200, / 200 302   (optional section:
 *                the smoke test before maintenance mode is lifted; default
 *                GET /accounts/login/ answered 200), load_balancer = yes|no
 *                (also through the environment's load balancer; default yes)
 *
 * Every mistake (unknown section or key, a key given twice, a missing
 * section or key, a bad value, contradictions such as one environment in two
 * pairs or a record outside the zone) is reported as one sentence naming the
 * file and line. The file says nothing about which environment is live: that
 * is read from DNS (world/live_names.h).
 */
#ifndef CUTOVER_CFG_H
#define CUTOVER_CFG_H

#include <stddef.h>

#include "base/err.h"
#include "safety/smoke.h"

#define CFG_MAX_PAIRS 8
#define CFG_MAX_RECORDS 16
#define CFG_MAX_SMOKE_CHECKS 16

struct cfg_pair {
	char name[64];                       /* "web" */
	char envs[2][128];                   /* the two environments */
	char records[CFG_MAX_RECORDS][256];  /* "myabf.com.au" (no trailing dot) */
	size_t nrecords;
	int line;                            /* line of the [pair NAME] header */
};

/* How the tool reaches an instance's sshd: TCP to its address, or a
 * Session Manager port session (no inbound port 22; world/fleet.h). */
enum { CFG_TRANSPORT_SSH = 0, CFG_TRANSPORT_SSM = 1 };

struct cfg {
	char path[512];
	struct {
		char region[64];
		char application[128];
		char profile[128];           /* "" = the AWS default chain */
	} aws;
	struct cfg_pair pairs[CFG_MAX_PAIRS];
	size_t npairs;
	struct {
		char new_id[64];             /* identifier of the database the cutover creates */
		char klass[32];              /* "db.t3.small" */
		char name[64];               /* "ebdb" */
		char prep[256];              /* RDS instance id or address the new envs use before
		                              * the cutover; "" = what the new web env has now */
		char snapshot[128];          /* snapshot the cutover takes; "" = <live>-cutover-YYYYMMDD */
		char sslmode[16];            /* psql's sslmode on the instances; "" = require */
		char sslrootcert[512];       /* CA bundle on the instances (verify-ca/verify-full) */
		char method[16];             /* how the new database is made: "snapshot" (restore
		                              * in the window, the default) or "replica" (a read
		                              * replica made by prep, promoted in the window) */
	} db;
	struct {
		char zone[256];              /* "myabf.com.au" (no trailing dot) */
		int tail_interval;           /* dns-tail's sample, seconds (default 60) */
		int tail_deadline;           /* how long dns-tail watches at most, seconds
		                              * (default 900; 0: not at all) */
	} dns;
	struct {
		char user[64];               /* default ec2-user */
		char identity[512];          /* private key file; "" with instance_connect */
		char known_hosts[512];       /* default ~/.ssh/known_hosts */
		int instance_connect;        /* default yes */
		int address_public;          /* address = public; default private */
		int open_port;               /* open 22 to the operator's /32 for the session; default no */
		int port;                    /* SSH port of the instances; default 22 */
		int transport;               /* CFG_TRANSPORT_SSH (default) or CFG_TRANSPORT_SSM */
	} ssh;
	struct {
		char dir[512];               /* default /var/app/current */
		char env_file[512];          /* default /opt/elasticbeanstalk/deployment/env */
		char python[512];            /* default /var/app/venv/staging-LQM1lest/bin/python */
		int sudo;                    /* default yes */
		char version[128];           /* version label the new envs run; "" = the new web env's */
		int http_port;               /* where nginx answers on an instance (smoke test); default 80 */
		/* Paths on the instances. Defaults are Elastic Beanstalk's Amazon
		 * Linux 2023 layout; the simulation sets its own explicitly, so
		 * nothing is inferred from the form of `dir`. */
		char access_log[256];        /* nginx access log; default /var/log/nginx/access.log */
		char cron_state_dir[256];    /* where the cron pause keeps the saved crontab;
					      * default /var/lib/cutover */
	} app;
	struct {
		char env[128];               /* the test environment ("cobalt-test-black") */
		char db[64];                 /* the instance restored for it */
		char snapshot[256];          /* the production snapshot to restore */
		char klass[32];              /* its class; "" = [database] class */
	} rehearse;
	struct {
		/* A copy of each check (cfg is plain data); safety/smoke.h's struct
		 * smoke_check points at path. */
		struct {
			char path[256];      /* "/accounts/login/" */
			int expect[SMOKE_MAX_STATUS]; /* 0-terminated; all 0: 200 */
		} checks[CFG_MAX_SMOKE_CHECKS];
		size_t nchecks;              /* 0: smoke_default_check */
		int load_balancer;           /* also through the env's load balancer; default yes */
	} smoke;
};

/* Reads and checks the file. *out is plain data (nothing to free). */
int cfg_load(const char *path, struct cfg *out, struct cut_err *err);
/* The same from text; path is used in messages only. */
int cfg_parse_text(const char *path, const char *text, struct cfg *out, struct cut_err *err);

/* The pair an environment belongs to (and its index 0/1 in *idx), or NULL. */
const struct cfg_pair *cfg_pair_of_env(const struct cfg *c, const char *env, int *idx);

#endif
