/* aws/eb.c: see aws/eb.h. */
#include "aws/eb.h"

#include <stdlib.h>
#include <string.h>

#define NOMEM(err, what) cut_err_set(err, CUT_ENOMEM, "Out of memory reading %s.", what)

static void
parse_env(xmlNode *m, struct eb_env *e)
{
	memset(e, 0, sizeof(*e));
	axml_copy(m, "EnvironmentName", e->name, sizeof(e->name));
	axml_copy(m, "EnvironmentId", e->id, sizeof(e->id));
	axml_copy(m, "ApplicationName", e->application, sizeof(e->application));
	axml_copy(m, "VersionLabel", e->version, sizeof(e->version));
	axml_copy(m, "SolutionStackName", e->solution_stack, sizeof(e->solution_stack));
	axml_copy(m, "TemplateName", e->template_name, sizeof(e->template_name));
	axml_copy(m, "CNAME", e->cname, sizeof(e->cname));
	axml_copy(m, "EndpointURL", e->endpoint_url, sizeof(e->endpoint_url));
	axml_copy(m, "Status", e->status, sizeof(e->status));
	axml_copy(m, "Health", e->health, sizeof(e->health));
	axml_copy(m, "HealthStatus", e->health_status, sizeof(e->health_status));
	axml_copy(m, "Tier/Name", e->tier_name, sizeof(e->tier_name));
	axml_copy(m, "DateUpdated", e->date_updated, sizeof(e->date_updated));
}

int
eb_parse_environments(xmlDoc *d, struct eb_env_list *out, char *next, size_t nextsz)
{
	xmlNode *res = aws_result(d, "DescribeEnvironments"), *m;
	size_t cap = out->n;

	if (next)
		axml_copy(res, "NextToken", next, nextsz);
	for (m = axml_path(res, "Environments/member"); m; m = axml_next(m)) {
		struct eb_env *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
		if (nv == NULL)
			return CUT_ENOMEM;
		out->v = nv;
		parse_env(m, &out->v[out->n++]);
	}
	return 0;
}

struct envs_ctx {
	struct aws_client *c;
	const char *application;
	const char *const *names;
	size_t nnames;
	int include_deleted;
	struct eb_env_list *out;
};

static void
envs_build(struct aws_params *p, void *vx)
{
	struct envs_ctx *x = vx;
	size_t i;

	aws_param(p, "ApplicationName", x->application);
	for (i = 0; i < x->nnames; i++)
		aws_paramf(p, x->names[i], "EnvironmentNames.member.%zu", i + 1);
	aws_param(p, "IncludeDeleted", x->include_deleted ? "true" : "false");
	if (aws_client_page_size(x->c) > 0)
		aws_param_long(p, "MaxRecords", aws_client_page_size(x->c));
}

static int
envs_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	return eb_parse_environments(d, ((struct envs_ctx *)vx)->out, next, nsz);
}

int
eb_describe_environments(struct aws_client *c, const char *application,
    const char *const *names, size_t nnames, int include_deleted,
    struct eb_env_list *out, struct cut_err *err)
{
	struct envs_ctx x = { c, application, names, nnames, include_deleted, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_eb, "DescribeEnvironments", "NextToken", envs_build,
	    envs_parse, &x, err)) != 0)
		eb_env_list_free(out);
	return r;
}

int
eb_describe_environment(struct aws_client *c, const char *application,
    const char *name, struct eb_env *out, struct cut_err *err)
{
	struct eb_env_list l;
	int r;

	if ((r = eb_describe_environments(c, application, &name, 1, 0, &l, err)) != 0)
		return r;
	if (l.n == 0) {
		eb_env_list_free(&l);
		return cut_err_set(err, CUT_ENOTFOUND,
		    "Elastic Beanstalk has no environment named %s%s%s; check the name in the config file.",
		    name, application ? " in application " : "", application ? application : "");
	}
	*out = l.v[0];
	eb_env_list_free(&l);
	return 0;
}

