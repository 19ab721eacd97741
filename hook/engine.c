/* The lifecycle engine: the queue and its concurrency bound, the action
 * record (steps in the store), heartbeats, deadlines, completion, and the
 * pure helpers the state machines share. The launch and terminate machines
 * live in engine_launch.c and engine_terminate.c; see docs/engine.md.
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

static const char *const step_names[ENG_STEP__COUNT] = {
    [ENG_STEP_NONE] = "",
    [ENG_STEP_HOOK] = "describe-hook",
    [ENG_STEP_INSTANCE] = "describe-instance",
    [ENG_STEP_ADOPT] = "adopt",
    [ENG_STEP_SUBNETS] = "subnets",
    [ENG_STEP_CAPACITY] = "capacity",
    [ENG_STEP_ENIS] = "enis",
    [ENG_STEP_CLEANUP] = "cleanup",
    [ENG_STEP_COMPLETE] = "complete",
    [ENG_STEP_DONE] = "done",
    [ENG_STEP_T_FIND] = "find-enis",
    [ENG_STEP_T_DETACH] = "detach-delete",
};

const char *hook_engine_step_str(hook_engine_step s)
{
	if ((unsigned)s >= ENG_STEP__COUNT)
		return "";
	return step_names[s];
}

hook_engine_step hook_engine_step_parse(const char *s)
{
	if (!s)
		return ENG_STEP_NONE;
	for (unsigned i = 1; i < ENG_STEP__COUNT; i++)
		if (strcmp(s, step_names[i]) == 0)
			return (hook_engine_step)i;
	return ENG_STEP_NONE;
}

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

static const char *const eni_state_names[ENG_ENI__COUNT] = {
    [ENG_ENI_NONE] = "",
    [ENG_ENI_PLANNED] = "planned",
    [ENG_ENI_CREATED] = "created",
    [ENG_ENI_ATTACHED] = "attached",
    [ENG_ENI_CONFIGURED] = "configured",
    [ENG_ENI_DELETED] = "deleted",
};

const char *hook_eni_state_str(hook_eni_state s)
{
	if ((unsigned)s >= ENG_ENI__COUNT)
		return "";
	return eni_state_names[s];
}

hook_eni_state hook_eni_state_parse(const char *s)
{
	if (!s)
		return ENG_ENI_NONE;
	for (unsigned i = 1; i < ENG_ENI__COUNT; i++)
		if (strcmp(s, eni_state_names[i]) == 0)
			return (hook_eni_state)i;
	return ENG_ENI_NONE;
}

hook_engine_fault hook_engine_classify(hk_err err, const char *code)
{
	if (err == HK_OK)
		return ENG_FAULT_NONE;
	if (code) {
		if (strcmp(code, "InvalidIPAddress.InUse") == 0)
			return ENG_FAULT_IP_IN_USE;
		if (strcmp(code, "IdempotentParameterMismatch") == 0)
			return ENG_FAULT_TOKEN_MISMATCH;
		if (strcmp(code, "InsufficientFreeAddressesInSubnet") == 0)
			return ENG_FAULT_SUBNET_FULL;
		if (strcmp(code, "AttachmentLimitExceeded") == 0)
			return ENG_FAULT_ATTACH_LIMIT;
		if (strcmp(code, "InvalidNetworkInterfaceID.NotFound") == 0 ||
		    strcmp(code, "InvalidAttachmentID.NotFound") == 0 ||
		    strcmp(code, "InvalidInstanceID.NotFound") == 0 ||
		    strcmp(code, "InvalidNetworkInterface.NotFound") == 0)
			return ENG_FAULT_NOT_FOUND;
		if (strcmp(code, "ValidationError") == 0)
			return ENG_FAULT_NO_ACTIVE_ACTION;
		if (strcmp(code, "InvalidNetworkInterface.InUse") == 0)
			return ENG_FAULT_ENI_IN_USE;
		if (strcmp(code, "IncorrectState") == 0 ||
		    strcmp(code, "IncorrectInstanceState") == 0)
			return ENG_FAULT_FATAL;
	}
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
	if ((unsigned)f >= HK_ARRAY_LEN(names))
		return "unknown";
	return names[f];
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

/* ---- single-flight cache slots ---------------------------------------- */

