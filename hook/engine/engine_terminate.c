/* The terminate state machine and the ENI cleanup it shares with failed
 * launches (docs/engine.md):
 *
 *   find-enis (tag:multus-hookd/instance-id) -> detach each attached one ->
 *   poll DescribeNetworkInterfaces (timer, bounded) until available ->
 *   delete each -> mark the subnets' pictures stale -> done
 *
 * Cleanup callbacks run while the action is "failing" (that is what a
 * cleanup is), so they use cl_enter() instead of eng_enter(). */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENG_POLL_MS	  1000u
#define ENG_POLL_MAX	  90u /* about a minute and a half of waiting for `available` */
#define ENG_CLEANUP_TRIES 8u
#define ENG_DETACH_TRIES  4u /* DetachNetworkInterface sends per ENI and cleanup */
#define ENG_DETACH_EVERY  5u /* polls between re-sends while an ENI stays attached */

typedef struct cl_state {
	void (*done)(eng_action *);
	unsigned tries;
	unsigned polls;
	unsigned detach_failed; /* detaches that failed since the last poll */
	size_t n_detach_sent;
	/* per victim: DetachNetworkInterface sent (one allocation with the
	 * state: engine.c frees a->cl with free()) */
	unsigned detach_sent[];
} cl_state;

/* One cleanup per action at a time; its continuation lives here. */
static cl_state *cl_of(eng_action *a)
{
	return (cl_state *)a->cl;
}

static bool cl_enter(eng_action *a)
{
	if (a->inflight)
		a->inflight--;
	return a->run != ENG_RUN_FINISHED;
}

/* eng_answer for a cleanup's calls (cl_enter: it goes on after a failure). */
static bool cl_answer(eng_action *a, const awc_result *res, hook_engine_fault *fault)
{
	eng_health_from(a->eng, res);
	if (!cl_enter(a))
		return false;
	*fault = hook_engine_classify(res->err, res->aws_code);
	return true;
}

static void cl_free(eng_action *a)
{
	free(a->cl);
	a->cl = NULL;
}

static void cl_finish(eng_action *a)
{
	cl_state *c = cl_of(a);
	void (*done)(eng_action *) = c ? c->done : NULL;
	size_t left = 0;
	const char *first = NULL;
	for (size_t i = 0; i < a->n_victims; i++) {
		eng_alloc_stale(a->eng->alloc, a->victims[i].subnet_id);
		if (!a->victims[i].gone) {
			left++;
			if (!first)
				first = a->victims[i].eni_id;
		}
	}
	if (left) {
		/* Completing anyway (never hold an instance forever): say so in
		 * the record. The orphan sweep deletes them once they are
		 * available and the instance is gone (EC2 detaches them when it
		 * terminates the instance). */
		char why[256];
		snprintf(why, sizeof(why),
			 "cleanup incomplete: %zu ENI(s) left (first %s); left to the orphan sweep",
			 left, first ? first : "?");
		eng_action_store_state(a, eng_failed(a) ? HOOK_ACTION_CLEANUP : HOOK_ACTION_RUNNING,
				       why);
		free(a->rec.last_error);
		a->rec.last_error = eng_strdup(why);
	}
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		if (*s->eni_id || s->state != ENG_ENI_NONE)
			ENG_IGNORE(eng_slot_save(a, s, ENG_ENI_DELETED));
	}
	cl_free(a);
	if (done)
		done(a);
}

static void cl_find(eng_action *a);

static void cl_trouble(eng_action *a, const char *call, const awc_result *res)
{
	cl_state *c = cl_of(a);
	eng_log_aws(a, HOOK_LOG_WARN, "cleanup call failed", call, res);
	if (++c->tries >= ENG_CLEANUP_TRIES || eng_action_past_giveup(a)) {
		/* Complete anyway: the sweep deletes what is left once the
		 * instance is gone. Never hold the instance forever. */
		json_t *f = json_pack("{s:I,s:s}", "action_id", (json_int_t)a->rec.id, "instance",
				      a->rec.instance_id);
		hook_log_json(HOOK_LOG_ERROR, "cleanup incomplete: leaving the rest to the sweep",
			      f);
		cl_finish(a);
		return;
	}
	eng_action_after(a, 1000u << (c->tries < 5 ? c->tries : 5), cl_find);
}

