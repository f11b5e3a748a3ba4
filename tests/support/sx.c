/* sx.c: see sx.h. */
#include "sx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
top(void)
{
	const char *t = getenv("CUTOVER_TOP");
	return t ? t : ".";
}

static char *
vcmd(struct sx *x, const char *fmt, va_list ap)
{
	char *body = NULL, *cmd = NULL;

	if (vasprintf(&body, fmt, ap) < 0)
		return NULL;
	if (asprintf(&cmd, "set -a; . '%s'; set +a; FIX='%s/tests/fixture'; T='%s'; %s",
	    x->pgenv, top(), x->dir, body) < 0)
		cmd = NULL;
	free(body);
	return cmd;
}

int
sx_sh(struct sx *x, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	cmd = vcmd(x, fmt, ap);
	va_end(ap);
	if (cmd == NULL)
		return -1;
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *
sx_out(struct sx *x, const char *fmt, ...)
{
	va_list ap;
	char *cmd, *buf = NULL;
	size_t len = 0;
	FILE *p;

	va_start(ap, fmt);
	cmd = vcmd(x, fmt, ap);
	va_end(ap);
	if (cmd == NULL || (p = popen(cmd, "r")) == NULL) {
		free(cmd);
		return NULL;
	}
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	int st = pclose(p);
	free(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
sx_setup(struct sx *x)
{
	char cmd[1024];

	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/cutover-sx.XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		return -1;
	snprintf(x->pgenv, sizeof(x->pgenv), "%s/postgres.env", x->dir);
	snprintf(cmd, sizeof(cmd), "'%s/tests/fixture/pg-start' '%s' >/dev/null", top(), x->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "sx: could not start PostgreSQL in %s\n", x->dir);
		return -1;
	}
	x->pg_started = 1;
	return 0;
}

void
sx_teardown(struct sx *x)
{
	char cmd[1024];

	if (x->pg_started) {
		snprintf(cmd, sizeof(cmd), "'%s/tests/fixture/pg-stop' '%s' >/dev/null 2>&1", top(), x->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "sx: pg-stop failed\n");
	}
	if (x->dir[0] && getenv("SX_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "sx: could not remove %s\n", x->dir);
	}
}

int
sx_instance(struct sx *x, const char *name, const char *db)
{
	return sx_sh(x, "\"$FIX/lay-instance\" \"$T/%s\" --link --db-env \"$T/postgres.env\" --db '%s' "
	    "--env GLOBAL_MPSERVER=http://127.0.0.1:9/", name, db);
}

int
sx_cobalt_db(struct sx *x, const char *db, const char *state, int seed)
{
	if (sx_sh(x, "createdb '%s'", db) != 0 || sx_instance(x, db, db) != 0)
		return -1;
	if (sx_sh(x, "\"$FIX/run-manage\" \"$T/%s\" fixture_migrate %s >/dev/null", db, state) != 0)
		return -1;
	if (seed && sx_sh(x, "\"$FIX/run-manage\" \"$T/%s\" seed_fixture >/dev/null", db) != 0)
		return -1;
	return 0;
}

const char *
sx_env_file(struct sx *x, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/opt/elasticbeanstalk/deployment/env", x->dir, name);
	return buf;
}

int
sx_agent(struct alink *l, const char *name)
{
	char path[1024];
	struct cut_err err = { 0 };
	const char *a = getenv("CUTOVER_TEST_AGENT");

	if (a == NULL) {
		snprintf(path, sizeof(path), "%s/agent/cutover-agent-x86_64",
		    getenv("CUTOVER_BUILD") ? getenv("CUTOVER_BUILD") : "build");
		a = path;
	}
	if (alink_spawn(l, a, NULL, name, &err) != 0) {
		fprintf(stderr, "sx: %s\n", err.msg);
		return -1;
	}
	return 0;
}