eng_sf_next eng_sf_join(eng_sf *f, void *waiter, int64_t now_ms, int64_t ttl_ms)
{
	if (f->have && now_ms >= f->fetched_ms && now_ms - f->fetched_ms < ttl_ms)
		return ENG_SF_HIT;
	if (f->n_waiters >= ENG_SF_MAX_WAITERS)
		return ENG_SF_ALONE;
	if (f->n_waiters == f->cap_waiters) {
		size_t nc = f->cap_waiters ? f->cap_waiters * 2 : 8;
		if (nc > ENG_SF_MAX_WAITERS)
			nc = ENG_SF_MAX_WAITERS;
		void **v = realloc(f->waiters, nc * sizeof(*v));
		if (!v)
			return ENG_SF_ALONE;
		f->waiters = v;
		f->cap_waiters = nc;
	}
	f->waiters[f->n_waiters++] = waiter;
	if (f->inflight)
		return ENG_SF_WAIT;
	f->inflight = true;
	return ENG_SF_FETCH;
}

void eng_sf_done(eng_sf *f, bool ok, int64_t now_ms)
{
	f->inflight = false;
	if (ok) {
		f->have = true;
		f->fetched_ms = now_ms;
	}
}

size_t eng_sf_take(eng_sf *f, void ***ret)
{
	size_t n = f->n_waiters;
	*ret = n ? f->waiters : NULL;
	if (!n)
		free(f->waiters);
	f->waiters = NULL;
	f->n_waiters = f->cap_waiters = 0;
	return n;
}

void eng_sf_forget(eng_sf *f)
{
	f->have = false;
}

void eng_sf_clear(eng_sf *f)
{
	free(f->waiters);
	f->waiters = NULL;
	f->n_waiters = f->cap_waiters = 0;
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
		if (o->state == HOOK_ACTION_DONE && o->result &&
		    strcmp(o->result, "ABANDON") == 0) {
			if (ret_by)
				*ret_by = o->id;
			return ENG_VERDICT_ABANDONED;
		}
	}
	return ENG_VERDICT_RUN;
}

/* ======================================================================
 * Engine services
 * ====================================================================== */

char *eng_strdup(const char *s)
{
	return strdup(s ? s : "");
}

static void free_victims(eng_action *a)
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

static void action_free(eng_action *a)
{
	if (!a)
		return;
	if (a->beat_ev)
		event_free(a->beat_ev);
	if (a->giveup_ev)
		event_free(a->giveup_ev);
	if (a->retry_ev)
		event_free(a->retry_ev);
	free_slots(a);
	free_victims(a);
	free(a->cl);
	free(a->az);
	free(a->instance_type);
	awscalls_free(a->inst);
	hook_action_cleanup(&a->rec);
	free(a);
}

static void base_fields(eng_action *a, json_t *f)
{
	char tp[12];
	hook_token_prefix(a->rec.token, tp);
	json_object_set_new(f, "action_id", json_integer((json_int_t)a->rec.id));
	json_object_set_new(f, "instance", json_string(a->rec.instance_id));
	json_object_set_new(f, "step", json_string(hook_engine_step_str(a->step)));
	json_object_set_new(f, "group", json_string(a->rec.asg));
	json_object_set_new(f, "token", json_string(tp));
}

static void eng_log(eng_action *a, hook_log_level lvl, const char *msg, json_t *extra)
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
	hook_action_update u = {.state = a->failing ? HOOK_ACTION_CLEANUP : HOOK_ACTION_RUNNING,
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
	if (fn && !a->finished)
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

static void pump_soon(hook_eng *e)
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
		if (o != a && o->had_turn && !o->finished &&
		    strcmp(o->rec.instance_id, a->rec.instance_id) == 0)
			return o;
	return NULL;
}

/* true: `a` must wait (parked; `then` runs when it is woken). false: `a` has
 * the turn. */
static bool wait_turn(eng_action *a, void (*then)(eng_action *))
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

static hook_result result_of(const char *s)
{
	return s && strcmp(s, "ABANDON") == 0 ? HOOK_RESULT_ABANDON : HOOK_RESULT_CONTINUE;
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
		if (st == HOOK_ACTION_DONE && result && *result && !w->failing &&
		    hook_engine_same_episode(&w->rec, &done->rec)) {
			json_t *f = json_pack("{s:I,s:s}", "same_as", (json_int_t)done->rec.id,
					      "result", result);
			eng_log(w, HOOK_LOG_INFO,
				"one piece of work: completing with the result of the same "
				"transition's other hook",
				f);
			w->completing = true;
			eng_action_complete(w, result_of(result));
			continue;
		}
		if (then)
			eng_action_after(w, 0, then);
	}
}

