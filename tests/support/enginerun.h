/* enginerun.h: runs a runbook command against the fake world the way the
 * cmd_*.c files will (journal open and locked, progress to a buffer), for
 * the engine and report unit tests. */
#ifndef CUTOVER_TEST_ENGINERUN_H
#define CUTOVER_TEST_ENGINERUN_H

#include "runbook/engine.h"
#include "fakeworld.h"
#include "runbook/step.h"

struct enginerun {
	char dir[300];            /* the state folder (under a mkdtemp dir) */
	char top[256];            /* the mkdtemp dir, removed by enginerun_done */
	struct world_ops *w;
	struct fakeworld *fw;
	struct run_names names;
	struct run_opts opts;     /* defaults: yes, poll_ms 0 */
	const char *crash_at;
	const struct run_clock *clock; /* NULL: the real clock */
	char *out;                /* everything printed by the last run (malloc'd) */
	size_t outlen;
	int json;
};

/* A fresh world and state folder; with_new_envs: after `cutover prep` ran
 * in that folder (counters reset). */
void enginerun_init(struct enginerun *h, int with_new_envs);
/* The same with [database] method = `method` ("replica"; NULL: snapshot). */
void enginerun_init_method(struct enginerun *h, int with_new_envs, const char *method);
/* Runs `cmd` (prep, run, failback, tidy, rehearse); returns engine_run's code
 * (or journal_open's). err gets the sentence. */
int enginerun_cmd(struct enginerun *h, const char *cmd, struct cut_err *err);
/* Same, in a forked child with h->crash_at set; returns the child's exit
 * status (137 when it crashed at the point). */
int enginerun_fork(struct enginerun *h, const char *cmd);
void enginerun_done(struct enginerun *h);

/* The journal file's text (malloc'd, caller frees). */
char *enginerun_journal(struct enginerun *h);

#endif
