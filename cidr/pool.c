/* The per-subnet allocator. Every set is kept as offsets from the subnet's first
 * address; `blocked` is the union of the AWS-reserved addresses and every other set,
 * so that "first free" is one next-absent search on one structure. Additions update
 * `blocked` in place; removals (release, reset, clearing reservations, replacing the
 * pod range) recompute what they touch from the member sets. */
#include "cidr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_USED, S_PENDING, S_RESV_EXPLICIT, S_RESV_PREFIX, S_POD, S_COUNT };

struct cidr_pool {
	cidr_prefix subnet;
	cidr_u128 base; /* integer value of the subnet's first address */
	cidr_u128 size; /* addresses in the subnet */
	cidr_oset set[S_COUNT];
	cidr_oset blocked;
};

static bool is_aws(const cidr_pool *p, cidr_u128 off)
{
	return off < 4 || off == p->size - 1;
}

static cidr_addr addr_at(const cidr_pool *p, cidr_u128 off)
{
	return cidr_addr_from_u128((cidr_family)p->subnet.addr.family, p->base + off);
}

/* Offset of a in the subnet; false when a is outside. */
static bool offset_of(const cidr_pool *p, const cidr_addr *a, cidr_u128 *ret)
{
	if (!cidr_prefix_contains(&p->subnet, a))
		return false;
	*ret = cidr_addr_to_u128(a) - p->base;
	return true;
}

static hk_err outside(const cidr_pool *p, const char *value, const cidr_addr *a, hk_errinfo *ei)
{
	cidr_str sb;
	const char *hint = "";
	if (a && p->subnet.addr.family == CIDR_V4 && cidr_addr_is_v4_mapped(a))
		hint = " (an IPv4-mapped IPv6 address: write the IPv4 address)";
	else if (a && a->family != p->subnet.addr.family)
		hint = a->family == CIDR_V4 ? " (an IPv4 address in an IPv6 subnet)"
					    : " (an IPv6 address in an IPv4 subnet)";
	return hk_errinfo_set(ei, HK_ERR_RANGE, 0, "%s: not inside subnet %s%s", value,
			      cidr_prefix_str(&p->subnet, &sb), hint);
}

static void add_aws(cidr_pool *p, cidr_oset *s)
{
	cidr_oset_add(s, 0, 3);
	cidr_oset_add(s, p->size - 1, p->size - 1);
}

hk_err cidr_pool_new(const cidr_prefix *subnet, cidr_pool **ret, hk_errinfo *ei)
{
	hk_err err = cidr_subnet_check(subnet, ei);
	if (err != HK_OK)
		return err;
	cidr_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	p->subnet = *subnet;
	p->base = cidr_addr_to_u128(&subnet->addr);
	p->size = cidr_prefix_size(subnet);
	bool bitmap = subnet->addr.family == CIDR_V4;
	for (int i = 0; i < S_COUNT; i++)
		if ((err = cidr_oset_init(&p->set[i], p->size, bitmap)) != HK_OK)
			goto fail;
	if ((err = cidr_oset_init(&p->blocked, p->size, bitmap)) != HK_OK)
		goto fail;
	if ((err = cidr_oset_reserve(&p->blocked, 2)) != HK_OK)
		goto fail;
	add_aws(p, &p->blocked);
	*ret = p;
	return HK_OK;
fail:
	cidr_pool_free(p);
	return hk_errinfo_set(ei, err, 0, "out of memory");
}

void cidr_pool_free(cidr_pool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < S_COUNT; i++)
		cidr_oset_cleanup(&pool->set[i]);
	cidr_oset_cleanup(&pool->blocked);
	free(pool);
}

const cidr_prefix *cidr_pool_subnet(const cidr_pool *pool)
{
	return &pool->subnet;
}

/* Add lo..hi to member set `which` and to blocked, or change nothing. */
static hk_err add_to(cidr_pool *p, int which, cidr_u128 lo, cidr_u128 hi)
{
	hk_err err = cidr_oset_reserve(&p->set[which], 1);
	if (err == HK_OK)
		err = cidr_oset_reserve(&p->blocked, 1);
	if (err != HK_OK)
		return err;
	cidr_oset_add(&p->set[which], lo, hi);
	cidr_oset_add(&p->blocked, lo, hi);
	return HK_OK;
}

/* Recompute blocked from the member sets, with set `skip` (or -1) taken as empty.
 * On success `skip` is cleared too; on failure nothing changes. */
