/* aws/rds.c: see aws/rds.h. */
#include "aws/rds.h"

#include <stdlib.h>
#include <string.h>

static void
parse_snapshot(xmlNode *m, void *vs)
{
	struct rds_snapshot *s = vs;

	memset(s, 0, sizeof(*s));
	axml_copy(m, "DBSnapshotIdentifier", s->id, sizeof(s->id));
	axml_copy(m, "DBInstanceIdentifier", s->instance_id, sizeof(s->instance_id));
	axml_copy(m, "Status", s->status, sizeof(s->status));
	axml_copy(m, "SnapshotType", s->type, sizeof(s->type));
	axml_copy(m, "SnapshotCreateTime", s->create_time, sizeof(s->create_time));
	axml_copy(m, "Engine", s->engine, sizeof(s->engine));
	axml_copy(m, "EngineVersion", s->engine_version, sizeof(s->engine_version));
	s->percent = (int)axml_long(m, "PercentProgress", 0);
	s->allocated_gb = axml_long(m, "AllocatedStorage", 0);
}

static void
parse_instance(xmlNode *m, void *vi)
{
	struct rds_instance *i = vi;
	xmlNode *g;

	memset(i, 0, sizeof(*i));
	axml_copy(m, "DBInstanceIdentifier", i->id, sizeof(i->id));
	axml_copy(m, "DBInstanceStatus", i->status, sizeof(i->status));
	axml_copy(m, "DBInstanceClass", i->klass, sizeof(i->klass));
	axml_copy(m, "Engine", i->engine, sizeof(i->engine));
	axml_copy(m, "EngineVersion", i->engine_version, sizeof(i->engine_version));
	axml_copy(m, "DBName", i->db_name, sizeof(i->db_name));
	axml_copy(m, "Endpoint/Address", i->address, sizeof(i->address));
	i->port = (int)axml_long(m, "Endpoint/Port", 0);
	axml_copy(m, "DBSubnetGroup/DBSubnetGroupName", i->subnet_group, sizeof(i->subnet_group));
	axml_copy(m, "DBParameterGroups/DBParameterGroup/DBParameterGroupName", i->parameter_group,
	    sizeof(i->parameter_group));
	axml_copy(m, "AvailabilityZone", i->az, sizeof(i->az));
	axml_copy(m, "InstanceCreateTime", i->create_time, sizeof(i->create_time));
	i->multi_az = axml_bool(m, "MultiAZ", 0);
	i->publicly_accessible = axml_bool(m, "PubliclyAccessible", 0);
	for (g = axml_path(m, "VpcSecurityGroups/VpcSecurityGroupMembership");
	    g && i->nvpc_sg < RDS_MAX_SG; g = axml_next(g))
		axml_copy(g, "VpcSecurityGroupId", i->vpc_sg_ids[i->nvpc_sg++], sizeof(i->vpc_sg_ids[0]));
	i->backup_retention = (int)axml_long(m, "BackupRetentionPeriod", 0);
	axml_copy(m, "ReadReplicaSourceDBInstanceIdentifier", i->replica_source,
	    sizeof(i->replica_source));
	for (g = axml_path(m, "StatusInfos/DBInstanceStatusInfo"); g; g = axml_next(g)) {
		char type[48] = "";

		axml_copy(g, "StatusType", type, sizeof(type));
		if (strcmp(type, "read replication") == 0)
			axml_copy(g, "Status", i->replication, sizeof(i->replication));
	}
}

/* Where a reply keeps its items: Describe* replies list them under a plural
 * element, Create/Restore/Delete replies hold a single one. */
struct rds_items {
	const char *list_path, *single;
	size_t size;
	void (*parse)(xmlNode *, void *);
};

static const struct rds_items snapshot_items = {
	"DBSnapshots/DBSnapshot", "DBSnapshot", sizeof(struct rds_snapshot), parse_snapshot
};
static const struct rds_items instance_items = {
	"DBInstances/DBInstance", "DBInstance", sizeof(struct rds_instance), parse_instance
};

/* Appends the reply's items to *v (n items, grown with realloc; the caller
 * keeps owning *v, also on failure). */
static int
parse_items(xmlDoc *d, const char *action, const struct rds_items *k, void **v, size_t *n,
    char *marker, size_t msz)
{
	xmlNode *res = aws_result(d, action), *m;
	size_t cap = *n;

	if (marker)
		axml_copy(res, "Marker", marker, msz);
	m = axml_path(res, k->list_path);
	if (m == NULL)
		m = axml_child(res, k->single);
	for (; m; m = axml_next(m)) {
		char *nv = aws_array_grow(*v, *n, &cap, k->size);
		if (nv == NULL)
			return CUT_ENOMEM;
		*v = nv;
		k->parse(m, nv + k->size * (*n)++);
	}
	return 0;
}

