/* The lifecycle engine: the queue and its concurrency bound, the hook
 * timeouts it reads before an action starts, dispatch to the launch and
 * terminate machines (engine_launch.c, engine_terminate.c), the sweep, and
 * the dispatch interface ops. The run state of one action is
 * engine_action.c; the pure rules engine_rules.c. See docs/engine.md. */
#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/evp.h>

/* ---- the hook's timeouts (cached per group + hook) -------------------- */

/* The hook cache's key of group + hook (asg and hook names are at most 255
 * bytes each; false when they do not fit, and the action asks uncached). */
static bool hook_key(const eng_action *a, char *key, size_t size)
{
	int n = snprintf(key, size, "%s\n%s", a->rec.asg, a->rec.hook);
	return n > 0 && (size_t)n < size;
}

/* A hook's timing, the hook cache's value. */
typedef struct eng_hook_timing {
	unsigned heartbeat_s;
	unsigned global_s;
} eng_hook_timing;

/* What a DescribeLifecycleHooks answer says for one hook (the detail its
 * waiters read). */
typedef struct hook_answer {
	const awc_result *res;
	bool found;
	unsigned heartbeat_s;
	unsigned global_s;
} hook_answer;

static void set_timing(eng_action *a, unsigned hb, unsigned global)
{
	hook_engine_timing_scaled(hb, global, a->cfg->heartbeat_margin_ms, a->cfg->test_time_scale,
				  &a->timing);
	a->timing_known = true;
	if (!a->last_beat_ms)
		a->last_beat_ms = a->rec.created_ms;
	/* The deadline the first run recorded stays (a resumed action that
	 * could only assume 3600 s must not move it); a new one is recorded. */
	int64_t deadline = hook_engine_keep_deadline(
	    &a->timing, a->rec.created_ms, a->rec.deadline_ms, a->cfg->heartbeat_margin_ms);
	if (deadline != a->rec.deadline_ms) {
		hook_action_update u = {.state = eng_failed(a) ? HOOK_ACTION_CLEANUP
							       : HOOK_ACTION_RUNNING,
					.deadline_ms = deadline};
		if (a->run == ENG_RUN_COMPLETING || a->run == ENG_RUN_RESUMING)
			u.state = HOOK_ACTION_COMPLETING;
		if (hook_store_action_update(a->eng->store, a->rec.id, &u) == HK_OK)
			a->rec.deadline_ms = deadline;
	}
	eng_arm_timers(a);
}

/* A launch whose instance is leaving, or whose same launch another of our
 * hooks' actions abandoned, completes ABANDON without ENI work (the store
 * holds every action of the instance, also those of earlier runs). */
static bool settled_by_siblings(eng_action *a)
{
	if (a->rec.transition != HOOK_TRANSITION_LAUNCHING)
		return false;
	hook_action *v = NULL;
	size_t n = 0;
	if (hook_store_action_list_instance(a->eng->store, a->rec.instance_id, 64, &v, &n) != HK_OK)
		return false; /* run: adoption keeps a repeat idempotent */
	int64_t by = 0;
	hook_engine_verdict verdict = hook_engine_sibling_verdict(&a->rec, v, n, &by);
	hook_actions_free(v, n);
	if (verdict == ENG_VERDICT_RUN)
		return false;
	char why[160];
	snprintf(why, sizeof(why),
		 verdict == ENG_VERDICT_LEAVING
		     ? "the instance is terminating (action %lld): no ENIs for it"
		     : "the same launch was abandoned by action %lld: abandoned too",
		 (long long)by);
	json_t *f = json_pack("{s:s,s:I}", "reason", why, "decided_by", (json_int_t)by);
	eng_log(a, HOOK_LOG_WARN, "launch settled without ENI work", f);
	eng_action_store_state(a, HOOK_ACTION_RUNNING, why);
	free(a->rec.last_error);
	a->rec.last_error = eng_strdup(why);
	eng_action_set_run(a, ENG_RUN_COMPLETING);
	eng_action_complete(a, HOOK_RESULT_ABANDON);
	return true;
}

static void dispatch(eng_action *a);

