/* The launch state machine (docs/engine.md):
 *
 *   describe-instance -> adopt -> subnets -> capacity -> enis -> complete
 *
 * "enis" runs one pipeline per network concurrently:
 *   (address) -> planned (recorded) -> create -> created -> attach -> attached
 *   -> DeleteOnTermination (+ source/dest check) -> configured
 * Every run starts with adoption: the ENIs tagged for the instance are taken
 * as they are, so a replayed event or a restart never creates a second ENI. */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step_adopt(eng_action *a);
static void step_subnets(eng_action *a);
static void step_capacity(eng_action *a);

void eng_set_str(char **dst, const char *v)
{
	char *n = eng_strdup(v);
	if (!n)
		return; /* keeps the old value; the next save reports trouble */
	free(*dst);
	*dst = n;
}

const char *eng_net_name(const eng_slot *s)
{
	return s->net->name;
}

/* ---- slots from the group and the store ------------------------------- */

static hk_err slots_init(eng_action *a)
{
	if (a->slots)
		return HK_OK;
	size_t n = a->group->n_networks;
	a->slots = calloc(n ? n : 1, sizeof(*a->slots));
	if (!a->slots)
		return HK_ERR_NOMEM;
	a->n_slots = n;
	for (size_t i = 0; i < n; i++) {
		eng_slot *s = &a->slots[i];
		s->act = a;
		s->net = &a->group->networks[i];
		s->index = i;
		s->subnet_id = eng_strdup("");
		s->ipv4 = eng_strdup("");
		s->ipv6 = eng_strdup("");
		s->client_token = eng_strdup("");
		s->eni_id = eng_strdup("");
		s->attachment_id = eng_strdup("");
		if (!s->subnet_id || !s->ipv4 || !s->ipv6 || !s->client_token || !s->eni_id ||
		    !s->attachment_id)
			return HK_ERR_NOMEM;
	}
	hook_eni_row *rows = NULL;
	size_t n_rows = 0;
	hk_err err = hook_store_eni_list(a->eng->store, a->rec.id, &rows, &n_rows);
	if (err)
		return err;
	for (size_t r = 0; r < n_rows; r++) {
		for (size_t i = 0; i < n; i++) {
			eng_slot *s = &a->slots[i];
			if (strcmp(rows[r].network, eng_net_name(s)) != 0)
				continue;
			s->state = hook_eni_state_parse(rows[r].state);
			eng_set_str(&s->subnet_id, rows[r].subnet_id);
			eng_set_str(&s->ipv4, rows[r].ipv4);
			eng_set_str(&s->ipv6, rows[r].ipv6);
			eng_set_str(&s->client_token, rows[r].client_token);
			eng_set_str(&s->eni_id, rows[r].eni_id);
			eng_set_str(&s->attachment_id, rows[r].attachment_id);
			/* the generation the recorded token was made with (a
			 * reset row records the next generation's token) */
			s->gen = hook_engine_token_gen(a->rec.instance_id, eng_net_name(s),
						       s->net->device_index, a->rec.token,
						       s->client_token);
		}
	}
	hook_eni_rows_free(rows, n_rows);
	return HK_OK;
}

void eng_launch_release(eng_action *a)
{
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		if (s->pool_pending)
			eng_alloc_release(a->eng->alloc, s->subnet_id, s->ipv4);
		if (s->pool6_pending)
			eng_alloc_release(a->eng->alloc, s->subnet_id, s->ipv6);
		s->pool_pending = s->pool6_pending = false;
	}
}

void eng_slot_log(eng_slot *s, hook_log_level lvl, const char *msg)
{
	eng_action *a = s->act;
	char tp[12];
	hook_token_prefix(a->rec.token, tp);
	json_t *f =
	    json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "action_id", (json_int_t)a->rec.id,
		      "instance", a->rec.instance_id, "step", hook_engine_step_str(a->step),
		      "token", tp, "network", eng_net_name(s), "subnet", s->subnet_id, "eni",
		      s->eni_id, "device_index", (int)s->net->device_index);
	if (f && *s->ipv4)
		json_object_set_new(f, "ipv4", json_string(s->ipv4));
	if (f && *s->ipv6)
		json_object_set_new(f, "ipv6", json_string(s->ipv6));
	hook_log_json(lvl, msg, f);
}

