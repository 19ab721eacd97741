/* aws/ internal: the parsers creds.c applies to credential answers from the
 * network, exposed for the unit tests and the fuzz target (test/fuzz/aws_creds).
 * Every input is untrusted; nothing here logs, and error texts never contain
 * secrets. creds_parse_time() (creds.h) is the timestamp parser they use.
 * Implemented in creds.c. */
#ifndef AWS_CREDS_INTERNAL_H
#define AWS_CREDS_INTERNAL_H

#include <stddef.h>

#include "creds.h"
#include "hk_common.h"

/* The container endpoint / IMDS role JSON ({"AccessKeyId", "SecretAccessKey",
 * `token_key`, "Expiration", optional "Code" that must be "Success"}) ->
 * credentials labelled `source` (a static string). `body` need not be
 * NUL-terminated. Duplicate keys and nesting deeper than HK_CAP_JSON_DEPTH are
 * refused. The secret strings jansson held are wiped. On HK_OK *ret has one
 * reference. Errors: HK_ERR_PARSE (errbuf says why), HK_ERR_AUTH (Code is not
 * Success), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err creds_from_json(const char *body, size_t len, const char *token_key,
				     const char *source, creds_value **ret, char *errbuf,
				     size_t errlen);

/* An STS AssumeRoleWithWebIdentity answer (XML, the typed call's reader
 * sts_read_assume_role_web_identity()) -> credentials labelled "web-identity"
 * with their Expiration. The secret text nodes of the parsed tree are wiped
 * before it is freed. Errors: HK_ERR_PARSE (errbuf names the element or the bad
 * Expiration), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err creds_from_sts_xml(const char *body, size_t len, creds_value **ret,
					char *errbuf, size_t errlen);

#endif
