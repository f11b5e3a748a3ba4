/* world/live_names.c: see world/live_names.h. */
#include "world/live_names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "world/live.h"

int
wlive_client(const struct cfg *cfg, struct aws_client **out, struct cut_err *err)
{
	return live_client(cfg, NULL, NULL, out, err);
}

static void
dotted(char *out, size_t len, const char *name)
{
	size_t l = strlen(name);

	if (l + 2 > len) {
		out[0] = '\0';
		return;
	}
	memcpy(out, name, l);
	if (l == 0 || name[l - 1] != '.')
		out[l++] = '.';
	out[l] = '\0';
}

static int
env_setting(struct aws_client *c, const struct cfg *cfg, const char *env, const char *name, char *out,
    size_t len, struct cut_err *err)
{
	struct eb_config_settings_list l;
	const struct eb_config_settings *d;
	const char *v;
	int r;

	out[0] = '\0';
	memset(&l, 0, sizeof(l));
	if ((r = eb_describe_configuration_settings(c, cfg->aws.application, env, NULL, &l, err)) != 0)
		return r;
	if ((d = eb_config_deployed(&l)) != NULL && (v = eb_option_get(&d->options, EB_NS_ENV, name)) != NULL)
		snprintf(out, len, "%s", v);
	eb_config_settings_list_free(&l);
	return 0;
}

int
wlive_read(struct aws_client *c, const struct cfg *cfg, struct wlive *out, struct cut_err *err)
{
	const struct cfg_pair *web = live_web_pair(cfg), *ses = NULL;
	struct rds_instance db;
	struct eb_env e;
	int live, r;

	memset(out, 0, sizeof(*out));
	if (web == NULL)
		return cut_err_set(err, CUT_ECONFIG, "%s has no [pair] section; add [pair web].", cfg->path);
	for (size_t i = 0; i < cfg->npairs; i++)
		if (&cfg->pairs[i] != web) {
			ses = &cfg->pairs[i];
			break;
		}
	if ((r = live_live_env(c, cfg, web, &live, err)) != 0)
		return r;
	snprintf(out->live_web, sizeof(out->live_web), "%s", web->envs[live]);
	snprintf(out->new_web, sizeof(out->new_web), "%s", web->envs[1 - live]);
	for (size_t i = 0; i < web->nrecords; i++) {
		if (strcasecmp(web->records[i], cfg->dns.zone) == 0)
			dotted(out->apex, sizeof(out->apex), web->records[i]);
		else if (out->www[0] == '\0')
			dotted(out->www, sizeof(out->www), web->records[i]);
	}
	if (ses != NULL) {
		if ((r = live_live_env(c, cfg, ses, &live, err)) != 0)
			return r;
		snprintf(out->live_ses, sizeof(out->live_ses), "%s", ses->envs[live]);
		snprintf(out->new_ses, sizeof(out->new_ses), "%s", ses->envs[1 - live]);
		if (ses->nrecords > 0)
			dotted(out->ses, sizeof(out->ses), ses->records[0]);
	}
	if ((r = live_live_db(c, cfg, &db, err)) != 0)
		return r;
	snprintf(out->live_db, sizeof(out->live_db), "%s", db.id);
	if ((r = eb_describe_environment(c, cfg->aws.application, out->live_web, &e, err)) != 0)
		return r;
	snprintf(out->live_web_version, sizeof(out->live_web_version), "%s", e.version);
	r = eb_describe_environment(c, cfg->aws.application, out->new_web, &e, err);
	if (r == CUT_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	out->new_web_found = 1;
	snprintf(out->new_web_version, sizeof(out->new_web_version), "%s", e.version);
	if ((r = env_setting(c, cfg, out->new_web, "RDS_HOSTNAME", out->new_web_rds_host,
	    sizeof(out->new_web_rds_host), err)) != 0)
		return r;
	return env_setting(c, cfg, out->new_web, "RDS_DB_NAME", out->new_web_db_name, sizeof(out->new_web_db_name), err);
}
