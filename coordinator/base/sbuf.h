/* base/sbuf.h: a growable NUL-terminated string buffer for building requests.
 *
 * Allocation failure is sticky (sb->oom) so a builder can append many pieces
 * and check once at the end. A buffer has a size cap (SBUF_MAX) so a hostile
 * peer cannot make us grow without bound: exceeding it also sets oom.
 */
#ifndef CUTOVER_SBUF_H
#define CUTOVER_SBUF_H

#include <stdarg.h>
#include <stddef.h>

#define SBUF_MAX (64u * 1024 * 1024)

struct sbuf {
	char *s;      /* NUL-terminated once anything was appended; owned by the sbuf */
	size_t len;
	size_t cap;
	int oom;      /* set when an append failed; later appends are no-ops */
};

#define SBUF_INIT { NULL, 0, 0, 0 }

void sbuf_addn(struct sbuf *sb, const void *p, size_t n);
void sbuf_add(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s percent-encoded per RFC 3986 (unreserved A-Z a-z 0-9 - _ . ~ kept);
 * characters in `keep` are also left as they are ("/" for paths). */
void sbuf_add_uri(struct sbuf *sb, const char *s, size_t n, const char *keep);
/* Appends s with XML special characters escaped (&, <, >, ", '). */
void sbuf_add_xml(struct sbuf *sb, const char *s);
/* Returns the string ("" when empty) and gives ownership to the caller, who
 * frees it with free(); NULL if an append had failed. The sbuf is reset. */
char *sbuf_steal(struct sbuf *sb);
/* Frees the contents (zeroing them first: buffers may hold secrets). */
void sbuf_free(struct sbuf *sb);
/* The current contents, "" when empty; valid until the next append. */
const char *sbuf_str(const struct sbuf *sb);

#endif
