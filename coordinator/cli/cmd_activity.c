/* cli/cmd_activity.c: `cutover activity --since TIME`, entries and payments on
 * the new system since the cutover, for fail-back (safety/changes.h). */
#include "cli/cmd.h"
#include "cli/safety_links.h"

extern const struct cmd_entry cmd_activity_entry;

static int
exec_activity(int argc, char **argv)
{
	return safety_changes_command(&cmd_activity_entry, argc, argv, 1);
}

const struct cmd_entry cmd_activity_entry = {
	.name = "activity",
	.summary = "list entries and payments made on the new system since a time (fail-back)",
	.usage =
	"usage: cutover activity -c FILE --since TIME [--csv PATH] [--markdown PATH]\n"
	"\n"
	"Entries (event entries, entry players) and payments (member, organisation and Stripe\n"
	"transactions, pending payments) on the NEW system's database since TIME (ISO 8601,\n"
	"e.g. the cutover's DNS change), so they can be re-entered or refunded on the old\n"
	"system after a fail-back. Table on stdout, CSV (default activity.csv), Markdown with\n"
	"--markdown.\n"
	"\n"
	SAFETY_USAGE_COMMON
	"\n"
	"Exit status: 0 done (zero rows said in words); 1 failed; 2 usage.\n",
	.exec = exec_activity,
	.longopts = safety_changes_longopts,
	.shortopts = SAFETY_CHANGES_SHORTOPTS,
};
