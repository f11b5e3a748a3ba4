/* aws/client.c: see aws/client.h. */
#include "aws/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/clock.h"
#include "aws/ratelim.h"
#include "aws/sigv4.h"
#include "base/version.h"

#define RESPONSE_MAX (32u * 1024 * 1024)
#define MAX_BACKOFF_MS 20000L

const struct aws_service aws_svc_eb = {
	"Elastic Beanstalk", "elasticbeanstalk", "ELASTIC_BEANSTALK", "elastic_beanstalk",
	"elasticbeanstalk.%s.amazonaws.com", NULL, "2010-12-01", NULL, AWS_PROTO_QUERY,
};
const struct aws_service aws_svc_rds = {
	"RDS", "rds", "RDS", "rds", "rds.%s.amazonaws.com", NULL, "2014-10-31", NULL,
	AWS_PROTO_QUERY,
};
const struct aws_service aws_svc_sts = {
	"STS", "sts", "STS", "sts", "sts.%s.amazonaws.com", NULL, "2011-06-15", NULL,
	AWS_PROTO_QUERY,
};
const struct aws_service aws_svc_ec2 = {
	"EC2", "ec2", "EC2", "ec2", "ec2.%s.amazonaws.com", NULL, "2016-11-15", NULL,
	AWS_PROTO_EC2,
};
const struct aws_service aws_svc_route53 = {
	"Route 53", "route53", "ROUTE_53", "route_53", "route53.amazonaws.com", "us-east-1",
	"2013-04-01", NULL, AWS_PROTO_REST_XML,
};
const struct aws_service aws_svc_eic = {
	"EC2 Instance Connect", "ec2-instance-connect", "EC2_INSTANCE_CONNECT",
	"ec2_instance_connect", "ec2-instance-connect.%s.amazonaws.com", NULL, "2018-04-02",
	"AWSEC2InstanceConnectService", AWS_PROTO_JSON,
};
const struct aws_service aws_svc_ssm = {
	"Systems Manager", "ssm", "SSM", "ssm", "ssm.%s.amazonaws.com", NULL, "2014-11-06", "AmazonSSM",
	AWS_PROTO_JSON,
};

struct aws_client {
	struct creds_config *cfg;
	struct creds cr;
	CURL *h;                 /* one handle: libcurl keeps its connections alive */
	char region[64];
	long connect_ms, total_ms, clock_offset;
	double retry_scale;
	int max_attempts;
	unsigned long calls;
	uint64_t rng;            /* per-client jitter source, not shared state */
	aws_log_fn log;
	void *log_user;
	struct aws_error last;   /* AWS error of the last failed call (code "" if none) */
	int page_size;
	int adaptive;            /* retry_mode adaptive: rl paces the sends */
	struct ratelim rl;
	int (*assume)(struct aws_client *, const struct creds_config *, struct creds *,
	    struct cut_err *);  /* aws_client_opts.assume, or NULL */
};

static void
sleep_s(double s)
{
	struct timespec d;

	if (s <= 0)
		return;
	d.tv_sec = (time_t)s;
	d.tv_nsec = (long)((s - (double)d.tv_sec) * 1e9);
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
}

static void
stderr_log(void *user, const char *line)
{
	(void)user;
	fprintf(stderr, "cutover: %s\n", line);
}

