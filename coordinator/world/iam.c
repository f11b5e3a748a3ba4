/* world/iam.c: the table of AWS actions cutover calls and the IAM policy
 * built from it (world/iam.h).
 *
 * Why one table here: the runbook reaches AWS only through world_ops
 * (world/real.c), whose functions each send a known set of operations, so
 * the actions per command follow from the steps each command runs (listed
 * in runbook/tables.c). Writing them down once, next to the adapter that
 * makes the calls, keeps the policy and the code in one review; the unit
 * test checks that every operation the aws/ modules send is either in the
 * table or named as not called by a runbook command.
 *
 * How each command reaches AWS (world/real.c):
 *   every one opens the world: Route 53 ListHostedZonesByName and
 *     ListResourceRecordSets (which colour is live), EB DescribeEnvironments
 *     and DescribeConfigurationSettings, RDS DescribeDBInstances (the live
 *     database is the one whose address the live env's RDS_HOSTNAME names,
 *     so every instance is listed: db:*);
 *   env_describe adds DescribeEnvironmentResources; the instance steps and
 *     the SSH preflight find instances (DescribeEnvironmentResources, EC2
 *     DescribeInstances) and reach them (Instance Connect SendSSHPublicKey,
 *     and with open_port Authorize/RevokeSecurityGroupIngress): plan, prep,
 *     run, failback, rehearse; not tidy;
 *   prep: CreateConfigurationTemplate + CreateEnvironment (env_clone);
 *   prep with [database] method = replica: CreateDBInstanceReadReplica with
 *     tags; run with it: PromoteReadReplica;
 *   run: UpdateEnvironment (scale, maintenance, point-new), CreateDBSnapshot,
 *     DescribeDBSnapshots, RestoreDBInstanceFromDBSnapshot with tags (so
 *     rds:AddTagsToResource), ChangeResourceRecordSets + GetChange;
 *   failback: UpdateEnvironment, ChangeResourceRecordSets + GetChange;
 *   tidy: ChangeResourceRecordSets + GetChange (old records),
 *     TerminateEnvironment, DeleteConfigurationTemplate, DeleteDBInstance
 *     with a final snapshot (rds:CreateDBSnapshot on it);
 *   rehearse: UpdateEnvironment of the test environment, CreateDBSnapshot
 *     of the live database, RestoreDBInstanceFromDBSnapshot into the
 *     rehearsal database.
 * Elastic Beanstalk creates, updates and terminates environments with the
 * caller's rights (CloudFormation, Auto Scaling, EC2, ELB, S3, CloudWatch,
 * SNS, Logs, iam:PassRole of its roles), as its documentation says of the
 * AdministratorAccess-AWSElasticBeanstalk managed policy; the EbOnBehalf*
 * groups grant that, narrowed to EB's own resource names where AWS allows.
 */
#include "world/iam.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READS   IAM_ALL
#define REMOTE  (IAM_PLAN | IAM_PREP | IAM_RUN | IAM_FAILBACK | IAM_REHEARSE)
#define EB_CHANGES (IAM_PREP | IAM_RUN | IAM_FAILBACK | IAM_TIDY | IAM_REHEARSE)

static const char NORES_EC2[] = "EC2 Describe actions have no resource-level permissions";
static const char NORES_ASG[] = "Elastic Beanstalk names its Auto Scaling groups, launch "
    "configurations and load balancers itself (awseb-e-...), and several of these actions "
    "have no resource-level permissions";

