/* world/live_names.h: what world_ops_open, exec --env and the data-safety commands need
 * from the live world (world/live.h), in plain fields: the names of a cutover as
 * DNS says them now. */
#ifndef CUTOVER_WLIVE_H
#define CUTOVER_WLIVE_H

#include "aws/client.h"
#include "world/config.h"
#include "base/err.h"

struct wlive {
	char live_web[128], new_web[128];   /* from where the web pair's records point */
	char live_ses[128], new_ses[128];   /* the other pair; "" when there is none */
	char live_db[64];                   /* the RDS instance the live web env's RDS_HOSTNAME names */
	char live_web_version[256];
	int new_web_found;
	char new_web_version[256];
	char new_web_rds_host[256];         /* the new web env's RDS_HOSTNAME, "" if unset */
	char new_web_db_name[64];
	char apex[256], www[256], ses[256]; /* record names with the final dot ("" if none) */
};

/* The AWS client for cfg (live_client); the caller frees it. */
int wlive_client(const struct cfg *cfg, struct aws_client **out, struct cut_err *err);

/* Reads the above from AWS now. CUT_ESTATE when DNS does not say which
 * environment is live. */
int wlive_read(struct aws_client *c, const struct cfg *cfg, struct wlive *out, struct cut_err *err);

#endif
