/* Unit tests of cidr/: parsing, formatting, prefix math, AWS subnet rules and the
 * allocator, including a randomized comparison against a naive model. */
#include "hk_test.h"

#include "cidr.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ---- */

static cidr_addr A(const char *s)
{
	cidr_addr a;
	hk_errinfo ei = {0};
	hk_err err = cidr_parse_addr(s, &a, &ei);
	if (err != HK_OK)
		fail_msg("parse_addr(%s): %s", s, ei.text);
	return a;
}

static cidr_prefix P(const char *s)
{
	cidr_prefix p;
	hk_errinfo ei = {0};
	hk_err err = cidr_parse_prefix(s, CIDR_PARSE_BARE, &p, &ei);
	if (err != HK_OK)
		fail_msg("parse_prefix(%s): %s", s, ei.text);
	return p;
}

static cidr_range R(const char *s)
{
	cidr_range r;
	hk_errinfo ei = {0};
	hk_err err = cidr_parse_range(s, CIDR_PARSE_BARE, &r, &ei);
	if (err != HK_OK)
		fail_msg("parse_range(%s): %s", s, ei.text);
	return r;
}

static cidr_pool *pool_of(const char *subnet)
{
	cidr_prefix p = P(subnet);
	cidr_pool *pool = NULL;
	hk_errinfo ei = {0};
	hk_err err = cidr_pool_new(&p, &pool, &ei);
	if (err != HK_OK)
		fail_msg("pool_new(%s): %s", subnet, ei.text);
	return pool;
}

static void used(cidr_pool *pool, const char *s)
{
	cidr_prefix p = P(s);
	hk_errinfo ei = {0};
	hk_err err = cidr_pool_mark_used(pool, &p, &ei);
	if (err != HK_OK)
		fail_msg("mark_used(%s): %s", s, ei.text);
}

static void reserve(cidr_pool *pool, const char *s, cidr_resv_kind kind)
{
	cidr_prefix p = P(s);
	hk_errinfo ei = {0};
	hk_err err = cidr_pool_reserve(pool, &p, kind, &ei);
	if (err != HK_OK)
		fail_msg("reserve(%s): %s", s, ei.text);
}

/* Allocate n and compare with the space-separated expectation. */
static void expect_alloc(cidr_pool *pool, size_t n, const char *want)
{
	cidr_addr got[64];
	cidr_str sb;
	char text[2048] = "";
	size_t len = 0;
	assert_true(n <= HK_ARRAY_LEN(got));
	hk_err err = cidr_pool_alloc(pool, n, got);
	if (err != HK_OK)
		fail_msg("alloc(%zu): %s, wanted %s", n, hk_err_str(err), want);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? " " : "",
					cidr_addr_str(&got[i], &sb));
	assert_string_equal(text, want);
}

static void expect_free(cidr_pool *pool, cidr_u128 want)
{
	cidr_str a, b;
	cidr_u128 got = cidr_pool_free_count(pool);
	if (got != want)
		fail_msg("free count %s, wanted %s", cidr_u128_str(got, &a),
			 cidr_u128_str(want, &b));
}

static void expect_tail(cidr_pool *pool, const char *want)
{
	cidr_range r;
	cidr_str sb;
	if (!want) {
		assert_int_equal(cidr_pool_tail_free_range(pool, &r), HK_ERR_FULL);
		return;
	}
	assert_int_equal(cidr_pool_tail_free_range(pool, &r), HK_OK);
	assert_string_equal(cidr_range_str(&r, &sb), want);
}

static cidr_u128 pow2(unsigned n)
{
	return (cidr_u128)1 << n;
}

/* ---- data-driven parser cases (test/data/cidr) ---- */

/* Decode \xNN, \t, \n, \\ in place; returns the decoded length. */
static size_t unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i];) {
		if (s[i] == '\\' && s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
			char hex[3] = {s[i + 2], s[i + 3], 0};
			s[o++] = (char)strtoul(hex, NULL, 16);
			i += 4;
		} else if (s[i] == '\\' && s[i + 1] == 't') {
			s[o++] = '\t';
			i += 2;
		} else if (s[i] == '\\' && s[i + 1] == 'n') {
			s[o++] = '\n';
			i += 2;
		} else if (s[i] == '\\' && s[i + 1] == '\\') {
			s[o++] = '\\';
			i += 2;
		} else {
			s[o++] = s[i++];
		}
	}
	s[o] = '\0';
	return o;
}

typedef enum { K_ADDR, K_PREFIX, K_PREFIX_NORM, K_RANGE } kind;

/* Parse input as `k`; on success format it into out. */
static hk_err parse_as(kind k, const char *in, size_t len, char *out, size_t outsz, hk_errinfo *ei)
{
	hk_err err;
	if (k == K_ADDR) {
		cidr_addr a;
		if ((err = cidr_parse_addr_n(in, len, &a, ei)) == HK_OK)
			err = cidr_format_addr(&a, out, outsz);
	} else if (k == K_RANGE) {
		cidr_range r;
		if ((err = cidr_parse_range_n(in, len, CIDR_PARSE_BARE, &r, ei)) == HK_OK)
			err = cidr_format_range(&r, out, outsz);
	} else {
		cidr_prefix p;
		unsigned fl = k == K_PREFIX_NORM ? CIDR_PARSE_NORMALIZE | CIDR_PARSE_BARE : 0;
		if ((err = cidr_parse_prefix_n(in, len, fl, &p, ei)) == HK_OK)
			err = cidr_format_prefix(&p, out, outsz);
	}
	return err;
}

static void run_data_file(const char *rel, kind k, bool valid)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", HK_CIDR_DATA_DIR, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char line[512];
	int lineno = 0, cases = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (line[0] == '\0'))
			continue;
		char *tab = strchr(line, '\t');
		if (!tab)
			fail_msg("%s:%d: no TAB", rel, lineno);
		*tab = '\0';
		const char *want = tab + 1;
		size_t len = unescape(line);
		char out[CIDR_RANGE_STRLEN];
		hk_errinfo ei = {0};
		hk_err err = parse_as(k, line, len, out, sizeof(out), &ei);
		if (valid) {
			if (err != HK_OK)
				fail_msg("%s:%d: %s rejected: %s", rel, lineno, line, ei.text);
			if (strcmp(out, want) != 0)
				fail_msg("%s:%d: formatted as %s, wanted %s", rel, lineno, out,
					 want);
			/* And the canonical form is a fixed point. */
			char again[CIDR_RANGE_STRLEN];
			assert_int_equal(parse_as(k, out, strlen(out), again, sizeof(again), &ei),
					 HK_OK);
			assert_string_equal(again, out);
		} else {
			if (err != HK_ERR_INVALID)
				fail_msg("%s:%d: accepted (%s), wanted error '%s'", rel, lineno,
					 hk_err_str(err), want);
			if (!strstr(ei.text, want))
				fail_msg("%s:%d: error '%s' lacks '%s'", rel, lineno, ei.text,
					 want);
			assert_int_equal(ei.code, HK_ERR_INVALID);
		}
		cases++;
	}
	fclose(f);
	assert_true(cases > 0);
}

static void data_valid_addresses(void **state)
{
	run_data_file("valid/addresses.tsv", K_ADDR, true);
}

static void data_valid_prefixes(void **state)
{
	run_data_file("valid/prefixes.tsv", K_PREFIX, true);
}

static void data_valid_prefixes_normalize(void **state)
{
	run_data_file("valid/prefixes-normalize.tsv", K_PREFIX_NORM, true);
}

static void data_valid_ranges(void **state)
{
	run_data_file("valid/ranges.tsv", K_RANGE, true);
}

static void data_invalid_addresses(void **state)
{
	run_data_file("invalid/addresses.tsv", K_ADDR, false);
}

static void data_invalid_prefixes(void **state)
{
	run_data_file("invalid/prefixes.tsv", K_PREFIX, false);
}

static void data_invalid_ranges(void **state)
{
	run_data_file("invalid/ranges.tsv", K_RANGE, false);
}

/* ---- parsing details ---- */

static void parse_addr_bytes(void **state)
{
	cidr_addr a = A("10.0.1.4");
	assert_int_equal(a.family, CIDR_V4);
	assert_int_equal(a.bytes[0], 10);
	assert_int_equal(a.bytes[3], 4);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.bytes[i], 0);
	cidr_addr b = A("2001:db8::ff");
	assert_int_equal(b.family, CIDR_V6);
	assert_int_equal(b.bytes[0], 0x20);
	assert_int_equal(b.bytes[1], 0x01);
	assert_int_equal(b.bytes[3], 0xb8);
	assert_int_equal(b.bytes[15], 0xff);
}

