/* POST /v1/events: authenticate, bound, parse, commit, answer.
 *
 * Order matters: auth is checked before the body is parsed; the action is
 * committed to the store before 202 is sent; the engine hears of it only
 * after that. A store failure answers 503 (EventBridge and SNS retry 5xx),
 * so nothing that was answered 2xx can be lost.
 *
 * Limits: evhttp enforces the body cap (413, before reading a body whose
 * Content-Length is too large), the header cap and the per-read idle timeout;
 * the connection cap, the whole-request deadline and the pause when accept()
 * runs out of descriptors are core's hook_listen (listen.c). */
#include "intake_internal.h"

#include "hk_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define RETRY_AFTER_S "5"

struct hook_intake {
	struct event_base *base;
	const hook_config *cfg;
	hook_store *store;
	hook_engine *engine;
	struct evhttp *http;
	hook_listen *listen;
	hook_sns *sns; /* POST /v1/sns when sns.enabled (sns.c) */
	bool stopped;
};

/* ------------------------------------------------------------------- auth */

static const char *evhttp_get(const void *h, const char *name)
{
	return evhttp_find_header(h, name);
}

static const char *gate_get(const void *h, const char *name)
{
	return hook_gate_header(h, name);
}

bool hook_auth_ok(const hook_config *cfg, struct evhttp_request *req)
{
	return hook_auth_headers_ok(&cfg->auth, evhttp_get, evhttp_request_get_input_headers(req));
}

#define BASIC_CHALLENGE "Basic realm=\"multus-hookd\", charset=\"UTF-8\""

/* The gate's check (hook_gate): credentials before any body byte is read.
 * /v1/sns carries none (the message signature authenticates it) unless
 * Basic auth is configured; /v1/events needs them for a POST. Another path
 * with a body is answered 404 at once, its body never read; without one it
 * goes to its handler (404, 405). */
static hook_gate_verdict gate_check(const hook_gate_head *h, void *arg)
{
	hook_intake *in = arg;
	size_t plen = strcspn(h->target, "?#");
	bool sns = in->sns && plen == 7 && !strncmp(h->target, "/v1/sns", 7);
	bool events = plen == 10 && !strncmp(h->target, "/v1/events", 10);
	bool body = h->chunked || h->content_length > 0;
	if (!sns && !events && body)
		return (hook_gate_verdict){.status = 404,
					   .reason = "POST lifecycle events to /v1/events"};
	bool need =
	    sns ? in->cfg->auth.kind == HOOK_AUTH_BASIC : !strcmp(h->method, "POST") || body;
	if (!need || hook_auth_headers_ok(&in->cfg->auth, gate_get, h))
		return (hook_gate_verdict){0};
	return (hook_gate_verdict){
	    .status = 401,
	    .reason = "missing or wrong credentials",
	    .www_authenticate = in->cfg->auth.kind == HOOK_AUTH_BASIC ? BASIC_CHALLENGE : NULL};
}

/* ---------------------------------------------------------------- replies */

/* The intake listener's limits (hook_listen). */
static hook_listen_cfg listen_cfg(hook_intake *in, const hook_config *cfg)
{
	return (hook_listen_cfg){.name = "intake",
				 .max_connections = cfg->max_connections,
				 .max_per_source = cfg->max_connections_per_source,
				 .request_timeout_ms = cfg->request_timeout_ms,
				 .max_header_bytes = cfg->max_header_bytes,
				 .head_cap = cfg->max_header_bytes + HOOK_REQUEST_LINE_MAX,
				 .check = gate_check,
				 .check_arg = in};
}

/* -------------------------------------------------------------- /v1/events */

static void reply_401(hook_intake *in, struct evhttp_request *req)
{
	if (in->cfg->auth.kind == HOOK_AUTH_BASIC)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
				  BASIC_CHALLENGE);
	hook_http_reply_reason(req, 401, "unauthorized", "missing or wrong credentials");
	hook_log_rejected("intake request rejected", "unauthorized", NULL);
}

