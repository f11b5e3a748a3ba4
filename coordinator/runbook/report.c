/* runbook/report.c: see runbook/report.h. */
#include "runbook/report.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runbook/journal.h"
#include "base/sfile.h"
#include <fcntl.h>
#include <sys/stat.h>

/* Where a step waits for a change another step applied: dns-insync waits
 * for dns-switch's Route 53 change. */
static const char *
change_step(const char *step)
{
	return strcmp(step, "dns-insync") == 0 ? "dns-switch" : step;
}

struct builder {
	struct report_summary *s;
	struct { char step[64]; int64_t ms; } applied[64];   /* latest step-applied per step */
	size_t napplied;
	size_t capspans, capvalues;
	int64_t last_ms;
	struct cut_err *err;
	int failed;
};

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	/* journal_read refuses records whose fields are not text; checked
	 * again here so a reader never hands NULL on as a string. */
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct report_span *
open_span(struct builder *b, const char *step, int wait, int64_t t)
{
	struct report_span *sp;

	if (b->s->nspans == b->capspans) {
		size_t nc = b->capspans ? b->capspans * 2 : 32;
		struct report_span *n = realloc(b->s->spans, nc * sizeof(*n));
		if (n == NULL) {
			b->failed = 1;
			return NULL;
		}
		b->s->spans = n;
		b->capspans = nc;
	}
	sp = &b->s->spans[b->s->nspans++];
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->step, sizeof(sp->step), "%s", step ? step : "");
	sp->wait = wait;
	sp->t0 = t;
	sp->t1 = -1;
	return sp;
}

/* Closes the latest open span of (step, wait) - or every open span when
 * step is NULL (a run ended or a new run began after a crash). */
static void
close_spans(struct builder *b, const char *step, int wait, int64_t t, const char *outcome)
{
	size_t i;

	for (i = b->s->nspans; i-- > 0;) {
		struct report_span *sp = &b->s->spans[i];
		if (sp->t1 >= 0)
			continue;
		if (step != NULL && (sp->wait != wait || strcmp(sp->step, step) != 0))
			continue;
		sp->t1 = t;
		snprintf(sp->outcome, sizeof(sp->outcome), "%s", outcome ? outcome : "");
		if (step != NULL)
			return;
	}
}

static void
add_value(struct builder *b, const char *step, const char *key, const char *value)
{
	struct report_value *v;
	size_t i;

	for (i = 0; i < b->s->nvalues; i++) {
		v = &b->s->values[i];
		if (strcmp(v->step, step) == 0 && strcmp(v->key, key) == 0) {
			snprintf(v->value, sizeof(v->value), "%s", value);
			return;
		}
	}
	if (b->s->nvalues == b->capvalues) {
		size_t nc = b->capvalues ? b->capvalues * 2 : 32;
		struct report_value *n = realloc(b->s->values, nc * sizeof(*n));
		if (n == NULL) {
			b->failed = 1;
			return;
		}
		b->s->values = n;
		b->capvalues = nc;
	}
	v = &b->s->values[b->s->nvalues++];
	snprintf(v->step, sizeof(v->step), "%s", step);
	snprintf(v->key, sizeof(v->key), "%s", key);
	snprintf(v->value, sizeof(v->value), "%s", value);
}

/* The list a step's values describe, and the key that holds its count. */
static struct report_list *
list_of(struct report_summary *s, const char *step, const char **count_key)
{
	if (strcmp(step, "blocked-email-restore") == 0)
		return *count_key = "unmapped", &s->unmapped;
	if (strcmp(step, "lost-writes") == 0)
		return *count_key = "rows", &s->lost;
	if (strcmp(step, "failback-activity") == 0)
		return *count_key = "entries", &s->activity;
	if (strcmp(step, "parity") == 0)
		return *count_key = "differences", &s->parity;
	return NULL;
}

/* Keeps what the lists need whole (values[] cuts at 512 bytes). */
static void
list_value(struct report_summary *s, const char *step, const char *key, const char *value)
{
	const char *count_key;
	struct report_list *l = list_of(s, step, &count_key);

	if (l == NULL || value == NULL)
		return;
	if (strcmp(key, count_key) == 0)
		l->present = 1, l->count = atol(value);
	else if (l == &s->activity && strcmp(key, "payments") == 0)
		l->payments = atol(value);
	else if (l == &s->activity && strcmp(key, "counted_until") == 0)
		l->until = atoll(value);
	else if (strcmp(key, "file") == 0)
		snprintf(l->file, sizeof(l->file), "%s", value);
	else if (strcmp(key, "rows_file") == 0)
		snprintf(l->rows_file, sizeof(l->rows_file), "%s", value);
	else if (strcmp(key, "rows_sha256") == 0)
		snprintf(l->rows_sha256, sizeof(l->rows_sha256), "%s", value);
}

