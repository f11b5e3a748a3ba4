/* op_cron.c: "cron", pause a user's crontab (save it, then empty it) and
 * restore it exactly.
 *
 * Cron jobs do not pass through Django's middleware, so they keep writing
 * in maintenance mode; a snapshot taken while they run loses writes. The
 * saved crontab is kept in a file here AND returned to the coordinator, so
 * either copy can bring it back. A second pause never overwrites the saved
 * copy with the emptied crontab.
 *
 * Everything goes through `crontab -l` / `crontab -` / `crontab -r` (the
 * program path is configurable, so tests and unusual hosts can point at
 * another one), never by editing the spool directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "opsutil.h"

#define CRON_MAX (256u * 1024u)
#define CRON_STATE_DIR "/var/lib/cutover"
#define CRON_HEADER "cutover-crontab v1 had="

struct cron_ctx {
	char prog[512], user[64], state_dir[512], saved[700];
	char *envp[2];
	char pathenv[1100];
};

static int
valid_user(const char *u)
{
	if (*u == '\0')
		return 1;
	for (const char *p = u; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	return u[0] != '-';
}

/* The state folder's name goes into the paused crontab's comment line: a
 * newline in it would make the rest a crontab line of its own, run as the
 * user. No control character. (Relative names are the simulation's, where
 * instances live under the login folder.) */
