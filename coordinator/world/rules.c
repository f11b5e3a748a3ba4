/* world/rules.c: see world/rules.h. */
#include "world/rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "aws/ec2.h"
#include "base/sfile.h"

#define DESC_PREFIX "cutover session "

struct rule {
	char group[32];
	char cidr[64];
	char rule_id[32];          /* "" until AWS answered, or when adopted */
	char desc[256];            /* the description of the rule held */
	unsigned count;
};

struct rules {
	struct aws_client *aws;    /* borrowed */
	char dir[512];
	char token[96];
	char scope[256];           /* the EC2 endpoint */
	int lockfd;
	int kept;                  /* a record stays after this process: keep the owner file */
	struct rule *v;
	size_t n, cap;
};

/* One record, as stored in the ledger. */
struct rec {
	char group[32], cidr[64], rule_id[32], desc[256], scope[256];
};

int
rules_dir(char *buf, size_t len, struct cut_err *err)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, len, "%s/cutover/open-rules", x);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/cutover/open-rules", home);
	else
		return cut_err_set(err, CUT_EINVAL, "Neither XDG_STATE_HOME nor HOME names a folder, so cutover has "
		    "nowhere to record the port-22 rules it opens; set HOME.");
	if (n < 0 || (size_t)n >= len)
		return cut_err_set(err, CUT_EINVAL, "The folder for cutover's record of opened rules is too long a path; "
		    "set XDG_STATE_HOME to a shorter one.");
	return 0;
}

/* mkdir -p with 0700 for what it creates. */
static int
make_dir(const char *path, struct cut_err *err)
{
	char p[512];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				return cut_err_set(err, CUT_EIO, "Cannot create %s: %s; cutover records the port-22 rules "
				    "it opens there.", p, strerror(errno));
			*s = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static void
scope_of(struct aws_client *aws, char *buf, size_t len)
{
	aws_client_endpoint(aws, &aws_svc_ec2, buf, len);
}

/* ---- records ----------------------------------------------------------------- */

static void
rec_path(const char *dir, const char *token, const char *group, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.%s.rule", dir, token, group);
}

static int
rec_write(const char *dir, const char *token, const struct rec *r, struct cut_err *err)
{
	char path[768], body[1024];
	int n = snprintf(body, sizeof(body), "group=%s\ncidr=%s\nrule_id=%s\ndescription=%s\nendpoint=%s\n",
	    r->group, r->cidr, r->rule_id, r->desc, r->scope);

	rec_path(dir, token, r->group, path, sizeof(path));
	return sfile_write(path, body, (size_t)n, err);
}

static void
field(const char *body, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (const char *l = body; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			size_t vl = strcspn(l + kl + 1, "\n");
			snprintf(out, len, "%.*s", (int)vl, l + kl + 1);
			return;
		}
	}
}

static int
rec_read(const char *path, struct rec *r, struct cut_err *err)
{
	char *body = NULL;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = sfile_read(path, 8192, &body, &len, err)) != 0)
		return rc;
	field(body, "group", r->group, sizeof(r->group));
	field(body, "cidr", r->cidr, sizeof(r->cidr));
	field(body, "rule_id", r->rule_id, sizeof(r->rule_id));
	field(body, "description", r->desc, sizeof(r->desc));
	field(body, "endpoint", r->scope, sizeof(r->scope));
	free(body);
	if (r->group[0] == '\0' || r->cidr[0] == '\0')
		return cut_err_set(err, CUT_EPROTO, "%s is not a record of an opened rule (no group or cidr); look at it "
		    "and remove it.", path);
	return 0;
}

/* 1 when the owner token is alive: its owner file is locked by its process. */
static int
owner_alive(const char *dir, const char *token)
{
	char path[768];
	int fd, alive;

	snprintf(path, sizeof(path), "%s/%s.owner", dir, token);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return 0;
	alive = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* 1 when an owner other than `except` (and alive) has a record of group+cidr. */
static int
held_elsewhere(const char *dir, const char *except, const char *group, const char *cidr)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		char tok[96], path[768];
		struct rec r;
		struct cut_err ig;
		size_t nl = strlen(e->d_name);
		const char *dot;
		if (nl < 6 || strcmp(e->d_name + nl - 5, ".rule") != 0)
			continue;
		/* "<token>.<group>.rule": the token holds dots; the group does not. */
		snprintf(tok, sizeof(tok), "%.*s", (int)(nl - 5), e->d_name);
		if ((dot = strrchr(tok, '.')) == NULL)
			continue;
		tok[dot - tok] = '\0';
		if (strcmp(tok, except) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (rec_read(path, &r, &ig) != 0 || strcmp(r.group, group) != 0 || strcmp(r.cidr, cidr) != 0)
			continue;
		found = owner_alive(dir, tok);
	}
	closedir(d);
	return found;
}