static void parse_error_names_value_and_offset(void **state)
{
	cidr_addr a = A("1.1.1.1"), before = a;
	hk_errinfo ei = {0};
	assert_int_equal(cidr_parse_addr("10.0.300.1", &a, &ei), HK_ERR_INVALID);
	assert_string_equal(ei.text,
			    "10.0.300.1: invalid IPv4 address (octet 3 is greater than 255)");
	assert_int_equal(ei.offset, 5);
	assert_memory_equal(&a, &before, sizeof(a)); /* untouched on failure */

	/* Unprintable and long values are quoted, escaped and truncated. */
	assert_int_equal(cidr_parse_addr("10.0.0.1\n", &a, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "\"10.0.0.1\\x0a\""));
	char big[300];
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cidr_parse_addr(big, &a, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "\"...: invalid IPv4 address (too long)"));
	assert_true(strlen(ei.text) < 120);

	/* A NULL errinfo is fine. */
	assert_int_equal(cidr_parse_addr("x", &a, NULL), HK_ERR_INVALID);
	/* The _n forms stop at len. */
	assert_int_equal(cidr_parse_addr_n("10.0.0.1garbage", 8, &a, &ei), HK_OK);
	assert_true(cidr_addr_eq(&a, &(cidr_addr){.family = CIDR_V4, .bytes = {10, 0, 0, 1}}));
}

static void parse_prefix_flags(void **state)
{
	cidr_prefix p;
	hk_errinfo ei = {0};
	assert_int_equal(cidr_parse_prefix("10.0.1.7/24", 0, &p, &ei), HK_ERR_INVALID);
	assert_string_equal(
	    ei.text, "10.0.1.7/24: invalid CIDR (host bits set; the network is 10.0.1.0/24)");
	assert_int_equal(cidr_parse_prefix("10.0.1.7/24", CIDR_PARSE_NORMALIZE, &p, &ei), HK_OK);
	assert_int_equal(p.len, 24);
	cidr_addr net = A("10.0.1.0");
	assert_true(cidr_addr_eq(&p.addr, &net));
	assert_int_equal(cidr_parse_prefix("10.0.1.7", 0, &p, &ei), HK_ERR_INVALID);
	assert_string_equal(ei.text, "10.0.1.7: invalid CIDR (no /prefix-length)");
	assert_int_equal(cidr_parse_prefix("10.0.1.7", CIDR_PARSE_BARE, &p, &ei), HK_OK);
	assert_int_equal(p.len, 32);
	assert_int_equal(cidr_parse_prefix("2001:db8::7", CIDR_PARSE_BARE, &p, &ei), HK_OK);
	assert_int_equal(p.len, 128);
	assert_int_equal(cidr_parse_prefix("0.0.0.0/0", 0, &p, &ei), HK_OK);
	assert_int_equal(p.len, 0);
	assert_int_equal(cidr_parse_prefix("::/128", 0, &p, &ei), HK_OK);
	assert_int_equal(p.len, 128);
	assert_int_equal(cidr_parse_prefix("1.2.3.4/32", 0, &p, &ei), HK_OK);
	assert_int_equal(cidr_parse_prefix("1.2.3.5/31", 0, &p, &ei), HK_ERR_INVALID);
}

static void parse_v4_mapped_is_ipv6(void **state)
{
	cidr_addr m = A("::ffff:10.0.1.5"), v4 = A("10.0.1.5");
	assert_int_equal(m.family, CIDR_V6);
	assert_true(cidr_addr_is_v4_mapped(&m));
	assert_false(cidr_addr_is_v4_mapped(&v4));
	assert_false(cidr_addr_eq(&m, &v4));
	cidr_prefix net = P("10.0.1.0/24");
	assert_false(cidr_prefix_contains(&net, &m));
	cidr_addr compat = A("::10.0.1.5"); /* deprecated IPv4-compatible: plain hex */
	assert_false(cidr_addr_is_v4_mapped(&compat));
	cidr_str sb;
	assert_string_equal(cidr_addr_str(&compat, &sb), "::a00:105");
	assert_string_equal(cidr_addr_str(&m, &sb), "::ffff:10.0.1.5");
}

/* ---- formatting ---- */

static void format_rfc5952(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
	    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* 4.2.2: one zero group */
	    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},	      /* 4.2.3: longest run */
	    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    /* 4.2.3: first of equal */
	    {"2001:DB8::AbCd", "2001:db8::abcd"},	      /* 4.3: lowercase */
	    {"2001:0db8::0001", "2001:db8::1"},		      /* 4.1: no leading zeros */
	    {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},	      /* 5: mapped */
	    {"0:0:0:0:0:ffff:c000:0280", "::ffff:192.0.2.128"},
	    {"1:0:0:0:0:0:0:0", "1::"},
	    {"0:0:0:0:0:0:0:0", "::"},
	    {"0:0:1:0:0:0:0:0", "0:0:1::"},
	    {"0:0:0:0:1:0:0:0", "::1:0:0:0"},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(cases); i++) {
		cidr_addr a = A(cases[i].in);
		char buf[CIDR_ADDR_STRLEN];
		assert_int_equal(cidr_format_addr(&a, buf, sizeof(buf)), HK_OK);
		assert_string_equal(buf, cases[i].want);
	}
}

static void format_small_buffer(void **state)
{
	cidr_addr a = A("192.168.100.200");
	char buf[16];
	assert_int_equal(cidr_format_addr(&a, buf, 15), HK_ERR_RANGE);
	assert_string_equal(buf, "");
	assert_int_equal(cidr_format_addr(&a, buf, 16), HK_OK);
	assert_string_equal(buf, "192.168.100.200");
	assert_int_equal(cidr_format_addr(&a, buf, 0), HK_ERR_RANGE);
	cidr_prefix p = P("10.0.0.0/8");
	assert_int_equal(cidr_format_prefix(&p, buf, 10), HK_ERR_RANGE);
	assert_int_equal(cidr_format_prefix(&p, buf, 11), HK_OK);
	assert_string_equal(buf, "10.0.0.0/8");
	/* The longest IPv6 text fits the documented maximum. */
	cidr_addr m = A("1111:2222:3333:4444:5555:6666:7777:8888");
	char big[CIDR_ADDR_STRLEN];
	assert_int_equal(cidr_format_addr(&m, big, sizeof(big)), HK_OK);
	assert_int_equal(strlen(big), 39);
}

static void format_u128(void **state)
{
	cidr_str sb;
	assert_string_equal(cidr_u128_str(0, &sb), "0");
	assert_string_equal(cidr_u128_str(pow2(64), &sb), "18446744073709551616");
	assert_string_equal(cidr_u128_str(CIDR_U128_MAX, &sb),
			    "340282366920938463463374607431768211455");
	char small[3];
	assert_int_equal(cidr_format_u128(1000, small, sizeof(small)), HK_ERR_RANGE);
	cidr_range r = R("10.0.0.1-10.0.0.9");
	assert_string_equal(cidr_range_str(&r, &sb), "10.0.0.1-10.0.0.9");
}

/* ---- math ---- */

