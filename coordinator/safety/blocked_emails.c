/* safety/blocked_emails.c: see safety/blocked_emails.h. */
#include "safety/blocked_emails.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "base/sfile.h"

#define BLOCKED_FILE_MAX (512u * 1024u * 1024u)
#define BLOCKED_FORMAT "cutover-blocked-emails"

/* The table the FK column references, from the catalog (NULL when the
 * table or the constraint is missing). */
#define FK_TARGET_SQL \
	"(SELECT c.confrelid::regclass::text FROM pg_constraint c" \
	" JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]" \
	" WHERE c.contype = 'f' AND c.conrelid = to_regclass('notifications_unregisteredblockedemail')" \
	" AND a.attname = 'un_registered_user_id' LIMIT 1)"

void
blocked_set_free(struct blocked_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].email);
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct blocked_row *x = a, *y = b;

	if (x->has_number != y->has_number)
		return x->has_number - y->has_number;
	if (x->system_number != y->system_number)
		return x->system_number < y->system_number ? -1 : 1;
	return strcmp(x->email, y->email);
}

/* Fills s from a JSON array of [email, number|null]. */
static int
set_from_json(json_object *arr, struct blocked_set *s, const char *where, struct cut_err *err)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return cut_err_set(err, CUT_EPROTO, "The blocked-email rows from %s are not a list.", where);
	n = json_object_array_length(arr);
	if ((s->rows = calloc(n ? n : 1, sizeof(*s->rows))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading blocked emails.");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(arr, i), *e, *sn;
		if (!json_object_is_type(r, json_type_array) || json_object_array_length(r) != 2 ||
		    !json_object_is_type(e = json_object_array_get_idx(r, 0), json_type_string)) {
			blocked_set_free(s);
			return cut_err_set(err, CUT_EPROTO, "Blocked-email row %zu from %s is not [email, system number].",
			    i + 1, where);
		}
		sn = json_object_array_get_idx(r, 1);
		s->rows[i].email = strdup(json_object_get_string(e));
		s->rows[i].has_number = sn != NULL && json_object_is_type(sn, json_type_int);
		s->rows[i].system_number = s->rows[i].has_number ? json_object_get_int64(sn) : 0;
		s->n = i + 1;
		if (s->rows[i].email == NULL) {
			blocked_set_free(s);
			return cut_err_set(err, CUT_ENOMEM, "Out of memory reading blocked emails.");
		}
	}
	qsort(s->rows, s->n, sizeof(*s->rows), row_cmp);
	return 0;
}

static json_object *
set_to_json(const struct blocked_set *s)
{
	json_object *arr = json_object_new_array_ext((int)s->n);

	for (size_t i = 0; i < s->n; i++) {
		json_object *r = json_object_new_array_ext(2);
		json_object_array_add(r, json_object_new_string(s->rows[i].email));
		json_object_array_add(r, s->rows[i].has_number ?
		    json_object_new_int64(s->rows[i].system_number) : NULL);
		json_object_array_add(arr, r);
	}
	return arr;
}

static int
known_target(const char *t)
{
	if (strncmp(t, "public.", 7) == 0)
		t += 7;
	return strcmp(t, "accounts_unregistereduser") == 0 || strcmp(t, "accounts_user") == 0;
}

