/* sts.h: STS GetCallerIdentity, to show who the credentials belong to. */
#ifndef CUTOVER_STS_H
#define CUTOVER_STS_H

#include "aws.h"

struct sts_identity {
	char account[32];
	char arn[512];
	char user_id[256];
};

int sts_get_caller_identity(struct aws_client *c, struct sts_identity *out, struct cut_err *err);

#endif
