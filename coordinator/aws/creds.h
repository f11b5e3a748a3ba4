/* aws/creds.h: AWS credentials, region and endpoints, found the way the AWS CLI
 * finds them, so an operator's existing setup just works.
 *
 * creds_config_load reads the environment and the shared files once
 * (~/.aws/credentials and ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE) for the selected profile; creds_resolve then walks the
 * credential chain:
 *
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN), skipped when a profile was given with --profile
 *   1b. (role profiles) role_arn: STS AssumeRole with the credentials of
 *      source_profile or credential_source, chained up to
 *      CREDS_MAX_ROLE_CHAIN deep (see creds_resolve_with)
 *   1c. (SSO profiles) the `aws sso login` token cache, traded for role
 *      credentials at the SSO portal (creds_sso)
 *   2. the profile's static keys (credentials file over config file)
 *   3. the profile's credential_process (run without a shell, JSON on stdout)
 *   4. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
 *      _FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE])
 *   5. EC2 instance metadata, IMDSv2 only, with 1 s timeouts so a laptop
 *      without IMDS answers in about a second (AWS_EC2_METADATA_DISABLED=true
 *      skips it)
 *
 * Region: explicit (--region or the cutover config), AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's region.
 * Endpoint of a service: AWS_ENDPOINT_URL_<SERVICE>, the profile's
 * `services` section, AWS_ENDPOINT_URL, the profile's endpoint_url, else the
 * public endpoint (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores them all).
 *
 * Secrets (secret keys, session tokens, container tokens) never appear in an
 * error message: messages name the file, profile and key instead.
 */
#ifndef CUTOVER_CREDS_H
#define CUTOVER_CREDS_H

#include <time.h>

#include "base/err.h"

struct creds {
	char *access_key;     /* owned; freed by creds_free */
	char *secret_key;     /* owned, zeroed when freed */
	char *session_token;  /* owned or NULL */
	time_t expiration;    /* 0 = does not expire */
	const char *source;   /* static string: "environment", "shared-credentials-file",
	                         "config-file", "credential_process", "container", "imds",
	                         "assume-role", "sso" */
};

struct creds_opts {
	const char *profile;  /* --profile (or the cutover config's [aws] profile); NULL = none */
	const char *region;   /* --region (or the cutover config's region); NULL = none */
	long http_timeout_ms; /* container/IMDS timeout; 0 = 1000 */
	long process_timeout_ms; /* credential_process deadline; 0 = 60 s */
};

struct creds_endpoint_override {
	char *service;        /* config id, e.g. "elastic_beanstalk" */
	char *url;
};

/* Everything read from the environment and the shared files. Owned by the
 * caller of creds_config_load; free with creds_config_free. */
struct creds_config {
	char *profile;              /* selected profile name ("default" if none) */
	int profile_explicit;       /* given by --profile: environment keys are skipped */
	char *region;               /* resolved region or NULL */
	char *ca_bundle;            /* AWS_CA_BUNDLE or config ca_bundle, or NULL */
	int max_attempts;           /* AWS_MAX_ATTEMPTS / max_attempts; 0 = default (3) */
	char *retry_mode;           /* AWS_RETRY_MODE / retry_mode, or NULL (standard) */
	int ignore_endpoints;       /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
	char *endpoint_url;         /* global: env AWS_ENDPOINT_URL else profile endpoint_url */
	int endpoint_from_env;
	struct creds_endpoint_override *svc_endpoints; /* from the profile's services section */
	size_t nsvc_endpoints;
	/* From the profile (credentials file wins over config file). */
	char *file_access_key, *file_secret_key, *file_session_token;
	const char *file_source;
	char *credential_process;
	char *credentials_path, *config_path; /* the files read (for messages) */
	long http_timeout_ms;
	long process_timeout_ms;
	/* Role to assume (the profile's role_arn), as the AWS CLI does: the
	 * source credentials come from source_profile (its settings in
	 * `source`, loaded recursively, or this profile's own static keys when
	 * it names itself) or from credential_source. */
	char *role_arn, *source_profile, *credential_source;
	char *role_session_name, *external_id, *mfa_serial;
	int duration_s;             /* duration_seconds; 0 = STS's default (3600) */
	struct creds_config *source; /* source_profile's settings, owned, or NULL */
	/* IAM Identity Center (SSO): the profile's sso_account_id and
	 * sso_role_name, and the start URL and region from its [sso-session]
	 * (sso_session) or from the profile itself (the legacy form). */
	char *sso_session, *sso_start_url, *sso_region, *sso_account_id, *sso_role_name;
	char *web_identity;         /* web_identity_token_file when set (not supported) */
};