/* ---- describe-instance ------------------------------------------------ */

static void instance_cb(const awc_result *res, const ec2_describe_instances_out *out, void *arg)
{
	eng_action *a = arg;
	hook_engine_fault f;
	if (!eng_answer(a, res, &f))
		return;
	const ec2_instance *in =
	    f == ENG_FAULT_NONE ? ec2_instances_find(out, a->rec.instance_id) : NULL;
	if (f == ENG_FAULT_NONE && !in)
		f = ENG_FAULT_NOT_FOUND;
	if (f == ENG_FAULT_NOT_FOUND && a->retry.count < 3) {
		/* a fresh instance may not be visible yet (eventual consistency) */
		eng_action_retry_later(a, "instance not visible yet", 1000);
		return;
	}
	if (f == ENG_FAULT_NOT_FOUND) {
		a->instance_gone = true;
		eng_action_fail(a, "instance %s not found", a->rec.instance_id);
		return;
	}
	if (f == ENG_FAULT_RETRY) {
		eng_log_aws(a, HOOK_LOG_WARN, "DescribeInstances failed", "DescribeInstances", res);
		eng_action_retry_later(a, "DescribeInstances failed", 1000);
		return;
	}
	if (f != ENG_FAULT_NONE) {
		eng_log_aws(a, HOOK_LOG_ERROR, "DescribeInstances failed", "DescribeInstances",
			    res);
		eng_action_fail(a, "DescribeInstances: %s",
				res->aws_code ? res->aws_code : hk_err_str(res->err));
		return;
	}
	if (in->state &&
	    (strcmp(in->state, "terminated") == 0 || strcmp(in->state, "shutting-down") == 0)) {
		a->instance_gone = true;
		eng_action_fail(a, "instance %s is %s", a->rec.instance_id, in->state);
		return;
	}
	if (!in->az || !in->instance_type) {
		eng_action_fail(a, "instance %s: no availability zone or type", a->rec.instance_id);
		return;
	}
	eng_set_str(&a->az, in->az);
	eng_set_str(&a->instance_type, in->instance_type);
	awscalls_free(a->inst);
	a->inst = awscalls_keep(out);
	step_adopt(a);
}

void eng_launch_run(eng_action *a)
{
	if (!a->group) {
		eng_action_fail(a, "no node group for %s", a->rec.asg);
		return;
	}
	hk_err err = slots_init(a);
	if (err) {
		eng_action_retry_later(a, hk_err_str(err), 1000);
		return;
	}
	eng_action_set_step(a, ENG_STEP_INSTANCE);
	const char *ids[1] = {a->rec.instance_id};
	ec2_describe_instances_req req = {.instance_ids = ids, .n_instance_ids = 1};
	a->inflight++;
	if (ec2_describe_instances(a->eng->aws, &req, instance_cb, a, eng_call_opts(a)) != HK_OK) {
		a->inflight--;
		eng_action_retry_later(a, "cannot start DescribeInstances", 1000);
	}
}

/* ---- adopt ------------------------------------------------------------ */

static eng_slot *slot_by_network(eng_action *a, const char *name)
{
	for (size_t i = 0; name && i < a->n_slots; i++)
		if (strcmp(eng_net_name(&a->slots[i]), name) == 0)
			return &a->slots[i];
	return NULL;
}

/* Take an existing ENI of ours for slot `s`. Returns false on a conflict
 * that needs a person (attached elsewhere or at another index). */
