/* aws/creds_profile.c: the shared files (~/.aws/credentials, ~/.aws/config) and the settings of the environment (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "base/inifile.h"
#include "base/sbuf.h"


/* ---- shared files ----------------------------------------------------------- */

struct svc_line {
	char *section;   /* services section name */
	char *service;   /* "elastic_beanstalk" */
	char *url;
};

struct sso_section {
	char *name, *start_url, *region;
};

struct load_ctx {
	struct creds_config *c;
	int in_credentials;   /* parsing the credentials file (else config) */
	int found_profile;
	char *services_name;  /* the profile's `services = NAME` */
	struct svc_line *svc;
	size_t nsvc;
	int oom;
	/* config-file values, applied after the credentials file wins */
	char *cfg_ak, *cfg_sk, *cfg_tok;
	struct sso_section *sso;   /* every [sso-session NAME] */
	size_t nsso;
};

static int
is_profile_section(const struct load_ctx *x, const char *section)
{
	const char *p = x->c->profile;

	if (x->in_credentials)
		return strcmp(section, p) == 0;
	if (strcmp(p, "default") == 0 && strcmp(section, "default") == 0)
		return 1;
	if (strncmp(section, "profile", 7) == 0 && isspace((unsigned char)section[7])) {
		const char *n = section + 8;
		while (isspace((unsigned char)*n))
			n++;
		return strcmp(n, p) == 0;
	}
	return 0;
}

static int
load_handler(void *user, int lineno, const char *section, const char *name,
    const char *value)
{
	struct load_ctx *x = user;
	struct creds_config *c = x->c;

	(void)lineno;
	if (name == NULL)
		return 0;
	if (!x->in_credentials && strncmp(section, "services", 8) == 0 &&
	    isspace((unsigned char)section[8])) {
		/* Nested form: `elastic_beanstalk =` then an indented
		 * `endpoint_url = URL`, which inih hands over as a continuation
		 * value of the same name. */
		const char *eq = strchr(value, '=');
		char key[64];
		size_t kl;
		struct svc_line *ns;
		if (eq == NULL)
			return 0;
		kl = (size_t)(eq - value);
		while (kl > 0 && isspace((unsigned char)value[kl - 1]))
			kl--;
		if (kl >= sizeof(key))
			return 0;
		memcpy(key, value, kl);
		key[kl] = '\0';
		if (strcmp(key, "endpoint_url") != 0)
			return 0;
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		ns = realloc(x->svc, (x->nsvc + 1) * sizeof(*ns));
		if (ns == NULL) {
			x->oom = 1;
			return 1;
		}
		x->svc = ns;
		const char *sn = section + 9;
		while (isspace((unsigned char)*sn))
			sn++;
		ns[x->nsvc].section = strdup(sn);
		ns[x->nsvc].service = strdup(name);
		ns[x->nsvc].url = strdup(eq);
		x->nsvc++;
		return 0;
	}
	if (!x->in_credentials && strncmp(section, "sso-session", 11) == 0 &&
	    isspace((unsigned char)section[11])) {
		const char *sn = section + 12;
		struct sso_section *ss = NULL;
		size_t i;
		while (isspace((unsigned char)*sn))
			sn++;
		for (i = 0; i < x->nsso; i++)
			if (strcmp(x->sso[i].name, sn) == 0)
				ss = &x->sso[i];
		if (ss == NULL) {
			ss = realloc(x->sso, (x->nsso + 1) * sizeof(*ss));
			if (ss == NULL) {
				x->oom = 1;
				return 1;
			}
			x->sso = ss;
			ss = &x->sso[x->nsso++];
			memset(ss, 0, sizeof(*ss));
			if ((ss->name = strdup(sn)) == NULL) {
				x->oom = 1;
				return 1;
			}
		}
		if (strcmp(name, "sso_start_url") == 0)
			set_str(&ss->start_url, value);
		else if (strcmp(name, "sso_region") == 0)
			set_str(&ss->region, value);
		return 0;
	}
	if (!is_profile_section(x, section))
		return 0;
	x->found_profile = 1;
	if (x->in_credentials) {
		if (strcmp(name, "aws_access_key_id") == 0)
			set_str(&c->file_access_key, value);
		else if (strcmp(name, "aws_secret_access_key") == 0)
			set_str(&c->file_secret_key, value);
		else if (strcmp(name, "aws_session_token") == 0)
			set_str(&c->file_session_token, value);
		return 0;
	}
	if (strcmp(name, "aws_access_key_id") == 0)
		set_str(&x->cfg_ak, value);
	else if (strcmp(name, "aws_secret_access_key") == 0)
		set_str(&x->cfg_sk, value);
	else if (strcmp(name, "aws_session_token") == 0)
		set_str(&x->cfg_tok, value);
	else if (strcmp(name, "region") == 0 && c->region == NULL && *value)
		set_str(&c->region, value);
	else if (strcmp(name, "credential_process") == 0)
		set_str(&c->credential_process, value);
	else if (strcmp(name, "endpoint_url") == 0 && c->endpoint_url == NULL && *value)
		set_str(&c->endpoint_url, value);
	else if (strcmp(name, "services") == 0)
		set_str(&x->services_name, value);
	else if (strcmp(name, "ca_bundle") == 0 && c->ca_bundle == NULL && *value)
		set_str(&c->ca_bundle, value);
	else if (strcmp(name, "max_attempts") == 0 && c->max_attempts == 0)
		c->max_attempts = atoi(value);
	else if (strcmp(name, "retry_mode") == 0 && c->retry_mode == NULL && *value)
		set_str(&c->retry_mode, value);
	else if (strcmp(name, "role_arn") == 0)
		set_str(&c->role_arn, value);
	else if (strcmp(name, "source_profile") == 0)
		set_str(&c->source_profile, value);
	else if (strcmp(name, "credential_source") == 0)
		set_str(&c->credential_source, value);
	else if (strcmp(name, "role_session_name") == 0)
		set_str(&c->role_session_name, value);
	else if (strcmp(name, "external_id") == 0)
		set_str(&c->external_id, value);
	else if (strcmp(name, "mfa_serial") == 0)
		set_str(&c->mfa_serial, value);
	else if (strcmp(name, "duration_seconds") == 0) {
		char *end;
		long n = strtol(value, &end, 10);
		c->duration_s = (*value == '\0' || *end || n < 900 || n > 43200) ? -1 : (int)n;
	} else if (strcmp(name, "sso_session") == 0 && *value)
		set_str(&c->sso_session, value);
	else if (strcmp(name, "sso_start_url") == 0 && *value)
		set_str(&c->sso_start_url, value);
	else if (strcmp(name, "sso_region") == 0 && *value)
		set_str(&c->sso_region, value);
	else if (strcmp(name, "sso_account_id") == 0 && *value)
		set_str(&c->sso_account_id, value);
	else if (strcmp(name, "sso_role_name") == 0 && *value)
		set_str(&c->sso_role_name, value);
	else if (strcmp(name, "web_identity_token_file") == 0 && *value)
		set_str(&c->web_identity, value);
	return 0;
}

