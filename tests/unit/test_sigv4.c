/* Unit tests for aws/sigv4.c: the official AWS SigV4 test vectors
 * (tests/data/sigv4, from awslabs/aws-c-auth, Apache-2.0), key derivation,
 * the worked Elastic Beanstalk example, and a few hundred varied requests
 * compared with botocore's SigV4Auth (tests/unit/sigv4_botocore.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "aws/sigv4.h"
#include "tsupport.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* Cases the signer does not support, with the reason. None at present:
 * every vector in the suite passes. */
static const char *const skipped[] = { NULL };

struct vec_req {
	char method[16];
	char *path;
	char *query;
	struct sigv4_header hdr[16];
	char *hbuf[32];
	size_t nh;
	char *body;
};

static void
vec_free(struct vec_req *v)
{
	size_t i;

	free(v->path);
	free(v->query);
	for (i = 0; i < 2 * v->nh; i++)
		free(v->hbuf[i]);
	free(v->body);
}

/* Parses request.txt: "METHOD PATH[?QUERY] HTTP/1.1", "Name:value" lines
 * (indented lines continue the previous value), a blank line, the body. */
static void
parse_request(char *txt, struct vec_req *v)
{
	char *line = txt, *nl, *sp, *http, *q;

	memset(v, 0, sizeof(*v));
	nl = strchr(line, '\n');
	assert_non_null(nl);
	*nl = '\0';
	sp = strchr(line, ' ');
	assert_non_null(sp);
	memcpy(v->method, line, (size_t)(sp - line));
	http = strstr(sp + 1, " HTTP/");
	assert_non_null(http);
	*http = '\0';
	q = strchr(sp + 1, '?');
	if (q) {
		*q = '\0';
		v->query = strdup(q + 1);
	}
	v->path = strdup(sp + 1);
	line = nl + 1;
	while (line && *line && *line != '\n') {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if ((*line == ' ' || *line == '\t') && v->nh > 0) {
			char *prev = v->hbuf[2 * (v->nh - 1) + 1];
			size_t n = strlen(prev) + strlen(line) + 2;
			char *j = malloc(n);
			snprintf(j, n, "%s %s", prev, line);
			free(prev);
			v->hbuf[2 * (v->nh - 1) + 1] = j;
			v->hdr[v->nh - 1].value = j;
		} else {
			char *c = strchr(line, ':');
			assert_non_null(c);
			*c = '\0';
			v->hbuf[2 * v->nh] = strdup(line);
			v->hbuf[2 * v->nh + 1] = strdup(c + 1);
			v->hdr[v->nh].name = v->hbuf[2 * v->nh];
			v->hdr[v->nh].value = v->hbuf[2 * v->nh + 1];
			v->nh++;
		}
		line = nl ? nl + 1 : NULL;
	}
	v->body = strdup(line && *line == '\n' ? line + 1 : "");
}

static char *
case_file(const char *dir, const char *c, const char *f)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s/%s", dir, c, f);
	return ts_read_file(p, NULL);
}