bool eng_adopt_eni(eng_action *a, eng_slot *s, const ec2_eni *ni, char *why, size_t why_len)
{
	hook_eni_state st = ENG_ENI_CREATED;
	s->dot_ok = false;
	s->sdc_ok = ni->source_dest_check == s->net->source_dest_check;
	if (ni->attached && ni->attachment.instance_id) {
		if (strcmp(ni->attachment.instance_id, a->rec.instance_id) != 0) {
			snprintf(why, why_len, "ENI %s of network %s is attached to %s", ni->eni_id,
				 eng_net_name(s), ni->attachment.instance_id);
			return false;
		}
		if (ni->attachment.device_index != s->net->device_index) {
			snprintf(why, why_len, "ENI %s of network %s is at device index %u, not %u",
				 ni->eni_id, eng_net_name(s), ni->attachment.device_index,
				 s->net->device_index);
			return false;
		}
		st = ENG_ENI_ATTACHED;
		s->dot_ok = ni->attachment.delete_on_termination;
		eng_set_str(&s->attachment_id, ni->attachment.attachment_id);
		if (s->dot_ok && s->sdc_ok)
			st = ENG_ENI_CONFIGURED;
	}
	if (s->pool_pending && ni->private_ip && strcmp(ni->private_ip, s->ipv4) != 0) {
		eng_alloc_release(a->eng->alloc, s->subnet_id, s->ipv4);
		s->pool_pending = false;
	}
	eng_set_str(&s->eni_id, ni->eni_id);
	eng_set_str(&s->subnet_id, ni->subnet_id);
	if (ni->private_ip)
		eng_set_str(&s->ipv4, ni->private_ip);
	if (ni->n_ipv6_addresses)
		eng_set_str(&s->ipv6, ni->ipv6_addresses[0]);
	if (s->pool_pending) {
		eng_alloc_confirm(a->eng->alloc, s->subnet_id, s->ipv4);
		s->pool_pending = false;
	}
	if (s->pool6_pending) {
		eng_alloc_confirm(a->eng->alloc, s->subnet_id, s->ipv6);
		s->pool6_pending = false;
	}
	if (st != s->state || true)
		ENG_IGNORE(eng_slot_save(a, s, st));
	hk_metric_inc1(hook_m.enis, "adopted");
	return true;
}

hk_err eng_slot_forget(eng_action *a, eng_slot *s)
{
	s->gen++;
	char tok[HOOK_CLIENT_TOKEN_LEN];
	hook_engine_client_token(a->rec.instance_id, eng_net_name(s), s->net->device_index,
				 a->rec.token, s->gen, tok);
	eng_set_str(&s->eni_id, "");
	eng_set_str(&s->attachment_id, "");
	eng_set_str(&s->client_token, tok);
	eng_set_str(&s->ipv4, "");
	eng_set_str(&s->ipv6, "");
	s->state = ENG_ENI_NONE;
	return eng_slot_save(a, s, ENG_ENI_NONE);
}

static void extra_deleted(const awc_result *res, const ec2_return_out *out, void *arg)
{
	/* nothing to do either way: a failure leaves it for the next adoption */
}

/* A network whose adopted ENI is attached may have more available ENIs of
 * ours for the same instance: made by a replica working on a copy of the
 * event, or by an attempt whose address was taken. They are spare: delete
 * them (no one else would: the sweep keeps the ENIs of a live instance). */
static void delete_extras(eng_action *a, const ec2_describe_network_interfaces_out *out)
{
	for (size_t i = 0; i < out->n_enis; i++) {
		const ec2_eni *ni = &out->enis[i];
		const char *inst = ec2_eni_tag(ni, HOOK_TAG_INSTANCE);
		if (!inst || strcmp(inst, a->rec.instance_id) != 0 || ni->attached)
			continue;
		eng_slot *s = slot_by_network(a, ec2_eni_tag(ni, HOOK_TAG_NETWORK));
		if (!s || s->state < ENG_ENI_ATTACHED || !s->eni_id ||
		    strcmp(s->eni_id, ni->eni_id) == 0 || strcmp(ni->status, "available") != 0)
			continue;
		json_t *f = json_pack("{s:s,s:s}", "extra_eni", ni->eni_id, "kept_eni", s->eni_id);
		eng_log(a, HOOK_LOG_INFO, "deleting a spare ENI of the network", f);
		ec2_delete_network_interface_req req = {.eni_id = ni->eni_id};
		ENG_IGNORE(
		    ec2_delete_network_interface(a->eng->aws, &req, extra_deleted, NULL, NULL));
	}
}

