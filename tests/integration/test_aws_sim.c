/* Integration tests of the AWS client against the simulated AWS
 * (tests/fakeaws, started by tests/harness/services/fakeaws): every
 * operation, retries under injected faults, pagination, each waiter's
 * success, failure and deadline, bad credentials and clock skew, TLS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws/eb.h"
#include "aws/ec2.h"
#include "aws/eic.h"
#include "aws/r53.h"
#include "aws/rds.h"
#include "simaws.h"
#include "aws/sts.h"
#include "tsupport.h"
#include "aws/wait.h"

#define APP "cobalt"
static char *home;

static int
setup(void **state)
{
	(void)state;
	if (!sim_available())
		fail_msg("FAKEAWS_ADMIN is not set: run through tests/run so the fakeaws service is up");
	assert_int_equal(sim_reset(), 0);
	/* Short transitions keep the suite fast; the waiters' early probes
	 * (0, 1, 2, 4 s) see them at once. */
	json_object_put(sim_post("time", "{\"durations\": {\"env_update\": 1.5, \"env_launch\": 1.5, "
	    "\"env_terminate\": 1, \"snapshot\": 1.5, \"db_create\": 1.5, \"db_delete\": 1, \"dns_change\": 1}}"));
	home = ts_tmpdir();
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_CA_BUNDLE");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ts_rmtree(home);
	free(home);
	return 0;
}

static struct aws_client *
client_opts(double retry_scale, int page_size)
{
	struct aws_client_opts o = { .retry_scale = retry_scale, .page_size = page_size };
	struct aws_client *c;
	struct cut_err err;

	if (aws_client_new(&o, &c, &err) != 0)
		fail_msg("aws_client_new: %s", err.msg);
	return c;
}

static struct aws_client *
client(void)
{
	return client_opts(0.05, 0);
}

#define CHECK(call) do { struct cut_err *e_ = &err; if ((call) != 0) fail_msg("%s: %s", #call, e_->msg); } while (0)

struct progress_log {
	int calls;
	int max_percent;
	int saw_pending;
};

static int
on_progress(void *user, const struct wait_progress *p)
{
	struct progress_log *l = user;

	l->calls++;
	if (p->percent > l->max_percent)
		l->max_percent = p->percent;
	if (strcmp(p->status, "available") != 0 && strcmp(p->status, "Ready") != 0 &&
	    strcmp(p->status, "INSYNC") != 0)
		l->saw_pending = 1;
	return 0;
}

static void
test_sts_and_eb_reads(void **state)
{
	struct aws_client *c = client();
	struct sts_identity id;
	struct eb_env_list el;
	struct eb_env e;
	struct eb_resources res;
	struct eb_config_settings_list cs;
	struct cut_err err;

	(void)state;
	CHECK(sts_get_caller_identity(c, &id, &err));
	assert_string_equal(id.account, "123456789012");
	assert_string_equal(id.arn, "arn:aws:iam::123456789012:user/cutover-operator");
	CHECK(eb_describe_environments(c, APP, NULL, 0, 0, &el, &err));
	assert_int_equal(el.n, 5); /* two pairs and the test environment */
	eb_env_list_free(&el);
	CHECK(eb_describe_environment(c, APP, "cobalt-production-blue", &e, &err));
	assert_string_equal(e.status, "Ready");
	assert_string_equal(e.version, "cobalt-5.9.2");
	assert_non_null(strstr(e.cname, "cobalt-production-blue"));
	assert_int_equal(eb_describe_environment(c, APP, "no-such-env", &e, &err), CUT_ENOTFOUND);
	CHECK(eb_describe_environment_resources(c, "cobalt-production-blue", &res, &err));
	assert_int_equal(res.ninstances, 2);
	assert_string_equal(res.instance_ids[0], "i-0b1e0000000000001");
	eb_resources_free(&res);
	CHECK(eb_describe_configuration_settings(c, APP, "cobalt-production-green", NULL, &cs, &err));
	assert_string_equal(eb_option_get(&eb_config_deployed(&cs)->options, EB_NS_ENV, "MP_USE_DJANGO"), "NO");
	assert_string_equal(eb_option_get(&eb_config_deployed(&cs)->options, EB_NS_ASG, "MaxSize"), "4");
	eb_config_settings_list_free(&cs);
	aws_client_free(c);
}

