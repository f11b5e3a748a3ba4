/* msg.c: building requests and reading replies (see msg.h, PROTOCOL.md). */
#include "msg.h"

#include <string.h>

/* Wraps the payload in sb as a frame appended to out, then frees sb. */
static int
finish(msgpack_sbuffer *out, msgpack_sbuffer *sb)
{
	int rc = frame_wrap_sbuf(out, sb);

	msgpack_sbuffer_destroy(sb);
	return rc;
}

static void
start(msgpack_sbuffer *sb, msgpack_packer *pk, const char *t, uint32_t nfields)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(pk, nfields + 1);
	frame_pack_kv_str(pk, "t", t);
}

static void
pack_id(msgpack_packer *pk, uint64_t id)
{
	frame_pack_str(pk, "id");
	msgpack_pack_uint64(pk, id);
}

static size_t
count(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int
msg_hello(msgpack_sbuffer *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	start(&sb, &pk, "hello", 1);
	frame_pack_str(&pk, "v");
	msgpack_pack_int(&pk, PROTO_VERSION);
	return finish(out, &sb);
}

/* The fields run and manage share; argv_key names the argument array. */
static int
pack_request(msgpack_sbuffer *out, const char *t, const char *argv_key, const struct msg_run *m,
    const char *const *strs[], const char *const keys[], size_t nstrs)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n = count(m->argv), ne = count(m->env), present = 0;

	if (m->id == 0 || ne % 2 != 0)
		return FRAME_EMALFORMED;
	for (size_t i = 0; i < nstrs; i++)
		present += *strs[i] != NULL;
	start(&sb, &pk, t, 5 + (uint32_t)present);
	pack_id(&pk, m->id);
	frame_pack_str(&pk, argv_key);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++)
		frame_pack_str(&pk, m->argv[i]);
	frame_pack_str(&pk, "env");
	msgpack_pack_map(&pk, ne / 2);
	for (size_t i = 0; i < ne; i += 2)
		frame_pack_kv_str(&pk, m->env[i], m->env[i + 1]);
	frame_pack_str(&pk, "stdin");
	if (m->want_stdin)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	frame_pack_str(&pk, "timeout_ms");
	msgpack_pack_uint64(&pk, m->timeout_ms);
	for (size_t i = 0; i < nstrs; i++)
		if (*strs[i] != NULL)
			frame_pack_kv_str(&pk, keys[i], *strs[i]);
	return finish(out, &sb);
}

int
msg_run(msgpack_sbuffer *out, const struct msg_run *m)
{
	const char *const *strs[] = { &m->cwd };
	const char *const keys[] = { "cwd" };

	if (count(m->argv) == 0)
		return FRAME_EMALFORMED;
	return pack_request(out, "run", "argv", m, strs, keys, 1);
}

int
msg_manage(msgpack_sbuffer *out, const struct msg_run *m)
{
	const char *const *strs[] = { &m->app_dir, &m->env_file, &m->python };
	const char *const keys[] = { "app_dir", "env_file", "python" };

	return pack_request(out, "manage", "args", m, strs, keys, 3);
}

int
msg_stdin(msgpack_sbuffer *out, uint64_t id, const void *data, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (len == 0 || len > FRAME_DATA_CHUNK)
		return FRAME_EMALFORMED;
	start(&sb, &pk, "stdin", 2);
	pack_id(&pk, id);
	frame_pack_str(&pk, "data");
	msgpack_pack_bin(&pk, len);
	msgpack_pack_bin_body(&pk, data, len);
	return finish(out, &sb);
}

int
msg_stdin_eof(msgpack_sbuffer *out, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	start(&sb, &pk, "stdin", 2);
	pack_id(&pk, id);
	frame_pack_str(&pk, "eof");
	msgpack_pack_true(&pk);
	return finish(out, &sb);
}

int
msg_cancel(msgpack_sbuffer *out, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	start(&sb, &pk, "cancel", 1);
	pack_id(&pk, id);
	return finish(out, &sb);
}

int
msg_bye(msgpack_sbuffer *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	start(&sb, &pk, "bye", 0);
	return finish(out, &sb);
}

