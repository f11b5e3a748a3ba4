/* aws/sigv4.c: see aws/sigv4.h. Follows the AWS SigV4 documentation; checked against
 * the official test vectors and botocore's SigV4Auth (tests/unit/test_sigv4.c). */
#include "aws/sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/sbuf.h"

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static int
hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	size_t outlen = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen, msg, mlen,
	    out, 32, &outlen) == NULL || outlen != 32)
		return -1;
	return 0;
}

int
sigv4_signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char key[32])
{
	struct sbuf k = SBUF_INIT;
	unsigned char a[32], b[32];
	int r = -1;

	sbuf_add(&k, "AWS4");
	sbuf_add(&k, secret);
	if (k.oom)
		goto out;
	if (hmac(k.s, k.len, date8, strlen(date8), a) != 0 ||
	    hmac(a, 32, region, strlen(region), b) != 0 ||
	    hmac(b, 32, service, strlen(service), a) != 0 ||
	    hmac(a, 32, "aws4_request", 12, key) != 0)
		goto out;
	r = 0;
out:
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	sbuf_free(&k);
	return r;
}

/* ---- canonical path ------------------------------------------------------ */

/* Removes "." and ".." segments and empty segments (RFC 3986 5.2.4 as AWS
 * applies it for every service but S3). Writes into a fresh sbuf. */
static void
normalize_path(const char *path, struct sbuf *out)
{
	const char *segs[256];
	size_t lens[256], n = 0, i;
	const char *p = path;
	int trailing = 0;
	size_t plen = strlen(path);

	if (plen > 0 && path[plen - 1] == '/')
		trailing = 1;
	while (*p) {
		const char *e;
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == 1 && p[0] == '.') {
			/* skip */
		} else if ((size_t)(e - p) == 2 && p[0] == '.' && p[1] == '.') {
			if (n > 0)
				n--;
		} else if (n < sizeof(segs) / sizeof(segs[0])) {
			segs[n] = p;
			lens[n++] = (size_t)(e - p);
		}
		p = e;
	}
	sbuf_addc(out, '/');
	for (i = 0; i < n; i++) {
		sbuf_add_uri(out, segs[i], lens[i], NULL);
		if (i + 1 < n || trailing)
			sbuf_addc(out, '/');
	}
}

/* ---- canonical query ----------------------------------------------------- */

struct qparam {
	char *key;    /* encoded */
	char *value;  /* encoded */
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) then re-encodes it the SigV4 way. */
static char *
reencode(const char *s, size_t n)
{
	struct sbuf dec = SBUF_INIT, enc = SBUF_INIT;
	size_t i;
	char *r;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			sbuf_addc(&dec, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
		} else {
			sbuf_addc(&dec, s[i]);
		}
	}
	sbuf_add_uri(&enc, sbuf_str(&dec), dec.len, NULL);
	if (dec.oom)
		enc.oom = 1;
	sbuf_free(&dec);
	r = sbuf_steal(&enc);
	return r;
}

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : strcmp(x->value, y->value);
}

static int
canonical_query(const char *q, struct sbuf *out)
{
	struct qparam *ps = NULL;
	size_t n = 0, cap = 0, i;
	const char *p = q;
	int r = -1;

	while (p != NULL && *p) {
		const char *amp = strchr(p, '&'), *eq, *end;
		end = amp ? amp : p + strlen(p);
		if (end > p) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct qparam *np = realloc(ps, nc * sizeof(*np));
				if (np == NULL)
					goto out;
				ps = np;
				cap = nc;
			}
			eq = memchr(p, '=', (size_t)(end - p));
			ps[n].key = reencode(p, (size_t)((eq ? eq : end) - p));
			ps[n].value = eq ? reencode(eq + 1, (size_t)(end - eq - 1)) : strdup("");
			n++;
			if (ps[n - 1].key == NULL || ps[n - 1].value == NULL)
				goto out;
		}
		p = amp ? amp + 1 : NULL;
	}
	if (n > 1)
		qsort(ps, n, sizeof(*ps), qparam_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sbuf_addc(out, '&');
		sbuf_add(out, ps[i].key);
		sbuf_addc(out, '=');
		sbuf_add(out, ps[i].value);
	}
	r = 0;
out:
	for (i = 0; i < n; i++) {
		free(ps[i].key);
		free(ps[i].value);
	}
	free(ps);
	return r;
}

/* ---- canonical headers --------------------------------------------------- */

struct chdr {
	char *name;   /* lowercase */
	char *value;  /* trimmed, inner whitespace runs collapsed */
	size_t order;
};

static int
chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static char *
lower_dup(const char *s)
{
	char *r = strdup(s), *p;

	if (r != NULL)
		for (p = r; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return r;
}

static char *
trim_dup(const char *s)
{
	struct sbuf b = SBUF_INIT;
	int space = 0;

	while (*s && isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = 1;
			continue;
		}
		if (space && b.len > 0)
			sbuf_addc(&b, ' ');
		space = 0;
		sbuf_addc(&b, *s);
	}
	return sbuf_steal(&b);
}

