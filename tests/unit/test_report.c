/* Unit tests for runbook/report.c: the downtime window and its split (AWS waiting,
 * own work, between runs) computed from a journal with known times, the
 * Markdown/HTML output (SVG timeline, escaping), a report regenerated from
 * a real engine run's journal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "enginerun.h"
#include "base/rowlist.h"
#include "runbook/report.h"
#include "runbook/verdict.h"

static char path[256];
static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cutover-rt.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/journal.jsonl", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
line(FILE *f, long long ms, const char *ev, const char *step, const char *extra)
{
	fprintf(f, "{\"v\":1,\"ms\":%lld,\"ev\":\"%s\"%s%s%s%s%s}\n", ms, ev,
	    step ? ",\"step\":\"" : "", step ? step : "", step ? "\"" : "",
	    extra ? "," : "", extra ? extra : "");
}

/* maint-on applied at 1001 s, maint-off done at 1222 s; a crash between
 * 1094 s and the resume at 1200 s. */
static void
write_journal(int with_end)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	line(f, 1000000, "journal-begin", NULL, "\"kv\":{\"id\":\"abc123\"}");
	line(f, 1000000, "run-begin", NULL, "\"kv\":{\"cmd\":\"run\"}");
	line(f, 1000000, "step-begin", "maint-on", NULL);
	line(f, 1001000, "step-applied", "maint-on", NULL);
	line(f, 1001000, "downtime-begin", "maint-on", NULL);
	line(f, 1001000, "wait-begin", "maint-on", "\"msg\":\"environment blue Ready\"");
	line(f, 1031000, "wait-end", "maint-on", "\"msg\":\"Ready/Green\"");
	line(f, 1032000, "step-done", "maint-on", NULL);
	line(f, 1032000, "step-begin", "snapshot", NULL);
	line(f, 1033000, "wait-begin", "snapshot", "\"msg\":\"snapshot <s>\"");
	line(f, 1093000, "wait-end", "snapshot", "\"msg\":\"available\"");
	line(f, 1094000, "step-done", "snapshot", "\"kv\":{\"created\":\"<script>x</script>\"}");
	/* crash: no run-end; resumed later */
	line(f, 1200000, "run-begin", NULL, "\"kv\":{\"cmd\":\"run\"}");
	line(f, 1200000, "step-begin", "maint-off", NULL);
	line(f, 1201000, "wait-begin", "maint-off", "\"msg\":\"environment green Ready\"");
	line(f, 1221000, "wait-end", "maint-off", "\"msg\":\"Ready/Green\"");
	if (with_end) {
		line(f, 1222000, "step-done", "maint-off", NULL);
		line(f, 1222000, "downtime-end", "maint-off", NULL);
	}
	line(f, 1223000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	fputs("{\"v\":1,\"ms\":1224000,\"ev\":\"note\",\"ms", f);   /* torn */
	fclose(f);
}

static void
test_downtime_window(void **state)
{
	struct report_summary s;
	struct cut_err err;

	(void)state;
	write_journal(1);
	assert_int_equal(report_compute(path, &s, &err), 0);
	assert_string_equal(s.id, "abc123");
	assert_int_equal(s.runs, 2);
	assert_true(s.has_downtime);
	assert_false(s.downtime_open);
	assert_int_equal(s.down_begin_ms, 1001000);
	assert_int_equal(s.down_end_ms, 1222000);
	assert_int_equal(s.down_ms, 221000);
	assert_int_equal(s.down_wait_ms, 30000 + 60000 + 20000);
	assert_int_equal(s.down_work_ms, 5000);
	assert_int_equal(s.down_idle_ms, 106000);
	assert_int_equal(s.last_ms, 1223000);   /* the torn line is ignored */
	/* 3 steps + 3 waits */
	assert_int_equal(s.nspans, 6);
	report_summary_free(&s);
}

/* A quiet wait is the users', not AWS's; a scaled run projects its AWS
 * transitions to real durations and says so (markdown and --json). */
