/* The Multus subnets as AWS sees them now: for every node group and network
 * of a configuration, the subnet the engine would pick in each availability
 * zone, what is in use there, its reservations, and the addresses the next
 * workers would get. The operator commands `plan --live`, `status` and
 * `reserve --list` print it (docs/operations.md).
 *
 * A short-lived event loop of its own drives the asynchronous AWS client: the
 * survey is a command, not the daemon, so it may wait. The pools are filled by
 * the engine's own rule (hook_engine_pool_fill), so the answer is the
 * engine's; only the addresses a running daemon holds for launches in flight
 * (its store) are not seen. */
#include "hook_cli_internal.h"
#include "hk_util.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "awsclient.h"
#include "hook_engine.h"

#define LIVE_CALL_S 30 /* retry window of each AWS call */

typedef struct live_run {
	cli_aws aws;
	hook_live *out;
} live_run;

/* ---- the commands' AWS runner (hook_cli_internal.h) ---- */

hk_err cli_aws_open(cli_aws *a, const hook_config *cfg, char *err, size_t err_len)
{
	memset(a, 0, sizeof(*a));
	a->opts.idempotent = true;
	a->base = event_base_new();
	if (!a->base || hook_aws_client_new(a->base, cfg, &a->c) != HK_OK) {
		snprintf(err, err_len,
			 "cannot create the AWS client (check aws.region and aws.endpoints, or "
			 "AWS_REGION)");
		return HK_ERR_INVALID;
	}
	cli_aws_arm(a);
	return HK_OK;
}

void cli_aws_close(cli_aws *a)
{
	awsclient_free(a->c);
	if (a->base)
		event_base_free(a->base);
	memset(a, 0, sizeof(*a));
}

void cli_aws_arm(cli_aws *a)
{
	a->opts.deadline_us = awc_now_us() + (uint64_t)LIVE_CALL_S * 1000000u;
}

void cli_aws_done(cli_aws *a)
{
	if (--a->pending == 0)
		event_base_loopbreak(a->base);
}

hk_err cli_aws_wait(cli_aws *a)
{
	while (a->pending) {
		int rc = event_base_loop(a->base, EVLOOP_ONCE);
		if (rc < 0 || (rc == 1 && a->pending))
			return HK_ERR_INTERNAL; /* nothing left that could answer */
	}
	return HK_OK;
}

void cli_aws_why(char *out, size_t size, const char *call, const awc_result *res, hk_err err)
{
	snprintf(out, size, "%s: %s%s%s", call,
		 res && res->aws_code ? res->aws_code : hk_err_str(res ? res->err : err),
		 res && res->aws_message ? ": " : "",
		 res && res->aws_message ? res->aws_message : "");
}

/* One DescribeSubnets of a network (phase 1). */
typedef struct live_net_q {
	live_run *run;
	const hook_node_group *group;
	const hook_network *net;
} live_net_q;

static void set_why(hook_live_subnet *s, hk_err err, const char *call, const awc_result *res)
{
	s->err = err ? err : HK_ERR_INTERNAL;
	if (!s->why[0])
		cli_aws_why(s->why, sizeof(s->why), call, res, s->err);
}

