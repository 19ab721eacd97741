/* The engine's pure rules: client tokens, tags, steps and their resume
 * points, fault classes, timing, subnet choice, pod-range coverage, sibling
 * verdicts, and the single-flight slots. No I/O, no loop, no store: the unit
 * tests call them directly. See docs/engine.md. */
#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/evp.h>

/* ======================================================================
 * Pure helpers
 * ====================================================================== */

void hook_engine_client_token(const char *instance_id, const char *network, unsigned device_index,
			      const char *lifecycle_token, unsigned gen,
			      char out[HOOK_CLIENT_TOKEN_LEN])
{
	char num[32];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *parts[3] = {instance_id ? instance_id : "", network ? network : "",
				lifecycle_token ? lifecycle_token : ""};
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (size_t i = 0; ok && i < 3; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) == 1;
	int n = snprintf(num, sizeof(num), "%u/%u", device_index, gen);
	if (ok && n > 0)
		ok = EVP_DigestUpdate(ctx, num, (size_t)n) == 1;
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 20;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		/* Digest failure (out of memory): a readable token that still
		 * depends on every input but the lifecycle token. */
		snprintf(out, HOOK_CLIENT_TOKEN_LEN, "mh-%.20s-%u-%u",
			 instance_id ? instance_id : "", device_index, gen);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "mh-", 3);
	for (size_t i = 0; i < 20; i++) {
		out[3 + 2 * i] = hex[md[i] >> 4];
		out[4 + 2 * i] = hex[md[i] & 15];
	}
	out[43] = '\0';
}

char *hook_engine_redact_token(const char *text, const char *token)
{
	if (!text)
		return NULL;
	size_t tlen = token ? strlen(token) : 0;
	size_t len = strlen(text);
	if (!tlen)
		return strdup(text);
	char tp[12];
	hook_token_prefix(token, tp);
	size_t plen = strlen(tp);
	/* each match of tlen >= 1 characters grows by at most plen */
	size_t cap = len + (len / tlen + 1) * plen + 1;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t left = len - i;
		size_t m = left < tlen ? left : tlen;
		/* the whole token, or (at the very end) a truncated part of it
		 * longer than what the prefix shows anyway */
		if ((m == tlen || m > 8) && strncasecmp(text + i, token, m) == 0) {
			memcpy(out + o, tp, plen);
			o += plen;
			i += m;
			continue;
		}
		out[o++] = text[i++];
	}
	out[o] = '\0';
	return out;
}

unsigned hook_engine_token_gen(const char *instance_id, const char *network, unsigned device_index,
			       const char *lifecycle_token, const char *client_token)
{
	if (!client_token || !*client_token)
		return 0;
	for (unsigned g = 0; g < HOOK_TOKEN_GEN_MAX; g++) {
		char tok[HOOK_CLIENT_TOKEN_LEN];
		hook_engine_client_token(instance_id, network, device_index, lifecycle_token, g,
					 tok);
		if (strcmp(tok, client_token) == 0)
			return g;
	}
	return HOOK_TOKEN_GEN_MAX;
}

static bool is_engine_tag(const char *key)
{
	return strcmp(key, HOOK_TAG_NO_MANAGE) == 0 || strcmp(key, HOOK_TAG_INSTANCE) == 0 ||
	       strcmp(key, HOOK_TAG_NETWORK) == 0 || strcmp(key, HOOK_TAG_DEVICE_INDEX) == 0;
}

size_t hook_engine_build_tags(const char *instance_id, const hook_network *net, char devidx_buf[12],
			      ec2_tag *out, size_t max)
{
	size_t n = 0;
	snprintf(devidx_buf, 12, "%u", net->device_index);
	const ec2_tag fixed[4] = {{HOOK_TAG_NO_MANAGE, "true"},
				  {HOOK_TAG_INSTANCE, instance_id},
				  {HOOK_TAG_NETWORK, net->name},
				  {HOOK_TAG_DEVICE_INDEX, devidx_buf}};
	for (size_t i = 0; i < 4 && n < max; i++)
		out[n++] = fixed[i];
	for (size_t i = 0; i < net->n_tags && n < max; i++) {
		if (!net->tags[i].key || is_engine_tag(net->tags[i].key))
			continue;
		out[n].key = net->tags[i].key;
		out[n].value = net->tags[i].value ? net->tags[i].value : "";
		n++;
	}
	return n;
}

