/* aws/xml.h: reading AWS XML responses with libxml2.
 *
 * AWS responses are small, namespaced documents. These helpers find elements
 * by local name (namespaces ignored: EB, RDS, EC2 and Route 53 each use their
 * own) and copy text out, so the typed operation parsers stay short.
 * Parsing is done with XML_PARSE_NONET and without entity substitution: a
 * hostile response cannot make us fetch anything or expand entities.
 */
#ifndef CUTOVER_AXML_H
#define CUTOVER_AXML_H

#include <stddef.h>

#include <libxml/tree.h>

/* Parses buf; NULL if it is not well-formed XML. Free with xmlFreeDoc. */
xmlDoc *axml_parse(const char *buf, size_t len);

/* First child element of n named `name` (local name), or NULL. */
xmlNode *axml_child(const xmlNode *n, const char *name);
/* Next sibling element after n with the same local name as n, or NULL. */
xmlNode *axml_next(const xmlNode *n);
/* Follows a "/"-separated path of child names from n; NULL if absent. */
xmlNode *axml_path(const xmlNode *n, const char *path);
/* Searches the whole subtree (depth first) for the first element named name. */
xmlNode *axml_find(const xmlNode *n, const char *name);

/* Text of the element at path under n, as a malloc'd string the caller
 * frees; NULL when absent. */
char *axml_text(const xmlNode *n, const char *path);
/* Copies the text at path into buf (truncating); "" when absent. */
void axml_copy(const xmlNode *n, const char *path, char *buf, size_t size);
/* Integer / boolean text at path; def when absent or malformed. */
long axml_long(const xmlNode *n, const char *path, long def);
int axml_bool(const xmlNode *n, const char *path, int def);

/* An AWS error response in any of its shapes. */
struct aws_error {
	char code[128];        /* "Throttling", "DBInstanceNotFound" */
	char message[768];
	char request_id[128];
	char type[16];         /* "Sender" / "Receiver" when given */
};

/* Parses an error body: query <ErrorResponse>, EC2 <Response><Errors>,
 * Route 53 <ErrorResponse> and legacy <InvalidChangeBatch><Messages>.
 * Returns 0 when an error was recognised, -1 otherwise (e is then zeroed). */
int axml_parse_error(const char *buf, size_t len, struct aws_error *e);

#endif
