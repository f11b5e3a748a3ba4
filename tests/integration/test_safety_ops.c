/* Cron pause/restore with Debian's real crontab for a throw-away user;
 * smoke tests against the fixture's nginx-like server (wrong status and a
 * refused Host detected); mpc_sync refused when the simulated Masterpoints
 * server is down, erroring or empty; restore refused when the "new"
 * instance points at the live database; free disk checked. All through
 * the real agent over pipes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "safety/cronpause.h"
#include "safety/freeze.h"
#include "safety/precond.h"
#include "base/sfile.h"
#include "safety/smoke.h"
#include "sx.h"

static struct sx X;
static char user[32], state_dir[600], local_dir[600];
static char web_env[512];
static int web_port;

static const char ORIGINAL[] = "# Cobalt's jobs\n* * * * * /var/app/current/utils/cron/wrapper.sh send_queued_mail\n"
    "*/5 * * * * /var/app/current/utils/cron/wrapper.sh xero_upload\n";

static int
setup(void **state)
{
	(void)state;
	if (sx_setup(&X) != 0 || sx_cobalt_db(&X, "web", "after", 1) != 0)
		return -1;
	snprintf(user, sizeof(user), "cutcron%d", (int)getpid() % 100000);
	if (sx_sh(&X, "useradd -M -s /usr/sbin/nologin %s", user) != 0)
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/agent-state", X.dir);
	snprintf(local_dir, sizeof(local_dir), "%s/local", X.dir);
	mkdir(local_dir, 0700);
	sx_env_file(&X, "web", web_env, sizeof(web_env));
	/* The fixture's web server: nginx's Host rule, the app behind it. */
	if (sx_sh(&X, "\"$FIX/serve\" \"$T/web\" --port-file \"$T/web.port\" --pid-file \"$T/web.pid\" "
	    ">\"$T/web.log\" 2>&1 & for i in $(seq 100); do [ -s \"$T/web.port\" ] && exit 0; sleep 0.1; done; exit 1") != 0)
		return -1;
	char *p = sx_out(&X, "cat \"$T/web.port\"");
	web_port = p ? atoi(p) : 0;
	free(p);
	return web_port > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	sx_sh(&X, "[ -s \"$T/web.pid\" ] && kill $(cat \"$T/web.pid\"); [ -s \"$T/mpc.pid\" ] && kill $(cat \"$T/mpc.pid\"); "
	    "crontab -u %s -r 2>/dev/null; userdel %s", user, user);
	sx_teardown(&X);
	return 0;
}

static char *
crontab_now(void)
{
	return sx_out(&X, "crontab -u %s -l 2>&1 || true", user);
}

