/* Unit tests for aws/creds.c: every credential source, their precedence, the
 * region order, endpoint settings, and that no message carries a secret.
 * Container and IMDSv2 credentials come from a small real HTTP server
 * (tests/unit/fake_metadata.py) on loopback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/creds.h"
#include "tsupport.h"

static char *tmp;
static char path_cred[600], path_conf[600];

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ROUTE_53", "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_DISABLED", NULL,
};

static int
setup(void **state)
{
	int i;

	(void)state;
	for (i = 0; aws_vars[i]; i++)
		unsetenv(aws_vars[i]);
	tmp = ts_tmpdir();
	assert_non_null(tmp);
	setenv("HOME", tmp, 1);
	snprintf(path_cred, sizeof(path_cred), "%s/credentials", tmp);
	snprintf(path_conf, sizeof(path_conf), "%s/config", tmp);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path_cred, 1);
	setenv("AWS_CONFIG_FILE", path_conf, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ts_rmtree(tmp);
	free(tmp);
	return 0;
}

static void
write_str(const char *path, const char *s)
{
	assert_int_equal(ts_write_file(path, s, strlen(s)), 0);
}

static const char *CRED_FILE =
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = default-SECRET-value\n"
	"\n"
	"[prod]\n"
	"aws_access_key_id = AKIAPROD\n"
	"aws_secret_access_key = prod-SECRET-value\n"
	"aws_session_token = prod-session-TOKEN\n";

static const char *CONF_FILE =
	"[default]\n"
	"region = us-west-2\n"
	"\n"
	"[profile prod]\n"
	"region = ap-southeast-2\n"
	"max_attempts = 5\n"
	"retry_mode = standard\n"
	"ca_bundle = /etc/ssl/certs/ca-certificates.crt\n"
	"services = sim\n"
	"endpoint_url = http://127.0.0.1:9/all\n"
	"\n"
	"[profile cfgonly]\n"
	"aws_access_key_id = AKIACFGONLY\n"
	"aws_secret_access_key = cfgonly-SECRET-value\n"
	"region = eu-west-2\n"
	"\n"
	"[services sim]\n"
	"route_53 =\n"
	"  endpoint_url = http://127.0.0.1:9/r53\n"
	"elastic_beanstalk =\n"
	"  endpoint_url = http://127.0.0.1:9/eb\n";

static struct creds_config *
load(const char *profile, const char *region)
{
	struct creds_opts o = { .profile = profile, .region = region, .http_timeout_ms = 500,
	    .process_timeout_ms = 1500 };
	struct creds_config *c = NULL;
	struct cut_err err;

	if (creds_config_load(&o, &c, &err) != 0)
		fail_msg("creds_config_load: %s", err.msg);
	return c;
}

static void
test_env_wins_without_profile_flag(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	write_str(path_cred, CRED_FILE);
	write_str(path_conf, CONF_FILE);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-SECRET-value", 1);
	setenv("AWS_SESSION_TOKEN", "env-TOKEN", 1);
	setenv("AWS_PROFILE", "prod", 1);   /* AWS_PROFILE does not beat env keys */
	c = load(NULL, NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "AKIAENV");
	assert_string_equal(cr.session_token, "env-TOKEN");
	assert_string_equal(cr.source, "environment");
	assert_string_equal(c->region, "ap-southeast-2"); /* but it picks the profile */
	creds_free(&cr);
	creds_config_free(c);

	/* --profile does: the environment's keys are skipped. */
	c = load("prod", NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "AKIAPROD");
	assert_string_equal(cr.secret_key, "prod-SECRET-value");
	assert_string_equal(cr.session_token, "prod-session-TOKEN");
	assert_string_equal(cr.source, "shared-credentials-file");
	creds_free(&cr);
	creds_config_free(c);
}

