/* The admin listener (default 127.0.0.1:9901; listeners.admin.auth, required
 * off loopback, guards all but the probes):
 *   GET /healthz           200 while the process runs its loop
 *   GET /readyz            200 when the store was writable at its last check
 *                          (at most one write per probe interval), the region is
 *                          resolved and neither credentials nor AWS
 *                          reachability is "no"; 503 otherwise or while
 *                          draining
 *   GET /v1/actions        ?state=<state>&limit=<1..1000, default 100>
 *   GET /v1/actions/<id>   one action with its ENI rows
 *   POST /v1/actions/<id>/retry
 *   POST /v1/reconcile     ?group=&instance_id=&dry_run=1: start a reconcile
 *   GET /v1/reconcile/<id> its report once done
 * Lifecycle tokens are shown as a short prefix only. */
#include "hook_admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

#define ADMIN_LIST_DEFAULT 100u
#define ADMIN_MAX_BODY	   4096
#define ADMIN_TIMEOUT_S	   10
#define ADMIN_RECONCILES   16 /* reports kept (the newest) */

/* A reconcile started through the admin API; its report once done. */
typedef struct admin_recon {
	int64_t id; /* 0: slot free */
	bool done;
	json_t *report;
} admin_recon;

struct hook_admin {
	hook_listen *listen;
	int64_t store_checked_ms; /* the last store write check (monotonic) */
	hk_err store_err;	  /* its result */
	const hook_config *cfg;
	hook_store *store;
	const hook_health *health;
	hook_engine *engine; /* borrowed, may be NULL (retry: 503) */
	struct evhttp *http;
	admin_recon recons[ADMIN_RECONCILES];
	int64_t next_recon;
};

/* What the engine's reconcile callback gets: the admin and the slot's id
 * (the slot may have been reused by then). */
typedef struct recon_ref {
	hook_admin *ad;
	int64_t id;
} recon_ref;

static const char *tristate_str(hook_tristate t)
{
	return t == HOOK_YES ? "yes" : t == HOOK_NO ? "no" : "unknown";
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static const char *const outcome_names[] = {"succeeded", "abandoned", "expired", "failed",
					    "in_flight"};

static json_t *action_json(const hook_action *a)
{
	char tok[12], created[40], updated[40], deadline[40];
	hook_token_prefix(a->token, tok);
	hook_format_time_ms(a->created_ms, created, sizeof(created));
	hook_format_time_ms(a->updated_ms, updated, sizeof(updated));
	hook_format_time_ms(a->deadline_ms, deadline, sizeof(deadline));
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer((json_int_t)a->id));
	json_object_set_new(o, "instance_id", json_string(a->instance_id));
	json_object_set_new(o, "group", json_string(a->group));
	json_object_set_new(o, "asg", json_string(a->asg));
	json_object_set_new(o, "hook", json_string(a->hook));
	json_object_set_new(o, "transition", json_string(hook_transition_str(a->transition)));
	json_object_set_new(o, "token_prefix", json_string(tok));
	json_object_set_new(o, "origin", str_or_null(a->origin));
	json_object_set_new(o, "destination", str_or_null(a->destination));
	json_object_set_new(o, "metadata", str_or_null(a->metadata));
	json_object_set_new(o, "event_id", str_or_null(a->event_id));
	json_object_set_new(o, "source", json_string(a->source));
	json_object_set_new(o, "state", json_string(hook_action_state_str(a->state)));
	json_object_set_new(o, "step", json_string(a->step));
	json_object_set_new(o, "attempts", json_integer(a->attempts));
	json_object_set_new(o, "created", json_string(created));
	json_object_set_new(o, "updated", json_string(updated));
	json_object_set_new(o, "deadline", str_or_null(deadline));
	json_object_set_new(o, "last_error", str_or_null(a->last_error));
	json_object_set_new(o, "result", str_or_null(a->result));
	json_object_set_new(o, "outcome", json_string(hook_action_outcome(a)));
	int64_t age = (hook_now_ms() - a->created_ms) / 1000;
	json_object_set_new(o, "age_s", json_integer(age > 0 ? age : 0));
	return o;
}

