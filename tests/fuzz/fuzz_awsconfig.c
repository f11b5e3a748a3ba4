/* libFuzzer target: the AWS shared credentials/config parser and the
 * credential JSON parser. The input is split at the first NUL byte: before
 * it the credentials file, after it the config file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *second;
	struct creds_opts o = { 0 };
	struct creds_config *c = NULL;
	struct creds cr;
	struct cut_err err;
	time_t t;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	second = memchr(buf, '\0', size);
	second = second ? second + 1 : buf + size;
	if (creds_config_load_text(&o, buf, second, &c, &err) == 0) {
		creds_endpoint(c, "ROUTE_53", "route_53");
		creds_endpoint(c, "RDS", "rds");
		creds_config_free(c);
	}
	/* A named profile: role chains (source_profile) and [sso-session]
	 * lookups start from it. */
	o.profile = "a";
	if (creds_config_load_text(&o, buf, second, &c, &err) == 0)
		creds_config_free(c);
	if (creds_parse_json(buf, "fuzz", &cr, &err) == 0)
		creds_free(&cr);
	creds_parse_time(buf, &t);
	free(buf);
	return 0;
}
