/* cli/safety_links.c: see cli/safety_links.h. */
#include "cli/safety_links.h"

#include "cli/safety_ssh.h"

#include <stdlib.h>
#include <string.h>

int
safety_cli_opt(struct safety_cli *o, int c, const char *arg)
{
	switch (c) {
	case 'c': o->config = arg; return 1;
	case SAFETY_OPT_ENV: o->env = arg; return 1;
	case SAFETY_OPT_LOCAL: o->local_agent = arg; return 1;
	case SAFETY_OPT_ENVFILE: o->env_file = arg; return 1;
	case SAFETY_OPT_PSQL: o->psql = arg; return 1;
	}
	return 0;
}

int
safety_links_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->conf.env_file = o->env_file;
	t->conf.psql = o->psql;
	if (o->local_agent == NULL) {
		if (o->config == NULL)
			return cut_err_set(err, CUT_EINVAL, "No configuration file: give -c FILE.");
		if ((r = safety_ssh_open(o, role, t, err)) != 0)
			safety_links_close(t);
		return r;
	}
	if ((t->links = calloc(1, sizeof(*t->links))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	if ((r = alink_spawn(&t->links[0], o->local_agent, NULL, "local", err)) != 0) {
		free(t->links);
		t->links = NULL;
		return r;
	}
	t->n = 1;
	return 0;
}

void
safety_links_close(struct safety_target *t)
{
	/* Over SSH the connections are the reach's (cli/safety_ssh.h). */
	if (t->ssh != NULL)
		safety_ssh_close(t->ssh, t->links);
	else
		for (size_t i = 0; i < t->n; i++)
			alink_close(&t->links[i]);
	free(t->links);
	t->links = NULL;
	t->n = 0;
	t->ssh = NULL;
}
