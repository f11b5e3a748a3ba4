/* safety/cronpause.c: see safety/cronpause.h. */
#include "safety/cronpause.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sfile.h"

const char *
cronp_local_path(const struct alink *l, const struct aop_conf *c, const char *dir,
    char *buf, size_t len)
{
	char name[200];
	size_t k = 0;
	const char *user = c && c->cron_user ? c->cron_user : "agent-user";

	/* Instance labels may hold spaces or slashes: keep a safe file name. */
	for (const char *p = l->name; *p && k + 1 < sizeof(name); p++)
		name[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' ? *p : '_';
	name[k] = '\0';
	snprintf(buf, len, "%s/crontab.%s.%s.json", dir, name, user);
	return buf;
}

int
cronp_pause(struct alink *l, const struct aop_conf *c, const char *dir,
    struct aop_crontab *saved, struct cut_err *err)
{
	struct aop_crontab t;
	char path[1200], hex[65];
	json_object *doc;
	const char *text;
	int r;

	if ((r = aop_cron(l, c, "pause", NULL, 0, 0, &t, err)) != 0)
		return r;
	doc = json_object_new_object();
	json_object_object_add(doc, "format", json_object_new_string("cutover-crontab"));
	json_object_object_add(doc, "instance", json_object_new_string(l->name));
	json_object_object_add(doc, "user", json_object_new_string(c && c->cron_user ? c->cron_user : ""));
	json_object_object_add(doc, "had_crontab", json_object_new_boolean(t.had_crontab));
	json_object_object_add(doc, "content", json_object_new_string_len(t.content ? t.content : "", (int)t.len));
	sfile_sha256_hex(t.content ? t.content : "", t.len, hex);
	json_object_object_add(doc, "sha256", json_object_new_string(hex));
	json_object_object_add(doc, "saved_on_instance", json_object_new_string(t.saved_path));
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY);
	cronp_local_path(l, c, dir, path, sizeof(path));
	r = sfile_write(path, text, strlen(text), err);
	json_object_put(doc);
	if (r != 0) {
		aop_crontab_free(&t);
		return cut_err_wrap(err, "Cron on %s is paused, but its saved crontab could not be kept "
		    "locally (the instance still has it in %s)", l->name, t.saved_path);
	}
	if (saved != NULL)
		*saved = t;
	else
		aop_crontab_free(&t);
	return 0;
}

int
cronp_restore(struct alink *l, const struct aop_conf *c, const char *dir, struct cut_err *err)
{
	struct aop_crontab t;
	char path[1200], *text = NULL, hex[65];
	size_t len;
	json_object *doc = NULL, *v;
	int r;

	cronp_local_path(l, c, dir, path, sizeof(path));
	r = sfile_read(path, 4u << 20, &text, &len, err);
	if (r == CUT_ENOTFOUND) {
		/* No local copy: the agent's own saved copy is the source. */
		if ((r = aop_cron(l, c, "restore", NULL, 0, 0, &t, err)) != 0)
			return cut_err_wrap(err, "No local saved crontab (%s) and the instance's copy failed", path);
	} else if (r != 0) {
		return r;
	} else {
		doc = json_tokener_parse(text);
		free(text);
		json_object *content = NULL;
		if (doc == NULL || !json_object_object_get_ex(doc, "content", &content) ||
		    !json_object_is_type(content, json_type_string) ||
		    !json_object_object_get_ex(doc, "had_crontab", &v)) {
			json_object_put(doc);
			return cut_err_set(err, CUT_EIO, "%s is not a crontab saved by cutover; restore it by hand "
			    "from the instance's copy.", path);
		}
		const char *s = json_object_get_string(content);
		size_t n = (size_t)json_object_get_string_len(content);
		sfile_sha256_hex(s, n, hex);
		json_object *sum;
		if (!json_object_object_get_ex(doc, "sha256", &sum) || !json_object_is_type(sum, json_type_string) ||
		    strcmp(json_object_get_string(sum), hex) != 0) {
			json_object_put(doc);
			return cut_err_set(err, CUT_EIO, "The saved crontab %s does not match its SHA-256; "
			    "it is not used.", path);
		}
		r = aop_cron(l, c, "restore", s, n, json_object_get_boolean(v), &t, err);
		json_object_put(doc);
		if (r != 0)
			return r;
	}
	int ok = t.verified;
	aop_crontab_free(&t);
	if (!ok)
		return cut_err_set(err, CUT_EREMOTE, "The crontab on %s was restored but could not be "
		    "verified; check it with 'crontab -l'.", l->name);
	return 0;
}

int
cronp_is_paused(struct alink *l, const struct aop_conf *c, int *paused, struct cut_err *err)
{
	struct aop_crontab t;
	int r;

	*paused = 0;
	if ((r = aop_cron(l, c, "show", NULL, 0, 0, &t, err)) != 0)
		return r;
	/* The agent's pause note (agent/op_cron.c) opens the emptied crontab. */
	static const char note[] = "# crontab paused by cutover";
	*paused = t.had_crontab && t.len >= sizeof(note) - 1 &&
	    strncmp(t.content, note, sizeof(note) - 1) == 0;
	aop_crontab_free(&t);
	return 0;
}
