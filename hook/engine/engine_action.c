/* An action's run state: its log lines, its step in the store, timers,
 * heartbeats and the give-up deadline, failure, retry, completion, and the
 * one-plan-per-instance turn. It calls no state machine directly: restarting
 * and cleaning up go through hook_eng.restart_fn / cleanup_fn, set by
 * engine.c, so the machines depend on this file and not the other way round.
 *
 * Discipline for every asynchronous call an action makes: a->inflight is
 * raised before the call and lowered first thing in its callback by
 * eng_enter(), which also says whether the callback may go on. A failure or
 * a retry decided while other calls are still out waits until they have all
 * come back (eng_settle), so cleanup never races with a create. */
#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/evp.h>

/* ======================================================================
 * Engine services
 * ====================================================================== */

char *eng_strdup(const char *s)
{
	return strdup(s ? s : "");
}

void eng_victims_free(eng_action *a)
{
	for (size_t i = 0; i < a->n_victims; i++) {
		free(a->victims[i].eni_id);
		free(a->victims[i].attachment_id);
		free(a->victims[i].subnet_id);
	}
	free(a->victims);
	a->victims = NULL;
	a->n_victims = 0;
}

static void free_slots(eng_action *a)
{
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		free(s->subnet_id);
		free(s->ipv4);
		free(s->ipv6);
		free(s->client_token);
		free(s->eni_id);
		free(s->attachment_id);
	}
	free(a->slots);
	a->slots = NULL;
	a->n_slots = 0;
}

void eng_action_free(eng_action *a)
{
	if (!a)
		return;
	hook_event_free(&a->beat_ev);
	hook_event_free(&a->giveup_ev);
	hook_event_free(&a->retry_ev);
	free_slots(a);
	eng_victims_free(a);
	free(a->cl);
	free(a->az);
	free(a->instance_type);
	awscalls_free(a->inst);
	hook_action_cleanup(&a->rec);
	hook_config_free(a->cfg);
	free(a);
}

static void base_fields(eng_action *a, json_t *f)
{
	char tp[12];
	hook_token_prefix(a->rec.token, tp);
	json_object_set_new(f, "action_id", json_integer((json_int_t)a->rec.id));
	json_object_set_new(f, "instance", json_string(a->rec.instance_id));
	json_object_set_new(f, "step", json_string(hook_engine_step_str(a->step)));
	/* "group" is the node group everywhere, "asg" the Auto Scaling group */
	json_object_set_new(f, "group", json_string(a->rec.group ? a->rec.group : ""));
	json_object_set_new(f, "asg", json_string(a->rec.asg));
	json_object_set_new(f, "token", json_string(tp));
}

void eng_log(eng_action *a, hook_log_level lvl, const char *msg, json_t *extra)
{
	if (!hook_log_enabled(lvl)) {
		json_decref(extra);
		return;
	}
	json_t *f = extra ? extra : json_object();
	if (f)
		base_fields(a, f);
	hook_log_json(lvl, msg, f);
}

void eng_log_aws(eng_action *a, hook_log_level lvl, const char *msg, const char *call,
		 const awc_result *res)
{
	json_t *f = json_object();
	if (f) {
		json_object_set_new(f, "call", json_string(call));
		json_object_set_new(f, "error", json_string(hk_err_str(res->err)));
		if (res->aws_code)
			json_object_set_new(f, "aws_code", json_string(res->aws_code));
		if (res->request_id)
			json_object_set_new(f, "aws_request_id", json_string(res->request_id));
		if (res->errtext) {
			/* ValidationError texts quote the whole lifecycle token */
			char *safe = hook_engine_redact_token(res->errtext, a->rec.token);
			json_object_set_new(f, "detail",
					    json_string(safe ? safe : "(detail withheld)"));
			free(safe);
		}
		json_object_set_new(f, "attempts", json_integer(res->attempts));
	}
	eng_log(a, lvl, msg, f);
}