/* The hook's timing is known: a failed action settles (cleanup), any other
 * goes on to its work. */
static void settle_or_dispatch(eng_action *a)
{
	if (eng_failed(a)) {
		eng_action_set_run(a, ENG_RUN_FAILING);
		eng_settle(a);
		return;
	}
	dispatch(a);
}

static void dispatch(eng_action *a)
{
	if (a->run == ENG_RUN_RESUMING) {
		/* the work was done before the restart: complete even when
		 * late (AWS answers ValidationError if the action is over) */
		eng_action_set_run(a, ENG_RUN_COMPLETING);
		eng_action_complete(a, hook_result_of(a->rec.result));
		return;
	}
	if (eng_action_past_giveup(a)) {
		eng_action_fail(a, "deadline already passed at start");
		return;
	}
	if (settled_by_siblings(a))
		return;
	if (eng_wait_turn(a, dispatch))
		return;
	if (a->rec.transition == HOOK_TRANSITION_LAUNCHING)
		eng_launch_run(a);
	else
		eng_terminate_run(a);
}

/* The hook named `hook` in a DescribeLifecycleHooks answer. */
static bool hooks_scan(const asg_describe_lifecycle_hooks_out *out, const char *hook, unsigned *hb,
		       unsigned *global)
{
	bool found = false;
	for (size_t i = 0; out && i < out->n_hooks; i++) {
		const asg_lifecycle_hook *h = &out->hooks[i];
		if (h->hook_name && strcmp(h->hook_name, hook) == 0) {
			*hb = h->heartbeat_timeout_s;
			*global = h->global_timeout_s;
			found = true;
		}
	}
	return found;
}

/* One action's share of a DescribeLifecycleHooks answer (its own call, or
 * the one it waited on). a->inflight was raised for it. */
static void hooks_apply(eng_action *a, const awc_result *res, bool found, unsigned hb,
			unsigned global)
{
	if (a->run == ENG_RUN_FINISHED) {
		(void)eng_enter(a);
		return;
	}
	/* A resumed cleanup (eng_failed) cannot retry the description: it goes
	 * on with an assumed timeout, like a permanent failure. */
	bool retry = res->err != HK_OK && !eng_failed(a) &&
		     hook_engine_classify(res->err, res->aws_code) == ENG_FAULT_RETRY;
	if (retry) {
		eng_log_aws(a, HOOK_LOG_WARN, "cannot describe the lifecycle hook",
			    "DescribeLifecycleHooks", res);
	} else if (res->err != HK_OK) {
		eng_log_aws(
		    a, HOOK_LOG_WARN,
		    "cannot describe the lifecycle hook: assuming a 3600 s heartbeat timeout",
		    "DescribeLifecycleHooks", res);
		hb = 3600;
		global = 0;
	} else if (!found) {
		hb = 3600;
		global = 0;
		eng_log(a, HOOK_LOG_WARN,
			"lifecycle hook not found: assuming a 3600 s heartbeat timeout", NULL);
	}
	/* The timing first: eng_enter() starts a resumed cleanup at once
	 * (eng_failed), and it needs its heartbeats and give-up time. */
	if (!retry)
		set_timing(a, hb, global);
	if (!eng_enter(a))
		return;
	if (retry) {
		eng_action_retry_later(a, "DescribeLifecycleHooks failed", 1000);
		return;
	}
	dispatch(a);
}

/* An uncached call (the cache is full): arg is the action. */
static void hooks_cb(const awc_result *res, const asg_describe_lifecycle_hooks_out *out, void *arg)
{
	eng_action *a = arg;
	eng_health_from(a->eng, res);
	unsigned hb = 3600, global = 0;
	bool found = res->err == HK_OK && hooks_scan(out, a->rec.hook, &hb, &global);
	hooks_apply(a, res, found, hb, global);
}

/* The single-flight call of the hook cache: arg is the leader (an action
 * held by its inflight count, like every waiter); every action waiting gets
 * the answer, a failure included (each then retries or assumes 3600 s). */