/* In the order of hook_engine_step (engine_internal.h). */
static const char *const step_names[] = {
    "",	    "describe-hook", "describe-instance", "adopt", "subnets",	"capacity",
    "enis", "cleanup",	     "complete",	  "done",  "find-enis", "detach-delete"};
_Static_assert(HK_ARRAY_LEN(step_names) == ENG_STEP__COUNT, "one name per step");

/* NAME_FNS(type, prefix, names, none): prefix_str(v) gives names[v] ("" out
 * of range); prefix_parse(s) the value named s, or `none` for "" and unknown
 * text. */
#define NAME_FNS(type, prefix, names, none)                                                        \
	const char *prefix##_str(type v)                                                           \
	{                                                                                          \
		return hk_name_of(names, HK_ARRAY_LEN(names), v, "");                              \
	}                                                                                          \
	type prefix##_parse(const char *s)                                                         \
	{                                                                                          \
		int i = hk_name_find(names, HK_ARRAY_LEN(names), 1, s);                            \
		return i < 0 ? none : (type)i;                                                     \
	}

NAME_FNS(hook_engine_step, hook_engine_step, step_names, ENG_STEP_NONE)

hook_engine_step hook_engine_resume_step(hook_action_state state, const char *step,
					 hook_transition transition)
{
	hook_engine_step s = hook_engine_step_parse(step);
	switch (state) {
	case HOOK_ACTION_DONE:
	case HOOK_ACTION_FAILED:
		return ENG_STEP_DONE;
	case HOOK_ACTION_CLEANUP:
		/* A launch that began failing never goes back to creating. A
		 * terminate has no separate cleanup: its work is the cleanup. */
		return transition == HOOK_TRANSITION_LAUNCHING ? ENG_STEP_CLEANUP : ENG_STEP_T_FIND;
	case HOOK_ACTION_COMPLETING:
		return ENG_STEP_COMPLETE;
	default:
		break;
	}
	if (s == ENG_STEP_COMPLETE || s == ENG_STEP_DONE)
		return ENG_STEP_COMPLETE;
	if (s == ENG_STEP_CLEANUP)
		return transition == HOOK_TRANSITION_LAUNCHING ? ENG_STEP_CLEANUP : ENG_STEP_T_FIND;
	/* Everything else starts from the top: the hook, the instance, then
	 * adoption of what exists. */
	return ENG_STEP_HOOK;
}

unsigned hook_engine_progress(hook_engine_step step, unsigned eni_progress)
{
	static const unsigned rank[ENG_STEP__COUNT] = {
	    [ENG_STEP_NONE] = 0,  [ENG_STEP_HOOK] = 1,	  [ENG_STEP_INSTANCE] = 2,
	    [ENG_STEP_ADOPT] = 3, [ENG_STEP_SUBNETS] = 4, [ENG_STEP_CAPACITY] = 5,
	    [ENG_STEP_ENIS] = 6,  [ENG_STEP_CLEANUP] = 7, [ENG_STEP_COMPLETE] = 8,
	    [ENG_STEP_DONE] = 9,  [ENG_STEP_T_FIND] = 2,  [ENG_STEP_T_DETACH] = 3,
	};
	unsigned r = (unsigned)step < ENG_STEP__COUNT ? rank[step] : 0;
	return r * 1024u + (eni_progress < 1023u ? eni_progress : 1023u);
}

