/* op_run.c: the process family: run, stdin, cancel (manage builds on run's
 * checks in op_manage.c). */
#include "agent.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int
op_check_request(struct agent *a, const msgpack_object *msg, uint64_t *id)
{
	const msgpack_object *o;
	uint64_t u;
	int b;

	if (!frame_get_u64(msg, "id", id) || *id == 0) {
		agent_send_error(a, 0, "bad-request", "A request needs an \"id\" of 1 or more.");
		return 1;
	}
	if (agent_find(a, *id) != NULL) {
		agent_send_error(a, *id, "duplicate-id", "Request %llu is already running; use a new id.",
		    (unsigned long long)*id);
		return 1;
	}
	if (a->nreqs >= AGENT_MAX_REQS) {
		agent_send_error(a, *id, "busy", "The agent already runs %d requests; wait for one to end.",
		    AGENT_MAX_REQS);
		return 1;
	}
	if ((o = frame_get(msg, "env")) != NULL && o->type != MSGPACK_OBJECT_MAP)
		goto bad;
	if ((o = frame_get(msg, "cwd")) != NULL && o->type != MSGPACK_OBJECT_STR)
		goto bad;
	if (frame_get(msg, "stdin") != NULL && !frame_get_bool(msg, "stdin", &b))
		goto bad;
	if (frame_get(msg, "timeout_ms") != NULL && !frame_get_u64(msg, "timeout_ms", &u))
		goto bad;
	return 0;
bad:
	agent_send_error(a, *id, "bad-request", "Request %llu has a field of the wrong type (env must be a map of "
	    "strings, cwd a string, stdin a boolean, timeout_ms an unsigned integer).", (unsigned long long)*id);
	return 1;
}

int
op_spawn(struct agent *a, uint64_t id, const msgpack_object *msg, struct spawn_spec *spec, char **envp,
    const char *cwd)
{
	int b = 0;

	(void)frame_get_bool(msg, "stdin", &b);
	(void)frame_get_u64(msg, "timeout_ms", &spec->timeout_ms);
	spec->want_stdin = b;
	spec->envp = envp;
	spec->cwd = cwd;
	return req_spawn(a, id, spec);
}

static int
run(struct agent *a, const msgpack_object *msg)
{
	const msgpack_object *argv_o = frame_get(msg, "argv");
	struct spawn_spec spec = { 0 };
	struct env_list env;
	char *cwd = NULL;
	uint64_t id;
	int rc;

	if (op_check_request(a, msg, &id))
		return FRAME_OK;
	if (argv_o == NULL || argv_o->type != MSGPACK_OBJECT_ARRAY || argv_o->via.array.size == 0 ||
	    (spec.argv = agent_argv_from(NULL, 0, argv_o)) == NULL || spec.argv[0][0] == '\0') {
		agent_argv_free(spec.argv);
		return agent_send_error(a, id, "bad-request", "Request %llu needs \"argv\", a non-empty array of "
		    "strings without NUL bytes.", (unsigned long long)id);
	}
	if (env_init(&env, environ) != 0) {
		agent_argv_free(spec.argv);
		return FRAME_ENOMEM;
	}
	if (env_add_map(&env, frame_get(msg, "env")) != 0 ||
	    (frame_get(msg, "cwd") && (cwd = agent_strdup_obj(frame_get(msg, "cwd"))) == NULL)) {
		rc = agent_send_error(a, id, "bad-request", "Request %llu has a bad \"env\" or \"cwd\" (names must be "
		    "non-empty without '=', no NUL bytes anywhere).", (unsigned long long)id);
		goto out;
	}
	rc = op_spawn(a, id, msg, &spec, env.v, cwd);
out:
	free(cwd);
	env_free(&env);
	agent_argv_free(spec.argv);
	return rc;
}

static int
stdin_(struct agent *a, const msgpack_object *msg)
{
	const msgpack_object *data = frame_get(msg, "data");
	struct req *r;
	uint64_t id;
	int eof = 0;

	if (!frame_get_u64(msg, "id", &id))
		return agent_send_error(a, 0, "bad-request", "A stdin frame needs an \"id\".");
	if (data != NULL && data->type != MSGPACK_OBJECT_BIN)
		return agent_send_error(a, id, "bad-request", "A stdin frame's \"data\" must be binary (msgpack bin).");
	/* The child may have ended (or closed its stdin) before its input
	 * arrived: such frames are dropped, as PROTOCOL.md says. */
	if ((r = agent_find(a, id)) == NULL || r->in_fd < 0 || r->in_eof)
		return FRAME_OK;
	if (data != NULL && data->via.bin.size > 0 && abuf_add(&r->in, data->via.bin.ptr, data->via.bin.size) != 0)
		return FRAME_ENOMEM;
	(void)frame_get_bool(msg, "eof", &eof);
	if (eof) {
		r->in_eof = 1;
		if (abuf_live(&r->in) == 0) {
			close(r->in_fd);
			r->in_fd = -1;
		}
	}
	return FRAME_OK;
}

static int
cancel(struct agent *a, const msgpack_object *msg)
{
	struct req *r;
	uint64_t id;

	if (!frame_get_u64(msg, "id", &id))
		return agent_send_error(a, 0, "bad-request", "A cancel frame needs an \"id\".");
	if ((r = agent_find(a, id)) != NULL && !r->reaped) {
		r->cancelled = 1;
		req_terminate(a, r);
	}
	return FRAME_OK;
}

const struct op op_run = { "run", run };
const struct op op_stdin = { "stdin", stdin_ };
const struct op op_cancel = { "cancel", cancel };
