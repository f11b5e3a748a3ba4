/* Assumed-role credentials over a client's life, against the simulated AWS:
 * the client assumes the role once, keeps the credentials in memory for
 * every later call, and assumes it again shortly before they expire (the
 * simulation refuses them once expired, so a client that did not refresh
 * would fail). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "simaws.h"
#include "aws/sts.h"
#include "tsupport.h"

static char *home;

static int
setup(void **state)
{
	char path[600], text[1024];

	(void)state;
	if (!sim_available())
		fail_msg("FAKEAWS_ADMIN is not set: run through tests/run so the fakeaws service is up");
	assert_int_equal(sim_reset(), 0);
	/* The role's credentials say they expire 303 s after issue: inside
	 * the client's 300 s refresh margin after 3 s. */
	json_object_put(sim_post("roles", "{\"add\": {\"name\": \"short\", \"credential_lifetime\": 303}}"));
	home = ts_tmpdir();
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	snprintf(path, sizeof(path), "%s/.aws", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.aws/credentials", home);
	snprintf(text, sizeof(text), "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
	    getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"));
	assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
	snprintf(path, sizeof(path), "%s/.aws/config", home);
	snprintf(text, sizeof(text), "[profile short]\nrole_arn = arn:aws:iam::123456789012:role/short\n"
	    "source_profile = base\nrole_session_name = refresh\n");
	assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
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

static void
test_cached_then_refreshed(void **state)
{
	struct aws_client_opts o = { .profile = "short", .retry_scale = 0.05,
	    .assume = sts_assume_profile };
	struct aws_client *c;
	struct sts_identity id;
	struct cut_err err;

	(void)state;
	if (aws_client_new(&o, &c, &err) != 0)
		fail_msg("aws_client_new: %s", err.msg);
	assert_int_equal(sim_calls("sts", "AssumeRole"), 1);
	assert_string_equal(aws_client_creds_source(c), "assume-role");
	assert_int_equal(sts_get_caller_identity(c, &id, &err), 0);
	assert_string_equal(id.arn, "arn:aws:sts::123456789012:assumed-role/short/refresh");
	assert_int_equal(sts_get_caller_identity(c, &id, &err), 0);
	/* Cached: two calls, still one AssumeRole. */
	assert_int_equal(sim_calls("sts", "AssumeRole"), 1);
	sleep(4);
	assert_int_equal(sts_get_caller_identity(c, &id, &err), 0);
	assert_string_equal(id.arn, "arn:aws:sts::123456789012:assumed-role/short/refresh");
	assert_int_equal(sim_calls("sts", "AssumeRole"), 2);
	aws_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cached_then_refreshed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