static int
validate_settings(struct creds_config *c, struct cut_err *err)
{
	if (c->max_attempts < 0 || c->max_attempts > 20)
		return cut_err_set(err, CUT_ECONFIG,
		    "max_attempts must be between 1 and 20 (AWS_MAX_ATTEMPTS or max_attempts in %s); fix it and run again.",
		    c->config_path ? c->config_path : "the AWS config file");
	if (c->retry_mode && strcmp(c->retry_mode, "standard") != 0 &&
	    strcmp(c->retry_mode, "legacy") != 0 && strcmp(c->retry_mode, "adaptive") != 0)
		return cut_err_set(err, CUT_ECONFIG,
		    "retry_mode '%s' is not one of standard, legacy or adaptive (AWS_RETRY_MODE or retry_mode); fix it and run again.",
		    c->retry_mode);
	return 0;
}

char *
creds_home_path(const char *rel)
{
	const char *h = getenv("HOME");
	struct sbuf b = SBUF_INIT;

	sbuf_add(&b, h && *h ? h : "/");
	sbuf_add(&b, rel);
	return sbuf_steal(&b);
}

/* Completes an SSO profile from its [sso-session] and checks it has what
 * GetRoleCredentials needs. */
static int
load_sso(struct creds_config *c, struct load_ctx *x, struct cut_err *err)
{
	size_t i;

	if (c->sso_session) {
		for (i = 0; i < x->nsso; i++)
			if (strcmp(x->sso[i].name, c->sso_session) == 0)
				break;
		if (i == x->nsso)
			return cut_err_set(err, CUT_ECONFIG,
			    "AWS profile '%s' names sso_session '%.64s', which has no [sso-session %.64s] section in %s; add it (aws configure sso).",
			    c->profile, c->sso_session, c->sso_session, c->config_path);
		if (x->sso[i].start_url && !c->sso_start_url)
			set_str(&c->sso_start_url, x->sso[i].start_url);
		if (x->sso[i].region && !c->sso_region)
			set_str(&c->sso_region, x->sso[i].region);
	}
	if (!c->sso_session && !c->sso_start_url)
		return 0;
	if (!c->sso_start_url || !c->sso_region || !c->sso_account_id || !c->sso_role_name)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' in %s is an SSO profile without all of sso_start_url, sso_region, sso_account_id and sso_role_name; run `aws configure sso --profile %s` to complete it.",
		    c->profile, c->config_path, c->profile);
	return 0;
}

