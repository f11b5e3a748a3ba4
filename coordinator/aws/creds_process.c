/* aws/creds_process.c: credential_process, run without a shell (see aws/creds.h, aws/creds_int.h). */
#include "aws/creds_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/sbuf.h"

extern char **environ;

static int64_t
proc_now_ms(void)
{
	return (int64_t)cut_mono_ms();
}


/* ---- credential_process ----------------------------------------------------- */

/* Splits a command line the way the AWS CLI does on POSIX (shlex): words
 * separated by blanks, single quotes literal, double quotes with backslash
 * escapes, backslash outside quotes escapes the next character. No shell is
 * involved, so nothing expands. Returns a NULL-terminated argv (caller frees
 * each element and the array) or NULL on an unbalanced quote. */
static char **
split_command(const char *s, int *nargs)
{
	char **argv = NULL;
	int n = 0;
	struct sbuf w = SBUF_INIT;
	int inword = 0;

	for (;;) {
		char c = *s;
		if (c == '\0' || isspace((unsigned char)c)) {
			if (inword) {
				char **na = realloc(argv, (size_t)(n + 2) * sizeof(*na));
				if (na == NULL)
					goto bad;
				argv = na;
				if ((argv[n] = sbuf_steal(&w)) == NULL)
					goto bad;
				n++;
				argv[n] = NULL;
				inword = 0;
			}
			if (c == '\0')
				break;
			s++;
			continue;
		}
		inword = 1;
		if (c == '\'') {
			const char *e = strchr(s + 1, '\'');
			if (e == NULL)
				goto bad;
			sbuf_addn(&w, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else if (c == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`'))
					s++;
				sbuf_addc(&w, *s++);
			}
			if (*s != '"')
				goto bad;
			s++;
		} else if (c == '\\' && s[1]) {
			sbuf_addc(&w, s[1]);
			s += 2;
		} else {
			sbuf_addc(&w, c);
			s++;
		}
	}
	*nargs = n;
	return argv;
bad:
	sbuf_free(&w);
	while (n > 0)
		free(argv[--n]);
	free(argv);
	return NULL;
}

/* Runs the profile's credential_process with no shell, stdin from
 * /dev/null (it must not read the operator's terminal) and in a process
 * group of its own, all under one deadline: a program that closes stdout
 * but never exits, or leaves a child holding the pipe, is killed with its
 * group rather than hanging the run. */
int
creds_process_run(const struct creds_config *c, struct creds *out, struct cut_err *err)
{
	char **argv;
	int nargs = 0, i, p[2], st = 0, r, timed_out = 0, exited = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct sbuf outb = SBUF_INIT;
	long limit_ms = c->process_timeout_ms > 0 ? c->process_timeout_ms : PROCESS_TIMEOUT_S * 1000L;
	int64_t deadline = proc_now_ms() + limit_ms;
	char what[256];

	snprintf(what, sizeof(what), "the credential_process of AWS profile '%s'", c->profile);
	argv = split_command(c->credential_process, &nargs);
	if (argv == NULL || nargs == 0) {
		if (argv)
			free(argv);
		return cut_err_set(err, CUT_ECONFIG,
		    "The credential_process of AWS profile '%s' in %s is empty or has an unbalanced quote; fix it.",
		    c->profile, c->config_path);
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		r = cut_err_set(err, CUT_EIO, "Cannot create a pipe for %s (%s).", what, strerror(errno));
		goto out_argv;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		r = cut_err_set(err, CUT_ECONFIG,
		    "Cannot run %s ('%s': %s); fix credential_process in %s.", what, argv[0],
		    strerror(r), c->config_path);
		goto out_argv;
	}
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;
		int64_t left = deadline - proc_now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (outb.len + (size_t)n > PROCESS_MAX_OUTPUT) {
			outb.oom = 1;
			break;
		}
		sbuf_addn(&outb, buf, (size_t)n);
	}
	close(p[0]);
	/* Its stdout is closed; it still has until the deadline to exit. */
	while (!timed_out && !outb.oom) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			exited = 1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (proc_now_ms() >= deadline) {
			timed_out = 1;
			break;
		}
		poll(NULL, 0, 20);
	}
	if (!exited) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (timed_out) {
		r = cut_err_set(err, CUT_ETIMEOUT, "%s did not finish within %ld s, so it was stopped; run it by "
		    "hand to see why.", what, (limit_ms + 999) / 1000);
		goto out;
	}
	if (outb.oom) {
		r = cut_err_set(err, CUT_EPROTO, "%s printed more than 64 KiB; check the program.", what);
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r = cut_err_set(err, CUT_EAUTH, "%s (%s) failed with %s %d; run it by hand to see why.",
		    what, argv[0], WIFEXITED(st) ? "exit status" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		goto out;
	}
	r = creds_parse_json(sbuf_str(&outb), what, out, err);
out:
	sbuf_free(&outb);
out_argv:
	for (i = 0; i < nargs; i++)
		free(argv[i]);
	free(argv);
	return r;
}
