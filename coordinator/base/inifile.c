/* base/inifile.c: see base/inifile.h. */
#include "base/inifile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#define INIFILE_MAX (1024 * 1024)

struct reader {
	const char *p;
	int lineno;            /* line most recently handed to inih */
	int last_section_line;
	char section[256];
	inifile_handler h;
	void *user;
	int stopped_at;
	int too_long;          /* a line inih's buffer could not hold */
};

static char *
reader_gets(char *str, int num, void *stream)
{
	struct reader *r = stream;
	int i = 0;

	if (*r->p == '\0' || r->too_long)
		return NULL;
	while (i < num - 1 && r->p[i] != '\0' && r->p[i] != '\n')
		i++;
	/* inih would read the rest of a longer line as a line of its own:
	 * end the parse here instead (inifile_check_lines says why first). */
	if (i == num - 1 && r->p[i] != '\0' && r->p[i] != '\n') {
		r->too_long = r->lineno + 1;
		return NULL;
	}
	if (i < num - 1 && r->p[i] == '\n')
		i++;
	memcpy(str, r->p, (size_t)i);
	str[i] = '\0';
	r->p += i;
	if (i > 0 && str[i - 1] == '\n')
		r->lineno++;
	else if (*r->p == '\0')
		r->lineno++; /* last line without newline */
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct reader *r = user;

	/* inih announces a new section with name == NULL only when built with
	 * INI_CALL_HANDLER_ON_NEW_SECTION; Debian's is not, so sections are
	 * reported with their first key. */
	if (r->h(r->user, r->lineno, section, name, value) != 0) {
		if (r->stopped_at == 0)
			r->stopped_at = r->lineno;
		return 0;
	}
	return 1;
}

int
inifile_parse_string(const char *text, inifile_handler h, void *user)
{
	struct reader r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.p = text;
	r.h = h;
	r.user = user;
	rc = ini_parse_stream(reader_gets, &r, handler, &r);
	if (r.stopped_at)
		return r.stopped_at;
	if (r.too_long)
		return r.too_long;
	return rc < 0 ? 1 : rc;
}

int
inifile_long_line(const char *text)
{
	const char *p = text;
	int line = 0;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		line++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > INIFILE_MAX_LINE)
			return line;
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return 0;
}

int
inifile_check_lines(const char *path, const char *text, struct cut_err *err)
{
	int line = inifile_long_line(text);

	if (line == 0)
		return 0;
	return cut_err_set(err, CUT_ECONFIG, "%s line %d is longer than %d characters, which the INI reader "
	    "would cut in two; shorten it (put a long credential_process command in a script and name the "
	    "script there).", path, line, INIFILE_MAX_LINE);
}

int
inifile_read(const char *path, char **text, struct cut_err *err)
{
	FILE *f;
	char *buf;
	size_t n;

	*text = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return cut_err_set(err, CUT_ENOTFOUND, "%s does not exist; create it or give the right path.", path);
		return cut_err_set(err, CUT_EIO, "Cannot read %s (%s); check its permissions.", path, strerror(errno));
	}
	if ((buf = malloc(INIFILE_MAX + 1)) == NULL) {
		fclose(f);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading %s.", path);
	}
	n = fread(buf, 1, INIFILE_MAX + 1, f);
	if (ferror(f) || n > INIFILE_MAX) {
		int big = n > INIFILE_MAX;
		fclose(f);
		free(buf);
		if (big)
			return cut_err_set(err, CUT_EIO, "%s is larger than 1 MiB; is it the right file?", path);
		return cut_err_set(err, CUT_EIO, "Cannot read %s; check the file.", path);
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		return cut_err_set(err, CUT_EIO, "%s contains NUL bytes; it is not a text INI file.", path);
	}
	*text = buf;
	return 0;
}
