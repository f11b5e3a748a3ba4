/* Unit tests for role profiles in aws/creds.c: role_arn with source_profile or
 * credential_source, chains and their loop check, the settings passed to
 * AssumeRole, precedence against static keys in the same profile (the AWS
 * CLI assumes the role), SSO settings, and the sentences for MFA, a missing
 * SSO login and web identity.
 * The STS call itself is the callback's (the integration test aws_roles.t
 * makes it against the simulated AWS); here it records what it was asked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws/creds.h"

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL,
};

static int
setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; aws_vars[i]; i++)
		unsetenv(aws_vars[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("HOME", "/nonexistent", 1);
	return 0;
}

/* What the fake STS saw, one line per AssumeRole:
 * "profile:role-name:source-access-key:session:external:duration". */
struct calls {
	char log[1024];
	int n;
	int fail_at;   /* 1-based call that fails, 0 = none */
};

static int
fake_assume(void *user, const struct creds_config *p, const struct creds *src,
    struct creds *out, struct cut_err *err)
{
	struct calls *k = user;
	const char *name = strrchr(p->role_arn, '/') + 1;
	char ak[64];
	size_t l = strlen(k->log);

	k->n++;
	snprintf(k->log + l, sizeof(k->log) - l, "%s%s:%s:%s:%s:%s:%d", l ? " " : "", p->profile, name,
	    src->access_key, p->role_session_name ? p->role_session_name : "-",
	    p->external_id ? p->external_id : "-", p->duration_s);
	if (k->n == k->fail_at)
		return cut_err_set(err, CUT_EAWS, "fake STS refused.");
	snprintf(ak, sizeof(ak), "ASIA-%s", name);
	memset(out, 0, sizeof(*out));
	out->access_key = strdup(ak);
	out->secret_key = strdup("role-SECRET-value");
	out->session_token = strdup("role-session-TOKEN");
	out->expiration = 4102444800; /* 2100-01-01 */
	return 0;
}

static const char *CRED =
	"[base]\n"
	"aws_access_key_id = AKIABASE\n"
	"aws_secret_access_key = base-SECRET-value\n"
	"[both]\n"
	"aws_access_key_id = AKIABOTH\n"
	"aws_secret_access_key = both-SECRET-value\n";

static const char *CONF =
	"[profile deploy]\n"
	"role_arn = arn:aws:iam::123456789012:role/deploy\n"
	"source_profile = base\n"
	"role_session_name = ops\n"
	"external_id = ext-1\n"
	"duration_seconds = 1800\n"
	"region = ap-southeast-2\n"
	"[profile admin]\n"
	"role_arn = arn:aws:iam::123456789012:role/admin\n"
	"source_profile = deploy\n"
	"[profile both]\n"
	"role_arn = arn:aws:iam::123456789012:role/both\n"
	"source_profile = both\n"
	"[profile fromenv]\n"
	"role_arn = arn:aws:iam::123456789012:role/env\n"
	"credential_source = Environment\n"
	"[profile a]\n"
	"role_arn = arn:aws:iam::123456789012:role/a\n"
	"source_profile = b\n"
	"[profile b]\n"
	"role_arn = arn:aws:iam::123456789012:role/b\n"
	"source_profile = a\n"
	"[profile mfa]\n"
	"role_arn = arn:aws:iam::123456789012:role/mfa\n"
	"source_profile = base\n"
	"mfa_serial = arn:aws:iam::123456789012:mfa/me\n"
	"[profile sso]\n"
	"sso_session = corp\n"
	"sso_account_id = 123456789012\n"
	"sso_role_name = Admin\n"
	"[sso-session corp]\n"
	"sso_start_url = https://corp.awsapps.com/start\n"
	"sso_region = ap-southeast-2\n"
	"[profile ssohalf]\n"
	"sso_start_url = https://corp.awsapps.com/start\n"
	"sso_account_id = 123456789012\n"
	"[profile ssonosession]\n"
	"sso_session = other\n"
	"sso_account_id = 123456789012\n"
	"sso_role_name = Admin\n"
	"[profile webid]\n"
	"role_arn = arn:aws:iam::123456789012:role/w\n"
	"web_identity_token_file = /tmp/token\n"
	"[profile empty]\n"
	"region = ap-southeast-2\n"
	"[profile fromempty]\n"
	"role_arn = arn:aws:iam::123456789012:role/x\n"
	"source_profile = empty\n";