static void action_finish(eng_action *a, hook_action_state st, const char *result,
			  const char *last_error)
{
	hook_eng *e = a->eng;
	if (a->finished)
		return;
	a->finished = true;
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
	pump_soon(e);
}

#define ENG_CLEANUP_INCOMPLETE "cleanup incomplete"

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
	const char *res_s = a->rec.result && *a->rec.result ? a->rec.result : "CONTINUE";
	asg_lifecycle_action_req req = {
	    .hook_name = a->rec.hook,
	    .group_name = a->rec.asg,
	    .token = a->rec.token,
	    .instance_id = a->rec.instance_id,
	    .result = strcmp(res_s, "ABANDON") == 0 ? ASG_RESULT_ABANDON : ASG_RESULT_CONTINUE,
	};
	a->complete_tries++;
	a->inflight++;
	hk_err err = asg_complete_lifecycle_action(a->eng->aws, &req, complete_cb, a);
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

static void arm_timers(eng_action *a);

static void complete_cb(const awc_result *res, const asg_empty_out *out, void *arg)
{
	eng_action *a = arg;
	a->inflight--;
	eng_health_from(a->eng, res);
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	const char *result = a->rec.result && *a->rec.result ? a->rec.result : "CONTINUE";
	if (f == ENG_FAULT_NONE) {
		json_t *x = json_pack("{s:s,s:s}", "result", result, "aws_request_id",
				      res->request_id ? res->request_id : "");
		eng_log(a, HOOK_LOG_INFO, "lifecycle action completed", x);
		action_finish(a, HOOK_ACTION_DONE, result,
			      hook_engine_final_error(a->failing && a->rec.transition ==
									HOOK_TRANSITION_LAUNCHING,
						      a->fail_reason, a->rec.last_error));
		return;
	}
	if (f == ENG_FAULT_NO_ACTIVE_ACTION) {
		/* Completed already (a resumed or retried completion), or the
		 * hook timed out: either way nothing is left to complete. */
		eng_log_aws(a, HOOK_LOG_WARN,
			    "no active lifecycle action: already completed or timed out",
			    "CompleteLifecycleAction", res);
		action_finish(a, HOOK_ACTION_DONE, result,
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
		arm_timers(a);
		return;
	}
	eng_log_aws(a, HOOK_LOG_ERROR, "CompleteLifecycleAction failed", "CompleteLifecycleAction",
		    res);
	char why[256];
	snprintf(why, sizeof(why), "CompleteLifecycleAction: %s",
		 res->aws_code ? res->aws_code : hk_err_str(res->err));
	action_finish(a, HOOK_ACTION_FAILED, result, why);
}

void eng_action_complete(eng_action *a, hook_result result)
{
	const char *r = result == HOOK_RESULT_CONTINUE ? "CONTINUE" : "ABANDON";
	free(a->rec.result);
	a->rec.result = strdup(r);
	if (!a->rec.result) {
		action_finish(a, HOOK_ACTION_FAILED, r, "out of memory");
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
	complete_send(a);
}

/* ---- failure and retry ----------------------------------------------- */

static void start_cleanup(eng_action *a);
static void begin(eng_action *a);

/* ---- failure and retry ----------------------------------------------- */

static void begin(eng_action *a);

static void after_cleanup(eng_action *a)
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
		after_cleanup(a);
		return;
	}
	if (wait_turn(a, start_cleanup))
		return;
	if (a->rec.transition == HOOK_TRANSITION_LAUNCHING)
		eng_launch_release(a);
	eng_action_set_step(a, ENG_STEP_CLEANUP);
	if (a->instance_gone && a->rec.transition == HOOK_TRANSITION_LAUNCHING) {
		/* nothing of ours can be attached to a gone instance, but
		 * leftovers may be available: the cleanup finds them by tag */
	}
	eng_cleanup_run(a, after_cleanup);
}

static void restart_now(eng_action *a)
{
	a->restarting = false;
	begin(a);
}

