/* runbook/names.h: what a cutover calls the things it makes. The world
 * (world/ops.h) reports what exists and what the configuration names; the
 * names a cutover makes up itself are policy, decided here once:
 *
 *   snapshot        "<live db>-cutover-<UTC day>"   unless [database] snapshot
 *   final_snapshot  "<live db>-final-<UTC day>"     taken when tidy deletes it
 *   test_snapshot   "<live db>-rehearse-<UTC day>"  unless [rehearse] snapshot
 *
 * The day makes a rerun on the same day find the same snapshot; the names
 * are pinned in the journal at the first run, so a resume the next day
 * keeps them.
 */
#ifndef CUTOVER_NAMES_H
#define CUTOVER_NAMES_H

#include <time.h>

#include "world/ops.h"

/* Fills the names above that are "" in n, for the UTC day of now. */
void names_derive(struct run_names *n, time_t now);

#endif