static void
test_eb_update_with_options_to_remove_and_wait(void **state)
{
	struct aws_client *c = client();
	struct eb_option_set set[] = {
		{ EB_NS_ENV, "MAINTENANCE_MODE", "OFF" },
		{ EB_NS_ENV, "NEW_SETTING", "a value & more" },
		{ EB_NS_ASG, "MinSize", "2" },
	};
	struct eb_option_set rm[] = { { EB_NS_ENV, "MP_USE_DJANGO", NULL } };
	struct eb_update u = { .env_name = "cobalt-production-green", .set = set, .nset = 3,
	    .remove = rm, .nremove = 1 };
	struct eb_env e, ready;
	struct eb_config_settings_list cs;
	struct eb_events_query q = { .application = APP, .env_name = "cobalt-production-green" };
	struct eb_event_list ev;
	struct progress_log pl = { 0 };
	struct wait_opts wo = { .progress = on_progress, .user = &pl };
	struct cut_err err;
	size_t i;
	int done = 0;

	(void)state;
	CHECK(eb_update_environment(c, &u, &e, &err));
	assert_string_equal(e.status, "Updating");
	assert_true(e.request_id[0]);
	/* A second update while Updating is refused the way EB does. */
	assert_int_equal(eb_update_environment(c, &u, NULL, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "InvalidParameterValue"));
	CHECK(wait_env_ready(c, APP, "cobalt-production-green", e.request_id, &wo, &ready, &err));
	assert_string_equal(ready.status, "Ready");
	assert_true(pl.saw_pending);
	CHECK(eb_describe_configuration_settings(c, APP, "cobalt-production-green", NULL, &cs, &err));
	assert_string_equal(eb_option_get(&eb_config_deployed(&cs)->options, EB_NS_ENV, "NEW_SETTING"), "a value & more");
	assert_string_equal(eb_option_get(&eb_config_deployed(&cs)->options, EB_NS_ENV, "MAINTENANCE_MODE"), "OFF");
	assert_null(eb_option_get(&eb_config_deployed(&cs)->options, EB_NS_ENV, "MP_USE_DJANGO"));
	eb_config_settings_list_free(&cs);
	q.request_id = e.request_id;
	CHECK(eb_describe_events(c, &q, &ev, &err));
	for (i = 0; i < ev.n; i++)
		if (strstr(ev.v[i].message, "Environment update completed successfully."))
			done = 1;
	assert_true(done);
	eb_event_list_free(&ev);
	aws_client_free(c);
}

static void
test_eb_update_failure_detected(void **state)
{
	struct aws_client *c = client();
	struct eb_option_set set[] = { { EB_NS_ENV, "MAINTENANCE_MODE", "ON" } };
	struct eb_update u = { .env_name = "cobalt-production-blue", .set = set, .nset = 1 };
	struct json_object *o;
	struct eb_env e;
	struct cut_err err;

	(void)state;
	o = sim_post("outcomes", "{\"kind\": \"env_update\", \"target\": \"cobalt-production-blue\", \"result\": \"fail\"}");
	assert_non_null(o);
	json_object_put(o);
	CHECK(eb_update_environment(c, &u, &e, &err));
	assert_int_equal(wait_env_ready(c, APP, "cobalt-production-blue", e.request_id, NULL, NULL, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "update of cobalt-production-blue failed"));
	aws_client_free(c);
}