void eng_settle(eng_action *a)
{
	if (a->inflight || a->finished || a->completing)
		return;
	if (a->failing && !a->cleanup_started) {
		a->cleanup_started = true;
		a->restarting = false;
		eng_action_after(a, 0, start_cleanup);
	} else if (a->restarting && !a->failing) {
		eng_action_after(a, a->restart_delay_ms, restart_now);
	}
}

bool eng_enter(eng_action *a)
{
	if (a->inflight)
		a->inflight--;
	if (a->finished)
		return false;
	if (a->failing || a->restarting) {
		eng_settle(a);
		return false;
	}
	return true;
}

void eng_action_fail(eng_action *a, const char *fmt, ...)
{
	if (a->failing || a->completing || a->finished)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->fail_reason, sizeof(a->fail_reason), fmt, ap);
	va_end(ap);
	a->failing = true;
	json_t *f = json_pack("{s:s}", "reason", a->fail_reason);
	eng_log(a, HOOK_LOG_ERROR, "action failed: cleaning up before completing", f);
	a->step = ENG_STEP_CLEANUP;
	eng_action_store_state(a, HOOK_ACTION_CLEANUP, a->fail_reason);
	eng_settle(a);
}

void eng_action_retry_later(eng_action *a, const char *why, unsigned delay_ms)
{
	if (a->failing || a->completing || a->finished || a->restarting)
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
	a->restarting = true;
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

awc_client *eng_aws(eng_action *a)
{
	awc_client *c = a->eng->aws;
	if (a->timing_known) {
		int64_t left_ms = a->giveup_ms - hook_now_ms();
		/* past the give-up: one attempt, no retries */
		uint64_t now_us = awc_now_us();
		awc_client_set_next_deadline(c, left_ms > 0 ? now_us + (uint64_t)left_ms * 1000u
							    : now_us);
	}
	return c;
}

/* ---- heartbeats and the deadline -------------------------------------- */

static void arm_timers(eng_action *a);

static void beat_cb(const awc_result *res, const asg_empty_out *out, void *arg)
{
	eng_action *a = arg;
	/* Heartbeats are not in a->inflight: they never hold back a cleanup,
	 * retry or completion. A finished action waits for its heartbeat in
	 * the zombie list (pump_cb). */
	a->beat_inflight = false;
	eng_health_from(a->eng, res);
	if (a->finished) {
		pump_soon(a->eng);
		return;
	}
	hook_engine_fault f = hook_engine_classify(res->err, res->aws_code);
	if (f == ENG_FAULT_NONE) {
		/* AWS restarted its clock when the request arrived, after we sent it */
		a->last_beat_ms = a->beat_sent_ms;
		if (hook_log_enabled(HOOK_LOG_DEBUG))
			eng_log(a, HOOK_LOG_DEBUG, "heartbeat recorded", NULL);
	} else if (f == ENG_FAULT_NO_ACTIVE_ACTION) {
		eng_log_aws(a, HOOK_LOG_WARN, "heartbeat: lifecycle action no longer active",
			    "RecordLifecycleActionHeartbeat", res);
		eng_action_fail(a, "lifecycle action no longer active (timed out?)");
	} else {
		eng_log_aws(a, HOOK_LOG_WARN, "heartbeat failed", "RecordLifecycleActionHeartbeat",
			    res);
	}
	arm_timers(a);
}

static void beat_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_action *a = arg;
	/* while completing, only between attempts (complete_cb re-arms) */
	if (a->finished || a->beat_inflight || (a->completing && a->inflight))
		return;
	asg_lifecycle_action_req req = {.hook_name = a->rec.hook,
					.group_name = a->rec.asg,
					.token = a->rec.token,
					.instance_id = a->rec.instance_id};
	a->beat_inflight = true;
	a->beat_sent_ms = hook_now_ms();
	/* A heartbeat retried for longer than half an interval is stale: let
	 * it fail, and send a fresh one at the next interval. */
	awc_client_set_next_deadline(a->eng->aws,
				     awc_now_us() + (uint64_t)a->timing.interval_ms * 500u);
	if (asg_record_lifecycle_action_heartbeat(a->eng->aws, &req, beat_cb, a) != HK_OK) {
		awc_client_set_next_deadline(a->eng->aws, 0);
		a->beat_inflight = false;
		eng_log(a, HOOK_LOG_WARN, "cannot send a heartbeat", NULL);
		/* try again at the next interval */
		a->last_beat_ms = hook_now_ms() - a->timing.interval_ms / 2;
		arm_timers(a);
	}
}

