/* AWS Signature Version 4, header signing, built from the small canonical steps
 * of the specification (canonical request -> string to sign -> signing key ->
 * signature), each checked against the AWS test suite (test/vectors/sigv4). */
#include "sigv4.h"

#include "hk_util.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* ---- a growable string; every append is checked once, at the end ---- */

typedef struct sbuf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
} sbuf;

static bool sbuf_reserve(sbuf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (extra > SIZE_MAX - b->len - 1) {
		b->failed = true;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	char *np = realloc(b->p, ncap);
	if (!np) {
		b->failed = true;
		return false;
	}
	b->p = np;
	b->cap = ncap;
	return true;
}

static void sbuf_putn(sbuf *b, const char *s, size_t n)
{
	if (!sbuf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sbuf_puts(sbuf *b, const char *s)
{
	sbuf_putn(b, s, strlen(s));
}

static void sbuf_putc(sbuf *b, char c)
{
	sbuf_putn(b, &c, 1);
}

/* Takes the string out of the buffer (an empty string when nothing was added). */
static char *sbuf_take(sbuf *b)
{
	if (!b->p && sbuf_reserve(b, 0))
		b->p[0] = '\0';
	if (b->failed) {
		free(b->p);
		b->p = NULL;
		return NULL;
	}
	char *r = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return r;
}

/* Wipes too: canonical requests carry the session token. */
static void sbuf_free(sbuf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

static const char hexup[] = "0123456789ABCDEF";
static const char hexlow[] = "0123456789abcdef";

static void sbuf_pct(sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c)) {
			sbuf_putc(b, (char)c);
		} else {
			char e[3] = {'%', hexup[c >> 4], hexup[c & 15]};
			sbuf_putn(b, e, 3);
		}
	}
}

/* Decode %XX sequences of s[0..n) and re-encode the bytes strictly: the canonical
 * form is the same whether the caller encoded a character or not. A '%' not
 * followed by two hex digits is a literal '%'. */
static void sbuf_reencode(sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n) {
			int h = hk_hexval(s[i + 1]), l = hk_hexval(s[i + 2]);
			if (h >= 0 && l >= 0) {
				char d = (char)(h * 16 + l);
				sbuf_pct(b, &d, 1);
				i += 2;
				continue;
			}
		}
		sbuf_pct(b, &c, 1);
	}
}

/* ---- canonical URI ---- */

typedef struct seg {
	const char *p;
	size_t n;
} seg;

static hk_err canonical_uri(const char *path, bool normalize, sbuf *out)
{
	if (!path || !*path) {
		sbuf_putc(out, '/');
		return HK_OK;
	}
	size_t plen = strlen(path);
	if (!normalize) {
		/* Keep every segment, encode each. */
		size_t start = 0;
		for (size_t i = 0; i <= plen; i++) {
			if (i == plen || path[i] == '/') {
				sbuf_pct(out, path + start, i - start);
				if (i < plen)
					sbuf_putc(out, '/');
				start = i + 1;
			}
		}
		return HK_OK;
	}
	/* RFC 3986 remove_dot_segments, with empty segments dropped as well. At
	 * most plen/2 + 1 segments. */
	size_t max = plen / 2 + 2;
	seg *segs = calloc(max, sizeof(*segs));
	if (!segs)
		return HK_ERR_NOMEM;
	size_t n = 0;
	bool trailing = false;
	size_t start = 0;
	for (size_t i = 0; i <= plen; i++) {
		if (i < plen && path[i] != '/')
			continue;
		const char *s = path + start;
		size_t len = i - start;
		start = i + 1;
		bool last = i == plen;
		if (len == 0 || (len == 1 && s[0] == '.')) {
			trailing = last;
			continue;
		}
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (n)
				n--;
			trailing = last;
			continue;
		}
		if (n < max)
			segs[n++] = (seg){s, len};
		trailing = false;
	}
	sbuf_putc(out, '/');
	for (size_t i = 0; i < n; i++) {
		sbuf_pct(out, segs[i].p, segs[i].n);
		if (i + 1 < n || trailing)
			sbuf_putc(out, '/');
	}
	free(segs);
	return HK_OK;
}

/* ---- canonical query ---- */