void eng_health_from(hook_eng *e, const awc_result *res)
{
	hook_health *h = e->health;
	if (!h)
		return;
	if (awc_client_region(e->aws))
		hook_health_set(h, HOOK_HEALTH_REGION, HOOK_YES, NULL);
	if (res->err == HK_ERR_NO_CREDENTIALS || res->err == HK_ERR_AUTH) {
		hook_health_set(h, HOOK_HEALTH_CREDENTIALS, HOOK_NO,
				res->aws_code ? res->aws_code : hk_err_str(res->err));
	} else if (res->http_status > 0) {
		hook_health_set(h, HOOK_HEALTH_CREDENTIALS, HOOK_YES, NULL);
	}
	if (res->http_status > 0) {
		hook_health_set(h, HOOK_HEALTH_AWS_REACHABLE, HOOK_YES, NULL);
	} else if (res->err == HK_ERR_TRANSIENT || res->err == HK_ERR_TIMEOUT) {
		hook_health_set(h, HOOK_HEALTH_AWS_REACHABLE, HOOK_NO, hk_err_str(res->err));
	} else if (res->err == HK_ERR_INVALID && !awc_client_region(e->aws)) {
		hook_health_set(h, HOOK_HEALTH_REGION, HOOK_NO, "no region resolved");
	}
}

void eng_action_set_step(eng_action *a, hook_engine_step step)
{
	a->step = step;
	hook_action_update u = {.state = eng_failed(a) ? HOOK_ACTION_CLEANUP : HOOK_ACTION_RUNNING,
				.step = hook_engine_step_str(step),
				.deadline_ms = HOOK_KEEP_DEADLINE};
	if (step == ENG_STEP_COMPLETE)
		u.state = HOOK_ACTION_COMPLETING;
	hk_err err = hook_store_action_update(a->eng->store, a->rec.id, &u);
	if (err) {
		json_t *f = json_pack("{s:s}", "error", hk_err_str(err));
		eng_log(a, HOOK_LOG_WARN, "cannot record the step (resume starts earlier)", f);
	}
	if (hook_log_enabled(HOOK_LOG_DEBUG))
		eng_log(a, HOOK_LOG_DEBUG, "step", NULL);
}

void eng_action_store_state(eng_action *a, hook_action_state st, const char *last_error)
{
	hook_action_update u = {.state = st,
				.step = hook_engine_step_str(a->step),
				.last_error = last_error,
				.deadline_ms = HOOK_KEEP_DEADLINE};
	hk_err err = hook_store_action_update(a->eng->store, a->rec.id, &u);
	if (err) {
		json_t *f = json_pack("{s:s}", "error", hk_err_str(err));
		eng_log(a, HOOK_LOG_ERROR, "cannot record the action state", f);
	}
}

void eng_slot_row(const eng_action *a, const eng_slot *s, hook_eni_row *row)
{
	memset(row, 0, sizeof(*row));
	row->action_id = a->rec.id;
	row->network = s->net->name;
	row->device_index = s->net->device_index;
	row->network_card_index = s->net->network_card_index;
	row->subnet_id = s->subnet_id;
	row->ipv4 = s->ipv4;
	row->ipv6 = s->ipv6;
	row->client_token = s->client_token;
	row->eni_id = s->eni_id;
	row->attachment_id = s->attachment_id;
	row->state = (char *)(uintptr_t)hook_eni_state_str(s->state);
}

hk_err eng_slot_save(eng_action *a, eng_slot *s, hook_eni_state st)
{
	hook_eni_state old = s->state;
	s->state = st;
	hook_eni_row row;
	eng_slot_row(a, s, &row);
	hk_err err = hook_store_eni_put(a->eng->store, &row);
	if (err) {
		s->state = old;
		json_t *f = json_pack("{s:s,s:s,s:s}", "network", s->net->name, "eni_state",
				      hook_eni_state_str(st), "error", hk_err_str(err));
		eng_log(a, HOOK_LOG_ERROR, "cannot record the ENI", f);
	}
	return err;
}

