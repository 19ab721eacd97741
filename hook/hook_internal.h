/* hook/: declarations shared by the files of the hook module (not a public
 * header: other modules include hook.h only).
 *
 *   config.c   the configuration file: parse, validate (every problem), free
 *   event.c    lifecycle event parsing: EventBridge, bare ASG notification,
 *              TEST_NOTIFICATION, SNS envelope
 *   state.c    the durable state store (SQLite, WAL)
 *   log.c      JSON log lines
 *   intake.c   POST /v1/events (auth, limits, commit, answer)
 *   admin.c    /healthz, /readyz, /v1/actions
 *   serve.c    `multus-hookd serve` and `check-config`: loop, listeners, signals
 *
 * Everything here runs on the one loop thread. */
#ifndef HOOK_INTERNAL_H
#define HOOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hk_caps.h"
#include "hk_common.h"

struct event_base;
struct evhttp_request;

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

typedef enum hook_terminate_mode {
	HOOK_TERMINATE_DELETE = 0,	      /* detach and delete the ENIs ourselves */
	HOOK_TERMINATE_DELETE_ON_TERMINATION, /* rely on DeleteOnTermination */
} hook_terminate_mode;

typedef enum hook_auth_kind {
	HOOK_AUTH_API_KEY = 0, /* a header carries a shared secret */
	HOOK_AUTH_BASIC,       /* HTTP Basic (RFC 7617) */
} hook_auth_kind;

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