/* The description of group's port-22 rule for cidr into desc; 0 and
 * *found 0 when there is none. */
static int
rule_desc(struct aws_client *aws, const char *group, const char *cidr, int *found, char *desc, size_t len,
    struct cut_err *err)
{
	struct ec2_security_group_list l = { 0 };
	const char *ids[1] = { group };
	int r;

	*found = 0;
	desc[0] = '\0';
	if ((r = ec2_describe_security_groups(aws, ids, 1, &l, err)) != 0)
		return r;
	for (size_t i = 0; i < l.n && !*found; i++)
		for (size_t k = 0; k < l.v[i].nrules && !*found; k++) {
			const struct ec2_sg_rule *x = &l.v[i].rules[k];
			if (strcmp(x->cidr, cidr) == 0 && strcmp(x->proto, "tcp") == 0 && x->from_port == 22 &&
			    x->to_port == 22) {
				*found = 1;
				snprintf(desc, len, "%s", x->description);
			}
		}
	ec2_security_group_list_free(&l);
	return 0;
}

/* Revokes the rule of a record: by its id, or (no id: the process died
 * before AWS answered, or the rule was adopted) the rule for its address
 * when that rule's description is still the recorded one. */
static int
revoke_rec(struct aws_client *aws, const struct rec *r, struct cut_err *err)
{
	struct cut_err e;
	char desc[256];
	int rc, found;

	if (r->rule_id[0] != '\0')
		rc = ec2_revoke_ingress_rule(aws, r->group, r->rule_id, &e);
	else if ((rc = rule_desc(aws, r->group, r->cidr, &found, desc, sizeof(desc), &e)) == 0 && found &&
	    strcmp(desc, r->desc) == 0)
		rc = ec2_revoke_ingress(aws, r->group, "tcp", 22, 22, r->cidr, &e);
	if (rc != 0)
		return cut_err_set(err, rc, "Port 22 for %s may still be open on security group %s (%s); revoke it: "
		    "aws ec2 revoke-security-group-ingress --group-id %s --protocol tcp --port 22 --cidr %s.", r->cidr,
		    r->group, e.msg, r->group, r->cidr);
	return 0;
}

/* ---- the sweep --------------------------------------------------------------- */

/* Closes the rules of one dead owner (its owner file locked by us on fd). */
static int
sweep_owner(struct aws_client *aws, const char *dir, const char *token, const char *scope, size_t *closed,
    struct cut_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t tl = strlen(token), left = 0;
	int rc = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[768];
		struct rec r;
		struct cut_err e1;
		size_t nl = strlen(e->d_name);
		if (strncmp(e->d_name, token, tl) != 0 || e->d_name[tl] != '.' || nl < 6 ||
		    strcmp(e->d_name + nl - 5, ".rule") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (rec_read(path, &r, &e1) != 0) {
			fprintf(stderr, "cutover: warning: %s\n", e1.msg);
			left++;
			continue;
		}
		if (strcmp(r.scope, scope) != 0) {
			left++;     /* another endpoint's: for a command that uses it */
			continue;
		}
		if (!held_elsewhere(dir, token, r.group, r.cidr)) {
			if (revoke_rec(aws, &r, &e1) != 0) {
				if (rc == 0)
					rc = cut_err_set(err, e1.code, "%s", e1.msg);
				left++;
				continue;
			}
			if (closed != NULL)
				(*closed)++;
		}
		unlink(path);
	}
	closedir(d);
	if (left == 0) {
		char path[768];
		snprintf(path, sizeof(path), "%s/%s.owner", dir, token);
		unlink(path);
	}
	return rc;
}