/* ---- timers ---------------------------------------------------------- */

static void tv_ms(struct timeval *tv, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms % 1000) * 1000);
}

static void after_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_action *a = arg;
	void (*fn)(eng_action *) = a->after_fn;
	a->after_fn = NULL;
	if (fn && a->run != ENG_RUN_FINISHED)
		fn(a);
}

void eng_action_after(eng_action *a, unsigned delay_ms, void (*fn)(eng_action *))
{
	if (!a->retry_ev)
		a->retry_ev = evtimer_new(a->eng->base, after_cb, a);
	if (!a->retry_ev)
		return;
	a->after_fn = fn;
	struct timeval tv;
	tv_ms(&tv, delay_ms);
	evtimer_add(a->retry_ev, &tv);
}

/* ---- lifecycle of an action ------------------------------------------ */

void eng_pump_soon(hook_eng *e)
{
	if (e->pump_ev)
		event_active(e->pump_ev, 0, 0);
}

/* ---- one instance, one plan --------------------------------------------
 * At most one action per instance has the turn: works on its ENIs (launch
 * steps, terminate, cleanup). Any other action of the instance that reaches
 * that point waits parked, heartbeating its own hook, until the turn ends.
 * A terminate that finds a launch at work stops it (the instance is leaving:
 * the launch cleans up and completes); then the terminate runs. */

static eng_action *turn_holder(const eng_action *a)
{
	for (eng_action *o = a->eng->active; o; o = o->next)
		if (o != a && o->had_turn && o->run != ENG_RUN_FINISHED &&
		    strcmp(o->rec.instance_id, a->rec.instance_id) == 0)
			return o;
	return NULL;
}

/* true: `a` must wait (parked; `then` runs when it is woken). false: `a` has
 * the turn. */
bool eng_wait_turn(eng_action *a, void (*then)(eng_action *))
{
	if (a->had_turn)
		return false;
	eng_action *h = turn_holder(a);
	if (!h) {
		a->had_turn = true;
		a->parked = false;
		a->park_then = NULL;
		return false;
	}
	a->parked = true;
	a->park_then = then;
	json_t *f = json_pack("{s:I,s:s,s:s}", "waits_for", (json_int_t)h->rec.id, "hook",
			      a->rec.hook, "transition", hook_transition_str(a->rec.transition));
	eng_log(a, HOOK_LOG_INFO, "another action of this instance is at work: waiting for it", f);
	if (a->rec.transition == HOOK_TRANSITION_TERMINATING &&
	    h->rec.transition == HOOK_TRANSITION_LAUNCHING)
		eng_action_fail(h, "the instance is terminating (action %lld): launch stopped",
				(long long)a->rec.id);
	return true;
}

/* `done` (just finished, unlinked) ends its turn: the parked actions of its
 * instance go on, oldest first. One of the same transition (another of our
 * hooks on the same launch or terminate) takes done's result: one piece of
 * work completes both. */
static void wake_siblings(hook_eng *e, const eng_action *done, hook_action_state st,
			  const char *result)
{
	for (;;) {
		eng_action *w = NULL;
		for (eng_action *o = e->active; o; o = o->next)
			if (o->parked && strcmp(o->rec.instance_id, done->rec.instance_id) == 0 &&
			    (!w || o->rec.id < w->rec.id))
				w = o;
		if (!w)
			return;
		w->parked = false;
		void (*then)(eng_action *) = w->park_then;
		w->park_then = NULL;
		if (st == HOOK_ACTION_DONE && result && *result && !eng_failed(w) &&
		    hook_engine_same_episode(&w->rec, &done->rec)) {
			json_t *f = json_pack("{s:I,s:s}", "same_as", (json_int_t)done->rec.id,
					      "result", result);
			eng_log(w, HOOK_LOG_INFO,
				"one piece of work: completing with the result of the same "
				"transition's other hook",
				f);
			eng_action_set_run(w, ENG_RUN_COMPLETING);
			eng_action_complete(w, hook_result_of(result));
			continue;
		}
		if (then)
			eng_action_after(w, 0, then);
	}
}