static bool victims_all_gone(eng_action *a)
{
	for (size_t i = 0; i < a->n_victims; i++)
		if (!a->victims[i].gone)
			return false;
	return true;
}

static void delete_cb(const awc_result *res, const ec2_return_out *out, void *arg);
static void detach_cb(const awc_result *res, const ec2_return_out *out, void *arg);
static void poll_start(eng_action *a);

/* Send DetachNetworkInterface for victim i (counted per victim). true when
 * sent; its callback then polls once nothing else is in flight. */
static bool detach_send(eng_action *a, size_t i, const char *attachment_id, bool force)
{
	cl_state *c = cl_of(a);
	ec2_detach_network_interface_req req = {.attachment_id = attachment_id, .force = force};
	a->inflight++;
	if (ec2_detach_network_interface(a->eng->aws, &req, detach_cb, a, NULL) != HK_OK) {
		a->inflight--;
		return false;
	}
	if (c && i < c->n_detach_sent)
		c->detach_sent[i]++;
	return true;
}

/* A victim still attached after its detach: the detach failed (logged by
 * detach_cb) or was lost. Send it again, with Force, at most ENG_DETACH_TRIES
 * times per ENI: at once after a failure, else every ENG_DETACH_EVERY polls
 * (a detach that succeeded shows "detaching", never "attached"). */
static bool redetach_due(eng_action *a, size_t i, const ec2_eni *found)
{
	cl_state *c = cl_of(a);
	if (!found->attached || !found->attachment.attachment_id || i >= c->n_detach_sent)
		return false;
	const char *st = found->attachment.status;
	if (st && strcmp(st, "attached") != 0 && strcmp(st, "attaching") != 0)
		return false;
	if (c->detach_sent[i] >= ENG_DETACH_TRIES)
		return false;
	return c->detach_failed || (c->polls + 1) % ENG_DETACH_EVERY == 0;
}

static void delete_ready(eng_action *a)
{
	for (size_t i = 0; i < a->n_victims; i++) {
		eng_victim *v = &a->victims[i];
		if (v->gone || !v->detached)
			continue;
		ec2_delete_network_interface_req req = {.eni_id = v->eni_id};
		a->inflight++;
		if (ec2_delete_network_interface(a->eng->aws, &req, delete_cb, a, NULL) != HK_OK)
			a->inflight--;
		else
			v->polls = 1; /* marks "delete sent" */
	}
	if (!a->inflight) {
		if (victims_all_gone(a))
			cl_finish(a);
		else
			poll_start(a);
	}
}

/* The delete callbacks do not say which ENI they were for: afterwards one
 * Describe tells what is left. */
static void delete_cb(const awc_result *res, const ec2_return_out *out, void *arg)
{
	eng_action *a = arg;
	hook_engine_fault f;
	if (!cl_answer(a, res, &f))
		return;
	if (f == ENG_FAULT_NONE)
		hk_metric_inc1(hook_m.enis, "deleted");
	if (f != ENG_FAULT_NONE && f != ENG_FAULT_NOT_FOUND && f != ENG_FAULT_ENI_IN_USE)
		eng_log_aws(a, HOOK_LOG_WARN, "DeleteNetworkInterface failed",
			    "DeleteNetworkInterface", res);
	if (!a->inflight) /* the last answer of the round */
		poll_start(a);
}

