/* aws/ssm.h: AWS Systems Manager, what a Session Manager transport needs.
 *
 *   ssm_start_session      StartSession(Target, DocumentName=AWS-StartSSHSession,
 *                          Parameters.portNumber) -> session id, stream URL, token
 *   ssm_terminate_session  TerminateSession
 *   ssm_ping_status        DescribeInstanceInformation for some instances:
 *                          PingStatus ("Online", "ConnectionLost", "Inactive"),
 *                          "" for an instance not registered with SSM
 *
 * Errors are one sentence that names the cause when AWS lets us tell it:
 * not registered (no instance profile with AmazonSSMManagedInstanceCore, or
 * no agent), agent offline, ssm:StartSession denied, session limit,
 * throttling. The token is a secret: never printed, zeroed when freed.
 */
#ifndef CUTOVER_AWS_SSM_H
#define CUTOVER_AWS_SSM_H

#include <stddef.h>

#include "aws/client.h"
#include "base/err.h"

#define SSM_SSH_DOCUMENT "AWS-StartSSHSession"

struct ssm_session {
	char id[128];
	char stream_url[2048];
	char *token;               /* owned; ssm_session_free zeroes and frees it */
};

/* Starts a port session to port on instance_id. On failure the sentence
 * says why; for TargetNotConnected it asks DescribeInstanceInformation
 * whether the instance is registered at all or its agent offline. */
int ssm_start_session(struct aws_client *c, const char *instance_id, int port, struct ssm_session *out,
    struct cut_err *err);

/* Ends a session (idempotent on AWS's side). */
int ssm_terminate_session(struct aws_client *c, const char *session_id, struct cut_err *err);

void ssm_session_free(struct ssm_session *s);

/* PingStatus of each of ids[0..n) into status[i] ("" when not registered). */
int ssm_ping_status(struct aws_client *c, const char *const *ids, size_t n, char (*status)[32],
    struct cut_err *err);

#endif
