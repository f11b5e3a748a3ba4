/* runbook/progress.h: what the operator sees while the runbook runs.
 *
 * Three renderings of the same events: on a terminal a live status line
 * per wait (step, elapsed, AWS status, snapshot percent, request rate, time
 * left) under the finished steps; otherwise plain timestamped lines (logs, CI); with --json
 * one JSON object per line (machines). Nothing printed here comes from a
 * secret: steps only pass names, statuses, counts and the rows they list
 * for the operator (progress makes them printable: sfile_term_str).
 */
#ifndef CUTOVER_PROGRESS_H
#define CUTOVER_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

enum progress_mode {
	PROGRESS_PLAIN = 0,
	PROGRESS_TTY,
	PROGRESS_JSON,
};

struct progress;

/* The mode for stream f: JSON if json, else TTY if f is a terminal, else plain. */
enum progress_mode progress_mode_for(FILE *f, int json);

/* f is borrowed (not closed). Returns NULL when out of memory; the caller
 * frees with progress_free(). */
struct progress *progress_new(FILE *f, enum progress_mode mode);
void progress_free(struct progress *p);

/* One event: `event` is a short word ("begin", "done", "skip", "fail",
 * "plan", "info", "stop", "preflight"), step may be NULL. */
void progress_event(struct progress *p, const char *event, const char *step,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One event with msg and, in JSON mode, a member `key` holding val (taken:
 * freed here); other modes print msg alone. */
struct json_object;
void progress_event_obj(struct progress *p, const char *event, const char *msg,
    const char *key, struct json_object *val);

/* A sample of a wait. percent < 0 and rate < 0 mean "not known". */
struct progress_sample {
	const char *what;     /* "snapshot production-blue" */
	const char *status;   /* AWS status word or other state */
	int percent;
	double rate;          /* requests per second (quiet period) */
	int64_t elapsed_ms;   /* since the wait began */
	int64_t expected_ms;  /* how long the wait is expected to take from its
			       * beginning (percent so far, a rehearsal, the
			       * documented figure); 0 when there is no
			       * expectation */
};
/* On a terminal each wait has ONE line, rewritten in place (\r, erase
 * line) at every sample: what, status, percent, elapsed and, when expected,
 * the time left and the clock time it should end; the line stays, in its
 * last state, when the wait ends. Plain output gets a line only when what
 * is shown changed; JSON a "wait" event per sample. */
void progress_wait(struct progress *p, const char *step, const struct progress_sample *s);

/* 1 when events go out as JSON (errors then go there too, not to stderr). */
int progress_is_json(const struct progress *p);

/* Ends a live wait line: it stays on screen as it last was, and the next
 * event starts on a line of its own. */
void progress_wait_end(struct progress *p);

#endif