void eng_action_finish(eng_action *a, hook_action_state st, const char *result,
		       const char *last_error)
{
	hook_eng *e = a->eng;
	if (a->run == ENG_RUN_FINISHED)
		return;
	eng_action_set_run(a, ENG_RUN_FINISHED);
	a->step = ENG_STEP_DONE;
	hook_action_update u = {.state = st,
				.step = hook_engine_step_str(ENG_STEP_DONE),
				.last_error = last_error,
				.result = result,
				.deadline_ms = HOOK_KEEP_DEADLINE};
	hk_err err = hook_store_action_update(e->store, a->rec.id, &u);
	json_t *f = json_pack("{s:s,s:s,s:s}", "state", hook_action_state_str(st), "result",
			      result ? result : "", "last_error", last_error ? last_error : "");
	if (err && f)
		json_object_set_new(f, "store_error", json_string(hk_err_str(err)));
	eng_log(a, st == HOOK_ACTION_DONE ? HOOK_LOG_INFO : HOOK_LOG_ERROR, "action finished", f);
	eng_notify_action(e->notify, a, st, result, last_error);
	const char *tr =
	    a->rec.transition == HOOK_TRANSITION_LAUNCHING ? "launching" : "terminating";
	const char *res = st == HOOK_ACTION_FAILED		      ? "failed"
			  : result && strcmp(result, "CONTINUE") == 0 ? "continue"
			  : result && strcmp(result, "ABANDON") == 0  ? "abandon"
								      : "expired";
	hk_metric_inc2(hook_m.actions_finished, tr, res);
	const char *trv[1] = {tr};
	hk_metric_observe(hook_m.completion_seconds, trv,
			  (double)(hook_now_ms() - a->rec.created_ms) / 1000.0);
	if (a->beat_ev)
		evtimer_del(a->beat_ev);
	if (a->giveup_ev)
		evtimer_del(a->giveup_ev);
	if (a->retry_ev)
		evtimer_del(a->retry_ev);
	a->after_fn = NULL;
	/* unlink; freed on the next turn (we may be deep in its callback chain) */
	for (eng_action **pp = &e->active; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	e->n_active--;
	a->next = e->zombies;
	e->zombies = a;
	wake_siblings(e, a, st, result);
	eng_pump_soon(e);
}

const char *hook_engine_final_error(bool failing_launch, const char *fail_reason,
				    const char *last_error)
{
	if (failing_launch)
		return fail_reason ? fail_reason : "";
	if (last_error &&
	    strncmp(last_error, ENG_CLEANUP_INCOMPLETE, strlen(ENG_CLEANUP_INCOMPLETE)) == 0)
		return last_error;
	return "";
}

static void complete_cb(const awc_result *res, const asg_empty_out *out, void *arg);

static void complete_send(eng_action *a)
{
	hook_result result = hook_result_of(a->rec.result);
	asg_lifecycle_action_req req = {
	    .hook_name = a->rec.hook,
	    .group_name = a->rec.asg,
	    .token = a->rec.token,
	    .instance_id = a->rec.instance_id,
	    .result = result == HOOK_RESULT_ABANDON ? ASG_RESULT_ABANDON : ASG_RESULT_CONTINUE,
	};
	a->complete_tries++;
	a->inflight++;
	hk_err err = asg_complete_lifecycle_action(a->eng->aws, &req, complete_cb, a, NULL);
	if (err) {
		a->inflight--;
		json_t *f = json_pack("{s:s}", "error", hk_err_str(err));
		eng_log(a, HOOK_LOG_ERROR, "cannot send CompleteLifecycleAction", f);
		eng_action_after(a, 2000, complete_send);
	}
}

/* Until when a failed completion is sent again: the hook's global deadline.
 * The stored deadline_ms is created_ms + global (set_timing); a record from
 * before the deadline was known falls back on the timing, else 48 h (AWS's
 * longest: the retries end with a ValidationError then). */
static int64_t complete_deadline_ms(const eng_action *a)
{
	if (a->rec.deadline_ms > 0)
		return a->rec.deadline_ms;
	if (a->timing_known)
		return a->rec.created_ms + a->timing.global_ms;
	return a->rec.created_ms + (int64_t)48 * 3600 * 1000;
}

void eng_arm_timers(eng_action *a);

static void complete_cb(const awc_result *res, const asg_empty_out *out, void *arg)
{
	eng_action *a = arg;
	a->inflight--;
	eng_health_from(a->eng, res);
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	const char *result = hook_result_str(hook_result_of(a->rec.result));
	if (f == ENG_FAULT_NONE) {
		json_t *x = json_pack("{s:s,s:s}", "result", result, "aws_request_id",
				      res->request_id ? res->request_id : "");
		eng_log(a, HOOK_LOG_INFO, "lifecycle action completed", x);
		eng_action_finish(
		    a, HOOK_ACTION_DONE, result,
		    hook_engine_final_error(eng_failed(a) &&
						a->rec.transition == HOOK_TRANSITION_LAUNCHING,
					    a->fail_reason, a->rec.last_error));
		return;
	}
	if (f == ENG_FAULT_NO_ACTIVE_ACTION) {
		/* Completed already (a resumed or retried completion), or the
		 * hook timed out: either way nothing is left to complete. */
		eng_log_aws(a, HOOK_LOG_WARN,
			    "no active lifecycle action: already completed or timed out",
			    "CompleteLifecycleAction", res);
		eng_action_finish(a, HOOK_ACTION_DONE, result,
				  "no active lifecycle action at completion");
		return;
	}
	if (f == ENG_FAULT_RETRY && hook_now_ms() < complete_deadline_ms(a)) {
		eng_log_aws(a, HOOK_LOG_WARN, "CompleteLifecycleAction failed: retrying",
			    "CompleteLifecycleAction", res);
		unsigned d = a->complete_tries < 6 ? 500u << a->complete_tries : 30000u;
		eng_action_after(a, d, complete_send);
		/* heartbeats go on between the attempts: the action must not
		 * time out on its heartbeat while the completion is retried */
		eng_arm_timers(a);
		return;
	}
	eng_log_aws(a, HOOK_LOG_ERROR, "CompleteLifecycleAction failed", "CompleteLifecycleAction",
		    res);
	char why[256];
	snprintf(why, sizeof(why), "CompleteLifecycleAction: %s",
		 res->aws_code ? res->aws_code : hk_err_str(res->err));
	eng_action_finish(a, HOOK_ACTION_FAILED, result, why);
}

void eng_action_complete(eng_action *a, hook_result result)
{
	const char *r = hook_result_str(result);
	free(a->rec.result);
	a->rec.result = strdup(r);
	if (!a->rec.result) {
		eng_action_finish(a, HOOK_ACTION_FAILED, r, "out of memory");
		return;
	}
	a->step = ENG_STEP_COMPLETE;
	hook_action_update u = {.state = HOOK_ACTION_COMPLETING,
				.step = hook_engine_step_str(ENG_STEP_COMPLETE),
				.result = r,
				.deadline_ms = HOOK_KEEP_DEADLINE};
	if (hook_store_action_update(a->eng->store, a->rec.id, &u) != HK_OK)
		eng_log(a, HOOK_LOG_WARN, "cannot record the completion step", NULL);
	if (a->giveup_ev)
		evtimer_del(a->giveup_ev);
	if (eng_is_reconcile(a)) { /* no lifecycle action to complete */
		eng_action_finish(a, HOOK_ACTION_DONE, r,
				  result == HOOK_RESULT_CONTINUE ? NULL : a->rec.last_error);
		return;
	}
	complete_send(a);
}

/* ---- failure and retry ----------------------------------------------- */

static void start_cleanup(eng_action *a);

void eng_after_cleanup(eng_action *a)
{
	hook_result r = a->group ? a->group->failure_result : HOOK_RESULT_ABANDON;
	if (a->rec.transition == HOOK_TRANSITION_TERMINATING)
		r = HOOK_RESULT_CONTINUE;
	eng_action_complete(a, r);
}

static void start_cleanup(eng_action *a)
{
	if (!a->had_turn && !a->resumed_cleanup) {
		/* It failed before its turn (parked behind a sibling, or before
		 * any ENI work): nothing of its own to undo, and the instance's
		 * ENIs belong to the sibling's plan. */
		a->parked = false;
		a->park_then = NULL;
		eng_after_cleanup(a);
		return;
	}
	if (eng_wait_turn(a, start_cleanup))
		return;
	a->eng->cleanup_fn(a);
}

static const char *const run_names[ENG_RUN_N] = {
    [ENG_RUN_WORKING] = "working",	 [ENG_RUN_RESUMING] = "resuming",
    [ENG_RUN_RESTARTING] = "restarting", [ENG_RUN_FAILING] = "failing",
    [ENG_RUN_CLEANING] = "cleaning",	 [ENG_RUN_COMPLETING] = "completing",
    [ENG_RUN_FINISHED] = "finished",	 [ENG_RUN_STOPPING] = "stopping",
};

const char *eng_run_str(eng_run run)
{
	return hk_name_of(run_names, ENG_RUN_N, run, "?");
}

void eng_action_set_run(eng_action *a, eng_run run)
{
	if (a->run == run)
		return;
	if (hook_log_enabled(HOOK_LOG_DEBUG)) {
		json_t *f =
		    json_pack("{s:s,s:s}", "from", eng_run_str(a->run), "to", eng_run_str(run));
		eng_log(a, HOOK_LOG_DEBUG, "run state", f);
	}
	a->run = run;
}

static void restart_now(eng_action *a)
{
	eng_action_set_run(a, ENG_RUN_WORKING);
	a->eng->restart_fn(a);
}

void eng_settle(eng_action *a)
{
	if (a->inflight || a->run == ENG_RUN_FINISHED || a->run == ENG_RUN_COMPLETING)
		return;
	if (a->run == ENG_RUN_STOPPING) {
		eng_action_after(a, 0, a->eng->cleanup_fn); /* it knows STOPPING */
		return;
	}
	if (a->run == ENG_RUN_FAILING) {
		eng_action_set_run(a, ENG_RUN_CLEANING);
		eng_action_after(a, 0, start_cleanup);
	} else if (a->run == ENG_RUN_RESTARTING) {
		eng_action_after(a, a->restart_delay_ms, restart_now);
	}
}

bool eng_enter(eng_action *a)
{
	if (a->inflight)
		a->inflight--;
	if (a->run == ENG_RUN_FINISHED)
		return false;
	if (eng_failed(a) || a->run == ENG_RUN_RESTARTING || a->run == ENG_RUN_STOPPING) {
		eng_settle(a);
		return false;
	}
	return true;
}

bool eng_answer(eng_action *a, const awc_result *res, hook_engine_fault *fault)
{
	eng_health_from(a->eng, res);
	if (!eng_enter(a))
		return false;
	*fault = hook_engine_classify(res->err, res->aws_code);
	return true;
}

void eng_action_fail(eng_action *a, const char *fmt, ...)
{
	if (eng_failed(a) || a->run == ENG_RUN_COMPLETING || a->run == ENG_RUN_FINISHED ||
	    a->run == ENG_RUN_STOPPING)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->fail_reason, sizeof(a->fail_reason), fmt, ap);
	va_end(ap);
	if (!a->fail_reason[0]) /* the failure is this fact: never empty */
		snprintf(a->fail_reason, sizeof(a->fail_reason), "failed");
	eng_action_set_run(a, ENG_RUN_FAILING);
	a->fail_step = a->step;
	json_t *f = json_pack("{s:s}", "reason", a->fail_reason);
	eng_log(a, HOOK_LOG_ERROR, "action failed: cleaning up before completing", f);
	a->step = ENG_STEP_CLEANUP;
	eng_action_store_state(a, HOOK_ACTION_CLEANUP, a->fail_reason);
	eng_settle(a);
}

