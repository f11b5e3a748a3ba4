/* aws/creds_sso.c: IAM Identity Center (SSO) profiles (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <stdio.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "base/inifile.h"
#include "base/sbuf.h"


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
	path = creds_home_path(rel);
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
	st = creds_http("GET", sbuf_str(&url), sbuf_str(&hdr), c->ca_bundle, SSO_TIMEOUT_MS, &body);
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
	if ((r = creds_dup_keys(out, jstr(rc, "accessKeyId"), jstr(rc, "secretAccessKey"),
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