/* Loads a list's rows when the journal names them; otherwise says why. */
static void
list_load(struct report_list *l)
{
	struct cut_err e = { 0 };

	if (!l->present || l->count + l->payments == 0)
		return;
	if (l->rows_file[0] == '\0' || l->rows_sha256[0] == '\0') {
		snprintf(l->problem, sizeof(l->problem), "this journal does not name a row list "
		    "(written by an older cutover); the rows are in %s", l->file[0] ? l->file :
		    "the step's CSV file");
		return;
	}
	if (rowlist_load(l->rows_file, l->rows_sha256, &l->rows, NULL, &e) != 0)
		snprintf(l->problem, sizeof(l->problem), "%s", e.msg);
}

static int
visit(void *arg, struct json_object *rec)
{
	struct builder *b = arg;
	struct report_summary *s = b->s;
	struct json_object *o, *kv;
	const char *ev = jstr(rec, "ev"), *step = jstr(rec, "step"), *msg = jstr(rec, "msg");
	int64_t t = json_object_object_get_ex(rec, "ms", &o) ? json_object_get_int64(o) : 0;

	if (ev == NULL)
		return 0;
	if (s->first_ms == 0)
		s->first_ms = t;
	if (strcmp(ev, "journal-begin") == 0 && json_object_object_get_ex(rec, "kv", &kv)) {
		const char *id = jstr(kv, "id");
		snprintf(s->id, sizeof(s->id), "%s", id ? id : "");
	} else if (strcmp(ev, "run-begin") == 0) {
		/* Anything still open belonged to a run that died. */
		close_spans(b, NULL, 0, b->last_ms, "interrupted");
		s->runs++;
		if (json_object_object_get_ex(rec, "kv", &kv)) {
			const char *ts = jstr(kv, "time_scale");
			double d = ts ? strtod(ts, NULL) : 0;
			if (d > 0 && d <= 1)
				s->time_scale = d;
		}
	} else if (strcmp(ev, "run-end") == 0) {
		close_spans(b, NULL, 0, t, "stopped");
	} else if (strcmp(ev, "step-begin") == 0) {
		open_span(b, step, 0, t);
	} else if (strcmp(ev, "step-applied") == 0 && step != NULL) {
		size_t k;
		for (k = 0; k < b->napplied && strcmp(b->applied[k].step, step) != 0; k++)
			;
		if (k < sizeof(b->applied) / sizeof(b->applied[0])) {
			snprintf(b->applied[k].step, sizeof(b->applied[k].step), "%s", step);
			b->applied[k].ms = t;
			if (k == b->napplied)
				b->napplied++;
		}
	} else if (strcmp(ev, "step-done") == 0) {
		close_spans(b, step, 0, t, "done");
	} else if (strcmp(ev, "step-skipped") == 0) {
		close_spans(b, step, 0, t, "already done");
	} else if (strcmp(ev, "step-failed") == 0) {
		close_spans(b, step, 1, t, "failed");
		close_spans(b, step, 0, t, "failed");
	} else if (strcmp(ev, "wait-begin") == 0) {
		struct report_span *sp = open_span(b, step, 1, t);
		if (sp) {
			const char *k = json_object_object_get_ex(rec, "kv", &kv) ?
			    jstr(kv, "wait_kind") : NULL;
			snprintf(sp->what, sizeof(sp->what), "%s", msg ? msg : "");
			snprintf(sp->kind, sizeof(sp->kind), "%s", k ? k : "");
			for (size_t a = 0; step && a < b->napplied; a++)
				if (strcmp(b->applied[a].step, change_step(step)) == 0 &&
				    b->applied[a].ms <= t)
					sp->origin = b->applied[a].ms;
		}
	} else if (strcmp(ev, "wait-end") == 0) {
		close_spans(b, step, 1, t, msg);
	} else if (strcmp(ev, "downtime-begin") == 0) {
		if (!s->has_downtime) {
			s->has_downtime = 1;
			s->down_begin_ms = t;
		}
		s->downtime_open = 1;
	} else if (strcmp(ev, "downtime-end") == 0 && s->has_downtime) {
		s->down_end_ms = t;
		s->downtime_open = 0;
	}
	/* A wait's kind and learnt length (runbook/engine.h) are the engine's,
	 * not a step's values. */
	if (step && strcmp(ev, "names") != 0 && strcmp(ev, "wait-end") != 0 &&
	    strcmp(ev, "wait-begin") != 0 &&
	    json_object_object_get_ex(rec, "kv", &kv) &&
	    json_object_is_type(kv, json_type_object)) {
		json_object_object_foreach(kv, key, val) {
			if (!json_object_is_type(val, json_type_string))
				continue;
			add_value(b, step, key, json_object_get_string(val));
			list_value(s, step, key, json_object_get_string(val));
		}
	}
	b->last_ms = t;
	s->last_ms = t;
	return b->failed ? CUT_ENOMEM : 0;
}