int
rds_parse_snapshots(xmlDoc *d, const char *action, struct rds_snapshot_list *out,
    char *marker, size_t msz)
{
	void *v = out->v;
	int r = parse_items(d, action, &snapshot_items, &v, &out->n, marker, msz);

	out->v = v;
	return r;
}

int
rds_parse_instances(xmlDoc *d, const char *action, struct rds_instance_list *out,
    char *marker, size_t msz)
{
	void *v = out->v;
	int r = parse_items(d, action, &instance_items, &v, &out->n, marker, msz);

	out->v = v;
	return r;
}

int
rds_create_db_snapshot(struct aws_client *c, const char *snapshot_id,
    const char *instance_id, struct rds_snapshot *out, struct cut_err *err)
{
	struct aws_params p;
	struct rds_snapshot_list l = { 0 };
	xmlDoc *d;
	int r;

	aws_params_init(&p, &aws_svc_rds, "CreateDBSnapshot");
	aws_param(&p, "DBSnapshotIdentifier", snapshot_id);
	aws_param(&p, "DBInstanceIdentifier", instance_id);
	if ((r = aws_query(c, &aws_svc_rds, "CreateDBSnapshot", &p, &d, err)) != 0)
		return r;
	r = rds_parse_snapshots(d, "CreateDBSnapshot", &l, NULL, 0);
	xmlFreeDoc(d);
	if (r != 0 || l.n != 1) {
		rds_snapshot_list_free(&l);
		return cut_err_set(err, CUT_EPROTO,
		    "RDS CreateDBSnapshot answered without a DBSnapshot; check with `aws rds describe-db-snapshots --db-snapshot-identifier %s`.",
		    snapshot_id);
	}
	if (out)
		*out = l.v[0];
	rds_snapshot_list_free(&l);
	return 0;
}

struct rds_ctx {
	struct aws_client *c;
	const char *snapshot_id, *instance_id;
	void *out;
};

static void
rds_build(struct aws_params *p, void *vx)
{
	struct rds_ctx *x = vx;

	aws_param(p, "DBSnapshotIdentifier", x->snapshot_id);
	aws_param(p, "DBInstanceIdentifier", x->instance_id);
	if (aws_client_page_size(x->c) > 0)
		aws_param_long(p, "MaxRecords", aws_client_page_size(x->c));
}

static int
snapshots_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	return rds_parse_snapshots(d, "DescribeDBSnapshots", ((struct rds_ctx *)vx)->out, next, nsz);
}

static int
instances_parse(xmlDoc *d, void *vx, char *next, size_t nsz)
{
	return rds_parse_instances(d, "DescribeDBInstances", ((struct rds_ctx *)vx)->out, next, nsz);
}

int
rds_describe_db_snapshots(struct aws_client *c, const char *snapshot_id,
    const char *instance_id, struct rds_snapshot_list *out, struct cut_err *err)
{
	struct rds_ctx x = { c, snapshot_id, instance_id, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_rds, "DescribeDBSnapshots", "Marker", rds_build,
	    snapshots_parse, &x, err)) != 0)
		rds_snapshot_list_free(out);
	return r;
}

void
rds_snapshot_list_free(struct rds_snapshot_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct rds_snapshot *
rds_latest_snapshot(const struct rds_snapshot_list *l)
{
	const struct rds_snapshot *best = NULL;
	size_t i;

	/* ISO 8601 UTC times sort as strings; a creating snapshot has no time
	 * yet and counts as the newest. */
	for (i = 0; i < l->n; i++) {
		const struct rds_snapshot *s = &l->v[i];
		if (strcmp(s->status, "available") != 0 && strcmp(s->status, "creating") != 0)
			continue;
		if (best == NULL || (!s->create_time[0] && best->create_time[0]) ||
		    (s->create_time[0] && best->create_time[0] && strcmp(s->create_time, best->create_time) > 0))
			best = s;
	}
	return best;
}

int
rds_describe_db_instances(struct aws_client *c, const char *instance_id,
    struct rds_instance_list *out, struct cut_err *err)
{
	struct rds_ctx x = { c, NULL, instance_id, out };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = aws_query_pages(c, &aws_svc_rds, "DescribeDBInstances", "Marker", rds_build,
	    instances_parse, &x, err)) != 0)
		rds_instance_list_free(out);
	return r;
}