void
eb_env_list_free(struct eb_env_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
collect_names(xmlNode *res, const char *path, const char *field, char ***arr, size_t *n)
{
	xmlNode *m;
	size_t cap = 0;

	for (m = axml_path(res, path); m; m = axml_next(m)) {
		char **na = aws_array_grow(*arr, *n, &cap, sizeof(*na));
		if (na == NULL)
			return -1;
		*arr = na;
		if (((*arr)[*n] = axml_text(m, field)) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

int
eb_describe_environment_resources(struct aws_client *c, const char *env_name,
    struct eb_resources *out, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	xmlNode *res;
	int r;

	memset(out, 0, sizeof(*out));
	aws_params_init(&p, &aws_svc_eb, "DescribeEnvironmentResources");
	aws_param(&p, "EnvironmentName", env_name);
	if ((r = aws_query(c, &aws_svc_eb, "DescribeEnvironmentResources", &p, &d, err)) != 0)
		return r;
	res = axml_child(aws_result(d, "DescribeEnvironmentResources"), "EnvironmentResources");
	if (collect_names(res, "Instances/member", "Id", &out->instance_ids, &out->ninstances) != 0 ||
	    collect_names(res, "AutoScalingGroups/member", "Name", &out->asg_names, &out->nasgs) != 0 ||
	    collect_names(res, "LoadBalancers/member", "Name", &out->lb_names, &out->nlbs) != 0) {
		xmlFreeDoc(d);
		eb_resources_free(out);
		return NOMEM(err, "Elastic Beanstalk resources");
	}
	xmlFreeDoc(d);
	return 0;
}

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
eb_resources_free(struct eb_resources *r)
{
	free_strv(r->instance_ids, r->ninstances);
	free_strv(r->asg_names, r->nasgs);
	free_strv(r->lb_names, r->nlbs);
	memset(r, 0, sizeof(*r));
}

int
eb_parse_configuration_settings(xmlDoc *d, struct eb_config_settings_list *out)
{
	xmlNode *res = aws_result(d, "DescribeConfigurationSettings"), *m, *o;
	size_t cap = out->n;

	for (m = axml_path(res, "ConfigurationSettings/member"); m; m = axml_next(m)) {
		struct eb_config_settings *cs;
		size_t ocap = 0;
		struct eb_config_settings *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
		if (nv == NULL)
			return CUT_ENOMEM;
		out->v = nv;
		cs = &out->v[out->n++];
		memset(cs, 0, sizeof(*cs));
		axml_copy(m, "DeploymentStatus", cs->deployment_status, sizeof(cs->deployment_status));
		axml_copy(m, "EnvironmentName", cs->env_name, sizeof(cs->env_name));
		axml_copy(m, "TemplateName", cs->template_name, sizeof(cs->template_name));
		axml_copy(m, "SolutionStackName", cs->solution_stack, sizeof(cs->solution_stack));
		for (o = axml_path(m, "OptionSettings/member"); o; o = axml_next(o)) {
			struct eb_option *op, *no = aws_array_grow(cs->options.v, cs->options.n, &ocap, sizeof(*no));
			if (no == NULL)
				return CUT_ENOMEM;
			cs->options.v = no;
			op = &no[cs->options.n++];
			memset(op, 0, sizeof(*op));
			axml_copy(o, "Namespace", op->namespace_, sizeof(op->namespace_));
			axml_copy(o, "OptionName", op->name, sizeof(op->name));
			axml_copy(o, "ResourceName", op->resource, sizeof(op->resource));
			op->value = axml_text(o, "Value");
		}
	}
	return 0;
}

int
eb_describe_configuration_settings(struct aws_client *c, const char *application,
    const char *env_name, const char *template_name,
    struct eb_config_settings_list *out, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	memset(out, 0, sizeof(*out));
	aws_params_init(&p, &aws_svc_eb, "DescribeConfigurationSettings");
	aws_param(&p, "ApplicationName", application);
	aws_param(&p, "EnvironmentName", env_name);
	aws_param(&p, "TemplateName", template_name);
	if ((r = aws_query(c, &aws_svc_eb, "DescribeConfigurationSettings", &p, &d, err)) != 0)
		return r;
	r = eb_parse_configuration_settings(d, out);
	xmlFreeDoc(d);
	if (r != 0) {
		eb_config_settings_list_free(out);
		return NOMEM(err, "Elastic Beanstalk configuration settings");
	}
	return 0;
}

void
eb_config_settings_list_free(struct eb_config_settings_list *l)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->v[i].options.n; j++) {
			char *v = l->v[i].options.v[j].value;
			if (v) {
				explicit_bzero(v, strlen(v));
				free(v);
			}
		}
		free(l->v[i].options.v);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct eb_config_settings *
eb_config_deployed(const struct eb_config_settings_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].deployment_status, "deployed") == 0)
			return &l->v[i];
	return l->n ? &l->v[0] : NULL;
}