/* An SSO profile's credentials: the access token `aws sso login` cached in
 * ~/.aws/sso/cache/<sha1 of the session name or start URL>.json, traded
 * for role credentials at the SSO portal (GetRoleCredentials, endpoint
 * AWS_ENDPOINT_URL_SSO or the other endpoint settings). Fills out (caller
 * frees); a missing or expired token says to run `aws sso login`. */
int creds_sso(const struct creds_config *c, struct creds *out, struct cut_err *err);

/* Longest chain of role profiles followed through source_profile. */
#define CREDS_MAX_ROLE_CHAIN 5

/* Reads the environment and the shared files. A missing file is not an
 * error; a profile named with --profile/AWS_PROFILE that exists in neither
 * file is. The result is the caller's, freed with creds_config_free. */
int creds_config_load(const struct creds_opts *o, struct creds_config **out,
    struct cut_err *err);

/* Same as creds_config_load but with the file contents given as strings
 * (NULL = no such file), for tests and the fuzzer. */
int creds_config_load_text(const struct creds_opts *o, const char *credentials_text,
    const char *config_text, struct creds_config **out, struct cut_err *err);

void creds_config_free(struct creds_config *c);

/* Walks the credential chain. Fills *out (caller frees with creds_free).
 * A role profile fails here (CUT_ECONFIG): assuming a role takes an STS
 * call, which creds_resolve_with makes through its callback. */
int creds_resolve(const struct creds_config *c, struct creds *out, struct cut_err *err);

/* Assumes the role of profile p (p->role_arn, session name, external id,
 * duration) with the source credentials src; fills out (caller frees). The
 * AWS client supplies it (STS AssumeRole, aws/sts.c) so this module makes no
 * signed calls itself. */
typedef int (*creds_assume_fn)(void *user, const struct creds_config *p,
    const struct creds *src, struct creds *out, struct cut_err *err);

/* The chain of creds_resolve, where a profile with role_arn (checked right
 * after the environment, before the profile's static keys, as the AWS CLI
 * does) resolves its source credentials and calls assume once per role in
 * the chain, innermost first. An mfa_serial, SSO or web-identity profile
 * fails with the sentence saying what to run instead. */
int creds_resolve_with(const struct creds_config *c, creds_assume_fn assume, void *user,
    struct creds *out, struct cut_err *err);

/* Credentials that expire within `margin` seconds of now count as expired. */
int creds_expired(const struct creds *cr, time_t now, int margin);

void creds_free(struct creds *cr);

/* Endpoint URL for a service, or NULL when the public endpoint applies.
 * env_id is the AWS_ENDPOINT_URL_<env_id> suffix ("ELASTIC_BEANSTALK"),
 * cfg_id the services-section key ("elastic_beanstalk"). The string belongs
 * to c. */
const char *creds_endpoint(const struct creds_config *c, const char *env_id,
    const char *cfg_id);

/* Parses the JSON a credential_process, container endpoint or IMDS returns
 * (AccessKeyId, SecretAccessKey, SessionToken|Token, Expiration). what names
 * the source for messages. Fills out (caller frees). */
int creds_parse_json(const char *json, const char *what, struct creds *out,
    struct cut_err *err);

/* Parses an ISO 8601 UTC time ("2026-11-25T10:00:00Z", fractional seconds
 * and +00:00 accepted). Returns 0 and sets *t, or -1. */
int creds_parse_time(const char *s, time_t *t);

#endif