static void adopt_cb(const awc_result *res, const ec2_describe_network_interfaces_out *out,
		     void *arg)
{
	eng_action *a = arg;
	hook_engine_fault f;
	if (!eng_answer(a, res, &f))
		return;
	if (f == ENG_FAULT_RETRY) {
		eng_action_retry_later(a, "DescribeNetworkInterfaces failed", 1000);
		return;
	}
	if (f != ENG_FAULT_NONE) {
		eng_log_aws(a, HOOK_LOG_ERROR, "cannot look for existing ENIs",
			    "DescribeNetworkInterfaces", res);
		eng_action_fail(a, "DescribeNetworkInterfaces: %s",
				res->aws_code ? res->aws_code : hk_err_str(res->err));
		return;
	}
	bool seen[64] = {false};
	for (size_t i = 0; i < out->n_enis; i++) {
		const ec2_eni *ni = &out->enis[i];
		const char *inst = ec2_eni_tag(ni, HOOK_TAG_INSTANCE);
		if (!inst || strcmp(inst, a->rec.instance_id) != 0)
			continue;
		eng_slot *s = slot_by_network(a, ec2_eni_tag(ni, HOOK_TAG_NETWORK));
		if (!s)
			continue;
		if (s->index < 64 && seen[s->index]) {
			/* a second ENI for one network: keep the attached one */
			if (!(ni->attached && ni->attachment.instance_id &&
			      strcmp(ni->attachment.instance_id, a->rec.instance_id) == 0)) {
				eng_slot_log(s, HOOK_LOG_WARN,
					     "extra ENI for the network left alone");
				continue;
			}
		}
		char why[256];
		if (!eng_adopt_eni(a, s, ni, why, sizeof(why))) {
			eng_action_fail(a, "%s", why);
			return;
		}
		if (s->index < 64)
			seen[s->index] = true;
		eng_slot_log(s, HOOK_LOG_INFO, "adopted an existing ENI");
	}
	delete_extras(a, out);
	/* ENIs the store says exist but EC2 does not show are gone: start over */
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		if (i < 64 && !seen[i] && s->state >= ENG_ENI_CREATED &&
		    s->state <= ENG_ENI_CONFIGURED) {
			eng_slot_log(s, HOOK_LOG_WARN,
				     "recorded ENI no longer exists: creating anew");
			if (eng_slot_forget(a, s) != HK_OK) {
				/* the old token must not be sent again */
				eng_action_retry_later(a, "cannot record the ENI", 1000);
				return;
			}
		}
	}
	step_subnets(a);
}

static void step_adopt(eng_action *a)
{
	eng_action_set_step(a, ENG_STEP_ADOPT);
	const char *vals[1] = {a->rec.instance_id};
	ec2_filter f = {.name = "tag:" HOOK_TAG_INSTANCE, .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req req = {.filters = &f, .n_filters = 1};
	a->inflight++;
	if (ec2_describe_network_interfaces(a->eng->aws, &req, adopt_cb, a, eng_call_opts(a)) !=
	    HK_OK) {
		a->inflight--;
		eng_action_retry_later(a, "cannot start DescribeNetworkInterfaces", 1000);
	}
}

/* ---- subnets ---------------------------------------------------------- */

typedef struct subnet_ctx {
	eng_slot *s;
} subnet_ctx;

static bool slot_needs_subnet(const eng_slot *s)
{
	return s->state == ENG_ENI_NONE;
}

static void subnets_maybe_done(eng_action *a)
{
	if (a->inflight)
		return;
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		if (slot_needs_subnet(s) && !*s->subnet_id) {
			eng_action_fail(a, "network %s: no subnet in %s", eng_net_name(s), a->az);
			return;
		}
		if (*s->subnet_id)
			eng_alloc_dhcp_check(a->eng->alloc, a->cfg, s->subnet_id, s->net);
	}
	step_capacity(a);
}

/* One network's share of a DescribeSubnets answer: `id` is the choice (NULL:
 * none in the AZ, or the call failed: `f`). a->inflight was raised for it. */
