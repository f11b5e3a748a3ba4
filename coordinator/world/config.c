/* world/config.c: see world/config.h. */
#include "world/config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/inifile.h"

enum sect { S_NONE, S_AWS, S_PAIR, S_DATABASE, S_DNS, S_SSH, S_APP, S_REHEARSE, S_SMOKE, S_COUNT };

struct ctx {
	struct cfg *c;
	const char *path;
	struct cut_err *err;
	int failed;
	char cur_section[256];
	enum sect cur;
	struct cfg_pair *pair;
	int section_line[S_COUNT];
	char seen[64][64];      /* "section\0key" pairs seen in the current section */
	size_t nseen;
	int pair_env_line[CFG_MAX_PAIRS];
	/* Section headers found by the pre-scan, in file order. */
	struct { int line; enum sect s; struct cfg_pair *pair; char name[256]; } hdr[64];
	size_t nhdr, cur_hdr;
	int pair_rec_line[CFG_MAX_PAIRS];
	int key_line[S_COUNT][8];
};

static int
fail(struct ctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *x, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (x->failed)
		return 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->failed = 1;
	if (line > 0)
		cut_err_set(x->err, CUT_ECONFIG, "%s line %d: %s", x->path, line, msg);
	else
		cut_err_set(x->err, CUT_ECONFIG, "%s: %s", x->path, msg);
	return 1;
}

static int
copy_val(struct ctx *x, int line, const char *key, char *dst, size_t sz, const char *v)
{
	if (strlen(v) >= sz)
		return fail(x, line, "the value of %s is too long (at most %zu characters); shorten it.", key, sz - 1);
	snprintf(dst, sz, "%s", v);
	return 0;
}

static int
yesno(struct ctx *x, int line, const char *key, const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return fail(x, line, "%s must be yes or no, not '%s'; fix the value.", key, v);
	return 0;
}

/* Splits a comma-separated list into trimmed items. Returns the count or -1
 * when there are more than max or an item is empty/too long. */
static int
split_list(const char *v, char *items, size_t itemsz, size_t max)
{
	size_t n = 0;
	const char *p = v;

	for (;;) {
		const char *e = strchr(p, ',');
		const char *a = p, *b = e ? e : p + strlen(p);
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b == a || n >= max || (size_t)(b - a) >= itemsz)
			return -1;
		memcpy(items + n * itemsz, a, (size_t)(b - a));
		items[n * itemsz + (size_t)(b - a)] = '\0';
		n++;
		if (!e)
			break;
		p = e + 1;
	}
	return (int)n;
}

/* checks = PATH [STATUS...], PATH [STATUS...]: a path starting with '/'
 * and the statuses that count as working (default 200). */
static int
smoke_checks(struct ctx *x, int line, const char *v)
{
	char buf[4096], *rest = buf, *item;
	size_t n = 0;

	if (strlen(v) >= sizeof(buf))
		return fail(x, line, "the value of checks is too long (at most %zu characters); shorten it.", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", v);
	while ((item = strsep(&rest, ",")) != NULL) {
		char *save = NULL, *tok = strtok_r(item, " \t", &save);
		int k = 0;
		if (tok == NULL)
			return fail(x, line, "checks has an empty check (two commas, or one at an end); each check is a path and its statuses, e.g. /accounts/login/ 200.");
		if (n >= CFG_MAX_SMOKE_CHECKS)
			return fail(x, line, "checks lists more than %d checks; keep the important ones.", CFG_MAX_SMOKE_CHECKS);
		if (tok[0] != '/')
			return fail(x, line, "the smoke check '%s' is not a path starting with '/'; write e.g. /accounts/login/ 200.", tok);
		if (strlen(tok) >= sizeof(x->c->smoke.checks[0].path))
			return fail(x, line, "the smoke check path '%.60s...' is too long (at most %zu characters); shorten it.",
			    tok, sizeof(x->c->smoke.checks[0].path) - 1);
		snprintf(x->c->smoke.checks[n].path, sizeof(x->c->smoke.checks[n].path), "%s", tok);
		memset(x->c->smoke.checks[n].expect, 0, sizeof(x->c->smoke.checks[n].expect));
		while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
			if (strlen(tok) != 3 || !isdigit((unsigned char)tok[0]) || !isdigit((unsigned char)tok[1]) ||
			    !isdigit((unsigned char)tok[2]) || tok[0] < '1' || tok[0] > '5')
				return fail(x, line, "'%s' after %s is not an HTTP status (100 to 599); fix the check.", tok,
				    x->c->smoke.checks[n].path);
			if (k >= SMOKE_MAX_STATUS)
				return fail(x, line, "the smoke check %s lists more than %d statuses; keep at most %d.",
				    x->c->smoke.checks[n].path, SMOKE_MAX_STATUS, SMOKE_MAX_STATUS);
			x->c->smoke.checks[n].expect[k++] = atoi(tok);
		}
		n++;
	}
	x->c->smoke.nchecks = n;
	return 0;
}

