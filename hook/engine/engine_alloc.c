/* The allocator cache: one cidr_pool per subnet (and one for its first IPv6
 * CIDR), fed from DescribeNetworkInterfaces (subnet-id filter: every private
 * IPv4, IPv6 and delegated prefix), GetSubnetCidrReservations (explicit and
 * prefix) and the network's pod ranges, with the addresses this daemon holds
 * (pending in memory, and recorded for unfinished actions in the store) kept
 * out. A picture older than ENG_POOL_MAX_AGE_MS, or marked stale after a
 * conflict or a delete, is refreshed before the next allocation; concurrent
 * launches wait on the one refresh in flight. */
#include "engine_internal.h"
#include "hk_util.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

/* Addresses confirmed recently are re-marked used after a refresh: a Describe
 * that was already under way when the create succeeded may not show them. */
#define ENG_RECENT_MS  60000
#define ENG_RECENT_MAX 4096

typedef struct eng_waiter {
	eng_alloc_ready_fn fn;
	void *arg;
} eng_waiter;

typedef struct eng_recent {
	cidr_addr addr;
	int64_t at_ms;
} eng_recent;

typedef struct eng_pool {
	eng_alloc *al;
	char *subnet_id;
	cidr_pool *v4;
	cidr_pool *v6;
	bool have_cidr;
	bool refreshing;
	bool stale;
	int64_t refreshed_ms;
	unsigned parts_left;
	hk_err part_err;
	char why[200];
	ec2_describe_network_interfaces_out *enis;
	ec2_get_subnet_cidr_reservations_out *resv;
	const hook_network *net; /* valid while a waiter (its action) holds it */
	char *network;		 /* a copy of its name, for the gauges */
	size_t n_resv;		 /* reservations at the last refresh */
	eng_waiter *w;
	size_t n_w, cap_w;
	hk_err notify_err;
	struct event *notify_ev;
	struct event *apply_ev; /* kept results are freed outside their callbacks */
	eng_recent *recent;
	size_t n_recent;
} eng_pool;

/* One dhcp coverage check per subnet (eng_alloc_dhcp_check). */
typedef struct eng_dhcp {
	struct eng_dhcp *next;
	eng_alloc *al;
	hook_config *cfg; /* a reference: net points into it */
	const hook_network *net;
	char *subnet_id;
	char *cidrs[9]; /* the subnet's IPv4 CIDR and IPv6 CIDRs */
	size_t n_cidrs;
	bool done;
} eng_dhcp;

#define ENG_DHCP_MAX 4096 /* subnets remembered as checked */

struct eng_alloc {
	hook_eng *e;
	eng_pool **pools;
	size_t n;
	eng_dhcp *dhcp; /* checks made or in flight (freed with the cache) */
	size_t n_dhcp;
};

hk_err eng_alloc_new(hook_eng *e, eng_alloc **ret)
{
	eng_alloc *al = calloc(1, sizeof(*al));
	if (!al)
		return HK_ERR_NOMEM;
	al->e = e;
	*ret = al;
	return HK_OK;
}

static void pool_free(eng_pool *p)
{
	if (!p)
		return;
	cidr_pool_free(p->v4);
	cidr_pool_free(p->v6);
	awscalls_free(p->enis);
	awscalls_free(p->resv);
	hook_event_free(&p->notify_ev);
	hook_event_free(&p->apply_ev);
	free(p->w);
	free(p->recent);
	free(p->subnet_id);
	free(p->network);
	free(p);
}

void eng_alloc_free(eng_alloc *al)
{
	if (!al)
		return;
	for (size_t i = 0; i < al->n; i++)
		pool_free(al->pools[i]);
	free(al->pools);
	while (al->dhcp) {
		eng_dhcp *d = al->dhcp;
		al->dhcp = d->next;
		hook_config_free(d->cfg);
		free(d->subnet_id);
		for (size_t i = 0; i < d->n_cidrs; i++)
			free(d->cidrs[i]);
		free(d);
	}
	free(al);
}

