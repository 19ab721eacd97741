/* aws/: credential values and the small interface the client signs with
 * (creds_source). A leaf: the client core (awc.c) depends on this header only;
 * the provider chain (creds.h) implements the interface and the typed-call
 * layer plugs it in (awsclient_new), so the chain may use the typed calls'
 * STS messages without a circle. */
#ifndef AWS_CREDS_VALUE_H
#define AWS_CREDS_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "hk_common.h"

struct event_base;
struct httpc;

typedef struct creds_value {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL when none */
	int64_t expiration;  /* Unix seconds; 0 = does not expire */
	const char *source;  /* static: "environment", "web-identity", "container",
			      * "shared-files", "imds", "static" */
	unsigned refs;	     /* private */
} creds_value;

/* Take / drop a reference. The last creds_unref() wipes and frees. NULL-safe. */
creds_value *creds_ref(creds_value *v);
void creds_unref(creds_value *v);

typedef const char *(*creds_env_fn)(const char *name, void *arg);
/* Wall-clock time in Unix seconds. */
typedef int64_t (*creds_now_fn)(void *arg);
/* A uniformly distributed 32-bit value (refresh jitter). */
typedef uint32_t (*creds_rand_fn)(void *arg);

typedef struct creds_config {
	creds_env_fn env; /* NULL = getenv() */
	void *env_arg;
	creds_now_fn now; /* NULL = time() */
	void *now_arg;
	creds_rand_fn rand; /* NULL = OpenSSL RAND_bytes */
	void *rand_arg;
	/* The STS endpoint URL for web identity (resolved by the caller from
	 * AWS_ENDPOINT_URL_STS etc.); NULL = "https://sts.amazonaws.com". */
	const char *sts_endpoint;
	long timeout_ms; /* STS/container fetch timeout; 0 = 5000. IMDS: 1000 connect,
			  * 2000 total, fixed. */
	/* Optional: used for tests and embedding; skips the whole chain. */
	const char *static_access_key_id;
	const char *static_secret_access_key;
	const char *static_session_token;
} creds_config;

typedef void (*creds_done_fn)(hk_err err, creds_value *creds, const char *errtext, void *arg);
typedef void (*creds_region_fn)(hk_err err, const char *region, const char *errtext, void *arg);

/* Where a client gets its credentials (and, from IMDS, its region). `impl`
 * is the provider; every op runs on the loop; callbacks come later. */
typedef struct creds_source {
	void *impl;
	hk_err (*get)(void *impl, creds_done_fn done, void *arg);
	void (*invalidate)(void *impl);
	hk_err (*imds_region)(void *impl, creds_region_fn done, void *arg);
	void (*free)(void *impl);
} creds_source;

/* Makes a client's source on its loop and HTTP client (awc_config.creds_factory). */
typedef hk_err (*creds_source_factory_fn)(struct event_base *base, struct httpc *http,
					  const creds_config *cfg, creds_source *ret);

#endif
