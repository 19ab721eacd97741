/* cidr/: IPv4 and IPv6 address math and the per-subnet address allocator.
 *
 * Pure C: no I/O, no logging, no libevent, no global state. Depends on common/ only.
 * A cidr_pool is used by one thread at a time (queries may compact its internal
 * storage, so even read-only calls must not run concurrently on one pool).
 *
 * Conventions: functions that can fail return hk_err and are HK_MUST_CHECK; output
 * parameters (ret_*) are written only on success; parsers never log, they fill the
 * optional hk_errinfo whose text starts with the offending value, e.g.
 *   "010.0.0.1: invalid IPv4 address (octet 1 has a leading zero)"
 *   "10.0.2.0/26: not inside subnet 10.0.1.0/24"
 * See docs/cidr.md for the rules and the data structures. */
#ifndef CIDR_H
#define CIDR_H

#include "hk_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address counts and offsets: IPv6 sizes exceed 64 bits (a /64 holds 2^64 addresses),
 * so they are unsigned 128-bit integers (GCC and Clang). The only value that does not
 * fit, the size of ::/0 (2^128), saturates to CIDR_U128_MAX. */
__extension__ typedef unsigned __int128 cidr_u128;
#define CIDR_U128_MAX (~(cidr_u128)0)

/* Longest text cidr_format_*() produce, NUL included: an address (45 chars at most,
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"), a prefix ("/128" more), a range
 * ("FIRST-LAST"), a decimal cidr_u128 (39 digits). */
#define CIDR_ADDR_STRLEN   46u
#define CIDR_PREFIX_STRLEN 50u
#define CIDR_RANGE_STRLEN  92u
#define CIDR_U128_STRLEN   40u

typedef enum cidr_family {
	CIDR_V4 = 4,
	CIDR_V6 = 6,
} cidr_family;

/* An address: `family` is CIDR_V4 or CIDR_V6; `bytes` in network order (IPv4 uses
 * bytes[0..3], the other twelve are zero). An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is an IPv6 address, never equal to or inside the IPv4 one. */
typedef struct cidr_addr {
	uint8_t family;
	uint8_t bytes[16];
} cidr_addr;

/* A prefix: `addr` is its first address (host bits zero), 0 <= len <= 32 or 128. */
typedef struct cidr_prefix {
	cidr_addr addr;
	unsigned len;
} cidr_prefix;

/* An inclusive range of addresses of one family, first <= last. */
typedef struct cidr_range {
	cidr_addr first;
	cidr_addr last;
} cidr_range;

/* A buffer big enough for any formatted address, prefix or range. */
typedef struct cidr_str {
	char s[CIDR_RANGE_STRLEN];
} cidr_str;

/* Flags for the parsers. */
enum {
	/* Mask host bits ("10.0.1.7/24" -> 10.0.1.0/24) instead of rejecting them. */
	CIDR_PARSE_NORMALIZE = 1u << 0,
	/* Accept a bare address as a single-address prefix (/32 or /128). */
	CIDR_PARSE_BARE = 1u << 1,
};

/* ---- parsing (strict; see docs/cidr.md for the accepted forms) ---- */

/* Parse one IPv4 ("10.0.1.4": four decimal octets, no leading zeros) or IPv6 address
 * (RFC 4291 text: 1-4 hex digits per group, either case, one "::", an optional trailing
 * dotted quad; no zone, brackets or blanks). The whole string must be the address.
 * Errors: HK_ERR_INVALID (ei says why, naming the value). */
HK_MUST_CHECK hk_err cidr_parse_addr(const char *str, cidr_addr *ret, hk_errinfo *ei);
/* cidr_parse_addr() on `len` bytes that need not be NUL-terminated (a NUL inside is
 * an error). */
HK_MUST_CHECK hk_err cidr_parse_addr_n(const char *s, size_t len, cidr_addr *ret, hk_errinfo *ei);

/* Parse "ADDR/LEN" (LEN decimal without leading zeros, at most 32 or 128).
 * Host bits set are an error unless flags has CIDR_PARSE_NORMALIZE; a bare ADDR is
 * an error unless flags has CIDR_PARSE_BARE. Errors: HK_ERR_INVALID. */
HK_MUST_CHECK hk_err cidr_parse_prefix(const char *str, unsigned flags, cidr_prefix *ret,
				       hk_errinfo *ei);
/* cidr_parse_prefix() on `len` bytes that need not be NUL-terminated. */
HK_MUST_CHECK hk_err cidr_parse_prefix_n(const char *s, size_t len, unsigned flags,
					 cidr_prefix *ret, hk_errinfo *ei);