static void hooks_flight_cb(const awc_result *res, const asg_describe_lifecycle_hooks_out *out,
			    void *arg)
{
	eng_action *leader = arg;
	hook_eng *e = leader->eng;
	eng_health_from(e, res);
	char key[600];
	(void)hook_key(leader, key, sizeof(key)); /* it fitted when the leader joined */
	hook_answer ans = {.res = res, .heartbeat_s = 3600};
	ans.found =
	    res->err == HK_OK && hooks_scan(out, leader->rec.hook, &ans.heartbeat_s, &ans.global_s);
	eng_hook_timing *t = ans.found ? malloc(sizeof(*t)) : NULL;
	if (t)
		*t = (eng_hook_timing){ans.heartbeat_s, ans.global_s};
	hk_sf_done_with(e->hook_cache, key, t ? HK_OK : HK_ERR_NOT_FOUND, t, hook_now_ms(),
			ENG_HOOK_CACHE_MS, &ans);
}

/* DescribeLifecycleHooks could not even be sent: every waiter goes on with
 * 3600 s (as before the cache was single-flight). */
static void hooks_not_sent(eng_action *a)
{
	a->inflight--;
	set_timing(a, 3600, 0);
	if (eng_failed(a))
		eng_settle(a);
	else
		dispatch(a);
}

/* A waiter of the hook cache (the leader included). */
static void hooks_ready(void *arg, const char *key, hk_err err, void *value)
{
	eng_action *a = arg;
	const hook_answer *ans = hk_sf_detail(a->eng->hook_cache, key);
	if (!ans)
		hooks_not_sent(a);
	else
		hooks_apply(a, ans->res, ans->found, ans->heartbeat_s, ans->global_s);
}

/* Start (or restart) an action from its resume point. */
/* The cleanup of a failed action once it has its turn (eng_action.c asks
 * through hook_eng.cleanup_fn): a launch gives back its held addresses, then
 * the terminate machine removes what the action made. */
static void run_cleanup(eng_action *a)
{
	if (a->run == ENG_RUN_STOPPING) {
		eng_launch_release(a);
		eng_action_finish(a, HOOK_ACTION_DONE, "",
				  "the lifecycle action is no longer active (completed elsewhere "
				  "or timed out): its ENIs are left as they are");
		return;
	}
	if (a->rec.transition == HOOK_TRANSITION_LAUNCHING)
		eng_launch_release(a);
	if (eng_is_reconcile(a)) {
		/* a node in service: what it has stays (made by this action or
		 * not); the next reconcile adopts what this one left */
		char why[sizeof(a->fail_reason) + 96];
		snprintf(why, sizeof(why), "%s (reconcile: the node's ENIs are left as they are)",
			 a->fail_reason[0] ? a->fail_reason : "failed");
		eng_action_finish(a, HOOK_ACTION_FAILED, "", why);
		return;
	}
	eng_action_set_step(a, ENG_STEP_CLEANUP);
	/* a gone instance has nothing of ours attached, but leftovers may be
	 * available: the cleanup finds them by tag */
	eng_cleanup_run(a, eng_after_cleanup);
}