static hk_err rebuild_blocked(cidr_pool *p, int skip)
{
	cidr_oset nb;
	hk_err err = cidr_oset_init(&nb, p->size, p->blocked.bitmap);
	if (err == HK_OK)
		err = cidr_oset_reserve(&nb, 2);
	if (err != HK_OK) {
		cidr_oset_cleanup(&nb);
		return err;
	}
	add_aws(p, &nb);
	for (int i = 0; i < S_COUNT; i++) {
		if (i == skip)
			continue;
		if ((err = cidr_oset_union(&nb, &p->set[i])) != HK_OK) {
			cidr_oset_cleanup(&nb);
			return err;
		}
	}
	cidr_oset_swap(&nb, &p->blocked);
	cidr_oset_cleanup(&nb);
	if (skip >= 0)
		cidr_oset_clear(&p->set[skip]);
	return HK_OK;
}

hk_err cidr_pool_mark_used(cidr_pool *pool, const cidr_prefix *pf, hk_errinfo *ei)
{
	cidr_str sb;
	if (!cidr_prefix_contains_prefix(&pool->subnet, pf))
		return outside(pool, cidr_prefix_str(pf, &sb), &pf->addr, ei);
	cidr_range r = cidr_prefix_range(pf);
	hk_err err = add_to(pool, S_USED, cidr_addr_to_u128(&r.first) - pool->base,
			    cidr_addr_to_u128(&r.last) - pool->base);
	if (err != HK_OK)
		return hk_errinfo_set(ei, err, 0, "out of memory");
	return HK_OK;
}

hk_err cidr_pool_mark_used_addr(cidr_pool *pool, const cidr_addr *a, hk_errinfo *ei)
{
	cidr_prefix pf = {.addr = *a, .len = cidr_family_bits(a->family)};
	return cidr_pool_mark_used(pool, &pf, ei);
}

hk_err cidr_pool_reset_used(cidr_pool *pool)
{
	return rebuild_blocked(pool, S_USED);
}

hk_err cidr_pool_reserve(cidr_pool *pool, const cidr_prefix *pf, cidr_resv_kind kind,
			 hk_errinfo *ei)
{
	cidr_str sb;
	if (kind != CIDR_RESV_EXPLICIT && kind != CIDR_RESV_PREFIX)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: unknown reservation kind %d",
				      cidr_prefix_str(pf, &sb), (int)kind);
	if (!cidr_prefix_contains_prefix(&pool->subnet, pf))
		return outside(pool, cidr_prefix_str(pf, &sb), &pf->addr, ei);
	cidr_range r = cidr_prefix_range(pf);
	hk_err err = add_to(pool, kind == CIDR_RESV_EXPLICIT ? S_RESV_EXPLICIT : S_RESV_PREFIX,
			    cidr_addr_to_u128(&r.first) - pool->base,
			    cidr_addr_to_u128(&r.last) - pool->base);
	if (err != HK_OK)
		return hk_errinfo_set(ei, err, 0, "out of memory");
	return HK_OK;
}

hk_err cidr_pool_clear_reservations(cidr_pool *pool)
{
	/* Rebuild with both reservation sets left out: build the new blocked set
	 * first so that a failure leaves the pool as it was. */
	cidr_oset nb;
	hk_err err = cidr_oset_init(&nb, pool->size, pool->blocked.bitmap);
	if (err == HK_OK)
		err = cidr_oset_reserve(&nb, 2);
	if (err != HK_OK)
		goto out;
	add_aws(pool, &nb);
	static const int keep[] = {S_USED, S_PENDING, S_POD};
	for (size_t i = 0; i < HK_ARRAY_LEN(keep); i++)
		if ((err = cidr_oset_union(&nb, &pool->set[keep[i]])) != HK_OK)
			goto out;
	cidr_oset_swap(&nb, &pool->blocked);
	cidr_oset_clear(&pool->set[S_RESV_EXPLICIT]);
	cidr_oset_clear(&pool->set[S_RESV_PREFIX]);
out:
	cidr_oset_cleanup(&nb);
	return err;
}

