/* runbook/report.h: the end-of-run report, computed from the journal alone (so it
 * can be regenerated at any time, even after a crash): every step and
 * wait on a timeline, the downtime window (maintenance on -> off) and how
 * much of it was AWS waiting versus the tool's own work, and the values
 * each step recorded. Written as Markdown and as HTML with an inline SVG
 * timeline. */
#ifndef CUTOVER_REPORT_H
#define CUTOVER_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/rowlist.h"

struct json_object;

struct report_span {
	char step[64];
	int wait;               /* 1: a wait inside the step, 0: the step itself */
	char kind[24];          /* a wait's kind (runbook/engine.h ENGINE_WAIT_*), "" if none */
	int64_t origin;         /* a wait: when the change it waits for was applied (ms), 0 if
				 * unknown; the transition ran from there, beside other work */
	int64_t t0, t1;         /* ms since the epoch */
	char outcome[96];       /* done, skipped, failed, interrupted, or a wait's final status */
	char what[160];         /* a wait's subject */
};

struct report_value {
	char step[64], key[96], value[512];
};

/* Rows a step listed for the operator (base/rowlist.h), as the report shows
 * them: the journal gives the count, the row list's path and digest. */
struct report_list {
	int present;            /* the step recorded its count */
	long count;             /* what the step counted (activity: entries) */
	long payments;          /* activity: payments (counted apart) */
	long long until;        /* activity: Unix s it counted up to (0: not recorded) */
	char file[4200];        /* the CSV the operator reads (journal: file) */
	char rows_file[4200];   /* the row list (journal: rows_file) */
	char rows_sha256[65];
	struct rowlist rows;    /* loaded when its digest matched the journal's */
	char problem[5000];      /* why the rows are not listed; "" when they are */
};

/* One run of a command, as the journal tells it (run-begin .. run-end). */
struct report_run {
	char cmd[16];           /* prep, run, failback, tidy, rehearse; "" when none ran */
	char status[16];        /* run-end's: done, failed, stopped, until, refused; "" when
				 * the run wrote no end (killed, crashed, the machine lost) */
	char step[64];          /* the last step it began ("" when none) */
	char failed_step[64];   /* the step that failed ("" when none) */
	char why[1024];         /* the failed step's sentence, else run-end's */
	char config[1024];      /* run-begin's config and state (absolute), "" when not */
	char state[1024];       /*  recorded (an older cutover) */
};

/* Where DNS sends the site, from the DNS steps the journal records. */
enum report_dns {
	REPORT_DNS_UNCHANGED,   /* dns-switch never applied */
	REPORT_DNS_MOVING,      /* dns-switch applied, not confirmed done */
	REPORT_DNS_NEW,         /* dns-switch done */
	REPORT_DNS_BACKING,     /* failback-dns applied after the switch, not done */
	REPORT_DNS_BACK,        /* failback-dns done after the switch */
};

/* How many rows of a list the report names; the rest are counted. */
#define REPORT_LIST_MAX 200

struct report_summary {
	char id[40];            /* the cutover's id */
	int64_t first_ms, last_ms;
	int has_downtime, downtime_open;   /* open: maintenance never lifted */
	int64_t down_begin_ms, down_end_ms;
	/* The window's parts: wait = aws + quiet (every wait), work = the tool's
	 * own steps outside waits, idle = between steps or runs (prompts,
	 * crashes, resumes); they add up to down_ms. */
	int64_t down_ms, down_wait_ms, down_work_ms, down_idle_ms;
	int64_t down_aws_ms, down_quiet_ms;
	/* A simulated run's time scale (run-begin's time_scale; 0: real AWS) and
	 * the window at real durations: each AWS transition, from its apply to
	 * its wait's end, divided by the scale, less the work done beside it
	 * before its wait began. */
	double time_scale;
	int64_t projected_ms;
	int runs;               /* run-begin records (1 + resumes) */
	struct report_span *spans;
	size_t nspans;
	struct report_value *values;
	size_t nvalues;
	/* blocked-email-restore (unmapped people), lost-writes, failback-activity,
	 * parity (the tables that differed before the DNS switch) */
	struct report_list unmapped, lost, activity, parity;
	/* Every table of the live database at the freeze (freeze's stats_file:
	 * table, rows, max_id), for parity per table; count = tables. */
	struct report_list frozen;
	/* The latest run that was not refused, and a refused one after it
	 * (cmd "" when none); which commands ever finished. */
	struct report_run last, refused;
	int prep_done, run_done, failback_done, tidy_done, rehearse_done;
	enum report_dns dns;
	/* From the journal's pinned names ("" when not recorded). */
	char app[64], apex[256], www[256], live_web[64], new_web[64], live_db[64], new_db[64],
	    test_env[64];
};

/* Reads the journal file at path into *out, and the row lists it names
 * (when their digests match). The caller frees it with
 * report_summary_free(). */
int report_compute(const char *journal_path, struct report_summary *out, struct cut_err *err);
void report_summary_free(struct report_summary *s);

/* The last value `step` recorded under `key`, NULL if none. */
const char *report_value(const struct report_summary *s, const char *step, const char *key);

/* Human times for the report and the verdict: "2026-12-05 14:03:12 UTC"
 * from ms since the epoch, and "3 min 12 s" (under a minute "12.4 s",
 * over an hour "1 h 02 min 03 s"). */
void report_fmt_time(int64_t ms, char *buf, size_t len);
void report_fmt_dur(int64_t ms, char *buf, size_t len);
/* An ISO 8601 UTC time as a database or AWS wrote it ("2026-12-05T14:51:02.566085Z",
 * "2026-12-05 14:51:02+00") the same way, to the second; anything else as is. */
const char *report_fmt_iso(const char *iso, char *buf, size_t len);

/* The downtime window's one sentence (as the report shows it), and the
 * same as a JSON object (window_ms, aws_ms, quiet_ms, work_ms, between_ms,
 * time_scale and projected_ms for a simulated run); the caller owns it
 * (json_object_put). NULL when out of memory. */
void report_window_line(const struct report_summary *s, char *buf, size_t len);
struct json_object *report_window_json(const struct report_summary *s);

/* The DNS tail after the switch (dns-tail's figures) as the report's
 * paragraph (returns 0 when the run recorded none) and as JSON (env, result:
 * idle|deadline|unmeasured, idle, interval_s, watched_s, requests,
 * per_minute: [..]); the caller owns it;
 * NULL when none was recorded or out of memory. */
int report_tail_line(const struct report_summary *s, char *buf, size_t len);
struct json_object *report_tail_json(const struct report_summary *s);

void report_write_markdown(const struct report_summary *s, FILE *f);
void report_write_html(const struct report_summary *s, FILE *f);

/* Writes <state_dir>/report.md and report.html from <state_dir>/journal.jsonl
 * (each via a temporary file and rename). md/html get the paths. */
int report_write_files(const char *state_dir, char *md, char *html, size_t len,
    struct cut_err *err);

#endif
