/* aws/sts.h: STS GetCallerIdentity, to show who the credentials belong to, and
 * AssumeRole, for AWS profiles with role_arn (aws/creds.h). */
#ifndef CUTOVER_STS_H
#define CUTOVER_STS_H

#include "aws/client.h"

struct sts_identity {
	char account[32];
	char arn[512];
	char user_id[256];
};

int sts_get_caller_identity(struct aws_client *c, struct sts_identity *out, struct cut_err *err);

struct sts_assume_req {
	const char *role_arn;
	const char *session_name;  /* NULL = "cutover-session-<unix time>" */
	const char *external_id;   /* NULL = none */
	int duration_s;            /* 0 = STS's default (3600) */
	const char *profile;       /* the profile naming the role, for messages */
};

/* Calls STS AssumeRole signed with c's credentials; fills out with the
 * role's temporary credentials and their Expiration (caller frees with
 * creds_free) and, when arn is not NULL, the assumed-role ARN. A refusal
 * becomes one sentence naming the profile and role. */
int sts_assume_role(struct aws_client *c, const struct sts_assume_req *rq, struct creds *out,
    char *arn, size_t arnsz, struct cut_err *err);

/* The assume hook of struct aws_client_opts: sts_assume_role for role
 * profile p (role_arn, role_session_name, external_id, duration_seconds),
 * signed by signer. */
int sts_assume_profile(struct aws_client *signer, const struct creds_config *p,
    struct creds *out, struct cut_err *err);

#endif
