/* aws/ec2.c: see aws/ec2.h. */
#include "aws/ec2.h"

#include <stdlib.h>
#include <string.h>

static void
parse_instance(xmlNode *m, struct ec2_instance *i)
{
	xmlNode *g;

	memset(i, 0, sizeof(*i));
	axml_copy(m, "instanceId", i->id, sizeof(i->id));
	axml_copy(m, "instanceState/name", i->state, sizeof(i->state));
	axml_copy(m, "instanceType", i->type, sizeof(i->type));
	axml_copy(m, "keyName", i->key_name, sizeof(i->key_name));
	axml_copy(m, "ipAddress", i->public_ip, sizeof(i->public_ip));
	axml_copy(m, "privateIpAddress", i->private_ip, sizeof(i->private_ip));
	axml_copy(m, "placement/availabilityZone", i->az, sizeof(i->az));
	axml_copy(m, "vpcId", i->vpc_id, sizeof(i->vpc_id));
	axml_copy(m, "subnetId", i->subnet_id, sizeof(i->subnet_id));
	axml_copy(m, "launchTime", i->launch_time, sizeof(i->launch_time));
	for (g = axml_path(m, "groupSet/item"); g && i->nsg < EC2_MAX_SG; g = axml_next(g))
		axml_copy(g, "groupId", i->sg_ids[i->nsg++], sizeof(i->sg_ids[0]));
	for (g = axml_path(m, "tagSet/item"); g; g = axml_next(g)) {
		char key[128];
		axml_copy(g, "key", key, sizeof(key));
		if (strcmp(key, "Name") == 0)
			axml_copy(g, "value", i->name_tag, sizeof(i->name_tag));
		else if (strcmp(key, "elasticbeanstalk:environment-name") == 0)
			axml_copy(g, "value", i->eb_env_tag, sizeof(i->eb_env_tag));
	}
}

int
ec2_parse_instances(xmlDoc *d, struct ec2_instance_list *out, char *next, size_t nsz)
{
	xmlNode *root = xmlDocGetRootElement(d), *res, *m;
	size_t cap = out->n;

	if (next)
		axml_copy(root, "nextToken", next, nsz);
	for (res = axml_path(root, "reservationSet/item"); res; res = axml_next(res))
		for (m = axml_path(res, "instancesSet/item"); m; m = axml_next(m)) {
			struct ec2_instance *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
			if (nv == NULL)
				return CUT_ENOMEM;
			out->v = nv;
			parse_instance(m, &nv[out->n++]);
		}
	return 0;
}

struct ec2_ctx {
	struct aws_client *c;
	const char *const *ids;
	size_t nids;
	const char *id_param;     /* "InstanceId" / "GroupId" */
	const struct ec2_filter *filters;
	size_t nfilters;
	void *out;
};

static void
ec2_build(struct aws_params *p, void *vx)
{
	struct ec2_ctx *x = vx;
	size_t i;

	for (i = 0; i < x->nids; i++)
		aws_paramf(p, x->ids[i], "%s.%zu", x->id_param, i + 1);
	for (i = 0; i < x->nfilters; i++) {
		aws_paramf(p, x->filters[i].name, "Filter.%zu.Name", i + 1);
		aws_paramf(p, x->filters[i].value, "Filter.%zu.Value.1", i + 1);
	}
	/* EC2 refuses MaxResults together with ids. */
	if (x->nids == 0 && aws_client_page_size(x->c) > 0)
		aws_param_long(p, "MaxResults", aws_client_page_size(x->c) < 5 ? 5 : aws_client_page_size(x->c));
}

static int
instances_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	return ec2_parse_instances(d, ((struct ec2_ctx *)vx)->out, next, nsz);
}

static int
groups_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	return ec2_parse_security_groups(d, ((struct ec2_ctx *)vx)->out, next, nsz);
}

int
ec2_describe_instances(struct aws_client *c, const char *const *ids, size_t nids,
    const struct ec2_filter *filters, size_t nfilters, struct ec2_instance_list *out,
    struct cut_err *err)
{
	struct ec2_ctx x = { c, ids, nids, "InstanceId", filters, nfilters, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_ec2, "DescribeInstances", "NextToken", ec2_build,
	    instances_parse, &x, err)) != 0)
		ec2_instance_list_free(out);
	return r;
}

