/* remote/agent_blobs.c: see remote/agent_blobs.h. */
#include "remote/agent_blobs.h"

#include <stdio.h>
#include <string.h>

#include "frame.h"

const char *const agent_blob_arch[AGENT_BLOB_NARCH] = { "x86_64", "aarch64" };

#define BUILD_ID_MAX 64   /* the Makefile's id is 16 hex digits; "dev" without it */

int
agent_blob_version(const char *arch, char *buf, size_t len, struct cut_err *err)
{
	static const char tag[] = PROTO_AGENT_BUILD_TAG;
	const unsigned char *start, *end, *p, *id;
	size_t n;

	if (strcmp(arch, "x86_64") == 0) {
		start = cutover_agent_x86_64_start;
		end = cutover_agent_x86_64_end;
	} else if (strcmp(arch, "aarch64") == 0) {
		start = cutover_agent_aarch64_start;
		end = cutover_agent_aarch64_end;
	} else
		return cut_err_set(err, CUT_ENOTFOUND, "cutover carries no agent for %s; the agents are for x86_64 "
		    "and aarch64.", arch);
	p = memmem(start, (size_t)(end - start), tag, sizeof(tag) - 1);
	if (p == NULL)
		return cut_err_set(err, CUT_EPROTO, "The embedded %s agent has no build id; rebuild cutover with make.",
		    arch);
	id = p + sizeof(tag) - 1;
	for (n = 0; id + n < end && n <= BUILD_ID_MAX && id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z')))
			break;
	if (n == 0 || id + n >= end || n > BUILD_ID_MAX || id[n] != '\0')
		return cut_err_set(err, CUT_EPROTO, "The embedded %s agent's build id is unreadable; rebuild cutover "
		    "with make.", arch);
	if ((size_t)snprintf((char *)buf, len, "%d+%.*s", PROTO_VERSION, (int)n, (const char *)id) >= len)
		return cut_err_set(err, CUT_EINVAL, "The buffer for the %s agent's version is too small.", arch);
	return 0;
}
