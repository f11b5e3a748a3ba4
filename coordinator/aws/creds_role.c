/* aws/creds_role.c: role profiles: source credentials, then AssumeRole through the caller (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <stdio.h>


/* The credentials a role profile assumes its role with. */
static int
role_source(const struct creds_config *c, creds_assume_fn assume, void *user, struct creds *src,
    struct cut_err *err)
{
	const char *cs = c->credential_source;
	int r;

	if (cs && strcmp(cs, "Environment") == 0) {
		if (!creds_env_keys(src, &r, err))
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
		return creds_container(c, src, err);
	}
	if (cs) {
		if ((r = creds_imds(c, src, err)) == CUT_ENOTFOUND)
			r = cut_err_set(err, CUT_EAUTH,
			    "AWS profile '%s' takes its source credentials from EC2 instance metadata, which did not answer; run it on an instance with a role or change credential_source.",
			    c->profile);
		return r;
	}
	if (strcmp(c->source_profile, c->profile) == 0) {
		if (c->file_access_key && c->file_secret_key)
			return creds_dup_keys(src, c->file_access_key, c->file_secret_key, c->file_session_token,
			    c->file_source, err);
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' is its own source_profile but has no aws_access_key_id; add the keys or point source_profile at a profile that has them.",
		    c->profile);
	}
	return creds_resolve_profile(c->source, 0, assume, user, src, err);
}

int
creds_assume_role(const struct creds_config *c, creds_assume_fn assume, void *user, struct creds *out,
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
