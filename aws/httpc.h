/* aws/ internal: a small asynchronous HTTP client on libcurl multi driven by a
 * libevent loop (curl_multi_socket_action, one timer event, CURLMOPT_SOCKETFUNCTION
 * and CURLMOPT_TIMERFUNCTION). Connections are kept alive and reused across
 * requests of one httpc. TLS peer and host verification are always on for https.
 * Response bodies and header lines are capped (hk_caps.h). Nothing blocks: DNS
 * goes through curl's threaded resolver. Implemented in httpc.c. */
#ifndef AWS_HTTPC_H
#define AWS_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "hk_common.h"

struct event_base;

typedef struct httpc httpc;
typedef struct httpc_xfer httpc_xfer;

typedef struct httpc_header {
	const char *name;
	const char *value;
} httpc_header;

/* One request. Everything is borrowed and copied by httpc_send(). */
typedef struct httpc_request {
	const char *method;	     /* "GET", "POST", "PUT", ... */
	const char *url;	     /* http:// or https:// only */
	const httpc_header *headers; /* extra request headers (Host may be set here) */
	size_t n_headers;
	const void *body; /* may be NULL; sent for any method when body_len > 0 or
			   * method is POST/PUT */
	size_t body_len;
	long connect_timeout_ms; /* 0 = 3000 */
	long timeout_ms;	 /* whole transfer; 0 = 20000 */
	size_t max_body;	 /* response body cap; 0 = HK_CAP_AWS_RESPONSE_BODY */
	bool no_proxy;		 /* never use a proxy (metadata endpoints) */
	bool sensitive;		 /* the response carries secrets: wipe it when freed
				  * (request headers and body are always wiped) */
	/* For fetches of untrusted URLs (hook/intake/sns.c). All optional. */
	bool https_only;	/* refuse any scheme but https */
	const char *ca_file;	/* PEM trust roots instead of the system store
				 * (CURLOPT_CAINFO); verification stays on */
	const char *connect_to; /* "HOST:PORT:CONNECT-HOST:CONNECT-PORT"
				 * (CURLOPT_CONNECT_TO): the URL, SNI and certificate
				 * check keep the real name, only the TCP destination
				 * changes (tests) */
} httpc_request;

/* What came back. Borrowed: valid only during the callback. */
typedef struct httpc_response {
	/* HK_OK when a complete HTTP response arrived (whatever its status);
	 * HK_ERR_TIMEOUT (connect or total timeout), HK_ERR_TRANSIENT (DNS,
	 * connection refused/reset, empty reply, truncated transfer),
	 * HK_ERR_TOO_LARGE (body over the cap), HK_ERR_IO (TLS verification or
	 * another transport failure that retrying will not fix), HK_ERR_NOMEM. */
	hk_err err;
	long status;		     /* HTTP status, 0 when none arrived */
	const char *body;	     /* NUL-terminated (the NUL is not counted) */
	size_t body_len;	     /* body bytes */
	const httpc_header *headers; /* headers of the final response, in order */
	size_t n_headers;	     /* at most HK_CAP_AWS_RESPONSE_HEADERS */
	const char *errtext;	     /* curl's explanation when err != HK_OK, else "" */
	bool not_sent; /* err != HK_OK and the request provably never reached the server
			* (DNS failure, connection refused, connect timeout): safe to retry */
} httpc_response;

/* Called exactly once per successful httpc_send(), always from the event loop
 * (never from inside httpc_send()), unless the transfer was cancelled. The
 * callback may call httpc_send(), httpc_cancel() and httpc_free(). */
typedef void (*httpc_done_fn)(const httpc_response *resp, void *arg);

/* Create a client on `base`. Errors: HK_ERR_NOMEM, HK_ERR_INTERNAL (curl). */
HK_MUST_CHECK hk_err httpc_new(struct event_base *base, httpc **ret);

/* Cancel every transfer (no callbacks) and free the client. NULL-safe. Safe
 * from inside an httpc_done_fn (the release is then finished when the
 * dispatch unwinds). */
void httpc_free(httpc *h);

/* Start a request. On HK_OK, `done` runs later exactly once (unless cancelled),
 * and *ret_xfer (when ret_xfer is non-NULL) identifies the transfer until then.
 * On failure nothing runs. Errors: HK_ERR_INVALID (bad method/URL/scheme, or a
 * header containing CR/LF), HK_ERR_NOMEM, HK_ERR_STATE (client being freed),
 * HK_ERR_INTERNAL (curl refused an option). */
HK_MUST_CHECK hk_err httpc_send(httpc *h, const httpc_request *req, httpc_done_fn done, void *arg,
				httpc_xfer **ret_xfer);

/* Abort a transfer started by httpc_send(); its callback will not run. Must
 * not be called after the callback ran. NULL-safe. */
void httpc_cancel(httpc_xfer *x);

/* The value of the first response header named `name` (case-insensitive), or
 * NULL. */
const char *httpc_response_header(const httpc_response *resp, const char *name);

#endif