static int load_text(const struct creds_opts *o, const char *credentials_text,
    const char *config_text, int depth, const char *const *chain,
    struct creds_config **out, struct cut_err *err);

/* Checks a role profile's settings and loads its source_profile (whose own
 * role, if any, loads its source in turn). chain holds the profiles already
 * on the way here, to refuse a loop instead of recursing forever. */
static int
load_role(const struct creds_opts *o, const char *credentials_text, const char *config_text,
    struct creds_config *c, int depth, const char *const *chain, struct cut_err *err)
{
	static const char *const sources[] = { "Environment", "Ec2InstanceMetadata", "EcsContainer" };
	const char *where = c->config_path;
	const char *next[CREDS_MAX_ROLE_CHAIN + 2];
	struct creds_opts so = { 0 };
	size_t i;
	int r;

	if (c->role_arn && c->web_identity && !c->source_profile && !c->credential_source)
		return 0; /* AssumeRoleWithWebIdentity: refused when resolving */
	if (c->role_arn == NULL) {
		if (c->source_profile || c->credential_source)
			return cut_err_set(err, CUT_ECONFIG,
			    "AWS profile '%s' in %s has %s but no role_arn; add the role_arn to assume or remove it.",
			    c->profile, where, c->source_profile ? "source_profile" : "credential_source");
		return 0;
	}
	if (strncmp(c->role_arn, "arn:", 4) != 0 || strstr(c->role_arn, ":role/") == NULL)
		return cut_err_set(err, CUT_ECONFIG,
		    "The role_arn of AWS profile '%s' in %s is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME); fix it.",
		    c->profile, where);
	if (c->duration_s < 0)
		return cut_err_set(err, CUT_ECONFIG,
		    "The duration_seconds of AWS profile '%s' in %s is not a number of seconds from 900 to 43200; fix it.",
		    c->profile, where);
	if (c->source_profile && c->credential_source)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' in %s has both source_profile and credential_source; keep only one.",
		    c->profile, where);
	if (!c->source_profile && !c->credential_source)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' in %s has role_arn but neither source_profile nor credential_source; add one of them.",
		    c->profile, where);
	if (c->credential_source) {
		for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
			if (strcmp(c->credential_source, sources[i]) == 0)
				return 0;
		return cut_err_set(err, CUT_ECONFIG,
		    "The credential_source of AWS profile '%s' in %s is '%.64s', not Environment, Ec2InstanceMetadata or EcsContainer; fix it.",
		    c->profile, where, c->credential_source);
	}
	/* A profile that is its own source uses its own static keys (checked
	 * when resolving), as the AWS CLI allows. */
	if (strcmp(c->source_profile, c->profile) == 0)
		return 0;
	for (i = 0; (int)i < depth; i++)
		if (strcmp(chain[i], c->source_profile) == 0)
			return cut_err_set(err, CUT_ECONFIG,
			    "The source_profile settings of AWS profiles '%s' and '%s' in %s form a loop; point one of them at a profile with keys.",
			    c->profile, c->source_profile, where);
	if (depth >= CREDS_MAX_ROLE_CHAIN)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' chains more than %d roles through source_profile; shorten the chain in %s.",
		    chain[0], CREDS_MAX_ROLE_CHAIN, where);
	for (i = 0; (int)i < depth; i++)
		next[i] = chain[i];
	next[depth] = c->profile;
	so.profile = c->source_profile;
	so.region = c->region;
	so.http_timeout_ms = o ? o->http_timeout_ms : 0;
	so.process_timeout_ms = o ? o->process_timeout_ms : 0;
	r = load_text(&so, credentials_text, config_text, depth + 1, next, &c->source, err);
	if (r == CUT_ECONFIG && c->source == NULL && strncmp(err->msg, "The AWS profile '", 17) == 0 &&
	    strstr(err->msg, "is in neither") != NULL)
		return cut_err_set(err, CUT_ECONFIG,
		    "The source_profile '%.64s' of AWS profile '%s' is in neither %s nor %s; fix source_profile or create that profile.",
		    c->source_profile, c->profile, c->credentials_path, c->config_path);
	return r;
}

int
creds_config_load_text(const struct creds_opts *o, const char *credentials_text,
    const char *config_text, struct creds_config **out, struct cut_err *err)
{
	return load_text(o, credentials_text, config_text, 0, NULL, out, err);
}

