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
#include <openssl/evp.h>

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

#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAILu1+4CkGM5FT+q/xprVVNBvPO7XUT6soQSOE05le521"

/* Writes text to a fresh known_hosts in dir; hashes it with ssh-keygen -H when asked. */
static void
write_kh(const char *path, const char *text, int hash)
{
	char cmd[600];
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (hash) {
		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -H -f %s >/dev/null 2>&1 && rm -f %s.old", path, path);
		assert_int_equal(system(cmd), 0);
	}
}

static int
check(const char *path, const char *host, int port, const char *b64, int *line, struct cut_err *e)
{
	unsigned char blob[256];
	int n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));

	assert_true(n > 0);
	return ssh_known_check(path, host, port, blob, (size_t)n - (b64[strlen(b64) - 1] == '=' ? 1 : 0),
	    line, e);
}

static void
test_known_check(void **state)
{
	char dir[] = "/tmp/test_rcli.XXXXXX", path[256], text[2048], cmd[300];
	struct cut_err e;
	int line, hash;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	for (hash = 0; hash <= 1; hash++) {
		/* A port-less line does not vouch for port 2222; the pin decides. */
		write_kh(path, "web-1 ssh-ed25519 " KEY_B "\n[web-1]:2222 ssh-ed25519 " KEY_A "\n", hash);
		assert_int_equal(check(path, "web-1", 2222, KEY_B, &line, &e), SSH_KH_CHANGED);
		assert_int_equal(line, 2);
		assert_int_equal(check(path, "web-1", 2222, KEY_A, &line, &e), SSH_KH_MATCH);
		assert_int_equal(check(path, "WEB-1", 22, KEY_B, &line, &e), SSH_KH_MATCH);
		write_kh(path, "web-1 ssh-ed25519 " KEY_B "\n", hash);
		assert_int_equal(check(path, "web-1", 2222, KEY_B, &line, &e), SSH_KH_NEW);
		/* @revoked refuses the key even where another line vouches for it. */
		snprintf(text, sizeof(text), "[web-1]:2222 ssh-ed25519 " KEY_A "\n@revoked %s ssh-ed25519 " KEY_A "\n",
		    hash ? "[web-1]:2222" : "*");
		write_kh(path, text, hash);
		assert_int_equal(check(path, "web-1", 2222, KEY_A, &line, &e), SSH_KH_REVOKED);
		assert_int_equal(line, 2);
		assert_int_equal(check(path, "web-1", 2222, KEY_B, &line, &e), SSH_KH_CHANGED);
	}
	/* Patterns and negation as OpenSSH reads them; @cert-authority vouches for no plain key. */
	write_kh(path, "*.example,!bad.example ssh-ed25519 " KEY_A "\n@cert-authority * ssh-ed25519 " KEY_B "\n", 0);
	assert_int_equal(check(path, "a.example", 22, KEY_A, &line, &e), SSH_KH_MATCH);
	assert_int_equal(check(path, "bad.example", 22, KEY_A, &line, &e), SSH_KH_NEW);
	assert_int_equal(check(path, "a.example", 22, KEY_B, &line, &e), SSH_KH_CHANGED);
	write_kh(path, "@cert-authority * ssh-ed25519 " KEY_B "\n", 0);
	assert_int_equal(check(path, "a.example", 22, KEY_B, &line, &e), SSH_KH_NEW);
	/* A malformed line is refused by file and line, wherever it is. */
	static const char *bad[] = {
		"@revokd * ssh-ed25519 " KEY_A "\n",
		"web-1 ssh-ed25519\n",
		"web-1 ssh-ed25519 AAAA!!!!\n",
		"web-1 ssh-rsa " KEY_A "\n",
		"|1|abc|def ssh-ed25519 " KEY_A "\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char types[128];
		snprintf(text, sizeof(text), "# first\nother ssh-ed25519 " KEY_B "\n%s", bad[i]);
		write_kh(path, text, 0);
		assert_true(check(path, "web-1", 22, KEY_A, &line, &e) < 0);
		assert_non_null(strstr(e.msg, path));
		assert_non_null(strstr(e.msg, "line 3 "));
		assert_true(ssh_known_types(path, "web-1", 22, types, sizeof(types), &e) < 0);
		assert_non_null(strstr(e.msg, "line 3 "));
	}
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
		cmocka_unit_test(test_known_check),
		cmocka_unit_test(test_signal_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
