/* world/ops.c: the part of world/ops.h that does not depend on AWS or SSH. */
#include "world/ops.h"

#include <stddef.h>

void
world_ops_close(struct world_ops *w)
{
	if (w != NULL && w->close != NULL)
		w->close(w);
}
