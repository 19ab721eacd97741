/* Failure notices (`notify` in the configuration; docs/operations.md,
 * "Failure notices"): one JSON message per launch that was ABANDONed, action
 * that expired (its lifecycle action was over before this daemon completed
 * it), cleanup that could not finish, or action that failed, sent to an SNS
 * topic (Publish, on the engine's AWS client and its token buckets) or POSTed
 * to an https:// webhook (its own HTTP client).
 *
 * Off the engine's path: eng_notify_action() only queues (at most
 * NOTIFY_QUEUE_MAX); one notice is in
 * flight at a time, retried with backoff (1 s doubling to 60 s) up to
 * NOTIFY_ATTEMPTS times, then dropped with an error line. A full queue
 * drops the new notice (warn). Notices live in
 * memory: those still queued at shutdown are logged as dropped (the action's
 * outcome stays in the store and the log). The destination is the
 * configuration's at the time the notice is queued (a reload changes later
 * ones). */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "httpc.h"

#define NOTIFY_QUEUE_MAX      1000
#define NOTIFY_ATTEMPTS	      8
#define NOTIFY_BACKOFF_MAX_MS 60000u

typedef struct eng_notice {
	struct eng_notice *next;
	char *body; /* the JSON message */
	char *kind;
	char *topic_arn; /* SNS, or */
	char *url;	 /* the webhook */
	char *ca_file;	 /* TEST ONLY trust roots for the webhook */
	int64_t action_id;
	unsigned attempts;
} eng_notice;

struct eng_notify {
	hook_eng *e;
	eng_notice *head, *tail;
	size_t n;
	bool busy; /* a notice in flight, or waiting for its retry */
	struct event *timer;
	httpc *http;
	httpc_xfer *xfer;
};

static void notice_free(eng_notice *n)
{
	if (!n)
		return;
	free(n->body);
	free(n->kind);
	free(n->topic_arn);
	free(n->url);
	free(n->ca_file);
	free(n);
}

static void notice_log(hook_log_level lvl, const char *msg, const eng_notice *n, const char *err)
{
	json_t *f =
	    json_pack("{s:s,s:I,s:i,s:s}", "notice", n->kind, "action_id", (json_int_t)n->action_id,
		      "attempts", (int)n->attempts, "to", n->topic_arn ? "sns" : "webhook");
	if (f && err)
		json_object_set_new(f, "error", json_string(err));
	hook_log_json(lvl, msg, f);
}

static void send_next(eng_notify *nt);

static void pop_head(eng_notify *nt)
{
	eng_notice *n = nt->head;
	nt->head = n->next;
	if (!nt->head)
		nt->tail = NULL;
	nt->n--;
	notice_free(n);
}

/* The head's attempt ended: done, or retried later, or dropped. */
static void attempt_done(eng_notify *nt, bool ok, const char *err)
{
	eng_notice *n = nt->head;
	nt->xfer = NULL;
	if (ok) {
		notice_log(HOOK_LOG_INFO, "failure notice delivered", n, NULL);
		pop_head(nt);
		nt->busy = false;
		send_next(nt);
		return;
	}
	if (n->attempts >= NOTIFY_ATTEMPTS) {
		notice_log(HOOK_LOG_ERROR, "failure notice dropped: delivery kept failing", n, err);
		pop_head(nt);
		nt->busy = false;
		send_next(nt);
		return;
	}
	unsigned ms = 1000u << (n->attempts - 1);
	if (ms > NOTIFY_BACKOFF_MAX_MS || n->attempts > 16)
		ms = NOTIFY_BACKOFF_MAX_MS;
	notice_log(HOOK_LOG_WARN, "failure notice not delivered: retrying", n, err);
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	if (!nt->timer || evtimer_add(nt->timer, &tv) != 0) {
		notice_log(HOOK_LOG_ERROR, "failure notice dropped: cannot arm a timer", n, err);
		pop_head(nt);
		nt->busy = false;
		send_next(nt);
	}
}

static void published(const awc_result *res, const sns_publish_out *out, void *arg)
{
	eng_notify *nt = arg;
	attempt_done(nt, res->err == HK_OK,
		     res->err ? (res->aws_code ? res->aws_code : hk_err_str(res->err)) : NULL);
}

static void posted(const httpc_response *resp, void *arg)
{
	eng_notify *nt = arg;
	char why[64];
	bool ok = resp->err == HK_OK && resp->status >= 200 && resp->status < 300;
	if (resp->err)
		snprintf(why, sizeof(why), "%s", hk_err_str(resp->err));
	else
		snprintf(why, sizeof(why), "HTTP %ld", resp->status);
	attempt_done(nt, ok, ok ? NULL : why);
}

static void send_head(eng_notify *nt)
{
	eng_notice *n = nt->head;
	n->attempts++;
	hk_err err;
	if (n->topic_arn) {
		sns_publish_req req = {.topic_arn = n->topic_arn,
				       .message = n->body,
				       .subject = "multus-hookd: action needs attention"};
		err =
		    nt->e->aws ? sns_publish(nt->e->aws, &req, published, nt, NULL) : HK_ERR_STATE;
	} else {
		if (!nt->http && httpc_new(nt->e->base, &nt->http) != HK_OK)
			nt->http = NULL;
		httpc_header h[1] = {{"Content-Type", "application/json"}};
		httpc_request req = {.method = "POST",
				     .url = n->url,
				     .headers = h,
				     .n_headers = 1,
				     .body = n->body,
				     .body_len = strlen(n->body),
				     .timeout_ms = 10000,
				     .max_body = 4096,
				     .https_only = true,
				     .ca_file = n->ca_file};
		err = nt->http ? httpc_send(nt->http, &req, posted, nt, &nt->xfer) : HK_ERR_NOMEM;
	}
	if (err) /* handled like a failed attempt, on this turn's stack: no recursion
		  * deeper than the queue, each step pops or arms the timer */
		attempt_done(nt, false, hk_err_str(err));
}

