/* libFuzzer target: AWS response and error parsing (axml_, eb_, rds_, ec2_,
 * r53_ parsers) on arbitrary bytes. Nothing may crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "aws/eb.h"
#include "aws/ec2.h"
#include "aws/r53.h"
#include "aws/rds.h"

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_error e;
	xmlDoc *d;
	char next[256], nt[256], ni[256];
	int trunc;

	xmlSetGenericErrorFunc(NULL, quiet);
	axml_parse_error((const char *)data, size, &e);
	if ((d = axml_parse((const char *)data, size)) == NULL)
		return 0;
	{
		struct eb_env_list l = { 0 };
		eb_parse_environments(d, &l, next, sizeof(next));
		eb_env_list_free(&l);
	}
	{
		struct eb_config_settings_list l = { 0 };
		eb_parse_configuration_settings(d, &l);
		eb_config_settings_list_free(&l);
	}
	{
		struct eb_event_list l = { 0 };
		eb_parse_events(d, &l, next, sizeof(next));
		eb_event_list_free(&l);
	}
	{
		struct rds_snapshot_list l = { 0 };
		rds_parse_snapshots(d, "DescribeDBSnapshots", &l, next, sizeof(next));
		rds_latest_snapshot(&l);
		rds_snapshot_list_free(&l);
	}
	{
		struct rds_instance_list l = { 0 };
		rds_parse_instances(d, "DescribeDBInstances", &l, next, sizeof(next));
		rds_instance_list_free(&l);
	}
	{
		struct ec2_instance_list l = { 0 };
		ec2_parse_instances(d, &l, next, sizeof(next));
		ec2_instance_list_free(&l);
	}
	{
		struct ec2_security_group_list l = { 0 };
		ec2_parse_security_groups(d, &l, next, sizeof(next));
		ec2_security_group_list_free(&l);
	}
	{
		struct r53_record_list l = { 0 };
		struct r53_change_info ci;
		r53_parse_records(d, &l, &trunc, next, nt, ni, sizeof(next));
		r53_record_find(&l, "myabf.com.au", NULL);
		r53_record_list_free(&l);
		r53_parse_change_info(d, &ci);
	}
	axml_find(xmlDocGetRootElement(d), "Value");
	xmlFreeDoc(d);
	return 0;
}
