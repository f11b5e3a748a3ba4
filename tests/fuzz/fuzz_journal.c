/* libFuzzer target: the journal readers (replay for status and resume,
 * journal_read for the report). The input is written as journal.jsonl in a
 * state folder; every reader must refuse it with a sentence or read it,
 * never crash, whatever nulls or types it holds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runbook/journal.h"
#include "runbook/report.h"
#include "base/sfile.h"

static char dir[64], path[128];

static int
visit(void *arg, struct json_object *rec)
{
	(void)rec;
	(*(size_t *)arg)++;
	return 0;
}

/* A plain write: sfile_write syncs, which would slow the fuzzer to a crawl. */
static int
put(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "w");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal *j = NULL;
	struct report_summary s;
	struct cut_err err;
	size_t n = 0;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_journal.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/journal.jsonl", dir);
	}
	if (put(path, data, size) != 0)
		abort();
	if (journal_open_readonly(dir, &j, &err) == 0) {
		journal_step_state(j, "snapshot");
		journal_value(j, "snapshot", "id");
		journal_close(j);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	journal_read(path, visit, &n, &err);
	memset(&s, 0, sizeof(s));
	if (report_compute(path, &s, &err) == 0) {
		FILE *f = fopen("/dev/null", "w");
		if (f != NULL) {
			report_write_markdown(&s, f);
			report_write_html(&s, f);
			fclose(f);
		}
		report_summary_free(&s);
	}
	return 0;
}