void eng_action_retry_later(eng_action *a, const char *why, unsigned delay_ms)
{
	if (eng_failed(a) || (a->run != ENG_RUN_WORKING && a->run != ENG_RUN_RESUMING))
		return;
	/* forward progress (a step or an ENI further than ever) restarts the
	 * count: a long burst of throttling spread over many steps is not
	 * one step failing 12 times */
	unsigned eni = 0;
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].state <= ENG_ENI_CONFIGURED)
			eni += (unsigned)a->slots[i].state;
	unsigned d = 0;
	if (!hook_engine_retry_next(&a->retry, hook_engine_progress(a->step, eni), delay_ms, &d)) {
		eng_action_fail(a, "giving up after %u retries without progress: %s",
				a->retry.count, why);
		return;
	}
	eng_action_set_run(a, ENG_RUN_RESTARTING);
	a->restart_delay_ms = d;
	json_t *f = json_pack("{s:s,s:i,s:i}", "reason", why, "retry_in_ms", (int)d, "retries",
			      (int)a->retry.count);
	eng_log(a, HOOK_LOG_WARN, "transient trouble: retrying the action", f);
	eng_settle(a);
}

bool eng_action_past_giveup(const eng_action *a)
{
	return a->timing_known && hook_now_ms() >= a->giveup_ms;
}

