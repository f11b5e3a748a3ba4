/* runbook/window.c: see runbook/window.h. */
#include "runbook/window.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbook/engine.h"
#include "runbook/journal.h"

/* What each AWS transition takes on AWS (seconds); the same figures as
 * tests/fakeaws/README.md, "Timing profiles" (change both together). */
static const struct {
	const char *kind;
	double seconds;
	const char *source;
} documented[] = {
	{ ENGINE_WAIT_ENV_UPDATE, 120, "EB configuration update: 1-3 min per environment (field "
	    "estimate)" },
	{ ENGINE_WAIT_DB_SNAPSHOT, 120, "AWS RDS User Guide, Creating a DB snapshot: a few "
	    "seconds to a few minutes on single-AZ" },
	{ ENGINE_WAIT_DB_RESTORE, 600, "restore from snapshot, 20 GB or less: 5-15 min (field "
	    "reports)" },
	{ ENGINE_WAIT_DNS, 60, "Route 53 FAQ: INSYNC within 60 s" },
	{ ENGINE_WAIT_DB_REPLICA, 900, "read replica creation: minutes to tens of minutes, "
	    "snapshots the source first (AWS RDS User Guide, Working with read replicas; field "
	    "estimate); in prep, not the window" },
	{ ENGINE_WAIT_DB_PROMOTE, 240, "AWS RDS User Guide, Promoting a read replica: a few "
	    "minutes, includes a reboot" },
};

/* The run's window, in order (runbook/tables.c). dns-insync is left out:
 * its minute runs beside convert-users and the smoke test (a few seconds
 * of it may show). */
struct link {
	const char *step, *kind;
};
static const struct link chain[] = {
	{ "maint-on", ENGINE_WAIT_ENV_UPDATE },
	{ "quiet", ENGINE_WAIT_QUIET },
	{ "snapshot", ENGINE_WAIT_DB_SNAPSHOT },
	{ "restore", ENGINE_WAIT_DB_RESTORE },
	{ "point-new", ENGINE_WAIT_ENV_UPDATE },
	{ "maint-off", ENGINE_WAIT_ENV_UPDATE },
};
/* [database] method = replica: the replica was made, and the new
 * environments pointed at it, by prep; the window promotes it (its catch-up
 * after the freeze is WAL already streamed: seconds, counted with the
 * tool's own work) while the new environments' MAINTENANCE_MODE=OFF update
 * runs beside it (open-new, shorter than the promotion), and ends when
 * Route 53 is INSYNC after the DNS switch, which comes last. */
static const struct link replica_chain[] = {
	{ "maint-on", ENGINE_WAIT_ENV_UPDATE },
	{ "quiet", ENGINE_WAIT_QUIET },
	{ "promote", ENGINE_WAIT_DB_PROMOTE },
	{ "dns-insync", ENGINE_WAIT_DNS },
};

/* The tool's own work in the window: the goal of issue 12 (its benchmark
 * measures it); migrate and the conversion on a production-sized database
 * add to it. */
#define WINDOW_WORK_S 5.0

struct rehearsed {
	const char *kind;
	double s;
};

/* The latest rehearse-* wait of the kind with a learnt length. */
static int
rehearsal_visit(void *arg, struct json_object *rec)
{
	struct rehearsed *r = arg;
	struct json_object *o, *kv, *k, *v;

	if (!json_object_object_get_ex(rec, "ev", &o) ||
	    strcmp(json_object_get_string(o), "wait-end") != 0 ||
	    !json_object_object_get_ex(rec, "step", &o) ||
	    strncmp(json_object_get_string(o), "rehearse-", 9) != 0 ||
	    !json_object_object_get_ex(rec, "kv", &kv) ||
	    !json_object_object_get_ex(kv, "wait_kind", &k) ||
	    !json_object_object_get_ex(kv, "wait_s", &v) ||
	    strcmp(json_object_get_string(k), r->kind) != 0)
		return 0;
	r->s = strtod(json_object_get_string(v), NULL);
	return 0;
}

static double
rehearsal_s(struct run_ctx *ctx, const char *kind)
{
	struct rehearsed r = { kind, 0 };
	struct cut_err e;

	if (ctx->journal == NULL ||
	    journal_read(journal_file(ctx->journal), rehearsal_visit, &r, &e) != 0)
		return 0;
	return r.s > 0 ? r.s : 0;
}

