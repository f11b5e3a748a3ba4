/* remote/agent_blobs.h: the embedded agent binaries (see remote/agent_blobs.S). The bytes
 * are read-only and live for the whole process: never free them. */
#ifndef CUTOVER_AGENT_BLOBS_H
#define CUTOVER_AGENT_BLOBS_H

#include <stddef.h>

#include "base/err.h"

extern const unsigned char cutover_agent_x86_64_start[], cutover_agent_x86_64_end[];
extern const unsigned char cutover_agent_aarch64_start[], cutover_agent_aarch64_end[];

/* The architectures cutover carries an agent for, in a fixed order. */
#define AGENT_BLOB_NARCH 2
extern const char *const agent_blob_arch[AGENT_BLOB_NARCH];

/* Writes into buf the version the embedded agent for arch (one of
 * agent_blob_arch) says in its hello, "PROTO_VERSION+BUILD_ID", read from the
 * binary's build tag (proto/frame.h) without running it. Returns 0, or
 * CUT_ENOTFOUND when there is no agent for arch, CUT_EPROTO when the agent
 * carries no readable tag (an agent from before the tag, or a damaged
 * build), CUT_EINVAL when buf is too small; each with a sentence in err. */
int agent_blob_version(const char *arch, char *buf, size_t len, struct cut_err *err);

#endif
