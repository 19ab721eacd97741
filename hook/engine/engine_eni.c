/* The per-network ENI pipeline of a launch (docs/engine.md):
 *   (address) -> planned (recorded) -> create -> created -> attach -> attached
 *   -> DeleteOnTermination (+ source/dest check) -> configured
 * One runs per network concurrently; engine_launch.c starts them once the
 * instance, its subnets and its capacity are known. */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- enis ------------------------------------------------------------- */

static void all_done_check(eng_action *a)
{
	if (a->inflight || eng_failed(a) || a->run == ENG_RUN_RESTARTING ||
	    a->run == ENG_RUN_COMPLETING || a->run == ENG_RUN_STOPPING)
		return;
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].state != ENG_ENI_CONFIGURED)
			return;
	eng_action_set_run(a, ENG_RUN_COMPLETING);
	json_t *f = json_pack("{s:I,s:I,s:s}", "action_id", (json_int_t)a->rec.id, "networks",
			      (json_int_t)a->n_slots, "instance", a->rec.instance_id);
	hook_log_json(HOOK_LOG_INFO, "every ENI attached: completing", f);
	eng_action_complete(a, HOOK_RESULT_CONTINUE);
}

void eng_step_enis(eng_action *a)
{
	eng_action_set_step(a, ENG_STEP_ENIS);
	a->inflight++; /* hold while starting the slots */
	for (size_t i = 0; i < a->n_slots; i++)
		eng_slot_next(&a->slots[i]);
	if (!eng_enter(a))
		return;
	all_done_check(a);
}

static bool slot_enter(eng_slot *s)
{
	s->busy = false;
	return eng_enter(s->act);
}

static void slot_fault(eng_slot *s, const char *call, const awc_result *res, hook_engine_fault f)
{
	eng_action *a = s->act;
	if (f == ENG_FAULT_RETRY) {
		eng_log_aws(a, HOOK_LOG_WARN, "transient AWS error", call, res);
		char why[128];
		snprintf(why, sizeof(why), "%s: %s", call,
			 res->aws_code ? res->aws_code : hk_err_str(res->err));
		eng_action_retry_later(a, why, 1000);
		return;
	}
	eng_log_aws(a, HOOK_LOG_ERROR, "AWS call failed", call, res);
	eng_action_fail(a, "network %s: %s: %s", eng_net_name(s), call,
			res->aws_code ? res->aws_code : hk_err_str(res->err));
}

/* A slot's AWS answer: it feeds /readyz and passes the slot's gate; the
 * fault `redo` re-runs the action from the top after 500 ms (`why`), any
 * other fault is the slot's (slot_fault). True when the call succeeded. */
static bool slot_answer(eng_slot *s, const awc_result *res, const char *call,
			hook_engine_fault redo, const char *why)
{
	eng_health_from(s->act->eng, res);
	if (!slot_enter(s))
		return false;
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	if (f == redo)
		eng_action_retry_later(s->act, why, 500);
	else if (f != ENG_FAULT_NONE)
		slot_fault(s, call, res, f);
	return f == ENG_FAULT_NONE;
}

/* EC2's answer to an attach at a device index in use: InvalidParameterValue
 * "Instance 'i-...' already has an interface attached at device index 'N'." */
/* Store the slot in state `st`; false (a retry in a second is set) when the
 * store cannot record it. */
/* A call on the slot's behalf starts: the slot is busy and the action has
 * one more call in flight until its answer. */
static void slot_busy(eng_slot *s)
{
	s->busy = true;
	s->act->inflight++;
}

/* What starting that call gave: on failure the slot is free again and the
 * action retries in a second ("cannot start <what>"). */
static void slot_started(eng_slot *s, hk_err err, const char *why)
{
	if (err == HK_OK)
		return;
	s->act->inflight--;
	s->busy = false;
	eng_action_retry_later(s->act, why, 1000);
}

static bool slot_recorded(eng_slot *s, hook_eni_state st)
{
	if (eng_slot_save(s->act, s, st) == HK_OK)
		return true;
	eng_action_retry_later(s->act, "cannot record the ENI", 1000);
	return false;
}

static bool device_index_taken(const awc_result *res)
{
	return res->aws_code && strcmp(res->aws_code, "InvalidParameterValue") == 0 &&
	       res->errtext && strstr(res->errtext, "already has an interface attached");
}

/* configure: DeleteOnTermination, then source/dest check */
static void configure_next(eng_slot *s);