static void
test_official_vectors(void **state)
{
	char dir[512];
	DIR *d;
	struct dirent *de;
	int n = 0, i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/data/sigv4/v4", ts_top());
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct vec_req v;
		struct sigv4_request rq;
		struct sigv4_result res;
		struct cut_err err;
		struct json_object *ctx, *o, *cr;
		char *txt, *exp_cr, *exp_sts, *exp_sig, *ctxs;
		int skip = 0;

		if (de->d_name[0] == '.')
			continue;
		for (i = 0; skipped[i]; i++)
			if (strcmp(skipped[i], de->d_name) == 0)
				skip = 1;
		if (skip)
			continue;
		txt = case_file(dir, de->d_name, "request.txt");
		ctxs = case_file(dir, de->d_name, "context.json");
		exp_cr = case_file(dir, de->d_name, "header-canonical-request.txt");
		exp_sts = case_file(dir, de->d_name, "header-string-to-sign.txt");
		exp_sig = case_file(dir, de->d_name, "header-signature.txt");
		assert_non_null(txt);
		assert_non_null(ctxs);
		assert_non_null(exp_cr);
		parse_request(txt, &v);
		ctx = json_tokener_parse(ctxs);
		assert_non_null(ctx);
		memset(&rq, 0, sizeof(rq));
		rq.method = v.method;
		rq.path = v.path;
		rq.query = v.query;
		rq.headers = v.hdr;
		rq.nheaders = v.nh;
		rq.body = v.body;
		rq.body_len = strlen(v.body);
		rq.region = "us-east-1";
		rq.service = "service";
		rq.access_key = AKID;
		rq.secret_key = SECRET;
		rq.amz_date = "20150830T123600Z";
		json_object_object_get_ex(ctx, "credentials", &cr);
		if (json_object_object_get_ex(cr, "token", &o) &&
		    !(json_object_object_get_ex(ctx, "omit_session_token", &o) &&
		    json_object_get_boolean(o))) {
			json_object_object_get_ex(cr, "token", &o);
			rq.session_token = json_object_get_string(o);
		}
		if (json_object_object_get_ex(ctx, "normalize", &o) && !json_object_get_boolean(o))
			rq.no_normalize = 1;
		if (json_object_object_get_ex(ctx, "sign_body", &o) && json_object_get_boolean(o))
			rq.sign_body_header = 1;
		assert_int_equal(sigv4_sign(&rq, &res, &err), 0);
		if (strcmp(res.canonical_request, exp_cr) != 0)
			fail_msg("%s: canonical request\n%s\n--- expected\n%s", de->d_name,
			    res.canonical_request, exp_cr);
		assert_string_equal(res.string_to_sign, exp_sts);
		assert_string_equal(res.signature, exp_sig);
		json_object_put(ctx);
		sigv4_result_free(&res);
		vec_free(&v);
		free(txt);
		free(ctxs);
		free(exp_cr);
		free(exp_sts);
		free(exp_sig);
		n++;
	}
	closedir(d);
	assert_true(n >= 30);
}

static void
test_get_vanilla_authorization(void **state)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request rq = { .method = "GET", .path = "/", .headers = h,
	    .nheaders = 1, .region = "us-east-1", .service = "service",
	    .access_key = AKID, .secret_key = SECRET, .amz_date = "20150830T123600Z" };
	struct sigv4_result res;

	(void)state;
	assert_int_equal(sigv4_sign(&rq, &res, NULL), 0);
	assert_string_equal(res.authorization,
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date, "
	    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	assert_null(strstr(res.canonical_request, SECRET));
	assert_null(strstr(res.authorization, SECRET));
	sigv4_result_free(&res);
}

/* The documented example of key derivation (AWS General Reference). */
static void
test_signing_key(void **state)
{
	unsigned char k[32];
	char hex[65];
	int i;

	(void)state;
	assert_int_equal(sigv4_signing_key(SECRET, "20120215", "us-east-1", "iam", k), 0);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	assert_string_equal(hex,
	    "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

static void
test_worked_eb_example(void **state)
{
	const char *body = "Action=DescribeEnvironments&Version=2010-12-01&"
	    "EnvironmentNames.member.1=cobalt-blue";
	struct sigv4_header h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "elasticbeanstalk.ap-southeast-2.amazonaws.com" },
	};
	struct sigv4_request rq = { .method = "POST", .path = "/", .headers = h,
	    .nheaders = 2, .body = body, .body_len = strlen(body),
	    .region = "ap-southeast-2", .service = "elasticbeanstalk",
	    .access_key = AKID, .secret_key = SECRET, .amz_date = "20240102T030405Z" };
	struct sigv4_result res;

	(void)state;
	assert_int_equal(sigv4_sign(&rq, &res, NULL), 0);
	assert_string_equal(res.signature,
	    "fe9d99a43a53fefc0e40266985b4487c167273f7216bfb825b0b154d0c80ed1d");
	sigv4_result_free(&res);
}

static void
test_bad_date_refused(void **state)
{
	struct sigv4_request rq = { .method = "GET", .region = "us-east-1",
	    .service = "s", .access_key = "a", .secret_key = "b", .amz_date = "2015" };
	struct sigv4_result res;
	struct cut_err err;

	(void)state;
	assert_int_equal(sigv4_sign(&rq, &res, &err), CUT_EINVAL);
	assert_non_null(strstr(err.msg, "date"));
}

/* ---- comparison with botocore ------------------------------------------- */

static uint32_t rng = 12345;
static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static const char *const odd_values[] = {
	"cobalt-production-blue", "a b", "x+y=z&w", "ünïcödé ✓", "100%", "~tilde.dot_under-dash",
	"slash/and?query#hash", "", "quote\"apos'", "tab\tnew\nline", "*star*", "MAINTENANCE_MODE",
	"=", "&", "é", "[brackets]", "semi;colon", "comma,comma", "dollar$", "@at",
};

