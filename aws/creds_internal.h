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

/* ---- shared by the creds*.c files ---- */
#define REFRESH_BEFORE_S     300 /* refresh this long before expiry ... */
#define REFRESH_JITTER_S     60	 /* ... plus up to this much */
#define EXPIRY_MARGIN_S	     10	 /* never hand out credentials closer to expiry */
#define STALE_RETRY_S	     60	 /* after a failed refresh, keep the old ones this long */
#define IMDS_CONNECT_MS	     1000L
#define IMDS_TIMEOUT_MS	     2000L
#define IMDS_TOKEN_TTL	     "21600"
#define IMDS_DEFAULT	     "http://169.254.169.254"
#define IMDS_DEFAULT_V6	     "http://[fd00:ec2::254]"
#define CONTAINER_RELATIVE   "http://169.254.170.2"
#define STS_DEFAULT_ENDPOINT "https://sts.amazonaws.com"
#define STS_VERSION	     "2011-06-15"

enum stage { ST_ENV = 0, ST_WEB_IDENTITY, ST_CONTAINER, ST_FILES, ST_IMDS, ST_DONE };

/* What a stage did. */
enum stage_rc {
	STAGE_SKIP,   /* not configured: try the next provider */
	STAGE_PENDING /* started an HTTP request, or finished the fetch */
};

enum imds_step { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDS, IMDS_REGION };

struct waiter {
	creds_done_fn done;
	void *arg;
	hk_err err;
	creds_value *creds; /* a reference, on success */
	char *errtext;
	struct waiter *next;
};

struct fetch {
	creds_provider *p;
	enum stage stage;
	enum imds_step imds;
	httpc_xfer *xfer;
	char *imds_token;
	char *role;
};

struct region_req {
	creds_provider *p;
	enum imds_step imds;
	httpc_xfer *xfer;
	char *imds_token;
	creds_region_fn done;
	void *arg;
	hk_err err;
	char *region;
	char errtext[256];
	struct event *ev;
};

struct creds_provider {
	struct event_base *base;
	httpc *http;
	creds_config cfg; /* strings below are our copies */
	char *sts_endpoint;
	creds_value *static_creds;
	creds_value *cached;
	int64_t refresh_at;
	struct fetch *fetch;
	struct waiter *waiting, **waiting_tail; /* on the fetch */
	struct waiter *ready, **ready_tail;	/* results to deliver */
	size_t n_waiters;
	struct event *deliver_ev;
	unsigned n_fetches;
	struct region_req *region;
};

enum stage_rc creds_stage_web_identity(struct fetch *f);
enum stage_rc creds_stage_container(struct fetch *f);
bool creds_imds_disabled(const creds_provider *p);
hk_err creds_imds_send(creds_provider *p, enum imds_step step, const char *token, const char *role,
		       httpc_done_fn done, void *arg, httpc_xfer **ret);
enum stage_rc creds_stage_imds(struct fetch *f);
void creds_region_free(struct region_req *r);
const char *creds_env_get(const creds_provider *p, const char *name);
int64_t creds_now_s(const creds_provider *p);
void creds_wipe_free(char *s);
creds_value *creds_make(const char *akid, const char *secret, const char *token, int64_t expiration,
			const char *source);
void creds_trim_right(char *s);
/* End the fetch: with err HK_OK, v (owned) becomes the cached credentials;
 * otherwise v (if any) is dropped and fmt... names the failure. */
void creds_fetch_finish(struct fetch *f, hk_err err, creds_value *v, const char *fmt, ...)
    HK_PRINTF(4, 5);
hk_err creds_http_failure(const httpc_response *r, char *buf, size_t len);

#endif
