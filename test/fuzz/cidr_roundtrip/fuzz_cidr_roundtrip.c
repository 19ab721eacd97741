/* libFuzzer target: parse -> format -> parse round trips of addresses, prefixes and
 * ranges must be stable, and formatted text must be canonical (formatting the
 * re-parsed value gives the same bytes). Addresses are also checked against glibc:
 * inet_pton must accept exactly what cidr accepts, with the same bytes, and
 * inet_ntop must print the same text (except for deprecated IPv4-compatible
 * addresses, which glibc prints as ::a.b.c.d; see docs/cidr.md). Any mismatch aborts. */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_cidr_roundtrip: check failed: %s (line %d)\n",       \
				#cond, __LINE__);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A failed parse must leave a NUL-terminated, non-empty message and the INVALID code. */
static void check_error(hk_err err, const hk_errinfo *ei)
{
	CHECK(err == HK_ERR_INVALID);
	CHECK(ei->code == HK_ERR_INVALID);
	CHECK(memchr(ei->text, '\0', sizeof(ei->text)) != NULL);
	CHECK(ei->text[0] != '\0');
}

/* Compare with glibc on inputs it can see (NUL-terminated, short). */
static void compare_glibc(const char *s, size_t len, hk_err err, const cidr_addr *a,
			  const char *text)
{
	char z[64];
	uint8_t b[16];
	if (len >= sizeof(z) || memchr(s, '\0', len))
		return;
	memcpy(z, s, len);
	z[len] = '\0';
	bool v6 = memchr(z, ':', len) != NULL;
	int ok = inet_pton(v6 ? AF_INET6 : AF_INET, z, b);
	CHECK((ok == 1) == (err == HK_OK));
	if (err != HK_OK)
		return;
	CHECK(a->family == (v6 ? CIDR_V6 : CIDR_V4));
	CHECK(memcmp(a->bytes, b, v6 ? 16 : 4) == 0);
	static const uint8_t zero12[12] = {0};
	bool compat = v6 && !memcmp(a->bytes, zero12, 12) && (a->bytes[12] || a->bytes[13]);
	char g[INET6_ADDRSTRLEN];
	CHECK(inet_ntop(v6 ? AF_INET6 : AF_INET, b, g, sizeof(g)) != NULL);
	if (!compat)
		CHECK(strcmp(g, text) == 0);
}

static void addr_roundtrip(const char *s, size_t len)
{
	cidr_addr a, b;
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	hk_err err = cidr_parse_addr_n(s, len, &a, &ei);
	if (err != HK_OK) {
		check_error(err, &ei);
		compare_glibc(s, len, err, NULL, NULL);
		return;
	}
	char t1[CIDR_ADDR_STRLEN], t2[CIDR_ADDR_STRLEN];
	CHECK(cidr_format_addr(&a, t1, sizeof(t1)) == HK_OK);
	compare_glibc(s, len, err, &a, t1);
	CHECK(cidr_parse_addr(t1, &b, NULL) == HK_OK);
	CHECK(cidr_addr_eq(&a, &b));
	CHECK(cidr_format_addr(&b, t2, sizeof(t2)) == HK_OK);
	CHECK(strcmp(t1, t2) == 0);
	/* Canonical text is lowercase and never longer than the input allows. */
	for (const char *p = t1; *p; p++)
		CHECK(!(*p >= 'A' && *p <= 'Z'));
	cidr_addr c = cidr_addr_from_u128((cidr_family)a.family, cidr_addr_to_u128(&a));
	CHECK(cidr_addr_eq(&a, &c));
}

static void prefix_roundtrip(const char *s, size_t len, unsigned flags)
{
	cidr_prefix p, q;
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	hk_err err = cidr_parse_prefix_n(s, len, flags, &p, &ei);
	if (err != HK_OK) {
		check_error(err, &ei);
		return;
	}
	char t1[CIDR_PREFIX_STRLEN], t2[CIDR_PREFIX_STRLEN];
	CHECK(cidr_format_prefix(&p, t1, sizeof(t1)) == HK_OK);
	/* Parsed prefixes are normalized: the canonical text parses strictly. */
	CHECK(cidr_parse_prefix(t1, 0, &q, NULL) == HK_OK);
	CHECK(q.len == p.len && cidr_addr_eq(&q.addr, &p.addr));
	CHECK(cidr_format_prefix(&q, t2, sizeof(t2)) == HK_OK);
	CHECK(strcmp(t1, t2) == 0);
	cidr_addr first = cidr_prefix_first(&p), last = cidr_prefix_last(&p);
	CHECK(cidr_addr_eq(&first, &p.addr));
	CHECK(cidr_addr_cmp(&first, &last) <= 0);
	CHECK(cidr_prefix_contains(&p, &first) && cidr_prefix_contains(&p, &last));
	CHECK(cidr_prefix_contains_prefix(&p, &q) && cidr_prefix_overlaps(&p, &q));
	cidr_range r = cidr_prefix_range(&p);
	CHECK(cidr_range_size(&r) == cidr_prefix_size(&p));
}

static void range_roundtrip(const char *s, size_t len)
{
	cidr_range r, q;
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	hk_err err = cidr_parse_range_n(s, len, CIDR_PARSE_BARE, &r, &ei);
	if (err != HK_OK) {
		check_error(err, &ei);
		return;
	}
	char t1[CIDR_RANGE_STRLEN], t2[CIDR_RANGE_STRLEN];
	CHECK(cidr_addr_cmp(&r.first, &r.last) <= 0);
	CHECK(cidr_format_range(&r, t1, sizeof(t1)) == HK_OK);
	CHECK(cidr_parse_range(t1, CIDR_PARSE_BARE, &q, NULL) == HK_OK);
	CHECK(cidr_addr_eq(&q.first, &r.first) && cidr_addr_eq(&q.last, &r.last));
	CHECK(cidr_format_range(&q, t2, sizeof(t2)) == HK_OK);
	CHECK(strcmp(t1, t2) == 0);
	CHECK(cidr_range_contains(&r, &r.first) && cidr_range_contains(&r, &r.last));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	addr_roundtrip(s, size);
	prefix_roundtrip(s, size, 0);
	prefix_roundtrip(s, size, CIDR_PARSE_NORMALIZE | CIDR_PARSE_BARE);
	range_roundtrip(s, size);
	return 0;
}
