/* enginerun.c: see enginerun.h. */
#include "enginerun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runbook/journal.h"
#include "runbook/progress.h"
#include "runbook/tables.h"

void
enginerun_init(struct enginerun *h, int with_new_envs)
{
	enginerun_init_method(h, with_new_envs, NULL);
}

void
enginerun_init_method(struct enginerun *h, int with_new_envs, const char *method)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->top, sizeof(h->top), "/tmp/cutover-et.XXXXXX");
	if (mkdtemp(h->top) == NULL)
		abort();
	snprintf(h->dir, sizeof(h->dir), "%s/state", h->top);
	h->w = fakeworld_new(&h->fw);
	fakeworld_cobalt(h->fw, &h->names, 0);
	if (method)
		snprintf(h->names.db_method, sizeof(h->names.db_method), "%s", method);
	h->opts.yes = 1;
	h->opts.confirm_fd = -1;
	h->opts.poll_ms = 0;
	h->opts.wait_timeout_s = 60;
	if (with_new_envs) {
		/* The world after `cutover prep`, made by prep itself. */
		struct cut_err err;
		struct world_var v = { "MP_USE_DJANGO", "NO", 1 };
		if (enginerun_cmd(h, "prep", &err) != 0) {
			fprintf(stderr, "prep failed: %s\n", err.msg);
			abort();
		}
		/* Cobalt counts "NO" as on: the run must remove it. */
		if (h->w->env_update_vars(h->w, h->names.new_web, &v, 1, NULL, 0, &err) != 0)
			abort();
		fakeworld_settle(h->fw);
		fakeworld_reset_counters(h->fw);
	}
}

int
enginerun_cmd(struct enginerun *h, const char *cmd, struct cut_err *err)
{
	const struct runbook *rb = runbook_find(cmd);
	struct run_ctx ctx;
	struct journal *j = NULL;
	FILE *f;
	int r;

	free(h->out);
	h->out = NULL;
	h->outlen = 0;
	if (rb == NULL)
		abort();
	cut_err_clear(err);
	if (h->opts.dry_run) {
		/* a dry run reads the journal if there is one, and creates nothing */
		if (journal_open_readonly(h->dir, &j, err) != 0)
			j = NULL;
		cut_err_clear(err);
	} else if ((r = journal_open(h->dir, cmd, &j, err)) != 0) {
		return r;
	}
	if ((f = open_memstream(&h->out, &h->outlen)) == NULL)
		abort();
	memset(&ctx, 0, sizeof(ctx));
	ctx.journal = j;
	ctx.out = progress_new(f, h->json ? PROGRESS_JSON : PROGRESS_PLAIN);
	ctx.world = h->w;
	ctx.names = h->names;
	ctx.opts = h->opts;
	ctx.state_dir = h->dir;
	ctx.crash_at = h->crash_at;
	ctx.clock = h->clock;
	r = engine_run(&ctx, rb, err);
	progress_free(ctx.out);
	fclose(f);
	journal_close(j);
	return r;
}

int
enginerun_fork(struct enginerun *h, const char *cmd)
{
	struct cut_err err;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int r = enginerun_cmd(h, cmd, &err);
		_exit(r == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		abort();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *
enginerun_journal(struct enginerun *h)
{
	char p[512], *buf;
	FILE *f;
	long n;

	snprintf(p, sizeof(p), "%s/journal.jsonl", h->dir);
	if ((f = fopen(p, "r")) == NULL)
		return calloc(1, 1);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	return buf;
}

void
enginerun_done(struct enginerun *h)
{
	char cmd[300];

	fakeworld_free(h->w);
	free(h->out);
	h->out = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->top);
	if (system(cmd) != 0)
		abort();
}