static void
test_default_profile_and_config_only_keys(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	write_str(path_cred, CRED_FILE);
	write_str(path_conf, CONF_FILE);
	c = load(NULL, NULL);
	assert_string_equal(c->profile, "default");
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "AKIADEFAULT");
	assert_null(cr.session_token);
	assert_string_equal(c->region, "us-west-2");
	creds_free(&cr);
	creds_config_free(c);

	setenv("AWS_PROFILE", "cfgonly", 1);
	c = load(NULL, NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "AKIACFGONLY");
	assert_string_equal(cr.source, "config-file");
	assert_string_equal(c->region, "eu-west-2");
	creds_free(&cr);
	creds_config_free(c);
}

static void
test_region_order(void **state)
{
	struct creds_config *c;

	(void)state;
	write_str(path_conf, CONF_FILE);
	c = load("prod", NULL);
	assert_string_equal(c->region, "ap-southeast-2");
	creds_config_free(c);
	setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
	c = load("prod", NULL);
	assert_string_equal(c->region, "us-east-2");
	creds_config_free(c);
	setenv("AWS_REGION", "us-east-1", 1);
	c = load("prod", NULL);
	assert_string_equal(c->region, "us-east-1");
	creds_config_free(c);
	c = load("prod", "eu-central-1");
	assert_string_equal(c->region, "eu-central-1");
	creds_config_free(c);
}

static void
test_endpoints_and_settings(void **state)
{
	struct creds_config *c;

	(void)state;
	write_str(path_conf, CONF_FILE);
	c = load("prod", NULL);
	assert_string_equal(creds_endpoint(c, "ROUTE_53", "route_53"), "http://127.0.0.1:9/r53");
	assert_string_equal(creds_endpoint(c, "ELASTIC_BEANSTALK", "elastic_beanstalk"), "http://127.0.0.1:9/eb");
	assert_string_equal(creds_endpoint(c, "RDS", "rds"), "http://127.0.0.1:9/all");
	assert_int_equal(c->max_attempts, 5);
	assert_string_equal(c->retry_mode, "standard");
	assert_string_equal(c->ca_bundle, "/etc/ssl/certs/ca-certificates.crt");
	creds_config_free(c);

	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8/env", 1);
	setenv("AWS_ENDPOINT_URL_ROUTE_53", "http://127.0.0.1:8/envr53", 1);
	setenv("AWS_MAX_ATTEMPTS", "7", 1);
	setenv("AWS_CA_BUNDLE", "/tmp/ca.pem", 1);
	c = load("prod", NULL);
	assert_string_equal(creds_endpoint(c, "ROUTE_53", "route_53"), "http://127.0.0.1:8/envr53");
	assert_string_equal(creds_endpoint(c, "ELASTIC_BEANSTALK", "elastic_beanstalk"), "http://127.0.0.1:8/env");
	assert_int_equal(c->max_attempts, 7);
	assert_string_equal(c->ca_bundle, "/tmp/ca.pem");
	creds_config_free(c);

	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	c = load("prod", NULL);
	assert_null(creds_endpoint(c, "ROUTE_53", "route_53"));
	creds_config_free(c);
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	struct creds_opts o = { 0 };
	struct cut_err err;
	setenv("AWS_RETRY_MODE", "sometimes", 1);
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "retry_mode 'sometimes'"));
	unsetenv("AWS_RETRY_MODE");
	setenv("AWS_MAX_ATTEMPTS", "many", 1);
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "max_attempts"));
}

static void
test_missing_profile_and_bad_ini(void **state)
{
	struct creds_opts o = { .profile = "nope" };
	struct creds_config *c;
	struct cut_err err;

	(void)state;
	write_str(path_cred, CRED_FILE);
	write_str(path_conf, CONF_FILE);
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(err.msg, "'nope'"));
	assert_non_null(strstr(err.msg, path_cred));

	write_str(path_cred, "[default]\naws_access_key_id = AKIAX\nthis line is broken\n");
	o.profile = NULL;
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_non_null(strstr(err.msg, path_cred));

	write_str(path_cred, "[default]\naws_access_key_id = AKIAX\n");
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "only one of"));
}

static void
test_no_credentials_message(void **state)
{
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	c = load(NULL, NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "No AWS credentials found"));
	assert_non_null(strstr(err.msg, "aws configure"));
	creds_config_free(c);
}