static void
test_window_split_and_projection(void **state)
{
	struct report_summary s;
	struct cut_err err;
	struct json_object *j;
	char line_[1024];
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	line(f, 1000000, "run-begin", NULL, "\"kv\":{\"cmd\":\"run\",\"time_scale\":\"0.05\"}");
	line(f, 1000000, "step-begin", "maint-on", NULL);
	line(f, 1000000, "step-applied", "maint-on", NULL);
	line(f, 1000000, "downtime-begin", "maint-on", NULL);
	line(f, 1000000, "wait-begin", "maint-on", "\"msg\":\"environment blue Ready\","
	    "\"kv\":{\"wait_kind\":\"env-update\"}");
	line(f, 1006000, "wait-end", "maint-on", "\"msg\":\"Ready/Green\"");
	line(f, 1006000, "step-done", "maint-on", NULL);
	line(f, 1006000, "step-begin", "quiet", NULL);
	line(f, 1006000, "wait-begin", "quiet", "\"msg\":\"no requests\","
	    "\"kv\":{\"wait_kind\":\"quiet\"}");
	line(f, 1066000, "wait-end", "quiet", "\"msg\":\"quiet\"");
	line(f, 1068000, "step-done", "quiet", NULL);
	line(f, 1068000, "step-begin", "maint-off", NULL);
	line(f, 1068000, "step-applied", "maint-off", NULL);
	line(f, 1068000, "wait-begin", "maint-off", "\"msg\":\"environment green Ready\","
	    "\"kv\":{\"wait_kind\":\"env-update\"}");
	line(f, 1074000, "wait-end", "maint-off", "\"msg\":\"Ready/Green\"");
	line(f, 1074000, "step-done", "maint-off", NULL);
	line(f, 1074000, "downtime-end", "maint-off", NULL);
	line(f, 1074000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	fclose(f);
	assert_int_equal(report_compute(path, &s, &err), 0);
	assert_int_equal(s.down_ms, 74000);
	assert_int_equal(s.down_aws_ms, 12000);
	assert_int_equal(s.down_quiet_ms, 60000);
	assert_int_equal(s.down_work_ms, 2000);
	assert_int_equal(s.down_idle_ms, 0);
	assert_int_equal(s.projected_ms, 74000 - 12000 + 240000);
	/* The kind is the engine's, not a value the step recorded. */
	for (size_t i = 0; i < s.nvalues; i++)
		assert_string_not_equal(s.values[i].key, "wait_kind");
	report_window_line(&s, line_, sizeof(line_));
	assert_non_null(strstr(line_, "AWS transitions 12.0 s, waiting for users to go quiet 1 min 0 s, "
	    "the tool's own work 2.0 s"));
	assert_non_null(strstr(line_, "simulated at 0.05 of their real durations: at real "
	    "durations the window would be about 5 min 2 s"));
	j = report_window_json(&s);
	assert_non_null(j);
	assert_string_equal(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
	    "{\"downtime\":true,\"open\":false,\"window_ms\":74000,\"aws_ms\":12000,"
	    "\"quiet_ms\":60000,\"work_ms\":2000,\"between_ms\":0,\"time_scale\":0.05,"
	    "\"projected_ms\":302000}");
	json_object_put(j);
	report_summary_free(&s);
}

/* dns-insync waits for dns-switch's change, which ran beside the conversion:
 * at real durations the minute is from the switch, less that work. */
static void
test_projection_of_an_overlapped_wait(void **state)
{
	struct report_summary s;
	struct cut_err err;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	line(f, 1000000, "run-begin", NULL, "\"kv\":{\"cmd\":\"run\",\"time_scale\":\"0.05\"}");
	line(f, 1000000, "downtime-begin", "maint-on", NULL);
	line(f, 1000000, "step-begin", "dns-switch", NULL);
	line(f, 1001000, "step-applied", "dns-switch", NULL);
	line(f, 1001000, "step-done", "dns-switch", NULL);
	line(f, 1001000, "step-begin", "convert-users", NULL);
	line(f, 1003000, "step-done", "convert-users", NULL);
	line(f, 1003000, "step-begin", "dns-insync", NULL);
	line(f, 1003000, "step-applied", "dns-insync", NULL);
	line(f, 1003000, "wait-begin", "dns-insync", "\"msg\":\"DNS change C INSYNC\","
	    "\"kv\":{\"wait_kind\":\"dns-change\"}");
	line(f, 1004000, "wait-end", "dns-insync", "\"msg\":\"INSYNC\"");
	line(f, 1004000, "step-done", "dns-insync", NULL);
	line(f, 1004000, "downtime-end", "maint-off", NULL);
	fclose(f);
	assert_int_equal(report_compute(path, &s, &err), 0);
	assert_int_equal(s.down_aws_ms, 1000);
	/* 4 s - 1 s + (3 s / 0.05 - 2 s) */
	assert_int_equal(s.projected_ms, 61000);
	report_summary_free(&s);
}

static void
test_downtime_still_open(void **state)
{
	struct report_summary s;
	struct cut_err err;
	char *md = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	write_journal(0);
	assert_int_equal(report_compute(path, &s, &err), 0);
	assert_true(s.downtime_open);
	assert_int_equal(s.down_end_ms, 1223000);
	f = open_memstream(&md, &len);
	report_write_markdown(&s, f);
	fclose(f);
	assert_non_null(strstr(md, "maintenance mode is still on"));
	free(md);
	report_summary_free(&s);
}

static void
test_markdown_and_html(void **state)
{
	struct report_summary s;
	struct cut_err err;
	char *md = NULL, *html = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	write_journal(1);
	assert_int_equal(report_compute(path, &s, &err), 0);
	f = open_memstream(&md, &len);
	report_write_markdown(&s, f);
	fclose(f);
	assert_non_null(strstr(md, "Downtime 3 min 41 s, from 1970-01-01 00:16:41 UTC to 1970-01-01 00:20:22 UTC"));
	assert_non_null(strstr(md, "AWS transitions 1 min 50 s, waiting for users to go quiet 0.0 s, "
	    "the tool's own work 5.0 s"));
	assert_null(strstr(md, "at real durations"));
	assert_non_null(strstr(md, "(prompts, crashes, resumes) 1 min 46 s"));
	assert_non_null(strstr(md, "| snapshot | 1 min 2 s | 1 min 0 s | done |"));
	assert_non_null(strstr(md, "| snapshot | snapshot <s> | 1 min 0 s | available |"));
	assert_non_null(strstr(md, "over 2 run(s)"));

	f = open_memstream(&html, &len);
	report_write_html(&s, f);
	fclose(f);
	assert_non_null(strstr(html, "<svg"));
	assert_non_null(strstr(html, "class=\"downtime\""));
	assert_non_null(strstr(html, "class=\"wait\""));
	assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, ">maint-off</text>"));
	free(md);
	free(html);
	report_summary_free(&s);
}

