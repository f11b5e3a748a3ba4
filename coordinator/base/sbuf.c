/* base/sbuf.c: see base/sbuf.h. */
#include "base/sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
sbuf_grow(struct sbuf *sb, size_t more)
{
	size_t need, ncap;
	char *p;

	if (sb->oom)
		return -1;
	if (more > SBUF_MAX || sb->len + more + 1 > SBUF_MAX) {
		sb->oom = 1;
		return -1;
	}
	need = sb->len + more + 1;
	if (need <= sb->cap)
		return 0;
	ncap = sb->cap ? sb->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(sb->s, ncap)) == NULL) {
		sb->oom = 1;
		return -1;
	}
	sb->s = p;
	sb->cap = ncap;
	return 0;
}

void
sbuf_addn(struct sbuf *sb, const void *p, size_t n)
{
	if (sbuf_grow(sb, n) != 0)
		return;
	if (n > 0)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void
sbuf_add(struct sbuf *sb, const char *s)
{
	sbuf_addn(sb, s, strlen(s));
}

void
sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_addn(sb, &c, 1);
}

void
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_grow(sb, (size_t)n) != 0) {
		sb->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void
sbuf_add_uri(struct sbuf *sb, const char *s, size_t n, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~' || (keep != NULL && c != 0 && strchr(keep, c) != NULL)) {
			sbuf_addc(sb, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			sbuf_addn(sb, e, 3);
		}
	}
}

void
sbuf_add_xml(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_add(sb, "&amp;"); break;
		case '<': sbuf_add(sb, "&lt;"); break;
		case '>': sbuf_add(sb, "&gt;"); break;
		case '"': sbuf_add(sb, "&quot;"); break;
		case '\'': sbuf_add(sb, "&apos;"); break;
		default: sbuf_addc(sb, *s);
		}
	}
}

char *
sbuf_steal(struct sbuf *sb)
{
	char *r;

	if (sb->oom) {
		sbuf_free(sb);
		return NULL;
	}
	r = sb->s ? sb->s : strdup("");
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return r;
}

void
sbuf_free(struct sbuf *sb)
{
	if (sb->s != NULL) {
		explicit_bzero(sb->s, sb->cap);
		free(sb->s);
	}
	sb->s = NULL;
	sb->len = sb->cap = 0;
	sb->oom = 0;
}

const char *
sbuf_str(const struct sbuf *sb)
{
	return sb->s ? sb->s : "";
}
