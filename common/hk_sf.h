/* A keyed single-flight cache with a TTL and waiters.
 *
 * Every cache in the daemon has the same shape: many callers want the same
 * remote answer (a lifecycle hook's timeout, a subnet choice, an instance
 * type, credentials, a signing certificate, the region); the first caller for
 * a key fetches, the others wait on that one fetch, and the answer is reused
 * for a while. hk_sf is that shape once.
 *
 * Single-threaded (the event loop). Keys are strings (copied). Values are
 * opaque pointers owned by the cache and released with the `free_value`
 * given at creation; a value is replaced only by a later successful fetch of
 * the same key, so a value pointer stays valid until then (or until
 * hk_sf_forget/hk_sf_free). Waiters are (fn, arg) pairs, called in arrival
 * order when the fetch finishes; the waiter list is taken before the calls,
 * so a callback may join again (starting a new fetch), cancel others, or free
 * its own arg. */
#ifndef HK_SF_H
#define HK_SF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hk_common.h"

typedef struct hk_sf hk_sf;

/* The fetch for `key` finished: err == HK_OK with `value` (owned by the
 * cache, may be NULL for "nothing there"), or an error with value NULL. */
typedef void (*hk_sf_ready_fn)(void *arg, const char *key, hk_err err, void *value);
typedef void (*hk_sf_free_fn)(void *value);

/* `max_entries` bounds the number of keys (0: 1024); `max_waiters` bounds the
 * waiters per key (0: 4096). `free_value` may be NULL (values not owned). */
hk_sf *hk_sf_new(size_t max_entries, size_t max_waiters, hk_sf_free_fn free_value);
/* Free every value and entry; pending waiters are dropped without a call. */
void hk_sf_free(hk_sf *c);

typedef enum hk_sf_next {
	HK_SF_HIT,   /* *value is a fresh answer: use it now; nothing queued */
	HK_SF_FETCH, /* queued, and this caller must start the fetch and call
		      * hk_sf_done() (always, even when starting it failed) */
	HK_SF_WAIT,  /* queued behind the fetch in flight: fn will be called */
	HK_SF_ALONE  /* not queued (too many keys or waiters, no memory):
		      * fetch on your own and do not call hk_sf_done() */
} hk_sf_next;

/* What a caller wanting `key` at `now_ms` does. A value fetched at t is fresh
 * while now_ms is in [t, t + ttl) (a clock gone backwards counts as expired).
 * When `fn` is NULL the caller only probes: HIT or (without queuing) FETCH /
 * WAIT as it would have been; nothing is marked in flight. */
hk_sf_next hk_sf_join(hk_sf *c, const char *key, int64_t now_ms, hk_sf_ready_fn fn, void *arg,
		      void **value);

/* The fetch for `key` finished. On HK_OK `value` is TAKEN (replacing and
 * freeing any older one) and stays fresh for `ttl_ms` from `now_ms` (ttl 0:
 * shared by the waiters of this fetch only, never a HIT). On error `value`
 * must be NULL and any older value is kept, with its own age (a stale answer
 * a caller may still peek at). Then every waiter is called once. */
void hk_sf_done(hk_sf *c, const char *key, hk_err err, void *value, int64_t now_ms, int64_t ttl_ms);
/* hk_sf_done() with the fetch's own answer (`detail`, e.g. the AWS result with
 * its error code and body) for the waiters to read through hk_sf_detail()
 * while they are called. A done() from inside a waiter's call is delivered
 * after that call returns, with no detail. */
void hk_sf_done_with(hk_sf *c, const char *key, hk_err err, void *value, int64_t now_ms,
		     int64_t ttl_ms, const void *detail);
/* The detail of the fetch of `key` whose waiters are being called (NULL
 * otherwise, or when none was given). */
const void *hk_sf_detail(const hk_sf *c, const char *key);

/* Remove one waiter (fn, arg) from `key`'s list (its owner is going away);
 * true when it was queued. When the last waiter of a fetch in flight leaves,
 * the fetch stays in flight (its hk_sf_done() still comes). */
bool hk_sf_cancel(hk_sf *c, const char *key, hk_sf_ready_fn fn, void *arg);
/* Remove (fn, arg) from every key (an owner with waits on several keys). */
size_t hk_sf_cancel_all(hk_sf *c, hk_sf_ready_fn fn, void *arg);

/* The stored value for `key` whatever its age (NULL when none), and whether it
 * is fresh at now_ms. */
void *hk_sf_peek(const hk_sf *c, const char *key, int64_t now_ms, bool *fresh);
/* Whether a fetch for `key` is in flight. */
bool hk_sf_inflight(const hk_sf *c, const char *key);
/* Drop the value for `key` (the next join fetches); a fetch in flight and its
 * waiters are kept. */
void hk_sf_forget(hk_sf *c, const char *key);
/* Drop every value (not the fetches in flight). */
void hk_sf_forget_all(hk_sf *c);
/* Drop the values for which match(key, value, arg) is true (e.g. every cached
 * choice of a subnet that changed); returns how many. */
size_t hk_sf_forget_if(hk_sf *c, bool (*match)(const char *key, const void *value, void *arg),
		       void *arg);
/* Number of keys held and of waiters queued (for metrics and tests). */
size_t hk_sf_size(const hk_sf *c);
size_t hk_sf_waiting(const hk_sf *c);

#endif
