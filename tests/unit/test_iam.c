/* Unit tests for world/iam.c, the IAM policy `cutover iam-policy` prints:
 * every action of the table is emitted, ARNs are built from the
 * configuration and the facts, each command's policy is a subset of the
 * whole one (and plan's changes nothing), the [ssh] settings add or drop
 * their actions, and the output is valid IAM policy JSON, sorted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "world/config.h"
#include "world/iam.h"

static const char *BASE =
	"[aws]\nregion = ap-southeast-2\napplication = cobalt\n"
	"[pair web]\nenvironments = cobalt-production-blue, cobalt-production-green\n"
	"records = myabf.com.au, www.myabf.com.au\n"
	"[pair ses]\nenvironments = cobalt-ses-production-blue, cobalt-ses-production-green\n"
	"records = ses.myabf.com.au\n"
	"[database]\nnew = cobalt-production-green\nclass = db.t3.small\nname = ebdb\n"
	"[dns]\nzone = myabf.com.au\n"
	"[rehearse]\nenvironment = cobalt-test-black\ndatabase = cobalt-test-black-prod\n"
	"snapshot = rds:production-blue-2026-11-24-14-10\n";

static const struct iam_facts FACTS = { "123456789012", "Z0FAKEMYABF00000001", "production-blue" };

static void
load(struct cfg *c, const char *ssh)
{
	char text[2048];
	struct cut_err err;

	snprintf(text, sizeof(text), "%s[ssh]\n%s", BASE, ssh);
	if (cfg_parse_text("t.ini", text, c, &err) != 0)
		fail_msg("%s", err.msg);
}

struct notes {
	int n;
	char all[8192];
};

static void
collect(void *user, const char *note)
{
	struct notes *x = user;

	x->n++;
	strncat(x->all, note, sizeof(x->all) - strlen(x->all) - 2);
	strcat(x->all, "\n");
}

static struct json_object *
policy(const struct cfg *c, const struct iam_facts *f, unsigned cmds, struct notes *nt)
{
	struct json_object *doc;
	struct cut_err err;

	if (iam_policy(c, f, cmds, nt ? collect : NULL, nt, &doc, &err) != 0)
		fail_msg("%s", err.msg);
	return doc;
}

/* The statement whose Action list holds action (outside the EbOnBehalf
 * groups), or NULL. */
static struct json_object *
stmt_of(struct json_object *doc, const char *action)
{
	struct json_object *sts, *st, *acts, *sid;

	json_object_object_get_ex(doc, "Statement", &sts);
	for (size_t i = 0; i < json_object_array_length(sts); i++) {
		st = json_object_array_get_idx(sts, i);
		json_object_object_get_ex(st, "Sid", &sid);
		if (strncmp(json_object_get_string(sid), "EbOnBehalf", 10) == 0)
			continue;
		json_object_object_get_ex(st, "Action", &acts);
		for (size_t k = 0; k < json_object_array_length(acts); k++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(acts, k)), action) == 0)
				return st;
	}
	return NULL;
}

/* Any statement (groups included) allowing action on exactly resource. */
static int
allows(struct json_object *doc, const char *action, const char *resource)
{
	struct json_object *sts, *st, *acts, *res;

	json_object_object_get_ex(doc, "Statement", &sts);
	for (size_t i = 0; i < json_object_array_length(sts); i++) {
		int a = 0, r = 0;

		st = json_object_array_get_idx(sts, i);
		json_object_object_get_ex(st, "Action", &acts);
		json_object_object_get_ex(st, "Resource", &res);
		for (size_t k = 0; k < json_object_array_length(acts); k++)
			a |= strcmp(json_object_get_string(json_object_array_get_idx(acts, k)), action) == 0;
		for (size_t k = 0; k < json_object_array_length(res); k++)
			r |= strcmp(json_object_get_string(json_object_array_get_idx(res, k)), resource) == 0;
		if (a && r)
			return 1;
	}
	return 0;
}