static json_t *eni_json(const hook_eni_row *r)
{
	return json_pack("{s:s,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "network", r->network,
			 "device_index", (int)r->device_index, "network_card_index",
			 (int)r->network_card_index, "subnet_id", str_or_null(r->subnet_id), "ipv4",
			 str_or_null(r->ipv4), "ipv6", str_or_null(r->ipv6), "eni_id",
			 str_or_null(r->eni_id), "attachment_id", str_or_null(r->attachment_id),
			 "state", str_or_null(r->state));
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || !end || *end || v > max)
		return false;
	*ret = v;
	return true;
}

/* A parsed query string and the first problem found in it (why[0] set). */
typedef struct admin_query {
	struct evkeyvalq kv;
	char why[200];
} admin_query;

/* Parse `query` into q->kv and check its keys against `allowed` (NULL-ended;
 * they name themselves in the error). false: answered 400 already. q->why is
 * set (and q->kv filled) when a key is unknown: the caller answers after
 * freeing q->kv. */
static bool query_parse(struct evhttp_request *req, const char *query, const char *const *allowed,
			admin_query *q)
{
	TAILQ_INIT(&q->kv);
	q->why[0] = '\0';
	if (query && evhttp_parse_query_str(query, &q->kv) != 0) {
		hook_http_reply_reason(req, 400, "bad request", "malformed query string");
		return false;
	}
	struct evkeyval *kv;
	TAILQ_FOREACH(kv, &q->kv, next)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(kv->key, allowed[i]) == 0;
		if (!ok) {
			char expected[120] = "";
			size_t off = 0;
			for (size_t i = 0; allowed[i] && off < sizeof(expected); i++)
				off += (size_t)snprintf(expected + off, sizeof(expected) - off,
							"%s%s", i ? ", " : "", allowed[i]);
			snprintf(q->why, sizeof(q->why),
				 "unknown query key \"%.40s\" (expected %s)", kv->key, expected);
			break;
		}
	}
	return true;
}

/* GET /v1/actions: ?state= (a stored state, or an outcome), ?instance_id=,
 * ?limit=; any other key is refused. */
static void handle_list(hook_admin *ad, struct evhttp_request *req, const char *query)
{
	admin_query q;
	if (!query_parse(req, query, (const char *const[]){"state", "instance_id", "limit", NULL},
			 &q))
		return;
	hook_action_state state = HOOK_ACTION__COUNT;
	const char *outcome = NULL;
	unsigned long limit = ADMIN_LIST_DEFAULT;
	const char *sv = evhttp_find_header(&q.kv, "state");
	const char *lv = evhttp_find_header(&q.kv, "limit");
	const char *iv = evhttp_find_header(&q.kv, "instance_id");
	for (size_t i = 0; sv && i < HK_ARRAY_LEN(outcome_names); i++)
		if (strcmp(sv, outcome_names[i]) == 0)
			outcome = outcome_names[i];
	if (!q.why[0] && sv && !outcome && hook_action_state_parse(sv, &state) != HK_OK)
		snprintf(
		    q.why, sizeof(q.why),
		    "state: must be one of succeeded, abandoned, expired, failed, in_flight "
		    "(outcomes) or pending, running, cleanup, completing, done (stored states)");
	if (!q.why[0] && lv && (!parse_uint(lv, HK_CAP_ADMIN_LIST, &limit) || limit == 0))
		snprintf(q.why, sizeof(q.why), "limit: must be 1 to 1000");
	if (!q.why[0] && iv && (!*iv || strlen(iv) > 32))
		snprintf(q.why, sizeof(q.why), "instance_id: expected an instance id (i-...)");
	char instance[40] = "";
	if (iv)
		snprintf(instance, sizeof(instance), "%s", iv);
	evhttp_clear_headers(&q.kv);
	if (q.why[0]) {
		hook_http_reply_reason(req, 400, "bad request", q.why);
		return;
	}
	/* an outcome or an instance is filtered here, from up to 1000 rows */
	bool filter = outcome || instance[0];
	size_t fetch = filter ? HK_CAP_ADMIN_LIST : limit;
	hook_action_state base = state;
	if (outcome && strcmp(outcome, "failed") == 0)
		base = HOOK_ACTION_FAILED;
	else if (outcome && strcmp(outcome, "in_flight") != 0)
		base = HOOK_ACTION_DONE;
	hook_action *v = NULL;
	size_t n = 0;
	hk_err err = instance[0]
			 ? hook_store_action_list_instance(ad->store, instance, fetch, &v, &n)
			 : hook_store_action_list(ad->store, base, fetch, &v, &n);
	if (err) {
		hook_http_reply_reason(req, 503, "unavailable", hk_err_str(err));
		return;
	}
	json_t *arr = json_array();
	size_t shown = 0;
	for (size_t i = 0; arr && i < n && shown < limit; i++) {
		if (outcome && strcmp(hook_action_outcome(&v[i]), outcome) != 0)
			continue;
		if (state != HOOK_ACTION__COUNT && v[i].state != state)
			continue;
		json_array_append_new(arr, action_json(&v[i]));
		shown++;
	}
	hook_actions_free(v, n);
	json_t *o = json_pack("{s:o,s:I,s:I}", "actions", arr ? arr : json_array(), "count",
			      (json_int_t)shown, "limit", (json_int_t)limit);
	hook_http_reply_json(req, 200, o);
}