/* Parse a range: "FIRST-LAST" (two addresses of one family, first <= last) or a prefix
 * as cidr_parse_prefix() with `flags` (with CIDR_PARSE_BARE a bare address is a
 * one-address range). Errors: HK_ERR_INVALID. */
HK_MUST_CHECK hk_err cidr_parse_range(const char *str, unsigned flags, cidr_range *ret,
				      hk_errinfo *ei);
/* cidr_parse_range() on `len` bytes that need not be NUL-terminated. */
HK_MUST_CHECK hk_err cidr_parse_range_n(const char *s, size_t len, unsigned flags, cidr_range *ret,
					hk_errinfo *ei);

/* ---- formatting (canonical) ---- */

/* Write the canonical text of `a` into buf: dotted quad for IPv4; RFC 5952 for IPv6
 * (lowercase, no leading zeros, the longest run of two or more zero groups as "::",
 * the first such run on ties, ::ffff:a.b.c.d for IPv4-mapped addresses).
 * Errors: HK_ERR_RANGE when `size` is too small (buf then holds "" if size > 0). */
HK_MUST_CHECK hk_err cidr_format_addr(const cidr_addr *a, char *buf, size_t size);
/* "ADDR/LEN" for a prefix. Errors as cidr_format_addr(). */
HK_MUST_CHECK hk_err cidr_format_prefix(const cidr_prefix *p, char *buf, size_t size);
/* "FIRST-LAST" for a range ("FIRST" alone when first == last). Errors as above. */
HK_MUST_CHECK hk_err cidr_format_range(const cidr_range *r, char *buf, size_t size);
/* Decimal text of a 128-bit count. Errors: HK_ERR_RANGE when `size` is too small. */
HK_MUST_CHECK hk_err cidr_format_u128(cidr_u128 v, char *buf, size_t size);

/* Convenience forms that cannot fail: format into `buf` and return buf->s. */
const char *cidr_addr_str(const cidr_addr *a, cidr_str *buf);
const char *cidr_prefix_str(const cidr_prefix *p, cidr_str *buf);
const char *cidr_range_str(const cidr_range *r, cidr_str *buf);
const char *cidr_u128_str(cidr_u128 v, cidr_str *buf);

/* ---- address and prefix math ---- */

/* 32 for CIDR_V4, 128 for CIDR_V6, 0 for anything else. */
unsigned cidr_family_bits(unsigned family);

/* Total order: every IPv4 address sorts before every IPv6 one, then numerically.
 * Returns <0, 0 or >0. */
int cidr_addr_cmp(const cidr_addr *a, const cidr_addr *b);
/* True when a and b are the same address of the same family. */
bool cidr_addr_eq(const cidr_addr *a, const cidr_addr *b);
/* True for ::ffff:0:0/96 (IPv4-mapped IPv6). */
bool cidr_addr_is_v4_mapped(const cidr_addr *a);

/* The address as an integer (IPv4: 0 .. 2^32-1). */
cidr_u128 cidr_addr_to_u128(const cidr_addr *a);
/* The address of `family` whose integer value is v (bits above 32 ignored for IPv4). */
cidr_addr cidr_addr_from_u128(cidr_family family, cidr_u128 v);
/* *ret = a + delta. Errors: HK_ERR_RANGE when that passes the family's last address. */
HK_MUST_CHECK hk_err cidr_addr_add(const cidr_addr *a, cidr_u128 delta, cidr_addr *ret);

/* Build the prefix a/len. Host bits set are HK_ERR_INVALID unless flags has
 * CIDR_PARSE_NORMALIZE; len too long is HK_ERR_RANGE; ei names the value. */
HK_MUST_CHECK hk_err cidr_prefix_make(const cidr_addr *a, unsigned len, unsigned flags,
				      cidr_prefix *ret, hk_errinfo *ei);
/* First and last address of p (for IPv4 /31 and /32 too: no network/broadcast rule). */
cidr_addr cidr_prefix_first(const cidr_prefix *p);
cidr_addr cidr_prefix_last(const cidr_prefix *p);
/* Number of addresses in p: 2^(bits - len); ::/0 saturates to CIDR_U128_MAX. */
cidr_u128 cidr_prefix_size(const cidr_prefix *p);
/* True when a is inside p (same family, same leading len bits). */
bool cidr_prefix_contains(const cidr_prefix *p, const cidr_addr *a);
/* True when every address of inner is inside outer. */
bool cidr_prefix_contains_prefix(const cidr_prefix *outer, const cidr_prefix *inner);
/* True when a and b share at least one address (for prefixes: one contains the other). */
bool cidr_prefix_overlaps(const cidr_prefix *a, const cidr_prefix *b);
/* The range first..last of p. */
cidr_range cidr_prefix_range(const cidr_prefix *p);

