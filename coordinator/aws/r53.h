/* aws/r53.h: the Route 53 calls the cutover makes (rest-xml, 2013-04-01,
 * global endpoint signed for us-east-1). Ids are given and returned
 * without their "/hostedzone/" and "/change/" prefixes.
 * Lists are freed by the caller with the matching *_free. */
#ifndef CUTOVER_R53_H
#define CUTOVER_R53_H

#include <stddef.h>

#include "aws/client.h"

struct r53_zone {
	char id[64];             /* "Z123..." */
	char name[256];          /* "myabf.com.au." */
	int private_zone;
	long record_count;
};

/* ListHostedZonesByName from dns_name, paging until the exact name (with or
 * without the final dot) is found; a private zone is skipped when a public
 * one of the same name exists. CUT_ENOTFOUND if there is none. */
int r53_find_hosted_zone(struct aws_client *c, const char *dns_name,
    struct r53_zone *out, struct cut_err *err);

struct r53_record {
	char name[256];          /* as Route 53 returns it: "www.myabf.com.au." */
	char type[8];            /* A, AAAA, CNAME, TXT, ... */
	char set_id[128];        /* SetIdentifier or "" */
	long weight;             /* -1 = none */
	long ttl;                /* -1 = none (alias records have none) */
	char **values;           /* ResourceRecords values; owned when from a list call */
	size_t nvalues;
	int is_alias;
	char alias_zone[64];     /* AliasTarget/HostedZoneId */
	char alias_dns[256];     /* AliasTarget/DNSName */
	int alias_eval_health;
};

struct r53_record_list {
	struct r53_record *v;
	size_t n;
};

/* ListResourceRecordSets of a zone from start_name/start_type (NULL = the
 * beginning), following NextRecordName/Type/Identifier while IsTruncated.
 * max_items 0 = every record. */
int r53_list_resource_record_sets(struct aws_client *c, const char *zone_id,
    const char *start_name, const char *start_type, size_t max_items,
    struct r53_record_list *out, struct cut_err *err);
void r53_record_list_free(struct r53_record_list *l);
/* The first record named name (trailing dot and case ignored) of type
 * (NULL = A, then CNAME), or NULL. Borrowed from l. */
const struct r53_record *r53_record_find(const struct r53_record_list *l,
    const char *name, const char *type);

struct r53_change {
	const char *action;          /* CREATE, DELETE, UPSERT */
	const struct r53_record *rec;/* borrowed; values may point anywhere */
};

struct r53_change_info {
	char id[64];                 /* "C2682N5HXP0BZ4" */
	char status[16];             /* PENDING, INSYNC */
	char submitted_at[40];
};

/* ChangeResourceRecordSets: one all-or-nothing batch. */
int r53_change_resource_record_sets(struct aws_client *c, const char *zone_id,
    const char *comment, const struct r53_change *changes, size_t n,
    struct r53_change_info *out, struct cut_err *err);

int r53_get_change(struct aws_client *c, const char *change_id,
    struct r53_change_info *out, struct cut_err *err);

/* Builds the ChangeResourceRecordSetsRequest XML body (caller frees). */
char *r53_change_batch_xml(const char *comment, const struct r53_change *changes, size_t n);

/* Hosted zone id of Elastic Beanstalk's alias targets in a region, or NULL. */
const char *r53_eb_alias_zone(const char *region);

/* DNS names equal, ignoring case and one trailing dot. */
int r53_name_eq(const char *a, const char *b);

/* Parsers for tests and the fuzzer. */
int r53_parse_records(xmlDoc *d, struct r53_record_list *out, int *truncated,
    char *next_name, char *next_type, char *next_id, size_t sz);
int r53_parse_change_info(xmlDoc *d, struct r53_change_info *out);

#endif