/* The action id of a path, else a 400 answered and false. */
static bool action_id(struct evhttp_request *req, const char *idtext, int64_t *ret)
{
	unsigned long id;
	if (!parse_uint(idtext, (unsigned long)INT64_MAX, &id)) {
		hook_http_reply_reason(req, 400, "bad request", "action id: not a number");
		return false;
	}
	*ret = (int64_t)id;
	return true;
}

/* Action `id` into *a (release with hook_action_cleanup); false when the
 * request was answered already (404 or 503). */
static bool action_get(hook_admin *ad, struct evhttp_request *req, int64_t id, hook_action *a)
{
	hk_err err = hook_store_action_get(ad->store, id, a);
	if (err == HK_ERR_NOT_FOUND) {
		hook_http_reply_reason(req, 404, "not found", "no such action");
		return false;
	}
	if (err) {
		hook_http_reply_reason(req, 503, "unavailable", hk_err_str(err));
		return false;
	}
	return true;
}

static void handle_one(hook_admin *ad, struct evhttp_request *req, const char *idtext)
{
	int64_t id;
	hook_action a;
	if (!action_id(req, idtext, &id) || !action_get(ad, req, id, &a))
		return;
	json_t *o = action_json(&a);
	hook_action_cleanup(&a);
	hook_eni_row *rows = NULL;
	size_t n = 0;
	if (o && hook_store_eni_list(ad->store, (int64_t)id, &rows, &n) == HK_OK) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, eni_json(&rows[i]));
		hook_eni_rows_free(rows, n);
		if (arr)
			json_object_set_new(o, "enis", arr);
	}
	hook_http_reply_json(req, 200, o);
}

/* Readiness (docs/operations.md): the store writable now, not draining, the
 * region resolved, and neither the credentials nor AWS's reachability found
 * failing by the last check (probe.c every 30 s, and every engine call).
 * "unknown" credentials/reachability count as ready: that is only the moment
 * between start and the first probe's answer. */
static void handle_ready(hook_admin *ad, struct evhttp_request *req)
{
	/* The store is written at most once per probe interval whatever the
	 * rate of GETs; a failing store is checked again after a second. */
	int64_t now = hk_mono_ms();
	int64_t every = ad->store_err == HK_OK ? (int64_t)HOOK_PROBE_INTERVAL_S * 1000 : 1000;
	if (!ad->store_checked_ms || now - ad->store_checked_ms >= every) {
		ad->store_err = hook_store_check_writable(ad->store);
		ad->store_checked_ms = now;
	}
	hk_err serr = ad->store_err;
	bool ready = serr == HK_OK && !ad->health->draining;
	json_t *checks = json_object();
	if (checks) {
		json_object_set_new(checks, "store",
				    json_string(serr == HK_OK ? "ok" : hk_err_str(serr)));
		for (int f = 0; f < HOOK_HEALTH__COUNT; f++) {
			hook_tristate t = ad->health->flag[f];
			bool ok = f == HOOK_HEALTH_REGION ? t == HOOK_YES : t != HOOK_NO;
			if (!ok)
				ready = false;
			char when[40];
			hook_format_time_ms(ad->health->checked_ms[f], when, sizeof(when));
			json_t *c = json_pack("{s:s,s:b,s:o}", "state", tristate_str(t), "ok", ok,
					      "checked", str_or_null(when));
			if (c && ad->health->detail[f][0])
				json_object_set_new(c, "detail",
						    json_string(ad->health->detail[f]));
			json_object_set_new(checks, hook_health_flag_str((hook_health_flag)f),
					    c ? c : json_null());
		}
		json_object_set_new(checks, "draining", json_boolean(ad->health->draining));
	}
	json_t *o = json_pack("{s:s,s:o}", "status", ready ? "ready" : "not ready", "checks",
			      checks ? checks : json_object());
	hook_http_reply_json(req, ready ? 200 : 503, o);
}

