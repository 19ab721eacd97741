/* The keyed single-flight cache (hk_sf.h). Entries sit in a dense array (for
 * walks) indexed by a chained hash table on the key (FNV-1a). */
#include "hk_sf.h"
#include "hk_util.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_ENTRIES 1024u
#define DEFAULT_WAITERS 4096u

typedef struct waiter {
	hk_sf_ready_fn fn;
	void *arg;
} waiter;

typedef struct entry {
	char *key;
	uint32_t hash;
	size_t index;	     /* in c->ents */
	struct entry *chain; /* next in the bucket */
	void *value;
	bool have;
	bool inflight;
	int64_t fetched_ms;
	int64_t ttl_ms;
	waiter *w; /* queued, in arrival order */
	size_t n_w, cap_w;
	/* While the waiters of a finished fetch are being called: the taken list
	 * (so a callback can cancel a later waiter), and a value forgotten
	 * meanwhile (freed when the calls are over). */
	waiter *deliv;
	size_t deliv_n, deliv_i;
	bool delivering;
	bool undelivered; /* a done() whose waiters are not called yet */
	hk_err last_err;
	const void *detail;	/* of the done() whose waiters are being called */
	const void *new_detail; /* of the done() not delivered yet */
	void *zombie;
} entry;

struct hk_sf {
	size_t max_entries, max_waiters;
	hk_sf_free_fn free_value;
	entry **ents;
	size_t n_ents, cap_ents;
	entry **buckets;
	size_t n_buckets; /* a power of two */
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

hk_sf *hk_sf_new(size_t max_entries, size_t max_waiters, hk_sf_free_fn free_value)
{
	hk_sf *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_entries = max_entries ? max_entries : DEFAULT_ENTRIES;
	c->max_waiters = max_waiters ? max_waiters : DEFAULT_WAITERS;
	c->free_value = free_value;
	c->n_buckets = 16;
	while (c->n_buckets < c->max_entries && c->n_buckets < 4096)
		c->n_buckets *= 2;
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

static void drop_value(const hk_sf *c, void *v)
{
	if (v && c->free_value)
		c->free_value(v);
}

static void entry_free(const hk_sf *c, entry *e)
{
	drop_value(c, e->value);
	drop_value(c, e->zombie);
	free(e->w);
	free(e->key);
	free(e);
}

void hk_sf_free(hk_sf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_ents; i++)
		entry_free(c, c->ents[i]);
	free(c->ents);
	free(c->buckets);
	free(c);
}

static entry *find(const hk_sf *c, const char *key, uint32_t h)
{
	for (entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->chain)
		if (e->hash == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static bool fresh(const entry *e, int64_t now_ms)
{
	return e->have && now_ms >= e->fetched_ms && now_ms - e->fetched_ms < e->ttl_ms;
}

static bool idle(const entry *e)
{
	return !e->inflight && !e->n_w && !e->delivering;
}

static void unlink_entry(hk_sf *c, entry *e)
{
	entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	c->ents[e->index] = c->ents[--c->n_ents];
	c->ents[e->index]->index = e->index;
	entry_free(c, e);
}

/* Make room for one more key: drop an idle entry, the one fetched longest ago. */
static bool evict_one(hk_sf *c, int64_t now_ms)
{
	entry *victim = NULL;
	for (size_t i = 0; i < c->n_ents; i++) {
		entry *e = c->ents[i];
		if (!idle(e))
			continue;
		if (!victim || !fresh(e, now_ms) || e->fetched_ms < victim->fetched_ms)
			victim = e;
		if (!fresh(e, now_ms))
			break;
	}
	if (!victim)
		return false;
	unlink_entry(c, victim);
	return true;
}

static entry *create(hk_sf *c, const char *key, uint32_t h, int64_t now_ms)
{
	if (c->n_ents >= c->max_entries && !evict_one(c, now_ms))
		return NULL;
	entry **v = hk_grow(c->ents, c->n_ents, &c->cap_ents, sizeof(*v), 8);
	if (!v)
		return NULL;
	c->ents = v;
	entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = strdup(key);
	if (!e->key) {
		free(e);
		return NULL;
	}
	e->hash = h;
	e->index = c->n_ents;
	c->ents[c->n_ents++] = e;
	e->chain = c->buckets[h & (c->n_buckets - 1)];
	c->buckets[h & (c->n_buckets - 1)] = e;
	return e;
}

static bool add_waiter(const hk_sf *c, entry *e, hk_sf_ready_fn fn, void *arg)
{
	if (e->n_w >= c->max_waiters)
		return false;
	if (e->n_w == e->cap_w) {
		size_t nc = e->cap_w ? e->cap_w * 2 : 4;
		if (nc > c->max_waiters)
			nc = c->max_waiters;
		waiter *v = realloc(e->w, nc * sizeof(*v));
		if (!v)
			return false;
		e->w = v;
		e->cap_w = nc;
	}
	e->w[e->n_w++] = (waiter){fn, arg};
	return true;
}

hk_sf_next hk_sf_join(hk_sf *c, const char *key, int64_t now_ms, hk_sf_ready_fn fn, void *arg,
		      void **value)
{
	uint32_t h = fnv1a(key);
	entry *e = find(c, key, h);
	if (e && fresh(e, now_ms)) {
		if (value)
			*value = e->value;
		return HK_SF_HIT;
	}
	if (!fn)
		return e && e->inflight ? HK_SF_WAIT : HK_SF_FETCH;
	if (!e && !(e = create(c, key, h, now_ms)))
		return HK_SF_ALONE;
	if (!add_waiter(c, e, fn, arg))
		return HK_SF_ALONE;
	if (e->inflight)
		return HK_SF_WAIT;
	e->inflight = true;
	return HK_SF_FETCH;
}

void hk_sf_done(hk_sf *c, const char *key, hk_err err, void *value, int64_t now_ms, int64_t ttl_ms)
{
	hk_sf_done_with(c, key, err, value, now_ms, ttl_ms, NULL);
}

const void *hk_sf_detail(const hk_sf *c, const char *key)
{
	entry *e = find(c, key, fnv1a(key));
	return e && e->delivering ? e->detail : NULL;
}

void hk_sf_done_with(hk_sf *c, const char *key, hk_err err, void *value, int64_t now_ms,
		     int64_t ttl_ms, const void *detail)
{
	entry *e = find(c, key, fnv1a(key));
	if (!e) {
		drop_value(c, value);
		return;
	}
	e->inflight = false;
	if (err == HK_OK) {
		if (e->value != value)
			drop_value(c, e->value);
		e->value = value;
		e->have = true;
		e->fetched_ms = now_ms;
		e->ttl_ms = ttl_ms;
	} else {
		drop_value(c, value);
	}
	e->last_err = err;
	e->undelivered = true;
	/* a done() from inside a callback: delivered below, when its detail
	 * (the caller's) may be gone */
	e->new_detail = e->delivering ? NULL : detail;
	if (e->delivering)
		return;
	e->delivering = true;
	while (e->undelivered) {
		e->undelivered = false;
		e->detail = e->new_detail;
		hk_err rerr = e->last_err;
		void *v = rerr == HK_OK ? e->value : NULL;
		/* Take the list: a callback may join again (a new list and fetch). */
		e->deliv = e->w;
		e->deliv_n = e->n_w;
		e->w = NULL;
		e->n_w = e->cap_w = 0;
		for (e->deliv_i = 0; e->deliv_i < e->deliv_n; e->deliv_i++) {
			waiter w = e->deliv[e->deliv_i];
			if (w.fn)
				w.fn(w.arg, e->key, rerr, v);
		}
		free(e->deliv);
		e->deliv = NULL;
		e->deliv_n = e->deliv_i = 0;
		drop_value(c, e->zombie);
		e->zombie = NULL;
	}
	e->delivering = false;
	e->detail = e->new_detail = NULL;
}

static bool cancel_in(entry *e, hk_sf_ready_fn fn, void *arg)
{
	for (size_t i = 0; i < e->n_w; i++) {
		if (e->w[i].fn == fn && e->w[i].arg == arg) {
			memmove(&e->w[i], &e->w[i + 1], (e->n_w - i - 1) * sizeof(*e->w));
			e->n_w--;
			return true;
		}
	}
	if (e->delivering) {
		for (size_t i = e->deliv_i + 1; i < e->deliv_n; i++) {
			if (e->deliv[i].fn == fn && e->deliv[i].arg == arg) {
				e->deliv[i].fn = NULL;
				return true;
			}
		}
	}
	return false;
}

bool hk_sf_cancel(hk_sf *c, const char *key, hk_sf_ready_fn fn, void *arg)
{
	entry *e = find(c, key, fnv1a(key));
	return e && cancel_in(e, fn, arg);
}

size_t hk_sf_cancel_all(hk_sf *c, hk_sf_ready_fn fn, void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_ents; i++)
		while (cancel_in(c->ents[i], fn, arg))
			n++;
	return n;
}

void *hk_sf_peek(const hk_sf *c, const char *key, int64_t now_ms, bool *is_fresh)
{
	entry *e = find(c, key, fnv1a(key));
	if (is_fresh)
		*is_fresh = e && fresh(e, now_ms);
	return e && e->have ? e->value : NULL;
}

bool hk_sf_inflight(const hk_sf *c, const char *key)
{
	entry *e = find(c, key, fnv1a(key));
	return e && e->inflight;
}

static void forget(const hk_sf *c, entry *e)
{
	if (e->delivering && e->value) {
		drop_value(c, e->zombie);
		e->zombie = e->value;
	} else {
		drop_value(c, e->value);
	}
	e->value = NULL;
	e->have = false;
}

void hk_sf_forget(hk_sf *c, const char *key)
{
	entry *e = find(c, key, fnv1a(key));
	if (e)
		forget(c, e);
}

void hk_sf_forget_all(hk_sf *c)
{
	for (size_t i = 0; i < c->n_ents; i++)
		forget(c, c->ents[i]);
}

size_t hk_sf_forget_if(hk_sf *c, bool (*match)(const char *key, const void *value, void *arg),
		       void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_ents; i++) {
		entry *e = c->ents[i];
		if (e->have && match(e->key, e->value, arg)) {
			forget(c, e);
			n++;
		}
	}
	return n;
}

size_t hk_sf_size(const hk_sf *c)
{
	return c->n_ents;
}

size_t hk_sf_waiting(const hk_sf *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_ents; i++)
		n += c->ents[i]->n_w;
	return n;
}
