/* base/rowlist.h: the rows a step names for the operator (blocked emails that
 * could not be restored, writes the snapshot missed, activity on the new
 * system), kept in a small file next to the step's CSV so the run's
 * output and the report (regenerated at any time from the journal) can
 * list them exactly. The step records the file's path and SHA-256 in the
 * journal; the report uses the file only when the digest still matches.
 *
 * Format: JSON (json-c), {"format":"cutover-rows","version":1,
 * "columns":[names],"rows":[[text,...],...]}; every cell is a string.
 */
#ifndef CUTOVER_ROWLIST_H
#define CUTOVER_ROWLIST_H

#include <stddef.h>
#include <stdio.h>

#include "base/err.h"

#define ROWLIST_MAX_COLS 8

/* Cells are row-major: cell (i, j) is cells[i * ncols + j]. Everything is
 * owned by the struct: rowlist_free(). A zeroed struct is an empty list. */
struct rowlist {
	size_t ncols, nrows, cap;
	char *cols[ROWLIST_MAX_COLS];
	char **cells;
};

/* Starts an empty list with these column names (copied). */
int rowlist_init(struct rowlist *rl, size_t ncols, const char *const *cols, struct cut_err *err);
/* Appends one row of ncols strings (copied; NULL is stored as ""). */
int rowlist_add(struct rowlist *rl, const char *const *cells, struct cut_err *err);
void rowlist_free(struct rowlist *rl);
static inline const char *
rowlist_cell(const struct rowlist *rl, size_t row, size_t col)
{
	return rl->cells[row * rl->ncols + col];
}

/* "<path>.rows.json": where the row list that goes with the file at path
 * (a CSV the operator reads) is kept. */
void rowlist_sibling(const char *path, char *out, size_t len);

/* Writes rl to path (sfile_write: 0600, fsync'd, atomic); sha256 (may be
 * NULL) gets the hex digest of what was written. */
int rowlist_write(const char *path, const struct rowlist *rl, char sha256[65],
    struct cut_err *err);
/* Reads path into *out (initialised here). With want_sha256 non-NULL the
 * file must have that digest (CUT_EIO otherwise); sha256 (may be NULL)
 * gets its digest. */
int rowlist_load(const char *path, const char *want_sha256, struct rowlist *out,
    char sha256[65], struct cut_err *err);


#endif
