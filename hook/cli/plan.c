/* `multus-hookd plan`: which addresses the next workers would get in a subnet, how
 * many stay free, and what is left to pods. An offline view of the allocator the
 * lifecycle engine uses (cidr/); see docs/plan.md.
 *
 * Structure: options (and an optional JSON input) fill a plan_cfg; plan_build() turns
 * it into a pool and a plan_result; plan_print_*() write it. Every input problem
 * becomes ONE message naming the bad value, and exit status 2. */
#include "hook_cli_internal.h"
#include "hk_util.h"

#include "cidr.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_COUNT_MAX	  65536u	      /* workers per plan */
#define PLAN_INPUT_MAX	  (16u * 1024 * 1024) /* --input JSON file size */
#define PLAN_EXIT_OK	  0
#define PLAN_EXIT_RUNTIME 1 /* out of memory, or not enough free addresses */
#define PLAN_EXIT_USAGE	  2 /* bad option or bad input */
#define PLAN_ERR_LEN	  640u
#define PLAN_WHERE_LEN	  300u

typedef struct plan_item {
	char *text;  /* the value as given */
	char *where; /* where it came from, ready to prefix the message */
	cidr_resv_kind kind;
} plan_item;

typedef struct plan_list {
	plan_item *v;
	size_t n;
	size_t cap;
} plan_list;

typedef struct plan_cfg {
	char *subnet; /* NULL until given */
	char *subnet_where;
	unsigned long count; /* 0 until given */
	plan_list used;	     /* inline addresses/CIDRs (JSON) */
	plan_list used_files;
	plan_list resv;
	plan_list pods;
	const char *input;  /* --input FILE.json */
	const char *config; /* --config FILE (with --live) */
	bool live;
	bool json;
	bool help;
} plan_cfg;

typedef struct plan_result {
	cidr_prefix subnet;
	size_t n;
	cidr_addr *addrs;
	cidr_pool_stats before;
	cidr_pool_stats after;
	bool have_tail;
	cidr_range tail;
} plan_result;

/* Returned by the steps below; the message is in err. */
/* Errors are hk_err like everywhere else: HK_ERR_INVALID for bad options or
 * input (exit 2), anything else is a runtime failure (exit 1). */
static int plan_exit_code(hk_err err)
{
	if (err == HK_OK)
		return 0;
	return err == HK_ERR_INVALID ? PLAN_EXIT_USAGE : PLAN_EXIT_RUNTIME;
}

static hk_err fail(char *err, hk_err st, const char *fmt, ...) HK_PRINTF(3, 4);
static hk_err fail(char *err, hk_err st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, PLAN_ERR_LEN, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(err, PLAN_ERR_LEN, "error");
	return st;
}

static hk_err list_add(plan_list *l, const char *text, size_t len, const char *where,
		       cidr_resv_kind kind, char *err)
{
	plan_item *v = hk_grow(l->v, l->n, &l->cap, sizeof(*v), 8);
	if (!v)
		return fail(err, HK_ERR_NOMEM, "out of memory");
	l->v = v;
	plan_item *it = &l->v[l->n];
	it->text = strndup(text, len);
	it->where = strdup(where);
	it->kind = kind;
	if (!it->text || !it->where) {
		free(it->text);
		free(it->where);
		return fail(err, HK_ERR_NOMEM, "out of memory");
	}
	l->n++;
	return HK_OK;
}

static void list_free(plan_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		free(l->v[i].where);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void cfg_cleanup(plan_cfg *cfg)
{
	free(cfg->subnet);
	free(cfg->subnet_where);
	list_free(&cfg->used);
	list_free(&cfg->used_files);
	list_free(&cfg->resv);
	list_free(&cfg->pods);
}

static void result_cleanup(plan_result *res)
{
	free(res->addrs);
	res->addrs = NULL;
}

/* Render a value from the input for a message (one line, bounded). */
static const char *show(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; s[i] && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
		if (i >= 80) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
	}
	buf[o < size ? o : size - 1] = '\0';
	return buf;
}