static void
strip_dot(char *s)
{
	size_t l = strlen(s);

	if (l > 1 && s[l - 1] == '.')
		s[l - 1] = '\0';
}

static const char *const sect_names[S_COUNT] = { "", "aws", "pair", "database", "dns", "ssh", "app", "rehearse", "smoke" };

static int
enter_section(struct ctx *x, int line, const char *section)
{
	size_t i;

	x->pair = NULL;
	if (strncmp(section, "pair", 4) == 0 && (section[4] == '\0' || isspace((unsigned char)section[4]))) {
		const char *n = section + 4;
		while (isspace((unsigned char)*n))
			n++;
		if (!*n)
			return fail(x, line, "[pair] needs a name, e.g. [pair web]; add one.");
		if (x->c->npairs >= CFG_MAX_PAIRS)
			return fail(x, line, "at most %d [pair] sections are allowed; remove one.", CFG_MAX_PAIRS);
		for (i = 0; i < x->c->npairs; i++)
			if (strcmp(x->c->pairs[i].name, n) == 0)
				return fail(x, line, "[pair %s] appears twice (first at line %d); merge them.", n,
				    x->c->pairs[i].line);
		if (strlen(n) >= sizeof(x->pair->name))
			return fail(x, line, "the pair name '%s' is too long; shorten it.", n);
		x->pair = &x->c->pairs[x->c->npairs++];
		snprintf(x->pair->name, sizeof(x->pair->name), "%.63s", n);
		x->pair->line = line;
		x->cur = S_PAIR;
		return 0;
	}
	for (i = 1; i < S_COUNT; i++)
		if (i != S_PAIR && strcmp(section, sect_names[i]) == 0) {
			if (x->section_line[i])
				return fail(x, line, "[%s] appears twice (first at line %d); merge them.", section,
				    x->section_line[i]);
			x->section_line[i] = line;
			x->cur = (enum sect)i;
			return 0;
		}
	return fail(x, line, "unknown section [%s]; the sections are [aws], [pair NAME], [database], [dns], [ssh], [app], [rehearse] and [smoke].",
	    section);
}

