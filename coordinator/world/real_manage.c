/* world/real_manage.c: manage_run, the Django command run at most once,
 * and the wrapper that makes it so (see world/real.h). See world/real_int.h. */
#include "world/real_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- manage_run ------------------------------------------------------------------ */

const char world_real_once_sh[] =
"#!/bin/sh\n"
"# cutover-once: PYTHON manage.py ARGS at most once per token. Written by\n"
"# cutover (coordinator/world_real.c); $CUTOVER_ONCE is the token's marker\n"
"# prefix, $CUTOVER_PY the interpreter (a glob, relative to the app folder,\n"
"# or a bare name looked up in PATH).\n"
"m=$CUTOVER_ONCE\n"
"if mkdir \"$m.lock\" 2>/dev/null; then\n"
"\tpy=\n"
"\tcase $CUTOVER_PY in\n"
"\t*/*) for p in $CUTOVER_PY; do if [ -x \"$p\" ]; then py=$p; break; fi; done ;;\n"
"\t*) py=$(command -v \"$CUTOVER_PY\") ;;\n"
"\tesac\n"
"\tif [ -z \"$py\" ]; then\n"
"\t\techo \"no python matches $CUTOVER_PY in $(pwd)\" >\"$m.out\"; echo 127 >\"$m.st\"; mv \"$m.st\" \"$m.done\"\n"
"\telse\n"
"\t\t# Its own session: losing the connection must not kill a conversion.\n"
"\t\tsetsid sh -c '\"$@\" >\"$0.out\" 2>&1; echo $? >\"$0.st\"; mv \"$0.st\" \"$0.done\"' \"$m\" \"$py\" \"$@\" \\\n"
"\t\t\t</dev/null >/dev/null 2>&1 &\n"
"\tfi\n"
"fi\n"
"while [ ! -e \"$m.done\" ]; do sleep 1; done\n"
"cat \"$m.out\"\n"
"exit \"$(cat \"$m.done\")\"\n";

struct manage_arg {
	const char *command, *token;
	struct world_manage_result *out;
};

static void
safe_token(const char *token, char *out, size_t len)
{
	size_t i;

	for (i = 0; token[i] != '\0' && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)token[i]) || token[i] == '.' || token[i] == '-' ? token[i] : '_';
	out[i] = '\0';
}

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
	char dir[512], tok[200], once[800], py[600], onceenv[900];
	int r;

	(void)l;
	/* 1. the wrapper, in the agent's private folder. */
	const char *setup[] = { "sh", "-c",
		"d=$HOME/.cache/cutover/once && mkdir -p \"$d\" && chmod 700 \"$d\" && "
		"printf '%s' \"$1\" >\"$d/once.sh.$$\" && chmod 700 \"$d/once.sh.$$\" && "
		"mv \"$d/once.sh.$$\" \"$d/once.sh\" && printf '%s' \"$d\"",
		"cutover-once", world_real_once_sh, NULL };
	if ((r = wr_run_argv(c, setup, NULL, &o, &res, SHORT_TIMEOUT_MS, err)) != 0)
		goto out;
	if (res.status != 0 || o.p == NULL || o.p[0] != '/') {
		r = cut_err_set(err, CUT_EIO, "Could not store the run-once wrapper on %s (%s); check the login user's "
		    "home folder.", h->label, res.error[0] ? res.error : "no folder reported");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s", o.p);
	free(o.p);
	memset(&o, 0, sizeof(o));

	/* 2. manage.py through it: the agent loads the env file and runs the
	 * wrapper in the app folder; the wrapper finds the python. */
	safe_token(m->token, tok, sizeof(tok));
	snprintf(once, sizeof(once), "%s/once.sh", dir);
	snprintf(onceenv, sizeof(onceenv), "CUTOVER_ONCE=%s/%s", dir, tok);
	snprintf(py, sizeof(py), "CUTOVER_PY=%s", x->cfg.app.python);
	const char *env[] = { onceenv, py, NULL };
	char *cmd = strdup(m->command), *save = NULL;
	const char *argv[64];
	size_t n = 0;
	if (cmd == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		goto out;
	}
	for (char *t = strtok_r(cmd, " ", &save); t != NULL && n + 1 < 64; t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	struct rexec_request req = {
		.kind = REXEC_MANAGE, .argv = argv, .env = env,
		.app_dir = x->cfg.app.dir, .env_file = x->cfg.app.env_file, .python = once,
		.timeout_ms = MANAGE_TIMEOUT_MS,
	};
	struct rexec_io io = { wr_collect_out, &o, -1, NULL };
	r = rexec_run(c, &req, &io, &res, err);
	free(cmd);
	if (r != 0)
		goto out;
	if (res.error[0] != '\0') {
		r = cut_err_set(err, CUT_EIO, "manage.py %s could not start on %s: %s.", m->command, h->label, res.error);
		goto out;
	}
	m->out->exit_status = res.signal > 0 ? -1 : res.status;
	summarise(o.p ? o.p : "", o.n, m->out->summary, sizeof(m->out->summary));
out:
	free(o.p);
	return r;
}

int
wr_manage_run(struct world_ops *w, const char *env, const char *command, const char *token,
    struct world_manage_result *out, struct cut_err *err)
{
	struct manage_arg m = { command, token, out };

	memset(out, 0, sizeof(*out));
	out->exit_status = -1;
	return wr_with_hosts(impl(w), env, 0, manage_fn, &m, err);
}

