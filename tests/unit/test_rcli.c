/* Unit tests for the exec/manage helpers (cli/rcli.c) and the known_hosts
 * lookup of remote/ssh.c: host specs, UTF-8 checks, plain and hashed entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/rcli.h"
#include "remote/ssh.h"

static void
test_split_host(void **state)
{
	char u[64], h[64];
	int p;
	struct cut_err e;

	(void)state;
	assert_int_equal(rcli_split_host("ec2-user@10.0.0.5:2222", u, sizeof(u), h, sizeof(h), &p, &e), 0);
	assert_string_equal(u, "ec2-user");
	assert_string_equal(h, "10.0.0.5");
	assert_int_equal(p, 2222);
	assert_int_equal(rcli_split_host("web-1", u, sizeof(u), h, sizeof(h), &p, &e), 0);
	assert_string_equal(u, "");
	assert_string_equal(h, "web-1");
	assert_int_equal(p, 22);
	assert_int_equal(rcli_split_host("root@[::1]:2200", u, sizeof(u), h, sizeof(h), &p, &e), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 2200);
	assert_int_equal(rcli_split_host("h:0", u, sizeof(u), h, sizeof(h), &p, &e), CUT_EINVAL);
	assert_int_equal(rcli_split_host("h:70000", u, sizeof(u), h, sizeof(h), &p, &e), CUT_EINVAL);
	assert_int_equal(rcli_split_host("@h", u, sizeof(u), h, sizeof(h), &p, &e), CUT_EINVAL);
	assert_int_equal(rcli_split_host("::1", u, sizeof(u), h, sizeof(h), &p, &e), CUT_EINVAL);
	assert_int_equal(rcli_split_host("h:22x", u, sizeof(u), h, sizeof(h), &p, &e), CUT_EINVAL);
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(rcli_utf8_valid((const unsigned char *)"plain", 5));
	assert_true(rcli_utf8_valid((const unsigned char *)"h\xc3\xa9llo", 6));
	assert_true(rcli_utf8_valid((const unsigned char *)"\xf0\x9f\x98\x80", 4));
	assert_false(rcli_utf8_valid((const unsigned char *)"\xff", 1));
	assert_false(rcli_utf8_valid((const unsigned char *)"\xc3", 1));          /* cut */
	assert_false(rcli_utf8_valid((const unsigned char *)"\xc0\xaf", 2));      /* overlong */
	assert_false(rcli_utf8_valid((const unsigned char *)"\xe0\x80\xaf", 3));  /* overlong */
	assert_false(rcli_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));  /* surrogate */
	assert_false(rcli_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_true(rcli_utf8_valid((const unsigned char *)"a\0b", 3));
}

static void
test_known_types(void **state)
{
	char dir[] = "/tmp/test_rcli.XXXXXX", path[256], cmd[512], types[256];
	struct cut_err e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# comment\n"
	    "[10.0.0.5]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	    "10.0.0.5,web-1 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=\n"
	    "@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	    "[hashed.example]:2200 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n");
	fclose(f);
	assert_int_equal(ssh_known_types(path, "10.0.0.5", 2222, types, sizeof(types), &e), 1);
	assert_string_equal(types, "ssh-ed25519");
	assert_int_equal(ssh_known_types(path, "web-1", 22, types, sizeof(types), &e), 1);
	assert_string_equal(types, "ecdsa-sha2-nistp256");
	assert_int_equal(ssh_known_types(path, "10.0.0.5", 22, types, sizeof(types), &e), 1);
	assert_int_equal(ssh_known_types(path, "10.0.0.6", 22, types, sizeof(types), &e), 0);
	/* ssh-keygen -H hashes the names as Debian's HashKnownHosts does. */
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -H -f %s >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ssh_known_types(path, "hashed.example", 2200, types, sizeof(types), &e), 1);
	assert_string_equal(types, "ssh-ed25519");
	assert_int_equal(ssh_known_types(path, "hashed.example", 22, types, sizeof(types), &e), 0);
	assert_int_equal(ssh_known_types("/nonexistent/known_hosts", "x", 22, types, sizeof(types), &e), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_signal_names(void **state)
{
	(void)state;
	assert_int_equal(ssh_signal_number("KILL"), 9);
	assert_int_equal(ssh_signal_number("SIGTERM"), 15);
	assert_int_equal(ssh_signal_number("NOPE"), 0);
	assert_int_equal(ssh_signal_number(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_host),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_known_types),
		cmocka_unit_test(test_signal_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