static void
write_script(const char *path, const char *body)
{
	write_str(path, body);
	chmod(path, 0700);
}

static void
test_credential_process(void **state)
{
	char script[700], conf[4096], marker[700];
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	snprintf(script, sizeof(script), "%s/cred-helper", tmp);
	snprintf(marker, sizeof(marker), "%s/ran-with-shell", tmp);
	/* The helper checks it got its quoted argument as one word and that
	 * no shell expanded $HOME or ran the `touch`. */
	write_script(script,
	    "#!/bin/sh\n"
	    "[ \"$1\" = 'two words' ] || exit 3\n"
	    "[ \"$2\" = '$HOME;touch' ] || exit 4\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"proc-SECRET-value\","
	    " \"SessionToken\": \"proc-TOKEN\", \"Expiration\": \"2031-05-06T07:08:09Z\"}'\n");
	snprintf(conf, sizeof(conf), "[profile proc]\ncredential_process = %s 'two words' \"\\$HOME;touch\" %s\n"
	    "[profile failing]\ncredential_process = %s wrong args\n"
	    "[profile missing]\ncredential_process = /nonexistent/helper\n",
	    script, marker, script);
	write_str(path_conf, conf);
	c = load("proc", NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "ASIAPROC");
	assert_string_equal(cr.secret_key, "proc-SECRET-value");
	assert_string_equal(cr.session_token, "proc-TOKEN");
	assert_string_equal(cr.source, "credential_process");
	assert_int_equal(cr.expiration, 1935817689);
	assert_false(creds_expired(&cr, 1935817689 - 3600, 300));
	assert_true(creds_expired(&cr, 1935817689 - 100, 300));
	assert_int_equal(access(marker, F_OK), -1);
	creds_free(&cr);
	creds_config_free(c);

	c = load("failing", NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "exit status 3"));
	assert_non_null(strstr(err.msg, "'failing'"));
	creds_config_free(c);

	c = load("missing", NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/helper"));
	creds_config_free(c);
}

static void
test_parse_json_errors_hide_secrets(void **state)
{
	struct creds cr;
	struct cut_err err;
	time_t t;

	(void)state;
	assert_int_equal(creds_parse_json("{\"SecretAccessKey\": \"hidden-SECRET\"}", "x", &cr, &err), CUT_EPROTO);
	assert_null(strstr(err.msg, "hidden-SECRET"));
	assert_int_equal(creds_parse_json("not json hidden-SECRET", "x", &cr, &err), CUT_EPROTO);
	assert_null(strstr(err.msg, "hidden-SECRET"));
	assert_int_equal(creds_parse_json("{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"hidden-SECRET\"}",
	    "x", &cr, &err), CUT_EPROTO);
	assert_null(strstr(err.msg, "hidden-SECRET"));
	assert_int_equal(creds_parse_time("2030-01-02T03:04:05.123+01:00", &t), 0);
	assert_int_equal(t, 1893549845);
	assert_int_equal(creds_parse_time("yesterday", &t), -1);
}

/* Running, not gone nor a zombie left for a parent that does not reap. */
static int
alive(pid_t pid)
{
	char p[64], buf[256], *rp;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	rp = fgets(buf, sizeof(buf), f);
	fclose(f);
	rp = rp ? strrchr(buf, ')') : NULL;
	return rp != NULL && rp[1] == ' ' && rp[2] != 'Z';
}

/* A credential_process that closes stdout but never exits (and leaves a
 * child behind) is stopped at the deadline with its whole process group;
 * one that reads stdin gets /dev/null, not the operator's terminal. */
