/* Unit tests for aws/client.c and aws/xml.c: error shapes, retry classification and
 * backoff, the sentences for credential and clock trouble, and the client
 * against a scripted real HTTP server (tests/unit/fake_http.py): retries,
 * AWS_MAX_ATTEMPTS, connection reuse, signing headers, redaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws/client.h"
#include "tsupport.h"

#define SECRET "unit-SECRET-key-value-1234"
#define TOKEN "unit-session-TOKEN-value-5678"

static char *tmp;
static pid_t srv = -1;
static char logpath[600];

static int
setup(void **state)
{
	(void)state;
	tmp = ts_tmpdir();
	setenv("HOME", tmp, 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_CA_BUNDLE");
	setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	setenv("AWS_REGION", "ap-southeast-2", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (srv > 0)
		ts_stop(srv);
	srv = -1;
	ts_rmtree(tmp);
	free(tmp);
	return 0;
}

/* Starts fake_http.py with the given replies and points every service at it. */
static void
serve(const char *replies_json)
{
	char rp[600], script[600], port[32], url[128];

	snprintf(rp, sizeof(rp), "%s/replies.json", tmp);
	snprintf(logpath, sizeof(logpath), "%s/requests.log", tmp);
	assert_int_equal(ts_write_file(rp, replies_json, strlen(replies_json)), 0);
	snprintf(script, sizeof(script), "%s/tests/unit/fake_http.py", ts_top());
	char *argv[] = { "/usr/bin/python3", script, rp, logpath, NULL };
	srv = ts_spawn_line(argv, port, sizeof(port));
	assert_true(srv > 0 && atoi(port) > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%s", port);
	setenv("AWS_ENDPOINT_URL", url, 1);
}

static struct aws_client *
client(void)
{
	struct aws_client_opts o = { .retry_scale = 0.01 };
	struct aws_client *c;
	struct cut_err err;

	if (aws_client_new(&o, &c, &err) != 0)
		fail_msg("aws_client_new: %s", err.msg);
	return c;
}

static int
count_lines(const char *path, const char *needle)
{
	char *t = ts_read_file(path, NULL), *p;
	int n = 0;

	if (t == NULL)
		return 0;
	for (p = t; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(t);
	return n;
}

#define OK_EB "{\"status\": 200, \"body\": \"<DescribeEnvironmentsResponse xmlns=\\\"http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/\\\"><DescribeEnvironmentsResult><Environments/></DescribeEnvironmentsResult><ResponseMetadata><RequestId>ok-1</RequestId></ResponseMetadata></DescribeEnvironmentsResponse>\"}"
#define THROTTLE "{\"status\": 400, \"body\": \"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>thr-1</RequestId></ErrorResponse>\"}"

/* ---- pure functions ------------------------------------------------------------- */

static void
test_error_shapes(void **state)
{
	struct aws_error e;
	const char *q = "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type>"
	    "<Code>DBInstanceNotFound</Code><Message>DBInstance x not found.</Message></Error>"
	    "<RequestId>rid-q</RequestId></ErrorResponse>";
	const char *ec2 = "<?xml version=\"1.0\"?><Response><Errors><Error><Code>InvalidPermission.Duplicate</Code>"
	    "<Message>already exists</Message></Error></Errors><RequestID>rid-ec2</RequestID></Response>";
	const char *r53 = "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type>"
	    "<Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: Z1</Message></Error>"
	    "<RequestId>rid-r53</RequestId></ErrorResponse>";
	const char *icb = "<InvalidChangeBatch xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages>"
	    "<Message>Tried to delete resource record set [name='a.', type='A'] but it was not found</Message>"
	    "<Message>second problem</Message></Messages><RequestId>rid-icb</RequestId></InvalidChangeBatch>";

	(void)state;
	assert_int_equal(axml_parse_error(q, strlen(q), &e), 0);
	assert_string_equal(e.code, "DBInstanceNotFound");
	assert_string_equal(e.request_id, "rid-q");
	assert_string_equal(e.type, "Sender");
	assert_int_equal(axml_parse_error(ec2, strlen(ec2), &e), 0);
	assert_string_equal(e.code, "InvalidPermission.Duplicate");
	assert_string_equal(e.request_id, "rid-ec2");
	assert_int_equal(axml_parse_error(r53, strlen(r53), &e), 0);
	assert_string_equal(e.code, "NoSuchHostedZone");
	assert_int_equal(axml_parse_error(icb, strlen(icb), &e), 0);
	assert_string_equal(e.code, "InvalidChangeBatch");
	assert_non_null(strstr(e.message, "but it was not found; second problem"));
	assert_string_equal(e.request_id, "rid-icb");
	assert_int_equal(axml_parse_error("<html>oops</html>", 17, &e), -1);
	assert_int_equal(axml_parse_error("not xml", 7, &e), -1);
	assert_int_equal(axml_parse_error("", 0, &e), -1);
}

static void
test_retry_classes_and_backoff(void **state)
{
	int a;

	(void)state;
	assert_true(aws_code_is_throttle("Throttling"));
	assert_true(aws_code_is_throttle("RequestLimitExceeded"));
	assert_true(aws_code_is_throttle("PriorRequestNotComplete"));
	assert_false(aws_code_is_throttle("DBInstanceNotFound"));
	assert_true(aws_code_is_transient("RequestTimeout"));
	assert_false(aws_code_is_transient("AccessDenied"));
	assert_int_equal(aws_backoff_ms(2, 0.999999), 999);
	assert_int_equal(aws_backoff_ms(3, 0.5), 1000);
	assert_int_equal(aws_backoff_ms(4, 0.5), 2000);
	for (a = 2; a < 40; a++)
		assert_true(aws_backoff_ms(a, 0.999) <= 20000);
	assert_int_equal(aws_backoff_ms(30, 0.999999), 20000);
	assert_int_equal(aws_backoff_ms(5, 0.0), 0);
}

static void
test_sentences(void **state)
{
	struct aws_error e;
	struct cut_err err;

	(void)state;
	memset(&e, 0, sizeof(e));
	strcpy(e.code, "RequestTimeTooSkewed");
	strcpy(e.request_id, "rid-1");
	aws_error_sentence(&aws_svc_eb, "DescribeEnvironments", &e, 403, "environment", 900, &err);
	assert_int_equal(err.code, CUT_EAUTH);
	assert_non_null(strstr(err.msg, "clock is wrong (it is 900 s behind AWS's)"));
	assert_non_null(strstr(err.msg, "timedatectl"));
	assert_non_null(strstr(err.msg, "rid-1"));

	strcpy(e.code, "SignatureDoesNotMatch");
	strcpy(e.message, "The request signature we calculated does not match");
	aws_error_sentence(&aws_svc_eb, "DescribeEnvironments", &e, 403, "shared-credentials-file", 0, &err);
	assert_non_null(strstr(err.msg, "secret access key from shared-credentials-file is wrong"));

	strcpy(e.code, "SignatureDoesNotMatch");
	strcpy(e.message, "Signature expired: 20200101T000000Z is now earlier than ...");
	aws_error_sentence(&aws_svc_rds, "DescribeDBInstances", &e, 403, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "clock is wrong"));

	strcpy(e.code, "ExpiredToken");
	aws_error_sentence(&aws_svc_sts, "GetCallerIdentity", &e, 403, "credential_process", 0, &err);
	assert_non_null(strstr(err.msg, "session credentials from credential_process have expired"));

	strcpy(e.code, "InvalidClientTokenId");
	aws_error_sentence(&aws_svc_sts, "GetCallerIdentity", &e, 403, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "access key from environment is not valid"));

	strcpy(e.code, "AccessDenied");
	strcpy(e.message, "User x is not authorized to perform rds:CreateDBSnapshot");
	aws_error_sentence(&aws_svc_rds, "CreateDBSnapshot", &e, 403, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "AWS denied rds:CreateDBSnapshot to these credentials"));
	assert_non_null(strstr(err.msg, "`cutover iam-policy -c FILE` prints the IAM policy"));

	/* AWS's own message: the action and resource it names, implicit or explicit deny. */
	snprintf(e.message, sizeof(e.message), "User: arn:aws:iam::123456789012:user/op is not authorized "
	    "to perform: elasticbeanstalk:UpdateEnvironment on resource: arn:aws:elasticbeanstalk:"
	    "ap-southeast-2:123456789012:environment/My App/env-1 because no identity-based policy "
	    "allows the elasticbeanstalk:UpdateEnvironment action");
	aws_error_sentence(&aws_svc_eb, "UpdateEnvironment", &e, 403, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "AWS denied elasticbeanstalk:UpdateEnvironment on arn:aws:"
	    "elasticbeanstalk:ap-southeast-2:123456789012:environment/My App/env-1 to these credentials"));
	assert_non_null(strstr(err.msg, "no statement of their IAM policy allows it"));
	strcpy(e.code, "UnauthorizedOperation");
	snprintf(e.message, sizeof(e.message), "You are not authorized to perform this operation. User: "
	    "arn:aws:iam::1:user/op is not authorized to perform: ec2:RevokeSecurityGroupIngress on "
	    "resource: arn:aws:ec2:r:1:security-group/sg-1 with an explicit deny in an identity-based policy. "
	    "Encoded authorization failure message: abc");
	aws_error_sentence(&aws_svc_ec2, "RevokeSecurityGroupIngress", &e, 403, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "AWS denied ec2:RevokeSecurityGroupIngress on "
	    "arn:aws:ec2:r:1:security-group/sg-1 to these"));
	assert_non_null(strstr(err.msg, "an explicit Deny in their IAM policy refuses it"));
	assert_null(strstr(err.msg, "Encoded"));
	strcpy(e.code, "AccessDeniedException");
	snprintf(e.message, sizeof(e.message), "User: u is not authorized to perform: "
	    "ec2-instance-connect:SendSSHPublicKey on resource: arn:aws:ec2:r:1:instance/i-1 because x");
	aws_error_sentence(&aws_svc_eic, "SendSSHPublicKey", &e, 400, "environment", 0, &err);
	assert_non_null(strstr(err.msg, "AWS denied ec2-instance-connect:SendSSHPublicKey on "
	    "arn:aws:ec2:r:1:instance/i-1 to"));

	strcpy(e.code, "DBInstanceNotFound");
	strcpy(e.message, "DBInstance cobalt-x not found.");
	aws_error_sentence(&aws_svc_rds, "DescribeDBInstances", &e, 404, "environment", 0, &err);
	assert_int_equal(err.code, CUT_ENOTFOUND);
	assert_string_equal(err.msg, "RDS DescribeDBInstances failed: DBInstance cobalt-x not found. "
	    "(DBInstanceNotFound, HTTP 404, request id rid-1).");
}