static hk_err set_count(plan_cfg *cfg, const char *s, const char *where, char *err)
{
	char b[128];
	errno = 0;
	char *end = NULL;
	unsigned long v = 0;
	bool digits = s[0] >= '0' && s[0] <= '9';
	if (digits)
		v = strtoul(s, &end, 10);
	if (!digits || (errno && errno != ERANGE) || !end || *end)
		return fail(err, HK_ERR_INVALID, "%s%s: not a whole number (expected 1 to %u)",
			    where, show(s, b, sizeof(b)), PLAN_COUNT_MAX);
	if (errno == ERANGE || v < 1 || v > PLAN_COUNT_MAX)
		return fail(err, HK_ERR_INVALID, "%s%s: must be 1 to %u", where,
			    show(s, b, sizeof(b)), PLAN_COUNT_MAX);
	cfg->count = v;
	return HK_OK;
}

/* ---- JSON input (schema in docs/plan.md) ---- */

static hk_err json_string_item(plan_list *l, json_t *v, const char *label, const char *path,
			       cidr_resv_kind kind, char *err)
{
	char where[PLAN_WHERE_LEN];
	if (!json_is_string(v))
		return fail(err, HK_ERR_INVALID, "%s: %s: must be a string", label, path);
	snprintf(where, sizeof(where), "%s: %s: ", label, path);
	return list_add(l, json_string_value(v), json_string_length(v), where, kind, err);
}

/* Every element of the string array `v` (the member `key`) into `l`. */
static hk_err json_string_items(plan_list *l, json_t *v, const char *label, const char *key,
				char *err)
{
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
	{
		char path[64];
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		hk_err st = json_string_item(l, e, label, path, 0, err);
		if (st)
			return st;
	}
	return HK_OK;
}

/* One element of "reservations": a CIDR string (explicit) or
 * {"cidr": ..., "type": "explicit" | "prefix"}. */
static hk_err plan_json_reservation(plan_cfg *cfg, json_t *e, const char *label, const char *path,
				    char *err)
{
	hk_err st = HK_OK;
	char kb[128];
	if (json_is_string(e)) {
		return json_string_item(&cfg->resv, e, label, path, CIDR_RESV_EXPLICIT, err);
	}
	if (!json_is_object(e)) {
		st = fail(err, HK_ERR_INVALID,
			  "%s: %s: must be a CIDR string or an object "
			  "{\"cidr\": ..., \"type\": ...}",
			  label, path);
		return st;
	}
	json_t *cidr = NULL;
	cidr_resv_kind kind = CIDR_RESV_EXPLICIT;
	const char *k2;
	json_t *v2;
	json_object_foreach(e, k2, v2)
	{
		if (!strcmp(k2, "cidr")) {
			cidr = v2;
		} else if (!strcmp(k2, "type")) {
			const char *t = json_string_value(v2);
			if (t && !strcmp(t, "explicit"))
				kind = CIDR_RESV_EXPLICIT;
			else if (t && !strcmp(t, "prefix"))
				kind = CIDR_RESV_PREFIX;
			else {
				st = fail(err, HK_ERR_INVALID,
					  "%s: %s.type: must be "
					  "\"explicit\" or \"prefix\"",
					  label, path);
				return st;
			}
		} else {
			st = fail(err, HK_ERR_INVALID,
				  "%s: %s: unknown key \"%s\" (expected "
				  "cidr, type)",
				  label, path, show(k2, kb, sizeof(kb)));
			return st;
		}
	}
	if (!cidr) {
		st = fail(err, HK_ERR_INVALID, "%s: %s: missing \"cidr\"", label, path);
		return st;
	}
	char p2[80];
	snprintf(p2, sizeof(p2), "%s.cidr", path);
	return json_string_item(&cfg->resv, cidr, label, p2, kind, err);
}

