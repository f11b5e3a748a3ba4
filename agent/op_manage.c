/* op_manage.c: run PYTHON manage.py ARGS in the app folder with the EB
 * environment loaded, as Cobalt's own cron wrapper does, without a shell. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MANAGE_APP_DIR "/var/app/current"
#define MANAGE_ENV_FILE "/opt/elasticbeanstalk/deployment/env"
#define MANAGE_PYTHON "/var/app/venv/*/bin/python"
#define MANAGE_ENV_FILE_MAX (4u * 1024u * 1024u)

extern char **environ;

/* Reads a whole file of at most MANAGE_ENV_FILE_MAX bytes into *out
 * (caller frees). Returns 0 or an errno value. */
static int
read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (buf == NULL || fd < 0) {
		err = buf == NULL ? ENOMEM : errno;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb;

			if (cap >= MANAGE_ENV_FILE_MAX) {
				err = EFBIG;
				goto fail;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				err = ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static int
cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The first path matching pattern[0..] appended to path[0..plen), trying
 * each component's matches in sorted order; 1 when found (path holds it).
 * glob(3) would do, but in a static glibc binary it drags in NSS (for "~")
 * and 230 KB; fnmatch and readdir do not. */
static int
match_path(char *path, size_t plen, const char *pattern)
{
	const char *slash, *comp = pattern;
	size_t clen;
	char name[NAME_MAX + 1];
	struct stat st;

	while (*comp == '/') {
		if (plen + 1 >= PATH_MAX)
			return 0;
		path[plen++] = '/';
		comp++;
	}
	path[plen] = '\0';
	if (*comp == '\0')
		return plen > 0 && stat(path, &st) == 0;
	slash = strchr(comp, '/');
	clen = slash ? (size_t)(slash - comp) : strlen(comp);
	if (clen > NAME_MAX)
		return 0;
	memcpy(name, comp, clen);
	name[clen] = '\0';
	if (strpbrk(name, "*?[") == NULL) {
		if (plen + clen >= PATH_MAX)
			return 0;
		memcpy(path + plen, name, clen + 1);
		return match_path(path, plen + clen, comp + clen);
	}
	{
		DIR *d = opendir(plen ? path : ".");
		struct dirent *de;
		char **names = NULL;
		size_t n = 0, cap = 0;
		int found = 0;

		if (d == NULL)
			return 0;
		while ((de = readdir(d)) != NULL) {
			char **nn;

			if (fnmatch(name, de->d_name, FNM_PERIOD) != 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				if ((nn = realloc(names, cap * sizeof(*names))) == NULL)
					break;
				names = nn;
			}
			if ((names[n] = strdup(de->d_name)) == NULL)
				break;
			n++;
		}
		closedir(d);
		if (n > 1)
			qsort(names, n, sizeof(*names), cmp_names);
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(names[i]);

			if (!found && plen + l < PATH_MAX) {
				memcpy(path + plen, names[i], l + 1);
				found = match_path(path, plen + l, comp + clen);
			}
			free(names[i]);
		}
		free(names);
		return found;
	}
}

/* A str field, or def when absent; NULL (and *bad set) when of another type. */
static char *
str_field(const msgpack_object *msg, const char *key, const char *def, int *bad)
{
	const msgpack_object *o = frame_get(msg, key);
	/* nil stands for "absent", as in the data-safety requests. */
	char *s = o && o->type != MSGPACK_OBJECT_NIL ? agent_strdup_obj(o) : strdup(def);

	if (s == NULL)
		*bad = 1;
	return s;
}

int
manage_prepare(const msgpack_object *msg, struct manage_prep *p, char *why, size_t whylen)
{
	const msgpack_object *args = frame_get(msg, "args");
	char *env_file = NULL, *python = NULL, *text = NULL;
	const char *prefix[2];
	char found[PATH_MAX];
	int bad = 0, rc = MANAGE_PREP_OK, err;
	size_t tlen = 0;

	memset(p, 0, sizeof(*p));
	p->app_dir = str_field(msg, "app_dir", MANAGE_APP_DIR, &bad);
	env_file = str_field(msg, "env_file", MANAGE_ENV_FILE, &bad);
	python = str_field(msg, "python", MANAGE_PYTHON, &bad);
	if (bad || (args != NULL && args->type != MSGPACK_OBJECT_ARRAY)) {
		snprintf(why, whylen, "\"args\" must be an array of strings and \"app_dir\", \"env_file\", "
		    "\"python\" strings without NUL bytes");
		rc = MANAGE_PREP_BAD;
		goto out;
	}
	if ((err = read_file(env_file, &text, &tlen)) != 0) {
		snprintf(why, whylen, "cannot read the environment file %s: %s", env_file, strerror(err));
		rc = MANAGE_PREP_START;
		goto out;
	}
	/* The venv's folder name is random per deployment (staging-LQM1lest). */
	/* A bare name ("python3") is looked up in PATH at exec; a relative
	 * pattern is relative to the app folder, where the child runs. */
	if (strchr(python, '/') == NULL && strlen(python) < sizeof(found)) {
		strcpy(found, python);
	} else if (python[0] != '/') {
		char *abs = malloc(strlen(p->app_dir) + strlen(python) + 2);
		int ok;

		if (abs == NULL) {
			rc = MANAGE_PREP_NOMEM;
			goto out;
		}
		strcpy(abs, p->app_dir);
		strcat(abs, "/");
		strcat(abs, python);
		ok = match_path(found, 0, abs);
		free(abs);
		if (!ok) {
			snprintf(why, whylen, "no python matches %s in %s", python, p->app_dir);
			rc = MANAGE_PREP_START;
			goto out;
		}
		/* The child runs inside app_dir: a match that is relative to the
		 * agent's own folder (app_dir itself relative) must become
		 * absolute, or exec would look for it from app_dir. Not
		 * realpath(): a venv's python must keep its own path (a symlink)
		 * to find the venv. */
		if (found[0] != '/') {
			char cwd[PATH_MAX], absfound[PATH_MAX];

			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    (size_t)snprintf(absfound, sizeof(absfound), "%s/%s", cwd, found) >= sizeof(absfound)) {
				snprintf(why, whylen, "cannot make the python path %s absolute", found);
				rc = MANAGE_PREP_START;
				goto out;
			}
			memcpy(found, absfound, sizeof(found));
		}
	} else if (!match_path(found, 0, python)) {
		snprintf(why, whylen, "no python matches %s", python);
		rc = MANAGE_PREP_START;
		goto out;
	}
	if (env_init(&p->env, environ) != 0 || env_load_ebfile(&p->env, text, tlen) != 0) {
		rc = MANAGE_PREP_NOMEM;
		goto out;
	}
	if (env_add_map(&p->env, frame_get(msg, "env")) != 0) {
		snprintf(why, whylen, "bad \"env\" (names must be non-empty without '=', no NUL bytes anywhere)");
		rc = MANAGE_PREP_BAD;
		goto out;
	}
	prefix[0] = found;
	prefix[1] = "manage.py";
	if ((p->argv = agent_argv_from(prefix, 2, args)) == NULL) {
		snprintf(why, whylen, "\"args\" must be strings without NUL bytes");
		rc = MANAGE_PREP_BAD;
		goto out;
	}
out:
	if (rc != MANAGE_PREP_OK)
		manage_prep_free(p);
	if (text != NULL)
		explicit_bzero(text, tlen);   /* the whole env file */
	free(text);
	free(env_file);
	free(python);
	return rc;
}

void
manage_prep_free(struct manage_prep *p)
{
	agent_argv_free(p->argv);
	if (p->env.v)
		env_free(&p->env);
	free(p->app_dir);
	memset(p, 0, sizeof(*p));
}

static int
manage(struct agent *a, const msgpack_object *msg)
{
	struct manage_prep p;
	struct spawn_spec spec = { 0 };
	char why[600];
	int rc;
	uint64_t id;

	if (op_check_request(a, msg, &id))
		return FRAME_OK;
	switch (manage_prepare(msg, &p, why, sizeof(why))) {
	case MANAGE_PREP_OK:
		break;
	case MANAGE_PREP_BAD:
		return agent_send_error(a, id, "bad-request", "Request %llu: %s.", (unsigned long long)id, why);
	case MANAGE_PREP_START:
		return agent_send_start_error(a, id, "%s", why);
	default:
		return FRAME_ENOMEM;
	}
	spec.argv = p.argv;
	rc = op_spawn(a, id, msg, &spec, p.env.v, p.app_dir);
	manage_prep_free(&p);
	return rc;
}

const struct op op_manage = { "manage", manage };