/* ---- replies ----------------------------------------------------------- */

/* A str or nil field: 1 when a str (set), 0 when absent or nil, -1 otherwise. */
static int
opt_str(const msgpack_object *map, const char *key, const char **p, size_t *len)
{
	const msgpack_object *o = frame_get(map, key);

	*p = NULL;
	*len = 0;
	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type != MSGPACK_OBJECT_STR)
		return -1;
	*p = o->via.str.size ? o->via.str.ptr : "";
	*len = o->via.str.size;
	return 1;
}

/* An int or nil field: 1 when an int in range (set), 0 when nil or absent. */
static int
opt_int(const msgpack_object *map, const char *key, int *out, int *bad)
{
	const msgpack_object *o = frame_get(map, key);
	int64_t v;

	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (!frame_get_i64(map, key, &v) || v < -2147483647 || v > 2147483647) {
		*bad = 1;
		return 0;
	}
	*out = (int)v;
	return 1;
}

int
msg_parse_reply(const msgpack_object *map, struct msg_reply *r)
{
	const msgpack_object *t = frame_get(map, "t");
	int bad = 0, b;
	uint64_t fd;

	memset(r, 0, sizeof(*r));
	if (t == NULL || t->type != MSGPACK_OBJECT_STR)
		return FRAME_EMALFORMED;
	(void)frame_get_u64(map, "id", &r->id);
	if (frame_str_eq(t, "out")) {
		const msgpack_object *d = frame_get(map, "data");

		r->type = MSG_OUT;
		if (r->id == 0 || !frame_get_u64(map, "fd", &fd) || (fd != 1 && fd != 2) || d == NULL ||
		    d->type != MSGPACK_OBJECT_BIN)
			return FRAME_EMALFORMED;
		r->fd = (int)fd;
		r->data = d->via.bin.ptr;
		r->data_len = d->via.bin.size;
	} else if (frame_str_eq(t, "exit")) {
		r->type = MSG_EXIT;
		r->has_status = opt_int(map, "status", &r->status, &bad);
		r->has_signal = opt_int(map, "signal", &r->signal, &bad);
		if (r->id == 0 || bad || !frame_get_u64(map, "duration_ms", &r->duration_ms) ||
		    opt_str(map, "error", &r->error, &r->error_len) < 0)
			return FRAME_EMALFORMED;
		r->timed_out = frame_get_bool(map, "timed_out", &b) && b;
		r->cancelled = frame_get_bool(map, "cancelled", &b) && b;
		/* "no exit status" must never read as success */
		if (!r->has_status && !r->has_signal && r->error == NULL)
			return FRAME_EMALFORMED;
	} else if (frame_str_eq(t, "error")) {
		r->type = MSG_ERROR;
		if (opt_str(map, "code", &r->code, &r->code_len) != 1 ||
		    opt_str(map, "message", &r->message, &r->message_len) != 1)
			return FRAME_EMALFORMED;
	} else if (frame_str_eq(t, "hello")) {
		r->type = MSG_HELLO;
		r->ops = frame_get(map, "ops");
		if (!frame_get_u64(map, "v", &r->v) ||
		    opt_str(map, "agent", &r->agent, &r->agent_len) != 1 ||
		    opt_str(map, "arch", &r->arch, &r->arch_len) != 1 ||
		    opt_str(map, "hostname", &r->hostname, &r->hostname_len) < 0 ||
		    !frame_get_i64(map, "uid", &r->uid) || !frame_get_i64(map, "pid", &r->pid) ||
		    r->ops == NULL || r->ops->type != MSGPACK_OBJECT_ARRAY)
			return FRAME_EMALFORMED;
	}
	return FRAME_OK;
}

int
msg_hello_has_op(const struct msg_reply *hello, const char *op)
{
	if (hello->type != MSG_HELLO || hello->ops == NULL || hello->ops->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < hello->ops->via.array.size; i++)
		if (frame_str_eq(&hello->ops->via.array.ptr[i], op))
			return 1;
	return 0;
}
