/* aws/ec2.h: the EC2 calls the cutover makes (EC2 protocol, 2016-11-15): finding
 * an environment's instances and opening/closing port 22 for one address.
 * Lists are freed by the caller with the matching *_free. */
#ifndef CUTOVER_EC2_H
#define CUTOVER_EC2_H

#include <stddef.h>

#include "aws/client.h"

#define EC2_MAX_SG 16

struct ec2_instance {
	char id[32];
	char state[32];          /* pending, running, stopping, stopped, shutting-down, terminated */
	char type[32];
	char key_name[128];
	char public_ip[64];
	char private_ip[64];
	char az[32];
	char vpc_id[32];
	char subnet_id[32];
	char launch_time[40];
	char name_tag[256];      /* tag Name */
	char eb_env_tag[128];    /* tag elasticbeanstalk:environment-name */
	char sg_ids[EC2_MAX_SG][32];
	size_t nsg;
};

struct ec2_instance_list {
	struct ec2_instance *v;
	size_t n;
};

struct ec2_filter {
	const char *name;        /* "tag:elasticbeanstalk:environment-name" */
	const char *value;       /* one value */
};

/* DescribeInstances by ids and/or filters, following NextToken. */
int ec2_describe_instances(struct aws_client *c, const char *const *ids, size_t nids,
    const struct ec2_filter *filters, size_t nfilters, struct ec2_instance_list *out,
    struct cut_err *err);
void ec2_instance_list_free(struct ec2_instance_list *l);

struct ec2_sg_rule {
	char proto[8];           /* "tcp", "-1" */
	int from_port, to_port;  /* -1 when absent */
	char cidr[64];
	char description[256];
};

struct ec2_security_group {
	char id[32];
	char name[256];
	char vpc_id[32];
	char description[256];
	struct ec2_sg_rule *rules; /* ingress, one entry per CIDR; owned */
	size_t nrules;
};

struct ec2_security_group_list {
	struct ec2_security_group *v;
	size_t n;
};

int ec2_describe_security_groups(struct aws_client *c, const char *const *ids, size_t nids,
    struct ec2_security_group_list *out, struct cut_err *err);
void ec2_security_group_list_free(struct ec2_security_group_list *l);

/* Opens proto/port range to one CIDR (e.g. the operator's "203.0.113.7/32").
 * An identical rule already there is not an error: *already (if not NULL)
 * is set to 1, and the caller must then NOT revoke it afterwards. */
int ec2_authorize_ingress(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, const char *description, int *already,
    struct cut_err *err);
/* Revokes the rule; a rule that is already gone is not an error. */
int ec2_revoke_ingress(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, struct cut_err *err);

/* As ec2_authorize_ingress, and the new rule's SecurityGroupRuleId into
 * rule_id ("" when the rule was already there: *already is then 1). */
int ec2_authorize_ingress_rule(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, const char *description, int *already,
    char *rule_id, size_t idlen, struct cut_err *err);
/* Revokes exactly the rule rule_id of group_id (not another rule that
 * happens to open the same port to the same address); a rule that is
 * already gone is not an error. */
int ec2_revoke_ingress_rule(struct aws_client *c, const char *group_id, const char *rule_id,
    struct cut_err *err);

/* Parsers for tests and the fuzzer. */
int ec2_parse_instances(xmlDoc *d, struct ec2_instance_list *out, char *next, size_t nsz);
int ec2_parse_security_groups(xmlDoc *d, struct ec2_security_group_list *out, char *next, size_t nsz);

#endif