static int
load(const char *profile, const char *conf, struct creds_config **c, struct cut_err *err)
{
	struct creds_opts o = { .profile = profile };

	return creds_config_load_text(&o, CRED, conf, c, err);
}

static void
test_role_from_source_profile(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .n = 0 };

	(void)state;
	assert_int_equal(load("deploy", CONF, &c, &err), 0);
	assert_string_equal(c->role_arn, "arn:aws:iam::123456789012:role/deploy");
	assert_non_null(c->source);
	assert_string_equal(c->source->profile, "base");
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), 0);
	assert_string_equal(k.log, "deploy:deploy:AKIABASE:ops:ext-1:1800");
	assert_string_equal(cr.access_key, "ASIA-deploy");
	assert_string_equal(cr.source, "assume-role");
	assert_int_equal(cr.expiration, 4102444800);
	creds_free(&cr);
	/* Without a way to call STS, a role profile says so instead of
	 * falling back to other credentials. */
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "assumes a role"));
	creds_config_free(c);
}

static void
test_chain_innermost_first(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .n = 0 };

	(void)state;
	assert_int_equal(load("admin", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), 0);
	/* base keys assume deploy; deploy's credentials assume admin. */
	assert_string_equal(k.log, "deploy:deploy:AKIABASE:ops:ext-1:1800 admin:admin:ASIA-deploy:-:-:0");
	assert_string_equal(cr.access_key, "ASIA-admin");
	creds_free(&cr);
	/* A refusal anywhere in the chain is the result. */
	memset(&k, 0, sizeof(k));
	k.fail_at = 1;
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAWS);
	assert_int_equal(k.n, 1);
	creds_config_free(c);
}

static void
test_role_wins_over_static_keys(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .n = 0 };

	(void)state;
	/* Like the AWS CLI: a profile with both keys and role_arn assumes the
	 * role, and naming itself as source_profile signs with its own keys. */
	assert_int_equal(load("both", CONF, &c, &err), 0);
	assert_null(c->source);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), 0);
	assert_string_equal(k.log, "both:both:AKIABOTH:-:-:0");
	assert_string_equal(cr.access_key, "ASIA-both");
	creds_free(&cr);
	creds_config_free(c);
	/* Environment keys still come first when no --profile was given. */
	setenv("AWS_PROFILE", "both", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-SECRET-value", 1);
	assert_int_equal(load(NULL, CONF, &c, &err), 0);
	memset(&k, 0, sizeof(k));
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), 0);
	assert_int_equal(k.n, 0);
	assert_string_equal(cr.access_key, "AKIAENV");
	creds_free(&cr);
	creds_config_free(c);
}

static void
test_credential_source_environment(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .n = 0 };

	(void)state;
	assert_int_equal(load("fromenv", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID is not set"));
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-SECRET-value", 1);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), 0);
	/* --profile given: the environment is the role's source, not the answer. */
	assert_string_equal(k.log, "fromenv:env:AKIAENV:-:-:0");
	assert_string_equal(cr.access_key, "ASIA-env");
	creds_free(&cr);
	creds_config_free(c);
}

static void
test_bad_role_settings(void **state)
{
	static const struct {
		const char *conf, *want;
	} cases[] = {
		{ "[profile p]\nrole_arn = arn:aws:iam::1:role/r\n", "neither source_profile nor credential_source" },
		{ "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\ncredential_source = Environment\n",
		  "both source_profile and credential_source" },
		{ "[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n",
		  "not Environment, Ec2InstanceMetadata or EcsContainer" },
		{ "[profile p]\nrole_arn = deploy\nsource_profile = base\n", "is not a role ARN" },
		{ "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\nduration_seconds = 60\n",
		  "900 to 43200" },
		{ "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = nosuch\n",
		  "source_profile 'nosuch' of AWS profile 'p' is in neither" },
		{ "[profile p]\nsource_profile = base\n", "but no role_arn" },
	};
	struct creds_config *c;
	struct cut_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load("p", cases[i].conf, &c, &err), CUT_ECONFIG);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
		assert_non_null(strstr(err.msg, "p'"));
	}
}