/* True when a lies in r (same family). */
bool cidr_range_contains(const cidr_range *r, const cidr_addr *a);
/* Number of addresses in r (last - first + 1; saturates for the whole IPv6 space). */
cidr_u128 cidr_range_size(const cidr_range *r);

/* Iterate over every address of a prefix or range, in order:
 *   cidr_iter it; cidr_iter_init_prefix(&it, &p);
 *   cidr_addr a; while (cidr_iter_next(&it, &a)) ...
 * The iterator holds no pointers into p. Stop early whenever you like. */
typedef struct cidr_iter {
	cidr_u128 next;
	cidr_u128 last;
	uint8_t family;
	bool done;
} cidr_iter;
void cidr_iter_init_prefix(cidr_iter *it, const cidr_prefix *p);
void cidr_iter_init_range(cidr_iter *it, const cidr_range *r);
/* Store the next address in *ret and return true; false (and *ret untouched) at the end. */
bool cidr_iter_next(cidr_iter *it, cidr_addr *ret);

/* ---- AWS subnets ---- */

/* Accept the subnet sizes EC2 allows: IPv4 /16 to /28; IPv6 /44 to /64 in steps of 4
 * (/64 is the usual one). Host bits must be zero. Errors: HK_ERR_RANGE for a bad size
 * ("10.0.0.0/29: AWS subnets must be /16 to /28"), HK_ERR_INVALID otherwise. */
HK_MUST_CHECK hk_err cidr_subnet_check(const cidr_prefix *subnet, hk_errinfo *ei);

/* True when EC2 never hands out `a` in `subnet`: the first four addresses and the
 * last one of the subnet CIDR (IPv4: network, router, DNS, future use, broadcast;
 * IPv6: the same positions). False for addresses outside the subnet. */
bool cidr_subnet_is_aws_reserved(const cidr_prefix *subnet, const cidr_addr *a);

/* ---- the per-subnet allocator ---- */

/* One subnet's address book. Sets kept (see docs/cidr.md):
 *   used     everything EC2 reports in use (addresses and delegated prefixes)
 *   pending  addresses handed out by cidr_pool_alloc()/claim() and not yet confirmed
 *   reserved subnet CIDR reservations, explicit and prefix
 *   pod      the configured pod range(s)
 * plus the five AWS-reserved addresses. An address is free when it is in none. */
typedef struct cidr_pool cidr_pool;

/* Kinds of subnet CIDR reservation (EC2 ReservationType). Both block allocation. */
typedef enum cidr_resv_kind {
	CIDR_RESV_EXPLICIT = 0,
	CIDR_RESV_PREFIX = 1,
} cidr_resv_kind;

/* Membership flags returned by cidr_pool_addr_state(); 0 means free. */
enum {
	CIDR_ST_OUTSIDE = 1u << 0, /* not in the subnet (other family or range) */
	CIDR_ST_AWS = 1u << 1,	   /* one of the five AWS-reserved addresses */
	CIDR_ST_USED = 1u << 2,
	CIDR_ST_PENDING = 1u << 3,
	CIDR_ST_RESV_EXPLICIT = 1u << 4,
	CIDR_ST_RESV_PREFIX = 1u << 5,
	CIDR_ST_POD = 1u << 6,
};

/* Counts of a pool. Each set is counted on its own (an address both used and inside a
 * reservation counts in both); `free` counts addresses in no set at all. */
typedef struct cidr_pool_stats {
	cidr_u128 size;		 /* addresses in the subnet CIDR */
	cidr_u128 aws_reserved;	 /* always 5 */
	cidr_u128 used;		 /* distinct addresses marked used */
	cidr_u128 pending;	 /* handed out, not yet confirmed */
	cidr_u128 resv_explicit; /* addresses inside explicit reservations */
	cidr_u128 resv_prefix;	 /* addresses inside prefix reservations */
	cidr_u128 pod;		 /* addresses inside the pod range(s) */
	cidr_u128 free;		 /* addresses a worker could still get */
} cidr_pool_stats;

/* Create an empty pool for `subnet` (checked with cidr_subnet_check()). Memory: IPv4
 * uses bitmaps (a /16 costs about 48 KiB in all, six 8 KiB bitmaps); IPv6 uses sorted
 * range lists proportional to the number of used/pending/reserved ranges.
 * The caller owns *ret and frees it with cidr_pool_free().
 * Errors: HK_ERR_RANGE / HK_ERR_INVALID (bad subnet, see ei), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_new(const cidr_prefix *subnet, cidr_pool **ret, hk_errinfo *ei);
/* Free a pool; NULL is fine. */
void cidr_pool_free(cidr_pool *pool);
/* The subnet of the pool (borrowed, valid while the pool lives). */
const cidr_prefix *cidr_pool_subnet(const cidr_pool *pool);

