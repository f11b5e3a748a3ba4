/* cli/cmd_report.c: `cutover report`: regenerate the report from the journal. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cmd.h"
#include "cli/cmdrun.h"
#include "runbook/progress.h"
#include "runbook/report.h"

extern const struct cmd_entry cmd_report_entry;

#define REPORT_SHORTOPTS "s:"
static const struct option report_longopts[] = {
	{ "state", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
cmd_report_exec(int argc, char **argv)
{
	const char *state = CMDRUN_DEFAULT_STATE;
	char md[4096], html[4096];
	struct cut_err err;
	struct progress *out;
	int c, json = 0, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, REPORT_SHORTOPTS, report_longopts, NULL)) != -1) {
		if (c == 's')
			state = optarg;
		else if (c == 'j')
			json = 1;
		else if (c == 'h')
			return cmd_print_usage(&cmd_report_entry);
		else
			return cmd_usage_error(&cmd_report_entry, "unknown option '%s'",
			    argv[optind - 1]);
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_report_entry, "unexpected argument '%s'", argv[optind]);
	r = report_write_files(state, md, html, sizeof(md), &err);
	if (!json) {
		if (r != 0) {
			fprintf(stderr, "cutover report: %s\n", err.msg);
			return 1;
		}
		printf("%s\n%s\n", md, html);
		return 0;
	}
	/* --json: the same events as the runbook commands (doc/json-events.md). */
	if ((out = progress_new(stdout, PROGRESS_JSON)) == NULL) {
		fprintf(stderr, "cutover report: out of memory.\n");
		return 1;
	}
	if (r != 0)
		cmdrun_error_event(out, &err);
	else
		cmdrun_report_event(out, md, html);
	progress_free(out);
	return r != 0;
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.summary = "write the cutover report (Markdown and HTML) from the journal",
	.usage = "usage: cutover report [--state DIR] [--json]\n"
	    "\n"
	    "Writes DIR/report.md and DIR/report.html (timeline, downtime window split into AWS\n"
	    "waiting and the tool's own work, recorded values) from DIR/journal.jsonl alone, and\n"
	    "prints their paths. Needs no configuration or AWS access. DIR defaults to\n"
	    "./" CMDRUN_DEFAULT_STATE ". --json prints them as one JSON \"report\" event.\n",
	.exec = cmd_report_exec,
	.longopts = report_longopts,
	.shortopts = REPORT_SHORTOPTS,
};