bool hook_engine_retry_next(hook_engine_retry *r, unsigned progress, unsigned base_ms,
			    unsigned *ret_delay_ms)
{
	if (progress > r->best) {
		r->best = progress;
		r->count = 0;
	}
	if (r->count >= HOOK_ENGINE_RETRY_MAX)
		return false;
	r->count++;
	/* exponential, capped: base, 2 x base, 4 x base ... */
	unsigned d = base_ms ? base_ms : 1;
	for (unsigned i = 1; i < r->count && d < HOOK_ENGINE_RETRY_DELAY_MAX; i++)
		d *= 2;
	if (d > HOOK_ENGINE_RETRY_DELAY_MAX)
		d = HOOK_ENGINE_RETRY_DELAY_MAX;
	*ret_delay_ms = d;
	return true;
}

/* In the order of hook_eni_state (engine_internal.h). */
static const char *const eni_state_names[] = {"",	  "planned",	"created",
					      "attached", "configured", "deleted"};
_Static_assert(HK_ARRAY_LEN(eni_state_names) == ENG_ENI__COUNT, "one name per ENI state");

NAME_FNS(hook_eni_state, hook_eni_state, eni_state_names, ENG_ENI_NONE)

hook_engine_fault hook_engine_classify(hk_err err, const char *code)
{
	static const struct {
		const char *code;
		hook_engine_fault fault;
	} codes[] = {
	    {"InvalidIPAddress.InUse", ENG_FAULT_IP_IN_USE},
	    {"IdempotentParameterMismatch", ENG_FAULT_TOKEN_MISMATCH},
	    {"InsufficientFreeAddressesInSubnet", ENG_FAULT_SUBNET_FULL},
	    {"AttachmentLimitExceeded", ENG_FAULT_ATTACH_LIMIT},
	    {"InvalidNetworkInterfaceID.NotFound", ENG_FAULT_NOT_FOUND},
	    {"InvalidAttachmentID.NotFound", ENG_FAULT_NOT_FOUND},
	    {"InvalidInstanceID.NotFound", ENG_FAULT_NOT_FOUND},
	    {"InvalidNetworkInterface.NotFound", ENG_FAULT_NOT_FOUND},
	    {"ValidationError", ENG_FAULT_NO_ACTIVE_ACTION},
	    {"InvalidNetworkInterface.InUse", ENG_FAULT_ENI_IN_USE},
	    {"IncorrectState", ENG_FAULT_FATAL},
	    {"IncorrectInstanceState", ENG_FAULT_FATAL},
	};
	if (err == HK_OK)
		return ENG_FAULT_NONE;
	for (size_t i = 0; code && i < HK_ARRAY_LEN(codes); i++)
		if (strcmp(code, codes[i].code) == 0)
			return codes[i].fault;
	switch (err) {
	case HK_ERR_THROTTLED:
	case HK_ERR_TRANSIENT:
	case HK_ERR_TIMEOUT:
	case HK_ERR_NO_CREDENTIALS: /* may come back (IMDS, a rotated file) */
	case HK_ERR_NOMEM:
	case HK_ERR_FULL: /* the client's own queue */
	case HK_ERR_IO:
		return ENG_FAULT_RETRY;
	default:
		return ENG_FAULT_FATAL;
	}
}

const char *hook_engine_fault_str(hook_engine_fault f)
{
	static const char *const names[] = {
	    "none",	   "retry",	   "fatal",	"ip-in-use",	    "token-mismatch",
	    "subnet-full", "attach-limit", "not-found", "no-active-action", "eni-in-use"};
	return hk_name_of(names, HK_ARRAY_LEN(names), f, "unknown");
}