static void poll_cb(const awc_result *res, const ec2_describe_network_interfaces_out *out,
		    void *arg)
{
	eng_action *a = arg;
	cl_state *c = cl_of(a);
	hook_engine_fault f;
	if (!cl_answer(a, res, &f))
		return;
	if (f != ENG_FAULT_NONE && f != ENG_FAULT_NOT_FOUND) {
		cl_trouble(a, "DescribeNetworkInterfaces", res);
		return;
	}
	bool any_ready = false;
	unsigned resent = 0;
	for (size_t i = 0; i < a->n_victims; i++) {
		eng_victim *v = &a->victims[i];
		const ec2_eni *found = NULL;
		for (size_t k = 0; f == ENG_FAULT_NONE && k < out->n_enis; k++)
			if (strcmp(out->enis[k].eni_id, v->eni_id) == 0)
				found = &out->enis[k];
		if (!found) {
			v->gone = true;
			continue;
		}
		v->polls = 0;
		v->detached = found->status && strcmp(found->status, "available") == 0;
		if (v->detached)
			any_ready = true;
		else if (redetach_due(a, i, found)) {
			json_t *fl =
			    json_pack("{s:I,s:s,s:s,s:I}", "action_id", (json_int_t)a->rec.id,
				      "instance", a->rec.instance_id, "eni", v->eni_id, "try",
				      (json_int_t)c->detach_sent[i] + 1);
			hook_log_json(HOOK_LOG_INFO, "ENI still attached: detaching again (force)",
				      fl);
			if (detach_send(a, i, found->attachment.attachment_id, true))
				resent++;
		}
	}
	c->detach_failed = 0;
	if (victims_all_gone(a)) {
		cl_finish(a);
		return;
	}
	if (any_ready) {
		delete_ready(a);
		return;
	}
	if (resent) {
		c->polls++; /* the detach callbacks poll again */
		return;
	}
	if (++c->polls > ENG_POLL_MAX || eng_action_past_giveup(a)) {
		json_t *fl = json_pack("{s:I,s:s}", "action_id", (json_int_t)a->rec.id, "instance",
				       a->rec.instance_id);
		hook_log_json(HOOK_LOG_ERROR,
			      "ENIs did not become available: leaving them to the "
			      "sweep",
			      fl);
		cl_finish(a);
		return;
	}
	eng_action_after(a, ENG_POLL_MS, poll_start);
}

