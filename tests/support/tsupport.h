/* tsupport.h: small helpers shared by the test programs. */
#ifndef CUTOVER_TSUPPORT_H
#define CUTOVER_TSUPPORT_H

#include <stddef.h>

/* The project's top directory ($CUTOVER_TOP, else "."). */
const char *ts_top(void);
/* Reads a whole file; returns a malloc'd NUL-terminated buffer the caller
 * frees, NULL if it cannot be read. *len (if not NULL) gets its size. */
char *ts_read_file(const char *path, size_t *len);
/* Writes len bytes to path; returns 0 or -1. */
int ts_write_file(const char *path, const void *data, size_t len);
/* Runs argv (no shell) with stdout to out_path (NULL = inherit); returns the
 * exit status or -1. */
int ts_run(char *const argv[], const char *out_path);
/* Makes a fresh private temp directory; returns a malloc'd path. */
char *ts_tmpdir(void);
/* Removes a directory tree made by ts_tmpdir. */
void ts_rmtree(const char *dir);
/* The value of a variable the test servers export (tests/run); when it
 * is missing, says so and exits 1 (the test was not run through tests/run). */
const char *ts_env(const char *name);
/* The port of sshd test host i (SSHD_PORTS of services/sshd-hosts), 0 if none. */
int ts_sshd_port(int i);



#include <sys/types.h>
/* Starts argv (no shell) and reads the first line it prints on stdout
 * (e.g. the port it listens on) into line[n]. Returns the pid or -1. */
pid_t ts_spawn_line(char *const argv[], char *line, size_t n);
/* SIGTERM then wait for a process started by ts_spawn_line. */
void ts_stop(pid_t pid);
#endif
