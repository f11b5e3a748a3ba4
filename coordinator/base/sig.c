/* base/sig.c: see base/sig.h. */
#include "base/sig.h"

#include <string.h>
#include <unistd.h>

/* A handler can only talk to the program through static storage of this type. */
static volatile sig_atomic_t sig_stop;

static void
on_stop(int sig)
{
	static const char msg[] = "\ncutover: second interrupt, stopping at once; run the same command "
	    "again to resume and to close what this one left open.\n";

	(void)sig;
	if (sig_stop) {
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(130);
	}
	sig_stop = 1;
}

void
sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking read (a confirmation, a poll's sleep)
	 * returns EINTR and its loop sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int sig_stopped(void) { return sig_stop != 0; }
volatile sig_atomic_t *sig_flag(void) { return &sig_stop; }
void sig_set(int on) { sig_stop = on ? 1 : 0; }
