/* aws/creds_imds.c: container credentials and EC2 instance metadata (IMDSv2) (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <ctype.h>
#include <stdio.h>

#include <curl/curl.h>

#include "base/inifile.h"
#include "base/sbuf.h"


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
long
creds_http(const char *method, const char *url, const char *hdr1, const char *cainfo,
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

int
creds_container(const struct creds_config *c, struct creds *out, struct cut_err *err)
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
	st = creds_http("GET", url, tok ? sbuf_str(&ah) : NULL, NULL, c->http_timeout_ms * 2, &body);
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

int
creds_imds(const struct creds_config *c, struct creds *out, struct cut_err *err)
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
	st = creds_http("PUT", url, "x-aws-ec2-metadata-token-ttl-seconds: 21600", NULL,
	    c->http_timeout_ms, &tok);
	if (st != 200 || tok == NULL || !*tok) {
		r = CUT_ENOTFOUND;
		goto out;
	}
	sbuf_addf(&th, "X-aws-ec2-metadata-token: %s", tok);
	snprintf(url, sizeof(url), "%s%slatest/meta-data/iam/security-credentials/", base,
	    base[strlen(base) - 1] == '/' ? "" : "/");
	st = creds_http("GET", url, sbuf_str(&th), NULL, c->http_timeout_ms, &role);
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
	st = creds_http("GET", url, sbuf_str(&th), NULL, c->http_timeout_ms, &body);
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
