/* aws/r53.c: see aws/r53.h. */
#include "aws/r53.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sbuf.h"

#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"

static const char *
strip_prefix(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

int
r53_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

const char *
r53_eb_alias_zone(const char *region)
{
	static const char *const t[][2] = {
		{ "ap-southeast-2", "Z2PCDNR3VC2G1N" }, { "us-east-1", "Z117KPS5GTRQ2G" },
		{ "us-east-2", "Z14LCN19Q5QHIC" }, { "us-west-1", "Z1LQECGX5PH1X" },
		{ "us-west-2", "Z38NKT9BP95V3O" }, { "ap-southeast-1", "Z16FZ9L249IFLT" },
		{ "ap-northeast-1", "Z1R25G3KIG2GBW" }, { "eu-west-1", "Z2NYPWQ7DFZAZH" },
		{ "eu-west-2", "Z1GKAAAUGATPF1" }, { "eu-central-1", "Z1FRNW7UH4DEZJ" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i][0], region) == 0)
			return t[i][1];
	return NULL;
}

static void
query_add(struct sbuf *q, const char *k, const char *v)
{
	if (v == NULL)
		return;
	if (q->len)
		sbuf_addc(q, '&');
	sbuf_add(q, k);
	sbuf_addc(q, '=');
	sbuf_add_uri(q, v, strlen(v), NULL);
}

/* Route 53's paging (REST, a different set of tokens per list): query adds
 * the next page's parameters from ctx (where parse left the tokens); parse
 * reads one page and returns 1 when another page is wanted, 0 when done, or
 * a negative CUT_E* (err then says what; the pages read stay in ctx). At
 * most max_pages pages. The one paging loop of this file, as aws_query_pages
 * is of the Query services. */
typedef void (*r53_query_fn)(struct sbuf *q, void *ctx);
typedef int (*r53_parse_fn)(xmlDoc *d, void *ctx, struct cut_err *err);

static int
r53_pages(struct aws_client *c, const char *op, const char *path, r53_query_fn query,
    r53_parse_fn parse, void *ctx, int max_pages, struct cut_err *err)
{
	int pages = 0, r;

	do {
		struct sbuf q = SBUF_INIT;
		xmlDoc *d;
		query(&q, ctx);
		r = aws_rest_xml(c, &aws_svc_route53, op, "GET", path, sbuf_str(&q), NULL, &d, err);
		sbuf_free(&q);
		if (r != 0)
			return r;
		r = parse(d, ctx, err);
		xmlFreeDoc(d);
	} while (r == 1 && ++pages < max_pages);
	return r < 0 ? r : 0;
}

struct zone_find {
	const char *dns_name;
	char next_name[256], next_id[64];
	struct r53_zone *out;
	int found;
};

static void
zone_query(struct sbuf *q, void *ctx)
{
	struct zone_find *z = ctx;

	query_add(q, "dnsname", z->next_name);
	if (z->next_id[0])
		query_add(q, "hostedzoneid", z->next_id);
	query_add(q, "maxitems", "100");
}

static int
zone_parse(xmlDoc *d, void *ctx, struct cut_err *err)
{
	struct zone_find *x = ctx;
	struct r53_zone *out = x->out;
	xmlNode *root = xmlDocGetRootElement(d), *z;
	int trunc;

	(void)err;
	for (z = axml_path(root, "HostedZones/HostedZone"); z; z = axml_next(z)) {
		char name[256], id[256];
		int priv;
		axml_copy(z, "Name", name, sizeof(name));
		if (!r53_name_eq(name, x->dns_name))
			continue;
		priv = axml_bool(z, "Config/PrivateZone", 0);
		if (x->found && priv)
			continue;
		axml_copy(z, "Id", id, sizeof(id));
		snprintf(out->id, sizeof(out->id), "%.63s", strip_prefix(id));
		snprintf(out->name, sizeof(out->name), "%s", name);
		out->private_zone = priv;
		out->record_count = axml_long(z, "ResourceRecordSetCount", 0);
		x->found = 1;
	}
	trunc = axml_bool(root, "IsTruncated", 0);
	axml_copy(root, "NextDNSName", x->next_name, sizeof(x->next_name));
	axml_copy(root, "NextHostedZoneId", x->next_id, sizeof(x->next_id));
	/* Zones come sorted by reversed name: once past ours, stop. */
	return !((x->found && !out->private_zone) || !trunc || !x->next_name[0] ||
	    !r53_name_eq(x->next_name, x->dns_name));
}

int
r53_find_hosted_zone(struct aws_client *c, const char *dns_name,
    struct r53_zone *out, struct cut_err *err)
{
	struct zone_find z = { .dns_name = dns_name, .out = out };
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(z.next_name, sizeof(z.next_name), "%s", dns_name);
	if ((r = r53_pages(c, "ListHostedZonesByName", "/2013-04-01/hostedzonesbyname", zone_query,
	    zone_parse, &z, 101, err)) != 0)
		return r;
	if (!z.found)
		return cut_err_set(err, CUT_ENOTFOUND,
		    "Route 53 has no hosted zone named %s in this account; check [dns] zone in the config file.",
		    dns_name);
	return 0;
}

