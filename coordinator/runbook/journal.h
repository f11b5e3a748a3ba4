/* runbook/journal.h: the append-only record of a cutover, in its state folder.
 *
 * <state>/journal.jsonl holds one JSON object per line, appended with one
 * write() and fsync'd before journal_append returns, so after a crash, a
 * Ctrl-C or a lost laptop connection the next run knows exactly where the
 * last one stood. A line cut short by a crash (the last one, without its
 * newline or not valid JSON) is ignored and cut off before the next append;
 * damage anywhere else is refused, never guessed at.
 *
 * Every line:  {"v":1,"t":"2026-11-25T10:02:03.123Z","ms":1795600923123,
 *               "pid":4242,"ev":"step-applied","step":"snapshot",
 *               "msg":"...","kv":{"snapshot":"cutover-production-blue-1"}}
 * ("step", "msg" and "kv" only when there is something to say; kv values
 * are strings). Events:
 *   journal-begin  first line; kv.id is the cutover's id
 *   names          the pinned struct run_names (kv)
 *   run-begin      kv.cmd, kv.pid, kv.until, kv.yes, kv.time_scale (a simulation),
 *                  kv.config and kv.state (absolute paths)
 *   preflight      msg = problems found (only when it failed)
 *   step-begin     a step starts (check/apply follow)
 *   step-record    kv = what fail-back needs, written BEFORE apply
 *   step-applied   the change was accepted (kv: ids it returned)
 *   wait-begin     msg = what is waited for
 *   wait-end       msg = final status
 *   step-done      kv = values known once it took effect
 *   step-skipped   msg = why (already done)
 *   step-failed    kv.code, msg = the error sentence
 *   downtime-begin / downtime-end   maintenance mode on / off (the report's window)
 *   run-end        kv.status = done | stopped | failed | until | refused
 *   note           anything else worth keeping (e.g. a torn line dropped)
 * A journal never holds secrets: keys that look like secrets are refused.
 *
 * The state folder also holds `lock`: flock'd while a run (not plan/status)
 * has the journal open, so two runs at once refuse.
 */
#ifndef CUTOVER_JOURNAL_H
#define CUTOVER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct journal;
struct json_object;

struct journal_kv {
	const char *key, *value;
};

struct journal_event {
	const char *ev;              /* required */
	const char *step;            /* or NULL */
	const char *msg;             /* or NULL */
	const struct journal_kv *kv; /* nkv pairs, or NULL */
	size_t nkv;
};

/* What the journal knows of one step after replay (flags are sticky across runs). */
struct journal_step {
	int begun, recorded, applied, done, failed;
	int downtime_begun, downtime_ended;  /* its downtime-begin / -end was written */
	int64_t last_ms;             /* time of its latest record */
};

/* Opens (creating the folder 0700 and the journal as needed, fsync'ing the
 * folder) and locks the state folder for command `cmd`, then replays it.
 * CUT_ESTATE with a sentence naming the other process when locked.
 * *out is allocated; release with journal_close(). */
int journal_open(const char *dir, const char *cmd, struct journal **out, struct cut_err *err);

/* Replays without locking or creating anything (plan, status, report).
 * CUT_ENOTFOUND when there is no journal yet. Appending is refused. */
int journal_open_readonly(const char *dir, struct journal **out, struct cut_err *err);

/* Releases the lock and frees; NULL is fine. */
void journal_close(struct journal *j);

/* Appends one line and fsyncs it; updates the replayed state. */
int journal_append(struct journal *j, const struct journal_event *ev, struct cut_err *err);

/* Replayed state of `step`; all zero if the journal never mentions it. */
struct journal_step journal_step_state(const struct journal *j, const char *step);

/* Latest value recorded for (step, key), owned by the journal and valid
 * until journal_close; NULL if none. step "@names" holds the pinned names. */
const char *journal_value(const struct journal *j, const char *step, const char *key);

const char *journal_id(const struct journal *j);       /* the cutover's id */
const char *journal_file(const struct journal *j);     /* path of journal.jsonl */
size_t journal_torn_bytes(const struct journal *j);    /* bytes of a torn last line dropped */
size_t journal_nrecords(const struct journal *j);

/* 1 if `key` looks like it names a secret (PASSWORD, SECRET, KEY, TOKEN,
 * any case, anywhere in it). */
int journal_key_is_secret(const char *key);

/* Calls fn for every complete record of the journal file at `path`, in
 * order (a torn last line is skipped). fn returns 0 to go on. The object is
 * owned by the reader and valid only during the call. */
typedef int (*journal_visit_fn)(void *arg, struct json_object *rec);
int journal_read(const char *path, journal_visit_fn fn, void *arg, struct cut_err *err);

/* Milliseconds since the epoch (the clock every record uses). */
int64_t journal_now_ms(void);

#endif
