/* Unit tests for report.c: the downtime window and its split (AWS waiting,
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

#include "enginerun.h"
#include "report.h"

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
	assert_non_null(strstr(md, "Downtime 3m41s, from 1970-01-01 00:16:41Z to 1970-01-01 00:20:22Z"));
	assert_non_null(strstr(md, "AWS waiting 1m50s, the tool's own work 5.0s"));
	assert_non_null(strstr(md, "(prompts, crashes, resumes) 1m46s"));
	assert_non_null(strstr(md, "| snapshot | 1m02s | 1m00s | done |"));
	assert_non_null(strstr(md, "| snapshot | snapshot <s> | 1m00s | available |"));
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

static void
test_missing_journal(void **state)
{
	struct report_summary s;
	struct cut_err err;

	(void)state;
	assert_int_equal(report_compute("/nonexistent/journal.jsonl", &s, &err), CUT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "Cannot open journal"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_downtime_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_downtime_still_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown_and_html, setup, teardown),
		cmocka_unit_test(test_downtime_after_crash),
		cmocka_unit_test(test_from_engine_run),
		cmocka_unit_test(test_missing_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
