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
#include "creds_value.h"
#include "query.h"

struct event_base;

typedef struct awc_client awc_client;

typedef enum awc_service {
	AWC_SVC_EC2 = 0,
	AWC_SVC_AUTOSCALING,
	AWC_SVC_STS,
	AWC_SVC_SQS,
	AWC_SVC_SNS,
	AWC_SVC__COUNT
} awc_service;

/* What happened inside a call, for metrics and traces (optional observer).
 * Borrowed, valid during the callback; never carries secrets. */
typedef enum awc_event_kind {
	AWC_EV_SEND = 0,    /* an attempt is being sent (attempt = its number, 1-based) */
	AWC_EV_BUCKET_WAIT, /* the client-side token bucket delays the attempt by delay_us */
	AWC_EV_RETRY,	    /* attempt failed (err, http_status, aws_code); the next one
			     * starts after delay_us, drawn uniformly from [0, bound_us] */
	AWC_EV_DONE,	    /* the call is finished (err = final result; delay_us: the whole
			       call, from its start to now, retries and waits included) */
	AWC_EV_RATE	    /* the family's adaptive rate factor changed (rate_factor:
			     * now): halved on a throttle, or back at 1 */
} awc_event_kind;

typedef struct awc_event {
	awc_event_kind kind;
	awc_service svc;
	const char *action; /* "DescribeSubnets", "ReceiveMessage" */
	unsigned attempt;
	hk_err err;
	long http_status;
	const char *aws_code;
	uint64_t delay_us;
	uint64_t bound_us;
	const char *family; /* the token-bucket family ("ec2-mutating", ...) */
	double rate_factor; /* that family's adaptive rate factor, in [0.1, 1] */
} awc_event;

typedef void (*awc_event_fn)(const awc_event *ev, void *arg);

/* Environment lookup (value or NULL); NULL in awc_config means getenv().
 * Same shape as awsconf_getenv_fn. */
typedef const char *(*awc_env_fn)(const char *name, void *arg);

/* A token-bucket size override for one family (names: tbucket_family_name()
 * in retry.h, e.g. "ec2-describe"), before bucket_scale. */
typedef struct awc_bucket_override {
	const char *family;
	double burst;
	double refill_per_s;
} awc_bucket_override;

/* Whether `name` is a token-bucket family name a bucket override may use
 * ("ec2-describe", "ec2-create-network-interface", "autoscaling", ...). */
bool awc_bucket_family_known(const char *name);

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
	const awc_bucket_override *bucket_overrides;
	size_t n_bucket_overrides;
	/* Backoff (retry.h defaults, the SDKs' "standard" mode: 50 ms transient base,
	 * 1 s throttle base, 20 s cap). 0 = default. */
	long backoff_base_ms;
	long backoff_throttle_base_ms;
	long backoff_cap_ms;
	awc_env_fn env; /* NULL = getenv(); used for region, endpoints, credentials */
	void *env_arg;
	awc_event_fn on_event; /* optional observer */
	void *event_arg;
	/* The typed-call layer's transport (calls_internal.h): NULL = this client
	 * (awc_query/awc_json). Tests give a fake, so typed calls run without AWS. */
	const struct cq_transport *call_transport;
	/* Where credentials come from: awsclient_new() sets the default chain
	 * (creds.h) when this is NULL; a client made with awc_client_new() and no
	 * factory signs nothing (its calls fail with HK_ERR_NO_CREDENTIALS). */
	creds_source_factory_fn creds_factory;
	/* Optional debug trace: one line per call state transition ("aws call ec2
	 * CreateNetworkInterface: WAIT_TOKEN -> IN_FLIGHT"). Never sees secrets. */
	void (*debug)(void *arg, const char *fmt, ...) HK_PRINTF(2, 3);
	void *debug_arg;
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
	/* Retry window (CLOCK_MONOTONIC microseconds, awc_now_us()); 0 = none. No
	 * retry is scheduled to start after it: once now + the next backoff would
	 * pass it, the call finishes with the last attempt's error (the first
	 * attempt is always sent). Lets a caller with a deadline of its own stop
	 * a throttled call in time instead of waiting out every retry. */
	uint64_t deadline_us;
} awc_call_opts;

/* Create a client on `base`. Resolves region and endpoints now (from cfg, then
 * the environment and the shared config file); when neither gives a region and
 * IMDS is not disabled, asks IMDS asynchronously and queues calls until it
 * answers. Credentials are resolved lazily and asynchronously on the first call
 * (creds.h has the provider chain). Errors: HK_ERR_INVALID (bad endpoint URL,
 * bad bucket override), HK_ERR_RANGE (bucket_scale), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err awc_client_new(struct event_base *base, const awc_config *cfg,
				    awc_client **ret);
/* Frees the client. Calls still in flight are cancelled and their callbacks are
 * not called (the caller is shutting down). NULL-safe. */
void awc_client_free(awc_client *c);

/* The resolved region, or NULL when none could be resolved yet (IMDS pending). */
const char *awc_client_region(const awc_client *c);

/* Send a Query-protocol call (EC2, Auto Scaling, STS). Takes ownership of
 * `params` (also on failure). Returns HK_OK when the call is queued; `done`
 * then runs exactly once. Errors (no callback then): HK_ERR_INVALID (no
 * Action, bad service), HK_ERR_FULL (HK_CAP_AWS_PENDING_CALLS calls pending),
 * HK_ERR_NOMEM. A missing region or credentials are reported through `done`
 * (HK_ERR_INVALID / HK_ERR_NO_CREDENTIALS ...). */
HK_MUST_CHECK hk_err awc_query(awc_client *c, awc_service svc, query_params *params,
			       const awc_call_opts *opts, awc_done_fn done, void *arg);

/* Send a JSON-protocol call (SQS): X-Amz-Target `target`
 * ("AmazonSQS.ReceiveMessage"), body `body` (borrowed, serialised at once;
 * NULL = {}), Content-Type application/x-amz-json-1.0. On success res->json is
 * the parsed answer; on error aws_code is the part of "__type" after '#'.
 * Errors as awc_query(). */
HK_MUST_CHECK hk_err awc_json(awc_client *c, awc_service svc, const char *target,
			      const json_t *body, const awc_call_opts *opts, awc_done_fn done,
			      void *arg);

/* The endpoint URL a service's calls go to, or NULL before the region is
 * known. */
const char *awc_client_endpoint(const awc_client *c, awc_service svc);

/* The SigV4 signing name of a service ("ec2", "autoscaling", "sts", "sqs"). */
const char *awc_service_name(awc_service svc);

/* The client's clock for awc_call_opts.deadline_us: CLOCK_MONOTONIC in us. */
uint64_t awc_now_us(void);

/* The typed-call layer's state of this client (calls_driver.c keeps its calls
 * in flight there): NULL until that layer sets it; `free_fn` runs first thing
 * in awc_client_free(). */
struct cq_client_state;
struct cq_client_state *awc_client_calls(const awc_client *c);
void awc_client_set_calls(awc_client *c, struct cq_client_state *st,
			  void (*free_fn)(struct cq_client_state *st));
/* The loop the client runs on, and its configured typed-call transport. */
struct event_base *awc_client_base(const awc_client *c);
const struct cq_transport *awc_client_call_transport(const awc_client *c);

/* Calls queued or in flight. */
size_t awc_client_pending(const awc_client *c);

#endif
