/* runbook/journal.c: see runbook/journal.h. */
#include "runbook/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_NAME "journal.jsonl"
#define LOCK_NAME "lock"
/* A journal line is small (a few recorded values); anything bigger is damage. */
#define JOURNAL_MAX_LINE (256 * 1024)

struct jkv {
	char *key, *value;
};

struct jstep {
	char *name;
	struct journal_step st;
	struct jkv *kv;
	size_t nkv, cap;
};

struct journal {
	char path[PATH_MAX];
	int fd;          /* -1 when read-only */
	int lock_fd;
	char id[40];
	struct jstep *steps;
	size_t nsteps, cap;
	size_t torn, nrecords;
	int broken;      /* an append failed: no more appends in this process */
};

int64_t
journal_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
journal_key_is_secret(const char *key)
{
	static const char *const bad[] = { "PASSWORD", "SECRET", "KEY", "TOKEN" };
	size_t i, n = strlen(key), k;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t bl = strlen(bad[i]);
		for (k = 0; k + bl <= n; k++)
			if (strncasecmp(key + k, bad[i], bl) == 0)
				return 1;
	}
	return 0;
}

static struct jstep *
find_step(const struct journal *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->nsteps; i++)
		if (strcmp(j->steps[i].name, name) == 0)
			return &j->steps[i];
	return NULL;
}

static struct jstep *
get_step(struct journal *j, const char *name)
{
	struct jstep *s = find_step(j, name);

	if (s != NULL)
		return s;
	if (j->nsteps == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 16;
		struct jstep *n = realloc(j->steps, nc * sizeof(*n));
		if (n == NULL)
			return NULL;
		j->steps = n;
		j->cap = nc;
	}
	s = &j->steps[j->nsteps];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	j->nsteps++;
	return s;
}

static int
step_set_kv(struct jstep *s, const char *key, const char *value)
{
	size_t i;
	char *v;

	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0) {
			if ((v = strdup(value)) == NULL)
				return CUT_ENOMEM;
			free(s->kv[i].value);
			s->kv[i].value = v;
			return 0;
		}
	if (s->nkv == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		struct jkv *n = realloc(s->kv, nc * sizeof(*n));
		if (n == NULL)
			return CUT_ENOMEM;
		s->kv = n;
		s->cap = nc;
	}
	s->kv[s->nkv].key = strdup(key);
	s->kv[s->nkv].value = strdup(value);
	if (s->kv[s->nkv].key == NULL || s->kv[s->nkv].value == NULL) {
		free(s->kv[s->nkv].key);
		free(s->kv[s->nkv].value);
		return CUT_ENOMEM;
	}
	s->nkv++;
	return 0;
}

