/* world/live.h: the live world the configuration file names, read from AWS.
 *
 * Which environment of a pair is live is READ from where the pair's DNS
 * records point (alias targets or CNAME values compared with each
 * environment's CNAME and load balancer name), never assumed: Cobalt's own
 * history shows green became live after the runbook was written. The live
 * database is the RDS instance whose endpoint address is the live web
 * environment's RDS_HOSTNAME (the web pair is [pair web], else the first
 * pair). `cutover status` and the runbook engine both call these functions.
 */
#ifndef CUTOVER_LIVE_H
#define CUTOVER_LIVE_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "aws/client.h"
#include "world/config.h"
#include "aws/eb.h"
#include "aws/ec2.h"
#include "aws/r53.h"
#include "aws/rds.h"

/* Names of environment variables whose values are secret (PASSWORD,
 * SECRET, KEY, TOKEN, CREDENTIAL, PRIVATE anywhere in the name). */
int live_is_secret_name(const char *name);
/* Values that carry a credential whatever their name: URLs with userinfo
 * (scheme://user:pw@host, DSNs) and libpq strings with password=. */
int live_is_secret_value(const char *value);
/* value, or "********" when name or value is secret (never NULL; "" for NULL). */
const char *live_mask(const char *name, const char *value);

struct live_record {
	char name[256];          /* as configured, no trailing dot */
	char type[8];            /* A / CNAME / "" when absent */
	int is_alias;
	char target[256];        /* alias DNS name or CNAME value, "" when absent */
	int env_idx;             /* 0/1: the pair's environment it points at; -1 none */
};

struct live_env {
	int found;                /* exists and is not terminated */
	struct eb_env env;
	struct ec2_instance_list instances;   /* owned */
	struct eb_option_list env_vars;       /* owned copy of the env vars (values may be secret) */
	char env_type[32];        /* SingleInstance / LoadBalanced */
	long min_size, max_size;  /* -1 unknown */
};

struct live_pair {
	const struct cfg_pair *cfg;   /* borrowed from the cfg */
	struct live_env envs[2];
	struct live_record records[CFG_MAX_RECORDS];
	size_t nrecords;
	int live;                     /* 0/1, or -1 when the records do not agree on one */
	char live_reason[512];        /* why live is -1, as a sentence */
};

struct live_db {
	char role[16];                /* "live", "new" */
	int found;
	struct rds_instance inst;
	int has_snapshot;
	struct rds_snapshot latest;   /* newest available or creating snapshot */
};

struct live_world {
	struct r53_zone zone;
	struct live_pair pairs[CFG_MAX_PAIRS];
	size_t npairs;
	struct live_db dbs[2];       /* [0] live (from RDS_HOSTNAME), [1] the configured new one */
	size_t ndbs;
	char live_db_reason[512];     /* why the live database is unknown, "" when known */
};

/* Pure: which environment of pair p the records point at. envs are the
 * pair's two descriptions (found[i] says whether each exists); recs is the
 * zone's record list. Fills out[] (p->nrecords entries) and returns 0/1, or
 * -1 with reason set. */
int live_pick_live(const struct cfg_pair *p, const struct eb_env envs[2], const int found[2],
    const struct r53_record_list *recs, struct live_record *out, char *reason, size_t rsz);

/* Does a DNS target (alias DNS name or CNAME value) name this environment? */
int live_target_is_env(const char *target, const struct eb_env *e);

/* Reads everything `status` shows: zone and records, every environment of
 * every pair (description, settings, instances), which is live, the live and
 * new databases and their latest snapshots. Missing environments or
 * databases are reported in the struct, not as errors. Free with live_free. */
int live_read(struct aws_client *c, const struct cfg *cfg, struct live_world *w, struct cut_err *err);
void live_free(struct live_world *w);

/* The live environment of one pair (index into p->envs), read from DNS now.
 * CUT_ESTATE when the records disagree or point outside the pair. */
int live_live_env(struct aws_client *c, const struct cfg *cfg, const struct cfg_pair *p,
    int *live_idx, struct cut_err *err);

/* The live database: the instance whose address is the live web
 * environment's RDS_HOSTNAME. Fills *out. */
int live_live_db(struct aws_client *c, const struct cfg *cfg, struct rds_instance *out,
    struct cut_err *err);

/* An AWS client for the world cfg names: --profile (profile_flag) over the
 * config's [aws] profile, --region (region_flag) over its [aws] region
 * (either may be NULL). *out is the caller's (aws_client_free). */
int live_client(const struct cfg *cfg, const char *profile_flag, const char *region_flag,
    struct aws_client **out, struct cut_err *err);

/* The world as JSON for `status --json` (secret values masked). The
 * caller owns the object (json_object_put). */
struct json_object *live_to_json(const struct live_world *w, const struct cfg *cfg);
/* The world as text for `status`, secret values masked. */
void live_print(FILE *f, const struct live_world *w, const struct cfg *cfg);

/* Loads the configuration at path, reads the live world it names and prints
 * it to f (text; json 1: one pretty JSON object; json 2: the object on one line,
 * for event streams). profile and region
 * may be NULL. Allocates nothing that outlives the call. */
int live_show(FILE *f, const char *path, const char *profile, const char *region, int json,
    struct cut_err *err);

/* The web pair: [pair web], else the first pair. */
const struct cfg_pair *live_web_pair(const struct cfg *cfg);

#endif
