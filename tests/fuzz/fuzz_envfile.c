/* libFuzzer target for the agent's EB env file parser (agent/env.c, compiled
 * in: the agent is not part of libcutover.a). Every entry it produces must
 * be KEY=value with a non-empty key free of '=', spaces and tabs, no longer
 * than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/env.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env_list e;

	if (env_init(&e, NULL) != 0)
		return 0;
	if (env_load_ebfile(&e, (const char *)data, size) == 0) {
		for (size_t i = 0; i < e.n; i++) {
			const char *eq = strchr(e.v[i], '=');

			if (eq == NULL || eq == e.v[i] || strlen(e.v[i]) > size ||
			    strcspn(e.v[i], " \t") < (size_t)(eq - e.v[i]))
				abort();
		}
		if (e.v[e.n] != NULL)
			abort();
	}
	env_free(&e);
	return 0;
}
