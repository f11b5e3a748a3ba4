/* runbook/lease.c: see runbook/lease.h. */
#include "runbook/lease.h"

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runbook/progress.h"

/* Keeps a name to what a TXT string and the holder's sentence can carry
 * safely: no space (the field separator), quote or backslash. */
static void
clean(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_' ? (char)c : '_';
	}
	dst[i] = '\0';
}

/* Which state folder on which machine: FNV-1a of the folder's real path.
 * The journal id alone does not say it: a state folder copied to a second
 * laptop (or next to the first) carries the same id, and must not take over
 * a lease that a live run of the original holds. */
static void
folder_tag(const char *dir, char *out, size_t len)
{
	char *real = dir ? realpath(dir, NULL) : NULL;
	const char *p = real ? real : dir ? dir : "";
	uint64_t h = 14695981039346656037ULL;

	for (; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	free(real);
	snprintf(out, len, "%016llx", (unsigned long long)h);
}

static void
lease_value(const struct run_ctx *ctx, const char *cmd, char *out, size_t len)
{
	char host[64] = "", user[33], raw[256], dir[20];
	struct passwd *pw = getpwuid(geteuid());
	time_t now = time(NULL);
	struct tm tm;

	if (gethostname(raw, sizeof(raw)) != 0)
		snprintf(raw, sizeof(raw), "unknown");
	raw[sizeof(raw) - 1] = '\0';
	clean(host, sizeof(host), raw);
	clean(user, sizeof(user), pw && pw->pw_name ? pw->pw_name : "unknown");
	folder_tag(ctx->state_dir, dir, sizeof(dir));
	gmtime_r(&now, &tm);
	snprintf(out, len, "cutover-lease id=%s user=%s host=%s dir=%s cmd=%s "
	    "at=%04d-%02d-%02dT%02d:%02d:%02dZ", ctx->state_id, user, host, dir, cmd,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The value of field `key` of a lease string into out ("" if absent). */
static void
field(const char *value, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	const char *p = value;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if ((p == value || p[-1] == ' ') && p[k] == '=') {
			size_t n = strcspn(p + k + 1, " ");
			snprintf(out, len, "%.*s", (int)n, p + k + 1);
			return;
		}
		p += k;
	}
}

void
lease_holder(const char *value, char *out, size_t len, char *id, size_t idlen)
{
	char user[64], host[128], cmd[32], at[32];

	field(value, "id", id, idlen);
	if (strncmp(value, "cutover-lease ", 14) != 0 || id[0] == '\0') {
		snprintf(id, idlen, "%s", value);
		snprintf(out, len, "'%s' (not written by cutover)", value);
		return;
	}
	field(value, "user", user, sizeof(user));
	field(value, "host", host, sizeof(host));
	field(value, "cmd", cmd, sizeof(cmd));
	field(value, "at", at, sizeof(at));
	snprintf(out, len, "cutover %s (`cutover %s` by %s on %s since %s)", id, cmd, user, host,
	    at);
}

/* Two lease strings of the same cutover, state folder and machine. */
static int
same_folder(const char *a, const char *b)
{
	static const char *const keys[] = { "id", "host", "dir" };
	char x[128], y[128];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		field(a, keys[i], x, sizeof(x));
		field(b, keys[i], y, sizeof(y));
		if (x[0] == '\0' || strcmp(x, y) != 0)
			return 0;
	}
	return 1;
}

int
lease_take(struct run_ctx *ctx, const char *cmd, struct cut_err *err)
{
	struct world_ops *w = ctx->world;
	const char *zone = ctx->names.zone;
	char mine[WORLD_LEASE_MAX], cur[WORLD_LEASE_MAX], who[512], id[WORLD_LEASE_MAX];
	int r, tries;

	ctx->lease[0] = '\0';
	lease_value(ctx, cmd, mine, sizeof(mine));
	/* A lease released between our CREATE and our read is tried again; a
	 * few rounds are plenty, and more means someone is racing us. */
	for (tries = 0; tries < 3; tries++) {
		if ((r = w->lease_take(w, zone, mine, NULL, err)) == 0)
			break;
		if (r != CUT_ESTATE)
			return r;
		if ((r = w->lease_read(w, zone, cur, sizeof(cur), err)) == CUT_ENOTFOUND)
			continue;
		if (r != 0)
			return r;
		lease_holder(cur, who, sizeof(who), id, sizeof(id));
		/* This cutover's own lease, left by a run of this state folder on
		 * this machine that was killed (the folder's flock says no other
		 * run of it is alive), or by our own CREATE whose answer was
		 * lost and retried: take it over. Anyone else's only when the
		 * operator named it. */
		if (!same_folder(cur, mine) &&
		    (ctx->opts.break_lease == NULL || strcmp(ctx->opts.break_lease, id) != 0))
			return cut_err_set(err, CUT_ESTATE, "Another cutover holds the lease "
			    "%s.%s: %s%s; nothing was changed. Wait for it to end%s, or, if that "
			    "run is dead for sure, run again with --break-lease %s.",
			    WORLD_LEASE_LABEL, zone, who, strcmp(id, ctx->state_id) == 0 ?
			    ", run from another copy of this state folder" : "",
			    ctx->opts.break_lease ? " (--break-lease names someone else)" : "", id);
		if ((r = w->lease_take(w, zone, mine, cur, err)) == CUT_ESTATE)
			continue;  /* it changed hands meanwhile: look again */
		if (r != 0)
			return r;
		if (ctx->out)
			progress_event(ctx->out, "lease", NULL, "took over the lease %s.%s from %s",
			    WORLD_LEASE_LABEL, zone, who);
		break;
	}
	if (tries == 3)
		return cut_err_set(err, CUT_ESTATE, "The lease %s.%s changed hands three times "
		    "while this run tried to take it; another run is starting, so nothing was "
		    "changed. Look at `cutover status`, then run again.", WORLD_LEASE_LABEL, zone);
	snprintf(ctx->lease, sizeof(ctx->lease), "%s", mine);
	return 0;
}

void
lease_drop(struct run_ctx *ctx)
{
	struct cut_err e;

	if (ctx->lease[0] == '\0')
		return;
	if (ctx->world->lease_release(ctx->world, ctx->names.zone, ctx->lease, &e) != 0 &&
	    ctx->out)
		progress_event(ctx->out, "warning", NULL, "The lease %s.%s was not released: %s "
		    "If no cutover runs, delete that TXT record in Route 53, or the next run "
		    "breaks it with --break-lease %s.", WORLD_LEASE_LABEL, ctx->names.zone, e.msg,
		    ctx->state_id);
	ctx->lease[0] = '\0';
}
