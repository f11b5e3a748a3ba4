/* runbook/step.c: helpers every step family shares (see runbook/step.h). */
#include "runbook/step.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runbook/journal.h"

#define F(k) { #k, offsetof(struct run_names, k), sizeof(((struct run_names *)0)->k) }
const struct run_names_field run_names_fields[] = {
	F(app), F(live_web), F(live_ses), F(new_web), F(new_ses), F(live_db), F(new_db),
	F(new_db_class), F(db_name), F(db_method), F(snapshot), F(final_snapshot), F(version),
	F(prep_db_host), F(prep_db_name), F(zone), F(apex), F(www), F(ses), F(site_host),
	F(test_env), F(test_db), F(test_snapshot), F(test_db_class),
};
#undef F
const size_t run_names_nfields = sizeof(run_names_fields) / sizeof(run_names_fields[0]);

int
step_put(struct run_ctx *ctx, const char *key, const char *fmt, ...)
{
	char buf[1024], *k, *v;
	va_list ap;
	size_t i;

	if (journal_key_is_secret(key))
		return CUT_EINVAL;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < ctx->npending; i++)
		if (strcmp(ctx->pending[i].key, key) == 0) {
			if ((v = strdup(buf)) == NULL)
				return CUT_ENOMEM;
			free(ctx->pending[i].value);
			ctx->pending[i].value = v;
			return 0;
		}
	if (ctx->npending == ctx->cappending) {
		size_t nc = ctx->cappending ? ctx->cappending * 2 : 8;
		struct step_kv *n = realloc(ctx->pending, nc * sizeof(*n));
		if (n == NULL)
			return CUT_ENOMEM;
		ctx->pending = n;
		ctx->cappending = nc;
	}
	k = strdup(key);
	v = strdup(buf);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return CUT_ENOMEM;
	}
	ctx->pending[ctx->npending].key = k;
	ctx->pending[ctx->npending].value = v;
	ctx->npending++;
	return 0;
}

const char *
step_get(struct run_ctx *ctx, const char *step, const char *key)
{
	size_t i;

	if (ctx->step != NULL && strcmp(ctx->step->name, step) == 0)
		for (i = 0; i < ctx->npending; i++)
			if (strcmp(ctx->pending[i].key, key) == 0)
				return ctx->pending[i].value;
	return ctx->journal ? journal_value(ctx->journal, step, key) : NULL;
}

int
step_put_rrset(struct run_ctx *ctx, const char *prefix, const struct world_rrset *rr)
{
	char k[128];
	int r = 0;

#define PUT(field, fmt, val) \
	do { snprintf(k, sizeof(k), "%s.%s", prefix, field); \
	     if (r == 0) r = step_put(ctx, k, fmt, val); } while (0)
	PUT("name", "%s", rr->name);
	PUT("type", "%s", rr->type);
	PUT("alias_zone", "%s", rr->alias_zone);
	PUT("alias_dns", "%s", rr->alias_dns);
	PUT("ttl", "%ld", rr->ttl);
	PUT("value", "%s", rr->value);
#undef PUT
	return r;
}

int
step_get_rrset(struct run_ctx *ctx, const char *step, const char *prefix, struct world_rrset *rr)
{
	char k[128];
	const char *v;

	memset(rr, 0, sizeof(*rr));
#define GET(field, dst) \
	do { snprintf(k, sizeof(k), "%s.%s", prefix, field); \
	     if ((v = step_get(ctx, step, k)) == NULL) return CUT_ENOTFOUND; \
	     snprintf(dst, sizeof(dst), "%s", v); } while (0)
	GET("name", rr->name);
	GET("type", rr->type);
	GET("alias_zone", rr->alias_zone);
	GET("alias_dns", rr->alias_dns);
	GET("value", rr->value);
#undef GET
	snprintf(k, sizeof(k), "%s.ttl", prefix);
	v = step_get(ctx, step, k);
	rr->ttl = v ? atol(v) : 0;
	return 0;
}