static int
valid_state_dir(const char *d)
{
	if (d[0] == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)d; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* The saved crontab is written as root: its folder must be root's alone
 * (a real folder, not a link, writable by nobody else), or another user
 * could plant a link where the file goes. */
static int
state_dir_safe(const char *d, char *why, size_t whylen)
{
	struct stat st;

	if (lstat(d, &st) != 0) {
		snprintf(why, whylen, "cannot read %s: %s", d, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		snprintf(why, whylen, "%s must be a folder owned by uid %ld and writable by nobody else (it is %s, "
		    "owner %ld, mode %03o); remove it or fix its owner and mode, and run again", d, (long)geteuid(),
		    S_ISDIR(st.st_mode) ? "a folder" : S_ISLNK(st.st_mode) ? "a symbolic link" : "not a folder",
		    (long)st.st_uid, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}

/* Both streams are wanted: routes each to its own buffer. */
static int
sink2(void *arg, int s, const void *b, size_t l)
{
	struct opu_buf **bufs = arg;

	return opu_sink_buf(bufs[s == 1 ? 0 : 1], s, b, l);
}

/* Runs crontab with args (after -u USER when a user is named). */
static int
crontab_run(struct cron_ctx *c, const char *a1, const char *in, size_t inlen,
    struct opu_buf *out, struct opu_buf *err, int *status, char *why, size_t whylen)
{
	char *argv[6];
	int n = 0, wst = 0, to = 0;
	struct opu_buf *bufs[2] = { out, err };

	argv[n++] = c->prog;
	if (c->user[0]) {
		argv[n++] = "-u";
		argv[n++] = c->user;
	}
	argv[n++] = (char *)a1;
	argv[n] = NULL;
	out->stream = 1;
	err->stream = 2;
	if (opu_spawn(argv, c->envp, in, inlen, sink2, bufs, 30000, &wst, &to, why, whylen) != 0)
		return -1;
	if (to) {
		snprintf(why, whylen, "%s %s did not finish within 30 s", c->prog, a1);
		return -1;
	}
	*status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	return 0;
}

/* Reads the current crontab: *had = 0 when the user has none. */
static int
crontab_read(struct cron_ctx *c, struct opu_buf *out, int *had, char *why, size_t whylen)
{
	struct opu_buf err = { .cap = 4096 };
	int st;

	*out = (struct opu_buf){ .cap = CRON_MAX };
	if (crontab_run(c, "-l", NULL, 0, out, &err, &st, why, whylen) != 0) {
		free(err.data);
		return -1;
	}
	if (st == 0) {
		*had = 1;
	} else if (err.data && strstr(err.data, "no crontab")) {
		*had = 0;
		out->len = 0;
	} else {
		snprintf(why, whylen, "%s -l failed (status %d): %.200s", c->prog, st,
		    err.data ? err.data : "");
		free(err.data);
		return -1;
	}
	free(err.data);
	return 0;
}

static int
write_saved(const char *path, int had, const char *data, size_t len, char *why, size_t whylen)
{
	char tmp[800];
	int fd;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* A leftover of a crash (or anything planted there) goes; the new
	 * file is created, never opened through a link. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		snprintf(why, whylen, "cannot remove %s: %s", tmp, strerror(errno));
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, CRON_HEADER "%d\n", had);
	if (len > 0)   /* data is NULL for a user without a crontab */
		fwrite(data, 1, len, f);
	if (fflush(f) != 0 || fsync(fd) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Loads a saved crontab: 1 found, 0 none, -1 error. */
static int
read_saved(const char *path, int *had, struct opu_buf *content, char *why, size_t whylen)
{
	FILE *f = fopen(path, "re");
	char head[64];
	char buf[8192];
	size_t n;

	*content = (struct opu_buf){ .cap = CRON_MAX, .stream = 1 };
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(head, sizeof(head), f) == NULL || strncmp(head, CRON_HEADER, strlen(CRON_HEADER)) != 0) {
		fclose(f);
		snprintf(why, whylen, "%s is not a crontab saved by cutover", path);
		return -1;
	}
	*had = head[strlen(CRON_HEADER)] == '1';
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (opu_sink_buf(content, 1, buf, n) != 0) {
			fclose(f);
			snprintf(why, whylen, "%s is too large", path);
			return -1;
		}
	fclose(f);
	return 1;
}

static int
reply(struct op_io *io, const struct cron_ctx *c, int had, const struct opu_buf *content,
    int already, int verified)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int r;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	opu_pack_head(&pk, "crontab", io, 8);
	opu_pack_key(&pk, "user"); opu_pack_cstr(&pk, c->user);
	opu_pack_key(&pk, "had_crontab"); msgpack_pack_int(&pk, had);
	opu_pack_key(&pk, "content");
	msgpack_pack_bin(&pk, content->len);
	msgpack_pack_bin_body(&pk, content->data ? content->data : "", content->len);
	opu_pack_key(&pk, "saved_path"); opu_pack_cstr(&pk, c->saved);
	opu_pack_key(&pk, "already_paused"); msgpack_pack_int(&pk, already);
	opu_pack_key(&pk, "verified"); msgpack_pack_int(&pk, verified);
	r = opu_send(io, &sb);
	msgpack_sbuffer_destroy(&sb);
	return r;
}


int
opw_cron(const msgpack_object *req, struct op_io *io, char *why, size_t whylen)
{
	struct cron_ctx c;
	char action[16];
	struct opu_buf cur = { 0 }, saved = { 0 }, e1 = { .cap = 4096 }, o1 = { .cap = 4096 };
	int had = 0, st, rc = -1, r;

	memset(&c, 0, sizeof(c));
	if (opu_req_str(req, "action", NULL, action, sizeof(action)) <= 0 ||
	    opu_req_str(req, "user", "", c.user, sizeof(c.user)) < 0 ||
	    opu_req_str(req, "crontab", "crontab", c.prog, sizeof(c.prog)) < 0 ||
	    opu_req_str(req, "state_dir", CRON_STATE_DIR, c.state_dir, sizeof(c.state_dir)) < 0 ||
	    !valid_user(c.user)) {
		snprintf(why, whylen, "the cron request needs \"action\" and valid optional user, crontab and state_dir strings");
		return -1;
	}
	if (!valid_state_dir(c.state_dir)) {
		snprintf(why, whylen, "the cron state folder must be a non-empty path without control characters "
		    "(a newline would become a crontab line); fix cron_state_dir");
		return -1;
	}
	snprintf(c.pathenv, sizeof(c.pathenv), "PATH=%s",
	    getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin");
	c.envp[0] = c.pathenv;
	c.envp[1] = NULL;
	snprintf(c.saved, sizeof(c.saved), "%s/crontab.%s.saved", c.state_dir,
	    c.user[0] ? c.user : "self");

	if (strcmp(action, "show") == 0) {
		if (crontab_read(&c, &cur, &had, why, whylen) != 0)
			goto out;
		reply(io, &c, had, &cur, 0, 0);
		rc = 0;
	} else if (strcmp(action, "pause") == 0) {
		if ((r = read_saved(c.saved, &had, &saved, why, whylen)) < 0)
			goto out;
		if (r == 0) {
			if (crontab_read(&c, &saved, &had, why, whylen) != 0)
				goto out;
			if (mkdir(c.state_dir, 0700) != 0 && errno != EEXIST) {
				snprintf(why, whylen, "cannot create %s: %s", c.state_dir, strerror(errno));
				goto out;
			}
			if (state_dir_safe(c.state_dir, why, whylen) != 0)
				goto out;
			if (write_saved(c.saved, had, saved.data, saved.len, why, whylen) != 0)
				goto out;
		}
		if (had || r == 1) {
			char note[256];
			time_t now = time(NULL);
			struct tm tm;
			gmtime_r(&now, &tm);
			/* An empty crontab that says why it is empty. */
			size_t nl = strftime(note, sizeof(note),
			    "# crontab paused by cutover at %Y-%m-%dT%H:%M:%SZ; saved copy: ", &tm);
			snprintf(note + nl, sizeof(note) - nl, "%s\n", c.saved);
			if (crontab_run(&c, "-", note, strlen(note), &o1, &e1, &st, why, whylen) != 0)
				goto out;
			if (st != 0) {
				snprintf(why, whylen, "%s - failed (status %d): %.200s", c.prog, st,
				    e1.data ? e1.data : "");
				goto out;
			}
		}
		reply(io, &c, had, &saved, r == 1, 0);
		rc = 0;
	} else if (strcmp(action, "restore") == 0) {
		const msgpack_object *content = frame_get(req, "content");
		if (content != NULL && content->type == MSGPACK_OBJECT_BIN) {
			int h = 1;
			if (opu_req_bool(req, "had_crontab", 1, &h) < 0) {
				snprintf(why, whylen, "the cron request's had_crontab is not a bool");
				goto out;
			}
			had = h;
			saved = (struct opu_buf){ .cap = CRON_MAX, .stream = 1 };
			if (content->via.bin.size > 0 &&
			    opu_sink_buf(&saved, 1, content->via.bin.ptr, content->via.bin.size) != 0) {
				snprintf(why, whylen, "the crontab to restore is too large");
				goto out;
			}
		} else if ((r = read_saved(c.saved, &had, &saved, why, whylen)) <= 0) {
			if (r == 0)
				snprintf(why, whylen, "no crontab was saved here (%s) and none was sent, so there is nothing to restore", c.saved);
			goto out;
		}
		if (had)
			r = crontab_run(&c, "-", saved.data ? saved.data : "", saved.len, &o1, &e1, &st, why, whylen);
		else
			r = crontab_run(&c, "-r", NULL, 0, &o1, &e1, &st, why, whylen);
		if (r != 0)
			goto out;
		if (st != 0 && !(!had && e1.data && strstr(e1.data, "no crontab"))) {
			snprintf(why, whylen, "%s failed to install the saved crontab (status %d): %.200s",
			    c.prog, st, e1.data ? e1.data : "");
			goto out;
		}
		int had_now;
		if (crontab_read(&c, &cur, &had_now, why, whylen) != 0)
			goto out;
		int same = had_now == had && cur.len == saved.len &&
		    (cur.len == 0 || memcmp(cur.data, saved.data, cur.len) == 0);
		if (!same) {
			snprintf(why, whylen, "after restoring, %s -l does not show exactly the saved crontab", c.prog);
			goto out;
		}
		char done[800];
		snprintf(done, sizeof(done), "%s.restored", c.saved);
		rename(c.saved, done);   /* a later pause saves afresh */
		reply(io, &c, had, &saved, 0, 1);
		rc = 0;
	} else {
		snprintf(why, whylen, "cron action must be pause, restore or show");
	}
out:
	free(cur.data);
	free(saved.data);
	free(e1.data);
	free(o1.data);
	return rc;
}