static int
sweep_dir(struct aws_client *aws, const char *dir, const char *self, size_t *closed, struct cut_err *err)
{
	char scope[256];
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return 0;
	scope_of(aws, scope, sizeof(scope));
	while ((e = readdir(d)) != NULL) {
		char tok[96], path[768];
		size_t nl = strlen(e->d_name);
		int fd;
		if (nl < 7 || strcmp(e->d_name + nl - 6, ".owner") != 0 || nl - 6 >= sizeof(tok))
			continue;
		snprintf(tok, sizeof(tok), "%.*s", (int)(nl - 6), e->d_name);
		if (self != NULL && strcmp(tok, self) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		/* Held: that run is alive. Ours now: it died; two sweepers do
		 * not both close its rules. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			struct cut_err e1;
			if (sweep_owner(aws, dir, tok, scope, closed, &e1) != 0 && rc == 0)
				rc = cut_err_set(err, e1.code, "%s", e1.msg);
		}
		close(fd);
	}
	closedir(d);
	return rc;
}

int
rules_sweep(struct aws_client *aws, size_t *closed, struct cut_err *err)
{
	char dir[512];
	int r;

	if (closed != NULL)
		*closed = 0;
	if ((r = rules_dir(dir, sizeof(dir), err)) != 0)
		return r;
	return sweep_dir(aws, dir, NULL, closed, err);
}

/* ---- the table ------------------------------------------------------------------ */

int
rules_open(struct aws_client *aws, struct rules **out, struct cut_err *err)
{
	struct rules *t = calloc(1, sizeof(*t));
	char host[64] = "", path[768];
	unsigned char rnd[4];
	size_t closed = 0;
	int r;

	*out = NULL;
	if (t == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
	t->aws = aws;
	t->lockfd = -1;
	if ((r = rules_dir(t->dir, sizeof(t->dir), err)) != 0 || (r = make_dir(t->dir, err)) != 0) {
		free(t);
		return r;
	}
	scope_of(aws, t->scope, sizeof(t->scope));
	gethostname(host, sizeof(host) - 1);
	/* The token goes into a file name and a rule description: keep to
	 * what both take. */
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
			*p = '-';
	host[32] = '\0';
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(t->token, sizeof(t->token), "%s.%ld.%02x%02x%02x%02x", host[0] ? host : "host", (long)getpid(),
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	/* Locked under a name no sweeper looks at, then renamed: an owner file
	 * is never seen unlocked while its process lives. */
	snprintf(path, sizeof(path), "%s/%s.owner", t->dir, t->token);
	{
		char tmp[800];
		snprintf(tmp, sizeof(tmp), "%s.new", path);
		t->lockfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (t->lockfd < 0 || flock(t->lockfd, LOCK_EX | LOCK_NB) != 0 || rename(tmp, path) != 0) {
			r = cut_err_set(err, CUT_EIO, "Cannot create %s: %s; cutover records the port-22 rules it opens "
			    "there.", path, strerror(errno));
			if (t->lockfd >= 0) {
				unlink(tmp);
				close(t->lockfd);
			}
			free(t);
			return r;
		}
	}
	{
		struct cut_err e;
		if (sweep_dir(aws, t->dir, t->token, &closed, &e) != 0)
			fprintf(stderr, "cutover: warning: %s\n", e.msg);
		else if (closed > 0)
			fprintf(stderr, "cutover: closed %zu port-22 rule%s that an earlier run which did not end "
			    "cleanly left open.\n", closed, closed == 1 ? "" : "s");
	}
	*out = t;
	return 0;
}

static struct rule *
find(struct rules *t, const char *group, const char *cidr)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].group, group) == 0 && strcmp(t->v[i].cidr, cidr) == 0)
			return &t->v[i];
	return NULL;
}

static void
unrecord(struct rules *t, const char *group)
{
	char path[768];

	rec_path(t->dir, t->token, group, path, sizeof(path));
	unlink(path);
}

int
rules_acquire(struct rules *t, const char *group, const char *cidr, struct cut_err *err)
{
	struct rule *u = find(t, group, cidr);
	struct rec rc;
	int r, already = 0;

	if (u != NULL) {
		u->count++;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct rule *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL)
			return cut_err_set(err, CUT_ENOMEM, "Out of memory.");
		t->v = v;
		t->cap = cap;
	}
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.group, sizeof(rc.group), "%s", group);
	snprintf(rc.cidr, sizeof(rc.cidr), "%s", cidr);
	snprintf(rc.desc, sizeof(rc.desc), DESC_PREFIX "%s (revoked when it ends)", t->token);
	snprintf(rc.scope, sizeof(rc.scope), "%s", t->scope);
	/* Recorded before it exists: a kill -9 from here on leaves a record
	 * the next command's sweep finds. */
	if ((r = rec_write(t->dir, t->token, &rc, err)) != 0)
		return r;
	r = ec2_authorize_ingress_rule(t->aws, group, "tcp", 22, 22, cidr, rc.desc, &already, rc.rule_id,
	    sizeof(rc.rule_id), err);
	if (r != 0) {
		/* The outcome may be unknown (a lost answer): whatever carries
		 * our description goes; if that cannot be checked either, the
		 * record stays for the next command's sweep. */
		struct cut_err e;
		if (revoke_rec(t->aws, &rc, &e) == 0)
			unrecord(t, group);
		else
			t->kept = 1;
		return r;
	}
	if (already) {
		char desc[256];
		int found;
		if ((r = rule_desc(t->aws, group, cidr, &found, desc, sizeof(desc), err)) != 0) {
			unrecord(t, group);
			return r;
		}
		if (!found || strncmp(desc, DESC_PREFIX, strlen(DESC_PREFIX)) != 0) {
			/* Someone else's rule: used, never revoked. */
			unrecord(t, group);
			return 0;
		}
		/* Cutover's: another live owner's here is shared (the last live
		 * holder revokes it); a dead or unknown owner's is adopted. */
		snprintf(rc.desc, sizeof(rc.desc), "%s", desc);
	}
	if ((r = rec_write(t->dir, t->token, &rc, err)) != 0) {
		struct cut_err e;
		(void)revoke_rec(t->aws, &rc, &e);
		unrecord(t, group);
		return r;
	}
	u = &t->v[t->n++];
	memset(u, 0, sizeof(*u));
	snprintf(u->group, sizeof(u->group), "%s", rc.group);
	snprintf(u->cidr, sizeof(u->cidr), "%s", rc.cidr);
	snprintf(u->rule_id, sizeof(u->rule_id), "%s", rc.rule_id);
	snprintf(u->desc, sizeof(u->desc), "%s", rc.desc);
	u->count = 1;
	return 0;
}

