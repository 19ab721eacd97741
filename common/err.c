#include "hk_common.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const hk_err_names[HK_ERR__COUNT] = {
    [HK_OK] = "ok",
    [HK_ERR_NOMEM] = "out of memory",
    [HK_ERR_INVALID] = "invalid input",
    [HK_ERR_RANGE] = "out of range",
    [HK_ERR_NOT_FOUND] = "not found",
    [HK_ERR_EXISTS] = "already exists",
    [HK_ERR_FULL] = "exhausted",
    [HK_ERR_TOO_LARGE] = "too large",
    [HK_ERR_IO] = "I/O error",
    [HK_ERR_PARSE] = "parse error",
    [HK_ERR_AUTH] = "authentication failed",
    [HK_ERR_DENIED] = "access denied",
    [HK_ERR_THROTTLED] = "throttled",
    [HK_ERR_TRANSIENT] = "transient failure",
    [HK_ERR_AWS] = "AWS error",
    [HK_ERR_TIMEOUT] = "timed out",
    [HK_ERR_CANCELLED] = "cancelled",
    [HK_ERR_STATE] = "invalid state",
    [HK_ERR_NO_CREDENTIALS] = "no credentials",
    [HK_ERR_INTERNAL] = "internal error",
};

const char *hk_err_str(hk_err err)
{
	if ((unsigned)err >= HK_ERR__COUNT || !hk_err_names[err])
		return "unknown error";
	return hk_err_names[err];
}

hk_err hk_errinfo_set(hk_errinfo *ei, hk_err code, size_t offset, const char *fmt, ...)
{
	if (!ei)
		return code;
	ei->code = code;
	ei->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(ei->text, sizeof(ei->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		ei->text[0] = '\0';
	return code;
}
