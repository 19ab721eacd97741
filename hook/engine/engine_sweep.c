/* The orphan sweep: at start (after a short delay) and then every
 * limits.sweep_interval_s (default 600 s; 0 = no sweep),
 * delete the `available` ENIs tagged multus-hookd/instance-id whose instance
 * no longer exists (DescribeInstances: terminated, or not listed). Never an
 * ENI whose instance has an action in flight or unfinished in the store.
 *
 * Costs per sweep: one DescribeNetworkInterfaces (all pages), one
 * DescribeInstances per ENG_SWEEP_BATCH distinct instance ids (one at a time,
 * every id examined), and one read of the unfinished actions from the store
 * (a sorted set, searched per candidate). */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define ENG_SWEEP_FIRST_S 5u

typedef struct eng_sweep {
	hook_eng *e;
	ec2_describe_network_interfaces_out *enis; /* kept */
	const char **ids;			   /* distinct instance ids, sorted (borrowed) */
	size_t n_ids;
	size_t next;	/* first id of the next DescribeInstances batch */
	size_t in_call; /* ids in the batch in flight */
	bool *alive;	/* per id; true until shown otherwise */
	char **busy;	/* instance ids with an unfinished action, sorted (owned) */
	size_t n_busy;
	unsigned pending;
	unsigned deleted;
} eng_sweep;

static void sweep_arm(hook_eng *e, unsigned delay_s);
static void sweep_end(eng_sweep *sw);

static void end_cb(evutil_socket_t fd, short what, void *arg)
{
	sweep_end(arg);
}

/* From inside a callback that kept a result: end on the next turn. */
static void sweep_end_soon(eng_sweep *sw)
{
	struct timeval tv = {0, 0};
	if (event_base_once(sw->e->base, -1, EV_TIMEOUT, end_cb, sw, &tv) != 0)
		hook_log(HOOK_LOG_ERROR, "orphan sweep: cannot schedule its end", NULL);
}

static void sweep_free(eng_sweep *sw)
{
	awscalls_free(sw->enis);
	free(sw->ids);
	free(sw->alive);
	for (size_t i = 0; i < sw->n_busy; i++)
		free(sw->busy[i]);
	free(sw->busy);
	free(sw);
}

