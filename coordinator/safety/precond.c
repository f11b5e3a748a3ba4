/* safety/precond.c: see safety/precond.h. */
#include "safety/precond.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int
precond_mpserver(struct alink *l, const struct aop_conf *c, const char *probe_path,
    int *tcp_only, struct cut_err *err)
{
	struct aop_http h;
	int r;

	*tcp_only = 0;
	if ((r = aop_reach(l, c, "GLOBAL_MPSERVER", probe_path ? probe_path : PRECOND_MPC_PROBE,
	    10000, &h, err)) != 0)
		return cut_err_wrap(err, "Refusing to run mpc_sync: cannot check the Masterpoints server");
	if (h.tcp_only && h.error[0] == '\0') {
		*tcp_only = 1;
		return 0;
	}
	if (h.status >= 200 && h.status < 300) {
		/* An answer without data is as bad as none: mpc_sync would
		 * delete just the same. */
		const char *b = h.body;
		while (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')
			b++;
		if (*b == '\0' || strncmp(b, "[]", 2) == 0 || strncmp(b, "{}", 2) == 0)
			return cut_err_set(err, CUT_ESTATE, "Refusing to run mpc_sync: the Masterpoints server %s "
			    "answers from %s but with no data; mpc_sync would delete every MPBatch and MPTran row, "
			    "so fix the server first.", h.url, l->name);
		return 0;
	}
	if (h.status < 0)
		return cut_err_set(err, CUT_ESTATE, "Refusing to run mpc_sync: the Masterpoints server %s "
		    "does not answer from %s (%s); mpc_sync would treat that as empty data and delete every "
		    "MPBatch and MPTran row, so fix the server or GLOBAL_MPSERVER first.",
		    h.url, l->name, h.error);
	return cut_err_set(err, CUT_ESTATE, "Refusing to run mpc_sync: the Masterpoints server %s "
	    "answered %d %s from %s instead of data; mpc_sync would treat that as empty data and delete "
	    "every MPBatch and MPTran row, so fix the server first.", h.url, h.status, h.reason, l->name);
}

int
precond_disk(struct alink *l, const char *path, uint64_t min_bytes, struct cut_err *err)
{
	uint64_t avail, total;
	int r;

	if ((r = aop_df(l, path, &avail, &total, err)) != 0)
		return r;
	if (avail < min_bytes)
		return cut_err_set(err, CUT_ESTATE, "Only %llu MiB are free at %s on %s, and %llu MiB are "
		    "needed; free some space (old logs, /tmp) and run again.",
		    (unsigned long long)(avail >> 20), path, l->name, (unsigned long long)(min_bytes >> 20));
	return 0;
}

static size_t
host_len(const char *h)
{
	size_t n = strlen(h);

	while (n > 0 && h[n - 1] == '.')
		n--;
	return n;
}

int
precond_same_server(const struct aop_dbenv *a, const struct aop_dbenv *b)
{
	size_t na = host_len(a->host), nb = host_len(b->host);
	const char *pa = a->port[0] ? a->port : "5432", *pb = b->port[0] ? b->port : "5432";

	return na == nb && strncasecmp(a->host, b->host, na) == 0 && strcmp(pa, pb) == 0;
}

int
precond_target_db(struct alink *l, const struct aop_conf *c, const struct aop_dbenv *live,
    struct aop_dbenv *target, struct cut_err *err)
{
	int r;

	if ((r = aop_dbenv(l, c, target, err)) != 0)
		return r;
	if (precond_same_server(target, live))
		return cut_err_set(err, CUT_ESTATE, "Refusing: %s uses the database at %s:%s (%s), which is "
		    "the LIVE database; point the new environment at the restored database (RDS_HOSTNAME, "
		    "RDS_DB_NAME) before restoring or converting.", l->name, target->host,
		    target->port[0] ? target->port : "5432", target->name);
	return 0;
}