static void modify_cb(const awc_result *res, const ec2_return_out *out, void *arg)
{
	eng_slot *s = arg;
	/* not found: the attachment changed under us, look again from the top */
	if (!slot_answer(s, res, "ModifyNetworkInterfaceAttribute", ENG_FAULT_NOT_FOUND,
			 "attachment not found"))
		return;
	if (!s->dot_ok)
		s->dot_ok = true;
	else
		s->sdc_ok = true;
	configure_next(s);
}

static void configure_next(eng_slot *s)
{
	eng_action *a = s->act;
	hk_err err = HK_OK;
	if (!s->dot_ok) {
		slot_busy(s);
		err = ec2_modify_eni_delete_on_termination(a->eng->aws, s->eni_id, s->attachment_id,
							   true, modify_cb, s, eng_call_opts(a));
	} else if (!s->sdc_ok && !s->net->source_dest_check) {
		slot_busy(s);
		err = ec2_modify_eni_source_dest_check(a->eng->aws, s->eni_id, false, modify_cb, s,
						       eng_call_opts(a));
	} else {
		if (!slot_recorded(s, ENG_ENI_CONFIGURED))
			return;
		eng_slot_log(s, HOOK_LOG_INFO, "ENI attached and configured");
		all_done_check(a);
		return;
	}
	slot_started(s, err, "cannot start ModifyNetworkInterfaceAttribute");
}

static void attach_cb(const awc_result *res, const ec2_attach_network_interface_out *out, void *arg)
{
	eng_slot *s = arg;
	eng_action *a = s->act;
	/* in use: attached already (an earlier attempt), adopt it from the top;
	 * so is a device index taken, which another replica working on a copy
	 * of the event may have filled first (adoption then says whether the
	 * ENI there is ours) */
	if (device_index_taken(res)) {
		eng_health_from(a->eng, res);
		if (slot_enter(s))
			eng_action_retry_later(a, "device index already taken", 500);
		return;
	}
	if (!slot_answer(s, res, "AttachNetworkInterface", ENG_FAULT_ENI_IN_USE,
			 "ENI already attached"))
		return;
	eng_set_str(&s->attachment_id, out->attachment_id);
	hk_metric_inc1(hook_m.enis, "attached");
	s->dot_ok = false;
	s->sdc_ok = s->net->source_dest_check; /* EC2's default is true */
	if (!slot_recorded(s, ENG_ENI_ATTACHED))
		return;
	configure_next(s);
}

static void attach_start(eng_slot *s)
{
	eng_action *a = s->act;
	ec2_attach_network_interface_req req = {
	    .eni_id = s->eni_id,
	    .instance_id = a->rec.instance_id,
	    .device_index = s->net->device_index,
	    .set_network_card_index = s->net->network_card_index != 0,
	    .network_card_index = s->net->network_card_index,
	};
	slot_busy(s);
	slot_started(
	    s, ec2_attach_network_interface(a->eng->aws, &req, attach_cb, s, eng_call_opts(a)),
	    "cannot start AttachNetworkInterface");
}

static void create_start(eng_slot *s);
static void plan_and_create(eng_slot *s);

static void mismatch_cb(const awc_result *res, const ec2_describe_network_interfaces_out *out,
			void *arg)
{
	eng_slot *s = arg;
	eng_action *a = s->act;
	eng_health_from(a->eng, res);
	if (!slot_enter(s))
		return;
	if (res->err) {
		slot_fault(s, "DescribeNetworkInterfaces", res,
			   hook_engine_classify(res->err, res->aws_code));
		return;
	}
	for (size_t i = 0; i < out->n_enis; i++) {
		const ec2_eni *ni = &out->enis[i];
		const char *net = ec2_eni_tag(ni, HOOK_TAG_NETWORK);
		if (!net || strcmp(net, eng_net_name(s)) != 0)
			continue;
		char why[256];
		if (!eng_adopt_eni(a, s, ni, why, sizeof(why))) {
			eng_action_fail(a, "%s", why);
			return;
		}
		eng_slot_log(s, HOOK_LOG_INFO, "adopted the ENI of a reused ClientToken");
		eng_slot_next(s);
		return;
	}
	/* not found by its tags: a token from another life; take a fresh one */
	s->gen++;
	plan_and_create(s);
}