static void addr_cmp_and_int(void **state)
{
	cidr_addr a = A("10.0.0.1"), b = A("10.0.0.2"), c = A("::1");
	assert_true(cidr_addr_cmp(&a, &b) < 0);
	assert_true(cidr_addr_cmp(&b, &a) > 0);
	assert_true(cidr_addr_cmp(&a, &a) == 0);
	assert_true(cidr_addr_cmp(&b, &c) < 0); /* IPv4 before IPv6 */
	assert_true(cidr_addr_to_u128(&a) == 0x0a000001u);
	assert_true(cidr_addr_to_u128(&c) == 1);
	cidr_addr d = cidr_addr_from_u128(CIDR_V4, 0x0a000001u);
	assert_true(cidr_addr_eq(&a, &d));
	cidr_addr top = cidr_addr_from_u128(CIDR_V6, CIDR_U128_MAX);
	cidr_str sb;
	assert_string_equal(cidr_addr_str(&top, &sb), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(cidr_family_bits(CIDR_V4), 32);
	assert_int_equal(cidr_family_bits(CIDR_V6), 128);
	assert_int_equal(cidr_family_bits(5), 0);
	/* Unused bytes of an IPv4 address do not take part in comparisons. */
	cidr_addr junk = a;
	junk.bytes[9] = 0x55;
	assert_true(cidr_addr_eq(&a, &junk));
}

static void addr_add(void **state)
{
	cidr_addr r, a = A("10.0.0.255");
	cidr_str sb;
	assert_int_equal(cidr_addr_add(&a, 1, &r), HK_OK);
	assert_string_equal(cidr_addr_str(&r, &sb), "10.0.1.0");
	cidr_addr m = A("255.255.255.254");
	assert_int_equal(cidr_addr_add(&m, 1, &r), HK_OK);
	assert_string_equal(cidr_addr_str(&r, &sb), "255.255.255.255");
	cidr_addr keep = r;
	assert_int_equal(cidr_addr_add(&m, 2, &r), HK_ERR_RANGE);
	assert_true(cidr_addr_eq(&r, &keep));
	cidr_addr v6 = A("2001:db8::ffff:ffff:ffff");
	assert_int_equal(cidr_addr_add(&v6, 1, &r), HK_OK);
	assert_string_equal(cidr_addr_str(&r, &sb), "2001:db8:0:0:1::"); /* longest zero run */
	cidr_addr v6top = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(cidr_addr_add(&v6top, 1, &r), HK_ERR_RANGE);
}

static void prefix_first_last_size(void **state)
{
	cidr_str sb;
	cidr_prefix p = P("10.0.1.0/24");
	cidr_addr f = cidr_prefix_first(&p), l = cidr_prefix_last(&p);
	assert_string_equal(cidr_addr_str(&f, &sb), "10.0.1.0");
	assert_string_equal(cidr_addr_str(&l, &sb), "10.0.1.255");
	assert_true(cidr_prefix_size(&p) == 256);
	cidr_prefix all4 = P("0.0.0.0/0");
	assert_true(cidr_prefix_size(&all4) == pow2(32));
	l = cidr_prefix_last(&all4);
	assert_string_equal(cidr_addr_str(&l, &sb), "255.255.255.255");
	cidr_prefix h = P("10.0.1.9/32");
	assert_true(cidr_prefix_size(&h) == 1);
	cidr_prefix s64 = P("2600:1f18:abcd:1200::/64");
	assert_true(cidr_prefix_size(&s64) == pow2(64));
	l = cidr_prefix_last(&s64);
	assert_string_equal(cidr_addr_str(&l, &sb), "2600:1f18:abcd:1200:ffff:ffff:ffff:ffff");
	cidr_prefix s80 = P("2600:1f18:abcd:1200:1::/80");
	assert_true(cidr_prefix_size(&s80) == pow2(48));
	cidr_prefix all6 = P("::/0");
	assert_true(cidr_prefix_size(&all6) == CIDR_U128_MAX); /* 2^128 saturates */
	cidr_prefix one6 = P("::/1");
	assert_true(cidr_prefix_size(&one6) == pow2(127));
	cidr_range r = cidr_prefix_range(&s80);
	assert_string_equal(cidr_range_str(&r, &sb),
			    "2600:1f18:abcd:1200:1::-2600:1f18:abcd:1200:1:ffff:ffff:ffff");
}

static void prefix_make(void **state)
{
	cidr_prefix p;
	hk_errinfo ei = {0};
	cidr_addr a = A("10.0.1.77");
	assert_int_equal(cidr_prefix_make(&a, 24, 0, &p, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "10.0.1.77/24"));
	assert_int_equal(cidr_prefix_make(&a, 24, CIDR_PARSE_NORMALIZE, &p, &ei), HK_OK);
	cidr_str sb;
	assert_string_equal(cidr_prefix_str(&p, &sb), "10.0.1.0/24");
	assert_int_equal(cidr_prefix_make(&a, 33, CIDR_PARSE_NORMALIZE, &p, &ei), HK_ERR_RANGE);
	assert_int_equal(cidr_prefix_make(&a, 32, 0, &p, &ei), HK_OK);
}

static void prefix_contains_overlaps(void **state)
{
	cidr_prefix net = P("10.0.1.0/24"), sub = P("10.0.1.192/26"), other = P("10.0.2.0/26"),
		    big = P("10.0.0.0/16"), v6 = P("::/0");
	cidr_addr in = A("10.0.1.255"), out = A("10.0.2.0");
	assert_true(cidr_prefix_contains(&net, &in));
	assert_false(cidr_prefix_contains(&net, &out));
	assert_true(cidr_prefix_contains_prefix(&net, &sub));
	assert_false(cidr_prefix_contains_prefix(&sub, &net));
	assert_false(cidr_prefix_contains_prefix(&net, &other));
	assert_true(cidr_prefix_contains_prefix(&big, &net));
	assert_true(cidr_prefix_contains_prefix(&net, &net));
	assert_true(cidr_prefix_overlaps(&net, &sub));
	assert_true(cidr_prefix_overlaps(&sub, &net));
	assert_true(cidr_prefix_overlaps(&big, &other));
	assert_false(cidr_prefix_overlaps(&net, &other));
	assert_false(cidr_prefix_overlaps(&net, &v6)); /* families never overlap */
	cidr_prefix all4 = P("0.0.0.0/0");
	assert_true(cidr_prefix_contains(&all4, &in));
	cidr_addr v6a = A("::ffff:10.0.1.1");
	assert_false(cidr_prefix_contains(&all4, &v6a));
	assert_true(cidr_prefix_contains(&v6, &v6a));
}

static void range_contains_size(void **state)
{
	cidr_range r = R("10.0.1.200-10.0.1.250");
	cidr_addr a = A("10.0.1.200"), b = A("10.0.1.250"), c = A("10.0.1.251");
	cidr_addr d = A("::a00:1c8");
	assert_true(cidr_range_contains(&r, &a));
	assert_true(cidr_range_contains(&r, &b));
	assert_false(cidr_range_contains(&r, &c));
	assert_false(cidr_range_contains(&r, &d));
	assert_true(cidr_range_size(&r) == 51);
	cidr_range all = {A("::"), A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
	assert_true(cidr_range_size(&all) == CIDR_U128_MAX);
}

static void iterate(void **state)
{
	cidr_iter it;
	cidr_addr a;
	cidr_str sb;
	char text[256] = "";
	size_t len = 0;
	cidr_prefix p = P("10.0.0.254/31");
	cidr_prefix q = P("10.0.0.252/30");
	cidr_iter_init_prefix(&it, &q);
	while (cidr_iter_next(&it, &a))
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "%s ", cidr_addr_str(&a, &sb));
	assert_string_equal(text, "10.0.0.252 10.0.0.253 10.0.0.254 10.0.0.255 ");
	assert_false(cidr_iter_next(&it, &a)); /* stays finished */
	cidr_iter_init_prefix(&it, &p);
	int n = 0;
	while (cidr_iter_next(&it, &a))
		n++;
	assert_int_equal(n, 2);
	/* The very last address of the space ends the walk instead of wrapping. */
	cidr_prefix top = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	cidr_iter_init_prefix(&it, &top);
	n = 0;
	while (cidr_iter_next(&it, &a))
		n++;
	assert_int_equal(n, 2);
	assert_string_equal(cidr_addr_str(&a, &sb), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	cidr_prefix b32 = P("255.255.255.255/32");
	cidr_iter_init_prefix(&it, &b32);
	assert_true(cidr_iter_next(&it, &a));
	assert_false(cidr_iter_next(&it, &a));
	/* Ranges, and stopping early on a huge prefix. */
	cidr_range r = R("2001:db8::fffe-2001:db8::1:1");
	cidr_iter_init_range(&it, &r);
	len = 0;
	text[0] = '\0';
	while (cidr_iter_next(&it, &a))
		len +=
		    (size_t)snprintf(text + len, sizeof(text) - len, "%s ", cidr_addr_str(&a, &sb));
	assert_string_equal(text, "2001:db8::fffe 2001:db8::ffff 2001:db8::1:0 2001:db8::1:1 ");
	cidr_prefix huge = P("::/0");
	cidr_iter_init_prefix(&it, &huge);
	for (int i = 0; i < 3; i++)
		assert_true(cidr_iter_next(&it, &a));
	assert_string_equal(cidr_addr_str(&a, &sb), "::2");
}

/* ---- AWS subnets ---- */

static void subnet_sizes(void **state)
{
	static const struct {
		const char *cidr;
		hk_err want;
	} cases[] = {
	    {"10.0.0.0/16", HK_OK},	      {"10.0.0.0/28", HK_OK},
	    {"10.0.1.0/24", HK_OK},	      {"10.0.0.0/15", HK_ERR_RANGE},
	    {"10.0.0.0/29", HK_ERR_RANGE},    {"10.0.0.0/32", HK_ERR_RANGE},
	    {"0.0.0.0/0", HK_ERR_RANGE},      {"2600:1f18::/64", HK_OK},
	    {"2600:1f10::/44", HK_OK},	      {"2600:1f18::/56", HK_OK},
	    {"2600:1f18::/60", HK_OK},	      {"2600:1f18::/62", HK_ERR_RANGE},
	    {"2600:1f18::/65", HK_ERR_RANGE}, {"2600:1f00::/40", HK_ERR_RANGE},
	    {"2600:1f18::/80", HK_ERR_RANGE},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(cases); i++) {
		cidr_prefix p = P(cases[i].cidr);
		hk_errinfo ei = {0};
		if (cidr_subnet_check(&p, &ei) != cases[i].want)
			fail_msg("%s: got '%s'", cases[i].cidr, ei.text);
	}
	cidr_prefix p = P("10.0.0.0/29");
	hk_errinfo ei = {0};
	cidr_pool *pool = NULL;
	assert_int_equal(cidr_pool_new(&p, &pool, &ei), HK_ERR_RANGE);
	assert_null(pool);
	assert_string_equal(ei.text, "10.0.0.0/29: AWS subnets must be /16 to /28");
	/* A prefix built by hand with host bits set is refused. */
	cidr_prefix bad = {.addr = A("10.0.1.1"), .len = 24};
	assert_int_equal(cidr_subnet_check(&bad, &ei), HK_ERR_INVALID);
}

static void subnet_aws_reserved(void **state)
{
	cidr_prefix s = P("10.0.1.0/24");
	const char *res[] = {"10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"};
	for (size_t i = 0; i < HK_ARRAY_LEN(res); i++) {
		cidr_addr a = A(res[i]);
		assert_true(cidr_subnet_is_aws_reserved(&s, &a));
	}
	cidr_addr four = A("10.0.1.4"), last = A("10.0.1.254"), out = A("10.0.2.0");
	assert_false(cidr_subnet_is_aws_reserved(&s, &four));
	assert_false(cidr_subnet_is_aws_reserved(&s, &last));
	assert_false(cidr_subnet_is_aws_reserved(&s, &out));
	cidr_prefix s6 = P("2600:1f18:abcd:1200::/64");
	cidr_addr z = A("2600:1f18:abcd:1200::3"), e = A("2600:1f18:abcd:1200:ffff:ffff:ffff:ffff");
	cidr_addr f = A("2600:1f18:abcd:1200::4");
	assert_true(cidr_subnet_is_aws_reserved(&s6, &z));
	assert_true(cidr_subnet_is_aws_reserved(&s6, &e));
	assert_false(cidr_subnet_is_aws_reserved(&s6, &f));
}

/* ---- the allocator ---- */

static void pool_28_fresh(void **state)
{
	cidr_pool *pool = pool_of("10.0.0.16/28");
	expect_free(pool, 11);
	expect_tail(pool, "10.0.0.20-10.0.0.30");
	expect_alloc(pool, 3, "10.0.0.20 10.0.0.21 10.0.0.22");
	expect_free(pool, 8);
	expect_alloc(pool, 8,
		     "10.0.0.23 10.0.0.24 10.0.0.25 10.0.0.26 10.0.0.27 10.0.0.28 10.0.0.29 "
		     "10.0.0.30");
	expect_free(pool, 0);
	cidr_addr out[1];
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	assert_int_equal(cidr_pool_alloc(pool, 0, out), HK_ERR_INVALID);
	cidr_pool_free(pool);
	cidr_pool_free(NULL);
}

static void pool_28_everything_used(void **state)
{
	cidr_pool *pool = pool_of("10.0.0.0/28");
	for (int i = 4; i < 15; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.0.0.%d", i);
		used(pool, a);
	}
	expect_free(pool, 0);
	cidr_addr out[2] = {A("1.1.1.1"), A("1.1.1.1")}, before = out[0];
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	assert_true(cidr_addr_eq(&out[0], &before)); /* untouched */
	assert_int_equal(cidr_pool_next_free(pool, NULL, out), HK_ERR_FULL);
	expect_tail(pool, NULL);
	cidr_range r;
	assert_int_equal(cidr_pool_largest_free_range(pool, &r), HK_ERR_FULL);
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.size == 16 && st.used == 11 && st.free == 0 && st.aws_reserved == 5);
	cidr_pool_free(pool);

	/* And the whole /28 as one used prefix (prefix delegation). */
	pool = pool_of("10.0.0.0/28");
	used(pool, "10.0.0.0/28");
	expect_free(pool, 0);
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	cidr_pool_free(pool);
}

static void pool_alloc_is_atomic(void **state)
{
	cidr_pool *pool = pool_of("10.0.0.0/28");
	cidr_addr out[12];
	assert_int_equal(cidr_pool_alloc(pool, 12, out), HK_ERR_FULL);
	expect_free(pool, 11); /* nothing was marked */
	expect_alloc(pool, 11,
		     "10.0.0.4 10.0.0.5 10.0.0.6 10.0.0.7 10.0.0.8 10.0.0.9 10.0.0.10 10.0.0.11 "
		     "10.0.0.12 10.0.0.13 10.0.0.14");
	cidr_pool_free(pool);
}

/* Mark 60,000 addresses of a /16 used, leaving a known pattern of holes. */
static cidr_pool *pool_16_60k(void)
{
	cidr_pool *pool = pool_of("10.1.0.0/16");
	size_t n = 0;
	/* Offsets 4 .. 60,003 + a few holes punched back: use every offset but the
	 * multiples of 10,007 (5 holes), then top up past 60,003 to reach 60,000. */
	for (unsigned off = 4; n < 60000; off++) {
		if (off % 10007 == 0)
			continue;
		cidr_addr a = cidr_addr_from_u128(CIDR_V4, 0x0a010000u + off);
		hk_errinfo ei = {0};
		assert_int_equal(cidr_pool_mark_used_addr(pool, &a, &ei), HK_OK);
		n++;
	}
	return pool;
}

static void pool_16_60k_used(void **state)
{
	cidr_pool *pool = pool_16_60k();
	/* used: offsets 4..60008 minus {10007,20014,30021,40028,50035}: 60,000 addresses. */
	expect_free(pool, 65536 - 5 - 60000);
	/* 10007 = 0x2717 -> 10.1.39.23 ; 20014 = 0x4e2e -> 10.1.78.46 */
	cidr_addr first;
	assert_int_equal(cidr_pool_next_free(pool, NULL, &first), HK_OK);
	cidr_str sb;
	assert_string_equal(cidr_addr_str(&first, &sb), "10.1.39.23");
	expect_alloc(pool, 7,
		     "10.1.39.23 10.1.78.46 10.1.117.69 10.1.156.92 10.1.195.115 10.1.234.105 "
		     "10.1.234.106");
	/* 60009 = 0xea69 -> 10.1.234.105 is the first offset after the used run;
	 * the five holes came first, then 60009, 60010. */
	expect_tail(pool, "10.1.234.107-10.1.255.254");
	cidr_range big;
	assert_int_equal(cidr_pool_largest_free_range(pool, &big), HK_OK);
	assert_string_equal(cidr_range_str(&big, &sb), "10.1.234.107-10.1.255.254");
	expect_free(pool, 65536 - 5 - 60000 - 7);
	cidr_pool_free(pool);
}

static void pool_16_next_free_after(void **state)
{
	cidr_pool *pool = pool_of("10.1.0.0/16");
	used(pool, "10.1.0.0/17");
	cidr_addr a, after = A("10.1.200.7");
	cidr_str sb;
	assert_int_equal(cidr_pool_next_free(pool, NULL, &a), HK_OK);
	assert_string_equal(cidr_addr_str(&a, &sb), "10.1.128.0");
	assert_int_equal(cidr_pool_next_free(pool, &after, &a), HK_OK);
	assert_string_equal(cidr_addr_str(&a, &sb), "10.1.200.8");
	cidr_addr last = A("10.1.255.254"), bcast = A("10.1.255.255"), out = A("10.2.0.0");
	assert_int_equal(cidr_pool_next_free(pool, &last, &a), HK_ERR_FULL);
	assert_int_equal(cidr_pool_next_free(pool, &bcast, &a), HK_ERR_FULL);
	assert_int_equal(cidr_pool_next_free(pool, &out, &a), HK_ERR_RANGE);
	cidr_pool_free(pool);
}

static void pool_v6_64(void **state)
{
	cidr_pool *pool = pool_of("2600:1f18:abcd:1200::/64");
	expect_free(pool, pow2(64) - 5);
	expect_tail(pool, "2600:1f18:abcd:1200::4-2600:1f18:abcd:1200:ffff:ffff:ffff:fffe");
	expect_alloc(pool, 2, "2600:1f18:abcd:1200::4 2600:1f18:abcd:1200::5");
	used(pool, "2600:1f18:abcd:1200::6");
	used(pool, "2600:1f18:abcd:1200::8/125"); /* ::8 .. ::f */
	used(pool, "2600:1f18:abcd:1200:1::/80");
	expect_alloc(pool, 3,
		     "2600:1f18:abcd:1200::7 2600:1f18:abcd:1200::10 2600:1f18:abcd:1200::11");
	expect_free(pool, pow2(64) - 5 - 5 - 1 - 8 - pow2(48));
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.size == pow2(64));
	assert_true(st.used == 1 + 8 + pow2(48));
	assert_true(st.pending == 5);
	cidr_addr top = A("2600:1f18:abcd:1200:ffff:ffff:ffff:ffff");
	assert_int_equal(cidr_pool_addr_state(pool, &top), CIDR_ST_AWS);
	used(pool, "2600:1f18:abcd:1200:ffff:ffff:ffff:fff0/124");
	expect_tail(pool, "2600:1f18:abcd:1200:2::-2600:1f18:abcd:1200:ffff:ffff:ffff:ffef");
	/* Outside, wrong family, mapped. */
	cidr_prefix other = P("2600:1f18:abcd:1201::/80");
	hk_errinfo ei = {0};
	assert_int_equal(cidr_pool_mark_used(pool, &other, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text,
			    "2600:1f18:abcd:1201::/80: not inside subnet 2600:1f18:abcd:1200::/64");
	cidr_addr v4 = A("10.0.0.1");
	assert_int_equal(cidr_pool_mark_used_addr(pool, &v4, &ei), HK_ERR_RANGE);
	assert_non_null(strstr(ei.text, "an IPv4 address in an IPv6 subnet"));
	cidr_pool_free(pool);
}

static void pool_v6_many_used(void **state)
{
	cidr_pool *pool = pool_of("2600:1f18:abcd:1200::/64");
	/* 50,000 scattered addresses (a deterministic LCG over the /64) and every even
	 * offset 4..2002 (so first-free walks a comb). Inserted in "random" order to
	 * exercise the lazy merge. */
	uint64_t x = 12345;
	cidr_addr b0 = A("2600:1f18:abcd:1200::");
	cidr_u128 base = cidr_addr_to_u128(&b0);
	for (int i = 0; i < 50000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		cidr_u128 off = (x | 0x100000) & ~(uint64_t)0 >> 1; /* far from the start */
		cidr_addr a = cidr_addr_from_u128(CIDR_V6, base + off);
		hk_errinfo ei = {0};
		assert_int_equal(cidr_pool_mark_used_addr(pool, &a, &ei), HK_OK);
	}
	for (unsigned off = 2002; off >= 4; off -= 2) {
		cidr_addr a = cidr_addr_from_u128(CIDR_V6, base + off);
		hk_errinfo ei = {0};
		assert_int_equal(cidr_pool_mark_used_addr(pool, &a, &ei), HK_OK);
	}
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.used == 50000 + 1000); /* the LCG produced no duplicates */
	expect_free(pool, pow2(64) - 5 - 51000);
	expect_alloc(pool, 3,
		     "2600:1f18:abcd:1200::5 2600:1f18:abcd:1200::7 2600:1f18:abcd:1200::9");
	cidr_addr a = A("2600:1f18:abcd:1200::7");
	assert_int_equal(cidr_pool_release(pool, &a), HK_OK);
	expect_alloc(pool, 2, "2600:1f18:abcd:1200::7 2600:1f18:abcd:1200::b");
	/* Reset keeps pending ones: ::5 ::7 ::9 ::b still blocked, ::4 free again. */
	assert_int_equal(cidr_pool_reset_used(pool), HK_OK);
	expect_alloc(pool, 3,
		     "2600:1f18:abcd:1200::4 2600:1f18:abcd:1200::6 2600:1f18:abcd:1200::8");
	expect_free(pool, pow2(64) - 5 - 7);
	cidr_pool_free(pool);
}