hk_err cidr_pool_set_pod_range(cidr_pool *pool, const cidr_range *ranges, size_t n, hk_errinfo *ei)
{
	cidr_str sb;
	for (size_t i = 0; i < n; i++) {
		const cidr_range *r = &ranges[i];
		if (r->first.family != r->last.family || cidr_addr_cmp(&r->first, &r->last) > 0)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
					      "%s: invalid pod range (first address after last "
					      "or families differ)",
					      cidr_range_str(r, &sb));
		if (!cidr_prefix_contains(&pool->subnet, &r->first) ||
		    !cidr_prefix_contains(&pool->subnet, &r->last))
			return outside(pool, cidr_range_str(r, &sb), &r->first, ei);
	}
	/* Build the new pod set aside, then the new blocked set, then swap both. */
	cidr_oset pod, nb;
	memset(&nb, 0, sizeof(nb));
	hk_err err = cidr_oset_init(&pod, pool->size, pool->blocked.bitmap);
	if (err == HK_OK)
		err = cidr_oset_reserve(&pod, n);
	if (err != HK_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		cidr_oset_add(&pod, cidr_addr_to_u128(&ranges[i].first) - pool->base,
			      cidr_addr_to_u128(&ranges[i].last) - pool->base);
	if ((err = cidr_oset_init(&nb, pool->size, pool->blocked.bitmap)) != HK_OK ||
	    (err = cidr_oset_reserve(&nb, 2)) != HK_OK)
		goto out;
	add_aws(pool, &nb);
	for (int i = 0; i < S_COUNT; i++)
		if ((err = cidr_oset_union(&nb, i == S_POD ? &pod : &pool->set[i])) != HK_OK)
			goto out;
	cidr_oset_swap(&nb, &pool->blocked);
	cidr_oset_swap(&pod, &pool->set[S_POD]);
out:
	cidr_oset_cleanup(&pod);
	cidr_oset_cleanup(&nb);
	if (err != HK_OK)
		return hk_errinfo_set(ei, err, 0, "out of memory");
	return HK_OK;
}

hk_err cidr_pool_alloc(cidr_pool *pool, size_t n, cidr_addr *ret_addrs)
{
	if (n == 0)
		return HK_ERR_INVALID;
	/* Pass 1: are there n free addresses? Nothing changes until we know. */
	cidr_u128 x = 0, y;
	for (size_t i = 0; i < n; i++) {
		if (!cidr_oset_next_absent(&pool->blocked, x, &y))
			return HK_ERR_FULL;
		x = y + 1;
	}
	hk_err err = cidr_oset_reserve(&pool->set[S_PENDING], n);
	if (err == HK_OK)
		err = cidr_oset_reserve(&pool->blocked, n);
	if (err != HK_OK)
		return err;
	/* Pass 2: the same walk over the unchanged blocked set, recording the result;
	 * blocked is updated afterwards so the walk never merges a dirty list. */
	x = 0;
	for (size_t i = 0; i < n; i++) {
		bool found = cidr_oset_next_absent(&pool->blocked, x, &y);
		(void)found;
		ret_addrs[i] = addr_at(pool, y);
		cidr_oset_add(&pool->set[S_PENDING], y, y);
		x = y + 1;
	}
	for (size_t i = 0; i < n; i++) {
		cidr_u128 off = cidr_addr_to_u128(&ret_addrs[i]) - pool->base;
		cidr_oset_add(&pool->blocked, off, off);
	}
	return HK_OK;
}

/* "used, reserved (explicit)" for a CIDR_ST_* mask. */
static void describe_state(unsigned st, char *buf, size_t size)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {
	    {CIDR_ST_AWS, "reserved by AWS"},
	    {CIDR_ST_USED, "used"},
	    {CIDR_ST_PENDING, "pending"},
	    {CIDR_ST_RESV_EXPLICIT, "explicit reservation"},
	    {CIDR_ST_RESV_PREFIX, "prefix reservation"},
	    {CIDR_ST_POD, "pod range"},
	};
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		if (!(st & names[i].flag))
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", names[i].name);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

hk_err cidr_pool_claim(cidr_pool *pool, const cidr_addr *a, hk_errinfo *ei)
{
	cidr_u128 off;
	cidr_str sb;
	if (!offset_of(pool, a, &off))
		return outside(pool, cidr_addr_str(a, &sb), a, ei);
	if (cidr_oset_contains(&pool->blocked, off)) {
		char why[128];
		describe_state(cidr_pool_addr_state(pool, a), why, sizeof(why));
		return hk_errinfo_set(ei, HK_ERR_EXISTS, 0, "%s: not free (%s)",
				      cidr_addr_str(a, &sb), why);
	}
	hk_err err = add_to(pool, S_PENDING, off, off);
	if (err != HK_OK)
		return hk_errinfo_set(ei, err, 0, "out of memory");
	return HK_OK;
}

hk_err cidr_pool_confirm(cidr_pool *pool, const cidr_addr *a)
{
	cidr_u128 off;
	if (!offset_of(pool, a, &off))
		return HK_ERR_RANGE;
	if (!cidr_oset_contains(&pool->set[S_PENDING], off))
		return HK_ERR_NOT_FOUND;
	hk_err err = cidr_oset_reserve(&pool->set[S_PENDING], 1);
	if (err == HK_OK)
		err = cidr_oset_reserve(&pool->set[S_USED], 1);
	if (err != HK_OK)
		return err;
	cidr_oset_remove(&pool->set[S_PENDING], off, off);
	cidr_oset_add(&pool->set[S_USED], off, off);
	return HK_OK; /* blocked already holds it */
}