static int
handler(void *user, int line, const char *section, const char *name, const char *value)
{
	struct ctx *x = user;
	struct cfg *c = x->c;
	size_t i;

	if (x->failed)
		return 1;
	if (section[0] == '\0')
		return fail(x, line, "'%s' is outside any section; put it under the right [section].", name);
	if (strcmp(section, x->cur_section) != 0 || x->cur == S_NONE) {
		/* inih reports a section with its first key: move to the
		 * pre-scanned header of that name that precedes this line. */
		while (x->cur_hdr < x->nhdr && (x->hdr[x->cur_hdr].line > line ||
		    strcmp(x->hdr[x->cur_hdr].name, section) != 0))
			x->cur_hdr++;
		if (x->cur_hdr >= x->nhdr)
			return fail(x, line, "cannot tell which section '%s' belongs to; check the [section] line above it.", name);
		snprintf(x->cur_section, sizeof(x->cur_section), "%s", section);
		x->cur = x->hdr[x->cur_hdr].s;
		x->pair = x->hdr[x->cur_hdr].pair;
		x->nseen = 0;
		x->cur_hdr++;
	}
	for (i = 0; i < x->nseen; i++)
		if (strcmp(x->seen[i], name) == 0)
			return fail(x, line, "%s is set twice in [%s]; keep one.", name, section);
	if (x->nseen < 64)
		snprintf(x->seen[x->nseen++], sizeof(x->seen[0]), "%s", name);

	switch (x->cur) {
	case S_AWS:
		if (strcmp(name, "region") == 0)
			return copy_val(x, line, name, c->aws.region, sizeof(c->aws.region), value);
		if (strcmp(name, "application") == 0)
			return copy_val(x, line, name, c->aws.application, sizeof(c->aws.application), value);
		if (strcmp(name, "profile") == 0)
			return copy_val(x, line, name, c->aws.profile, sizeof(c->aws.profile), value);
		return fail(x, line, "unknown key '%s' in [aws]; the keys are region, application and profile.", name);
	case S_PAIR: {
		int n;
		if (strcmp(name, "environments") == 0) {
			n = split_list(value, &x->pair->envs[0][0], sizeof(x->pair->envs[0]), 2);
			if (n != 2)
				return fail(x, line, "[pair %s] environments must name exactly two environments, comma-separated; fix the list.",
				    x->pair->name);
			if (strcmp(x->pair->envs[0], x->pair->envs[1]) == 0)
				return fail(x, line, "[pair %s] names %s twice; a pair is two different environments.",
				    x->pair->name, x->pair->envs[0]);
			for (i = 0; i < 2; i++) {
				size_t l = strlen(x->pair->envs[i]);
				if (l < 4 || l > 40)
					return fail(x, line, "'%s' cannot be an Elastic Beanstalk environment name (4 to 40 characters); fix it.",
					    x->pair->envs[i]);
			}
			x->pair_env_line[x->pair - c->pairs] = line;
			return 0;
		}
		if (strcmp(name, "records") == 0) {
			n = split_list(value, &x->pair->records[0][0], sizeof(x->pair->records[0]), CFG_MAX_RECORDS);
			if (n < 1)
				return fail(x, line, "[pair %s] records must be 1 to %d DNS names, comma-separated; fix the list.",
				    x->pair->name, CFG_MAX_RECORDS);
			x->pair->nrecords = (size_t)n;
			for (i = 0; i < x->pair->nrecords; i++)
				strip_dot(x->pair->records[i]);
			x->pair_rec_line[x->pair - c->pairs] = line;
			return 0;
		}
		return fail(x, line, "unknown key '%s' in [pair %s]; the keys are environments and records.", name,
		    x->pair->name);
	}
	case S_DATABASE:
		if (strcmp(name, "new") == 0)
			return copy_val(x, line, name, c->db.new_id, sizeof(c->db.new_id), value);
		if (strcmp(name, "class") == 0) {
			if (strncmp(value, "db.", 3) != 0)
				return fail(x, line, "class '%s' is not an RDS instance class (like db.t3.small); fix it.", value);
			return copy_val(x, line, name, c->db.klass, sizeof(c->db.klass), value);
		}
		if (strcmp(name, "name") == 0)
			return copy_val(x, line, name, c->db.name, sizeof(c->db.name), value);
		if (strcmp(name, "prep") == 0)
			return copy_val(x, line, name, c->db.prep, sizeof(c->db.prep), value);
		if (strcmp(name, "snapshot") == 0)
			return copy_val(x, line, name, c->db.snapshot, sizeof(c->db.snapshot), value);
		if (strcmp(name, "sslmode") == 0) {
			/* libpq's prefer and allow fall back to plain text without a
			 * word: not offered. */
			if (strcmp(value, "require") != 0 && strcmp(value, "verify-ca") != 0 &&
			    strcmp(value, "verify-full") != 0 && strcmp(value, "disable") != 0)
				return fail(x, line, "sslmode '%s' is not one of require, verify-ca, verify-full and disable; fix it.", value);
			return copy_val(x, line, name, c->db.sslmode, sizeof(c->db.sslmode), value);
		}
		if (strcmp(name, "method") == 0) {
			if (strcmp(value, "snapshot") != 0 && strcmp(value, "replica") != 0)
				return fail(x, line, "method '%s' is not snapshot or replica; fix it.", value);
			return copy_val(x, line, name, c->db.method, sizeof(c->db.method), value);
		}
		if (strcmp(name, "sslrootcert") == 0) {
			if (value[0] != '/')
				return fail(x, line, "sslrootcert '%s' must be an absolute path on the instances (the RDS CA bundle); fix it.", value);
			return copy_val(x, line, name, c->db.sslrootcert, sizeof(c->db.sslrootcert), value);
		}
		return fail(x, line, "unknown key '%s' in [database]; the keys are new, class, name, method, prep, snapshot, sslmode and sslrootcert.", name);
	case S_DNS:
		if (strcmp(name, "zone") == 0) {
			if (copy_val(x, line, name, c->dns.zone, sizeof(c->dns.zone), value))
				return 1;
			strip_dot(c->dns.zone);
			return 0;
		}
		if (strcmp(name, "tail_interval") == 0 || strcmp(name, "tail_deadline") == 0) {
			int deadline = name[5] == 'd';
			char *end;
			long v = strtol(value, &end, 10);
			/* Below the engine's one-hour limit on any wait. */
			if (*value == '\0' || *end != '\0' || v < !deadline || v > 3000)
				return fail(x, line, "%s must be a number of seconds from %d to 3000, not '%s'; "
				    "fix the value.", name, !deadline, value);
			*(deadline ? &c->dns.tail_deadline : &c->dns.tail_interval) = (int)v;
			return 0;
		}
		return fail(x, line, "unknown key '%s' in [dns]; the keys are zone, tail_interval and tail_deadline.", name);
	case S_SSH:
		if (strcmp(name, "user") == 0)
			return copy_val(x, line, name, c->ssh.user, sizeof(c->ssh.user), value);
		if (strcmp(name, "identity") == 0)
			return copy_val(x, line, name, c->ssh.identity, sizeof(c->ssh.identity), value);
		if (strcmp(name, "known_hosts") == 0)
			return copy_val(x, line, name, c->ssh.known_hosts, sizeof(c->ssh.known_hosts), value);
		if (strcmp(name, "instance_connect") == 0)
			return yesno(x, line, name, value, &c->ssh.instance_connect);
		if (strcmp(name, "open_port") == 0)
			return yesno(x, line, name, value, &c->ssh.open_port);
		if (strcmp(name, "port") == 0) {
			char *end;
			long p = strtol(value, &end, 10);
			if (*value == '\0' || *end != '\0' || p < 1 || p > 65535)
				return fail(x, line, "port must be a number from 1 to 65535, not '%s'; fix the value.", value);
			c->ssh.port = (int)p;
			return 0;
		}
		if (strcmp(name, "transport") == 0) {
			if (strcmp(value, "ssh") == 0)
				c->ssh.transport = CFG_TRANSPORT_SSH;
			else if (strcmp(value, "ssm") == 0)
				c->ssh.transport = CFG_TRANSPORT_SSM;
			else
				return fail(x, line, "transport must be ssh or ssm, not '%s'; fix the value.", value);
			return 0;
		}
		if (strcmp(name, "address") == 0) {
			if (strcmp(value, "private") == 0)
				c->ssh.address_public = 0;
			else if (strcmp(value, "public") == 0)
				c->ssh.address_public = 1;
			else
				return fail(x, line, "address must be private or public, not '%s'; fix the value.", value);
			return 0;
		}
		return fail(x, line, "unknown key '%s' in [ssh]; the keys are user, identity, known_hosts, instance_connect, address, port, open_port and transport.",
		    name);
	case S_APP:
		if (strcmp(name, "dir") == 0)
			return copy_val(x, line, name, c->app.dir, sizeof(c->app.dir), value);
		if (strcmp(name, "env_file") == 0)
			return copy_val(x, line, name, c->app.env_file, sizeof(c->app.env_file), value);
		if (strcmp(name, "python") == 0)
			return copy_val(x, line, name, c->app.python, sizeof(c->app.python), value);
		if (strcmp(name, "sudo") == 0)
			return yesno(x, line, name, value, &c->app.sudo);
		if (strcmp(name, "version") == 0)
			return copy_val(x, line, name, c->app.version, sizeof(c->app.version), value);
		if (strcmp(name, "access_log") == 0)
			return copy_val(x, line, name, c->app.access_log, sizeof(c->app.access_log), value);
		if (strcmp(name, "cron_state_dir") == 0)
			return copy_val(x, line, name, c->app.cron_state_dir, sizeof(c->app.cron_state_dir),
			    value);
		if (strcmp(name, "http_port") == 0) {
			char *end;
			long p = strtol(value, &end, 10);
			if (*value == '\0' || *end != '\0' || p < 1 || p > 65535)
				return fail(x, line, "http_port must be a number from 1 to 65535, not '%s'; fix the value.", value);
			c->app.http_port = (int)p;
			return 0;
		}
		return fail(x, line, "unknown key '%s' in [app]; the keys are dir, env_file, python, sudo, version, http_port, access_log and cron_state_dir.", name);
	case S_REHEARSE:
		if (strcmp(name, "environment") == 0)
			return copy_val(x, line, name, c->rehearse.env, sizeof(c->rehearse.env), value);
		if (strcmp(name, "database") == 0)
			return copy_val(x, line, name, c->rehearse.db, sizeof(c->rehearse.db), value);
		if (strcmp(name, "snapshot") == 0)
			return copy_val(x, line, name, c->rehearse.snapshot, sizeof(c->rehearse.snapshot), value);
		if (strcmp(name, "class") == 0) {
			if (strncmp(value, "db.", 3) != 0)
				return fail(x, line, "class '%s' is not an RDS instance class (like db.t3.small); fix it.", value);
			return copy_val(x, line, name, c->rehearse.klass, sizeof(c->rehearse.klass), value);
		}
		return fail(x, line, "unknown key '%s' in [rehearse]; the keys are environment, database, snapshot and class.", name);
	case S_SMOKE:
		if (strcmp(name, "checks") == 0)
			return smoke_checks(x, line, value);
		if (strcmp(name, "load_balancer") == 0)
			return yesno(x, line, name, value, &c->smoke.load_balancer);
		return fail(x, line, "unknown key '%s' in [smoke]; the keys are checks and load_balancer.", name);
	default:
		return fail(x, line, "unexpected key '%s'.", name);
	}
}