typedef struct qpair {
	char *name;
	char *value;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
	const qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static hk_err canonical_query(const char *query, sbuf *out)
{
	if (!query || !*query)
		return HK_OK;
	size_t qlen = strlen(query);
	size_t count = 1;
	for (size_t i = 0; i < qlen; i++)
		count += query[i] == '&';
	qpair *pairs = calloc(count, sizeof(*pairs));
	if (!pairs)
		return HK_ERR_NOMEM;
	hk_err err = HK_OK;
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= qlen; i++) {
		if (i < qlen && query[i] != '&')
			continue;
		const char *s = query + start;
		size_t len = i - start;
		start = i + 1;
		if (len == 0)
			continue; /* "a=1&&b=2": nothing between the separators */
		const char *eq = memchr(s, '=', len);
		size_t nlen = eq ? (size_t)(eq - s) : len;
		sbuf nb = {0}, vb = {0};
		sbuf_reencode(&nb, s, nlen);
		if (eq)
			sbuf_reencode(&vb, eq + 1, len - nlen - 1);
		pairs[n].name = sbuf_take(&nb);
		pairs[n].value = sbuf_take(&vb);
		n++;
		if (!pairs[n - 1].name || !pairs[n - 1].value) {
			err = HK_ERR_NOMEM;
			goto out;
		}
	}
	qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_putc(out, '&');
		sbuf_puts(out, pairs[i].name);
		sbuf_putc(out, '=');
		sbuf_puts(out, pairs[i].value);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
	return err;
}

/* ---- canonical headers ---- */

typedef struct chdr {
	char *name;  /* lowercased */
	char *value; /* trimmed, whitespace runs collapsed */
	size_t order;
} chdr;

static int chdr_cmp(const void *a, const void *b)
{
	const chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Non-empty, printable ASCII with no space and not `banned`. */
static bool token_ok(const char *s, char banned)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 32 || c >= 127 || c == (unsigned char)banned)
			return false;
	}
	return true;
}

static bool valid_header_name(const char *s)
{
	return token_ok(s, ':');
}

static char *lower_dup(const char *s)
{
	size_t n = strlen(s);
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	r[n] = '\0';
	return r;
}

static char *normalize_value(const char *s)
{
	sbuf b = {0};
	bool pending_space = false;
	while (*s && is_lws(*s))
		s++;
	for (; *s; s++) {
		if (is_lws(*s)) {
			pending_space = true;
			continue;
		}
		if (pending_space)
			sbuf_putc(&b, ' ');
		pending_space = false;
		sbuf_putc(&b, *s);
	}
	return sbuf_take(&b);
}

static bool valid_amz_date(const char *d)
{
	if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++) {
		if (i == 8)
			continue;
		if (d[i] < '0' || d[i] > '9')
			return false;
	}
	return true;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexlow[in[i] >> 4];
		out[2 * i + 1] = hexlow[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char ret_hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		/* Only on a broken libcrypto: produce something that cannot verify. */
		memset(ret_hex, '0', 64);
		ret_hex[64] = '\0';
		return;
	}
	hex_encode(md, 32, ret_hex);
}

static bool hmac256(const void *key, size_t keylen, const void *data, size_t len,
		    unsigned char out[32])
{
	unsigned int outlen = 0;
	if (keylen > INT_MAX)
		return false;
	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) && outlen == 32;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"). Every intermediate key is wiped. */
static hk_err derive_key(const char *secret, const char *date8, const char *region,
			 const char *service, unsigned char ret_key[32])
{
	size_t slen = strlen(secret);
	if (slen > SIZE_MAX - 5)
		return HK_ERR_INVALID;
	char *k = malloc(slen + 5);
	if (!k)
		return HK_ERR_NOMEM;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, slen + 1);
	unsigned char a[32], b[32];
	bool ok = hmac256(k, slen + 4, date8, 8, a) && hmac256(a, 32, region, strlen(region), b) &&
		  hmac256(b, 32, service, strlen(service), a) &&
		  hmac256(a, 32, "aws4_request", 12, ret_key);
	OPENSSL_cleanse(k, slen + 5);
	free(k);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	if (!ok) {
		OPENSSL_cleanse(ret_key, 32);
		return HK_ERR_INTERNAL;
	}
	return HK_OK;
}

static bool valid_scope_part(const char *s)
{
	return token_ok(s, '/');
}

static bool ascii_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

static void chdrs_free(chdr *h, size_t nh)
{
	for (size_t i = 0; h && i < nh; i++) {
		free(h[i].name);
		if (h[i].value)
			OPENSSL_cleanse(h[i].value, strlen(h[i].value)); /* may be the token */
		free(h[i].value);
	}
	free(h);
}

/* Append one header; HK_ERR_NOMEM when either copy failed (the slot is still
 * counted, so chdrs_free() releases what was made). */