void hook_engine_timing_scaled(unsigned heartbeat_s, unsigned global_s, unsigned margin_cfg_ms,
			       double scale, hook_engine_timing *t)
{
	if (!(scale > 0.0) || scale > 1000.0)
		scale = 1.0;
	int64_t hb_aws = (int64_t)(heartbeat_s ? heartbeat_s : 3600) * 1000;
	int64_t global_aws = global_s ? (int64_t)global_s * 1000 : 100 * hb_aws;
	if (global_aws > (int64_t)48 * 3600 * 1000)
		global_aws = (int64_t)48 * 3600 * 1000;
	int64_t hb = (int64_t)((double)hb_aws * scale + 0.5);
	int64_t global = (int64_t)((double)global_aws * scale + 0.5);
	if (hb < 40)
		hb = 40;
	if (global < hb)
		global = hb;
	int64_t margin = margin_cfg_ms;
	if (margin > hb / 4)
		margin = hb / 4;
	int64_t gmargin = margin_cfg_ms;
	if (gmargin > global / 4)
		gmargin = global / 4;
	int64_t interval = hb / 2;
	if (hb - (int64_t)margin_cfg_ms < interval)
		interval = hb - (int64_t)margin_cfg_ms;
	if (interval < hb / 4)
		interval = hb / 4;
	t->heartbeat_ms = hb;
	t->global_ms = global;
	t->margin_ms = margin;
	t->global_margin_ms = gmargin;
	t->interval_ms = interval;
}

void hook_engine_timing_make(unsigned heartbeat_s, unsigned global_s, unsigned margin_cfg_ms,
			     hook_engine_timing *t)
{
	hook_engine_timing_scaled(heartbeat_s, global_s, margin_cfg_ms, 1.0, t);
}

int64_t hook_engine_keep_deadline(hook_engine_timing *t, int64_t created_ms, int64_t stored_ms,
				  unsigned margin_cfg_ms)
{
	if (stored_ms <= created_ms)
		return created_ms + t->global_ms;
	int64_t global = stored_ms - created_ms;
	int64_t gmargin = margin_cfg_ms;
	if (gmargin > global / 4)
		gmargin = global / 4;
	t->global_ms = global;
	t->global_margin_ms = gmargin;
	return stored_ms;
}

int64_t hook_engine_giveup_ms(const hook_engine_timing *t, int64_t started_ms, int64_t last_beat_ms)
{
	int64_t g = started_ms + t->global_ms - t->global_margin_ms;
	int64_t h = (last_beat_ms > started_ms ? last_beat_ms : started_ms) + t->heartbeat_ms -
		    t->margin_ms;
	return g < h ? g : h;
}

const char *hook_engine_pick_subnet(const hook_network *net, const char *az,
				    const ec2_subnet *subnets, size_t n_subnets)
{
	if (!az)
		return NULL;
	if (net->n_subnet_ids) {
		for (size_t i = 0; i < net->n_subnet_ids; i++)
			if (net->subnet_ids[i].key && strcmp(net->subnet_ids[i].key, az) == 0)
				return net->subnet_ids[i].value;
		return NULL;
	}
	const char *best = NULL;
	for (size_t i = 0; i < n_subnets; i++) {
		const ec2_subnet *s = &subnets[i];
		if (!s->subnet_id || !s->az || strcmp(s->az, az) != 0)
			continue;
		if (s->state && strcmp(s->state, "available") != 0)
			continue;
		if (!best || strcmp(s->subnet_id, best) < 0)
			best = s->subnet_id;
	}
	return best;
}

hk_err hook_engine_parse_pod_range(const char *s, cidr_range *ret)
{
	if (!s)
		return HK_ERR_INVALID;
	return cidr_parse_range(s, CIDR_PARSE_BARE, ret, NULL);
}

static void mark_prefix_str(cidr_pool *v4, cidr_pool *v6, const char *s, unsigned flags)
{
	cidr_prefix pf;
	if (!s || cidr_parse_prefix(s, flags, &pf, NULL) != HK_OK)
		return;
	cidr_pool *cp = pf.addr.family == CIDR_V4 ? v4 : v6;
	if (cp && cidr_prefix_contains_prefix(cidr_pool_subnet(cp), &pf))
		ENG_IGNORE(cidr_pool_mark_used(cp, &pf, NULL));
}

