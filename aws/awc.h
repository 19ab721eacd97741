/* aws/: the client core. An asynchronous AWS client on a libevent loop: resolves
 * region, endpoints and credentials the way the AWS SDKs do, signs (SigV4), sends
 * through libcurl multi, paces calls with client-side token buckets, retries with
 * capped exponential backoff and full jitter, and parses responses (XML for the
 * Query protocol, JSON for SQS). The typed calls (awscalls.h) are built on
 * awc_query()/awc_json(). Implemented in awc.c (+ httpc.c, creds.c). */
#ifndef AWS_AWC_H
#define AWS_AWC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "hk_common.h"
#include "query.h"

struct event_base;

typedef struct awc_client awc_client;

typedef enum awc_service {
	AWC_SVC_EC2 = 0,
	AWC_SVC_AUTOSCALING,
	AWC_SVC_STS,
	AWC_SVC_SQS,
	AWC_SVC__COUNT
} awc_service;

/* Client settings. Every field is optional (0/NULL = SDK default resolution:
 * AWS_REGION, AWS_DEFAULT_REGION, profile, IMDS; AWS_ENDPOINT_URL[_<SERVICE>]).
 * Strings are copied. */
typedef struct awc_config {
	const char *region;
	const char *endpoint[AWC_SVC__COUNT]; /* full URL, e.g. "http://127.0.0.1:4566" */
	long connect_timeout_ms;	      /* default 3000 */
	long request_timeout_ms;	      /* default 20000 (SQS long poll adds its wait) */
	unsigned max_attempts;		      /* default HK_CAP_AWS_ATTEMPTS */
	double bucket_scale;		      /* scales every token bucket; default 1.0 */
	bool no_buckets;		      /* disable client-side rate limiting */
} awc_config;

/* The outcome of one call, after retries. Everything is borrowed and valid only
 * during the callback. */
typedef struct awc_result {
	hk_err err;		 /* HK_OK, or the classified error */
	long http_status;	 /* 0 when no response arrived */
	const char *aws_code;	 /* AWS error code ("InvalidIPAddress.InUse"), or NULL */
	const char *aws_message; /* AWS error message, or NULL; for people, never keyed on */
	const char *request_id;	 /* AWS request id, or NULL */
	const char *errtext;	 /* one line for logs: what failed and why */
	xmlDocPtr doc;		 /* Query protocol: the parsed response on success */
	json_t *json;		 /* JSON protocol (SQS): the parsed response on success */
	unsigned attempts;	 /* attempts made */
} awc_result;

/* Called exactly once per call, always from the event loop (never from inside
 * the awc_query()/awc_json() call that started it). */
typedef void (*awc_done_fn)(const awc_result *res, void *arg);

typedef struct awc_call_opts {
	/* The call may be retried after an ambiguous failure (timeout, connection
	 * drop, 5xx): true for reads, for CreateNetworkInterface with a ClientToken,
	 * and for calls whose caller re-reads state. Throttling is always retried. */
	bool idempotent;
	unsigned max_attempts; /* 0 = client default */
	long timeout_ms;       /* 0 = client default */
} awc_call_opts;

/* Create a client on `base`. Resolves region and endpoints now (from cfg, then
 * the environment and the shared config file); credentials are resolved lazily
 * and asynchronously on the first call. Errors: HK_ERR_INVALID (bad endpoint URL),
 * HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err awc_client_new(struct event_base *base, const awc_config *cfg,
				    awc_client **ret);
/* Frees the client. Calls still in flight are cancelled and their callbacks are
 * not called (the caller is shutting down). NULL-safe. */
void awc_client_free(awc_client *c);

/* The resolved region, or NULL when none could be resolved yet (IMDS pending). */
const char *awc_client_region(const awc_client *c);

/* Send a Query-protocol call (EC2, Auto Scaling, STS). Takes ownership of
 * `params` (also on failure). Returns HK_OK when the call is queued; `done`
 * then runs exactly once. */
HK_MUST_CHECK hk_err awc_query(awc_client *c, awc_service svc, query_params *params,
			       const awc_call_opts *opts, awc_done_fn done, void *arg);

/* Send a JSON-protocol call (SQS): X-Amz-Target `target`
 * ("AmazonSQS.ReceiveMessage"), body `body` (borrowed, serialised at once). */
HK_MUST_CHECK hk_err awc_json(awc_client *c, awc_service svc, const char *target,
			      const json_t *body, const awc_call_opts *opts, awc_done_fn done,
			      void *arg);

#endif