/* GET /metrics: the Prometheus text format 0.0.4. */
static void handle_metrics(struct evhttp_request *req)
{
	hk_metrics *r = hook_metrics_registry();
	char *text = NULL;
	size_t len = 0;
	if (!r || hk_metrics_render(r, &text, &len) != HK_OK) {
		hook_http_reply_reason(req, 503, "unavailable", "metrics not available");
		return;
	}
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		free(text);
		hook_http_reply_reason(req, 503, "unavailable", "out of memory");
		return;
	}
	evbuffer_add(buf, text, len);
	free(text);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_add_header(oh, "Cache-Control", "no-store");
	hook_http_send(req, 200, buf);
	evbuffer_free(buf);
}

/* POST /v1/actions/<id>/retry: a failed action runs again from the top (its
 * ENIs adopted by their tags) while its lifecycle hook has not expired. */
static void handle_retry(hook_admin *ad, struct evhttp_request *req, const char *idtext)
{
	int64_t id;
	if (!action_id(req, idtext, &id))
		return;
	if (!ad->engine) {
		hook_http_reply_reason(req, 503, "unavailable", "no engine runs actions here");
		return;
	}
	hook_action a;
	if (!action_get(ad, req, id, &a))
		return;
	hk_err err;
	char why[200] = "";
	if (a.state != HOOK_ACTION_FAILED)
		snprintf(why, sizeof(why),
			 "only a failed action can be retried (this one is %s, outcome %s)",
			 hook_action_state_str(a.state), hook_action_outcome(&a));
	else if (a.deadline_ms > 0 && hook_now_ms() >= a.deadline_ms)
		snprintf(why, sizeof(why),
			 "its lifecycle hook has expired: AWS applied the hook's default "
			 "result");
	hook_action_cleanup(&a);
	if (why[0]) {
		hook_http_reply_reason(req, 409, "conflict", why);
		return;
	}
	hook_action_update u = {.state = HOOK_ACTION_PENDING,
				.step = "",
				.last_error = "",
				.result = "",
				.deadline_ms = HOOK_KEEP_DEADLINE,
				.add_attempt = true};
	if ((err = hook_store_action_update(ad->store, (int64_t)id, &u))) {
		hook_http_reply_reason(req, 503, "unavailable", hk_err_str(err));
		return;
	}
	hook_log_json(HOOK_LOG_INFO, "action retried by an operator",
		      json_pack("{s:I}", "action_id", (json_int_t)id));
	hook_engine_submit(ad->engine, (int64_t)id);
	hook_http_reply_json(
	    req, 202, json_pack("{s:s,s:I}", "status", "retrying", "action_id", (json_int_t)id));
}

static admin_recon *recon_find(hook_admin *ad, int64_t id)
{
	for (size_t i = 0; i < ADMIN_RECONCILES; i++)
		if (ad->recons[i].id == id && id)
			return &ad->recons[i];
	return NULL;
}

static void recon_done(hk_err err, const json_t *report, void *arg)
{
	recon_ref *ref = arg;
	if (err == HK_ERR_CANCELLED) { /* the engine is being freed (the admin may be gone) */
		free(ref);
		return;
	}
	admin_recon *r = recon_find(ref->ad, ref->id);
	if (r) {
		json_decref(r->report);
		r->report = json_deep_copy(report);
		if (r->report) {
			json_object_set_new(r->report, "reconcile_id", json_integer(r->id));
			json_object_set_new(r->report, "status",
					    json_string(err ? "failed" : "done"));
		}
		r->done = true;
	}
	free(ref);
}

/* POST /v1/reconcile[?group=G][&instance_id=I][&dry_run=1]: 202 with the
 * reconcile's id; GET /v1/reconcile/<id> gives its report once done. */
