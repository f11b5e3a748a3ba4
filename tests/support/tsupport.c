/* tsupport.c: see tsupport.h. */
#include "tsupport.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *
ts_top(void)
{
	const char *t = getenv("CUTOVER_TOP");
	return t && *t ? t : ".";
}

char *
ts_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int
ts_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r = 0;

	if (f == NULL)
		return -1;
	if (fwrite(data, 1, len, f) != len)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

int
ts_run(char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	if (out_path)
		posix_spawn_file_actions_addopen(&fa, 1, out_path,
		    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *
ts_tmpdir(void)
{
	char t[] = "/tmp/cutover-ut.XXXXXX";

	if (mkdtemp(t) == NULL)
		return NULL;
	return strdup(t);
}

void
ts_rmtree(const char *dir)
{
	char *argv[] = { "/bin/rm", "-rf", (char *)dir, NULL };

	if (dir && strncmp(dir, "/tmp/", 5) == 0)
		ts_run(argv, NULL);
}

#include <signal.h>

pid_t
ts_spawn_line(char *const argv[], char *line, size_t n)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int p[2];
	size_t got = 0;

	if (pipe(p) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (got + 1 < n) {
		char c;
		if (read(p[0], &c, 1) != 1 || c == '\n')
			break;
		line[got++] = c;
	}
	line[got] = '\0';
	close(p[0]);
	return pid;
}

void
ts_stop(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
	}
}

const char *
ts_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL) {
		fprintf(stderr, "%s is not set: run through tests/run (which starts the test servers)\n", name);
		exit(1);
	}
	return v;
}

int
ts_sshd_port(int i)
{
	char ports[1024], *save = NULL, *p;
	int n = 0;

	snprintf(ports, sizeof(ports), "%s", ts_env("SSHD_PORTS"));
	for (p = strtok_r(ports, " ", &save); p != NULL; p = strtok_r(NULL, " ", &save), n++)
		if (n == i)
			return atoi(p);
	return 0;
}
