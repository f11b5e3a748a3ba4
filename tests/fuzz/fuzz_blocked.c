/* libFuzzer target: the blocked-email backup reader (blocked_load). The
 * input is written as the backup with a matching .sha256 beside it, so the
 * JSON itself is what gets read: a null, a wrong type or a bad count must
 * be refused with a sentence, never crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safety/blocked_emails.h"
#include "base/sfile.h"

static char dir[64], path[128], side[160];

/* A plain write: sfile_write syncs, which would slow the fuzzer to a crawl. */
static int
put(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "w");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blocked_set s;
	struct cut_err err;
	char hex[65], line[80];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_blocked.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/blocked.json", dir);
		snprintf(side, sizeof(side), "%s.sha256", path);
	}
	sfile_sha256_hex(data, size, hex);
	snprintf(line, sizeof(line), "%s  blocked.json\n", hex);
	if (put(path, data, size) != 0 || put(side, line, strlen(line)) != 0)
		abort();
	if (blocked_load(path, &s, &err) == 0) {
		for (size_t i = 0; i < s.n; i++)
			if (s.rows[i].email == NULL)
				abort();
		blocked_set_free(&s);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	return 0;
}
