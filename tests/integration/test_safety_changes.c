/* Lost writes (rows written to the live database after the snapshot time)
 * and activity since a time, against the Django fixture's tables in real
 * PostgreSQL through the real agent: zero said explicitly, injected writes
 * listed with ids and key fields, as table, CSV and Markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "safety/changes.h"
#include "base/sfile.h"
#include "sx.h"

static struct sx X;
static char env[512], snap[64];

static int
setup(void **state)
{
	(void)state;
	if (sx_setup(&X) != 0 || sx_cobalt_db(&X, "live", "after", 1) != 0)
		return -1;
	sx_env_file(&X, "live", env, sizeof(env));
	/* The snapshot's creation time, as RDS reports it (UTC, ISO 8601). */
	char *t = sx_out(&X, "psql -XAtq -d live -c \"SELECT to_char(now() AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\\\"T\\\"HH24:MI:SS.US\\\"Z\\\"')\"");
	if (t == NULL)
		return -1;
	snprintf(snap, sizeof(snap), "%.*s", (int)strcspn(t, "\n"), t);
	free(t);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sx_teardown(&X);
	return 0;
}

static void
test_zero_when_nothing_written(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = env };
	struct chg_report r;
	struct cut_err err = { 0 };
	char *md, *out = NULL;
	size_t len;
	(void)state;

	assert_int_equal(sx_agent(&l, "live-1"), 0);
	int rc = chg_lost_writes(&l, &c, snap, &r, &err);
	if (rc) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(r.n, 0);
	md = chg_markdown(&r);
	assert_non_null(strstr(md, "nothing was lost"));
	free(md);
	FILE *m = open_memstream(&out, &len);
	chg_print(m, &r);
	fclose(m);
	assert_non_null(strstr(out, "0 rows"));
	assert_non_null(strstr(out, "nothing was lost"));
	free(out);
	chg_report_free(&r);
	/* The seed (January 2026) is all "after" a time before it. */
	assert_int_equal(chg_lost_writes(&l, &c, "2025-12-31T00:00:00Z", &r, &err), 0);
	assert_true(r.n >= 15);
	chg_report_free(&r);
	alink_close(&l);
}

static void
test_injected_writes_listed(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = env };
	struct chg_report r;
	struct cut_err err = { 0 };
	char csv[600], *text;
	size_t len;
	(void)state;

	/* A webhook and a user in maintenance mode keep writing after the snapshot. */
	assert_int_equal(sx_sh(&X, "sleep 0.05; psql -XAtq -v ON_ERROR_STOP=1 -d live -c \""
	    "INSERT INTO events_evententry (event_id, primary_entrant_id, entry_status, first_created_date, notes) "
	    "VALUES (1, 5, 'Pending', now(), '');"
	    "INSERT INTO payments_stripelog (created_date, event, event_type, cobalt_pay_id) "
	    "VALUES (now(), '{}', 'charge.succeeded', 'pi_late_0001');"
	    "INSERT INTO payments_membertransaction (created_date, amount, balance, description, type, reference_no, "
	    "member_id, event_id) VALUES (now(), -40.00, 0, 'late entry', 'Entry to an event', "
	    "'LATE,\\\"01\\\"', 6, 1);"
	    "UPDATE payments_stripetransaction SET last_change_date = now(), status = 'Refunded' WHERE id = 1;\""), 0);
	assert_int_equal(sx_agent(&l, "live-1"), 0);
	int rc = chg_lost_writes(&l, &c, snap, &r, &err);
	if (rc) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	alink_close(&l);
	assert_int_equal(r.n, 4);
	int seen = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.rows[i].table, "payments_stripetransaction") == 0) {
			assert_int_equal(r.rows[i].id, 1);
			assert_non_null(strstr(r.rows[i].fields, "status=Refunded"));
			seen |= 1;
		}
		if (strcmp(r.rows[i].table, "payments_membertransaction") == 0) {
			assert_non_null(strstr(r.rows[i].fields, "reference_no=LATE,\"01\""));
			assert_non_null(strstr(r.rows[i].fields, "amount=-40.00"));
			seen |= 2;
		}
		if (strcmp(r.rows[i].table, "payments_stripelog") == 0)
			seen |= 4;
		if (strcmp(r.rows[i].table, "events_evententry") == 0) {
			assert_int_equal(r.rows[i].id, 4);
			seen |= 8;
		}
	}
	assert_int_equal(seen, 15);

	snprintf(csv, sizeof(csv), "%s/lost-writes.csv", X.dir);
	assert_int_equal(chg_write_csv(csv, &r, &err), 0);
	assert_int_equal(sfile_read(csv, 1 << 20, &text, &len, &err), 0);
	assert_non_null(strstr(text, "table,id,at,fields\r\n"));
	assert_non_null(strstr(text, "payments_stripelog,3,"));
	/* The quote in a value is doubled inside a quoted CSV field. */
	assert_non_null(strstr(text, "LATE,\"\"01\"\""));
	free(text);
	/* Python's csv module reads it back: 4 rows of 4 fields. */
	assert_int_equal(sx_sh(&X, "/usr/bin/python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1], newline=\"\"))); "
	    "sys.exit(0 if len(r)==5 and all(len(x)==4 for x in r) else 1)' '%s'", csv), 0);
	char *md = chg_markdown(&r);
	assert_non_null(strstr(md, "## Lost writes"));
	assert_non_null(strstr(md, "**4 rows.**"));
	assert_non_null(strstr(md, "| Stripe log | `payments_stripelog` | 3 |"));
	free(md);
	chg_report_free(&r);
}

static void
test_activity_since(void **state)
{
	struct alink l;
	struct aop_conf c = { .env_file = env };
	struct chg_report r;
	struct cut_err err = { 0 };
	(void)state;

	assert_int_equal(sx_agent(&l, "new-1"), 0);
	/* Since the seed's 6 January: the 7 January entry, its players,
	 * transactions, and the 8 January pending payment; not the Stripe log
	 * (not an entry or payment). */
	int rc = chg_activity(&l, &c, "2026-01-06T12:00:00+11:00", &r, &err);
	if (rc) fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	int entries = 0, pending = 0, stripelog = 0;
	for (size_t i = 0; i < r.n; i++) {
		entries += strcmp(r.rows[i].table, "events_evententry") == 0;
		pending += strcmp(r.rows[i].table, "payments_userpendingpayment") == 0;
		stripelog += strcmp(r.rows[i].table, "payments_stripelog") == 0;
	}
	assert_int_equal(entries, 2);   /* seed entry 3 and the late one */
	assert_int_equal(pending, 1);
	assert_int_equal(stripelog, 0);
	chg_report_free(&r);
	/* A time that is not a time is refused before anything runs. */
	assert_int_equal(chg_activity(&l, &c, "yesterday'; DROP TABLE x", &r, &err), CUT_EINVAL);
	chg_report_free(&r);
	alink_close(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_when_nothing_written),
		cmocka_unit_test(test_injected_writes_listed),
		cmocka_unit_test(test_activity_since),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