static void subnet_apply(eng_slot *s, const awc_result *res, hook_engine_fault f, const char *id)
{
	eng_action *a = s->act;
	if (!eng_enter(a))
		return;
	if (f == ENG_FAULT_RETRY) {
		eng_action_retry_later(a, "DescribeSubnets failed", 1000);
		return;
	}
	if (f != ENG_FAULT_NONE) {
		eng_log_aws(a, HOOK_LOG_ERROR, "DescribeSubnets failed", "DescribeSubnets", res);
		eng_action_fail(a, "network %s: DescribeSubnets: %s", eng_net_name(s),
				res->aws_code ? res->aws_code : hk_err_str(res->err));
		return;
	}
	if (id)
		eng_set_str(&s->subnet_id, id);
	subnets_maybe_done(a);
}

/* An uncached call (the cache is full): arg is the slot. */
static void subnets_cb(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	eng_slot *s = arg;
	eng_action *a = s->act;
	eng_health_from(a->eng, res);
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	const char *id = f == ENG_FAULT_NONE
			     ? hook_engine_pick_subnet(s->net, a->az, out->subnets, out->n_subnets)
			     : NULL;
	subnet_apply(s, res, f, id);
}

/* The subnet cache's key of a slot: its AZ and the network's tag filter
 * (what the DescribeSubnets call asks, so what its choice depends on); false
 * when it does not fit (the slot then asks uncached). */
static bool subnet_key(const eng_slot *s, char *key, size_t size)
{
	int n = snprintf(key, size, "%s", s->act->az);
	for (size_t k = 0; n > 0 && (size_t)n < size && k < s->net->n_subnet_tags; k++) {
		int m = snprintf(key + n, size - (size_t)n, "\n%s=%s", s->net->subnet_tags[k].key,
				 s->net->subnet_tags[k].value);
		n = m < 0 ? -1 : n + m;
	}
	return n > 0 && (size_t)n < size;
}

/* What a DescribeSubnets answer says for one (AZ, filter) (the detail its
 * waiters read). */
typedef struct subnet_answer {
	const awc_result *res;
	hook_engine_fault fault;
	const char *id; /* the choice, or NULL */
} subnet_answer;

/* The single-flight call of the subnet cache: arg is the leader slot (held
 * by its action's inflight count, like every waiter); every slot waiting gets
 * the answer. Only a choice is cached: "none in the AZ" and failures are not. */
static void subnets_flight_cb(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	eng_slot *leader = arg;
	hook_eng *e = leader->act->eng;
	eng_health_from(e, res);
	char key[4096];
	(void)subnet_key(leader, key, sizeof(key)); /* it fitted when the leader joined */
	subnet_answer ans = {.res = res, .fault = hook_engine_classify(res->err, res->aws_code)};
	if (ans.fault == ENG_FAULT_NONE)
		ans.id = hook_engine_pick_subnet(leader->net, leader->act->az, out->subnets,
						 out->n_subnets);
	char *v = ans.id ? eng_strdup(ans.id) : NULL;
	hk_sf_done_with(e->subnet_cache, key, v ? HK_OK : HK_ERR_NOT_FOUND, v, hook_now_ms(),
			ENG_SUBNET_CACHE_MS, &ans);
}

/* A waiter of the subnet cache (the leader included). */
static void subnets_ready(void *arg, const char *key, hk_err err, void *value)
{
	eng_slot *s = arg;
	const subnet_answer *ans = hk_sf_detail(s->act->eng->subnet_cache, key);
	if (ans) {
		subnet_apply(s, ans->res, ans->fault, ans->id);
		return;
	}
	s->act->inflight--;
	eng_action_retry_later(s->act, "cannot start DescribeSubnets", 1000);
}

static bool same_subnet(const char *key, const void *value, void *arg)
{
	return strcmp(value, arg) == 0;
}

void eng_subnet_forget(hook_eng *e, const char *subnet_id)
{
	if (subnet_id)
		(void)hk_sf_forget_if(e->subnet_cache, same_subnet, (void *)(uintptr_t)subnet_id);
}