static void
aws_log(struct aws_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
aws_log(struct aws_client *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (c->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(c->log_user, line);
}

static double
rnd01(struct aws_client *c)
{
	/* xorshift64*: jitter only needs to differ between clients and calls. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* creds_assume_fn of every client with an assume hook: AssumeRole through a
 * copy of c that borrows its settings, connection and region but signs with
 * the source keys. The copy never refreshes its credentials (expiration 0):
 * refreshing is the parent's, which re-resolves the whole chain. */
static int
assume_hook(void *user, const struct creds_config *p, const struct creds *src,
    struct creds *out, struct cut_err *err)
{
	struct aws_client *c = user, sub = *c;
	int r;

	sub.cr = *src;
	sub.cr.expiration = 0;
	r = c->assume(&sub, p, out, err);
	c->calls = sub.calls;
	return r;
}

/* The credential chain of c: with the assume hook when one was given. */
static int
resolve_creds(struct aws_client *c, struct creds *out, struct cut_err *err)
{
	return creds_resolve_with(c->cfg, c->assume ? assume_hook : NULL, c, out, err);
}

int
aws_client_new(const struct aws_client_opts *o, struct aws_client **out,
    struct cut_err *err)
{
	struct aws_client *c;
	struct creds_opts co = { 0 };
	struct timespec ts;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory creating the AWS client.");
	co.profile = o ? o->profile : NULL;
	co.region = o ? o->region : NULL;
	if ((r = creds_config_load(&co, &c->cfg, err)) != 0)
		goto fail;
	if (c->cfg->region == NULL) {
		r = cut_err_set(err, CUT_ECONFIG,
		    "No AWS region is set; put region in the [aws] section of the cutover config, "
		    "set AWS_REGION, or add region to AWS profile '%s'.", c->cfg->profile);
		goto fail;
	}
	snprintf(c->region, sizeof(c->region), "%s", c->cfg->region);
	c->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	c->total_ms = o && o->total_timeout_ms > 0 ? o->total_timeout_ms : 60000;
	c->clock_offset = o ? o->clock_offset_s : 0;
	c->retry_scale = o && o->retry_scale > 0 ? o->retry_scale : 1.0;
	c->page_size = o && o->page_size > 0 ? o->page_size : 0;
	c->assume = o ? o->assume : NULL;
	c->max_attempts = c->cfg->max_attempts;
	if (c->max_attempts <= 0)
		c->max_attempts = (c->cfg->retry_mode && strcmp(c->cfg->retry_mode, "legacy") == 0) ? 5 : 3;
	c->adaptive = c->cfg->retry_mode && strcmp(c->cfg->retry_mode, "adaptive") == 0;
	ratelim_init(&c->rl, cut_mono_s());
	clock_gettime(CLOCK_REALTIME, &ts);
	c->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
	    (uint64_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 88172645463325252ULL;
	if (getenv("CUTOVER_DEBUG") && *getenv("CUTOVER_DEBUG"))
		c->log = stderr_log;
	if ((c->h = curl_easy_init()) == NULL) {
		r = cut_err_set(err, CUT_ENOMEM, "Cannot initialise libcurl; check the installation.");
		goto fail;
	}
	/* Last: a role profile's AssumeRole goes through this client. */
	if ((r = resolve_creds(c, &c->cr, err)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	aws_client_free(c);
	return r;
}

void
aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	creds_free(&c->cr);
	creds_config_free(c->cfg);
	free(c);
}

const char *aws_client_region(const struct aws_client *c) { return c->region; }
const char *aws_client_ca_bundle(const struct aws_client *c) { return c->cfg->ca_bundle; }
const struct creds_config *aws_client_config(const struct aws_client *c) { return c->cfg; }
const char *aws_client_creds_source(const struct aws_client *c) { return c->cr.source; }
const char *aws_client_access_key(const struct aws_client *c) { return c->cr.access_key; }
unsigned long aws_client_calls(const struct aws_client *c) { return c->calls; }
double aws_client_rate_limit(const struct aws_client *c) { return c->adaptive ? ratelim_rate(&c->rl) : 0; }
int aws_client_page_size(const struct aws_client *c) { return c->page_size; }
const char *aws_client_last_code(const struct aws_client *c) { return c->last.code; }
const struct aws_error *aws_client_last_error(const struct aws_client *c) { return &c->last; }

void
aws_client_set_log(struct aws_client *c, aws_log_fn fn, void *user)
{
	c->log = fn;
	c->log_user = user;
}

void
aws_client_endpoint(const struct aws_client *c, const struct aws_service *svc,
    char *buf, size_t size)
{
	const char *ov = creds_endpoint(c->cfg, svc->env_id, svc->cfg_id);
	char host[256];

	if (ov) {
		size_t l = strlen(ov);
		while (l > 0 && ov[l - 1] == '/')
			l--;
		snprintf(buf, size, "%.*s", (int)l, ov);
		return;
	}
	if (strstr(svc->host_fmt, "%s"))
		snprintf(host, sizeof(host), svc->host_fmt, c->region);
	else
		snprintf(host, sizeof(host), "%s", svc->host_fmt);
	snprintf(buf, size, "https://%s", host);
}

/* ---- params ------------------------------------------------------------------- */

void
aws_params_init(struct aws_params *p, const struct aws_service *svc, const char *action)
{
	memset(p, 0, sizeof(*p));
	sbuf_add(&p->sb, "Action=");
	sbuf_add_uri(&p->sb, action, strlen(action), NULL);
	sbuf_add(&p->sb, "&Version=");
	sbuf_add(&p->sb, svc->version);
}

void
aws_param(struct aws_params *p, const char *key, const char *value)
{
	if (value == NULL)
		return;
	sbuf_addc(&p->sb, '&');
	sbuf_add_uri(&p->sb, key, strlen(key), NULL);
	sbuf_addc(&p->sb, '=');
	sbuf_add_uri(&p->sb, value, strlen(value), NULL);
}

void
aws_paramf(struct aws_params *p, const char *value, const char *keyfmt, ...)
{
	char key[256];
	va_list ap;

	va_start(ap, keyfmt);
	vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	aws_param(p, key, value);
}

void
aws_param_long(struct aws_params *p, const char *key, long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", v);
	aws_param(p, key, b);
}

void
aws_params_free(struct aws_params *p)
{
	sbuf_free(&p->sb);
}

/* ---- retry classification ------------------------------------------------------ */

int
aws_code_is_throttle(const char *code)
{
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException", NULL,
	};
	int i;

	for (i = 0; codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int
aws_code_is_transient(const char *code)
{
	return strcmp(code, "RequestTimeout") == 0 || strcmp(code, "RequestTimeoutException") == 0 ||
	    strcmp(code, "InternalError") == 0 || strcmp(code, "InternalFailure") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0;
}

long
aws_backoff_ms(int attempt, double r)
{
	double base = 1000.0;
	int i;

	for (i = 2; i < attempt && base < MAX_BACKOFF_MS; i++)
		base *= 2;
	base *= r;
	return base > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : (long)base;
}

static int
curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* ---- error sentences ----------------------------------------------------------- */

static int
is_any(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

/* The IAM action and resource an AccessDenied names ("... is not authorized
 * to perform: rds:CreateDBSnapshot on resource: arn:... because ..."); the
 * action falls back to <signing name>:<operation>, the resource to "". */
static void
denied_parts(const struct aws_service *svc, const char *op, const char *msg,
    char *action, size_t asz, char *resource, size_t rsz)
{
	const char *p = strstr(msg, "not authorized to perform: "), *q;
	size_t n;

	snprintf(action, asz, "%s:%s", svc->signing_name, op);
	resource[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("not authorized to perform: ");
	n = strcspn(p, " ");
	if (n > 0 && n < asz && memchr(p, ':', n) != NULL)
		snprintf(action, asz, "%.*s", (int)n, p);
	if (strncmp(p + n, " on resource: ", 14) != 0)
		return;
	q = p + n + 14;
	/* An EB ARN may hold spaces (application "My App"): up to AWS's reason. */
	if ((p = strstr(q, " because ")) == NULL && (p = strstr(q, " with an explicit")) == NULL)
		p = q + strcspn(q, " ");
	n = (size_t)(p - q);
	if (n > 0 && n < rsz)
		snprintf(resource, rsz, "%.*s", (int)n, q);
}

void
aws_error_sentence(const struct aws_service *svc, const char *op,
    const struct aws_error *e, long http_status, const char *creds_source,
    long skew_s, struct cut_err *err)
{
	static const char *const badkey[] = { "InvalidClientTokenId", "UnrecognizedClientException",
		"AuthFailure", "InvalidAccessKeyId", "InvalidToken", NULL };
	static const char *const expired[] = { "ExpiredToken", "ExpiredTokenException",
		"TokenRefreshRequired", NULL };
	static const char *const skew[] = { "RequestTimeTooSkewed", "RequestExpired",
		"RequestInTheFuture", NULL };
	static const char *const denied[] = { "AccessDenied", "AccessDeniedException",
		"UnauthorizedOperation", "UnauthorizedAccess", NULL };
	const char *rid = e->request_id[0] ? e->request_id : "none";
	const char *src = creds_source ? creds_source : "unknown";
	char skewtxt[96] = "";

	if (skew_s)
		snprintf(skewtxt, sizeof(skewtxt), " (it is %ld s %s AWS's)", labs(skew_s),
		    skew_s > 0 ? "behind" : "ahead of");
	if (is_any(e->code, skew) || ((strcmp(e->code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(e->code, "InvalidSignatureException") == 0) &&
	    (strstr(e->message, "expired") || strstr(e->message, "Signature not yet current") ||
	    labs(skew_s) > 300))) {
		cut_err_set(err, CUT_EAUTH,
		    "%s refused %s because this machine's clock is wrong%s (%s, request id %s); "
		    "set the clock right (e.g. `sudo timedatectl set-ntp true`) and run again.",
		    svc->name, op, skewtxt, e->code, rid);
	} else if (strcmp(e->code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(e->code, "InvalidSignatureException") == 0 ||
	    strcmp(e->code, "IncompleteSignature") == 0) {
		cut_err_set(err, CUT_EAUTH,
		    "%s refused %s: the request signature does not match (%s, request id %s), so the "
		    "secret access key from %s is wrong; check it (aws configure list) and run again.",
		    svc->name, op, e->code, rid, src);
	} else if (is_any(e->code, badkey)) {
		cut_err_set(err, CUT_EAUTH,
		    "%s refused %s: the access key from %s is not valid (%s, request id %s); "
		    "check the credentials in use (cutover aws whoami, aws configure list) and run again.",
		    svc->name, op, src, e->code, rid);
	} else if (is_any(e->code, expired)) {
		cut_err_set(err, CUT_EAUTH,
		    "%s refused %s: the session credentials from %s have expired (%s, request id %s); "
		    "refresh them (aws sso login, or re-run the tool that issued them) and run again.",
		    svc->name, op, src, e->code, rid);
	} else if (is_any(e->code, denied)) {
		char action[160], resource[512];

		denied_parts(svc, op, e->message, action, sizeof(action), resource, sizeof(resource));
		int named = strstr(e->message, "not authorized to perform: ") != NULL;

		/* AWS's usual message is what the sentence says; any other is kept. */
		cut_err_set(err, CUT_EAUTH,
		    "AWS denied %s%s%s to these credentials (%s%s%s, request id %s): %s; "
		    "`cutover iam-policy -c FILE` prints the IAM policy this cutover needs: grant it "
		    "(or use a profile that has it) and run again.",
		    action, resource[0] ? " on " : "", resource, e->code, named ? "" : ": ",
		    named ? "" : (e->message[0] ? e->message : "no message"), rid,
		    strstr(e->message, "explicit deny") ? "an explicit Deny in their IAM policy refuses it" :
		    "no statement of their IAM policy allows it");
	} else if (aws_code_is_throttle(e->code)) {
		cut_err_set(err, CUT_EAWS,
		    "%s kept throttling %s (%s, request id %s) through every retry; wait a minute and "
		    "run again, or raise AWS_MAX_ATTEMPTS.", svc->name, op, e->code, rid);
	} else if (e->code[0]) {
		int notfound = strstr(e->code, "NotFound") != NULL || strcmp(e->code, "NoSuchHostedZone") == 0 ||
		    strcmp(e->code, "NoSuchChange") == 0;
		cut_err_set(err, notfound ? CUT_ENOTFOUND : CUT_EAWS,
		    "%s %s failed: %s (%s, HTTP %ld, request id %s).", svc->name, op,
		    e->message[0] ? e->message : "no message", e->code, http_status, rid);
	} else {
		cut_err_set(err, CUT_EAWS,
		    "%s %s failed with HTTP %ld and no AWS error in the reply (request id %s); "
		    "check the endpoint and run again.", svc->name, op, http_status, rid);
	}
}

/* ---- transport ----------------------------------------------------------------- */

struct reply {
	struct sbuf body;
	char request_id[128];
	char date[64];
	char errtype[128];
};

static size_t
on_body(char *p, size_t sz, size_t n, void *user)
{
	struct reply *r = user;

	if (r->body.len + sz * n > RESPONSE_MAX)
		return 0;
	sbuf_addn(&r->body, p, sz * n);
	return r->body.oom ? 0 : sz * n;
}

static void
header_value(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	vl = n - nl - 1;
	while (vl > 0 && isspace((unsigned char)*v)) {
		v++;
		vl--;
	}
	while (vl > 0 && isspace((unsigned char)v[vl - 1]))
		vl--;
	if (vl >= outsz)
		vl = outsz - 1;
	memcpy(out, v, vl);
	out[vl] = '\0';
}

static size_t
on_header(char *p, size_t sz, size_t n, void *user)
{
	struct reply *r = user;
	size_t len = sz * n;

	header_value(p, len, "x-amzn-RequestId", r->request_id, sizeof(r->request_id));
	header_value(p, len, "x-amz-request-id", r->request_id, sizeof(r->request_id));
	header_value(p, len, "Date", r->date, sizeof(r->date));
	header_value(p, len, "x-amzn-ErrorType", r->errtype, sizeof(r->errtype));
	return len;
}

void
aws_redact(char *s, size_t cap, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t sl, ml = sizeof(mark) - 1, out = 0;
	char *buf;
	const char *p, *q;

	if (secret == NULL || (sl = strlen(secret)) < 8 || cap == 0 || strstr(s, secret) == NULL)
		return;
	/* Built in a copy, searching on after each replacement: a secret of 8
	 * or 9 characters grows the text (in place it ran off the buffer), and
	 * one found inside "[redacted]" itself would be replaced forever. */
	if ((buf = malloc(cap)) == NULL) {
		s[0] = '\0';   /* no room to redact: say nothing rather than the secret */
		return;
	}
	for (p = s; (q = strstr(p, secret)) != NULL; p = q + sl) {
		size_t pre = (size_t)(q - p);
		if (out + pre + ml >= cap)
			break;
		memcpy(buf + out, p, pre);
		memcpy(buf + out + pre, mark, ml);
		out += pre + ml;
	}
	if (q != NULL) {
		/* Out of room: cut the text where the next secret would start. */
		size_t pre = (size_t)(q - p) < cap - 1 - out ? (size_t)(q - p) : cap - 1 - out;
		memcpy(buf + out, p, pre);
		out += pre;
	} else {
		size_t rest = strlen(p);
		if (rest > cap - 1 - out)
			rest = cap - 1 - out;
		memcpy(buf + out, p, rest);
		out += rest;
	}
	buf[out] = '\0';
	memcpy(s, buf, out + 1);
	free(buf);
}

static void
parse_json_error(const char *body, struct reply *rep, struct aws_error *e)
{
	struct json_object *o = json_tokener_parse(body), *v;
	const char *t = NULL, *h;

	memset(e, 0, sizeof(*e));
	if (o && json_object_object_get_ex(o, "__type", &v) && json_object_is_type(v, json_type_string))
		t = json_object_get_string(v);
	if (t == NULL && rep->errtype[0])
		t = rep->errtype;
	if (t) {
		if ((h = strrchr(t, '#')) != NULL)
			t = h + 1;
		snprintf(e->code, sizeof(e->code), "%.*s", (int)strcspn(t, ":"), t);
	}
	if (o && (json_object_object_get_ex(o, "message", &v) ||
	    json_object_object_get_ex(o, "Message", &v)) && json_object_is_type(v, json_type_string))
		snprintf(e->message, sizeof(e->message), "%s", json_object_get_string(v));
	json_object_put(o);
}

static int
ensure_fresh_creds(struct aws_client *c, struct cut_err *err)
{
	struct creds n;
	int r;

	if (!creds_expired(&c->cr, time(NULL), 300))
		return 0;
	if ((r = resolve_creds(c, &n, err)) != 0)
		return r;
	creds_free(&c->cr);
	c->cr = n;
	return 0;
}

static int
aws_send(struct aws_client *c, const struct aws_service *svc, const char *op,
    const char *method, const char *path, const char *query, const char *ctype,
    const char *target, const char *body, struct reply *rep, long *status,
    struct cut_err *err)
{
	char base[1024], url[4096], hosthdr[300], sigpath[2048], amz_date[17];
	const char *authority, *slash, *basepath;
	struct sigv4_header sh[3];
	size_t nsh = 0, blen = body ? strlen(body) : 0;
	int attempt, r, refreshed = 0;
	long skew = 0;

	memset(&c->last, 0, sizeof(c->last));
	aws_client_endpoint(c, svc, base, sizeof(base));
	authority = strstr(base, "://");
	authority = authority ? authority + 3 : base;
	slash = strchr(authority, '/');
	basepath = slash ? slash : "";
	snprintf(hosthdr, sizeof(hosthdr), "%.*s", (int)(slash ? (size_t)(slash - authority) : strlen(authority)), authority);
	snprintf(sigpath, sizeof(sigpath), "%s%s", basepath, path);
	snprintf(url, sizeof(url), "%s%s%s%s", base, path, query && *query ? "?" : "", query && *query ? query : "");

	sh[nsh].name = "Host";
	sh[nsh++].value = hosthdr;
	if (ctype) {
		sh[nsh].name = "Content-Type";
		sh[nsh++].value = ctype;
	}
	if (target) {
		sh[nsh].name = "X-Amz-Target";
		sh[nsh++].value = target;
	}

	for (attempt = 1;; attempt++) {
		struct sigv4_request sr;
		struct sigv4_result res;
		struct curl_slist *hl = NULL;
		struct sbuf hb = SBUF_INIT;
		int64_t t0, t1;
		CURLcode cc;
		time_t now;
		struct tm tm;
		size_t i;
		int retry = 0;
		char errbuf[CURL_ERROR_SIZE] = "";

		if ((r = ensure_fresh_creds(c, err)) != 0)
			return r;
		now = time(NULL) + c->clock_offset;
		gmtime_r(&now, &tm);
		strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
		memset(&sr, 0, sizeof(sr));
		sr.method = method;
		sr.path = sigpath;
		sr.query = query;
		sr.headers = sh;
		sr.nheaders = nsh;
		sr.body = body;
		sr.body_len = blen;
		sr.region = svc->global_region ? svc->global_region : c->region;
		sr.service = svc->signing_name;
		sr.access_key = c->cr.access_key;
		sr.secret_key = c->cr.secret_key;
		sr.session_token = c->cr.session_token;
		sr.amz_date = amz_date;
		if ((r = sigv4_sign(&sr, &res, err)) != 0)
			return r;
		for (i = 0; i < nsh; i++) {
			sbuf_addf(&hb, "%s: %s", sh[i].name, sh[i].value);
			hl = curl_slist_append(hl, sbuf_str(&hb));
			sbuf_free(&hb);
		}
		sbuf_addf(&hb, "X-Amz-Date: %s", res.amz_date);
		hl = curl_slist_append(hl, sbuf_str(&hb));
		sbuf_free(&hb);
		if (c->cr.session_token) {
			sbuf_addf(&hb, "X-Amz-Security-Token: %s", c->cr.session_token);
			hl = curl_slist_append(hl, sbuf_str(&hb));
			sbuf_free(&hb);
		}
		sbuf_addf(&hb, "Authorization: %s", res.authorization);
		hl = curl_slist_append(hl, sbuf_str(&hb));
		sbuf_free(&hb);
		hl = curl_slist_append(hl, "Expect:");
		sigv4_result_free(&res);

		sbuf_free(&rep->body);
		rep->request_id[0] = rep->date[0] = rep->errtype[0] = '\0';
		curl_easy_reset(c->h);
		curl_easy_setopt(c->h, CURLOPT_URL, url);
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)blen);
		} else if (strcmp(method, "GET") == 0) {
			curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
		}
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c->h, CURLOPT_USERAGENT, "cutover/" CUTOVER_VERSION);
		curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
		curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, c->total_ms);
		curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c->h, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
		if (c->cfg->ca_bundle)
			curl_easy_setopt(c->h, CURLOPT_CAINFO, c->cfg->ca_bundle);
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, rep);
		curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c->h, CURLOPT_HEADERDATA, rep);
		curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, errbuf);
		if (c->adaptive) {
			double wait = ratelim_acquire(&c->rl, cut_mono_s());
			if (wait > 0)
				aws_log(c, "aws: adaptive retry mode holds %s for %.0f ms (allowed rate %.2f/s)",
				    op, wait * 1000, ratelim_rate(&c->rl));
			sleep_s(wait);
		}
		t0 = cut_mono_ms();
		cc = curl_easy_perform(c->h);
		t1 = cut_mono_ms();
		c->calls++;
		for (struct curl_slist *s = hl; s; s = s->next)
			explicit_bzero(s->data, strlen(s->data));
		curl_slist_free_all(hl);
		*status = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
		aws_log(c, "aws: %s %s%s %s attempt %d/%d -> %s%ld in %ld ms (request id %s)", method,
		    base, path, op, attempt, c->max_attempts, cc == CURLE_OK ? "HTTP " : "curl error ",
		    cc == CURLE_OK ? *status : (long)cc,
		    (long)(t1 - t0),
		    rep->request_id[0] ? rep->request_id : "-");
		if (c->adaptive && (cc != CURLE_OK || (*status >= 200 && *status < 300)))
			ratelim_update(&c->rl, cut_mono_s(), 0);
		if (cc != CURLE_OK) {
			if (curl_retryable(cc) && attempt < c->max_attempts) {
				retry = 1;
			} else {
				if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
				    cc == CURLE_SSL_CONNECT_ERROR)
					return cut_err_set(err, CUT_ENET,
					    "Could not make a verified TLS connection to %s for %s %s (%s); check "
					    "AWS_CA_BUNDLE/ca_bundle and the endpoint URL.", hosthdr, svc->name, op,
					    errbuf[0] ? errbuf : curl_easy_strerror(cc));
				if (cc == CURLE_WRITE_ERROR)
					return cut_err_set(err, CUT_EPROTO,
					    "%s %s sent a reply larger than 32 MiB; check the endpoint %s.",
					    svc->name, op, hosthdr);
				return cut_err_set(err, CUT_ENET,
				    "Could not reach %s at %s for %s after %d attempt%s (%s); check the network "
				    "and the endpoint settings and run again.", svc->name, hosthdr, op, attempt,
				    attempt == 1 ? "" : "s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
			}
		} else if (*status >= 200 && *status < 300) {
			return 0;
		} else {
			struct aws_error e;
			time_t srv;

			if (svc->proto == AWS_PROTO_JSON)
				parse_json_error(sbuf_str(&rep->body), rep, &e);
			else if (axml_parse_error(sbuf_str(&rep->body), rep->body.len, &e) != 0)
				memset(&e, 0, sizeof(e));
			if (!e.request_id[0] && rep->request_id[0])
				snprintf(e.request_id, sizeof(e.request_id), "%s", rep->request_id);
			if (!e.code[0] && *status == 503)
				strcpy(e.code, "ServiceUnavailable");
			if (!e.code[0] && *status == 429)
				strcpy(e.code, "TooManyRequestsException");
			if (c->adaptive)
				ratelim_update(&c->rl, cut_mono_s(), aws_code_is_throttle(e.code) || *status == 429);
			aws_redact(e.message, sizeof(e.message), c->cr.secret_key);
			aws_redact(e.message, sizeof(e.message), c->cr.session_token);
			if (rep->date[0] && (srv = curl_getdate(rep->date, NULL)) > 0)
				skew = (long)(srv - now);
			if ((aws_code_is_throttle(e.code) || aws_code_is_transient(e.code) ||
			    *status == 500 || *status == 502 || *status == 503 || *status == 504) &&
			    attempt < c->max_attempts) {
				retry = 1;
			} else if ((strcmp(e.code, "ExpiredToken") == 0 ||
			    strcmp(e.code, "ExpiredTokenException") == 0) && !refreshed &&
			    c->cr.expiration != 0) {
				/* Refreshable credentials: fetch new ones once. */
				c->cr.expiration = 1;
				refreshed = 1;
				attempt--;
				continue;
			} else {
				c->last = e;
				aws_error_sentence(svc, op, &e, *status, c->cr.source, skew, err);
				return err ? err->code : CUT_EAWS;
			}
		}
		if (retry)
			sleep_s(aws_backoff_ms(attempt + 1, rnd01(c)) * c->retry_scale / 1000.0);
	}
}

/* The XML document of a successful reply (r == 0); frees the reply body. */
static int
reply_doc(const struct aws_service *svc, const char *op, int r, long status,
    struct reply *rep, xmlDoc **doc, struct cut_err *err)
{
	if (r == 0 && (*doc = axml_parse(sbuf_str(&rep->body), rep->body.len)) == NULL)
		r = cut_err_set(err, CUT_EPROTO,
		    "%s %s answered HTTP %ld with a body that is not XML (request id %s); check the endpoint.",
		    svc->name, op, status, rep->request_id[0] ? rep->request_id : "none");
	sbuf_free(&rep->body);
	return r;
}

int
aws_query(struct aws_client *c, const struct aws_service *svc, const char *action,
    struct aws_params *p, xmlDoc **doc, struct cut_err *err)
{
	struct reply rep;
	long status = 0;
	int r;

	*doc = NULL;
	memset(&rep, 0, sizeof(rep));
	if (p->sb.oom) {
		aws_params_free(p);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory building %s %s.", svc->name, action);
	}
	r = aws_send(c, svc, action, "POST", "/", NULL,
	    "application/x-www-form-urlencoded; charset=utf-8", NULL, sbuf_str(&p->sb), &rep,
	    &status, err);
	aws_params_free(p);
	return reply_doc(svc, action, r, status, &rep, doc, err);
}

int
aws_rest_xml(struct aws_client *c, const struct aws_service *svc, const char *op,
    const char *method, const char *path, const char *query, const char *body,
    xmlDoc **doc, struct cut_err *err)
{
	struct reply rep;
	long status = 0;
	int r;

	*doc = NULL;
	memset(&rep, 0, sizeof(rep));
	r = aws_send(c, svc, op, method, path, query, body ? "text/xml" : NULL, NULL, body,
	    &rep, &status, err);
	return reply_doc(svc, op, r, status, &rep, doc, err);
}

int
aws_json(struct aws_client *c, const struct aws_service *svc, const char *op,
    struct json_object *body, struct json_object **out, struct cut_err *err)
{
	struct reply rep;
	char target[256];
	long status = 0;
	int r;

	*out = NULL;
	memset(&rep, 0, sizeof(rep));
	snprintf(target, sizeof(target), "%s.%s", svc->json_prefix, op);
	r = aws_send(c, svc, op, "POST", "/", NULL, "application/x-amz-json-1.1", target,
	    json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &rep, &status, err);
	if (r == 0) {
		*out = json_tokener_parse(rep.body.len ? sbuf_str(&rep.body) : "{}");
		if (*out == NULL)
			r = cut_err_set(err, CUT_EPROTO,
			    "%s %s answered with a body that is not JSON (request id %s); check the endpoint.",
			    svc->name, op, rep.request_id[0] ? rep.request_id : "none");
	}
	sbuf_free(&rep.body);
	return r;
}

void *
aws_array_grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return arr;
	nc = *cap ? *cap * 2 : 8;
	if (nc > (SIZE_MAX / 2) / elem)
		return NULL;
	if ((p = realloc(arr, nc * elem)) == NULL)
		return NULL;
	memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
	*cap = nc;
	return p;
}

xmlNode *
aws_result(xmlDoc *d, const char *action)
{
	xmlNode *root = xmlDocGetRootElement(d), *r;
	char name[160];

	if (root == NULL)
		return NULL;
	snprintf(name, sizeof(name), "%sResult", action);
	r = axml_child(root, name);
	return r ? r : root;
}

void
aws_request_id(xmlDoc *d, char *buf, size_t size)
{
	xmlNode *root = xmlDocGetRootElement(d);

	axml_copy(root, "ResponseMetadata/RequestId", buf, size);
	if (!buf[0])
		axml_copy(root, "requestId", buf, size);
}

int
aws_query_pages(struct aws_client *c, const struct aws_service *svc, const char *action,
    const char *token_param, aws_page_build_fn build, aws_page_parse_fn parse, void *ctx,
    struct cut_err *err)
{
	char next[2048] = "";
	int r, pages = 0;

	do {
		struct aws_params p;
		xmlDoc *d;
		aws_params_init(&p, svc, action);
		build(&p, ctx);
		if (next[0])
			aws_param(&p, token_param, next);
		if ((r = aws_query(c, svc, action, &p, &d, err)) != 0)
			return r;
		r = parse(d, ctx, next, sizeof(next));
		xmlFreeDoc(d);
		if (r != 0)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory reading the reply of %s %s.",
			    svc->name, action);
	} while (next[0] && ++pages < 1000);
	return 0;
}
