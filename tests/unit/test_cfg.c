/* Unit tests for world/config.c: the shipped example parses, and every kind of
 * mistake is refused with a sentence naming the file and the line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "world/config.h"
#include "tsupport.h"

static const char *BASE =
	"[aws]\nregion = ap-southeast-2\napplication = cobalt\n"          /* 1-3 */
	"[pair web]\nenvironments = cobalt-production-blue, cobalt-production-green\n" /* 4-5 */
	"records = myabf.com.au, www.myabf.com.au.\n"                       /* 6 */
	"[pair ses]\nenvironments = cobalt-ses-production-blue,cobalt-ses-production-green\n" /* 7-8 */
	"records = ses.myabf.com.au\n"                                      /* 9 */
	"[database]\nnew = cobalt-production-green\nclass = db.t3.small\nname = ebdb\n" /* 10-13 */
	"[dns]\nzone = myabf.com.au.\n";                                    /* 14-15 */

static void
test_example_file_parses(void **state)
{
	struct cfg c;
	struct cut_err err;
	char path[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/deploy/cutover.example.ini", ts_top());
	if (cfg_load(path, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.aws.region, "ap-southeast-2");
	assert_string_equal(c.aws.application, "cobalt");
	assert_string_equal(c.aws.profile, "");
	assert_int_equal(c.npairs, 2);
	assert_string_equal(c.pairs[0].name, "web");
	assert_string_equal(c.pairs[0].envs[1], "cobalt-production-green");
	assert_int_equal(c.pairs[0].nrecords, 2);
	assert_string_equal(c.pairs[0].records[1], "www.myabf.com.au");
	assert_string_equal(c.pairs[1].records[0], "ses.myabf.com.au");
	assert_string_equal(c.db.klass, "db.t3.small");
	assert_string_equal(c.dns.zone, "myabf.com.au");
	assert_true(c.ssh.instance_connect);
	assert_false(c.ssh.address_public);
	assert_false(c.ssh.open_port);
	assert_true(c.app.sudo);
	int idx;
	assert_ptr_equal(cfg_pair_of_env(&c, "cobalt-ses-production-green", &idx), &c.pairs[1]);
	assert_int_equal(idx, 1);
	assert_null(cfg_pair_of_env(&c, "nope", NULL));
}

static void
test_base_and_defaults(void **state)
{
	struct cfg c;
	struct cut_err err;

	(void)state;
	if (cfg_parse_text("t.ini", BASE, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.pairs[0].records[1], "www.myabf.com.au");
	assert_string_equal(c.pairs[1].envs[1], "cobalt-ses-production-green");
	assert_string_equal(c.ssh.user, "ec2-user");
	assert_string_equal(c.app.dir, "/var/app/current");
	assert_int_equal(c.ssh.transport, CFG_TRANSPORT_SSH);
	/* Instance paths default to EB's Amazon Linux 2023 layout. */
	assert_string_equal(c.app.access_log, "/var/log/nginx/access.log");
	assert_string_equal(c.app.cron_state_dir, "/var/lib/cutover");
	/* The database is copied by snapshot unless asked otherwise (issue 13). */
	assert_string_equal(c.db.method, "snapshot");
}

/* A relative dir (the simulation's) changes no other path: each is its own key. */
static void
test_app_paths_are_keys(void **state)
{
	char text[2048];
	struct cfg c;
	struct cut_err err;

	(void)state;
	snprintf(text, sizeof(text), "%s[app]\ndir = var/app/current\n", BASE);
	if (cfg_parse_text("t.ini", text, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.app.access_log, "/var/log/nginx/access.log");
	assert_string_equal(c.app.cron_state_dir, "/var/lib/cutover");
	snprintf(text, sizeof(text), "%s[app]\naccess_log = var/log/nginx/access.log\n"
	    "cron_state_dir = var/lib/cutover\n", BASE);
	if (cfg_parse_text("t.ini", text, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.app.access_log, "var/log/nginx/access.log");
	assert_string_equal(c.app.cron_state_dir, "var/lib/cutover");
}


/* Each case: text appended to (or replacing) BASE, expected "line N" and a
 * word of the message. */
static void
expect_error(const char *text, const char *where, const char *word)
{
	struct cfg c;
	struct cut_err err;

	if (cfg_parse_text("/etc/cutover.ini", text, &c, &err) == 0)
		fail_msg("accepted:\n%s", text);
	assert_int_equal(err.code, CUT_ECONFIG);
	if (strstr(err.msg, "/etc/cutover.ini") == NULL || (where && strstr(err.msg, where) == NULL) ||
	    strstr(err.msg, word) == NULL)
		fail_msg("message '%s' lacks '%s' or '%s'", err.msg, where ? where : "", word);
}

static char *
cat(const char *a, const char *b)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s", a, b);
	return buf;
}

/* [ssh] transport: ssh (the default) or ssm; ssm with open_port is a contradiction. */
static void
test_transport(void **state)
{
	struct cfg c;
	struct cut_err err;

	(void)state;
	if (cfg_parse_text("t.ini", cat(BASE, "[ssh]\ntransport = ssm\n"), &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.ssh.transport, CFG_TRANSPORT_SSM);
	if (cfg_parse_text("t.ini", cat(BASE, "[ssh]\ntransport = ssh\n"), &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.ssh.transport, CFG_TRANSPORT_SSH);
	expect_error(cat(BASE, "[ssh]\ntransport = session-manager\n"), "line 17", "transport must be ssh or ssm");
	expect_error(cat(BASE, "[ssh]\ntransport = ssm\nopen_port = yes\n"), "line 16", "remove open_port");
}

static void
test_mistakes_name_file_and_line(void **state)
{
	(void)state;
	expect_error(cat(BASE, "[ssh]\nusr = ec2-user\n"), "line 17", "unknown key 'usr'");
	expect_error(cat(BASE, "[sshh]\n"), "line 16", "unknown section [sshh]");
	expect_error(cat(BASE, "[dns]\nzone = x\n"), "line 16", "appears twice (first at line 14)");
	expect_error(cat(BASE, "[pair web]\n"), "line 16", "[pair web] appears twice");
	expect_error(cat(BASE, "[ssh]\nuser = a\nuser = b\n"), "line 18", "user is set twice");
	expect_error(cat(BASE, "[ssh]\naddress = elastic\n"), "line 17", "private or public");
	expect_error(cat(BASE, "[ssh]\ninstance_connect = maybe\n"), "line 17", "yes or no");
	expect_error(cat(BASE, "[ssh]\ninstance_connect = no\n"), "line 16", "no identity");
	expect_error(cat(BASE, "[pair x]\nenvironments = cobalt-production-blue, other-env\nrecords = x.myabf.com.au\n"),
	    "line 17", "is in both [pair web] and [pair x]");
	expect_error(cat(BASE, "[pair x]\nenvironments = aaaa-1, bbbb-2\nrecords = www.myabf.com.au\n"),
	    "line 18", "in both");
	expect_error(cat(BASE, "[pair x]\nenvironments = aaaa-1, bbbb-2\nrecords = www.example.org\n"),
	    "line 18", "not in the zone myabf.com.au");
	expect_error(cat(BASE, "[pair x]\nenvironments = aaaa-1\nrecords = a.myabf.com.au\n"),
	    "line 17", "exactly two");
	expect_error(cat(BASE, "[pair x]\nenvironments = aaaa-1, aaaa-1\n"), "line 17", "twice");
	expect_error(cat(BASE, "[pair x]\nenvironments = aaaa-1, bbbb-2\n"), "line 16", "no records");
	expect_error(cat(BASE, "[pair]\n"), "line 16", "needs a name");
	expect_error(cat(BASE, "this is not ini\n"), "line 16", "not a section header");
	expect_error(cat("region = x\n", BASE), "line 1", "outside any section");
	expect_error(cat(BASE, "[database\n"), "line 16", "closing");
	expect_error("[aws]\nregion = ap-southeast-2\n", NULL, "application");
	expect_error("[aws]\nregion = r\napplication = a\n[dns]\nzone = z.com\n[database]\nnew=a\nclass=db.x\nname=n\n",
	    NULL, "no [pair NAME] section");
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[database]\nnew=a\nclass=db.x\nname=n\n",
	    NULL, "zone");
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[dns]\nzone=z.com\n",
	    NULL, "no [database] section");
	expect_error(cat(BASE, "[database]\n"), "line 16", "[database] appears twice");
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[dns]\nzone=z.com\n[database]\nnew=a\nclass=t3.small\nname=n\n",
	    "line 11", "not an RDS instance class");
	/* libpq's prefer falls back to plain text without a word: refused. */
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[dns]\nzone=z.com\n[database]\nnew=a\nclass=db.x\nname=n\nsslmode=prefer\n",
	    "line 13", "sslmode 'prefer' is not one of require, verify-ca, verify-full and disable");
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[dns]\nzone=z.com\n[database]\nnew=a\nclass=db.x\nname=n\nsslrootcert=rds.pem\n",
	    "line 13", "absolute path on the instances");
	expect_error("[aws]\nregion = r\napplication = a\n[pair w]\nenvironments = aaaa, bbbb\nrecords = z.com\n[dns]\nzone=z.com\n[database]\nnew=a\nclass=db.x\nname=n\nmethod=bluegreen\n",
	    "line 13", "method 'bluegreen' is not snapshot or replica");
}

/* Parses text that must be accepted. */
static void
parse_ok(const char *text, struct cfg *c)
{
	struct cut_err err;

	if (cfg_parse_text("t.ini", text, c, &err) != 0)
		fail_msg("%s", err.msg);
}

static void
test_smoke_section(void **state)
{
	struct cfg c;

	(void)state;
	parse_ok(BASE, &c);
	assert_int_equal(c.smoke.nchecks, 0);
	assert_true(c.smoke.load_balancer);
	parse_ok(cat(BASE, "[smoke]\nchecks = /accounts/login/ 200, / 200 302 ,/health\nload_balancer = no\n"), &c);
	assert_int_equal(c.smoke.nchecks, 3);
	assert_string_equal(c.smoke.checks[0].path, "/accounts/login/");
	assert_int_equal(c.smoke.checks[0].expect[0], 200);
	assert_int_equal(c.smoke.checks[0].expect[1], 0);
	assert_string_equal(c.smoke.checks[1].path, "/");
	assert_int_equal(c.smoke.checks[1].expect[0], 200);
	assert_int_equal(c.smoke.checks[1].expect[1], 302);
	assert_int_equal(c.smoke.checks[1].expect[2], 0);
	assert_string_equal(c.smoke.checks[2].path, "/health");
	assert_int_equal(c.smoke.checks[2].expect[0], 0);
	assert_false(c.smoke.load_balancer);
	parse_ok(cat(BASE, "[smoke]\nchecks = /a 200 301 302 404\n"), &c);
	assert_int_equal(c.smoke.checks[0].expect[SMOKE_MAX_STATUS - 1], 404);

	expect_error(cat(BASE, "[smoke]\nchecks = accounts/login/ 200\n"), "line 17", "not a path starting with '/'");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 200,, /b\n"), "line 17", "empty check");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 200,\n"), "line 17", "empty check");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 20\n"), "line 17", "'20' after /a is not an HTTP status");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 2000\n"), "line 17", "not an HTTP status");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 600\n"), "line 17", "not an HTTP status");
	expect_error(cat(BASE, "[smoke]\nchecks = /a ok\n"), "line 17", "not an HTTP status");
	expect_error(cat(BASE, "[smoke]\nchecks = /a 200 301 302 303 404\n"), "line 17", "more than 4 statuses");
	expect_error(cat(BASE, "[smoke]\nchecks = /1,/2,/3,/4,/5,/6,/7,/8,/9,/10,/11,/12,/13,/14,/15,/16,/17\n"),
	    "line 17", "more than 16 checks");
	expect_error(cat(BASE, "[smoke]\nload_balancer = maybe\n"), "line 17", "yes or no");
	expect_error(cat(BASE, "[smoke]\nlb = yes\n"), "line 17", "unknown key 'lb' in [smoke]");
	expect_error(cat(BASE, "[smoke]\nchecks = /a\nchecks = /b\n"), "line 18", "checks is set twice");
}

