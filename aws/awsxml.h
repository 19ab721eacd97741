/* aws/ internal: safe XML parsing for AWS Query-protocol responses (libxml2) and
 * small helpers for the response readers. Parsing never touches the network,
 * never loads or expands a DTD or entity (documents carrying a DOCTYPE are
 * refused), and enforces HK_CAP_AWS_RESPONSE_BODY and HK_CAP_XML_DEPTH. Text of
 * an element is normalised at parse time into one text node, so
 * awsxml_text() can hand out a borrowed pointer. Parsers never log: failures
 * fill an hk_errinfo. Implemented in awsxml.c. */
#ifndef AWS_AWSXML_H
#define AWS_AWSXML_H

#include <stddef.h>

#include <libxml/tree.h>

#include "hk_common.h"

/* Parse `len` bytes of `buf` (need not be NUL-terminated). On success *ret_doc
 * owns the tree (xmlFreeDoc it). Errors: HK_ERR_TOO_LARGE (len over
 * HK_CAP_AWS_RESPONSE_BODY, or nesting deeper than HK_CAP_XML_DEPTH),
 * HK_ERR_PARSE (empty, not XML, truncated, or has a DOCTYPE), HK_ERR_NOMEM.
 * *ret_doc is untouched on failure. */
HK_MUST_CHECK hk_err awsxml_parse(const char *buf, size_t len, xmlDocPtr *ret_doc, hk_errinfo *ei);

/* The root element, or NULL. */
xmlNode *awsxml_root(const xmlDoc *doc);

/* True when `node` is an element whose local name (namespace prefix ignored)
 * is `name`. */
int awsxml_is(const xmlNode *node, const char *name);

/* The first element child of `parent` named `name` (local name), or NULL.
 * NULL-safe: a NULL parent gives NULL, so lookups chain. */
xmlNode *awsxml_child(const xmlNode *parent, const char *name);

/* Follow a path of child names, e.g. awsxml_path(root, "Errors", "Error",
 * NULL). NULL when any step is missing. */
xmlNode *awsxml_path(const xmlNode *from, ...);

/* The text content of element `el` (borrowed from the tree): "" for an empty
 * element, NULL for NULL or a non-element. */
const char *awsxml_text(const xmlNode *el);

/* awsxml_text(awsxml_child(parent, name)). */
const char *awsxml_child_text(const xmlNode *parent, const char *name);

/* Iterate element children with a given local name ("item" for EC2 lists,
 * "member" for Auto Scaling/STS lists):
 *   for (xmlNode *it = awsxml_first_named(set, "item"); it;
 *        it = awsxml_next_named(it, "item")) ...
 * awsxml_first_named() is awsxml_child(); awsxml_next_named() returns the next
 * sibling element named `name` after `node`, or NULL. */
xmlNode *awsxml_first_named(const xmlNode *parent, const char *name);
xmlNode *awsxml_next_named(const xmlNode *node, const char *name);

/* Number of element children named `name`. */
size_t awsxml_count_named(const xmlNode *parent, const char *name);

/* Parse the text of `el` as an unsigned/signed decimal (whole string, no sign
 * for unsigned, no overflow) or a boolean ("true"/"false"). Errors:
 * HK_ERR_NOT_FOUND (el NULL), HK_ERR_PARSE; *ret untouched on failure. */
HK_MUST_CHECK hk_err awsxml_u64(const xmlNode *el, unsigned long long *ret);
HK_MUST_CHECK hk_err awsxml_i64(const xmlNode *el, long long *ret);
HK_MUST_CHECK hk_err awsxml_bool(const xmlNode *el, int *ret);

/* An AWS error document, reduced. */
typedef struct awsxml_error {
	char *code;	  /* "InvalidParameterValue"; never NULL after success */
	char *message;	  /* may be NULL */
	char *request_id; /* may be NULL */
	char *type;	  /* Query <Type> ("Sender"/"Receiver"), may be NULL */
} awsxml_error;

/* Read an AWS error envelope from a parsed document: EC2
 * <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
 * (first Error only), Query <ErrorResponse><Error><Type/><Code/><Message/>
 * </Error><RequestId/>, moto's <ErrorResponse><Errors><Error>..., or a bare
 * <Error><Code/>..<RequestId/></Error>. Errors: HK_ERR_NOT_FOUND (not an error envelope, or
 * no Code), HK_ERR_NOMEM. *ret untouched on failure. */
HK_MUST_CHECK hk_err awsxml_error_from_doc(const xmlDoc *doc, awsxml_error *ret);

/* Parse `body` and read its error envelope. A body that is not XML, is
 * truncated, or is XML without an envelope gives HK_ERR_PARSE / HK_ERR_NOT_FOUND
 * (the caller then classifies by HTTP status alone: a non-XML 5xx page is a
 * transient error). Other errors as awsxml_parse(). */
HK_MUST_CHECK hk_err awsxml_parse_error(const char *body, size_t len, awsxml_error *ret,
					hk_errinfo *ei);

/* Frees the strings of *e and zeroes it. NULL-safe. */
void awsxml_error_cleanup(awsxml_error *e);

/* The request id of a successful response: <requestId> (EC2) or
 * <ResponseMetadata><RequestId> (Query services) under the root. Borrowed,
 * or NULL. */
const char *awsxml_request_id(const xmlDoc *doc);

#endif
