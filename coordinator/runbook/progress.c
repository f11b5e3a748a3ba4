/* runbook/progress.c: see runbook/progress.h. */
#include "runbook/progress.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "runbook/journal.h"
#include "base/sfile.h"

struct progress {
	FILE *f;
	enum progress_mode mode;
	int64_t start_ms;
	int live;              /* a live line is on screen (TTY) */
	char last_wait[256];   /* last plain wait line, to print only changes */
};

enum progress_mode
progress_mode_for(FILE *f, int json)
{
	if (json)
		return PROGRESS_JSON;
	return isatty(fileno(f)) ? PROGRESS_TTY : PROGRESS_PLAIN;
}

struct progress *
progress_new(FILE *f, enum progress_mode mode)
{
	struct progress *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->f = f;
	p->mode = mode;
	p->start_ms = journal_now_ms();
	return p;
}

void
progress_free(struct progress *p)
{
	if (p != NULL && p->live)
		progress_wait_end(p);
	free(p);
}

static void
stamp(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
emit_json(struct progress *p, const char *event, const char *step, const char *msg,
    const struct progress_sample *s)
{
	struct json_object *o = json_object_new_object();
	char t[32];

	stamp(t, sizeof(t));
	json_object_object_add(o, "t", json_object_new_string(t));
	json_object_object_add(o, "event", json_object_new_string(event));
	if (step)
		json_object_object_add(o, "step", json_object_new_string(step));
	if (msg)
		json_object_object_add(o, "msg", json_object_new_string(msg));
	if (s) {
		json_object_object_add(o, "what", json_object_new_string(s->what ? s->what : ""));
		json_object_object_add(o, "status", json_object_new_string(s->status ? s->status : ""));
		if (s->percent >= 0)
			json_object_object_add(o, "percent", json_object_new_int(s->percent));
		if (s->rate >= 0)
			json_object_object_add(o, "rate", json_object_new_double(s->rate));
		json_object_object_add(o, "elapsed_ms", json_object_new_int64(s->elapsed_ms));
		if (s->expected_ms > 0)
			json_object_object_add(o, "expected_ms", json_object_new_int64(s->expected_ms));
	}
	fprintf(p->f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(p->f);
	json_object_put(o);
}

void
progress_event_obj(struct progress *p, const char *event, const char *msg, const char *key,
    struct json_object *val)
{
	struct json_object *o;
	char t[32];

	if (p->mode != PROGRESS_JSON || val == NULL) {
		json_object_put(val);
		progress_event(p, event, NULL, "%s", msg);
		return;
	}
	p->last_wait[0] = '\0';
	o = json_object_new_object();
	stamp(t, sizeof(t));
	json_object_object_add(o, "t", json_object_new_string(t));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	json_object_object_add(o, key, val);
	fprintf(p->f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(p->f);
	json_object_put(o);
}

void
progress_event(struct progress *p, const char *event, const char *step, const char *fmt, ...)
{
	char raw[2048], msg[2048], t[32];
	va_list ap;
	int64_t el;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Messages carry text from AWS and the databases: no control
	 * character of theirs reaches the terminal or the log. */
	sfile_term_clean(msg, sizeof(msg), raw);
	p->last_wait[0] = '\0';
	switch (p->mode) {
	case PROGRESS_JSON:
		emit_json(p, event, step, msg, NULL);
		return;
	case PROGRESS_TTY:
		if (p->live)
			progress_wait_end(p);
		el = (journal_now_ms() - p->start_ms) / 1000;
		fprintf(p->f, "[%3lld:%02lld] %-9s %s%s%s\n", (long long)el / 60, (long long)el % 60,
		    event, step ? step : "", step ? ": " : "", msg);
		break;
	case PROGRESS_PLAIN:
		stamp(t, sizeof(t));
		fprintf(p->f, "%s %s %s%s%s\n", t, event, step ? step : "", step ? ": " : "", msg);
		break;
	}
	fflush(p->f);
}

/* "  ~1:30 left, ends about 14:05" / "  past the expected 2:00"; "" when
 * nothing is expected. */
static void
expectation(const struct progress_sample *s, char *buf, size_t len)
{
	int64_t left = (s->expected_ms - s->elapsed_ms + 999) / 1000, exp = s->expected_ms / 1000;
	time_t end;
	struct tm tm;
	char hm[16] = "";

	buf[0] = '\0';
	if (s->expected_ms <= 0)
		return;
	if (left <= 0) {
		snprintf(buf, len, "  past the expected %lld:%02lld", (long long)exp / 60,
		    (long long)exp % 60);
		return;
	}
	end = time(NULL) + (time_t)left;
	if (localtime_r(&end, &tm) != NULL)
		strftime(hm, sizeof(hm), "%H:%M", &tm);
	snprintf(buf, len, "  ~%lld:%02lld left%s%s", (long long)left / 60, (long long)left % 60,
	    hm[0] ? ", ends about " : "", hm);
}

/* Columns of the terminal f is; 80 when it cannot tell. */
static size_t
term_columns(FILE *f)
{
	struct winsize ws;

	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Cuts buf to fit in cols - 1 columns (bytes: at most as many columns),
 * never inside a UTF-8 sequence: a wrapped line could not be rewritten in
 * place, since \r goes back to the start of its last row only. */
static void
fit(char *buf, size_t cols)
{
	size_t n = strlen(buf), max = cols > 1 ? cols - 1 : 1;

	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)buf[max] & 0xC0) == 0x80)
		max--;
	buf[max] = '\0';
}

void
progress_wait(struct progress *p, const char *step, const struct progress_sample *s)
{
	char raw[256], line[256], pct[16] = "", rate[32] = "", t[32], exp[64];
	int64_t el = s->elapsed_ms / 1000;

	if (p->mode == PROGRESS_JSON) {
		emit_json(p, "wait", step, NULL, s);
		return;
	}
	if (s->percent >= 0)
		snprintf(pct, sizeof(pct), " %d%%", s->percent);
	if (s->rate >= 0)
		snprintf(rate, sizeof(rate), " %.1f req/s", s->rate);
	snprintf(raw, sizeof(raw), "%s: %s%s%s", s->what ? s->what : "", s->status ? s->status : "",
	    pct, rate);
	sfile_term_clean(line, sizeof(line), raw);
	if (p->mode == PROGRESS_TTY) {
		char full[512];
		expectation(s, exp, sizeof(exp));
		snprintf(full, sizeof(full), "  %s %3lld:%02lld  %s%s", step ? step : "",
		    (long long)el / 60, (long long)el % 60, line, exp);
		fit(full, term_columns(p->f));
		fprintf(p->f, "\r\033[K%s", full);
		p->live = 1;
	} else {
		/* Logs get a line only when something changed. */
		if (strcmp(line, p->last_wait) == 0)
			return;
		snprintf(p->last_wait, sizeof(p->last_wait), "%s", line);
		stamp(t, sizeof(t));
		if (s->expected_ms > 0)
			fprintf(p->f, "%s wait %s: %s (%llds, about %llds expected)\n", t,
			    step ? step : "", line, (long long)el, (long long)(s->expected_ms / 1000));
		else
			fprintf(p->f, "%s wait %s: %s (%llds)\n", t, step ? step : "", line,
			    (long long)el);
	}
	fflush(p->f);
}

void
progress_wait_end(struct progress *p)
{
	/* The wait's line stays as it last was: the operator sees how each
	 * wait ended and how long it took. */
	if (p->mode == PROGRESS_TTY && p->live) {
		fputc('\n', p->f);
		fflush(p->f);
	}
	p->live = 0;
}

int
progress_is_json(const struct progress *p)
{
	return p->mode == PROGRESS_JSON;
}