static int64_t
clip(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

int
report_compute(const char *journal_path, struct report_summary *out, struct cut_err *err)
{
	struct builder b;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	b.s = out;
	b.err = err;
	if ((r = journal_read(journal_path, visit, &b, err)) != 0) {
		if (b.failed)
			cut_err_set(err, CUT_ENOMEM, "Out of memory building the report.");
		report_summary_free(out);
		return r;
	}
	close_spans(&b, NULL, 0, out->last_ms, "open");
	list_load(&out->unmapped);
	list_load(&out->lost);
	list_load(&out->activity);
	list_load(&out->parity);
	if (out->has_downtime) {
		int64_t B = out->down_begin_ms;
		int64_t E = out->downtime_open || out->down_end_ms < B ? out->last_ms : out->down_end_ms;
		int64_t work = 0, wait = 0, quiet = 0;

		out->down_end_ms = E;
		out->down_ms = E - B;
		/* The engine runs one step and one wait at a time, so clipped
		 * lengths add up without double counting. */
		for (i = 0; i < out->nspans; i++) {
			const struct report_span *sp = &out->spans[i];
			if (sp->wait) {
				wait += clip(sp->t0, sp->t1, B, E);
				if (strcmp(sp->kind, "quiet") == 0)
					quiet += clip(sp->t0, sp->t1, B, E);
			} else
				work += clip(sp->t0, sp->t1, B, E);
		}
		out->down_wait_ms = wait;
		out->down_quiet_ms = quiet;
		out->down_aws_ms = wait - quiet;
		out->down_work_ms = work > wait ? work - wait : 0;
		out->down_idle_ms = out->down_ms - out->down_wait_ms - out->down_work_ms;
		if (out->down_idle_ms < 0)
			out->down_idle_ms = 0;
		/* At real durations only the AWS transitions stretch; users, the
		 * tool and the operator take what they took. */
		out->projected_ms = out->down_ms;
		if (out->time_scale > 0) {
			out->projected_ms -= out->down_aws_ms;
			for (i = 0; i < out->nspans; i++) {
				const struct report_span *sp = &out->spans[i];
				int64_t in = sp->wait ? clip(sp->t0, sp->t1, B, E) : 0;
				/* Applied in this window (else: the wait alone). */
				int64_t o = sp->origin >= B && sp->origin <= sp->t0 ? sp->origin : sp->t0;
				double real;
				if (in == 0 || strcmp(sp->kind, "quiet") == 0)
					continue;
				real = (double)(sp->t1 - o) / out->time_scale - (double)(sp->t0 - o);
				out->projected_ms += real > 0 ? (int64_t)real : 0;
			}
		}
	}
	return 0;
}

void
report_summary_free(struct report_summary *s)
{
	free(s->spans);
	free(s->values);
	s->spans = NULL;
	s->values = NULL;
	rowlist_free(&s->unmapped.rows);
	rowlist_free(&s->lost.rows);
	rowlist_free(&s->activity.rows);
	rowlist_free(&s->parity.rows);
	s->nspans = s->nvalues = 0;
}

static void
fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void
fmt_dur(int64_t ms, char *buf, size_t len)
{
	int64_t s = (ms + 500) / 1000;

	if (s >= 3600)
		snprintf(buf, len, "%lldh%02lldm%02llds", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%.1fs", ms / 1000.0);
}

/* Total wait inside a step span (for the step table). */
static int64_t
waits_in(const struct report_summary *s, const struct report_span *st)
{
	int64_t w = 0;
	size_t i;

	for (i = 0; i < s->nspans; i++)
		if (s->spans[i].wait && strcmp(s->spans[i].step, st->step) == 0)
			w += clip(s->spans[i].t0, s->spans[i].t1, st->t0, st->t1);
	return w;
}

static void
md_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '`')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

/* Database text made printable first (control characters become visible
 * escapes, the same ones the terminal gets: sfile_term_clean); NULL when
 * out of memory. The caller frees it. */
static char *
printable(const char *s)
{
	size_t n = strlen(s) * 6 + 1;   /* the longest escape, \u009b, is 6 for 2 bytes */
	char *out = malloc(n);

	if (out != NULL)
		sfile_term_clean(out, n, s);
	return out;
}

/* A table cell from database text, carried exactly: Markdown's
 * punctuation is backslash-escaped (so `|` cannot split the cell nor `*`
 * start emphasis), control characters are shown as escapes. */
static void
md_cell(FILE *f, const char *s)
{
	char *t = printable(s);
	const unsigned char *p = (const unsigned char *)(t ? t : "");

	for (; *p; p++) {
		if (strchr("\\`*_[]<>|~&#!", *p) != NULL)
			fprintf(f, "\\%c", *p);
		else
			fputc(*p, f);
	}
	free(t);
}

enum list_kind { LIST_UNMAPPED, LIST_LOST, LIST_ACTIVITY, LIST_PARITY };

static const char *const list_title[] = {
	"Blocked emails not restored", "Lost writes", "Activity on the new system (fail-back)",
	"Parity before the DNS switch",
};

#define LIST_NCOLS 6
/* The list's display columns: row-list column index, header. */
static const struct { size_t col; const char *head; } list_cols[][LIST_NCOLS] = {
	{ { 1, "system number" }, { 0, "email" }, { 0, NULL } },
	{ { 0, "table" }, { 1, "id" }, { 2, "at" }, { 3, "key fields" }, { 0, NULL } },
	{ { 0, "table" }, { 1, "id" }, { 2, "at" }, { 3, "key fields" }, { 0, NULL } },
	{ { 0, "table" }, { 5, "what" }, { 1, "rows at the freeze" }, { 2, "highest id at the freeze" },
	  { 3, "rows now" }, { 4, "highest id now" } },
};

static const struct report_list *
list_get(const struct report_summary *s, enum list_kind k)
{
	return k == LIST_UNMAPPED ? &s->unmapped : k == LIST_LOST ? &s->lost :
	    k == LIST_ACTIVITY ? &s->activity : &s->parity;
}

/* The last value `step` recorded under `key`, NULL if none. */
static const char *
value_of(const struct report_summary *s, const char *step, const char *key)
{
	for (size_t i = s->nvalues; i-- > 0;)
		if (strcmp(s->values[i].step, step) == 0 && strcmp(s->values[i].key, key) == 0)
			return s->values[i].value;
	return NULL;
}

/* The write freeze in one paragraph (issue 12): when the live database
 * stopped taking writes, and the proof that none landed after. 0 when
 * this cutover never froze it. */
static int
freeze_line(const struct report_summary *s, char *buf, size_t len)
{
	const char *at = value_of(s, "freeze", "at"), *lsn = value_of(s, "freeze", "lsn");
	const char *ended = value_of(s, "freeze", "ended"), *prev = value_of(s, "freeze", "prev");
	const char *tables = value_of(s, "freeze", "tables");
	const char *after = value_of(s, "parity", "after_freeze");
	const char *unew = value_of(s, "unfreeze-new", "at");
	const char *ufb = value_of(s, "failback-unfreeze", "at");
	int n;

	if (at == NULL)
		return 0;
	n = snprintf(buf, len, "The live database refused writes from %s (WAL position %s; %s other "
	    "session(s) ended; its setting before: %s), with %s table(s) counted at that point.", at,
	    lsn ? lsn : "-", ended ? ended : "?", prev ? prev : "?", tables ? tables : "?");
	if (n > 0 && (size_t)n < len && after != NULL && strcmp(after, "0") == 0)
		n += snprintf(buf + n, len - n, " Just before the DNS switch none of them had changed: "
		    "no write landed after the freeze.");
	else if (n > 0 && (size_t)n < len && after != NULL)
		n += snprintf(buf + n, len - n, " Just before the DNS switch %s table(s) had changed "
		    "after the freeze (see the parity table): a write landed that the snapshot does not "
		    "hold.", after);
	else if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, " The run has not reached the parity check, so "
		    "nothing was compared yet.");
	if (n > 0 && (size_t)n < len && unew != NULL)
		n += snprintf(buf + n, len - n, " The restored copy, frozen by the snapshot too, was "
		    "made writable at %s.", unew);
	if (n > 0 && (size_t)n < len && ufb != NULL)
		snprintf(buf + n, len - n, " Fail-back gave the live database its earlier setting "
		    "back at %s.", ufb);
	return 1;
}