void
rds_instance_list_free(struct rds_instance_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
rds_describe_db_instance(struct aws_client *c, const char *instance_id,
    struct rds_instance *out, struct cut_err *err)
{
	struct rds_instance_list l;
	int r;

	if ((r = rds_describe_db_instances(c, instance_id, &l, err)) != 0)
		return r;
	if (l.n == 0) {
		rds_instance_list_free(&l);
		return cut_err_set(err, CUT_ENOTFOUND, "RDS has no DB instance %s; check the name.", instance_id);
	}
	*out = l.v[0];
	rds_instance_list_free(&l);
	return 0;
}

static int
one_instance(struct aws_client *c, const char *action, struct aws_params *p,
    struct rds_instance *out, struct cut_err *err)
{
	struct rds_instance_list l = { 0 };
	xmlDoc *d;
	int r;

	if ((r = aws_query(c, &aws_svc_rds, action, p, &d, err)) != 0)
		return r;
	r = rds_parse_instances(d, action, &l, NULL, 0);
	xmlFreeDoc(d);
	if (r == 0 && l.n == 1 && out)
		*out = l.v[0];
	else if (out)
		memset(out, 0, sizeof(*out));
	rds_instance_list_free(&l);
	return 0;
}

/* What RestoreDBInstanceFromDBSnapshot and CreateDBInstanceReadReplica
 * share: a new instance made from something (from_key names it), placed
 * and tagged alike. */
struct rds_new {
	const char *action, *instance_id, *from_key, *from_id;
	const char *instance_class, *subnet_group, *parameter_group;
	const char *const *vpc_sg_ids;
	size_t nvpc_sg;
	int multi_az, publicly_accessible;
	const struct rds_tag *tags;
	size_t ntags;
};

static int
new_instance(struct aws_client *c, const struct rds_new *n, struct rds_instance *out,
    struct cut_err *err)
{
	struct aws_params p;
	size_t i;

	aws_params_init(&p, &aws_svc_rds, n->action);
	aws_param(&p, "DBInstanceIdentifier", n->instance_id);
	aws_param(&p, n->from_key, n->from_id);
	aws_param(&p, "DBInstanceClass", n->instance_class);
	aws_param(&p, "DBSubnetGroupName", n->subnet_group);
	aws_param(&p, "DBParameterGroupName", n->parameter_group);
	for (i = 0; i < n->nvpc_sg; i++)
		aws_paramf(&p, n->vpc_sg_ids[i], "VpcSecurityGroupIds.VpcSecurityGroupId.%zu", i + 1);
	if (n->multi_az >= 0)
		aws_param(&p, "MultiAZ", n->multi_az ? "true" : "false");
	if (n->publicly_accessible >= 0)
		aws_param(&p, "PubliclyAccessible", n->publicly_accessible ? "true" : "false");
	for (i = 0; i < n->ntags; i++) {
		aws_paramf(&p, n->tags[i].key, "Tags.Tag.%zu.Key", i + 1);
		aws_paramf(&p, n->tags[i].value, "Tags.Tag.%zu.Value", i + 1);
	}
	return one_instance(c, n->action, &p, out, err);
}

int
rds_restore_db_instance_from_db_snapshot(struct aws_client *c,
    const struct rds_restore *rr, struct rds_instance *out, struct cut_err *err)
{
	const struct rds_new n = { "RestoreDBInstanceFromDBSnapshot", rr->instance_id,
		"DBSnapshotIdentifier", rr->snapshot_id, rr->instance_class, rr->subnet_group,
		rr->parameter_group, rr->vpc_sg_ids, rr->nvpc_sg, rr->multi_az,
		rr->publicly_accessible, rr->tags, rr->ntags };

	return new_instance(c, &n, out, err);
}

int
rds_create_db_instance_read_replica(struct aws_client *c, const struct rds_replica *rr,
    struct rds_instance *out, struct cut_err *err)
{
	const struct rds_new n = { "CreateDBInstanceReadReplica", rr->instance_id,
		"SourceDBInstanceIdentifier", rr->source_id, rr->instance_class, rr->subnet_group,
		rr->parameter_group, rr->vpc_sg_ids, rr->nvpc_sg, rr->multi_az,
		rr->publicly_accessible, rr->tags, rr->ntags };

	return new_instance(c, &n, out, err);
}

int
rds_promote_read_replica(struct aws_client *c, const char *instance_id, struct rds_instance *out,
    struct cut_err *err)
{
	struct aws_params p;

	aws_params_init(&p, &aws_svc_rds, "PromoteReadReplica");
	aws_param(&p, "DBInstanceIdentifier", instance_id);
	return one_instance(c, "PromoteReadReplica", &p, out, err);
}

int
rds_delete_db_instance(struct aws_client *c, const char *instance_id,
    const char *final_snapshot_id, struct rds_instance *out, struct cut_err *err)
{
	struct aws_params p;

	aws_params_init(&p, &aws_svc_rds, "DeleteDBInstance");
	aws_param(&p, "DBInstanceIdentifier", instance_id);
	if (final_snapshot_id)
		aws_param(&p, "FinalDBSnapshotIdentifier", final_snapshot_id);
	else
		aws_param(&p, "SkipFinalSnapshot", "true");
	return one_instance(c, "DeleteDBInstance", &p, out, err);
}
