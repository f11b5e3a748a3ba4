/* aws/creds_int.h: what the credential providers (aws/creds_*.c) share and
 * nobody else uses. aws/creds.h is the interface; this header is private to
 * the aws/creds*.c files, one file per provider as in aws-c-auth:
 *
 *   creds.c          the chain (creds_resolve*), credential JSON, creds_free
 *   creds_profile.c  the shared files and the environment's settings
 *   creds_env.c      keys from the environment
 *   creds_process.c  credential_process
 *   creds_imds.c     container credentials and EC2 instance metadata
 *   creds_sso.c      IAM Identity Center (SSO)
 *   creds_role.c     role profiles (AssumeRole through the caller's callback)
 */
#ifndef CUTOVER_CREDS_INT_H
#define CUTOVER_CREDS_INT_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "aws/creds.h"

/* Most output a credential source may give (credential_process, HTTP). */
#define PROCESS_MAX_OUTPUT (64 * 1024)
/* How long a credential_process may take unless creds_opts says. */
#define PROCESS_TIMEOUT_S 60

static inline char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static inline void
zfree(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static inline void
set_str(char **dst, const char *v)
{
	zfree(*dst);
	*dst = xstrdup(v);
}

static inline const char *
env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static inline int
env_true(const char *name)
{
	const char *v = env(name);
	return v && strcasecmp(v, "true") == 0;
}

static inline const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* $HOME followed by rel (caller frees), NULL without HOME (creds_profile.c). */
char *creds_home_path(const char *rel);

/* Fills out with copies of the keys (tok may be NULL); source is static. */
int creds_dup_keys(struct creds *out, const char *ak, const char *sk, const char *tok,
    const char *source, struct cut_err *err);

/* The chain from profile c; top: the selected profile, else a source_profile
 * (creds.c). */
int creds_resolve_profile(const struct creds_config *c, int top, creds_assume_fn assume,
    void *user, struct creds *out, struct cut_err *err);

/* 1 when the environment holds keys (0 with *r set if only one is) (creds_env.c). */
int creds_env_keys(struct creds *out, int *r, struct cut_err *err);

/* Runs the profile's credential_process (creds_process.c). */
int creds_process_run(const struct creds_config *c, struct creds *out, struct cut_err *err);

/* One small HTTP request with tight timeouts; the HTTP status (0 if the
 * request failed), the body in *body (caller frees) (creds_imds.c). */
long creds_http(const char *method, const char *url, const char *hdr1, const char *cainfo,
    long timeout_ms, char **body);

/* Container credentials and IMDSv2 (creds_imds.c); IMDS answers CUT_ENOTFOUND
 * when there is no metadata service. */
int creds_container(const struct creds_config *c, struct creds *out, struct cut_err *err);
int creds_imds(const struct creds_config *c, struct creds *out, struct cut_err *err);

/* A role profile's credentials through assume (creds_role.c). */
int creds_assume_role(const struct creds_config *c, creds_assume_fn assume, void *user,
    struct creds *out, struct cut_err *err);

#endif