int
blocked_fetch(struct alink *l, const struct aop_conf *c, struct blocked_set *out,
    struct cut_err *err)
{
	char sql[2048];
	json_object *j = NULL, *t;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aop_sql(l, c, "SELECT to_jsonb(" FK_TARGET_SQL ");", 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Finding what the blocked-email table references");
	if (!json_object_is_type(j, json_type_string)) {
		json_object_put(j);
		return cut_err_set(err, CUT_ESTATE, "The database behind %s has no "
		    "notifications_unregisteredblockedemail table with a foreign key on un_registered_user_id; "
		    "check the environment points at a Cobalt database.", l->name);
	}
	snprintf(out->fk_target, sizeof(out->fk_target), "%s", json_object_get_string(j));
	json_object_put(j);
	if (!known_target(out->fk_target))
		return cut_err_set(err, CUT_ESTATE, "On %s the blocked-email foreign key references %s, "
		    "neither accounts_unregistereduser nor accounts_user; cutover does not know how to read "
		    "system numbers from it.", l->name, out->fk_target);
	/* The target is one of two known names (checked above), so it can be
	 * written into the SQL; the FK is read again in the same snapshot so a
	 * migration running meanwhile cannot mix the two meanings. */
	snprintf(sql, sizeof(sql),
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n"
	    "SELECT jsonb_build_object('fk', " FK_TARGET_SQL ", 'rows', coalesce((SELECT jsonb_agg("
	    "jsonb_build_array(b.email, p.system_number) ORDER BY p.system_number, b.email) "
	    "FROM notifications_unregisteredblockedemail b LEFT JOIN %s p ON p.id = b.un_registered_user_id), "
	    "'[]'::jsonb));\nCOMMIT;\n", out->fk_target);
	if ((r = aop_sql(l, c, sql, 0, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Reading the blocked emails");
	if (!json_object_object_get_ex(j, "fk", &t) || !json_object_is_type(t, json_type_string) ||
	    strcmp(json_object_get_string(t), out->fk_target) != 0) {
		json_object_put(j);
		return cut_err_set(err, CUT_ESTATE, "The blocked-email foreign key on %s changed while it was "
		    "being read (a migration is running?); run again when it has finished.", l->name);
	}
	r = set_from_json(json_object_object_get(j, "rows"), out, l->name, err);
	json_object_put(j);
	return r;
}

/* Writes s to path (JSON) and path.sha256, then reads it back: the
 * runbook goes on only with a copy that loads. source names where the rows
 * came from (an instance, or "merge of ..."). */
int
blocked_save(const char *path, const struct blocked_set *s, const char *source,
    struct blocked_backup_info *info, struct cut_err *err)
{
	json_object *doc;
	char taken[32], sidecar[4200], line[4400];
	const char *text, *base;
	time_t now = time(NULL);
	struct tm tm;
	int r;

	memset(info, 0, sizeof(*info));
	gmtime_r(&now, &tm);
	strftime(taken, sizeof(taken), "%Y-%m-%dT%H:%M:%SZ", &tm);
	doc = json_object_new_object();
	json_object_object_add(doc, "format", json_object_new_string(BLOCKED_FORMAT));
	json_object_object_add(doc, "version", json_object_new_int(1));
	json_object_object_add(doc, "taken_at", json_object_new_string(taken));
	json_object_object_add(doc, "source", json_object_new_string(source));
	json_object_object_add(doc, "fk_target", json_object_new_string(s->fk_target));
	json_object_object_add(doc, "count", json_object_new_int64((int64_t)s->n));
	json_object_object_add(doc, "rows", set_to_json(s));
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	sfile_sha256_hex(text, strlen(text), info->sha256);
	info->count = s->n;
	snprintf(info->fk_target, sizeof(info->fk_target), "%s", s->fk_target);
	r = sfile_write(path, text, strlen(text), err);
	json_object_put(doc);
	if (r != 0)
		return r;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	snprintf(sidecar, sizeof(sidecar), "%s.sha256", path);
	snprintf(line, sizeof(line), "%s  %s\n", info->sha256, base);
	if ((r = sfile_write(sidecar, line, strlen(line), err)) != 0)
		return r;
	struct blocked_set back;
	if ((r = blocked_load(path, &back, err)) != 0)
		return cut_err_wrap(err, "The backup just written does not read back");
	blocked_set_free(&back);
	return 0;
}

int
blocked_backup(struct alink *l, const struct aop_conf *c, const char *path,
    struct blocked_backup_info *info, struct cut_err *err)
{
	struct blocked_set s;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = blocked_fetch(l, c, &s, err)) != 0)
		return r;
	r = blocked_save(path, &s, l->name, info, err);
	blocked_set_free(&s);
	return r;
}

int
blocked_union(const struct blocked_set *a, const struct blocked_set *b, struct blocked_set *out,
    struct cut_err *err)
{
	size_t i = 0, k = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->fk_target, sizeof(out->fk_target), "%s", b->fk_target[0] ? b->fk_target : a->fk_target);
	if ((out->rows = calloc(a->n + b->n + 1, sizeof(*out->rows))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory merging blocked emails.");
	/* Both sorted by row_cmp; a row in both, or repeated, is kept once. */
	while (i < a->n || k < b->n) {
		const struct blocked_row *r;
		int cmp = i >= a->n ? 1 : k >= b->n ? -1 : row_cmp(&a->rows[i], &b->rows[k]);
		r = cmp <= 0 ? &a->rows[i] : &b->rows[k];
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			k++;
		if (out->n > 0 && row_cmp(&out->rows[out->n - 1], r) == 0)
			continue;
		out->rows[out->n] = *r;
		if ((out->rows[out->n].email = strdup(r->email)) == NULL) {
			blocked_set_free(out);
			return cut_err_set(err, CUT_ENOMEM, "Out of memory merging blocked emails.");
		}
		out->n++;
	}
	return 0;
}

int
blocked_count(struct alink *l, const struct aop_conf *c, size_t *n, struct cut_err *err)
{
	json_object *j = NULL;
	int r;

	*n = 0;
	if ((r = aop_sql(l, c, "SELECT to_jsonb(count(*)) FROM notifications_unregisteredblockedemail;", 0,
	    NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Counting the blocked emails");
	if (!json_object_is_type(j, json_type_int)) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "Counting the blocked emails on %s gave no number.", l->name);
	}
	*n = (size_t)json_object_get_int64(j);
	json_object_put(j);
	return 0;
}

int
blocked_clear(struct alink *l, const struct aop_conf *c, size_t expect, size_t *deleted,
    struct cut_err *err)
{
	json_object *j = NULL;
	char sql[1024];
	int r;

	*deleted = 0;
	/* The lock keeps rows from arriving between the count and the delete;
	 * a count other than the backup's means the copy is not the whole
	 * table any more, so nothing is deleted. */
	snprintf(sql, sizeof(sql),
	    "LOCK TABLE notifications_unregisteredblockedemail IN ACCESS EXCLUSIVE MODE;\n"
	    "DO $chk$ BEGIN\n"
	    "  IF (SELECT count(*) FROM notifications_unregisteredblockedemail) <> %zu THEN\n"
	    "    RAISE EXCEPTION 'cutover: notifications_unregisteredblockedemail no longer holds the %zu "
	    "rows just backed up';\n"
	    "  END IF;\n"
	    "END $chk$;\n"
	    "WITH d AS (DELETE FROM notifications_unregisteredblockedemail RETURNING 1)\n"
	    "SELECT to_jsonb(count(*)) FROM d;\n", expect, expect);
	if ((r = aop_sql(l, c, sql, 1, NULL, &j, err)) != 0)
		return cut_err_wrap(err, "Clearing the blocked emails on %s (nothing was deleted)", l->name);
	if (!json_object_is_type(j, json_type_int)) {
		json_object_put(j);
		return cut_err_set(err, CUT_EPROTO, "Clearing the blocked emails on %s gave no count.", l->name);
	}
	*deleted = (size_t)json_object_get_int64(j);
	json_object_put(j);
	return 0;
}

int
blocked_load(const char *path, struct blocked_set *out, struct cut_err *err)
{
	char *text = NULL, *side = NULL, sidecar[4200], hex[65];
	size_t len, slen;
	json_object *doc = NULL, *v;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = sfile_read(path, BLOCKED_FILE_MAX, &text, &len, err)) != 0)
		return r;
	snprintf(sidecar, sizeof(sidecar), "%s.sha256", path);
	if ((r = sfile_read(sidecar, 4096, &side, &slen, err)) != 0) {
		free(text);
		return cut_err_wrap(err, "The backup %s has no checksum file", path);
	}
	sfile_sha256_hex(text, len, hex);
	if (slen < 64 || strncmp(side, hex, 64) != 0) {
		r = cut_err_set(err, CUT_EIO, "The backup %s does not match its SHA-256 in %s; it was changed "
		    "or damaged, so it is not used (take the backup again from the live system if it is "
		    "still unchanged).", path, sidecar);
		goto out;
	}
	doc = json_tokener_parse(text);
	if (doc == NULL || !json_object_object_get_ex(doc, "format", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), BLOCKED_FORMAT) != 0) {
		r = cut_err_set(err, CUT_EINVAL, "%s is not a cutover blocked-email backup (no \"format\": \"%s\").",
		    path, BLOCKED_FORMAT);
		goto out;
	}
	if (json_object_object_get_ex(doc, "fk_target", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			r = cut_err_set(err, CUT_EINVAL, "The backup %s has a \"fk_target\" that is not text; it was "
			    "edited by hand, so it is not used.", path);
			goto out;
		}
		snprintf(out->fk_target, sizeof(out->fk_target), "%s", json_object_get_string(v));
	}
	if ((r = set_from_json(json_object_object_get(doc, "rows"), out, path, err)) != 0)
		goto out;
	if (!json_object_object_get_ex(doc, "count", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0 || (size_t)json_object_get_int64(v) != out->n) {
		blocked_set_free(out);
		r = cut_err_set(err, CUT_EIO, "The backup %s holds a different number of rows than it says; "
		    "it is not used.", path);
	}
out:
	json_object_put(doc);
	free(text);
	free(side);
	return r;
}

void
blocked_restore_result_free(struct blocked_restore_result *res)
{
	blocked_set_free(&res->unmapped);
}

int
blocked_restore(struct alink *l, const struct aop_conf *c, const struct blocked_set *backup,
    int replace, struct blocked_restore_result *res, struct cut_err *err)
{
	json_object *rows = json_object_new_array_ext((int)backup->n), *j = NULL, *v;
	const char *data;
	char tag[40], *sql = NULL;
	unsigned char rnd[8];
	int r;

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < backup->n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "e", json_object_new_string(backup->rows[i].email));
		json_object_object_add(o, "s", backup->rows[i].has_number ?
		    json_object_new_int64(backup->rows[i].system_number) : NULL);
		json_object_array_add(rows, o);
	}
	data = json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PLAIN);
	/* The rows travel as one dollar-quoted literal whose tag they cannot
	 * contain: no escaping of emails by hand. */
	do {
		RAND_bytes(rnd, sizeof(rnd));
		snprintf(tag, sizeof(tag), "cut%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
		    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	} while (strstr(data, tag) != NULL);
	if (asprintf(&sql,
	    "DO $chk$ BEGIN\n"
	    "  IF " FK_TARGET_SQL " IS DISTINCT FROM 'accounts_user' THEN\n"
	    "    RAISE EXCEPTION 'cutover: notifications_unregisteredblockedemail.un_registered_user_id "
	    "does not reference accounts_user on this database (migration 0055 not applied?)';\n"
	    "  END IF;\n"
	    "END $chk$;\n"
	    /* Concurrent inserts must not slip between the check and the insert. */
	    "LOCK TABLE notifications_unregisteredblockedemail IN SHARE ROW EXCLUSIVE MODE;\n"
	    "WITH src AS (SELECT DISTINCT x.e, x.s FROM jsonb_to_recordset($%s$%s$%s$::jsonb) AS x(e text, s bigint)),\n"
	    "mapped AS (SELECT src.e, src.s, u.id AS uid FROM src LEFT JOIN accounts_user u ON u.system_number = src.s),\n"
	    "todo AS (SELECT m.e, m.uid FROM mapped m WHERE m.uid IS NOT NULL AND NOT EXISTS (\n"
	    "  SELECT 1 FROM notifications_unregisteredblockedemail n WHERE n.email = m.e AND n.un_registered_user_id = m.uid)),\n"
	    "ins AS (INSERT INTO notifications_unregisteredblockedemail (email, un_registered_user_id)\n"
	    "  SELECT e, uid FROM todo RETURNING 1),\n"
	    /* Rows the backup does not hold: after migration 0055 the copied
	     * raw ids name the wrong people. Removed only when asked. */
	    "del AS (DELETE FROM notifications_unregisteredblockedemail n WHERE %s AND NOT EXISTS (\n"
	    "  SELECT 1 FROM mapped m WHERE m.uid = n.un_registered_user_id AND m.e = n.email) RETURNING 1)\n"
	    "SELECT jsonb_build_object('inserted', (SELECT count(*) FROM ins), 'removed', (SELECT count(*) FROM del),\n"
	    "  'mapped', (SELECT count(*) FROM mapped WHERE uid IS NOT NULL),\n"
	    "  'unmapped', coalesce((SELECT jsonb_agg(jsonb_build_array(e, s) ORDER BY s, e) FROM mapped WHERE uid IS NULL), '[]'::jsonb));\n",
	    tag, data, tag, replace ? "true" : "false") < 0) {
		json_object_put(rows);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory building the restore.");
	}
	json_object_put(rows);
	r = aop_sql(l, c, sql, 1, NULL, &j, err);
	free(sql);
	if (r != 0)
		return cut_err_wrap(err, "Restoring the blocked emails (nothing was changed)");
	size_t mapped = 0;
	if (json_object_object_get_ex(j, "inserted", &v))
		res->inserted = (size_t)json_object_get_int64(v);
	if (json_object_object_get_ex(j, "removed", &v))
		res->removed = (size_t)json_object_get_int64(v);
	if (json_object_object_get_ex(j, "mapped", &v))
		mapped = (size_t)json_object_get_int64(v);
	res->present = mapped - res->inserted;
	r = set_from_json(json_object_object_get(j, "unmapped"), &res->unmapped, l->name, err);
	json_object_put(j);
	return r;
}

