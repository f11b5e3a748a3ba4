/* remote/agent_blobs.h: the embedded agent binaries (see remote/agent_blobs.S). The bytes
 * are read-only and live for the whole process: never free them. */
#ifndef CUTOVER_AGENT_BLOBS_H
#define CUTOVER_AGENT_BLOBS_H

extern const unsigned char cutover_agent_x86_64_start[], cutover_agent_x86_64_end[];
extern const unsigned char cutover_agent_aarch64_start[], cutover_agent_aarch64_end[];

#endif