static void step_subnets(eng_action *a)
{
	eng_action_set_step(a, ENG_STEP_SUBNETS);
	a->inflight++; /* hold while starting the lookups */
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		if (!slot_needs_subnet(s))
			continue;
		if (s->net->n_subnet_ids) {
			const char *id = hook_engine_pick_subnet(s->net, a->az, NULL, 0);
			eng_set_str(&s->subnet_id, id ? id : "");
			continue;
		}
		char key[4096];
		void *value = NULL;
		hk_sf_next next = subnet_key(s, key, sizeof(key))
				      ? hk_sf_join(a->eng->subnet_cache, key, hook_now_ms(),
						   subnets_ready, s, &value)
				      : HK_SF_ALONE;
		if (next == HK_SF_HIT) {
			eng_set_str(&s->subnet_id, value);
			continue;
		}
		a->inflight++;
		if (next == HK_SF_WAIT)
			continue; /* subnets_flight_cb wakes it */
		ec2_filter fl[32];
		const char *vals[32];
		size_t nf = 0;
		char keys[32][160];
		for (size_t k = 0; k < s->net->n_subnet_tags && nf < 31; k++) {
			snprintf(keys[nf], sizeof(keys[nf]), "tag:%s", s->net->subnet_tags[k].key);
			vals[nf] = s->net->subnet_tags[k].value;
			fl[nf].name = keys[nf];
			fl[nf].values = &vals[nf];
			fl[nf].n_values = 1;
			nf++;
		}
		vals[nf] = a->az;
		fl[nf].name = "availability-zone";
		fl[nf].values = &vals[nf];
		fl[nf].n_values = 1;
		nf++;
		ec2_describe_subnets_req req = {.filters = fl, .n_filters = nf};
		/* The shared call carries the leader's retry window (eng_aws): a
		 * waiter gets its answer no later than the leader's give-up. */
		ec2_describe_subnets_fn done = next == HK_SF_FETCH ? subnets_flight_cb : subnets_cb;
		hk_err err = ec2_describe_subnets(a->eng->aws, &req, done, s, eng_call_opts(a));
		if (err == HK_OK)
			continue;
		if (next == HK_SF_FETCH) { /* no detail: its waiters (only s yet) retry */
			hk_sf_done(a->eng->subnet_cache, key, err, NULL, hook_now_ms(), 0);
			continue;
		}
		a->inflight--;
		eng_action_retry_later(a, "cannot start DescribeSubnets", 1000);
	}
	if (!eng_enter(a))
		return;
	subnets_maybe_done(a);
}

/* ---- capacity --------------------------------------------------------- */

/* One action's share of a DescribeInstanceTypes answer (its own call, or
 * the one it waited on). a->inflight was raised for it. */
static void types_apply(eng_action *a, const awc_result *res,
			const ec2_describe_instance_types_out *out)
{
	if (!eng_enter(a))
		return;
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	if (f == ENG_FAULT_RETRY) {
		eng_action_retry_later(a, "DescribeInstanceTypes failed", 1000);
		return;
	}
	const ec2_instance_type *t =
	    f == ENG_FAULT_NONE ? ec2_instance_types_find(out, a->instance_type) : NULL;
	if (!t) {
		eng_log_aws(a, HOOK_LOG_ERROR, "DescribeInstanceTypes failed",
			    "DescribeInstanceTypes", res);
		eng_action_fail(a, "instance type %s: %s", a->instance_type,
				res->err ? (res->aws_code ? res->aws_code : hk_err_str(res->err))
					 : "unknown");
		return;
	}
	const ec2_instance *in = a->inst ? ec2_instances_find(a->inst, a->rec.instance_id) : NULL;
	for (size_t i = 0; i < a->n_slots; i++) {
		eng_slot *s = &a->slots[i];
		unsigned card = s->net->network_card_index;
		unsigned max = ec2_instance_type_card_max_enis(t, card);
		if (s->net->device_index >= max) {
			eng_action_fail(a,
					"attachment limit: %s takes %u ENIs on card %u, network %s "
					"needs device index %u",
					a->instance_type, max, card, eng_net_name(s),
					s->net->device_index);
			return;
		}
		unsigned used = 0, wanted = 0;
		for (size_t k = 0; in && k < in->n_enis; k++) {
			const ec2_instance_eni *ie = &in->enis[k];
			if (ie->network_card_index != card)
				continue;
			used++;
			if (ie->device_index == s->net->device_index &&
			    strcmp(ie->eni_id, s->eni_id) != 0) {
				eng_action_fail(a, "device index %u is taken by %s (not ours)",
						ie->device_index, ie->eni_id);
				return;
			}
		}
		for (size_t k = 0; k < a->n_slots; k++)
			if (a->slots[k].net->network_card_index == card &&
			    a->slots[k].state < ENG_ENI_ATTACHED)
				wanted++;
		if (used + wanted > max) {
			eng_action_fail(a,
					"attachment limit: %s takes %u ENIs on card %u, %u "
					"attached and %u more needed",
					a->instance_type, max, card, used, wanted);
			return;
		}
	}
	eng_step_enis(a);
}