/* One top-level key of the --input JSON. */
static hk_err plan_json_key(plan_cfg *cfg, const char *key, json_t *v, const char *label, char *err)
{
	hk_err st = HK_OK;
	char path[64];
	char kb[128];
	if (!strcmp(key, "subnet_cidr")) {
		if (!json_is_string(v)) {
			st = fail(err, HK_ERR_INVALID, "%s: subnet_cidr: must be a string", label);
			return st;
		}
		if (cfg->subnet)
			return HK_OK; /* --subnet-cidr wins */
		char where[PLAN_WHERE_LEN];
		snprintf(where, sizeof(where), "%s: subnet_cidr: ", label);
		cfg->subnet = strndup(json_string_value(v), json_string_length(v));
		cfg->subnet_where = strdup(where);
		if (!cfg->subnet || !cfg->subnet_where) {
			st = fail(err, HK_ERR_NOMEM, "out of memory");
			return st;
		}
	} else if (!strcmp(key, "count")) {
		if (!json_is_integer(v)) {
			st = fail(err, HK_ERR_INVALID, "%s: count: must be an integer", label);
			return st;
		}
		json_int_t n = json_integer_value(v);
		if (n < 1 || n > (json_int_t)PLAN_COUNT_MAX) {
			st = fail(err, HK_ERR_INVALID,
				  "%s: count: %" JSON_INTEGER_FORMAT ": must be 1 to %u", label, n,
				  PLAN_COUNT_MAX);
			return st;
		}
		if (!cfg->count)
			cfg->count = (unsigned long)n;
	} else if (!strcmp(key, "used")) {
		if (!json_is_array(v)) {
			st = fail(err, HK_ERR_INVALID, "%s: used: must be an array of strings",
				  label);
			return st;
		}
		return json_string_items(&cfg->used, v, label, "used", err);
	} else if (!strcmp(key, "reservations")) {
		if (!json_is_array(v)) {
			st = fail(err, HK_ERR_INVALID, "%s: reservations: must be an array", label);
			return st;
		}
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			snprintf(path, sizeof(path), "reservations[%zu]", i);
			if ((st = plan_json_reservation(cfg, e, label, path, err)))
				return st;
		}
	} else if (!strcmp(key, "pod_range")) {
		if (json_is_string(v))
			return json_string_item(&cfg->pods, v, label, "pod_range", 0, err);
		if (!json_is_array(v)) {
			st = fail(err, HK_ERR_INVALID,
				  "%s: pod_range: must be a string or an array of strings", label);
			return st;
		}
		return json_string_items(&cfg->pods, v, label, "pod_range", err);
	} else if (!strcmp(key, "comment") || !strcmp(key, "description")) {
		if (!json_is_string(v)) {
			st = fail(err, HK_ERR_INVALID, "%s: %s: must be a string", label, key);
			return st;
		}
	} else {
		st = fail(err, HK_ERR_INVALID,
			  "%s: unknown key \"%s\" (expected subnet_cidr, count, used, "
			  "reservations, pod_range, comment)",
			  label, show(key, kb, sizeof(kb)));
		return st;
	}
	return HK_OK;
}

/* Parse the JSON text of an --input file into cfg. Keys already set on the command
 * line (subnet, count) win over the file's. */
static hk_err plan_cfg_from_json(plan_cfg *cfg, const char *text, size_t len, const char *label,
				 char *err)
{
	json_error_t jerr;
	hk_err st = HK_OK;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char jb[256];
		return fail(err, HK_ERR_INVALID, "%s: line %d column %d: %s", label, jerr.line,
			    jerr.column, show(jerr.text, jb, sizeof(jb)));
	}
	if (!json_is_object(root)) {
		st = fail(err, HK_ERR_INVALID, "%s: the top level must be a JSON object", label);
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		if ((st = plan_json_key(cfg, key, v, label, err)))
			goto out;
	}
out:
	json_decref(root);
	return st;
}

static hk_err load_input(plan_cfg *cfg, char *err)
{
	const char *path = cfg->input;
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(err, HK_ERR_INVALID, "--input %s: cannot open: %s", path,
			    strerror(errno));
	hk_err st = HK_OK;
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return fail(err, HK_ERR_NOMEM, "out of memory");
	}
	for (;;) {
		if (len == cap) {
			if (cap >= PLAN_INPUT_MAX) {
				st = fail(err, HK_ERR_INVALID, "--input %s: larger than %u bytes",
					  path, PLAN_INPUT_MAX);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				st = fail(err, HK_ERR_NOMEM, "out of memory");
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				st = fail(err, HK_ERR_INVALID, "--input %s: cannot read: %s", path,
					  strerror(errno));
				goto out;
			}
			break;
		}
	}
	char label[PLAN_WHERE_LEN];
	snprintf(label, sizeof(label), "--input %s", path);
	st = plan_cfg_from_json(cfg, buf, len, label, err);