typedef struct hook_config {
	char *path; /* the file it came from (or NULL) */
	/* aws */
	char *region;		    /* NULL = SDK environment */
	char *endpoint_ec2;	    /* NULL = default */
	char *endpoint_autoscaling; /* NULL = default */
	char *endpoint_sts;	    /* NULL = default */
	/* listeners */
	hook_listener_cfg intake; /* default 0.0.0.0:8080 */
	hook_listener_cfg admin;  /* default 127.0.0.1:9901 */
	/* auth: the secret is read at load, wiped at free, never logged */
	hook_auth_kind auth_kind;
	char *auth_header;   /* api_key: header name (default "x-api-key") */
	char *auth_username; /* basic */
	char *auth_secret;   /* api_key value, or basic password */
	size_t auth_secret_len;
	char *auth_basic_expect; /* basic: base64("user:password"), precomputed */
	size_t auth_basic_expect_len;
	/* state */
	char *state_dir;
	/* limits */
	size_t max_body_bytes;		 /* default HK_CAP_HTTP_BODY_DEFAULT */
	size_t max_header_bytes;	 /* default HK_CAP_HTTP_HEADERS_SIZE */
	unsigned max_connections;	 /* default 256 */
	unsigned read_timeout_ms;	 /* idle read/write timeout, default 5000 */
	unsigned request_timeout_ms;	 /* whole request, default 10000 */
	unsigned max_concurrent_actions; /* engine: default 32 */
	unsigned heartbeat_margin_ms;	 /* engine: default 60000 */
	unsigned shutdown_grace_ms;	 /* default 20000 */
	hook_node_group *groups;
	size_t n_groups;
	/* ---- SNS and SQS intake (hook/sns.c, hook/sqs_intake.c; docs/intake.md) ---- */
	bool sns_enabled;	   /* POST /v1/sns answers (default false: 404) */
	char **sns_topic_arns;	   /* allow-list: exact TopicArns */
	size_t n_sns_topic_arns;   /* >= 1 when sns_enabled */
	char *sns_test_ca_file;	   /* TEST ONLY: trust roots for SNS fetches and certs */
	char *sns_test_connect_to; /* TEST ONLY: "HOST:443:ADDR:PORT" for SNS fetches */
	char *sqs_queue_url;	   /* NULL = no SQS consumer */
	char *endpoint_sqs;	   /* aws.endpoints.sqs; NULL = default */
	/* aws.rate_limits: client-side token buckets (REFERENCE.md section 3) */
	double aws_rate_scale;			 /* scale: every bucket x this (default 1) */
	struct hook_rate_limit *aws_rate_limits; /* per family overrides */
	size_t n_aws_rate_limits;
	unsigned sqs_wait_time_s;	   /* long poll, default 20 */
	unsigned sqs_max_messages;	   /* per receive, default 10 */
	unsigned sqs_visibility_timeout_s; /* default 60 */
	/* ---- lifecycle engine (hook/engine*.c; docs/engine.md) ---- */
	unsigned sweep_interval_s; /* limits.sweep_interval_s: orphan sweep, default 600, 0 = off */
	double test_time_scale;	   /* TEST ONLY testing.time_scale: hook timeouts x this (1) */
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

/* Frees everything, wiping the secret. NULL-safe. */
void hook_config_free(hook_config *cfg);

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

/* Depth of nesting of a JSON text (strings respected), stopping early once it
 * exceeds `max`. true when the text nests at most `max` levels. Used before
 * handing untrusted text to jansson (whose own limit is 2048). */
bool hook_json_depth_ok(const char *buf, size_t len, unsigned max);

/* Parse untrusted JSON text: depth-checked (HK_CAP_JSON_DEPTH) before jansson
 * sees it, duplicate keys rejected. HK_ERR_PARSE with ei->text naming the
 * problem, prefixed by "`what`: " when `what` is not NULL. *ret (a new
 * reference) is written only on success. */
HK_MUST_CHECK hk_err hook_json_load(const char *buf, size_t len, const char *what, json_t **ret,
				    hk_errinfo *ei);

/* ======================================================================
 * Auth (intake.c)
 * ====================================================================== */

/* Constant-time equality of two secrets of any lengths: both are hashed
 * (SHA-256) and the digests compared with CRYPTO_memcmp, so neither the
 * content nor the length leaks through timing. */
bool hook_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* Whether a request's headers carry the configured credentials. Reads only
 * the one header that auth needs; never logs. */
bool hook_auth_ok(const hook_config *cfg, struct evhttp_request *req);

/* ======================================================================
 * Lifecycle events (event.c)
 * ====================================================================== */

typedef enum hook_event_kind {
	HOOK_EVENT_LIFECYCLE = 0, /* a lifecycle action to carry out */
	HOOK_EVENT_TEST,	  /* autoscaling:TEST_NOTIFICATION: acknowledge, ignore */
	HOOK_EVENT_SNS_CONTROL,	  /* SNS SubscriptionConfirmation / UnsubscribeConfirmation */
} hook_event_kind;

typedef enum hook_event_source {
	HOOK_SOURCE_EVENTBRIDGE = 0, /* EventBridge event (API destination) */
	HOOK_SOURCE_NOTIFICATION,    /* bare ASG notification (SQS body, direct POST) */
	HOOK_SOURCE_SNS,	     /* SNS Notification envelope around a notification */
} hook_event_source;

typedef enum hook_transition {
	HOOK_TRANSITION_LAUNCHING = 0,
	HOOK_TRANSITION_TERMINATING,
} hook_transition;

/* Field size caps (bytes incl. NUL). AWS limits: names 255, token a UUID. */
#define HOOK_EV_ID_MAX	     129
#define HOOK_EV_NAME_MAX     256
#define HOOK_EV_TOKEN_MAX    129
#define HOOK_EV_INSTANCE_MAX 32
#define HOOK_EV_PLACE_MAX    33

/* A parsed event. Fixed storage except `metadata` (heap, owned: release with
 * hook_event_cleanup). Fields not present are "". */
typedef struct hook_event {
	hook_event_kind kind;
	hook_event_source source;
	hook_transition transition;
	char sns_type[32];			/* SNS_CONTROL: the envelope's Type */
	char event_id[HOOK_EV_ID_MAX];		/* "eventbridge:<id>" / "sns:<MessageId>" / "" */
	char token[HOOK_EV_TOKEN_MAX];		/* LifecycleActionToken */
	char asg[HOOK_EV_NAME_MAX];		/* AutoScalingGroupName */
	char hook[HOOK_EV_NAME_MAX];		/* LifecycleHookName */
	char instance_id[HOOK_EV_INSTANCE_MAX]; /* EC2InstanceId */
	char origin[HOOK_EV_PLACE_MAX];		/* EC2 | AutoScalingGroup | WarmPool | "" */
	char destination[HOOK_EV_PLACE_MAX];
	char *metadata; /* NotificationMetadata (<= HK_CAP_METADATA_LEN chars) or NULL */
} hook_event;

const char *hook_transition_str(hook_transition t); /* "autoscaling:EC2_INSTANCE_..." */
HK_MUST_CHECK hk_err hook_transition_parse(const char *s, hook_transition *ret);

/* Parse one POST body. HK_OK fills *ret (call hook_event_cleanup after).
 * HK_ERR_PARSE: not JSON / too deep. HK_ERR_INVALID: a required field is
 * missing, has the wrong type or a bad value, or the detail-type/transition
 * is not a lifecycle action (ei->text names the field and the reason, fit to
 * send back to the client). HK_ERR_TOO_LARGE: metadata over its cap.
 * `ret` is untouched on failure. Never logs. */
HK_MUST_CHECK hk_err hook_event_parse(const char *body, size_t len, hook_event *ret,
				      hk_errinfo *ei);
void hook_event_cleanup(hook_event *ev);

/* First 8 characters of a lifecycle token followed by "..." (never the whole
 * token in logs). `out` must hold 12 bytes. */
void hook_token_prefix(const char *token, char out[12]);

/* ======================================================================
 * Durable state (state.c)
 * ====================================================================== */

typedef struct hook_store hook_store;

#define HOOK_STORE_FILE		  "multus-hookd.db"
#define HOOK_STORE_LOCK_FILE	  "multus-hookd.lock"
#define HOOK_STORE_SCHEMA_VERSION 3

typedef enum hook_action_state {
	HOOK_ACTION_PENDING = 0, /* committed, not yet picked up by the engine */
	HOOK_ACTION_RUNNING,	 /* the engine is working on it (see step) */
	HOOK_ACTION_CLEANUP,	 /* failed: undoing what it created */
	HOOK_ACTION_COMPLETING,	 /* CompleteLifecycleAction under way */
	HOOK_ACTION_DONE,	 /* completed (result says how) */
	HOOK_ACTION_FAILED,	 /* gave up; could not complete (see last_error) */
	HOOK_ACTION__COUNT
} hook_action_state;

const char *hook_action_state_str(hook_action_state s);
HK_MUST_CHECK hk_err hook_action_state_parse(const char *s, hook_action_state *ret);
/* DONE and FAILED are final; everything else is resumed at start. */
bool hook_action_state_final(hook_action_state s);

/* One lifecycle action. As an input (insert), strings are borrowed and may be
 * NULL where noted; as an output (get/list) every string is heap-allocated
 * (never NULL: "" when empty) and released by hook_action_cleanup. */
typedef struct hook_action {
	int64_t id;
	char *instance_id;
	char *group; /* node group name */
	char *asg;   /* AutoScalingGroupName */
	char *hook;  /* LifecycleHookName */
	char *token; /* LifecycleActionToken */
	hook_transition transition;
	char *origin;	   /* may be NULL on input */
	char *destination; /* may be NULL on input */
	char *metadata;	   /* may be NULL on input */
	char *event_id;	   /* may be NULL on input (then only token+instance dedupe) */
	char *source;	   /* "eventbridge" | "notification" | "sns" */
	hook_action_state state;
	char *step; /* engine-defined step name ("" = not started) */
	unsigned attempts;
	int64_t created_ms; /* unix epoch milliseconds */
	int64_t updated_ms;
	int64_t deadline_ms; /* 0 = none yet */
	char *last_error;
	char *result; /* "CONTINUE" | "ABANDON" | "" */
} hook_action;

void hook_action_cleanup(hook_action *a);
void hook_actions_free(hook_action *v, size_t n);

/* Changes to an action. Fields left at their HOOK_KEEP value are not touched. */
#define HOOK_KEEP_DEADLINE INT64_MIN
typedef struct hook_action_update {
	hook_action_state state;
	const char *step;	/* NULL = keep */
	const char *last_error; /* NULL = keep, "" = clear */
	const char *result;	/* NULL = keep */
	int64_t deadline_ms;	/* HOOK_KEEP_DEADLINE = keep */
	bool add_attempt;	/* attempts += 1 */
} hook_action_update;

/* An ENI an action plans or made. As input strings are borrowed (NULL = "").
 * As output all are heap strings, released by hook_eni_rows_free. */
typedef struct hook_eni_row {
	int64_t action_id;
	char *network; /* network name; (action_id, network) is the key */
	unsigned device_index;
	unsigned network_card_index;
	char *subnet_id;
	char *ipv4;	    /* chosen private IPv4 ("" = DHCP / not chosen) */
	char *ipv6;	    /* chosen IPv6 address(es), comma separated */
	char *client_token; /* CreateNetworkInterface ClientToken */
	char *eni_id;
	char *attachment_id;
	char *state; /* engine-defined ("planned", "created", "attached", "deleted" ...) */
	int64_t updated_ms;
} hook_eni_row;

void hook_eni_rows_free(hook_eni_row *v, size_t n);

/* Open (creating if needed) the store in `dir`: the directory is created 0700
 * when missing; the database file is 0600; an exclusive lock file keeps a
 * second daemon off the same directory (HK_ERR_EXISTS). Migrations run in
 * order inside one transaction; a database newer than this binary is refused
 * (HK_ERR_STATE). HK_ERR_IO for file problems. `ei` says which. */
HK_MUST_CHECK hk_err hook_store_open(const char *dir, hook_store **ret, hk_errinfo *ei);
/* Finalizes statements, checkpoints and closes. NULL-safe. */
void hook_store_close(hook_store *s);

/* The schema version of the open database (PRAGMA user_version). */
int hook_store_schema_version(hook_store *s);

/* Explicit transactions for batching several changes (the functions below
 * join an open transaction instead of starting their own). Not nestable:
 * HK_ERR_STATE when one is already open. */
HK_MUST_CHECK hk_err hook_store_begin(hook_store *s);
HK_MUST_CHECK hk_err hook_store_commit(hook_store *s);
void hook_store_rollback(hook_store *s);

/* Insert a new action in state PENDING unless one exists with the same
 * (token, instance_id) or the same event_id. *ret_id is the new or existing
 * id; *ret_created says which. `a` is borrowed; its id/state/step/attempts/
 * timestamps are ignored (created_ms = updated_ms = now). Errors: HK_ERR_INVALID
 * (a required string missing), HK_ERR_TRANSIENT (database busy), HK_ERR_IO. */
HK_MUST_CHECK hk_err hook_store_action_insert(hook_store *s, const hook_action *a, int64_t *ret_id,
					      bool *ret_created);

/* HK_ERR_NOT_FOUND when no such action. */
HK_MUST_CHECK hk_err hook_store_action_get(hook_store *s, int64_t id, hook_action *ret);

/* Apply `u` (and updated_ms = now). HK_ERR_NOT_FOUND when no such action. */
HK_MUST_CHECK hk_err hook_store_action_update(hook_store *s, int64_t id,
					      const hook_action_update *u);

/* Actions in `state` (or every state when state == HOOK_ACTION__COUNT), newest
 * first, at most `limit`. *ret_v may be NULL when *ret_n is 0. */
HK_MUST_CHECK hk_err hook_store_action_list(hook_store *s, hook_action_state state, size_t limit,
					    hook_action **ret_v, size_t *ret_n);

/* Every action not in a final state, oldest first (to resume at start). */
HK_MUST_CHECK hk_err hook_store_action_list_unfinished(hook_store *s, hook_action **ret_v,
						       size_t *ret_n);

/* The actions of one instance, newest first, at most `limit` (any state).
 * HK_ERR_INVALID for an empty instance id. */
HK_MUST_CHECK hk_err hook_store_action_list_instance(hook_store *s, const char *instance_id,
						     size_t limit, hook_action **ret_v,
						     size_t *ret_n);

/* Insert or replace the ENI row (row->action_id, row->network). */
HK_MUST_CHECK hk_err hook_store_eni_put(hook_store *s, const hook_eni_row *row);

/* ENI rows of one action, in device-index order. */
HK_MUST_CHECK hk_err hook_store_eni_list(hook_store *s, int64_t action_id, hook_eni_row **ret_v,
					 size_t *ret_n);

/* ENI rows in `subnet_id` whose action is unfinished: the addresses this
 * daemon holds back from the allocator. */
HK_MUST_CHECK hk_err hook_store_eni_list_held(hook_store *s, const char *subnet_id,
					      hook_eni_row **ret_v, size_t *ret_n);

/* A write transaction that changes nothing durable but needs the write lock
 * and a journal write (readiness probe). HK_OK when writable now. */
HK_MUST_CHECK hk_err hook_store_check_writable(hook_store *s);

/* "eventbridge" | "notification" | "sns" (hook_action.source). */
const char *hook_store_source_str(hook_event_source src);

/* Milliseconds since the Unix epoch (wall clock, for records and logs). */
int64_t hook_now_ms(void);

/* ======================================================================
 * Logging (log.c): one JSON object per line
 * ====================================================================== */

typedef enum hook_log_level {
	HOOK_LOG_DEBUG = 0,
	HOOK_LOG_INFO,
	HOOK_LOG_WARN,
	HOOK_LOG_ERROR,
} hook_log_level;

HK_MUST_CHECK hk_err hook_log_level_parse(const char *s, hook_log_level *ret);
const char *hook_log_level_str(hook_log_level l);

/* Log to `path` (append, 0600, reopened by hook_log_reopen) or to stderr when
 * NULL. HK_ERR_IO when the file cannot be opened. Before any call, logging
 * goes to stderr at INFO. */
HK_MUST_CHECK hk_err hook_log_open(const char *path, hook_log_level level);
/* Reopen the log file (SIGHUP, after rotation). No-op for stderr. */
HK_MUST_CHECK hk_err hook_log_reopen(void);
void hook_log_close(void);
bool hook_log_enabled(hook_log_level l);

/* One line {"time","level","msg", then `fields`}. `fields` (may be NULL) is a
 * JSON object whose reference is STOLEN (json_pack() output can be passed
 * directly; a NULL from a failed json_pack just drops the fields). Never pass
 * secrets: log.c cannot know which strings are. */
void hook_log_json(hook_log_level l, const char *msg, json_t *fields);
/* Convenience: string fields as "key", "value" pairs, NULL-terminated. */
void hook_log(hook_log_level l, const char *msg, ...) __attribute__((sentinel));

/* ======================================================================
 * Health flags and the engine interface
 * ====================================================================== */

typedef enum hook_tristate {
	HOOK_UNKNOWN = 0, /* not checked yet: does not block readiness */
	HOOK_YES,
	HOOK_NO,
} hook_tristate;

typedef enum hook_health_flag {
	HOOK_HEALTH_REGION = 0,	   /* the region is resolved */
	HOOK_HEALTH_CREDENTIALS,   /* credentials were obtained */
	HOOK_HEALTH_AWS_REACHABLE, /* the last AWS call got an answer */
	HOOK_HEALTH__COUNT
} hook_health_flag;

/* Readiness inputs the engine reports; admin.c reads them. */
typedef struct hook_health {
	hook_tristate flag[HOOK_HEALTH__COUNT];
	int64_t checked_ms[HOOK_HEALTH__COUNT]; /* when each was last set */
	char detail[HOOK_HEALTH__COUNT][128];	/* why NO (no secrets) */
	bool draining;				/* SIGTERM received */
} hook_health;

const char *hook_health_flag_str(hook_health_flag f);
/* Set one flag (detail may be NULL; it is copied, truncated). */
void hook_health_set(hook_health *h, hook_health_flag f, hook_tristate v, const char *detail);

/* The lifecycle engine as seen by intake and serve. The engine (engine.c, not
 * yet written) provides its own ops; until then serve wires hook_engine_noop,
 * which leaves actions PENDING in the store. Every op runs on the loop thread
 * and must not block; callbacks it makes are asynchronous. */
typedef void (*hook_engine_drained_fn)(void *arg);

typedef struct hook_engine_ops {
	/* After listeners are up: resume unfinished actions (the engine reads
	 * them with hook_store_action_list_unfinished). May be NULL. */
	void (*start_fn)(void *impl);
	/* A new action `action_id` was committed (state PENDING) and answered
	 * 202. The engine takes it from the store. Must not block. */
	void (*submit_fn)(void *impl, int64_t action_id);
	/* SIGTERM: start no new work, finish or checkpoint what is in flight,
	 * then call done(arg) exactly once (possibly later; never synchronously
	 * from inside drain_fn). serve gives up waiting after shutdown_grace_ms. */
	void (*drain_fn)(void *impl, hook_engine_drained_fn done, void *arg);
	/* Free everything; called once, after the loop stopped. May be NULL. */
	void (*free_fn)(void *impl);
} hook_engine_ops;

typedef struct hook_engine {
	const hook_engine_ops *ops;
	void *impl;
} hook_engine;

/* Dispatch helpers: NULL-safe on `e` and on each optional op. */
void hook_engine_start(hook_engine *e);
void hook_engine_submit(hook_engine *e, int64_t action_id);
void hook_engine_drain(hook_engine *e, hook_engine_drained_fn done, void *arg);
void hook_engine_free(hook_engine *e);

/* The placeholder engine: submit does nothing (the action stays PENDING in the
 * store, to be resumed by the real engine), drain reports done on the next
 * loop turn. */
HK_MUST_CHECK hk_err hook_engine_noop_new(struct event_base *base, hook_engine *ret);

/* ======================================================================
 * HTTP services (intake.c, admin.c)
 * ====================================================================== */

typedef struct hook_intake hook_intake;
typedef struct hook_admin hook_admin;

/* Bind the intake listener from cfg->intake with every limit of cfg. All
 * pointers are borrowed and must outlive the intake. *ret_port is the port
 * actually bound (useful with port 0). HK_ERR_IO when it cannot bind. */
HK_MUST_CHECK hk_err hook_intake_new(struct event_base *base, const hook_config *cfg,
				     hook_store *store, hook_engine *engine, hook_intake **ret,
				     unsigned *ret_port);
/* Stop accepting connections and close idle ones (SIGTERM). */
void hook_intake_stop(hook_intake *in);
void hook_intake_free(hook_intake *in);

HK_MUST_CHECK hk_err hook_admin_new(struct event_base *base, const hook_config *cfg,
				    hook_store *store, const hook_health *health, hook_admin **ret,
				    unsigned *ret_port);
void hook_admin_free(hook_admin *ad);

/* Shared by intake and admin: send `status` with a JSON body
 * {"status": <status_word>, "reason": <reason>} plus `extra` fields (stolen,
 * may be NULL). */
void hook_http_reply_json(struct evhttp_request *req, int status, json_t *body);
void hook_http_reply_reason(struct evhttp_request *req, int status, const char *word,
			    const char *reason);
/* The port a bound evhttp socket listens on. HK_ERR_IO if unknown. */
struct evhttp_bound_socket;
HK_MUST_CHECK hk_err hook_http_bound_port(struct evhttp_bound_socket *sock, unsigned *ret);

#endif
