/* env.c: the environment a child gets, and the Elastic Beanstalk env file.
 *
 * /opt/elasticbeanstalk/deployment/env holds one KEY=value line per
 * environment property. The web app gets them through systemd's
 * EnvironmentFile=, which removes one pair of quotes around a whole value;
 * Cobalt's own cron wrapper exports each line with awk and re-sources the
 * lines holding quotes through the shell for the same effect (and loses
 * everything after a space). We take the value as the app sees it: all
 * after the first '=', literally, except that one pair of matching quotes
 * around the whole value is removed (inside "..." a backslash escapes the
 * next character of \ " $ `). Nothing is expanded.
 */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

/* Every string here may be a line of the env file (database password,
 * SECRET_KEY): wiped before the memory goes back to the allocator. */
static void
zfree(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
env_init(struct env_list *e, char *const *envp)
{
	memset(e, 0, sizeof(*e));
	e->cap = 16;
	if ((e->v = calloc(e->cap, sizeof(char *))) == NULL)
		return FRAME_ENOMEM;
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *eq = strchr(envp[i], '=');

		if (eq == NULL || eq == envp[i])
			continue;
		if (env_set(e, envp[i], (size_t)(eq - envp[i]), eq + 1, strlen(eq + 1)) != 0) {
			env_free(e);
			return FRAME_ENOMEM;
		}
	}
	return FRAME_OK;
}

int
env_set(struct env_list *e, const char *key, size_t klen, const char *val, size_t vlen)
{
	char *s;
	size_t i;

	if ((s = malloc(klen + vlen + 2)) == NULL)
		return FRAME_ENOMEM;
	memcpy(s, key, klen);
	s[klen] = '=';
	memcpy(s + klen + 1, val, vlen);
	s[klen + 1 + vlen] = '\0';
	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=') {
			zfree(e->v[i]);
			e->v[i] = s;
			return FRAME_OK;
		}
	if (e->n + 1 >= e->cap) {
		char **nv = realloc(e->v, e->cap * 2 * sizeof(char *));

		if (nv == NULL) {
			zfree(s);
			return FRAME_ENOMEM;
		}
		e->v = nv;
		e->cap *= 2;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return FRAME_OK;
}

void
env_free(struct env_list *e)
{
	for (size_t i = 0; i < e->n; i++)
		zfree(e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Removes one pair of quotes around the whole value, in place; returns the
 * new length. */
static size_t
unquote(char *v, size_t n)
{
	size_t i, o = 0;

	if (n < 2 || (v[0] != '"' && v[0] != '\'') || v[n - 1] != v[0])
		return n;
	if (v[0] == '\'') {
		memmove(v, v + 1, n - 2);
		return n - 2;
	}
	for (i = 1; i < n - 1; i++) {
		if (v[i] == '\\' && i + 1 < n - 1 && strchr("\\\"$`", v[i + 1]) != NULL)
			i++;
		v[o++] = v[i];
	}
	return o;
}

int
env_load_ebfile(struct env_list *e, const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *eq;
		size_t klen, vlen;
		char *val;

		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		while (n > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			n--;
		}
		if (n == 0 || line[0] == '#' || (eq = memchr(line, '=', n)) == NULL)
			continue;
		klen = (size_t)(eq - line);
		if (klen == 0 || memchr(line, '\0', n) != NULL || memchr(line, ' ', klen) != NULL ||
		    memchr(line, '\t', klen) != NULL)
			continue;
		if ((val = malloc(n - klen)) == NULL)
			return FRAME_ENOMEM;
		memcpy(val, eq + 1, n - klen - 1);
		vlen = unquote(val, n - klen - 1);
		if (env_set(e, line, klen, val, vlen) != 0) {
			explicit_bzero(val, n - klen);
			free(val);
			return FRAME_ENOMEM;
		}
		explicit_bzero(val, n - klen);
		free(val);
	}
	return FRAME_OK;
}

int
env_add_map(struct env_list *e, const msgpack_object *map)
{
	if (map == NULL)
		return 0;
	if (map->type != MSGPACK_OBJECT_MAP)
		return -1;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key, *v = &map->via.map.ptr[i].val;

		if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
		    memchr(k->via.str.ptr, '=', k->via.str.size) != NULL ||
		    memchr(k->via.str.ptr, '\0', k->via.str.size) != NULL ||
		    (v->via.str.size > 0 && memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL))
			return -1;
		if (env_set(e, k->via.str.ptr, k->via.str.size, v->via.str.size ? v->via.str.ptr : "",
		    v->via.str.size) != 0)
			return -1;
	}
	return 0;
}