static void handle_reconcile_start(hook_admin *ad, struct evhttp_request *req, const char *query)
{
	admin_query q;
	if (!query_parse(req, query, (const char *const[]){"group", "instance_id", "dry_run", NULL},
			 &q))
		return;
	const char *g = evhttp_find_header(&q.kv, "group");
	const char *iv = evhttp_find_header(&q.kv, "instance_id");
	const char *dv = evhttp_find_header(&q.kv, "dry_run");
	bool known = !g;
	for (size_t i = 0; g && i < ad->cfg->n_groups && !known; i++)
		known = strcmp(ad->cfg->groups[i].name, g) == 0;
	if (!q.why[0] && !known)
		snprintf(q.why, sizeof(q.why),
			 "group: no node group named \"%.60s\" in the configuration", g);
	if (!q.why[0] && iv && (strncmp(iv, "i-", 2) != 0 || strlen(iv) > 32))
		snprintf(q.why, sizeof(q.why), "instance_id: expected an instance id (i-...)");
	if (!q.why[0] && dv && strcmp(dv, "1") && strcmp(dv, "true") && strcmp(dv, "0") &&
	    strcmp(dv, "false"))
		snprintf(q.why, sizeof(q.why), "dry_run: expected 1, true, 0 or false");
	hook_reconcile_req rr = {.group = g,
				 .instance_id = iv,
				 .dry_run = dv && (!strcmp(dv, "1") || !strcmp(dv, "true"))};
	if (q.why[0]) {
		evhttp_clear_headers(&q.kv);
		hook_http_reply_reason(req, 400, "bad request", q.why);
		return;
	}
	/* the oldest slot (a finished one first) */
	admin_recon *slot = &ad->recons[0];
	for (size_t i = 1; i < ADMIN_RECONCILES; i++) {
		admin_recon *c = &ad->recons[i];
		if (!c->id || (slot->id && ((c->done && !slot->done) ||
					    (c->done == slot->done && c->id < slot->id))))
			slot = c;
	}
	recon_ref *ref = malloc(sizeof(*ref));
	int64_t id = ++ad->next_recon;
	hk_err err = HK_ERR_NOMEM;
	if (ref) {
		*ref = (recon_ref){.ad = ad, .id = id};
		json_decref(slot->report);
		*slot = (admin_recon){.id = id};
		err = hook_engine_reconcile(ad->engine, &rr, recon_done, ref);
		if (err) {
			slot->id = 0;
			free(ref);
		}
	}
	evhttp_clear_headers(&q.kv);
	if (err) {
		hook_http_reply_reason(req, 503, "unavailable",
				       err == HK_ERR_STATE ? "draining, or no engine runs here"
							   : hk_err_str(err));
		return;
	}
	hook_log_json(
	    HOOK_LOG_INFO, "reconcile requested by an operator",
	    json_pack("{s:I,s:b}", "reconcile_id", (json_int_t)id, "dry_run", rr.dry_run));
	hook_http_reply_json(
	    req, 202, json_pack("{s:s,s:I}", "status", "running", "reconcile_id", (json_int_t)id));
}

static void handle_reconcile_get(hook_admin *ad, struct evhttp_request *req, const char *idtext)
{
	unsigned long id;
	if (!parse_uint(idtext, (unsigned long)INT64_MAX, &id)) {
		hook_http_reply_reason(req, 400, "bad request", "reconcile id: not a number");
		return;
	}
	admin_recon *r = recon_find(ad, (int64_t)id);
	if (!r) {
		hook_http_reply_reason(req, 404, "not found",
				       "no such reconcile (the newest 16 are kept)");
		return;
	}
	if (!r->done || !r->report) {
		hook_http_reply_json(req, 200,
				     json_pack("{s:s,s:I}", "status",
					       r->done ? "failed" : "running", "reconcile_id",
					       (json_int_t)r->id));
		return;
	}
	hook_http_reply_json(req, 200, json_incref(r->report));
}