const awc_call_opts *eng_call_opts(eng_action *a)
{
	a->call_opts = (awc_call_opts){0};
	if (a->timing_known) {
		int64_t left_ms = a->giveup_ms - hook_now_ms();
		/* past the give-up: one attempt, no retries */
		uint64_t now_us = awc_now_us();
		a->call_opts.deadline_us =
		    left_ms > 0 ? now_us + (uint64_t)left_ms * 1000u : now_us;
	}
	return &a->call_opts;
}

/* ---- heartbeats and the deadline -------------------------------------- */

void eng_arm_timers(eng_action *a);

static void beat_cb(const awc_result *res, const asg_empty_out *out, void *arg)
{
	eng_action *a = arg;
	/* Heartbeats are not in a->inflight: they never hold back a cleanup,
	 * retry or completion. A finished action waits for its heartbeat in
	 * the zombie list (pump_cb). */
	a->beat_inflight = false;
	eng_health_from(a->eng, res);
	if (a->run == ENG_RUN_FINISHED) {
		eng_pump_soon(a->eng);
		return;
	}
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	hk_metric_inc1(hook_m.heartbeats, f == ENG_FAULT_NONE ? "ok" : "failed");
	if (f == ENG_FAULT_NONE) {
		/* AWS restarted its clock when the request arrived, after we sent it */
		a->last_beat_ms = a->beat_sent_ms;
		if (hook_log_enabled(HOOK_LOG_DEBUG))
			eng_log(a, HOOK_LOG_DEBUG, "heartbeat recorded", NULL);
	} else if (f == ENG_FAULT_NO_ACTIVE_ACTION) {
		eng_log_aws(a, HOOK_LOG_WARN, "heartbeat: lifecycle action no longer active",
			    "RecordLifecycleActionHeartbeat", res);
		if (a->rec.transition == HOOK_TRANSITION_LAUNCHING && !eng_failed(a) &&
		    a->run != ENG_RUN_COMPLETING) {
			/* Completed elsewhere (another replica on a copy of the
			 * event, a person) or timed out: a node in service keeps
			 * its ENIs, and the sweep removes those of a terminated
			 * one. Deleting them here would strip a working node. */
			eng_action_set_run(a, ENG_RUN_STOPPING);
			eng_settle(a);
		} else {
			eng_action_fail(a, "lifecycle action no longer active (timed out?)");
		}
	} else {
		eng_log_aws(a, HOOK_LOG_WARN, "heartbeat failed", "RecordLifecycleActionHeartbeat",
			    res);
	}
	eng_arm_timers(a);
}

