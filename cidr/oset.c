/* Offset sets: a two-level bitmap for IPv4 subnets, sorted range lists for IPv6.
 * See cidr_internal.h for the representation and docs/cidr.md for the costs. */
#include "cidr_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ================= bitmap ================= */

#define ALL1 (~(uint64_t)0)

static uint64_t bm_valid(const cidr_bm *b, size_t i)
{
	size_t rem = b->nbits % 64;
	return (i == b->nwords - 1 && rem) ? ((uint64_t)1 << rem) - 1 : ALL1;
}

static void bm_sync(cidr_bm *b, size_t i)
{
	uint64_t bit = (uint64_t)1 << (i % 64);
	if (b->w[i] == bm_valid(b, i))
		b->full[i / 64] |= bit;
	else
		b->full[i / 64] &= ~bit;
}

static hk_err bm_init(cidr_bm *b, size_t nbits)
{
	b->nbits = nbits;
	b->nwords = (nbits + 63) / 64;
	b->nsum = (b->nwords + 63) / 64;
	b->w = calloc(b->nwords, sizeof(uint64_t));
	b->full = calloc(b->nsum, sizeof(uint64_t));
	if (!b->w || !b->full) {
		free(b->w);
		free(b->full);
		memset(b, 0, sizeof(*b));
		return HK_ERR_NOMEM;
	}
	return HK_OK;
}

/* Mask of bits lo..hi (0 <= lo <= hi <= 63) of one word. */
static uint64_t span(unsigned lo, unsigned hi)
{
	uint64_t upto = hi == 63 ? ALL1 : ((uint64_t)1 << (hi + 1)) - 1;
	return upto & ~(((uint64_t)1 << lo) - 1);
}

static void bm_apply(cidr_bm *b, size_t lo, size_t hi, bool set)
{
	size_t wl = lo / 64, wh = hi / 64;
	for (size_t i = wl; i <= wh; i++) {
		unsigned a = i == wl ? (unsigned)(lo % 64) : 0;
		unsigned z = i == wh ? (unsigned)(hi % 64) : 63;
		uint64_t m = span(a, z);
		if (set)
			b->w[i] |= m;
		else
			b->w[i] &= ~m;
		bm_sync(b, i);
	}
}

static bool bm_test(const cidr_bm *b, size_t x)
{
	return (b->w[x / 64] >> (x % 64)) & 1;
}

static size_t bm_count(const cidr_bm *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->nwords; i++)
		n += (size_t)__builtin_popcountll(b->w[i]);
	return n;
}

/* Index of the first word >= i that is not full, or nwords: the summary lets the
 * scan step over 64 full words per summary word. */
static size_t bm_next_nonfull_word(const cidr_bm *b, size_t i)
{
	if (i >= b->nwords)
		return b->nwords;
	size_t s = i / 64;
	uint64_t m = ~b->full[s] & (ALL1 << (i % 64));
	for (;;) {
		if (m) {
			size_t w = s * 64 + (size_t)__builtin_ctzll(m);
			return w < b->nwords ? w : b->nwords;
		}
		if (++s >= b->nsum)
			return b->nwords;
		m = ~b->full[s];
	}
}

/* Index of the last word <= i that is not full, or SIZE_MAX. */
static size_t bm_prev_nonfull_word(const cidr_bm *b, size_t i)
{
	size_t s = i / 64;
	unsigned off = (unsigned)(i % 64);
	uint64_t m = ~b->full[s] & (off == 63 ? ALL1 : ((uint64_t)1 << (off + 1)) - 1);
	for (;;) {
		if (m)
			return s * 64 + 63 - (size_t)__builtin_clzll(m);
		if (s == 0)
			return SIZE_MAX;
		m = ~b->full[--s];
	}
}

static bool bm_next_absent(const cidr_bm *b, size_t x, size_t *ret)
{
	if (x >= b->nbits)
		return false;
	size_t i = x / 64;
	uint64_t m = ~b->w[i] & bm_valid(b, i) & (ALL1 << (x % 64));
	if (!m) {
		i = bm_next_nonfull_word(b, i + 1);
		if (i >= b->nwords)
			return false;
		m = ~b->w[i] & bm_valid(b, i);
	}
	*ret = i * 64 + (size_t)__builtin_ctzll(m);
	return true;
}