static void
test_eb_clone_and_terminate(void **state)
{
	struct aws_client *c = client();
	struct eb_env src, created, ready;
	struct eb_create cr = { .application = APP, .env_name = "cobalt-production-black",
	    .template_name = "cutover-clone", .version_label = "cobalt-6.0.1",
	    .cname_prefix = "cobalt-production-black" };
	struct cut_err err;

	(void)state;
	CHECK(eb_describe_environment(c, APP, "cobalt-production-green", &src, &err));
	CHECK(eb_create_configuration_template(c, APP, "cutover-clone", src.id, "made by cutover", &err));
	CHECK(eb_create_environment(c, &cr, &created, &err));
	assert_string_equal(created.status, "Launching");
	CHECK(wait_env_ready(c, APP, "cobalt-production-black", NULL, NULL, &ready, &err));
	assert_string_equal(ready.version, "cobalt-6.0.1");
	CHECK(eb_terminate_environment(c, "cobalt-production-black", 1, NULL, &err));
	CHECK(wait_env_terminated(c, APP, "cobalt-production-black", NULL, &err));
	cr.env_name = "abc";
	assert_int_equal(eb_create_environment(c, &cr, NULL, &err), CUT_EINVAL);
	aws_client_free(c);
}

static void
test_rds_snapshot_restore_delete(void **state)
{
	struct aws_client *c = client();
	struct rds_snapshot snap;
	struct rds_instance live, db;
	struct progress_log pl = { 0 };
	struct wait_opts wo = { .progress = on_progress, .user = &pl };
	const char *sgs[RDS_MAX_SG];
	struct rds_restore rr = { .instance_id = "cobalt-production-green", .snapshot_id = "cutover-snap-1",
	    .instance_class = "db.t3.small", .multi_az = 0, .publicly_accessible = 0 };
	struct rds_tag tags[] = { { "made-by", "cutover" } };
	struct cut_err err;
	size_t i;

	(void)state;
	CHECK(rds_describe_db_instance(c, "production-blue", &live, &err));
	assert_string_equal(live.status, "available");
	assert_int_equal(rds_describe_db_instance(c, "no-such-db", &db, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "DBInstanceNotFound"));
	CHECK(rds_create_db_snapshot(c, "cutover-snap-1", "production-blue", &snap, &err));
	assert_string_equal(snap.status, "creating");
	assert_int_equal(rds_create_db_snapshot(c, "cutover-snap-1", "production-blue", NULL, &err), CUT_EAWS);
	if (strstr(err.msg, "DBSnapshotAlreadyExists") == NULL && strstr(err.msg, "InvalidDBInstanceState") == NULL)
		fail_msg("%s", err.msg);
	CHECK(wait_snapshot_available(c, "cutover-snap-1", &wo, &snap, &err));
	assert_string_equal(snap.status, "available");
	assert_int_equal(snap.percent, 100);
	assert_true(pl.saw_pending);
	for (i = 0; i < live.nvpc_sg; i++)
		sgs[i] = live.vpc_sg_ids[i];
	rr.vpc_sg_ids = sgs;
	rr.nvpc_sg = live.nvpc_sg;
	rr.subnet_group = live.subnet_group;
	rr.tags = tags;
	rr.ntags = 1;
	CHECK(rds_restore_db_instance_from_db_snapshot(c, &rr, &db, &err));
	assert_string_equal(db.status, "creating");
	CHECK(wait_db_available(c, "cobalt-production-green", NULL, &db, &err));
	assert_string_equal(db.klass, "db.t3.small");
	assert_string_equal(db.db_name, "ebdb");
	assert_string_equal(db.vpc_sg_ids[0], live.vpc_sg_ids[0]);
	assert_true(db.address[0]);
	CHECK(rds_delete_db_instance(c, "cobalt-production-green", NULL, &db, &err));
	CHECK(wait_db_deleted(c, "cobalt-production-green", NULL, &err));
	aws_client_free(c);
}

