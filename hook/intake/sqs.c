/* The SQS consumer: long-polls sqs.queue_url on the event loop.
 *
 * A message body is a bare Auto Scaling notification (the hook's
 * NotificationTargetARN is the queue), an EventBridge event (a rule's target
 * is the queue) or an SNS envelope (an SNS->SQS subscription); all three go
 * through hook_event_parse() and hook_intake_commit(), like POST /v1/events.
 * The queue's access policy is what authenticates these messages.
 *
 * Never delete before commit. With sqs.ack "on_finish" (the default) a
 * lifecycle message is deleted only once its action has finished: until then
 * it is held in flight (looked at every quarter of the visibility timeout,
 * ChangeMessageVisibility once less than 60% of it is left), so a replica that dies or
 * loses its state directory loses nothing: the message reappears on another
 * replica, which adopts what the first one made and finishes. With "on_commit"
 * it is deleted once its event is in the store (accepted or already there).
 * A TEST_NOTIFICATION or another tool's hook is deleted at once. A
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

/* A lifecycle message kept in flight until its action finishes (on_finish). */
typedef struct held_msg {
	hk_list link; /* in hook_sqs.held */
	hook_sqs *q;
	int64_t action_id;
	char message_id[128];
	char *receipt;
	int64_t visible_until_ms; /* monotonic: when SQS shows it again */
	bool busy;		  /* a ChangeMessageVisibility is out */
} held_msg;

/* Messages held at once; beyond, no new receive until some finish. */
#define HELD_MAX 4096u

struct hook_sqs {
	struct event_base *base;
	const hook_config *cfg;
	hook_store *store;
	hook_engine *engine;
	awc_client *aws;
	struct event *timer; /* next receive (after a backoff) */
	hk_list dels;	     /* deletes in flight (del_call) */
	hk_list held;	     /* held_msg (on_finish) */
	size_t n_held;
	struct event *keep; /* the held messages' check (on_finish) */
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
	if (!res->err)
		hk_metric_inc1(hook_m.sqs_messages, "deleted");
	/* A failed delete loses nothing: the message comes back and is found to
	 * be a duplicate, then deleted again. */
	if (res->err)
		log_sqs(HOOK_LOG_WARN, "SQS delete failed: the message will come back",
			d->message_id, res->errtext);
	else
		log_sqs(HOOK_LOG_DEBUG, "SQS message deleted", d->message_id, NULL);
	free(d);
}

static void delete_receipt(hook_sqs *q, const char *message_id, const char *receipt)
{
	del_call *d = calloc(1, sizeof(*d));
	if (!d) {
		log_sqs(HOOK_LOG_ERROR, "SQS delete not sent (out of memory)", message_id, NULL);
		return;
	}
	d->q = q;
	snprintf(d->message_id, sizeof(d->message_id), "%s", message_id ? message_id : "");
	if (sqs_delete_message(q->aws, q->cfg->sqs_queue_url, receipt, on_deleted, d, NULL) !=
	    HK_OK) {
		log_sqs(HOOK_LOG_ERROR, "SQS delete not sent", message_id, NULL);
		free(d);
		return;
	}
	hk_list_push_front(&q->dels, &d->link);
}

static void delete_message(hook_sqs *q, const sqs_message *m)
{
	delete_receipt(q, m->message_id, m->receipt_handle);
}

static void held_free(held_msg *h)
{
	hk_list_del(&h->link);
	h->q->n_held--;
	free(h->receipt);
	free(h);
}

/* Whether action `id` is over (or gone from the store): its message may go. */
static bool action_over(hook_sqs *q, int64_t id)
{
	hook_action a;
	hk_err err = hook_store_action_get(q->store, id, &a);
	if (err == HK_ERR_NOT_FOUND)
		return true;
	if (err)
		return false; /* ask again at the next check */
	bool over = hook_action_state_final(a.state);
	hook_action_cleanup(&a);
	return over;
}

static void on_kept(const awc_result *res, const sqs_empty_out *out, void *arg)
{
	held_msg *h = arg;
	h->busy = false;
	unsigned vis = h->q->cfg->sqs_visibility_timeout_s;
	if (res->err == HK_OK) {
		h->visible_until_ms = hk_mono_ms() + (int64_t)vis * 1000;
		return;
	}
	if (res->aws_code && (strstr(res->aws_code, "ReceiptHandleIsInvalid") ||
			      strstr(res->aws_code, "InvalidParameterValue") ||
			      strstr(res->aws_code, "MessageNotInflight"))) {
		/* gone, or visible again: someone else has it now */
		log_sqs(HOOK_LOG_WARN, "SQS message no longer held: it is redelivered",
			h->message_id, res->aws_code);
		held_free(h);
		return;
	}
	log_sqs(HOOK_LOG_WARN, "SQS visibility extension failed: trying again", h->message_id,
		res->errtext);
}