static void on_request(struct evhttp_request *req, void *arg)
{
	hook_admin *ad = arg;
	hook_listen_request_done(ad->listen, req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (!path) {
		hook_http_reply_reason(req, 400, "bad request", "no path");
		return;
	}
	size_t plen = strlen(path);
	if (cmd == EVHTTP_REQ_POST && !strncmp(path, "/v1/actions/", 12) && plen > 18 &&
	    !strcmp(path + plen - 6, "/retry")) {
		char idtext[32];
		size_t n = plen - 12 - 6;
		snprintf(idtext, sizeof(idtext), "%.*s", (int)(n < 31 ? n : 31), path + 12);
		handle_retry(ad, req, idtext);
		return;
	}
	if (cmd == EVHTTP_REQ_POST && !strcmp(path, "/v1/reconcile")) {
		handle_reconcile_start(ad, req, evhttp_uri_get_query(uri));
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		hook_http_reply_reason(req, 405, "method not allowed", "use GET");
		return;
	}
	if (!strcmp(path, "/healthz")) {
		hook_http_reply_reason(req, 200, "ok", "process up");
	} else if (!strcmp(path, "/readyz")) {
		handle_ready(ad, req);
	} else if (!strcmp(path, "/metrics")) {
		handle_metrics(req);
	} else if (!strcmp(path, "/v1/actions")) {
		handle_list(ad, req, evhttp_uri_get_query(uri));
	} else if (!strncmp(path, "/v1/actions/", 12)) {
		handle_one(ad, req, path + 12);
	} else if (!strncmp(path, "/v1/reconcile/", 14)) {
		handle_reconcile_get(ad, req, path + 14);
	} else {
		hook_http_reply_reason(
		    req, 404, "not found",
		    "try /healthz, /readyz, /metrics, /v1/actions, /v1/actions/<id>");
	}
}

static const char *gate_get(const void *h, const char *name)
{
	return hook_gate_header(h, name);
}

/* listeners.admin.auth, checked when a request's head is complete (the
 * gate): everything but the probes (/healthz, /readyz) needs it when set. */
static hook_gate_verdict admin_check(const hook_gate_head *h, void *arg)
{
	hook_admin *ad = arg;
	const hook_auth *a = &ad->cfg->admin_auth;
	size_t plen = strcspn(h->target, "?#");
	bool probe = (plen == 8 && !strncmp(h->target, "/healthz", 8)) ||
		     (plen == 7 && !strncmp(h->target, "/readyz", 7));
	if (a->kind == HOOK_AUTH_NONE || probe || hook_auth_headers_ok(a, gate_get, h))
		return (hook_gate_verdict){0};
	return (hook_gate_verdict){.status = 401,
				   .reason = "missing or wrong credentials (listeners.admin.auth)",
				   .www_authenticate =
				       a->kind == HOOK_AUTH_BASIC
					   ? "Basic realm=\"multus-hookd admin\", charset=\"UTF-8\""
					   : NULL};
}

/* The admin listener's limits (hook_listen): a fixed cap, intake's
 * whole-request deadline, admin_check on every head. */
static hook_listen_cfg admin_listen_cfg(hook_admin *ad, const hook_config *cfg)
{
	return (hook_listen_cfg){.name = "admin",
				 .max_connections = HOOK_ADMIN_MAX_CONNECTIONS,
				 .request_timeout_ms = cfg->request_timeout_ms,
				 .max_header_bytes = cfg->max_header_bytes,
				 .head_cap = cfg->max_header_bytes + HOOK_REQUEST_LINE_MAX,
				 .check = admin_check,
				 .check_arg = ad};
}

hk_err hook_admin_new(struct event_base *base, const hook_config *cfg, hook_store *store,
		      const hook_health *health, hook_engine *engine, hook_admin **ret,
		      unsigned *ret_port)
{
	hook_admin *ad = malloc(sizeof(*ad));
	if (!ad)
		return HK_ERR_NOMEM;
	*ad = (hook_admin){.cfg = cfg, .store = store, .health = health, .engine = engine};
	hook_listen_cfg lc = admin_listen_cfg(ad, cfg);
	if (hook_listen_new(base, &lc, on_request, ad, &ad->listen) != HK_OK) {
		hook_admin_free(ad);
		return HK_ERR_NOMEM;
	}
	ad->http = hook_listen_http(ad->listen);
	evhttp_set_max_body_size(ad->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(ad->http, ADMIN_TIMEOUT_S);
	unsigned port = 0;
	if (hook_listen_bind(ad->listen, cfg->admin.address, cfg->admin.port, &port) != HK_OK) {
		hook_admin_free(ad);
		return HK_ERR_IO;
	}
	*ret = ad;
	if (ret_port)
		*ret_port = port;
	return HK_OK;
}

void hook_admin_free(hook_admin *ad)
{
	if (!ad)
		return;
	hook_listen_free(ad->listen); /* the evhttp, then every connection */
	for (size_t i = 0; i < ADMIN_RECONCILES; i++)
		json_decref(ad->recons[i].report);
	free(ad);
}

void hook_admin_set_config(hook_admin *ad, const hook_config *cfg)
{
	if (!ad)
		return;
	ad->cfg = cfg;
	hook_listen_cfg lc = admin_listen_cfg(ad, cfg);
	hook_listen_set_cfg(ad->listen, &lc);
}
