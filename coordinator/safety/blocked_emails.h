/* safety/blocked_emails.h: carrying notifications_unregisteredblockedemail across the
 * cutover.
 *
 * Migration 0055 re-points the table's foreign key from
 * accounts_unregistereduser to accounts_user without a data migration, and
 * temp_copy_unreg_to_user gives the converted people new accounts_user
 * ids, so ids cannot be carried. What survives is (email, system number):
 * the backup follows the FK to whichever table it references on the live
 * system (read from the catalog), the restore maps system_number to
 * accounts_user.id on the new one.
 */
#ifndef CUTOVER_BLOCKED_H
#define CUTOVER_BLOCKED_H

#include <stddef.h>

#include "remote/agent_ops.h"
#include "base/err.h"

struct blocked_row {
	char *email;
	long long system_number;
	int has_number;          /* 0: the person has no system number */
};

/* A set of rows sorted by (system number, email). Owned by the struct:
 * blocked_set_free(). */
struct blocked_set {
	struct blocked_row *rows;
	size_t n;
	char fk_target[64];      /* the table the FK referenced where it was read */
};
void blocked_set_free(struct blocked_set *s);

/* Reads every blocked email on the system behind l. */
int blocked_fetch(struct alink *l, const struct aop_conf *c, struct blocked_set *out,
    struct cut_err *err);

struct blocked_backup_info {
	size_t count;
	char sha256[65];
	char fk_target[64];
};
/* Backs up to path (JSON, mode 0600, fsync'd, replaced atomically) and
 * path.sha256 (sha256sum format). Returns only once both are on disk. */
int blocked_backup(struct alink *l, const struct aop_conf *c, const char *path,
    struct blocked_backup_info *info, struct cut_err *err);

/* Writes s as a backup file (the format blocked_backup writes) to path and
 * path.sha256, and reads it back. source: where the rows came from. */
int blocked_save(const char *path, const struct blocked_set *s, const char *source,
    struct blocked_backup_info *info, struct cut_err *err);

/* out = a and b, each distinct row once (sorted as sets are). out owned by
 * the caller: blocked_set_free(). */
int blocked_union(const struct blocked_set *a, const struct blocked_set *b, struct blocked_set *out,
    struct cut_err *err);

/* *n: rows in the blocked-email table on the system behind l. */
int blocked_count(struct alink *l, const struct aop_conf *c, size_t *n, struct cut_err *err);

/* Deletes every row of the blocked-email table behind l, in one
 * transaction, only if it holds exactly `expect` rows (CUT_E* and nothing
 * deleted otherwise). Before migration 0055 the rows hold
 * accounts_unregistereduser ids that 0055 validates against accounts_user:
 * the runbook backs them up, clears the table, migrates, converts and
 * enters them back by system number. *deleted: rows removed. */
int blocked_clear(struct alink *l, const struct aop_conf *c, size_t expect, size_t *deleted,
    struct cut_err *err);

/* Reads a backup, checking its SHA-256 against path.sha256 and its count. */
int blocked_load(const char *path, struct blocked_set *out, struct cut_err *err);

struct blocked_restore_result {
	size_t inserted;          /* rows added now */
	size_t present;           /* mappable rows that were there already */
	size_t removed;           /* rows not in the backup, deleted (replace only) */
	struct blocked_set unmapped;  /* backup rows with no accounts_user */
};
/* Inserts the backup rows missing on the system behind l, in one
 * transaction; with replace, also deletes the rows the backup does not
 * hold (the copied raw ids that name the wrong people after 0055). Refuses unless the FK there references accounts_user (run
 * migrate and temp_copy_unreg_to_user first). res->unmapped owned by res:
 * blocked_restore_result_free(). Unmapped rows are not an error: the
 * caller reports them. */
int blocked_restore(struct alink *l, const struct aop_conf *c, const struct blocked_set *backup,
    int replace, struct blocked_restore_result *res, struct cut_err *err);
void blocked_restore_result_free(struct blocked_restore_result *res);

/* Writes rows as CSV "email,system_number" (RFC 4180 quoting, 0600,
 * fsync'd): the "<backup>.unmapped" file the runbook's restore step keeps. */
int blocked_write_csv(const char *path, const struct blocked_set *s, struct cut_err *err);

struct blocked_diff {
	struct blocked_set missing;   /* in the backup, not on the system, mappable */
	struct blocked_set extra;     /* on the system, not in the backup */
	/* In the backup, not on the system, and no row of the table the FK
	 * references there has their system number (or they have none): the
	 * restore cannot map them, so they are known, not a failure. */
	struct blocked_set unmappable;
};
/* Compares the system behind l with the backup. Returns 0 when the only
 * differences are unmappable people (d->unmappable), CUT_ESTATE (err says
 * how many differ) for any missing mappable row or any extra row; d lists
 * the differences either way. Free with blocked_diff_free(). */
int blocked_verify(struct alink *l, const struct aop_conf *c, const struct blocked_set *backup,
    struct blocked_diff *d, struct cut_err *err);
void blocked_diff_free(struct blocked_diff *d);

#endif
