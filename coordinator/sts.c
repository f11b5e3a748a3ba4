/* sts.c: see sts.h. */
#include "sts.h"

#include <string.h>

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