/* ---- against a real HTTP server ----------------------------------------------- */

static void
test_retries_then_success_on_one_connection(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;
	char *log, *port1, *q;

	(void)state;
	serve("[" THROTTLE ", {\"status\": 503, \"body\": \"\"}, " OK_EB "]");
	c = client();
	aws_params_init(&p, &aws_svc_eb, "DescribeEnvironments");
	aws_param(&p, "EnvironmentNames.member.1", "cobalt production&blue");
	if (aws_query(c, &aws_svc_eb, "DescribeEnvironments", &p, &d, &err) != 0)
		fail_msg("%s", err.msg);
	assert_non_null(d);
	xmlFreeDoc(d);
	assert_int_equal(aws_client_calls(c), 3);
	/* All three attempts went over one kept-alive connection. */
	log = ts_read_file(logpath, NULL);
	assert_non_null(log);
	port1 = strstr(log, "\"port\": ");
	assert_non_null(port1);
	char pbuf[32];
	snprintf(pbuf, sizeof(pbuf), "%.*s", (int)strcspn(port1, "}"), port1);
	assert_int_equal(count_lines(logpath, pbuf), 3);
	/* Signed the AWS way, session token included, body encoded. */
	assert_non_null(strstr(log, "AWS4-HMAC-SHA256 Credential=AKIAUNITTEST/"));
	assert_non_null(strstr(log, "/ap-southeast-2/elasticbeanstalk/aws4_request"));
	assert_non_null(strstr(log, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"));
	assert_non_null(strstr(log, "\"X-Amz-Security-Token\": \"" TOKEN "\""));
	assert_non_null(q = strstr(log, "Action=DescribeEnvironments&Version=2010-12-01&EnvironmentNames.member.1=cobalt%20production%26blue"));
	assert_null(strstr(log, SECRET));
	free(log);
	aws_client_free(c);
}

static void
test_max_attempts_env(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;

	(void)state;
	serve("[" THROTTLE "]");
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	c = client();
	aws_params_init(&p, &aws_svc_eb, "DescribeEnvironments");
	assert_int_equal(aws_query(c, &aws_svc_eb, "DescribeEnvironments", &p, &d, &err), CUT_EAWS);
	assert_int_equal(aws_client_calls(c), 2);
	assert_non_null(strstr(err.msg, "Throttling"));
	assert_non_null(strstr(err.msg, "thr-1"));
	aws_client_free(c);
	unsetenv("AWS_MAX_ATTEMPTS");

	/* Standard mode's default is 3 attempts. */
	c = client();
	aws_params_init(&p, &aws_svc_eb, "DescribeEnvironments");
	assert_int_equal(aws_query(c, &aws_svc_eb, "DescribeEnvironments", &p, &d, &err), CUT_EAWS);
	assert_int_equal(aws_client_calls(c), 3);
	aws_client_free(c);
}

static void
test_dropped_connection_retried(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;

	(void)state;
	serve("[{\"drop\": true}, " OK_EB "]");
	c = client();
	aws_params_init(&p, &aws_svc_eb, "DescribeEnvironments");
	if (aws_query(c, &aws_svc_eb, "DescribeEnvironments", &p, &d, &err) != 0)
		fail_msg("%s", err.msg);
	xmlFreeDoc(d);
	assert_int_equal(aws_client_calls(c), 2);
	aws_client_free(c);
}

static void
lines_into(void *user, const char *line)
{
	struct sbuf *b = user;
	sbuf_add(b, line);
	sbuf_addc(b, '\n');
}

/* A hostile or careless error message echoing our token, and the debug log,
 * must not carry secrets to the operator's terminal. */
static void
test_secrets_never_in_messages_or_debug(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;
	struct sbuf dbg = SBUF_INIT;

	(void)state;
	serve("[{\"status\": 403, \"body\": \"<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
	    "<Message>token " TOKEN " and key " SECRET " were refused</Message></Error></Errors>"
	    "<RequestID>rid-ec2-9</RequestID></Response>\"}]");
	c = client();
	aws_client_set_log(c, lines_into, &dbg);
	aws_params_init(&p, &aws_svc_ec2, "DescribeInstances");
	aws_param(&p, "Secret.Value", SECRET);
	assert_int_equal(aws_query(c, &aws_svc_ec2, "DescribeInstances", &p, &d, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "UnauthorizedOperation"));
	assert_non_null(strstr(err.msg, "rid-ec2-9"));
	assert_non_null(strstr(err.msg, "[redacted]"));
	assert_null(strstr(err.msg, SECRET));
	assert_null(strstr(err.msg, TOKEN));
	assert_non_null(strstr(sbuf_str(&dbg), "DescribeInstances attempt 1/3 -> HTTP 403"));
	assert_null(strstr(sbuf_str(&dbg), SECRET));
	assert_null(strstr(sbuf_str(&dbg), TOKEN));
	sbuf_free(&dbg);
	aws_client_free(c);
}

static void
test_clock_skew_from_date_header(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;

	(void)state;
	serve("[{\"status\": 400, \"headers\": {\"Date\": \"Mon, 01 Jan 2001 00:00:00 GMT\"}, \"body\": "
	    "\"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message>"
	    "</Error><RequestId>rid-skew</RequestId></ErrorResponse>\"}]");
	c = client();
	aws_params_init(&p, &aws_svc_sts, "GetCallerIdentity");
	assert_int_equal(aws_query(c, &aws_svc_sts, "GetCallerIdentity", &p, &d, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "clock is wrong (it is"));
	assert_non_null(strstr(err.msg, "ahead of AWS's"));
	assert_non_null(strstr(err.msg, "rid-skew"));
	aws_client_free(c);
}

static void
test_route53_and_json_shapes(void **state)
{
	struct aws_client *c;
	xmlDoc *d;
	struct json_object *in, *out;
	struct cut_err err;
	char *log;

	(void)state;
	serve("[{\"status\": 400, \"body\": \"<InvalidChangeBatch><Messages><Message>RRSet with DNS name a. is not permitted"
	    "</Message></Messages><RequestId>rid-r53</RequestId></InvalidChangeBatch>\"},"
	    " {\"status\": 400, \"headers\": {\"x-amzn-RequestId\": \"rid-json\"}, \"body\": "
	    "\"{\\\"__type\\\": \\\"com.amazon#EC2InstanceNotFoundException\\\", \\\"Message\\\": \\\"Instance not found\\\"}\"}]");
	c = client();
	assert_int_equal(aws_rest_xml(c, &aws_svc_route53, "ChangeResourceRecordSets", "POST",
	    "/2013-04-01/hostedzone/Z1/rrset/", NULL, "<x/>", &d, &err), CUT_EAWS);
	assert_non_null(strstr(err.msg, "is not permitted"));
	assert_non_null(strstr(err.msg, "InvalidChangeBatch"));
	assert_non_null(strstr(err.msg, "rid-r53"));
	in = json_object_new_object();
	assert_int_equal(aws_json(c, &aws_svc_eic, "SendSSHPublicKey", in, &out, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "EC2InstanceNotFoundException"));
	assert_non_null(strstr(err.msg, "rid-json"));
	json_object_put(in);
	log = ts_read_file(logpath, NULL);
	assert_non_null(strstr(log, "/us-east-1/route53/aws4_request"));
	assert_non_null(strstr(log, "\"X-Amz-Target\": \"AWSEC2InstanceConnectService.SendSSHPublicKey\""));
	assert_non_null(strstr(log, "application/x-amz-json-1.1"));
	free(log);
	aws_client_free(c);
}

static void
test_tls_ca_bundle_honoured(void **state)
{
	struct aws_client *c;
	struct aws_params p;
	xmlDoc *d;
	struct cut_err err;

	(void)state;
	setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:9", 1);
	setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	c = client();
	aws_params_init(&p, &aws_svc_sts, "GetCallerIdentity");
	assert_int_not_equal(aws_query(c, &aws_svc_sts, "GetCallerIdentity", &p, &d, &err), 0);
	assert_non_null(strstr(err.msg, "STS"));
	aws_client_free(c);
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("AWS_MAX_ATTEMPTS");
}

static void
test_no_region_message(void **state)
{
	struct aws_client_opts o = { 0 };
	struct aws_client *c;
	struct cut_err err;

	(void)state;
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	assert_int_equal(aws_client_new(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "No AWS region is set"));
}

/* Secrets of 8 and 9 characters grow the text when replaced: the result is
 * cut to the buffer, never overflows it, never keeps a secret; a secret that
 * "[redacted]" itself contains does not loop. */
static void
test_redact_bounds(void **state)
{
	char buf[32];

	(void)state;
	snprintf(buf, sizeof(buf), "x abcdefgh abcdefgh abcdefgh");
	aws_redact(buf, sizeof(buf), "abcdefgh");
	assert_null(strstr(buf, "abcdefgh"));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "x [redacted] [redacted]"));
	snprintf(buf, sizeof(buf), "abcdefghi,abcdefghi,abcdefghi");
	aws_redact(buf, sizeof(buf), "abcdefghi");
	assert_null(strstr(buf, "abcdefghi"));
	snprintf(buf, sizeof(buf), "key redacted here");
	aws_redact(buf, sizeof(buf), "redacted");
	assert_string_equal(buf, "key [redacted] here");
	snprintf(buf, sizeof(buf), "short abc");
	aws_redact(buf, sizeof(buf), "abc");      /* too short to be a secret */
	assert_string_equal(buf, "short abc");
	char *exact = strdup("0123456789SECRETKEY");
	aws_redact(exact, strlen(exact) + 1, "SECRETKEY");
	assert_string_equal(exact, "0123456789");   /* no room for the mark: cut there */
	free(exact);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_shapes),
		cmocka_unit_test(test_retry_classes_and_backoff),
		cmocka_unit_test(test_sentences),
		cmocka_unit_test_setup_teardown(test_retries_then_success_on_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_attempts_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_connection_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_never_in_messages_or_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_skew_from_date_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route53_and_json_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_ca_bundle_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_region_message, setup, teardown),
		cmocka_unit_test(test_redact_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
