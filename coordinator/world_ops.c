/* world_ops.c: the part of world_ops.h that does not depend on AWS or SSH. */
#include "world_ops.h"

#include <stddef.h>

void
world_ops_close(struct world_ops *w)
{
	if (w != NULL && w->close != NULL)
		w->close(w);
}

#ifdef CUTOVER_FUZZ
/* Fuzz builds compile every core source but never run a command; until the
 * real factory exists they need this symbol to link. */
int
world_ops_open(const char *config_path, struct run_names *names, struct world_ops **out,
    struct cut_err *err)
{
	(void)config_path;
	(void)names;
	*out = NULL;
	return cut_err_set(err, CUT_ECONFIG, "This fuzz build has no AWS or SSH world.");
}
#endif
