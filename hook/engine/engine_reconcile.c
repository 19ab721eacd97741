/* Reconcile: InService instances of the configured groups that lack a
 * Multus ENI (launched before the hook existed, an outage of the daemon, an
 * ENI deleted by hand) get a launch action of their own, run by the same
 * engine path as a lifecycle launch: durable, adoption-safe, the addresses
 * from the same allocator. Such an action has no lifecycle hook: no
 * heartbeat, no completion, and a failure never detaches or deletes what
 * the node already has (engine.c, run_cleanup). Nothing is terminated.
 *
 * One reconcile: DescribeAutoScalingGroups (every group: names may be
 * globs), then DescribeInstances of the InService instances, 100 at a time;
 * an instance is missing a network when no ENI is attached at the network's
 * (network card, device index). See docs/operations.md, "reconcile". */
#include "engine_internal.h"
#include "hk_util.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define RECON_BATCH 100

typedef struct recon_inst {
	const hook_node_group *group;
	char *asg;
	char *instance_id;
} recon_inst;

struct eng_recon {
	struct eng_recon *next;
	hook_eng *e;
	hook_config *cfg; /* a reference: recon_inst.group points into it */
	char *group;
	char *instance_id;
	bool dry_run;
	hook_reconcile_done_fn done;
	void *arg;
	recon_inst *v; /* InService instances to look at */
	size_t n, cap;
	unsigned pending;
	json_t *report;
	struct event *done_ev;
};

static void recon_free(eng_recon *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].asg);
		free(r->v[i].instance_id);
	}
	free(r->v);
	free(r->group);
	free(r->instance_id);
	json_decref(r->report);
	hook_event_free(&r->done_ev);
	hook_config_free(r->cfg);
	free(r);
}

static void unlink_recon(eng_recon *r)
{
	for (eng_recon **p = &r->e->recons; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			return;
		}
}

void eng_reconcile_free_all(hook_eng *e)
{
	while (e->recons) {
		eng_recon *r = e->recons;
		e->recons = r->next;
		if (r->done)
			r->done(HK_ERR_CANCELLED, NULL, r->arg);
		recon_free(r);
	}
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_recon *r = arg;
	unlink_recon(r);
	json_t *insts = json_object_get(r->report, "instances");
	json_t *f = json_pack("{s:b,s:I,s:I,s:I}", "dry_run", r->dry_run, "checked",
			      json_integer_value(json_object_get(r->report, "checked")), "lacking",
			      (json_int_t)json_array_size(insts), "errors",
			      (json_int_t)json_array_size(json_object_get(r->report, "errors")));
	hook_log_json(HOOK_LOG_INFO, "reconcile finished", f);
	if (r->done)
		r->done(HK_OK, r->report, r->arg);
	recon_free(r);
}

static void finish_soon(eng_recon *r)
{
	event_active(r->done_ev, 0, 0);
}

static void add_error(eng_recon *r, const char *call, const awc_result *res)
{
	json_array_append_new(
	    json_object_get(r->report, "errors"),
	    json_pack("{s:s,s:s}", "call", call, "error",
		      res ? (res->aws_code ? res->aws_code : hk_err_str(res->err)) : "not sent"));
}

static bool has_eni_at(const ec2_instance *in, const hook_network *net)
{
	for (size_t k = 0; k < in->n_enis; k++) {
		const ec2_instance_eni *ni = &in->enis[k];
		if (ni->device_index == net->device_index &&
		    ni->network_card_index == net->network_card_index &&
		    (!ni->attachment_status || strcmp(ni->attachment_status, "detaching") != 0))
			return true;
	}
	return false;
}

/* An unfinished action of the instance (a launch or terminate in flight). */
static int64_t in_flight_action(hook_eng *e, const char *instance_id)
{
	hook_action *v = NULL;
	size_t n = 0;
	int64_t id = 0;
	if (hook_store_action_list_instance(e->store, instance_id, 16, &v, &n) != HK_OK)
		return -1;
	for (size_t i = 0; i < n && !id; i++)
		if (!hook_action_state_final(v[i].state))
			id = v[i].id;
	hook_actions_free(v, n);
	return id;
}