double
window_expected_s(struct run_ctx *ctx, const char *kind)
{
	double s;
	size_t k;

	if (kind == NULL)
		return 0;
	if (strcmp(kind, ENGINE_WAIT_QUIET) == 0)
		return ctx->names.quiet_seconds > 0 ? ctx->names.quiet_seconds : 0;
	if ((s = rehearsal_s(ctx, kind)) > 0)
		return s;
	for (k = 0; k < sizeof(documented) / sizeof(documented[0]); k++)
		if (strcmp(documented[k].kind, kind) == 0)
			return documented[k].seconds;
	return 0;
}

void
window_predict(struct run_ctx *ctx, struct window_prediction *out)
{
	int replica = strcmp(ctx->names.db_method, "replica") == 0;
	const struct link *c = replica ? replica_chain : chain;
	size_t nc = replica ? sizeof(replica_chain) / sizeof(replica_chain[0]) :
	    sizeof(chain) / sizeof(chain[0]);
	size_t i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nc; i++) {
		struct window_part *p = &out->part[out->nparts++];

		p->step = c[i].step;
		p->kind = c[i].kind;
		if (strcmp(p->kind, ENGINE_WAIT_QUIET) == 0) {
			p->seconds = ctx->names.quiet_seconds > 0 ? ctx->names.quiet_seconds : 60;
			p->source = "the configured quiet period (users, not AWS)";
		} else if ((p->seconds = rehearsal_s(ctx, p->kind)) > 0) {
			p->measured = 1;
			p->source = "measured by cutover rehearse";
			out->nmeasured++;
		} else {
			for (k = 0; k < sizeof(documented) / sizeof(documented[0]); k++)
				if (strcmp(documented[k].kind, p->kind) == 0) {
					p->seconds = documented[k].seconds;
					p->source = documented[k].source;
				}
		}
		out->total_s += p->seconds;
	}
	out->replica = replica;
	out->work_s = WINDOW_WORK_S;
	out->total_s += out->work_s;
}

static void
fmt_s(double s, char *buf, size_t len)
{
	long n = (long)(s + 0.5);

	if (n >= 60)
		snprintf(buf, len, "%ldm%02lds", n / 60, n % 60);
	else
		snprintf(buf, len, "%lds", n);
}

void
window_sentence(const struct window_prediction *p, char *buf, size_t len)
{
	char t[32], part[32];
	size_t i, n;
	int aws = 0;

	for (i = 0; i < p->nparts; i++)
		aws += strcmp(p->part[i].kind, ENGINE_WAIT_QUIET) != 0;
	fmt_s(p->total_s, t, sizeof(t));
	n = (size_t)snprintf(buf, len, "Predicted downtime window about %s, from %s: ", t,
	    p->nmeasured == aws ? "the durations cutover rehearse measured on the test system" :
	    p->nmeasured ? "the durations cutover rehearse measured where it did, else AWS's "
	    "documented ones" : "AWS's documented durations (no rehearsal was measured in this "
	    "state folder)");
	for (i = 0; i < p->nparts && n < len; i++) {
		fmt_s(p->part[i].seconds, part, sizeof(part));
		n += (size_t)snprintf(buf + n, len - n, "%s %s %s (%s); ", p->part[i].step,
		    p->part[i].kind, part, p->part[i].source);
	}
	if (n < len)
		snprintf(buf + n, len - n, "the tool's own work about %.0fs. %s", p->work_s,
		    p->replica ? "The new environments' configuration update (open-new) runs beside "
		    "the promotion; the window ends when Route 53 is INSYNC after the DNS switch, "
		    "the last change." : "Route 53's INSYNC minute runs beside the conversion and the "
		    "smoke test.");
}

struct json_object *
window_json(const struct window_prediction *p)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	if (o == NULL || a == NULL) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, "predicted_s", json_object_new_int64((int64_t)(p->total_s + 0.5)));
	json_object_object_add(o, "work_s", json_object_new_int64((int64_t)p->work_s));
	json_object_object_add(o, "measured_parts", json_object_new_int(p->nmeasured));
	for (i = 0; i < p->nparts; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "step", json_object_new_string(p->part[i].step));
		json_object_object_add(e, "kind", json_object_new_string(p->part[i].kind));
		json_object_object_add(e, "seconds", json_object_new_int64(
		    (int64_t)(p->part[i].seconds + 0.5)));
		json_object_object_add(e, "source", json_object_new_string(p->part[i].measured ?
		    "rehearsal" : "documented"));
		json_object_object_add(e, "note", json_object_new_string(p->part[i].source));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "parts", a);
	return o;
}