out:
	free(buf);
	fclose(f);
	return st;
}

/* ---- building the plan ---- */

static hk_err mark_used_text(cidr_pool *pool, const char *s, size_t len, const char *where,
			     char *err)
{
	cidr_prefix p;
	hk_errinfo ei = {0};
	if (cidr_parse_prefix_n(s, len, CIDR_PARSE_BARE, &p, &ei) != HK_OK ||
	    cidr_pool_mark_used(pool, &p, &ei) != HK_OK)
		return fail(err, ei.code == HK_ERR_NOMEM ? HK_ERR_NOMEM : HK_ERR_INVALID, "%s%s",
			    where, ei.text);
	return HK_OK;
}

/* One address or CIDR per line (several blank-separated ones are fine too);
 * '#' starts a comment. */
static hk_err mark_used_file(cidr_pool *pool, const char *path, char *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(err, HK_ERR_INVALID, "--used %s: cannot open: %s", path,
			    strerror(errno));
	hk_err st = HK_OK;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long lineno = 0;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t n = (size_t)got;
		char *hash = memchr(line, '#', n);
		if (hash)
			n = (size_t)(hash - line);
		size_t i = 0;
		while (i < n) {
			while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
					 line[i] == '\n'))
				i++;
			size_t start = i;
			while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
			       line[i] != '\n')
				i++;
			if (i == start)
				continue;
			char where[PLAN_WHERE_LEN];
			snprintf(where, sizeof(where), "--used %s line %lu: ", path, lineno);
			if ((st = mark_used_text(pool, line + start, i - start, where, err)))
				goto out;
		}
	}
	if (ferror(f))
		st = fail(err, HK_ERR_INVALID, "--used %s: cannot read: %s", path, strerror(errno));
out:
	free(line);
	fclose(f);
	return st;
}

