/* aws/ssm.c: see aws/ssm.h. */
#include "aws/ssm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void
ssm_session_free(struct ssm_session *s)
{
	if (s->token != NULL) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
		s->token = NULL;
	}
}

int
ssm_ping_status(struct aws_client *c, const char *const *ids, size_t n, char (*status)[32], struct cut_err *err)
{
	size_t done = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++)
		status[i][0] = '\0';
	/* The InstanceIds filter takes up to 50 values a call. */
	while (done < n && r == 0) {
		size_t batch = n - done > 50 ? 50 : n - done;
		struct json_object *in = json_object_new_object(), *f = json_object_new_array(),
		    *one = json_object_new_object(), *vals = json_object_new_array(), *out = NULL, *list;
		char token[2048] = "";

		for (size_t i = 0; i < batch; i++)
			json_object_array_add(vals, json_object_new_string(ids[done + i]));
		json_object_object_add(one, "Key", json_object_new_string("InstanceIds"));
		json_object_object_add(one, "Values", vals);
		json_object_array_add(f, one);
		json_object_object_add(in, "Filters", f);
		json_object_object_add(in, "MaxResults", json_object_new_int(50));
		for (;;) {
			if (token[0])
				json_object_object_add(in, "NextToken", json_object_new_string(token));
			if ((r = aws_json(c, &aws_svc_ssm, "DescribeInstanceInformation", in, &out, err)) != 0)
				break;
			if (json_object_object_get_ex(out, "InstanceInformationList", &list) &&
			    json_object_is_type(list, json_type_array)) {
				for (size_t k = 0; k < json_object_array_length(list); k++) {
					struct json_object *e = json_object_array_get_idx(list, k);
					const char *id = jstr(e, "InstanceId"), *ps = jstr(e, "PingStatus");
					for (size_t i = 0; id && ps && i < batch; i++)
						if (strcmp(ids[done + i], id) == 0)
							snprintf(status[done + i], sizeof(status[0]), "%s", ps);
				}
			}
			const char *nt = jstr(out, "NextToken");
			snprintf(token, sizeof(token), "%s", nt ? nt : "");
			json_object_put(out);
			out = NULL;
			if (token[0] == '\0')
				break;
		}
		json_object_put(in);
		done += batch;
	}
	return r;
}

/* TargetNotConnected covers both "never registered" and "agent offline":
 * ask which. */
static int
not_connected(struct aws_client *c, const char *id, struct cut_err *err)
{
	char st[1][32];
	struct cut_err e2;
	const char *ids[1] = { id };

	if (ssm_ping_status(c, ids, 1, st, &e2) != 0)
		return cut_err_set(err, CUT_ESTATE,
		    "Session Manager cannot reach %s (TargetNotConnected) and DescribeInstanceInformation failed too (%s); "
		    "check that its SSM agent is online and that you may call ssm:DescribeInstanceInformation.", id, e2.msg);
	if (st[0][0] == '\0')
		return cut_err_set(err, CUT_ESTATE,
		    "%s is not registered with Systems Manager, so no session can reach it; give its instance profile the "
		    "AmazonSSMManagedInstanceCore policy and check that the SSM agent runs there (it then appears in "
		    "cutover status).", id);
	return cut_err_set(err, CUT_ESTATE,
	    "The SSM agent on %s is %s, not Online, so no session can reach it; check that the instance is running and "
	    "reaches the ssm, ssmmessages and ec2messages endpoints over HTTPS.", id, st[0]);
}

int
ssm_start_session(struct aws_client *c, const char *instance_id, int port, struct ssm_session *out,
    struct cut_err *err)
{
	struct json_object *in = json_object_new_object(), *params = json_object_new_object(),
	    *pv = json_object_new_array(), *res = NULL;
	char pbuf[16];
	const char *sid, *url, *tok;
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(pbuf, sizeof(pbuf), "%d", port > 0 ? port : 22);
	json_object_array_add(pv, json_object_new_string(pbuf));
	json_object_object_add(params, "portNumber", pv);
	json_object_object_add(in, "Target", json_object_new_string(instance_id));
	json_object_object_add(in, "DocumentName", json_object_new_string(SSM_SSH_DOCUMENT));
	json_object_object_add(in, "Reason", json_object_new_string("cutover"));
	json_object_object_add(in, "Parameters", params);
	r = aws_json(c, &aws_svc_ssm, "StartSession", in, &res, err);
	json_object_put(in);
	if (r != 0) {
		const struct aws_error *e = aws_client_last_error(c);
		const char *code = e ? e->code : "";
		if (strcmp(code, "TargetNotConnected") == 0)
			return not_connected(c, instance_id, err);
		if (strcmp(code, "AccessDeniedException") == 0 || strcmp(code, "AccessDenied") == 0)
			return cut_err_set(err, CUT_EAUTH,
			    "These credentials may not start a Session Manager session to %s (%s); grant ssm:StartSession on "
			    "the instance and on the document %s, and ssm:TerminateSession (README, \"SSM\").", instance_id,
			    code, SSM_SSH_DOCUMENT);
		if (strstr(code, "LimitExceeded") != NULL || strstr(code, "QuotaExceeded") != NULL)
			return cut_err_set(err, CUT_EAWS,
			    "Session Manager refused a new session to %s: the account's session limit is reached (%s); end "
			    "sessions you do not need (aws ssm describe-sessions --state Active) and run again.", instance_id,
			    code);
		if (strcmp(code, "InvalidDocument") == 0)
			return cut_err_set(err, CUT_EAWS,
			    "Session Manager refused the document %s for %s (InvalidDocument); the account must have the "
			    "AWS-owned document and you must be allowed to use it.", SSM_SSH_DOCUMENT, instance_id);
		if (aws_code_is_throttle(code))
			return cut_err_set(err, CUT_EAWS,
			    "Systems Manager kept throttling StartSession to %s (%s) through every retry; fewer instances at "
			    "once (--parallel) or wait a minute and run again.", instance_id, code);
		return r;
	}
	sid = jstr(res, "SessionId");
	url = jstr(res, "StreamUrl");
	tok = jstr(res, "TokenValue");
	if (sid == NULL || url == NULL || tok == NULL || strlen(sid) >= sizeof(out->id) ||
	    strlen(url) >= sizeof(out->stream_url)) {
		json_object_put(res);
		return cut_err_set(err, CUT_EPROTO,
		    "Systems Manager answered StartSession for %s without a usable SessionId, StreamUrl and TokenValue.",
		    instance_id);
	}
	snprintf(out->id, sizeof(out->id), "%s", sid);
	snprintf(out->stream_url, sizeof(out->stream_url), "%s", url);
	out->token = strdup(tok);
	explicit_bzero((char *)tok, strlen(tok));
	json_object_put(res);
	if (out->token == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory starting a session to %s.", instance_id);
	return 0;
}

int
ssm_terminate_session(struct aws_client *c, const char *session_id, struct cut_err *err)
{
	struct json_object *in = json_object_new_object(), *out = NULL;
	int r;

	json_object_object_add(in, "SessionId", json_object_new_string(session_id));
	r = aws_json(c, &aws_svc_ssm, "TerminateSession", in, &out, err);
	json_object_put(in);
	json_object_put(out);
	return r;
}