static eng_pool *pool_find(eng_alloc *al, const char *subnet_id)
{
	for (size_t i = 0; i < al->n; i++)
		if (strcmp(al->pools[i]->subnet_id, subnet_id) == 0)
			return al->pools[i];
	return NULL;
}

static void flush_waiters(eng_pool *p, hk_err err)
{
	/* callers may add waiters while we call: take the list first */
	eng_waiter *w = p->w;
	size_t n = p->n_w;
	p->w = NULL;
	p->n_w = p->cap_w = 0;
	for (size_t i = 0; i < n; i++)
		w[i].fn(err, err ? p->why : NULL, w[i].arg);
	free(w);
}

static void apply_cb(evutil_socket_t fd, short what, void *arg);

static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_pool *p = arg;
	flush_waiters(p, p->notify_err);
}

static eng_pool *pool_get(eng_alloc *al, const char *subnet_id)
{
	eng_pool *p = pool_find(al, subnet_id);
	if (p)
		return p;
	eng_pool **v = realloc(al->pools, (al->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	al->pools = v;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->al = al;
	p->subnet_id = strdup(subnet_id);
	p->notify_ev = event_new(al->e->base, -1, 0, notify_cb, p);
	p->apply_ev = event_new(al->e->base, -1, 0, apply_cb, p);
	if (!p->subnet_id || !p->notify_ev || !p->apply_ev) {
		pool_free(p);
		return NULL;
	}
	p->stale = true;
	al->pools[al->n++] = p;
	return p;
}

static bool add_waiter(eng_pool *p, eng_alloc_ready_fn fn, void *arg)
{
	eng_waiter *w = hk_grow(p->w, p->n_w, &p->cap_w, sizeof(*w), 8);
	if (!w)
		return false;
	p->w = w;
	p->w[p->n_w].fn = fn;
	p->w[p->n_w].arg = arg;
	p->n_w++;
	return true;
}

static cidr_pool *pool_for(eng_pool *p, const cidr_addr *a)
{
	return a->family == CIDR_V4 ? p->v4 : p->v6;
}

static void apply_refresh(eng_pool *p)
{
	hook_eng *e = p->al->e;
	hook_engine_pool_fill(p->v4, p->v6, p->net, p->enis, p->resv);
	p->n_resv = p->resv ? p->resv->n_reservations : 0;
	/* recently confirmed by us */
	int64_t now = hook_now_ms();
	size_t k = 0;
	for (size_t i = 0; i < p->n_recent; i++) {
		if (now - p->recent[i].at_ms > ENG_RECENT_MS)
			continue;
		p->recent[k++] = p->recent[i];
		cidr_pool *cp = pool_for(p, &p->recent[i].addr);
		if (cp)
			ENG_IGNORE(cidr_pool_mark_used_addr(cp, &p->recent[i].addr, NULL));
	}
	p->n_recent = k;
	/* addresses recorded for unfinished actions (other runs of the daemon,
	 * or ours: those are pending already and the claim is a no-op) */
	hook_eni_row *rows = NULL;
	size_t n_rows = 0;
	if (hook_store_eni_list_held(e->store, p->subnet_id, &rows, &n_rows) == HK_OK) {
		for (size_t i = 0; i < n_rows; i++) {
			if (hook_eni_state_parse(rows[i].state) == ENG_ENI_DELETED)
				continue;
			const char *addrs[2] = {rows[i].ipv4, rows[i].ipv6};
			for (size_t j = 0; j < 2; j++) {
				cidr_addr a;
				if (!addrs[j] || !*addrs[j] ||
				    cidr_parse_addr(addrs[j], &a, NULL) != HK_OK)
					continue;
				cidr_pool *cp = pool_for(p, &a);
				if (cp && !(cidr_pool_addr_state(cp, &a) & CIDR_ST_PENDING))
					ENG_IGNORE(cidr_pool_mark_used_addr(cp, &a, NULL));
			}
		}
		hook_eni_rows_free(rows, n_rows);
	}
	awscalls_free(p->enis);
	awscalls_free(p->resv);
	p->enis = NULL;
	p->resv = NULL;
}

static void apply_cb(evutil_socket_t fd, short what, void *arg)
{
	eng_pool *p = arg;
	p->refreshing = false;
	if (p->part_err == HK_OK) {
		apply_refresh(p);
		p->refreshed_ms = hook_now_ms();
		p->stale = false;
	} else {
		awscalls_free(p->enis);
		awscalls_free(p->resv);
		p->enis = NULL;
		p->resv = NULL;
	}
	flush_waiters(p, p->part_err);
}

static void part_done(eng_pool *p)
{
	if (--p->parts_left)
		return;
	/* still refreshing until apply_cb ran */
	event_active(p->apply_ev, 0, 0);
}

static void part_fail(eng_pool *p, const char *call, const awc_result *res)
{
	eng_health_from(p->al->e, res);
	if (res->aws_code && strcmp(res->aws_code, "InvalidSubnetID.NotFound") == 0)
		eng_subnet_forget(p->al->e, p->subnet_id); /* the launch cache's choice is gone */
	if (p->part_err == HK_OK) {
		p->part_err = res->err ? res->err : HK_ERR_INTERNAL;
		snprintf(p->why, sizeof(p->why), "%s %s: %s", call, p->subnet_id,
			 res->aws_code ? res->aws_code : hk_err_str(res->err));
	}
}

AWSCALLS_KEEP_CB(enis_cb, ec2_describe_network_interfaces_out, eng_pool, enis,
		 "DescribeNetworkInterfaces", part_fail, part_done)
AWSCALLS_KEEP_CB(resv_cb, ec2_get_subnet_cidr_reservations_out, eng_pool, resv,
		 "GetSubnetCidrReservations", part_fail, part_done)

static void start_parts(eng_pool *p)
{
	awc_client *c = p->al->e->aws;
	const char *vals[1] = {p->subnet_id};
	ec2_filter f = {.name = "subnet-id", .values = vals, .n_values = 1};
	ec2_describe_network_interfaces_req dreq = {.filters = &f, .n_filters = 1};
	ec2_get_subnet_cidr_reservations_req rreq = {.subnet_id = p->subnet_id};
	p->parts_left = 3; /* two calls plus this function's own hold */
	if (ec2_describe_network_interfaces(c, &dreq, enis_cb, p, NULL) != HK_OK) {
		p->parts_left--;
		if (!p->part_err) {
			p->part_err = HK_ERR_NOMEM;
			snprintf(p->why, sizeof(p->why), "cannot start DescribeNetworkInterfaces");
		}
	}
	if (ec2_get_subnet_cidr_reservations(c, &rreq, resv_cb, p, NULL) != HK_OK) {
		p->parts_left--;
		if (!p->part_err) {
			p->part_err = HK_ERR_NOMEM;
			snprintf(p->why, sizeof(p->why), "cannot start GetSubnetCidrReservations");
		}
	}
	if (p->parts_left == 1) {
		/* nothing started: report on the next turn, never synchronously */
		p->parts_left = 0;
		p->refreshing = false;
		p->notify_err = p->part_err;
		event_active(p->notify_ev, 0, 0);
		return;
	}
	p->parts_left--;
}

static void subnet_cb(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	eng_pool *p = arg;
	eng_health_from(p->al->e, res);
	if (res->err || out->n_subnets == 0 || !out->subnets[0].cidr) {
		if ((res->aws_code && strcmp(res->aws_code, "InvalidSubnetID.NotFound") == 0) ||
		    (!res->err && out->n_subnets == 0))
			eng_subnet_forget(p->al->e, p->subnet_id);
		p->refreshing = false;
		snprintf(p->why, sizeof(p->why), "DescribeSubnets %s: %s", p->subnet_id,
			 res->err ? (res->aws_code ? res->aws_code : hk_err_str(res->err))
				  : "no such IPv4 subnet");
		flush_waiters(p, res->err ? res->err : HK_ERR_NOT_FOUND);
		return;
	}
	const ec2_subnet *s = &out->subnets[0];
	cidr_prefix pf;
	hk_err err = cidr_parse_prefix(s->cidr, CIDR_PARSE_NORMALIZE, &pf, NULL);
	if (!err)
		err = cidr_pool_new(&pf, &p->v4, NULL);
	for (size_t i = 0; !err && i < s->n_ipv6_cidrs; i++) {
		const ec2_ipv6_cidr *c6 = &s->ipv6_cidrs[i];
		if (c6->state && strcmp(c6->state, "associated") != 0)
			continue;
		cidr_prefix p6;
		if (c6->cidr &&
		    cidr_parse_prefix(c6->cidr, CIDR_PARSE_NORMALIZE, &p6, NULL) == HK_OK &&
		    cidr_pool_new(&p6, &p->v6, NULL) == HK_OK)
			break;
	}
	if (err) {
		p->refreshing = false;
		snprintf(p->why, sizeof(p->why), "subnet %s: bad CIDR %s", p->subnet_id, s->cidr);
		flush_waiters(p, err);
		return;
	}
	p->have_cidr = true;
	start_parts(p);
}

hk_err eng_alloc_ensure(eng_alloc *al, const char *subnet_id, const hook_network *net,
			eng_alloc_ready_fn ready, void *arg)
{
	eng_pool *p = pool_get(al, subnet_id);
	if (!p)
		return HK_ERR_NOMEM;
	/* the newest configuration's network (its pod ranges): every waiter
	 * is an action holding its configuration while it waits */
	p->net = net;
	if (net && net->name && (!p->network || strcmp(p->network, net->name) != 0)) {
		free(p->network);
		p->network = strdup(net->name);
	}
	if (!add_waiter(p, ready, arg))
		return HK_ERR_NOMEM;
	if (p->refreshing)
		return HK_OK; /* coalesced */
	bool fresh =
	    p->have_cidr && !p->stale && hook_now_ms() - p->refreshed_ms < ENG_POOL_MAX_AGE_MS;
	if (fresh) {
		p->notify_err = HK_OK;
		event_active(p->notify_ev, 0, 0);
		return HK_OK;
	}
	p->refreshing = true;
	p->part_err = HK_OK;
	p->why[0] = '\0';
	if (p->have_cidr) {
		start_parts(p);
		return HK_OK;
	}
	const char *ids[1] = {p->subnet_id};
	ec2_describe_subnets_req req = {.subnet_ids = ids, .n_subnet_ids = 1};
	if (ec2_describe_subnets(al->e->aws, &req, subnet_cb, p, NULL) != HK_OK) {
		p->refreshing = false;
		snprintf(p->why, sizeof(p->why), "cannot start DescribeSubnets");
		p->notify_err = HK_ERR_NOMEM;
		event_active(p->notify_ev, 0, 0);
	}
	return HK_OK;
}

hk_err eng_alloc_take(eng_alloc *al, const char *subnet_id, int family, char *buf, size_t len)
{
	eng_pool *p = pool_find(al, subnet_id);
	cidr_pool *cp = p ? (family == 6 ? p->v6 : p->v4) : NULL;
	if (!cp)
		return HK_ERR_NOT_FOUND;
	cidr_addr a;
	hk_err err = cidr_pool_alloc(cp, 1, &a);
	if (err)
		return err;
	err = cidr_format_addr(&a, buf, len);
	if (err)
		ENG_IGNORE(cidr_pool_release(cp, &a));
	return err;
}

static bool addr_of(eng_alloc *al, const char *subnet_id, const char *s, eng_pool **rp,
		    cidr_pool **rcp, cidr_addr *ra)
{
	eng_pool *p = subnet_id ? pool_find(al, subnet_id) : NULL;
	if (!p || !s || !*s || cidr_parse_addr(s, ra, NULL) != HK_OK)
		return false;
	cidr_pool *cp = pool_for(p, ra);
	if (!cp || !cidr_prefix_contains(cidr_pool_subnet(cp), ra))
		return false;
	*rp = p;
	*rcp = cp;
	return true;
}

void eng_alloc_hold(eng_alloc *al, const char *subnet_id, const char *addr)
{
	eng_pool *p;
	cidr_pool *cp;
	cidr_addr a;
	if (addr_of(al, subnet_id, addr, &p, &cp, &a) &&
	    !(cidr_pool_addr_state(cp, &a) & CIDR_ST_PENDING))
		ENG_IGNORE(cidr_pool_claim(cp, &a, NULL));
}

void eng_alloc_confirm(eng_alloc *al, const char *subnet_id, const char *addr)
{
	eng_pool *p;
	cidr_pool *cp;
	cidr_addr a;
	if (!addr_of(al, subnet_id, addr, &p, &cp, &a))
		return;
	if (cidr_pool_confirm(cp, &a) != HK_OK)
		ENG_IGNORE(cidr_pool_mark_used_addr(cp, &a, NULL));
	if (p->n_recent < ENG_RECENT_MAX) {
		eng_recent *v = realloc(p->recent, (p->n_recent + 1) * sizeof(*v));
		if (v) {
			p->recent = v;
			v[p->n_recent].addr = a;
			v[p->n_recent].at_ms = hook_now_ms();
			p->n_recent++;
		}
	}
}

void eng_alloc_release(eng_alloc *al, const char *subnet_id, const char *addr)
{
	eng_pool *p;
	cidr_pool *cp;
	cidr_addr a;
	if (addr_of(al, subnet_id, addr, &p, &cp, &a))
		ENG_IGNORE(cidr_pool_release(cp, &a));
}

void eng_alloc_conflict(eng_alloc *al, const char *subnet_id, const char *addr)
{
	eng_pool *p;
	cidr_pool *cp;
	cidr_addr a;
	if (!addr_of(al, subnet_id, addr, &p, &cp, &a))
		return;
	ENG_IGNORE(cidr_pool_release(cp, &a));
	ENG_IGNORE(cidr_pool_mark_used_addr(cp, &a, NULL));
	p->stale = true;
}

void eng_alloc_stale(eng_alloc *al, const char *subnet_id)
{
	eng_pool *p = subnet_id ? pool_find(al, subnet_id) : NULL;
	if (p)
		p->stale = true;
}

/* ---- dhcp mode: are the pod ranges explicit reservations? ----------------- */

static void dhcp_warn(eng_dhcp *d, const char *msg, const char *range, const char *extra)
{
	json_t *f = json_pack("{s:s,s:s,s:s}", "network", d->net->name ? d->net->name : "",
			      "subnet", d->subnet_id, "pod_range", range ? range : "");
	if (f && extra)
		json_object_set_new(f, "detail", json_string(extra));
	hook_log_json(HOOK_LOG_WARN, msg, f);
}

static void dhcp_resv_cb(const awc_result *res, const ec2_get_subnet_cidr_reservations_out *out,
			 void *arg)
{
	eng_dhcp *d = arg;
	d->done = true;
	eng_health_from(d->al->e, res);
	if (res->err) {
		dhcp_warn(d, "dhcp pod ranges: cannot read the subnet's CIDR reservations", NULL,
			  res->aws_code ? res->aws_code : hk_err_str(res->err));
		return;
	}
	size_t nr = out->n_reservations;
	cidr_prefix *resv = calloc(nr ? nr : 1, sizeof(*resv));
	size_t n_pod = d->net->n_pod_ranges;
	cidr_range *pods = calloc(n_pod ? n_pod : 1, sizeof(*pods));
	const char **pod_txt = calloc(n_pod ? n_pod : 1, sizeof(*pod_txt));
	bool *bad = calloc(n_pod ? n_pod : 1, sizeof(*bad));
	if (!resv || !pods || !pod_txt || !bad)
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < nr; i++) {
		const ec2_cidr_reservation *r = &out->reservations[i];
		/* only explicit reservations keep EC2's automatic assignment off */
		if (r->type != EC2_RESERVATION_EXPLICIT || !r->cidr)
			continue;
		if (cidr_parse_prefix(r->cidr, CIDR_PARSE_NORMALIZE | CIDR_PARSE_BARE, &resv[k],
				      NULL) == HK_OK)
			k++;
	}
	size_t np = 0;
	for (size_t i = 0; i < n_pod; i++)
		if (hook_engine_parse_pod_range(d->net->pod_ranges[i], &pods[np]) == HK_OK)
			pod_txt[np++] = d->net->pod_ranges[i];
	for (size_t c = 0; c < d->n_cidrs; c++) {
		cidr_prefix sub;
		if (cidr_parse_prefix(d->cidrs[c], CIDR_PARSE_NORMALIZE, &sub, NULL) != HK_OK)
			continue;
		if (!hook_engine_dhcp_uncovered(&sub, pods, np, resv, k, bad))
			continue;
		for (size_t i = 0; i < np; i++)
			if (bad[i])
				dhcp_warn(d,
					  "dhcp pod range not covered by an explicit subnet CIDR "
					  "reservation: EC2 may assign its addresses to ENIs",
					  pod_txt[i], d->cidrs[c]);
	}
out:
	free(resv);
	free(pods);
	free(pod_txt);
	free(bad);
}

static void dhcp_subnet_cb(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	eng_dhcp *d = arg;
	eng_health_from(d->al->e, res);
	const ec2_subnet *sn = NULL;
	for (size_t i = 0; res->err == HK_OK && i < out->n_subnets; i++)
		if (out->subnets[i].subnet_id &&
		    strcmp(out->subnets[i].subnet_id, d->subnet_id) == 0)
			sn = &out->subnets[i];
	if (!sn) {
		d->done = true;
		dhcp_warn(d, "dhcp pod ranges: cannot describe the subnet", NULL,
			  res->aws_code ? res->aws_code : hk_err_str(res->err));
		return;
	}
	if (sn->cidr && (d->cidrs[d->n_cidrs] = strdup(sn->cidr)) != NULL)
		d->n_cidrs++;
	for (size_t i = 0; i < sn->n_ipv6_cidrs && d->n_cidrs < HK_ARRAY_LEN(d->cidrs); i++)
		if (sn->ipv6_cidrs[i].cidr &&
		    (d->cidrs[d->n_cidrs] = strdup(sn->ipv6_cidrs[i].cidr)) != NULL)
			d->n_cidrs++;
	ec2_get_subnet_cidr_reservations_req rreq = {.subnet_id = d->subnet_id};
	if (ec2_get_subnet_cidr_reservations(d->al->e->aws, &rreq, dhcp_resv_cb, d, NULL) != HK_OK)
		d->done = true;
}

void eng_alloc_dhcp_check(eng_alloc *al, const hook_config *cfg, const char *subnet_id,
			  const hook_network *net)
{
	if (!al || !subnet_id || !*subnet_id || net->ip_mode != HOOK_IP_DHCP ||
	    !net->n_pod_ranges || al->n_dhcp >= ENG_DHCP_MAX || !al->e->aws)
		return;
	for (eng_dhcp *d = al->dhcp; d; d = d->next)
		if (d->net == net && strcmp(d->subnet_id, subnet_id) == 0)
			return; /* checked (or being checked) already */
	eng_dhcp *d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->subnet_id = strdup(subnet_id);
	if (!d->subnet_id) {
		free(d);
		return;
	}
	d->al = al;
	d->cfg = hook_config_ref(cfg);
	d->net = net;
	d->next = al->dhcp;
	al->dhcp = d;
	al->n_dhcp++;
	const char *ids[1] = {subnet_id};
	ec2_describe_subnets_req req = {.subnet_ids = ids, .n_subnet_ids = 1};
	if (ec2_describe_subnets(al->e->aws, &req, dhcp_subnet_cb, d, NULL) != HK_OK)
		d->done = true;
}

void eng_alloc_collect(const eng_alloc *al)
{
	hk_metric_reset(hook_m.subnet_free);
	hk_metric_reset(hook_m.subnet_resv);
	for (size_t i = 0; al && i < al->n; i++) {
		eng_pool *p = al->pools[i];
		if (!p->have_cidr || !p->v4)
			continue;
		const char *labels[2] = {p->subnet_id, p->network ? p->network : ""};
		hk_metric_set(hook_m.subnet_free, labels, (double)cidr_pool_free_count(p->v4));
		hk_metric_set(hook_m.subnet_resv, labels, (double)p->n_resv);
	}
}
