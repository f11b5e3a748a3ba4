/* op_safety.c: the data-safety workers (see opsutil.h); the dispatcher
 * looks request types up here with opw_find(). */
#include "opsutil.h"

/* The table the dispatcher consults; one line per operation. */
const struct op_worker op_safety_workers[] = {
	{ "sql", op_sql },
	{ "dbenv", op_dbenv },
	{ "logcount", op_logcount },
	{ "cron", op_cron },
	{ "http", op_http },
	{ "reach", op_reach },
	{ "df", op_df },
	{ NULL, NULL },
};
