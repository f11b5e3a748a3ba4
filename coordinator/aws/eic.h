/* aws/eic.h: EC2 Instance Connect SendSSHPublicKey (JSON 1.1). The instance
 * accepts the pushed key for 60 seconds: connect right after. */
#ifndef CUTOVER_EIC_H
#define CUTOVER_EIC_H

#include "aws/client.h"

/* public_key is one OpenSSH public key line ("ssh-ed25519 AAAA... comment").
 * az may be NULL (the API no longer requires it). */
int eic_send_ssh_public_key(struct aws_client *c, const char *instance_id,
    const char *os_user, const char *public_key, const char *az, struct cut_err *err);

#endif
