/* runbook/report.c: see runbook/report.h. */
#include "runbook/report.h"

#include <errno.h>
#include <stddef.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runbook/journal.h"
#include "runbook/tables.h"
#include "runbook/verdict.h"
#include "base/sfile.h"
#include <fcntl.h>
#include <sys/stat.h>

/* Where a step waits for a change another step applied: dns-insync waits
 * for dns-switch's Route 53 change, open-new-ready for open-new's
 * configuration update (the replica method). */
static const char *
change_step(const char *step)
{
	if (strcmp(step, "dns-insync") == 0)
		return "dns-switch";
	return strcmp(step, "open-new-ready") == 0 ? "open-new" : step;
}

struct builder {
	struct report_summary *s;
	struct { char step[64]; int64_t ms; } applied[64];   /* latest step-applied per step */
	size_t napplied;
	size_t capspans, capvalues;
	int64_t last_ms;
	struct cut_err *err;
	int failed;
	struct report_run cur, prev;   /* the run being read, the latest one not refused */
	int open;                      /* cur has begun and not ended */
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

/* The pinned names the verdict speaks of. */
static void
names_of(struct report_summary *s, struct json_object *kv)
{
	static const struct { const char *key; size_t off, size; } f[] = {
#define N(k) { #k, offsetof(struct report_summary, k), sizeof(((struct report_summary *)0)->k) }
		N(app), N(apex), N(www), N(live_web), N(new_web), N(live_db), N(new_db), N(test_env),
#undef N
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const char *v = jstr(kv, f[i].key);
		snprintf((char *)s + f[i].off, f[i].size, "%s", v ? v : "");
	}
}

/* Where the site points, as the DNS steps move it. */
static void
dns_moved(struct report_summary *s, const char *step, int done)
{
	if (strcmp(step, "dns-switch") == 0)
		s->dns = done ? REPORT_DNS_NEW : REPORT_DNS_MOVING;
	else if (strcmp(step, "failback-dns") == 0 && s->dns != REPORT_DNS_UNCHANGED)
		s->dns = done ? REPORT_DNS_BACK : REPORT_DNS_BACKING;
}

static void
run_begin(struct builder *b, struct json_object *kv)
{
	const char *cmd = kv ? jstr(kv, "cmd") : NULL;
	const char *config = kv ? jstr(kv, "config") : NULL, *state = kv ? jstr(kv, "state") : NULL;

	if (b->open)
		b->prev = b->cur;   /* it died: still the latest that was not refused */
	memset(&b->cur, 0, sizeof(b->cur));
	b->open = 1;
	snprintf(b->cur.cmd, sizeof(b->cur.cmd), "%s", cmd ? cmd : "?");
	snprintf(b->cur.config, sizeof(b->cur.config), "%s", config ? config : "");
	snprintf(b->cur.state, sizeof(b->cur.state), "%s", state ? state : "");
	/* A run that dies writes no end: until one comes, this is the latest. */
	b->s->last = b->cur;
	b->s->refused.cmd[0] = '\0';
}

static void
run_end(struct builder *b, struct json_object *kv, const char *msg)
{
	struct report_summary *s = b->s;
	const char *status = kv ? jstr(kv, "status") : NULL;

	if (!b->open)
		return;
	b->open = 0;
	snprintf(b->cur.status, sizeof(b->cur.status), "%s", status ? status : "?");
	if (b->cur.why[0] == '\0')
		snprintf(b->cur.why, sizeof(b->cur.why), "%s", msg ? msg : "");
	if (strcmp(b->cur.status, "refused") == 0) {
		/* Changed nothing: the verdict stays with the run before it. */
		s->refused = b->cur;
		s->last = b->prev;
		return;
	}
	s->last = b->cur;
	b->prev = b->cur;
	if (strcmp(b->cur.status, "done") == 0) {
		if (strcmp(b->cur.cmd, "prep") == 0)
			s->prep_done = 1;
		else if (strcmp(b->cur.cmd, "run") == 0)
			s->run_done = 1;
		else if (strcmp(b->cur.cmd, "failback") == 0)
			s->failback_done = 1;
		else if (strcmp(b->cur.cmd, "tidy") == 0)
			s->tidy_done = 1;
		else if (strcmp(b->cur.cmd, "rehearse") == 0)
			s->rehearse_done = 1;
	}
}

/* The freeze point's table counts, when the journal names them. */
static void
frozen_load(struct report_summary *s)
{
	struct report_list *l = &s->frozen;
	const char *file = NULL, *sha = NULL, *n = NULL;

	/* report_value is defined below, with the writers. */
	for (size_t i = s->nvalues; i-- > 0;) {
		const struct report_value *v = &s->values[i];
		if (strcmp(v->step, "freeze") != 0)
			continue;
		if (file == NULL && strcmp(v->key, "stats_file") == 0)
			file = v->value;
		else if (sha == NULL && strcmp(v->key, "stats_sha256") == 0)
			sha = v->value;
		else if (n == NULL && strcmp(v->key, "tables") == 0)
			n = v->value;
	}
	if (file == NULL || n == NULL)
		return;
	l->present = 1;
	l->count = atol(n);
	snprintf(l->rows_file, sizeof(l->rows_file), "%s", file);
	snprintf(l->rows_sha256, sizeof(l->rows_sha256), "%s", sha ? sha : "");
	list_load(l);
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
	} else if (strcmp(ev, "names") == 0 && json_object_object_get_ex(rec, "kv", &kv)) {
		names_of(s, kv);
	} else if (strcmp(ev, "run-begin") == 0) {
		/* Anything still open belonged to a run that died. */
		close_spans(b, NULL, 0, b->last_ms, "interrupted");
		s->runs++;
		run_begin(b, json_object_object_get_ex(rec, "kv", &kv) ? kv : NULL);
		if (json_object_object_get_ex(rec, "kv", &kv)) {
			const char *ts = jstr(kv, "time_scale");
			double d = ts ? strtod(ts, NULL) : 0;
			if (d > 0 && d <= 1)
				s->time_scale = d;
		}
	} else if (strcmp(ev, "run-end") == 0) {
		close_spans(b, NULL, 0, t, "stopped");
		run_end(b, json_object_object_get_ex(rec, "kv", &kv) ? kv : NULL, msg);
	} else if (strcmp(ev, "step-begin") == 0) {
		open_span(b, step, 0, t);
		if (step)
			snprintf(b->cur.step, sizeof(b->cur.step), "%s", step);
	} else if (strcmp(ev, "step-applied") == 0 && step != NULL) {
		dns_moved(s, step, 0);
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
		if (step)
			dns_moved(s, step, 1);
	} else if (strcmp(ev, "step-skipped") == 0) {
		close_spans(b, step, 0, t, "already done");
		if (step)
			dns_moved(s, step, 1);
	} else if (strcmp(ev, "step-failed") == 0) {
		close_spans(b, step, 1, t, "failed");
		close_spans(b, step, 0, t, "failed");
		snprintf(b->cur.failed_step, sizeof(b->cur.failed_step), "%s", step ? step : "");
		snprintf(b->cur.why, sizeof(b->cur.why), "%s", msg ? msg : "");
	} else if (strcmp(ev, "wait-begin") == 0) {
		struct report_span *sp = open_span(b, step, 1, t);
		if (sp) {
			const char *k = json_object_object_get_ex(rec, "kv", &kv) ?
			    jstr(kv, "wait_kind") : NULL;
			snprintf(sp->what, sizeof(sp->what), "%s", msg ? msg : "");
			/* Journals before wait kinds: the quiet step's wait is the users'. */
			if (k == NULL && step && strcmp(step, "quiet") == 0)
				k = "quiet";
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

/* A journal older than run-begin's state: its folder is the state folder. */
static void
state_of(const char *journal_path, char *buf, size_t len)
{
	char abs[PATH_MAX], *slash;

	if (realpath(journal_path, abs) == NULL || (slash = strrchr(abs, '/')) == NULL)
		return;
	*slash = '\0';
	if (strlen(abs) < len)
		memcpy(buf, abs[0] ? abs : "/", strlen(abs[0] ? abs : "/") + 1);
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
	if (b.open)
		out->last = b.cur;   /* still running, or it died: where it got to */
	if (out->last.state[0] == '\0')
		state_of(journal_path, out->last.state, sizeof(out->last.state));
	list_load(&out->unmapped);
	list_load(&out->lost);
	list_load(&out->activity);
	list_load(&out->parity);
	frozen_load(out);
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
	rowlist_free(&s->frozen.rows);
	s->nspans = s->nvalues = 0;
}

void
report_fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

const char *
report_fmt_iso(const char *iso, char *buf, size_t len)
{
	int y, mo, d, h, mi, sec, n = 0;
	const char *rest;

	if (sscanf(iso, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n == 0)
		return iso;
	rest = iso + n;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	/* UTC only: another offset is shown as written rather than guessed at. */
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00") != 0 && strcmp(rest, "+00:00") != 0)
		return iso;
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", y, mo, d, h, mi, sec);
	return buf;
}

void
report_fmt_dur(int64_t ms, char *buf, size_t len)
{
	int64_t s = (ms + 500) / 1000;

	if (ms < 0)
		ms = 0, s = 0;
	if (s >= 3600)
		snprintf(buf, len, "%lld h %02lld min %02lld s", (long long)(s / 3600),
		    (long long)(s / 60 % 60), (long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, len, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
}

/* Total AWS wait inside a step span (for the step table): the users' quiet
 * is not AWS's. */
static int64_t
waits_in(const struct report_summary *s, const struct report_span *st)
{
	int64_t w = 0;
	size_t i;

	for (i = 0; i < s->nspans; i++)
		if (s->spans[i].wait && strcmp(s->spans[i].kind, "quiet") != 0 &&
		    strcmp(s->spans[i].step, st->step) == 0)
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

/* A verdict sentence: like a cell, but a `command` in backquotes (the
 * project's sentences quote commands so) stays a code span. */
static void
md_prose(FILE *f, const char *s)
{
	char *t = printable(s);
	const char *p = t ? t : "", *close;

	for (; *p; p++) {
		if (*p == '`' && (close = strchr(p + 1, '`')) != NULL && close > p + 1) {
			fwrite(p, 1, (size_t)(close - p + 1), f);
			p = close;
		} else if (strchr("\\`*_[]<>|~&#!", *p) != NULL)
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

const char *
report_value(const struct report_summary *s, const char *step, const char *key)
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
	char at_h[40], unew_h[40], ufb_h[40];
	const char *at = report_value(s, "freeze", "at"), *lsn = report_value(s, "freeze", "lsn");
	const char *ended = report_value(s, "freeze", "ended"), *prev = report_value(s, "freeze", "prev");
	const char *tables = report_value(s, "freeze", "tables");
	const char *after = report_value(s, "parity", "after_freeze");
	const char *unew = report_value(s, "unfreeze-new", "at");
	const char *ufb = report_value(s, "failback-unfreeze", "at");
	int n;

	if (at == NULL)
		return 0;
	at = report_fmt_iso(at, at_h, sizeof(at_h));
	if (unew)
		unew = report_fmt_iso(unew, unew_h, sizeof(unew_h));
	if (ufb)
		ufb = report_fmt_iso(ufb, ufb_h, sizeof(ufb_h));
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

/* The DNS tail (issue 12) in one paragraph: how many requests still
 * reached the old environment, per minute, after the new site opened, and
 * whether it went idle. 0 when dns-tail recorded nothing. */
static int
tail_line(const struct report_summary *s, char *buf, size_t len)
{
	const char *res = report_value(s, "dns-tail", "result"), *env = report_value(s, "dns-tail", "env");
	const char *rates = report_value(s, "dns-tail", "per_minute");
	const char *watched = report_value(s, "dns-tail", "watched_s");
	const char *iv = report_value(s, "dns-tail", "interval_s");
	const char *last = report_value(s, "dns-tail", "last_per_minute");
	char w[32];

	if (res == NULL)
		return 0;
	report_fmt_dur(watched ? atoll(watched) * 1000 : 0, w, sizeof(w));
	if (strcmp(res, "idle") == 0)
		snprintf(buf, len, "After Route 53 was INSYNC and the new site opened, %s (the old "
		    "side) still received these requests a minute, one figure per %s s: %s. It was idle "
		    "(under one request a minute) %s after the watch began: `cutover tidy` takes "
		    "nothing anyone still uses.", env ? env : "the old environment", iv ? iv : "?",
		    rates && rates[0] ? rates : "-", w);
	else if (strcmp(res, "unmeasured") == 0)
		snprintf(buf, len, "The requests still reaching %s (the old side) after the new site "
		    "opened could not be counted after %s (%s); look at its access logs before `cutover "
		    "tidy`.", env ? env : "the old environment", w, report_value(s, "dns-tail", "problem") ?
		    report_value(s, "dns-tail", "problem") : "no reason recorded");
	else
		snprintf(buf, len, "After Route 53 was INSYNC and the new site opened, %s (the old "
		    "side) still received these requests a minute, one figure per %s s: %s. At the "
		    "deadline (%s watched) it still had %s a minute: resolvers that ignore the TTL "
		    "still send users there. Wait before `cutover tidy` (the old side's access logs "
		    "show who still comes).", env ? env : "the old environment", iv ? iv : "?",
		    rates && rates[0] ? rates : "-", w, last ? last : "?");
	return 1;
}

struct json_object *
report_tail_json(const struct report_summary *s)
{
	const char *res = report_value(s, "dns-tail", "result");
	struct json_object *o, *a;
	const char *p;

	if (res == NULL || (o = json_object_new_object()) == NULL)
		return NULL;
	if ((a = json_object_new_array()) == NULL) {
		json_object_put(o);
		return NULL;
	}
	for (p = report_value(s, "dns-tail", "per_minute"); p && *p;) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p)
			break;
		json_object_array_add(a, json_object_new_int64(v));
		p = end;
	}
	json_object_object_add(o, "env", json_object_new_string(report_value(s, "dns-tail", "env") ?
	    report_value(s, "dns-tail", "env") : ""));
	json_object_object_add(o, "result", json_object_new_string(res));
	json_object_object_add(o, "idle", json_object_new_boolean(strcmp(res, "idle") == 0));
	json_object_object_add(o, "interval_s", json_object_new_int64(
	    atoll(report_value(s, "dns-tail", "interval_s") ? report_value(s, "dns-tail", "interval_s") : "0")));
	json_object_object_add(o, "watched_s", json_object_new_int64(
	    atoll(report_value(s, "dns-tail", "watched_s") ? report_value(s, "dns-tail", "watched_s") : "0")));
	json_object_object_add(o, "requests", json_object_new_int64(
	    atoll(report_value(s, "dns-tail", "requests") ? report_value(s, "dns-tail", "requests") : "0")));
	json_object_object_add(o, "per_minute", a);
	return o;
}

int
report_tail_line(const struct report_summary *s, char *buf, size_t len)
{
	return tail_line(s, buf, len);
}

/* The sentence above a list's table: what happened and what to do. */
static void
list_intro(const struct report_summary *s, const struct report_list *l, enum list_kind k, char *buf,
    size_t len)
{
	/* The copy point lost writes count from: the snapshot, or on the
	 * replica path the catch-up reading just before the promotion. */
	const char *point = report_value(s, "replica-catchup", "live_unix") ? "the promotion point" :
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

/* What parity found for one table of the freeze point: "equal", the
 * difference it listed, or why it was not compared. */
static const char *
parity_result(const struct report_summary *s, const char *table, char *buf, size_t len)
{
	const struct rowlist *d = &s->parity.rows;

	for (size_t i = 0; d->ncols >= 6 && i < d->nrows; i++)
		if (strcmp(rowlist_cell(d, i, 0), table) == 0) {
			snprintf(buf, len, "DIFFERS: %s", rowlist_cell(d, i, 5));
			return buf;
		}
	for (const struct parity_skip *k = parity_skips; k->table; k++)
		if (strcmp(k->table, table) == 0) {
			snprintf(buf, len, "not compared, by design: %s", k->why);
			return buf;
		}
	if (report_value(s, "parity", "compared") == NULL)
		return "not compared yet (the run stopped before parity)";
	if (s->parity.count > 0 && s->parity.rows.nrows == 0)
		return "see the parity list";
	return "equal";
}

static const char *const frozen_heads[] = { "table", "rows at the freeze",
	"highest id at the freeze", "parity" };

static void
downtime_line(const struct report_summary *s, char *buf, size_t len)
{
	char a[32], b[32], d[32], w[32], q[32], k[32], i[32], p[32], proj[256] = "";

	if (!s->has_downtime) {
		snprintf(buf, len, "No downtime: maintenance mode was never turned on by this cutover.");
		return;
	}
	report_fmt_time(s->down_begin_ms, a, sizeof(a));
	report_fmt_time(s->down_end_ms, b, sizeof(b));
	report_fmt_dur(s->down_ms, d, sizeof(d));
	report_fmt_dur(s->down_aws_ms, w, sizeof(w));
	report_fmt_dur(s->down_quiet_ms, q, sizeof(q));
	report_fmt_dur(s->down_work_ms, k, sizeof(k));
	report_fmt_dur(s->down_idle_ms, i, sizeof(i));
	if (s->time_scale > 0) {
		report_fmt_dur(s->projected_ms, p, sizeof(p));
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

/* A recorded value as the report shows it: the Unix times steps record
 * (dns-switch changed_at, freeze unix, failback-activity counted_until,
 * snapshot created) as UTC times, and the database's ISO times ("at") the
 * same way; the rest as recorded. */
static const char *
human_value(const struct report_value *v, char *buf, size_t len)
{
	static const char *const times[] = { "changed_at", "unix", "counted_until", "created" };
	char *end;
	long long n;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if (strcmp(v->key, times[i]) != 0 || v->value[0] == '\0')
			continue;
		n = strtoll(v->value, &end, 10);
		if (*end != '\0' || n <= 0)
			break;
		report_fmt_time(n * 1000, buf, len);
		return buf;
	}
	if (strcmp(v->key, "at") == 0)
		return report_fmt_iso(v->value, buf, len);
	return v->value;
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

/* The same in HTML: `command` becomes <code>command</code>. */
static void
html_prose(FILE *f, const char *s)
{
	char *t = printable(s);
	const char *p = t ? t : "", *close;

	for (; *p; p++) {
		if (*p == '`' && (close = strchr(p + 1, '`')) != NULL && close > p + 1) {
			char *code = strndup(p + 1, (size_t)(close - p - 1));
			fputs("<code>", f);
			html_escape(f, code ? code : "");
			fputs("</code>", f);
			free(code);
			p = close;
		} else if (*p == '\'')
			fputs("&#39;", f);
		else {
			char one[2] = { *p, '\0' };
			html_escape(f, one);
		}
	}
	free(t);
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
	/* Inline in HTML an <svg> needs no namespace attribute: the page
	 * names no URL at all. */
	fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" "
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
		report_fmt_dur(sp->t1 - sp->t0, d, sizeof(d));
		fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
		    "fill=\"%s\"><title>", sp->wait ? "wait" : "step", x0, y + (sp->wait ? 5 : 2), w,
		    sp->wait ? ROW - 10 : ROW - 4, !sp->wait ? "#337ab7" :
		    strcmp(sp->kind, "quiet") == 0 ? "#8e6cc0" : "#f0ad4e");
		html_escape(f, sp->step);
		fprintf(f, "%s", sp->wait ? " waiting for " : " ");
		html_escape(f, sp->wait ? sp->what : "");
		fprintf(f, " (%s, ", d);
		html_escape(f, sp->outcome);
		fputs(")</title></rect>\n", f);
	}
	report_fmt_dur(s->last_ms - s->first_ms, d, sizeof(d));
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">0</text><text x=\"%.0f\" y=\"%.0f\" "
	    "text-anchor=\"end\">%s</text>\n", LABEL, H - 6, W - 10, H - 6, d);
	fprintf(f, "<text x=\"%.0f\" y=\"14\">blue: step, orange: AWS wait, purple: users going quiet, red band: downtime"
	    "</text>\n</svg>\n", LABEL);
#undef X
	free(names);
	free(row);
}

/* The page stands alone: its style is inline and it names no URL, so
 * opening it from a laptop at 2 a.m. fetches nothing. */
static const char html_style[] =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:1.5em 2em;color:#222;"
    "max-width:1100px;font-size:14px;line-height:1.4}"
    "h1{font-size:1.6em;margin:0 0 .6em}h2{font-size:1.25em;margin:1.4em 0 .5em}"
    "h3{font-size:1.05em;margin:.9em 0 .3em}"
    "table{border-collapse:collapse;margin:.3em 0}"
    "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}"
    ".verdict{border:1px solid #bbb;border-left:10px solid #888;padding:.4em 1.2em 1em;"
    "background:#fafafa}"
    ".verdict h2{margin-top:.4em}"
    ".verdict.succeeded{border-left-color:#2e7d32}.verdict.succeeded h2{color:#2e7d32}"
    ".verdict.stopped{border-left-color:#c62828}.verdict.stopped h2{color:#c62828}"
    ".verdict.failed-back{border-left-color:#ef6c00}.verdict.failed-back h2{color:#ef6c00}"
    ".verdict .headline{font-size:1.1em;font-weight:bold}"
    ".verdict table.facts th{white-space:nowrap;width:11em}"
    ".verdict table.facts td,.verdict table.facts th{border:0;border-bottom:1px solid #e3e3e3;"
    "background:none}"
    "pre.next{background:#222;color:#eee;padding:.5em .8em;white-space:pre-wrap;"
    "word-break:break-all;margin:.2em 0 .6em}"
    "p.when{margin:.5em 0 0}"
    "code{font-family:'DejaVu Sans Mono',monospace;background:#eee;padding:0 .2em}";

/* The report is one document written in two formats: report_write() walks
 * its structure once and a format (struct doc_fmt) says how each block is
 * spelled. How a text is escaped depends on where it came from: */
enum esc {
	ESC_TEXT,	/* our own sentences and names */
	ESC_DB,		/* database or AWS text: every punctuation carried exactly */
	ESC_PROSE,	/* a verdict sentence: `command` stays code */
};

struct doc_fmt {
	void (*begin)(FILE *f, const char *id);
	void (*end)(FILE *f);
	/* id: the HTML anchor, NULL for none. */
	void (*section)(FILE *f, const char *id, const char *title);
	void (*para)(FILE *f, const char *cls, enum esc e, const char *text);
	void (*table)(FILE *f, const char *cls, const char *const *heads, size_t n);
	void (*row)(FILE *f, enum esc e, const char *const *cells, size_t n);
	void (*table_end)(FILE *f);
	/* The timeline drawn (HTML only; NULL in Markdown). */
	void (*picture)(const struct report_summary *s, FILE *f);
	/* The verdict: its heading and headline, then each fact, then what
	 * to do next: a note and one command per case. */
	void (*verdict)(FILE *f, const char *cls, const char *word, const char *headline);
	void (*fact)(FILE *f, const char *label, const char *text);
	void (*next)(FILE *f, const char *note);
	void (*next_cmd)(FILE *f, const char *when, const char *cmd);
	void (*verdict_end)(FILE *f);
};

/* Markdown: every block ends with a blank line. */
static void
md_text(FILE *f, enum esc e, const char *s)
{
	(e == ESC_DB ? md_cell : e == ESC_PROSE ? md_prose : md_escape)(f, s);
}

static void
md_begin(FILE *f, const char *id)
{
	fputs("# Cutover report ", f);
	md_escape(f, id);
	fputs("\n\n", f);
}

static void
md_end(FILE *f)
{
	(void)f;
}

static void
md_section(FILE *f, const char *id, const char *title)
{
	(void)id;
	fprintf(f, "## %s\n\n", title);
}

static void
md_para(FILE *f, const char *cls, enum esc e, const char *text)
{
	(void)cls;
	md_text(f, e, text);
	fputs("\n\n", f);
}

static void
md_table(FILE *f, const char *cls, const char *const *heads, size_t n)
{
	(void)cls;
	fputs("|", f);
	for (size_t j = 0; j < n; j++)
		fprintf(f, " %s |", heads[j]);
	fputs("\n|", f);
	for (size_t j = 0; j < n; j++)
		fputs("---|", f);
	fputs("\n", f);
}

static void
md_row(FILE *f, enum esc e, const char *const *cells, size_t n)
{
	fputs("|", f);
	for (size_t j = 0; j < n; j++) {
		fputs(" ", f);
		md_text(f, e, cells[j]);
		fputs(" |", f);
	}
	fputs("\n", f);
}

static void
md_table_end(FILE *f)
{
	fputs("\n", f);
}

static void
md_verdict(FILE *f, const char *cls, const char *word, const char *headline)
{
	(void)cls;
	fprintf(f, "## Verdict: %s\n\n", word);
	md_prose(f, headline);
	fputs("\n\n", f);
}

static void
md_fact(FILE *f, const char *label, const char *text)
{
	fprintf(f, "- **%s:** ", label);
	md_prose(f, text);
	fputs("\n", f);
}

static void
md_next(FILE *f, const char *note)
{
	fputs("\n**Next:**", f);
	if (note[0]) {
		fputs(" ", f);
		md_prose(f, note);
	}
	fputs("\n", f);
}

static void
md_next_cmd(FILE *f, const char *when, const char *cmd)
{
	fputs("\n", f);
	md_prose(f, when);
	fputs(":\n\n```\n", f);
	/* A fenced block is shown as is: only a line break could end it. */
	for (const char *c = cmd; *c; c++)
		fputc(*c == '\n' ? ' ' : *c, f);
	fputs("\n```\n", f);
}

static void
md_verdict_end(FILE *f)
{
	fputs("\n", f);
}

static const struct doc_fmt fmt_markdown = {
	md_begin, md_end, md_section, md_para, md_table, md_row, md_table_end, NULL,
	md_verdict, md_fact, md_next, md_next_cmd, md_verdict_end,
};

/* HTML: one page with its style inline. */
static void
html_text(FILE *f, enum esc e, const char *s)
{
	(e == ESC_DB ? html_cell : e == ESC_PROSE ? html_prose : html_escape)(f, s);
}

static void
html_begin(FILE *f, const char *id)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>Cutover report</title><style>%s</style></head><body>\n", html_style);
	fprintf(f, "<h1>Cutover report ");
	html_escape(f, id);
	fputs("</h1>\n", f);
}

static void
html_end(FILE *f)
{
	fputs("</body></html>\n", f);
}

static void
html_section(FILE *f, const char *id, const char *title)
{
	if (id)
		fprintf(f, "<h2 id=\"%s\">%s</h2>\n", id, title);
	else
		fprintf(f, "<h2>%s</h2>\n", title);
}

static void
html_para(FILE *f, const char *cls, enum esc e, const char *text)
{
	if (cls)
		fprintf(f, "<p class=\"%s\">", cls);
	else
		fputs("<p>", f);
	html_text(f, e, text);
	fputs("</p>\n", f);
}

static void
html_table(FILE *f, const char *cls, const char *const *heads, size_t n)
{
	fprintf(f, "<table class=\"%s\"><tr>", cls);
	for (size_t j = 0; j < n; j++)
		fprintf(f, "<th>%s</th>", heads[j]);
	fputs("</tr>\n", f);
}

static void
html_row(FILE *f, enum esc e, const char *const *cells, size_t n)
{
	fputs("<tr>", f);
	for (size_t j = 0; j < n; j++) {
		fputs("<td>", f);
		html_text(f, e, cells[j]);
		fputs("</td>", f);
	}
	fputs("</tr>\n", f);
}

static void
html_table_end(FILE *f)
{
	fputs("</table>\n", f);
}

static void
html_verdict(FILE *f, const char *cls, const char *word, const char *headline)
{
	fprintf(f, "<section id=\"verdict\" class=\"verdict %s\">\n<h2>Verdict: %s</h2>\n"
	    "<p class=\"headline\">", cls, word);
	html_prose(f, headline);
	fputs("</p>\n<table class=\"facts\">\n", f);
}

static void
html_fact(FILE *f, const char *label, const char *text)
{
	fprintf(f, "<tr><th>%s</th><td>", label);
	html_prose(f, text);
	fputs("</td></tr>\n", f);
}

static void
html_next(FILE *f, const char *note)
{
	fputs("</table>\n<h3>Next</h3>\n", f);
	if (note[0]) {
		fputs("<p>", f);
		html_prose(f, note);
		fputs("</p>\n", f);
	}
}

static void
html_next_cmd(FILE *f, const char *when, const char *cmd)
{
	fputs("<p class=\"when\">", f);
	html_prose(f, when);
	fputs(":</p>\n<pre class=\"next\">", f);
	html_cell(f, cmd);
	fputs("</pre>\n", f);
}

static void
html_verdict_end(FILE *f)
{
	fputs("</section>\n", f);
}

static const struct doc_fmt fmt_html = {
	html_begin, html_end, html_section, html_para, html_table, html_row, html_table_end,
	svg_timeline, html_verdict, html_fact, html_next, html_next_cmd, html_verdict_end,
};

static void
write_verdict(const struct report_summary *s, const struct doc_fmt *d, FILE *f)
{
	static const char *const cls[] = {
		[VERDICT_NONE] = "none", [VERDICT_SUCCEEDED] = "succeeded",
		[VERDICT_TIDIED] = "succeeded", [VERDICT_STOPPED] = "stopped",
		[VERDICT_FAILED_BACK] = "failed-back", [VERDICT_PREPARED] = "none",
		[VERDICT_REHEARSED] = "succeeded",
	};
	struct verdict *v = malloc(sizeof(*v));
	size_t i;

	if (v == NULL) {
		d->section(f, "verdict", "Verdict");
		d->para(f, NULL, ESC_TEXT, "(left out: out of memory)");
		return;
	}
	verdict_build(s, v);
	d->verdict(f, cls[v->kind], v->word, v->headline);
	for (i = 0; i < v->nlines; i++)
		d->fact(f, v->lines[i].label, v->lines[i].text);
	d->next(f, v->next_note);
	for (i = 0; i < v->nnext; i++)
		d->next_cmd(f, v->next[i].when, v->next[i].cmd);
	d->verdict_end(f);
	free(v);
}

static void
write_list(const struct report_summary *s, enum list_kind k, const struct doc_fmt *d, FILE *f)
{
	static const char *const id[] = { "unmapped", "lost-writes", "activity", "parity" };
	const struct report_list *l = list_get(s, k);
	const char *heads[LIST_NCOLS], *cells[LIST_NCOLS];
	char line[10000];
	size_t i, j, n;

	if (!l->present)
		return;
	for (n = 0; n < LIST_NCOLS && list_cols[k][n].head; n++)
		heads[n] = list_cols[k][n].head;
	list_intro(s, l, k, line, sizeof(line));
	d->section(f, id[k], list_title[k]);
	d->para(f, NULL, ESC_TEXT, line);
	if (l->rows.nrows > 0) {
		d->table(f, id[k], heads, n);
		for (i = 0; i < l->rows.nrows && i < REPORT_LIST_MAX; i++) {
			for (j = 0; j < n; j++)
				cells[j] = list_cols[k][j].col < l->rows.ncols ?
				    rowlist_cell(&l->rows, i, list_cols[k][j].col) : "";
			d->row(f, ESC_DB, cells, n);
		}
		d->table_end(f);
	}
	if (list_outro(l, line, sizeof(line)))
		d->para(f, NULL, ESC_TEXT, line);
}

static void
write_frozen(const struct report_summary *s, const struct doc_fmt *d, FILE *f)
{
	const struct report_list *l = &s->frozen;
	char res[512], line[sizeof(l->problem) + 64];

	if (!l->present)
		return;
	d->section(f, "parity-tables", "Parity per table");
	snprintf(line, sizeof(line), "Every table of the live database at the freeze (%ld), and what "
	    "the parity check before the DNS switch found for it.", l->count);
	d->para(f, NULL, ESC_TEXT, line);
	if (l->rows.nrows > 0 && l->rows.ncols >= 3) {
		d->table(f, "parity-tables", frozen_heads, 4);
		for (size_t i = 0; i < l->rows.nrows; i++) {
			const char *t = rowlist_cell(&l->rows, i, 0), *top = rowlist_cell(&l->rows, i, 2);
			const char *cells[4] = { t, rowlist_cell(&l->rows, i, 1), top[0] ? top : "-",
				parity_result(s, t, res, sizeof(res)) };
			d->row(f, ESC_DB, cells, 4);
		}
		d->table_end(f);
	} else if (l->problem[0]) {
		snprintf(line, sizeof(line), "The tables are not listed here: %s", l->problem);
		d->para(f, NULL, ESC_DB, line);
	}
}

/* The steps, or the AWS waits, as a table. */
static void
write_spans(const struct report_summary *s, int waits, const struct doc_fmt *d, FILE *f)
{
	static const char *const step_heads[] = { "start", "step", "duration",
		"of which AWS waiting", "outcome" };
	static const char *const wait_heads[] = { "start", "step", "waited for", "duration",
		"final status" };
	char t0[32], dur[32], wd[32];

	d->table(f, waits ? "waits" : "timeline", waits ? wait_heads : step_heads, 5);
	for (size_t i = 0; i < s->nspans; i++) {
		const struct report_span *sp = &s->spans[i];
		if (sp->wait != waits)
			continue;
		report_fmt_time(sp->t0, t0, sizeof(t0));
		report_fmt_dur(sp->t1 - sp->t0, dur, sizeof(dur));
		report_fmt_dur(waits_in(s, sp), wd, sizeof(wd));
		const char *step[] = { t0, sp->step, dur, wd, sp->outcome };
		const char *wait[] = { t0, sp->step, sp->what, dur, sp->outcome };
		d->row(f, ESC_TEXT, waits ? wait : step, 5);
	}
	d->table_end(f);
}

static void
report_write(const struct report_summary *s, const struct doc_fmt *d, FILE *f)
{
	static const char *const value_heads[] = { "step", "key", "value" };
	char line[1500], t0[32], dur[32];

	d->begin(f, s->id);
	write_verdict(s, d, f);
	report_fmt_time(s->first_ms, t0, sizeof(t0));
	report_fmt_dur(s->last_ms - s->first_ms, dur, sizeof(dur));
	snprintf(line, sizeof(line), "Started %s, %s in total over %d run(s).", t0, dur, s->runs);
	d->para(f, NULL, ESC_TEXT, line);
	d->section(f, NULL, "Downtime");
	downtime_line(s, line, sizeof(line));
	d->para(f, "downtime", ESC_TEXT, line);
	d->section(f, NULL, "Timeline");
	if (d->picture)
		d->picture(s, f);
	write_spans(s, 0, d, f);
	d->section(f, "waits", "Waits");
	write_spans(s, 1, d, f);
	write_list(s, LIST_UNMAPPED, d, f);
	write_list(s, LIST_LOST, d, f);
	write_list(s, LIST_ACTIVITY, d, f);
	if (freeze_line(s, line, sizeof(line))) {
		d->section(f, "freeze", "Write freeze");
		d->para(f, NULL, ESC_TEXT, line);
	}
	write_list(s, LIST_PARITY, d, f);
	write_frozen(s, d, f);
	if (tail_line(s, line, sizeof(line))) {
		d->section(f, "dns-tail", "DNS tail");
		d->para(f, NULL, ESC_TEXT, line);
	}
	d->section(f, "values", "Recorded values");
	d->para(f, NULL, ESC_TEXT, "What each step recorded (fail-back uses these).");
	d->table(f, "values", value_heads, 3);
	for (size_t i = 0; i < s->nvalues; i++) {
		char hv[40];
		const char *cells[] = { s->values[i].step, s->values[i].key,
			human_value(&s->values[i], hv, sizeof(hv)) };
		d->row(f, ESC_TEXT, cells, 3);
	}
	d->table_end(f);
	d->end(f);
}

void
report_write_markdown(const struct report_summary *s, FILE *f)
{
	report_write(s, &fmt_markdown, f);
}

void
report_write_html(const struct report_summary *s, FILE *f)
{
	report_write(s, &fmt_html, f);
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