static void
utc_now(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int
sigv4_sign(const struct sigv4_request *req, struct sigv4_result *out,
    struct cut_err *err)
{
	struct sbuf cr = SBUF_INIT, sts = SBUF_INIT, auth = SBUF_INIT, sh = SBUF_INIT;
	struct chdr *hs = NULL;
	size_t nh = 0, i;
	char bodyhash[65], crhash[65], date8[9];
	unsigned char key[32], sig[32];
	int r = CUT_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (req->method == NULL || req->region == NULL || req->service == NULL ||
	    req->access_key == NULL || req->secret_key == NULL)
		return cut_err_set(err, CUT_EINVAL,
		    "Cannot sign the AWS request: method, region, service or credentials are missing.");
	if (req->amz_date != NULL) {
		if (strlen(req->amz_date) != 16 || req->amz_date[8] != 'T')
			return cut_err_set(err, CUT_EINVAL,
			    "Cannot sign the AWS request: the date must look like 20150830T123600Z.");
		memcpy(out->amz_date, req->amz_date, 17);
	} else {
		utc_now(out->amz_date);
	}
	memcpy(date8, out->amz_date, 8);
	date8[8] = '\0';
	sigv4_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, bodyhash);

	/* Caller's headers plus the ones the signer adds. */
	hs = calloc(req->nheaders + 3, sizeof(*hs));
	if (hs == NULL)
		goto fail;
	for (i = 0; i < req->nheaders; i++, nh++) {
		hs[nh].name = lower_dup(req->headers[i].name);
		hs[nh].value = trim_dup(req->headers[i].value ? req->headers[i].value : "");
		hs[nh].order = nh;
		if (hs[nh].name == NULL || hs[nh].value == NULL) {
			nh++;
			goto fail;
		}
	}
	hs[nh].name = strdup("x-amz-date");
	hs[nh].value = strdup(out->amz_date);
	hs[nh].order = nh;
	nh++;
	if (req->session_token != NULL && req->session_token[0]) {
		hs[nh].name = strdup("x-amz-security-token");
		hs[nh].value = trim_dup(req->session_token);
		hs[nh].order = nh;
		nh++;
	}
	if (req->sign_body_header) {
		hs[nh].name = strdup("x-amz-content-sha256");
		hs[nh].value = strdup(bodyhash);
		hs[nh].order = nh;
		nh++;
		if ((out->content_sha256 = strdup(bodyhash)) == NULL)
			goto fail;
	}
	for (i = 0; i < nh; i++)
		if (hs[i].name == NULL || hs[i].value == NULL)
			goto fail;
	qsort(hs, nh, sizeof(*hs), chdr_cmp);

	/* 1. Canonical request. */
	sbuf_add(&cr, req->method);
	sbuf_addc(&cr, '\n');
	if (req->no_normalize)
		sbuf_add_uri(&cr, req->path ? req->path : "/",
		    strlen(req->path ? req->path : "/"), "/");
	else
		normalize_path(req->path ? req->path : "/", &cr);
	sbuf_addc(&cr, '\n');
	if (canonical_query(req->query, &cr) != 0)
		goto fail;
	sbuf_addc(&cr, '\n');
	for (i = 0; i < nh; i++) {
		/* Repeated headers join into one line, values comma-separated. */
		if (i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0) {
			sbuf_addc(&cr, ',');
			sbuf_add(&cr, hs[i].value);
			continue;
		}
		if (i > 0)
			sbuf_addc(&cr, '\n');
		sbuf_add(&cr, hs[i].name);
		sbuf_addc(&cr, ':');
		sbuf_add(&cr, hs[i].value);
		if (sh.len > 0)
			sbuf_addc(&sh, ';');
		sbuf_add(&sh, hs[i].name);
	}
	sbuf_add(&cr, "\n\n");
	sbuf_add(&cr, sbuf_str(&sh));
	sbuf_addc(&cr, '\n');
	sbuf_add(&cr, bodyhash);
	if (cr.oom || sh.oom)
		goto fail;

	/* 2. String to sign. */
	sigv4_sha256_hex(cr.s, cr.len, crhash);
	sbuf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    out->amz_date, date8, req->region, req->service, crhash);
	if (sts.oom)
		goto fail;

	/* 3. Key and signature. */
	if (sigv4_signing_key(req->secret_key, date8, req->region, req->service, key) != 0 ||
	    hmac(key, 32, sts.s, sts.len, sig) != 0) {
		r = CUT_EPROTO;
		cut_err_set(err, CUT_EPROTO,
		    "Cannot sign the AWS request: OpenSSL's HMAC-SHA256 failed; check the OpenSSL installation.");
		goto out;
	}
	for (i = 0; i < 32; i++) {
		static const char hex[] = "0123456789abcdef";
		out->signature[2 * i] = hex[sig[i] >> 4];
		out->signature[2 * i + 1] = hex[sig[i] & 15];
	}
	out->signature[64] = '\0';

	/* 4. Authorization header. */
	sbuf_addf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", req->access_key, date8, req->region,
	    req->service, sbuf_str(&sh), out->signature);
	out->canonical_request = sbuf_steal(&cr);
	out->string_to_sign = sbuf_steal(&sts);
	out->authorization = sbuf_steal(&auth);
	if (out->canonical_request == NULL || out->string_to_sign == NULL ||
	    out->authorization == NULL)
		goto fail;
	r = 0;
	goto out;
fail:
	r = cut_err_set(err, CUT_ENOMEM, "Out of memory while signing an AWS request; free some memory and run again.");
	sigv4_result_free(out);
out:
	explicit_bzero(key, sizeof(key));
	for (i = 0; hs != NULL && i < nh; i++) {
		free(hs[i].name);
		free(hs[i].value);
	}
	free(hs);
	sbuf_free(&cr);
	sbuf_free(&sts);
	sbuf_free(&auth);
	sbuf_free(&sh);
	return r;
}

void
sigv4_result_free(struct sigv4_result *r)
{
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	free(r->content_sha256);
	r->canonical_request = r->string_to_sign = r->authorization = NULL;
	r->content_sha256 = NULL;
}