static void pool_v6_44(void **state)
{
	cidr_pool *pool = pool_of("2600:1f10::/44");
	expect_free(pool, pow2(84) - 5);
	used(pool, "2600:1f10::/48");
	expect_alloc(pool, 1, "2600:1f10:1::");
	expect_tail(pool, "2600:1f10:1::1-2600:1f10:f:ffff:ffff:ffff:ffff:fffe");
	cidr_str sb;
	assert_string_equal(
	    cidr_u128_str(cidr_pool_free_count(pool), &sb),
	    "18133887294219437620592638"); /* 2^84 - 2^80 (the /48 holds the first four) - 1 - 1 */
	cidr_pool_free(pool);
}

static void reservations_cover_whole_subnet(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	reserve(pool, "10.0.1.0/24", CIDR_RESV_EXPLICIT);
	expect_free(pool, 0);
	cidr_addr out[1];
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	expect_tail(pool, NULL);
	cidr_pool_free(pool);

	/* Two halves, of different kinds. */
	pool = pool_of("10.0.1.0/24");
	reserve(pool, "10.0.1.0/25", CIDR_RESV_PREFIX);
	reserve(pool, "10.0.1.128/25", CIDR_RESV_EXPLICIT);
	expect_free(pool, 0);
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	assert_int_equal(cidr_pool_clear_reservations(pool), HK_OK);
	expect_free(pool, 251);
	expect_alloc(pool, 1, "10.0.1.4");
	cidr_pool_free(pool);

	/* IPv6 */
	pool = pool_of("2600:1f18:abcd:1200::/64");
	reserve(pool, "2600:1f18:abcd:1200::/65", CIDR_RESV_EXPLICIT);
	reserve(pool, "2600:1f18:abcd:1200:8000::/65", CIDR_RESV_PREFIX);
	expect_free(pool, 0);
	assert_int_equal(cidr_pool_alloc(pool, 1, out), HK_ERR_FULL);
	cidr_pool_free(pool);
}