static int
in_zone(const char *name, const char *zone)
{
	size_t ln = strlen(name), lz = strlen(zone);

	if (strcasecmp(name, zone) == 0)
		return 1;
	return ln > lz + 1 && name[ln - lz - 1] == '.' && strcasecmp(name + ln - lz, zone) == 0;
}

/* Checks across sections, once everything is read. */
static int
check(struct ctx *x)
{
	struct cfg *c = x->c;
	size_t i, j, k, l;

	if (!x->section_line[S_AWS])
		return fail(x, 0, "there is no [aws] section; add one with region and application.");
	if (!c->aws.region[0])
		return fail(x, x->section_line[S_AWS], "[aws] has no region; add e.g. region = ap-southeast-2.");
	if (!c->aws.application[0])
		return fail(x, x->section_line[S_AWS], "[aws] has no application; add the Elastic Beanstalk application name.");
	if (c->npairs == 0)
		return fail(x, 0, "there is no [pair NAME] section; add one per blue/green pair (environments and records).");
	if (!x->section_line[S_DNS] || !c->dns.zone[0])
		return fail(x, x->section_line[S_DNS], "there is no zone in [dns]; add e.g. zone = myabf.com.au.");
	if (!x->section_line[S_DATABASE])
		return fail(x, 0, "there is no [database] section; add one with new, class and name.");
	if (!c->db.new_id[0] || !c->db.klass[0] || !c->db.name[0])
		return fail(x, x->section_line[S_DATABASE], "[database] needs new, class and name; add the missing ones.");
	if (!c->db.method[0])
		snprintf(c->db.method, sizeof(c->db.method), "snapshot");
	for (i = 0; i < c->npairs; i++) {
		struct cfg_pair *p = &c->pairs[i];
		if (!p->envs[0][0])
			return fail(x, p->line, "[pair %s] has no environments; add environments = BLUE, GREEN.", p->name);
		if (p->nrecords == 0)
			return fail(x, p->line, "[pair %s] has no records; add the DNS names that point at its live environment.", p->name);
		for (k = 0; k < p->nrecords; k++) {
			if (!in_zone(p->records[k], c->dns.zone))
				return fail(x, x->pair_rec_line[i], "record %s of [pair %s] is not in the zone %s; fix the record or [dns] zone.",
				    p->records[k], p->name, c->dns.zone);
			for (l = 0; l < k; l++)
				if (strcasecmp(p->records[k], p->records[l]) == 0)
					return fail(x, x->pair_rec_line[i], "record %s is listed twice in [pair %s]; keep one.",
					    p->records[k], p->name);
		}
		for (j = 0; j < i; j++) {
			struct cfg_pair *q = &c->pairs[j];
			int a, b;
			for (a = 0; a < 2; a++)
				for (b = 0; b < 2; b++)
					if (strcmp(p->envs[a], q->envs[b]) == 0)
						return fail(x, x->pair_env_line[i],
						    "environment %s is in both [pair %s] and [pair %s] (line %d); an environment belongs to one pair.",
						    p->envs[a], q->name, p->name, q->line);
			for (k = 0; k < p->nrecords; k++)
				for (l = 0; l < q->nrecords; l++)
					if (strcasecmp(p->records[k], q->records[l]) == 0)
						return fail(x, x->pair_rec_line[i],
						    "record %s is in both [pair %s] and [pair %s]; a record points at one pair.",
						    p->records[k], q->name, p->name);
		}
		if (strcmp(p->envs[0], c->db.new_id) == 0 || strcmp(p->envs[1], c->db.new_id) == 0)
			continue; /* the runbook names the new database after the green env: fine */
	}
	if (!c->ssh.instance_connect && !c->ssh.identity[0])
		return fail(x, x->section_line[S_SSH] ? x->section_line[S_SSH] : 0,
		    "[ssh] has instance_connect = no but no identity; give the private key file or turn instance_connect on.");
	if (c->ssh.transport == CFG_TRANSPORT_SSM && c->ssh.open_port)
		return fail(x, x->section_line[S_SSH] ? x->section_line[S_SSH] : 0,
		    "[ssh] has transport = ssm and open_port = yes; Session Manager needs no inbound port 22, so remove open_port.");
	return 0;
}

