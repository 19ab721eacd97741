/* hook/core: what every room of the daemon shares. JSON log lines (log.c),
 * the health flags readiness is made of (health.c), HTTP replies and bound
 * ports (http.c), the lifecycle vocabulary: transitions, event sources,
 * token prefixes, SNS host names (names.c). Depends on common/ and libevent
 * only; everything above it may use it. Everything runs on the loop thread. */
#ifndef HOOK_CORE_H
#define HOOK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hk_caps.h"
#include "hk_common.h"
#include "hk_util.h"

struct event_base;
struct evhttp_request;
struct evhttp_bound_socket;

/* ======================================================================
 * Lifecycle vocabulary (names.c)
 * ====================================================================== */

typedef enum hook_event_source {
	HOOK_SOURCE_EVENTBRIDGE = 0, /* EventBridge event (API destination) */
	HOOK_SOURCE_NOTIFICATION,    /* bare ASG notification (SQS body, direct POST) */
	HOOK_SOURCE_SNS,	     /* SNS Notification envelope around a notification */
} hook_event_source;

typedef enum hook_transition {
	HOOK_TRANSITION_LAUNCHING = 0,
	HOOK_TRANSITION_TERMINATING,
} hook_transition;

const char *hook_transition_str(hook_transition t); /* "autoscaling:EC2_INSTANCE_..." */
HK_MUST_CHECK hk_err hook_transition_parse(const char *s, hook_transition *ret);

/* First 8 characters of a lifecycle token followed by "..." (never the whole
 * token in logs). `out` must hold 12 bytes. */
void hook_token_prefix(const char *token, char out[12]);

/* Whether `host` (`len` bytes, not NUL-terminated) is an SNS endpoint host:
 * sns.<region>.amazonaws.com or .amazonaws.com.cn. */
bool hook_sns_host_ok(const char *host, size_t len);

/* Milliseconds since the Unix epoch (wall clock, for records and logs). */
static inline int64_t hook_now_ms(void)
{
	return hk_wall_ms();
}

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
/* The libraries' own messages go through this logger as JSON lines (with
 * "library"): libevent's warnings, which it would print raw to stderr. libcurl
 * prints nothing unless asked (CURLOPT_VERBOSE, never set); OpenSSL and SQLite
 * report through return codes, which the daemon logs itself. */
void hook_log_route_libraries(void);
bool hook_log_enabled(hook_log_level l);

/* One line {"time","level","msg", then `fields`}. `fields` (may be NULL) is a
 * JSON object whose reference is STOLEN (json_pack() output can be passed
 * directly; a NULL from a failed json_pack just drops the fields). Never pass
 * secrets: log.c cannot know which strings are. */
void hook_log_json(hook_log_level l, const char *msg, json_t *fields);
/* A warn line about a rejected request (fields stolen, "reason" added): at
 * most one per (msg, reason) per second and 20 a second in all, with the
 * count of lines left out ("suppressed"). msg must be a static string. */
void hook_log_rejected(const char *msg, const char *reason, json_t *fields);
/* Unix-epoch milliseconds as "2026-12-07T14:56:35.123Z" (UTC); "" for ms <= 0. */
void hook_format_time_ms(int64_t ms, char *buf, size_t len);
/* Convenience: string fields as "key", "value" pairs, NULL-terminated. */
void hook_log(hook_log_level l, const char *msg, ...) __attribute__((sentinel));

/* ======================================================================
 * Health flags (health.c): readiness inputs the engine and the probe report,
 * the admin listener reads
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

/* ======================================================================
 * HTTP replies (http.c), shared by the intake and admin listeners
 * ====================================================================== */

/* Send `status` with a JSON body
 * {"status": <status_word>, "reason": <reason>} plus `extra` fields (stolen,
 * may be NULL). */
void hook_http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* evhttp_send_reply, except that a HEAD request gets the Content-Length of
 * `body` and no body. */
struct evbuffer;
void hook_http_send(struct evhttp_request *req, int status, struct evbuffer *body);
void hook_http_reply_reason(struct evhttp_request *req, int status, const char *word,
			    const char *reason);
/* The port a bound evhttp socket listens on. HK_ERR_IO if unknown. */
HK_MUST_CHECK hk_err hook_http_bound_port(struct evhttp_bound_socket *sock, unsigned *ret);

/* The gate every request passes before evhttp parses it (gate.c): the
 * head is read (at most head_cap bytes) and refused when its framing is
 * ambiguous (bare LF, a Content-Length that is not plain digits or two that
 * disagree, two Transfer-Encodings or one other than chunked, both kinds,
 * HTTP/1.1 without one Host, folded lines, a version other than 1.0/1.1);
 * then `check` judges the head (credentials) before evhttp reads any body
 * byte; the body is followed as framed, chunk extensions blanked in place. */
/* A request line's allowance on top of limits.max_header_bytes (the gate's
 * head cap is their sum). */