/* Every held message: deleted once its action is over, else kept hidden. */
static void on_keep(evutil_socket_t fd, short what, void *arg)
{
	hook_sqs *q = arg;
	int64_t now = hk_mono_ms();
	/* extended once less than 60% of the timeout is left: with a check every
	 * quarter, the extension goes out with at least a third of it to spare */
	int64_t left_min = (int64_t)q->cfg->sqs_visibility_timeout_s * 600;
	hk_list *n, *tmp;
	HK_LIST_FOREACH_SAFE(n, tmp, &q->held)
	{
		held_msg *h = HK_CONTAINER_OF(n, held_msg, link);
		if (h->busy)
			continue;
		if (action_over(q, h->action_id)) {
			log_sqs(HOOK_LOG_DEBUG, "SQS message's action finished: deleting",
				h->message_id, NULL);
			delete_receipt(q, h->message_id, h->receipt);
			held_free(h);
			continue;
		}
		if (h->visible_until_ms - now > left_min)
			continue;
		if (sqs_change_message_visibility(q->aws, q->cfg->sqs_queue_url, h->receipt,
						  q->cfg->sqs_visibility_timeout_s, on_kept, h,
						  NULL) == HK_OK)
			h->busy = true;
	}
	if (q->n_held < HELD_MAX && !q->receiving && !q->stopped &&
	    !evtimer_pending(q->timer, NULL))
		poll_queue(q);
}

/* on_finish: keep `m` in flight until action `id` is over. */
static void hold_message(hook_sqs *q, const sqs_message *m, int64_t id)
{
	if (action_over(q, id)) { /* a copy of something already done */
		delete_message(q, m);
		return;
	}
	held_msg *h = calloc(1, sizeof(*h));
	if (h)
		h->receipt = strdup(m->receipt_handle);
	if (!h || !h->receipt) {
		/* not held: it reappears after its visibility timeout */
		free(h);
		log_sqs(HOOK_LOG_ERROR, "SQS message not held (out of memory)", m->message_id,
			NULL);
		return;
	}
	h->q = q;
	h->action_id = id;
	snprintf(h->message_id, sizeof(h->message_id), "%s", m->message_id ? m->message_id : "");
	/* received just now (within the long poll's answer): visible again a
	 * second early, to be safe */
	h->visible_until_ms =
	    hk_mono_ms() + (int64_t)q->cfg->sqs_visibility_timeout_s * 1000 - 1000;
	hk_list_push_back(&q->held, &h->link);
	q->n_held++;
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
	int64_t id = 0;
	hook_commit_result r = hook_intake_commit(q->cfg, q->store, q->engine, &ev, "sqs", &id);
	hook_event_cleanup(&ev);
	switch (r) {
	case HOOK_COMMIT_ACCEPTED:
	case HOOK_COMMIT_DUPLICATE:
		if (q->cfg->sqs_ack == HOOK_SQS_ACK_ON_FINISH)
			hold_message(q, m, id);
		else
			delete_message(q, m); /* committed: now it may go */
		return true;
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
	const char *rv[1] = {"received"};
	hk_metric_add(hook_m.sqs_messages, rv, (double)out->n_messages);
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
	if (q->n_held >= HELD_MAX)
		return; /* on_keep receives again once some have finished */
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
	hk_list_init(&q->held);
	q->timer = evtimer_new(base, on_timer, q);
	q->keep = event_new(base, -1, EV_PERSIST, on_keep, q);
	hk_err err = q->timer && q->keep ? hook_aws_client_new(base, cfg, &q->aws) : HK_ERR_NOMEM;
	if (err) {
		hook_event_free(&q->timer);
		hook_event_free(&q->keep);
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
	if (f)
		json_object_set_new(f, "ack",
				    json_string(q->cfg->sqs_ack == HOOK_SQS_ACK_ON_FINISH
						    ? "on_finish"
						    : "on_commit"));
	hook_log_json(HOOK_LOG_INFO, "SQS consumer started", f);
	/* the held messages' check: a quarter of the visibility timeout */
	unsigned tick_ms = q->cfg->sqs_visibility_timeout_s * 250;
	struct timeval tv = {(time_t)(tick_ms / 1000), (suseconds_t)((tick_ms % 1000) * 1000)};
	evtimer_add(q->keep, &tv);
	poll_queue(q);
}

void hook_sqs_stop(hook_sqs *q)
{
	if (!q || q->stopped)
		return;
	q->stopped = true;
	evtimer_del(q->timer);
	/* held messages stay in flight until their visibility ends, then come
	 * back to whichever replica (or this one, restarted) receives them */
	evtimer_del(q->keep);
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
	while (!hk_list_empty(&q->held))
		held_free(HK_CONTAINER_OF(q->held.next, held_msg, link));
	event_free(q->timer);
	event_free(q->keep);
	free(q);
}

void hook_sqs_set_config(hook_sqs *q, const hook_config *cfg)
{
	if (q)
		q->cfg = cfg; /* same sqs.* settings: hook_config_restart_diff */
}