static void
rfc3986(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

#define NCASES 300

struct gen_case {
	char method[8];
	char host[128];
	char path[256];
	char query[1024];
	char body[2048];
	char ctype[64];
	char region[32];
	char service[32];
	char token[128];
	char target[80];
	char date[17];
};

static void
gen_case(struct gen_case *c, int i)
{
	static const char *const services[][3] = {
		{ "elasticbeanstalk", "elasticbeanstalk.%s.amazonaws.com", "q" },
		{ "rds", "rds.%s.amazonaws.com", "q" },
		{ "ec2", "ec2.%s.amazonaws.com", "q" },
		{ "sts", "sts.%s.amazonaws.com", "q" },
		{ "route53", "route53.amazonaws.com", "r" },
		{ "ec2-instance-connect", "ec2-instance-connect.%s.amazonaws.com", "j" },
	};
	static const char *const regions[] = { "ap-southeast-2", "us-east-1", "eu-west-2" };
	int s = (int)rnd(6), k, n;
	char enc[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->region, sizeof(c->region), "%s", s == 4 ? "us-east-1" : regions[rnd(3)]);
	snprintf(c->service, sizeof(c->service), "%s", services[s][0]);
	if (s == 4)
		snprintf(c->host, sizeof(c->host), "%s", services[s][1]);
	else
		snprintf(c->host, sizeof(c->host), services[s][1], c->region);
	if (rnd(4) == 0)
		snprintf(c->host, sizeof(c->host), "127.0.0.1:%u", 1024 + rnd(60000));
	snprintf(c->date, sizeof(c->date), "20%02u%02u%02uT%02u%02u%02uZ", 15 + rnd(12),
	    1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60));
	if (rnd(3) == 0)
		snprintf(c->token, sizeof(c->token), "FwoGZXIvYXdzE%dtoken/with+odd=chars", i);
	if (services[s][2][0] == 'q') {
		strcpy(c->method, "POST");
		strcpy(c->path, "/");
		strcpy(c->ctype, "application/x-www-form-urlencoded; charset=utf-8");
		n = (int)rnd(8);
		if (rnd(10) == 0)
			n = -1; /* empty body */
		if (n >= 0)
			snprintf(c->body, sizeof(c->body), "Action=Op%d&Version=2010-12-01", i);
		for (k = 0; k < n; k++) {
			size_t l = strlen(c->body);
			rfc3986(enc, sizeof(enc), odd_values[rnd(20)]);
			snprintf(c->body + l, sizeof(c->body) - l, "&Param.member.%d=%s", k + 1, enc);
		}
	} else if (services[s][2][0] == 'r') {
		static const char *const paths[] = {
			"/2013-04-01/hostedzonesbyname", "/2013-04-01/hostedzone/Z123ABC/rrset",
			"/2013-04-01/hostedzone/Z123ABC/rrset/", "/2013-04-01/change/C2682N5HXP0BZ4",
			"/2013-04-01/a%20b/c~d", "//double//slash", "/dot/./seg/../x",
		};
		int p = (int)rnd(7);
		strcpy(c->path, paths[p]);
		if (p == 2) {
			strcpy(c->method, "POST");
			strcpy(c->ctype, "text/xml");
			snprintf(c->body, sizeof(c->body),
			    "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
			    "<ChangeBatch><Comment>%s</Comment></ChangeBatch></ChangeResourceRecordSetsRequest>",
			    odd_values[rnd(20)][0] == '&' ? "&amp;" : "cutover");
		} else {
			strcpy(c->method, "GET");
			n = (int)rnd(4);
			for (k = 0; k < n; k++) {
				static const char *const keys[] = { "dnsname", "maxitems", "name", "type", "identifier" };
				size_t l = strlen(c->query);
				rfc3986(enc, sizeof(enc), odd_values[rnd(20)]);
				snprintf(c->query + l, sizeof(c->query) - l, "%s%s=%s",
				    k ? "&" : "", keys[rnd(5)], enc);
			}
		}
	} else {
		strcpy(c->method, "POST");
		strcpy(c->path, "/");
		strcpy(c->ctype, "application/x-amz-json-1.1");
		strcpy(c->target, "AWSEC2InstanceConnectService.SendSSHPublicKey");
		snprintf(c->body, sizeof(c->body),
		    "{\"InstanceId\":\"i-%08x\",\"InstanceOSUser\":\"ec2-user\",\"SSHPublicKey\":\"ssh-ed25519 AAAA%d\"}",
		    (unsigned)rnd(1u << 30), i);
	}
}