const struct eb_config_settings *
eb_config_latest(const struct eb_config_settings_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].deployment_status, "pending") == 0)
			return &l->v[i];
	return eb_config_deployed(l);
}

const char *
eb_option_get(const struct eb_option_list *l, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].namespace_, ns) == 0 && strcmp(l->v[i].name, name) == 0)
			return l->v[i].value;
	return NULL;
}

static void
add_options(struct aws_params *p, const char *prefix, const struct eb_option_set *o,
    size_t n, int with_value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		aws_paramf(p, o[i].namespace_, "%s.member.%zu.Namespace", prefix, i + 1);
		aws_paramf(p, o[i].name, "%s.member.%zu.OptionName", prefix, i + 1);
		if (with_value)
			aws_paramf(p, o[i].value ? o[i].value : "", "%s.member.%zu.Value", prefix, i + 1);
	}
}

static int
env_call(struct aws_client *c, const char *action, struct aws_params *p,
    struct eb_env *out, struct cut_err *err)
{
	xmlDoc *d;
	int r;

	if ((r = aws_query(c, &aws_svc_eb, action, p, &d, err)) != 0)
		return r;
	if (out) {
		parse_env(aws_result(d, action), out);
		aws_request_id(d, out->request_id, sizeof(out->request_id));
	}
	xmlFreeDoc(d);
	return 0;
}

int
eb_update_environment(struct aws_client *c, const struct eb_update *u,
    struct eb_env *out, struct cut_err *err)
{
	struct aws_params p;

	aws_params_init(&p, &aws_svc_eb, "UpdateEnvironment");
	aws_param(&p, "EnvironmentName", u->env_name);
	aws_param(&p, "VersionLabel", u->version_label);
	aws_param(&p, "TemplateName", u->template_name);
	add_options(&p, "OptionSettings", u->set, u->nset, 1);
	add_options(&p, "OptionsToRemove", u->remove, u->nremove, 0);
	return env_call(c, "UpdateEnvironment", &p, out, err);
}

int
eb_create_configuration_template(struct aws_client *c, const char *application,
    const char *template_name, const char *env_id, const char *description,
    struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	aws_params_init(&p, &aws_svc_eb, "CreateConfigurationTemplate");
	aws_param(&p, "ApplicationName", application);
	aws_param(&p, "TemplateName", template_name);
	aws_param(&p, "EnvironmentId", env_id);
	aws_param(&p, "Description", description);
	if ((r = aws_query(c, &aws_svc_eb, "CreateConfigurationTemplate", &p, &d, err)) != 0)
		return r;
	xmlFreeDoc(d);
	return 0;
}

int
eb_delete_configuration_template(struct aws_client *c, const char *application,
    const char *template_name, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	int r;

	aws_params_init(&p, &aws_svc_eb, "DeleteConfigurationTemplate");
	aws_param(&p, "ApplicationName", application);
	aws_param(&p, "TemplateName", template_name);
	if ((r = aws_query(c, &aws_svc_eb, "DeleteConfigurationTemplate", &p, &d, err)) != 0) {
		/* EB answers InvalidParameterValue "No Configuration Template named
		 * 'x' found." for one already gone. */
		if (strstr(err->msg, "No Configuration Template") != NULL) {
			cut_err_clear(err);
			return 0;
		}
		return r;
	}
	xmlFreeDoc(d);
	return 0;
}

int
eb_create_environment(struct aws_client *c, const struct eb_create *cr,
    struct eb_env *out, struct cut_err *err)
{
	struct aws_params p;
	size_t n = cr->env_name ? strlen(cr->env_name) : 0;

