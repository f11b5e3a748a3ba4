/* safety/smoke.c: see safety/smoke.h. */
#include "safety/smoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct smoke_check smoke_default_check = { "/accounts/login/", { 200 } };

static int
expected(const struct smoke_check *c, int status)
{
	if (c->expect[0] == 0)
		return status == 200;
	for (int i = 0; i < SMOKE_MAX_STATUS && c->expect[i]; i++)
		if (c->expect[i] == status)
			return 1;
	return 0;
}

static void
expect_text(const struct smoke_check *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (c->expect[0] == 0) {
		snprintf(buf, len, "200");
		return;
	}
	for (int i = 0; i < SMOKE_MAX_STATUS && c->expect[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? " or " : "", c->expect[i]);
}

int
smoke_run(struct alink *l, const struct smoke_opts *o, struct smoke_result **res,
    size_t *nres, struct cut_err *err)
{
	const struct smoke_check *checks = o->checks ? o->checks : &smoke_default_check;
	size_t nchecks = o->checks ? o->nchecks : 1, n = 0, failed = 0, first = (size_t)-1;
	const char *bases[2] = { o->local_base ? o->local_base : "http://127.0.0.1", o->lb_base };
	struct smoke_result *out;
	int r;

	*res = NULL;
	*nres = 0;
	if (o->host_header == NULL || o->host_header[0] == '\0')
		return cut_err_set(err, CUT_ECONFIG, "The smoke test needs the site name to send as Host "
		    "(e.g. myabf.com.au); set it in the configuration.");
	if ((out = calloc(nchecks * 2, sizeof(*out))) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory for the smoke test.");
	for (int b = 0; b < 2; b++) {
		if (bases[b] == NULL)
			continue;
		for (size_t i = 0; i < nchecks; i++) {
			struct smoke_result *s = &out[n++];
			struct aop_http h;
			snprintf(s->url, sizeof(s->url), "%s%s", bases[b], checks[i].path);
			if ((r = aop_http(l, s->url, o->host_header, NULL, o->timeout_ms, &h, err)) != 0) {
				free(out);
				return r;
			}
			s->status = h.status;
			snprintf(s->error, sizeof(s->error), "%s", h.error);
			s->ok = h.status >= 0 && expected(&checks[i], h.status);
			expect_text(&checks[i], s->expected, sizeof(s->expected));
			if (!s->ok && failed++ == 0)
				first = n - 1;
		}
	}
	*res = out;
	*nres = n;
	if (failed) {
		const struct smoke_result *s = &out[first];
		char exp[64];
		expect_text(&checks[first % nchecks], exp, sizeof(exp));
		if (s->status < 0)
			return cut_err_set(err, CUT_ESTATE, "Smoke test failed on %s (%zu of %zu requests): GET %s "
			    "with Host %s got no answer (%s), expected %s; the run stops here, before maintenance "
			    "mode is lifted.", l->name, failed, n, s->url, o->host_header, s->error, exp);
		return cut_err_set(err, CUT_ESTATE, "Smoke test failed on %s (%zu of %zu requests): GET %s with "
		    "Host %s answered %d, expected %s; the run stops here, before maintenance mode is lifted.",
		    l->name, failed, n, s->url, o->host_header, s->status, exp);
	}
	return 0;
}
