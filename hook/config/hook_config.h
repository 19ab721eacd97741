/* hook/config: the configuration file: parse, validate (every problem at
 * once, each with its key path), free; matching an event to its node group;
 * the AWS client made from the configuration. Uses core/, aws/, cidr/. */
#ifndef HOOK_CONFIG_H
#define HOOK_CONFIG_H

#include "hook_core.h"

/* ======================================================================
 * Configuration (config.c)
 * ====================================================================== */

typedef enum hook_ip_mode {
	HOOK_IP_FIRST_FREE = 0, /* static, lowest free address from the subnet start */
	HOOK_IP_DHCP,		/* EC2 picks; pod ranges must be explicit reservations */
} hook_ip_mode;

typedef enum hook_ipv6_mode {
	HOOK_IPV6_NONE = 0,   /* no IPv6 address */
	HOOK_IPV6_ONE,	      /* one address, EC2 picks (Ipv6AddressCount=1) */
	HOOK_IPV6_FIRST_FREE, /* lowest free address of the subnet's IPv6 CIDR */
} hook_ipv6_mode;

typedef enum hook_result {
	HOOK_RESULT_ABANDON = 0,
	HOOK_RESULT_CONTINUE,
} hook_result;
/* "CONTINUE" / "ABANDON". */
const char *hook_result_str(hook_result r);
/* A stored or received result string as hook_result: "ABANDON" is ABANDON,
 * anything else (NULL, "", "CONTINUE") is CONTINUE. Results are compared as
 * this enum, never as strings. */
hook_result hook_result_of(const char *s);

typedef enum hook_terminate_mode {
	HOOK_TERMINATE_DELETE = 0,	      /* detach and delete the ENIs ourselves */
	HOOK_TERMINATE_DELETE_ON_TERMINATION, /* rely on DeleteOnTermination */
} hook_terminate_mode;

typedef enum hook_auth_kind {
	HOOK_AUTH_API_KEY = 0, /* a header carries a shared secret */
	HOOK_AUTH_BASIC,       /* HTTP Basic (RFC 7617) */
	HOOK_AUTH_NONE,	       /* no credentials asked (admin.auth absent) */
} hook_auth_kind;

/* A listener's credentials: the secret is read at load, wiped at free, never
 * logged. */
typedef struct hook_auth {
	hook_auth_kind kind;
	char *header;	/* api_key: header name (default "x-api-key") */
	char *username; /* basic */
	char *secret;	/* api_key value, or basic password */
	size_t secret_len;
	char *basic_expect; /* basic: base64("user:password"), precomputed */
	size_t basic_expect_len;
} hook_auth;
/* Constant-time equality of two secrets of any lengths: both are hashed
 * (SHA-256) and the digests compared with CRYPTO_memcmp, so neither the
 * content nor the length leaks through timing (config_auth.c). */
bool hook_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len);
/* Whether the headers of a request, looked up with get(h, name), carry the
 * credentials of `a` (false for HOOK_AUTH_NONE). Reads only the one header
 * it needs; never logs. */
bool hook_auth_headers_ok(const hook_auth *a, const char *(*get)(const void *h, const char *name),
			  const void *h);

/* A string pair (tags, subnet selection, metadata match). */
typedef struct hook_kv {
	char *key;
	char *value;
} hook_kv;

typedef struct hook_listener_cfg {
	char *address; /* numeric IPv4 or IPv6 address */
	unsigned port; /* 0 = ephemeral (reported in the ready file) */
} hook_listener_cfg;

/* One Multus network of a node group: one ENI per instance. */
typedef struct hook_network {
	char *name;
	unsigned device_index;	     /* >= 1; default position + 1 */
	unsigned network_card_index; /* default 0 */
	hook_kv *subnet_tags;	     /* DescribeSubnets tag filters (all must match) */
	size_t n_subnet_tags;
	hook_kv *subnet_ids; /* key = availability zone, value = subnet id */
	size_t n_subnet_ids;
	char **security_groups;
	size_t n_security_groups;
	hook_ip_mode ip_mode;
	char **pod_ranges; /* "a.b.c.d/n" or "first-last" (first-free) / CIDR only (dhcp) */
	size_t n_pod_ranges;
	hook_ipv6_mode ipv6;
	bool source_dest_check; /* default true (the EC2 default) */
	hook_kv *tags;		/* extra ENI tags */
	size_t n_tags;
	char *description; /* ENI description, may be NULL */
} hook_network;

/* Most hook_names entries per node group. */
#define HOOK_MAX_HOOK_NAMES 16