void hook_engine_pool_fill(cidr_pool *v4, cidr_pool *v6, const hook_network *net,
			   const ec2_describe_network_interfaces_out *enis,
			   const ec2_get_subnet_cidr_reservations_out *resv)
{
	if (v4)
		ENG_IGNORE(cidr_pool_reset_used(v4));
	if (v6)
		ENG_IGNORE(cidr_pool_reset_used(v6));
	/* reservations */
	if (v4)
		ENG_IGNORE(cidr_pool_clear_reservations(v4));
	if (v6)
		ENG_IGNORE(cidr_pool_clear_reservations(v6));
	for (size_t i = 0; resv && i < resv->n_reservations; i++) {
		const ec2_cidr_reservation *r = &resv->reservations[i];
		cidr_prefix pf;
		if (!r->cidr || cidr_parse_prefix(r->cidr, CIDR_PARSE_NORMALIZE | CIDR_PARSE_BARE,
						  &pf, NULL) != HK_OK)
			continue;
		cidr_pool *cp = pf.addr.family == CIDR_V4 ? v4 : v6;
		if (!cp || !cidr_prefix_contains_prefix(cidr_pool_subnet(cp), &pf))
			continue;
		ENG_IGNORE(cidr_pool_reserve(cp, &pf,
					     r->type == EC2_RESERVATION_PREFIX ? CIDR_RESV_PREFIX
									       : CIDR_RESV_EXPLICIT,
					     NULL));
	}
	/* pod ranges of the network, those inside this subnet */
	if (net) {
		cidr_range r4[64], r6[64];
		size_t n4 = 0, n6 = 0;
		for (size_t i = 0; i < net->n_pod_ranges; i++) {
			cidr_range r;
			if (hook_engine_parse_pod_range(net->pod_ranges[i], &r) != HK_OK)
				continue;
			cidr_pool *cp = r.first.family == CIDR_V4 ? v4 : v6;
			if (!cp)
				continue;
			const cidr_prefix *sn = cidr_pool_subnet(cp);
			if (!cidr_prefix_contains(sn, &r.first) ||
			    !cidr_prefix_contains(sn, &r.last))
				continue;
			if (r.first.family == CIDR_V4 && n4 < HK_ARRAY_LEN(r4))
				r4[n4++] = r;
			else if (r.first.family == CIDR_V6 && n6 < HK_ARRAY_LEN(r6))
				r6[n6++] = r;
		}
		if (v4)
			ENG_IGNORE(cidr_pool_set_pod_range(v4, r4, n4, NULL));
		if (v6)
			ENG_IGNORE(cidr_pool_set_pod_range(v6, r6, n6, NULL));
	}
	/* everything EC2 reports in use */
	for (size_t i = 0; enis && i < enis->n_enis; i++) {
		const ec2_eni *ni = &enis->enis[i];
		for (size_t j = 0; j < ni->n_private_ips; j++)
			mark_prefix_str(v4, v6, ni->private_ips[j].address, CIDR_PARSE_BARE);
		if (ni->private_ip)
			mark_prefix_str(v4, v6, ni->private_ip, CIDR_PARSE_BARE);
		for (size_t j = 0; j < ni->n_ipv6_addresses; j++)
			mark_prefix_str(v4, v6, ni->ipv6_addresses[j], CIDR_PARSE_BARE);
		for (size_t j = 0; j < ni->n_ipv4_prefixes; j++)
			mark_prefix_str(v4, v6, ni->ipv4_prefixes[j], CIDR_PARSE_NORMALIZE);
		for (size_t j = 0; j < ni->n_ipv6_prefixes; j++)
			mark_prefix_str(v4, v6, ni->ipv6_prefixes[j], CIDR_PARSE_NORMALIZE);
	}
}

