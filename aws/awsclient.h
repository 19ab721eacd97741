/* aws/: the public face of the AWS module. hook/ includes only this header.
 *
 *   awc.h       the client core: configuration, credentials, signing, transport,
 *               retries and rate limits, awc_result;
 *   awscalls.h  one typed asynchronous function per AWS action;
 *   httpc.h     the plain asynchronous HTTPS client underneath (curl multi on
 *               libevent), for the few non-AWS-API fetches hook/ makes (SNS
 *               signing certificates and subscription confirmations).
 *
 * Create the client with awsclient_new() and free it with awsclient_free(): they
 * wrap awc_client_new()/awc_client_free() and also manage what the typed calls
 * keep per client (the instance-type cache, the calls in flight). */
#ifndef AWS_AWSCLIENT_H
#define AWS_AWSCLIENT_H

#include "awc.h"
#include "awscalls.h"
#include "hk_common.h"
#include "httpc.h"

struct event_base;

/* awc_client_new() plus the typed calls' per-client state. Same errors. */
HK_MUST_CHECK hk_err awsclient_new(struct event_base *base, const awc_config *cfg,
				   awc_client **ret);

/* Frees every typed call still in flight (their callbacks are not called: the
 * caller is shutting down), the client's caches, then the client itself
 * (awc_client_free()). NULL-safe. Do not call it from inside a typed call's
 * callback of the same client. */
void awsclient_free(awc_client *c);

#endif
