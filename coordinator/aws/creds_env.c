/* aws/creds_env.c: keys from the environment (AWS_ACCESS_KEY_ID...) (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"



/* 1 when the environment holds keys (0 with *r set if only one is). */
int
creds_env_keys(struct creds *out, int *r, struct cut_err *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");

	*r = 0;
	if (!ak && !sk)
		return 0;
	if (!ak || !sk) {
		*r = cut_err_set(err, CUT_EAUTH,
		    "Only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both or unset both.");
		return 1;
	}
	*r = creds_dup_keys(out, ak, sk, env("AWS_SESSION_TOKEN"), "environment", err);
	return 1;
}