int
step_env_ready(struct run_ctx *ctx, const char *env, struct cut_err *err)
{
	struct world_env e;
	int r = ctx->world->env_describe(ctx->world, env, &e, err);

	if (r == CUT_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	return strcmp(e.status, "Ready") == 0;
}

int
step_env_vars_are(struct run_ctx *ctx, const char *env, const char *const *names,
    const char *const *values, size_t n, struct cut_err *err)
{
	struct world_var got[16];
	size_t i;
	int r;

	if (n > 16)
		return cut_err_set(err, CUT_EINVAL, "Too many variables in one check; this is a bug "
		    "in cutover.");
	if ((r = ctx->world->env_get_vars(ctx->world, env, names, n, got, err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (values[i] == NULL ? got[i].present :
		    (!got[i].present || strcmp(got[i].value, values[i]) != 0))
			return 0;
	}
	return 1;
}

int
step_state_path(struct run_ctx *ctx, const char *file, char *buf, size_t len,
    struct cut_err *err)
{
	if ((size_t)snprintf(buf, len, "%s/%s", ctx->state_dir ? ctx->state_dir : ".", file) >= len)
		return cut_err_set(err, CUT_EINVAL, "The state folder path is too long; give a "
		    "shorter one with --state.");
	return 0;
}

struct step_memo {
	struct step_memo *next;
	size_t size;
	char *key;
	unsigned char data[];
};

const void *
step_memo_get(struct run_ctx *ctx, const char *key, size_t size)
{
	for (struct step_memo *m = ctx->memo; m; m = m->next)
		if (m->size == size && strcmp(m->key, key) == 0)
			return m->data;
	return NULL;
}

void
step_memo_put(struct run_ctx *ctx, const char *key, const void *data, size_t size)
{
	struct step_memo *m;

	for (m = ctx->memo; m; m = m->next)
		if (m->size == size && strcmp(m->key, key) == 0) {
			memcpy(m->data, data, size);
			return;
		}
	if ((m = malloc(sizeof(*m) + size)) == NULL)
		return;
	if ((m->key = strdup(key)) == NULL) {
		free(m);
		return;
	}
	m->size = size;
	memcpy(m->data, data, size);
	m->next = ctx->memo;
	ctx->memo = m;
}

void
step_memo_clear(struct run_ctx *ctx)
{
	while (ctx->memo) {
		struct step_memo *m = ctx->memo;
		ctx->memo = m->next;
		free(m->key);
		free(m);
	}
}

/* Once a step has seen env use db, its check, record and apply need not
 * ask AWS again (step_memo). A mismatch is never kept: it is what the
 * earlier steps are expected to change. */
int
step_env_uses_db(struct run_ctx *ctx, const char *env, const char *db, struct cut_err *err)
{
	const char *names[1] = { "RDS_HOSTNAME" };
	struct world_var v;
	struct world_db d;
	char key[300];
	int r;

	snprintf(key, sizeof(key), "uses-db %s %s", env, db);
	if (step_memo_get(ctx, key, 1) != NULL)
		return 0;
	if ((r = ctx->world->db_describe(ctx->world, db, &d, err)) != 0)
		return r;
	if ((r = ctx->world->env_get_vars(ctx->world, env, names, 1, &v, err)) != 0)
		return r;
	if (!v.present || d.endpoint[0] == '\0' || strcmp(v.value, d.endpoint) != 0)
		return cut_err_set(err, CUT_ESTATE, "Environment %s does not use database %s "
		    "(RDS_HOSTNAME is '%s'); refusing to change data there, run the earlier steps "
		    "first.", env, db, v.present ? v.value : "");
	step_memo_put(ctx, key, "", 1);
	return 0;
}

int
step_target_db_check(struct run_ctx *ctx, const char *env, struct cut_err *err)
{
	struct world_db live;
	int r;

	if ((r = ctx->world->db_describe(ctx->world, ctx->names.live_db, &live, err)) != 0)
		return r;
	return ctx->world->target_db_check(ctx->world, env, live.endpoint, live.port,
	    STEP_MIN_FREE_BYTES, err);
}

int
step_db_user(struct run_ctx *ctx, const char *db_id, const char *const *skip, size_t nskip,
    char *who, size_t len, struct cut_err *err)
{
	const char *names[1] = { "RDS_HOSTNAME" };
	char envs[STEP_MAX_ENVS][64];
	struct world_db d;
	struct world_var v;
	size_t n, i, k;
	int r;

	who[0] = '\0';
	r = ctx->world->db_describe(ctx->world, db_id, &d, err);
	if (r == CUT_ENOTFOUND) {
		cut_err_clear(err);
		return 0;
	}
	if (r != 0)
		return r;
	if (d.endpoint[0] == '\0')
		return 0;
	if ((r = ctx->world->env_list(ctx->world, envs, STEP_MAX_ENVS, &n, err)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		for (k = 0; k < nskip && strcmp(envs[i], skip[k]) != 0; k++)
			;
		if (k < nskip)
			continue;
		r = ctx->world->env_get_vars(ctx->world, envs[i], names, 1, &v, err);
		if (r == CUT_ENOTFOUND) {  /* terminated since the list was read */
			cut_err_clear(err);
			continue;
		}
		if (r != 0)
			return r;
		if (v.present && step_same_host(v.value, d.endpoint)) {
			snprintf(who, len, "%s", envs[i]);
			return 1;
		}
	}
	return 0;
}

int
step_same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}