void hook_intake_reply_commit(struct evhttp_request *req, hook_commit_result r, int64_t id,
			      const hook_event *ev)
{
	char reason[400] = "test notification acknowledged";
	int status = 200;
	const char *label = "ignored";
	switch (r) {
	case HOOK_COMMIT_IGNORED:
		break;
	case HOOK_COMMIT_FOREIGN_HOOK:
		snprintf(reason, sizeof(reason),
			 "lifecycle hook \"%.255s\" is not one of this daemon's hook_names: left "
			 "to its owner",
			 ev->hook);
		break;
	case HOOK_COMMIT_NO_GROUP:
		snprintf(reason, sizeof(reason),
			 "no node_groups entry matches AutoScalingGroupName \"%.255s\" and its "
			 "NotificationMetadata",
			 ev->asg);
		status = 400;
		label = "bad request";
		break;
	case HOOK_COMMIT_STORE_FAILED:
		hook_intake_reply_503(req, "the state store cannot commit the event now: retry");
		return;
	case HOOK_COMMIT_ACCEPTED:
	case HOOK_COMMIT_DUPLICATE:
		status = 0;
		break;
	}
	if (status) {
		hook_http_reply_reason(req, status, label, reason);
		return;
	}
	bool created = r == HOOK_COMMIT_ACCEPTED;
	hook_http_reply_json(req, created ? 202 : 200,
			     json_pack("{s:s,s:I}", "status", created ? "accepted" : "duplicate",
				       "action_id", (json_int_t)id));
}

void hook_intake_reply_503(struct evhttp_request *req, const char *reason)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", RETRY_AFTER_S);
	hook_http_reply_reason(req, 503, "unavailable", reason);
}

static void handle_event(hook_intake *in, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (len > in->cfg->max_body_bytes) { /* evhttp enforces it; belt and braces */
		hook_http_reply_reason(req, 413, "too large", "body exceeds limits.max_body_bytes");
		return;
	}
	/* SNS control messages announce themselves in a header too. */
	const char *sns_type =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "x-amz-sns-message-type");
	const char *data = len ? (const char *)evbuffer_pullup(body, -1) : "";
	hook_event ev;
	hk_errinfo ei = {0};
	hk_err err = hook_event_parse(data, len, &ev, &ei);
	if (err) {
		int status = err == HK_ERR_NOMEM ? 503 : 400;
		if (status == 503)
			hook_intake_reply_503(req, "out of memory");
		else
			hook_http_reply_reason(req, 400, "bad request", ei.text);
		hook_log_rejected("intake event rejected", ei.text, NULL);
		return;
	}
	if (ev.kind == HOOK_EVENT_SNS_CONTROL ||
	    (sns_type && (!strcmp(sns_type, "SubscriptionConfirmation") ||
			  !strcmp(sns_type, "UnsubscribeConfirmation")))) {
		/* Confirming means fetching SubscribeURL, which is only safe once the
		 * signature is verified: that is /v1/sns (sns.c), not this path. */
		hook_http_reply_reason(
		    req, 501, "not implemented",
		    "SNS subscription confirmation is not handled on /v1/events: "
		    "subscribe SNS to /v1/sns (sns.enabled, docs/intake.md)");
		hook_log(HOOK_LOG_WARN, "intake SNS control message refused", "type",
			 ev.kind == HOOK_EVENT_SNS_CONTROL ? ev.sns_type : sns_type, NULL);
		hook_event_cleanup(&ev);
		return;
	}
	int64_t id = 0;
	hook_commit_result r = hook_intake_commit(in->cfg, in->store, in->engine, &ev, "http", &id);
	hook_intake_reply_commit(req, r, id, &ev);
	hook_event_cleanup(&ev);
}

/* ------------------------------------------------------------------ commit */

