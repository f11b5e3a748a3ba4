/* aws/xml.c: see aws/xml.h. */
#include "aws/xml.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

xmlDoc *
axml_parse(const char *buf, size_t len)
{
	if (buf == NULL || len == 0 || len > 64u * 1024 * 1024)
		return NULL;
	return xmlReadMemory(buf, (int)len, "aws.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
}

static int
named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNode *
axml_child(const xmlNode *n, const char *name)
{
	xmlNode *c;

	if (n == NULL)
		return NULL;
	for (c = n->children; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

xmlNode *
axml_next(const xmlNode *n)
{
	xmlNode *c;

	if (n == NULL)
		return NULL;
	for (c = n->next; c; c = c->next)
		if (named(c, (const char *)n->name))
			return c;
	return NULL;
}

xmlNode *
axml_path(const xmlNode *n, const char *path)
{
	char part[128];
	const char *p = path, *e;
	const xmlNode *cur = n;

	while (cur && *p) {
		size_t l;
		e = strchr(p, '/');
		l = e ? (size_t)(e - p) : strlen(p);
		if (l >= sizeof(part))
			return NULL;
		memcpy(part, p, l);
		part[l] = '\0';
		cur = axml_child(cur, part);
		p = e ? e + 1 : p + l;
	}
	return (xmlNode *)cur;
}

xmlNode *
axml_find(const xmlNode *n, const char *name)
{
	xmlNode *c, *f;
	int depth = 0;

	/* Iterative walk: a hostile document cannot blow the stack. */
	c = n ? n->children : NULL;
	while (c) {
		if (named(c, name))
			return c;
		if (c->children && depth < 256) {
			c = c->children;
			depth++;
			continue;
		}
		while (c && c->next == NULL) {
			c = c->parent;
			depth--;
			if (c == n || depth < 0)
				return NULL;
		}
		if (c)
			c = c->next;
	}
	f = NULL;
	return f;
}

char *
axml_text(const xmlNode *n, const char *path)
{
	xmlNode *t = (path && *path) ? axml_path(n, path) : (xmlNode *)n;
	xmlChar *c;
	char *r;

	if (t == NULL)
		return NULL;
	c = xmlNodeGetContent(t);
	if (c == NULL)
		return strdup("");
	r = strdup((const char *)c);
	xmlFree(c);
	return r;
}

void
axml_copy(const xmlNode *n, const char *path, char *buf, size_t size)
{
	char *t = axml_text(n, path);

	if (size == 0)
		return;
	buf[0] = '\0';
	if (t) {
		size_t l = strlen(t);
		if (l >= size)
			l = size - 1;
		memcpy(buf, t, l);
		buf[l] = '\0';
		free(t);
	}
}

long
axml_long(const xmlNode *n, const char *path, long def)
{
	char *t = axml_text(n, path), *end;
	long v;

	if (t == NULL)
		return def;
	v = strtol(t, &end, 10);
	if (end == t || *end)
		v = def;
	free(t);
	return v;
}

int
axml_bool(const xmlNode *n, const char *path, int def)
{
	char *t = axml_text(n, path);
	int v = def;

	if (t == NULL)
		return def;
	if (strcmp(t, "true") == 0)
		v = 1;
	else if (strcmp(t, "false") == 0)
		v = 0;
	free(t);
	return v;
}

int
axml_parse_error(const char *buf, size_t len, struct aws_error *e)
{
	xmlDoc *d;
	xmlNode *root, *err = NULL;
	int r = -1;

	memset(e, 0, sizeof(*e));
	if ((d = axml_parse(buf, len)) == NULL)
		return -1;
	root = xmlDocGetRootElement(d);
	if (root == NULL)
		goto out;
	if (named(root, "ErrorResponse")) {          /* query and Route 53 */
		err = axml_child(root, "Error");
		axml_copy(root, "RequestId", e->request_id, sizeof(e->request_id));
	} else if (named(root, "Response")) {        /* EC2 */
		err = axml_path(root, "Errors/Error");
		axml_copy(root, "RequestID", e->request_id, sizeof(e->request_id));
		if (!e->request_id[0])
			axml_copy(root, "RequestId", e->request_id, sizeof(e->request_id));
	} else if (named(root, "Error")) {           /* bare form some services use */
		err = root;
		axml_copy(root, "RequestId", e->request_id, sizeof(e->request_id));
	} else if (named(root, "InvalidChangeBatch")) { /* Route 53 legacy */
		xmlNode *m;
		size_t o = 0;
		strcpy(e->code, "InvalidChangeBatch");
		for (m = axml_path(root, "Messages/Message"); m; m = axml_next(m)) {
			char *t = axml_text(m, NULL);
			if (t) {
				int w = snprintf(e->message + o, sizeof(e->message) - o, "%s%s",
				    o ? "; " : "", t);
				if (w > 0)
					o += (size_t)w < sizeof(e->message) - o ? (size_t)w : sizeof(e->message) - o - 1;
				free(t);
			}
		}
		if (!e->message[0])
			axml_copy(root, "Message", e->message, sizeof(e->message));
		axml_copy(root, "RequestId", e->request_id, sizeof(e->request_id));
		r = 0;
		goto out;
	}
	if (err == NULL)
		goto out;
	axml_copy(err, "Code", e->code, sizeof(e->code));
	axml_copy(err, "Message", e->message, sizeof(e->message));
	axml_copy(err, "Type", e->type, sizeof(e->type));
	if (!e->request_id[0])
		axml_copy(err, "RequestId", e->request_id, sizeof(e->request_id));
	r = e->code[0] ? 0 : -1;
out:
	xmlFreeDoc(d);
	if (r != 0)
		memset(e, 0, sizeof(*e));
	return r;
}
