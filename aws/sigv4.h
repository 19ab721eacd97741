/* aws/ internal: AWS Signature Version 4 (header signing). Pure: no I/O, no clock
 * (the caller passes `now`). Implemented in sigv4.c with OpenSSL. */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "hk_common.h"

typedef struct sigv4_header {
	const char *name;
	const char *value;
} sigv4_header;

/* A request to sign. Borrowed. `path` and `query` are exactly as they go on the
 * wire (already percent-encoded; query without '?', NULL or "" for none).
 * `headers` must include Host. If they include X-Amz-Date, that value is used
 * as the request time instead of `now` (the AWS test suite works this way).
 *
 * Canonical URI (every service but S3): dot segments removed, duplicate slashes
 * collapsed, then each segment percent-encoded (RFC 3986 unreserved kept), so a
 * path already encoded on the wire is encoded a second time, as AWS requires.
 * `no_path_normalize` keeps dot segments and empty segments (S3 style; only the
 * test suite's "-unnormalized" cases use it). Canonical query: each name and
 * value decoded and re-encoded, sorted by name then value. Header names are
 * lowercased; values trimmed, runs of spaces, tabs and line breaks collapsed to
 * one space; repeated names joined with ',' in the order given. Every header
 * passed is signed except Authorization. X-Amz-Date and, when the credentials
 * carry a session token, X-Amz-Security-Token are added to the signed headers
 * unless already present. */
typedef struct sigv4_request {
	const char *method;
	const char *path;
	const char *query;
	const sigv4_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
	bool no_path_normalize; /* false (default): normalise the path */
} sigv4_request;

typedef struct sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" when none */
} sigv4_creds;

/* The result. The caller sends Authorization, X-Amz-Date, and (when creds carry
 * a session token) X-Amz-Security-Token = creds->session_token. All strings are
 * owned by the struct; release with sigv4_signed_cleanup(). */
typedef struct sigv4_signed {
	char amz_date[17];	 /* YYYYMMDDTHHMMSSZ */
	char payload_hash[65];	 /* lowercase hex SHA-256 of the body */
	char signature[65];	 /* lowercase hex */
	char *authorization;	 /* the Authorization header value */
	char *canonical_request; /* for tests; holds the session token: never log as is */
	char *string_to_sign;
} sigv4_signed;

/* Sign `req` for `region`/`service` at `now`. On success fills *ret (which the
 * caller then owns); on failure *ret is untouched. Errors: HK_ERR_INVALID for a
 * malformed request (no Host, bad X-Amz-Date), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err sigv4_sign(const sigv4_request *req, const sigv4_creds *creds,
				const char *region, const char *service, time_t now,
				sigv4_signed *ret);

/* Frees and wipes what sigv4_sign put in *s. NULL-safe. */
void sigv4_signed_cleanup(sigv4_signed *s);

/* Lowercase hex SHA-256 of `len` bytes (e.g. for X-Amz-Content-Sha256). */
void sigv4_sha256_hex(const void *data, size_t len, char ret_hex[65]);

#endif