static bool bm_prev_absent(const cidr_bm *b, size_t x, size_t *ret)
{
	if (x >= b->nbits)
		x = b->nbits - 1;
	size_t i = x / 64;
	unsigned off = (unsigned)(x % 64);
	uint64_t m =
	    ~b->w[i] & bm_valid(b, i) & (off == 63 ? ALL1 : ((uint64_t)1 << (off + 1)) - 1);
	if (!m) {
		if (i == 0)
			return false;
		i = bm_prev_nonfull_word(b, i - 1);
		if (i == SIZE_MAX)
			return false;
		m = ~b->w[i] & bm_valid(b, i);
	}
	*ret = i * 64 + 63 - (size_t)__builtin_clzll(m);
	return true;
}

static bool bm_next_present(const cidr_bm *b, size_t x, size_t *ret)
{
	if (x >= b->nbits)
		return false;
	size_t i = x / 64;
	uint64_t m = b->w[i] & (ALL1 << (x % 64));
	while (!m) {
		if (++i >= b->nwords)
			return false;
		m = b->w[i];
	}
	*ret = i * 64 + (size_t)__builtin_ctzll(m);
	return true;
}

static bool bm_prev_present(const cidr_bm *b, size_t x, size_t *ret)
{
	if (x >= b->nbits)
		x = b->nbits - 1;
	size_t i = x / 64;
	unsigned off = (unsigned)(x % 64);
	uint64_t m = b->w[i] & (off == 63 ? ALL1 : ((uint64_t)1 << (off + 1)) - 1);
	while (!m) {
		if (i == 0)
			return false;
		m = b->w[--i];
	}
	*ret = i * 64 + 63 - (size_t)__builtin_clzll(m);
	return true;
}

/* ================= range list ================= */

/* Additions that would move more entries than this go to the unsorted tail. */
#define RS_INSERT_MOVE_MAX 32u

static hk_err rs_reserve(cidr_rs *s, size_t more)
{
	if (more > SIZE_MAX / 2 - s->n)
		return HK_ERR_NOMEM;
	/* +1: room for the split of a removal on top of the additions. */
	size_t need = s->n + more + 1;
	if (need <= s->cap)
		return HK_OK;
	size_t cap = s->cap ? s->cap : 8;
	while (cap < need)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(cidr_rng))
		return HK_ERR_NOMEM;
	cidr_rng *r = realloc(s->r, cap * sizeof(cidr_rng));
	if (!r)
		return HK_ERR_NOMEM;
	s->r = r;
	cidr_rng *sc = realloc(s->scratch, cap * sizeof(cidr_rng));
	if (!sc)
		return HK_ERR_NOMEM; /* s->r merely grew: still consistent */
	s->scratch = sc;
	s->cap = cap;
	return HK_OK;
}

