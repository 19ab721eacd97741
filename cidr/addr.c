/* Address and prefix parsing, canonical formatting and math. Hand-written parsers
 * rather than inet_pton(): they must reject what glibc tolerates for some inputs and
 * say exactly why and where, with the offending value in the message. */
#include "cidr_internal.h"

#include "hk_util.h"

#include <stdio.h>
#include <string.h>

/* ---- error text ---- */

static bool plain_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '.' || c == ':' || c == '/' || c == '-' || c == '_';
}

void cidr_render_value(const char *s, size_t len, char *out, size_t size)
{
	const size_t max_plain = 64, max_quoted = 48;
	bool plain = len > 0 && len <= max_plain;
	for (size_t i = 0; plain && i < len; i++)
		plain = plain_char((unsigned char)s[i]);
	if (plain) {
		snprintf(out, size, "%.*s", (int)len, s);
		return;
	}
	/* Quoted, escaped, truncated: the message stays one readable line whatever the
	 * input held (control bytes, newlines, megabytes). */
	size_t o = 0;
	if (size < 8) {
		out[0] = '\0';
		return;
	}
	out[o++] = '"';
	size_t i = 0;
	for (; i < len && i < max_quoted; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		int n;
		if (c == '"' || c == '\\')
			n = snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			n = snprintf(esc, sizeof(esc), "%c", c);
		if (n < 0 || o + (size_t)n + 5 >= size)
			break;
		memcpy(out + o, esc, (size_t)n);
		o += (size_t)n;
	}
	out[o++] = '"';
	if (i < len && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Fill ei with "<value>: <what> (<why>)" and return HK_ERR_INVALID. */
static hk_err parse_fail(hk_errinfo *ei, const char *s, size_t len, size_t off, const char *what,
			 const char *why)
{
	char v[CIDR_VALUE_TEXT];
	cidr_render_value(s, len, v, sizeof(v));
	return hk_errinfo_set(ei, HK_ERR_INVALID, off, "%s: %s (%s)", v, what, why);
}

/* ---- integers ---- */

unsigned cidr_family_bits(unsigned family)
{
	return family == CIDR_V4 ? 32u : family == CIDR_V6 ? 128u : 0u;
}

/* All-ones in the low `bits` bits (bits <= 128). */
static cidr_u128 low_mask(unsigned bits)
{
	return bits >= 128 ? CIDR_U128_MAX : ((cidr_u128)1 << bits) - 1;
}

cidr_u128 cidr_addr_to_u128(const cidr_addr *a)
{
	cidr_u128 v = 0;
	size_t n = a->family == CIDR_V4 ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | a->bytes[i];
	return v;
}

cidr_addr cidr_addr_from_u128(cidr_family family, cidr_u128 v)
{
	cidr_addr a;
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	size_t n = family == CIDR_V4 ? 4 : 16;
	for (size_t i = n; i-- > 0;) {
		a.bytes[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
	return a;
}

hk_err cidr_addr_add(const cidr_addr *a, cidr_u128 delta, cidr_addr *ret)
{
	unsigned bits = cidr_family_bits(a->family);
	if (!bits)
		return HK_ERR_INVALID;
	cidr_u128 v = cidr_addr_to_u128(a);
	cidr_u128 max = low_mask(bits);
	if (delta > max - v)
		return HK_ERR_RANGE;
	*ret = cidr_addr_from_u128((cidr_family)a->family, v + delta);
	return HK_OK;
}

int cidr_addr_cmp(const cidr_addr *a, const cidr_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* Only the family's bytes count: IPv4 leaves bytes[4..15] unused. */
	return memcmp(a->bytes, b->bytes, a->family == CIDR_V4 ? 4 : sizeof(a->bytes));
}

bool cidr_addr_eq(const cidr_addr *a, const cidr_addr *b)
{
	return cidr_addr_cmp(a, b) == 0;
}

bool cidr_addr_is_v4_mapped(const cidr_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return a->family == CIDR_V6 && memcmp(a->bytes, pfx, sizeof(pfx)) == 0;
}

/* ---- parsing ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse exactly s[0..len) as a dotted quad. On failure fill why and off. */
static bool parse_v4(const char *s, size_t len, uint8_t out[4], char *why, size_t whysz,
		     size_t *off)
{
	size_t i = 0;
	for (unsigned k = 0; k < 4; k++) {
		if (k > 0) {
			if (i >= len) {
				snprintf(why, whysz, "only %u octets", k);
				*off = i;
				return false;
			}
			if (s[i] != '.') {
				snprintf(why, whysz, "unexpected character at offset %zu", i);
				*off = i;
				return false;
			}
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < len && is_digit(s[i]) && i - start < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		size_t nd = i - start;
		*off = start;
		if (nd == 0) {
			if (i >= len || s[i] == '.')
				snprintf(why, whysz, "octet %u is empty", k + 1);
			else
				snprintf(why, whysz, "unexpected character at offset %zu", i);
			return false;
		}
		if (nd > 3) {
			snprintf(why, whysz, "octet %u has more than 3 digits", k + 1);
			return false;
		}
		if (nd > 1 && s[start] == '0') {
			/* "010" is octal to some parsers and decimal to others: refuse. */
			snprintf(why, whysz, "octet %u has a leading zero", k + 1);
			return false;
		}
		if (v > 255) {
			snprintf(why, whysz, "octet %u is greater than 255", k + 1);
			return false;
		}
		out[k] = (uint8_t)v;
	}
	if (i != len) {
		*off = i;
		if (s[i] == '.')
			snprintf(why, whysz, "more than 4 octets");
		else
			snprintf(why, whysz, "unexpected character at offset %zu", i);
		return false;
	}
	return true;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[16], char *why, size_t whysz,
		     size_t *off)
{
	uint16_t g[8];
	unsigned ng = 0;
	int dc = -1; /* group index where "::" stands */
	size_t i = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		dc = 0;
		i = 2;
	} else if (len >= 1 && s[0] == ':') {
		snprintf(why, whysz, "starts with a single ':'");
		*off = 0;
		return false;
	}
	while (i < len) {
		if (ng == 8) {
			snprintf(why, whysz, "more than 8 groups");
			*off = i;
			return false;
		}
		size_t start = i;
		unsigned v = 0;
		int h;
		while (i < len && (h = hk_hexval(s[i])) >= 0 && i - start < 5) {
			v = (v << 4) | (unsigned)h;
			i++;
		}
		if (i < len && s[i] == '.') {
			/* An embedded dotted quad: the last 32 bits, ending the address. */
			if (ng > 6) {
				snprintf(why, whysz, "too many groups before the IPv4 part");
				*off = start;
				return false;
			}
			uint8_t q[4];
			char why4[64];
			size_t off4 = 0;
			if (!parse_v4(s + start, len - start, q, why4, sizeof(why4), &off4)) {
				snprintf(why, whysz, "embedded IPv4 part: %s", why4);
				*off = start + off4;
				return false;
			}
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			i = len;
			break;
		}
		if (i == start) {
			if (i < len && s[i] == ':')
				snprintf(why, whysz, "empty group at offset %zu", i);
			else
				snprintf(why, whysz, "unexpected character at offset %zu", i);
			*off = i;
			return false;
		}
		if (i - start > 4) {
			snprintf(why, whysz, "group at offset %zu has more than 4 hex digits",
				 start);
			*off = start;
			return false;
		}
		g[ng++] = (uint16_t)v;
		if (i == len)
			break;
		if (s[i] != ':') {
			snprintf(why, whysz, "unexpected character at offset %zu", i);
			*off = i;
			return false;
		}
		i++;
		if (i < len && s[i] == ':') {
			if (dc >= 0) {
				snprintf(why, whysz, "more than one '::'");
				*off = i - 1;
				return false;
			}
			dc = (int)ng;
			i++;
		} else if (i == len) {
			snprintf(why, whysz, "ends with a single ':'");
			*off = i - 1;
			return false;
		}
	}
	if (dc >= 0) {
		if (ng > 7) {
			/* "::" stands for at least one zero group. */
			snprintf(why, whysz, "'::' with 8 other groups");
			*off = 0;
			return false;
		}
		unsigned tail = ng - (unsigned)dc;
		uint16_t full[8] = {0};
		for (unsigned k = 0; k < (unsigned)dc; k++)
			full[k] = g[k];
		for (unsigned k = 0; k < tail; k++)
			full[8 - tail + k] = g[(unsigned)dc + k];
		memcpy(g, full, sizeof(g));
	} else if (ng != 8) {
		snprintf(why, whysz, "only %u groups and no '::'", ng);
		*off = len;
		return false;
	}
	for (unsigned k = 0; k < 8; k++) {
		out[2 * k] = (uint8_t)(g[k] >> 8);
		out[2 * k + 1] = (uint8_t)(g[k] & 0xff);
	}
	return true;
}

/* Longest text either parser can accept; anything longer is rejected up front. */
#define MAX_ADDR_TEXT 45u

/* Parse s[0..len) as an address; the message names `whole` (the full input). */
static hk_err parse_addr_in(const char *s, size_t len, const char *whole, size_t wlen, size_t base,
			    cidr_addr *ret, hk_errinfo *ei)
{
	char why[96];
	size_t off = 0;
	cidr_addr a;
	memset(&a, 0, sizeof(a));
	if (len == 0)
		return parse_fail(ei, whole, wlen, base, "invalid address", "empty");
	const char *nul = memchr(s, '\0', len);
	if (nul)
		return parse_fail(ei, whole, wlen, base + (size_t)(nul - s), "invalid address",
				  "contains a NUL byte");
	bool v6 = memchr(s, ':', len) != NULL;
	if (len > MAX_ADDR_TEXT)
		return parse_fail(ei, whole, wlen, base,
				  v6 ? "invalid IPv6 address" : "invalid IPv4 address", "too long");
	if (v6) {
		if (!parse_v6(s, len, a.bytes, why, sizeof(why), &off))
			return parse_fail(ei, whole, wlen, base + off, "invalid IPv6 address", why);
		a.family = CIDR_V6;
	} else {
		if (!parse_v4(s, len, a.bytes, why, sizeof(why), &off))
			return parse_fail(ei, whole, wlen, base + off, "invalid IPv4 address", why);
		a.family = CIDR_V4;
	}
	*ret = a;
	return HK_OK;
}

hk_err cidr_parse_addr_n(const char *s, size_t len, cidr_addr *ret, hk_errinfo *ei)
{
	return parse_addr_in(s, len, s, len, 0, ret, ei);
}

hk_err cidr_parse_addr(const char *str, cidr_addr *ret, hk_errinfo *ei)
{
	return cidr_parse_addr_n(str, strlen(str), ret, ei);
}

static hk_err make_prefix(const cidr_addr *a, unsigned len, unsigned flags, cidr_prefix *ret,
			  hk_errinfo *ei, const char *s, size_t slen)
{
	unsigned bits = cidr_family_bits(a->family);
	cidr_str buf;
	if (!bits)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "address of unknown family %u",
				      a->family);
	if (len > bits) {
		char v[CIDR_VALUE_TEXT];
		if (s)
			cidr_render_value(s, slen, v, sizeof(v));
		else
			snprintf(v, sizeof(v), "%s/%u", cidr_addr_str(a, &buf), len);
		return hk_errinfo_set(ei, s ? HK_ERR_INVALID : HK_ERR_RANGE, 0,
				      "%s: invalid CIDR (prefix length %u is greater than %u)", v,
				      len, bits);
	}
	cidr_u128 host = low_mask(bits - len);
	cidr_u128 v = cidr_addr_to_u128(a);
	if ((v & host) && !(flags & CIDR_PARSE_NORMALIZE)) {
		cidr_prefix want = {.addr = cidr_addr_from_u128((cidr_family)a->family, v & ~host),
				    .len = len};
		char val[CIDR_VALUE_TEXT];
		if (s)
			cidr_render_value(s, slen, val, sizeof(val));
		else
			snprintf(val, sizeof(val), "%s/%u", cidr_addr_str(a, &buf), len);
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s: invalid CIDR (host bits set; the network is %s)", val,
				      cidr_prefix_str(&want, &buf));
	}
	ret->addr = cidr_addr_from_u128((cidr_family)a->family, v & ~host);
	ret->len = len;
	return HK_OK;
}

hk_err cidr_prefix_make(const cidr_addr *a, unsigned len, unsigned flags, cidr_prefix *ret,
			hk_errinfo *ei)
{
	cidr_prefix p;
	hk_err err = make_prefix(a, len, flags, &p, ei, NULL, 0);
	if (err == HK_OK)
		*ret = p;
	return err;
}

hk_err cidr_parse_prefix_n(const char *s, size_t len, unsigned flags, cidr_prefix *ret,
			   hk_errinfo *ei)
{
	const char *slash = memchr(s, '/', len);
	cidr_addr a;
	cidr_prefix p;
	hk_err err;
	if (!slash) {
		if (!(flags & CIDR_PARSE_BARE)) {
			if (len == 0)
				return parse_fail(ei, s, len, 0, "invalid CIDR", "empty");
			return parse_fail(ei, s, len, len, "invalid CIDR", "no /prefix-length");
		}
		err = parse_addr_in(s, len, s, len, 0, &a, ei);
		if (err != HK_OK)
			return err;
		p.addr = a;
		p.len = cidr_family_bits(a.family);
		*ret = p;
		return HK_OK;
	}
	size_t alen = (size_t)(slash - s);
	err = parse_addr_in(s, alen, s, len, 0, &a, ei);
	if (err != HK_OK)
		return err;
	const char *l = slash + 1;
	size_t llen = len - alen - 1, base = alen + 1;
	if (llen == 0)
		return parse_fail(ei, s, len, base, "invalid CIDR", "empty prefix length");
	unsigned v = 0;
	for (size_t i = 0; i < llen; i++) {
		if (!is_digit(l[i]))
			return parse_fail(ei, s, len, base + i, "invalid CIDR",
					  "prefix length is not a decimal number");
		if (i >= 3)
			return parse_fail(ei, s, len, base, "invalid CIDR",
					  "prefix length is too long");
		v = v * 10 + (unsigned)(l[i] - '0');
	}
	if (llen > 1 && l[0] == '0')
		return parse_fail(ei, s, len, base, "invalid CIDR",
				  "prefix length has a leading zero");
	err = make_prefix(&a, v, flags, &p, ei, s, len);
	if (err != HK_OK) {
		if (ei)
			ei->offset = base;
		return HK_ERR_INVALID;
	}
	*ret = p;
	return HK_OK;
}

hk_err cidr_parse_prefix(const char *str, unsigned flags, cidr_prefix *ret, hk_errinfo *ei)
{
	return cidr_parse_prefix_n(str, strlen(str), flags, ret, ei);
}

hk_err cidr_parse_range_n(const char *s, size_t len, unsigned flags, cidr_range *ret,
			  hk_errinfo *ei)
{
	const char *dash = memchr(s, '-', len);
	cidr_range r;
	hk_err err;
	if (!dash) {
		cidr_prefix p;
		err = cidr_parse_prefix_n(s, len, flags, &p, ei);
		if (err != HK_OK)
			return err;
		*ret = cidr_prefix_range(&p);
		return HK_OK;
	}
	size_t alen = (size_t)(dash - s);
	err = parse_addr_in(s, alen, s, len, 0, &r.first, ei);
	if (err != HK_OK)
		return err;
	err = parse_addr_in(dash + 1, len - alen - 1, s, len, alen + 1, &r.last, ei);
	if (err != HK_OK)
		return err;
	if (r.first.family != r.last.family)
		return parse_fail(ei, s, len, alen, "invalid address range",
				  "first and last are of different families");
	if (cidr_addr_cmp(&r.first, &r.last) > 0)
		return parse_fail(ei, s, len, alen, "invalid address range",
				  "first address is after the last");
	*ret = r;
	return HK_OK;
}

hk_err cidr_parse_range(const char *str, unsigned flags, cidr_range *ret, hk_errinfo *ei)
{
	return cidr_parse_range_n(str, strlen(str), flags, ret, ei);
}

/* ---- formatting ---- */

/* Appends to a fixed buffer, remembering overflow. */
typedef struct outbuf {
	char *p;
	size_t size;
	size_t len;
	bool over;
} outbuf;

static void put_char(outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->p[o->len++] = c;
	else
		o->over = true;
}

static void put_str(outbuf *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static void put_dec(outbuf *o, unsigned v)
{
	char d[12];
	size_t n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(o, d[--n]);
}

static void put_hex16(outbuf *o, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	bool started = false;
	for (int sh = 12; sh >= 0; sh -= 4) {
		unsigned nib = (v >> (unsigned)sh) & 0xf;
		if (nib || started || sh == 0) {
			put_char(o, hex[nib]);
			started = true;
		}
	}
}

static void put_v4(outbuf *o, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			put_char(o, '.');
		put_dec(o, b[i]);
	}
}

static void put_addr(outbuf *o, const cidr_addr *a)
{
	if (a->family == CIDR_V4) {
		put_v4(o, a->bytes);
		return;
	}
	if (a->family != CIDR_V6) {
		put_str(o, "?");
		return;
	}
	if (cidr_addr_is_v4_mapped(a)) {
		/* RFC 5952 section 5: mixed notation for IPv4-mapped addresses. */
		put_str(o, "::ffff:");
		put_v4(o, a->bytes + 12);
		return;
	}
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a->bytes[2 * i] << 8 | a->bytes[2 * i + 1];
	/* RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the first on ties. */
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8;) {
		if (g[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j;
	}
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			put_str(o, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			put_char(o, ':');
		put_hex16(o, g[i]);
	}
}

static hk_err finish(outbuf *o)
{
	if (o->size == 0)
		return HK_ERR_RANGE;
	if (o->over) {
		o->p[0] = '\0';
		return HK_ERR_RANGE;
	}
	o->p[o->len] = '\0';
	return HK_OK;
}

hk_err cidr_format_addr(const cidr_addr *a, char *buf, size_t size)
{
	outbuf o = {buf, size, 0, false};
	put_addr(&o, a);
	return finish(&o);
}

hk_err cidr_format_prefix(const cidr_prefix *p, char *buf, size_t size)
{
	outbuf o = {buf, size, 0, false};
	put_addr(&o, &p->addr);
	put_char(&o, '/');
	put_dec(&o, p->len);
	return finish(&o);
}

hk_err cidr_format_range(const cidr_range *r, char *buf, size_t size)
{
	outbuf o = {buf, size, 0, false};
	put_addr(&o, &r->first);
	if (!cidr_addr_eq(&r->first, &r->last)) {
		put_char(&o, '-');
		put_addr(&o, &r->last);
	}
	return finish(&o);
}

hk_err cidr_format_u128(cidr_u128 v, char *buf, size_t size)
{
	char d[CIDR_U128_STRLEN];
	size_t n = 0;
	do {
		d[n++] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v);
	outbuf o = {buf, size, 0, false};
	while (n)
		put_char(&o, d[--n]);
	return finish(&o);
}

const char *cidr_addr_str(const cidr_addr *a, cidr_str *buf)
{
	if (cidr_format_addr(a, buf->s, sizeof(buf->s)) != HK_OK)
		buf->s[0] = '\0';
	return buf->s;
}

const char *cidr_prefix_str(const cidr_prefix *p, cidr_str *buf)
{
	if (cidr_format_prefix(p, buf->s, sizeof(buf->s)) != HK_OK)
		buf->s[0] = '\0';
	return buf->s;
}

const char *cidr_range_str(const cidr_range *r, cidr_str *buf)
{
	if (cidr_format_range(r, buf->s, sizeof(buf->s)) != HK_OK)
		buf->s[0] = '\0';
	return buf->s;
}

const char *cidr_u128_str(cidr_u128 v, cidr_str *buf)
{
	if (cidr_format_u128(v, buf->s, sizeof(buf->s)) != HK_OK)
		buf->s[0] = '\0';
	return buf->s;
}

/* ---- prefixes and ranges ---- */

static cidr_u128 host_mask(const cidr_prefix *p)
{
	unsigned bits = cidr_family_bits(p->addr.family);
	return low_mask(p->len >= bits ? 0 : bits - p->len);
}

cidr_addr cidr_prefix_first(const cidr_prefix *p)
{
	return cidr_addr_from_u128((cidr_family)p->addr.family,
				   cidr_addr_to_u128(&p->addr) & ~host_mask(p));
}

cidr_addr cidr_prefix_last(const cidr_prefix *p)
{
	return cidr_addr_from_u128((cidr_family)p->addr.family,
				   cidr_addr_to_u128(&p->addr) | host_mask(p));
}

cidr_u128 cidr_prefix_size(const cidr_prefix *p)
{
	cidr_u128 h = host_mask(p);
	return h == CIDR_U128_MAX ? CIDR_U128_MAX : h + 1;
}

bool cidr_prefix_contains(const cidr_prefix *p, const cidr_addr *a)
{
	if (p->addr.family != a->family)
		return false;
	cidr_u128 net = ~host_mask(p);
	return (cidr_addr_to_u128(a) & net) == (cidr_addr_to_u128(&p->addr) & net);
}

bool cidr_prefix_contains_prefix(const cidr_prefix *outer, const cidr_prefix *inner)
{
	return inner->len >= outer->len && cidr_prefix_contains(outer, &inner->addr);
}

bool cidr_prefix_overlaps(const cidr_prefix *a, const cidr_prefix *b)
{
	return cidr_prefix_contains_prefix(a, b) || cidr_prefix_contains_prefix(b, a);
}

cidr_range cidr_prefix_range(const cidr_prefix *p)
{
	cidr_range r = {cidr_prefix_first(p), cidr_prefix_last(p)};
	return r;
}

bool cidr_range_contains(const cidr_range *r, const cidr_addr *a)
{
	return a->family == r->first.family && cidr_addr_cmp(&r->first, a) <= 0 &&
	       cidr_addr_cmp(a, &r->last) <= 0;
}

cidr_u128 cidr_range_size(const cidr_range *r)
{
	cidr_u128 d = cidr_addr_to_u128(&r->last) - cidr_addr_to_u128(&r->first);
	return d == CIDR_U128_MAX ? CIDR_U128_MAX : d + 1;
}

/* ---- iteration ---- */

void cidr_iter_init_range(cidr_iter *it, const cidr_range *r)
{
	it->next = cidr_addr_to_u128(&r->first);
	it->last = cidr_addr_to_u128(&r->last);
	it->family = r->first.family;
	it->done = it->next > it->last;
}

void cidr_iter_init_prefix(cidr_iter *it, const cidr_prefix *p)
{
	cidr_range r = cidr_prefix_range(p);
	cidr_iter_init_range(it, &r);
}

bool cidr_iter_next(cidr_iter *it, cidr_addr *ret)
{
	if (it->done)
		return false;
	*ret = cidr_addr_from_u128((cidr_family)it->family, it->next);
	if (it->next == it->last)
		it->done = true;
	else
		it->next++;
	return true;
}

/* ---- AWS subnets ---- */

hk_err cidr_subnet_check(const cidr_prefix *subnet, hk_errinfo *ei)
{
	cidr_str buf;
	const char *name = cidr_prefix_str(subnet, &buf);
	unsigned bits = cidr_family_bits(subnet->addr.family);
	if (!bits || subnet->len > bits)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: not a valid prefix", name);
	if (cidr_addr_to_u128(&subnet->addr) & host_mask(subnet))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: host bits set", name);
	if (subnet->addr.family == CIDR_V4) {
		if (subnet->len < 16 || subnet->len > 28)
			return hk_errinfo_set(ei, HK_ERR_RANGE, 0,
					      "%s: AWS subnets must be /16 to /28", name);
	} else if (subnet->len < 44 || subnet->len > 64 || subnet->len % 4) {
		return hk_errinfo_set(ei, HK_ERR_RANGE, 0,
				      "%s: AWS IPv6 subnets must be /44 to /64 in steps "
				      "of 4 (usually /64)",
				      name);
	}
	return HK_OK;
}

bool cidr_subnet_is_aws_reserved(const cidr_prefix *subnet, const cidr_addr *a)
{
	if (!cidr_prefix_contains(subnet, a))
		return false;
	cidr_u128 off = cidr_addr_to_u128(a) - cidr_addr_to_u128(&subnet->addr);
	return off < 4 || off == host_mask(subnet);
}