typedef struct hook_node_group {
	char *name;
	char **asg_names; /* exact names or fnmatch(3) globs */
	size_t n_asg_names;
	/* The exact LifecycleHookNames this daemon owns on those groups; events
	 * of any other hook belong to other tools and are left alone. */
	char **hook_names;
	size_t n_hook_names;
	/* NotificationMetadata match: a glob on the whole string, or key -> glob on a
	 * metadata JSON object; neither set = any metadata. */
	char *metadata_glob;
	hook_kv *metadata_match;
	size_t n_metadata_match;
	hook_network *networks; /* in device-index order */
	size_t n_networks;
	hook_result failure_result;    /* default ABANDON */
	hook_terminate_mode terminate; /* default DELETE */
} hook_node_group;

/* One aws.rate_limits.buckets entry: a token-bucket family (names as in
 * docs/configuration.md) and its size before the scale. */
typedef struct hook_rate_limit {
	char *family;
	double burst;
	double refill_per_s;
} hook_rate_limit;

/* When the SQS consumer deletes a lifecycle message (docs/intake.md). */
typedef enum hook_sqs_ack {
	HOOK_SQS_ACK_ON_FINISH = 0, /* once its action has finished (kept in flight until then) */
	HOOK_SQS_ACK_ON_COMMIT,	    /* once its event is in the local store */
} hook_sqs_ack;

typedef struct hook_config {
	char *path; /* the file it came from (or NULL) */
	/* References beyond the first (hook_config_ref); hook_config_free drops
	 * one and frees on the last. A reload (SIGHUP) hands a new configuration
	 * to new work while actions in flight keep the one they started with. */
	unsigned extra_refs;
	/* aws */
	char *region;		    /* NULL = SDK environment */
	char *endpoint_ec2;	    /* NULL = default */
	char *endpoint_autoscaling; /* NULL = default */
	char *endpoint_sts;	    /* NULL = default */
	/* listeners */
	hook_listener_cfg intake; /* default 0.0.0.0:8080 */
	hook_listener_cfg admin;  /* default 127.0.0.1:9901 */
	hook_auth auth;		  /* the intake listener's */
	hook_auth admin_auth;	  /* admin.auth: kind HOOK_AUTH_NONE when absent */
	/* state */
	char *state_dir;
	/* limits */
	size_t max_body_bytes;		     /* default HK_CAP_HTTP_BODY_DEFAULT */
	size_t max_header_bytes;	     /* default HK_CAP_HTTP_HEADERS_SIZE */
	unsigned max_connections;	     /* default 256 */
	unsigned max_connections_per_source; /* 0: no limit (the default) */
	unsigned read_timeout_ms;	     /* idle read/write timeout, default 5000 */
	unsigned request_timeout_ms;	     /* whole request, default 10000 */
	unsigned max_concurrent_actions;     /* engine: default 32 */
	unsigned heartbeat_margin_ms;	     /* engine: default 60000 */
	unsigned shutdown_grace_ms;	     /* default 20000 */
	hook_node_group *groups;
	size_t n_groups;
	/* ---- SNS and SQS intake (hook/intake/sns.c, hook/intake/sqs.c; docs/intake.md) ---- */
	bool sns_enabled;	   /* POST /v1/sns answers (default false: 404) */
	unsigned sns_max_age_s;	   /* a message whose Timestamp is older is refused */
	char **sns_topic_arns;	   /* allow-list: exact TopicArns */
	size_t n_sns_topic_arns;   /* >= 1 when sns_enabled */
	char *sns_test_ca_file;	   /* TEST ONLY: trust roots for SNS fetches and certs */
	char *sns_test_connect_to; /* TEST ONLY: "HOST:443:ADDR:PORT" for SNS fetches */
	char *sqs_queue_url;	   /* NULL = no SQS consumer */
	char *endpoint_sqs;	   /* aws.endpoints.sqs; NULL = default */
	char *endpoint_sns;	   /* aws.endpoints.sns (notify); NULL = default */
	/* notify (hook/engine/engine_notify.c; docs/operations.md): one of */
	char *notify_sns_topic_arn; /* SNS Publish to this topic */
	char *notify_webhook_url;   /* POST to this https:// URL */
	char *notify_test_ca_file;  /* TEST ONLY: trust roots for the webhook */
	/* aws.rate_limits: client-side token buckets (docs/aws-facts.md, "Rate limits") */
	double aws_rate_scale;			 /* scale: every bucket x this (default 1) */
	struct hook_rate_limit *aws_rate_limits; /* per family overrides */
	size_t n_aws_rate_limits;
	unsigned sqs_wait_time_s;	   /* long poll, default 20 */
	unsigned sqs_max_messages;	   /* per receive, default 10 */
	unsigned sqs_visibility_timeout_s; /* default 60 */
	hook_sqs_ack sqs_ack;		   /* when a lifecycle message is deleted */
	/* ---- lifecycle engine (hook/engine*.c; docs/engine.md) ---- */
	unsigned sweep_interval_s; /* limits.sweep_interval_s: orphan sweep, default 600, 0 = off */
	unsigned reconcile_interval_s; /* limits.reconcile_interval_s: default 0 = off */
	double test_time_scale;	       /* TEST ONLY testing.time_scale: hook timeouts x this (1) */
} hook_config;