/* Commit a hookless launch action for the instance and hand it to the queue. */
static hk_err start_action(eng_recon *r, const recon_inst *ri, int64_t *ret_id)
{
	char token[64];
	snprintf(token, sizeof(token), "reconcile-%lld", (long long)hook_now_ms());
	hook_action a = {
	    .instance_id = ri->instance_id,
	    .group = (char *)ri->group->name,
	    .asg = ri->asg,
	    .hook = "",
	    .token = token,
	    .transition = HOOK_TRANSITION_LAUNCHING,
	    .source = HOOK_SOURCE_RECONCILE,
	};
	bool created = false;
	hk_err err = hook_store_action_insert(r->e->store, &a, ret_id, &created);
	if (err)
		return err;
	eng_submit(r->e, *ret_id);
	return HK_OK;
}

static void judge(eng_recon *r, const recon_inst *ri, const ec2_instance *in)
{
	json_t *missing = json_array();
	for (size_t i = 0; i < ri->group->n_networks; i++)
		if (!has_eni_at(in, &ri->group->networks[i]))
			json_array_append_new(missing, json_string(ri->group->networks[i].name));
	if (json_array_size(missing) == 0 || !in->state || strcmp(in->state, "running") != 0) {
		json_decref(missing);
		return;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "instance_id", ri->instance_id, "group",
			      ri->group->name, "asg", ri->asg, "missing", missing);
	int64_t busy = in_flight_action(r->e, ri->instance_id);
	int64_t id = 0;
	if (busy > 0) {
		json_object_set_new(o, "status", json_string("in_flight"));
		json_object_set_new(o, "action_id", json_integer(busy));
	} else if (r->dry_run) {
		json_object_set_new(o, "status", json_string("would_attach"));
	} else if (busy < 0 || start_action(r, ri, &id) != HK_OK) {
		json_object_set_new(o, "status", json_string("error"));
		json_object_set_new(o, "error", json_string("cannot record the action"));
	} else {
		json_object_set_new(o, "status", json_string("started"));
		json_object_set_new(o, "action_id", json_integer(id));
		json_t *f = json_pack("{s:s,s:s,s:I,s:O}", "instance_id", ri->instance_id, "group",
				      ri->group->name, "action_id", (json_int_t)id, "missing",
				      json_object_get(o, "missing"));
		hook_log_json(HOOK_LOG_INFO, "reconcile: attaching the missing Multus ENIs", f);
	}
	json_array_append_new(json_object_get(r->report, "instances"), o);
}

typedef struct recon_batch {
	eng_recon *r;
	size_t first, n;
} recon_batch;

static void instances_cb(const awc_result *res, const ec2_describe_instances_out *out, void *arg)
{
	recon_batch *b = arg;
	eng_recon *r = b->r;
	eng_health_from(r->e, res);
	if (res->err) {
		add_error(r, "DescribeInstances", res);
	} else {
		for (size_t i = b->first; i < b->first + b->n; i++) {
			const ec2_instance *in = ec2_instances_find(out, r->v[i].instance_id);
			if (in)
				judge(r, &r->v[i], in);
		}
	}
	free(b);
	if (--r->pending == 0)
		finish_soon(r);
}

static void describe_instances(eng_recon *r)
{
	json_object_set_new(r->report, "checked", json_integer((json_int_t)r->n));
	r->pending = 1; /* this function's own hold */
	for (size_t first = 0; first < r->n; first += RECON_BATCH) {
		size_t n = r->n - first < RECON_BATCH ? r->n - first : RECON_BATCH;
		const char *ids[RECON_BATCH];
		for (size_t i = 0; i < n; i++)
			ids[i] = r->v[first + i].instance_id;
		recon_batch *b = malloc(sizeof(*b));
		ec2_describe_instances_req req = {.instance_ids = ids, .n_instance_ids = n};
		if (b) {
			*b = (recon_batch){.r = r, .first = first, .n = n};
			r->pending++;
			if (ec2_describe_instances(r->e->aws, &req, instances_cb, b, NULL) == HK_OK)
				continue;
			r->pending--;
			free(b);
		}
		add_error(r, "DescribeInstances", NULL);
	}
	if (--r->pending == 0)
		finish_soon(r);
}

