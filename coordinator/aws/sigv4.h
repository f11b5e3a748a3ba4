/* aws/sigv4.h: AWS Signature Version 4 (header signing).
 *
 * The caller describes one HTTP request; sigv4_sign returns the canonical
 * request, the string to sign, the signature and the headers to add
 * (X-Amz-Date, X-Amz-Security-Token when a session token is given, and
 * Authorization). Every header passed in is signed, so pass exactly the
 * headers that will go on the wire (at least Host).
 */
#ifndef CUTOVER_SIGV4_H
#define CUTOVER_SIGV4_H

#include <stddef.h>

#include "base/err.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;        /* "GET", "POST" */
	const char *path;          /* decoded path, e.g. "/2013-04-01/change/C1"; NULL = "/" */
	const char *query;         /* raw query string without '?', NULL or "" for none */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	const char *region;        /* "ap-southeast-2" */
	const char *service;       /* signing name: "elasticbeanstalk", "route53" */
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL for long-term keys */
	const char *amz_date;      /* "20150830T123600Z"; NULL = now (UTC) */
	int no_normalize;          /* keep "//" and dot segments in the path */
	int sign_body_header;      /* add a signed x-amz-content-sha256 header */
};

/* Result of signing. All strings are owned by the struct: free them with
 * sigv4_result_free. The secret never appears in any of them. */
struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char signature[65];          /* lowercase hex */
	char amz_date[17];
	char *authorization;         /* value of the Authorization header */
	char *content_sha256;        /* hex body hash; sent when sign_body_header */
};

int sigv4_sign(const struct sigv4_request *req, struct sigv4_result *out,
    struct cut_err *err);
void sigv4_result_free(struct sigv4_result *r);

/* Hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* Derives kSigning = HMAC chain over date (yyyymmdd), region, service into
 * key[32]. Exposed for tests of the key derivation. */
int sigv4_signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char key[32]);

#endif