#define HOOK_REQUEST_LINE_MAX 8192u
typedef struct hook_gate_head {
	const char *method, *target;
	const char *const *lines; /* header lines, "Name: value" */
	size_t n_lines;
	bool http11, chunked;
	unsigned long long content_length;
} hook_gate_head;
/* status 0: let it through; else the answer, after which the connection
 * closes (reason: the JSON reason; www_authenticate: that header, if any). */
typedef struct hook_gate_verdict {
	int status;
	const char *reason;
	const char *www_authenticate;
} hook_gate_verdict;
typedef hook_gate_verdict (*hook_gate_check_fn)(const hook_gate_head *h, void *arg);
typedef struct hook_gate hook_gate;
hook_gate *hook_gate_new(size_t head_cap, hook_gate_check_fn check, void *arg);
void hook_gate_free(hook_gate *g);
/* Between requests: the next head not complete yet (none of it, or part). */
bool hook_gate_waiting_head(const hook_gate *g);
/* Feed the bytes just read, before evhttp sees them (chunk extensions are
 * blanked in `data`). A verdict with a status: refuse the connection with
 * that answer (and feed nothing more). */
hook_gate_verdict hook_gate_feed(hook_gate *g, char *data, size_t n);
/* A header's value (the first of that name, case-insensitive, leading
 * blanks skipped), or NULL. */
const char *hook_gate_header(const hook_gate_head *h, const char *name);

/* The connections of one evhttp listener (listen.c): a cap (0: none) at
 * which a new client closes the oldest connection still waiting for a
 * request head (slow clients cannot hold the door; when none waits, new
 * clients wait in the kernel backlog), a per-source cap (0: none), a
 * whole-request deadline (a connection that has not delivered a complete
 * request by then is cut), and a pause instead of a spin when accept() runs
 * out of descriptors. */
typedef struct hook_listen_cfg {
	const char *name; /* "intake", "admin": in log lines */
	unsigned max_connections;
	unsigned max_per_source; /* open connections from one address (0: any) */
	int64_t request_timeout_ms;
	size_t max_header_bytes;  /* evhttp's cap on the headers */
	size_t head_cap;	  /* the gate's cap on a request head (hook_gate) */
	hook_gate_check_fn check; /* judges each head before its body (NULL: all pass) */
	void *check_arg;
} hook_listen_cfg;
typedef struct hook_listen hook_listen;
struct evhttp;
struct evhttp_request;
/* A listener: its evhttp (max_header_bytes set, every request to
 * on_request(req, arg)) with every connection tracked. */
HK_MUST_CHECK hk_err hook_listen_new(struct event_base *base, const hook_listen_cfg *cfg,
				     void (*on_request)(struct evhttp_request *req, void *arg),
				     void *arg, hook_listen **ret);
/* Its evhttp, for the listener's own settings (body cap, idle timeout). */
struct evhttp *hook_listen_http(hook_listen *l);
/* Listen on address:port (0: any free port, given back in *ret_port). */
HK_MUST_CHECK hk_err hook_listen_bind(hook_listen *l, const char *address, unsigned port,
				      unsigned *ret_port);
/* New limits (reload); open connections keep their deadline. */
void hook_listen_set_cfg(hook_listen *l, const hook_listen_cfg *cfg);
/* A complete request arrived on req's connection: its next one gets a fresh
 * deadline (keep-alive). */
void hook_listen_request_done(hook_listen *l, struct evhttp_request *req);
/* Stop accepting (shutdown); open connections go on. */
void hook_listen_stop(hook_listen *l);
/* Frees the evhttp, then what is left of every connection. */
void hook_listen_free(hook_listen *l);

/* Free a libevent event and clear the pointer (nothing when it is NULL). */
struct event;
void hook_event_free(struct event **ev);

/* ---- metrics (metrics.c; docs/operations.md#metrics) ---- */
#include "hk_metrics.h"

/* The families every module updates (NULL before hook_metrics_init() or
 * after a failure: the update functions then do nothing). */
typedef struct hook_metrics_set {
	hk_metric *events;		/* source, outcome */
	hk_metric *actions_finished;	/* transition, result */
	hk_metric *completion_seconds;	/* transition */
	hk_metric *aws_calls;		/* service, action, outcome */
	hk_metric *aws_retries;		/* family */
	hk_metric *bucket_waits;	/* family */
	hk_metric *bucket_wait_seconds; /* family */
	hk_metric *rate_factor;		/* family (gauge) */
	hk_metric *heartbeats;		/* outcome */
	hk_metric *enis;		/* event */
	hk_metric *orphans_swept;
	hk_metric *sqs_messages;     /* event */
	hk_metric *in_flight;	     /* step (gauge, at collection) */
	hk_metric *oldest_age;	     /* gauge, at collection */
	hk_metric *aws_call_seconds; /* action (histogram) */
	hk_metric *subnet_free;	     /* subnet, network (gauge, at collection) */
	hk_metric *subnet_resv;	     /* subnet, network (gauge, at collection) */
} hook_metrics_set;
extern hook_metrics_set hook_m;

/* Make the process's registry and its families (once, at start). */
HK_MUST_CHECK hk_err hook_metrics_init(const char *version);
hk_metrics *hook_metrics_registry(void);
void hook_metrics_free(void);

#endif
