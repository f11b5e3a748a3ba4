/* proc.c: starting a request's child and ending it.
 *
 * Each child runs in its own session (setsid), so its pid is also its
 * process group and cancel/timeout reach everything it started. Its stdout
 * and stderr are separate pipes; stdin is a pipe or /dev/null. The child
 * reports a failed chdir/exec through a close-on-exec pipe, so the reply can
 * say "no such program: foo" instead of a bare status 127.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

/* Not every libc's headers have these (musl has no linux/ headers); the
 * values are the kernel's, the same on every architecture. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#include <sys/wait.h>

struct req *
agent_find(struct agent *a, uint64_t id)
{
	for (int i = 0; i < a->nreqs; i++)
		if (a->reqs[i]->id == id)
			return a->reqs[i];
	return NULL;
}

/* What the child tells the parent when it cannot exec. */
struct start_fail {
	int stage;  /* 1 chdir, 2 exec, 3 setup */
	int err;
};

static void
child_fail(int fd, int stage, int err)
{
	struct start_fail f = { stage, err };

	(void)!write(fd, &f, sizeof(f));
	_exit(127);
}

/* Runs in the child: never returns. */
static void
child_exec(const struct spawn_spec *spec, int in_fd, int out_fd, int err_fd, int report_fd)
{
	extern char **environ;
	sigset_t none;

	sigemptyset(&none);
	/* The agent blocks SIGCHLD (signalfd) and ignores SIGPIPE; both would be
	 * inherited across exec and surprise the program. */
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(report_fd, 3, errno);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		child_fail(report_fd, 3, errno);
	/* Descriptors the agent itself inherited (from sshd or sudo) without
	 * close-on-exec stay out of the program; failure (old kernel) is harmless. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (spec->cwd != NULL && chdir(spec->cwd) < 0)
		child_fail(report_fd, 1, errno);
	/* execvp searches the PATH of the environment being set up, like env(1). */
	environ = spec->envp;
	execvp(spec->argv[0], spec->argv);
	child_fail(report_fd, 2, errno);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
send_fail(struct agent *a, uint64_t id, const struct spawn_spec *spec, const struct start_fail *f)
{
	if (f->stage == 1)
		agent_send_start_error(a, id, "cannot change directory to %s: %s", spec->cwd, strerror(f->err));
	else if (f->stage == 2 && f->err == ENOENT)
		agent_send_start_error(a, id, "no such program: %s", spec->argv[0]);
	else if (f->stage == 2 && f->err == EACCES)
		agent_send_start_error(a, id, "permission denied: %s", spec->argv[0]);
	else if (f->stage == 2)
		agent_send_start_error(a, id, "cannot run %s: %s", spec->argv[0], strerror(f->err));
	else
		agent_send_start_error(a, id, "cannot set up the process for %s: %s", spec->argv[0],
		    strerror(f->err));
}

int
req_spawn(struct agent *a, uint64_t id, const struct spawn_spec *spec)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, rep[2] = { -1, -1 };
	struct start_fail fail;
	struct req *r;
	ssize_t n;
	pid_t pid;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return FRAME_ENOMEM;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
		goto sys_fail;
	if (spec->want_stdin) {
		if (pipe2(in, O_CLOEXEC) < 0)
			goto sys_fail;
	} else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		goto sys_fail;
	}
	r->start_ms = agent_now_ms();
	if ((pid = fork()) < 0)
		goto sys_fail;
	if (pid == 0)
		child_exec(spec, in[0], out[1], err[1], rep[1]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&in[0]);
	close_fd(&rep[1]);
	/* EOF means exec succeeded (the pipe closed on exec). */
	do
		n = read(rep[0], &fail, sizeof(fail));
	while (n < 0 && errno == EINTR);
	close_fd(&rep[0]);
	if (n == (ssize_t)sizeof(fail)) {
		/* The child exits 127 at once; reaping it is the SIGCHLD path's job
		 * for a known pid, so wait here instead to leave no zombie. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close_fd(&out[0]);
		close_fd(&err[0]);
		close_fd(&in[1]);
		free(r);
		send_fail(a, id, spec, &fail);
		return FRAME_OK;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	/* A larger pipe lets the child run ahead while the coordinator drains,
	 * and the next out frame then takes it all at once (fewer, larger
	 * frames). Best effort: the user's pipe quota may refuse it. */
	(void)fcntl(out[0], F_SETPIPE_SZ, (int)AGENT_CHILD_PIPE);
	(void)fcntl(err[0], F_SETPIPE_SZ, (int)AGENT_CHILD_PIPE);
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	r->id = id;
	r->pid = pid;
	r->out_fd[0] = out[0];
	r->out_fd[1] = err[0];
	r->in_fd = in[1];
	/* Clamped so a huge timeout_ms cannot overflow into "already late". */
	r->deadline_ms = spec->timeout_ms ?
	    r->start_ms + (int64_t)(spec->timeout_ms > AGENT_TIMEOUT_MAX_MS ? AGENT_TIMEOUT_MAX_MS : spec->timeout_ms) : 0;
	a->reqs[a->nreqs++] = r;
	return FRAME_OK;

sys_fail:
	n = errno;
	close_fd(&out[0]); close_fd(&out[1]);
	close_fd(&err[0]); close_fd(&err[1]);
	close_fd(&in[0]); close_fd(&in[1]);
	close_fd(&rep[0]); close_fd(&rep[1]);
	free(r);
	agent_send_start_error(a, id, "cannot start a process for %s: %s", spec->argv[0], strerror((int)n));
	return FRAME_OK;
}

void
req_terminate(struct agent *a, struct req *r)
{
	(void)a;
	if (r->signalled)
		return;
	r->signalled = 1;
	kill(-r->pid, SIGTERM);
	r->kill_at_ms = agent_now_ms() + AGENT_KILL_GRACE_MS;
}