/* Finds every [section] line first, so empty sections, unknown ones and
 * duplicates are reported at their own line (inih only reports keys). */
static int
prescan(struct ctx *x, const char *text)
{
	const char *p = text;
	int line = 0;

	while (*p) {
		const char *eol = strchr(p, '\n'), *q = p, *close;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		line++;
		while (q < p + len && isspace((unsigned char)*q))
			q++;
		if (q < p + len && *q == '[') {
			char name[256];
			size_t nl;
			close = memchr(q, ']', (size_t)(p + len - q));
			if (close == NULL)
				return fail(x, line, "this section header has no closing ']'; fix it.");
			nl = (size_t)(close - q - 1);
			if (nl >= sizeof(name))
				return fail(x, line, "this section name is too long; fix it.");
			memcpy(name, q + 1, nl);
			name[nl] = '\0';
			if (x->nhdr >= sizeof(x->hdr) / sizeof(x->hdr[0]))
				return fail(x, line, "too many sections; remove some.");
			x->cur = S_NONE;
			if (enter_section(x, line, name))
				return 1;
			x->hdr[x->nhdr].line = line;
			x->hdr[x->nhdr].s = x->cur;
			x->hdr[x->nhdr].pair = x->pair;
			snprintf(x->hdr[x->nhdr].name, sizeof(x->hdr[0].name), "%s", name);
			x->nhdr++;
		}
		p = eol ? eol + 1 : p + len;
	}
	x->cur = S_NONE;
	x->pair = NULL;
	return 0;
}