static hook_commit_result commit_event(const hook_config *cfg, hook_store *store,
				       hook_engine *engine, hook_event *ev, const char *via,
				       int64_t *ret_id)
{
	if (ev->kind == HOOK_EVENT_TEST) {
		hook_log(HOOK_LOG_INFO, "intake test notification acknowledged", "via", via, NULL);
		return HOOK_COMMIT_IGNORED;
	}
	const hook_node_group *g = NULL;
	hook_match m = hook_config_match_event(cfg, ev->asg, ev->hook, ev->metadata, &g);
	char tok[12];
	hook_token_prefix(ev->token, tok);
	if (m == HOOK_MATCH_NO_GROUP) {
		hook_log(HOOK_LOG_WARN, "intake event matches no node group", "asg", ev->asg,
			 "instance", ev->instance_id, "via", via, NULL);
		return HOOK_COMMIT_NO_GROUP;
	}
	if (m == HOOK_MATCH_FOREIGN_HOOK) {
		/* Another tool's hook on a group we serve (a node drainer, a
		 * bootstrap check): its owner completes it. Acknowledged so the
		 * sender does not retry; nothing is stored. */
		hook_log(HOOK_LOG_INFO, "event for another tool's lifecycle hook: ignored", "hook",
			 ev->hook, "node_group", g->name, "asg", ev->asg, "instance",
			 ev->instance_id, "transition", hook_transition_str(ev->transition), "via",
			 via, NULL);
		return HOOK_COMMIT_FOREIGN_HOOK;
	}
	char source[16];
	snprintf(source, sizeof(source), "%s", hook_store_source_str(ev->source));
	hook_action a = {
	    .instance_id = ev->instance_id,
	    .group = g->name,
	    .asg = ev->asg,
	    .hook = ev->hook,
	    .token = ev->token,
	    .transition = ev->transition,
	    .origin = ev->origin,
	    .destination = ev->destination,
	    .metadata = ev->metadata,
	    .event_id = ev->event_id[0] ? ev->event_id : NULL,
	    .source = source,
	};
	int64_t id = 0;
	bool created = false;
	hk_err err = hook_store_action_insert(store, &a, &id, &created);
	if (err) {
		hook_log(HOOK_LOG_ERROR, "intake cannot commit event", "error", hk_err_str(err),
			 "instance", ev->instance_id, "token", tok, "via", via, NULL);
		return HOOK_COMMIT_STORE_FAILED;
	}
	hook_log_json(HOOK_LOG_INFO, created ? "action accepted" : "duplicate event ignored",
		      json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "action_id", (json_int_t)id,
				"instance", ev->instance_id, "group", g->name, "asg", ev->asg,
				"transition", hook_transition_str(ev->transition), "token", tok,
				"event_id", ev->event_id, "via", via));
	if (ret_id)
		*ret_id = id;
	if (created)
		hook_engine_submit(engine, id);
	return created ? HOOK_COMMIT_ACCEPTED : HOOK_COMMIT_DUPLICATE;
}