static void choose_again(eng_slot *s)
{
	eng_action *a = s->act;
	s->gen++;
	if (s->pool_pending)
		eng_alloc_release(a->eng->alloc, s->subnet_id, s->ipv4);
	if (s->pool6_pending)
		eng_alloc_release(a->eng->alloc, s->subnet_id, s->ipv6);
	s->pool_pending = s->pool6_pending = false;
	eng_set_str(&s->ipv4, "");
	eng_set_str(&s->ipv6, "");
	eng_set_str(&s->client_token, "");
	s->state = ENG_ENI_NONE;
	eng_slot_next(s);
}

static void create_cb(const awc_result *res, const ec2_create_network_interface_out *out, void *arg)
{
	eng_slot *s = arg;
	eng_action *a = s->act;
	eng_health_from(a->eng, res);
	if (res->aws_code && strcmp(res->aws_code, "InvalidSubnetID.NotFound") == 0)
		eng_subnet_forget(a->eng, s->subnet_id); /* the cached choice is gone */
	if (!slot_enter(s))
		return;
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	switch (f) {
	case ENG_FAULT_NONE:
		break;
	case ENG_FAULT_IP_IN_USE:
		s->conflicts++;
		eng_slot_log(s, HOOK_LOG_INFO, "address in use: taking the next one");
		if (*s->ipv4)
			eng_alloc_conflict(a->eng->alloc, s->subnet_id, s->ipv4);
		if (*s->ipv6)
			eng_alloc_conflict(a->eng->alloc, s->subnet_id, s->ipv6);
		s->pool_pending = s->pool6_pending = false;
		if (s->conflicts > 64) {
			eng_action_fail(a, "network %s: 64 address conflicts in a row",
					eng_net_name(s));
			return;
		}
		choose_again(s);
		return;
	case ENG_FAULT_TOKEN_MISMATCH: {
		eng_slot_log(s, HOOK_LOG_WARN, "IdempotentParameterMismatch: looking for the ENI");
		const char *vals[1] = {a->rec.instance_id};
		ec2_filter fl = {.name = "tag:" HOOK_TAG_INSTANCE, .values = vals, .n_values = 1};
		ec2_describe_network_interfaces_req req = {.filters = &fl, .n_filters = 1};
		slot_busy(s);
		slot_started(s,
			     ec2_describe_network_interfaces(a->eng->aws, &req, mismatch_cb, s,
							     eng_call_opts(a)),
			     "cannot start DescribeNetworkInterfaces");
		return;
	}
	case ENG_FAULT_SUBNET_FULL:
		eng_log_aws(a, HOOK_LOG_ERROR, "subnet full", "CreateNetworkInterface", res);
		eng_action_fail(a, "network %s: subnet %s has no free address", eng_net_name(s),
				s->subnet_id);
		return;
	default:
		slot_fault(s, "CreateNetworkInterface", res, f);
		return;
	}
	eng_set_str(&s->eni_id, out->eni.eni_id);
	if (s->pool_pending)
		eng_alloc_confirm(a->eng->alloc, s->subnet_id, s->ipv4);
	if (s->pool6_pending)
		eng_alloc_confirm(a->eng->alloc, s->subnet_id, s->ipv6);
	s->pool_pending = s->pool6_pending = false;
	if (out->eni.private_ip)
		eng_set_str(&s->ipv4, out->eni.private_ip);
	if (out->eni.n_ipv6_addresses)
		eng_set_str(&s->ipv6, out->eni.ipv6_addresses[0]);
	/* on failure: it exists and carries our tags, adoption finds it on retry */
	if (!slot_recorded(s, ENG_ENI_CREATED))
		return;
	eng_slot_log(s, HOOK_LOG_INFO, "ENI created");
	hk_metric_inc1(hook_m.enis, "created");
	attach_start(s);
}

static void create_start(eng_slot *s)
{
	eng_action *a = s->act;
	ec2_tag tags[4 + 50];
	char devidx[12];
	size_t nt =
	    hook_engine_build_tags(a->rec.instance_id, s->net, devidx, tags, HK_ARRAY_LEN(tags));
	const char *v6[1] = {s->ipv6};
	ec2_create_network_interface_req req = {
	    .subnet_id = s->subnet_id,
	    .security_group_ids = (const char *const *)s->net->security_groups,
	    .n_security_group_ids = s->net->n_security_groups,
	    .private_ip = *s->ipv4 ? s->ipv4 : NULL,
	    .tags = tags,
	    .n_tags = nt,
	    .description = s->net->description,
	    .client_token = s->client_token,
	};
	if (s->net->ipv6 == HOOK_IPV6_ONE) {
		req.ipv6_count = 1;
	} else if (s->net->ipv6 == HOOK_IPV6_FIRST_FREE && *s->ipv6) {
		req.ipv6_addresses = v6;
		req.n_ipv6_addresses = 1;
	}
	slot_busy(s);
	slot_started(
	    s, ec2_create_network_interface(a->eng->aws, &req, create_cb, s, eng_call_opts(a)),
	    "cannot start CreateNetworkInterface");
}