static void
test_credential_process_hang_and_stdin(void **state)
{
	char script[700], conf[2048], pids[700], line[64];
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct timespec t0, t1;
	int in[2], saved;
	FILE *f;

	(void)state;
	snprintf(script, sizeof(script), "%s/cred-hang", tmp);
	snprintf(pids, sizeof(pids), "%s/hang.pids", tmp);
	snprintf(conf, sizeof(conf), "#!/bin/sh\nexec >&-\nsleep 30 &\necho \"$$ $!\" >%s\nwait\n", pids);
	write_script(script, conf);
	snprintf(conf, sizeof(conf), "[profile hang]\ncredential_process = %s\n", script);
	write_str(path_conf, conf);
	c = load("hang", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_ETIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(err.msg, "did not finish within 2 s"));
	assert_true(t1.tv_sec - t0.tv_sec < 6);
	creds_config_free(c);
	f = fopen(pids, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	long sh = 0, sl = 0;
	assert_int_equal(sscanf(line, "%ld %ld", &sh, &sl), 2);
	usleep(100 * 1000);
	assert_false(alive((pid_t)sh));   /* the helper and its child are gone */
	assert_false(alive((pid_t)sl));

	/* stdin: our stdin holds a line; the helper must not see it. */
	snprintf(script, sizeof(script), "%s/cred-stdin", tmp);
	write_script(script,
	    "#!/bin/sh\n"
	    "if read x; then exit 5; fi\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"ASIASTDIN\", \"SecretAccessKey\": \"stdin-SECRET\"}'\n");
	snprintf(conf, sizeof(conf), "[profile stdin]\ncredential_process = %s\n", script);
	write_str(path_conf, conf);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(write(in[1], "typed by the operator\n", 22), 22);
	close(in[1]);
	saved = dup(0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(in[0], 0), 0);
	close(in[0]);
	c = load("stdin", NULL);
	int r_stdin = creds_resolve(c, &cr, &err);
	dup2(saved, 0);
	close(saved);
	assert_int_equal(r_stdin, 0);
	assert_string_equal(cr.access_key, "ASIASTDIN");
	creds_free(&cr);
	creds_config_free(c);
}

/* A credential_process longer than inih takes whole must not run cut short
 * (the tail "--role=..." would even read as a setting of its own). */
static void
test_long_config_line(void **state)
{
	char pad[300], conf[2048];
	struct creds_config *c = NULL;
	struct creds_opts o = { .profile = "long" };
	struct cut_err err;

	(void)state;
	memset(pad, 'x', sizeof(pad));
	pad[sizeof(pad) - 1] = '\0';
	snprintf(conf, sizeof(conf), "[profile long]\ncredential_process = /usr/bin/helper --pad=%.200s --role=admin\n", pad);
	write_str(path_conf, conf);
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(err.msg, path_conf));
	assert_non_null(strstr(err.msg, "line 2 is longer than 197"));
	/* The credentials file too. */
	write_str(path_conf, "[profile long]\nregion = x\n");
	snprintf(conf, sizeof(conf), "[long]\n\naws_access_key_id = AKIA%.200s\n", pad);
	write_str(path_cred, conf);
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, path_cred));
	assert_non_null(strstr(err.msg, "line 3 is longer"));
}

/* Offsets shorter than +HH:MM are refused without reading past the end
 * (each string is a heap copy of its exact length, so ASan sees any
 * overread). */
static void
test_parse_time_offsets(void **state)
{
	static const char *bad[] = {
		"2030-01-02T03:04:05+1:2", "2030-01-02T03:04:05+1:23", "2030-01-02T03:04:05+01:2",
		"2030-01-02T03:04:05+1", "2030-01-02T03:04:05-", "2030-01-02T03:04:05+0100",
		"2030-01-02T03:04:05+25:00", "2030-01-02T03:04:05+01:60", "2030-01-02T03:04:05+01:00x",
	};
	time_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = strdup(bad[i]);
		assert_non_null(s);
		assert_int_equal(creds_parse_time(s, &t), -1);
		free(s);
	}
	char *ok = strdup("2030-01-02T03:04:05-01:30");
	assert_int_equal(creds_parse_time(ok, &t), 0);
	assert_int_equal(t, 1893553445 + 5400);
	free(ok);
}

static pid_t
start_metadata(char *port, size_t n)
{
	char script[600];
	snprintf(script, sizeof(script), "%s/tests/unit/fake_metadata.py", ts_top());
	char *argv[] = { "/usr/bin/python3", script, NULL };
	pid_t pid = ts_spawn_line(argv, port, n);
	assert_true(pid > 0);
	assert_true(atoi(port) > 0);
	return pid;
}