/* The sentence above a list's table: what happened and what to do. */
static void
list_intro(const struct report_summary *s, const struct report_list *l, enum list_kind k, char *buf,
    size_t len)
{
	/* The copy point lost writes count from: the snapshot, or on the
	 * replica path the catch-up reading just before the promotion. */
	const char *point = value_of(s, "replica-catchup", "live_unix") ? "the promotion point" :
	    "the snapshot";

	switch (k) {
	case LIST_UNMAPPED:
		if (l->count == 0)
			snprintf(buf, len, "Every backed-up blocked email was restored on the new system.");
		else
			snprintf(buf, len, "%ld blocked email(s) were NOT restored: no accounts_user on the "
			    "new system has their system number. For each person, create the user (or enter "
			    "the block by hand in notifications_unregisteredblockedemail), then run `cutover "
			    "blocked-emails verify`.", l->count);
		break;
	case LIST_LOST:
		if (l->count == 0)
			snprintf(buf, len, "No rows were written to the old database after %s: "
			    "nothing was lost.", point);
		else
			snprintf(buf, len, "%ld row(s) were written to the old database after %s "
			    "and are not on the new system; enter them again there (or refund them).", l->count,
			    point);
		break;
	case LIST_PARITY:
		if (l->count == 0)
			snprintf(buf, len, "Every compared table of the new database had the row count and "
			    "highest id of the frozen live one, and the live one had not changed since the "
			    "freeze. Not compared, by design: the tables `cutover plan` lists with the parity "
			    "step.");
		else
			snprintf(buf, len, "%ld table(s) differed; the run stopped before DNS moved. Find "
			    "out why, then run again (or fail back).", l->count);
		break;
	case LIST_ACTIVITY: {
		char upto[96] = "";
		if (l->until > 0) {
			/* The new side was closed before it counted (fail-back's
			 * failback-new-cron and failback-new-maint), so this is the
			 * last word on what it holds. */
			time_t t = (time_t)l->until;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(upto, sizeof(upto), " (counted up to %Y-%m-%d %H:%M:%S UTC, after the "
			    "new system was closed)", &tm);
		}
		if (l->count + l->payments == 0)
			snprintf(buf, len, "No entries or payments were made on the new system since the "
			    "DNS change%s.", upto);
		else
			snprintf(buf, len, "%ld entr%s and %ld payment(s) were made on the new system since "
			    "the DNS change%s; enter them again on the old system (or refund them).", l->count,
			    l->count == 1 ? "y" : "ies", l->payments, upto);
		break;
	}
	}
}