static int
load_text(const struct creds_opts *o, const char *credentials_text,
    const char *config_text, int depth, const char *const *chain,
    struct creds_config **out, struct cut_err *err)
{
	struct creds_config *c;
	struct load_ctx x;
	const char *v;
	size_t i;
	int line, r = 0, profile_named = 0;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading the AWS configuration.");
	memset(&x, 0, sizeof(x));
	x.c = c;
	c->http_timeout_ms = o && o->http_timeout_ms > 0 ? o->http_timeout_ms : 1000;
	c->process_timeout_ms = o && o->process_timeout_ms > 0 ? o->process_timeout_ms : PROCESS_TIMEOUT_S * 1000L;
	if (o && o->profile && *o->profile) {
		c->profile = strdup(o->profile);
		c->profile_explicit = 1;
		profile_named = 1;
	} else if ((v = env("AWS_PROFILE")) != NULL || (v = env("AWS_DEFAULT_PROFILE")) != NULL) {
		c->profile = strdup(v);
		profile_named = 1;
	} else {
		c->profile = strdup("default");
	}
	if ((v = env("AWS_SHARED_CREDENTIALS_FILE")) != NULL)
		c->credentials_path = strdup(v);
	else
		c->credentials_path = creds_home_path("/.aws/credentials");
	if ((v = env("AWS_CONFIG_FILE")) != NULL)
		c->config_path = strdup(v);
	else
		c->config_path = creds_home_path("/.aws/config");
	if (c->profile == NULL || c->credentials_path == NULL || c->config_path == NULL)
		goto oom;

	/* Settings the environment gives win over the files: set them first,
	 * the handler only fills what is still unset. */
	if (o && o->region && *o->region)
		c->region = strdup(o->region);
	else if ((v = env("AWS_REGION")) != NULL || (v = env("AWS_DEFAULT_REGION")) != NULL)
		c->region = strdup(v);
	if ((v = env("AWS_CA_BUNDLE")) != NULL)
		c->ca_bundle = strdup(v);
	if ((v = env("AWS_MAX_ATTEMPTS")) != NULL) {
		char *end;
		long n = strtol(v, &end, 10);
		c->max_attempts = (*end || n < 1) ? -1 : (int)n;
	}
	if ((v = env("AWS_RETRY_MODE")) != NULL)
		c->retry_mode = strdup(v);
	if ((v = env("AWS_ENDPOINT_URL")) != NULL) {
		c->endpoint_url = strdup(v);
		c->endpoint_from_env = 1;
	}
	c->ignore_endpoints = env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	if (credentials_text) {
		x.in_credentials = 1;
		if ((r = inifile_check_lines(c->credentials_path, credentials_text, err)) != 0)
			goto fail;
		if ((line = inifile_parse_string(credentials_text, load_handler, &x)) != 0 && !x.oom) {
			r = cut_err_set(err, CUT_ECONFIG,
			    "%s line %d is not valid INI; fix that line (sections look like [name], settings like key = value).",
			    c->credentials_path, line);
			goto fail;
		}
	}
	if (config_text) {
		x.in_credentials = 0;
		if ((r = inifile_check_lines(c->config_path, config_text, err)) != 0)
			goto fail;
		if ((line = inifile_parse_string(config_text, load_handler, &x)) != 0 && !x.oom) {
			r = cut_err_set(err, CUT_ECONFIG,
			    "%s line %d is not valid INI; fix that line (sections look like [profile name], settings like key = value).",
			    c->config_path, line);
			goto fail;
		}
	}
	if (x.oom)
		goto oom;
	c->file_source = NULL;
	if (c->file_access_key || c->file_secret_key) {
		c->file_source = "shared-credentials-file";
	} else if (x.cfg_ak || x.cfg_sk) {
		c->file_access_key = x.cfg_ak;
		c->file_secret_key = x.cfg_sk;
		c->file_session_token = x.cfg_tok;
		x.cfg_ak = x.cfg_sk = x.cfg_tok = NULL;
		c->file_source = "config-file";
	}
	if ((c->file_access_key == NULL) != (c->file_secret_key == NULL)) {
		r = cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' in %s has only one of aws_access_key_id and aws_secret_access_key; add the other.",
		    c->profile, strcmp(c->file_source, "config-file") == 0 ? c->config_path : c->credentials_path);
		goto fail;
	}
	if (profile_named && !x.found_profile && strcmp(c->profile, "default") != 0) {
		r = cut_err_set(err, CUT_ECONFIG,
		    "The AWS profile '%s' is in neither %s nor %s; check the name (aws configure list-profiles) or create it.",
		    c->profile, c->credentials_path, c->config_path);
		goto fail;
	}
	if (x.services_name) {
		for (i = 0; i < x.nsvc; i++) {
			struct creds_endpoint_override *ne;
			if (strcmp(x.svc[i].section, x.services_name) != 0)
				continue;
			ne = realloc(c->svc_endpoints, (c->nsvc_endpoints + 1) * sizeof(*ne));
			if (ne == NULL)
				goto oom;
			c->svc_endpoints = ne;
			ne[c->nsvc_endpoints].service = x.svc[i].service;
			ne[c->nsvc_endpoints].url = x.svc[i].url;
			x.svc[i].service = x.svc[i].url = NULL;
			c->nsvc_endpoints++;
		}
	}
	if ((r = validate_settings(c, err)) != 0)
		goto fail;
	if ((r = load_sso(c, &x, err)) != 0)
		goto fail;
	if ((r = load_role(o, credentials_text, config_text, c, depth, chain, err)) != 0)
		goto fail;
	goto done;
