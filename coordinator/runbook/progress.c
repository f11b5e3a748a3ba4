/* runbook/progress.c: see runbook/progress.h. */
#include "runbook/progress.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

void
progress_wait(struct progress *p, const char *step, const struct progress_sample *s)
{
	char raw[256], line[256], pct[16] = "", rate[32] = "", t[32];
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
		fprintf(p->f, "\r\033[K  %s %3lld:%02lld  %s", step ? step : "", (long long)el / 60,
		    (long long)el % 60, line);
		p->live = 1;
	} else {
		/* Logs get a line only when something changed. */
		if (strcmp(line, p->last_wait) == 0)
			return;
		snprintf(p->last_wait, sizeof(p->last_wait), "%s", line);
		stamp(t, sizeof(t));
		fprintf(p->f, "%s wait %s: %s (%llds)\n", t, step ? step : "", line, (long long)el);
	}
	fflush(p->f);
}

void
progress_wait_end(struct progress *p)
{
	if (p->mode == PROGRESS_TTY && p->live) {
		fputs("\r\033[K", p->f);
		fflush(p->f);
	}
	p->live = 0;
}

int
progress_is_json(const struct progress *p)
{
	return p->mode == PROGRESS_JSON;
}