static int
has_resource(struct json_object *st, const char *arn)
{
	struct json_object *res;

	json_object_object_get_ex(st, "Resource", &res);
	for (size_t k = 0; k < json_object_array_length(res); k++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(res, k)), arn) == 0)
			return 1;
	return 0;
}

static void
test_every_action_emitted(void **state)
{
	struct cfg c;
	struct json_object *doc;

	(void)state;
	struct cfg c2;
	struct json_object *doc2;

	load(&c, "user = ec2-user\ninstance_connect = yes\nopen_port = yes\n");
	snprintf(c.db.method, sizeof(c.db.method), "replica");
	doc = policy(&c, &FACTS, IAM_ALL, NULL);
	/* The Session Manager rows come with transport = ssm, which open_port excludes. */
	load(&c2, "user = ec2-user\ninstance_connect = yes\ntransport = ssm\n");
	doc2 = policy(&c2, &FACTS, IAM_ALL, NULL);
	for (size_t i = 0; i < iam_ntable; i++) {
		char probe[512];
		struct json_object *sts;
		int found = 0;

		json_object_object_get_ex(iam_table[i].when == IAM_IF_SSM ? doc2 : doc, "Statement", &sts);
		snprintf(probe, sizeof(probe), "\"%s\"", iam_table[i].action);
		found = strstr(json_object_to_json_string_ext(sts, JSON_C_TO_STRING_NOSLASHESCAPE), probe) != NULL;
		if (!found)
			fail_msg("%s is in the table but not in the policy", iam_table[i].action);
		if (iam_table[i].cmds == 0 || (iam_table[i].cmds & ~(unsigned)IAM_ALL) != 0)
			fail_msg("%s: bad command bits", iam_table[i].action);
		if (iam_table[i].res == IAM_R_ANY && iam_table[i].why == NULL)
			fail_msg("%s: \"*\" without the reason", iam_table[i].action);
	}
	json_object_put(doc);
	json_object_put(doc2);
	/* The replica's actions only with [database] method = replica (issue 13). */
	load(&c, "user = ec2-user\n");
	doc = policy(&c, &FACTS, IAM_ALL, NULL);
	assert_null(strstr(json_object_to_json_string(doc), "PromoteReadReplica"));
	assert_null(strstr(json_object_to_json_string(doc), "CreateDBInstanceReadReplica"));
	json_object_put(doc);
}

