/* aws/sts.c: see aws/sts.h. */
#include "aws/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
sts_get_caller_identity(struct aws_client *c, struct sts_identity *out, struct cut_err *err)
{
	struct aws_params p;
	xmlDoc *d;
	xmlNode *res;
	int r;

	memset(out, 0, sizeof(*out));
	aws_params_init(&p, &aws_svc_sts, "GetCallerIdentity");
	if ((r = aws_query(c, &aws_svc_sts, "GetCallerIdentity", &p, &d, err)) != 0)
		return r;
	res = aws_result(d, "GetCallerIdentity");
	axml_copy(res, "Account", out->account, sizeof(out->account));
	axml_copy(res, "Arn", out->arn, sizeof(out->arn));
	axml_copy(res, "UserId", out->user_id, sizeof(out->user_id));
	xmlFreeDoc(d);
	if (!out->account[0] || !out->arn[0])
		return cut_err_set(err, CUT_EPROTO,
		    "STS GetCallerIdentity answered without Account or Arn; check the STS endpoint.");
	return 0;
}

/* Copies a credential element's text and wipes it in the document, so the
 * secret lives only in out once the document is freed. */
static char *
take_secret(xmlNode *creds, const char *name)
{
	xmlNode *n = axml_child(creds, name);
	xmlChar *t;
	char *s;

	if (n == NULL || (t = xmlNodeGetContent(n)) == NULL)
		return NULL;
	s = *t ? strdup((const char *)t) : NULL;
	explicit_bzero(t, strlen((const char *)t));
	xmlFree(t);
	xmlNodeSetContent(n, BAD_CAST "");
	return s;
}

int
sts_assume_role(struct aws_client *c, const struct sts_assume_req *rq, struct creds *out,
    char *arn, size_t arnsz, struct cut_err *err)
{
	struct aws_params p;
	char session[64], exp[64];
	xmlDoc *d;
	xmlNode *res, *cr;
	int r;

	memset(out, 0, sizeof(*out));
	if (rq->session_name && *rq->session_name)
		snprintf(session, sizeof(session), "%s", rq->session_name);
	else
		snprintf(session, sizeof(session), "cutover-session-%lld", (long long)time(NULL));
	aws_params_init(&p, &aws_svc_sts, "AssumeRole");
	aws_param(&p, "RoleArn", rq->role_arn);
	aws_param(&p, "RoleSessionName", session);
	aws_param(&p, "ExternalId", rq->external_id);
	if (rq->duration_s > 0)
		aws_param_long(&p, "DurationSeconds", rq->duration_s);
	if ((r = aws_query(c, &aws_svc_sts, "AssumeRole", &p, &d, err)) != 0) {
		const struct aws_error *e = aws_client_last_error(c);
		/* Only an answer from STS is rephrased; network and credential
		 * trouble keep the client's own sentence. */
		if (e->code[0] && strstr(e->code, "Throttl") == NULL)
			r = cut_err_set(err, r,
			    "AWS profile '%s' could not assume role %s: STS answered %s (%s, request id %s); "
			    "check role_arn, external_id, duration_seconds and the role's trust policy.",
			    rq->profile ? rq->profile : "?", rq->role_arn, e->code,
			    e->message[0] ? e->message : "no message", e->request_id[0] ? e->request_id : "none");
		return r;
	}
	res = aws_result(d, "AssumeRole");
	cr = axml_child(res, "Credentials");
	out->access_key = take_secret(cr, "AccessKeyId");
	out->secret_key = take_secret(cr, "SecretAccessKey");
	out->session_token = take_secret(cr, "SessionToken");
	axml_copy(cr, "Expiration", exp, sizeof(exp));
	if (arn)
		axml_copy(res, "AssumedRoleUser/Arn", arn, arnsz);
	xmlFreeDoc(d);
	if (out->access_key == NULL || out->secret_key == NULL || out->session_token == NULL ||
	    creds_parse_time(exp, &out->expiration) != 0) {
		creds_free(out);
		return cut_err_set(err, CUT_EPROTO,
		    "STS AssumeRole for AWS profile '%s' answered without complete credentials or an Expiration; check the STS endpoint.",
		    rq->profile ? rq->profile : "?");
	}
	return 0;
}

int
sts_assume_profile(struct aws_client *signer, const struct creds_config *p, struct creds *out,
    struct cut_err *err)
{
	struct sts_assume_req rq = { 0 };

	rq.role_arn = p->role_arn;
	rq.session_name = p->role_session_name;
	rq.external_id = p->external_id;
	rq.duration_s = p->duration_s;
	rq.profile = p->profile;
	return sts_assume_role(signer, &rq, out, NULL, 0, err);
}