void
blocked_diff_free(struct blocked_diff *d)
{
	blocked_set_free(&d->missing);
	blocked_set_free(&d->extra);
	blocked_set_free(&d->unmappable);
}

static int
push(struct blocked_set *s, const struct blocked_row *r)
{
	struct blocked_row *n = realloc(s->rows, (s->n + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	s->rows = n;
	s->rows[s->n] = *r;
	if ((s->rows[s->n].email = strdup(r->email)) == NULL)
		return -1;
	s->n++;
	return 0;
}

/* Moves the missing rows nobody on the system can be mapped to (no row of
 * fk_target has their system number, or they have none) from d->missing
 * to d->unmappable. fk_target is one of the two names known_target()
 * accepts (blocked_fetch checked it), so it can be written into the SQL;
 * the numbers are integers printed here. */
static int
split_unmappable(struct alink *l, const struct aop_conf *c, const char *fk_target,
    struct blocked_diff *d, struct cut_err *err)
{
	struct blocked_set keep = { 0 };
	json_object *j = NULL;
	char *buf = NULL, *sql = NULL;
	size_t len = 0, n = 0;
	long long *have = NULL;
	FILE *m;
	int r = 0, oom = 0;

	if (d->missing.n == 0)
		return 0;
	if ((m = open_memstream(&buf, &len)) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory comparing blocked emails.");
	for (size_t i = 0; i < d->missing.n; i++)
		if (d->missing.rows[i].has_number)
			fprintf(m, "%s%lld", n++ ? "," : "", d->missing.rows[i].system_number);
	fclose(m);
	if (n > 0) {
		if (asprintf(&sql, "SELECT coalesce(jsonb_agg(DISTINCT p.system_number ORDER BY "
		    "p.system_number), '[]'::jsonb) FROM %s p WHERE p.system_number = ANY('{%s}'::bigint[]);",
		    fk_target, buf) < 0) {
			free(buf);
			return cut_err_set(err, CUT_ENOMEM, "Out of memory comparing blocked emails.");
		}
		r = aop_sql(l, c, sql, 0, NULL, &j, err);
		free(sql);
		if (r != 0) {
			free(buf);
			return cut_err_wrap(err, "Finding who the missing blocked emails belong to");
		}
	}
	free(buf);
	n = j && json_object_is_type(j, json_type_array) ? json_object_array_length(j) : 0;
	if (n && (have = calloc(n, sizeof(*have))) == NULL) {
		json_object_put(j);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory comparing blocked emails.");
	}
	for (size_t i = 0; i < n; i++)
		have[i] = json_object_get_int64(json_object_array_get_idx(j, i));
	json_object_put(j);
	/* have[] is sorted (ORDER BY): a binary search per missing row. */
	for (size_t i = 0; i < d->missing.n; i++) {
		const struct blocked_row *row = &d->missing.rows[i];
		size_t lo = 0, hi = n;
		while (row->has_number && lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (have[mid] < row->system_number)
				lo = mid + 1;
			else
				hi = mid;
		}
		int found = row->has_number && lo < n && have[lo] == row->system_number;
		oom |= push(found ? &keep : &d->unmappable, row);
	}
	free(have);
	blocked_set_free(&d->missing);
	d->missing = keep;
	if (oom)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory comparing blocked emails.");
	return 0;
}

int
blocked_verify(struct alink *l, const struct aop_conf *c, const struct blocked_set *backup,
    struct blocked_diff *d, struct cut_err *err)
{
	struct blocked_set now;
	size_t i = 0, k = 0;
	int r, oom = 0;

	memset(d, 0, sizeof(*d));
	if ((r = blocked_fetch(l, c, &now, err)) != 0)
		return r;
	/* Both sorted by row_cmp (the backup as loaded, the fetch by qsort);
	 * duplicates on either side count once. */
	while (i < backup->n || k < now.n) {
		int cmp = i >= backup->n ? 1 : k >= now.n ? -1 : row_cmp(&backup->rows[i], &now.rows[k]);
		if (cmp == 0) {
			const struct blocked_row *cur = &backup->rows[i];
			while (i < backup->n && row_cmp(&backup->rows[i], cur) == 0) i++;
			while (k < now.n && row_cmp(&now.rows[k], cur) == 0) k++;
		} else if (cmp < 0) {
			if (d->missing.n == 0 || row_cmp(&d->missing.rows[d->missing.n - 1], &backup->rows[i]) != 0)
				oom |= push(&d->missing, &backup->rows[i]);
			i++;
		} else {
			if (d->extra.n == 0 || row_cmp(&d->extra.rows[d->extra.n - 1], &now.rows[k]) != 0)
				oom |= push(&d->extra, &now.rows[k]);
			k++;
		}
	}
	if (oom) {
		blocked_set_free(&now);
		blocked_diff_free(d);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory comparing blocked emails.");
	}
	r = split_unmappable(l, c, now.fk_target, d, err);
	blocked_set_free(&now);
	if (r != 0) {
		blocked_diff_free(d);
		return r;
	}
	if (d->missing.n || d->extra.n)
		return cut_err_set(err, CUT_ESTATE, "The blocked emails on %s differ from the backup: "
		    "%zu missing that could be restored, %zu not in the backup; run 'cutover "
		    "blocked-emails restore' for the missing ones, and check the rows listed.", l->name,
		    d->missing.n, d->extra.n);
	return 0;
}

int
blocked_write_csv(const char *path, const struct blocked_set *s, struct cut_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (m == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing %s.", path);
	fputs("email,system_number\r\n", m);
	for (size_t i = 0; i < s->n; i++) {
		sfile_csv_field(m, s->rows[i].email);
		if (s->rows[i].has_number)
			fprintf(m, ",%lld\r\n", s->rows[i].system_number);
		else
			fputs(",\r\n", m);
	}
	fclose(m);
	r = sfile_write(path, buf, len, err);
	free(buf);
	return r;
}