hk_err cidr_pool_release(cidr_pool *pool, const cidr_addr *a)
{
	cidr_u128 off;
	if (!offset_of(pool, a, &off))
		return HK_ERR_RANGE;
	if (!cidr_oset_contains(&pool->set[S_PENDING], off))
		return HK_ERR_NOT_FOUND;
	hk_err err = cidr_oset_reserve(&pool->set[S_PENDING], 1);
	if (err == HK_OK)
		err = cidr_oset_reserve(&pool->blocked, 1);
	if (err != HK_OK)
		return err;
	cidr_oset_remove(&pool->set[S_PENDING], off, off);
	bool still = is_aws(pool, off);
	for (int i = 0; i < S_COUNT && !still; i++)
		still = cidr_oset_contains(&pool->set[i], off);
	if (!still)
		cidr_oset_remove(&pool->blocked, off, off);
	return HK_OK;
}

hk_err cidr_pool_next_free(cidr_pool *pool, const cidr_addr *after, cidr_addr *ret)
{
	cidr_u128 from = 0, y;
	if (after) {
		if (!offset_of(pool, after, &from))
			return HK_ERR_RANGE;
		if (from == pool->size - 1)
			return HK_ERR_FULL;
		from++;
	}
	if (!cidr_oset_next_absent(&pool->blocked, from, &y))
		return HK_ERR_FULL;
	*ret = addr_at(pool, y);
	return HK_OK;
}

unsigned cidr_pool_addr_state(cidr_pool *pool, const cidr_addr *a)
{
	static const unsigned flag[S_COUNT] = {
	    [S_USED] = CIDR_ST_USED,
	    [S_PENDING] = CIDR_ST_PENDING,
	    [S_RESV_EXPLICIT] = CIDR_ST_RESV_EXPLICIT,
	    [S_RESV_PREFIX] = CIDR_ST_RESV_PREFIX,
	    [S_POD] = CIDR_ST_POD,
	};
	cidr_u128 off;
	if (!offset_of(pool, a, &off))
		return CIDR_ST_OUTSIDE;
	unsigned st = is_aws(pool, off) ? CIDR_ST_AWS : 0u;
	for (int i = 0; i < S_COUNT; i++)
		if (cidr_oset_contains(&pool->set[i], off))
			st |= flag[i];
	return st;
}

cidr_u128 cidr_pool_free_count(cidr_pool *pool)
{
	return pool->size - cidr_oset_count(&pool->blocked);
}

void cidr_pool_stats_get(cidr_pool *pool, cidr_pool_stats *ret)
{
	cidr_pool_stats st;
	st.size = pool->size;
	st.aws_reserved = 5;
	st.used = cidr_oset_count(&pool->set[S_USED]);
	st.pending = cidr_oset_count(&pool->set[S_PENDING]);
	st.resv_explicit = cidr_oset_count(&pool->set[S_RESV_EXPLICIT]);
	st.resv_prefix = cidr_oset_count(&pool->set[S_RESV_PREFIX]);
	st.pod = cidr_oset_count(&pool->set[S_POD]);
	st.free = cidr_pool_free_count(pool);
	*ret = st;
}

hk_err cidr_pool_tail_free_range(cidr_pool *pool, cidr_range *ret)
{
	cidr_u128 last, below;
	if (!cidr_oset_prev_absent(&pool->blocked, pool->size - 1, &last))
		return HK_ERR_FULL;
	/* The AWS-reserved first four are always blocked, so a blocked address lies
	 * below any free one. */
	if (!cidr_oset_prev_present(&pool->blocked, last, &below))
		return HK_ERR_INTERNAL;
	ret->first = addr_at(pool, below + 1);
	ret->last = addr_at(pool, last);
	return HK_OK;
}

hk_err cidr_pool_largest_free_range(cidr_pool *pool, cidr_range *ret)
{
	cidr_u128 x = 0, lo, end, best_lo = 0, best_len = 0;
	while (cidr_oset_next_absent(&pool->blocked, x, &lo)) {
		if (!cidr_oset_next_present(&pool->blocked, lo, &end))
			end = pool->size; /* unreachable: the last address is AWS-reserved */
		if (end - lo > best_len) {
			best_lo = lo;
			best_len = end - lo;
		}
		x = end;
	}
	if (best_len == 0)
		return HK_ERR_FULL;
	ret->first = addr_at(pool, best_lo);
	ret->last = addr_at(pool, best_lo + best_len - 1);
	return HK_OK;
}