static hk_err plan_build(const plan_cfg *cfg, plan_result *res, char *err)
{
	hk_errinfo ei = {0};
	cidr_pool *pool = NULL;
	hk_err st = HK_OK;
	cidr_range *pods = NULL;
	memset(res, 0, sizeof(*res));

	if (!cfg->subnet)
		return fail(err, HK_ERR_INVALID,
			    "missing --subnet-cidr (or \"subnet_cidr\" in --input)");
	if (cidr_parse_prefix(cfg->subnet, 0, &res->subnet, &ei) != HK_OK ||
	    cidr_pool_new(&res->subnet, &pool, &ei) != HK_OK)
		return fail(err, ei.code == HK_ERR_NOMEM ? HK_ERR_NOMEM : HK_ERR_INVALID, "%s%s",
			    cfg->subnet_where, ei.text);
	for (size_t i = 0; i < cfg->used.n; i++) {
		const plan_item *it = &cfg->used.v[i];
		if ((st = mark_used_text(pool, it->text, strlen(it->text), it->where, err)))
			goto out;
	}
	for (size_t i = 0; i < cfg->used_files.n; i++)
		if ((st = mark_used_file(pool, cfg->used_files.v[i].text, err)))
			goto out;
	for (size_t i = 0; i < cfg->resv.n; i++) {
		const plan_item *it = &cfg->resv.v[i];
		cidr_prefix p;
		if (cidr_parse_prefix(it->text, 0, &p, &ei) != HK_OK ||
		    cidr_pool_reserve(pool, &p, it->kind, &ei) != HK_OK) {
			st = fail(err, ei.code == HK_ERR_NOMEM ? HK_ERR_NOMEM : HK_ERR_INVALID,
				  "%s%s", it->where, ei.text);
			goto out;
		}
	}
	if (cfg->pods.n) {
		pods = calloc(cfg->pods.n, sizeof(*pods));
		if (!pods) {
			st = fail(err, HK_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < cfg->pods.n; i++) {
			const plan_item *it = &cfg->pods.v[i];
			/* One at a time first, so the message says which one is bad. */
			if (cidr_parse_range(it->text, CIDR_PARSE_BARE, &pods[i], &ei) != HK_OK ||
			    cidr_pool_set_pod_range(pool, &pods[i], 1, &ei) != HK_OK) {
				st = fail(err,
					  ei.code == HK_ERR_NOMEM ? HK_ERR_NOMEM : HK_ERR_INVALID,
					  "%s%s", it->where, ei.text);
				goto out;
			}
		}
		if (cidr_pool_set_pod_range(pool, pods, cfg->pods.n, &ei) != HK_OK) {
			st = fail(err, ei.code == HK_ERR_NOMEM ? HK_ERR_NOMEM : HK_ERR_FULL, "%s",
				  ei.text);
			goto out;
		}
	}

	size_t n = cfg->count ? cfg->count : 1;
	cidr_pool_stats_get(pool, &res->before);
	res->addrs = calloc(n, sizeof(cidr_addr));
	if (!res->addrs) {
		st = fail(err, HK_ERR_NOMEM, "out of memory");
		goto out;
	}
	hk_err e = cidr_pool_alloc(pool, n, res->addrs);
	if (e == HK_ERR_FULL) {
		cidr_str a, b;
		st = fail(err, HK_ERR_FULL,
			  "cannot place %zu worker%s: subnet %s has only %s free address%s", n,
			  n == 1 ? "" : "s", cidr_prefix_str(&res->subnet, &a),
			  cidr_u128_str(res->before.free, &b), res->before.free == 1 ? "" : "es");
		goto out;
	}
	if (e != HK_OK) {
		st = fail(err, e, "allocation failed: %s", hk_err_str(e));
		goto out;
	}
	res->n = n;
	cidr_pool_stats_get(pool, &res->after);
	res->have_tail = cidr_pool_tail_free_range(pool, &res->tail) == HK_OK;
out:
	free(pods);
	cidr_pool_free(pool);
	if (st != HK_OK)
		result_cleanup(res);
	return st;
}

/* ---- output ---- */

static void plan_print_text(FILE *out, const plan_result *res)
{
	cidr_str a, b, c, d, e, f, g;
	const cidr_pool_stats *s = &res->before;
	fprintf(out,
		"subnet %s: %s addresses (%s reserved by AWS, %s in use, %s in explicit "
		"reservations, %s in prefix reservations, %s in pod ranges)\n",
		cidr_prefix_str(&res->subnet, &a), cidr_u128_str(s->size, &b),
		cidr_u128_str(s->aws_reserved, &c), cidr_u128_str(s->used, &d),
		cidr_u128_str(s->resv_explicit, &e), cidr_u128_str(s->resv_prefix, &f),
		cidr_u128_str(s->pod, &g));
	if (res->n == 1)
		fprintf(out, "the next worker gets:\n");
	else
		fprintf(out, "the next %zu workers get:\n", res->n);
	for (size_t i = 0; i < res->n; i++)
		fprintf(out, "  %s\n", cidr_addr_str(&res->addrs[i], &a));
	fprintf(out, "free: %s addresses now, %s after %s\n", cidr_u128_str(s->free, &a),
		cidr_u128_str(res->after.free, &b), res->n == 1 ? "this worker" : "these workers");
	if (res->have_tail)
		fprintf(
		    out, "still free at the end of the subnet (room for pods): %s (%s addresses)\n",
		    cidr_range_str(&res->tail, &a), cidr_u128_str(cidr_range_size(&res->tail), &b));
	else
		fprintf(out,
			"still free at the end of the subnet: nothing (no free address left)\n");
}

/* A count as JSON: a number for IPv4 subnets; for IPv6 subnets a string holding the
 * exact decimal value, since counts up to 2^84 overflow what most JSON parsers keep
 * exactly (jansson stops at 2^63, JavaScript at 2^53). */
static const char *json_count(const plan_result *res, cidr_u128 v, cidr_str *buf)
{
	char digits[CIDR_U128_STRLEN];
	if (cidr_format_u128(v, digits, sizeof(digits)) != HK_OK)
		digits[0] = '\0';
	if (res->subnet.addr.family == CIDR_V6)
		snprintf(buf->s, sizeof(buf->s), "\"%s\"", digits);
	else
		snprintf(buf->s, sizeof(buf->s), "%s", digits);
	return buf->s;
}

static void plan_print_json(FILE *out, const plan_result *res)
{
	/* Written by hand: every string printed is a formatted address or a count (no
	 * characters that need escaping). */
	cidr_str a, b;
	const cidr_pool_stats *s = &res->before;
	fprintf(out, "{\n  \"subnet_cidr\": \"%s\",\n  \"count\": %zu,\n  \"addresses\": [",
		cidr_prefix_str(&res->subnet, &a), res->n);
	for (size_t i = 0; i < res->n; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", cidr_addr_str(&res->addrs[i], &a));
	fprintf(out, "],\n  \"free_before\": %s,\n  \"free_after\": %s,\n",
		json_count(res, s->free, &a), json_count(res, res->after.free, &b));
	if (res->have_tail) {
		fprintf(out, "  \"tail_free_range\": {\"first\": \"%s\", ",
			cidr_addr_str(&res->tail.first, &a));
		fprintf(out, "\"last\": \"%s\", \"size\": %s},\n",
			cidr_addr_str(&res->tail.last, &a),
			json_count(res, cidr_range_size(&res->tail), &b));
	} else {
		fprintf(out, "  \"tail_free_range\": null,\n");
	}
	fprintf(out, "  \"subnet\": {\"size\": %s, ", json_count(res, s->size, &a));
	fprintf(out, "\"aws_reserved\": %s, ", json_count(res, s->aws_reserved, &a));
	fprintf(out, "\"used\": %s, ", json_count(res, s->used, &a));
	fprintf(out, "\"reserved_explicit\": %s, ", json_count(res, s->resv_explicit, &a));
	fprintf(out, "\"reserved_prefix\": %s, ", json_count(res, s->resv_prefix, &a));
	fprintf(out, "\"pod_range\": %s}\n}\n", json_count(res, s->pod, &a));
}

static void plan_usage(FILE *out)
{
	fprintf(out,
		"usage: multus-hookd plan --subnet-cidr CIDR [options]\n"
		"       multus-hookd plan --input FILE.json [options]\n"
		"       multus-hookd plan --config FILE --live [--count N] [--json]\n"
		"\n"
		"Show which addresses the next workers would get in a Multus subnet (the lowest\n"
		"free ones, as multus-hookd allocates them), how many stay free, and the free\n"
		"range left at the end of the subnet for pods.\n"
		"\n"
		"options:\n"
		"  --subnet-cidr CIDR     the subnet: IPv4 /16 to /28, or IPv6 /44 to /64\n"
		"  --count N              workers to plan for (1 to %u; default 1)\n"
		"  --used FILE            addresses in use: one address or CIDR per line,\n"
		"                         '#' starts a comment (repeatable)\n"
		"  --reserve CIDR         an explicit subnet CIDR reservation (repeatable)\n"
		"  --reserve-prefix CIDR  a prefix subnet CIDR reservation (repeatable)\n"
		"  --pod-range RANGE      a pod range: CIDR or FIRST-LAST (repeatable)\n"
		"  --input FILE.json      read the above from JSON (see docs/plan.md); options\n"
		"                         given on the command line add to it or override it\n"
		"  --config FILE --live   every Multus subnet of the configuration, as AWS\n"
		"                         shows it now (in use, reservations, pod ranges)\n"
		"  --json                 print the plan as JSON\n"
		"  -h, --help             print this help\n"
		"\n"
		"The first four addresses and the last one of the subnet are never planned\n"
		"(AWS reserves them). Exit status: 0 plan printed, 1 not enough free addresses,\n"
		"2 bad option or input (one message on stderr names the bad value).\n",
		PLAN_COUNT_MAX);
}

enum {
	OPT_SUBNET = 256,
	OPT_COUNT,
	OPT_USED,
	OPT_RESERVE,
	OPT_RESERVE_PREFIX,
	OPT_POD_RANGE,
	OPT_INPUT,
	OPT_JSON,
	OPT_CONFIG,
	OPT_LIVE,
};

static hk_err parse_options(plan_cfg *cfg, int argc, char **argv, char *err)
{
	static const struct option opts[] = {
	    {"subnet-cidr", required_argument, NULL, OPT_SUBNET},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"used", required_argument, NULL, OPT_USED},
	    {"reserve", required_argument, NULL, OPT_RESERVE},
	    {"reserve-prefix", required_argument, NULL, OPT_RESERVE_PREFIX},
	    {"pod-range", required_argument, NULL, OPT_POD_RANGE},
	    {"input", required_argument, NULL, OPT_INPUT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"live", no_argument, NULL, OPT_LIVE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	hk_err st = HK_OK;
	char b[128];
	optind = 0; /* full re-initialisation (glibc): main may not be the only caller */
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, ":h", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case OPT_SUBNET:
			free(cfg->subnet);
			free(cfg->subnet_where);
			cfg->subnet = strdup(optarg);
			cfg->subnet_where = strdup("--subnet-cidr ");
			if (!cfg->subnet || !cfg->subnet_where)
				return fail(err, HK_ERR_NOMEM, "out of memory");
			break;
		case OPT_COUNT:
			st = set_count(cfg, optarg, "--count ", err);
			break;
		case OPT_USED:
			st = list_add(&cfg->used_files, optarg, strlen(optarg), "--used ", 0, err);
			break;
		case OPT_RESERVE:
			st = list_add(&cfg->resv, optarg, strlen(optarg), "--reserve ",
				      CIDR_RESV_EXPLICIT, err);
			break;
		case OPT_RESERVE_PREFIX:
			st = list_add(&cfg->resv, optarg, strlen(optarg), "--reserve-prefix ",
				      CIDR_RESV_PREFIX, err);
			break;
		case OPT_POD_RANGE:
			st = list_add(&cfg->pods, optarg, strlen(optarg), "--pod-range ", 0, err);
			break;
		case OPT_INPUT:
			if (cfg->input)
				return fail(err, HK_ERR_INVALID, "--input given twice");
			cfg->input = optarg;
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case OPT_CONFIG:
			cfg->config = optarg;
			break;
		case OPT_LIVE:
			cfg->live = true;
			break;
		case 'h':
			cfg->help = true;
			break;
		case ':':
			return fail(err, HK_ERR_INVALID, "option %s needs a value",
				    show(argv[optind - 1], b, sizeof(b)));
		default:
			return fail(err, HK_ERR_INVALID,
				    "invalid option '%s' (see multus-hookd plan --help)",
				    show(argv[optind - 1], b, sizeof(b)));
		}
		if (st != HK_OK)
			return st;
	}
	if (optind < argc)
		return fail(err, HK_ERR_INVALID,
			    "unexpected argument '%s' (see multus-hookd plan --help)",
			    show(argv[optind], b, sizeof(b)));
	return HK_OK;
}

int hook_cmd_plan(int argc, char **argv)
{
	plan_cfg cfg;
	plan_result res;
	char err[PLAN_ERR_LEN] = "";
	memset(&cfg, 0, sizeof(cfg));
	memset(&res, 0, sizeof(res));
	hk_err st = parse_options(&cfg, argc, argv, err);
	if (st == HK_OK && cfg.help) {
		plan_usage(stdout);
		goto out;
	}
	if (st == HK_OK && (cfg.live || cfg.config)) {
		/* the subnets come from AWS: no offline input beside them */
		if (!cfg.live || !cfg.config)
			st = fail(err, HK_ERR_INVALID, "--live and --config FILE go together");
		else if (cfg.subnet || cfg.input || cfg.used.n || cfg.used_files.n || cfg.resv.n ||
			 cfg.pods.n)
			st = fail(
			    err, HK_ERR_INVALID,
			    "--live reads the subnets from AWS: --subnet-cidr, --input, "
			    "--used, --reserve, --reserve-prefix and --pod-range do not apply");
		if (st == HK_OK) {
			int rc = hook_live_plan(cfg.config, (unsigned)cfg.count, cfg.json);
			cfg_cleanup(&cfg);
			return rc;
		}
	}
	if (st == HK_OK && cfg.input)
		st = load_input(&cfg, err);
	if (st == HK_OK)
		st = plan_build(&cfg, &res, err);
	if (st == HK_OK) {
		if (cfg.json)
			plan_print_json(stdout, &res);
		else
			plan_print_text(stdout, &res);
		if (fflush(stdout) != 0)
			st = fail(err, HK_ERR_IO, "cannot write the plan: %s", strerror(errno));
	}
out:
	if (st != HK_OK)
		fprintf(stderr, "multus-hookd plan: %s\n", err);
	result_cleanup(&res);
	cfg_cleanup(&cfg);
	return plan_exit_code(st);
}