/* The sentence below a list's table: rows left out, or why none are shown. */
static int
list_outro(const struct report_list *l, char *buf, size_t len)
{
	if (l->problem[0])
		return snprintf(buf, len, "The rows are not listed here: %s", l->problem), 1;
	if (l->rows.nrows > REPORT_LIST_MAX)
		return snprintf(buf, len, "The first %d are listed; %zu more are in %s%s%s%s.",
		    REPORT_LIST_MAX, l->rows.nrows - REPORT_LIST_MAX, l->rows_file,
		    l->file[0] ? " (and the CSV " : "", l->file, l->file[0] ? ")" : ""), 1;
	return 0;
}

static void
md_list(const struct report_summary *s, enum list_kind k, FILE *f)
{
	const struct report_list *l = list_get(s, k);
	char line[10000];
	size_t i, j;

	if (!l->present)
		return;
	list_intro(s, l, k, line, sizeof(line));
	fprintf(f, "\n## %s\n\n", list_title[k]);
	md_escape(f, line);
	fputs("\n", f);
	if (l->rows.nrows > 0) {
		fputs("\n|", f);
		for (j = 0; j < LIST_NCOLS && list_cols[k][j].head; j++)
			fprintf(f, " %s |", list_cols[k][j].head);
		fputs("\n|", f);
		for (j = 0; j < LIST_NCOLS && list_cols[k][j].head; j++)
			fputs("---|", f);
		fputs("\n", f);
		for (i = 0; i < l->rows.nrows && i < REPORT_LIST_MAX; i++) {
			fputs("|", f);
			for (j = 0; j < LIST_NCOLS && list_cols[k][j].head; j++) {
				fputs(" ", f);
				if (list_cols[k][j].col < l->rows.ncols)
					md_cell(f, rowlist_cell(&l->rows, i, list_cols[k][j].col));
				fputs(" |", f);
			}
			fputs("\n", f);
		}
	}
	if (list_outro(l, line, sizeof(line))) {
		fputs("\n", f);
		md_escape(f, line);
		fputs("\n", f);
	}
}