static void begin(eng_action *a)
{
	hook_eng *e = a->eng;
	hook_engine_step s = hook_engine_resume_step(a->rec.state, a->rec.step, a->rec.transition);
	if (eng_failed(a))
		s = a->rec.transition == HOOK_TRANSITION_LAUNCHING ? ENG_STEP_CLEANUP
								   : ENG_STEP_T_FIND;
	if (s == ENG_STEP_DONE) {
		eng_action_finish(a, a->rec.state, a->rec.result, NULL);
		return;
	}
	/* A resumed completion learns the hook's timing first (cache or
	 * DescribeLifecycleHooks): its retries run until the global deadline
	 * and it heartbeats between them. The record stays COMPLETING. */
	if (s == ENG_STEP_COMPLETE && !eng_failed(a))
		eng_action_set_run(a, ENG_RUN_RESUMING);
	if (s == ENG_STEP_CLEANUP && !eng_failed(a)) {
		a->resumed_cleanup = true;
		snprintf(a->fail_reason, sizeof(a->fail_reason), "%s",
			 a->rec.last_error && *a->rec.last_error ? a->rec.last_error
								 : "resumed cleanup");
	}
	if (eng_is_reconcile(a)) {
		/* no lifecycle hook: an hour to do the work, no heartbeat */
		set_timing(a, ENG_RECONCILE_S, ENG_RECONCILE_S);
		settle_or_dispatch(a);
		return;
	}
	char key[600];
	void *value = NULL;
	hk_sf_next next =
	    hook_key(a, key, sizeof(key))
		? hk_sf_join(e->hook_cache, key, hook_now_ms(), hooks_ready, a, &value)
		: HK_SF_ALONE;
	if (next == HK_SF_HIT) {
		const eng_hook_timing *t = value;
		set_timing(a, t->heartbeat_s, t->global_s);
		settle_or_dispatch(a);
		return;
	}
	if (a->run != ENG_RUN_RESUMING)
		eng_action_set_step(a, ENG_STEP_HOOK);
	a->inflight++;
	if (eng_failed(a)) /* resumed cleanup: describe the hook for heartbeats, then clean */
		eng_action_set_run(a, ENG_RUN_FAILING);
	if (next == HK_SF_WAIT)
		return; /* hooks_flight_cb wakes it */
	const char *names[1] = {a->rec.hook};
	asg_describe_lifecycle_hooks_req req = {
	    .group_name = a->rec.asg, .hook_names = names, .n_hook_names = 1};
	hk_err err = next == HK_SF_FETCH
			 ? asg_describe_lifecycle_hooks(e->aws, &req, hooks_flight_cb, a, NULL)
			 : asg_describe_lifecycle_hooks(e->aws, &req, hooks_cb, a, NULL);
	if (!err)
		return;
	if (next != HK_SF_FETCH)
		hooks_not_sent(a);
	else /* no detail: every waiter (only this one yet) hears "not sent" */
		hk_sf_done(e->hook_cache, key, err, NULL, hook_now_ms(), 0);
}

/* ---- queue ------------------------------------------------------------ */

static bool queue_push(hook_eng *e, int64_t id)
{
	if (e->q_len == e->q_cap) {
		size_t nc = e->q_cap ? e->q_cap * 2 : 256;
		int64_t *q = malloc(nc * sizeof(*q));
		if (!q)
			return false;
		for (size_t i = 0; i < e->q_len; i++)
			q[i] = e->queue[(e->q_head + i) % e->q_cap];
		free(e->queue);
		e->queue = q;
		e->q_cap = nc;
		e->q_head = 0;
	}
	e->queue[(e->q_head + e->q_len) % e->q_cap] = id;
	e->q_len++;
	return true;
}

static bool queue_pop(hook_eng *e, int64_t *id)
{
	if (!e->q_len)
		return false;
	*id = e->queue[e->q_head];
	e->q_head = (e->q_head + 1) % e->q_cap;
	e->q_len--;
	return true;
}

static bool is_active(hook_eng *e, int64_t id)
{
	for (eng_action *a = e->active; a; a = a->next)
		if (a->rec.id == id)
			return true;
	return false;
}

static const hook_node_group *find_group(const hook_config *cfg, const hook_action *r)
{
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].name && strcmp(cfg->groups[i].name, r->group) == 0)
			return &cfg->groups[i];
	return hook_config_match_group(cfg, r->asg, *r->metadata ? r->metadata : NULL);
}

