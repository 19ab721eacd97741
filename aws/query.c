/* AWS Query protocol request bodies. Parameters stay in insertion order, Action
 * and Version first, exactly as botocore serialises them, so a body can be
 * compared byte for byte with botocore's (test/golden). */
#include "query.h"

#include "hk_util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct query_param {
	char *name;
	char *value;
} query_param;

struct query_params {
	query_param *v;
	size_t n;
	size_t cap;
};

static hk_err append(query_params *p, const char *name, const char *value)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*p->v))
			return HK_ERR_NOMEM;
		query_param *nv = realloc(p->v, ncap * sizeof(*nv));
		if (!nv)
			return HK_ERR_NOMEM;
		p->v = nv;
		p->cap = ncap;
	}
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return HK_ERR_NOMEM;
	}
	p->v[p->n++] = (query_param){n, v};
	return HK_OK;
}

static query_param *find(const query_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].name, name))
			return &p->v[i];
	return NULL;
}

query_params *query_params_new(const char *action, const char *version)
{
	if (!action || !*action || !version || !*version)
		return NULL;
	query_params *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (append(p, "Action", action) != HK_OK || append(p, "Version", version) != HK_OK) {
		query_params_free(p);
		return NULL;
	}
	return p;
}

void query_params_free(query_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		/* Values may carry a secret (a web identity token): wiped. */
		hk_free_secret(p->v[i].value);
	}
	free(p->v);
	free(p);
}

hk_err query_add(query_params *p, const char *name, const char *value)
{
	if (!p || !name || !*name || !value)
		return HK_ERR_INVALID;
	if (find(p, name))
		return HK_ERR_EXISTS;
	return append(p, name, value);
}

hk_err query_addf(query_params *p, const char *value, const char *name_fmt, ...)
{
	if (!p || !name_fmt)
		return HK_ERR_INVALID;
	char small[128];
	va_list ap;
	va_start(ap, name_fmt);
	int n = vsnprintf(small, sizeof(small), name_fmt, ap);
	va_end(ap);
	if (n < 0)
		return HK_ERR_INVALID;
	if ((size_t)n < sizeof(small))
		return query_add(p, small, value);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return HK_ERR_NOMEM;
	va_start(ap, name_fmt);
	int m = vsnprintf(big, (size_t)n + 1, name_fmt, ap);
	va_end(ap);
	hk_err err = m == n ? query_add(p, big, value) : HK_ERR_INVALID;
	free(big);
	return err;
}

hk_err query_set(query_params *p, const char *name, const char *value)
{
	if (!p || !name || !*name || !value)
		return HK_ERR_INVALID;
	query_param *q = find(p, name);
	if (!q)
		return append(p, name, value);
	char *v = strdup(value);
	if (!v)
		return HK_ERR_NOMEM;
	hk_free_secret(q->value);
	q->value = v;
	return HK_OK;
}

hk_err query_params_dup(const query_params *p, query_params **ret)
{
	if (!p || p->n < 2)
		return HK_ERR_INVALID;
	query_params *q = calloc(1, sizeof(*q));
	if (!q)
		return HK_ERR_NOMEM;
	hk_err err = HK_OK;
	for (size_t i = 0; !err && i < p->n; i++)
		err = append(q, p->v[i].name, p->v[i].value);
	if (err) {
		query_params_free(q);
		return err;
	}
	*ret = q;
	return HK_OK;
}

size_t query_params_count(const query_params *p)
{
	return p ? p->n : 0;
}

const char *query_params_name(const query_params *p, size_t i)
{
	return p && i < p->n ? p->v[i].name : NULL;
}

const char *query_params_value(const query_params *p, size_t i)
{
	return p && i < p->n ? p->v[i].value : NULL;
}

const char *query_get(const query_params *p, const char *name)
{
	if (!p || !name)
		return NULL;
	const query_param *q = find(p, name);
	return q ? q->value : NULL;
}

bool query_is_unfiltered(const query_params *p)
{
	if (!p)
		return true;
	for (size_t i = 0; i < p->n; i++) {
		const char *n = p->v[i].name;
		if (strcmp(n, "Action") && strcmp(n, "Version") && strcmp(n, "NextToken") &&
		    strcmp(n, "DryRun"))
			return false;
	}
	return true;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* `form`: application/x-www-form-urlencoded, where a space is '+' (as botocore
 * and every SDK send Query bodies; moto re-encodes the form that way before it
 * checks the signature, so '%20' in a body fails there). Otherwise RFC 3986. */
static size_t encoded_len(const char *s, size_t n, bool form)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		len += (is_unreserved(c) || (form && c == ' ')) ? 1 : 3;
	}
	return len;
}

static char *encode_into(char *out, const char *s, size_t n, bool form)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c)) {
			*out++ = (char)c;
		} else if (form && c == ' ') {
			*out++ = '+';
		} else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	return out;
}

hk_err query_pct_encode(const char *in, size_t len, char **ret)
{
	if ((!in && len) || !ret)
		return HK_ERR_INVALID;
	if (len > (SIZE_MAX - 1) / 3)
		return HK_ERR_TOO_LARGE;
	size_t n = encoded_len(in, len, false);
	char *out = malloc(n + 1);
	if (!out)
		return HK_ERR_NOMEM;
	char *end = encode_into(out, in, len, false);
	*end = '\0';
	*ret = out;
	return HK_OK;
}

hk_err query_encode(const query_params *p, char **ret_body, size_t *ret_len)
{
	if (!p || !ret_body)
		return HK_ERR_INVALID;
	/* Two passes: size, then write; at most 3 bytes per input byte. */
	size_t total = 0;
	for (size_t i = 0; i < p->n; i++) {
		size_t nl = strlen(p->v[i].name), vl = strlen(p->v[i].value);
		if (nl > SIZE_MAX / 8 || vl > SIZE_MAX / 8)
			return HK_ERR_TOO_LARGE;
		size_t add =
		    encoded_len(p->v[i].name, nl, true) + encoded_len(p->v[i].value, vl, true) + 2;
		if (add > SIZE_MAX - 1 - total)
			return HK_ERR_TOO_LARGE;
		total += add;
	}
	char *out = malloc(total + 1);
	if (!out)
		return HK_ERR_NOMEM;
	char *w = out;
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			*w++ = '&';
		w = encode_into(w, p->v[i].name, strlen(p->v[i].name), true);
		*w++ = '=';
		w = encode_into(w, p->v[i].value, strlen(p->v[i].value), true);
	}
	*w = '\0';
	*ret_body = out;
	if (ret_len)
		*ret_len = (size_t)(w - out);
	return HK_OK;
}
