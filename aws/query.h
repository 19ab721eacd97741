/* aws/ internal: AWS Query protocol request building (form-encoded
 * Action=...&Version=...). Pure. Implemented in query.c. */
#ifndef AWS_QUERY_H
#define AWS_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "hk_common.h"

/* An ordered list of name/value parameters. Names and values are copied.
 * Lists are just names built by the caller (1-based, as AWS wants):
 *   Filter.N.Name / Filter.N.Value.M, SecurityGroupId.N, SubnetIds.member.N,
 *   TagSpecification.N.ResourceType, TagSpecification.N.Tag.M.Key / .Value. */
typedef struct query_params query_params;

/* A list holding Action=`action` and Version=`version` (both non-empty), or NULL
 * (bad argument or out of memory). */
query_params *query_params_new(const char *action, const char *version);
/* Free the list, wiping every value first (a value may be a secret, such as
 * a web identity token). NULL-safe. */
void query_params_free(query_params *p);
/* A copy of `p` (the typed calls keep their list for every page and send a
 * copy with that page's NextToken). */
HK_MUST_CHECK hk_err query_params_dup(const query_params *p, query_params **ret);
/* The number of parameters and the i-th name and value, in order (NULL past
 * the end): tests compare the exact list. */
size_t query_params_count(const query_params *p);
const char *query_params_name(const query_params *p, size_t i);
const char *query_params_value(const query_params *p, size_t i);
/* Add Name=value (value may be ""). printf-style name for list members, e.g.
 * ("Filter.%u.Name", n). Errors: HK_ERR_INVALID (NULL or empty name, NULL
 * value), HK_ERR_EXISTS (the name is already there: use query_set), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err query_add(query_params *p, const char *name, const char *value);
HK_MUST_CHECK hk_err query_addf(query_params *p, const char *value, const char *name_fmt, ...)
    HK_PRINTF(3, 4);
/* Replace the value of an existing parameter or add it (used for NextToken). */
HK_MUST_CHECK hk_err query_set(query_params *p, const char *name, const char *value);
/* Look a parameter up; NULL when absent. */
const char *query_get(const query_params *p, const char *name);
/* Encode as application/x-www-form-urlencoded body: unreserved A-Z a-z 0-9 - _ . ~
 * kept, a space as '+', every other byte %XX (uppercase hex; UTF-8 byte by byte),
 * exactly as botocore encodes Query bodies (moto re-encodes the form that way
 * before checking the signature, so '%20' fails there), parameters in insertion
 * order (Action, Version, then as added; query_set keeps a parameter's place),
 * which is botocore's order. The signature covers the body's hash, so any order
 * is valid; this one makes bodies comparable with botocore's. Caller frees
 * *ret_body (NUL-terminated); *ret_len (may be NULL) gets its length. */
HK_MUST_CHECK hk_err query_encode(const query_params *p, char **ret_body, size_t *ret_len);
/* True when no parameter other than Action, Version, NextToken and DryRun is
 * set: EC2 puts such "unfiltered and unpaginated" Describe calls in a smaller
 * throttling bucket (see tbucket_family_of() in retry.h). */
bool query_is_unfiltered(const query_params *p);
/* RFC 3986 percent-encode `in` (len bytes) into a new string. Caller frees. */
HK_MUST_CHECK hk_err query_pct_encode(const char *in, size_t len, char **ret);

#endif
