/* cli/cmd_blocked_emails.c: `cutover blocked-emails backup|restore|verify` (safety/blocked_emails.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "safety/blocked_emails.h"
#include "cli/cmd.h"
#include "safety/precond.h"
#include "base/sfile.h"
#include "cli/safety_links.h"

extern const struct cmd_entry cmd_blocked_emails_entry;

static void
print_rows(const char *title, const struct blocked_set *s)
{
	if (s->n == 0)
		return;
	char email[1100];

	printf("%s (%zu):\n  %-12s  %s\n", title, s->n, "SYSTEM NO.", "EMAIL");
	for (size_t i = 0; i < s->n; i++) {
		/* Database text: no control characters reach the terminal raw. */
		sfile_term_clean(email, sizeof(email), s->rows[i].email);
		if (s->rows[i].has_number)
			printf("  %-12lld  %s\n", s->rows[i].system_number, email);
		else
			printf("  %-12s  %s\n", "(none)", email);
	}
}

#define BLOCKED_SHORTOPTS "c:f:h"
static const struct option blocked_longopts[] = {
	SAFETY_LONGOPTS,
	{ "file", required_argument, NULL, 'f' },
	{ "replace", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
exec_blocked(int argc, char **argv)
{
	struct safety_cli o = { 0 };
	struct safety_target t;
	struct cut_err err = { 0 };
	const char *file = "blocked-emails.json", *action;
	int c, replace = 0, r, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, BLOCKED_SHORTOPTS, blocked_longopts, NULL)) != -1) {
		if (safety_cli_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'f': file = optarg; break;
		case 'r': replace = 1; break;
		case 'h': return cmd_print_usage(&cmd_blocked_emails_entry);
		default: return cmd_usage_error(&cmd_blocked_emails_entry, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_blocked_emails_entry, "give one of backup, restore, verify");
	action = argv[optind];
	int backup = strcmp(action, "backup") == 0;
	if (!backup && strcmp(action, "restore") != 0 && strcmp(action, "verify") != 0)
		return cmd_usage_error(&cmd_blocked_emails_entry, "'%s' is not backup, restore or verify", action);

	if ((r = safety_links_open(&o, backup ? SAFETY_OLD_DB : SAFETY_NEW_DB, &t, &err)) != 0) {
		fprintf(stderr, "cutover blocked-emails: %s\n", err.msg);
		return 1;
	}
	/* One instance is enough: they all share the environment's database. */
	struct alink *l = &t.links[0];
	if (backup) {
		struct blocked_backup_info info;
		if ((r = blocked_backup(l, &t.conf, file, &info, &err)) == 0)
			printf("Backed up %zu blocked emails from %s (foreign key to %s) to %s\nSHA-256 %s\n",
			    info.count, l->name, info.fk_target, file, info.sha256);
	} else {
		struct blocked_set s;
		if ((r = blocked_load(file, &s, &err)) == 0) {
			if (strcmp(action, "restore") == 0) {
				struct blocked_restore_result res;
				/* Every instance: each runs the app with its own env file. */
				for (size_t i = 0; r == 0 && t.old_db.host[0] && i < t.n; i++) {
					struct aop_dbenv target;
					r = precond_target_db(&t.links[i], &t.conf, &t.old_db, &target, &err);
				}
				if (r == 0 && (r = blocked_restore(l, &t.conf, &s, replace, &res, &err)) == 0) {
					printf("Restored blocked emails on %s: %zu added, %zu already there, %zu removed, "
					    "%zu could not be mapped.\n", l->name, res.inserted, res.present, res.removed,
					    res.unmapped.n);
					print_rows("Not restored: no accounts_user has their system number", &res.unmapped);
					if (res.unmapped.n)
						status = 4;
					blocked_restore_result_free(&res);
				}
			} else {
				struct blocked_diff d;
				r = blocked_verify(l, &t.conf, &s, &d, &err);
				if (r == 0 && d.unmappable.n == 0)
					printf("The %zu blocked emails on %s match the backup.\n", s.n, l->name);
				else if (r == 0)
					printf("The blocked emails on %s match the backup except for %zu person(s) "
					    "who cannot be restored (warnings below).\n", l->name, d.unmappable.n);
				print_rows("In the backup, missing on the system", &d.missing);
				print_rows("On the system, not in the backup", &d.extra);
				print_rows("Warning: in the backup, missing on the system, and no one there has "
				    "their system number, so they cannot be restored", &d.unmappable);
				if (d.unmappable.n)
					printf("What to do: create each of these people as a user on the new system "
					    "(or enter the block by hand), then run `cutover blocked-emails restore` "
					    "and verify again.\n");
				blocked_diff_free(&d);
			}
			blocked_set_free(&s);
		}
	}
	safety_links_close(&t);
	if (r != 0) {
		fprintf(stderr, "cutover blocked-emails: %s\n", err.msg);
		return 1;
	}
	return status;
}

const struct cmd_entry cmd_blocked_emails_entry = {
	.name = "blocked-emails",
	.summary = "back up, restore or verify notifications_unregisteredblockedemail across the FK change",
	.usage =
	"usage: cutover blocked-emails backup|restore|verify -c FILE [--file PATH] [--replace]\n"
	"\n"
	"backup   (live system) every blocked email as (email, system number), following the\n"
	"         foreign key to whichever table it references there; written to PATH (default\n"
	"         blocked-emails.json, mode 0600, fsync'd) with PATH.sha256.\n"
	"restore  (new system, after migrate and temp_copy_unreg_to_user) maps system numbers to\n"
	"         accounts_user ids and inserts the missing rows in one transaction; a second\n"
	"         run adds nothing. --replace also deletes rows the backup does not hold (the\n"
	"         copied raw ids name the wrong people after migration 0055). Rows whose\n"
	"         person has no accounts_user are listed (email, system number).\n"
	"verify   (new system) lists the differences between the system and the backup. Rows\n"
	"         missing on the system whose system number no one there has (no row in the\n"
	"         table the foreign key references, accounts_user after 0055) cannot be\n"
	"         restored: they are printed as warnings, with what to do, and do not fail.\n"
	"\n"
	"Without --env: backup reads the environment on the old database, restore and\n"
	"verify the one on the new system ([database] new), whichever DNS points at.\n"
	"restore refuses, changing nothing, when an instance's database (RDS_HOSTNAME) is the\n"
	"one the pair's other environment uses.\n"
	"\n"
	SAFETY_USAGE_COMMON
	"\n"
	"Exit status: 0 done (verify: the same, or only unrestorable people differ, listed\n"
	"as warnings); 1 failed, or verify found any other difference (an extra row, a\n"
	"missing row that could be restored; one sentence on stderr); 2 usage; 4 restore\n"
	"done but some rows could not be mapped (listed).\n",
	.exec = exec_blocked,
	.longopts = blocked_longopts,
	.shortopts = BLOCKED_SHORTOPTS,
	.words = "backup restore verify",
};
