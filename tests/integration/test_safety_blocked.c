/* Blocked emails carried across the FK change of migration 0055, against
 * real PostgreSQL, the Django fixture and the real agent over pipes:
 * backup from the live system (FK -> accounts_unregistereduser), a copy of
 * it converted the way the runbook does (migrate, temp_copy_unreg_to_user),
 * restore, verify, second restore idempotent, unmappable people reported,
 * a tampered backup refused, and 60,000 rows (far more than one agent
 * frame) restored in one transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "safety/blocked_emails.h"
#include "sx.h"

static struct sx X;
static char live_env[512], new_env[512], backup[512];

static int
setup(void **state)
{
	(void)state;
	if (sx_setup(&X) != 0 || sx_cobalt_db(&X, "live", "before", 1) != 0)
		return -1;
	/* The snapshot: the new database starts as a copy of the live one. */
	if (sx_sh(&X, "createdb -T live new && \"$FIX/lay-instance\" \"$T/new\" --link "
	    "--db-env \"$T/postgres.env\" --db new") != 0)
		return -1;
	/* Someone blocked after the snapshot: in the backup, never converted
	 * on the new system, so unmappable there. */
	if (sx_sh(&X, "psql -XAtq -d live -c \"INSERT INTO accounts_unregistereduser "
	    "(system_number, first_name, last_name, internal_system_number, origin, created_date) "
	    "VALUES (620099, 'Zoe', 'Zed', false, 'MC', now()); INSERT INTO notifications_unregisteredblockedemail "
	    "(email, un_registered_user_id) SELECT 'zoe, \\\"the\\\" zed@example.com', id FROM accounts_unregistereduser "
	    "WHERE system_number = 620099\"") != 0)
		return -1;
	sx_env_file(&X, "live", live_env, sizeof(live_env));
	sx_env_file(&X, "new", new_env, sizeof(new_env));
	snprintf(backup, sizeof(backup), "%s/blocked-emails.json", X.dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sx_teardown(&X);
	return 0;
}

static const struct blocked_row *
find(const struct blocked_set *s, const char *email)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->rows[i].email, email) == 0)
			return &s->rows[i];
	return NULL;
}

