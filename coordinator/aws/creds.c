/* aws/creds.c: the credential chain, credential JSON and freeing (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <ctype.h>
#include <stdio.h>
#include <time.h>


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

int
creds_dup_keys(struct creds *out, const char *ak, const char *sk, const char *tok, const char *source,
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

/* top: the selected profile (environment keys and the container/IMDS
 * fallbacks apply); else a source_profile, which must hold credentials
 * itself, as in the AWS CLI. */
int
creds_resolve_profile(const struct creds_config *c, int top, creds_assume_fn assume, void *user,
    struct creds *out, struct cut_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (top && !c->profile_explicit && creds_env_keys(out, &r, err))
		return r;
	if (c->role_arn && (c->source_profile || c->credential_source))
		return creds_assume_role(c, assume, user, out, err);
	if (c->sso_start_url)
		return creds_sso(c, out, err);
	if (c->web_identity)
		return cut_err_set(err, CUT_ECONFIG,
		    "AWS profile '%s' uses web_identity_token_file, which cutover does not support; run `eval \"$(aws configure export-credentials --profile %s --format env)\"` and run cutover again without --profile.",
		    c->profile, c->profile);
	if (c->file_access_key && c->file_secret_key)
		return creds_dup_keys(out, c->file_access_key, c->file_secret_key, c->file_session_token,
		    c->file_source, err);
	if (c->credential_process) {
		if ((r = creds_process_run(c, out, err)) != 0)
			return r;
		out->source = "credential_process";
		return 0;
	}
	if (!top)
		return cut_err_set(err, CUT_EAUTH,
		    "The source_profile '%s' has no credentials (no keys, credential_process or role_arn) in %s or %s; add them there.",
		    c->profile, c->credentials_path, c->config_path);
	if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return creds_container(c, out, err);
	if (!env_true("AWS_EC2_METADATA_DISABLED")) {
		r = creds_imds(c, out, err);
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
	return creds_resolve_profile(c, 1, assume, user, out, err);
}

int
creds_resolve(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	return creds_resolve_profile(c, 1, NULL, NULL, out, err);
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