static void
downtime_line(const struct report_summary *s, char *buf, size_t len)
{
	char a[32], b[32], d[32], w[32], q[32], k[32], i[32], p[32], proj[256] = "";

	if (!s->has_downtime) {
		snprintf(buf, len, "No downtime: maintenance mode was never turned on by this cutover.");
		return;
	}
	fmt_time(s->down_begin_ms, a, sizeof(a));
	fmt_time(s->down_end_ms, b, sizeof(b));
	fmt_dur(s->down_ms, d, sizeof(d));
	fmt_dur(s->down_aws_ms, w, sizeof(w));
	fmt_dur(s->down_quiet_ms, q, sizeof(q));
	fmt_dur(s->down_work_ms, k, sizeof(k));
	fmt_dur(s->down_idle_ms, i, sizeof(i));
	if (s->time_scale > 0) {
		fmt_dur(s->projected_ms, p, sizeof(p));
		snprintf(proj, sizeof(proj), " This run's AWS transitions were simulated at %g of "
		    "their real durations: at real durations the window would be about %s.",
		    s->time_scale, p);
	}
	snprintf(buf, len, "Downtime %s, from %s to %s%s: AWS transitions %s, waiting for users "
	    "to go quiet %s, the tool's own work %s, between steps or runs (prompts, crashes, "
	    "resumes) %s.%s", d, a, b, s->downtime_open ? " (maintenance mode is still on)" : "",
	    w, q, k, i, proj);
}

struct json_object *
report_window_json(const struct report_summary *s)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "downtime", json_object_new_boolean(s->has_downtime));
	if (!s->has_downtime)
		return o;
	json_object_object_add(o, "open", json_object_new_boolean(s->downtime_open));
	json_object_object_add(o, "window_ms", json_object_new_int64(s->down_ms));
	json_object_object_add(o, "aws_ms", json_object_new_int64(s->down_aws_ms));
	json_object_object_add(o, "quiet_ms", json_object_new_int64(s->down_quiet_ms));
	json_object_object_add(o, "work_ms", json_object_new_int64(s->down_work_ms));
	json_object_object_add(o, "between_ms", json_object_new_int64(s->down_idle_ms));
	if (s->time_scale > 0) {
		char g[32];
		/* As the journal wrote it, not 0.050000000000000003. */
		snprintf(g, sizeof(g), "%g", s->time_scale);
		json_object_object_add(o, "time_scale", json_object_new_double_s(s->time_scale, g));
		json_object_object_add(o, "projected_ms", json_object_new_int64(s->projected_ms));
	}
	return o;
}

void
report_window_line(const struct report_summary *s, char *buf, size_t len)
{
	downtime_line(s, buf, len);
}

void
report_write_markdown(const struct report_summary *s, FILE *f)
{
	char t0[32], dur[32], wd[32], line[1024], fz[1500];
	size_t i;

	fprintf(f, "# Cutover report %s\n\n", s->id);
	fmt_time(s->first_ms, t0, sizeof(t0));
	fmt_dur(s->last_ms - s->first_ms, dur, sizeof(dur));
	fprintf(f, "Started %s, %s in total over %d run(s).\n\n", t0, dur, s->runs);
	downtime_line(s, line, sizeof(line));
	fprintf(f, "## Downtime\n\n%s\n\n", line);
	fprintf(f, "## Timeline\n\n| start | step | duration | of which AWS waiting | outcome |\n"
	    "|---|---|---|---|---|\n");
	for (i = 0; i < s->nspans; i++) {
		const struct report_span *sp = &s->spans[i];
		if (sp->wait)
			continue;
		fmt_time(sp->t0, t0, sizeof(t0));
		fmt_dur(sp->t1 - sp->t0, dur, sizeof(dur));
		fmt_dur(waits_in(s, sp), wd, sizeof(wd));
		fprintf(f, "| %s | %s | %s | %s | ", t0, sp->step, dur, wd);
		md_escape(f, sp->outcome);
		fprintf(f, " |\n");
	}
	fprintf(f, "\n## Waits\n\n| start | step | waited for | duration | final status |\n"
	    "|---|---|---|---|---|\n");
	for (i = 0; i < s->nspans; i++) {
		const struct report_span *sp = &s->spans[i];
		if (!sp->wait)
			continue;
		fmt_time(sp->t0, t0, sizeof(t0));
		fmt_dur(sp->t1 - sp->t0, dur, sizeof(dur));
		fprintf(f, "| %s | %s | ", t0, sp->step);
		md_escape(f, sp->what);
		fprintf(f, " | %s | ", dur);
		md_escape(f, sp->outcome);
		fprintf(f, " |\n");
	}
	md_list(s, LIST_UNMAPPED, f);
	md_list(s, LIST_LOST, f);
	md_list(s, LIST_ACTIVITY, f);
	if (freeze_line(s, fz, sizeof(fz))) {
		fputs("\n## Write freeze\n\n", f);
		md_escape(f, fz);
		fputs("\n", f);
	}
	md_list(s, LIST_PARITY, f);
	fprintf(f, "\n## Recorded values\n\nWhat each step recorded (fail-back uses these).\n\n"
	    "| step | key | value |\n|---|---|---|\n");
	for (i = 0; i < s->nvalues; i++) {
		fprintf(f, "| %s | ", s->values[i].step);
		md_escape(f, s->values[i].key);
		fprintf(f, " | ");
		md_escape(f, s->values[i].value);
		fprintf(f, " |\n");
	}
}