/* Folds one record into the replayed state. */
static int
apply_record(struct journal *j, struct json_object *rec, struct cut_err *err)
{
	struct json_object *o, *kv;
	const char *ev, *stepname = NULL;
	struct jstep *s;
	int64_t ms = 0;

	if (!json_object_object_get_ex(rec, "ev", &o) || !json_object_is_type(o, json_type_string))
		return cut_err_set(err, CUT_EIO, "Journal %s has a record without an event name; "
		    "it was not written by cutover or was edited by hand, so fix or move it away.",
		    j->path);
	ev = json_object_get_string(o);
	if (json_object_object_get_ex(rec, "ms", &o))
		ms = json_object_get_int64(o);
	if (json_object_object_get_ex(rec, "step", &o))
		stepname = json_object_get_string(o);
	j->nrecords++;
	if (strcmp(ev, "journal-begin") == 0 && json_object_object_get_ex(rec, "kv", &kv) &&
	    json_object_object_get_ex(kv, "id", &o))
		snprintf(j->id, sizeof(j->id), "%s", json_object_get_string(o));
	if (strcmp(ev, "names") == 0)
		stepname = "@names";
	if (stepname == NULL)
		return 0;
	if ((s = get_step(j, stepname)) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory while reading the journal.");
	s->st.last_ms = ms;
	if (strcmp(ev, "step-begin") == 0)
		s->st.begun = 1, s->st.failed = 0;
	else if (strcmp(ev, "step-record") == 0)
		s->st.recorded = 1;
	else if (strcmp(ev, "step-applied") == 0)
		s->st.applied = 1;
	else if (strcmp(ev, "step-done") == 0 || strcmp(ev, "step-skipped") == 0)
		s->st.done = 1, s->st.failed = 0;
	else if (strcmp(ev, "step-failed") == 0)
		s->st.failed = 1;
	else if (strcmp(ev, "downtime-begin") == 0)
		s->st.downtime_begun = 1;
	else if (strcmp(ev, "downtime-end") == 0)
		s->st.downtime_ended = 1;
	if (json_object_object_get_ex(rec, "kv", &kv) && json_object_is_type(kv, json_type_object)) {
		json_object_object_foreach(kv, key, val) {
			if (step_set_kv(s, key, json_object_get_string(val)) != 0)
				return cut_err_set(err, CUT_ENOMEM,
				    "Out of memory while reading the journal.");
		}
	}
	return 0;
}

/* What is wrong with a parsed record's shape, or NULL. Every reader
 * (replay, status, report, resume) takes "ev", "step", "msg" and the kv
 * values as strings, so a null or a number there is refused here, once,
 * with the line number, rather than crashing a reader. */
static const char *
record_problem(struct json_object *rec)
{
	static const char *const strs[] = { "ev", "step", "msg", "t" };
	struct json_object *o;
	size_t i;

	if (!json_object_object_get_ex(rec, "ev", &o))
		return "has no event name";
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (json_object_object_get_ex(rec, strs[i], &o) && !json_object_is_type(o, json_type_string))
			return "has a field that should be text but is not";
	if (json_object_object_get_ex(rec, "ms", &o) && !json_object_is_type(o, json_type_int))
		return "has a time that is not a number";
	if (json_object_object_get_ex(rec, "kv", &o)) {
		if (!json_object_is_type(o, json_type_object))
			return "has recorded values that are not a JSON object";
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!json_object_is_type(val, json_type_string))
				return "has a recorded value that is not text (null, a number or a list)";
		}
	}
	return NULL;
}

/* Reads every complete line of the file open on fd. Stops at the first line
 * that does not parse: if it is the last one it is torn (its offset goes to
 * *good_end), otherwise the journal is damaged. */
static int
scan(int fd, const char *path, journal_visit_fn fn, void *arg, off_t *good_end,
    struct cut_err *err)
{
	struct stat st;
	char *buf, *p, *nl;
	off_t end = 0;
	size_t len;
	ssize_t r;
	size_t got = 0;
	int line = 0, rc = 0;

	if (fstat(fd, &st) != 0)
		return cut_err_set(err, CUT_EIO, "Cannot read journal %s (%s); check the state folder.",
		    path, strerror(errno));
	len = (size_t)st.st_size;
	if ((buf = malloc(len + 1)) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory reading journal %s.", path);
	while (got < len) {
		r = pread(fd, buf + got, len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return cut_err_set(err, CUT_EIO, "Cannot read journal %s (%s); check the disk.",
			    path, r < 0 ? strerror(errno) : "short read");
		}
		got += (size_t)r;
	}
	buf[len] = '\0';
	for (p = buf; p < buf + len; p = nl + 1) {
		struct json_object *rec = NULL;
		enum json_tokener_error jerr;
		struct json_tokener *tok;
		int last;

		line++;
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		last = nl == NULL || nl + 1 == buf + len;
		if (nl == NULL) {
			/* No newline: the write was cut short. */
			break;
		}
		*nl = '\0';
		if ((size_t)(nl - p) <= JOURNAL_MAX_LINE && (tok = json_tokener_new()) != NULL) {
			rec = json_tokener_parse_ex(tok, p, (int)(nl - p));
			jerr = json_tokener_get_error(tok);
			if (jerr != json_tokener_success || json_tokener_get_parse_end(tok) != (size_t)(nl - p) ||
			    !json_object_is_type(rec, json_type_object)) {
				json_object_put(rec);
				rec = NULL;
			}
			json_tokener_free(tok);
		}
		if (rec == NULL) {
			if (last)
				break;
			free(buf);
			return cut_err_set(err, CUT_EIO, "Line %d of journal %s is damaged and is not "
			    "the last line, so it was not a crash mid-write; restore the file from a "
			    "copy or move the state folder away.", line, path);
		}
		const char *why = record_problem(rec);
		if (why != NULL) {
			json_object_put(rec);
			free(buf);
			return cut_err_set(err, CUT_EIO, "Line %d of journal %s %s; it was not written by "
			    "cutover or was edited by hand, so fix that line or move the state folder away.",
			    line, path, why);
		}
		rc = fn(arg, rec);
		json_object_put(rec);
		if (rc != 0)
			break;
		end = (off_t)(nl + 1 - buf);
	}
	free(buf);
	if (good_end != NULL)
		*good_end = end;
	return rc;
}

struct replay_arg {
	struct journal *j;
	struct cut_err *err;
};

static int
replay_one(void *arg, struct json_object *rec)
{
	struct replay_arg *ra = arg;

	return apply_record(ra->j, rec, ra->err);
}

int
journal_read(const char *path, journal_visit_fn fn, void *arg, struct cut_err *err)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cut_err_set(err, errno == ENOENT ? CUT_ENOTFOUND : CUT_EIO,
		    "Cannot open journal %s (%s); check the state folder given with --state.",
		    path, strerror(errno));
	r = scan(fd, path, fn, arg, NULL, err);
	close(fd);
	return r;
}

