/* aws/client.h: the AWS client: signed HTTPS calls with retries and clear errors.
 *
 * One struct aws_client per program run (or per thread): it holds the
 * resolved configuration and credentials and ONE libcurl handle, so
 * consecutive calls reuse the TLS connection. TLS peer verification is
 * always on; AWS_CA_BUNDLE / ca_bundle choose the CA file.
 *
 * Retries follow the SDKs' standard mode: up to max_attempts (default 3,
 * AWS_MAX_ATTEMPTS / max_attempts) for throttling codes, transient codes,
 * HTTP 500/502/503/504 and connection failures, sleeping
 * min(rand(0,1) * 2^(attempt-1), 20) seconds between attempts. "legacy" mode
 * defaults to 5 attempts with the same backoff; "adaptive" adds the SDKs'
 * client-side rate limiter (aws/ratelim.h), one per client: after the first
 * throttling answer every attempt waits for a token from a bucket whose
 * rate follows CUBIC, so a throttled client slows down instead of retrying
 * into the throttle.
 *
 * Every failure is ONE sentence with the service, operation, AWS error code
 * and request id; bad or expired credentials and clock skew get a sentence
 * that says what to fix. Bodies are never logged (UpdateEnvironment bodies
 * carry environment values such as database passwords).
 */
#ifndef CUTOVER_AWS_H
#define CUTOVER_AWS_H

#include <stddef.h>

#include <json-c/json.h>
#include <libxml/tree.h>

#include "aws/xml.h"
#include "aws/creds.h"
#include "base/err.h"
#include "base/sbuf.h"

struct aws_client;

enum aws_proto {
	AWS_PROTO_QUERY,     /* EB, RDS, STS */
	AWS_PROTO_EC2,
	AWS_PROTO_REST_XML,  /* Route 53 */
	AWS_PROTO_JSON,      /* EC2 Instance Connect, SSM (JSON 1.1) */
};

struct aws_service {
	const char *name;           /* "Elastic Beanstalk", for messages */
	const char *signing_name;   /* "elasticbeanstalk" */
	const char *env_id;         /* AWS_ENDPOINT_URL_<env_id> */
	const char *cfg_id;         /* services-section key */
	const char *host_fmt;       /* "elasticbeanstalk.%s.amazonaws.com" (%s = region) */
	const char *global_region;  /* signing region of a global service, else NULL */
	const char *version;        /* API version */
	const char *json_prefix;    /* X-Amz-Target prefix for JSON services */
	enum aws_proto proto;
};

extern const struct aws_service aws_svc_eb, aws_svc_rds, aws_svc_sts, aws_svc_ec2,
    aws_svc_route53, aws_svc_eic, aws_svc_ssm;

struct aws_client_opts {
	const char *profile;        /* --profile / config [aws] profile; NULL = default chain */
	const char *region;         /* --region / config [aws] region; NULL = env/profile */
	long connect_timeout_ms;    /* 0 = 5000 */
	long total_timeout_ms;      /* per attempt; 0 = 60000 */
	long clock_offset_s;        /* added to the signing time: lets tests fake a skewed clock */
	double retry_scale;         /* multiplies backoff delays; 0 = 1.0 (tests shrink it) */
	int page_size;              /* MaxRecords/MaxResults for list calls; 0 = AWS's default */
	/* Assumes the role of a role profile p (role_arn) with a client that
	 * signs with the source credentials, filling out (caller frees). The
	 * client makes no STS call itself so that STS, a service like any other,
	 * sits above it: give sts_assume_profile (aws/sts.h). NULL: a role
	 * profile fails with the sentence saying so. */
	int (*assume)(struct aws_client *signer, const struct creds_config *p, struct creds *out,
	    struct cut_err *err);
};

/* Debug sink: one line per attempt (method, URL, action, status, request id,
 * duration); never headers or bodies. */
typedef void (*aws_log_fn)(void *user, const char *line);

/* Loads configuration and credentials. On success *out is the caller's,
 * freed with aws_client_free. Fails (CUT_EAUTH/CUT_ECONFIG) when no region
 * or no credentials can be found, with the sentence saying how to fix it. */
int aws_client_new(const struct aws_client_opts *o, struct aws_client **out,
    struct cut_err *err);
void aws_client_free(struct aws_client *c);

/* The region calls go to, and the configuration in use (owned by c). */
const char *aws_client_region(const struct aws_client *c);
/* The CA bundle its HTTPS calls trust (AWS_CA_BUNDLE, else the profile's
 * ca_bundle), NULL for the system's; other TLS connections made for AWS (the
 * Session Manager data channel) trust the same. Owned by the client. */
const char *aws_client_ca_bundle(const struct aws_client *c);
const struct creds_config *aws_client_config(const struct aws_client *c);
/* Where the credentials came from ("environment", "imds", ...). */
const char *aws_client_creds_source(const struct aws_client *c);
/* Access key id in use (not a secret, but shown only on request). */
const char *aws_client_access_key(const struct aws_client *c);
/* Send rate adaptive mode allows now (requests/s), 0 when not limiting. */
double aws_client_rate_limit(const struct aws_client *c);
/* HTTP attempts made so far (retries included): for tests and benchmarks. */
unsigned long aws_client_calls(const struct aws_client *c);
/* Page size list calls request (0 = let AWS choose). */
int aws_client_page_size(const struct aws_client *c);
/* AWS error code of the last call if it failed with an AWS error, else "". */
const char *aws_client_last_code(const struct aws_client *c);
/* The whole AWS error of the last call (code "" if it did not fail with
 * one); its message is already free of the client's secrets. */