int
rules_release(struct rules *t, const char *group, const char *cidr, struct cut_err *err)
{
	struct rule *u = find(t, group, cidr);
	struct rec rc;
	int r = 0;

	if (u == NULL || --u->count > 0)
		return 0;
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.group, sizeof(rc.group), "%s", u->group);
	snprintf(rc.cidr, sizeof(rc.cidr), "%s", u->cidr);
	snprintf(rc.rule_id, sizeof(rc.rule_id), "%s", u->rule_id);
	snprintf(rc.desc, sizeof(rc.desc), "%s", u->desc);
	/* Another live cutover still uses it: its last release revokes it. */
	if (!held_elsewhere(t->dir, t->token, rc.group, rc.cidr))
		r = revoke_rec(t->aws, &rc, err);
	/* A failed revoke keeps the record: the next command's sweep tries
	 * again once this process is gone. */
	if (r == 0)
		unrecord(t, rc.group);
	else
		t->kept = 1;
	*u = t->v[--t->n];
	return r;
}

int
rules_close(struct rules *t, struct cut_err *err)
{
	int rc = 0;
	char path[768];
	int left = 0;

	if (t == NULL)
		return 0;
	while (t->n > 0) {
		struct cut_err e;
		struct rule *u = &t->v[t->n - 1];
		char g[32], c[64];
		snprintf(g, sizeof(g), "%s", u->group);
		snprintf(c, sizeof(c), "%s", u->cidr);
		u->count = 1;
		if (rules_release(t, g, c, &e) != 0) {
			left = 1;
			if (rc == 0)
				rc = cut_err_set(err, e.code, "%s", e.msg);
		}
	}
	/* With a record left, the owner file stays for the sweep. */
	if (!left && !t->kept) {
		snprintf(path, sizeof(path), "%s/%s.owner", t->dir, t->token);
		unlink(path);
	}
	close(t->lockfd);
	free(t->v);
	free(t);
	return rc;
}