/* Mark every address of p used (an address is a /32 or /128 prefix; a delegated
 * prefix such as a /28 or /80 marks all of it). Idempotent. Pending addresses stay
 * pending. Errors: HK_ERR_RANGE when p is not entirely inside the subnet (ei names
 * it: "10.0.9.1/32: not inside subnet 10.0.1.0/24"), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_mark_used(cidr_pool *pool, const cidr_prefix *p, hk_errinfo *ei);
/* cidr_pool_mark_used() for one address. */
HK_MUST_CHECK hk_err cidr_pool_mark_used_addr(cidr_pool *pool, const cidr_addr *a, hk_errinfo *ei);
/* Forget every used address (before re-feeding a fresh DescribeNetworkInterfaces),
 * keeping pending addresses, reservations and pod ranges.
 * Errors: HK_ERR_NOMEM (the pool is then unchanged). */
HK_MUST_CHECK hk_err cidr_pool_reset_used(cidr_pool *pool);

/* Add a subnet CIDR reservation. Reservations may overlap or touch each other.
 * Errors: HK_ERR_RANGE (not inside the subnet), HK_ERR_INVALID (bad kind), NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_reserve(cidr_pool *pool, const cidr_prefix *p, cidr_resv_kind kind,
				       hk_errinfo *ei);
/* Drop every reservation (before re-feeding GetSubnetCidrReservations).
 * Errors: HK_ERR_NOMEM (the pool is then unchanged). */
HK_MUST_CHECK hk_err cidr_pool_clear_reservations(cidr_pool *pool);
/* Replace the pod range(s) with ranges[0..n) (n == 0 clears them). Ranges may overlap.
 * Errors: HK_ERR_RANGE when a range is not inside the subnet, HK_ERR_INVALID when
 * first > last or families differ, HK_ERR_NOMEM; the pool is unchanged on error. */
HK_MUST_CHECK hk_err cidr_pool_set_pod_range(cidr_pool *pool, const cidr_range *ranges, size_t n,
					     hk_errinfo *ei);

/* Hand out the n lowest free addresses (from the start of the subnet) and mark them
 * pending; write them in ascending order to ret_addrs[0..n). Deterministic: the same
 * pool contents always give the same addresses. Errors: HK_ERR_INVALID (n == 0),
 * HK_ERR_FULL (fewer than n free; nothing is marked), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_alloc(cidr_pool *pool, size_t n, cidr_addr *ret_addrs);
/* Mark one specific free address pending (e.g. re-loading in-flight launches after a
 * restart). Errors: HK_ERR_RANGE (outside the subnet), HK_ERR_EXISTS (not free),
 * HK_ERR_NOMEM; ei says why. */
HK_MUST_CHECK hk_err cidr_pool_claim(cidr_pool *pool, const cidr_addr *a, hk_errinfo *ei);
/* Pending -> used (the ENI was created with it). Errors: HK_ERR_RANGE (outside the
 * subnet), HK_ERR_NOT_FOUND (not pending), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_confirm(cidr_pool *pool, const cidr_addr *a);
/* Pending -> free unless also used, reserved or pod (the launch gave up on it).
 * Errors: HK_ERR_RANGE, HK_ERR_NOT_FOUND (not pending), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err cidr_pool_release(cidr_pool *pool, const cidr_addr *a);

/* The lowest free address after `after` (NULL: from the start of the subnet), without
 * marking it. Errors: HK_ERR_FULL (none), HK_ERR_RANGE (after is outside the subnet). */
HK_MUST_CHECK hk_err cidr_pool_next_free(cidr_pool *pool, const cidr_addr *after, cidr_addr *ret);
/* CIDR_ST_* flags of `a` (0: free). */
unsigned cidr_pool_addr_state(cidr_pool *pool, const cidr_addr *a);
/* Number of free addresses. */
cidr_u128 cidr_pool_free_count(cidr_pool *pool);
/* All counts at once. */
void cidr_pool_stats_get(cidr_pool *pool, cidr_pool_stats *ret);
/* The free range at the end of the subnet: the run of free addresses with the highest
 * last address (what operators can still give to pods; the run stops at the first
 * non-free address going down). Errors: HK_ERR_FULL (no free address at all). */
HK_MUST_CHECK hk_err cidr_pool_tail_free_range(cidr_pool *pool, cidr_range *ret);
/* The longest run of free addresses (the lowest one on ties). Errors: HK_ERR_FULL. */
HK_MUST_CHECK hk_err cidr_pool_largest_free_range(cidr_pool *pool, cidr_range *ret);

#endif