static void
test_waiter_failures_and_deadline(void **state)
{
	struct aws_client *c = client();
	struct json_object *o;
	struct wait_opts wo = { .deadline_s = 2 };
	unsigned long calls = 0;
	double elapsed = 0;
	struct cut_err err;

	(void)state;
	/* A snapshot that fails: botocore's failure state, reported at once. */
	o = sim_post("outcomes", "{\"kind\": \"snapshot\", \"target\": \"cutover-bad\", \"result\": \"failed\"}");
	json_object_put(o);
	CHECK(rds_create_db_snapshot(c, "cutover-bad", "production-blue", NULL, &err));
	assert_int_equal(wait_snapshot_available(c, "cutover-bad", NULL, NULL, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "is failed"));
	/* A restore that ends incompatible-restore. */
	o = sim_post("outcomes", "{\"kind\": \"restore\", \"target\": \"cobalt-restore-bad\", \"result\": \"incompatible-restore\"}");
	json_object_put(o);
	struct rds_restore rr = { .instance_id = "cobalt-restore-bad", .snapshot_id = "production-blue-before-6-0",
	    .instance_class = "db.t3.small", .multi_az = -1, .publicly_accessible = -1 };
	CHECK(rds_restore_db_instance_from_db_snapshot(c, &rr, NULL, &err));
	assert_int_equal(wait_db_available(c, "cobalt-restore-bad", NULL, NULL, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "incompatible-restore"));
	/* Deadline: a slow update, a 2 s deadline. */
	o = sim_post("time", "{\"durations\": {\"env_update\": 30}}");
	json_object_put(o);
	struct eb_option_set set[] = { { EB_NS_ENV, "X", "1" } };
	struct eb_update u = { .env_name = "cobalt-ses-production-blue", .set = set, .nset = 1 };
	CHECK(eb_update_environment(c, &u, NULL, &err));
	wo.calls_out = &calls;
	wo.elapsed_out = &elapsed;
	assert_int_equal(wait_env_ready(c, APP, "cobalt-ses-production-blue", NULL, &wo, NULL, &err), CUT_ETIMEOUT);
	assert_non_null(strstr(err.msg, "still Updating"));
	assert_true(elapsed < 4.0);
	assert_true(calls >= 3 && calls <= 5);
	/* Waiting for a DB to be deleted while it is being created fails. */
	rr.instance_id = "cobalt-restore-new";
	CHECK(rds_restore_db_instance_from_db_snapshot(c, &rr, NULL, &err));
	assert_int_equal(wait_db_deleted(c, "cobalt-restore-new", &wo, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "is creating"));
	aws_client_free(c);
}

static void
test_route53_alias_and_plain(void **state)
{
	struct aws_client *c = client();
	struct r53_zone z;
	struct r53_record_list l;
	const struct r53_record *www, *rec;
	struct eb_env green;
	struct r53_record up, plain;
	char *vals[] = { "203.0.113.9" };
	struct r53_change_info ci;
	struct cut_err err;

	(void)state;
	CHECK(r53_find_hosted_zone(c, "myabf.com.au", &z, &err));
	assert_string_equal(z.id, "Z0FAKEMYABF00000001");
	assert_int_equal(r53_find_hosted_zone(c, "example.org", &z, &err), CUT_ENOTFOUND);
	CHECK(r53_find_hosted_zone(c, "myabf.com.au.", &z, &err));
	CHECK(r53_list_resource_record_sets(c, z.id, NULL, NULL, 0, &l, &err));
	www = r53_record_find(&l, "www.myabf.com.au", "A");
	assert_non_null(www);
	assert_true(www->is_alias);
	assert_string_equal(www->alias_zone, "Z2PCDNR3VC2G1N");
	r53_record_list_free(&l);

	CHECK(eb_describe_environment(c, APP, "cobalt-production-green", &green, &err));
	memset(&up, 0, sizeof(up));
	snprintf(up.name, sizeof(up.name), "www.myabf.com.au.");
	snprintf(up.type, sizeof(up.type), "A");
	up.is_alias = 1;
	up.ttl = up.weight = -1;
	snprintf(up.alias_zone, sizeof(up.alias_zone), "%s", r53_eb_alias_zone("ap-southeast-2"));
	snprintf(up.alias_dns, sizeof(up.alias_dns), "%.250s.", green.cname);
	memset(&plain, 0, sizeof(plain));
	snprintf(plain.name, sizeof(plain.name), "cutover-test.myabf.com.au.");
	snprintf(plain.type, sizeof(plain.type), "A");
	plain.ttl = 60;
	plain.weight = -1;
	plain.values = vals;
	plain.nvalues = 1;
	struct r53_change ch[] = { { "UPSERT", &up }, { "CREATE", &plain } };
	CHECK(r53_change_resource_record_sets(c, z.id, "cutover: www to green", ch, 2, &ci, &err));
	assert_string_equal(ci.status, "PENDING");
	CHECK(wait_change_insync(c, ci.id, NULL, &err));
	CHECK(r53_get_change(c, ci.id, &ci, &err));
	assert_string_equal(ci.status, "INSYNC");
	CHECK(r53_list_resource_record_sets(c, z.id, NULL, NULL, 0, &l, &err));
	www = r53_record_find(&l, "www.myabf.com.au", "A");
	assert_non_null(strstr(www->alias_dns, "cobalt-production-green"));
	rec = r53_record_find(&l, "cutover-test.myabf.com.au", "A");
	assert_non_null(rec);
	assert_int_equal(rec->ttl, 60);
	assert_string_equal(rec->values[0], "203.0.113.9");
	r53_record_list_free(&l);
	/* The batch is all or nothing: creating it again fails as a whole. */
	assert_int_equal(r53_change_resource_record_sets(c, z.id, NULL, ch + 1, 1, &ci, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "InvalidChangeBatch"));
	struct r53_change del[] = { { "DELETE", &plain } };
	CHECK(r53_change_resource_record_sets(c, z.id, NULL, del, 1, &ci, &err));
	/* Legacy error shape. */
	json_object_put(sim_post("options", "{\"route53_legacy_errors\": true}"));
	assert_int_equal(r53_change_resource_record_sets(c, z.id, NULL, del, 1, &ci, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "InvalidChangeBatch"));
	assert_non_null(strstr(err.msg, "request id"));
	aws_client_free(c);
}

