/* base/sfile.h: writing the files the operator must be able to rely on after a
 * crash (backups, saved crontabs, reports): mode 0600 whatever the umask,
 * written to a temporary name, fsync'd, renamed into place, directory
 * fsync'd. Either the old file or the complete new one is there. */
#ifndef CUTOVER_SFILE_H
#define CUTOVER_SFILE_H

#include <stddef.h>
#include <stdio.h>

#include "base/err.h"

int sfile_write(const char *path, const void *data, size_t len, struct cut_err *err);

/* Reads a whole file (at most max bytes). *out is NUL-terminated and owned
 * by the caller (free). */
int sfile_read(const char *path, size_t max, char **out, size_t *len, struct cut_err *err);

/* Writes s as one CSV field (RFC 4180: quoted, quotes doubled, when it
 * holds a comma, quote or line break); a field starting = + - @ tab or CR
 * gets a ' in front so no spreadsheet runs it as a formula. */
void sfile_csv_field(FILE *f, const char *s);

/* Text from outside (database rows, AWS messages) on its way to a
 * terminal: control characters, ESC, DEL and UTF-8 C1 controls become
 * visible escapes (\n, \e, \x01, \u009b), so a row cannot move
 * the cursor, retitle the window or hide what came before it.
 * sfile_term_clean writes into dst (always NUL-terminated; cut at a whole
 * escape when dst is too small). */
void sfile_term_str(FILE *f, const char *s);
void sfile_term_clean(char *dst, size_t sz, const char *src);

/* Lower-case hex SHA-256 of data into hex[65]. */
void sfile_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
