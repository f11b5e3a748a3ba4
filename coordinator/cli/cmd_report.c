/* cli/cmd_report.c: `cutover report`: regenerate the report from the journal. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "cli/cmdrun.h"
#include "runbook/progress.h"
#include "runbook/report.h"
#include "runbook/verdict.h"

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
	char md[4096], html[4096], jpath[PATH_MAX];
	struct report_summary s;
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
		/* The verdict first, as the report gives it, then where the report is. */
		snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", state);
		if (report_compute(jpath, &s, &err) == 0) {
			struct verdict *v = malloc(sizeof(*v));
			if (v != NULL) {
				verdict_build(&s, v);
				verdict_write_text(v, stdout);
				free(v);
			}
			report_summary_free(&s);
		}
		printf("Report: %s\n        %s\n", md, html);
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
	    "Writes DIR/report.md and DIR/report.html (the verdict, timeline, downtime window\n"
	    "split into AWS waiting and the tool's own work, data-safety results, recorded\n"
	    "values) from DIR/journal.jsonl alone, prints the verdict (succeeded, stopped at a\n"
	    "step and why, or failed back; where the site points; the window; the data-safety\n"
	    "results; the command to run next) and the reports' paths. Needs no configuration\n"
	    "or AWS access. DIR defaults to ./" CMDRUN_DEFAULT_STATE ". --json prints the paths as\n"
	    "one JSON \"report\" event.\n",
	.exec = cmd_report_exec,
	.longopts = report_longopts,
	.shortopts = REPORT_SHORTOPTS,
};
