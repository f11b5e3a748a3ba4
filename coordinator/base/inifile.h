/* base/inifile.h: libinih with line numbers.
 *
 * Debian's libinih is built without INI_HANDLER_LINENO, yet both the AWS
 * shared files and cutover's own configuration must name the line of a
 * mistake. We feed inih through ini_parse_stream with a reader that counts
 * lines, so the handler learns the line it is looking at.
 */
#ifndef CUTOVER_INIFILE_H
#define CUTOVER_INIFILE_H

#include <stddef.h>

#include "base/err.h"

/* The longest line inih takes whole: Debian builds it with INI_MAX_LINE 200,
 * which holds the line, '\r', '\n' and '\0'. A longer line would be cut
 * without a word and its rest read as a line of its own. */
#define INIFILE_MAX_LINE 197

/* Called for every name=value (and, with name == NULL, for every new
 * section header). Returns 0 to go on, non-zero to stop the parse. */
typedef int (*inifile_handler)(void *user, int lineno, const char *section,
    const char *name, const char *value);

/* Parses NUL-terminated text. Returns 0, or the line number (> 0) of the
 * first syntax error or the line where the handler stopped. */
int inifile_parse_string(const char *text, inifile_handler h, void *user);

/* The number of the first line longer than INIFILE_MAX_LINE, or 0. */
int inifile_long_line(const char *text);

/* 0, or CUT_ECONFIG with err naming path and the first line too long to be
 * parsed whole. Call before inifile_parse_string, which stops at such a
 * line and returns its number like a syntax error. */
int inifile_check_lines(const char *path, const char *text, struct cut_err *err);

/* Reads a whole file of at most 1 MiB into a malloc'd NUL-terminated string
 * the caller frees. Returns 0, CUT_ENOTFOUND when it does not exist, or
 * CUT_EIO (err says which file and why). */
int inifile_read(const char *path, char **text, struct cut_err *err);

#endif
