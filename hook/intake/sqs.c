/* The SQS consumer: long-polls sqs.queue_url on the event loop.
 *
 * A message body is a bare Auto Scaling notification (the hook's
 * NotificationTargetARN is the queue), an EventBridge event (a rule's target
 * is the queue) or an SNS envelope (an SNS->SQS subscription); all three go
 * through hook_event_parse() and hook_intake_commit(), like POST /v1/events.
 * The queue's access policy is what authenticates these messages.
 *
 * Never delete before commit: a message is deleted only once its event is in
 * the store (accepted or already there) or it is a TEST_NOTIFICATION. A
 * message that cannot be parsed, matches no node group, or meets a store
 * failure is left alone: it reappears after the visibility timeout (the
 * receive asks for sqs.visibility_timeout_s, at least 5 s, so nothing spins)
 * and ends in the queue's dead-letter queue through its redrive policy.
 * Failed receives back off (1 s doubling to 60 s); so does a batch that met a
 * store failure. One receive is in flight at a time; deletes run alongside. */
#include "intake_internal.h"

#include "awsclient.h"
#include "hk_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u

typedef struct del_call {
	hk_list link; /* in hook_sqs.dels */
	hook_sqs *q;
	char message_id[128];
} del_call;

struct hook_sqs {
	struct event_base *base;
	const hook_config *cfg;
	hook_store *store;
	hook_engine *engine;
	awc_client *aws;
	struct event *timer; /* next receive (after a backoff) */
	hk_list dels;	     /* deletes in flight (del_call) */
	unsigned backoff_ms;
	bool receiving;
	bool started;
	bool stopped;
};

static void poll_queue(hook_sqs *q);

static void log_sqs(hook_log_level l, const char *msg, const char *message_id, const char *why)
{
	json_t *f =
	    json_pack("{s:s,s:s?,s:s?}", "via", "sqs", "sqs_message_id", message_id, "reason", why);
	hook_log_json(l, msg, f);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	poll_queue(arg);
}

static void schedule(hook_sqs *q, unsigned delay_ms)
{
	struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
	evtimer_add(q->timer, &tv);
}

static void backoff(hook_sqs *q)
{
	q->backoff_ms = q->backoff_ms ? q->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (q->backoff_ms > BACKOFF_MAX_MS)
		q->backoff_ms = BACKOFF_MAX_MS;
	schedule(q, q->backoff_ms);
}

static void on_deleted(const awc_result *res, const sqs_empty_out *out, void *arg)
{
	del_call *d = arg;
	hk_list_del(&d->link);
	/* A failed delete loses nothing: the message comes back and is found to
	 * be a duplicate, then deleted again. */
	if (res->err)
		log_sqs(HOOK_LOG_WARN, "SQS delete failed: the message will come back",
			d->message_id, res->errtext);
	else
		log_sqs(HOOK_LOG_DEBUG, "SQS message deleted", d->message_id, NULL);
	free(d);
}

static void delete_message(hook_sqs *q, const sqs_message *m)
{
	del_call *d = calloc(1, sizeof(*d));
	if (!d) {
		log_sqs(HOOK_LOG_ERROR, "SQS delete not sent (out of memory)", m->message_id, NULL);
		return;
	}
	d->q = q;
	snprintf(d->message_id, sizeof(d->message_id), "%s", m->message_id ? m->message_id : "");
	if (sqs_delete_message(q->aws, q->cfg->sqs_queue_url, m->receipt_handle, on_deleted, d,
			       NULL) != HK_OK) {
		log_sqs(HOOK_LOG_ERROR, "SQS delete not sent", m->message_id, NULL);
		free(d);
		return;
	}
	hk_list_push_front(&q->dels, &d->link);
}

/* One message. Returns false when the store failed (the batch backs off). */
static bool handle_message(hook_sqs *q, const sqs_message *m)
{
	if (!m->receipt_handle || !m->body) {
		log_sqs(HOOK_LOG_WARN, "SQS message without body or receipt handle: left",
			m->message_id, NULL);
		return true;
	}
	if (m->body_len > HK_CAP_SQS_BODY) {
		log_sqs(HOOK_LOG_WARN, "SQS message too large: left for the redrive policy",
			m->message_id, NULL);
		return true;
	}
	hook_event ev;
	hk_errinfo ei = {0};
	hk_err err = hook_event_parse(m->body, m->body_len, &ev, &ei);
	if (err == HK_OK && ev.kind == HOOK_EVENT_SNS_CONTROL) {
		hook_event_cleanup(&ev);
		err = hk_errinfo_set(&ei, HK_ERR_INVALID, 0,
				     "an SNS subscription message (nothing to confirm over SQS)");
	}
	if (err) {
		log_sqs(HOOK_LOG_WARN,
			"SQS message is not a lifecycle event: left for the redrive "
			"policy",
			m->message_id, ei.text);
		return true;
	}
	hook_commit_result r = hook_intake_commit(q->cfg, q->store, q->engine, &ev, "sqs", NULL);
	hook_event_cleanup(&ev);
	switch (r) {
	case HOOK_COMMIT_ACCEPTED:
	case HOOK_COMMIT_DUPLICATE:
	case HOOK_COMMIT_IGNORED:
	case HOOK_COMMIT_FOREIGN_HOOK:
		delete_message(q, m); /* committed (or nothing to keep): now it may go */
		return true;
	case HOOK_COMMIT_NO_GROUP:
		log_sqs(HOOK_LOG_WARN,
			"SQS event matches no node group: left for the redrive policy",
			m->message_id, NULL);
		return true;
	case HOOK_COMMIT_STORE_FAILED:
		return false;
	}
	return true;
}