static void send_next(eng_notify *nt)
{
	if (nt->busy || !nt->head)
		return;
	nt->busy = true;
	send_head(nt);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_notify *nt = arg;
	if (nt->head)
		send_head(nt);
	else
		nt->busy = false;
}

hk_err eng_notify_new(hook_eng *e, eng_notify **ret)
{
	eng_notify *nt = calloc(1, sizeof(*nt));
	if (!nt)
		return HK_ERR_NOMEM;
	nt->e = e;
	nt->timer = evtimer_new(e->base, retry_cb, nt);
	if (!nt->timer) {
		free(nt);
		return HK_ERR_NOMEM;
	}
	*ret = nt;
	return HK_OK;
}

void eng_notify_free(eng_notify *nt)
{
	if (!nt)
		return;
	if (nt->n) {
		json_t *f = json_pack("{s:I}", "notices", (json_int_t)nt->n);
		hook_log_json(HOOK_LOG_WARN, "failure notices dropped at shutdown (not delivered)",
			      f);
	}
	httpc_free(nt->http); /* cancels the transfer in flight */
	hook_event_free(&nt->timer);
	while (nt->head)
		pop_head(nt);
	free(nt);
}

/* Which notice a finished action deserves (NULL: none). */
static const char *notice_kind(const eng_action *a, hook_action_state st, const char *result,
			       const char *last_error)
{
	if (last_error &&
	    strncmp(last_error, ENG_CLEANUP_INCOMPLETE, strlen(ENG_CLEANUP_INCOMPLETE)) == 0)
		return "cleanup_incomplete";
	hook_action row = {.state = st,
			   .result = (char *)(uintptr_t)(result ? result : ""),
			   .last_error = (char *)(uintptr_t)(last_error ? last_error : "")};
	const char *outcome = hook_action_outcome(&row);
	if (!strcmp(outcome, "failed"))
		return "action_failed";
	if (!strcmp(outcome, "expired"))
		return "action_expired";
	if (!strcmp(outcome, "abandoned") && a->rec.transition == HOOK_TRANSITION_LAUNCHING)
		return "launch_abandoned";
	return NULL;
}

void eng_notify_action(eng_notify *nt, const eng_action *a, hook_action_state st,
		       const char *result, const char *last_error)
{
	const hook_config *cfg = nt ? nt->e->cfg : NULL;
	if (!cfg || (!cfg->notify_sns_topic_arn && !cfg->notify_webhook_url))
		return;
	const char *kind = notice_kind(a, st, result, last_error);
	if (!kind)
		return;
	char id[64], when[40];
	snprintf(id, sizeof(id), "action-%lld-%s", (long long)a->rec.id, kind);
	hook_format_time_ms(hook_now_ms(), when, sizeof(when));
	hook_engine_step step = a->fail_step != ENG_STEP_NONE ? a->fail_step : a->step;
	json_t *doc = json_pack(
	    "{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "source", "multus-hookd",
	    "notice_id", id, "kind", kind, "action_id", (json_int_t)a->rec.id, "instance_id",
	    a->rec.instance_id, "group", a->rec.group, "asg", a->rec.asg, "hook", a->rec.hook,
	    "transition", hook_transition_str(a->rec.transition), "step",
	    hook_engine_step_str(step), "result", result ? result : "", "error",
	    last_error && *last_error ? last_error : a->fail_reason, "time", when);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	eng_notice *n = body ? calloc(1, sizeof(*n)) : NULL;
	if (n) {
		n->body = body;
		n->kind = eng_strdup(kind);
		n->action_id = a->rec.id;
		if (cfg->notify_sns_topic_arn)
			n->topic_arn = eng_strdup(cfg->notify_sns_topic_arn);
		else
			n->url = eng_strdup(cfg->notify_webhook_url);
		if (cfg->notify_test_ca_file)
			n->ca_file = eng_strdup(cfg->notify_test_ca_file);
	}
	if (!n || !n->kind || (!n->topic_arn && !n->url) ||
	    (cfg->notify_test_ca_file && !n->ca_file)) {
		if (n)
			notice_free(n);
		else
			free(body);
		json_t *f =
		    json_pack("{s:s,s:I}", "notice", kind, "action_id", (json_int_t)a->rec.id);
		hook_log_json(HOOK_LOG_ERROR, "failure notice dropped: out of memory", f);
		return;
	}
	if (nt->n >= NOTIFY_QUEUE_MAX) { /* delivery is failing: the backlog is enough */
		notice_log(HOOK_LOG_WARN, "failure notice dropped: queue full", n, NULL);
		notice_free(n);
		return;
	}
	if (nt->tail)
		nt->tail->next = n;
	else
		nt->head = n;
	nt->tail = n;
	nt->n++;
	send_next(nt);
}