/* Debian's inih cuts a line at 199 bytes and reads the rest as a line of
 * its own: a longer line is refused naming file and line, a line just
 * short enough still parses. */
static void
test_long_lines(void **state)
{
	char pad[400], text[4096];
	struct cfg c;

	(void)state;
	memset(pad, 'x', sizeof(pad));
	pad[sizeof(pad) - 1] = '\0';
	snprintf(text, sizeof(text), "%s# %.200s\n", BASE, pad);
	expect_error(text, "line 16", "longer than 197");
	/* The rest of this one, "b = c", would read as a key of its own. */
	snprintf(text, sizeof(text), "%s[ssh]\nuser = %.195s b = c\n", BASE, pad);
	expect_error(text, "line 17", "longer than 197");
	snprintf(text, sizeof(text), "%s#%.196s\r\n", BASE, pad);
	parse_ok(text, &c);
}

static void
test_missing_file(void **state)
{
	struct cfg c;
	struct cut_err err;

	(void)state;
	assert_int_equal(cfg_load("/nonexistent/cutover.ini", &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/cutover.ini does not exist"));
	assert_non_null(strstr(err.msg, "cutover.example.ini"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_file_parses),
		cmocka_unit_test(test_base_and_defaults),
		cmocka_unit_test(test_app_paths_are_keys),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_smoke_section),
		cmocka_unit_test(test_mistakes_name_file_and_line),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_long_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
