/* runbook/verdict.h: the report's first words, from the journal alone (a
 * struct report_summary): whether the cutover succeeded, stopped (at which
 * step, with the failed step's own sentence) or failed back; where the
 * site points now; the downtime window; the data-safety results one line
 * each; and the command to run next, with the configuration file and
 * state folder the run used. report.md, report.html and `cutover report`
 * all show these same lines. */
#ifndef CUTOVER_VERDICT_H
#define CUTOVER_VERDICT_H

#include <stddef.h>
#include <stdio.h>

#include "runbook/report.h"

enum verdict_kind {
	VERDICT_NONE,           /* nothing ran yet */
	VERDICT_SUCCEEDED,      /* `cutover run` finished */
	VERDICT_TIDIED,         /* ... and `cutover tidy` too */
	VERDICT_STOPPED,        /* the latest command stopped before its end */
	VERDICT_FAILED_BACK,    /* `cutover failback` finished */
	VERDICT_PREPARED,       /* only `cutover prep` finished */
	VERDICT_REHEARSED,      /* `cutover rehearse` finished */
};

#define VERDICT_MAX_LINES 12
#define VERDICT_MAX_NEXT 2

struct verdict_line {
	char label[32];         /* "Site", "Window", "Lost writes", ... */
	char text[2400];        /* one or a few sentences */
};

struct verdict_next {
	char when[256];         /* "When the site is right", "To go back" */
	char cmd[2400];         /* the command line, paths shell-quoted */
};

struct verdict {
	enum verdict_kind kind;
	char word[32];          /* "Succeeded", "Stopped", "Failed back", ... */
	char headline[1600];    /* the verdict in one or two sentences */
	struct verdict_line lines[VERDICT_MAX_LINES];
	size_t nlines;
	struct verdict_next next[VERDICT_MAX_NEXT];
	size_t nnext;
	char next_note[512];    /* said with (or instead of) the commands; "" when none */
};

/* Fills *v from the summary; never fails (what the journal does not say
 * is left out or said to be unknown). */
void verdict_build(const struct report_summary *s, struct verdict *v);

/* The verdict as plain lines for a terminal ("Verdict: ...", "Site: ...",
 * "Next: ..." with each command indented on its own line). */
void verdict_write_text(const struct verdict *v, FILE *f);

#endif