static void start_one(hook_eng *e, int64_t id)
{
	eng_action *a = calloc(1, sizeof(*a));
	if (!a) {
		queue_push(e, id);
		return;
	}
	hk_err err = hook_store_action_get(e->store, id, &a->rec);
	if (err) {
		free(a);
		if (err != HK_ERR_NOT_FOUND) {
			json_t *f = json_pack("{s:I,s:s}", "action_id", (json_int_t)id, "error",
					      hk_err_str(err));
			hook_log_json(HOOK_LOG_ERROR, "cannot read the action: will retry", f);
			queue_push(e, id);
		}
		return;
	}
	if (hook_action_state_final(a->rec.state)) {
		hook_action_cleanup(&a->rec);
		free(a);
		return;
	}
	a->eng = e;
	a->cfg = hook_config_ref(e->cfg);
	a->group = find_group(a->cfg, &a->rec);
	a->next = e->active;
	e->active = a;
	e->n_active++;
	json_t *f = json_pack("{s:s,s:s,s:s,s:s}", "transition",
			      hook_transition_str(a->rec.transition), "origin", a->rec.origin,
			      "destination", a->rec.destination, "resume_from", a->rec.step);
	eng_log(a, HOOK_LOG_INFO, "action started", f);
	if (!a->group && a->rec.transition == HOOK_TRANSITION_LAUNCHING) {
		/* The configuration changed since intake: no networks to give. */
		a->resumed_cleanup = true; /* an earlier run may have left ENIs */
		snprintf(a->fail_reason, sizeof(a->fail_reason),
			 "no node group matches %s any more", a->rec.asg);
	}
	begin(a);
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	hook_eng *e = arg;
	/* a finished action whose heartbeat is still out is freed when it
	 * answers (beat_cb runs the pump again) */
	for (eng_action **pp = &e->zombies; *pp;) {
		eng_action *z = *pp;
		if (z->beat_inflight) {
			pp = &z->next;
			continue;
		}
		*pp = z->next;
		eng_action_free(z);
	}
	unsigned max = e->cfg->max_concurrent_actions ? e->cfg->max_concurrent_actions : 32;
	int64_t id;
	while (!e->draining && e->started && e->n_active < max && queue_pop(e, &id)) {
		if (is_active(e, id))
			continue;
		start_one(e, id);
	}
	if (e->draining && e->n_active == 0 && e->drained) {
		hook_engine_drained_fn fn = e->drained;
		e->drained = NULL;
		fn(e->drained_arg);
	}
}

/* ---- ops -------------------------------------------------------------- */

static void op_start(void *impl)
{
	hook_eng *e = impl;
	e->started = true;
	hook_action *v = NULL;
	size_t n = 0;
	hk_err err = hook_store_action_list_unfinished(e->store, &v, &n);
	if (err) {
		json_t *f = json_pack("{s:s}", "error", hk_err_str(err));
		hook_log_json(HOOK_LOG_ERROR, "cannot list unfinished actions", f);
	} else {
		for (size_t i = 0; i < n; i++)
			if (!queue_push(e, v[i].id))
				hook_log(HOOK_LOG_ERROR, "out of memory queueing actions", NULL);
		if (n) {
			json_t *f = json_pack("{s:I}", "actions", (json_int_t)n);
			hook_log_json(HOOK_LOG_INFO, "resuming unfinished actions", f);
		}
		hook_actions_free(v, n);
	}
	eng_sweep_start(e);
	eng_reconcile_schedule(e);
	eng_pump_soon(e);
}

void eng_submit(hook_eng *e, int64_t action_id)
{
	if (!queue_push(e, action_id)) {
		/* stays PENDING in the store: the next start resumes it */
		json_t *f = json_pack("{s:I}", "action_id", (json_int_t)action_id);
		hook_log_json(HOOK_LOG_ERROR, "out of memory: action left for the next start", f);
		return;
	}
	eng_pump_soon(e);
}

static void op_submit(void *impl, int64_t action_id)
{
	eng_submit(impl, action_id);
}

static void op_reload(void *impl, const hook_config *cfg)
{
	hook_eng *e = impl;
	hook_config *old = e->cfg;
	e->cfg = hook_config_ref(cfg);
	hook_config_free(old);
	/* the periodic reconcile follows the new interval */
	if (e->reconcile_ev)
		evtimer_del(e->reconcile_ev);
	eng_reconcile_schedule(e);
	eng_pump_soon(e); /* max_concurrent_actions may have grown */
}

static hk_err op_reconcile(void *impl, const hook_reconcile_req *req, hook_reconcile_done_fn done,
			   void *arg)
{
	return eng_reconcile(impl, req, done, arg);
}