static void reservations_overlapping_adjacent(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	reserve(pool, "10.0.1.0/28", CIDR_RESV_EXPLICIT);   /* .0-.15 (overlaps AWS) */
	reserve(pool, "10.0.1.8/29", CIDR_RESV_PREFIX);	    /* inside the first */
	reserve(pool, "10.0.1.16/28", CIDR_RESV_EXPLICIT);  /* adjacent */
	reserve(pool, "10.0.1.16/29", CIDR_RESV_EXPLICIT);  /* duplicate part */
	reserve(pool, "10.0.1.48/28", CIDR_RESV_PREFIX);    /* gap .32-.47 before it */
	reserve(pool, "10.0.1.192/26", CIDR_RESV_EXPLICIT); /* pod range, overlaps bcast */
	/* blocked: .0-.31, .48-.63, .192-.255 -> 32+16+64 = 112 */
	expect_free(pool, 256 - 112);
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.resv_explicit == 32 + 64);
	assert_true(st.resv_prefix == 8 + 16);
	expect_alloc(pool, 17,
		     "10.0.1.32 10.0.1.33 10.0.1.34 10.0.1.35 10.0.1.36 10.0.1.37 10.0.1.38 "
		     "10.0.1.39 10.0.1.40 10.0.1.41 10.0.1.42 10.0.1.43 10.0.1.44 10.0.1.45 "
		     "10.0.1.46 10.0.1.47 10.0.1.64");
	expect_tail(pool, "10.0.1.65-10.0.1.191");
	cidr_addr a = A("10.0.1.9");
	assert_int_equal(cidr_pool_addr_state(pool, &a),
			 CIDR_ST_RESV_EXPLICIT | CIDR_ST_RESV_PREFIX);
	cidr_addr b = A("10.0.1.2");
	assert_int_equal(cidr_pool_addr_state(pool, &b), CIDR_ST_AWS | CIDR_ST_RESV_EXPLICIT);
	/* Outside and bad kind. */
	cidr_prefix out = P("10.0.2.0/26");
	hk_errinfo ei = {0};
	assert_int_equal(cidr_pool_reserve(pool, &out, CIDR_RESV_EXPLICIT, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "10.0.2.0/26: not inside subnet 10.0.1.0/24");
	cidr_prefix wider = P("10.0.0.0/23");
	assert_int_equal(cidr_pool_reserve(pool, &wider, CIDR_RESV_EXPLICIT, &ei), HK_ERR_RANGE);
	cidr_prefix ok = P("10.0.1.64/28");
	assert_int_equal(cidr_pool_reserve(pool, &ok, (cidr_resv_kind)7, &ei), HK_ERR_INVALID);
	cidr_pool_free(pool);
}

