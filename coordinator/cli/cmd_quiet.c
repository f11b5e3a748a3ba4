/* cli/cmd_quiet.c: `cutover quiet`, wait until the live site has had no real
 * requests for the quiet period (safety/quiet.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sig.h"
#include "cli/cmd.h"
#include "safety/quiet.h"
#include "cli/safety_links.h"

extern const struct cmd_entry cmd_quiet_entry;

#define MAX_LIST 8


static void
progress(void *arg, const struct quiet_status *st)
{
	(void)arg;
	printf("%6.1fs", (double)st->elapsed_ms / 1000.0);
	for (size_t i = 0; i < st->n; i++)
		printf("  %s: %.1f req/min (last %llu, %llu health checks left out)", st->hosts[i].name,
		    st->hosts[i].per_minute, (unsigned long long)st->hosts[i].requests_last,
		    (unsigned long long)st->hosts[i].excluded);
	printf("  quiet %llus\n", (unsigned long long)(st->quiet_ms / 1000));
	fflush(stdout);
}

static enum quiet_answer
ask(void *arg, const struct quiet_status *st)
{
	char line[32];

	(void)arg;
	if (!isatty(STDIN_FILENO))
		return QUIET_STOP;
	printf("The live site is still not quiet (quiet for %llus). Wait longer [w], go on anyway [g], "
	    "or stop [s]? ", (unsigned long long)(st->quiet_ms / 1000));
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return QUIET_STOP;
	return line[0] == 'w' ? QUIET_WAIT : line[0] == 'g' ? QUIET_GO : QUIET_STOP;
}

static int
seconds(const char *s, uint64_t *ms)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v <= 0 || v > 86400)
		return -1;
	*ms = (uint64_t)(v * 1000.0);
	return 0;
}

#define QUIET_SHORTOPTS "c:yh"
static const struct option quiet_longopts[] = {
	SAFETY_LONGOPTS,
	{ "quiet-period", required_argument, NULL, 'q' },
	{ "deadline", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "log", required_argument, NULL, 'l' },
	{ "ignore-agent", required_argument, NULL, 'a' },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_quiet(int argc, char **argv)
{
	struct safety_cli o = { 0 };
	struct quiet_opts q = { .progress = progress, .ask = ask, .cancel = sig_flag() };
	const char *logs[MAX_LIST + 1] = { 0 }, *agents[MAX_LIST + 1] = { 0 };
	int nlogs = 0, nagents = 0, c, r;
	struct safety_target t;
	struct cut_err err = { 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, QUIET_SHORTOPTS, quiet_longopts, NULL)) != -1) {
		if (safety_cli_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'q': if (seconds(optarg, &q.quiet_ms)) goto bad_time; break;
		case 'd': if (seconds(optarg, &q.deadline_ms)) goto bad_time; break;
		case 'i': if (seconds(optarg, &q.log.interval_ms)) goto bad_time; break;
		case 'l':
			if (nlogs == MAX_LIST)
				return cmd_usage_error(&cmd_quiet_entry, "at most %d --log", MAX_LIST);
			logs[nlogs++] = optarg;
			break;
		case 'a':
			if (nagents == MAX_LIST)
				return cmd_usage_error(&cmd_quiet_entry, "at most %d --ignore-agent", MAX_LIST);
			agents[nagents++] = optarg;
			break;
		case 'y': q.yes = 1; break;
		case 'h': return cmd_print_usage(&cmd_quiet_entry);
		default: return cmd_usage_error(&cmd_quiet_entry, "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_quiet_entry, "unexpected argument '%s'", argv[optind]);
	q.log.paths = nlogs ? logs : NULL;
	q.log.exclude_ua = nagents ? agents : NULL;
	if ((r = safety_links_open(&o, SAFETY_LIVE, &t, &err)) != 0) {
		fprintf(stderr, "cutover quiet: %s\n", err.msg);
		return 1;
	}
	if (nlogs == 0 && t.access_log != NULL) {
		logs[0] = t.access_log;
		q.log.paths = logs;
	}
	r = quiet_wait(t.links, t.n, &q, &err);
	safety_links_close(&t);
	if (r != 0) {
		fprintf(stderr, "cutover quiet: %s\n", err.msg);
		return 1;
	}
	printf("The live site is quiet: no real requests on %zu instance%s for the quiet period.\n",
	    t.n ? t.n : (size_t)1, t.n == 1 ? "" : "s");
	return 0;
bad_time:
	return cmd_usage_error(&cmd_quiet_entry, "'%s' is not a number of seconds", optarg);
}

const struct cmd_entry cmd_quiet_entry = {
	.name = "quiet",
	.summary = "wait until the live site has had no real requests for the quiet period",
	.usage =
	"usage: cutover quiet -c FILE [--quiet-period S] [--deadline S] [--interval S]\n"
	"                     [--log PATH]... [--ignore-agent UA]... [--yes]\n"
	"\n"
	"Follows the nginx access logs on every live instance and shows the real request\n"
	"rate per instance (ELB-HealthChecker and each --ignore-agent substring left out).\n"
	"Ends when no instance has had a request for --quiet-period seconds (default 60).\n"
	"After --deadline seconds (default 900) it asks whether to wait longer, go on or\n"
	"stop; with --yes (or without a terminal) it stops and says why.\n"
	"--log: access log on the instances (default: the config's [app] access_log,\n"
	"       /var/log/nginx/access.log; repeatable).\n"
	"--interval: seconds per count (default 5).\n"
	"\n"
	SAFETY_USAGE_COMMON
	"\n"
	"Exit status: 0 quiet; 1 not quiet by the deadline, stopped, or failed; 2 usage.\n",
	.exec = exec_quiet,
	.longopts = quiet_longopts,
	.shortopts = QUIET_SHORTOPTS,
};