static int
parse_record(xmlNode *m, struct r53_record *rec)
{
	xmlNode *v;
	size_t cap = 0;

	memset(rec, 0, sizeof(*rec));
	axml_copy(m, "Name", rec->name, sizeof(rec->name));
	axml_copy(m, "Type", rec->type, sizeof(rec->type));
	axml_copy(m, "SetIdentifier", rec->set_id, sizeof(rec->set_id));
	rec->weight = axml_long(m, "Weight", -1);
	rec->ttl = axml_long(m, "TTL", -1);
	if (axml_child(m, "AliasTarget")) {
		rec->is_alias = 1;
		axml_copy(m, "AliasTarget/HostedZoneId", rec->alias_zone, sizeof(rec->alias_zone));
		axml_copy(m, "AliasTarget/DNSName", rec->alias_dns, sizeof(rec->alias_dns));
		rec->alias_eval_health = axml_bool(m, "AliasTarget/EvaluateTargetHealth", 0);
	}
	for (v = axml_path(m, "ResourceRecords/ResourceRecord"); v; v = axml_next(v)) {
		char **nv = aws_array_grow(rec->values, rec->nvalues, &cap, sizeof(*nv));
		if (nv == NULL)
			return -1;
		rec->values = nv;
		if ((nv[rec->nvalues] = axml_text(v, "Value")) == NULL)
			return -1;
		rec->nvalues++;
	}
	return 0;
}

int
r53_parse_records(xmlDoc *d, struct r53_record_list *out, int *truncated,
    char *next_name, char *next_type, char *next_id, size_t sz)
{
	xmlNode *root = xmlDocGetRootElement(d), *m;
	size_t cap = out->n;

	*truncated = axml_bool(root, "IsTruncated", 0);
	axml_copy(root, "NextRecordName", next_name, sz);
	axml_copy(root, "NextRecordType", next_type, sz);
	axml_copy(root, "NextRecordIdentifier", next_id, sz);
	for (m = axml_path(root, "ResourceRecordSets/ResourceRecordSet"); m; m = axml_next(m)) {
		struct r53_record *nv = aws_array_grow(out->v, out->n, &cap, sizeof(*nv));
		if (nv == NULL)
			return CUT_ENOMEM;
		out->v = nv;
		if (parse_record(m, &nv[out->n++]) != 0)
			return CUT_ENOMEM;
	}
	return 0;
}

struct rr_list {
	char nn[256], nt[256], ni[256];
	size_t max_items;
	struct r53_record_list *out;
};

static void
rr_query(struct sbuf *q, void *ctx)
{
	struct rr_list *x = ctx;

	if (x->nn[0])
		query_add(q, "name", x->nn);
	if (x->nt[0])
		query_add(q, "type", x->nt);
	if (x->ni[0])
		query_add(q, "identifier", x->ni);
}

static int
rr_parse(xmlDoc *d, void *ctx, struct cut_err *err)
{
	struct rr_list *x = ctx;
	int trunc = 0;

	if (r53_parse_records(d, x->out, &trunc, x->nn, x->nt, x->ni, sizeof(x->nn)) != 0)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading Route 53 records.");
	return trunc && x->nn[0] && (x->max_items == 0 || x->out->n < x->max_items);
}

int
r53_list_resource_record_sets(struct aws_client *c, const char *zone_id,
    const char *start_name, const char *start_type, size_t max_items,
    struct r53_record_list *out, struct cut_err *err)
{
	struct rr_list x = { .max_items = max_items, .out = out };
	char path[256];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s/rrset", strip_prefix(zone_id));
	if (start_name)
		snprintf(x.nn, sizeof(x.nn), "%s", start_name);
	if (start_type)
		snprintf(x.nt, sizeof(x.nt), "%s", start_type);
	if ((r = r53_pages(c, "ListResourceRecordSets", path, rr_query, rr_parse, &x, 10000,
	    err)) != 0) {
		r53_record_list_free(out);
		return r;
	}
	if (max_items && out->n > max_items) {
		size_t i;
		for (i = max_items; i < out->n; i++) {
			size_t j;
			for (j = 0; j < out->v[i].nvalues; j++)
				free(out->v[i].values[j]);
			free(out->v[i].values);
		}
		out->n = max_items;
	}
	return 0;
}

void
r53_record_list_free(struct r53_record_list *l)
{
	size_t i, j;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->v[i].nvalues; j++)
			free(l->v[i].values[j]);
		free(l->v[i].values);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct r53_record *
r53_record_find(const struct r53_record_list *l, const char *name, const char *type)
{
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		const char *t = type ? type : (pass == 0 ? "A" : "CNAME");
		for (i = 0; i < l->n; i++)
			if (r53_name_eq(l->v[i].name, name) && strcmp(l->v[i].type, t) == 0)
				return &l->v[i];
		if (type)
			break;
	}
	return NULL;
}