static int
fsync_dir(const char *dir, struct cut_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cut_err_set(err, CUT_EIO, "Cannot sync folder %s (%s); check the disk.",
		    dir, strerror(e));
	}
	close(fd);
	return 0;
}

/* mkdir -p with 0700 for what it creates, syncing each parent it changed. */
static int
make_dirs(const char *dir, struct cut_err *err)
{
	char buf[PATH_MAX], parent[PATH_MAX];
	char *p;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return cut_err_set(err, CUT_EINVAL, "The state folder name is empty or too long; "
		    "give a shorter path with --state.");
	memcpy(buf, dir, n + 1);
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0700) == 0) {
				char *slash;
				snprintf(parent, sizeof(parent), "%s", buf);
				slash = strrchr(parent, '/');
				if (slash == parent)
					slash[1] = '\0';
				else if (slash != NULL)
					*slash = '\0';
				else
					snprintf(parent, sizeof(parent), ".");
				if (fsync_dir(parent, err) != 0)
					return err ? err->code : CUT_EIO;
			} else if (errno != EEXIST) {
				return cut_err_set(err, CUT_EIO, "Cannot create state folder %s (%s); "
				    "choose another with --state.", buf, strerror(errno));
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int
take_lock(struct journal *j, const char *dir, const char *cmd, struct cut_err *err)
{
	char path[PATH_MAX], line[512], host[128] = "?", other[512];
	ssize_t n;
	time_t now = time(NULL);
	struct tm tm;

	snprintf(path, sizeof(path), "%s/%s", dir, LOCK_NAME);
	if ((j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return cut_err_set(err, CUT_EIO, "Cannot open lock file %s (%s); check the state "
		    "folder's permissions.", path, strerror(errno));
	int locked = flock(j->lock_fd, LOCK_EX | LOCK_NB) == 0;
	if (!locked && errno != EWOULDBLOCK) {
		/* Not "held": the file system cannot lock (NFS without lockd
		 * gives ENOLCK, some FUSE file systems EINVAL or ENOSYS). */
		int e = errno;
		close(j->lock_fd);
		j->lock_fd = -1;
		return cut_err_set(err, CUT_EIO, "Cannot lock the state folder %s (%s): its file system "
		    "does not support locks, so two runs could not be kept apart; put the state folder on a "
		    "local disk with --state.", dir, strerror(e));
	}
	if (!locked) {
		n = pread(j->lock_fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		close(j->lock_fd);
		j->lock_fd = -1;
		return cut_err_set(err, CUT_ESTATE, "Another cutover run holds the state folder %s "
		    "(%s); wait for it to finish or stop that process, then run again.", dir,
		    other[0] ? other : "process unknown");
	}
	gethostname(host, sizeof(host) - 1);
	gmtime_r(&now, &tm);
	n = snprintf(line, sizeof(line), "pid %ld on %s, `cutover %s`, since %04d-%02d-%02dT%02d:%02d:%02dZ\n",
	    (long)getpid(), host, cmd, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, line, (size_t)n, 0) != n)
		return cut_err_set(err, CUT_EIO, "Cannot write lock file %s (%s); check the disk.",
		    path, strerror(errno));
	return 0;
}

static struct journal *
journal_new(void)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (j != NULL)
		j->fd = j->lock_fd = -1;
	return j;
}

static int
replay(struct journal *j, int fd, off_t *good_end, struct cut_err *err)
{
	struct replay_arg ra = { j, err };
	struct stat st;
	int r;

	if ((r = scan(fd, j->path, replay_one, &ra, good_end, err)) != 0)
		return r;
	if (fstat(fd, &st) == 0 && st.st_size > *good_end)
		j->torn = (size_t)(st.st_size - *good_end);
	return 0;
}

int
journal_open_readonly(const char *dir, struct journal **out, struct cut_err *err)
{
	struct journal *j;
	off_t end;
	int fd, r;

	*out = NULL;
	if ((j = journal_new()) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory opening the journal.");
	snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_NAME);
	if ((fd = open(j->path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = cut_err_set(err, errno == ENOENT ? CUT_ENOTFOUND : CUT_EIO,
		    "There is no journal in %s (%s); no cutover has started with this state folder.",
		    dir, strerror(errno));
		journal_close(j);
		return r;
	}
	r = replay(j, fd, &end, err);
	close(fd);
	if (r != 0) {
		journal_close(j);
		return r;
	}
	*out = j;
	return 0;
}

int
journal_open(const char *dir, const char *cmd, struct journal **out, struct cut_err *err)
{
	struct journal *j;
	off_t end = 0;
	int r, created = 0;
	struct stat st;

	*out = NULL;
	if ((r = make_dirs(dir, err)) != 0)
		return r;
	if ((j = journal_new()) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory opening the journal.");
	if ((r = take_lock(j, dir, cmd, err)) != 0)
		goto fail;
	snprintf(j->path, sizeof(j->path), "%s/%s", dir, JOURNAL_NAME);
	if (stat(j->path, &st) != 0)
		created = 1;
	if ((j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		r = cut_err_set(err, CUT_EIO, "Cannot open journal %s (%s); check the state folder.",
		    j->path, strerror(errno));
		goto fail;
	}
	if (created && (r = fsync_dir(dir, err)) != 0)
		goto fail;
	if ((r = replay(j, j->fd, &end, err)) != 0)
		goto fail;
	if (j->torn > 0) {
		/* Cut the torn tail so the next line starts clean. */
		if (ftruncate(j->fd, end) != 0 || fsync(j->fd) != 0) {
			r = cut_err_set(err, CUT_EIO, "Cannot cut the torn last line of journal %s "
			    "(%s); check the disk.", j->path, strerror(errno));
			goto fail;
		}
		char msg[128];
		snprintf(msg, sizeof(msg), "dropped a torn last line of %zu bytes (a crash mid-write)",
		    j->torn);
		struct journal_event ev = { .ev = "note", .msg = msg };
		if ((r = journal_append(j, &ev, err)) != 0)
			goto fail;
	}
	if (j->id[0] == '\0') {
		unsigned char rnd[8];
		char id[20];
		struct journal_kv kv = { "id", id };
		struct journal_event ev = { .ev = "journal-begin", .kv = &kv, .nkv = 1 };
		size_t i;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			r = cut_err_set(err, CUT_EIO, "Cannot get random bytes for the cutover id.");
			goto fail;
		}
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(id + 2 * i, 3, "%02x", rnd[i]);
		if ((r = journal_append(j, &ev, err)) != 0)
			goto fail;
	}
	*out = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

void
journal_close(struct journal *j)
{
	size_t i, k;

	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd);  /* releases the flock */
	for (i = 0; i < j->nsteps; i++) {
		for (k = 0; k < j->steps[i].nkv; k++) {
			free(j->steps[i].kv[k].key);
			free(j->steps[i].kv[k].value);
		}
		free(j->steps[i].kv);
		free(j->steps[i].name);
	}
	free(j->steps);
	free(j);
}

int
journal_append(struct journal *j, const struct journal_event *ev, struct cut_err *err)
{
	struct json_object *rec, *kv;
	const char *s;
	char t[64], *line;
	size_t i, len, off;
	int64_t ms = journal_now_ms();
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	int r;

	if (j->fd < 0)
		return cut_err_set(err, CUT_ESTATE, "The journal was opened read-only; this is a "
		    "bug in cutover, please report it.");
	if (j->broken)
		return cut_err_set(err, CUT_EIO, "An earlier write to journal %s failed, so this run "
		    "records nothing more; free disk space and run again to resume.", j->path);
	for (i = 0; i < ev->nkv; i++)
		if (journal_key_is_secret(ev->kv[i].key))
			return cut_err_set(err, CUT_EINVAL, "Refused to write '%s' to the journal: "
			    "it looks like a secret, and the journal never holds secrets.",
			    ev->kv[i].key);
	gmtime_r(&sec, &tm);
	snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	if ((rec = json_object_new_object()) == NULL)
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing the journal.");
	json_object_object_add(rec, "v", json_object_new_int(1));
	json_object_object_add(rec, "t", json_object_new_string(t));
	json_object_object_add(rec, "ms", json_object_new_int64(ms));
	json_object_object_add(rec, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(rec, "ev", json_object_new_string(ev->ev));
	if (ev->step != NULL)
		json_object_object_add(rec, "step", json_object_new_string(ev->step));
	if (ev->msg != NULL)
		json_object_object_add(rec, "msg", json_object_new_string(ev->msg));
	if (ev->nkv > 0) {
		kv = json_object_new_object();
		for (i = 0; i < ev->nkv; i++)
			json_object_object_add(kv, ev->kv[i].key,
			    json_object_new_string(ev->kv[i].value ? ev->kv[i].value : ""));
		json_object_object_add(rec, "kv", kv);
	}
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	if ((line = malloc(len + 2)) == NULL) {
		json_object_put(rec);
		return cut_err_set(err, CUT_ENOMEM, "Out of memory writing the journal.");
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	/* One write() per line: O_APPEND keeps lines whole unless the machine
	 * dies mid-write, which replay handles as a torn last line. A write or
	 * fsync that fails (disk full, quota) may leave part of the line; it is
	 * cut off again at once, or the next append would land after it and
	 * every later command would refuse the journal as damaged. */
	off_t start = lseek(j->fd, 0, SEEK_END);
	const char *what = NULL;
	int e = 0;
	if (start < 0) {
		what = "write", e = errno;
	}
	for (off = 0; what == NULL && off < len;) {
		ssize_t w = write(j->fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			what = "write", e = w < 0 ? errno : ENOSPC;
			break;
		}
		off += (size_t)w;
	}
	free(line);
	if (what == NULL && fsync(j->fd) != 0)
		what = "sync", e = errno;
	if (what != NULL) {
		json_object_put(rec);
		j->broken = 1;
		if (start >= 0 && (ftruncate(j->fd, start) != 0 || fsync(j->fd) != 0))
			return cut_err_set(err, CUT_EIO, "Cannot %s journal %s (%s) nor cut the partial line off "
			    "again; free disk space, then run again: the partial last line is dropped as torn.",
			    what, j->path, strerror(e));
		return cut_err_set(err, CUT_EIO, "Cannot %s journal %s (%s); nothing more is recorded by this "
		    "run, so free disk space and run again to resume.", what, j->path, strerror(e));
	}
	r = apply_record(j, rec, err);
	json_object_put(rec);
	return r;
}

struct journal_step
journal_step_state(const struct journal *j, const char *step)
{
	struct journal_step none = { 0 };
	struct jstep *s = find_step(j, step);

	return s ? s->st : none;
}

const char *
journal_value(const struct journal *j, const char *step, const char *key)
{
	struct jstep *s = find_step(j, step);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return s->kv[i].value;
	return NULL;
}

const char *journal_id(const struct journal *j) { return j->id; }
const char *journal_file(const struct journal *j) { return j->path; }
size_t journal_torn_bytes(const struct journal *j) { return j->torn; }
size_t journal_nrecords(const struct journal *j) { return j->nrecords; }
