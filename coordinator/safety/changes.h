/* safety/changes.h: rows written after a point in time, in the tables where a
 * cutover can lose or strand money and entries (cobalt.md, "Recent
 * activity"). Two uses:
 *   lost writes: on the OLD (live) database after the snapshot's creation
 *     time: written there, never copied to the new system;
 *   activity:    on the NEW database since the cutover, for fail-back:
 *     entries and payments to re-enter or refund on the old system.
 * Output as an aligned table, a CSV file and a Markdown section; zero rows
 * are said in words, never left as an empty table.
 */
#ifndef CUTOVER_CHANGES_H
#define CUTOVER_CHANGES_H

#include <stdint.h>
#include <stdio.h>

#include "remote/agent_ops.h"
#include "base/err.h"

#define CHG_MAX_TS 3
#define CHG_MAX_KEYS 12

enum { CHG_LOST = 1, CHG_ACTIVITY = 2 };

struct chg_table {
	const char *table;
	const char *label;                  /* "event entries" */
	unsigned uses;                      /* CHG_LOST, CHG_ACTIVITY */
	const char *ts[CHG_MAX_TS + 1];     /* timestamp columns, NULL-ended */
	const char *keys[CHG_MAX_KEYS + 1]; /* key fields shown, NULL-ended */
};

/* The tables looked at, NULL-ended; `uses` says by which. */
extern const struct chg_table chg_tables[];

struct chg_row {
	const char *table;      /* points into the chg_table */
	long long id;
	char *at;               /* latest of the row's timestamps, UTC ISO 8601 */
	char *fields;           /* "name=value; ..." */
};

/* Owned by the struct: chg_report_free(). */
struct chg_report {
	struct chg_row *rows;
	size_t n;
	char since[64];
	char source[128];       /* the link's name */
	const char *title;      /* "Lost writes" / "Activity on the new system" */
	const char *zero;       /* the sentence for no rows */
};
void chg_report_free(struct chg_report *r);

/* since: an ISO 8601 time ("2026-11-25T10:00:00Z", offsets allowed).
 * Every table must exist; missing key columns are left out. */
int chg_collect(struct alink *l, const struct aop_conf *c, unsigned uses,
    const char *since, struct chg_report *out, struct cut_err *err);
/* The two uses, with their titles and zero sentences. */
int chg_lost_writes(struct alink *l, const struct aop_conf *c, const char *snapshot_time,
    struct chg_report *out, struct cut_err *err);
int chg_activity(struct alink *l, const struct aop_conf *c, const char *since,
    struct chg_report *out, struct cut_err *err);

/* Unix seconds (e.g. a snapshot's SnapshotCreateTime) as ISO 8601 UTC. */
void chg_time_iso(int64_t unix_s, char out[32]);
/* Rows of the report that are entries (events_*) and payments (payments_*). */
void chg_count(const struct chg_report *r, size_t *entries, size_t *payments);

void chg_print(FILE *f, const struct chg_report *r);
/* CSV (RFC 4180 quoting): table,id,at,fields. Written with sfile_write. */
int chg_write_csv(const char *path, const struct chg_report *r, struct cut_err *err);
/* A Markdown section for the run's report; caller frees. NULL: no memory. */
char *chg_markdown(const struct chg_report *r);

#endif
