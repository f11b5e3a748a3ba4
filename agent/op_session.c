/* op_session.c: the session's own requests, hello and bye. */
#include "agent.h"

#include <stdio.h>
#include <unistd.h>
#include <sys/utsname.h>

#if defined(__x86_64__)
#define AGENT_ARCH "x86_64"
#elif defined(__aarch64__)
#define AGENT_ARCH "aarch64"
#else
#error "cutover-agent is built for x86_64 and aarch64 only"
#endif

/* The build id behind its tag (proto/frame.h); hello sends it, so the
 * linker keeps it in the binary for the coordinator to read. */
static const char build_tag[] = PROTO_AGENT_BUILD_TAG AGENT_BUILD_ID;

static int
hello(struct agent *a, const msgpack_object *msg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct utsname u;
	char version[64];
	uint64_t v = 0;
	int n = 0, rc;

	if (a->hello_done)
		return agent_send_error(a, 0, "protocol", "The session already said hello; a second hello is ignored.");
	if (!frame_get_u64(msg, "v", &v) || v != PROTO_VERSION) {
		/* An agent of another version is replaced by the coordinator,
		 * never talked to. */
		agent_send_error(a, 0, "version", "This agent speaks protocol version %d, not the coordinator's; "
		    "upload the agent that matches the coordinator.", PROTO_VERSION);
		a->closing = 1;
		a->exit_code = 3;
		return FRAME_OK;
	}
	a->hello_done = 1;
	/* uname, not gethostname's NSS-free cousin: both avoid NSS; uname also
	 * cannot fail on a too-small buffer. */
	if (uname(&u) != 0)
		u.nodename[0] = '\0';
	snprintf(version, sizeof(version), "%d+%s", PROTO_VERSION, build_tag + sizeof(PROTO_AGENT_BUILD_TAG) - 1);
	while (agent_ops[n])
		n++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	frame_pack_kv_str(&pk, "t", "hello");
	frame_pack_str(&pk, "v");
	msgpack_pack_int(&pk, PROTO_VERSION);
	frame_pack_kv_str(&pk, "agent", version);
	frame_pack_kv_str(&pk, "arch", AGENT_ARCH);
	frame_pack_kv_str(&pk, "hostname", u.nodename);
	frame_pack_str(&pk, "uid");
	msgpack_pack_int64(&pk, (int64_t)getuid());
	frame_pack_str(&pk, "pid");
	msgpack_pack_int64(&pk, (int64_t)getpid());
	frame_pack_str(&pk, "ops");
	msgpack_pack_array(&pk, (size_t)n);
	for (int i = 0; i < n; i++)
		frame_pack_str(&pk, agent_ops[i]->name);
	rc = agent_send(a, &sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
bye(struct agent *a, const msgpack_object *msg)
{
	(void)msg;
	a->closing = 1;
	a->exit_code = 0;
	for (int i = 0; i < a->nreqs; i++) {
		a->reqs[i]->cancelled = !a->reqs[i]->reaped;
		req_terminate(a, a->reqs[i]);
	}
	return FRAME_OK;
}

const struct op op_hello = { "hello", hello };
const struct op op_bye = { "bye", bye };