static void
test_arns_from_config_and_facts(void **state)
{
	struct cfg c;
	struct json_object *doc, *st, *cond;

	(void)state;
	load(&c, "user = ec2-user\ninstance_connect = yes\n");
	doc = policy(&c, &FACTS, IAM_ALL, NULL);
	assert_true(allows(doc, "elasticbeanstalk:UpdateEnvironment",
	    "arn:aws:elasticbeanstalk:ap-southeast-2:123456789012:environment/cobalt/cobalt-ses-production-blue"));
	assert_true(allows(doc, "elasticbeanstalk:UpdateEnvironment",
	    "arn:aws:elasticbeanstalk:ap-southeast-2:123456789012:environment/cobalt/cobalt-test-black"));
	assert_true(allows(doc, "elasticbeanstalk:CreateConfigurationTemplate",
	    "arn:aws:elasticbeanstalk:ap-southeast-2:123456789012:configurationtemplate/cobalt/cobalt-production-green-cutover"));
	assert_true(allows(doc, "elasticbeanstalk:DescribeEnvironments",
	    "arn:aws:elasticbeanstalk:ap-southeast-2:123456789012:environment/cobalt/*"));
	assert_true(allows(doc, "rds:CreateDBSnapshot", "arn:aws:rds:ap-southeast-2:123456789012:db:production-blue"));
	assert_true(allows(doc, "rds:CreateDBSnapshot",
	    "arn:aws:rds:ap-southeast-2:123456789012:snapshot:production-blue-cutover-*"));
	assert_true(allows(doc, "rds:CreateDBSnapshot",
	    "arn:aws:rds:ap-southeast-2:123456789012:snapshot:production-blue-final-*"));
	assert_true(allows(doc, "rds:RestoreDBInstanceFromDBSnapshot",
	    "arn:aws:rds:ap-southeast-2:123456789012:db:cobalt-production-green"));
	assert_true(allows(doc, "rds:RestoreDBInstanceFromDBSnapshot",
	    "arn:aws:rds:ap-southeast-2:123456789012:db:cobalt-test-black-prod"));
	assert_true(allows(doc, "rds:RestoreDBInstanceFromDBSnapshot",
	    "arn:aws:rds:ap-southeast-2:123456789012:snapshot:rds:production-blue-2026-11-24-14-10"));
	assert_true(allows(doc, "rds:AddTagsToResource", "arn:aws:rds:ap-southeast-2:123456789012:db:cobalt-production-green"));
	assert_true(allows(doc, "rds:DeleteDBInstance", "arn:aws:rds:ap-southeast-2:123456789012:db:production-blue"));
	assert_false(allows(doc, "rds:DeleteDBInstance", "arn:aws:rds:ap-southeast-2:123456789012:db:cobalt-production-green"));
	assert_true(allows(doc, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0FAKEMYABF00000001"));
	assert_true(allows(doc, "route53:ListHostedZonesByName", "*"));
	assert_true(allows(doc, "ec2:DescribeInstances", "*"));
	assert_true(allows(doc, "iam:PassRole", "arn:aws:iam::123456789012:role/aws-elasticbeanstalk-*"));
	assert_true(allows(doc, "s3:PutObject", "arn:aws:s3:::elasticbeanstalk-ap-southeast-2-123456789012/*"));
	/* Instance Connect only for the configured user. */
	assert_non_null(st = stmt_of(doc, "ec2-instance-connect:SendSSHPublicKey"));
	assert_true(has_resource(st, "arn:aws:ec2:ap-southeast-2:123456789012:instance/*"));
	assert_true(json_object_object_get_ex(st, "Condition", &cond));
	assert_string_equal(json_object_to_json_string_ext(cond, JSON_C_TO_STRING_PLAIN),
	    "{\"StringEquals\":{\"ec2:osuser\":\"ec2-user\"}}");
	/* A configured snapshot name is used as is. */
	json_object_put(doc);
	{
		char text[2048];
		struct cut_err err;

		snprintf(text, sizeof(text), "%s[ssh]\nuser = u\n", BASE);
		*strstr(text, "name = ebdb") = '\0';
		strcat(text, "name = ebdb\nsnapshot = prod-cut-1\n[dns]\nzone = myabf.com.au\n[ssh]\nuser = u\n");
		if (cfg_parse_text("t.ini", text, &c, &err) != 0)
			fail_msg("%s", err.msg);
		doc = policy(&c, &FACTS, IAM_RUN, NULL);
		st = stmt_of(doc, "rds:CreateDBSnapshot");
		assert_true(has_resource(st, "arn:aws:rds:ap-southeast-2:123456789012:snapshot:prod-cut-1"));
		assert_false(has_resource(st, "arn:aws:rds:ap-southeast-2:123456789012:snapshot:production-blue-cutover-*"));
		json_object_put(doc);
	}
}

static void
test_unknown_facts_are_wildcards_with_notes(void **state)
{
	struct cfg c;
	struct iam_facts none = { "", "", "" };
	struct notes nt = { 0 };
	struct json_object *doc;

	(void)state;
	load(&c, "user = ec2-user\n");
	doc = policy(&c, &none, IAM_ALL, &nt);
	assert_true(allows(doc, "rds:DeleteDBInstance", "arn:aws:rds:ap-southeast-2:*:db:*"));
	assert_true(allows(doc, "route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/*"));
	assert_non_null(strstr(nt.all, "give --account to name it"));
	assert_non_null(strstr(nt.all, "give --zone-id to name it"));
	assert_non_null(strstr(nt.all, "give --live-db to name it"));
	assert_non_null(strstr(nt.all, "ec2:DescribeInstances: Resource \"*\" because EC2 Describe actions"));
	json_object_put(doc);
	/* Each note once, even when several rows share it. */
	assert_null(strstr(strstr(nt.all, "give --zone-id") + 1, "give --zone-id"));
	memset(&nt, 0, sizeof(nt));
	doc = policy(&c, &FACTS, IAM_ALL, &nt);
	assert_null(strstr(nt.all, "give --"));
	json_object_put(doc);
}

/* Every (action, resource) of doc is in all. */
static void
assert_subset(struct json_object *doc, struct json_object *all, const char *what)
{
	struct json_object *sts, *st, *acts, *res;

	json_object_object_get_ex(doc, "Statement", &sts);
	for (size_t i = 0; i < json_object_array_length(sts); i++) {
		st = json_object_array_get_idx(sts, i);
		json_object_object_get_ex(st, "Action", &acts);
		json_object_object_get_ex(st, "Resource", &res);
		for (size_t a = 0; a < json_object_array_length(acts); a++)
			for (size_t r = 0; r < json_object_array_length(res); r++)
				if (!allows(all, json_object_get_string(json_object_array_get_idx(acts, a)),
				    json_object_get_string(json_object_array_get_idx(res, r))))
					fail_msg("%s allows %s on %s, which --for all does not", what,
					    json_object_get_string(json_object_array_get_idx(acts, a)),
					    json_object_get_string(json_object_array_get_idx(res, r)));
	}
}

static void
test_subsets(void **state)
{
	static const char *const names[] = { "plan", "prep", "run", "failback", "tidy", "rehearse" };
	static const char *const changes[] = { "Create", "Update", "Delete", "Restore", "Terminate",
		"Change", "AddTags", NULL };
	struct cfg c;
	struct json_object *all, *one, *two;

	(void)state;
	load(&c, "user = ec2-user\ninstance_connect = yes\nopen_port = yes\n");
	all = policy(&c, &FACTS, IAM_ALL, NULL);
	for (size_t i = 0; i < 6; i++) {
		unsigned b = iam_cmd_bits(names[i]);

		assert_int_equal(b, 1u << i);
		one = policy(&c, &FACTS, b, NULL);
		assert_subset(one, all, names[i]);
		if (i < 5) {
			two = policy(&c, &FACTS, b | (1u << (i + 1)), NULL);
			assert_subset(one, two, names[i]);
			json_object_put(two);
		}
		json_object_put(one);
	}
	/* plan changes nothing in AWS: no changing action (Instance Connect keys
	 * and, with open_port, the session's port 22 rule aside: plan's SSH
	 * preflight reaches the instances and revokes the rule afterwards). */
	one = policy(&c, &FACTS, IAM_PLAN, NULL);
	{
		const char *s = json_object_to_json_string(one);

		for (size_t k = 0; changes[k]; k++) {
			char probe[64];

			snprintf(probe, sizeof(probe), ":%s", changes[k]);
			if (strstr(s, probe) != NULL)
				fail_msg("plan's policy allows a %s action", changes[k]);
		}
		assert_null(strstr(s, "EbOnBehalf"));
	}
	json_object_put(one);
	/* tidy does not reach instances; run does not delete. */
	one = policy(&c, &FACTS, IAM_TIDY, NULL);
	assert_null(stmt_of(one, "ec2-instance-connect:SendSSHPublicKey"));
	assert_non_null(stmt_of(one, "rds:DeleteDBInstance"));
	json_object_put(one);
	one = policy(&c, &FACTS, IAM_RUN | IAM_PREP, NULL);
	assert_null(stmt_of(one, "rds:DeleteDBInstance"));
	assert_null(stmt_of(one, "elasticbeanstalk:TerminateEnvironment"));
	json_object_put(one);
	json_object_put(all);
	assert_int_equal(iam_cmd_bits("all"), IAM_ALL);
	assert_int_equal(iam_cmd_bits("status"), 0);
}

static void
test_ssh_settings(void **state)
{
	struct cfg c;
	struct json_object *doc;

	(void)state;
	load(&c, "user = ec2-user\nidentity = /k\ninstance_connect = no\nopen_port = no\n");
	doc = policy(&c, &FACTS, IAM_ALL, NULL);
	assert_null(stmt_of(doc, "ec2-instance-connect:SendSSHPublicKey"));
	assert_null(stmt_of(doc, "ec2:AuthorizeSecurityGroupIngress"));
	json_object_put(doc);
	load(&c, "user = ec2-user\nidentity = /k\ninstance_connect = no\nopen_port = yes\n");
	doc = policy(&c, &FACTS, IAM_RUN, NULL);
	assert_non_null(stmt_of(doc, "ec2:AuthorizeSecurityGroupIngress"));
	assert_true(has_resource(stmt_of(doc, "ec2:RevokeSecurityGroupIngress"),
	    "arn:aws:ec2:ap-southeast-2:123456789012:security-group/*"));
	json_object_put(doc);
}

static void
test_valid_sorted_json(void **state)
{
	struct cfg c;
	struct json_object *doc, *back, *v, *sts, *st, *x;
	struct cut_err err;
	const char *text;
	char prev[128] = "";

	(void)state;
	load(&c, "user = ec2-user\ninstance_connect = yes\nopen_port = yes\n");
	doc = policy(&c, &FACTS, IAM_ALL, NULL);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
	assert_non_null(back = json_tokener_parse(text));
	assert_true(json_object_object_get_ex(back, "Version", &v));
	assert_string_equal(json_object_get_string(v), "2012-10-17");
	assert_int_equal(json_object_object_length(back), 2);
	assert_true(json_object_object_get_ex(back, "Statement", &sts));
	assert_true(json_object_array_length(sts) > 20);
	for (size_t i = 0; i < json_object_array_length(sts); i++) {
		const char *sid;
		char last[512] = "";

		st = json_object_array_get_idx(sts, i);
		json_object_object_foreach(st, key, val) {
			(void)val;
			if (strcmp(key, "Sid") && strcmp(key, "Effect") && strcmp(key, "Action") &&
			    strcmp(key, "Resource") && strcmp(key, "Condition"))
				fail_msg("statement element %s is not IAM's", key);
		}
		assert_true(json_object_object_get_ex(st, "Sid", &x));
		sid = json_object_get_string(x);
		assert_true(sid[0] != '\0' && strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == strlen(sid));
		if (strcmp(prev, sid) >= 0)
			fail_msg("Sid %s after %s: not sorted or not unique", sid, prev);
		snprintf(prev, sizeof(prev), "%s", sid);
		assert_true(json_object_object_get_ex(st, "Effect", &x));
		assert_string_equal(json_object_get_string(x), "Allow");
		assert_true(json_object_object_get_ex(st, "Action", &x));
		assert_true(json_object_array_length(x) > 0);
		assert_true(json_object_object_get_ex(st, "Resource", &x));
		assert_true(json_object_array_length(x) > 0);
		for (size_t k = 0; k < json_object_array_length(x); k++) {
			const char *r = json_object_get_string(json_object_array_get_idx(x, k));

			assert_true(strcmp(r, "*") == 0 || strncmp(r, "arn:aws:", 8) == 0);
			if (strcmp(last, r) >= 0)
				fail_msg("%s: resources not sorted or not unique (%s, %s)", sid, last, r);
			snprintf(last, sizeof(last), "%s", r);
		}
	}
	/* The same input gives the same text. */
	{
		struct json_object *again = policy(&c, &FACTS, IAM_ALL, NULL);

		assert_string_equal(json_object_to_json_string(again), json_object_to_json_string(doc));
		json_object_put(again);
	}
	json_object_put(back);
	json_object_put(doc);
	assert_int_equal(iam_policy(&c, &FACTS, 0, NULL, NULL, &doc, &err), CUT_EINVAL);
	assert_null(doc);
	assert_non_null(strstr(err.msg, "--for"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_action_emitted),
		cmocka_unit_test(test_arns_from_config_and_facts),
		cmocka_unit_test(test_unknown_facts_are_wildcards_with_notes),
		cmocka_unit_test(test_subsets),
		cmocka_unit_test(test_ssh_settings),
		cmocka_unit_test(test_valid_sorted_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