hook_commit_result hook_intake_commit(const hook_config *cfg, hook_store *store,
				      hook_engine *engine, hook_event *ev, const char *via,
				      int64_t *ret_id)
{
	static const char *const outcome[] = {
	    [HOOK_COMMIT_ACCEPTED] = "accepted",
	    [HOOK_COMMIT_DUPLICATE] = "duplicate",
	    [HOOK_COMMIT_IGNORED] = "test_notification",
	    [HOOK_COMMIT_FOREIGN_HOOK] = "foreign_hook",
	    [HOOK_COMMIT_NO_GROUP] = "rejected_no_group",
	    [HOOK_COMMIT_STORE_FAILED] = "rejected_store_failed",
	};
	hook_commit_result r = commit_event(cfg, store, engine, ev, via, ret_id);
	hk_metric_inc2(hook_m.events, via, outcome[r]);
	return r;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	hook_intake *in = arg;
	hook_listen_request_done(in->listen, req);
	if (in->stopped) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		hook_intake_reply_503(req, "shutting down");
		return;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path && in->sns && !strcmp(path, "/v1/sns")) {
		/* SNS cannot send the API key header: the message signature and the
		 * topic allow-list authenticate it (sns.c); Basic auth, which SNS
		 * sends from the endpoint URL, is required when it is configured. */
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
			hook_http_reply_reason(req, 405, "method not allowed", "use POST");
		} else if (in->cfg->auth.kind == HOOK_AUTH_BASIC && !hook_auth_ok(in->cfg, req)) {
			reply_401(in, req);
		} else {
			hook_sns_handle(in->sns, req);
		}
		return;
	}
	if (!path || strcmp(path, "/v1/events") != 0) {
		hook_http_reply_reason(req, 404, "not found",
				       "POST lifecycle events to /v1/events");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		hook_http_reply_reason(req, 405, "method not allowed", "use POST");
		return;
	}
	if (!hook_auth_ok(in->cfg, req)) {
		reply_401(in, req);
		return;
	}
	handle_event(in, req);
}

/* ------------------------------------------------------------- lifecycle */

hk_err hook_intake_new(struct event_base *base, const hook_config *cfg, hook_store *store,
		       hook_engine *engine, hook_intake **ret, unsigned *ret_port)
{
	hook_intake *in = malloc(sizeof(*in));
	if (!in)
		return HK_ERR_NOMEM;
	*in = (hook_intake){.base = base, .cfg = cfg, .store = store, .engine = engine};
	hook_listen_cfg lc = listen_cfg(in, cfg);
	if (hook_listen_new(base, &lc, on_request, in, &in->listen) != HK_OK) {
		hook_intake_free(in);
		return HK_ERR_NOMEM;
	}
	in->http = hook_listen_http(in->listen);
	evhttp_set_max_body_size(in->http, (ev_ssize_t)cfg->max_body_bytes);
	struct timeval tv = {(time_t)(cfg->read_timeout_ms / 1000),
			     (suseconds_t)((cfg->read_timeout_ms % 1000) * 1000)};
	evhttp_set_timeout_tv(in->http, &tv);
	if (cfg->sns_enabled) {
		hk_err serr = hook_sns_new(base, cfg, store, engine, &in->sns);
		if (serr) {
			hook_log(HOOK_LOG_ERROR, "cannot set up SNS intake (trust roots?)", "error",
				 hk_err_str(serr), NULL);
			hook_intake_free(in);
			return serr;
		}
	}
	unsigned port = 0;
	if (hook_listen_bind(in->listen, cfg->intake.address, cfg->intake.port, &port) != HK_OK) {
		hook_intake_free(in);
		return HK_ERR_IO;
	}
	if (ret_port)
		*ret_port = port;
	*ret = in;
	return HK_OK;
}

void hook_intake_stop(hook_intake *in)
{
	if (!in || in->stopped)
		return;
	hook_listen_stop(in->listen);
	in->stopped = true;
}

void hook_intake_free(hook_intake *in)
{
	if (!in)
		return;
	hook_sns_free(in->sns);	      /* drops its waiting requests: before evhttp_free */
	hook_listen_free(in->listen); /* the evhttp, then every connection */
	free(in);
}

void hook_intake_set_config(hook_intake *in, const hook_config *cfg)
{
	if (!in)
		return;
	in->cfg = cfg;
	hook_listen_cfg lc = listen_cfg(in, cfg);
	hook_listen_set_cfg(in->listen, &lc);
	evhttp_set_max_body_size(in->http, (ev_ssize_t)cfg->max_body_bytes);
	struct timeval tv = {(time_t)(cfg->read_timeout_ms / 1000),
			     (suseconds_t)((cfg->read_timeout_ms % 1000) * 1000)};
	evhttp_set_timeout_tv(in->http, &tv);
	hook_sns_set_config(in->sns, cfg);
}