static void op_drain(void *impl, hook_engine_drained_fn done, void *arg)
{
	hook_eng *e = impl;
	e->draining = true;
	e->drained = done;
	e->drained_arg = arg;
	eng_sweep_stop(e);
	if (e->reconcile_ev)
		evtimer_del(e->reconcile_ev);
	json_t *f = json_pack("{s:I,s:I}", "in_flight", (json_int_t)e->n_active, "queued",
			      (json_int_t)e->q_len);
	hook_log_json(HOOK_LOG_INFO, "engine draining (queued actions resume at next start)", f);
	eng_pump_soon(e);
}

static void op_free(void *impl)
{
	hook_eng *e = impl;
	if (!e)
		return;
	/* The client first: its in-flight calls point at our actions. */
	awsclient_free(e->aws);
	e->aws = NULL;
	eng_sweep_stop(e);
	eng_reconcile_free_all(e);
	eng_notify_free(e->notify);
	hook_event_free(&e->reconcile_ev);
	while (e->active) {
		eng_action *a = e->active;
		e->active = a->next;
		eng_action_free(a);
	}
	while (e->zombies) {
		eng_action *z = e->zombies;
		e->zombies = z->next;
		eng_action_free(z);
	}
	eng_alloc_free(e->alloc);
	hk_sf_free(e->hook_cache);
	hk_sf_free(e->subnet_cache);
	hk_sf_free(e->type_cache);
	hook_config_free(e->cfg);
	free(e->queue);
	hook_event_free(&e->pump_ev);
	hook_event_free(&e->sweep_ev);
	free(e);
}

/* Gauges read at each /metrics: actions running now by step, and the oldest. */
static void collect(hk_metrics *r, void *arg)
{
	hook_eng *e = arg;
	hk_metric_reset(hook_m.in_flight);
	int64_t now = hook_now_ms(), oldest = now;
	for (eng_action *a = e->active; a; a = a->next) {
		const char *step[1] = {hook_engine_step_str(a->step)};
		if (!*step[0])
			step[0] = "starting";
		hk_metric_add(hook_m.in_flight, step, 1);
		if (a->rec.created_ms < oldest)
			oldest = a->rec.created_ms;
	}
	hk_metric_set(hook_m.oldest_age, NULL, e->active ? (double)(now - oldest) / 1000.0 : 0);
	eng_alloc_collect(e->alloc);
}

static const hook_engine_ops aws_ops = {
    .start_fn = op_start,
    .submit_fn = op_submit,
    .drain_fn = op_drain,
    .free_fn = op_free,
    .reconcile_fn = op_reconcile,
    .reload_fn = op_reload,
};

hk_err hook_engine_aws_new(struct event_base *base, const hook_config *cfg, hook_store *store,
			   hook_health *health, awc_client *client, hook_engine *ret)
{
	hook_eng *e = calloc(1, sizeof(*e));
	if (!e) {
		awsclient_free(client);
		return HK_ERR_NOMEM;
	}
	e->base = base;
	e->cfg = hook_config_ref(cfg);
	e->store = store;
	e->health = health;
	e->aws = client;
	e->sweep_interval_s = cfg->sweep_interval_s;
	e->restart_fn = begin;
	e->cleanup_fn = run_cleanup;
	e->pump_ev = event_new(base, -1, 0, pump_cb, e);
	e->hook_cache = hk_sf_new(ENG_HOOK_CACHE_MAX, ENG_SF_MAX_WAITERS, free);
	e->subnet_cache = hk_sf_new(ENG_SUBNET_CACHE_MAX, ENG_SF_MAX_WAITERS, free);
	e->type_cache = hk_sf_new(ENG_TYPE_CACHE_MAX, ENG_SF_MAX_WAITERS, NULL);
	hk_err err = e->pump_ev && e->hook_cache && e->subnet_cache && e->type_cache
			 ? eng_alloc_new(e, &e->alloc)
			 : HK_ERR_NOMEM;
	if (!err)
		err = eng_notify_new(e, &e->notify);
	if (err) {
		op_free(e);
		return err;
	}
	if (hook_metrics_registry())
		ENG_IGNORE(hk_metrics_on_collect(hook_metrics_registry(), collect, e));
	ret->ops = &aws_ops;
	ret->impl = e;
	return HK_OK;
}
