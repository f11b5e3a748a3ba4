/* safety_ssh.c: see safety_ssh.h. */
#include "safety_ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alink.h"
#include "cfg.h"
#include "fleet.h"
#include "rexec.h"
#include "wlive.h"

struct safety_ssh {
	struct cfg cfg;            /* t->conf points into it */
	struct aws_client *aws;
	struct fleet fleet;
	int open;
};

void
safety_ssh_close(void *session)
{
	struct safety_ssh *s = session;
	struct cut_err err;

	if (s == NULL)
		return;
	if (s->open && fleet_close(&s->fleet, &err) != 0)
		fprintf(stderr, "cutover: %s\n", err.msg);
	aws_client_free(s->aws);
	free(s);
}

int
safety_ssh_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err)
{
	struct safety_ssh *s = calloc(1, sizeof(*s));
	struct wlive lv;
	const char *env = o->env;
	int r;

	if (s == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	t->ssh = s;
	if ((r = cfg_load(o->config, &s->cfg, err)) != 0 || (r = wlive_client(&s->cfg, &s->aws, err)) != 0)
		return r;
	if (env == NULL) {
		if ((r = wlive_read(s->aws, &s->cfg, &lv, err)) != 0)
			return r;
		env = role == SAFETY_LIVE ? lv.live_web : lv.new_web;
		if ((r = fleet_find(s->aws, &s->cfg, env, &s->fleet, err)) != 0)
			return r;
	} else if ((r = fleet_find(s->aws, &s->cfg, env, &s->fleet, err)) != 0)
		return r;
	s->open = 1;
	if ((r = fleet_open(&s->fleet, -1, err)) != 0)
		return r;
	if (t->conf.env_file == NULL)
		t->conf.env_file = s->cfg.app.env_file;
	/* The simulation lays instances out relative to the login folder. */
	if (s->cfg.app.dir[0] != '/' && t->conf.cron_state_dir == NULL)
		t->conf.cron_state_dir = "var/lib/cutover";
	if ((t->links = calloc(s->fleet.n, sizeof(*t->links))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	for (size_t i = 0; i < s->fleet.n; i++) {
		struct rexec_target tg;
		struct rexec_conn *c = NULL;
		if ((r = fleet_push_key(&s->fleet, i, err)) != 0)
			return r;
		fleet_target(&s->fleet, i, &tg);
		if ((r = rexec_connect(&c, &tg, err)) != 0)
			return r;
		rexec_alink(c, &t->links[i], s->fleet.hosts[i].label);
		t->n++;
	}
	return 0;
}
