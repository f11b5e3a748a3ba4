/* world/real_manage.c: manage_run, a Django command run on one instance, at
 * most once per token through the agent's "once" operation when it has one
 * (see world/real.h). See world/real_int.h. */
#include "world/real_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- manage_run ------------------------------------------------------------------ */

struct manage_arg {
	const char *const *argv;
	const char *token;
	struct world_manage_result *out;
};

static int
looks_secret(const char *line)
{
	static const char *const words[] = { "PASSWORD", "SECRET", "TOKEN", "KEY=", "KEY:", "CREDENTIAL" };
	char up[512];
	size_t i;

	for (i = 0; line[i] != '\0' && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)line[i]);
	up[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(up, words[i]) != NULL)
			return 1;
	return 0;
}

/* The last non-empty line of s, secrets withheld. */
static void
summarise(const char *s, size_t n, char *out, size_t len)
{
	size_t end = n, start;

	while (end > 0 && isspace((unsigned char)s[end - 1]))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(out, len, "%.*s", (int)(end - start), s + start);
	if (looks_secret(out))
		snprintf(out, len, "(last output line withheld: it may hold a secret)");
}

static int
manage_fn(struct wr *x, const struct fleet_host *h, struct rexec_conn *c, struct alink *l, void *arg,
    struct cut_err *err)
{
	struct manage_arg *m = arg;
	struct outbuf o = { 0 };
	struct rexec_result res;
	int r;

	if (m->token != NULL) {
		/* At most once: the agent keeps the marker in the app's database. */
		struct aop_once once;

		if ((r = aop_once(l, &x->aconf, m->token, m->argv, x->cfg.app.dir, x->cfg.app.python,
		    MANAGE_TIMEOUT_MS, &once, err)) != 0)
			return r;
		m->out->exit_status = once.exit_status;
		m->out->recorded = strcmp(once.state, "recorded") == 0;
		if (m->out->recorded)
			snprintf(m->out->summary, sizeof(m->out->summary), "%.300s (ran on %.64s, pid %lld, %.32s to %.32s)",
			    once.summary, once.host, once.pid, once.started_at, once.finished_at);
		else
			snprintf(m->out->summary, sizeof(m->out->summary), "%s", once.summary);
		return 0;
	}
	struct rexec_request req = {
		.kind = REXEC_MANAGE, .argv = m->argv,
		.app_dir = x->cfg.app.dir, .env_file = x->cfg.app.env_file, .python = x->cfg.app.python,
		.timeout_ms = MANAGE_TIMEOUT_MS,
	};
	struct rexec_io io = { wr_collect_out, &o, -1, NULL };
	r = rexec_run(c, &req, &io, &res, err);
	if (r != 0)
		goto out;
	if (res.error[0] != '\0') {
		r = cut_err_set(err, CUT_EIO, "manage.py %s could not start on %s: %s.", m->argv[0], h->label,
		    res.error);
		goto out;
	}
	m->out->exit_status = res.signal > 0 ? -1 : res.status;
	summarise(o.p ? o.p : "", o.n, m->out->summary, sizeof(m->out->summary));
out:
	free(o.p);
	return r;
}

int
wr_manage_run(struct world_ops *w, const char *env, const char *const *argv, const char *token,
    struct world_manage_result *out, struct cut_err *err)
{
	struct manage_arg m = { argv, token, out };

	memset(out, 0, sizeof(*out));
	out->exit_status = -1;
	return wr_with_hosts(impl(w), env, 0, manage_fn, &m, err);
}