bool hook_engine_range_covered(const cidr_range *r, const cidr_prefix *resv, size_t n_resv)
{
	cidr_u128 cur = cidr_addr_to_u128(&r->first);
	cidr_u128 last = cidr_addr_to_u128(&r->last);
	for (;;) {
		/* the reservation holding `cur` that reaches farthest */
		bool found = false;
		cidr_u128 reach = 0;
		for (size_t i = 0; i < n_resv; i++) {
			if (resv[i].addr.family != r->first.family)
				continue;
			cidr_addr lo = cidr_prefix_first(&resv[i]);
			cidr_addr hi = cidr_prefix_last(&resv[i]);
			cidr_u128 l = cidr_addr_to_u128(&lo), h = cidr_addr_to_u128(&hi);
			if (l <= cur && cur <= h && (!found || h > reach)) {
				found = true;
				reach = h;
			}
		}
		if (!found)
			return false;
		if (reach >= last)
			return true;
		cur = reach + 1;
	}
}

size_t hook_engine_dhcp_uncovered(const cidr_prefix *subnet, const cidr_range *ranges, size_t n,
				  const cidr_prefix *resv, size_t n_resv, bool *uncovered)
{
	size_t bad = 0;
	cidr_addr sf = cidr_prefix_first(subnet), sl = cidr_prefix_last(subnet);
	cidr_u128 s_lo = cidr_addr_to_u128(&sf), s_hi = cidr_addr_to_u128(&sl);
	for (size_t i = 0; i < n; i++) {
		uncovered[i] = false;
		if (ranges[i].first.family != subnet->addr.family)
			continue;
		cidr_u128 lo = cidr_addr_to_u128(&ranges[i].first);
		cidr_u128 hi = cidr_addr_to_u128(&ranges[i].last);
		if (hi < s_lo || lo > s_hi)
			continue; /* another AZ's subnet */
		cidr_range part = {.first = cidr_addr_from_u128((cidr_family)subnet->addr.family,
								lo > s_lo ? lo : s_lo),
				   .last = cidr_addr_from_u128((cidr_family)subnet->addr.family,
							       hi < s_hi ? hi : s_hi)};
		if (!hook_engine_range_covered(&part, resv, n_resv)) {
			uncovered[i] = true;
			bad++;
		}
	}
	return bad;
}

/* ---- one instance, one plan -------------------------------------------- */

bool hook_engine_same_episode(const hook_action *a, const hook_action *b)
{
	return a->transition == b->transition && strcmp(a->instance_id, b->instance_id) == 0 &&
	       strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "") == 0 &&
	       strcmp(a->destination ? a->destination : "", b->destination ? b->destination : "") ==
		   0;
}

hook_engine_verdict hook_engine_sibling_verdict(const hook_action *self, const hook_action *others,
						size_t n, int64_t *ret_by)
{
	if (self->transition != HOOK_TRANSITION_LAUNCHING)
		return ENG_VERDICT_RUN;
	for (size_t i = 0; i < n; i++) {
		const hook_action *o = &others[i];
		if (o->id == self->id || strcmp(o->instance_id, self->instance_id) != 0)
			continue;
		/* An instance going back to the warm pool comes out again with
		 * a new launch; any other terminate is final. */
		if (o->transition == HOOK_TRANSITION_TERMINATING &&
		    strcmp(o->destination ? o->destination : "", "WarmPool") != 0) {
			if (ret_by)
				*ret_by = o->id;
			return ENG_VERDICT_LEAVING;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const hook_action *o = &others[i];
		if (o->id == self->id || !hook_engine_same_episode(self, o))
			continue;
		if (o->state == HOOK_ACTION_DONE &&
		    hook_result_of(o->result) == HOOK_RESULT_ABANDON) {
			if (ret_by)
				*ret_by = o->id;
			return ENG_VERDICT_ABANDONED;
		}
	}
	return ENG_VERDICT_RUN;
}

bool eng_is_reconcile(const eng_action *a)
{
	return a->rec.source && strcmp(a->rec.source, HOOK_SOURCE_RECONCILE) == 0;
}
