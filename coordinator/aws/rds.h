/* aws/rds.h: the RDS calls the cutover makes (query protocol, 2014-10-31).
 * Describe calls follow Marker to the last page. List results are freed by
 * the caller with the matching *_free; single structs are plain data. */
#ifndef CUTOVER_RDS_H
#define CUTOVER_RDS_H

#include <stddef.h>

#include "aws/client.h"

#define RDS_MAX_SG 16

struct rds_snapshot {
	char id[256];
	char instance_id[64];
	char status[32];          /* creating, available, deleting, failed, ... */
	char type[32];            /* manual, automated */
	char create_time[40];
	char engine[32];
	char engine_version[32];
	int percent;              /* PercentProgress, 0-100 */
	long allocated_gb;
};

struct rds_snapshot_list {
	struct rds_snapshot *v;
	size_t n;
};

struct rds_instance {
	char id[64];
	char status[48];          /* creating, available, backing-up, deleting, ... */
	char klass[32];           /* DBInstanceClass */
	char engine[32];
	char engine_version[32];
	char db_name[64];
	char address[256];        /* Endpoint/Address; "" while creating */
	int port;
	char subnet_group[256];
	char parameter_group[256];
	char az[32];
	char create_time[40];
	int multi_az;
	int publicly_accessible;
	char vpc_sg_ids[RDS_MAX_SG][32];
	size_t nvpc_sg;
	int backup_retention;     /* BackupRetentionPeriod (days); 0: no automated backups */
	char replica_source[64];  /* ReadReplicaSourceDBInstanceIdentifier; "" when not a replica */
	char replication[48];     /* StatusInfos' read replication Status ("replicating",
				   * "error"...); "" when none */
};

struct rds_instance_list {
	struct rds_instance *v;
	size_t n;
};

struct rds_tag {
	const char *key;
	const char *value;
};

int rds_create_db_snapshot(struct aws_client *c, const char *snapshot_id,
    const char *instance_id, struct rds_snapshot *out, struct cut_err *err);

/* Either id may be NULL; with both NULL, every snapshot of the account. */
int rds_describe_db_snapshots(struct aws_client *c, const char *snapshot_id,
    const char *instance_id, struct rds_snapshot_list *out, struct cut_err *err);
void rds_snapshot_list_free(struct rds_snapshot_list *l);
/* Newest available-or-creating snapshot in l by create time, or NULL. */
const struct rds_snapshot *rds_latest_snapshot(const struct rds_snapshot_list *l);

/* id NULL = all instances. Unknown id = CUT_ENOTFOUND (DBInstanceNotFound). */
int rds_describe_db_instances(struct aws_client *c, const char *instance_id,
    struct rds_instance_list *out, struct cut_err *err);
void rds_instance_list_free(struct rds_instance_list *l);
/* Convenience: exactly one instance. */
int rds_describe_db_instance(struct aws_client *c, const char *instance_id,
    struct rds_instance *out, struct cut_err *err);

struct rds_restore {
	const char *instance_id;
	const char *snapshot_id;
	const char *instance_class;      /* "db.t3.small" */
	const char *subnet_group;        /* NULL = default */
	const char *parameter_group;
	const char *const *vpc_sg_ids;   /* copy the live instance's, else the VPC default applies */
	size_t nvpc_sg;
	int multi_az;                    /* -1 = AWS default */
	int publicly_accessible;         /* -1 = AWS default */
	const struct rds_tag *tags;
	size_t ntags;
};

int rds_restore_db_instance_from_db_snapshot(struct aws_client *c,
    const struct rds_restore *r, struct rds_instance *out, struct cut_err *err);

struct rds_replica {
	const char *instance_id;
	const char *source_id;           /* the instance it replicates */
	const char *instance_class;
	const char *subnet_group;        /* NULL = the source's */
	const char *parameter_group;
	const char *const *vpc_sg_ids;
	size_t nvpc_sg;
	int multi_az;                    /* -1 = AWS default */
	int publicly_accessible;         /* -1 = AWS default */
	const struct rds_tag *tags;
	size_t ntags;
};

/* CreateDBInstanceReadReplica (the source needs automated backups). */
int rds_create_db_instance_read_replica(struct aws_client *c, const struct rds_replica *r,
    struct rds_instance *out, struct cut_err *err);

/* PromoteReadReplica: the replica becomes a standalone instance (modifying,
 * then available without ReadReplicaSourceDBInstanceIdentifier). */
int rds_promote_read_replica(struct aws_client *c, const char *instance_id,
    struct rds_instance *out, struct cut_err *err);

/* final_snapshot_id NULL = SkipFinalSnapshot=true. */
int rds_delete_db_instance(struct aws_client *c, const char *instance_id,
    const char *final_snapshot_id, struct rds_instance *out, struct cut_err *err);

/* Parsers for tests and the fuzzer: append the reply's items to out. */
int rds_parse_snapshots(xmlDoc *d, const char *action, struct rds_snapshot_list *out,
    char *marker, size_t msz);
int rds_parse_instances(xmlDoc *d, const char *action, struct rds_instance_list *out,
    char *marker, size_t msz);

#endif
