/* cli/safety_ssh.c: see cli/safety_ssh.h. */
#include "cli/safety_ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote/agent_link.h"
#include "world/config.h"
#include "aws/rds.h"
#include "world/live_names.h"
#include "world/reach.h"

struct safety_ssh {
	struct cfg cfg;            /* t->conf points into it */
	struct aws_client *aws;
	struct reach *reach;       /* the instances, port 22, the connections */
	struct alink **orig;       /* the reach's links, of which t->links are copies */
	size_t n;
};

void
safety_ssh_close(void *session, struct alink *links)
{
	struct safety_ssh *s = session;
	struct cut_err err;

	if (s == NULL)
		return;
	/* The copies carried the request ids on; the reach says bye with them. */
	for (size_t i = 0; links != NULL && i < s->n; i++)
		s->orig[i]->next_id = links[i].next_id;
	free(s->orig);
	if (reach_close(s->reach, &err) != 0)
		fprintf(stderr, "cutover: %s\n", err.msg);
	aws_client_free(s->aws);
	free(s);
}

/* The database of the pair's environment other than env: the RDS endpoint
 * of the live database when that is the live one, else its RDS_HOSTNAME
 * (port unknown: the default). */
static int
old_db_of(struct safety_ssh *s, const struct wlive *lv, const char *env, struct aop_dbenv *out,
    struct cut_err *err)
{
	struct rds_instance db;
	int r;

	memset(out, 0, sizeof(*out));
	if (strcmp(env, lv->live_web) != 0) {
		if ((r = rds_describe_db_instance(s->aws, lv->live_db, &db, err)) != 0)
			return r;
		snprintf(out->host, sizeof(out->host), "%s", db.address);
		if (db.port > 0)
			snprintf(out->port, sizeof(out->port), "%d", db.port);
	} else if (strcmp(env, lv->new_web) != 0) {
		snprintf(out->host, sizeof(out->host), "%s", lv->new_web_rds_host);
	}
	return 0;
}

int
safety_ssh_open(const struct safety_cli *o, enum safety_role role, struct safety_target *t,
    struct cut_err *err)
{
	struct safety_ssh *s = calloc(1, sizeof(*s));
	struct wlive lv = { 0 };
	const char *env = o->env;
	int r;

	if (s == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	t->ssh = s;
	if ((r = cfg_load(o->config, &s->cfg, err)) != 0 || (r = wlive_client(&s->cfg, &s->aws, err)) != 0)
		return r;
	if (env == NULL || role == SAFETY_NEW_DB) {
		if ((r = wlive_read(s->aws, &s->cfg, &lv, err)) != 0)
			return r;
	}
	if (env == NULL) {
		int on_new = strcmp(lv.live_db, s->cfg.db.new_id) == 0;
		switch (role) {
		case SAFETY_LIVE: env = lv.live_web; break;
		case SAFETY_NEW: env = lv.new_web; break;
		case SAFETY_OLD_DB: env = on_new ? lv.new_web : lv.live_web; break;
		case SAFETY_NEW_DB: env = on_new ? lv.live_web : lv.new_web; break;
		case SAFETY_LIVE_SES: env = lv.live_ses; break;
		}
		if (env[0] == '\0')
			return 0;   /* no SES pair: nothing to reach */
	}
	if (role == SAFETY_NEW_DB && (r = old_db_of(s, &lv, env, &t->old_db, err)) != 0)
		return r;
	if ((r = reach_open(&s->cfg, s->aws, -1, &s->reach, err)) != 0 ||
	    (r = reach_links(s->reach, env, &s->orig, &s->n, err)) != 0)
		return r;
	if (t->conf.env_file == NULL)
		t->conf.env_file = s->cfg.app.env_file;
	if (t->conf.sslmode == NULL && s->cfg.db.sslmode[0])
		t->conf.sslmode = s->cfg.db.sslmode;
	if (t->conf.sslrootcert == NULL && s->cfg.db.sslrootcert[0])
		t->conf.sslrootcert = s->cfg.db.sslrootcert;
	/* Instance paths come from [app] (world/config.h), never from the form of dir. */
	if (t->conf.cron_state_dir == NULL)
		t->conf.cron_state_dir = s->cfg.app.cron_state_dir;
	t->access_log = s->cfg.app.access_log;
	if ((t->links = calloc(s->n ? s->n : 1, sizeof(*t->links))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	/* Copies: the caller's array of links, the connections the reach's. */
	for (size_t i = 0; i < s->n; i++)
		t->links[i] = *s->orig[i];
	t->n = s->n;
	return 0;
}