static void
test_against_botocore(void **state)
{
	static struct gen_case cases[NCASES];
	struct json_object *arr = json_object_new_array(), *res;
	char *dir = ts_tmpdir(), in[512], outp[512], script[512];
	char *outtxt;
	int i;

	(void)state;
	assert_non_null(dir);
	for (i = 0; i < NCASES; i++) {
		struct gen_case *c = &cases[i];
		struct json_object *o = json_object_new_object(), *h = json_object_new_array();
		char url[1536];
		gen_case(c, i);
		snprintf(url, sizeof(url), "%s://%s%s%s%s", strchr(c->host, ':') ? "http" : "https",
		    c->host, c->path, c->query[0] ? "?" : "", c->query);
		json_object_object_add(o, "method", json_object_new_string(c->method));
		json_object_object_add(o, "url", json_object_new_string(url));
		json_object_object_add(o, "body", json_object_new_string(c->body));
		json_object_object_add(o, "amz_date", json_object_new_string(c->date));
		json_object_object_add(o, "access_key", json_object_new_string(AKID));
		json_object_object_add(o, "secret_key", json_object_new_string(SECRET));
		json_object_object_add(o, "token", json_object_new_string(c->token));
		json_object_object_add(o, "service", json_object_new_string(c->service));
		json_object_object_add(o, "region", json_object_new_string(c->region));
#define HDR(n, v) do { struct json_object *p = json_object_new_array(); \
	json_object_array_add(p, json_object_new_string(n)); \
	json_object_array_add(p, json_object_new_string(v)); \
	json_object_array_add(h, p); } while (0)
		HDR("Host", c->host);
		if (c->ctype[0])
			HDR("Content-Type", c->ctype);
		if (c->target[0])
			HDR("X-Amz-Target", c->target);
		json_object_object_add(o, "headers", h);
		json_object_array_add(arr, o);
	}
	snprintf(in, sizeof(in), "%s/cases.json", dir);
	snprintf(outp, sizeof(outp), "%s/out.json", dir);
	snprintf(script, sizeof(script), "%s/tests/unit/sigv4_botocore.py", ts_top());
	const char *js = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	assert_int_equal(ts_write_file(in, js, strlen(js)), 0);
	char *argv[] = { "/usr/bin/python3", script, in, NULL };
	assert_int_equal(ts_run(argv, outp), 0);
	outtxt = ts_read_file(outp, NULL);
	assert_non_null(outtxt);
	res = json_tokener_parse(outtxt);
	assert_non_null(res);
	assert_int_equal(json_object_array_length(res), NCASES);
	for (i = 0; i < NCASES; i++) {
		struct gen_case *c = &cases[i];
		struct sigv4_header h[3];
		size_t nh = 0;
		struct sigv4_result r;
		struct json_object *e = json_object_array_get_idx(res, (size_t)i), *v;
		h[nh].name = "Host";
		h[nh++].value = c->host;
		if (c->ctype[0]) {
			h[nh].name = "Content-Type";
			h[nh++].value = c->ctype;
		}
		if (c->target[0]) {
			h[nh].name = "X-Amz-Target";
			h[nh++].value = c->target;
		}
		struct sigv4_request rq = { .method = c->method, .path = c->path,
		    .query = c->query, .headers = h, .nheaders = nh, .body = c->body,
		    .body_len = strlen(c->body), .region = c->region, .service = c->service,
		    .access_key = AKID, .secret_key = SECRET,
		    .session_token = c->token[0] ? c->token : NULL, .amz_date = c->date };
		assert_int_equal(sigv4_sign(&rq, &r, NULL), 0);
		json_object_object_get_ex(e, "canonical_request", &v);
		if (strcmp(r.canonical_request, json_object_get_string(v)) != 0)
			fail_msg("case %d: canonical request\n%s\n--- botocore\n%s", i,
			    r.canonical_request, json_object_get_string(v));
		json_object_object_get_ex(e, "string_to_sign", &v);
		assert_string_equal(r.string_to_sign, json_object_get_string(v));
		json_object_object_get_ex(e, "signature", &v);
		assert_string_equal(r.signature, json_object_get_string(v));
		sigv4_result_free(&r);
	}
	json_object_put(arr);
	json_object_put(res);
	free(outtxt);
	ts_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_vectors),
		cmocka_unit_test(test_get_vanilla_authorization),
		cmocka_unit_test(test_signing_key),
		cmocka_unit_test(test_worked_eb_example),
		cmocka_unit_test(test_bad_date_refused),
		cmocka_unit_test(test_against_botocore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
