/* Integration tests of world/rules.h (the port-22 rules cutover opens)
 * against the simulated AWS: counted within a process, revoked by rule id,
 * recorded before they are opened and swept after an owner died. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws/ec2.h"
#include "simaws.h"
#include "tsupport.h"
#include "world/rules.h"

#define SG "sg-0eb1e5eb00000001a"
#define CIDR "198.51.100.9/32"

static char *home;

static int
setup(void **state)
{
	(void)state;
	if (!sim_available())
		fail_msg("FAKEAWS_ADMIN is not set: run through tests/run so the fakeaws service is up");
	assert_int_equal(sim_reset(), 0);
	home = ts_tmpdir();
	setenv("HOME", home, 1);
	unsetenv("XDG_STATE_HOME");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
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
client(void)
{
	struct aws_client_opts o = { .retry_scale = 0.05 };
	struct aws_client *c;
	struct cut_err err;

	if (aws_client_new(&o, &c, &err) != 0)
		fail_msg("aws_client_new: %s", err.msg);
	return c;
}

#define CHECK(call) do { if ((call) != 0) fail_msg("%s: %s", #call, err.msg); } while (0)

/* 1 when SG has a port-22 rule for CIDR. */
static int
open_now(struct aws_client *c)
{
	struct ec2_security_group_list gl;
	const char *gid[] = { SG };
	struct cut_err err;
	int found = 0;

	CHECK(ec2_describe_security_groups(c, gid, 1, &gl, &err));
	for (size_t i = 0; i < gl.v[0].nrules; i++)
		if (strcmp(gl.v[0].rules[i].cidr, CIDR) == 0 && gl.v[0].rules[i].from_port == 22)
			found = 1;
	ec2_security_group_list_free(&gl);
	return found;
}

static int
records(void)
{
	char cmd[1024], dir[512];
	struct cut_err err;
	FILE *p;
	int n = -1;

	CHECK(rules_dir(dir, sizeof(dir), &err));
	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.rule' 2>/dev/null | wc -l", dir);
	if ((p = popen(cmd, "r")) == NULL || fscanf(p, "%d", &n) != 1)
		fail_msg("cannot count the records");
	pclose(p);
	return n;
}

/* Two sessions of one process on one group (two environments sharing it):
 * one authorize, and the rule stays until the last one is done. */
static void
test_counted_within_a_process(void **state)
{
	struct aws_client *c = client();
	struct rules *t;
	struct cut_err err;

	(void)state;
	CHECK(rules_open(c, &t, &err));
	CHECK(rules_acquire(t, SG, CIDR, &err));
	assert_int_equal(records(), 1);
	CHECK(rules_acquire(t, SG, CIDR, &err));
	assert_int_equal(sim_calls("ec2", "AuthorizeSecurityGroupIngress"), 1);
	CHECK(rules_release(t, SG, CIDR, &err));
	assert_true(open_now(c));
	assert_int_equal(sim_calls("ec2", "RevokeSecurityGroupIngress"), 0);
	CHECK(rules_release(t, SG, CIDR, &err));
	assert_false(open_now(c));
	assert_int_equal(sim_calls("ec2", "RevokeSecurityGroupIngress"), 1);
	assert_int_equal(records(), 0);
	CHECK(rules_close(t, &err));
	aws_client_free(c);
}

/* Revoking by rule id leaves another rule for the same address alone (the
 * operator's own, added after ours was revoked... or one that only looks
 * the same), and an id that is gone is not an error. */
static void
test_revoke_by_rule_id(void **state)
{
	struct aws_client *c = client();
	struct cut_err err;
	char id[32];
	int already = -1;

	(void)state;
	CHECK(ec2_authorize_ingress_rule(c, SG, "tcp", 22, 22, CIDR, "cutover session t", &already, id, sizeof(id),
	    &err));
	assert_int_equal(already, 0);
	assert_true(strncmp(id, "sgr-", 4) == 0);
	CHECK(ec2_revoke_ingress_rule(c, SG, id, &err));
	assert_false(open_now(c));
	CHECK(ec2_revoke_ingress_rule(c, SG, id, &err));
	aws_client_free(c);
}

/* An owner that died (its process gone, its lock with it) leaves a record;
 * the next owner's start closes the rule and removes the record. */
static void
test_dead_owner_swept(void **state)
{
	struct aws_client *c = client();
	struct rules *t;
	struct cut_err err;
	pid_t pid;
	int st;

	(void)state;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct aws_client *cc = client();
		struct rules *tt;
		if (rules_open(cc, &tt, &err) != 0 || rules_acquire(tt, SG, CIDR, &err) != 0)
			_exit(1);
		_exit(0);    /* as kill -9: nothing closed */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(open_now(c));
	assert_int_equal(records(), 1);
	CHECK(rules_open(c, &t, &err));
	assert_false(open_now(c));
	assert_int_equal(records(), 0);
	assert_int_equal(sim_calls("ec2", "RevokeSecurityGroupIngress"), 1);
	CHECK(rules_close(t, &err));
	aws_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counted_within_a_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_by_rule_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_owner_swept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
