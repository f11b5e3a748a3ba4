/* cli/cmd_verify.c: `cutover verify`, rows written to the live database after
 * the snapshot (safety/changes.h): nothing of them reached the new system. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safety/changes.h"
#include "cli/cmd.h"
#include "cli/safety_links.h"
#include "base/sfile.h"

extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_activity_entry;

const struct option safety_changes_longopts[] = {
	SAFETY_LONGOPTS,
	{ "since", required_argument, NULL, 's' },
	{ "csv", required_argument, NULL, 'o' },
	{ "markdown", required_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Shared by `verify` (live database, after the snapshot) and `activity`
 * (new database, since the cutover): only the tables and words differ. */
int
safety_changes_command(const struct cmd_entry *e, int argc, char **argv, int activity)
{
	struct safety_cli o = { 0 };
	const char *since = NULL, *csv = activity ? "activity.csv" : "lost-writes.csv", *md = NULL;
	struct safety_target t;
	struct chg_report rep;
	struct cut_err err = { 0 };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, SAFETY_CHANGES_SHORTOPTS, safety_changes_longopts, NULL)) != -1) {
		if (safety_cli_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 's': since = optarg; break;
		case 'o': csv = optarg; break;
		case 'm': md = optarg; break;
		case 'h': return cmd_print_usage(e);
		default: return cmd_usage_error(e, "unknown option");
		}
	}
	if (optind != argc)
		return cmd_usage_error(e, "unexpected argument '%s'", argv[optind]);
	if (since == NULL)
		return cmd_usage_error(e, activity ? "give --since TIME (when the new system went live)" :
		    "give --since TIME (the snapshot's creation time)");
	if ((r = safety_links_open(&o, activity ? SAFETY_NEW_DB : SAFETY_OLD_DB, &t, &err)) != 0) {
		fprintf(stderr, "cutover %s: %s\n", e->name, err.msg);
		return 1;
	}
	r = activity ? chg_activity(&t.links[0], &t.conf, since, &rep, &err) :
	    chg_lost_writes(&t.links[0], &t.conf, since, &rep, &err);
	safety_links_close(&t);
	if (r == 0) {
		chg_print(stdout, &rep);
		r = chg_write_csv(csv, &rep, &err);
		if (r == 0)
			printf("CSV: %s\n", csv);
	}
	if (r == 0 && md != NULL) {
		char *text = chg_markdown(&rep);
		r = text ? sfile_write(md, text, strlen(text), &err) :
		    cut_err_set(&err, CUT_ENOMEM, "Out of memory.");
		free(text);
		if (r == 0)
			printf("Markdown: %s\n", md);
	}
	size_t found = rep.n;
	chg_report_free(&rep);
	if (r != 0) {
		fprintf(stderr, "cutover %s: %s\n", e->name, err.msg);
		return 1;
	}
	/* Lost writes found is a finding the operator must act on. */
	return !activity && found > 0 ? 3 : 0;
}

static int
exec_verify(int argc, char **argv)
{
	return safety_changes_command(&cmd_verify_entry, argc, argv, 0);
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.summary = "list rows written to the live database after the snapshot (lost writes)",
	.usage =
	"usage: cutover verify -c FILE --since TIME [--csv PATH] [--markdown PATH]\n"
	"\n"
	"After DNS has moved: rows the live (old) database received after TIME, the\n"
	"snapshot's creation time (ISO 8601, e.g. 2026-11-25T10:00:00Z), in event entries and\n"
	"entry players, member, organisation and Stripe transactions, the Stripe log and\n"
	"pending payments, with ids and key fields. They never reached the new system.\n"
	"Printed as a table, written as CSV (default lost-writes.csv) and, with\n"
	"--markdown, as a section for the run's report. Zero rows is said in words.\n"
	"\n"
	SAFETY_USAGE_COMMON
	"\n"
	"Exit status: 0 nothing lost; 3 rows listed; 1 failed; 2 usage.\n",
	.exec = exec_verify,
	.longopts = safety_changes_longopts,
	.shortopts = SAFETY_CHANGES_SHORTOPTS,
};