static void sweep_end(eng_sweep *sw)
{
	hook_eng *e = sw->e;
	if (sw->deleted) {
		json_t *f = json_pack("{s:I}", "deleted", (json_int_t)sw->deleted);
		hook_log_json(HOOK_LOG_INFO, "orphan sweep deleted ENIs", f);
	}
	sweep_free(sw);
	e->sweep = NULL;
	e->sweep_running = false;
	if (!e->draining)
		sweep_arm(e, e->sweep_interval_s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t eng_sweep_distinct(const char **ids, size_t n)
{
	if (n < 2)
		return n;
	qsort(ids, n, sizeof(*ids), cmp_str);
	size_t w = 1;
	for (size_t i = 1; i < n; i++)
		if (strcmp(ids[w - 1], ids[i]) != 0)
			ids[w++] = ids[i];
	return w;
}

size_t eng_sweep_batch_len(size_t n_ids, size_t next, size_t batch_max)
{
	if (next >= n_ids)
		return 0;
	size_t n = n_ids - next;
	return n < batch_max ? n : batch_max;
}

static bool in_sorted(const char *const *v, size_t n, const char *s, size_t *ret_at)
{
	const char *const *hit = n ? bsearch(&s, v, n, sizeof(*v), cmp_str) : NULL;
	if (hit && ret_at)
		*ret_at = (size_t)(hit - v);
	return hit != NULL;
}

/* The instance ids with an action running in the engine or unfinished in the
 * store, once per sweep, sorted. false when the store cannot tell (then the
 * sweep deletes nothing). */
static bool load_busy(eng_sweep *sw)
{
	hook_eng *e = sw->e;
	hook_action *v = NULL;
	size_t n = 0;
	if (hook_store_action_list_unfinished(e->store, &v, &n) != HK_OK)
		return false;
	size_t n_active = 0;
	for (eng_action *a = e->active; a; a = a->next)
		n_active++;
	bool ok = true;
	sw->busy = calloc(n + n_active + 1, sizeof(*sw->busy));
	if (!sw->busy)
		ok = false;
	for (size_t i = 0; ok && i < n; i++)
		if (!(sw->busy[sw->n_busy++] = eng_strdup(v[i].instance_id)))
			ok = false;
	for (eng_action *a = e->active; ok && a; a = a->next)
		if (!(sw->busy[sw->n_busy++] = eng_strdup(a->rec.instance_id)))
			ok = false;
	hook_actions_free(v, n);
	if (ok)
		qsort(sw->busy, sw->n_busy, sizeof(*sw->busy), cmp_str);
	return ok;
}

bool eng_instance_busy(hook_eng *e, const char *instance_id)
{
	for (eng_action *a = e->active; a; a = a->next)
		if (strcmp(a->rec.instance_id, instance_id) == 0)
			return true;
	hook_action *v = NULL;
	size_t n = 0;
	if (hook_store_action_list_unfinished(e->store, &v, &n) != HK_OK)
		return true; /* cannot tell: keep it */
	bool busy = false;
	for (size_t i = 0; i < n && !busy; i++)
		busy = strcmp(v[i].instance_id, instance_id) == 0;
	hook_actions_free(v, n);
	return busy;
}

static void del_cb(const awc_result *res, const ec2_return_out *out, void *arg)
{
	eng_sweep *sw = arg;
	eng_health_from(sw->e, res);
	if (res->err == HK_OK) {
		sw->deleted++;
		hk_metric_inc(hook_m.orphans_swept);
	} else if (hook_engine_classify(res->err, res->aws_code) != ENG_FAULT_NOT_FOUND) {
		json_t *f = json_pack("{s:s,s:s}", "error", hk_err_str(res->err), "aws_code",
				      res->aws_code ? res->aws_code : "");
		hook_log_json(HOOK_LOG_WARN, "orphan sweep: delete failed", f);
	}
	if (--sw->pending == 0)
		sweep_end(sw);
}

/* Every id examined: delete the available ENIs of gone, idle instances. */
static void sweep_delete(eng_sweep *sw)
{
	hook_eng *e = sw->e;
	if (!load_busy(sw)) {
		hook_log(HOOK_LOG_WARN, "orphan sweep: cannot read the unfinished actions: skipped",
			 NULL);
		sweep_end_soon(sw);
		return;
	}
	sw->pending = 1; /* hold */
	for (size_t i = 0; i < sw->enis->n_enis && !e->draining; i++) {
		const ec2_eni *ni = &sw->enis->enis[i];
		const char *inst = ec2_eni_tag(ni, HOOK_TAG_INSTANCE);
		if (!inst || !*inst || !ni->status || strcmp(ni->status, "available") != 0 ||
		    ni->attached)
			continue;
		size_t at = 0;
		if (!in_sorted(sw->ids, sw->n_ids, inst, &at) || sw->alive[at] ||
		    in_sorted((const char *const *)sw->busy, sw->n_busy, inst, NULL))
			continue;
		json_t *f = json_pack("{s:s,s:s,s:s}", "eni", ni->eni_id, "instance", inst,
				      "subnet", ni->subnet_id ? ni->subnet_id : "");
		hook_log_json(HOOK_LOG_INFO, "orphan sweep: deleting an ENI of a gone instance", f);
		ec2_delete_network_interface_req req = {.eni_id = ni->eni_id};
		sw->pending++;
		if (ec2_delete_network_interface(e->aws, &req, del_cb, sw, NULL) != HK_OK)
			sw->pending--;
		else
			eng_alloc_stale(e->alloc, ni->subnet_id);
	}
	if (--sw->pending == 0)
		sweep_end_soon(sw);
}

static void inst_next(eng_sweep *sw);

static void inst_cb(const awc_result *res, const ec2_describe_instances_out *out, void *arg)
{
	eng_sweep *sw = arg;
	hook_eng *e = sw->e;
	eng_health_from(e, res);
	size_t from = sw->next, n = sw->in_call;
	sw->next += n;
	sw->in_call = 0;
	if (res->err) {
		/* this batch stays "alive" (kept); the others are still examined */
		json_t *f = json_pack("{s:s,s:I}", "error",
				      res->aws_code ? res->aws_code : hk_err_str(res->err),
				      "instances", (json_int_t)n);
		hook_log_json(HOOK_LOG_WARN, "orphan sweep: DescribeInstances failed", f);
	} else {
		for (size_t i = from; i < from + n; i++) {
			const ec2_instance *in = ec2_instances_find(out, sw->ids[i]);
			sw->alive[i] = in && (!in->state || strcmp(in->state, "terminated") != 0);
		}
	}
	if (e->draining) {
		sweep_end_soon(sw);
		return;
	}
	inst_next(sw);
}

/* DescribeInstances for the next ENG_SWEEP_BATCH ids, one batch at a time;
 * after the last, the deletions. */
static void inst_next(eng_sweep *sw)
{
	hook_eng *e = sw->e;
	if (sw->next >= sw->n_ids) {
		sweep_delete(sw);
		return;
	}
	size_t n = eng_sweep_batch_len(sw->n_ids, sw->next, ENG_SWEEP_BATCH);
	sw->in_call = n;
	/* a filter, not InstanceId.N: unknown ids must not fail the call */
	ec2_filter fl = {.name = "instance-id", .values = sw->ids + sw->next, .n_values = n};
	ec2_describe_instances_req req = {.filters = &fl, .n_filters = 1};
	if (ec2_describe_instances(e->aws, &req, inst_cb, sw, NULL) != HK_OK)
		sweep_end_soon(sw);
}

static void enis_cb(const awc_result *res, const ec2_describe_network_interfaces_out *out,
		    void *arg)
{
	eng_sweep *sw = arg;
	hook_eng *e = sw->e;
	eng_health_from(e, res);
	if (res->err) {
		json_t *f = json_pack("{s:s}", "error",
				      res->aws_code ? res->aws_code : hk_err_str(res->err));
		hook_log_json(HOOK_LOG_WARN, "orphan sweep: DescribeNetworkInterfaces failed", f);
		sweep_end(sw);
		return;
	}
	sw->enis = awscalls_keep(out);
	sw->ids = calloc(out->n_enis ? out->n_enis : 1, sizeof(*sw->ids));
	sw->alive = calloc(out->n_enis ? out->n_enis : 1, sizeof(*sw->alive));
	if (!sw->ids || !sw->alive) {
		sweep_end_soon(sw);
		return;
	}
	for (size_t i = 0; i < out->n_enis; i++) {
		const char *inst = ec2_eni_tag(&out->enis[i], HOOK_TAG_INSTANCE);
		if (inst && *inst)
			sw->ids[sw->n_ids++] = inst;
	}
	sw->n_ids = eng_sweep_distinct(sw->ids, sw->n_ids);
	for (size_t i = 0; i < sw->n_ids; i++)
		sw->alive[i] = true;
	if (!sw->n_ids) {
		sweep_end_soon(sw);
		return;
	}
	inst_next(sw);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	hook_eng *e = arg;
	if (e->sweep_running || e->draining)
		return;
	eng_sweep *sw = calloc(1, sizeof(*sw));
	if (!sw) {
		sweep_arm(e, e->sweep_interval_s);
		return;
	}
	sw->e = e;
	e->sweep = sw;
	e->sweep_running = true;
	const char *keys[1] = {HOOK_TAG_INSTANCE};
	const char *st[1] = {"available"};
	ec2_filter fl[2] = {{.name = "tag-key", .values = keys, .n_values = 1},
			    {.name = "status", .values = st, .n_values = 1}};
	ec2_describe_network_interfaces_req req = {.filters = fl, .n_filters = 2};
	if (ec2_describe_network_interfaces(e->aws, &req, enis_cb, sw, NULL) != HK_OK)
		sweep_end(sw);
}

static void sweep_arm(hook_eng *e, unsigned delay_s)
{
	if (!e->sweep_ev)
		e->sweep_ev = evtimer_new(e->base, sweep_cb, e);
	if (!e->sweep_ev)
		return;
	struct timeval tv = {(time_t)delay_s, 0};
	evtimer_add(e->sweep_ev, &tv);
}

void eng_sweep_start(hook_eng *e)
{
	if (!e->sweep_interval_s) {
		hook_log(HOOK_LOG_INFO, "orphan sweep disabled (limits.sweep_interval_s = 0)",
			 NULL);
		return;
	}
	sweep_arm(e, e->sweep_interval_s < ENG_SWEEP_FIRST_S ? e->sweep_interval_s
							     : ENG_SWEEP_FIRST_S);
}

void eng_sweep_stop(hook_eng *e)
{
	if (e->sweep_ev)
		evtimer_del(e->sweep_ev);
	/* a sweep in flight ends by itself; at free, the client is gone first */
	if (e->sweep && !e->aws) {
		sweep_free(e->sweep);
		e->sweep = NULL;
	}
}