static void giveup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_action *a = arg;
	if (a->finished || a->completing || a->failing)
		return;
	/* the deadline may have moved (a heartbeat succeeded meanwhile) */
	if (hook_now_ms() < a->giveup_ms) {
		arm_timers(a);
		return;
	}
	if (hook_now_ms() >= a->rec.created_ms + a->timing.global_ms - a->timing.global_margin_ms)
		eng_action_fail(a, "deadline near: giving up before the lifecycle hook's global "
				   "timeout");
	else
		eng_action_fail(a, "deadline near: giving up before the lifecycle hook's "
				   "heartbeat timeout (no heartbeat succeeded in time)");
}

static void arm_timers(eng_action *a)
{
	if (!a->timing_known || a->finished)
		return;
	hook_eng *e = a->eng;
	int64_t now = hook_now_ms();
	a->giveup_ms = hook_engine_giveup_ms(&a->timing, a->rec.created_ms, a->last_beat_ms);
	if (!a->beat_ev)
		a->beat_ev = evtimer_new(e->base, beat_timer_cb, a);
	if (!a->giveup_ev)
		a->giveup_ev = evtimer_new(e->base, giveup_timer_cb, a);
	struct timeval tv;
	if (a->beat_ev && (!a->completing || !a->inflight)) {
		int64_t base =
		    a->last_beat_ms > a->rec.created_ms ? a->last_beat_ms : a->rec.created_ms;
		tv_ms(&tv, base + a->timing.interval_ms - now);
		evtimer_add(a->beat_ev, &tv);
	}
	if (a->giveup_ev && !a->completing && !a->failing) {
		tv_ms(&tv, a->giveup_ms - now);
		evtimer_add(a->giveup_ev, &tv);
	}
}

/* ---- the hook's timeouts (cached per group + hook) -------------------- */

#define ENG_HOOK_CACHE_MS (10 * 60 * 1000)

static eng_hookinfo *hook_cached(hook_eng *e, const char *asg, const char *hook)
{
	for (size_t i = 0; i < e->n_hooks; i++) {
		eng_hookinfo *h = e->hooks[i];
		if (strcmp(h->asg, asg) == 0 && strcmp(h->hook, hook) == 0)
			return h;
	}
	return NULL;
}

/* The cache entry of group + hook, made when missing (NULL: 4096 entries or
 * no memory; the caller then fetches without the cache). */
static eng_hookinfo *hook_entry(hook_eng *e, const char *asg, const char *hook)
{
	eng_hookinfo *h = hook_cached(e, asg, hook);
	if (h || e->n_hooks >= 4096)
		return h;
	eng_hookinfo **v = realloc(e->hooks, (e->n_hooks + 1) * sizeof(*v));
	if (!v)
		return NULL;
	e->hooks = v;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->eng = e;
	h->asg = strdup(asg);
	h->hook = strdup(hook);
	if (!h->asg || !h->hook) {
		free(h->asg);
		free(h->hook);
		free(h);
		return NULL;
	}
	e->hooks[e->n_hooks++] = h;
	return h;
}

static void hook_cache_free(hook_eng *e)
{
	for (size_t i = 0; i < e->n_hooks; i++) {
		free(e->hooks[i]->asg);
		free(e->hooks[i]->hook);
		eng_sf_clear(&e->hooks[i]->sf);
		free(e->hooks[i]);
	}
	free(e->hooks);
	e->hooks = NULL;
	e->n_hooks = 0;
}