static hk_err chdr_add(chdr *h, size_t *nh, char *name, char *value)
{
	h[*nh].name = name;
	h[*nh].value = value;
	h[*nh].order = *nh;
	(*nh)++;
	return name && value ? HK_OK : HK_ERR_NOMEM;
}

/* Step 1: the headers to sign, lowercased and normalised, Authorization
 * dropped, X-Amz-Date (the request time, given or from `now`) and
 * X-Amz-Security-Token added when missing, sorted by name (stable). */
static hk_err signed_headers(const sigv4_request *req, const sigv4_creds *creds, time_t now,
			     chdr **ret_h, size_t *ret_nh, char amz_date[17])
{
	/* Caller's headers plus at most X-Amz-Date and X-Amz-Security-Token. */
	chdr *h = calloc(req->n_headers + 2, sizeof(*h));
	if (!h)
		return HK_ERR_NOMEM;
	size_t nh = 0;
	bool have_host = false, have_date = false, have_token = false;
	const char *date_value = NULL;
	hk_err err = HK_OK;
	for (size_t i = 0; i < req->n_headers && !err; i++) {
		const sigv4_header *in = &req->headers[i];
		if (!in->name || !in->value || !valid_header_name(in->name)) {
			err = HK_ERR_INVALID;
			break;
		}
		if (ascii_ieq(in->name, "authorization"))
			continue;
		if ((err = chdr_add(h, &nh, lower_dup(in->name), normalize_value(in->value))))
			break;
		const char *n = h[nh - 1].name;
		if (!strcmp(n, "host"))
			have_host = true;
		else if (!strcmp(n, "x-amz-security-token"))
			have_token = true;
		else if (!strcmp(n, "x-amz-date")) {
			if (have_date)
				err = HK_ERR_INVALID; /* two request times */
			have_date = true;
			date_value = h[nh - 1].value;
		}
	}
	if (!err && !have_host)
		err = HK_ERR_INVALID;
	if (!err && have_date) {
		if (!valid_amz_date(date_value))
			err = HK_ERR_INVALID;
		else
			memcpy(amz_date, date_value, 17);
	} else if (!err) {
		struct tm tm;
		if (!gmtime_r(&now, &tm) || strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
			err = HK_ERR_INVALID;
		else
			err = chdr_add(h, &nh, strdup("x-amz-date"), strdup(amz_date));
	}
	if (!err && creds->session_token && *creds->session_token && !have_token)
		err = chdr_add(h, &nh, strdup("x-amz-security-token"),
			       normalize_value(creds->session_token));
	if (err) {
		chdrs_free(h, nh);
		return err;
	}
	qsort(h, nh, sizeof(*h), chdr_cmp);
	*ret_h = h;
	*ret_nh = nh;
	return HK_OK;
}

/* Step 2: the canonical request; [*signed_start, *signed_end) of `cr` is the
 * SignedHeaders list. */
static hk_err canonical_request(const sigv4_request *req, const chdr *h, size_t nh,
				const char *payload_hash, sbuf *cr, size_t *signed_start,
				size_t *signed_end)
{
	hk_err err;
	sbuf_puts(cr, req->method);
	sbuf_putc(cr, '\n');
	if ((err = canonical_uri(req->path, !req->no_path_normalize, cr)) != HK_OK)
		return err;
	sbuf_putc(cr, '\n');
	if ((err = canonical_query(req->query, cr)) != HK_OK)
		return err;
	sbuf_putc(cr, '\n');
	for (size_t i = 0; i < nh; i++) {
		if (i && !strcmp(h[i].name, h[i - 1].name)) {
			sbuf_putc(cr, ',');
			sbuf_puts(cr, h[i].value);
			continue;
		}
		if (i)
			sbuf_putc(cr, '\n');
		sbuf_puts(cr, h[i].name);
		sbuf_putc(cr, ':');
		sbuf_puts(cr, h[i].value);
	}
	sbuf_puts(cr, "\n\n");
	*signed_start = cr->len;
	for (size_t i = 0; i < nh; i++) {
		if (i && !strcmp(h[i].name, h[i - 1].name))
			continue;
		if (i)
			sbuf_putc(cr, ';');
		sbuf_puts(cr, h[i].name);
	}
	*signed_end = cr->len;
	sbuf_putc(cr, '\n');
	sbuf_puts(cr, payload_hash);
	return cr->failed ? HK_ERR_NOMEM : HK_OK;
}

/* Step 3: the credential scope and the string to sign. */
static hk_err string_to_sign(const char *amz_date, const char *date8, const char *region,
			     const char *service, const sbuf *cr, sbuf *scope, sbuf *sts)
{
	char cr_hash[65];
	sigv4_sha256_hex(cr->p, cr->len, cr_hash);
	sbuf_puts(scope, date8);
	sbuf_putc(scope, '/');
	sbuf_puts(scope, region);
	sbuf_putc(scope, '/');
	sbuf_puts(scope, service);
	sbuf_puts(scope, "/aws4_request");
	sbuf_puts(sts, SIGV4_ALGORITHM "\n");
	sbuf_puts(sts, amz_date);
	sbuf_putc(sts, '\n');
	sbuf_puts(sts, scope->p ? scope->p : "");
	sbuf_putc(sts, '\n');
	sbuf_puts(sts, cr_hash);
	return scope->failed || sts->failed ? HK_ERR_NOMEM : HK_OK;
}

/* Step 4: the signature (hex) with the derived key, which is wiped. */
static hk_err signature(const sigv4_creds *creds, const char *date8, const char *region,
			const char *service, const sbuf *sts, char hex[65])
{
	unsigned char key[32], sig[32];
	hk_err err = derive_key(creds->secret_access_key, date8, region, service, key);
	if (err != HK_OK)
		return err;
	if (!hmac256(key, sizeof(key), sts->p, sts->len, sig))
		err = HK_ERR_INTERNAL;
	OPENSSL_cleanse(key, sizeof(key));
	if (err == HK_OK)
		hex_encode(sig, 32, hex);
	return err;
}

hk_err sigv4_sign(const sigv4_request *req, const sigv4_creds *creds, const char *region,
		  const char *service, time_t now, sigv4_signed *ret)
{
	if (!req || !creds || !ret || !req->method || !*req->method ||
	    (req->n_headers && !req->headers) || (!req->body && req->body_len) ||
	    !valid_scope_part(region) || !valid_scope_part(service) ||
	    !valid_scope_part(creds->access_key_id) || !creds->secret_access_key)
		return HK_ERR_INVALID;

	sigv4_signed res;
	memset(&res, 0, sizeof(res));
	sbuf cr = {0}, scope = {0}, sts = {0}, auth = {0};
	chdr *h = NULL;
	size_t nh = 0, signed_start = 0, signed_end = 0;
	hk_err err = signed_headers(req, creds, now, &h, &nh, res.amz_date);
	if (err)
		return err;
	sigv4_sha256_hex(req->body, req->body_len, res.payload_hash);
	char date8[9];
	memcpy(date8, res.amz_date, 8);
	date8[8] = '\0';
	if ((err = canonical_request(req, h, nh, res.payload_hash, &cr, &signed_start,
				     &signed_end)) ||
	    (err = string_to_sign(res.amz_date, date8, region, service, &cr, &scope, &sts)) ||
	    (err = signature(creds, date8, region, service, &sts, res.signature)))
		goto out;

	/* Step 5: the Authorization header. */
	sbuf_puts(&auth, SIGV4_ALGORITHM " Credential=");
	sbuf_puts(&auth, creds->access_key_id);
	sbuf_putc(&auth, '/');
	sbuf_puts(&auth, scope.p);
	sbuf_puts(&auth, ", SignedHeaders=");
	sbuf_putn(&auth, cr.p + signed_start, signed_end - signed_start);
	sbuf_puts(&auth, ", Signature=");
	sbuf_puts(&auth, res.signature);

	res.canonical_request = sbuf_take(&cr);
	res.string_to_sign = sbuf_take(&sts);
	res.authorization = sbuf_take(&auth);
	if (!res.canonical_request || !res.string_to_sign || !res.authorization) {
		sigv4_signed_cleanup(&res);
		err = HK_ERR_NOMEM;
		goto out;
	}
	*ret = res;
out:
	chdrs_free(h, nh);
	sbuf_free(&cr);
	sbuf_free(&scope);
	sbuf_free(&sts);
	sbuf_free(&auth);
	return err;
}

void sigv4_signed_cleanup(sigv4_signed *s)
{
	if (!s)
		return;
	if (s->authorization)
		OPENSSL_cleanse(s->authorization, strlen(s->authorization));
	if (s->canonical_request)
		OPENSSL_cleanse(s->canonical_request, strlen(s->canonical_request));
	free(s->authorization);
	free(s->canonical_request);
	free(s->string_to_sign);
	OPENSSL_cleanse(s->signature, sizeof(s->signature));
	s->authorization = s->canonical_request = s->string_to_sign = NULL;
}
