/* cli/cmd.c: helpers shared by the cmd_*.c files. */
#include "cli/cmd.h"

#include <stdarg.h>
#include <stdio.h>

int
cmd_print_usage(const struct cmd_entry *e)
{
	fputs(e->usage, stdout);
	return 0;
}

int
cmd_usage_error(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cutover %s: ", e->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; run 'cutover %s --help' for usage.\n", e->name);
	return 2;
}