const struct iam_row iam_table[] = {
	/* STS: AWS lets any credentials call GetCallerIdentity; listed so the
	 * policy shows every action cutover calls. */
	{ "sts:GetCallerIdentity", IAM_R_ANY, READS, IAM_ALWAYS, NULL,
	  "GetCallerIdentity needs no permission and has no resource" },

	/* Elastic Beanstalk */
	{ "elasticbeanstalk:DescribeEnvironments", IAM_R_EB_APP_ENVS, READS, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:DescribeConfigurationSettings", IAM_R_EB_APP_ENVS, READS, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:DescribeEnvironmentResources", IAM_R_EB_APP_ENVS, READS, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:CreateConfigurationTemplate", IAM_R_EB_TEMPLATES, IAM_PREP, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:CreateEnvironment", IAM_R_EB_PAIR_ENVS, IAM_PREP, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:UpdateEnvironment", IAM_R_EB_PAIR_ENVS, IAM_RUN | IAM_FAILBACK, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:UpdateEnvironment", IAM_R_EB_REHEARSE_ENV, IAM_REHEARSE, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:TerminateEnvironment", IAM_R_EB_PAIR_ENVS, IAM_TIDY, IAM_ALWAYS, NULL, NULL },
	{ "elasticbeanstalk:DeleteConfigurationTemplate", IAM_R_EB_TEMPLATES, IAM_TIDY, IAM_ALWAYS, NULL, NULL },

	/* RDS */
	{ "rds:DescribeDBInstances", IAM_R_RDS_ALL_DBS, READS, IAM_ALWAYS, NULL,
	  "the live database is found by listing every instance (its id is not in the configuration)" },
	{ "rds:DescribeDBSnapshots", IAM_R_RDS_ALL_SNAPSHOTS, READS, IAM_ALWAYS, NULL, NULL },
	{ "rds:DescribeDBSnapshots", IAM_R_RDS_ALL_DBS, READS, IAM_ALWAYS, NULL,
	  "snapshots are also listed by database, the live one among them" },
	{ "rds:CreateDBSnapshot", IAM_R_RDS_LIVE_DB, IAM_RUN | IAM_REHEARSE | IAM_TIDY, IAM_ALWAYS, NULL, NULL },
	{ "rds:CreateDBSnapshot", IAM_R_RDS_SNAP_CUTOVER, IAM_RUN, IAM_ALWAYS, NULL, NULL },
	{ "rds:CreateDBSnapshot", IAM_R_RDS_SNAP_REHEARSE, IAM_REHEARSE, IAM_ALWAYS, NULL, NULL },
	{ "rds:CreateDBSnapshot", IAM_R_RDS_SNAP_FINAL, IAM_TIDY, IAM_ALWAYS, NULL, NULL },
	{ "rds:RestoreDBInstanceFromDBSnapshot", IAM_R_RDS_NEW_DB, IAM_RUN, IAM_ALWAYS, NULL, NULL },
	{ "rds:RestoreDBInstanceFromDBSnapshot", IAM_R_RDS_SNAP_CUTOVER, IAM_RUN, IAM_ALWAYS, NULL, NULL },
	{ "rds:RestoreDBInstanceFromDBSnapshot", IAM_R_RDS_REHEARSE_DB, IAM_REHEARSE, IAM_ALWAYS, NULL, NULL },
	{ "rds:RestoreDBInstanceFromDBSnapshot", IAM_R_RDS_SNAP_REHEARSE, IAM_REHEARSE, IAM_ALWAYS, NULL, NULL },
	{ "rds:RestoreDBInstanceFromDBSnapshot", IAM_R_RDS_RESTORE_LIKE, IAM_RUN | IAM_REHEARSE, IAM_ALWAYS, NULL,
	  "the subnet and parameter groups are copied from the live database, whose names the configuration does not hold" },
	{ "rds:AddTagsToResource", IAM_R_RDS_NEW_DB, IAM_RUN, IAM_ALWAYS, NULL, NULL },
	{ "rds:AddTagsToResource", IAM_R_RDS_REHEARSE_DB, IAM_REHEARSE, IAM_ALWAYS, NULL, NULL },
	{ "rds:DeleteDBInstance", IAM_R_RDS_LIVE_DB, IAM_TIDY, IAM_ALWAYS, NULL, NULL },
	/* [database] method = replica: prep makes the replica (tagged), run promotes it. */
	{ "rds:CreateDBInstanceReadReplica", IAM_R_RDS_NEW_DB, IAM_PREP, IAM_IF_REPLICA, NULL, NULL },
	{ "rds:CreateDBInstanceReadReplica", IAM_R_RDS_LIVE_DB, IAM_PREP, IAM_IF_REPLICA, NULL, NULL },
	{ "rds:CreateDBInstanceReadReplica", IAM_R_RDS_RESTORE_LIKE, IAM_PREP, IAM_IF_REPLICA, NULL,
	  "the subnet and parameter groups are copied from the live database, whose names the configuration does not hold" },
	{ "rds:AddTagsToResource", IAM_R_RDS_NEW_DB, IAM_PREP, IAM_IF_REPLICA, NULL, NULL },
	{ "rds:PromoteReadReplica", IAM_R_RDS_NEW_DB, IAM_RUN, IAM_IF_REPLICA, NULL, NULL },

	/* Route 53 */
	{ "route53:ListHostedZonesByName", IAM_R_ANY, READS, IAM_ALWAYS, NULL,
	  "Route 53 list actions have no resource-level permissions" },
	{ "route53:ListResourceRecordSets", IAM_R_R53_ZONE, READS, IAM_ALWAYS, NULL, NULL },
	{ "route53:ChangeResourceRecordSets", IAM_R_R53_ZONE, IAM_RUN | IAM_FAILBACK | IAM_TIDY, IAM_ALWAYS, NULL, NULL },
	{ "route53:GetChange", IAM_R_R53_CHANGES, IAM_RUN | IAM_FAILBACK | IAM_TIDY, IAM_ALWAYS, NULL,
	  "change ids are new on every change" },

	/* EC2 and Instance Connect: the instances are EB's, their ids change */
	{ "ec2:DescribeInstances", IAM_R_ANY, READS, IAM_ALWAYS, NULL, NORES_EC2 },
	{ "ec2-instance-connect:SendSSHPublicKey", IAM_R_EC2_INSTANCES, REMOTE, IAM_IF_EIC, NULL,
	  "instance ids change with every deploy and scaling; the [ssh] user is the condition" },
	/* Systems Manager, with [ssh] transport = ssm: the SSH stream rides a
	 * Session Manager port session (remote/ssm_channel.c). */
	{ "ssm:StartSession", IAM_R_SSM_START, REMOTE, IAM_IF_SSM, NULL,
	  "instance ids change with every deploy and scaling; the document is AWS's own" },
	{ "ssm:TerminateSession", IAM_R_SSM_SESSIONS, REMOTE, IAM_IF_SSM, NULL,
	  "session ids are made by StartSession" },
	{ "ssm:DescribeInstanceInformation", IAM_R_ANY, REMOTE, IAM_IF_SSM, NULL,
	  "AWS has no resource-level permission for it" },
	{ "ec2:AuthorizeSecurityGroupIngress", IAM_R_EC2_GROUPS, REMOTE, IAM_IF_OPEN_PORT, NULL,
	  "the instances' groups are EB's, named when an environment is created" },
	{ "ec2:RevokeSecurityGroupIngress", IAM_R_EC2_GROUPS, REMOTE, IAM_IF_OPEN_PORT, NULL,
	  "the instances' groups are EB's, named when an environment is created" },

	/* What Elastic Beanstalk does with the caller's rights while it
	 * creates, updates and terminates environments. */
	{ "cloudformation:CreateStack", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:UpdateStack", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:DeleteStack", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:CancelUpdateStack", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:DescribeStacks", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:DescribeStackEvents", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:DescribeStackResource", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:DescribeStackResources", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:GetTemplate", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "cloudformation:ListStackResources", IAM_R_CFN_EB_STACKS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudFormation", NULL },
	{ "autoscaling:CreateAutoScalingGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:UpdateAutoScalingGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:DeleteAutoScalingGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:CreateLaunchConfiguration", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:DeleteLaunchConfiguration", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:Describe*", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:PutScalingPolicy", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:DeletePolicy", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:PutNotificationConfiguration", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:SuspendProcesses", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:ResumeProcesses", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:SetDesiredCapacity", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:TerminateInstanceInAutoScalingGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "autoscaling:CreateOrUpdateTags", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "elasticloadbalancing:*", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfAutoScaling", NORES_ASG },
	{ "ec2:RunInstances", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:TerminateInstances", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:Describe*", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:CreateSecurityGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:DeleteSecurityGroup", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:AuthorizeSecurityGroupIngress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:AuthorizeSecurityGroupEgress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:RevokeSecurityGroupIngress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:RevokeSecurityGroupEgress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:CreateLaunchTemplate", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:CreateLaunchTemplateVersion", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:DeleteLaunchTemplate", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:CreateTags", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:AllocateAddress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:AssociateAddress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:DisassociateAddress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "ec2:ReleaseAddress", IAM_R_ANY, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfEc2", NORES_ASG },
	{ "s3:CreateBucket", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:GetBucketLocation", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:GetBucketPolicy", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:PutBucketPolicy", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:ListBucket", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:GetObject", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:GetObjectAcl", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:PutObject", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:PutObjectAcl", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "s3:DeleteObject", IAM_R_S3_EB_BUCKET, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfS3", NULL },
	{ "cloudwatch:PutMetricAlarm", IAM_R_CW_EB_ALARMS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudWatch", NULL },
	{ "cloudwatch:DeleteAlarms", IAM_R_CW_EB_ALARMS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudWatch", NULL },
	{ "cloudwatch:DescribeAlarms", IAM_R_CW_EB_ALARMS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfCloudWatch", NULL },
	{ "sns:CreateTopic", IAM_R_SNS_EB_TOPICS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfSns", NULL },
	{ "sns:GetTopicAttributes", IAM_R_SNS_EB_TOPICS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfSns", NULL },
	{ "sns:SetTopicAttributes", IAM_R_SNS_EB_TOPICS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfSns", NULL },
	{ "sns:Subscribe", IAM_R_SNS_EB_TOPICS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfSns", NULL },
	{ "sns:ListSubscriptionsByTopic", IAM_R_SNS_EB_TOPICS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfSns", NULL },
	{ "logs:CreateLogGroup", IAM_R_LOGS_EB_GROUPS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfLogs", NULL },
	{ "logs:PutRetentionPolicy", IAM_R_LOGS_EB_GROUPS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfLogs", NULL },
	{ "logs:DeleteLogGroup", IAM_R_LOGS_EB_GROUPS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfLogs", NULL },
	{ "logs:DescribeLogGroups", IAM_R_LOGS_EB_GROUPS, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfLogs", NULL },
	{ "iam:PassRole", IAM_R_IAM_EB_ROLES, EB_CHANGES, IAM_ALWAYS, "EbOnBehalfPassRole",
	  "Elastic Beanstalk's default service role and instance profile role; name yours if they differ" },
};
const size_t iam_ntable = sizeof(iam_table) / sizeof(iam_table[0]);

unsigned
iam_cmd_bits(const char *name)
{
	static const struct { const char *n; unsigned b; } m[] = {
		{ "plan", IAM_PLAN }, { "prep", IAM_PREP }, { "run", IAM_RUN },
		{ "failback", IAM_FAILBACK }, { "tidy", IAM_TIDY }, { "rehearse", IAM_REHEARSE },
		{ "all", IAM_ALL },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(name, m[i].n) == 0)
			return m[i].b;
	return 0;
}

/* ---- resources ---------------------------------------------------------------- */

struct strset {
	char **v;
	size_t n, cap;
	int oom;
};

static void
set_add(struct strset *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_add(struct strset *s, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0) {
		va_end(ap);
		s->oom = 1;
		return;
	}
	va_end(ap);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0) {
			free(p);
			return;
		}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		char **nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL) {
			free(p);
			s->oom = 1;
			return;
		}
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = p;
}

static void
set_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parts of ARNs: account and live database, or wildcards. */
struct ctx {
	const struct cfg *cfg;
	const struct iam_facts *f;
	const char *acct;
	const char *live;        /* live db id, or "*" */
	iam_note_fn note;
	void *user;
	struct strset noted;     /* notes already given */
};

static void
note(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct ctx *x, const char *fmt, ...)
{
	va_list ap;
	char buf[768];
	size_t before = x->noted.n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	set_add(&x->noted, "%s", buf);
	if (x->noted.n > before && x->note)
		x->note(x->user, buf);
}

/* Adds the ARNs of one row's resource kind to s. */
static void
resources(struct ctx *x, const struct iam_row *row, struct strset *s)
{
	const struct cfg *c = x->cfg;
	const char *rg = c->aws.region, *app = c->aws.application, *a = x->acct;
	size_t i, k;

	switch (row->res) {
	case IAM_R_ANY:
		set_add(s, "*");
		if (row->why && !row->group)
			note(x, "%s: Resource \"*\" because %s.", row->action, row->why);
		else if (row->why)
			note(x, "%s: Resource \"*\" because %s.", row->group, row->why);
		break;
	case IAM_R_EB_APP_ENVS:
		set_add(s, "arn:aws:elasticbeanstalk:%s:%s:environment/%s/*", rg, a, app);
		break;
	case IAM_R_EB_PAIR_ENVS:
		for (i = 0; i < c->npairs; i++)
			for (k = 0; k < 2; k++)
				set_add(s, "arn:aws:elasticbeanstalk:%s:%s:environment/%s/%s", rg, a, app,
				    c->pairs[i].envs[k]);
		break;
	case IAM_R_EB_REHEARSE_ENV:
		if (c->rehearse.env[0])
			set_add(s, "arn:aws:elasticbeanstalk:%s:%s:environment/%s/%s", rg, a, app, c->rehearse.env);
		break;
	case IAM_R_EB_TEMPLATES:
		/* env_clone copies the live settings into "<new env>-cutover". */
		for (i = 0; i < c->npairs; i++)
			for (k = 0; k < 2; k++)
				set_add(s, "arn:aws:elasticbeanstalk:%s:%s:configurationtemplate/%s/%s-cutover", rg, a,
				    app, c->pairs[i].envs[k]);
		break;
	case IAM_R_RDS_ALL_DBS:
		set_add(s, "arn:aws:rds:%s:%s:db:*", rg, a);
		note(x, "%s: every database of the account and region because %s.", row->action, row->why);
		break;
	case IAM_R_RDS_ALL_SNAPSHOTS:
		set_add(s, "arn:aws:rds:%s:%s:snapshot:*", rg, a);
		break;
	case IAM_R_RDS_LIVE_DB:
		set_add(s, "arn:aws:rds:%s:%s:db:%s", rg, a, x->live);
		break;
	case IAM_R_RDS_NEW_DB:
		set_add(s, "arn:aws:rds:%s:%s:db:%s", rg, a, c->db.new_id);
		break;
	case IAM_R_RDS_REHEARSE_DB:
		if (c->rehearse.db[0])
			set_add(s, "arn:aws:rds:%s:%s:db:%s", rg, a, c->rehearse.db);
		break;
	case IAM_R_RDS_SNAP_CUTOVER:
		if (c->db.snapshot[0])
			set_add(s, "arn:aws:rds:%s:%s:snapshot:%s", rg, a, c->db.snapshot);
		else
			set_add(s, "arn:aws:rds:%s:%s:snapshot:%s-cutover-*", rg, a, x->live);
		break;
	case IAM_R_RDS_SNAP_FINAL:
		set_add(s, "arn:aws:rds:%s:%s:snapshot:%s-final-*", rg, a, x->live);
		break;
	case IAM_R_RDS_SNAP_REHEARSE:
		if (!c->rehearse.env[0])
			break;
		if (c->rehearse.snapshot[0])
			set_add(s, "arn:aws:rds:%s:%s:snapshot:%s", rg, a, c->rehearse.snapshot);
		else
			set_add(s, "arn:aws:rds:%s:%s:snapshot:%s-rehearse-*", rg, a, x->live);
		break;
	case IAM_R_RDS_RESTORE_LIKE:
		set_add(s, "arn:aws:rds:%s:%s:subgrp:*", rg, a);
		set_add(s, "arn:aws:rds:%s:%s:pg:*", rg, a);
		note(x, "%s: every subnet group and parameter group because %s.", row->action, row->why);
		break;
	case IAM_R_R53_ZONE:
		set_add(s, "arn:aws:route53:::hostedzone/%s", x->f->zone_id[0] ? x->f->zone_id : "*");
		if (!x->f->zone_id[0])
			note(x, "route53: hostedzone/* because the id of %s was not looked up; "
			    "give --zone-id to name it.", c->dns.zone);
		break;
	case IAM_R_R53_CHANGES:
		set_add(s, "arn:aws:route53:::change/*");
		note(x, "%s: change/* because %s.", row->action, row->why);
		break;
	case IAM_R_EC2_GROUPS:
		set_add(s, "arn:aws:ec2:%s:%s:security-group/*", rg, a);
		note(x, "%s: security-group/* because %s.", row->action, row->why);
		break;
	case IAM_R_EC2_INSTANCES:
		set_add(s, "arn:aws:ec2:%s:%s:instance/*", rg, a);
		note(x, "%s: instance/* because %s.", row->action, row->why);
		break;
	case IAM_R_SSM_START:
		set_add(s, "arn:aws:ec2:%s:%s:instance/*", rg, a);
		set_add(s, "arn:aws:ssm:%s::document/AWS-StartSSHSession", rg);
		note(x, "%s: instance/* because %s.", row->action, row->why);
		break;
	case IAM_R_SSM_SESSIONS:
		set_add(s, "arn:aws:ssm:%s:%s:session/*", rg, a);
		note(x, "%s: session/* because %s.", row->action, row->why);
		break;
	case IAM_R_CFN_EB_STACKS:
		set_add(s, "arn:aws:cloudformation:%s:%s:stack/awseb-*", rg, a);
		break;
	case IAM_R_S3_EB_BUCKET:
		set_add(s, "arn:aws:s3:::elasticbeanstalk-%s-%s", rg, a);
		set_add(s, "arn:aws:s3:::elasticbeanstalk-%s-%s/*", rg, a);
		break;
	case IAM_R_CW_EB_ALARMS:
		set_add(s, "arn:aws:cloudwatch:%s:%s:alarm:awseb-*", rg, a);
		break;
	case IAM_R_SNS_EB_TOPICS:
		set_add(s, "arn:aws:sns:%s:%s:ElasticBeanstalkNotifications-*", rg, a);
		break;
	case IAM_R_LOGS_EB_GROUPS:
		set_add(s, "arn:aws:logs:%s:%s:log-group:/aws/elasticbeanstalk/*", rg, a);
		break;
	case IAM_R_IAM_EB_ROLES:
		set_add(s, "arn:aws:iam::%s:role/aws-elasticbeanstalk-*", a);
		note(x, "%s: %s.", row->group, row->why);
		break;
	}
}

/* "ec2-instance-connect:SendSSHPublicKey" -> "Ec2InstanceConnectSendSSHPublicKey":
 * IAM allows only letters and digits in a Sid. */
static void
sid_of(const char *action, char *out, size_t size)
{
	size_t n = 0;
	int up = 1;

	for (const char *p = action; *p && n + 1 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
			out[n++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
			up = 0;
		} else {
			up = 1;
		}
	}
	out[n] = '\0';
}

static int
row_applies(const struct cfg *c, const struct iam_row *r, unsigned cmds)
{
	if ((r->cmds & cmds) == 0)
		return 0;
	if (r->when == IAM_IF_EIC && !c->ssh.instance_connect)
		return 0;
	if (r->when == IAM_IF_REPLICA && strcmp(c->db.method, "replica") != 0)
		return 0;
	if (r->when == IAM_IF_OPEN_PORT && !c->ssh.open_port)
		return 0;
	if (r->when == IAM_IF_SSM && c->ssh.transport != CFG_TRANSPORT_SSM)
		return 0;
	return 1;
}

static struct json_object *
str_array(struct strset *s)
{
	struct json_object *a = json_object_new_array();

	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (size_t i = 0; a && i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

static int
cmp_sid(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a, *y = *(struct json_object *const *)b;
	struct json_object *sx, *sy;

	json_object_object_get_ex(x, "Sid", &sx);
	json_object_object_get_ex(y, "Sid", &sy);
	return strcmp(json_object_get_string(sx), json_object_get_string(sy));
}

/* One statement: every applying row of `key` (a group's Sid or an action). */
static struct json_object *
statement(struct ctx *x, const char *key, int is_group, unsigned cmds)
{
	struct strset acts = { 0 }, res = { 0 };
	struct json_object *st = NULL;
	char sid[128];
	int eic = 0;

	for (size_t i = 0; i < iam_ntable; i++) {
		const struct iam_row *r = &iam_table[i];

		if (!row_applies(x->cfg, r, cmds) ||
		    (is_group ? !r->group || strcmp(r->group, key) != 0 : r->group || strcmp(r->action, key) != 0))
			continue;
		set_add(&acts, "%s", r->action);
		resources(x, r, &res);
		eic |= r->res == IAM_R_EC2_INSTANCES;
	}
	if (acts.oom || res.oom || acts.n == 0 || res.n == 0)
		goto out;
	if (is_group)
		snprintf(sid, sizeof(sid), "%s", key);
	else
		sid_of(key, sid, sizeof(sid));
	if ((st = json_object_new_object()) == NULL)
		goto out;
	json_object_object_add(st, "Sid", json_object_new_string(sid));
	json_object_object_add(st, "Effect", json_object_new_string("Allow"));
	json_object_object_add(st, "Action", str_array(&acts));
	json_object_object_add(st, "Resource", str_array(&res));
	if (eic) {
		/* Instance Connect keys only for the configured login user. */
		struct json_object *cond = json_object_new_object(), *eq = json_object_new_object();

		json_object_object_add(eq, "ec2:osuser", json_object_new_string(x->cfg->ssh.user));
		json_object_object_add(cond, "StringEquals", eq);
		json_object_object_add(st, "Condition", cond);
	}
out:
	set_free(&acts);
	set_free(&res);
	return st;
}

int
iam_policy(const struct cfg *cfg, const struct iam_facts *facts, unsigned cmds,
    iam_note_fn notefn, void *user, struct json_object **out, struct cut_err *err)
{
	struct ctx x = { .cfg = cfg, .f = facts, .note = notefn, .user = user };
	struct strset keys = { 0 }, groups = { 0 };
	struct json_object *doc = NULL, *sts = NULL;
	struct json_object **v = NULL;
	size_t nv = 0, i;
	int r = 0;

	*out = NULL;
	if ((cmds & IAM_ALL) == 0)
		return cut_err_set(err, CUT_EINVAL, "No runbook command selected for the policy; "
		    "give --for plan, prep, run, failback, tidy, rehearse or all.");
	x.acct = facts->account[0] ? facts->account : "*";
	x.live = facts->live_db[0] ? facts->live_db : "*";
	if (!facts->account[0])
		note(&x, "account: * in every ARN because the account was not looked up; give --account to name it.");
	if (!facts->live_db[0] && (cmds & (IAM_RUN | IAM_TIDY | IAM_REHEARSE)))
		note(&x, "rds: the live database is * because it was not looked up (it is the one the live "
		    "environment's RDS_HOSTNAME names); give --live-db to name it.");
	for (i = 0; i < iam_ntable; i++) {
		if (!row_applies(cfg, &iam_table[i], cmds))
			continue;
		if (iam_table[i].group)
			set_add(&groups, "%s", iam_table[i].group);
		else
			set_add(&keys, "%s", iam_table[i].action);
	}
	if (keys.oom || groups.oom || (v = calloc(keys.n + groups.n, sizeof(*v))) == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory building the IAM policy.");
		goto out;
	}
	for (i = 0; i < keys.n + groups.n; i++) {
		int g = i >= keys.n;
		struct json_object *st = statement(&x, g ? groups.v[i - keys.n] : keys.v[i], g, cmds);

		if (st != NULL)
			v[nv++] = st;
	}
	qsort(v, nv, sizeof(*v), cmp_sid);
	if ((doc = json_object_new_object()) == NULL || (sts = json_object_new_array()) == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory building the IAM policy.");
		for (i = 0; i < nv; i++)
			json_object_put(v[i]);
		json_object_put(doc);
		doc = NULL;
		goto out;
	}
	json_object_object_add(doc, "Version", json_object_new_string("2012-10-17"));
	for (i = 0; i < nv; i++)
		json_object_array_add(sts, v[i]);
	json_object_object_add(doc, "Statement", sts);
	*out = doc;
out:
	free(v);
	set_free(&keys);
	set_free(&groups);
	set_free(&x.noted);
	return r;
}