static void prefixes_straddling_reservations(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	/* A delegated /28 inside an explicit /27 reservation, sharing its start. */
	reserve(pool, "10.0.1.32/27", CIDR_RESV_EXPLICIT);
	used(pool, "10.0.1.32/28");
	/* A used /27 covering a prefix reservation /28 at its end. */
	reserve(pool, "10.0.1.80/28", CIDR_RESV_PREFIX);
	used(pool, "10.0.1.64/27");
	/* A pod range straddling a used /28 and a reservation. */
	cidr_range pods[] = {R("10.0.1.120-10.0.1.140")};
	hk_errinfo ei = {0};
	reserve(pool, "10.0.1.128/28", CIDR_RESV_EXPLICIT);
	used(pool, "10.0.1.112/28");
	assert_int_equal(cidr_pool_set_pod_range(pool, pods, 1, &ei), HK_OK);
	/* blocked: .0-.3, .32-.63, .64-.95, .112-.143 (.112-.127 used, .128-.143 resv,
	 * pods .120-.140 inside), .255 */
	expect_free(pool, 256 - 4 - 32 - 32 - 32 - 1);
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.used == 16 + 32 + 16);
	assert_true(st.resv_explicit == 32 + 16);
	assert_true(st.resv_prefix == 16);
	assert_true(st.pod == 21);
	cidr_range big;
	cidr_str sb;
	assert_int_equal(cidr_pool_largest_free_range(pool, &big), HK_OK);
	assert_string_equal(cidr_range_str(&big, &sb), "10.0.1.144-10.0.1.254");
	/* Dropping the reservations leaves the used prefixes and the pod range. */
	assert_int_equal(cidr_pool_clear_reservations(pool), HK_OK);
	expect_free(pool, 256 - 4 - 16 - 32 - (140 - 112 + 1) - 1);
	cidr_addr a = A("10.0.1.48");
	assert_int_equal(cidr_pool_addr_state(pool, &a), 0);
	expect_alloc(pool, 1, "10.0.1.4");
	cidr_pool_free(pool);
}

static void pending_then_release(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	expect_alloc(pool, 3, "10.0.1.4 10.0.1.5 10.0.1.6");
	cidr_addr five = A("10.0.1.5"), six = A("10.0.1.6"), four = A("10.0.1.4");
	assert_int_equal(cidr_pool_addr_state(pool, &five), CIDR_ST_PENDING);
	assert_int_equal(cidr_pool_release(pool, &five), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &five), 0);
	assert_int_equal(cidr_pool_release(pool, &five), HK_ERR_NOT_FOUND);
	expect_free(pool, 249);
	/* Concurrent launches: the released address goes to the next one. */
	expect_alloc(pool, 2, "10.0.1.5 10.0.1.7");
	/* Confirm: pending -> used; releasing it then fails, it stays blocked. */
	assert_int_equal(cidr_pool_confirm(pool, &four), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &four), CIDR_ST_USED);
	assert_int_equal(cidr_pool_confirm(pool, &four), HK_ERR_NOT_FOUND);
	assert_int_equal(cidr_pool_release(pool, &four), HK_ERR_NOT_FOUND);
	/* EC2 reports a pending address in use before we confirm: a release keeps it. */
	hk_errinfo ei = {0};
	assert_int_equal(cidr_pool_mark_used_addr(pool, &six, &ei), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &six), CIDR_ST_USED | CIDR_ST_PENDING);
	assert_int_equal(cidr_pool_release(pool, &six), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &six), CIDR_ST_USED);
	/* A pending address inside a later reservation stays blocked after release. */
	cidr_addr seven = A("10.0.1.7");
	reserve(pool, "10.0.1.7/32", CIDR_RESV_EXPLICIT);
	assert_int_equal(cidr_pool_release(pool, &seven), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &seven), CIDR_ST_RESV_EXPLICIT);
	/* Outside the subnet. */
	cidr_addr out = A("10.0.2.5");
	assert_int_equal(cidr_pool_release(pool, &out), HK_ERR_RANGE);
	assert_int_equal(cidr_pool_confirm(pool, &out), HK_ERR_RANGE);
	/* .4 used, .5 pending, .6 used, .7 reserved */
	expect_free(pool, 251 - 4);
	expect_alloc(pool, 1, "10.0.1.8");
	cidr_pool_free(pool);
}

static void pending_v6_release_splits(void **state)
{
	cidr_pool *pool = pool_of("2600:1f18:abcd:1200::/64");
	cidr_addr got[8];
	assert_int_equal(cidr_pool_alloc(pool, 8, got), HK_OK);
	/* Release every other one: splits the pending and blocked runs. */
	for (int i = 1; i < 8; i += 2)
		assert_int_equal(cidr_pool_release(pool, &got[i]), HK_OK);
	expect_alloc(pool, 5,
		     "2600:1f18:abcd:1200::5 2600:1f18:abcd:1200::7 2600:1f18:abcd:1200::9 "
		     "2600:1f18:abcd:1200::b 2600:1f18:abcd:1200::c");
	assert_int_equal(cidr_pool_confirm(pool, &got[2]), HK_OK);
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.pending == 8 && st.used == 1);
	cidr_pool_free(pool);
}

static void claim(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	used(pool, "10.0.1.10");
	hk_errinfo ei = {0};
	cidr_addr a = A("10.0.1.4"), u = A("10.0.1.10"), aws = A("10.0.1.255"), out = A("10.0.3.1");
	assert_int_equal(cidr_pool_claim(pool, &a, &ei), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &a), CIDR_ST_PENDING);
	assert_int_equal(cidr_pool_claim(pool, &a, &ei), HK_ERR_EXISTS);
	assert_string_equal(ei.text, "10.0.1.4: not free (pending)");
	assert_int_equal(cidr_pool_claim(pool, &u, &ei), HK_ERR_EXISTS);
	assert_string_equal(ei.text, "10.0.1.10: not free (used)");
	assert_int_equal(cidr_pool_claim(pool, &aws, &ei), HK_ERR_EXISTS);
	assert_string_equal(ei.text, "10.0.1.255: not free (reserved by AWS)");
	assert_int_equal(cidr_pool_claim(pool, &out, &ei), HK_ERR_RANGE);
	expect_alloc(pool, 1, "10.0.1.5");
	cidr_pool_free(pool);
}

static void reset_used_keeps_the_rest(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	used(pool, "10.0.1.0/26");
	reserve(pool, "10.0.1.64/28", CIDR_RESV_EXPLICIT);
	cidr_range pods[] = {R("10.0.1.200-10.0.1.254")};
	hk_errinfo ei = {0};
	assert_int_equal(cidr_pool_set_pod_range(pool, pods, 1, &ei), HK_OK);
	expect_alloc(pool, 1, "10.0.1.80");
	assert_int_equal(cidr_pool_reset_used(pool), HK_OK);
	cidr_pool_stats st;
	cidr_pool_stats_get(pool, &st);
	assert_true(st.used == 0 && st.pending == 1 && st.resv_explicit == 16 && st.pod == 55);
	expect_free(pool, 251 - 1 - 16 - 55);
	expect_alloc(pool, 1, "10.0.1.4");
	used(pool, "10.0.1.5");
	expect_alloc(pool, 1, "10.0.1.6");
	/* Refresh that reports our pending .80 in use: confirm makes it used. */
	assert_int_equal(cidr_pool_reset_used(pool), HK_OK);
	used(pool, "10.0.1.80");
	cidr_addr a80 = A("10.0.1.80");
	assert_int_equal(cidr_pool_confirm(pool, &a80), HK_OK);
	assert_int_equal(cidr_pool_addr_state(pool, &a80), CIDR_ST_USED);
	cidr_pool_free(pool);
}