static void
test_loops_and_depth(void **state)
{
	struct creds_config *c;
	struct cut_err err;
	char conf[4096];
	size_t l = 0;
	int i;

	(void)state;
	assert_int_equal(load("a", CONF, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "form a loop"));
	/* r1 -> r2 -> ... -> r7 -> base: longer than CREDS_MAX_ROLE_CHAIN. */
	for (i = 1; i <= 7; i++)
		l += (size_t)snprintf(conf + l, sizeof(conf) - l,
		    "[profile r%d]\nrole_arn = arn:aws:iam::1:role/r%d\nsource_profile = %s%d\n", i, i,
		    i == 7 ? "bas" : "r", i == 7 ? 0 : i + 1);
	/* (the last names "bas0", which does not exist: depth is checked first) */
	assert_int_equal(load("r1", conf, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "chains more than 5 roles"));
	/* CREDS_MAX_ROLE_CHAIN roles are fine. */
	assert_int_equal(load("r3", conf, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "'bas0'"));
}

static void
test_unsupported_say_what_to_do(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .n = 0 };

	(void)state;
	assert_int_equal(load("mfa", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "needs an MFA code"));
	assert_non_null(strstr(err.msg, "aws sts get-session-token --serial-number arn:aws:iam::123456789012:mfa/me"));
	assert_int_equal(k.n, 0);
	creds_config_free(c);

	/* SSO: the session's settings complete the profile; without an
	 * `aws sso login` token cache (HOME has none) it says to log in. */
	assert_int_equal(load("sso", CONF, &c, &err), 0);
	assert_string_equal(c->sso_start_url, "https://corp.awsapps.com/start");
	assert_string_equal(c->sso_region, "ap-southeast-2");
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "no login for it in ~/.aws/sso/cache; run `aws sso login --profile sso`"));
	creds_config_free(c);
	assert_int_equal(load("ssohalf", CONF, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "aws configure sso --profile ssohalf"));
	assert_int_equal(load("ssonosession", CONF, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "no [sso-session other] section"));

	assert_int_equal(load("webid", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "web_identity_token_file"));
	creds_config_free(c);

	/* A source profile without credentials of its own. */
	assert_int_equal(load("fromempty", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "source_profile 'empty' has no credentials"));
	creds_config_free(c);
	assert_int_equal(k.n, 0);
}

static void
test_no_secret_in_role_messages(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct calls k = { .fail_at = 2 };

	(void)state;
	assert_int_equal(load("admin", CONF, &c, &err), 0);
	assert_int_equal(creds_resolve_with(c, fake_assume, &k, &cr, &err), CUT_EAWS);
	assert_null(strstr(err.msg, "SECRET"));
	assert_null(strstr(err.msg, "TOKEN"));
	creds_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_role_from_source_profile, setup),
		cmocka_unit_test_setup(test_chain_innermost_first, setup),
		cmocka_unit_test_setup(test_role_wins_over_static_keys, setup),
		cmocka_unit_test_setup(test_credential_source_environment, setup),
		cmocka_unit_test_setup(test_bad_role_settings, setup),
		cmocka_unit_test_setup(test_loops_and_depth, setup),
		cmocka_unit_test_setup(test_unsupported_say_what_to_do, setup),
		cmocka_unit_test_setup(test_no_secret_in_role_messages, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