static void set_timing(eng_action *a, unsigned hb, unsigned global)
{
	hook_engine_timing_scaled(hb, global, a->eng->cfg->heartbeat_margin_ms,
				  a->eng->cfg->test_time_scale, &a->timing);
	a->timing_known = true;
	if (!a->last_beat_ms)
		a->last_beat_ms = a->rec.created_ms;
	/* The deadline the first run recorded stays (a resumed action that
	 * could only assume 3600 s must not move it); a new one is recorded. */
	int64_t deadline = hook_engine_keep_deadline(
	    &a->timing, a->rec.created_ms, a->rec.deadline_ms, a->eng->cfg->heartbeat_margin_ms);
	if (deadline != a->rec.deadline_ms) {
		hook_action_update u = {.state =
					    a->failing ? HOOK_ACTION_CLEANUP : HOOK_ACTION_RUNNING,
					.deadline_ms = deadline};
		if (a->completing || a->resume_complete)
			u.state = HOOK_ACTION_COMPLETING;
		if (hook_store_action_update(a->eng->store, a->rec.id, &u) == HK_OK)
			a->rec.deadline_ms = deadline;
	}
	arm_timers(a);
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
	a->completing = true;
	eng_action_complete(a, HOOK_RESULT_ABANDON);
	return true;
}