/* A crash right after maintenance mode was switched on, before the journal
 * said so: the resumed run still starts the downtime window. */
static void
test_downtime_after_crash(void **state)
{
	struct enginerun h;
	struct cut_err err;
	struct report_summary s;
	char jp[512];

	(void)state;
	enginerun_init(&h, 1);
	h.fw->slow = 20;      /* still Updating when the rerun checks: "applied earlier" */
	h.crash_at = "maint-on:apply";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_non_null(strstr(h.out, "resume maint-on: applied earlier"));
	snprintf(jp, sizeof(jp), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(jp, &s, &err), 0);
	assert_true(s.has_downtime);
	assert_false(s.downtime_open);
	report_summary_free(&s);
	enginerun_done(&h);
}

/* The report of a real engine run (prep + run + a crash + resume), written
 * to files from the journal alone. */
static void
test_from_engine_run(void **state)
{
	struct enginerun h;
	struct cut_err err;
	struct report_summary s;
	char md[512], html[512], jp[512];
	FILE *f;
	char buf[65536];
	size_t n;

	(void)state;
	enginerun_init(&h, 1);
	h.crash_at = "restore:wait";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	/* Written 0600 like every state file, even under a permissive umask. */
	mode_t old_umask = umask(022);
	assert_int_equal(report_write_files(h.dir, md, html, sizeof(md), &err), 0);
	umask(old_umask);
	struct stat st;
	assert_int_equal(stat(md, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(html, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(md, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "| dns-switch |"));
	assert_non_null(strstr(buf, "| restore | "));
	assert_non_null(strstr(buf, "interrupted"));
	assert_non_null(strstr(buf, "old.apex.alias_dns"));
	assert_null(strstr(buf, "No downtime"));
	assert_int_equal(access(html, R_OK), 0);
	snprintf(jp, sizeof(jp), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(jp, &s, &err), 0);
	assert_true(s.has_downtime && !s.downtime_open);
	assert_true(s.down_end_ms >= s.down_begin_ms);
	assert_true(s.down_ms == s.down_wait_ms + s.down_work_ms + s.down_idle_ms);
	assert_int_equal(s.runs, 3);    /* prep, the crashed run, the resume */
	report_summary_free(&s);
	enginerun_done(&h);
}

static char *
slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* People the restore cannot map, with emails that test every layer: a
 * quote, a backslash, a comma, non-ASCII, a table pipe, HTML, a terminal
 * escape, and 200 characters. */
static const char *const odd_email[] = {
	"zoe, \"the\" zed\\o'neil@example.com",
	"ren\xc3\xa9" "e|<b>x</b>&amp;@exampl\xc3\xa9.com",
	"esc\x1b]0;owned\x07@example.com",
};

static void
odd_people(struct fakeworld *fw)
{
	char longest[201];

	for (size_t i = 0; i < 3; i++) {
		snprintf(fw->unmapped_email[i], sizeof(fw->unmapped_email[i]), "%s", odd_email[i]);
		fw->unmapped_sn[i] = 620099 + (long long)i;
	}
	memset(longest, 'a', 200);
	memcpy(longest + 200 - 12, "@example.com", 12);
	longest[200] = '\0';
	snprintf(fw->unmapped_email[3], sizeof(fw->unmapped_email[3]), "%s", longest);
	fw->unmapped_sn[3] = 700001;
	fw->nunmapped = 4;
}

/* The unmapped people reach the run's output (one line each, printable)
 * and the report, exactly, and a rerun after kill -9 that finds the
 * restore done names them again; lost writes are listed by table, id and
 * key fields, the first 200 of 205, with the rest pointed at. */
static void
test_lists_in_output_and_report(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char md[512], html[512], want[400];
	char *m, *x;

	(void)state;
	enginerun_init(&h, 1);
	odd_people(h.fw);
	h.fw->lost_rows = 205;
	h.crash_at = "blocked-email-restore:done";
	assert_int_equal(enginerun_fork(&h, "run"), 137);
	h.crash_at = NULL;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(h.fw->email_restores, 1);   /* not run again */
	assert_non_null(strstr(h.out, "skip blocked-email-restore: done earlier"));
	assert_non_null(strstr(h.out, "4 blocked email(s) NOT restored"));
	assert_non_null(strstr(h.out, "blocked-emails verify"));
	assert_non_null(strstr(h.out, "not restored: system number 620099, zoe, \"the\" zed\\o'neil@example.com"));
	assert_non_null(strstr(h.out, "system number 620100, ren\xc3\xa9" "e|<b>x</b>&amp;@exampl\xc3\xa9.com"));
	/* No raw control characters from the database on the terminal. */
	assert_null(strchr(h.out, '\x1b'));
	assert_null(strchr(h.out, '\x07'));
	assert_non_null(strstr(h.out, "esc\\e]0;owned\\x07@example.com"));
	memset(want, 'a', 188);
	snprintf(want + 188, sizeof(want) - 188, "@example.com");
	assert_non_null(strstr(h.out, want));

	assert_int_equal(report_write_files(h.dir, md, html, sizeof(md), &err), 0);
	m = slurp(md);
	assert_non_null(strstr(m, "## Blocked emails not restored\n"));
	assert_non_null(strstr(m, "4 blocked email(s) were NOT restored"));
	assert_non_null(strstr(m, "| system number | email |"));
	assert_non_null(strstr(m, "| 620099 | zoe, \"the\" zed\\\\o'neil@example.com |"));
	assert_non_null(strstr(m, "| 620100 | ren\xc3\xa9" "e\\|\\<b\\>x\\</b\\>\\&amp;@exampl\xc3\xa9.com |"));
	assert_non_null(strstr(m, "| 620101 | esc\\\\e\\]0;owned\\\\x07@example.com |"));
	assert_non_null(strstr(m, want));
	assert_null(strchr(m, '\x1b'));
	assert_non_null(strstr(m, "## Lost writes\n"));
	assert_non_null(strstr(m, "205 row(s) were written to the old database after the snapshot"));
	assert_non_null(strstr(m, "| table | id | at | key fields |"));
	assert_non_null(strstr(m, "| events\\_basketitem | 1000 | 2026-11-25T10:00:00Z | player\\_id=7; note=a\\|b \\<c\\> |"));
	assert_non_null(strstr(m, "| 1199 |"));
	assert_null(strstr(m, "| 1200 |"));
	assert_non_null(strstr(m, "The first 200 are listed; 5 more are in "));
	assert_non_null(strstr(m, "lost-writes.csv.rows.json (and the CSV "));
	free(m);

	x = slurp(html);
	assert_non_null(strstr(x, "<h2 id=\"unmapped\">Blocked emails not restored</h2>"));
	assert_non_null(strstr(x, "<td>620099</td><td>zoe, &quot;the&quot; zed\\o&#39;neil@example.com</td>"));
	assert_non_null(strstr(x, "<td>ren\xc3\xa9" "e|&lt;b&gt;x&lt;/b&gt;&amp;amp;@exampl\xc3\xa9.com</td>"));
	assert_non_null(strstr(x, "esc\\e]0;owned\\x07@example.com"));
	assert_null(strchr(x, '\x1b'));
	assert_non_null(strstr(x, "<h2 id=\"lost-writes\">Lost writes</h2>"));
	assert_non_null(strstr(x, "<td>events_basketitem</td><td>1000</td>"));
	assert_non_null(strstr(x, "5 more are in "));
	free(x);
	enginerun_done(&h);
}

/* Zero rows are said in words; the fail-back report lists the activity on
 * the new system the same way. */
static void
test_zero_rows_and_failback_activity(void **state)
{
	struct enginerun h;
	struct cut_err err;
	char md[512], html[512];
	char *m, *x;

	(void)state;
	enginerun_init(&h, 1);
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	assert_int_equal(report_write_files(h.dir, md, html, sizeof(md), &err), 0);
	m = slurp(md);
	assert_non_null(strstr(m, "Every backed-up blocked email was restored"));
	assert_non_null(strstr(m, "## Lost writes\n\nNo rows were written to the old database after "
	    "the snapshot: nothing was lost.\n"));
	assert_null(strstr(m, "| table | id |"));
	assert_null(strstr(m, "Activity on the new system"));
	free(m);

	assert_int_equal(enginerun_cmd(&h, "failback", &err), 0);
	assert_int_equal(report_write_files(h.dir, md, html, sizeof(md), &err), 0);
	m = slurp(md);
	assert_non_null(strstr(m, "## Activity on the new system (fail-back)\n\n2 entries and 1 payment(s)"));
	/* says up to when it counted, the new side closed first */
	assert_non_null(strstr(m, "(counted up to 20"));
	assert_non_null(strstr(m, " UTC, after the new system was closed)"));
	assert_non_null(strstr(m, "| events\\_basketitem | 1001 |"));
	assert_non_null(strstr(m, "| payments\\_memberTransaction | 1002 |"));
	assert_null(strstr(m, "more are in"));
	free(m);
	x = slurp(html);
	assert_non_null(strstr(x, "<h2 id=\"activity\">"));
	assert_non_null(strstr(x, "<td>payments_memberTransaction</td><td>1002</td>"));
	free(x);
	enginerun_done(&h);
}

/* A row list changed after the run is not trusted: the report says so
 * instead of listing it. */
static void
test_tampered_list_not_used(void **state)
{
	struct enginerun h;
	struct cut_err err;
	struct report_summary s;
	char jp[512], p[700];
	FILE *f;

	(void)state;
	enginerun_init(&h, 1);
	h.fw->lost_rows = 2;
	assert_int_equal(enginerun_cmd(&h, "run", &err), 0);
	snprintf(p, sizeof(p), "%s/lost-writes.csv.rows.json", h.dir);
	assert_non_null(f = fopen(p, "a"));
	fputs(" ", f);
	fclose(f);
	snprintf(jp, sizeof(jp), "%s/journal.jsonl", h.dir);
	assert_int_equal(report_compute(jp, &s, &err), 0);
	assert_true(s.lost.present);
	assert_int_equal(s.lost.count, 2);
	assert_int_equal(s.lost.rows.nrows, 0);
	assert_non_null(strstr(s.lost.problem, "SHA-256 differs"));
	report_summary_free(&s);
	enginerun_done(&h);
}

static void
test_missing_journal(void **state)
{
	struct report_summary s;
	struct cut_err err;

	(void)state;
	assert_int_equal(report_compute("/nonexistent/journal.jsonl", &s, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "Cannot open journal"));
}

/* --- the verdict ---------------------------------------------------------- */

/* The report's Markdown, HTML and `cutover report` text of the journal at path. */
static void
render(char **md, char **html, char **txt)
{
	struct report_summary s;
	struct cut_err err;
	struct verdict v;
	size_t len = 0;
	FILE *f;

	assert_int_equal(report_compute(path, &s, &err), 0);
	f = open_memstream(md, &len);
	report_write_markdown(&s, f);
	fclose(f);
	f = open_memstream(html, &len);
	report_write_html(&s, f);
	fclose(f);
	verdict_build(&s, &v);
	f = open_memstream(txt, &len);
	verdict_write_text(&v, f);
	fclose(f);
	report_summary_free(&s);
}

#define NAMES "\"kv\":{\"app\":\"cobalt\",\"apex\":\"myabf.com.au.\",\"www\":\"www.myabf.com.au.\"," \
	"\"live_web\":\"cobalt-production-blue\",\"new_web\":\"cobalt-production-green\"," \
	"\"live_db\":\"cobalt-db-1\",\"new_db\":\"cobalt-db-2\"}"
#define RUN(cmd) "\"kv\":{\"cmd\":\"" cmd "\",\"pid\":\"42\",\"until\":\"\",\"yes\":\"1\"," \
	"\"config\":\"/etc/cutover/prod.ini\",\"state\":\"/srv/cutover/state\"}"

/* prep, then run up to the steps given; 2026-12-05 14:00 UTC = 1796479200 s. */
static FILE *
journal_upto(int through_dns)
{
	FILE *f = fopen(path, "w");
	char rows[512], stats[512], sha[65], kv[1024];
	static const char *const scols[] = { "table", "rows", "max_id" };
	static const char *const t1[] = { "events_basketitem", "1200", "1207" };
	static const char *const t2[] = { "django_migrations", "310", "310" };
	static const char *const t3[] = { "payments_membertransaction", "88", "" };
	struct rowlist rl;
	struct cut_err err;
	static const char *const cols[] = { "email", "system_number" };
	static const char *const r1[] = { "ann@example.com", "620099" };
	static const char *const r2[] = { "bob|<b>@example.com", "620100" };

	assert_non_null(f);
	line(f, 1796479200000, "journal-begin", NULL, "\"kv\":{\"id\":\"c0ffee\"}");
	line(f, 1796479200000, "run-begin", NULL, RUN("prep"));
	line(f, 1796479201000, "names", NULL, NAMES);
	line(f, 1796479260000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	line(f, 1796482800000, "run-begin", NULL, RUN("run"));
	line(f, 1796482800000, "step-begin", "maint-on", NULL);
	line(f, 1796482801000, "step-applied", "maint-on", NULL);
	line(f, 1796482801000, "downtime-begin", "maint-on", NULL);
	line(f, 1796482830000, "step-done", "maint-on", NULL);
	/* The freeze point: two tables parity compares, one it leaves out. */
	snprintf(stats, sizeof(stats), "%s/freeze-point.json", tmpdir);
	assert_int_equal(rowlist_init(&rl, 3, scols, &err), 0);
	assert_int_equal(rowlist_add(&rl, t1, &err), 0);
	assert_int_equal(rowlist_add(&rl, t2, &err), 0);
	assert_int_equal(rowlist_add(&rl, t3, &err), 0);
	assert_int_equal(rowlist_write(stats, &rl, sha, &err), 0);
	rowlist_free(&rl);
	line(f, 1796482830000, "step-begin", "freeze", NULL);
	snprintf(kv, sizeof(kv), "\"kv\":{\"at\":\"2026-12-05 15:00:31+00\",\"unix\":\"1796482831\","
	    "\"tables\":\"3\",\"stats_file\":\"%s\",\"stats_sha256\":\"%s\"}", stats, sha);
	line(f, 1796482832000, "step-done", "freeze", kv);
	if (!through_dns)
		return f;
	line(f, 1796482832000, "step-begin", "parity", NULL);
	line(f, 1796482840000, "step-done", "parity", "\"kv\":{\"compared\":\"2\","
	    "\"after_freeze\":\"0\",\"differences\":\"0\"}");
	line(f, 1796482840000, "step-begin", "dns-switch", NULL);
	line(f, 1796482841000, "step-applied", "dns-switch", "\"kv\":{\"changed_at\":\"1796482841\"}");
	line(f, 1796482841000, "step-done", "dns-switch", NULL);
	line(f, 1796482841000, "step-begin", "convert-users", NULL);
	line(f, 1796482850000, "step-done", "convert-users", "\"kv\":{\"unregistered_before\":\"17\","
	    "\"unregistered_after\":\"0\"}");
	/* Two people the restore could not map, in a row list the journal names. */
	snprintf(rows, sizeof(rows), "%s/unmapped.rows.json", tmpdir);
	assert_int_equal(rowlist_init(&rl, 2, cols, &err), 0);
	assert_int_equal(rowlist_add(&rl, r1, &err), 0);
	assert_int_equal(rowlist_add(&rl, r2, &err), 0);
	assert_int_equal(rowlist_write(rows, &rl, sha, &err), 0);
	rowlist_free(&rl);
	line(f, 1796482850000, "step-begin", "blocked-email-restore", NULL);
	snprintf(kv, sizeof(kv), "\"kv\":{\"present\":\"0\",\"added\":\"9\",\"unmapped\":\"2\","
	    "\"rows_file\":\"%s\",\"rows_sha256\":\"%s\"}", rows, sha);
	line(f, 1796482852000, "step-done", "blocked-email-restore", kv);
	line(f, 1796482852000, "step-begin", "smoke-test", NULL);
	line(f, 1796482855000, "step-done", "smoke-test", "\"kv\":{\"passed\":\"6\",\"failed\":\"0\"}");
	line(f, 1796482855000, "step-begin", "maint-off", NULL);
	line(f, 1796482880000, "step-done", "maint-off", NULL);
	line(f, 1796482880000, "downtime-end", "maint-off", NULL);
	line(f, 1796482880000, "step-begin", "lost-writes", NULL);
	line(f, 1796482884000, "step-done", "lost-writes", "\"kv\":{\"rows\":\"0\"}");
	return f;
}

/* Succeeded: the verdict, the site on the new environment, the window, the
 * data-safety lines and tidy/failback with the run's own paths, first in
 * all three forms; no Unix time anywhere. */
static void
test_verdict_succeeded(void **state)
{
	char *md, *html, *txt;
	FILE *f = journal_upto(1);

	(void)state;
	line(f, 1796482884000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	fclose(f);
	render(&md, &html, &txt);
	/* first, right under the title */
	assert_non_null(strstr(md, "# Cutover report c0ffee\n\n## Verdict: Succeeded\n\n"
	    "Succeeded: every step of `cutover run` is done and the site runs on "
	    "cobalt-production-green with the database cobalt-db-2. To act on: 2 blocked email(s) "
	    "not restored.\n"));
	assert_non_null(strstr(md, "- **Site:** myabf.com.au and www.myabf.com.au point to "
	    "cobalt-production-green (the new environment) since 2026-12-05 15:00:41 UTC.\n"));
	assert_non_null(strstr(md, "- **Window:** Downtime 1 min 19 s, from 2026-12-05 15:00:01 UTC"));
	assert_non_null(strstr(md, "- **Lost writes:** 0: nothing was written"));
	assert_non_null(strstr(md, "- **Blocked emails:** 9 of 11 restored; 2 NOT restored (no user "
	    "with their system number): ann@example.com (system number 620099), "
	    "bob\\|\\<b\\>@example.com (system number 620100).\n"));
	assert_non_null(strstr(md, "- **Users converted:** 17 (unregistered users on the new "
	    "system: 17 before, 0 after).\n"));
	assert_non_null(strstr(md, "- **Smoke checks:** 6 of 6 passed.\n"));
	assert_non_null(strstr(md, "- **Parity:** 2 of 2 compared table(s) equal: each has the row "
	    "count and highest id of the frozen live database; 1 more left out by design (see "
	    "Parity per table).\n"));
	/* parity per table, from the freeze point */
	assert_non_null(strstr(md, "## Parity per table\n\nEvery table of the live database at the "
	    "freeze (3)"));
	assert_non_null(strstr(md, "| events\\_basketitem | 1200 | 1207 | equal |\n"));
	assert_non_null(strstr(md, "| django\\_migrations | 310 | 310 | not compared, by design: "
	    "migrate records the migrations it applies |\n"));
	assert_non_null(strstr(md, "| payments\\_membertransaction | 88 | - | equal |\n"));
	assert_non_null(strstr(html, "<tr><td>events_basketitem</td><td>1200</td><td>1207</td>"
	    "<td>equal</td></tr>"));
	assert_non_null(strstr(md, "- **Write freeze:** the live database refused writes from "
	    "2026-12-05 15:00:31 UTC, and no write landed after it"));
	assert_non_null(strstr(md, "```\ncutover tidy -c /etc/cutover/prod.ini --state "
	    "/srv/cutover/state\n```\n"));
	assert_non_null(strstr(md, "```\ncutover failback -c /etc/cutover/prod.ini --state "
	    "/srv/cutover/state\n```\n"));
	assert_true(strstr(md, "## Verdict") < strstr(md, "## Timeline"));
	/* recorded Unix times are shown as times */
	assert_null(strstr(md, "1796482841"));
	assert_null(strstr(md, "1796482831"));
	assert_non_null(strstr(md, "| dns-switch | changed_at | 2026-12-05 15:00:41 UTC |"));

	assert_non_null(strstr(html, "<section id=\"verdict\" class=\"verdict succeeded\">\n"
	    "<h2>Verdict: Succeeded</h2>"));
	assert_non_null(strstr(html, "<tr><th>Blocked emails</th><td>9 of 11 restored; 2 NOT "
	    "restored (no user with their system number): ann@example.com (system number 620099), "
	    "bob|&lt;b&gt;@example.com (system number 620100).</td></tr>"));
	assert_non_null(strstr(html, "<pre class=\"next\">cutover tidy -c /etc/cutover/prod.ini "
	    "--state /srv/cutover/state</pre>"));
	assert_null(strstr(html, "1796482841"));
	/* every table of the Markdown is in the HTML too */
	assert_non_null(strstr(md, "## Waits"));
	assert_non_null(strstr(html, "<h2 id=\"waits\">Waits</h2>"));
	assert_non_null(strstr(html, "<th>of which AWS waiting</th>"));
	/* stands alone: no URL, no external asset */
	assert_null(strstr(html, "http:"));
	assert_null(strstr(html, "https:"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, " src="));

	assert_non_null(strstr(txt, "Verdict: Succeeded: every step of `cutover run` is done"));
	assert_non_null(strstr(txt, "\nSmoke checks: 6 of 6 passed.\n"));
	assert_non_null(strstr(txt, "\nNext: Check the site first.\n"));
	assert_non_null(strstr(txt, "\n    cutover tidy -c /etc/cutover/prod.ini --state "
	    "/srv/cutover/state\n"));
	free(md);
	free(html);
	free(txt);
}

/* Stopped at a step: the failed step's own sentence, DNS untouched, and
 * the rerun that resumes (or fail-back). */
static void
test_verdict_stopped_at_step(void **state)
{
	char *md, *html, *txt;
	FILE *f = journal_upto(0);

	(void)state;
	line(f, 1796482832000, "step-begin", "snapshot", NULL);
	line(f, 1796482900000, "step-failed", "snapshot", "\"msg\":\"The snapshot cobalt-db-1-cutover "
	    "failed (status failed); look at it in the RDS console, then run again.\","
	    "\"kv\":{\"code\":\"CUT_EAWS\"}");
	line(f, 1796482900000, "run-end", NULL, "\"msg\":\"The snapshot cobalt-db-1-cutover failed "
	    "(status failed); look at it in the RDS console, then run again.\","
	    "\"kv\":{\"status\":\"failed\"}");
	fclose(f);
	render(&md, &html, &txt);
	assert_non_null(strstr(md, "## Verdict: Stopped\n\nStopped at step snapshot of `cutover "
	    "run`: The snapshot cobalt-db-1-cutover failed (status failed); look at it in the RDS "
	    "console, then run again.\n"));
	assert_non_null(strstr(md, "- **Site:** myabf.com.au and www.myabf.com.au point to "
	    "cobalt-production-blue, as before: this cutover has not changed DNS.\n"));
	assert_non_null(strstr(md, "maintenance mode is still on"));
	assert_non_null(strstr(md, "- **Write freeze:** the live database refused writes from "
	    "2026-12-05 15:00:31 UTC; not yet checked"));
	assert_null(strstr(md, "**Smoke checks"));
	assert_null(strstr(md, "**Parity"));
	assert_non_null(strstr(md, "| events\\_basketitem | 1200 | 1207 | not compared yet (the run "
	    "stopped before parity) |\n"));
	assert_non_null(strstr(md, "Once the cause is fixed, to resume at snapshot (steps done are "
	    "skipped):\n\n```\ncutover run -c /etc/cutover/prod.ini --state /srv/cutover/state\n```"));
	assert_non_null(strstr(md, "```\ncutover failback -c /etc/cutover/prod.ini"));
	assert_non_null(strstr(html, "class=\"verdict stopped\""));
	assert_non_null(strstr(txt, "Verdict: Stopped at step snapshot of `cutover run`: The "
	    "snapshot cobalt-db-1-cutover failed"));
	free(md);
	free(html);
	free(txt);

	/* Killed in the middle of a step: no run-end, no sentence. */
	f = journal_upto(0);
	line(f, 1796482832000, "step-begin", "snapshot", NULL);
	fclose(f);
	render(&md, &html, &txt);
	assert_non_null(strstr(txt, "Verdict: Stopped at step snapshot of `cutover run`: the run "
	    "ended without a word (killed, crashed or its machine lost)"));
	assert_non_null(strstr(txt, "    cutover run -c /etc/cutover/prod.ini"));
	free(md);
	free(html);
	free(txt);
}

/* Failed back: the site on the old environment again, the activity on the
 * new one, nothing more to run; a later refused tidy does not change it. */
static void
test_verdict_failed_back(void **state)
{
	char *md, *html, *txt;
	FILE *f = journal_upto(1);

	(void)state;
	line(f, 1796482884000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	line(f, 1796484000000, "run-begin", NULL, RUN("failback"));
	line(f, 1796484000000, "step-begin", "failback-dns", NULL);
	line(f, 1796484001000, "step-applied", "failback-dns", NULL);
	line(f, 1796484001000, "step-done", "failback-dns", NULL);
	line(f, 1796484001000, "step-begin", "failback-activity", NULL);
	line(f, 1796484010000, "step-done", "failback-activity", "\"kv\":{\"entries\":\"0\","
	    "\"payments\":\"0\",\"counted_until\":\"1796484009\"}");
	line(f, 1796484010000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	line(f, 1796484100000, "run-begin", NULL, RUN("tidy"));
	line(f, 1796484101000, "run-end", NULL, "\"msg\":\"The cutover is not done (failed back).\","
	    "\"kv\":{\"status\":\"refused\"}");
	fclose(f);
	render(&md, &html, &txt);
	assert_non_null(strstr(md, "## Verdict: Failed back\n\nFailed back: every step of `cutover "
	    "failback` is done and the site runs on the old system again "
	    "(cobalt-production-blue, database cobalt-db-1).\n"));
	assert_non_null(strstr(md, "- **Site:** myabf.com.au and www.myabf.com.au point to "
	    "cobalt-production-blue (the old environment) again, since fail-back.\n"));
	assert_non_null(strstr(md, "- **New-system activity:** 0 entries and 0 payment(s)"));
	assert_non_null(strstr(md, "- **Refused:** a later `cutover tidy` was refused before it "
	    "changed anything: The cutover is not done (failed back).\n"));
	assert_non_null(strstr(md, "**Next:** Nothing more to run: the old system is live.\n"));
	assert_null(strstr(md, "```\ncutover"));
	assert_null(strstr(md, "1796484009"));
	assert_non_null(strstr(html, "class=\"verdict failed-back\""));
	assert_non_null(strstr(txt, "Verdict: Failed back: "));
	free(md);
	free(html);
	free(txt);
}

/* A fail-back that stopped with DNS half way: the site is not claimed to
 * be anywhere, and the next command resumes the fail-back. */
static void
test_verdict_failback_stopped(void **state)
{
	char *md, *html, *txt;
	FILE *f = journal_upto(1);

	(void)state;
	line(f, 1796482884000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	line(f, 1796484000000, "run-begin", NULL, RUN("failback"));
	line(f, 1796484000000, "step-begin", "failback-dns", NULL);
	line(f, 1796484001000, "step-applied", "failback-dns", NULL);
	line(f, 1796484002000, "step-failed", "failback-dns", "\"msg\":\"Route 53 refused the "
	    "change (Throttling); run again.\"");
	line(f, 1796484002000, "run-end", NULL, "\"kv\":{\"status\":\"failed\"}");
	fclose(f);
	render(&md, &html, &txt);
	assert_non_null(strstr(txt, "Verdict: Stopped at step failback-dns of `cutover failback`: "
	    "Route 53 refused the change (Throttling); run again.\n"));
	assert_non_null(strstr(txt, "\nSite: myabf.com.au and www.myabf.com.au were being moved back to "
	    "cobalt-production-blue when fail-back stopped, and the change was not confirmed: "
	    "`cutover status` reads where DNS points now.\n"));
	assert_non_null(strstr(txt, "  Once the cause is fixed, to resume at failback-dns (steps "
	    "done are skipped):\n    cutover failback -c /etc/cutover/prod.ini --state "
	    "/srv/cutover/state\n"));
	assert_null(strstr(txt, "cutover tidy"));
	assert_null(strstr(txt, "cutover run -c"));
	free(md);
	free(html);
	free(txt);
}

/* A path the shell would split is quoted in the next command. */
static void
test_verdict_quotes_paths(void **state)
{
	char *md, *html, *txt;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	line(f, 1796479200000, "journal-begin", NULL, "\"kv\":{\"id\":\"c0ffee\"}");
	line(f, 1796479200000, "run-begin", NULL, "\"kv\":{\"cmd\":\"prep\",\"config\":"
	    "\"/home/op/my cutover/it's.ini\",\"state\":\"/srv/state\"}");
	line(f, 1796479260000, "run-end", NULL, "\"kv\":{\"status\":\"done\"}");
	fclose(f);
	render(&md, &html, &txt);
	assert_non_null(strstr(txt, "Verdict: Prepared, not cut over"));
	assert_non_null(strstr(txt, "    cutover run -c '/home/op/my cutover/it'\\''s.ini' --state "
	    "/srv/state\n"));
	assert_non_null(strstr(html, "cutover run -c &#39;/home/op/my cutover/it&#39;\\&#39;&#39;s.ini&#39;"));
	free(md);
	free(html);
	free(txt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_downtime_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_downtime_still_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_split_and_projection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projection_of_an_overlapped_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown_and_html, setup, teardown),
		cmocka_unit_test(test_downtime_after_crash),
		cmocka_unit_test(test_from_engine_run),
		cmocka_unit_test(test_lists_in_output_and_report),
		cmocka_unit_test(test_zero_rows_and_failback_activity),
		cmocka_unit_test(test_tampered_list_not_used),
		cmocka_unit_test(test_missing_journal),
		cmocka_unit_test_setup_teardown(test_verdict_succeeded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_stopped_at_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_failed_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_failback_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_quotes_paths, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
