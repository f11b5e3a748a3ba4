/* ops.c: the request types this agent handles, in the order hello lists
 * them. A new operation is a new op_<family>.c file and a line here. */
#include "agent.h"

const struct op *const agent_ops[] = {
	&op_hello,
	&op_run,
	&op_manage,
	&op_stdin,
	&op_cancel,
	&op_bye,
	&op_sql,
	&op_dbenv,
	&op_logcount,
	&op_cron,
	&op_http,
	&op_reach,
	&op_df,
	&op_once,
	NULL,
};