static void dispatch(eng_action *a)
{
	if (a->resume_complete) {
		/* the work was done before the restart: complete even when
		 * late (AWS answers ValidationError if the action is over) */
		a->resume_complete = false;
		a->completing = true;
		eng_action_complete(a, a->rec.result && strcmp(a->rec.result, "ABANDON") == 0
					   ? HOOK_RESULT_ABANDON
					   : HOOK_RESULT_CONTINUE);
		return;
	}
	if (eng_action_past_giveup(a)) {
		eng_action_fail(a, "deadline already passed at start");
		return;
	}
	if (settled_by_siblings(a))
		return;
	if (wait_turn(a, dispatch))
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
	if (a->finished) {
		(void)eng_enter(a);
		return;
	}
	/* A resumed cleanup (a->failing) cannot retry the description: it goes
	 * on with an assumed timeout, like a permanent failure. */
	bool retry = res->err != HK_OK && !a->failing &&
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
	 * (a->failing), and it needs its heartbeats and give-up time. */
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

/* The single-flight call of a cache entry: every action waiting on it gets
 * the answer, a failure included (each then retries or assumes 3600 s). */
static void hooks_flight_cb(const awc_result *res, const asg_describe_lifecycle_hooks_out *out,
			    void *arg)
{
	eng_hookinfo *h = arg;
	eng_health_from(h->eng, res);
	unsigned hb = 3600, global = 0;
	bool found = res->err == HK_OK && hooks_scan(out, h->hook, &hb, &global);
	if (found) {
		h->heartbeat_s = hb;
		h->global_s = global;
	}
	eng_sf_done(&h->sf, found, hook_now_ms());
	void **w = NULL;
	size_t n = eng_sf_take(&h->sf, &w);
	for (size_t i = 0; i < n; i++)
		hooks_apply(w[i], res, found, hb, global);
	free(w);
}

/* DescribeLifecycleHooks could not even be sent: every waiter goes on with
 * 3600 s (as before the cache was single-flight). */
static void hooks_not_sent(eng_action *a)
{
	a->inflight--;
	set_timing(a, 3600, 0);
	if (a->failing)
		eng_settle(a);
	else
		dispatch(a);
}

/* Start (or restart) an action from its resume point. */
static void begin(eng_action *a)
{
	hook_eng *e = a->eng;
	hook_engine_step s = hook_engine_resume_step(a->rec.state, a->rec.step, a->rec.transition);
	if (a->failing)
		s = a->rec.transition == HOOK_TRANSITION_LAUNCHING ? ENG_STEP_CLEANUP
								   : ENG_STEP_T_FIND;
	if (s == ENG_STEP_DONE) {
		action_finish(a, a->rec.state, a->rec.result, NULL);
		return;
	}
	/* A resumed completion learns the hook's timing first (cache or
	 * DescribeLifecycleHooks): its retries run until the global deadline
	 * and it heartbeats between them. The record stays COMPLETING. */
	a->resume_complete = s == ENG_STEP_COMPLETE && !a->failing;
	if (s == ENG_STEP_CLEANUP && !a->failing) {
		a->resumed_cleanup = true;
		a->failing = true;
		snprintf(a->fail_reason, sizeof(a->fail_reason), "%s",
			 a->rec.last_error && *a->rec.last_error ? a->rec.last_error
								 : "resumed cleanup");
	}
	eng_hookinfo *h = hook_entry(e, a->rec.asg, a->rec.hook);
	eng_sf_next next =
	    h ? eng_sf_join(&h->sf, a, hook_now_ms(), ENG_HOOK_CACHE_MS) : ENG_SF_ALONE;
	if (next == ENG_SF_HIT) {
		set_timing(a, h->heartbeat_s, h->global_s);
		if (a->failing) {
			a->cleanup_started = false;
			eng_settle(a);
			return;
		}
		dispatch(a);
		return;
	}
	if (!a->resume_complete)
		eng_action_set_step(a, ENG_STEP_HOOK);
	a->inflight++;
	if (a->failing) {
		/* resumed cleanup: describe the hook for heartbeats, then clean */
		a->cleanup_started = false;
	}
	if (next == ENG_SF_WAIT)
		return; /* hooks_flight_cb wakes it */
	const char *names[1] = {a->rec.hook};
	asg_describe_lifecycle_hooks_req req = {
	    .group_name = a->rec.asg, .hook_names = names, .n_hook_names = 1};
	hk_err err = next == ENG_SF_FETCH
			 ? asg_describe_lifecycle_hooks(e->aws, &req, hooks_flight_cb, h)
			 : asg_describe_lifecycle_hooks(e->aws, &req, hooks_cb, a);
	if (!err)
		return;
	if (next != ENG_SF_FETCH) {
		hooks_not_sent(a);
		return;
	}
	eng_sf_done(&h->sf, false, hook_now_ms());
	void **w = NULL;
	size_t n = eng_sf_take(&h->sf, &w);
	for (size_t i = 0; i < n; i++)
		hooks_not_sent(w[i]);
	free(w);
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
	a->group = find_group(e->cfg, &a->rec);
	a->next = e->active;
	e->active = a;
	e->n_active++;
	json_t *f = json_pack("{s:s,s:s,s:s,s:s}", "transition",
			      hook_transition_str(a->rec.transition), "origin", a->rec.origin,
			      "destination", a->rec.destination, "resume_from", a->rec.step);
	eng_log(a, HOOK_LOG_INFO, "action started", f);
	if (!a->group && a->rec.transition == HOOK_TRANSITION_LAUNCHING) {
		/* The configuration changed since intake: no networks to give. */
		a->failing = true;
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
		action_free(z);
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
	pump_soon(e);
}

static void op_submit(void *impl, int64_t action_id)
{
	hook_eng *e = impl;
	if (!queue_push(e, action_id)) {
		/* stays PENDING in the store: the next start resumes it */
		json_t *f = json_pack("{s:I}", "action_id", (json_int_t)action_id);
		hook_log_json(HOOK_LOG_ERROR, "out of memory: action left for the next start", f);
		return;
	}
	pump_soon(e);
}

static void op_drain(void *impl, hook_engine_drained_fn done, void *arg)
{
	hook_eng *e = impl;
	e->draining = true;
	e->drained = done;
	e->drained_arg = arg;
	eng_sweep_stop(e);
	json_t *f = json_pack("{s:I,s:I}", "in_flight", (json_int_t)e->n_active, "queued",
			      (json_int_t)e->q_len);
	hook_log_json(HOOK_LOG_INFO, "engine draining (queued actions resume at next start)", f);
	pump_soon(e);
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
	while (e->active) {
		eng_action *a = e->active;
		e->active = a->next;
		action_free(a);
	}
	while (e->zombies) {
		eng_action *z = e->zombies;
		e->zombies = z->next;
		action_free(z);
	}
	eng_alloc_free(e->alloc);
	hook_cache_free(e);
	eng_subnet_cache_free(e);
	eng_type_cache_free(e);
	free(e->queue);
	if (e->pump_ev)
		event_free(e->pump_ev);
	if (e->sweep_ev)
		event_free(e->sweep_ev);
	free(e);
}

static const hook_engine_ops aws_ops = {
    .start_fn = op_start,
    .submit_fn = op_submit,
    .drain_fn = op_drain,
    .free_fn = op_free,
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
	e->cfg = cfg;
	e->store = store;
	e->health = health;
	e->aws = client;
	e->sweep_interval_s = cfg->sweep_interval_s;
	e->pump_ev = event_new(base, -1, 0, pump_cb, e);
	hk_err err = e->pump_ev ? eng_alloc_new(e, &e->alloc) : HK_ERR_NOMEM;
	if (err) {
		op_free(e);
		return err;
	}
	ret->ops = &aws_ops;
	ret->impl = e;
	return HK_OK;
}