oom:
	r = cut_err_set(err, CUT_ENOMEM, "Out of memory reading the AWS configuration.");
fail:
	creds_config_free(c);
	c = NULL;
done:
	for (i = 0; i < x.nsvc; i++) {
		free(x.svc[i].section);
		free(x.svc[i].service);
		free(x.svc[i].url);
	}
	free(x.svc);
	for (i = 0; i < x.nsso; i++) {
		free(x.sso[i].name);
		free(x.sso[i].start_url);
		free(x.sso[i].region);
	}
	free(x.sso);
	free(x.services_name);
	zfree(x.cfg_ak);
	zfree(x.cfg_sk);
	zfree(x.cfg_tok);
	*out = c;
	return r;
}

int
creds_config_load(const struct creds_opts *o, struct creds_config **out,
    struct cut_err *err)
{
	char *cpath, *fpath, *ctext = NULL, *ftext = NULL;
	const char *v;
	int r;

	*out = NULL;
	cpath = (v = env("AWS_SHARED_CREDENTIALS_FILE")) ? strdup(v) : creds_home_path("/.aws/credentials");
	fpath = (v = env("AWS_CONFIG_FILE")) ? strdup(v) : creds_home_path("/.aws/config");
	if (cpath == NULL || fpath == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory reading the AWS configuration.");
		goto out;
	}
	if ((r = inifile_read(cpath, &ctext, err)) != 0 && r != CUT_ENOTFOUND)
		goto out;
	if ((r = inifile_read(fpath, &ftext, err)) != 0 && r != CUT_ENOTFOUND)
		goto out;
	cut_err_clear(err);
	r = creds_config_load_text(o, ctext, ftext, out, err);
out:
	free(cpath);
	free(fpath);
	if (ctext) {
		explicit_bzero(ctext, strlen(ctext));
		free(ctext);
	}
	if (ftext) {
		explicit_bzero(ftext, strlen(ftext));
		free(ftext);
	}
	return r;
}

void
creds_config_free(struct creds_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->profile);
	free(c->region);
	free(c->ca_bundle);
	free(c->retry_mode);
	free(c->endpoint_url);
	for (i = 0; i < c->nsvc_endpoints; i++) {
		free(c->svc_endpoints[i].service);
		free(c->svc_endpoints[i].url);
	}
	free(c->svc_endpoints);
	zfree(c->file_access_key);
	zfree(c->file_secret_key);
	zfree(c->file_session_token);
	free(c->credential_process);
	free(c->credentials_path);
	free(c->config_path);
	free(c->role_arn);
	free(c->source_profile);
	free(c->credential_source);
	free(c->role_session_name);
	free(c->external_id);
	free(c->mfa_serial);
	free(c->sso_session);
	free(c->sso_start_url);
	free(c->sso_region);
	free(c->sso_account_id);
	free(c->sso_role_name);
	free(c->web_identity);
	creds_config_free(c->source);
	free(c);
}

const char *
creds_endpoint(const struct creds_config *c, const char *env_id, const char *cfg_id)
{
	char name[128];
	const char *v;
	size_t i;

	if (c->ignore_endpoints)
		return NULL;
	snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", env_id);
	if ((v = env(name)) != NULL)
		return v;
	if (c->endpoint_from_env && c->endpoint_url)
		return c->endpoint_url;
	for (i = 0; i < c->nsvc_endpoints; i++)
		if (strcmp(c->svc_endpoints[i].service, cfg_id) == 0)
			return c->svc_endpoints[i].url;
	return c->endpoint_url;
}
