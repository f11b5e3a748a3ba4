/* world/fleet.h: the instances of one Elastic Beanstalk environment and the
 * key to reach them, as the configuration file says ([ssh], [app]). A part
 * of the one owner of instance connections (world/reach.h), which alone
 * uses it.
 *
 *   fleet_find     EB DescribeEnvironmentResources -> EC2 DescribeInstances
 *                  (running ones only), each at its private or public address,
 *                  and their security groups.
 *   fleet_open     the key: with instance_connect, an ephemeral ed25519 key
 *                  in a private temp folder (0700, key file 0600); else the
 *                  configured one.
 *   fleet_push_key EC2 Instance Connect SendSSHPublicKey for one instance
 *                  (the key works for 60 s: call it right before connecting).
 *   fleet_target   the rexec target of one instance: with [ssh] transport =
 *                  ssm its sshd is reached through a Session Manager port
 *                  session (StartSession AWS-StartSSHSession, the data
 *                  channel of remote/ssm_channel.h) instead of TCP, started
 *                  when the connection is made and terminated when it closes.
 *   fleet_reach    whether each instance is reachable over the transport
 *                  (SSM: its agent's PingStatus), for cutover status.
 *   fleet_close    removes the key, frees.
 *
 * The operator's address (for port 22, world/rules.h) is CUTOVER_OPERATOR_IP
 * when set (tests, or a machine behind NAT that knows its own public
 * address), else what https://checkip.amazonaws.com answers.
 */
#ifndef CUTOVER_FLEET_H
#define CUTOVER_FLEET_H

#include <stddef.h>

#include "aws/client.h"
#include "world/config.h"
#include "aws/ec2.h"
#include "base/err.h"
#include "remote/rexec.h"

struct fleet_host {
	char id[32];
	char addr[64];
	char az[32];
	char label[128];        /* "i-0abc (10.0.1.5)" */
};

struct fleet {
	struct aws_client *aws; /* borrowed */
	const struct cfg *cfg;  /* borrowed */
	char env[128];
	struct fleet_host *hosts;   /* owned */
	size_t n;
	char sgs[EC2_MAX_SG][32];   /* the instances' security groups */
	size_t nsg;

	/* The session (fleet_open). */
	char known_hosts[512];  /* cfg's, with ~ expanded */
	char identity[512];     /* cfg's key, or the ephemeral key's file */
	char keydir[256];       /* the ephemeral key's private folder, "" if none */
	char pubkey[256];       /* its OpenSSH public key line */
	struct fleet_ssm *ssm;  /* owned: the Session Manager dialers (transport = ssm) */
};

/* Finds env's running instances. CUT_ENOTFOUND when the environment does
 * not exist, CUT_ESTATE when it has no running instance. out is the
 * caller's; release with fleet_close (which also ends a session). */
int fleet_find(struct aws_client *aws, const struct cfg *cfg, const char *env, struct fleet *out,
    struct cut_err *err);

/* Makes or names the key (see above). On failure nothing is left. */
int fleet_open(struct fleet *f, struct cut_err *err);

/* Removes tmpdir's cutover-key.* folders (this user's, not links) left by
 * runs that are gone: the pid in their "owner" file is not running as the
 * same process, or, without one, they are over an hour old. fleet_open
 * calls it first. *removed (may be NULL) is how many went; -1 when tmpdir
 * cannot be read. */
int fleet_sweep_keydirs(const char *tmpdir, int *removed);

/* SendSSHPublicKey for host i (no-op without instance_connect). */
int fleet_push_key(struct fleet *f, size_t i, struct cut_err *err);

/* Fills t for host i; its strings are borrowed from f. */
void fleet_target(const struct fleet *f, size_t i, struct rexec_target *t);

/* Reachability of each instance over the configured transport, into
 * status[i] (f->n entries): with SSM the PingStatus ("Online",
 * "ConnectionLost", "Inactive") or "not registered"; with SSH "ssh" (not
 * probed). */
int fleet_reach(struct fleet *f, char (*status)[32], struct cut_err *err);

/* Removes the key and the Session Manager dialers, then frees the host list. */
void fleet_close(struct fleet *f);

/* Writes a new ed25519 key pair: the private key in OpenSSH format to
 * path (created 0600, must not exist) and the public key line into pub. */
int fleet_keygen(const char *path, const char *comment, char *pub, size_t publen,
    struct cut_err *err);

/* The operator's IPv4 address (see above) into buf. */
int fleet_operator_ip(char *buf, size_t len, struct cut_err *err);

#endif