static bool add_inst(eng_recon *r, const hook_node_group *g, const char *asg, const char *id)
{
	recon_inst *v = hk_grow(r->v, r->n, &r->cap, sizeof(*v), 32);
	if (!v)
		return false;
	r->v = v;
	recon_inst *ri = &r->v[r->n];
	ri->group = g;
	ri->asg = eng_strdup(asg);
	ri->instance_id = eng_strdup(id);
	if (!ri->asg || !ri->instance_id) {
		free(ri->asg);
		free(ri->instance_id);
		return false;
	}
	r->n++;
	return true;
}

static void groups_cb(const awc_result *res, const asg_describe_groups_out *out, void *arg)
{
	eng_recon *r = arg;
	eng_health_from(r->e, res);
	if (res->err) {
		add_error(r, "DescribeAutoScalingGroups", res);
		finish_soon(r);
		return;
	}
	for (size_t i = 0; i < out->n_groups; i++) {
		const asg_group *ag = &out->groups[i];
		const hook_node_group *g = hook_config_group_for_asg(r->cfg, ag->name);
		if (!g || !g->n_networks || (r->group && strcmp(g->name, r->group) != 0))
			continue;
		for (size_t k = 0; k < ag->n_instances; k++) {
			const asg_instance *in = &ag->instances[k];
			if (!in->instance_id || !in->lifecycle_state ||
			    strcmp(in->lifecycle_state, "InService") != 0)
				continue;
			if (r->instance_id && strcmp(in->instance_id, r->instance_id) != 0)
				continue;
			if (!add_inst(r, g, ag->name, in->instance_id)) {
				add_error(r, "out of memory", NULL);
				break;
			}
		}
	}
	if (r->n == 0) {
		json_object_set_new(r->report, "checked", json_integer(0));
		finish_soon(r);
		return;
	}
	describe_instances(r);
}

hk_err eng_reconcile(hook_eng *e, const hook_reconcile_req *req, hook_reconcile_done_fn done,
		     void *arg)
{
	if (e->draining)
		return HK_ERR_STATE;
	eng_recon *r = calloc(1, sizeof(*r));
	if (!r)
		return HK_ERR_NOMEM;
	r->e = e;
	r->cfg = hook_config_ref(e->cfg);
	r->dry_run = req->dry_run;
	r->done = done;
	r->arg = arg;
	r->group = req->group ? eng_strdup(req->group) : NULL;
	r->instance_id = req->instance_id ? eng_strdup(req->instance_id) : NULL;
	r->report =
	    json_pack("{s:b,s:s?,s:s?,s:i,s:[],s:[]}", "dry_run", req->dry_run, "group", req->group,
		      "instance_id", req->instance_id, "checked", 0, "instances", "errors");
	r->done_ev = event_new(e->base, -1, 0, done_cb, r);
	if (!r->report || !r->done_ev || (req->group && !r->group) ||
	    (req->instance_id && !r->instance_id)) {
		recon_free(r);
		return HK_ERR_NOMEM;
	}
	r->next = e->recons;
	e->recons = r;
	asg_describe_groups_req greq = {0};
	if (asg_describe_auto_scaling_groups(e->aws, &greq, groups_cb, r, NULL) != HK_OK) {
		add_error(r, "DescribeAutoScalingGroups", NULL);
		finish_soon(r);
	}
	return HK_OK;
}

/* ---- the periodic reconcile (limits.reconcile_interval_s) ----------------- */

static void periodic_cb(evutil_socket_t fd, short what, void *arg)
{
	hook_eng *e = arg;
	hook_reconcile_req req = {0};
	if (!e->draining && eng_reconcile(e, &req, NULL, NULL) != HK_OK)
		hook_log(HOOK_LOG_WARN, "cannot start the periodic reconcile", NULL);
	eng_reconcile_schedule(e);
}

void eng_reconcile_schedule(hook_eng *e)
{
	unsigned s = e->cfg->reconcile_interval_s;
	if (!s || e->draining)
		return;
	if (!e->reconcile_ev)
		e->reconcile_ev = evtimer_new(e->base, periodic_cb, e);
	struct timeval tv = {(time_t)s, 0};
	if (e->reconcile_ev)
		evtimer_add(e->reconcile_ev, &tv);
}
