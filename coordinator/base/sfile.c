/* base/sfile.c: see base/sfile.h. */
#include "base/sfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <stdint.h>

int
sfile_write(const char *path, const void *data, size_t len, struct cut_err *err)
{
	char tmp[4200], dir[4200];
	const char *p = data;
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return cut_err_set(err, CUT_EINVAL, "The path %s is too long.", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return cut_err_set(err, CUT_EIO, "Cannot create %s: %s; check the folder exists and is writable.",
		    tmp, strerror(errno));
	/* The umask may have widened nothing, but an old file of the same
	 * temporary name could have had other bits. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	{
		int e = errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return cut_err_set(err, CUT_EIO, "Cannot write %s: %s; check the disk.", path, strerror(e));
	}
}

int
sfile_read(const char *path, size_t max, char **out, size_t *len, struct cut_err *err)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return cut_err_set(err, errno == ENOENT ? CUT_ENOTFOUND : CUT_EIO,
		    "Cannot read %s: %s.", path, strerror(errno));
	/* Allocate what the file holds (plus one byte to see it grow), not
	 * max: the blocked-email backup allows 512 MiB. */
	struct stat st;
	size_t cap = max + 1;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 && (uintmax_t)st.st_size < max)
		cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL) {
		fclose(f);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading %s.", path);
	}
	n = fread(buf, 1, cap, f);
	if (ferror(f) || n == cap) {
		int e = errno;
		fclose(f);
		free(buf);
		return cut_err_set(err, CUT_EIO, "Cannot read %s: %s.", path,
		    n < cap ? strerror(e) : cap > max ? "it is larger than expected" :
		    "it changed while it was read; run again");
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

void
sfile_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

void
sfile_csv_field(FILE *f, const char *s)
{
	/* A cell starting = + - @ (or tab, CR, which some spreadsheets skip
	 * before looking) is run as a formula when the operator opens the CSV:
	 * database text must never become one (OWASP CSV injection). A single
	 * quote in front makes it text and shows what was there. */
	int formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		if (formula)
			fputc('\'', f);
		fputs(s, f);
		return;
	}
	fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The escape for one byte of s at p, or NULL when it is shown as is; *skip
 * is how many bytes the escape stands for. */
static const char *
term_escape(const unsigned char *p, char buf[16], size_t *skip)
{
	*skip = 1;
	switch (*p) {
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case 0x1b: return "\\e";
	default: break;
	}
	if (*p < 0x20 || *p == 0x7f) {
		snprintf(buf, 16, "\\x%02x", *p);
		return buf;
	}
	/* C1 controls in UTF-8 (U+0080..U+009F, e.g. CSI 0x9b) act like ESC [
	 * on many terminals. */
	if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		snprintf(buf, 16, "\\u%04x", p[1]);
		*skip = 2;
		return buf;
	}
	return NULL;
}

void
sfile_term_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[16];
	size_t skip;

	while (*p) {
		const char *e = term_escape(p, buf, &skip);

		if (e != NULL)
			fputs(e, f);
		else
			fputc(*p, f);
		p += skip;
	}
}

void
sfile_term_clean(char *dst, size_t sz, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	char buf[16];
	size_t n = 0, skip;

	if (sz == 0)
		return;
	while (*p) {
		const char *e = term_escape(p, buf, &skip);
		size_t el = e ? strlen(e) : 1;

		if (n + el >= sz)
			break;
		if (e != NULL)
			memcpy(dst + n, e, el);
		else
			dst[n] = (char)*p;
		n += el;
		p += skip;
	}
	dst[n] = '\0';
}