void
ec2_instance_list_free(struct ec2_instance_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
ec2_parse_security_groups(xmlDoc *d, struct ec2_security_group_list *out, char *next, size_t nsz)
{
	xmlNode *root = xmlDocGetRootElement(d), *m, *perm, *rng;
	size_t cap = out->n;

	if (next)
		axml_copy(root, "nextToken", next, nsz);
	for (m = axml_path(root, "securityGroupInfo/item"); m; m = axml_next(m)) {
		struct ec2_security_group *g, *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
		size_t rcap = 0;
		if (nv == NULL)
			return CUT_ENOMEM;
		out->v = nv;
		g = &nv[out->n++];
		memset(g, 0, sizeof(*g));
		axml_copy(m, "groupId", g->id, sizeof(g->id));
		axml_copy(m, "groupName", g->name, sizeof(g->name));
		axml_copy(m, "vpcId", g->vpc_id, sizeof(g->vpc_id));
		axml_copy(m, "groupDescription", g->description, sizeof(g->description));
		for (perm = axml_path(m, "ipPermissions/item"); perm; perm = axml_next(perm))
			for (rng = axml_path(perm, "ipRanges/item"); rng; rng = axml_next(rng)) {
				struct ec2_sg_rule *rule, *nr = aws_array_grow(g->rules, g->nrules, &rcap, sizeof(*nr));
				if (nr == NULL)
					return CUT_ENOMEM;
				g->rules = nr;
				rule = &nr[g->nrules++];
				memset(rule, 0, sizeof(*rule));
				axml_copy(perm, "ipProtocol", rule->proto, sizeof(rule->proto));
				rule->from_port = (int)axml_long(perm, "fromPort", -1);
				rule->to_port = (int)axml_long(perm, "toPort", -1);
				axml_copy(rng, "cidrIp", rule->cidr, sizeof(rule->cidr));
				axml_copy(rng, "description", rule->description, sizeof(rule->description));
			}
	}
	return 0;
}

int
ec2_describe_security_groups(struct aws_client *c, const char *const *ids, size_t nids,
    struct ec2_security_group_list *out, struct cut_err *err)
{
	struct ec2_ctx x = { c, ids, nids, "GroupId", NULL, 0, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_ec2, "DescribeSecurityGroups", "NextToken", ec2_build,
	    groups_parse, &x, err)) != 0)
		ec2_security_group_list_free(out);
	return r;
}

void
ec2_security_group_list_free(struct ec2_security_group_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].rules);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
ingress_params(struct aws_params *p, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, const char *description)
{
	aws_param(p, "GroupId", group_id);
	aws_param(p, "IpPermissions.1.IpProtocol", proto);
	aws_param_long(p, "IpPermissions.1.FromPort", from_port);
	aws_param_long(p, "IpPermissions.1.ToPort", to_port);
	aws_param(p, "IpPermissions.1.IpRanges.1.CidrIp", cidr);
	aws_param(p, "IpPermissions.1.IpRanges.1.Description", description);
}

int
ec2_authorize_ingress(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, const char *description, int *already,
    struct cut_err *err)
{
	return ec2_authorize_ingress_rule(c, group_id, proto, from_port, to_port, cidr, description, already,
	    NULL, 0, err);
}

int
ec2_authorize_ingress_rule(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, const char *description, int *already,
    char *rule_id, size_t idlen, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	if (already)
		*already = 0;
	if (rule_id != NULL && idlen > 0)
		rule_id[0] = '\0';
	aws_params_init(&p, &aws_svc_ec2, "AuthorizeSecurityGroupIngress");
	ingress_params(&p, group_id, proto, from_port, to_port, cidr, description);
	r = aws_query(c, &aws_svc_ec2, "AuthorizeSecurityGroupIngress", &p, &d, err);
	if (r != 0) {
		if (strcmp(aws_client_last_code(c), "InvalidPermission.Duplicate") == 0) {
			cut_err_clear(err);
			if (already)
				*already = 1;
			return 0;
		}
		return r;
	}
	if (rule_id != NULL && idlen > 0)
		axml_copy(xmlDocGetRootElement(d), "securityGroupRuleSet/item/securityGroupRuleId", rule_id, idlen);
	xmlFreeDoc(d);
	return 0;
}

int
ec2_revoke_ingress_rule(struct aws_client *c, const char *group_id, const char *rule_id, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	aws_params_init(&p, &aws_svc_ec2, "RevokeSecurityGroupIngress");
	aws_param(&p, "GroupId", group_id);
	aws_param(&p, "SecurityGroupRuleId.1", rule_id);
	r = aws_query(c, &aws_svc_ec2, "RevokeSecurityGroupIngress", &p, &d, err);
	if (r != 0) {
		if (strcmp(aws_client_last_code(c), "InvalidSecurityGroupRuleId.NotFound") == 0) {
			cut_err_clear(err);
			return 0;
		}
		return r;
	}
	xmlFreeDoc(d);
	return 0;
}

int
ec2_revoke_ingress(struct aws_client *c, const char *group_id, const char *proto,
    int from_port, int to_port, const char *cidr, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	aws_params_init(&p, &aws_svc_ec2, "RevokeSecurityGroupIngress");
	ingress_params(&p, group_id, proto, from_port, to_port, cidr, NULL);
	r = aws_query(c, &aws_svc_ec2, "RevokeSecurityGroupIngress", &p, &d, err);
	if (r != 0) {
		if (strcmp(aws_client_last_code(c), "InvalidPermission.NotFound") == 0) {
			cut_err_clear(err);
			return 0;
		}
		return r;
	}
	xmlFreeDoc(d);
	return 0;
}