static void
test_ec2_ingress_and_instance_connect(void **state)
{
	struct aws_client *c = client();
	struct ec2_instance_list il;
	struct ec2_security_group_list gl;
	const char *ids[] = { "i-0b1e0000000000001" };
	const char *gid[] = { "sg-0eb1e5eb00000001a" };
	struct ec2_filter f[] = { { "tag:elasticbeanstalk:environment-name", "cobalt-production-blue" } };
	struct json_object *keys, *arr;
	int already = -1;
	size_t i;
	int found = 0;
	struct cut_err err;

	(void)state;
	CHECK(ec2_describe_instances(c, ids, 1, NULL, 0, &il, &err));
	assert_int_equal(il.n, 1);
	assert_string_equal(il.v[0].private_ip, "172.31.10.11");
	assert_string_equal(il.v[0].state, "running");
	ec2_instance_list_free(&il);
	CHECK(ec2_describe_instances(c, NULL, 0, f, 1, &il, &err));
	assert_int_equal(il.n, 2);
	ec2_instance_list_free(&il);
	CHECK(ec2_authorize_ingress(c, gid[0], "tcp", 22, 22, "198.51.100.7/32", "cutover session", &already, &err));
	assert_int_equal(already, 0);
	CHECK(ec2_authorize_ingress(c, gid[0], "tcp", 22, 22, "198.51.100.7/32", "cutover session", &already, &err));
	assert_int_equal(already, 1);
	CHECK(ec2_describe_security_groups(c, gid, 1, &gl, &err));
	for (i = 0; i < gl.v[0].nrules; i++)
		if (strcmp(gl.v[0].rules[i].cidr, "198.51.100.7/32") == 0 && gl.v[0].rules[i].from_port == 22)
			found = 1;
	assert_true(found);
	ec2_security_group_list_free(&gl);
	CHECK(ec2_revoke_ingress(c, gid[0], "tcp", 22, 22, "198.51.100.7/32", &err));
	CHECK(ec2_revoke_ingress(c, gid[0], "tcp", 22, 22, "198.51.100.7/32", &err));
	CHECK(ec2_describe_security_groups(c, gid, 1, &gl, &err));
	for (i = 0; i < gl.v[0].nrules; i++)
		assert_string_not_equal(gl.v[0].rules[i].cidr, "198.51.100.7/32");
	ec2_security_group_list_free(&gl);

	CHECK(eic_send_ssh_public_key(c, "i-0b1e0000000000001", "ec2-user",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm3m1xQp2YkF0Jr7mVq0d5Xo8r8pP1a6v3lQz3m2aQb cutover", NULL, &err));
	keys = sim_get("ssh-keys?instance=i-0b1e0000000000001&user=ec2-user&format=json");
	assert_non_null(keys);
	assert_true(json_object_object_get_ex(keys, "keys", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(keys);
	assert_int_equal(eic_send_ssh_public_key(c, "i-0000000000000dead", "ec2-user",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm3m1xQp2YkF0Jr7mVq0d5Xo8r8pP1a6v3lQz3m2aQb x", NULL, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "EC2InstanceNotFoundException"));
	aws_client_free(c);
}

static void
test_retries_under_faults(void **state)
{
	struct aws_client *c = client();
	struct sts_identity id;
	struct eb_env_list el;
	struct cut_err err;
	unsigned long before;

	(void)state;
	json_object_put(sim_post("faults", "{\"kind\": \"throttle\", \"service\": \"elasticbeanstalk\", \"count\": 2}"));
	before = aws_client_calls(c);
	CHECK(eb_describe_environments(c, APP, NULL, 0, 0, &el, &err));
	eb_env_list_free(&el);
	assert_int_equal(aws_client_calls(c) - before, 3);
	json_object_put(sim_post("faults", "[{\"kind\": \"5xx\", \"status\": 503, \"count\": 1},"
	    " {\"kind\": \"drop\", \"count\": 1}]"));
	/* (libcurl itself re-sends once on a reused connection that died
	 * before answering, so the drop may cost no attempt of ours.) */
	before = aws_client_calls(c);
	CHECK(sts_get_caller_identity(c, &id, &err));
	assert_true(aws_client_calls(c) - before >= 2);
	json_object_put(sim_post("faults", "{\"kind\": \"throttle\", \"count\": 10}"));
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "kept throttling GetCallerIdentity"));
	assert_non_null(strstr(err.msg, "request id"));
	json_object_put(sim_delete("faults"));
	aws_client_free(c);
	/* AWS_MAX_ATTEMPTS=1: no retry at all. */
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	c = client();
	json_object_put(sim_post("faults", "{\"kind\": \"throttle\", \"count\": 1}"));
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAWS);
	assert_int_equal(aws_client_calls(c), 1);
	aws_client_free(c);
	unsetenv("AWS_MAX_ATTEMPTS");
}

static void
test_pagination(void **state)
{
	struct aws_client *c = client_opts(0.05, 1);
	struct r53_zone z;
	struct r53_record_list l;
	struct eb_env_list el;
	struct rds_snapshot_list sl;
	struct rds_instance_list il;
	struct cut_err err;
	int before;

	(void)state;
	size_t all;

	CHECK(r53_find_hosted_zone(c, "myabf.com.au", &z, &err));
	CHECK(r53_list_resource_record_sets(c, z.id, NULL, NULL, 0, &l, &err));
	all = l.n;
	assert_true(all >= 9);
	r53_record_list_free(&l);
	json_object_put(sim_post("options", "{\"route53_max_items\": 2, \"rds_min_max_records\": 1}"));
	before = sim_calls("route53", "ListResourceRecordSets");
	CHECK(r53_list_resource_record_sets(c, z.id, NULL, NULL, 0, &l, &err));
	assert_int_equal(l.n, all);
	assert_int_equal(sim_calls("route53", "ListResourceRecordSets") - before, (int)((all + 1) / 2));
	assert_non_null(r53_record_find(&l, "_amazonses.myabf.com.au", "TXT"));
	r53_record_list_free(&l);
	CHECK(eb_describe_environments(c, APP, NULL, 0, 0, &el, &err));
	assert_int_equal(el.n, 5); /* two pairs and the test environment */
	eb_env_list_free(&el);
	assert_true(sim_calls("elasticbeanstalk", "DescribeEnvironments") >= 4);
	CHECK(rds_describe_db_snapshots(c, NULL, "production-blue", &sl, &err));
	assert_int_equal(sl.n, 2);
	rds_snapshot_list_free(&sl);
	CHECK(rds_describe_db_instances(c, NULL, &il, &err));
	assert_int_equal(il.n, 2);
	rds_instance_list_free(&il);
	assert_true(sim_calls("rds", "DescribeDBInstances") >= 2);
	aws_client_free(c);
}

static void
with_creds(const char *ak, const char *sk, const char *tok)
{
	setenv("AWS_ACCESS_KEY_ID", ak, 1);
	setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
	if (tok)
		setenv("AWS_SESSION_TOKEN", tok, 1);
	else
		unsetenv("AWS_SESSION_TOKEN");
}

static void
test_bad_credentials_and_clock_skew(void **state)
{
	char *ak = strdup(getenv("AWS_ACCESS_KEY_ID")), *sk = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
	struct aws_client *c;
	struct sts_identity id;
	struct cut_err err;

	(void)state;
	with_creds(ak, "wrong-secret-key-value-0000000000000000", NULL);
	c = client();
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "secret access key from environment is wrong"));
	assert_null(strstr(err.msg, "wrong-secret-key-value"));
	aws_client_free(c);

	with_creds("AKIAUNKNOWNKEY000000", sk, NULL);
	c = client();
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "access key from environment is not valid"));
	aws_client_free(c);

	with_creds(getenv("FAKEAWS_EXPIRED_ACCESS_KEY_ID"), getenv("FAKEAWS_EXPIRED_SECRET_ACCESS_KEY"),
	    getenv("FAKEAWS_EXPIRED_SESSION_TOKEN"));
	c = client();
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "have expired"));
	assert_null(strstr(err.msg, getenv("FAKEAWS_EXPIRED_SESSION_TOKEN")));
	aws_client_free(c);

	with_creds(getenv("FAKEAWS_SESSION_ACCESS_KEY_ID"), getenv("FAKEAWS_SESSION_SECRET_ACCESS_KEY"),
	    getenv("FAKEAWS_SESSION_SESSION_TOKEN"));
	c = client();
	CHECK(sts_get_caller_identity(c, &id, &err));
	assert_non_null(strstr(id.arn, "assumed-role/cutover-deploy"));
	aws_client_free(c);

	with_creds(ak, sk, NULL);
	json_object_put(sim_post("time", "{\"clock_skew\": 900}"));
	c = client();
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "clock is wrong"));
	assert_non_null(strstr(err.msg, "timedatectl"));
	struct r53_zone z;
	assert_int_equal(r53_find_hosted_zone(c, "myabf.com.au", &z, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "clock is wrong"));
	aws_client_free(c);
	json_object_put(sim_post("time", "{\"clock_skew\": 0}"));
	free(ak);
	free(sk);
}