static hook_live_subnet *live_add(hook_live *l)
{
	hook_live_subnet *v = hk_grow(l->v, l->n, &l->cap, sizeof(*v), 16);
	if (!v)
		return NULL;
	l->v = v;
	hook_live_subnet *s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	return s;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void add_subnet(live_run *r, const live_net_q *q, const char *az, const ec2_subnet *sn,
		       const char *id)
{
	hook_live_subnet *s = live_add(r->out);
	if (!s)
		return;
	s->group = q->group;
	s->net = q->net;
	s->az = dup_or_null(az);
	s->subnet_id = dup_or_null(id);
	if (sn) {
		s->cidr = dup_or_null(sn->cidr);
		for (size_t i = 0; i < sn->n_ipv6_cidrs && !s->ipv6_cidr; i++)
			if (!sn->ipv6_cidrs[i].state ||
			    strcmp(sn->ipv6_cidrs[i].state, "associated") == 0)
				s->ipv6_cidr = dup_or_null(sn->ipv6_cidrs[i].cidr);
	} else {
		s->err = HK_ERR_NOT_FOUND;
		snprintf(s->why, sizeof(s->why), "DescribeSubnets: %s not found", id ? id : "?");
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void subnets_cb(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	live_net_q *q = arg;
	live_run *r = q->run;
	if (res->err) {
		hook_live_subnet *s = live_add(r->out);
		if (s) {
			s->group = q->group;
			s->net = q->net;
			set_why(s, res->err, "DescribeSubnets", res);
		}
	} else if (q->net->n_subnet_ids) {
		for (size_t i = 0; i < q->net->n_subnet_ids; i++) {
			const hook_kv *kv = &q->net->subnet_ids[i];
			const ec2_subnet *sn = NULL;
			for (size_t k = 0; k < out->n_subnets && !sn; k++)
				if (out->subnets[k].subnet_id &&
				    strcmp(out->subnets[k].subnet_id, kv->value) == 0)
					sn = &out->subnets[k];
			add_subnet(r, q, kv->key, sn, kv->value);
		}
	} else {
		/* every AZ the tagged subnets are in, sorted, one pick each */
		const char **azs = calloc(out->n_subnets + 1, sizeof(*azs));
		size_t n = 0;
		for (size_t k = 0; azs && k < out->n_subnets; k++) {
			const char *az = out->subnets[k].az;
			bool seen = !az;
			for (size_t j = 0; j < n && !seen; j++)
				seen = strcmp(azs[j], az) == 0;
			if (!seen)
				azs[n++] = az;
		}
		if (azs)
			qsort(azs, n, sizeof(*azs), cmp_str);
		for (size_t j = 0; j < n; j++) {
			const char *id =
			    hook_engine_pick_subnet(q->net, azs[j], out->subnets, out->n_subnets);
			const ec2_subnet *sn = NULL;
			for (size_t k = 0; id && k < out->n_subnets && !sn; k++)
				if (out->subnets[k].subnet_id &&
				    strcmp(out->subnets[k].subnet_id, id) == 0)
					sn = &out->subnets[k];
			if (sn)
				add_subnet(r, q, azs[j], sn, id);
		}
		free(azs);
	}
	cli_aws_done(&r->aws);
}

static void part_fail(hook_live_subnet *s, const char *call, const awc_result *res)
{
	set_why(s, res->err, call, res);
}

static void part_done(hook_live_subnet *s)
{
	cli_aws_done(&s->run->aws);
}

AWSCALLS_KEEP_CB(enis_cb, ec2_describe_network_interfaces_out, hook_live_subnet, enis,
		 "DescribeNetworkInterfaces", part_fail, part_done)
AWSCALLS_KEEP_CB(resv_cb, ec2_get_subnet_cidr_reservations_out, hook_live_subnet, resv,
		 "GetSubnetCidrReservations", part_fail, part_done)

static void start_network(live_run *r, live_net_q *q)
{
	ec2_filter fl[33];
	const char *vals[33];
	char keys[33][160];
	size_t nf = 0;
	const char *ids[64];
	size_t n_ids = 0;
	for (size_t k = 0; k < q->net->n_subnet_ids && n_ids < HK_ARRAY_LEN(ids); k++)
		ids[n_ids++] = q->net->subnet_ids[k].value;
	for (size_t k = 0; !n_ids && k < q->net->n_subnet_tags && nf < 32; k++) {
		snprintf(keys[nf], sizeof(keys[nf]), "tag:%s", q->net->subnet_tags[k].key);
		vals[nf] = q->net->subnet_tags[k].value;
		fl[nf] = (ec2_filter){.name = keys[nf], .values = &vals[nf], .n_values = 1};
		nf++;
	}
	ec2_describe_subnets_req req = {
	    .subnet_ids = ids, .n_subnet_ids = n_ids, .filters = fl, .n_filters = nf};
	r->aws.pending++;
	if (ec2_describe_subnets(r->aws.c, &req, subnets_cb, q, &r->aws.opts) != HK_OK) {
		r->aws.pending--;
		hook_live_subnet *s = live_add(r->out);
		if (s) {
			s->group = q->group;
			s->net = q->net;
			set_why(s, HK_ERR_NOMEM, "DescribeSubnets", NULL);
		}
	}
}

static void start_subnet(live_run *r, hook_live_subnet *s)
{
	s->run = r;
	const char *vals[1] = {s->subnet_id};
	ec2_filter f = {.name = "subnet-id", .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req dreq = {.filters = &f, .n_filters = 1};
	ec2_get_subnet_cidr_reservations_req rreq = {.subnet_id = s->subnet_id};
	r->aws.pending++;
	if (ec2_describe_network_interfaces(r->aws.c, &dreq, enis_cb, s, &r->aws.opts) != HK_OK) {
		r->aws.pending--;
		set_why(s, HK_ERR_NOMEM, "DescribeNetworkInterfaces", NULL);
	}
	r->aws.pending++;
	if (ec2_get_subnet_cidr_reservations(r->aws.c, &rreq, resv_cb, s, &r->aws.opts) != HK_OK) {
		r->aws.pending--;
		set_why(s, HK_ERR_NOMEM, "GetSubnetCidrReservations", NULL);
	}
}

/* Pools, counts and the next addresses of one surveyed subnet. */
static void compute(hook_live_subnet *s, unsigned count)
{
	cidr_prefix pf;
	hk_errinfo ei = {0};
	if (!s->cidr || cidr_parse_prefix(s->cidr, CIDR_PARSE_NORMALIZE, &pf, &ei) != HK_OK ||
	    cidr_pool_new(&pf, &s->v4, &ei) != HK_OK) {
		s->err = HK_ERR_INVALID;
		snprintf(s->why, sizeof(s->why), "subnet %s: no usable IPv4 CIDR (%s)",
			 s->subnet_id, s->cidr ? s->cidr : "none");
		return;
	}
	if (s->ipv6_cidr &&
	    cidr_parse_prefix(s->ipv6_cidr, CIDR_PARSE_NORMALIZE, &pf, NULL) == HK_OK)
		if (cidr_pool_new(&pf, &s->v6, NULL) != HK_OK)
			s->v6 = NULL;
	hook_engine_pool_fill(s->v4, s->v6, s->net, s->enis, s->resv);
	cidr_pool_stats_get(s->v4, &s->stats);
	if (s->net->ip_mode != HOOK_IP_FIRST_FREE || count == 0)
		return;
	s->next = calloc(count, sizeof(*s->next));
	if (!s->next)
		return;
	hk_err e = cidr_pool_alloc(s->v4, count, s->next);
	if (e == HK_OK)
		s->n_next = count;
	else if (e == HK_ERR_FULL)
		s->full = true;
	if (s->v6 && s->net->ipv6 == HOOK_IPV6_FIRST_FREE) {
		s->next6 = calloc(count, sizeof(*s->next6));
		if (s->next6 && cidr_pool_alloc(s->v6, count, s->next6) == HK_OK)
			s->n_next6 = count;
	}
	s->have_tail = cidr_pool_tail_free_range(s->v4, &s->tail) == HK_OK;
}

hk_err hook_live_survey(const hook_config *cfg, const hook_live_opts *o, hook_live *ret, char *err,
			size_t err_len)
{
	memset(ret, 0, sizeof(*ret));
	live_run r = {.out = ret};
	live_net_q *qs = NULL;
	size_t nq = 0;
	hk_err st = cli_aws_open(&r.aws, cfg, err, err_len);
	if (st)
		goto out;
	for (size_t g = 0; g < cfg->n_groups; g++)
		nq += cfg->groups[g].n_networks;
	qs = calloc(nq ? nq : 1, sizeof(*qs));
	if (!qs) {
		st = HK_ERR_NOMEM;
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	size_t k = 0;
	for (size_t g = 0; g < cfg->n_groups; g++) {
		const hook_node_group *grp = &cfg->groups[g];
		if (o->group && strcmp(o->group, grp->name) != 0)
			continue;
		for (size_t i = 0; i < grp->n_networks; i++) {
			qs[k] = (live_net_q){.run = &r, .group = grp, .net = &grp->networks[i]};
			start_network(&r, &qs[k++]);
		}
	}
	if ((st = cli_aws_wait(&r.aws)) != HK_OK)
		goto stuck;
	/* the chosen subnets, in configuration order (group, network, AZ) */
	hook_live_subnet *v = ret->v;
	for (size_t i = 0; i < ret->n; i++) {
		bool keep =
		    !v[i].err && (!o->subnet_id || strcmp(o->subnet_id, v[i].subnet_id) == 0);
		if (keep)
			start_subnet(&r, &v[i]);
	}
	if ((st = cli_aws_wait(&r.aws)) != HK_OK)
		goto stuck;
	for (size_t i = 0; i < ret->n; i++)
		if (!v[i].err && (!o->subnet_id || strcmp(o->subnet_id, v[i].subnet_id) == 0))
			compute(&v[i], o->count);
	goto out;
stuck:
	snprintf(err, err_len, "the AWS client stopped answering");
out:
	cli_aws_close(&r.aws);
	free(qs);
	/* keep only what was asked for */
	if (st == HK_OK && o->subnet_id) {
		size_t w = 0;
		for (size_t i = 0; i < ret->n; i++) {
			hook_live_subnet *s = &ret->v[i];
			if (s->subnet_id && strcmp(s->subnet_id, o->subnet_id) == 0)
				ret->v[w++] = *s;
			else
				hook_live_subnet_cleanup(s);
		}
		ret->n = w;
	}
	if (st != HK_OK)
		hook_live_free(ret);
	return st;
}

void hook_live_subnet_cleanup(hook_live_subnet *s)
{
	free(s->az);
	free(s->subnet_id);
	free(s->cidr);
	free(s->ipv6_cidr);
	free(s->next);
	free(s->next6);
	cidr_pool_free(s->v4);
	cidr_pool_free(s->v6);
	awscalls_free(s->enis);
	awscalls_free(s->resv);
	memset(s, 0, sizeof(*s));
}

void hook_live_free(hook_live *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		hook_live_subnet_cleanup(&l->v[i]);
	if (l) {
		free(l->v);
		memset(l, 0, sizeof(*l));
	}
}

bool hook_live_failed(const hook_live *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].err)
			return true;
	return false;
}

/* ---- output ------------------------------------------------------------ */

static const char *resv_type(const ec2_cidr_reservation *r)
{
	return r->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit";
}

void hook_live_print_text(FILE *out, const hook_live *l)
{
	cidr_str a, b, c, d, e, f, g;
	if (l->n == 0)
		fprintf(out, "no Multus subnet found for the configured networks (check their "
			     "subnet tags or subnet ids)\n");
	for (size_t i = 0; i < l->n; i++) {
		const hook_live_subnet *s = &l->v[i];
		fprintf(out, "%snode group %s, network %s (device index %u)", i ? "\n" : "",
			s->group->name, s->net->name, s->net->device_index);
		if (s->az)
			fprintf(out, ", %s", s->az);
		if (s->subnet_id)
			fprintf(out, ": subnet %s %s", s->subnet_id, s->cidr ? s->cidr : "");
		fprintf(out, "\n");
		if (s->err) {
			fprintf(out, "  error: %s\n", s->why);
			continue;
		}
		const cidr_pool_stats *st = &s->stats;
		fprintf(out,
			"  %s addresses: %s reserved by AWS, %s in use, %s in explicit "
			"reservations, %s in prefix reservations, %s in pod ranges; %s free\n",
			cidr_u128_str(st->size, &a), cidr_u128_str(st->aws_reserved, &g),
			cidr_u128_str(st->used, &b), cidr_u128_str(st->resv_explicit, &c),
			cidr_u128_str(st->resv_prefix, &d), cidr_u128_str(st->pod, &e),
			cidr_u128_str(st->free, &f));
		if (s->net->ip_mode == HOOK_IP_DHCP)
			fprintf(out, "  workers: EC2 assigns their addresses (dhcp), never from an "
				     "explicit reservation\n");
		else if (s->full)
			fprintf(out, "  workers: no room: fewer free addresses than asked for\n");
		else if (s->n_next) {
			fprintf(out, "  %s:",
				s->n_next == 1 ? "the next worker gets" : "the next workers get");
			for (size_t k = 0; k < s->n_next; k++)
				fprintf(out, " %s", cidr_addr_str(&s->next[k], &a));
			for (size_t k = 0; k < s->n_next6; k++)
				fprintf(out, "%s%s", k ? " " : " (IPv6 ",
					cidr_addr_str(&s->next6[k], &a));
			fprintf(out, "%s\n", s->n_next6 ? ")" : "");
		}
		if (s->have_tail)
			fprintf(out, "  still free at the end of the subnet (room for pods): %s\n",
				cidr_range_str(&s->tail, &a));
		size_t nr = s->resv ? s->resv->n_reservations : 0;
		fprintf(out, "  reservations:%s\n", nr ? "" : " none");
		for (size_t k = 0; k < nr; k++) {
			const ec2_cidr_reservation *r = &s->resv->reservations[k];
			fprintf(out, "    %s %s %s%s%s%s\n",
				r->reservation_id ? r->reservation_id : "", r->cidr ? r->cidr : "",
				resv_type(r), r->description ? " \"" : "",
				r->description ? r->description : "", r->description ? "\"" : "");
		}
	}
}

/* A count: a number for IPv4, a decimal string past what JSON numbers keep. */
static json_t *count_json(cidr_u128 v)
{
	char digits[CIDR_U128_STRLEN];
	if (v <= (cidr_u128)INT64_MAX)
		return json_integer((json_int_t)v);
	if (cidr_format_u128(v, digits, sizeof(digits)) != HK_OK)
		digits[0] = '\0';
	return json_string(digits);
}

static json_t *addrs_json(const cidr_addr *v, size_t n)
{
	json_t *arr = json_array();
	cidr_str a;
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(cidr_addr_str(&v[i], &a)));
	return arr;
}

json_t *hook_live_reservations_json(const hook_live_subnet *s)
{
	json_t *arr = json_array();
	for (size_t k = 0; arr && s->resv && k < s->resv->n_reservations; k++) {
		const ec2_cidr_reservation *r = &s->resv->reservations[k];
		json_array_append_new(
		    arr, json_pack("{s:s?,s:s?,s:s?,s:s,s:s?}", "id", r->reservation_id,
				   "subnet_id", r->subnet_id ? r->subnet_id : s->subnet_id, "cidr",
				   r->cidr, "type", resv_type(r), "description", r->description));
	}
	return arr;
}

json_t *hook_live_json(const hook_live *l)
{
	json_t *arr = json_array();
	cidr_str a;
	for (size_t i = 0; arr && i < l->n; i++) {
		const hook_live_subnet *s = &l->v[i];
		json_t *o = json_pack("{s:s,s:s,s:I,s:s?,s:s?,s:s?,s:s}", "group", s->group->name,
				      "network", s->net->name, "device_index",
				      (json_int_t)s->net->device_index, "az", s->az, "subnet_id",
				      s->subnet_id, "cidr", s->cidr, "ip_mode",
				      s->net->ip_mode == HOOK_IP_DHCP ? "dhcp" : "first_free");
		if (!o)
			continue;
		if (s->err) {
			json_object_set_new(o, "error", json_string(s->why));
			json_array_append_new(arr, o);
			continue;
		}
		const cidr_pool_stats *st = &s->stats;
		json_object_set_new(o, "size", count_json(st->size));
		json_object_set_new(o, "used", count_json(st->used));
		json_object_set_new(o, "reserved_explicit", count_json(st->resv_explicit));
		json_object_set_new(o, "reserved_prefix", count_json(st->resv_prefix));
		json_object_set_new(o, "pod_range", count_json(st->pod));
		json_object_set_new(o, "free", count_json(st->free));
		json_object_set_new(o, "next_addresses", addrs_json(s->next, s->n_next));
		if (s->n_next6)
			json_object_set_new(o, "next_ipv6_addresses",
					    addrs_json(s->next6, s->n_next6));
		json_object_set_new(o, "tail_free_range",
				    s->have_tail ? json_string(cidr_range_str(&s->tail, &a))
						 : json_null());
		json_object_set_new(o, "reservations", hook_live_reservations_json(s));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- plan --live ----------------------------------------------------------- */

hk_err hook_cli_load_config(const char *cmd, const char *path, hook_config **ret)
{
	hook_problems probs = {0};
	hk_err err = hook_config_load(path, HOOK_CONFIG_NO_FILES, ret, &probs);
	if (!err && (*ret)->admin_auth.kind != HOOK_AUTH_NONE) {
		/* the admin API wants its credential: read the secret files too */
		hook_config_free(*ret);
		*ret = NULL;
		hook_problems_cleanup(&probs);
		err = hook_config_load(path, 0, ret, &probs);
	}
	if (err) {
		for (size_t i = 0; i < probs.n; i++)
			if (probs.msgs[i])
				fprintf(stderr, "multus-hookd %s: %s\n", cmd, probs.msgs[i]);
		if (!probs.n)
			fprintf(stderr, "multus-hookd %s: %s: %s\n", cmd, path, hk_err_str(err));
	}
	hook_problems_cleanup(&probs);
	return err;
}

int hook_live_plan(const char *config_path, unsigned count, bool json)
{
	hook_config *cfg = NULL;
	if (hook_cli_load_config("plan", config_path, &cfg) != HK_OK)
		return 2;
	hook_live live;
	char err[300] = "";
	hook_live_opts o = {.count = count ? count : 1};
	hk_err st = hook_live_survey(cfg, &o, &live, err, sizeof(err));
	int rc = 0;
	if (st != HK_OK) {
		fprintf(stderr, "multus-hookd plan: %s\n", err);
		rc = 1;
	} else {
		if (json) {
			json_t *doc =
			    json_pack("{s:s,s:I,s:o}", "config", config_path, "count",
				      (json_int_t)o.count, "subnets", hook_live_json(&live));
			char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
			if (text)
				printf("%s\n", text);
			free(text);
			json_decref(doc);
		} else {
			hook_live_print_text(stdout, &live);
		}
		rc = hook_live_failed(&live) ? 1 : 0;
		hook_live_free(&live);
	}
	hook_config_free(cfg);
	return rc;
}
