/* runbook/preflight.h: checks made before any change. All of them run (not just up
 * to the first failure) so the operator gets the whole list of what to fix;
 * a failed preflight changes nothing. */
#ifndef CUTOVER_PREFLIGHT_H
#define CUTOVER_PREFLIGHT_H

#include <stddef.h>

#include "base/err.h"

struct run_ctx;

struct preflight_entry {
	const char *name;      /* "envs-ready" */
	const char *summary;   /* "every environment exists and is Ready" */
	/* 0 when fine, else a negative CUT_E* with one sentence in err. */
	int (*check)(struct run_ctx *ctx, struct cut_err *err);
};

/* Runs every check, reporting each problem as a "preflight" event. Returns 0
 * when all pass, else CUT_ESTATE with err summarising ("Preflight found 2
 * problems (listed above); nothing was changed...") and *problems set. */
int preflight_run(struct run_ctx *ctx, const struct preflight_entry *const *checks, size_t n,
    int *problems, struct cut_err *err);

/* When e says a resource is missing that an earlier command or step creates
 * (the new environments: prep; the new database: run's restore step), puts
 * one clause saying so in buf ("environment X is not created yet (prep
 * creates it)") and returns 1; otherwise returns 0. For `cutover plan` and
 * --dry-run, where such a miss is expected, not a failure. */
int preflight_not_created(const struct run_ctx *ctx, const struct cut_err *e, char *buf,
    size_t len);

extern const struct preflight_entry preflight_identity, preflight_live_envs,
    preflight_new_envs, preflight_dns_live, preflight_new_version, preflight_live_db,
    preflight_ssh, preflight_names_free, preflight_new_names_free, preflight_cutover_done,
    preflight_test_env, preflight_old_db_unused;

#endif