static void
html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* HTML text from database text: control characters shown as escapes, then escaped. */
static void
html_cell(FILE *f, const char *s)
{
	char *t = printable(s);
	const char *p = t ? t : "";

	for (; *p; p++) {
		if (*p == '\'')
			fputs("&#39;", f);
		else {
			char one[2] = { *p, '\0' };
			html_escape(f, one);
		}
	}
	free(t);
}

static void
html_list(const struct report_summary *s, enum list_kind k, FILE *f)
{
	const struct report_list *l = list_get(s, k);
	static const char *const id[] = { "unmapped", "lost-writes", "activity", "parity" };
	char line[10000];
	size_t i, j;

	if (!l->present)
		return;
	list_intro(s, l, k, line, sizeof(line));
	fprintf(f, "<h2 id=\"%s\">%s</h2>\n<p>", id[k], list_title[k]);
	html_escape(f, line);
	fputs("</p>\n", f);
	if (l->rows.nrows > 0) {
		fprintf(f, "<table class=\"%s\"><tr>", id[k]);
		for (j = 0; j < LIST_NCOLS && list_cols[k][j].head; j++)
			fprintf(f, "<th>%s</th>", list_cols[k][j].head);
		fputs("</tr>\n", f);
		for (i = 0; i < l->rows.nrows && i < REPORT_LIST_MAX; i++) {
			fputs("<tr>", f);
			for (j = 0; j < LIST_NCOLS && list_cols[k][j].head; j++) {
				fputs("<td>", f);
				if (list_cols[k][j].col < l->rows.ncols)
					html_cell(f, rowlist_cell(&l->rows, i, list_cols[k][j].col));
				fputs("</td>", f);
			}
			fputs("</tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	if (list_outro(l, line, sizeof(line))) {
		fputs("<p>", f);
		html_escape(f, line);
		fputs("</p>\n", f);
	}
}

static void
svg_timeline(const struct report_summary *s, FILE *f)
{
	const double W = 960, LABEL = 170, ROW = 20, TOP = 24;
	double span = (double)(s->last_ms > s->first_ms ? s->last_ms - s->first_ms : 1);
	const char **names = calloc(s->nspans + 1, sizeof(*names));
	size_t *row = calloc(s->nspans + 1, sizeof(*row));
	size_t i, j, nrows = 0;
	double H;
	char d[32];

	if (names == NULL || row == NULL) {
		free(names);
		free(row);
		fputs("<p>(timeline left out: out of memory)</p>\n", f);
		return;
	}
	/* One row per step, in order of first appearance. */
	for (i = 0; i < s->nspans; i++) {
		for (j = 0; j < nrows && strcmp(names[j], s->spans[i].step) != 0; j++)
			;
		if (j == nrows)
			names[nrows++] = s->spans[i].step;
		row[i] = j;
	}
	H = TOP + ROW * (double)nrows + 24;
#define X(t) (LABEL + (W - LABEL - 10) * (double)((t) - s->first_ms) / span)
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"timeline\">\n",
	    W, H);
	if (s->has_downtime)
		fprintf(f, "<rect class=\"downtime\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
		    "fill=\"#f8d7da\"><title>downtime</title></rect>\n", X(s->down_begin_ms), TOP - 4,
		    X(s->down_end_ms) - X(s->down_begin_ms), ROW * (double)nrows + 8);
	for (j = 0; j < nrows; j++) {
		fprintf(f, "<text x=\"4\" y=\"%.0f\">", TOP + ROW * (double)j + 13);
		html_escape(f, names[j]);
		fputs("</text>\n", f);
	}
	for (i = 0; i < s->nspans; i++) {
		const struct report_span *sp = &s->spans[i];
		double y = TOP + ROW * (double)row[i];
		double x0 = X(sp->t0), w = X(sp->t1) - x0;

		if (w < 1)
			w = 1;
		fmt_dur(sp->t1 - sp->t0, d, sizeof(d));
		fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
		    "fill=\"%s\"><title>", sp->wait ? "wait" : "step", x0, y + (sp->wait ? 5 : 2), w,
		    sp->wait ? ROW - 10 : ROW - 4, sp->wait ? "#f0ad4e" : "#337ab7");
		html_escape(f, sp->step);
		fprintf(f, "%s", sp->wait ? " waiting for " : " ");
		html_escape(f, sp->wait ? sp->what : "");
		fprintf(f, " (%s, ", d);
		html_escape(f, sp->outcome);
		fputs(")</title></rect>\n", f);
	}
	fmt_dur(s->last_ms - s->first_ms, d, sizeof(d));
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">0</text><text x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">%s</text>\n", LABEL, H - 6, W - 10, H - 6, d);
	fprintf(f, "<text x=\"%.0f\" y=\"14\">blue: step, orange: AWS wait, red band: downtime"
	    "</text>\n</svg>\n", LABEL);
#undef X
	free(names);
	free(row);
}