static int rng_cmp(const void *a, const void *b)
{
	const cidr_rng *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

static void emit(cidr_rng *out, size_t *n, const cidr_rng *x)
{
	if (*n && out[*n - 1].hi + 1 >= x->lo) {
		if (x->hi > out[*n - 1].hi)
			out[*n - 1].hi = x->hi;
	} else {
		out[(*n)++] = *x;
	}
}

/* Merge the unsorted tail into the sorted head: O(n + k log k), no allocation
 * (scratch has cap entries). */
static void rs_normalize(cidr_rs *s)
{
	if (s->nsorted == s->n)
		return;
	qsort(s->r + s->nsorted, s->n - s->nsorted, sizeof(cidr_rng), rng_cmp);
	size_t a = 0, b = s->nsorted, out = 0;
	while (a < s->nsorted || b < s->n) {
		const cidr_rng *x;
		if (b >= s->n || (a < s->nsorted && s->r[a].lo <= s->r[b].lo))
			x = &s->r[a++];
		else
			x = &s->r[b++];
		emit(s->scratch, &out, x);
	}
	cidr_rng *t = s->r;
	s->r = s->scratch;
	s->scratch = t;
	s->n = s->nsorted = out;
}

/* First index i of the normalized list with r[i].hi >= x (n when none). */
static size_t rs_lower(const cidr_rs *s, cidr_u128 x)
{
	size_t lo = 0, hi = s->nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->r[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void rs_add(cidr_rs *s, cidr_u128 lo, cidr_u128 hi)
{
	assert(s->n < s->cap);
	cidr_rng x = {lo, hi};
	if (s->nsorted == s->n) {
		/* Fast paths keep the list normalized without a merge. */
		if (s->n == 0 || s->r[s->n - 1].hi + 1 < lo) {
			s->r[s->n++] = x;
			s->nsorted = s->n;
			return;
		}
		size_t i = rs_lower(s, lo == 0 ? 0 : lo - 1);
		/* r[i] is the first range that ends at or after lo-1: it may touch x. */
		if (i < s->n && s->r[i].lo <= hi + 1) {
			cidr_rng m = {s->r[i].lo < lo ? s->r[i].lo : lo,
				      s->r[i].hi > hi ? s->r[i].hi : hi};
			if (i + 1 == s->n || m.hi + 1 < s->r[i + 1].lo) {
				s->r[i] = m;
				return;
			}
		} else if (s->n - i <= RS_INSERT_MOVE_MAX) {
			memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof(cidr_rng));
			s->r[i] = x;
			s->n++;
			s->nsorted = s->n;
			return;
		}
	}
	s->r[s->n++] = x;
}

static void rs_remove(cidr_rs *s, cidr_u128 lo, cidr_u128 hi)
{
	rs_normalize(s);
	size_t i = rs_lower(s, lo), j = i;
	while (j < s->n && s->r[j].lo <= hi)
		j++;
	if (i == j)
		return;
	cidr_rng keep[2];
	size_t k = 0;
	if (s->r[i].lo < lo)
		keep[k++] = (cidr_rng){s->r[i].lo, lo - 1};
	if (s->r[j - 1].hi > hi)
		keep[k++] = (cidr_rng){hi + 1, s->r[j - 1].hi};
	assert(s->n - (j - i) + k <= s->cap);
	if (k != j - i) /* the usual trim or split of one range moves little or nothing */
		memmove(s->r + i + k, s->r + j, (s->n - j) * sizeof(cidr_rng));
	memcpy(s->r + i, keep, k * sizeof(cidr_rng));
	s->n = s->n - (j - i) + k;
	s->nsorted = s->n;
}

/* Index of the range containing x, or SIZE_MAX. */
static size_t rs_find(cidr_rs *s, cidr_u128 x)
{
	rs_normalize(s);
	size_t i = rs_lower(s, x);
	return (i < s->n && s->r[i].lo <= x) ? i : SIZE_MAX;
}

/* ================= the set ================= */

hk_err cidr_oset_init(cidr_oset *s, cidr_u128 size, bool bitmap)
{
	memset(s, 0, sizeof(*s));
	s->size = size;
	s->bitmap = bitmap;
	if (bitmap) {
		assert(size > 0 && size <= 65536);
		return bm_init(&s->bm, (size_t)size);
	}
	return HK_OK;
}

void cidr_oset_cleanup(cidr_oset *s)
{
	free(s->bm.w);
	free(s->bm.full);
	free(s->rs.r);
	free(s->rs.scratch);
	memset(s, 0, sizeof(*s));
}

hk_err cidr_oset_reserve(cidr_oset *s, size_t more)
{
	return s->bitmap ? HK_OK : rs_reserve(&s->rs, more);
}

void cidr_oset_add(cidr_oset *s, cidr_u128 lo, cidr_u128 hi)
{
	assert(lo <= hi && hi < s->size);
	if (s->bitmap)
		bm_apply(&s->bm, (size_t)lo, (size_t)hi, true);
	else
		rs_add(&s->rs, lo, hi);
}

void cidr_oset_remove(cidr_oset *s, cidr_u128 lo, cidr_u128 hi)
{
	assert(lo <= hi && hi < s->size);
	if (s->bitmap)
		bm_apply(&s->bm, (size_t)lo, (size_t)hi, false);
	else
		rs_remove(&s->rs, lo, hi);
}

void cidr_oset_clear(cidr_oset *s)
{
	if (s->bitmap) {
		memset(s->bm.w, 0, s->bm.nwords * sizeof(uint64_t));
		memset(s->bm.full, 0, s->bm.nsum * sizeof(uint64_t));
	} else {
		s->rs.n = s->rs.nsorted = 0;
	}
}

hk_err cidr_oset_union(cidr_oset *dst, cidr_oset *src)
{
	assert(dst->bitmap == src->bitmap && dst->size == src->size);
	if (dst->bitmap) {
		for (size_t i = 0; i < dst->bm.nwords; i++) {
			dst->bm.w[i] |= src->bm.w[i];
			bm_sync(&dst->bm, i);
		}
		return HK_OK;
	}
	rs_normalize(&src->rs);
	hk_err err = rs_reserve(&dst->rs, src->rs.n);
	if (err != HK_OK)
		return err;
	for (size_t i = 0; i < src->rs.n; i++)
		rs_add(&dst->rs, src->rs.r[i].lo, src->rs.r[i].hi);
	return HK_OK;
}

void cidr_oset_swap(cidr_oset *a, cidr_oset *b)
{
	cidr_oset t = *a;
	*a = *b;
	*b = t;
}

bool cidr_oset_contains(cidr_oset *s, cidr_u128 x)
{
	if (x >= s->size)
		return false;
	if (s->bitmap)
		return bm_test(&s->bm, (size_t)x);
	return rs_find(&s->rs, x) != SIZE_MAX;
}

cidr_u128 cidr_oset_count(cidr_oset *s)
{
	if (s->bitmap)
		return bm_count(&s->bm);
	rs_normalize(&s->rs);
	cidr_u128 n = 0;
	for (size_t i = 0; i < s->rs.n; i++)
		n += s->rs.r[i].hi - s->rs.r[i].lo + 1;
	return n;
}

bool cidr_oset_next_absent(cidr_oset *s, cidr_u128 x, cidr_u128 *ret)
{
	if (x >= s->size)
		return false;
	if (s->bitmap) {
		size_t r;
		if (!bm_next_absent(&s->bm, (size_t)x, &r))
			return false;
		*ret = r;
		return true;
	}
	size_t i = rs_find(&s->rs, x);
	if (i != SIZE_MAX) {
		/* Ranges never touch, so the address after one is absent. */
		x = s->rs.r[i].hi + 1;
		if (x >= s->size)
			return false;
	}
	*ret = x;
	return true;
}

bool cidr_oset_next_present(cidr_oset *s, cidr_u128 x, cidr_u128 *ret)
{
	if (x >= s->size)
		return false;
	if (s->bitmap) {
		size_t r;
		if (!bm_next_present(&s->bm, (size_t)x, &r))
			return false;
		*ret = r;
		return true;
	}
	rs_normalize(&s->rs);
	size_t i = rs_lower(&s->rs, x);
	if (i >= s->rs.n)
		return false;
	*ret = s->rs.r[i].lo > x ? s->rs.r[i].lo : x;
	return true;
}

bool cidr_oset_prev_absent(cidr_oset *s, cidr_u128 x, cidr_u128 *ret)
{
	if (x >= s->size)
		x = s->size - 1;
	if (s->bitmap) {
		size_t r;
		if (!bm_prev_absent(&s->bm, (size_t)x, &r))
			return false;
		*ret = r;
		return true;
	}
	size_t i = rs_find(&s->rs, x);
	if (i != SIZE_MAX) {
		if (s->rs.r[i].lo == 0)
			return false;
		x = s->rs.r[i].lo - 1;
	}
	*ret = x;
	return true;
}

bool cidr_oset_prev_present(cidr_oset *s, cidr_u128 x, cidr_u128 *ret)
{
	if (x >= s->size)
		x = s->size - 1;
	if (s->bitmap) {
		size_t r;
		if (!bm_prev_present(&s->bm, (size_t)x, &r))
			return false;
		*ret = r;
		return true;
	}
	rs_normalize(&s->rs);
	/* Last range with lo <= x: the one before the first with lo > x. */
	size_t lo = 0, hi = s->rs.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rs.r[mid].lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	const cidr_rng *r = &s->rs.r[lo - 1];
	*ret = r->hi < x ? r->hi : x;
	return true;
}