static void on_received(const awc_result *res, const sqs_receive_out *out, void *arg)
{
	hook_sqs *q = arg;
	q->receiving = false;
	if (q->stopped)
		return; /* whatever arrived reappears after its visibility timeout */
	if (res->err) {
		json_t *f = json_pack(
		    "{s:s,s:s,s:s?,s:s?,s:I}", "via", "sqs", "error", hk_err_str(res->err),
		    "aws_code", res->aws_code, "detail", res->errtext, "retry_in_ms",
		    (json_int_t)(q->backoff_ms ? q->backoff_ms * 2 : BACKOFF_MIN_MS));
		hook_log_json(HOOK_LOG_WARN, "SQS receive failed: backing off", f);
		backoff(q);
		return;
	}
	bool store_ok = true;
	for (size_t i = 0; i < out->n_messages; i++)
		if (!handle_message(q, &out->messages[i]))
			store_ok = false;
	if (!store_ok) {
		log_sqs(HOOK_LOG_ERROR, "SQS batch met a store failure: messages left, backing off",
			NULL, NULL);
		backoff(q);
		return;
	}
	q->backoff_ms = 0;
	poll_queue(q);
}

static void poll_queue(hook_sqs *q)
{
	if (q->stopped || q->receiving)
		return;
	sqs_receive_req req;
	memset(&req, 0, sizeof(req));
	req.queue_url = q->cfg->sqs_queue_url;
	req.max_messages = q->cfg->sqs_max_messages;
	req.wait_time_s = q->cfg->sqs_wait_time_s;
	req.visibility_timeout_s = (int)q->cfg->sqs_visibility_timeout_s;
	if (sqs_receive_message(q->aws, &req, on_received, q, NULL) != HK_OK) {
		log_sqs(HOOK_LOG_ERROR, "SQS receive not sent: backing off", NULL, NULL);
		backoff(q);
		return;
	}
	q->receiving = true;
}

hk_err hook_sqs_new(struct event_base *base, const hook_config *cfg, hook_store *store,
		    hook_engine *engine, hook_sqs **ret)
{
	if (!cfg || !cfg->sqs_queue_url)
		return HK_ERR_INVALID;
	hook_sqs *q = malloc(sizeof(*q));
	if (!q)
		return HK_ERR_NOMEM;
	*q = (hook_sqs){.base = base, .cfg = cfg, .store = store, .engine = engine};
	hk_list_init(&q->dels);
	q->timer = evtimer_new(base, on_timer, q);
	if (!q->timer) {
		free(q);
		return HK_ERR_NOMEM;
	}
	hk_err err = hook_aws_client_new(base, cfg, &q->aws);
	if (err) {
		event_free(q->timer);
		free(q);
		return err;
	}
	*ret = q;
	return HK_OK;
}

void hook_sqs_start(hook_sqs *q)
{
	if (!q || q->started)
		return;
	q->started = true;
	json_t *f = json_pack("{s:s,s:I,s:I,s:I}", "queue_url", q->cfg->sqs_queue_url,
			      "wait_time_s", (json_int_t)q->cfg->sqs_wait_time_s, "max_messages",
			      (json_int_t)q->cfg->sqs_max_messages, "visibility_timeout_s",
			      (json_int_t)q->cfg->sqs_visibility_timeout_s);
	hook_log_json(HOOK_LOG_INFO, "SQS consumer started", f);
	poll_queue(q);
}

void hook_sqs_stop(hook_sqs *q)
{
	if (!q || q->stopped)
		return;
	q->stopped = true;
	evtimer_del(q->timer);
	hook_log(HOOK_LOG_INFO, "SQS consumer stopped: no new receives", NULL);
}

void hook_sqs_free(hook_sqs *q)
{
	if (!q)
		return;
	awsclient_free(q->aws); /* cancels the receive and deletes: no callbacks */
	hk_list *n, *tmp;
	HK_LIST_FOREACH_SAFE(n, tmp, &q->dels)
	free(HK_CONTAINER_OF(n, del_call, link));
	event_free(q->timer);
	free(q);
}