const struct aws_error *aws_client_last_error(const struct aws_client *c);
/* Replaces the debug sink (default: stderr when CUTOVER_DEBUG is set). */
void aws_client_set_log(struct aws_client *c, aws_log_fn fn, void *user);
/* Base URL of a service for this client (endpoint override or public), into
 * buf. */
void aws_client_endpoint(const struct aws_client *c, const struct aws_service *svc,
    char *buf, size_t size);

/* ---- query and EC2 protocol -------------------------------------------------- */

/* A form body under construction: Action, Version, then parameters. */
struct aws_params {
	struct sbuf sb;
};

void aws_params_init(struct aws_params *p, const struct aws_service *svc, const char *action);
/* Appends key=value, both RFC 3986 encoded. NULL value: nothing added. */
void aws_param(struct aws_params *p, const char *key, const char *value);
/* Appends a parameter whose name is printf-formatted ("Filter.%d.Name"). */
void aws_paramf(struct aws_params *p, const char *value, const char *keyfmt, ...)
	__attribute__((format(printf, 3, 4)));
void aws_param_long(struct aws_params *p, const char *key, long v);
void aws_params_free(struct aws_params *p);

/* Sends the query and parses the response. On success *doc is the
 * caller's (xmlFreeDoc); p is consumed (freed) in every case. */
int aws_query(struct aws_client *c, const struct aws_service *svc, const char *action,
    struct aws_params *p, xmlDoc **doc, struct cut_err *err);

/* Builds one page's parameters (all but the page token). */
typedef void (*aws_page_build_fn)(struct aws_params *p, void *ctx);
/* Parses one page into ctx and copies the next-page token into next ("" on
 * the last page, or to stop early). Returns 0 or CUT_ENOMEM. */
typedef int (*aws_page_parse_fn)(xmlDoc *d, void *ctx, char *next, size_t nsz);

/* Calls action page after page, sending the token as token_param
 * ("NextToken", "Marker"), at most 1000 pages. On failure the pages already
 * parsed stay in ctx: the caller frees them. */
int aws_query_pages(struct aws_client *c, const struct aws_service *svc, const char *action,
    const char *token_param, aws_page_build_fn build, aws_page_parse_fn parse, void *ctx,
    struct cut_err *err);

/* ---- rest-xml (Route 53) ----------------------------------------------------- */

/* method/path/query as on the wire (query already encoded, may be NULL),
 * body NULL for GET. op names the operation in messages. *doc is the
 * caller's. */
int aws_rest_xml(struct aws_client *c, const struct aws_service *svc, const char *op,
    const char *method, const char *path, const char *query, const char *body,
    xmlDoc **doc, struct cut_err *err);

/* ---- JSON 1.1 ------------------------------------------------------------------ */

/* POSTs body (a JSON object) with X-Amz-Target: <json_prefix>.<op>; on
 * success *out is the parsed reply (caller's, json_object_put). */
int aws_json(struct aws_client *c, const struct aws_service *svc, const char *op,
    struct json_object *body, struct json_object **out, struct cut_err *err);

/* ---- helpers shared with tests ------------------------------------------------ */

/* Is this AWS error code a throttling / transient one (standard retry mode)? */
int aws_code_is_throttle(const char *code);
int aws_code_is_transient(const char *code);
/* Backoff before attempt `attempt` (>= 2), in ms, for a random r in [0,1). */
long aws_backoff_ms(int attempt, double r);
/* Turns an AWS error into the one-sentence message (see aws/client.c for the
 * special cases: credentials, clock skew, access denied). skew_s is the
 * measured clock difference (0 = unknown). */
void aws_error_sentence(const struct aws_service *svc, const char *op,
    const struct aws_error *e, long http_status, const char *creds_source,
    long skew_s, struct cut_err *err);
/* Replaces every occurrence of secret (8 characters or more) in the
 * NUL-terminated s, which has room for cap bytes, by "[redacted]". When the
 * text would outgrow cap it is cut before the next occurrence: never a
 * secret, never past cap. */
void aws_redact(char *s, size_t cap, const char *secret);



/* Grows a result array to hold at least n+1 elements of size elem; returns
 * the (possibly moved) array or NULL on failure (the old one is untouched).
 * *cap tracks the allocated count. */
void *aws_array_grow(void *arr, size_t n, size_t *cap, size_t elem);
/* Root element of a query/EC2 reply and its <OpResult> wrapper (the root
 * itself for EC2, which has none). */
xmlNode *aws_result(xmlDoc *d, const char *action);
/* ResponseMetadata/RequestId (query) or requestId (EC2) into buf. */
void aws_request_id(xmlDoc *d, char *buf, size_t size);

#endif
