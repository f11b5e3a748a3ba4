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
#include <time.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "world/config.h"
#include "world/fleet.h"

static void
mkkeydir(const char *tmp, const char *name, const char *owner, time_t age)
{
	char p[300];
	FILE *f;
	struct timeval tv[2];

	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/%s/id_ed25519", tmp, name);
	assert_non_null(f = fopen(p, "w"));
	fputs("-----BEGIN OPENSSH PRIVATE KEY-----\n", f);
	fclose(f);
	if (owner != NULL) {
		snprintf(p, sizeof(p), "%s/%s/owner", tmp, name);
		assert_non_null(f = fopen(p, "w"));
		fputs(owner, f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	tv[0].tv_sec = tv[1].tv_sec = time(NULL) - age;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	assert_int_equal(utimes(p, tv), 0);
}

static int
there(const char *tmp, const char *name)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	return access(p, F_OK) == 0;
}

/* Instance Connect key folders of runs that died (kill -9) are swept;
 * a live run's, a fresh one without an owner, links and other names stay. */
static void
test_sweep_stale_keydirs(void **state)
{
	char tmp[] = "/tmp/cutover-sweep-t.XXXXXX", own[64], reused[64], cmd[300], stat_line[1024];
	pid_t dead;
	int removed = -1;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	/* A pid that is surely gone: a child that has exited and been reaped. */
	if ((dead = fork()) == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	/* Our own start time, as fleet_open writes it. */
	assert_non_null(f = fopen("/proc/self/stat", "r"));
	assert_non_null(fgets(stat_line, sizeof(stat_line), f));
	fclose(f);
	unsigned long long start = 0;
	assert_int_equal(sscanf(strrchr(stat_line, ')') + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &start), 1);
	snprintf(own, sizeof(own), "%ld %llu\n", (long)getpid(), start);
	snprintf(reused, sizeof(reused), "%ld %llu\n", (long)getpid(), start + 12345);
	char deadown[64];
	snprintf(deadown, sizeof(deadown), "%ld 1\n", (long)dead);

	mkkeydir(tmp, "cutover-key.dead01", deadown, 0);
	mkkeydir(tmp, "cutover-key.reuse1", reused, 0);
	mkkeydir(tmp, "cutover-key.live01", own, 0);
	mkkeydir(tmp, "cutover-key.old001", NULL, 7200);
	mkkeydir(tmp, "cutover-key.new001", NULL, 60);
	mkkeydir(tmp, "other-key.dead01", deadown, 0);
	snprintf(cmd, sizeof(cmd), "mkdir %s/target && ln -s %s/target %s/cutover-key.link01", tmp, tmp, tmp);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(fleet_sweep_keydirs(tmp, &removed), 0);
	assert_int_equal(removed, 3);
	assert_false(there(tmp, "cutover-key.dead01"));
	assert_false(there(tmp, "cutover-key.reuse1"));    /* same pid, another process */
	assert_false(there(tmp, "cutover-key.old001"));
	assert_true(there(tmp, "cutover-key.live01"));
	assert_true(there(tmp, "cutover-key.new001"));
	assert_true(there(tmp, "other-key.dead01"));
	assert_true(there(tmp, "cutover-key.link01"));
	assert_true(there(tmp, "target"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
}

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
		cmocka_unit_test(test_sweep_stale_keydirs),
		cmocka_unit_test(test_operator_ip_override),
		cmocka_unit_test(test_cfg_session_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
