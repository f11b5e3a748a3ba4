/* Unit tests for the lease (runbook/lease.c) through the engine, against the
 * in-memory world: one cutover at a time across machines (issue 11 item 3).
 * A second state folder stands for the second operator's laptop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enginerun.h"
#include "runbook/journal.h"
#include "runbook/lease.h"
#include "runbook/tables.h"

#define FOREIGN "cutover-lease id=0badc0de0badc0de user=bob host=laptop2 cmd=run " \
	"at=2026-12-05T09:00:00Z"

/* The lease string held in the world, "" when none. */
static void
held(struct enginerun *h, char *out, size_t len)
{
	struct cut_err err;
	int r = h->w->lease_read(h->w, h->names.zone, out, len, &err);

	if (r == CUT_ENOTFOUND)
		out[0] = '\0';
	else
		assert_int_equal(r, 0);
}

static void
other_folder(struct enginerun *h, char *saved, size_t len)
{
	snprintf(saved, len, "%s", h->dir);
	snprintf(h->dir, sizeof(h->dir), "%s/laptop2", h->top);
}

/* A run takes the lease after preflight and releases it at the end; a dry
 * run and a refused preflight never take it. */
static void
test_lease_taken_and_released(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char v[WORLD_LEASE_MAX];

	(void)state;
	enginerun_init(&h, 1);
	h.opts.dry_run = 1;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	h.opts.dry_run = 0;
	assert_int_equal(h.fw->lease_takes, 0);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->lease_takes, 1);
	assert_int_equal(h.fw->lease_releases, 1);
	held(&h, v, sizeof(v));
	assert_string_equal(v, "");
	/* tidy lists the zone with its own lease in it and deletes only the
	 * old environments' records: the release still finds the lease. */
	assert_int_equal(enginerun_cmd(&h, "tidy", &err), 0);
	assert_int_equal(h.fw->lease_takes, 2);
	assert_int_equal(h.fw->lease_releases, 2);
	assert_null(strstr(h.out, "was not released"));
	enginerun_done(&h);
}

/* Another cutover's lease: refused before any change, naming the holder
 * and the flag; a --break-lease naming someone else changes nothing; one
 * naming the holder takes the lease over and the run completes. */
static void
test_lease_other_holder(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char v[WORLD_LEASE_MAX];
	int m;

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(h.w->lease_take(h.w, h.names.zone, FOREIGN, NULL, &err), 0);
	m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	if (strstr(err.msg, "Another cutover holds the lease _cutover-lock.myabf.com.au.: "
	    "cutover 0badc0de0badc0de (`cutover run` by bob on laptop2 since "
	    "2026-12-05T09:00:00Z)") == NULL || strstr(err.msg, "--break-lease 0badc0de0badc0de") == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(h.fw->mutations, m);
	assert_int_equal(h.fw->snapshots_created, 0);
	held(&h, v, sizeof(v));
	assert_string_equal(v, FOREIGN);

	h.opts.break_lease = "0badc0de";
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "--break-lease names someone else"));
	assert_int_equal(h.fw->mutations, m);
	held(&h, v, sizeof(v));
	assert_string_equal(v, FOREIGN);

	h.opts.break_lease = "0badc0de0badc0de";
	if (enginerun_cmd(&h, "run", &err) != 0)
		fail_msg("%s\n%s", err.msg, h.out);
	assert_non_null(strstr(h.out, "took over the lease _cutover-lock.myabf.com.au. from "
	    "cutover 0badc0de0badc0de"));
	assert_int_equal(h.fw->conversions, 1);
	held(&h, v, sizeof(v));
	assert_string_equal(v, "");
	enginerun_done(&h);
}

/* Two state folders (two laptops): while the first run holds the lease
 * (here it died mid-run, kill -9), the second is refused with the first's
 * cutover id, user and host and changes nothing, and so is a copy of the
 * first folder; the first's rerun (same journal id, same folder) takes its
 * own lease over without a flag and finishes. */
static void
test_lease_two_folders(void **state)
{
	const struct runbook *rb = runbook_find("run");
	struct enginerun h;
	struct journal *j;
	struct cut_err err;
	char v[WORLD_LEASE_MAX], at[96], first[300], want[1024], host[256], jid[64];
	struct passwd *pw = getpwuid(geteuid());
	int m;

	(void)state;
	enginerun_init(&h, 1);
	snprintf(at, sizeof(at), "%s:before", rb->steps[1]->name);
	h.crash_at = at;
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_int_equal(journal_open_readonly(h.dir, &j, &err), 0);
	held(&h, v, sizeof(v));
	snprintf(jid, sizeof(jid), "%s", journal_id(j));
	snprintf(want, sizeof(want), "cutover-lease id=%s ", jid);
	assert_true(strncmp(v, want, strlen(want)) == 0);
	journal_close(j);

	other_folder(&h, first, sizeof(first));
	m = h.fw->mutations;
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_int_equal(h.fw->mutations, m);
	assert_int_equal(h.fw->snapshots_created, 0);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(want, sizeof(want), "by %s on ", pw->pw_name);
	if (strstr(err.msg, jid) == NULL ||
	    strstr(err.msg, want) == NULL || strstr(err.msg, host) == NULL)
		fail_msg("%s", err.msg);

	/* A copy of the first folder (same journal id) elsewhere is not the
	 * dead run's folder: refused as well. */
	snprintf(h.dir, sizeof(h.dir), "%s/copy", h.top);
	snprintf(want, sizeof(want), "mkdir -p '%s' && cp '%s/journal.jsonl' '%s/'", h.dir, first,
	    h.dir);
	assert_int_equal(system(want), 0);
	assert_int_equal(enginerun_cmd(&h, "run", &err), CUT_ESTATE);
	assert_non_null(strstr(err.msg, "Another cutover holds the lease"));
	assert_int_equal(h.fw->mutations, m);

	snprintf(h.dir, sizeof(h.dir), "%s", first);
	if (enginerun_cmd(&h, "run", &err) != 0)
		fail_msg("%s\n%s", err.msg, h.out);
	assert_non_null(strstr(h.out, "took over the lease"));
	assert_int_equal(h.fw->snapshots_created, 1);
	assert_int_equal(h.fw->conversions, 1);
	held(&h, v, sizeof(v));
	assert_string_equal(v, "");
	enginerun_done(&h);
}

/* The holder in words, and what is not cutover's own. */
static void
test_lease_holder_words(void **state)
{
	char who[512], id[256];

	(void)state;
	lease_holder(FOREIGN, who, sizeof(who), id, sizeof(id));
	assert_string_equal(id, "0badc0de0badc0de");
	assert_string_equal(who, "cutover 0badc0de0badc0de (`cutover run` by bob on laptop2 "
	    "since 2026-12-05T09:00:00Z)");
	lease_holder("someone's lock", who, sizeof(who), id, sizeof(id));
	assert_string_equal(id, "someone's lock");
	assert_non_null(strstr(who, "not written by cutover"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_taken_and_released),
		cmocka_unit_test(test_lease_other_holder),
		cmocka_unit_test(test_lease_two_folders),
		cmocka_unit_test(test_lease_holder_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