	if (n < 4 || n > 40)
		return cut_err_set(err, CUT_EINVAL,
		    "Elastic Beanstalk environment names must have 4 to 40 characters, and '%s' has %zu; choose another name.",
		    cr->env_name ? cr->env_name : "", n);
	aws_params_init(&p, &aws_svc_eb, "CreateEnvironment");
	aws_param(&p, "ApplicationName", cr->application);
	aws_param(&p, "EnvironmentName", cr->env_name);
	aws_param(&p, "CNAMEPrefix", cr->cname_prefix);
	aws_param(&p, "TemplateName", cr->template_name);
	aws_param(&p, "VersionLabel", cr->version_label);
	aws_param(&p, "Description", cr->description);
	if (cr->tier_name) {
		aws_param(&p, "Tier.Name", cr->tier_name);
		aws_param(&p, "Tier.Type", strcmp(cr->tier_name, "Worker") == 0 ? "SQS/HTTP" : "Standard");
	}
	add_options(&p, "OptionSettings", cr->set, cr->nset, 1);
	return env_call(c, "CreateEnvironment", &p, out, err);
}

int
eb_terminate_environment(struct aws_client *c, const char *env_name,
    int terminate_resources, struct eb_env *out, struct cut_err *err)
{
	struct aws_params p;

	aws_params_init(&p, &aws_svc_eb, "TerminateEnvironment");
	aws_param(&p, "EnvironmentName", env_name);
	aws_param(&p, "TerminateResources", terminate_resources ? "true" : "false");
	return env_call(c, "TerminateEnvironment", &p, out, err);
}

int
eb_swap_environment_cnames(struct aws_client *c, const char *src_env,
    const char *dst_env, struct cut_err *err)
{
	struct aws_params p;

	aws_params_init(&p, &aws_svc_eb, "SwapEnvironmentCNAMEs");
	aws_param(&p, "SourceEnvironmentName", src_env);
	aws_param(&p, "DestinationEnvironmentName", dst_env);
	return env_call(c, "SwapEnvironmentCNAMEs", &p, NULL, err);
}

int
eb_parse_events(xmlDoc *d, struct eb_event_list *out, char *next, size_t nextsz)
{
	xmlNode *res = aws_result(d, "DescribeEvents"), *m;
	size_t cap = out->n;

	if (next)
		axml_copy(res, "NextToken", next, nextsz);
	for (m = axml_path(res, "Events/member"); m; m = axml_next(m)) {
		struct eb_event *e, *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
		if (nv == NULL)
			return CUT_ENOMEM;
		out->v = nv;
		e = &nv[out->n++];
		memset(e, 0, sizeof(*e));
		axml_copy(m, "EventDate", e->date, sizeof(e->date));
		axml_copy(m, "Severity", e->severity, sizeof(e->severity));
		axml_copy(m, "EnvironmentName", e->env_name, sizeof(e->env_name));
		axml_copy(m, "RequestId", e->request_id, sizeof(e->request_id));
		axml_copy(m, "Message", e->message, sizeof(e->message));
	}
	return 0;
}

struct events_ctx {
	struct aws_client *c;
	const struct eb_events_query *q;
	size_t max;
	struct eb_event_list *out;
};

static void
events_build(struct aws_params *p, void *vx)
{
	struct events_ctx *x = vx;

	aws_param(p, "ApplicationName", x->q->application);
	aws_param(p, "EnvironmentName", x->q->env_name);
	aws_param(p, "RequestId", x->q->request_id);
	aws_param(p, "StartTime", x->q->start_time);
	aws_param(p, "Severity", x->q->severity);
	if (aws_client_page_size(x->c) > 0)
		aws_param_long(p, "MaxRecords", aws_client_page_size(x->c));
}

static int
events_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	struct events_ctx *x = vx;
	int r = eb_parse_events(d, x->out, next, nsz);

	if (x->out->n >= x->max)
		next[0] = '\0';
	return r;
}

int
eb_describe_events(struct aws_client *c, const struct eb_events_query *q,
    struct eb_event_list *out, struct cut_err *err)
{
	struct events_ctx x = { c, q, q->max ? q->max : 1000, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_eb, "DescribeEvents", "NextToken", events_build,
	    events_parse, &x, err)) != 0) {
		eb_event_list_free(out);
		return r;
	}
	if (out->n > x.max)
		out->n = x.max;
	return 0;
}

void
eb_event_list_free(struct eb_event_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