int
cfg_parse_text(const char *path, const char *text, struct cfg *out, struct cut_err *err)
{
	struct ctx x;
	int line, r;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.c = out;
	x.path = path;
	x.err = err;
	snprintf(out->path, sizeof(out->path), "%s", path);
	/* Defaults. */
	snprintf(out->ssh.user, sizeof(out->ssh.user), "ec2-user");
	snprintf(out->ssh.known_hosts, sizeof(out->ssh.known_hosts), "~/.ssh/known_hosts");
	out->ssh.instance_connect = 1;
	out->ssh.port = 22;
	out->app.http_port = 80;
	out->dns.tail_interval = 60;
	out->dns.tail_deadline = 900;
	snprintf(out->app.dir, sizeof(out->app.dir), "/var/app/current");
	snprintf(out->app.env_file, sizeof(out->app.env_file), "/opt/elasticbeanstalk/deployment/env");
	snprintf(out->app.python, sizeof(out->app.python), "/var/app/venv/staging-LQM1lest/bin/python");
	out->app.sudo = 1;
	snprintf(out->app.access_log, sizeof(out->app.access_log), "/var/log/nginx/access.log");
	snprintf(out->app.cron_state_dir, sizeof(out->app.cron_state_dir), "/var/lib/cutover");
	out->smoke.load_balancer = 1;

	if ((r = inifile_check_lines(path, text, err)) != 0)
		return r;
	if (prescan(&x, text))
		return CUT_ECONFIG;
	line = inifile_parse_string(text, handler, &x);
	if (x.failed)
		return CUT_ECONFIG;
	if (line > 0)
		return cut_err_set(err, CUT_ECONFIG,
		    "%s line %d: this is not a section header, key = value, or comment; fix the line.", path, line);
	if (check(&x))
		return CUT_ECONFIG;
	return 0;
}

int
cfg_load(const char *path, struct cfg *out, struct cut_err *err)
{
	char *text;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = inifile_read(path, &text, err)) != 0) {
		if (r == CUT_ENOTFOUND)
			return cut_err_set(err, CUT_ECONFIG,
			    "The configuration file %s does not exist; copy deploy/cutover.example.ini and edit it.", path);
		return r;
	}
	r = cfg_parse_text(path, text, out, err);
	free(text);
	return r;
}

const struct cfg_pair *
cfg_pair_of_env(const struct cfg *c, const char *env, int *idx)
{
	size_t i;
	int k;

	for (i = 0; i < c->npairs; i++)
		for (k = 0; k < 2; k++)
			if (strcmp(c->pairs[i].envs[k], env) == 0) {
				if (idx)
					*idx = k;
				return &c->pairs[i];
			}
	return NULL;
}
