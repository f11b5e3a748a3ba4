/* runbook/names.c: see runbook/names.h. */
#include "runbook/names.h"

#include <stdio.h>

void
names_derive(struct run_names *n, time_t now)
{
	char day[16];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	if (n->snapshot[0] == '\0')
		snprintf(n->snapshot, sizeof(n->snapshot), "%.64s-cutover-%.8s", n->live_db, day);
	if (n->final_snapshot[0] == '\0')
		snprintf(n->final_snapshot, sizeof(n->final_snapshot), "%.64s-final-%.8s", n->live_db, day);
	/* rehearse-snapshot takes it: production's data as it is today */
	if (n->test_snapshot[0] == '\0')
		snprintf(n->test_snapshot, sizeof(n->test_snapshot), "%.64s-rehearse-%.8s", n->live_db, day);
}