/* Record the plan (address, token) before the create call. */
static void plan_and_create(eng_slot *s)
{
	eng_action *a = s->act;
	char tok[HOOK_CLIENT_TOKEN_LEN];
	hook_engine_client_token(a->rec.instance_id, eng_net_name(s), s->net->device_index,
				 a->rec.token, s->gen, tok);
	eng_set_str(&s->client_token, tok);
	if (!slot_recorded(s, ENG_ENI_PLANNED))
		return;
	eng_slot_log(s, HOOK_LOG_INFO, "ENI planned");
	create_start(s);
}

static void alloc_ready(hk_err err, const char *why, void *arg)
{
	eng_slot *s = arg;
	eng_action *a = s->act;
	if (!slot_enter(s))
		return;
	if (err) {
		json_t *f = json_pack("{s:s,s:s}", "network", eng_net_name(s), "detail",
				      why ? why : hk_err_str(err));
		hook_log_json(HOOK_LOG_WARN, "cannot read the subnet's addresses", f);
		hook_engine_fault k = hook_engine_classify(err, NULL);
		if (k == ENG_FAULT_RETRY)
			eng_action_retry_later(a, why ? why : hk_err_str(err), 1000);
		else
			eng_action_fail(a, "network %s: %s", eng_net_name(s),
					why ? why : hk_err_str(err));
		return;
	}
	char buf[CIDR_ADDR_STRLEN];
	if (s->net->ip_mode == HOOK_IP_FIRST_FREE && !*s->ipv4) {
		hk_err e2 = eng_alloc_take(a->eng->alloc, s->subnet_id, 4, buf, sizeof(buf));
		if (e2) {
			eng_action_fail(a,
					"network %s: no free address in %s outside reservations "
					"and pod ranges",
					eng_net_name(s), s->subnet_id);
			return;
		}
		eng_set_str(&s->ipv4, buf);
		s->pool_pending = true;
	}
	if (s->net->ipv6 == HOOK_IPV6_FIRST_FREE && !*s->ipv6) {
		hk_err e2 = eng_alloc_take(a->eng->alloc, s->subnet_id, 6, buf, sizeof(buf));
		if (e2) {
			eng_action_fail(a, "network %s: %s", eng_net_name(s),
					e2 == HK_ERR_NOT_FOUND ? "the subnet has no IPv6 CIDR"
							       : "no free IPv6 address");
			return;
		}
		eng_set_str(&s->ipv6, buf);
		s->pool6_pending = true;
	}
	plan_and_create(s);
}

void eng_slot_next(eng_slot *s)
{
	eng_action *a = s->act;
	if (s->busy)
		return;
	switch (s->state) {
	case ENG_ENI_NONE:
	case ENG_ENI_DELETED:
		s->state = ENG_ENI_NONE;
		if (s->net->ip_mode == HOOK_IP_FIRST_FREE || s->net->ipv6 == HOOK_IPV6_FIRST_FREE) {
			slot_busy(s);
			slot_started(
			    s,
			    eng_alloc_ensure(a->eng->alloc, s->subnet_id, s->net, alloc_ready, s),
			    "out of memory");
			return;
		}
		plan_and_create(s);
		return;
	case ENG_ENI_PLANNED:
		/* resend exactly what was recorded; hold the address meanwhile */
		if (*s->ipv4 && !s->pool_pending)
			eng_alloc_hold(a->eng->alloc, s->subnet_id, s->ipv4);
		create_start(s);
		return;
	case ENG_ENI_CREATED:
		attach_start(s);
		return;
	case ENG_ENI_ATTACHED:
		configure_next(s);
		return;
	case ENG_ENI_CONFIGURED:
	default:
		/* adopted as it is (e.g. another replica made and attached it):
		 * the last slot to get here completes the action */
		all_done_check(a);
		return;
	}
}
