/* aws/ internal: the client and call records shared by the awc*.c files (not
 * a public header: the rest of aws/ and the daemon use awc.h).
 *
 *   awc.c         calls: the state machine, retries, delivery; the client
 *   awc_errors.c  reading AWS's error answers (headers, JSON error bodies)
 *   awc_region.c  the region: configuration, environment, shared file, IMDS */
#ifndef AWS_AWC_INTERNAL_H
#define AWS_AWC_INTERNAL_H

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "awc.h"
#include "hk_json.h"
#include "hk_list.h"
#include "awsconf.h"
#include "creds_value.h"
#include "httpc.h"
#include "retry.h"

/* ---- shared by the awc*.c files ---- */
enum call_state { CS_WAIT_REGION, CS_WAIT_CREDS, CS_WAIT_TOKEN, CS_IN_FLIGHT, CS_BACKOFF, CS_DONE };

struct awc_endpoint {
	char *url;  /* what curl is given */
	char *host; /* the Host header, host[:port] */
	char *path; /* canonical URI for signing */
};

typedef struct awc_call {
	awc_client *c;
	awc_service svc;
	enum call_state state;
	char action[96];
	bool json;
	char *target; /* X-Amz-Target (JSON protocol) */
	char *body;
	size_t body_len;
	bool idempotent;
	unsigned max_attempts;
	long timeout_ms;
	uint64_t deadline_us; /* no retry starts after it (0 = none) */
	awc_done_fn done;
	void *arg;
	unsigned attempts;
	uint64_t started_us;  /* awc_now_us() at awc_query/awc_json (AWC_EV_DONE's delay_us) */
	bool refreshed_creds; /* retried once after ExpiredToken */
	tbucket_family family;
	struct event *timer;
	httpc_xfer *xfer;
	creds_value *creds;
	/* The result, filled when DONE. */
	hk_err err;
	long status;
	char *aws_code, *aws_message, *request_id;
	char errtext[512];
	xmlDocPtr doc;
	json_t *jdoc;
	hk_list link; /* on the client's calls */
} awc_call;

struct awc_client {
	struct event_base *base;
	httpc *http;
	creds_source creds; /* from awc_config.creds_factory; all NULL: none */
	tbucket_set *buckets;
	retry_policy policy;
	awc_config cfg; /* pointers below are ours */
	char *region;
	bool region_pending;
	char region_err[256];
	char *endpoint_cfg[AWC_SVC__COUNT]; /* explicit URL (config or env), or NULL */
	struct awc_endpoint ep[AWC_SVC__COUNT];
	hk_list calls; /* awc_call.link */
	size_t n_calls;
	struct cq_client_state *calls_state; /* the typed-call layer's (awc_client_set_calls) */
	void (*calls_free)(struct cq_client_state *st);
};

const char *awc_find_header(const httpc_response *r, const char *a, const char *b);
bool awc_code_is_expired_token(const char *code);
void awc_json_error_parse(const httpc_response *r, char **ret_code, char **ret_msg);
void awc_region_done(hk_err err, const char *region, const char *errtext, void *arg);
hk_err awc_region_from_config(awc_client *c, const awc_config *cfg, hk_errinfo *ei);
const char *awc_awsconf_env_adapter(const char *name, void *arg);
hk_err awc_endpoints_resolve(awc_client *c, hk_errinfo *ei);
void awc_call_begin(awc_call *k);

#endif
