/* The machinery under the typed calls: result arenas, parameter lists, and
 * reading helpers that never trust the document. No transport: the driver is
 * calls_driver.c. */
#include "calls_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "awsclient.h"
#include "awsxml.h"
#include "hk_caps.h"
#include "query.h"

/* ---- arena ----------------------------------------------------------------
 * Results are trees of small objects that die together, so they share one
 * arena: freeing a result is one walk over a few blocks, and a reader that
 * fails half-way leaks nothing. */

#define CQ_ARENA_MAGIC 0x41524e41u
#define CQ_BLOCK_SIZE  4096u
#define CQ_ALIGN       (_Alignof(max_align_t))

struct cq_block {
	struct cq_block *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

struct cq_arena {
	unsigned magic;
	bool sensitive;
	bool kept;
	size_t root_size;
	struct cq_block *blocks;
};

/* The arena header and the root share the first allocation, so the arena of a
 * result is found from the result pointer alone (awscalls_keep/free). */
struct cq_first {
	struct cq_arena arena;
	max_align_t root[];
};

void *cq_root_new(size_t root_size, cq_arena **ret_arena)
{
	if (root_size > SIZE_MAX - sizeof(struct cq_first))
		return NULL;
	struct cq_first *f = calloc(1, sizeof(*f) + root_size);
	if (!f)
		return NULL;
	f->arena.magic = CQ_ARENA_MAGIC;
	f->arena.root_size = root_size;
	if (ret_arena)
		*ret_arena = &f->arena;
	return f->root;
}

cq_arena *cq_arena_of(const void *root)
{
	if (!root)
		return NULL;
	const char *p = (const char *)root - offsetof(struct cq_first, root);
	cq_arena *a = (cq_arena *)(uintptr_t)p;
	return a->magic == CQ_ARENA_MAGIC ? a : NULL;
}

void cq_arena_set_sensitive(cq_arena *a)
{
	if (a)
		a->sensitive = true;
}

void cq_arena_free(cq_arena *a)
{
	if (!a)
		return;
	struct cq_block *b = a->blocks;
	while (b) {
		struct cq_block *next = b->next;
		if (a->sensitive)
			OPENSSL_cleanse(b->data, b->cap);
		free(b);
		b = next;
	}
	struct cq_first *f = (struct cq_first *)a;
	if (a->sensitive)
		OPENSSL_cleanse(f->root, a->root_size);
	a->magic = 0;
	free(f);
}

void *cq_alloc(cq_arena *a, size_t n, size_t size)
{
	if (!a || (size && n > SIZE_MAX / size))
		return NULL;
	size_t want = n * size;
	if (want == 0)
		want = 1;
	if (want > SIZE_MAX - CQ_ALIGN)
		return NULL;
	want = (want + CQ_ALIGN - 1) / CQ_ALIGN * CQ_ALIGN;
	struct cq_block *b = a->blocks;
	if (!b || b->cap - b->used < want) {
		size_t cap = want > CQ_BLOCK_SIZE ? want : CQ_BLOCK_SIZE;
		if (cap > SIZE_MAX - sizeof(*b))
			return NULL;
		struct cq_block *nb = malloc(sizeof(*nb) + cap);
		if (!nb)
			return NULL;
		nb->used = 0;
		nb->cap = cap;
		if (b && cap > CQ_BLOCK_SIZE) {
			/* A big one-off goes behind the current block, which keeps
			 * serving small allocations. */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->blocks = nb;
		}
		b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += want;
	memset(p, 0, want);
	return p;
}

char *cq_strndup(cq_arena *a, const char *s, size_t len)
{
	if (!s || len == SIZE_MAX)
		return NULL;
	char *d = cq_alloc(a, 1, len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *cq_strdup(cq_arena *a, const char *s)
{
	return s ? cq_strndup(a, s, strlen(s)) : NULL;
}

void *cq_vec_grow(cq_arena *a, const void *items, size_t n, size_t *cap, size_t more, size_t elem,
		  size_t max, hk_err *ret_err)
{
	if (more > max || n > max - more) {
		*ret_err = HK_ERR_TOO_LARGE;
		return NULL;
	}
	if (n + more <= *cap && (items || n + more == 0))
		return CQ_MUT(void, items);
	size_t ncap = *cap ? *cap : 4;
	while (ncap < n + more)
		ncap = ncap > max / 2 ? max : ncap * 2;
	void *nv = cq_alloc(a, ncap, elem);
	if (!nv) {
		*ret_err = HK_ERR_NOMEM;
		return NULL;
	}
	if (n && items)
		memcpy(nv, items, n * elem);
	*cap = ncap;
	return nv;
}

void *awscalls_keep(const void *out)
{
	cq_arena *a = cq_arena_of(out);
	if (!a)
		return NULL;
	a->kept = true;
	return (void *)(uintptr_t)out;
}

/* The result being handed to a callback right now (one loop thread; deliveries
 * never nest, but deliver() (calls_driver.c, through cq_arena_deliver_begin/end) saves and restores
 * it anyway). awscalls_free() on it from inside that callback only asks deliver() (calls_driver.c,
 * through cq_arena_deliver_begin/end) to free it afterwards, so deliver() (calls_driver.c, through
 * cq_arena_deliver_begin/end) never reads an arena the callback already released. */
static cq_arena *delivering;
static bool delivering_free_asked;

void awscalls_free(void *out)
{
	cq_arena *a = cq_arena_of(out);
	if (a && a == delivering) {
		delivering_free_asked = true;
		return;
	}
	cq_arena_free(a);
}

void cq_arena_deliver_begin(cq_arena *a, cq_arena_delivering *saved)
{
	saved->arena = delivering;
	saved->free_asked = delivering_free_asked;
	delivering = a;
	delivering_free_asked = false;
}

bool cq_arena_deliver_end(cq_arena *a, const cq_arena_delivering *saved)
{
	bool now_users = a && a->kept && !delivering_free_asked;
	delivering = saved->arena;
	delivering_free_asked = saved->free_asked;
	return now_users;
}

/* ---- parameter lists ---------------------------------------------------- */

char *cq_xstrdup(const char *s)
{
	size_t len = strlen(s);
	char *d = malloc(len + 1);
	if (d)
		memcpy(d, s, len + 1);
	return d;
}

cq_b cq_b_start(const char *action, const char *version, const char *empty_what)
{
	cq_b b = {
	    .action = action, .empty_what = empty_what, .p = query_params_new(action, version)};
	b.err = b.p ? HK_OK : HK_ERR_NOMEM;
	return b;
}

void cq_b_str(cq_b *b, const char *name, const char *v)
{
	if (!b->err)
		b->err = query_add(b->p, name, v);
}

void cq_b_opt(cq_b *b, const char *name, const char *v)
{
	if (cq_set(v))
		cq_b_str(b, name, v);
}

void cq_b_strf(cq_b *b, const char *v, const char *name_fmt, ...)
{
	char name[128];
	va_list ap;
	va_start(ap, name_fmt);
	int n = vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	if (!b->err && (n < 0 || (size_t)n >= sizeof(name) || !cq_set(v)))
		b->err = HK_ERR_INVALID;
	cq_b_str(b, name, v);
}

void cq_b_uint(cq_b *b, const char *name, unsigned long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%llu", v);
	cq_b_str(b, name, buf);
}

void cq_b_bool(cq_b *b, const char *name, bool v)
{
	cq_b_str(b, name, v ? "true" : "false");
}

void cq_b_list(cq_b *b, const char *prefix, const char *const *values, size_t n)
{
	if (n && !values && !b->err)
		b->err = HK_ERR_INVALID;
	for (size_t i = 0; i < n && !b->err; i++)
		b->err = values[i] ? query_addf(b->p, values[i], "%s.%zu", prefix, i + 1)
				   : HK_ERR_INVALID;
}

void cq_b_filters(cq_b *b, const ec2_filter *f, size_t n)
{
	if (n && !f && !b->err)
		b->err = HK_ERR_INVALID;
	for (size_t i = 0; i < n && !b->err; i++) {
		if (!f[i].name || !*f[i].name || f[i].n_values == 0 || !f[i].values) {
			b->err = HK_ERR_INVALID;
			break;
		}
		b->err = query_addf(b->p, f[i].name, "Filter.%zu.Name", i + 1);
		for (size_t j = 0; !b->err && j < f[i].n_values; j++)
			b->err = f[i].values[j] ? query_addf(b->p, f[i].values[j],
							     "Filter.%zu.Value.%zu", i + 1, j + 1)
						: HK_ERR_INVALID;
	}
}

void cq_b_tags(cq_b *b, const char *prefix, const ec2_tag *tags, size_t n)
{
	if (n && !tags && !b->err)
		b->err = HK_ERR_INVALID;
	for (size_t i = 0; i < n && !b->err; i++) {
		if (!tags[i].key || !*tags[i].key) {
			b->err = HK_ERR_INVALID;
			break;
		}
		b->err = query_addf(b->p, tags[i].key, "%s.%zu.Key", prefix, i + 1);
		if (!b->err)
			b->err = query_addf(b->p, tags[i].value ? tags[i].value : "",
					    "%s.%zu.Value", prefix, i + 1);
	}
}

hk_err cq_page_params(const query_params *p, const char *next_token, query_params **ret)
{
	query_params *q;
	hk_err err = query_params_dup(p, &q);
	if (!err && next_token)
		err = query_set(q, "NextToken", next_token);
	if (err) {
		query_params_free(q);
		return err;
	}
	*ret = q;
	return HK_OK;
}

/* ---- reading ------------------------------------------------------------- */

void cq_rd_init(cq_rd *r, cq_arena *a, const char *action)
{
	memset(r, 0, sizeof(*r));
	r->a = a;
	r->action = action ? action : "response";
}

hk_err cq_rd_fail(cq_rd *r, hk_err code, const char *fmt, ...)
{
	if (r->err)
		return r->err;
	r->err = code;
	r->ei.code = code;
	int n = snprintf(r->ei.text, sizeof(r->ei.text), "%s: ", r->action);
	if (n < 0 || (size_t)n >= sizeof(r->ei.text))
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->ei.text + n, sizeof(r->ei.text) - (size_t)n, fmt, ap);
	va_end(ap);
	/* The text goes to logs: keep it one printable line. */
	for (char *c = r->ei.text; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	return code;
}

static const char *node_name(const xmlNode *n)
{
	return n && n->name ? (const char *)n->name : "?";
}

static long node_line(const xmlNode *n)
{
	return n ? xmlGetLineNo(n) : 0;
}

static void fail_nomem(cq_rd *r)
{
	cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
}

xmlNode *cq_x_root(cq_rd *r, const xmlDoc *doc, const char *name)
{
	if (r->err)
		return NULL;
	xmlNode *root = awsxml_root(doc);
	if (!root) {
		cq_rd_fail(r, HK_ERR_PARSE, "no XML document");
		return NULL;
	}
	if (!awsxml_is(root, name)) {
		cq_rd_fail(r, HK_ERR_PARSE, "root element <%.64s>, expected <%s>", node_name(root),
			   name);
		return NULL;
	}
	return root;
}

xmlNode *cq_x_response(cq_rd *r, const xmlDoc *doc)
{
	char name[96];
	snprintf(name, sizeof(name), "%sResponse", r->action);
	return cq_x_root(r, doc, name);
}

xmlNode *cq_x_result(cq_rd *r, const xmlDoc *doc)
{
	char name[96];
	snprintf(name, sizeof(name), "%sResult", r->action);
	return cq_x_need(r, cq_x_response(r, doc), name);
}

xmlNode *cq_x_need(cq_rd *r, const xmlNode *parent, const char *name)
{
	if (r->err)
		return NULL;
	xmlNode *el = awsxml_child(parent, name);
	if (!el)
		cq_rd_fail(r, HK_ERR_PARSE, "missing <%s> in <%.64s> (line %ld)", name,
			   node_name(parent), node_line(parent));
	return el;
}

const char *cq_x_str(cq_rd *r, const xmlNode *parent, const char *name, bool required)
{
	if (r->err)
		return NULL;
	xmlNode *el = required ? cq_x_need(r, parent, name) : awsxml_child(parent, name);
	if (!el)
		return NULL;
	const char *t = awsxml_text(el);
	if (!t)
		t = "";
	if (required && !*t) {
		cq_rd_fail(r, HK_ERR_PARSE, "empty <%s> in <%.64s> (line %ld)", name,
			   node_name(parent), node_line(el));
		return NULL;
	}
	char *d = cq_strdup(r->a, t);
	if (!d)
		fail_nomem(r);
	return d;
}

const char *cq_x_str_opt_nonempty(cq_rd *r, const xmlNode *parent, const char *name)
{
	const char *s = cq_x_str(r, parent, name, false);
	return s && *s ? s : NULL;
}

const char *cq_x_peek(const xmlNode *parent, const char *name)
{
	const char *t = awsxml_child_text(parent, name);
	return t && *t ? t : NULL;
}

static xmlNode *num_el(cq_rd *r, const xmlNode *parent, const char *name, bool required)
{
	if (r->err)
		return NULL;
	return required ? cq_x_need(r, parent, name) : awsxml_child(parent, name);
}

uint64_t cq_x_u64(cq_rd *r, const xmlNode *parent, const char *name, bool required, uint64_t dflt)
{
	xmlNode *el = num_el(r, parent, name, required);
	if (!el)
		return dflt;
	unsigned long long v;
	if (awsxml_u64(el, &v) != HK_OK) {
		cq_rd_fail(r, HK_ERR_PARSE, "<%s> is not a number: '%.32s' (line %ld)", name,
			   awsxml_text(el), node_line(el));
		return dflt;
	}
	return (uint64_t)v;
}

unsigned cq_x_uint(cq_rd *r, const xmlNode *parent, const char *name, bool required, unsigned dflt)
{
	uint64_t v = cq_x_u64(r, parent, name, required, dflt);
	if (v > UINT_MAX) {
		cq_rd_fail(r, HK_ERR_PARSE, "<%s> out of range (line %ld)", name,
			   node_line(awsxml_child(parent, name)));
		return dflt;
	}
	return (unsigned)v;
}

bool cq_x_bool(cq_rd *r, const xmlNode *parent, const char *name, bool required, bool dflt)
{
	xmlNode *el = num_el(r, parent, name, required);
	if (!el)
		return dflt;
	int v;
	if (awsxml_bool(el, &v) != HK_OK) {
		cq_rd_fail(r, HK_ERR_PARSE, "<%s> is not a boolean: '%.32s' (line %ld)", name,
			   awsxml_text(el), node_line(el));
		return dflt;
	}
	return v != 0;
}

size_t cq_x_count(cq_rd *r, const xmlNode *set, const char *item_name, size_t max)
{
	if (r->err || !set)
		return 0;
	size_t n = 0;
	for (xmlNode *it = awsxml_first_named(set, item_name); it;
	     it = awsxml_next_named(it, item_name)) {
		if (++n > max) {
			cq_rd_fail(r, HK_ERR_TOO_LARGE, "more than %zu <%s> in <%.64s>", max,
				   item_name, node_name(set));
			return 0;
		}
	}
	return n;
}

void *cq_x_items(cq_rd *r, const xmlNode *set, const char *item_name, size_t max, size_t elem_size,
		 cq_x_item_fn fn, const void *ctx, const void *vec, size_t *n, size_t *cap)
{
	size_t more = cq_x_count(r, set, item_name, max);
	if (!more || r->err)
		return CQ_MUT(void, vec);
	char *v;
	if (cap) {
		hk_err err = HK_OK;
		v = cq_vec_grow(r->a, vec, *n, cap, more, elem_size, max, &err);
		if (!v) {
			if (err == HK_ERR_NOMEM)
				fail_nomem(r);
			else
				cq_rd_fail(r, err, "more than %zu <%s> in all pages", max,
					   item_name);
			return CQ_MUT(void, vec);
		}
	} else {
		v = cq_alloc(r->a, more, elem_size);
		if (!v) {
			fail_nomem(r);
			return CQ_MUT(void, vec);
		}
		*n = 0;
	}
	size_t i = 0;
	for (xmlNode *it = awsxml_first_named(set, item_name); it && i < more && !r->err;
	     it = awsxml_next_named(it, item_name), i++)
		fn(r, it, v + (*n + i) * elem_size, ctx);
	*n += i;
	return v;
}

/* cq_x_strings: the set's name (error texts) and the field holding the text. */
typedef struct x_strings_ctx {
	const char *set_name;
	const char *field;
} x_strings_ctx;

static void read_string_item(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	const x_strings_ctx *c = ctx;
	const char **v = elem;
	if (c->field) {
		*v = cq_x_str(r, it, c->field, true);
		return;
	}
	const char *t = awsxml_text(it);
	if (!t || !*t) {
		cq_rd_fail(r, HK_ERR_PARSE, "empty <%s> in <%s> (line %ld)", node_name(it),
			   c->set_name, node_line(it));
		return;
	}
	*v = cq_strdup(r->a, t);
	if (!*v)
		fail_nomem(r);
}

void cq_x_strings(cq_rd *r, const xmlNode *parent, const char *set_name, const char *item_name,
		  const char *field, const char *const **ret, size_t *ret_n)
{
	const x_strings_ctx c = {set_name, field};
	size_t n = 0;
	const char **v =
	    cq_x_items(r, awsxml_child(parent, set_name), item_name, HK_CAP_AWS_SUBITEMS,
		       sizeof(*v), read_string_item, &c, NULL, &n, NULL);
	*ret = r->err ? NULL : v;
	*ret_n = r->err ? 0 : n;
}

/* cq_x_tags: the element names of a tag's key and value. */
typedef struct x_tags_ctx {
	const char *key_name;
	const char *value_name;
} x_tags_ctx;

static void read_tag_item(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	const x_tags_ctx *c = ctx;
	ec2_tag *t = elem;
	t->key = cq_x_str(r, it, c->key_name, true);
	t->value = cq_x_str(r, it, c->value_name, false);
	if (!r->err && !t->value)
		t->value = "";
}

void cq_x_tags(cq_rd *r, const xmlNode *parent, const char *set_name, const char *item_name,
	       const char *key_name, const char *value_name, const ec2_tag **ret, size_t *ret_n)
{
	const x_tags_ctx c = {key_name, value_name};
	size_t n = 0;
	const ec2_tag *t =
	    cq_x_items(r, awsxml_child(parent, set_name), item_name, HK_CAP_AWS_SUBITEMS,
		       sizeof(ec2_tag), read_tag_item, &c, NULL, &n, NULL);
	*ret = r->err ? NULL : t;
	*ret_n = r->err ? 0 : n;
}

const char *cq_j_str(cq_rd *r, const json_t *obj, const char *name, bool required, size_t *ret_len)
{
	if (r->err)
		return NULL;
	json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
	if (!v || json_is_null(v)) {
		if (required)
			cq_rd_fail(r, HK_ERR_PARSE, "missing \"%s\"", name);
		return NULL;
	}
	if (!json_is_string(v)) {
		cq_rd_fail(r, HK_ERR_PARSE, "\"%s\" is not a string", name);
		return NULL;
	}
	size_t len = json_string_length(v);
	char *d = cq_strndup(r->a, json_string_value(v), len);
	if (!d)
		fail_nomem(r);
	else if (ret_len)
		*ret_len = len;
	return d;
}

hk_err cq_read_xml_once(const cq_spec *spec, const xmlDoc *doc, void **ret_out,
			const char **ret_next_token, hk_errinfo *ei)
{
	cq_arena *a;
	void *out = cq_root_new(spec->out_size, &a);
	if (!out)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	cq_rd r;
	cq_rd_init(&r, a, spec->action);
	const char *next = NULL;
	spec->read_xml(&r, doc, out, &next);
	if (r.err) {
		cq_arena_free(a);
		if (ei)
			*ei = r.ei;
		return r.err;
	}
	if (ret_next_token)
		*ret_next_token = next && *next ? next : NULL;
	*ret_out = out;
	return HK_OK;
}

void cq_json_answer(cq_rd *r, const cq_spec *spec, const json_t *json, void *out)
{
	if (!json)
		cq_rd_fail(r, HK_ERR_PARSE, "no JSON document in the response");
	else if (!json_is_object(json))
		cq_rd_fail(r, HK_ERR_PARSE, "the response is not a JSON object");
	else
		spec->read_json(r, json, out);
}

hk_err cq_read_json_once(const cq_spec *spec, const json_t *json, void **ret_out, hk_errinfo *ei)
{
	cq_arena *a;
	void *out = cq_root_new(spec->out_size, &a);
	if (!out)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	cq_rd r;
	cq_rd_init(&r, a, spec->action);
	cq_json_answer(&r, spec, json, out);
	if (r.err) {
		cq_arena_free(a);
		if (ei)
			*ei = r.ei;
		return r.err;
	}
	*ret_out = out;
	return HK_OK;
}

hk_err cq_bad(hk_errinfo *ei, const char *action, const char *what)
{
	return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: %s", action, what);
}

hk_err cq_b_done(cq_b *b, query_params **ret, hk_errinfo *ei)
{
	if (b->err) {
		query_params_free(b->p);
		b->p = NULL;
		if (b->err == HK_ERR_INVALID)
			return cq_bad(ei, b->action, b->empty_what);
		return hk_errinfo_set(ei, b->err, 0, "%s: %s", b->action, hk_err_str(b->err));
	}
	*ret = b->p;
	b->p = NULL;
	return HK_OK;
}
