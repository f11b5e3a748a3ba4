/* aws/eb.h: the Elastic Beanstalk calls the cutover makes (query protocol,
 * 2010-12-01). Each function makes the call(s), follows NextToken until
 * the last page where AWS pages, and returns typed results.
 *
 * Ownership: list results (struct eb_*_list, eb_resources,
 * eb_config_settings_list) are filled by the call and freed by the caller
 * with the matching *_free function; single structs (struct eb_env) are
 * plain data. Option values may be secrets (database passwords): never
 * print them unmasked.
 */
#ifndef CUTOVER_EB_H
#define CUTOVER_EB_H

#include <stddef.h>

#include "aws/client.h"

#define EB_NS_ENV "aws:elasticbeanstalk:application:environment"
#define EB_NS_ASG "aws:autoscaling:asg"
#define EB_NS_ENVIRONMENT "aws:elasticbeanstalk:environment"

struct eb_env {
	char name[128];
	char id[64];
	char application[128];
	char version[256];
	char solution_stack[256];
	char template_name[128];
	char cname[256];
	char endpoint_url[256];
	char status[32];        /* Launching, Updating, Ready, Terminating, Terminated, ... */
	char health[16];        /* Green, Yellow, Red, Grey */
	char health_status[32];
	char tier_name[32];     /* WebServer, Worker */
	char date_updated[40];
	char request_id[128];   /* of the call that returned this description */
};

struct eb_env_list {
	struct eb_env *v;
	size_t n;
};

/* DescribeEnvironments: application may be NULL; names NULL/0 = all of the
 * application's environments. Pages through NextToken. */
int eb_describe_environments(struct aws_client *c, const char *application,
    const char *const *names, size_t nnames, int include_deleted,
    struct eb_env_list *out, struct cut_err *err);
/* Convenience: one environment by name (CUT_ENOTFOUND if absent or terminated). */
int eb_describe_environment(struct aws_client *c, const char *application,
    const char *name, struct eb_env *out, struct cut_err *err);
void eb_env_list_free(struct eb_env_list *l);

struct eb_resources {
	char **instance_ids;   /* owned strings */
	size_t ninstances;
	char **asg_names;
	size_t nasgs;
	char **lb_names;
	size_t nlbs;
};

int eb_describe_environment_resources(struct aws_client *c, const char *env_name,
    struct eb_resources *out, struct cut_err *err);
void eb_resources_free(struct eb_resources *r);

struct eb_option {
	char namespace_[128];
	char name[128];
	char resource[64];
	char *value;           /* owned, may be a secret; NULL when AWS gave none */
};

struct eb_option_list {
	struct eb_option *v;
	size_t n;
};

struct eb_config_settings {
	char deployment_status[32]; /* "deployed", "pending", "failed" or "" (template) */
	char env_name[128];
	char template_name[128];
	char solution_stack[256];
	struct eb_option_list options;
};

struct eb_config_settings_list {
	struct eb_config_settings *v;
	size_t n;
};

/* DescribeConfigurationSettings for an environment (env_name) or a saved
 * template (template_name). During an update AWS returns two members:
 * deployed and pending. */
int eb_describe_configuration_settings(struct aws_client *c, const char *application,
    const char *env_name, const char *template_name,
    struct eb_config_settings_list *out, struct cut_err *err);
void eb_config_settings_list_free(struct eb_config_settings_list *l);
/* The deployed member (or the only one); NULL if the list is empty. */
const struct eb_config_settings *eb_config_deployed(const struct eb_config_settings_list *l);
/* The pending member while an update runs (the settings the environment is
 * becoming), else the deployed one: what a step checks, so that a rerun
 * after a kill during the update sees its change on the way instead of
 * asking for it again (EB refuses updates while one runs). NULL if empty. */
const struct eb_config_settings *eb_config_latest(const struct eb_config_settings_list *l);
/* Value of namespace/name in the list, or NULL. Borrowed from l. */
const char *eb_option_get(const struct eb_option_list *l, const char *ns, const char *name);

/* An option to set (value) or remove (value ignored). Borrowed strings. */
struct eb_option_set {
	const char *namespace_;
	const char *name;
	const char *value;
};

struct eb_update {
	const char *env_name;
	const char *version_label;       /* NULL = unchanged */
	const char *template_name;       /* NULL = unchanged */
	const struct eb_option_set *set; /* OptionSettings */
	size_t nset;
	const struct eb_option_set *remove; /* OptionsToRemove */
	size_t nremove;
};

/* UpdateEnvironment. out->request_id is the update's request id, which
 * DescribeEvents filters on. AWS refuses unless the environment is Ready. */
int eb_update_environment(struct aws_client *c, const struct eb_update *u,
    struct eb_env *out, struct cut_err *err);

/* DeleteConfigurationTemplate; a template that is not there is not an
 * error (0): tidy runs again after a crash. */
int eb_delete_configuration_template(struct aws_client *c, const char *application,
    const char *template_name, struct cut_err *err);

/* CreateConfigurationTemplate from a running environment (EnvironmentId). */
int eb_create_configuration_template(struct aws_client *c, const char *application,
    const char *template_name, const char *env_id, const char *description,
    struct cut_err *err);

struct eb_create {
	const char *application;
	const char *env_name;            /* 4-40 characters */
	const char *cname_prefix;        /* NULL = AWS picks */
	const char *template_name;
	const char *version_label;
	const char *tier_name;           /* NULL = WebServer */
	const char *description;
	const struct eb_option_set *set;
	size_t nset;
};

int eb_create_environment(struct aws_client *c, const struct eb_create *cr,
    struct eb_env *out, struct cut_err *err);

int eb_terminate_environment(struct aws_client *c, const char *env_name,
    int terminate_resources, struct eb_env *out, struct cut_err *err);

int eb_swap_environment_cnames(struct aws_client *c, const char *src_env,
    const char *dst_env, struct cut_err *err);

struct eb_event {
	char date[40];
	char severity[16];
	char env_name[128];
	char request_id[128];
	char message[1024];
};

struct eb_event_list {
	struct eb_event *v;
	size_t n;
};

struct eb_events_query {
	const char *application;
	const char *env_name;
	const char *request_id;   /* only this request's events */
	const char *start_time;   /* ISO 8601 */
	const char *severity;     /* minimum: TRACE DEBUG INFO WARN ERROR FATAL */
	size_t max;               /* stop after this many (0 = 1000) */
};

/* DescribeEvents, newest first as AWS returns them, paging with NextToken. */
int eb_describe_events(struct aws_client *c, const struct eb_events_query *q,
    struct eb_event_list *out, struct cut_err *err);
void eb_event_list_free(struct eb_event_list *l);

/* Parsers (exposed for the unit tests and the fuzzer): fill from a
 * DescribeEnvironments / DescribeConfigurationSettings / DescribeEvents
 * reply document. */
int eb_parse_environments(xmlDoc *d, struct eb_env_list *out, char *next, size_t nextsz);
int eb_parse_configuration_settings(xmlDoc *d, struct eb_config_settings_list *out);
int eb_parse_events(xmlDoc *d, struct eb_event_list *out, char *next, size_t nextsz);

#endif