static void beat_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_action *a = arg;
	/* while completing, only between attempts (complete_cb re-arms) */
	if (a->run == ENG_RUN_FINISHED || a->beat_inflight ||
	    (a->run == ENG_RUN_COMPLETING && a->inflight))
		return;
	asg_lifecycle_action_req req = {.hook_name = a->rec.hook,
					.group_name = a->rec.asg,
					.token = a->rec.token,
					.instance_id = a->rec.instance_id};
	a->beat_inflight = true;
	a->beat_sent_ms = hook_now_ms();
	/* A heartbeat retried for longer than half an interval is stale: let
	 * it fail, and send a fresh one at the next interval. */
	awc_call_opts beat_opts = {.deadline_us =
				       awc_now_us() + (uint64_t)a->timing.interval_ms * 500u};
	if (asg_record_lifecycle_action_heartbeat(a->eng->aws, &req, beat_cb, a, &beat_opts) !=
	    HK_OK) {
		a->beat_inflight = false;
		eng_log(a, HOOK_LOG_WARN, "cannot send a heartbeat", NULL);
		/* try again at the next interval */
		a->last_beat_ms = hook_now_ms() - a->timing.interval_ms / 2;
		eng_arm_timers(a);
	}
}

static void giveup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_action *a = arg;
	if (a->run == ENG_RUN_FINISHED || a->run == ENG_RUN_COMPLETING || eng_failed(a))
		return;
	/* the deadline may have moved (a heartbeat succeeded meanwhile) */
	if (hook_now_ms() < a->giveup_ms) {
		eng_arm_timers(a);
		return;
	}
	if (hook_now_ms() >= a->rec.created_ms + a->timing.global_ms - a->timing.global_margin_ms)
		eng_action_fail(a, "deadline near: giving up before the lifecycle hook's global "
				   "timeout");
	else
		eng_action_fail(a, "deadline near: giving up before the lifecycle hook's "
				   "heartbeat timeout (no heartbeat succeeded in time)");
}

void eng_arm_timers(eng_action *a)
{
	if (!a->timing_known || a->run == ENG_RUN_FINISHED)
		return;
	hook_eng *e = a->eng;
	int64_t now = hook_now_ms();
	a->giveup_ms = hook_engine_giveup_ms(&a->timing, a->rec.created_ms, a->last_beat_ms);
	if (!a->beat_ev)
		a->beat_ev = evtimer_new(e->base, beat_timer_cb, a);
	if (!a->giveup_ev)
		a->giveup_ev = evtimer_new(e->base, giveup_timer_cb, a);
	struct timeval tv;
	if (a->beat_ev && !eng_is_reconcile(a) && (a->run != ENG_RUN_COMPLETING || !a->inflight)) {
		int64_t base =
		    a->last_beat_ms > a->rec.created_ms ? a->last_beat_ms : a->rec.created_ms;
		tv_ms(&tv, base + a->timing.interval_ms - now);
		evtimer_add(a->beat_ev, &tv);
	}
	if (a->giveup_ev && a->run != ENG_RUN_COMPLETING && !eng_failed(a)) {
		tv_ms(&tv, a->giveup_ms - now);
		evtimer_add(a->giveup_ev, &tv);
	}
}
