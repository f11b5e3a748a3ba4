/* runbook/verdict.c: see runbook/verdict.h. */
#include "runbook/verdict.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/sfile.h"
#include "runbook/tables.h"

static void
vput(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (vsnprintf(buf, len, fmt, ap) < 0 && len > 0)
		buf[0] = '\0';
}

static void __attribute__((format(printf, 3, 4)))
put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(buf, len, fmt, ap);
	va_end(ap);
}

/* Appends to what buf already holds. */
static void __attribute__((format(printf, 3, 4)))
cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vput(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
line(struct verdict *v, const char *label, const char *fmt, ...)
{
	struct verdict_line *l;
	va_list ap;

	if (v->nlines == VERDICT_MAX_LINES)
		return;
	l = &v->lines[v->nlines++];
	put(l->label, sizeof(l->label), "%s", label);
	va_start(ap, fmt);
	vput(l->text, sizeof(l->text), fmt, ap);
	va_end(ap);
}

/* A word for the shell: as is when it holds nothing the shell reads,
 * else in single quotes. */
static void
shq(char *buf, size_t len, const char *w)
{
	size_t n = 0;

	if (w[0] != '\0' && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_/.,:@%+=-") == strlen(w)) {
		put(buf, len, "%s", w);
		return;
	}
	if (len < 3) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	buf[n++] = '\'';
	for (; *w && n + 6 < len; w++) {
		if (*w == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else
			buf[n++] = *w;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}

static void
next(struct verdict *v, const struct report_summary *s, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* `cutover CMD -c CONFIG --state STATE`, with the paths the latest run used. */
static void
next(struct verdict *v, const struct report_summary *s, const char *cmd, const char *fmt, ...)
{
	struct verdict_next *n;
	char c[1100], st[1100];
	va_list ap;

	if (v->nnext == VERDICT_MAX_NEXT)
		return;
	n = &v->next[v->nnext++];
	va_start(ap, fmt);
	vput(n->when, sizeof(n->when), fmt, ap);
	va_end(ap);
	if (s->last.config[0])
		shq(c, sizeof(c), s->last.config);
	else
		put(c, sizeof(c), "FILE");
	if (s->last.state[0])
		shq(st, sizeof(st), s->last.state);
	else
		put(st, sizeof(st), "DIR");
	put(n->cmd, sizeof(n->cmd), "cutover %s -c %s --state %s", cmd, c, st);
}

/* A DNS name as people write it: without the root's dot. */
static void
host(char *buf, size_t len, const char *name, const char *dflt)
{
	size_t n = strlen(name);

	if (n == 0) {
		put(buf, len, "%s", dflt);
		return;
	}
	if (name[n - 1] == '.')
		n--;
	put(buf, len, "%.*s", (int)n, name);
}

static const char *
either(const char *a, const char *b)
{
	return a && a[0] ? a : b;
}

static long
num(const struct report_summary *s, const char *step, const char *key, long dflt)
{
	const char *v = report_value(s, step, key);
	char *end;
	long n;

	if (v == NULL || v[0] == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : dflt;
}

static void
headline(const struct report_summary *s, struct verdict *v)
{
	const struct report_run *r = &s->last;
	const char *newe = either(s->new_web, "the new environment");
	const char *olde = either(s->live_web, "the old environment");
	const char *step = r->failed_step[0] ? r->failed_step : r->step;

	if (r->cmd[0] == '\0') {
		v->kind = VERDICT_NONE;
		put(v->word, sizeof(v->word), "Not started");
		put(v->headline, sizeof(v->headline), "No command of this cutover has run yet.");
		return;
	}
	if (strcmp(r->status, "done") != 0) {
		char where[96];

		if (step[0])
			put(where, sizeof(where), "at step %s", step);
		else
			put(where, sizeof(where), "before its first step");
		v->kind = VERDICT_STOPPED;
		put(v->word, sizeof(v->word), "Stopped");
		if (strcmp(r->status, "until") == 0)
			put(v->headline, sizeof(v->headline), "Stopped after step %s of `cutover %s`, as "
			    "asked (--until).", step, r->cmd);
		else if (r->status[0] == '\0')
			put(v->headline, sizeof(v->headline), "Stopped %s of `cutover %s`: the run ended "
			    "without a word (killed, crashed or its machine lost); the journal holds what "
			    "it did.", where, r->cmd);
		else
			put(v->headline, sizeof(v->headline), "Stopped %s of `cutover %s`: %s", where,
			    r->cmd, either(r->why, "the journal does not say why."));
		return;
	}
	if (strcmp(r->cmd, "run") == 0) {
		v->kind = VERDICT_SUCCEEDED;
		put(v->word, sizeof(v->word), "Succeeded");
		put(v->headline, sizeof(v->headline), "Succeeded: every step of `cutover run` is done "
		    "and the site runs on %s%s%s.", newe, s->new_db[0] ? " with the database " : "",
		    s->new_db);
	} else if (strcmp(r->cmd, "tidy") == 0) {
		v->kind = VERDICT_TIDIED;
		put(v->word, sizeof(v->word), "Succeeded");
		put(v->headline, sizeof(v->headline), "Succeeded and tidied: the site runs on %s; "
		    "the old environments and database are gone (a final snapshot was kept).", newe);
	} else if (strcmp(r->cmd, "failback") == 0) {
		v->kind = VERDICT_FAILED_BACK;
		put(v->word, sizeof(v->word), "Failed back");
		put(v->headline, sizeof(v->headline), "Failed back: every step of `cutover failback` "
		    "is done and the site runs on the old system again (%s%s%s).", olde,
		    s->live_db[0] ? ", database " : "", s->live_db);
	} else if (strcmp(r->cmd, "prep") == 0) {
		v->kind = VERDICT_PREPARED;
		put(v->word, sizeof(v->word), "Prepared");
		put(v->headline, sizeof(v->headline), "Prepared, not cut over: %s waits in "
		    "maintenance mode and the site still runs on %s.", newe, olde);
	} else {
		v->kind = VERDICT_REHEARSED;
		put(v->word, sizeof(v->word), "Rehearsed");
		put(v->headline, sizeof(v->headline), "Rehearsal done: every step of `cutover %s` "
		    "is done on %s; production was not touched.", r->cmd,
		    either(s->test_env, "the test environment"));
	}
}

static void
site(const struct report_summary *s, struct verdict *v)
{
	char apex[260], www[260], both[600], since[64] = "";
	const char *newe = either(s->new_web, "the new environment");
	const char *olde = either(s->live_web, "the old environment");
	long at = num(s, "dns-switch", "changed_at", 0);

	host(apex, sizeof(apex), s->apex, "the site");
	host(www, sizeof(www), s->www, "");
	int one = www[0] == '\0';

	if (one)
		put(both, sizeof(both), "%s points", apex);
	else
		put(both, sizeof(both), "%s and %s point", apex, www);
	if (at > 0) {
		char t[40];
		report_fmt_time((int64_t)at * 1000, t, sizeof(t));
		put(since, sizeof(since), " since %s", t);
	}
	switch (s->dns) {
	case REPORT_DNS_UNCHANGED:
		if (s->last.cmd[0] == '\0')
			line(v, "Site", "%s to %s; nothing has changed.", both, olde);
		else
			line(v, "Site", "%s to %s, as before: this cutover has not changed DNS.", both,
			    olde);
		break;
	case REPORT_DNS_MOVING:
		line(v, "Site", "%s%s%s %s being moved to %s when the run stopped, and the change "
		    "was not confirmed: `cutover status` reads where DNS points now.", apex,
		    one ? "" : " and ", www, one ? "was" : "were", newe);
		break;
	case REPORT_DNS_NEW:
		line(v, "Site", "%s to %s (the new environment)%s.", both, newe, since);
		break;
	case REPORT_DNS_BACKING:
		line(v, "Site", "%s%s%s %s being moved back to %s when fail-back stopped, and the "
		    "change was not confirmed: `cutover status` reads where DNS points now.", apex,
		    one ? "" : " and ", www, one ? "was" : "were", olde);
		break;
	case REPORT_DNS_BACK:
		line(v, "Site", "%s to %s (the old environment) again, since fail-back.", both, olde);
		break;
	}
}

/* The people whose blocked email was not restored, by system number and
 * email, the first few; the report lists them all below. */
static void
unmapped_names(const struct report_summary *s, char *buf, size_t len)
{
	const struct report_list *l = &s->unmapped;
	size_t i, show = l->rows.nrows < 5 ? l->rows.nrows : 5;

	buf[0] = '\0';
	for (i = 0; i < show && l->rows.ncols >= 2; i++)
		cat(buf, len, "%s%s (system number %s)", i ? ", " : "",
		    rowlist_cell(&l->rows, i, 0), rowlist_cell(&l->rows, i, 1));
	if (l->count > (long)show && show > 0)
		cat(buf, len, " and %ld more", l->count - (long)show);
}

static void
safety(const struct report_summary *s, struct verdict *v)
{
	const char *at = report_value(s, "freeze", "at");
	long added = num(s, "blocked-email-restore", "added", -1);

	if (s->lost.present) {
		if (s->lost.count == 0)
			line(v, "Lost writes", "0: nothing was written to the old database after the "
			    "snapshot.");
		else
			line(v, "Lost writes", "%ld row(s) written to the old database after the "
			    "snapshot are not on the new system; they are listed below (Lost writes): "
			    "enter them again there.", s->lost.count);
	}
	if (added >= 0) {
		long present = num(s, "blocked-email-restore", "present", 0);
		long unmapped = num(s, "blocked-email-restore", "unmapped", 0);
		long restored = added + present;
		char names[1800];

		if (unmapped == 0)
			line(v, "Blocked emails", "%ld of %ld restored on the new system.", restored,
			    restored);
		else {
			unmapped_names(s, names, sizeof(names));
			line(v, "Blocked emails", "%ld of %ld restored; %ld NOT restored (no user with "
			    "their system number): %s.", restored, restored + unmapped, unmapped,
			    names[0] ? names : "see the list below");
		}
	}
	if (report_value(s, "convert-users", "unregistered_before") != NULL) {
		long before = num(s, "convert-users", "unregistered_before", -1);
		long after = num(s, "convert-users", "unregistered_after", -1);

		if (before >= 0 && after >= 0)
			line(v, "Users converted", "%ld (unregistered users on the new system: %ld "
			    "before, %ld after).", before - after, before, after);
		else
			line(v, "Users converted", "the conversion ran; the count of unregistered users "
			    "could not be read.");
	}
	if (report_value(s, "smoke-test", "passed") != NULL) {
		long ok = num(s, "smoke-test", "passed", 0), bad = num(s, "smoke-test", "failed", 0);

		line(v, "Smoke checks", "%ld of %ld passed%s", ok, ok + bad,
		    bad ? " (see the failed step above)." : ".");
	}
	if (report_value(s, "parity", "compared") != NULL) {
		long n = num(s, "parity", "compared", 0), d = s->parity.count;
		char t[1800] = "";
		size_t i;

		size_t skipped = 0;

		for (i = 0; s->frozen.rows.ncols >= 1 && i < s->frozen.rows.nrows; i++)
			for (const struct parity_skip *k = parity_skips; k->table; k++)
				if (strcmp(k->table, rowlist_cell(&s->frozen.rows, i, 0)) == 0)
					skipped++;
		if (skipped > 0)
			put(t, sizeof(t), "; %zu more left out by design (see Parity per table)", skipped);
		if (d == 0)
			line(v, "Parity", "%ld of %ld compared table(s) equal: each has the row count and "
			    "highest id of the frozen live database%s.", n, n, t);
		else {
			t[0] = '\0';
			for (i = 0; i < s->parity.rows.nrows && i < 6 && s->parity.rows.ncols >= 6; i++)
				cat(t, sizeof(t), "%s%s (%s)", i ? "; " : "",
				    rowlist_cell(&s->parity.rows, i, 0), rowlist_cell(&s->parity.rows, i, 5));
			line(v, "Parity", "%ld table(s) differ, so DNS was not moved%s%s; all are listed "
			    "below.", d, t[0] ? ": " : "", t);
		}
	}
	if (at != NULL) {
		const char *after = report_value(s, "parity", "after_freeze");
		char at_h[40];

		at = report_fmt_iso(at, at_h, sizeof(at_h));

		if (after == NULL)
			line(v, "Write freeze", "the live database refused writes from %s; not yet "
			    "checked (the run stopped before parity).", at);
		else if (strcmp(after, "0") == 0)
			line(v, "Write freeze", "the live database refused writes from %s, and no write "
			    "landed after it (checked just before the DNS switch).", at);
		else
			line(v, "Write freeze", "the live database refused writes from %s, but %s "
			    "table(s) changed after it: the snapshot does not hold those writes.", at,
			    after);
	}
	if (s->activity.present)
		line(v, "New-system activity", "%ld entr%s and %ld payment(s) were made on the new "
		    "system after the switch%s", s->activity.count, s->activity.count == 1 ? "y" : "ies",
		    s->activity.payments, s->activity.count + s->activity.payments ?
		    "; they are listed below: enter them again on the old system." : ".");
}

static void
what_next(const struct report_summary *s, struct verdict *v)
{
	const struct report_run *r = &s->last;
	const char *step = r->failed_step[0] ? r->failed_step : r->step;

	switch (v->kind) {
	case VERDICT_NONE:
		next(v, s, "prep", "To begin (new environments, in maintenance mode)");
		break;
	case VERDICT_PREPARED:
		next(v, s, "run", "When the window starts");
		break;
	case VERDICT_SUCCEEDED:
		put(v->next_note, sizeof(v->next_note), "Check the site first.");
		next(v, s, "tidy", "When the site is right (deletes the old environments, and the old "
		    "database after a final snapshot)");
		next(v, s, "failback", "To go back to the old system instead");
		break;
	case VERDICT_TIDIED:
		put(v->next_note, sizeof(v->next_note), "Nothing: the cutover is finished.");
		break;
	case VERDICT_FAILED_BACK:
		put(v->next_note, sizeof(v->next_note), "Nothing more to run: the old system is live%s",
		    s->activity.count + s->activity.payments > 0 ? "; enter on it what the activity "
		    "list below names." : ".");
		break;
	case VERDICT_REHEARSED:
		put(v->next_note, sizeof(v->next_note), "Nothing more for the rehearsal; the cutover "
		    "itself is `cutover prep`, then `cutover run`.");
		break;
	case VERDICT_STOPPED:
		if (strcmp(r->status, "until") == 0)
			next(v, s, r->cmd, "To go on after %s", either(step, "the last step"));
		else
			next(v, s, r->cmd, "Once the cause is fixed, to resume at %s (steps done are "
			    "skipped)", either(step, "the first step not done"));
		if (strcmp(r->cmd, "run") == 0)
			next(v, s, "failback", "Or, to go back to the old system");
		break;
	}
}

void
verdict_build(const struct report_summary *s, struct verdict *v)
{
	char w[1200];

	memset(v, 0, sizeof(*v));
	headline(s, v);
	if (s->last.cmd[0] != '\0' && strcmp(s->last.cmd, "rehearse") != 0)
		site(s, v);
	/* A run that never reached maintenance mode had no window: say so. */
	if (s->has_downtime || s->run_done || strcmp(s->last.cmd, "run") == 0) {
		report_window_line(s, w, sizeof(w));
		line(v, "Window", "%s", w);
	}
	safety(s, v);
	/* Done is not the same as nothing left to do: say so in the verdict. */
	if ((v->kind == VERDICT_SUCCEEDED || v->kind == VERDICT_TIDIED) &&
	    (s->unmapped.count > 0 || s->lost.count > 0)) {
		cat(v->headline, sizeof(v->headline), " To act on:");
		if (s->unmapped.count > 0)
			cat(v->headline, sizeof(v->headline), " %ld blocked email(s) not restored%s",
			    s->unmapped.count, s->lost.count > 0 ? ";" : ".");
		if (s->lost.count > 0)
			cat(v->headline, sizeof(v->headline), " %ld lost write(s) to enter again.",
			    s->lost.count);
	}
	if (s->refused.cmd[0] != '\0')
		line(v, "Refused", "a later `cutover %s` was refused before it changed anything: %s",
		    s->refused.cmd, either(s->refused.why, "the journal does not say why."));
	what_next(s, v);
}

void
verdict_write_text(const struct verdict *v, FILE *f)
{
	size_t i;

	/* Journal text (a failed step's sentence, people's emails) is shown
	 * with control characters as visible escapes. */
	fputs("Verdict: ", f);
	sfile_term_str(f, v->headline);
	fputs("\n", f);
	for (i = 0; i < v->nlines; i++) {
		fprintf(f, "%s: ", v->lines[i].label);
		sfile_term_str(f, v->lines[i].text);
		fputs("\n", f);
	}
	fprintf(f, "Next:%s%s\n", v->next_note[0] ? " " : "", v->next_note);
	for (i = 0; i < v->nnext; i++) {
		fprintf(f, "  %s:\n    ", v->next[i].when);
		sfile_term_str(f, v->next[i].cmd);
		fputs("\n", f);
	}
}
