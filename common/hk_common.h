/* multus-hookd common definitions: the project-wide error enum and the
 * parser error record. Depends on nothing; every module includes it.
 * Network-fed buffer caps live in hk_caps.h. */
#ifndef HK_COMMON_H
#define HK_COMMON_H

#include <stddef.h>

#if defined(__GNUC__)
#define HK_MUST_CHECK	__attribute__((warn_unused_result))
#define HK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HK_MUST_CHECK
#define HK_PRINTF(a, b)
#endif

#define HK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The one error enum of the project. Keep hk_err_str() in sync (common/err.c). */
typedef enum hk_err {
	HK_OK = 0,
	HK_ERR_NOMEM,	       /* allocation failed */
	HK_ERR_INVALID,	       /* malformed input or bad argument */
	HK_ERR_RANGE,	       /* value out of the allowed range */
	HK_ERR_NOT_FOUND,      /* the thing asked for does not exist */
	HK_ERR_EXISTS,	       /* already present / duplicate */
	HK_ERR_FULL,	       /* no free address, pool or queue exhausted */
	HK_ERR_TOO_LARGE,      /* a named cap (hk_caps.h) was exceeded */
	HK_ERR_IO,	       /* local file or socket error */
	HK_ERR_PARSE,	       /* could not parse a document (JSON, XML, INI) */
	HK_ERR_AUTH,	       /* AWS rejected the credentials or signature */
	HK_ERR_DENIED,	       /* AWS AccessDenied / UnauthorizedOperation */
	HK_ERR_THROTTLED,      /* AWS throttling (retryable after backoff) */
	HK_ERR_TRANSIENT,      /* 5xx, connection failure: retryable */
	HK_ERR_AWS,	       /* any other (permanent) AWS error: see its code string */
	HK_ERR_TIMEOUT,	       /* a deadline passed */
	HK_ERR_CANCELLED,      /* the operation was cancelled (shutdown) */
	HK_ERR_STATE,	       /* operation not valid in the current state */
	HK_ERR_NO_CREDENTIALS, /* no credential provider yielded credentials */
	HK_ERR_INTERNAL,       /* a bug: should not happen */
	HK_ERR__COUNT
} hk_err;

/* Short, stable, human-readable name for an error ("invalid input", ...).
 * Never NULL; unknown values give "unknown error". */
const char *hk_err_str(hk_err err);

/* Parsers never log: they fill one of these. `offset` is a byte offset into the
 * input (or 0 when not meaningful); `text` names the problem and the bad value. */
typedef struct hk_errinfo {
	hk_err code;
	size_t offset;
	char text[256];
} hk_errinfo;

/* Fill `ei` (may be NULL) and return `code`. */
hk_err hk_errinfo_set(hk_errinfo *ei, hk_err code, size_t offset, const char *fmt, ...)
    HK_PRINTF(4, 5);

#endif