static void poll_start(eng_action *a)
{
	const char *ids[64];
	size_t n = 0;
	for (size_t i = 0; i < a->n_victims && n < HK_ARRAY_LEN(ids); i++)
		if (!a->victims[i].gone)
			ids[n++] = a->victims[i].eni_id;
	if (!n) {
		cl_finish(a);
		return;
	}
	/* By id: an id that no longer exists fails the whole call with
	 * InvalidNetworkInterfaceID.NotFound, so ask by tag instead. */
	const char *vals[1] = {a->rec.instance_id};
	ec2_filter fl = {.name = "tag:" HOOK_TAG_INSTANCE, .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req req = {.filters = &fl, .n_filters = 1};
	a->inflight++;
	if (ec2_describe_network_interfaces(a->eng->aws, &req, poll_cb, a, NULL) != HK_OK) {
		a->inflight--;
		eng_action_after(a, ENG_POLL_MS, poll_start);
	}
}

static void detach_cb(const awc_result *res, const ec2_return_out *out, void *arg)
{
	eng_action *a = arg;
	hook_engine_fault f;
	if (!cl_answer(a, res, &f))
		return;
	if (f != ENG_FAULT_NONE && f != ENG_FAULT_NOT_FOUND) {
		eng_log_aws(a, HOOK_LOG_WARN, "DetachNetworkInterface failed",
			    "DetachNetworkInterface", res);
		if (cl_of(a))
			cl_of(a)->detach_failed++;
	}
	if (!a->inflight) /* the last answer of the round */
		poll_start(a);
}

static void find_cb(const awc_result *res, const ec2_describe_network_interfaces_out *out,
		    void *arg)
{
	eng_action *a = arg;
	eng_health_from(a->eng, res);
	if (!cl_enter(a))
		return;
	if (res->err) {
		cl_trouble(a, "DescribeNetworkInterfaces", res);
		return;
	}
	eng_victims_free(a);
	if (out->n_enis) {
		a->victims = calloc(out->n_enis, sizeof(*a->victims));
		if (!a->victims) {
			awc_result r = {.err = HK_ERR_NOMEM};
			cl_trouble(a, "allocation", &r);
			return;
		}
	}
	for (size_t i = 0; i < out->n_enis; i++) {
		const ec2_eni *ni = &out->enis[i];
		const char *inst = ec2_eni_tag(ni, HOOK_TAG_INSTANCE);
		if (!inst || strcmp(inst, a->rec.instance_id) != 0)
			continue;
		eng_victim *v = &a->victims[a->n_victims++];
		v->eni_id = eng_strdup(ni->eni_id);
		v->subnet_id = eng_strdup(ni->subnet_id);
		v->attachment_id = ni->attached && ni->attachment.attachment_id
				       ? eng_strdup(ni->attachment.attachment_id)
				       : NULL;
		v->detached = ni->status && strcmp(ni->status, "available") == 0;
	}
	json_t *f = json_pack("{s:I,s:s,s:I}", "action_id", (json_int_t)a->rec.id, "instance",
			      a->rec.instance_id, "enis", (json_int_t)a->n_victims);
	hook_log_json(HOOK_LOG_INFO, "cleaning up the instance's ENIs", f);
	if (!a->n_victims) {
		cl_finish(a);
		return;
	}
	eng_action_set_step(a, a->rec.transition == HOOK_TRANSITION_LAUNCHING ? ENG_STEP_CLEANUP
									      : ENG_STEP_T_DETACH);
	cl_state *c = realloc(a->cl, sizeof(cl_state) + a->n_victims * sizeof(unsigned));
	if (c) {
		a->cl = c;
		c->n_detach_sent = a->n_victims;
		memset(c->detach_sent, 0, a->n_victims * sizeof(unsigned));
	} else {
		cl_of(a)->n_detach_sent = 0; /* no re-sends; the rest works */
	}
	cl_of(a)->detach_failed = 0;
	for (size_t i = 0; i < a->n_victims; i++) {
		eng_victim *v = &a->victims[i];
		if (v->detached || !v->attachment_id || !v->eni_id)
			continue;
		(void)detach_send(a, i, v->attachment_id,
				  a->rec.transition == HOOK_TRANSITION_LAUNCHING);
	}
	if (!a->inflight)
		delete_ready(a);
}

static void cl_find(eng_action *a)
{
	const char *vals[1] = {a->rec.instance_id};
	ec2_filter fl = {.name = "tag:" HOOK_TAG_INSTANCE, .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req req = {.filters = &fl, .n_filters = 1};
	cl_of(a)->polls = 0;
	a->inflight++;
	if (ec2_describe_network_interfaces(a->eng->aws, &req, find_cb, a, NULL) != HK_OK) {
		a->inflight--;
		awc_result r = {.err = HK_ERR_NOMEM};
		cl_trouble(a, "DescribeNetworkInterfaces", &r);
	}
}

void eng_cleanup_run(eng_action *a, void (*done)(eng_action *))
{
	cl_free(a);
	a->cl = calloc(1, sizeof(cl_state));
	if (!a->cl) {
		done(a);
		return;
	}
	cl_of(a)->done = done;
	cl_find(a);
}

static void term_done(eng_action *a)
{
	eng_action_complete(a, HOOK_RESULT_CONTINUE);
}

void eng_terminate_run(eng_action *a)
{
	if (a->group && a->group->terminate == HOOK_TERMINATE_DELETE_ON_TERMINATION) {
		json_t *f = json_pack("{s:I,s:s}", "action_id", (json_int_t)a->rec.id, "instance",
				      a->rec.instance_id);
		hook_log_json(HOOK_LOG_INFO, "terminate: ENIs go with DeleteOnTermination", f);
		eng_action_set_run(a, ENG_RUN_COMPLETING);
		eng_action_complete(a, HOOK_RESULT_CONTINUE);
		return;
	}
	eng_action_set_step(a, ENG_STEP_T_FIND);
	/* The terminate's work is a cleanup: it runs to the end even when a
	 * heartbeat says the action is gone (the ENIs must go anyway). */
	snprintf(a->fail_reason, sizeof(a->fail_reason), "terminating");
	eng_action_set_run(a, ENG_RUN_CLEANING);
	eng_cleanup_run(a, term_done);
}
