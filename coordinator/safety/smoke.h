/* safety/smoke.h: smoke tests of an environment before it is opened: HTTP GETs
 * from the agent on each instance, with Host: set to the real site name
 * (Cobalt's nginx answers 444 to any other Host), to the local web server
 * and through the load balancer. Any unexpected answer is an error the
 * runbook stops on, before maintenance mode is lifted. */
#ifndef CUTOVER_SMOKE_H
#define CUTOVER_SMOKE_H

#include <stddef.h>
#include <stdint.h>

#include "remote/agent_ops.h"
#include "base/err.h"

#define SMOKE_MAX_STATUS 4

struct smoke_check {
	const char *path;                 /* "/accounts/login/" */
	int expect[SMOKE_MAX_STATUS];     /* accepted statuses, 0-terminated; all 0: 200 */
};

struct smoke_opts {
	const char *host_header;          /* the site name, e.g. "myabf.com.au" */
	const struct smoke_check *checks; /* NULL: the default check */
	size_t nchecks;
	const char *local_base;           /* NULL: "http://127.0.0.1" */
	const char *lb_base;              /* the load balancer ("http://awseb-....elb.amazonaws.com"), or NULL */
	uint64_t timeout_ms;              /* per request; 0: 10 s */
};

/* The default: GET /accounts/login/ answered 200 (Cobalt's health check path). */
extern const struct smoke_check smoke_default_check;

struct smoke_result {
	char url[600];
	int status;                       /* -1: no HTTP answer */
	char error[300];
	char expected[40];                /* "200", "200 or 302" */
	int ok;
};

/* Runs every check on the instance behind l, locally and (when lb_base is
 * set) through the load balancer. *res (caller frees) lists every request.
 * Returns 0 when all passed, CUT_ESTATE naming the first failure and the
 * count otherwise. */
int smoke_run(struct alink *l, const struct smoke_opts *o, struct smoke_result **res,
    size_t *nres, struct cut_err *err);

#endif
