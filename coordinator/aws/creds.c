/* aws/creds.c: see aws/creds.h. */
#include "aws/creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/sha.h>

#include "base/inifile.h"
#include "base/sbuf.h"

extern char **environ;

#define PROCESS_TIMEOUT_S 60
#define PROCESS_MAX_OUTPUT (64 * 1024)

static char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void
zfree(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
set_str(char **dst, const char *v)
{
	zfree(*dst);
	*dst = xstrdup(v);
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int
env_true(const char *name)
{
	const char *v = env(name);
	return v && strcasecmp(v, "true") == 0;
}

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

static char *
home_path(const char *rel)
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
		c->credentials_path = home_path("/.aws/credentials");
	if ((v = env("AWS_CONFIG_FILE")) != NULL)
		c->config_path = strdup(v);
	else
		c->config_path = home_path("/.aws/config");
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
	cpath = (v = env("AWS_SHARED_CREDENTIALS_FILE")) ? strdup(v) : home_path("/.aws/credentials");
	fpath = (v = env("AWS_CONFIG_FILE")) ? strdup(v) : home_path("/.aws/config");
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

/* ---- parsing credential JSON ------------------------------------------------ */

int
creds_parse_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *p;
	int off = 0;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		/* Exactly "+HH:MM": sscanf("%2d") also takes "+1:2", and
		 * stepping 6 bytes past that ran off the end of the string. */
		int hh, mm;
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -1;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return -1;
		off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else if (*p != '\0') {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*t = timegm(&tm) - off;
	return 0;
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
creds_parse_json(const char *json, const char *what, struct creds *out,
    struct cut_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	const char *ak, *sk, *tk, *ex;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((tok = json_tokener_new()) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading credentials.");
	o = json_tokener_parse_ex(tok, json, (int)strnlen(json, PROCESS_MAX_OUTPUT));
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cut_err_set(err, CUT_EPROTO,
		    "The credentials from %s are not a JSON object; check what it prints.", what);
	}
	ak = jstr(o, "AccessKeyId");
	sk = jstr(o, "SecretAccessKey");
	tk = jstr(o, "SessionToken");
	if (tk == NULL)
		tk = jstr(o, "Token");
	ex = jstr(o, "Expiration");
	if (ak == NULL || sk == NULL || !*ak || !*sk) {
		r = cut_err_set(err, CUT_EPROTO,
		    "The credentials from %s lack AccessKeyId or SecretAccessKey; check what it prints.", what);
		goto out;
	}
	{
		struct json_object *ver;
		if (json_object_object_get_ex(o, "Version", &ver) && json_object_get_int(ver) != 1) {
			r = cut_err_set(err, CUT_EPROTO,
			    "The credentials from %s have Version %d; only Version 1 exists, so check the program.",
			    what, json_object_get_int(ver));
			goto out;
		}
	}
	if (ex && creds_parse_time(ex, &out->expiration) != 0) {
		r = cut_err_set(err, CUT_EPROTO,
		    "The credentials from %s have an Expiration that is not an ISO 8601 time ('%.40s'); check the program.",
		    what, ex);
		goto out;
	}
	out->access_key = strdup(ak);
	out->secret_key = strdup(sk);
	out->session_token = tk && *tk ? strdup(tk) : NULL;
	if (out->access_key == NULL || out->secret_key == NULL || (tk && *tk && !out->session_token)) {
		creds_free(out);
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory reading credentials.");
	}
out:
	json_object_put(o);
	return r;
}

/* ---- credential_process ----------------------------------------------------- */

/* Splits a command line the way the AWS CLI does on POSIX (shlex): words
 * separated by blanks, single quotes literal, double quotes with backslash
 * escapes, backslash outside quotes escapes the next character. No shell is
 * involved, so nothing expands. Returns a NULL-terminated argv (caller frees
 * each element and the array) or NULL on an unbalanced quote. */
static char **
split_command(const char *s, int *nargs)
{
	char **argv = NULL;
	int n = 0;
	struct sbuf w = SBUF_INIT;
	int inword = 0;

	for (;;) {
		char c = *s;
		if (c == '\0' || isspace((unsigned char)c)) {
			if (inword) {
				char **na = realloc(argv, (size_t)(n + 2) * sizeof(*na));
				if (na == NULL)
					goto bad;
				argv = na;
				if ((argv[n] = sbuf_steal(&w)) == NULL)
					goto bad;
				n++;
				argv[n] = NULL;
				inword = 0;
			}
			if (c == '\0')
				break;
			s++;
			continue;
		}
		inword = 1;
		if (c == '\'') {
			const char *e = strchr(s + 1, '\'');
			if (e == NULL)
				goto bad;
			sbuf_addn(&w, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else if (c == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`'))
					s++;
				sbuf_addc(&w, *s++);
			}
			if (*s != '"')
				goto bad;
			s++;
		} else if (c == '\\' && s[1]) {
			sbuf_addc(&w, s[1]);
			s += 2;
		} else {
			sbuf_addc(&w, c);
			s++;
		}
	}
	*nargs = n;
	return argv;
bad:
	sbuf_free(&w);
	while (n > 0)
		free(argv[--n]);
	free(argv);
	return NULL;
}

static int64_t
proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the profile's credential_process with no shell, stdin from
 * /dev/null (it must not read the operator's terminal) and in a process
 * group of its own, all under one deadline: a program that closes stdout
 * but never exits, or leaves a child holding the pipe, is killed with its
 * group rather than hanging the run. */
static int
run_credential_process(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	char **argv;
	int nargs = 0, i, p[2], st = 0, r, timed_out = 0, exited = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct sbuf outb = SBUF_INIT;
	long limit_ms = c->process_timeout_ms > 0 ? c->process_timeout_ms : PROCESS_TIMEOUT_S * 1000L;
	int64_t deadline = proc_now_ms() + limit_ms;
	char what[256];

	snprintf(what, sizeof(what), "the credential_process of AWS profile '%s'", c->profile);
	argv = split_command(c->credential_process, &nargs);
	if (argv == NULL || nargs == 0) {
		if (argv)
			free(argv);
		return cut_err_set(err, CUT_ECONFIG,
		    "The credential_process of AWS profile '%s' in %s is empty or has an unbalanced quote; fix it.",
		    c->profile, c->config_path);
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		r = cut_err_set(err, CUT_EIO, "Cannot create a pipe for %s (%s).", what, strerror(errno));
		goto out_argv;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		r = cut_err_set(err, CUT_ECONFIG,
		    "Cannot run %s ('%s': %s); fix credential_process in %s.", what, argv[0],
		    strerror(r), c->config_path);
		goto out_argv;
	}
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;
		int64_t left = deadline - proc_now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (outb.len + (size_t)n > PROCESS_MAX_OUTPUT) {
			outb.oom = 1;
			break;
		}
		sbuf_addn(&outb, buf, (size_t)n);
	}
	close(p[0]);
	/* Its stdout is closed; it still has until the deadline to exit. */
	while (!timed_out && !outb.oom) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			exited = 1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (proc_now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		poll(NULL, 0, 20);
	}
	if (!exited) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (timed_out) {
		r = cut_err_set(err, CUT_ETIMEOUT, "%s did not finish within %ld s, so it was stopped; run it by "
		    "hand to see why.", what, (limit_ms + 999) / 1000);
		goto out;
	}
	if (outb.oom) {
		r = cut_err_set(err, CUT_EPROTO, "%s printed more than 64 KiB; check the program.", what);
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r = cut_err_set(err, CUT_EAUTH, "%s (%s) failed with %s %d; run it by hand to see why.",
		    what, argv[0], WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		goto out;
	}
	r = creds_parse_json(sbuf_str(&outb), what, out, err);
out:
	sbuf_free(&outb);
out_argv:
	for (i = 0; i < nargs; i++)
		free(argv[i]);
	free(argv);
	return r;
}

/* ---- container and IMDS (HTTP on a link-local address) ---------------------- */

static size_t
collect(char *p, size_t sz, size_t n, void *user)
{
	struct sbuf *b = user;

	if (b->len + sz * n > PROCESS_MAX_OUTPUT)
		return 0;
	sbuf_addn(b, p, sz * n);
	return b->oom ? 0 : sz * n;
}

/* One small HTTP request with tight timeouts (cainfo: CA file for https, or
 * NULL for the system's). Returns the HTTP status (0 if
 * the request failed), body in *body (caller frees). */
static long
small_http(const char *method, const char *url, const char *hdr1, const char *cainfo,
    long timeout_ms, char **body)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hl = NULL;
	struct sbuf b = SBUF_INIT;
	long status = 0;

	*body = NULL;
	if (h == NULL)
		return 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms * 2);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (cainfo)
		curl_easy_setopt(h, CURLOPT_CAINFO, cainfo);
	if (hdr1)
		hl = curl_slist_append(hl, hdr1);
	if (hl)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	/* The slist may hold a token: wipe it before freeing. */
	for (struct curl_slist *s = hl; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	*body = sbuf_steal(&b);
	return status;
}

static int
container_creds(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char url[2048], *body = NULL, *filetok = NULL;
	struct sbuf ah = SBUF_INIT;
	long st;
	int r;

	if (rel)
		snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
	else
		snprintf(url, sizeof(url), "%s", full);
	if (tokfile && !tok) {
		size_t n;
		if (inifile_read(tokfile, &filetok, err) != 0)
			return cut_err_set(err, CUT_EAUTH,
			    "Cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s; check the container's setup.", tokfile);
		n = strlen(filetok);
		while (n > 0 && isspace((unsigned char)filetok[n - 1]))
			filetok[--n] = '\0';
		tok = filetok;
	}
	if (tok)
		sbuf_addf(&ah, "Authorization: %s", tok);
	st = small_http("GET", url, tok ? sbuf_str(&ah) : NULL, NULL, c->http_timeout_ms * 2, &body);
	sbuf_free(&ah);
	if (filetok) {
		explicit_bzero(filetok, strlen(filetok));
		free(filetok);
	}
	if (st != 200) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The container credentials endpoint %s answered %s%ld; check the task role or unset AWS_CONTAINER_CREDENTIALS_*.",
		    rel ? "169.254.170.2" : "in AWS_CONTAINER_CREDENTIALS_FULL_URI",
		    st ? "HTTP " : "nothing (status ", st);
	} else {
		r = creds_parse_json(body ? body : "", "the container credentials endpoint", out, err);
	}
	if (body) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	if (r == 0)
		out->source = "container";
	return r;
}

static int
imds_creds(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char url[1024], *tok = NULL, *role = NULL, *body = NULL, *nl;
	struct sbuf th = SBUF_INIT;
	long st;
	int r = CUT_EAUTH;

	if (base == NULL)
		base = "http://169.254.169.254";
	snprintf(url, sizeof(url), "%s%slatest/api/token", base,
	    base[strlen(base) - 1] == '/' ? "" : "/");
	st = small_http("PUT", url, "x-aws-ec2-metadata-token-ttl-seconds: 21600", NULL,
	    c->http_timeout_ms, &tok);
	if (st != 200 || tok == NULL || !*tok) {
		r = CUT_ENOTFOUND;
		goto out;
	}
	sbuf_addf(&th, "X-aws-ec2-metadata-token: %s", tok);
	snprintf(url, sizeof(url), "%s%slatest/meta-data/iam/security-credentials/", base,
	    base[strlen(base) - 1] == '/' ? "" : "/");
	st = small_http("GET", url, sbuf_str(&th), NULL, c->http_timeout_ms, &role);
	if (st != 200 || role == NULL || !*role) {
		r = CUT_ENOTFOUND;
		goto out;
	}
	if ((nl = strchr(role, '\n')) != NULL)
		*nl = '\0';
	if (strchr(role, '/') || strlen(role) > 128) {
		r = cut_err_set(err, CUT_EPROTO, "The instance metadata service returned an odd role name; check the instance profile.");
		goto out;
	}
	snprintf(url, sizeof(url), "%s%slatest/meta-data/iam/security-credentials/%s", base,
	    base[strlen(base) - 1] == '/' ? "" : "/", role);
	st = small_http("GET", url, sbuf_str(&th), NULL, c->http_timeout_ms, &body);
	if (st != 200) {
		r = cut_err_set(err, CUT_EAUTH, "The instance metadata service answered HTTP %ld for role %s; check the instance profile.", st, role);
		goto out;
	}
	if ((r = creds_parse_json(body ? body : "", "the EC2 instance metadata service", out, err)) == 0)
		out->source = "imds";
out:
	sbuf_free(&th);
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	free(role);
	if (body) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	return r;
}

static int
dup_keys(struct creds *out, const char *ak, const char *sk, const char *tok, const char *source,
    struct cut_err *err)
{
	out->access_key = strdup(ak);
	out->secret_key = strdup(sk);
	out->session_token = xstrdup(tok);
	out->source = source;
	if (out->access_key == NULL || out->secret_key == NULL || (tok && !out->session_token)) {
		creds_free(out);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading credentials.");
	}
	return 0;
}

/* 1 when the environment holds keys (0 with *r set if only one is). */
static int
env_keys(struct creds *out, int *r, struct cut_err *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");

	*r = 0;
	if (!ak && !sk)
		return 0;
	if (!ak || !sk) {
		*r = cut_err_set(err, CUT_EAUTH,
		    "Only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or unset both.");
		return 1;
	}
	*r = dup_keys(out, ak, sk, env("AWS_SESSION_TOKEN"), "environment", err);
	return 1;
}

static int resolve_profile(const struct creds_config *c, int top, creds_assume_fn assume,
    void *user, struct creds *out, struct cut_err *err);

#define SSO_TIMEOUT_MS 10000

/* The `aws sso login` access token of c's session (caller frees, zeroing
 * it first); CUT_EAUTH with what to run when there is none or it expired. */
static int
sso_token(const struct creds_config *c, char **token, struct cut_err *err)
{
	const char *key = c->sso_session ? c->sso_session : c->sso_start_url;
	unsigned char md[SHA_DIGEST_LENGTH];
	char hex[2 * SHA_DIGEST_LENGTH + 1], *rel, *path, *text = NULL;
	struct json_object *o = NULL;
	const char *tok, *exp;
	time_t t;
	int i, r;

	*token = NULL;
	SHA1((const unsigned char *)key, strlen(key), md);
	for (i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (asprintf(&rel, "/.aws/sso/cache/%s.json", hex) < 0)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading the SSO token cache.");
	path = home_path(rel);
	free(rel);
	if (path == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading the SSO token cache.");
	r = inifile_read(path, &text, err);
	if (r == CUT_ENOTFOUND) {
		r = cut_err_set(err, CUT_EAUTH,
		    "AWS profile '%s' uses SSO and there is no login for it in ~/.aws/sso/cache; run `aws sso login --profile %s` and run again.",
		    c->profile, c->profile);
		goto out;
	}
	if (r != 0)
		goto out;
	o = json_tokener_parse(text);
	tok = o ? jstr(o, "accessToken") : NULL;
	exp = o ? jstr(o, "expiresAt") : NULL;
	if (tok == NULL || !*tok || exp == NULL || creds_parse_time(exp, &t) != 0) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The SSO token cache %s lacks accessToken or expiresAt; run `aws sso login --profile %s` and run again.",
		    path, c->profile);
		goto out;
	}
	if (t <= time(NULL) + 60) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The SSO login of AWS profile '%s' expired at %s; run `aws sso login --profile %s` and run again.",
		    c->profile, exp, c->profile);
		goto out;
	}
	if ((*token = strdup(tok)) == NULL)
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory reading the SSO token cache.");
out:
	if (o) {
		/* The token also lives in the json object: wipe what we can. */
		json_object_put(o);
	}
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	free(path);
	return r;
}

int
creds_sso(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	const char *ep = creds_endpoint(c, "SSO", "sso");
	struct sbuf url = SBUF_INIT, hdr = SBUF_INIT;
	struct json_object *o = NULL, *rc;
	char *token, *body = NULL;
	long st;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = sso_token(c, &token, err)) != 0)
		return r;
	if (ep) {
		size_t l = strlen(ep);
		while (l > 0 && ep[l - 1] == '/')
			l--;
		sbuf_addn(&url, ep, l);
	} else {
		sbuf_addf(&url, "https://portal.sso.%s.amazonaws.com", c->sso_region);
	}
	sbuf_add(&url, "/federation/credentials?account_id=");
	sbuf_add_uri(&url, c->sso_account_id, strlen(c->sso_account_id), NULL);
	sbuf_add(&url, "&role_name=");
	sbuf_add_uri(&url, c->sso_role_name, strlen(c->sso_role_name), NULL);
	sbuf_addf(&hdr, "x-amz-sso_bearer_token: %s", token);
	explicit_bzero(token, strlen(token));
	free(token);
	if (url.oom || hdr.oom) {
		r = cut_err_set(err, CUT_ENOMEM, "Out of memory calling the SSO portal.");
		goto out;
	}
	st = small_http("GET", sbuf_str(&url), sbuf_str(&hdr), c->ca_bundle, SSO_TIMEOUT_MS, &body);
	if (st == 401) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The SSO portal refused the login of AWS profile '%s' (expired or signed out); run `aws sso login --profile %s` and run again.",
		    c->profile, c->profile);
		goto out;
	}
	if (st == 403 || st == 404) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The SSO portal says the login of AWS profile '%s' has no role %.64s in account %.32s; check sso_role_name and sso_account_id (aws sso list-account-roles).",
		    c->profile, c->sso_role_name, c->sso_account_id);
		goto out;
	}
	if (st != 200) {
		r = cut_err_set(err, CUT_EAUTH,
		    "The SSO portal for AWS profile '%s' answered %s%ld; check the network, sso_region and the endpoint settings, then run again.",
		    c->profile, st ? "HTTP " : "nothing (status ", st);
		goto out;
	}
	o = json_tokener_parse(body ? body : "");
	if (o == NULL || !json_object_object_get_ex(o, "roleCredentials", &rc) ||
	    !jstr(rc, "accessKeyId") || !jstr(rc, "secretAccessKey") || !jstr(rc, "sessionToken")) {
		r = cut_err_set(err, CUT_EPROTO,
		    "The SSO portal answered AWS profile '%s' without role credentials; check the endpoint settings.",
		    c->profile);
		goto out;
	}
	if ((r = dup_keys(out, jstr(rc, "accessKeyId"), jstr(rc, "secretAccessKey"),
	    jstr(rc, "sessionToken"), "sso", err)) != 0)
		goto out;
	{
		struct json_object *e;
		/* Milliseconds since the epoch. */
		if (json_object_object_get_ex(rc, "expiration", &e))
			out->expiration = (time_t)(json_object_get_int64(e) / 1000);
	}
out:
	json_object_put(o);
	if (hdr.s)
		explicit_bzero(hdr.s, hdr.len);
	sbuf_free(&hdr);
	sbuf_free(&url);
	if (body) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	return r;
}

/* The credentials a role profile assumes its role with. */
static int
role_source(const struct creds_config *c, creds_assume_fn assume, void *user, struct creds *src,
    struct cut_err *err)
{
	const char *cs = c->credential_source;
	int r;

	if (cs && strcmp(cs, "Environment") == 0) {
		if (!env_keys(src, &r, err))
			return cut_err_set(err, CUT_EAUTH,
			    "AWS profile '%s' takes its source credentials from the environment, but AWS_ACCESS_KEY_ID is not set; set it and AWS_SECRET_ACCESS_KEY.",
			    c->profile);
		return r;
	}
	if (cs && strcmp(cs, "EcsContainer") == 0) {
		if (!env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") && !env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
			return cut_err_set(err, CUT_EAUTH,
			    "AWS profile '%s' takes its source credentials from the container, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI is not set; run it in the container or change credential_source.",
			    c->profile);
		return container_creds(c, src, err);
	}
	if (cs) {
		if ((r = imds_creds(c, src, err)) == CUT_ENOTFOUND)
			r = cut_err_set(err, CUT_EAUTH,
			    "AWS profile '%s' takes its source credentials from EC2 instance metadata, which did not answer; run it on an instance with a role or change credential_source.",
			    c->profile);
		return r;
	}
	if (strcmp(c->source_profile, c->profile) == 0) {
		if (c->file_access_key && c->file_secret_key)
			return dup_keys(src, c->file_access_key, c->file_secret_key, c->file_session_token,
			    c->file_source, err);
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' is its own source_profile but has no aws_access_key_id; add the keys or point source_profile at a profile that has them.",
		    c->profile);
	}
	return resolve_profile(c->source, 0, assume, user, src, err);
}

static int
assume_role(const struct creds_config *c, creds_assume_fn assume, void *user, struct creds *out,
    struct cut_err *err)
{
	struct creds src = { 0 };
	int r;

	if (assume == NULL)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' assumes a role, which needs an STS call this caller cannot make; use the AWS client (aws_client_new).",
		    c->profile);
	if (c->mfa_serial)
		return cut_err_set(err, CUT_EAUTH,
		    "AWS profile '%s' needs an MFA code (mfa_serial) and cutover does not prompt for one; run `aws sts get-session-token --serial-number %.100s --token-code CODE`, put the temporary keys in a profile or the environment, and run again.",
		    c->profile, c->mfa_serial);
	if ((r = role_source(c, assume, user, &src, err)) != 0)
		return r;
	r = assume(user, c, &src, out, err);
	creds_free(&src);
	if (r == 0)
		out->source = "assume-role";
	return r;
}

/* top: the selected profile (environment keys and the container/IMDS
 * fallbacks apply); else a source_profile, which must hold credentials
 * itself, as in the AWS CLI. */
static int
resolve_profile(const struct creds_config *c, int top, creds_assume_fn assume, void *user,
    struct creds *out, struct cut_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (top && !c->profile_explicit && env_keys(out, &r, err))
		return r;
	if (c->role_arn && (c->source_profile || c->credential_source))
		return assume_role(c, assume, user, out, err);
	if (c->sso_start_url)
		return creds_sso(c, out, err);
	if (c->web_identity)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' uses web_identity_token_file, which cutover does not support; run `eval \"$(aws configure export-credentials --profile %s --format env)\"` and run cutover again without --profile.",
		    c->profile, c->profile);
	if (c->file_access_key && c->file_secret_key)
		return dup_keys(out, c->file_access_key, c->file_secret_key, c->file_session_token,
		    c->file_source, err);
	if (c->credential_process) {
		if ((r = run_credential_process(c, out, err)) != 0)
			return r;
		out->source = "credential_process";
		return 0;
	}
	if (!top)
		return cut_err_set(err, CUT_EAUTH,
		    "The source_profile '%s' has no credentials (no keys, credential_process or role_arn) in %s or %s; add them there.",
		    c->profile, c->credentials_path, c->config_path);
	if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return container_creds(c, out, err);
	if (!env_true("AWS_EC2_METADATA_DISABLED")) {
		r = imds_creds(c, out, err);
		if (r != CUT_ENOTFOUND)
			return r;
	}
	return cut_err_set(err, CUT_EAUTH,
	    "No AWS credentials found (profile '%s': nothing in the environment, %s, %s, a container or instance metadata); "
	    "run `aws configure` or set AWS_PROFILE, then try again.",
	    c->profile, c->credentials_path, c->config_path);
}

int
creds_resolve_with(const struct creds_config *c, creds_assume_fn assume, void *user,
    struct creds *out, struct cut_err *err)
{
	return resolve_profile(c, 1, assume, user, out, err);
}

int
creds_resolve(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	return resolve_profile(c, 1, NULL, NULL, out, err);
}

int
creds_expired(const struct creds *cr, time_t now, int margin)
{
	return cr->expiration != 0 && cr->expiration - margin <= now;
}

void
creds_free(struct creds *cr)
{
	zfree(cr->access_key);
	zfree(cr->secret_key);
	zfree(cr->session_token);
	cr->access_key = cr->secret_key = cr->session_token = NULL;
	cr->expiration = 0;
}
