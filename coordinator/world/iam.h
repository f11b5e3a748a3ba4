/* world/iam.h: the AWS actions the configured cutover calls, and the IAM
 * policy that allows exactly those (`cutover iam-policy`).
 *
 * ONE table (iam_table, world/iam.c) says, for every IAM action cutover
 * calls, which resource kind it is authorised on, which runbook commands
 * call it and under which [ssh] setting. The policy is built from that table
 * and the configuration: Elastic Beanstalk environment and template ARNs from
 * [aws] application and the pairs, RDS ARNs from [database] and [rehearse],
 * the Route 53 hosted zone, `*` only where AWS has no resource-level
 * permission for the action (the row says why). Where a name comes from
 * AWS and not from the file (the account, the hosted zone id, the live
 * database), the caller passes what it found (struct iam_facts); an empty
 * fact becomes a wildcard in that ARN and a note.
 *
 * When you add an AWS call: add its row here (tests/unit/test_iam.c checks
 * the table against the operations the aws/ modules send).
 */
#ifndef CUTOVER_WORLD_IAM_H
#define CUTOVER_WORLD_IAM_H

#include <stddef.h>

#include <json-c/json.h>

#include "base/err.h"
#include "world/config.h"

/* The runbook commands (and plan), as a bit set. */
enum iam_cmd {
	IAM_PLAN = 1 << 0,
	IAM_PREP = 1 << 1,
	IAM_RUN = 1 << 2,
	IAM_FAILBACK = 1 << 3,
	IAM_TIDY = 1 << 4,
	IAM_REHEARSE = 1 << 5,
	IAM_ALL = (1 << 6) - 1,
};

/* What a table row's resource is, built from the configuration and facts. */
enum iam_res {
	IAM_R_ANY,              /* "*": the action has no resource-level permission */
	IAM_R_EB_APP_ENVS,      /* environment/APP/(any): reads over the application */
	IAM_R_EB_PAIR_ENVS,     /* environment/APP/E for both environments of every pair */
	IAM_R_EB_REHEARSE_ENV,  /* environment/APP/[rehearse] environment */
	IAM_R_EB_TEMPLATES,     /* configurationtemplate/APP/E-cutover (prep's copies) */
	IAM_R_RDS_ALL_DBS,      /* db:*: the live database is found by listing them */
	IAM_R_RDS_ALL_SNAPSHOTS,/* snapshot:* */
	IAM_R_RDS_LIVE_DB,      /* db:LIVE (the live database, a fact) */
	IAM_R_RDS_NEW_DB,       /* db:[database] new */
	IAM_R_RDS_REHEARSE_DB,  /* db:[rehearse] database */
	IAM_R_RDS_SNAP_CUTOVER, /* snapshot:[database] snapshot, or LIVE-cutover-* */
	IAM_R_RDS_SNAP_FINAL,   /* snapshot:LIVE-final-* (tidy) */
	IAM_R_RDS_SNAP_REHEARSE,/* snapshot:[rehearse] snapshot, or LIVE-rehearse-* */
	IAM_R_RDS_RESTORE_LIKE, /* subgrp:*, pg:*: copied from the live database */
	IAM_R_R53_ZONE,         /* hostedzone/ID */
	IAM_R_R53_CHANGES,      /* change/(any) */
	IAM_R_EC2_GROUPS,       /* security-group/(any) of the region */
	IAM_R_EC2_INSTANCES,    /* instance/(any) with ec2:osuser = [ssh] user */
	IAM_R_SSM_START,        /* instance/(any) and document/AWS-StartSSHSession */
	IAM_R_SSM_SESSIONS,     /* session/(any): the sessions the caller started */
	IAM_R_CFN_EB_STACKS,    /* stack/awseb-* */
	IAM_R_S3_EB_BUCKET,     /* elasticbeanstalk-REGION-ACCOUNT and its objects */
	IAM_R_CW_EB_ALARMS,     /* alarm:awseb-* */
	IAM_R_SNS_EB_TOPICS,    /* ElasticBeanstalkNotifications-* */
	IAM_R_LOGS_EB_GROUPS,   /* log-group:/aws/elasticbeanstalk/(any) */
	IAM_R_IAM_EB_ROLES,     /* role/aws-elasticbeanstalk-* (EB's default roles) */
};

/* Only with this [ssh] (or [database]) setting. */
enum iam_when {
	IAM_ALWAYS = 0,
	IAM_IF_EIC = 1,         /* instance_connect = yes */
	IAM_IF_OPEN_PORT = 2,   /* open_port = yes */
	IAM_IF_SSM = 3,         /* transport = ssm */
	IAM_IF_REPLICA = 4,     /* [database] method = replica */
};

struct iam_row {
	const char *action;     /* "rds:CreateDBSnapshot" */
	enum iam_res res;
	unsigned cmds;          /* enum iam_cmd bits */
	enum iam_when when;
	/* Statement it joins: NULL = its own, Sid from the action; else the Sid
	 * of a group (the permissions Elastic Beanstalk uses with the caller's
	 * rights, "EbOnBehalf..."). */
	const char *group;
	const char *why;        /* for IAM_R_ANY and wildcards: why */
};

extern const struct iam_row iam_table[];
extern const size_t iam_ntable;

/* Names from AWS, not the file; "" = unknown (wildcard + note). */
struct iam_facts {
	char account[32];
	char zone_id[64];       /* without "/hostedzone/" */
	char live_db[64];
};

/* "plan", "prep", ... "all" -> bits; 0 when name is none of them. */
unsigned iam_cmd_bits(const char *name);

/* Called once per note (a wildcard and why), in table order. */
typedef void (*iam_note_fn)(void *user, const char *note);

/* Builds the policy document for the commands in cmds: {"Version":
 * "2012-10-17", "Statement": [...]} with one statement per action (or
 * group), Sid from its name, actions and resources sorted and unique,
 * statements sorted by Sid. *out is the caller's (json_object_put). */
int iam_policy(const struct cfg *cfg, const struct iam_facts *facts, unsigned cmds,
    iam_note_fn note, void *user, struct json_object **out, struct cut_err *err);

#endif
