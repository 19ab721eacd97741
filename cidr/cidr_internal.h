/* cidr/ internals shared by its .c files: offset sets and error-text helpers.
 * Not part of the public API. */
#ifndef CIDR_INTERNAL_H
#define CIDR_INTERNAL_H

#include "cidr.h"

/* ---- error text ---- */

/* Render untrusted input for an error message: as is when it is short and made of
 * address characters, otherwise quoted with C escapes and truncated. Always
 * NUL-terminates `out` (size > 0). */
void cidr_render_value(const char *s, size_t len, char *out, size_t size);
#define CIDR_VALUE_TEXT 96u

/* ---- offset sets ----
 * A set of offsets 0 .. size-1 inside one subnet, in one of two representations:
 *  - bitmap (IPv4: size <= 65536): one bit per address in 64-bit words, plus a
 *    summary level with one bit per word that is set when the word is full, so that
 *    "next absent" skips 64 full words per summary bit scanned;
 *  - range list (IPv6): sorted, disjoint, non-adjacent [lo, hi] ranges, with an
 *    unsorted tail of recent additions merged in lazily (cidr_rs_normalize), so bulk
 *    loads cost O(n log n) and the usual "extend the first range" addition O(log n).
 * Range-list additions need room reserved beforehand (cidr_oset_reserve) so that a
 * sequence of changes either fails up front with HK_ERR_NOMEM or completes. */

typedef struct cidr_bm {
	uint64_t *w;	/* nwords words of bits */
	uint64_t *full; /* summary: bit i set when w[i] holds every valid bit */
	size_t nbits;
	size_t nwords;
	size_t nsum;
} cidr_bm;

typedef struct cidr_rng {
	cidr_u128 lo;
	cidr_u128 hi;
} cidr_rng;

typedef struct cidr_rs {
	cidr_rng *r;	   /* [0, nsorted) normalized, [nsorted, n) pending merge */
	cidr_rng *scratch; /* cap entries, for the merge */
	size_t n;
	size_t nsorted;
	size_t cap;
} cidr_rs;

typedef struct cidr_oset {
	bool bitmap;
	cidr_u128 size; /* offsets are 0 .. size-1 */
	cidr_bm bm;
	cidr_rs rs;
} cidr_oset;

/* Initialise an empty set over 0 .. size-1 (bitmap: size <= 65536).
 * Errors: HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_oset_init(cidr_oset *s, cidr_u128 size, bool bitmap);
/* Release storage; s may be zeroed or already cleaned up. */
void cidr_oset_cleanup(cidr_oset *s);
/* Make room for `more` additions (and one split by cidr_oset_remove). NOMEM. */
HK_MUST_CHECK hk_err cidr_oset_reserve(cidr_oset *s, size_t more);
/* Add lo..hi (lo <= hi < size). Needs one reserved slot for a range list. */
void cidr_oset_add(cidr_oset *s, cidr_u128 lo, cidr_u128 hi);
/* Remove lo..hi. Needs one reserved slot for a range list (a split). */
void cidr_oset_remove(cidr_oset *s, cidr_u128 lo, cidr_u128 hi);
/* Remove everything (keeps storage). */
void cidr_oset_clear(cidr_oset *s);
/* Add every member of src to dst (same size). Errors: HK_ERR_NOMEM (dst unchanged). */
HK_MUST_CHECK hk_err cidr_oset_union(cidr_oset *dst, cidr_oset *src);
/* Swap the contents of two sets. */
void cidr_oset_swap(cidr_oset *a, cidr_oset *b);

bool cidr_oset_contains(cidr_oset *s, cidr_u128 x);
cidr_u128 cidr_oset_count(cidr_oset *s);
/* Smallest offset >= x not in the set (false when none below size). */
bool cidr_oset_next_absent(cidr_oset *s, cidr_u128 x, cidr_u128 *ret);
/* Smallest offset >= x in the set. */
bool cidr_oset_next_present(cidr_oset *s, cidr_u128 x, cidr_u128 *ret);
/* Largest offset <= x not in the set. */
bool cidr_oset_prev_absent(cidr_oset *s, cidr_u128 x, cidr_u128 *ret);
/* Largest offset <= x in the set. */
bool cidr_oset_prev_present(cidr_oset *s, cidr_u128 x, cidr_u128 *ret);

#endif
