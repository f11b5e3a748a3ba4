/* base/err.c: see base/err.h. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
cut_err_set(struct cut_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
cut_err_wrap(struct cut_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return CUT_EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is wanted: the message has a fixed size. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3, olen = strlen(old);
	if (olen > room)
		olen = room;
	memcpy(err->msg + n + 2, old, olen);
	err->msg[n + 2 + olen] = '\0';
	return err->code;
}

void
cut_err_clear(struct cut_err *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *
cut_err_name(int code)
{
	switch (code) {
	case CUT_OK: return "ok";
	case CUT_EINVAL: return "invalid";
	case CUT_ENOMEM: return "no-memory";
	case CUT_EIO: return "io";
	case CUT_ENET: return "network";
	case CUT_EAUTH: return "auth";
	case CUT_EHOSTKEY: return "host-key";
	case CUT_EPROTO: return "protocol";
	case CUT_ETIMEOUT: return "timeout";
	case CUT_EAWS: return "aws";
	case CUT_ECONFIG: return "config";
	case CUT_ECANCEL: return "cancelled";
	case CUT_ENOTFOUND: return "not-found";
	case CUT_ESTATE: return "state";
	case CUT_EREMOTE: return "remote";
	}
	return "error";
}