void
report_write_html(const struct report_summary *s, FILE *f)
{
	char line[1024], t0[32], dur[32], wd[32], fz[1500];
	size_t i;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Cutover report</title>"
	    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
	    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head><body>\n", f);
	fprintf(f, "<h1>Cutover report ");
	html_escape(f, s->id);
	fprintf(f, "</h1>\n<h2>Downtime</h2>\n<p class=\"downtime\">");
	downtime_line(s, line, sizeof(line));
	html_escape(f, line);
	fputs("</p>\n<h2>Timeline</h2>\n", f);
	svg_timeline(s, f);
	fputs("<table><tr><th>start</th><th>step</th><th>duration</th><th>AWS waiting</th>"
	    "<th>outcome</th></tr>\n", f);
	for (i = 0; i < s->nspans; i++) {
		const struct report_span *sp = &s->spans[i];
		if (sp->wait)
			continue;
		fmt_time(sp->t0, t0, sizeof(t0));
		fmt_dur(sp->t1 - sp->t0, dur, sizeof(dur));
		fmt_dur(waits_in(s, sp), wd, sizeof(wd));
		fprintf(f, "<tr><td>%s</td><td>", t0);
		html_escape(f, sp->step);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>", dur, wd);
		html_escape(f, sp->outcome);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	html_list(s, LIST_UNMAPPED, f);
	html_list(s, LIST_LOST, f);
	html_list(s, LIST_ACTIVITY, f);
	if (freeze_line(s, fz, sizeof(fz))) {
		fputs("<h2 id=\"freeze\">Write freeze</h2>\n<p>", f);
		html_escape(f, fz);
		fputs("</p>\n", f);
	}
	html_list(s, LIST_PARITY, f);
	fputs("<h2>Recorded values</h2>\n<table><tr><th>step</th><th>key</th>"
	    "<th>value</th></tr>\n", f);
	for (i = 0; i < s->nvalues; i++) {
		fputs("<tr><td>", f);
		html_escape(f, s->values[i].step);
		fputs("</td><td>", f);
		html_escape(f, s->values[i].key);
		fputs("</td><td>", f);
		html_escape(f, s->values[i].value);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n</body></html>\n", f);
}

static int
write_atomic(const char *path, const struct report_summary *s, int html, struct cut_err *err)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* The report names environments, databases and changed settings: 0600
	 * like every other file of the state folder, whatever the umask, and
	 * never written through a link. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    fchmod(fd, 0600) != 0 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return cut_err_set(err, CUT_EIO, "Cannot write report %s (%s); check the state "
		    "folder.", tmp, strerror(e));
	}
	if (html)
		report_write_html(s, f);
	else
		report_write_markdown(s, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		return cut_err_set(err, CUT_EIO, "Cannot finish report %s (%s); check the disk.",
		    path, strerror(errno));
	return 0;
}

int
report_write_files(const char *state_dir, char *md, char *html, size_t len, struct cut_err *err)
{
	struct report_summary s;
	char jpath[PATH_MAX];
	int r;

	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", state_dir);
	if ((r = report_compute(jpath, &s, err)) != 0)
		return r;
	snprintf(md, len, "%s/report.md", state_dir);
	snprintf(html, len, "%s/report.html", state_dir);
	r = write_atomic(md, &s, 0, err);
	if (r == 0)
		r = write_atomic(html, &s, 1, err);
	report_summary_free(&s);
	return r;
}