static void
test_container_credentials(void **state)
{
	char port[32], url[128];
	pid_t pid = start_metadata(port, sizeof(port));
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%s/container-creds", port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth-TOKEN", 1);
	c = load(NULL, NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "ASIACONTAINER");
	assert_string_equal(cr.session_token, "container-TOKEN");
	assert_string_equal(cr.source, "container");
	assert_int_equal(cr.expiration, 1893553445);
	creds_free(&cr);

	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-auth-TOKEN", 1);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_EAUTH);
	assert_non_null(strstr(err.msg, "HTTP 403"));
	assert_null(strstr(err.msg, "wrong-auth-TOKEN"));
	creds_config_free(c);
	ts_stop(pid);
}

static void
test_imds_v2(void **state)
{
	char port[32], url[128];
	pid_t pid = start_metadata(port, sizeof(port));
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%s", port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	c = load(NULL, NULL);
	assert_int_equal(creds_resolve(c, &cr, &err), 0);
	assert_string_equal(cr.access_key, "ASIAIMDSKEY");
	assert_string_equal(cr.secret_key, "imds-secret-VALUE");
	assert_string_equal(cr.session_token, "imds-session-TOKEN");
	assert_string_equal(cr.source, "imds");
	creds_free(&cr);
	creds_config_free(c);
	ts_stop(pid);
}

/* A laptop without IMDS: a listener that never answers must not hang us. */
static void
test_imds_silent_is_quick(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char url[128];
	struct creds_config *c;
	struct creds cr;
	struct cut_err err;
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 8), 0);
	getsockname(s, (struct sockaddr *)&a, &al);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	c = load(NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_EAUTH);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 3);
	assert_non_null(strstr(err.msg, "No AWS credentials found"));
	creds_config_free(c);
	close(s);
}

/* Every message any source can produce is free of the secrets involved. */
static void
test_no_secret_in_messages(void **state)
{
	struct creds_opts o = { .profile = "prod" };
	struct creds_config *c;
	struct cut_err err;

	(void)state;
	write_str(path_cred, "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = prod-SECRET-value\n"
	    "bad line prod-SECRET-value\n");
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_null(strstr(err.msg, "prod-SECRET-value"));
	write_str(path_cred, "[prod]\naws_secret_access_key = prod-SECRET-value\n");
	assert_int_equal(creds_config_load(&o, &c, &err), CUT_ECONFIG);
	assert_null(strstr(err.msg, "prod-SECRET-value"));
	setenv("AWS_SECRET_ACCESS_KEY", "env-SECRET-value", 1);
	o.profile = NULL;
	write_str(path_cred, "");
	c = load(NULL, NULL);
	struct creds cr;
	assert_int_equal(creds_resolve(c, &cr, &err), CUT_EAUTH);
	assert_null(strstr(err.msg, "env-SECRET-value"));
	creds_config_free(c);
}

static void
test_load_text_fuzz_shapes(void **state)
{
	struct creds_opts o = { 0 };
	struct creds_config *c;
	struct cut_err err;
	const char *odd[] = { "", "[", "[services]\nx=\n  y\n", "[default]\n=\n", "[profile ]\nregion=\n",
	    "[services s]\nrds =\n  endpoint_url\n", "\xff\xfe[default]", NULL };
	int i;

	(void)state;
	for (i = 0; odd[i]; i++) {
		int r = creds_config_load_text(&o, odd[i], odd[i], &c, &err);
		if (r == 0)
			creds_config_free(c);
		else
			assert_non_null(strstr(err.msg, "line"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_env_wins_without_profile_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_profile_and_config_only_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_and_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_profile_and_bad_ini, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_credentials_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential_process, setup, teardown),
		cmocka_unit_test(test_parse_time_offsets),
		cmocka_unit_test_setup_teardown(test_long_config_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credential_process_hang_and_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_json_errors_hide_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_silent_is_quick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_secret_in_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_text_fuzz_shapes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
