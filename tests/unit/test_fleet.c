/* Unit tests for the parts of the instance sessions that need no AWS:
 * the ephemeral Instance Connect key (OpenSSH's own ssh-keygen must read it
 * and derive the same public key; the file must be private), the
 * operator-address override, and the configuration keys the sessions and
 * world_ops_open read ([ssh] port, [app] version/http_port, [database]
 * prep/snapshot, [rehearse]). */
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

#include "world/config.h"
#include "world/fleet.h"

static void
test_keygen_openssh_reads_it(void **state)
{
	char dir[] = "/tmp/cutover-fleet-t.XXXXXX", path[128], cmd[300], pub[256], got[512];
	struct cut_err err;
	struct stat st;
	FILE *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/id_ed25519", dir);
	if (fleet_keygen(path, "cutover-session", pub, sizeof(pub), &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(strncmp(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", 32) == 0);
	/* ssh-keygen -y prints the public key of a private key file it can read. */
	snprintf(cmd, sizeof(cmd), "ssh-keygen -y -f %s", path);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(got, sizeof(got), p));
	assert_int_equal(pclose(p), 0);
	got[strcspn(got, "\n")] = '\0';
	/* ssh-keygen prints "type key comment"; compare type and key. */
	assert_int_equal(strncmp(got, pub, strlen("ssh-ed25519 ") + 68), 0);
	/* A second key is another key, and an existing file is never overwritten. */
	assert_int_not_equal(fleet_keygen(path, "x", pub, sizeof(pub), &err), 0);
	unlink(path);
	rmdir(dir);
}

static void
test_operator_ip_override(void **state)
{
	char ip[64];
	struct cut_err err;

	(void)state;
	setenv("CUTOVER_OPERATOR_IP", "203.0.113.7", 1);
	assert_int_equal(fleet_operator_ip(ip, sizeof(ip), &err), 0);
	assert_string_equal(ip, "203.0.113.7");
	setenv("CUTOVER_OPERATOR_IP", "not-an-ip", 1);
	assert_int_not_equal(fleet_operator_ip(ip, sizeof(ip), &err), 0);
	assert_non_null(strstr(err.msg, "CUTOVER_OPERATOR_IP"));
	unsetenv("CUTOVER_OPERATOR_IP");
}

static const char *BASE =
	"[aws]\nregion = ap-southeast-2\napplication = cobalt\n"
	"[pair web]\nenvironments = a-blue, a-green\nrecords = myabf.com.au\n"
	"[database]\nnew = a-green\nclass = db.t3.small\nname = ebdb\n"
	"[dns]\nzone = myabf.com.au\n";

static int
parse(const char *extra, struct cfg *c, struct cut_err *err)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	return cfg_parse_text("t.ini", text, c, err);
}

static void
test_cfg_session_keys(void **state)
{
	struct cfg c;
	struct cut_err err;

	(void)state;
	assert_int_equal(parse("", &c, &err), 0);
	assert_int_equal(c.ssh.port, 22);
	assert_int_equal(c.app.http_port, 80);
	assert_string_equal(c.app.version, "");
	assert_int_equal(parse("[ssh]\nport = 2222\n[app]\nversion = cobalt-6.0.1\nhttp_port = 8080\n"
	    "[rehearse]\nenvironment = t-black\ndatabase = t-db\nsnapshot = s1\n", &c, &err), 0);
	assert_int_equal(c.ssh.port, 2222);
	assert_int_equal(c.app.http_port, 8080);
	assert_string_equal(c.app.version, "cobalt-6.0.1");
	assert_string_equal(c.rehearse.env, "t-black");
	assert_int_equal(parse("[database2]\n", &c, &err), CUT_ECONFIG);
	assert_int_equal(parse("[ssh]\nport = 99999\n", &c, &err), CUT_ECONFIG);
	assert_non_null(strstr(err.msg, "t.ini"));
	assert_non_null(strstr(err.msg, "port"));
	assert_int_equal(parse("[rehearse]\nclass = t3.small\n", &c, &err), CUT_ECONFIG);
	assert_int_equal(parse("[rehearse]\nwho = me\n", &c, &err), CUT_ECONFIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_openssh_reads_it),
		cmocka_unit_test(test_operator_ip_override),
		cmocka_unit_test(test_cfg_session_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