static void
test_backup_live(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = live_env };
	struct blocked_backup_info info;
	struct blocked_set s;
	struct cut_err err = { 0 };
	struct stat st;
	char hex[65];
	(void)state;

	assert_int_equal(sx_agent(&l, "live-1"), 0);
	int r = blocked_backup(&l, &c, backup, &info, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	alink_close(&l);
	assert_string_equal(info.fk_target, "accounts_unregistereduser");
	assert_int_equal(info.count, 5);
	assert_int_equal(stat(backup, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *sum = sx_out(&X, "sha256sum '%s' | cut -c1-64", backup);
	assert_non_null(sum);
	snprintf(hex, sizeof(hex), "%s", sum);
	free(sum);
	assert_string_equal(hex, info.sha256);
	assert_int_equal(sx_sh(&X, "cd \"$T\" && sha256sum -c --quiet blocked-emails.json.sha256"), 0);
	assert_int_equal(blocked_load(backup, &s, &err), 0);
	/* Followed the FK to the unregistered users: system numbers, not ids. */
	assert_int_equal(find(&s, "grace.green@example.com")->system_number, 620001);
	assert_int_equal(find(&s, "carol.chen.old@example.com")->system_number, 518003);
	assert_int_equal(find(&s, "zoe, \"the\" zed@example.com")->system_number, 620099);
	blocked_set_free(&s);
}

static void
test_restore_refused_before_migration(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = new_env };
	struct blocked_set s;
	struct blocked_restore_result res;
	struct cut_err err = { 0 };
	(void)state;

	/* The new database still has the old FK (0055 not applied yet). */
	assert_int_equal(blocked_load(backup, &s, &err), 0);
	assert_int_equal(sx_agent(&l, "new-1"), 0);
	assert_int_not_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_non_null(strstr(err.msg, "does not reference accounts_user"));
	alink_close(&l);
	blocked_set_free(&s);
}

/* The runbook's blocked-email-clear on a copy still on the old schema: the
 * count guard refuses a stale count and deletes nothing, the right count
 * deletes every row in one go, and the copy then migrates (0055 validates
 * the ids the rows held). blocked_union keeps each distinct row once. */
static void
test_clear_before_migrate(void **state)
{
	struct alink l;
	char env2[512];
	struct aop_conf c = { .env_file = env2 };
	struct blocked_set a, b, u;
	struct blocked_backup_info info;
	struct cut_err err = { 0 };
	char path[600];
	size_t n = 99, deleted = 99;
	(void)state;

	assert_int_equal(sx_sh(&X, "createdb -T new clearme && \"$FIX/lay-instance\" \"$T/clearme\" --link "
	    "--db-env \"$T/postgres.env\" --db clearme"), 0);
	sx_env_file(&X, "clearme", env2, sizeof(env2));
	assert_int_equal(sx_agent(&l, "clearme-1"), 0);
	assert_int_equal(blocked_count(&l, &c, &n, &err), 0);
	assert_int_equal(n, 4);
	snprintf(path, sizeof(path), "%s/window.json", X.dir);
	assert_int_equal(blocked_backup(&l, &c, path, &info, &err), 0);
	assert_int_equal(info.count, 4);

	assert_int_not_equal(blocked_clear(&l, &c, 3, &deleted, &err), 0);
	assert_non_null(strstr(err.msg, "nothing was deleted"));
	assert_int_equal(blocked_count(&l, &c, &n, &err), 0);
	assert_int_equal(n, 4);

	assert_int_equal(blocked_clear(&l, &c, 4, &deleted, &err), 0);
	assert_int_equal(deleted, 4);
	assert_int_equal(blocked_count(&l, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	alink_close(&l);
	assert_int_equal(sx_sh(&X, "\"$FIX/run-manage\" \"$T/clearme\" migrate --noinput >/dev/null"), 0);

	/* The window copy (4 rows) and prep's backup (those 4 and Zoe). */
	assert_int_equal(blocked_load(path, &a, &err), 0);
	assert_int_equal(blocked_load(backup, &b, &err), 0);
	assert_int_equal(blocked_union(&a, &b, &u, &err), 0);
	assert_int_equal(u.n, 5);
	assert_non_null(find(&u, "zoe, \"the\" zed@example.com"));
	blocked_set_free(&u);
	assert_int_equal(blocked_union(&a, &a, &u, &err), 0);
	assert_int_equal(u.n, 4);
	blocked_set_free(&u);
	blocked_set_free(&a);
	blocked_set_free(&b);
}

static void
test_restore_after_conversion(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = new_env };
	struct blocked_set s;
	struct blocked_restore_result res;
	struct blocked_diff d;
	struct cut_err err = { 0 };
	(void)state;

	assert_int_equal(sx_sh(&X, "\"$FIX/run-manage\" \"$T/new\" fixture_migrate after >/dev/null && "
	    "\"$FIX/run-manage\" \"$T/new\" temp_copy_unreg_to_user >/dev/null"), 0);
	assert_int_equal(blocked_load(backup, &s, &err), 0);
	assert_int_equal(sx_agent(&l, "new-1"), 0);

	/* Before: the copied raw ids name the wrong people (accounts_user 1-4);
	 * 4 rows could be restored, Zoe (never converted) cannot. */
	assert_int_equal(blocked_verify(&l, &c, &s, &d, &err), CUT_ESTATE);
	assert_int_equal(d.extra.n, 4);
	assert_int_equal(d.missing.n, 4);
	assert_int_equal(d.unmappable.n, 1);
	blocked_diff_free(&d);

	int r = blocked_restore(&l, &c, &s, 0, &res, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(res.inserted, 4);
	assert_int_equal(res.removed, 0);
	assert_int_equal(res.unmapped.n, 1);
	assert_string_equal(res.unmapped.rows[0].email, "zoe, \"the\" zed@example.com");
	assert_int_equal(res.unmapped.rows[0].system_number, 620099);
	/* Reported in a file too: the runbook keeps "<backup>.unmapped". */
	char un[600];
	snprintf(un, sizeof(un), "%s.unmapped", backup);
	assert_int_equal(blocked_write_csv(un, &res.unmapped, &err), 0);
	char *csv = sx_out(&X, "cat '%s'", un);
	assert_non_null(csv);
	assert_string_equal(csv, "email,system_number\r\n\"zoe, \"\"the\"\" zed@example.com\",620099\r\n");
	free(csv);
	blocked_restore_result_free(&res);

	/* Idempotent: a second restore adds nothing. */
	assert_int_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_int_equal(res.inserted, 0);
	assert_int_equal(res.present, 4);
	assert_int_equal(res.unmapped.n, 1);
	blocked_restore_result_free(&res);

	/* Mapped to the converted people's new accounts_user ids. */
	char *who = sx_out(&X, "psql -XAtq -d new -c \"SELECT u.system_number FROM "
	    "notifications_unregisteredblockedemail b JOIN accounts_user u ON u.id = b.un_registered_user_id "
	    "WHERE b.email = 'ivy.irwin@example.com'\"");
	assert_non_null(who);
	/* (the copied raw row naming admin, ABF 100, is still there too) */
	assert_non_null(strstr(who, "620004\n"));
	free(who);

	/* Verify: the wrong-people rows fail it (exit 1), the unmappable one
	 * is listed apart. */
	assert_int_equal(blocked_verify(&l, &c, &s, &d, &err), CUT_ESTATE);
	assert_int_equal(d.missing.n, 0);
	assert_int_equal(d.unmappable.n, 1);
	assert_int_equal(d.unmappable.rows[0].system_number, 620099);
	assert_string_equal(d.unmappable.rows[0].email, "zoe, \"the\" zed@example.com");
	assert_int_equal(d.extra.n, 4);
	blocked_diff_free(&d);

	/* Replace removes rows the backup does not hold, in the same transaction. */
	assert_int_equal(blocked_restore(&l, &c, &s, 1, &res, &err), 0);
	assert_int_equal(res.removed, 4);
	assert_int_equal(res.inserted, 0);
	blocked_restore_result_free(&res);
	/* Only the known-unmappable person differs: verify passes (exit 0)
	 * and lists her as a warning. */
	int vr = blocked_verify(&l, &c, &s, &d, &err);
	if (vr) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(vr, 0);
	assert_int_equal(d.extra.n, 0);
	assert_int_equal(d.missing.n, 0);
	assert_int_equal(d.unmappable.n, 1);
	assert_int_equal(d.unmappable.rows[0].system_number, 620099);
	blocked_diff_free(&d);

	/* A missing row whose person is there fails it (exit 1), listed as missing. */
	assert_int_equal(sx_sh(&X, "psql -XAtq -d new -c \"DELETE FROM notifications_unregisteredblockedemail "
	    "WHERE email = 'ivy.irwin@example.com'\""), 0);
	assert_int_equal(blocked_verify(&l, &c, &s, &d, &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "1 missing that could be restored"));
	assert_int_equal(d.missing.n, 1);
	assert_int_equal(d.missing.rows[0].system_number, 620004);
	assert_int_equal(d.unmappable.n, 1);
	assert_int_equal(d.extra.n, 0);
	blocked_diff_free(&d);
	assert_int_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_int_equal(res.inserted, 1);
	blocked_restore_result_free(&res);

	/* Once Zoe exists on the new system, everything matches. */
	assert_int_equal(sx_sh(&X, "psql -XAtq -d new -c \"INSERT INTO accounts_user (password, is_superuser, "
	    "username, first_name, last_name, email, is_staff, is_active, date_joined, system_number, user_type) "
	    "VALUES ('', false, '620099', 'Zoe', 'Zed', 'noemail@notset.com', false, false, now(), 620099, 'N')\""), 0);
	assert_int_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_int_equal(res.inserted, 1);
	assert_int_equal(res.unmapped.n, 0);
	blocked_restore_result_free(&res);
	assert_int_equal(blocked_verify(&l, &c, &s, &d, &err), 0);
	blocked_diff_free(&d);
	alink_close(&l);
	blocked_set_free(&s);
}

/* Far more than one agent frame (1 MiB) of rows: 60,000 people with
 * accounts, 3 without. The restore's SQL (~3 MB) travels as stdin frames
 * into one psql script, one transaction. */
#define BIG_N 60000
#define BIG_UNMAPPED 3

static long long
big_count(const char *where)
{
	char *v = sx_out(&X, "psql -XAtq -d big -c \"SELECT count(*) FROM notifications_unregisteredblockedemail%s\"",
	    where);
	long long n = v ? atoll(v) : -1;

	free(v);
	return n;
}

static void
test_restore_large(void **state)
{
	struct alink l;
	char big_env[512];
	struct aop_conf c;
	struct blocked_set s = { 0 };
	struct blocked_restore_result res;
	struct blocked_diff d;
	struct blocked_backup_info info;
	struct cut_err err = { 0 };
	char path[600];
	(void)state;

	/* A converted new system (0055) with 60,000 more accounts and no
	 * blocked emails yet. */
	assert_int_equal(sx_sh(&X, "createdb -T new big && \"$FIX/lay-instance\" \"$T/big\" --link "
	    "--db-env \"$T/postgres.env\" --db big >/dev/null && psql -XAtq -v ON_ERROR_STOP=1 -d big -c \""
	    "DELETE FROM notifications_unregisteredblockedemail; "
	    "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
	    "is_active, date_joined, system_number, user_type) SELECT '', false, 'big' || g, 'B', 'G' || g, "
	    "'noemail@notset.com', false, true, now(), 800000 + g, 'U' FROM generate_series(1, %d) g\" >/dev/null",
	    BIG_N), 0);
	sx_env_file(&X, "big", big_env, sizeof(big_env));
	c = (struct aop_conf){ .env_file = big_env };
	assert_non_null(s.rows = calloc(BIG_N + BIG_UNMAPPED, sizeof(*s.rows)));
	for (int i = 0; i < BIG_N + BIG_UNMAPPED; i++) {
		/* Quotes, dollars and backslashes: the data is never SQL. */
		assert_true(asprintf(&s.rows[i].email, "p%05d.o'neil$x\\y@example.com", i + 1) > 0);
		s.rows[i].has_number = 1;
		s.rows[i].system_number = i < BIG_N ? 800000 + i + 1 : 900000 + i;
		s.n++;
	}
	assert_int_equal(sx_agent(&l, "big-1"), 0);

	/* A failure in the middle (a trigger refusing row 45,000) leaves nothing. */
	assert_int_equal(sx_sh(&X, "psql -XAtq -v ON_ERROR_STOP=1 -d big -c \"CREATE FUNCTION cut_refuse() "
	    "RETURNS trigger LANGUAGE plpgsql AS \\$f\\$ BEGIN IF NEW.email LIKE 'p45000.%%' THEN "
	    "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END \\$f\\$; CREATE TRIGGER cut_refuse "
	    "BEFORE INSERT ON notifications_unregisteredblockedemail FOR EACH ROW EXECUTE FUNCTION cut_refuse()\" "
	    ">/dev/null"), 0);
	assert_int_not_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_non_null(strstr(err.msg, "refused by the test"));
	assert_int_equal(big_count(""), 0);
	assert_int_equal(sx_sh(&X, "psql -XAtq -d big -c 'DROP TRIGGER cut_refuse ON "
	    "notifications_unregisteredblockedemail' >/dev/null"), 0);

	/* The link still works after the failed stream, and all rows arrive. */
	int r = blocked_restore(&l, &c, &s, 0, &res, &err);
	if (r) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	assert_int_equal(res.inserted, BIG_N);
	assert_int_equal(res.unmapped.n, BIG_UNMAPPED);
	assert_int_equal(res.unmapped.rows[0].system_number, 900000 + BIG_N);
	blocked_restore_result_free(&res);
	assert_int_equal(big_count(""), BIG_N);
	assert_int_equal(big_count(" b JOIN accounts_user u ON u.id = b.un_registered_user_id "
	    "WHERE b.email = 'p' || lpad((u.system_number - 800000)::text, 5, '0') || '.o''neil' || chr(36) || "
	    "'x' || chr(92) || 'y@example.com'"),
	    BIG_N);

	/* Idempotent. */
	assert_int_equal(blocked_restore(&l, &c, &s, 0, &res, &err), 0);
	assert_int_equal(res.inserted, 0);
	assert_int_equal(res.present, BIG_N);
	blocked_restore_result_free(&res);
	assert_int_equal(big_count(""), BIG_N);

	/* Backup and verify read them all back (replies of several frames);
	 * the people without accounts are only warnings. */
	assert_int_equal(blocked_verify(&l, &c, &s, &d, &err), 0);
	assert_int_equal(d.missing.n, 0);
	assert_int_equal(d.unmappable.n, BIG_UNMAPPED);
	assert_int_equal(d.extra.n, 0);
	blocked_diff_free(&d);
	snprintf(path, sizeof(path), "%s/big.json", X.dir);
	assert_int_equal(blocked_backup(&l, &c, path, &info, &err), 0);
	assert_int_equal(info.count, BIG_N);
	alink_close(&l);
	blocked_set_free(&s);
}

static void
test_tampered_backup_refused(void **state)
{
	struct blocked_set s;
	struct cut_err err = { 0 };
	char copy[600];
	(void)state;

	snprintf(copy, sizeof(copy), "%s/tampered.json", X.dir);
	assert_int_equal(sx_sh(&X, "sed 's/620001/620009/' '%s' > '%s' && cp '%s.sha256' '%s.sha256'",
	    backup, copy, backup, copy), 0);
	assert_int_equal(blocked_load(copy, &s, &err), CUT_EIO);
	assert_non_null(strstr(err.msg, "SHA-256"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backup_live),
		cmocka_unit_test(test_restore_refused_before_migration),
		cmocka_unit_test(test_clear_before_migrate),
		cmocka_unit_test(test_restore_after_conversion),
		cmocka_unit_test(test_restore_large),
		cmocka_unit_test(test_tampered_backup_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