char *
r53_change_batch_xml(const char *comment, const struct r53_change *changes, size_t n)
{
	struct sbuf b = SBUF_INIT;
	size_t i, j;

	sbuf_add(&b, "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS "\"><ChangeBatch>");
	if (comment) {
		sbuf_add(&b, "<Comment>");
		sbuf_add_xml(&b, comment);
		sbuf_add(&b, "</Comment>");
	}
	sbuf_add(&b, "<Changes>");
	for (i = 0; i < n; i++) {
		const struct r53_record *r = changes[i].rec;
		sbuf_add(&b, "<Change><Action>");
		sbuf_add_xml(&b, changes[i].action);
		sbuf_add(&b, "</Action><ResourceRecordSet><Name>");
		sbuf_add_xml(&b, r->name);
		sbuf_add(&b, "</Name><Type>");
		sbuf_add_xml(&b, r->type);
		sbuf_add(&b, "</Type>");
		if (r->set_id[0]) {
			sbuf_add(&b, "<SetIdentifier>");
			sbuf_add_xml(&b, r->set_id);
			sbuf_add(&b, "</SetIdentifier>");
		}
		if (r->weight >= 0)
			sbuf_addf(&b, "<Weight>%ld</Weight>", r->weight);
		if (!r->is_alias) {
			if (r->ttl >= 0)
				sbuf_addf(&b, "<TTL>%ld</TTL>", r->ttl);
			sbuf_add(&b, "<ResourceRecords>");
			for (j = 0; j < r->nvalues; j++) {
				sbuf_add(&b, "<ResourceRecord><Value>");
				sbuf_add_xml(&b, r->values[j]);
				sbuf_add(&b, "</Value></ResourceRecord>");
			}
			sbuf_add(&b, "</ResourceRecords>");
		} else {
			sbuf_add(&b, "<AliasTarget><HostedZoneId>");
			sbuf_add_xml(&b, r->alias_zone);
			sbuf_add(&b, "</HostedZoneId><DNSName>");
			sbuf_add_xml(&b, r->alias_dns);
			sbuf_addf(&b, "</DNSName><EvaluateTargetHealth>%s</EvaluateTargetHealth></AliasTarget>",
			    r->alias_eval_health ? "true" : "false");
		}
		sbuf_add(&b, "</ResourceRecordSet></Change>");
	}
	sbuf_add(&b, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
	return sbuf_steal(&b);
}

int
r53_parse_change_info(xmlDoc *d, struct r53_change_info *out)
{
	xmlNode *ci = axml_child(xmlDocGetRootElement(d), "ChangeInfo");
	char id[128];

	memset(out, 0, sizeof(*out));
	if (ci == NULL)
		return -1;
	axml_copy(ci, "Id", id, sizeof(id));
	snprintf(out->id, sizeof(out->id), "%.63s", strip_prefix(id));
	axml_copy(ci, "Status", out->status, sizeof(out->status));
	axml_copy(ci, "SubmittedAt", out->submitted_at, sizeof(out->submitted_at));
	return out->id[0] ? 0 : -1;
}

int
r53_change_resource_record_sets(struct aws_client *c, const char *zone_id,
    const char *comment, const struct r53_change *changes, size_t n,
    struct r53_change_info *out, struct cut_err *err)
{
	char path[256], *body;
	xmlDoc *d;
	int r;

	if (n == 0)
		return cut_err_set(err, CUT_EINVAL, "A Route 53 change batch needs at least one change.");
	if ((body = r53_change_batch_xml(comment, changes, n)) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory building a Route 53 change batch.");
	snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s/rrset/", strip_prefix(zone_id));
	r = aws_rest_xml(c, &aws_svc_route53, "ChangeResourceRecordSets", "POST", path, NULL,
	    body, &d, err);
	free(body);
	if (r != 0)
		return r;
	r = r53_parse_change_info(d, out);
	xmlFreeDoc(d);
	if (r != 0)
		return cut_err_set(err, CUT_EPROTO,
		    "Route 53 accepted the change batch but its reply has no ChangeInfo; check the zone's records by hand.");
	return 0;
}

int
r53_get_change(struct aws_client *c, const char *change_id,
    struct r53_change_info *out, struct cut_err *err)
{
	char path[256];
	xmlDoc *d;
	int r;

	snprintf(path, sizeof(path), "/2013-04-01/change/%s", strip_prefix(change_id));
	if ((r = aws_rest_xml(c, &aws_svc_route53, "GetChange", "GET", path, NULL, NULL, &d, err)) != 0)
		return r;
	r = r53_parse_change_info(d, out);
	xmlFreeDoc(d);
	if (r != 0)
		return cut_err_set(err, CUT_EPROTO, "Route 53 GetChange answered without ChangeInfo for %s.", change_id);
	return 0;
}
