/* base/rowlist.c: see base/rowlist.h. */
#include "base/rowlist.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "base/sfile.h"

#define ROWLIST_FORMAT "cutover-rows"
/* Lost writes after a long quiet-period overrun are thousands of rows at
 * most; anything this big is not ours. */
#define ROWLIST_FILE_MAX (64u * 1024u * 1024u)

int
rowlist_init(struct rowlist *rl, size_t ncols, const char *const *cols, struct cut_err *err)
{
	memset(rl, 0, sizeof(*rl));
	if (ncols == 0 || ncols > ROWLIST_MAX_COLS)
		return cut_err_set(err, CUT_EINVAL, "A row list has 1 to %d columns, not %zu; this is "
		    "a bug in cutover.", ROWLIST_MAX_COLS, ncols);
	for (size_t j = 0; j < ncols; j++) {
		if ((rl->cols[j] = strdup(cols[j])) == NULL) {
			rowlist_free(rl);
			return cut_err_set(err, CUT_ENOMEM, "Out of memory listing rows.");
		}
		rl->ncols = j + 1;
	}
	return 0;
}

int
rowlist_add(struct rowlist *rl, const char *const *cells, struct cut_err *err)
{
	if (rl->nrows == rl->cap) {
		size_t nc = rl->cap ? rl->cap * 2 : 16;
		char **n = realloc(rl->cells, nc * rl->ncols * sizeof(*n));
		if (n == NULL)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory listing rows.");
		rl->cells = n;
		rl->cap = nc;
	}
	for (size_t j = 0; j < rl->ncols; j++) {
		char *c = strdup(cells[j] ? cells[j] : "");
		if (c == NULL) {
			for (size_t k = 0; k < j; k++)
				free(rl->cells[rl->nrows * rl->ncols + k]);
			return cut_err_set(err, CUT_ENOMEM, "Out of memory listing rows.");
		}
		rl->cells[rl->nrows * rl->ncols + j] = c;
	}
	rl->nrows++;
	return 0;
}

void
rowlist_free(struct rowlist *rl)
{
	for (size_t i = 0; i < rl->nrows * rl->ncols; i++)
		free(rl->cells[i]);
	for (size_t j = 0; j < rl->ncols; j++)
		free(rl->cols[j]);
	free(rl->cells);
	memset(rl, 0, sizeof(*rl));
}

void
rowlist_sibling(const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s.rows.json", path);
}

int
rowlist_write(const char *path, const struct rowlist *rl, char sha256[65], struct cut_err *err)
{
	json_object *doc = json_object_new_object(), *cols, *rows;
	const char *text;
	int r;

	if (doc == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing %s.", path);
	json_object_object_add(doc, "format", json_object_new_string(ROWLIST_FORMAT));
	json_object_object_add(doc, "version", json_object_new_int(1));
	cols = json_object_new_array_ext((int)rl->ncols);
	for (size_t j = 0; j < rl->ncols; j++)
		json_object_array_add(cols, json_object_new_string(rl->cols[j]));
	json_object_object_add(doc, "columns", cols);
	rows = json_object_new_array_ext((int)rl->nrows);
	for (size_t i = 0; i < rl->nrows; i++) {
		json_object *row = json_object_new_array_ext((int)rl->ncols);
		for (size_t j = 0; j < rl->ncols; j++)
			json_object_array_add(row, json_object_new_string(rowlist_cell(rl, i, j)));
		json_object_array_add(rows, row);
	}
	json_object_object_add(doc, "rows", rows);
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		json_object_put(doc);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing %s.", path);
	}
	if (sha256)
		sfile_sha256_hex(text, strlen(text), sha256);
	r = sfile_write(path, text, strlen(text), err);
	json_object_put(doc);
	return r;
}

int
rowlist_load(const char *path, const char *want_sha256, struct rowlist *out, char sha256[65],
    struct cut_err *err)
{
	char *text = NULL, hex[65];
	const char *cols[ROWLIST_MAX_COLS];
	size_t len, ncols;
	json_object *doc = NULL, *v, *c, *rows;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = sfile_read(path, ROWLIST_FILE_MAX, &text, &len, err)) != 0)
		return r;
	sfile_sha256_hex(text, len, hex);
	if (sha256)
		memcpy(sha256, hex, sizeof(hex));
	if (want_sha256 && strcmp(want_sha256, hex) != 0) {
		free(text);
		return cut_err_set(err, CUT_EIO, "%s is not the file this cutover wrote (its SHA-256 "
		    "differs from the journal's); it was changed or replaced, so it is not used.", path);
	}
	doc = json_tokener_parse(text);
	free(text);
	if (doc == NULL || !json_object_object_get_ex(doc, "format", &v) ||
	    strcmp(json_object_get_string(v), ROWLIST_FORMAT) != 0 ||
	    !json_object_object_get_ex(doc, "columns", &c) || !json_object_is_type(c, json_type_array) ||
	    (ncols = json_object_array_length(c)) == 0 || ncols > ROWLIST_MAX_COLS ||
	    !json_object_object_get_ex(doc, "rows", &rows) || !json_object_is_type(rows, json_type_array)) {
		json_object_put(doc);
		return cut_err_set(err, CUT_EPROTO, "%s is not a cutover row list.", path);
	}
	for (size_t j = 0; j < ncols; j++)
		cols[j] = json_object_get_string(json_object_array_get_idx(c, j));
	if ((r = rowlist_init(out, ncols, cols, err)) != 0) {
		json_object_put(doc);
		return r;
	}
	for (size_t i = 0; r == 0 && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		const char *cells[ROWLIST_MAX_COLS];
		if (!json_object_is_type(row, json_type_array) || json_object_array_length(row) != ncols) {
			r = cut_err_set(err, CUT_EPROTO, "Row %zu of %s does not have %zu cells; the file "
			    "is damaged.", i + 1, path, ncols);
			break;
		}
		for (size_t j = 0; j < ncols; j++)
			cells[j] = json_object_get_string(json_object_array_get_idx(row, j));
		r = rowlist_add(out, cells, err);
	}
	json_object_put(doc);
	if (r != 0)
		rowlist_free(out);
	return r;
}