static void
test_cron_pause_restore(void **state)
{
	struct alink l;
	struct aop_conf c = { .cron_user = user, .cron_state_dir = state_dir, .crontab = "/usr/bin/crontab" };
	struct aop_crontab saved;
	struct cut_err err = { 0 };
	char path[1200], *now, *text;
	size_t len;
	(void)state;

	FILE *f = fopen("/tmp/cutover-cron-orig", "w");
	assert_non_null(f);
	fputs(ORIGINAL, f);
	fclose(f);
	assert_int_equal(sx_sh(&X, "crontab -u %s /tmp/cutover-cron-orig && rm /tmp/cutover-cron-orig", user), 0);
	assert_int_equal(sx_agent(&l, "live-1"), 0);
	int r = cronp_pause(&l, &c, local_dir, &saved, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(saved.had_crontab, 1);
	assert_int_equal(saved.len, strlen(ORIGINAL));
	assert_memory_equal(saved.content, ORIGINAL, saved.len);
	aop_crontab_free(&saved);

	/* Emptied: only the note saying where the saved copy is. */
	now = crontab_now();
	assert_null(strstr(now, "wrapper.sh"));
	assert_non_null(strstr(now, "paused by cutover"));
	free(now);
	/* Kept locally (0600) and on the instance. */
	struct stat st;
	cronp_local_path(&l, &c, local_dir, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sfile_read(path, 1 << 20, &text, &len, &err), 0);
	assert_non_null(strstr(text, "xero_upload"));
	free(text);

	int paused = 0;
	assert_int_equal(cronp_is_paused(&l, &c, &paused, &err), 0);
	assert_int_equal(paused, 1);
	/* A second pause (a rerun) keeps the first saved crontab, not the empty one. */
	assert_int_equal(cronp_pause(&l, &c, local_dir, &saved, &err), 0);
	assert_int_equal(saved.already_paused, 1);
	assert_memory_equal(saved.content, ORIGINAL, saved.len);
	aop_crontab_free(&saved);

	/* Restore brings back exactly the original. */
	assert_int_equal(cronp_restore(&l, &c, local_dir, &err), 0);
	now = crontab_now();
	assert_string_equal(now, ORIGINAL);
	free(now);
	assert_int_equal(cronp_is_paused(&l, &c, &paused, &err), 0);
	assert_int_equal(paused, 0);

	/* Without the local copy, the instance's own copy serves. */
	assert_int_equal(cronp_pause(&l, &c, local_dir, NULL, &err), 0);
	unlink(path);
	assert_int_equal(cronp_restore(&l, &c, local_dir, &err), 0);
	now = crontab_now();
	assert_string_equal(now, ORIGINAL);
	free(now);

	/* A user without a crontab: pause and restore leave none. */
	assert_int_equal(sx_sh(&X, "crontab -u %s -r", user), 0);
	r = cronp_pause(&l, &c, local_dir, &saved, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(saved.had_crontab, 0);
	aop_crontab_free(&saved);
	assert_int_equal(cronp_restore(&l, &c, local_dir, &err), 0);
	now = crontab_now();
	assert_non_null(strstr(now, "no crontab"));
	free(now);

	/* A crontab program that does not exist is one clear error. */
	struct aop_conf bad = c;
	bad.crontab = "/nonexistent/crontab";
	assert_int_not_equal(cronp_pause(&l, &bad, local_dir, NULL, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent/crontab"));
	alink_close(&l);
}

/* The state folder's name is written into the paused crontab: a newline in
 * it is refused before anything changes. A folder others can write is
 * refused, and a link planted where the temporary copy goes is not
 * followed. */
static void
test_cron_state_dir_guarded(void **state)
{
	struct alink l;
	char evil[700], open_dir[700], link_dir[700], victim[700], *now, *v;
	struct aop_conf c = { .cron_user = user, .crontab = "/usr/bin/crontab" };
	struct cut_err err = { 0 };
	(void)state;

	FILE *f = fopen("/tmp/cutover-cron-orig", "w");
	assert_non_null(f);
	fputs(ORIGINAL, f);
	fclose(f);
	assert_int_equal(sx_sh(&X, "crontab -u %s /tmp/cutover-cron-orig && rm /tmp/cutover-cron-orig", user), 0);
	assert_int_equal(sx_agent(&l, "live-1"), 0);

	snprintf(evil, sizeof(evil), "%s/st\n* * * * * touch /tmp/cutover-pwned", X.dir);
	c.cron_state_dir = evil;
	assert_int_not_equal(cronp_pause(&l, &c, local_dir, NULL, &err), 0);
	assert_non_null(strstr(err.msg, "control characters"));
	now = crontab_now();
	assert_string_equal(now, ORIGINAL);
	free(now);

	snprintf(open_dir, sizeof(open_dir), "%s/open-state", X.dir);
	assert_int_equal(sx_sh(&X, "mkdir -m 777 '%s' && chmod 777 '%s'", open_dir, open_dir), 0);
	c.cron_state_dir = open_dir;
	assert_int_not_equal(cronp_pause(&l, &c, local_dir, NULL, &err), 0);
	assert_non_null(strstr(err.msg, "writable by nobody else"));
	now = crontab_now();
	assert_string_equal(now, ORIGINAL);
	free(now);

	/* The agent makes its own folder; then a link waits at the temporary name. */
	snprintf(link_dir, sizeof(link_dir), "%s/link-state", X.dir);
	snprintf(victim, sizeof(victim), "%s/victim", X.dir);
	c.cron_state_dir = link_dir;
	assert_int_equal(cronp_pause(&l, &c, local_dir, NULL, &err), 0);
	assert_int_equal(cronp_restore(&l, &c, local_dir, &err), 0);
	assert_int_equal(sx_sh(&X, "rm -f '%s'/crontab.*.saved; printf victim >'%s'; chmod 666 '%s'; "
	    "ln -s '%s' '%s/crontab.%s.saved.tmp'", link_dir, victim, victim, victim, link_dir, user), 0);
	int r = cronp_pause(&l, &c, local_dir, NULL, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	v = sx_out(&X, "cat '%s'", victim);
	assert_string_equal(v, "victim");
	free(v);
	assert_int_equal(cronp_restore(&l, &c, local_dir, &err), 0);
	now = crontab_now();
	assert_string_equal(now, ORIGINAL);
	free(now);
	alink_close(&l);
}

/* psql on the instances requires TLS: libpq's default (prefer) would fall
 * back to plain text, password included. The operator may ask for
 * verify-full with the RDS CA bundle; prefer and allow are refused. */
static void
test_sql_requires_tls(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = web_env };
	struct cut_err err = { 0 };
	json_object *out = NULL;
	char fake[700];
	(void)state;

	assert_int_equal(sx_agent(&l, "web-1"), 0);
	/* The real psql against the test PostgreSQL (TLS on, as RDS). */
	int r = aop_sql(&l, &c, "SELECT to_json(ssl) FROM pg_stat_ssl WHERE pid = pg_backend_pid()", 0, NULL, &out, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_true(json_object_get_boolean(out));
	json_object_put(out);

	/* What psql is given: a psql that prints its TLS settings. */
	snprintf(fake, sizeof(fake), "%s/fakepsql", X.dir);
	FILE *f = fopen(fake, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\ncat >/dev/null\nprintf '\"%s|%s\"' \"$PGSSLMODE\" \"$PGSSLROOTCERT\"\n", f);
	fclose(f);
	assert_int_equal(chmod(fake, 0755), 0);
	c.psql = fake;
	assert_int_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "require|");
	json_object_put(out);
	c.sslmode = "verify-full";
	c.sslrootcert = "/etc/pki/rds/global-bundle.pem";
	assert_int_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	assert_string_equal(json_object_get_string(out), "verify-full|/etc/pki/rds/global-bundle.pem");
	json_object_put(out);
	c.sslmode = "prefer";
	c.sslrootcert = NULL;
	assert_int_not_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	assert_non_null(strstr(err.msg, "sslmode"));
	alink_close(&l);
}

/* Another server than the env file's, with its credentials (a read
 * replica, issue 13): host and port reach psql's environment, anything that
 * is not a plain host name or port is refused, and frz_replica reads the
 * app's database then the other server. */
static void
test_sql_other_host(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = web_env };
	struct cut_err err = { 0 };
	struct frz_replica rp;
	json_object *out = NULL;
	char fake[700], *host;
	(void)state;

	assert_int_equal(sx_agent(&l, "web-1"), 0);
	snprintf(fake, sizeof(fake), "%s/hostpsql", X.dir);
	FILE *f = fopen(fake, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\ncat >/dev/null\nprintf '\"%s|%s\"' \"$PGHOST\" \"$PGPORT\"\n", f);
	fclose(f);
	assert_int_equal(chmod(fake, 0755), 0);
	c.psql = fake;
	assert_int_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	host = strdup(json_object_get_string(out));
	json_object_put(out);
	assert_null(strstr(host, "replica"));
	c.db_host = "replica-1.c97jawiow7ed.ap-southeast-2.rds.amazonaws.com";
	c.db_port = 5433;
	assert_int_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	assert_string_equal(json_object_get_string(out),
	    "replica-1.c97jawiow7ed.ap-southeast-2.rds.amazonaws.com|5433");
	json_object_put(out);
	c.db_host = "host=evil dbname=postgres";
	assert_int_not_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	assert_non_null(strstr(err.msg, "host or port"));
	c.db_host = "-h";
	assert_int_not_equal(aop_sql(&l, &c, "SELECT 1", 0, NULL, &out, &err), 0);
	free(host);

	/* The real psql: the same server as the env file's, by its address. */
	c.psql = NULL;
	c.db_host = NULL;
	c.db_port = 0;
	char *addr = sx_out(&X, "sed -n 's/^RDS_HOSTNAME=//p' '%s'", web_env);
	assert_non_null(addr);
	addr[strcspn(addr, "\n")] = '\0';
	int r = frz_replica(&l, &c, addr, 0, &rp, &err);
	if (r)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_true(rp.live_lsn[0] != '\0' && strchr(rp.live_lsn, '/') != NULL);
	assert_true(rp.live_unix > 1700000000);
	assert_int_equal(rp.in_recovery, 0);       /* a primary, not a standby */
	assert_string_equal(rp.replay_lsn, "");    /* it replays nothing */
	free(addr);
	alink_close(&l);
}

static void
test_smoke(void **state)
{
	struct alink l;
	struct smoke_result *res;
	size_t n;
	struct cut_err err = { 0 };
	char base[64];
	(void)state;

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", web_port);
	assert_int_equal(sx_agent(&l, "new-1"), 0);
	struct smoke_opts o = { .host_header = "myabf.com.au", .local_base = base, .lb_base = base };
	int r = smoke_run(&l, &o, &res, &n, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(n, 2);
	assert_int_equal(res[0].status, 200);
	free(res);

	/* Wrong status: a path the app does not have. */
	struct smoke_check checks[] = { { "/accounts/login/", { 200, 301 } }, { "/no/such/page/", { 200 } } };
	struct smoke_opts o2 = { .host_header = "myabf.com.au", .local_base = base, .checks = checks, .nchecks = 2 };
	assert_int_equal(smoke_run(&l, &o2, &res, &n, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "/no/such/page/"));
	assert_non_null(strstr(err.msg, "answered 404"));
	assert_int_equal(res[0].ok, 1);
	assert_int_equal(res[1].ok, 0);
	free(res);

	/* Refused host: nginx (444) closes without an answer. */
	struct smoke_opts o3 = { .host_header = "cobalt-production-green.example", .local_base = base };
	assert_int_equal(smoke_run(&l, &o3, &res, &n, &err), CUT_ESTATE);
	assert_int_equal(res[0].status, -1);
	assert_non_null(strstr(err.msg, "got no answer"));
	free(res);

	/* Nothing listening at the load balancer's address. */
	struct smoke_opts o4 = { .host_header = "myabf.com.au", .local_base = base, .lb_base = "http://127.0.0.1:9" };
	assert_int_equal(smoke_run(&l, &o4, &res, &n, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "127.0.0.1:9"));
	free(res);
	alink_close(&l);
}

static int
start_mpc(const char *mode)
{
	sx_sh(&X, "[ -s \"$T/mpc.pid\" ] && kill $(cat \"$T/mpc.pid\") && sleep 0.2; rm -f \"$T/mpc.port\" \"$T/mpc.pid\"");
	if (sx_sh(&X, "/usr/bin/python3 \"$FIX/mpcserver.py\" --mode %s --port-file \"$T/mpc.port\" >/dev/null 2>&1 & "
	    "echo $! > \"$T/mpc.pid\"; for i in $(seq 100); do [ -s \"$T/mpc.port\" ] && exit 0; sleep 0.1; done; exit 1",
	    mode) != 0)
		return -1;
	return sx_sh(&X, "\"$FIX/lay-instance\" \"$T/web\" --link --db-env \"$T/postgres.env\" --db web "
	    "--env GLOBAL_MPSERVER=http://127.0.0.1:$(cat \"$T/mpc.port\")");
}

static void
test_mpserver_precondition(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = web_env };
	struct cut_err err = { 0 };
	int tcp_only;
	(void)state;

	assert_int_equal(sx_agent(&l, "rehearsal-1"), 0);
	/* As laid out: GLOBAL_MPSERVER=http://127.0.0.1:9/, nothing listens. */
	assert_int_equal(precond_mpserver(&l, &c, NULL, &tcp_only, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "does not answer"));
	assert_non_null(strstr(err.msg, "delete every MPBatch"));

	assert_int_equal(start_mpc("ok"), 0);
	int r = precond_mpserver(&l, &c, NULL, &tcp_only, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(tcp_only, 0);

	assert_int_equal(start_mpc("error"), 0);
	assert_int_equal(precond_mpserver(&l, &c, NULL, &tcp_only, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "answered 500"));

	assert_int_equal(start_mpc("empty"), 0);
	assert_int_equal(precond_mpserver(&l, &c, NULL, &tcp_only, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "no data"));
	alink_close(&l);
}

static void
test_target_db_and_disk(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = web_env };
	struct aop_dbenv live, target;
	struct cut_err err = { 0 };
	(void)state;

	assert_int_equal(sx_agent(&l, "new-1"), 0);
	/* The "new" instance's env file names the live database server. */
	assert_int_equal(aop_dbenv(&l, &c, &live, &err), 0);
	assert_int_equal(precond_target_db(&l, &c, &live, &target, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "LIVE database"));
	/* Same server spelled differently is still the same server. */
	struct aop_dbenv spelled = live;
	snprintf(spelled.host, sizeof(spelled.host), "%.200s.", live.host);
	assert_true(precond_same_server(&spelled, &target));
	/* Another endpoint passes. */
	struct aop_dbenv other = live;
	snprintf(other.host, sizeof(other.host), "cobalt-new.example.rds.amazonaws.com");
	assert_int_equal(precond_target_db(&l, &c, &other, &target, &err), 0);

	assert_int_equal(precond_disk(&l, X.dir, 1024, &err), 0);
	assert_int_equal(precond_disk(&l, X.dir, (uint64_t)1 << 60, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "MiB are free"));
	alink_close(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cron_pause_restore),
		cmocka_unit_test(test_cron_state_dir_guarded),
		cmocka_unit_test(test_sql_requires_tls),
		cmocka_unit_test(test_sql_other_host),
		cmocka_unit_test(test_smoke),
		cmocka_unit_test(test_mpserver_precondition),
		cmocka_unit_test(test_target_db_and_disk),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