/* An uncached call (no entry: full, no memory): arg is the action. */
static void types_cb(const awc_result *res, const ec2_describe_instance_types_out *out, void *arg)
{
	eng_action *a = arg;
	eng_health_from(a->eng, res);
	types_apply(a, res, out);
}

/* A DescribeInstanceTypes answer (the detail the type cache's waiters read). */
typedef struct types_answer {
	const awc_result *res;
	const ec2_describe_instance_types_out *out;
} types_answer;

/* The single-flight call of the type cache: arg is the leader (held by its
 * inflight count, like every waiter); every action waiting gets the answer,
 * a failure included (each retries or fails as if the call were its own). */
static void types_flight_cb(const awc_result *res, const ec2_describe_instance_types_out *out,
			    void *arg)
{
	eng_action *leader = arg;
	hook_eng *e = leader->eng;
	eng_health_from(e, res);
	types_answer ans = {res, out};
	/* TTL 0: the answer is cached by aws/; the entry only coalesced the misses */
	hk_sf_done_with(e->type_cache, leader->instance_type, res->err, NULL, hook_now_ms(), 0,
			&ans);
}

/* A waiter of the type cache (the leader included). */
static void types_ready(void *arg, const char *key, hk_err err, void *value)
{
	eng_action *a = arg;
	const types_answer *ans = hk_sf_detail(a->eng->type_cache, key);
	if (ans) {
		types_apply(a, ans->res, ans->out);
		return;
	}
	a->inflight--;
	eng_action_retry_later(a, "cannot start DescribeInstanceTypes", 1000);
}

static void step_capacity(eng_action *a)
{
	bool need = false;
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].state < ENG_ENI_ATTACHED)
			need = true;
	if (!need) {
		eng_step_enis(a);
		return;
	}
	eng_action_set_step(a, ENG_STEP_CAPACITY);
	const char *types[1] = {a->instance_type};
	ec2_describe_instance_types_req req = {.instance_types = types, .n_instance_types = 1};
	hk_sf_next next =
	    hk_sf_join(a->eng->type_cache, a->instance_type, hook_now_ms(), types_ready, a, NULL);
	a->inflight++;
	if (next == HK_SF_WAIT)
		return; /* types_flight_cb wakes it */
	/* The shared call carries the leader's retry window (eng_aws), as the
	 * subnet lookup does. */
	ec2_describe_instance_types_fn done = next == HK_SF_FETCH ? types_flight_cb : types_cb;
	hk_err err = ec2_describe_instance_types(a->eng->aws, &req, done, a, eng_call_opts(a));
	if (err == HK_OK)
		return;
	if (next == HK_SF_FETCH) { /* no detail: its waiters (only a yet) retry */
		hk_sf_done(a->eng->type_cache, a->instance_type, err, NULL, hook_now_ms(), 0);
		return;
	}
	a->inflight--;
	eng_action_retry_later(a, "cannot start DescribeInstanceTypes", 1000);
}