static void
test_tls_verification(void **state)
{
	struct aws_client *c;
	struct sts_identity id;
	struct cut_err err;
	char *plain = strdup(getenv("AWS_ENDPOINT_URL"));

	(void)state;
	setenv("AWS_ENDPOINT_URL", getenv("FAKEAWS_HTTPS_URL"), 1);
	setenv("AWS_CA_BUNDLE", getenv("FAKEAWS_CA_BUNDLE"), 1);
	c = client();
	CHECK(sts_get_caller_identity(c, &id, &err));
	aws_client_free(c);
	/* Without the test CA the self-made certificate is refused. */
	unsetenv("AWS_CA_BUNDLE");
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	c = client();
	assert_int_equal(sts_get_caller_identity(c, &id, &err), CUT_ENET);
	assert_non_null(strstr(err.msg, "verified TLS connection"));
	aws_client_free(c);
	unsetenv("AWS_MAX_ATTEMPTS");
	setenv("AWS_ENDPOINT_URL", plain, 1);
	free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sts_and_eb_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eb_update_with_options_to_remove_and_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eb_update_failure_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eb_clone_and_terminate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rds_snapshot_restore_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_failures_and_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route53_alias_and_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ec2_ingress_and_instance_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_under_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_credentials_and_clock_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_verification, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