static void pod_range_rules(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	hk_errinfo ei = {0};
	cidr_range two[] = {R("10.0.1.4-10.0.1.9"), R("10.0.1.8/29")};
	assert_int_equal(cidr_pool_set_pod_range(pool, two, 2, &ei), HK_OK);
	expect_free(pool, 251 - 12);
	expect_alloc(pool, 1, "10.0.1.16");
	/* Replacing the pod range frees the old one (the pending .16 stays). */
	cidr_range one[] = {R("10.0.1.240/28")};
	assert_int_equal(cidr_pool_set_pod_range(pool, one, 1, &ei), HK_OK);
	expect_alloc(pool, 1, "10.0.1.4");
	expect_tail(pool, "10.0.1.17-10.0.1.239");
	/* Errors leave the pool unchanged. */
	cidr_range bad[] = {R("10.0.1.10-10.0.1.20"), R("10.0.1.250-10.0.2.3")};
	assert_int_equal(cidr_pool_set_pod_range(pool, bad, 2, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "10.0.1.250-10.0.2.3: not inside subnet 10.0.1.0/24");
	cidr_range rev[] = {{A("10.0.1.20"), A("10.0.1.10")}};
	assert_int_equal(cidr_pool_set_pod_range(pool, rev, 1, &ei), HK_ERR_INVALID);
	cidr_range mixed[] = {{A("10.0.1.20"), A("::1")}};
	assert_int_equal(cidr_pool_set_pod_range(pool, mixed, 1, &ei), HK_ERR_INVALID);
	cidr_addr a = A("10.0.1.245");
	assert_int_equal(cidr_pool_addr_state(pool, &a), CIDR_ST_POD);
	/* Clearing. */
	assert_int_equal(cidr_pool_set_pod_range(pool, NULL, 0, &ei), HK_OK);
	expect_tail(pool, "10.0.1.17-10.0.1.254");
	cidr_pool_free(pool);
}

static void mark_used_outside_is_error(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	hk_errinfo ei = {0};
	cidr_addr a = A("10.0.9.1");
	assert_int_equal(cidr_pool_mark_used_addr(pool, &a, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "10.0.9.1/32: not inside subnet 10.0.1.0/24");
	cidr_addr m = A("::ffff:10.0.1.7");
	assert_int_equal(cidr_pool_mark_used_addr(pool, &m, &ei), HK_ERR_RANGE);
	assert_non_null(strstr(ei.text, "IPv4-mapped IPv6 address: write the IPv4 address"));
	cidr_prefix wide = P("10.0.0.0/16");
	assert_int_equal(cidr_pool_mark_used(pool, &wide, &ei), HK_ERR_RANGE);
	assert_int_equal(cidr_pool_addr_state(pool, &a), CIDR_ST_OUTSIDE);
	assert_int_equal(cidr_pool_addr_state(pool, &m), CIDR_ST_OUTSIDE);
	expect_free(pool, 251);
	cidr_pool_free(pool);
}

static void tail_and_largest_ranges(void **state)
{
	cidr_pool *pool = pool_of("10.0.1.0/24");
	used(pool, "10.0.1.4/30");
	used(pool, "10.0.1.150");
	reserve(pool, "10.0.1.192/26", CIDR_RESV_EXPLICIT);
	/* free runs: .8-.149 (142), .151-.191 (41) */
	expect_tail(pool, "10.0.1.151-10.0.1.191");
	cidr_range r;
	cidr_str sb;
	assert_int_equal(cidr_pool_largest_free_range(pool, &r), HK_OK);
	assert_string_equal(cidr_range_str(&r, &sb), "10.0.1.8-10.0.1.149");
	/* Equal runs: the lowest wins. */
	cidr_pool *p2 = pool_of("10.0.0.0/28"); /* free .4-.14 */
	used(p2, "10.0.0.9");			/* .4-.8 and .10-.14: 5 and 5 */
	assert_int_equal(cidr_pool_largest_free_range(p2, &r), HK_OK);
	assert_string_equal(cidr_range_str(&r, &sb), "10.0.0.4-10.0.0.8");
	expect_tail(p2, "10.0.0.10-10.0.0.14");
	used(p2, "10.0.0.14");
	expect_tail(p2, "10.0.0.10-10.0.0.13");
	cidr_pool_free(p2);
	/* A single free address in the middle. */
	cidr_pool *p3 = pool_of("10.0.0.0/28");
	used(p3, "10.0.0.0/28");
	assert_int_equal(cidr_pool_reset_used(p3), HK_OK);
	used(p3, "10.0.0.4/30");
	used(p3, "10.0.0.8/30");
	used(p3, "10.0.0.13");
	used(p3, "10.0.0.14");
	expect_tail(p3, "10.0.0.12");
	cidr_pool_free(p3);
	cidr_pool_free(pool);
}

static void bitmap_word_edges(void **state)
{
	/* A /16 crosses 1024 words and 16 summary words: fill exactly up to edges. */
	cidr_pool *pool = pool_of("10.2.0.0/16");
	used(pool, "10.2.0.0/18");  /* offsets 0..16383: 256 full words */
	used(pool, "10.2.64.0/26"); /* offset 16384..16447: one more word */
	expect_alloc(pool, 1, "10.2.64.64");
	used(pool, "10.2.64.64/26");
	used(pool, "10.2.64.128/25");
	used(pool, "10.2.65.0/24");
	expect_alloc(pool, 1, "10.2.66.0");
	/* Leave one hole at the very last usable offset. */
	used(pool, "10.2.66.0/23");
	used(pool, "10.2.68.0/22");
	used(pool, "10.2.72.0/21");
	used(pool, "10.2.80.0/20");
	used(pool, "10.2.96.0/19");
	used(pool, "10.2.128.0/18");
	used(pool, "10.2.192.0/19");
	used(pool, "10.2.224.0/20");
	used(pool, "10.2.240.0/21");
	used(pool, "10.2.248.0/22");
	used(pool, "10.2.252.0/23");
	used(pool, "10.2.254.0/24");
	used(pool, "10.2.255.0/25");
	used(pool, "10.2.255.128/26");
	used(pool, "10.2.255.192/27");
	used(pool, "10.2.255.224/28");
	used(pool, "10.2.255.240/29");
	used(pool, "10.2.255.248/30");
	used(pool, "10.2.255.252/31");
	expect_free(pool, 1);
	expect_tail(pool, "10.2.255.254");
	cidr_range r;
	cidr_str sb;
	assert_int_equal(cidr_pool_largest_free_range(pool, &r), HK_OK);
	assert_string_equal(cidr_range_str(&r, &sb), "10.2.255.254");
	expect_alloc(pool, 1, "10.2.255.254");
	expect_free(pool, 0);
	cidr_addr a = A("10.2.66.0");
	assert_int_equal(cidr_pool_release(pool, &a), HK_OK); /* also used: stays blocked */
	expect_free(pool, 0);
	cidr_addr b = A("10.2.64.64");
	assert_int_equal(cidr_pool_release(pool, &b), HK_OK);
	expect_free(pool, 0);
	cidr_pool_free(pool);
}

/* Same input in a different order gives the same answer. */
static void deterministic(void **state)
{
	const char *items[] = {"10.0.1.7", "10.0.1.16/28", "10.0.1.4",	"10.0.1.9",
			       "10.0.1.5", "10.0.1.33",	   "10.0.1.12", "10.0.1.6"};
	char first[512] = "";
	for (int round = 0; round < 4; round++) {
		cidr_pool *pool = pool_of("10.0.1.0/24");
		for (size_t i = 0; i < HK_ARRAY_LEN(items); i++) {
			size_t k =
			    (i * (size_t)(2 * round + 1) + (size_t)round) % HK_ARRAY_LEN(items);
			used(pool, items[k]);
		}
		reserve(pool, "10.0.1.192/26", CIDR_RESV_EXPLICIT);
		cidr_addr got[6];
		assert_int_equal(cidr_pool_alloc(pool, 6, got), HK_OK);
		char text[512] = "";
		size_t len = 0;
		cidr_str sb;
		for (int i = 0; i < 6; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s ",
						cidr_addr_str(&got[i], &sb));
		if (round == 0)
			snprintf(first, sizeof(first), "%s", text);
		assert_string_equal(text, first);
		cidr_pool_free(pool);
	}
	assert_string_equal(first, "10.0.1.8 10.0.1.10 10.0.1.11 10.0.1.13 10.0.1.14 10.0.1.15 ");
}

/* ---- randomized comparison with a naive model ---- */

enum { M_USED = 1, M_PEND = 2, M_RESV = 4, M_POD = 8 };

static uint64_t rng_state;
static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((rng_state >> 33) % n);
}

/* Model and pool over the first `span` offsets of a subnet (IPv6: a window at the
 * start of a /64, plus a far-away marker to keep the lists non-trivial). */
static void model_run(const char *subnet, unsigned span, bool v6, uint64_t seed)
{
	cidr_pool *pool = pool_of(subnet);
	cidr_prefix sp = P(subnet);
	cidr_u128 base = cidr_addr_to_u128(&sp.addr);
	cidr_u128 size = cidr_prefix_size(&sp);
	static unsigned char m[4096];
	assert_true(span <= sizeof(m));
	memset(m, 0, sizeof(m));
	rng_state = seed;
	cidr_range pods[4];
	size_t npods = 0;
	bool whole = size == span;
#define BLOCKED(i) (m[i] || (i) < 4 || (i) == size - 1)
	for (int step = 0; step < 3000; step++) {
		unsigned op = rnd(100);
		unsigned lo = rnd(span), len = 1 + rnd(op < 10 ? 40 : 3);
		unsigned hi = lo + len - 1 < span ? lo + len - 1 : span - 1;
		hk_errinfo ei = {0};
		if (op < 30) { /* mark used: an aligned prefix or a single address */
			unsigned bits = v6 ? 128 : 32, plen = bits - rnd(4);
			unsigned blk = 1u << (bits - plen);
			lo &= ~(blk - 1);
			if (lo + blk > span)
				continue;
			cidr_prefix p = {
			    cidr_addr_from_u128((cidr_family)sp.addr.family, base + lo), plen};
			assert_int_equal(cidr_pool_mark_used(pool, &p, &ei), HK_OK);
			for (unsigned i = lo; i < lo + blk; i++)
				m[i] |= M_USED;
		} else if (op < 34) {
			unsigned bits = v6 ? 128 : 32, plen = bits - rnd(5);
			unsigned blk = 1u << (bits - plen);
			lo &= ~(blk - 1);
			if (lo + blk > span)
				continue;
			cidr_prefix p = {
			    cidr_addr_from_u128((cidr_family)sp.addr.family, base + lo), plen};
			assert_int_equal(cidr_pool_reserve(pool, &p, CIDR_RESV_EXPLICIT, &ei),
					 HK_OK);
			for (unsigned i = lo; i < lo + blk; i++)
				m[i] |= M_RESV;
		} else if (op < 36 && npods < 4) {
			pods[npods].first =
			    cidr_addr_from_u128((cidr_family)sp.addr.family, base + lo);
			pods[npods].last =
			    cidr_addr_from_u128((cidr_family)sp.addr.family, base + hi);
			npods++;
			assert_int_equal(cidr_pool_set_pod_range(pool, pods, npods, &ei), HK_OK);
			for (unsigned i = 0; i < span; i++)
				m[i] &= (unsigned char)~M_POD;
			for (size_t k = 0; k < npods; k++) {
				unsigned a = (unsigned)(cidr_addr_to_u128(&pods[k].first) - base);
				unsigned b = (unsigned)(cidr_addr_to_u128(&pods[k].last) - base);
				for (unsigned i = a; i <= b; i++)
					m[i] |= M_POD;
			}
		} else if (op < 37) {
			npods = 0;
			assert_int_equal(cidr_pool_set_pod_range(pool, NULL, 0, &ei), HK_OK);
			for (unsigned i = 0; i < span; i++)
				m[i] &= (unsigned char)~M_POD;
		} else if (op < 38) {
			assert_int_equal(cidr_pool_clear_reservations(pool), HK_OK);
			for (unsigned i = 0; i < span; i++)
				m[i] &= (unsigned char)~M_RESV;
		} else if (op < 40) {
			assert_int_equal(cidr_pool_reset_used(pool), HK_OK);
			for (unsigned i = 0; i < span; i++)
				m[i] &= (unsigned char)~M_USED;
		} else if (op < 65) { /* alloc n */
			size_t n = 1 + rnd(5);
			cidr_addr got[5];
			unsigned want[5], k = 0;
			for (unsigned i = 0; i < span && k < n; i++)
				if (!BLOCKED(i))
					want[k++] = i;
			hk_err err = cidr_pool_alloc(pool, n, got);
			if (k < n && whole) {
				assert_int_equal(err, HK_ERR_FULL);
				continue;
			}
			assert_int_equal(err, HK_OK);
			for (size_t i = 0; i < n; i++) {
				cidr_u128 off = cidr_addr_to_u128(&got[i]) - base;
				if (i < k)
					assert_true(off == want[i]);
				else
					assert_true(off >= span); /* past the model's window */
				if (off < span)
					m[off] |= M_PEND;
			}
		} else if (op < 80) { /* release or confirm a random offset */
			cidr_addr a = cidr_addr_from_u128((cidr_family)sp.addr.family, base + lo);
			bool pend = m[lo] & M_PEND;
			if (op < 72) {
				assert_int_equal(cidr_pool_release(pool, &a),
						 pend ? HK_OK : HK_ERR_NOT_FOUND);
				m[lo] &= (unsigned char)~M_PEND;
			} else {
				assert_int_equal(cidr_pool_confirm(pool, &a),
						 pend ? HK_OK : HK_ERR_NOT_FOUND);
				if (pend)
					m[lo] = (unsigned char)((m[lo] & ~M_PEND) | M_USED);
			}
		} else { /* queries */
			cidr_addr a = cidr_addr_from_u128((cidr_family)sp.addr.family, base + lo);
			unsigned st = cidr_pool_addr_state(pool, &a), want = 0;
			if (lo < 4 || lo == size - 1)
				want |= CIDR_ST_AWS;
			if (m[lo] & M_USED)
				want |= CIDR_ST_USED;
			if (m[lo] & M_PEND)
				want |= CIDR_ST_PENDING;
			if (m[lo] & M_RESV)
				want |= CIDR_ST_RESV_EXPLICIT;
			if (m[lo] & M_POD)
				want |= CIDR_ST_POD;
			assert_int_equal(st, want);
			cidr_addr nf;
			unsigned wantnf = lo + 1;
			while (wantnf < span && BLOCKED(wantnf))
				wantnf++;
			hk_err err = cidr_pool_next_free(pool, &a, &nf);
			if (wantnf < span) {
				assert_int_equal(err, HK_OK);
				assert_true(cidr_addr_to_u128(&nf) - base == wantnf);
			} else if (whole) {
				assert_int_equal(err, HK_ERR_FULL);
			}
		}
		/* Free count agrees on every step. */
		if (whole) {
			cidr_u128 want = 0;
			for (unsigned i = 0; i < span; i++)
				want += !BLOCKED(i);
			cidr_pool_stats st;
			cidr_pool_stats_get(pool, &st);
			assert_true(st.free == want);
		}
	}
	cidr_pool_free(pool);
#undef BLOCKED
}

static void model_v4_24(void **state)
{
	model_run("10.0.1.0/24", 256, false, 1);
	model_run("10.0.1.0/24", 256, false, 2);
}

static void model_v4_16(void **state)
{
	model_run("10.3.0.0/16", 4096, false, 3); /* window of the first 64 words */
}

static void model_v4_28(void **state)
{
	model_run("10.0.0.0/28", 16, false, 4);
}

static void model_v6_64(void **state)
{
	model_run("2600:1f18:abcd:1200::/64", 1024, true, 5);
	model_run("2600:1f18:abcd:1200::/64", 300, true, 6);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(data_valid_addresses),
    cmocka_unit_test(data_valid_prefixes),
    cmocka_unit_test(data_valid_prefixes_normalize),
    cmocka_unit_test(data_valid_ranges),
    cmocka_unit_test(data_invalid_addresses),
    cmocka_unit_test(data_invalid_prefixes),
    cmocka_unit_test(data_invalid_ranges),
    cmocka_unit_test(parse_addr_bytes),
    cmocka_unit_test(parse_error_names_value_and_offset),
    cmocka_unit_test(parse_prefix_flags),
    cmocka_unit_test(parse_v4_mapped_is_ipv6),
    cmocka_unit_test(format_rfc5952),
    cmocka_unit_test(format_small_buffer),
    cmocka_unit_test(format_u128),
    cmocka_unit_test(addr_cmp_and_int),
    cmocka_unit_test(addr_add),
    cmocka_unit_test(prefix_first_last_size),
    cmocka_unit_test(prefix_make),
    cmocka_unit_test(prefix_contains_overlaps),
    cmocka_unit_test(range_contains_size),
    cmocka_unit_test(iterate),
    cmocka_unit_test(subnet_sizes),
    cmocka_unit_test(subnet_aws_reserved),
    cmocka_unit_test(pool_28_fresh),
    cmocka_unit_test(pool_28_everything_used),
    cmocka_unit_test(pool_alloc_is_atomic),
    cmocka_unit_test(pool_16_60k_used),
    cmocka_unit_test(pool_16_next_free_after),
    cmocka_unit_test(pool_v6_64),
    cmocka_unit_test(pool_v6_many_used),
    cmocka_unit_test(pool_v6_44),
    cmocka_unit_test(reservations_cover_whole_subnet),
    cmocka_unit_test(reservations_overlapping_adjacent),
    cmocka_unit_test(prefixes_straddling_reservations),
    cmocka_unit_test(pending_then_release),
    cmocka_unit_test(pending_v6_release_splits),
    cmocka_unit_test(claim),
    cmocka_unit_test(reset_used_keeps_the_rest),
    cmocka_unit_test(pod_range_rules),
    cmocka_unit_test(mark_used_outside_is_error),
    cmocka_unit_test(tail_and_largest_ranges),
    cmocka_unit_test(bitmap_word_edges),
    cmocka_unit_test(deterministic),
    cmocka_unit_test(model_v4_24),
    cmocka_unit_test(model_v4_16),
    cmocka_unit_test(model_v4_28),
    cmocka_unit_test(model_v6_64),
};

HK_TEST_MAIN(tests)