/* Problems found while validating: one line each ("path: value: why"). */
typedef struct hook_problems {
	char **msgs;
	size_t n;
	size_t cap;
} hook_problems;

/* Append one formatted problem (never fails: on OOM the message is dropped
 * but `n` still counts it, and the NULL slot is skipped by printers). */
void hook_problems_add(hook_problems *p, const char *fmt, ...) HK_PRINTF(2, 3);
void hook_problems_cleanup(hook_problems *p);

/* Flags for hook_config_parse. */
#define HOOK_CONFIG_NO_FILES 1u /* do not read secret files (fuzzing, doc checks) */

/* Parse and validate a configuration document held in memory. `base_dir`
 * resolves relative file paths (NULL = the working directory). On success
 * *ret_cfg is a new configuration (free with hook_config_free). On
 * HK_ERR_INVALID every problem found is appended to `probs`; other errors
 * (HK_ERR_NOMEM) may also append a message. Outputs untouched on failure. */
HK_MUST_CHECK hk_err hook_config_parse(const char *buf, size_t len, const char *base_dir,
				       unsigned flags, hook_config **ret_cfg, hook_problems *probs);

/* Read `path` (at most HK_CAP_CONFIG_FILE bytes) and hook_config_parse it with
 * the file's directory as base. HK_ERR_IO / HK_ERR_TOO_LARGE add one problem. */
HK_MUST_CHECK hk_err hook_config_load(const char *path, unsigned flags, hook_config **ret_cfg,
				      hook_problems *probs);

/* Drop one reference; the last frees everything, wiping the secret.
 * NULL-safe. */
void hook_config_free(hook_config *cfg);
/* One more reference to `cfg` (released with hook_config_free); returns it. */
hook_config *hook_config_ref(const hook_config *cfg);
/* The keys a reload cannot change (listeners, state_dir, aws region,
 * endpoints and rate limits, SNS and SQS intake settings): those that differ
 * between `a` and `b`, comma separated, into out (empty when none). */
void hook_config_restart_diff(const hook_config *a, const hook_config *b, char *out, size_t size);

struct awc_client;
/* An AWS client for the daemon from the configuration: region, endpoints
 * (aws.endpoints, else the SDK environment) and token buckets
 * (aws.rate_limits). Errors as awsclient_new(). Used by the engine and the SQS
 * consumer alike, so both pace their calls the same way. */
HK_MUST_CHECK hk_err hook_aws_client_new(struct event_base *base, const hook_config *cfg,
					 struct awc_client **ret);

/* The first node group (file order) whose asg_names match `asg` and whose
 * metadata match accepts `metadata` (may be NULL). NULL when none does. */
const hook_node_group *hook_config_match_group(const hook_config *cfg, const char *asg,
					       const char *metadata);

/* The first node group (file order) one of whose asg_names matches `asg`,
 * metadata not considered (a reconcile has no event). NULL when none. */
const hook_node_group *hook_config_group_for_asg(const hook_config *cfg, const char *asg);

/* Whether `hook` is one of the group's hook_names (exact match). */
bool hook_group_owns_hook(const hook_node_group *g, const char *hook);

typedef enum hook_match {
	HOOK_MATCH_OK = 0,	 /* *ret: the first group matching and owning the hook */
	HOOK_MATCH_NO_GROUP,	 /* no group's asg_names + metadata_match accept it */
	HOOK_MATCH_FOREIGN_HOOK, /* groups match, none owns the hook: *ret the first */
} hook_match;

/* Which node group an event belongs to: the first group (file order) whose
 * asg_names and metadata_match accept it and whose hook_names hold `hook`.
 * *ret is written for OK and FOREIGN_HOOK only. */
hook_match hook_config_match_event(const hook_config *cfg, const char *asg, const char *hook,
				   const char *metadata, const hook_node_group **ret);

/* Strict syntax checks shared with tests: IPv4/IPv6 CIDR with host bits zero
 * ("10.0.0.0/24"), and "first-last" ranges of one family with first <= last.
 * On failure `why` (may be NULL) receives a short reason. */
bool hook_cidr_syntax_ok(const char *s, char *why, size_t why_len);
bool hook_range_syntax_ok(const char *s, char *why, size_t why_len);

#endif
