/* common/: capped file read, env, hex, JSON load and getters, intrusive
 * lists, the keyed single-flight cache. */
#include "hk_test.h"

#include <stdbool.h>
#include <unistd.h>

#include "hk_caps.h"
#include "hk_json.h"
#include "hk_list.h"
#include "hk_sf.h"
#include "hk_util.h"

/* ------------------------------------------------------------ file read */

static char *tmpfile_with(const char *data, size_t len)
{
	char *path = strdup("/tmp/hk_common_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal((size_t)write(fd, data, len), len);
	close(fd);
	return path;
}

static void test_file_read_ok(void **state)
{
	(void)state;
	char *p = tmpfile_with("abc\0def", 7);
	char *buf;
	size_t len;
	hk_errinfo ei = {0};
	assert_int_equal(hk_file_read(p, 7, &buf, &len, &ei), HK_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, "abc\0def", 8); /* NUL-terminated */
	free(buf);
	unlink(p);
	free(p);
}

static void test_file_read_cap(void **state)
{
	(void)state;
	char *p = tmpfile_with("12345678", 8);
	char *buf = (char *)1;
	size_t len;
	hk_errinfo ei = {0};
	assert_int_equal(hk_file_read(p, 7, &buf, &len, &ei), HK_ERR_TOO_LARGE);
	assert_null(buf);
	assert_non_null(strstr(ei.text, "larger than 7 bytes"));
	assert_non_null(strstr(ei.text, p));
	unlink(p);
	free(p);
}

static void test_file_read_missing_and_dir(void **state)
{
	(void)state;
	char *buf;
	size_t len;
	hk_errinfo ei = {0};
	assert_int_equal(hk_file_read("/nonexistent/hk", 10, &buf, &len, &ei), HK_ERR_NOT_FOUND);
	assert_non_null(strstr(ei.text, "/nonexistent/hk"));
	assert_int_equal(hk_file_read("/tmp", 10, &buf, &len, &ei), HK_ERR_IO);
	assert_non_null(strstr(ei.text, "not a regular file"));
	/* /dev/zero is not regular either: a file that never ends is refused */
	assert_int_equal(hk_file_read("/dev/zero", 10, &buf, &len, NULL), HK_ERR_IO);
}

static const char *fake_env(const char *name, void *arg)
{
	(void)arg;
	if (!strcmp(name, "SET"))
		return "v";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

static void test_env_hex_clock(void **state)
{
	(void)state;
	assert_string_equal(hk_env_get(fake_env, NULL, "SET"), "v");
	assert_null(hk_env_get(fake_env, NULL, "EMPTY"));
	assert_null(hk_env_get(fake_env, NULL, "UNSET"));
	setenv("HK_COMMON_TEST", "x", 1);
	assert_string_equal(hk_env_get(NULL, NULL, "HK_COMMON_TEST"), "x");
	assert_int_equal(hk_hexval('0'), 0);
	assert_int_equal(hk_hexval('9'), 9);
	assert_int_equal(hk_hexval('a'), 10);
	assert_int_equal(hk_hexval('F'), 15);
	assert_int_equal(hk_hexval('g'), -1);
	assert_int_equal(hk_hexval('/'), -1);
	assert_int_equal(hk_hexval(0x100 + '1'), -1);
	int64_t m1 = hk_mono_ms(), m2 = hk_mono_ms();
	assert_true(m2 >= m1);
	assert_true(hk_wall_ms() > 1600000000000LL); /* after 2020 */
	char *s = strdup("secret");
	hk_free_secret(s);
	hk_free_secret(NULL);
}

/* hk_grow: room for one more; doubles from `first`; overflow refused. */
static void test_grow(void **state)
{
	(void)state;
	int *v = NULL;
	size_t n = 0, cap = 0;
	for (int i = 0; i < 20; i++) {
		int *nv = hk_grow(v, n, &cap, sizeof(*nv), 4);
		assert_non_null(nv);
		v = nv;
		v[n++] = i;
		assert_true(cap >= n);
	}
	assert_int_equal(cap, 32); /* 4, 8, 16, 32 */
	for (int i = 0; i < 20; i++)
		assert_int_equal(v[i], i);
	int *same = hk_grow(v, n, &cap, sizeof(*v), 4);
	assert_ptr_equal(same, v); /* room left: unchanged */
	size_t huge = SIZE_MAX / 2 + 1;
	assert_null(hk_grow(v, huge, &huge, sizeof(*v), 4)); /* would overflow */
	assert_int_equal(huge, SIZE_MAX / 2 + 1);
	free(v);
}

/* ------------------------------------------------------------------ JSON */

static void test_json_load_object(void **state)
{
	(void)state;
	json_t *j = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hk_json_load_object("", 0, "a JSON event", "the event", &j, &ei),
			 HK_ERR_PARSE);
	assert_string_equal(ei.text, "empty body (expected a JSON event)");
	assert_int_equal(hk_json_load_object("[1]", 3, "a JSON event", "the event", &j, &ei),
			 HK_ERR_INVALID);
	assert_string_equal(ei.text, "the event must be a JSON object");
	assert_null(j);
	assert_int_equal(hk_json_load_object("{\"a\":1,\"a\":2}", 13, "x", "y", &j, &ei),
			 HK_ERR_PARSE);
	assert_int_equal(hk_json_load_object("{\"a\":1}", 7, "x", "y", &j, &ei), HK_OK);
	assert_true(json_is_object(j));
	json_decref(j);
}

static void test_json_load_errors(void **state)
{
	(void)state;
	json_t *j = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hk_json_load("{\"a\":1,\"a\":2}", 13, "doc", &j, &ei), HK_ERR_PARSE);
	assert_null(j);
	assert_non_null(strstr(ei.text, "doc: not valid JSON"));
	char deep[HK_CAP_JSON_DEPTH + 2];
	memset(deep, '[', sizeof(deep));
	assert_int_equal(hk_json_load(deep, sizeof(deep), NULL, &j, &ei), HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "nested deeper than"));
	/* brackets inside strings do not count */
	assert_true(hk_json_depth_ok("[\"[[[[[\"]", 9, 1));
	assert_false(hk_json_depth_ok("[[1]]", 5, 1));
	assert_int_equal(hk_json_load("{\"a\":\"x\"}", 9, NULL, &j, &ei), HK_OK);
	json_decref(j);
}

static void test_json_getters(void **state)
{
	(void)state;
	json_t *j = NULL;
	const char *doc =
	    "{\"s\":\"abc\",\"e\":\"\",\"n\":5,\"b\":true,\"o\":{},\"a\":[],\"z\":null}";
	assert_int_equal(hk_json_load(doc, strlen(doc), NULL, &j, NULL), HK_OK);
	hk_errinfo ei = {0};
	const char *s = "default";
	assert_int_equal(hk_json_str(j, "cfg", "missing", &s, &ei), HK_ERR_NOT_FOUND);
	assert_string_equal(s, "default");
	assert_string_equal(ei.text, "cfg.missing is missing");
	assert_int_equal(hk_json_str(j, "cfg", "z", &s, &ei), HK_ERR_NOT_FOUND);
	assert_int_equal(hk_json_str(j, "cfg", "n", &s, &ei), HK_ERR_INVALID);
	assert_string_equal(ei.text, "cfg.n must be a string");
	assert_int_equal(hk_json_str(j, NULL, "s", &s, &ei), HK_OK);
	assert_string_equal(s, "abc");
	assert_int_equal(hk_json_str_len(j, "cfg", "e", 8, &s, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "cfg.e is empty");
	assert_int_equal(hk_json_str_len(j, "cfg", "s", 2, &s, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "cfg.s is longer than 2 bytes");
	int64_t n = 0;
	assert_int_equal(hk_json_int(j, "cfg", "n", 0, 4, &n, &ei), HK_ERR_RANGE);
	assert_string_equal(ei.text, "cfg.n is 5: must be between 0 and 4");
	assert_int_equal(n, 0);
	assert_int_equal(hk_json_int(j, "cfg", "n", 0, 5, &n, &ei), HK_OK);
	assert_int_equal(n, 5);
	assert_int_equal(hk_json_int(j, "cfg", "s", 0, 5, &n, &ei), HK_ERR_INVALID);
	bool b = false;
	assert_int_equal(hk_json_bool(j, "cfg", "b", &b, &ei), HK_OK);
	assert_true(b);
	assert_int_equal(hk_json_bool(j, "cfg", "n", &b, &ei), HK_ERR_INVALID);
	json_t *o;
	assert_int_equal(hk_json_obj(j, "cfg", "o", &o, &ei), HK_OK);
	assert_int_equal(hk_json_obj(j, "cfg", "a", &o, &ei), HK_ERR_INVALID);
	assert_int_equal(hk_json_arr(j, "cfg", "a", &o, &ei), HK_OK);
	assert_string_equal(hk_json_str_or_null(j, "s"), "abc");
	assert_null(hk_json_str_or_null(j, "n"));
	assert_null(hk_json_str_or_null(NULL, "n"));
	json_decref(j);
	/* \u0000 is refused by the parser; a string built with a NUL byte is
	 * refused where a C string is wanted */
	assert_int_equal(hk_json_load("{\"s\":\"a\\u0000b\"}", 16, NULL, &j, NULL), HK_ERR_PARSE);
	j = json_object();
	json_object_set_new(j, "s", json_stringn("a\0b", 3));
	assert_int_equal(hk_json_str_len(j, "cfg", "s", 8, &s, &ei), HK_ERR_INVALID);
	assert_string_equal(ei.text, "cfg.s contains a NUL byte");
	json_decref(j);
}

/* ----------------------------------------------------------------- lists */

typedef struct item {
	int v;
	hk_list node;
} item;

static void test_list(void **state)
{
	(void)state;
	hk_list head = HK_LIST_INIT(head), other;
	hk_list_init(&other);
	item it[4];
	for (int i = 0; i < 4; i++) {
		it[i].v = i;
		hk_list_init(&it[i].node);
		assert_false(hk_list_linked(&it[i].node));
	}
	hk_list_push_back(&head, &it[1].node);
	hk_list_push_back(&head, &it[2].node);
	hk_list_push_front(&head, &it[0].node);
	hk_list_push_back(&other, &it[3].node);
	hk_list_splice(&head, &other);
	assert_true(hk_list_empty(&other));
	int want = 0;
	hk_list *n, *t;
	HK_LIST_FOREACH_SAFE(n, t, &head)
	{
		item *x = HK_CONTAINER_OF(n, item, node);
		assert_int_equal(x->v, want++);
		if (x->v % 2)
			hk_list_del(n);
	}
	assert_int_equal(want, 4);
	assert_ptr_equal(HK_CONTAINER_OF(hk_list_first(&head), item, node), &it[0]);
	assert_false(hk_list_linked(&it[1].node));
	hk_list_del(&it[1].node); /* detached: harmless */
	hk_list_del(&it[0].node);
	hk_list_del(&it[2].node);
	assert_true(hk_list_empty(&head));
	assert_null(hk_list_first(&head));
}

/* --------------------------------------------------------- single-flight */

typedef struct rec {
	int calls;
	hk_err err;
	void *value;
	hk_sf *cache;
	bool rejoin;
	struct rec *cancel_other;
} rec;

static int g_freed;

static void free_val(void *v)
{
	g_freed++;
	free(v);
}

static void on_ready(void *arg, const char *key, hk_err err, void *value)
{
	rec *r = arg;
	r->calls++;
	r->err = err;
	r->value = value;
	if (r->cancel_other)
		assert_true(hk_sf_cancel(r->cache, key, on_ready, r->cancel_other));
	if (r->rejoin) {
		r->rejoin = false;
		void *v;
		/* a waiter woken by a failure tries again: it leads a new fetch */
		assert_int_equal(hk_sf_join(r->cache, key, 0, on_ready, r, &v), HK_SF_FETCH);
	}
}

static void test_sf_single_flight(void **state)
{
	(void)state;
	g_freed = 0;
	hk_sf *c = hk_sf_new(0, 0, free_val);
	rec a = {0}, b = {0}, d = {0};
	void *v = NULL;
	assert_int_equal(hk_sf_join(c, "k", 100, NULL, NULL, &v), HK_SF_FETCH); /* probe */
	assert_false(hk_sf_inflight(c, "k"));
	assert_int_equal(hk_sf_join(c, "k", 100, on_ready, &a, &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_join(c, "k", 100, on_ready, &b, &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "k", 100, NULL, NULL, &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "other", 100, on_ready, &d, &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_waiting(c), 3);
	int *val = malloc(sizeof(*val));
	*val = 42;
	hk_sf_done(c, "k", HK_OK, val, 150, 1000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(d.calls, 0);
	assert_ptr_equal(a.value, val);
	assert_int_equal(a.err, HK_OK);
	/* fresh for [150, 1150) */
	assert_int_equal(hk_sf_join(c, "k", 1149, on_ready, &a, &v), HK_SF_HIT);
	assert_ptr_equal(v, val);
	assert_int_equal(a.calls, 1);
	bool fresh = true;
	assert_ptr_equal(hk_sf_peek(c, "k", 1150, &fresh), val);
	assert_false(fresh);
	assert_int_equal(hk_sf_join(c, "k", 149, NULL, NULL, &v), HK_SF_FETCH); /* clock back */
	/* expired: a new fetch; the failure keeps the old value to peek at */
	assert_int_equal(hk_sf_join(c, "k", 1150, on_ready, &a, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_ERR_THROTTLED, NULL, 1200, 1000);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.err, HK_ERR_THROTTLED);
	assert_null(a.value);
	assert_ptr_equal(hk_sf_peek(c, "k", 1200, &fresh), val);
	assert_int_equal(g_freed, 0);
	hk_sf_forget(c, "k");
	assert_int_equal(g_freed, 1);
	assert_null(hk_sf_peek(c, "k", 1200, &fresh));
	assert_int_equal(hk_sf_size(c), 2);
	hk_sf_free(c); /* "other" still has d waiting: dropped without a call */
	assert_int_equal(d.calls, 0);
}

static void test_sf_ttl_zero_and_cancel(void **state)
{
	(void)state;
	g_freed = 0;
	hk_sf *c = hk_sf_new(0, 0, free_val);
	rec a = {0}, b = {0}, d = {0};
	a.cache = b.cache = d.cache = c;
	void *v;
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &a, &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &b, &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &d, &v), HK_SF_WAIT);
	assert_true(hk_sf_cancel(c, "k", on_ready, &b));
	assert_false(hk_sf_cancel(c, "k", on_ready, &b));
	a.cancel_other = &d; /* the first callback cancels a later waiter */
	hk_sf_done(c, "k", HK_OK, malloc(1), 0, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(d.calls, 0);
	/* ttl 0: shared by that fetch's waiters only */
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &b, &v), HK_SF_FETCH);
	b.rejoin = true;
	hk_sf_done(c, "k", HK_ERR_TRANSIENT, NULL, 1, 0);
	assert_int_equal(b.calls, 1);
	assert_true(hk_sf_inflight(c, "k")); /* b leads the new fetch */
	assert_int_equal(hk_sf_cancel_all(c, on_ready, &b), 1);
	hk_sf_done(c, "k", HK_OK, malloc(1), 2, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(g_freed, 1); /* the first value, replaced */
	hk_sf_free(c);
	assert_int_equal(g_freed, 2);
}

/* A callback whose fetch fails at once (done() from inside a callback): its
 * waiters are still called, after the current ones. */
typedef struct sync_fail {
	hk_sf *c;
	int calls;
	bool again;
} sync_fail;

static void on_ready_sync(void *arg, const char *key, hk_err err, void *value)
{
	sync_fail *s = arg;
	s->calls++;
	if (s->again) {
		s->again = false;
		void *v;
		assert_int_equal(hk_sf_join(s->c, key, 0, on_ready_sync, s, &v), HK_SF_FETCH);
		hk_sf_done(s->c, key, HK_ERR_IO, NULL, 0, 0);
	}
}

static void test_sf_done_inside_callback(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, 0, NULL);
	sync_fail s = {.c = c, .again = true};
	void *v;
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready_sync, &s, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_ERR_IO, NULL, 0, 0);
	assert_int_equal(s.calls, 2);
	assert_false(hk_sf_inflight(c, "k"));
	assert_int_equal(hk_sf_waiting(c), 0);
	hk_sf_free(c);
}

static void test_sf_caps(void **state)
{
	(void)state;
	g_freed = 0;
	hk_sf *c = hk_sf_new(2, 2, free_val);
	rec r[4] = {{0}};
	void *v;
	assert_int_equal(hk_sf_join(c, "a", 0, on_ready, &r[0], &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_join(c, "a", 0, on_ready, &r[1], &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "a", 0, on_ready, &r[2], &v), HK_SF_ALONE);
	assert_int_equal(hk_sf_join(c, "b", 0, on_ready, &r[3], &v), HK_SF_FETCH);
	/* two keys, both busy: a third key cannot be held */
	assert_int_equal(hk_sf_join(c, "c", 0, on_ready, &r[2], &v), HK_SF_ALONE);
	hk_sf_done(c, "b", HK_OK, malloc(1), 10, 100);
	/* b is idle now (fresh, but idle): the oldest idle key makes room */
	assert_int_equal(hk_sf_join(c, "c", 20, on_ready, &r[2], &v), HK_SF_FETCH);
	assert_int_equal(g_freed, 1);
	assert_null(hk_sf_peek(c, "b", 20, NULL));
	assert_int_equal(hk_sf_size(c), 2);
	hk_sf_done(c, "gone", HK_OK, malloc(1), 0, 10); /* unknown key: value freed */
	assert_int_equal(g_freed, 2);
	hk_sf_free(c);
}

static void test_sf_many_keys(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(5000, 0, free);
	char key[32];
	void *v;
	rec r = {0};
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "subnet-%08x/az-%d", i, i % 3);
		assert_int_equal(hk_sf_join(c, key, 0, on_ready, &r, &v), HK_SF_FETCH);
		hk_sf_done(c, key, HK_OK, strdup(key), 0, 1000);
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "subnet-%08x/az-%d", i, i % 3);
		assert_int_equal(hk_sf_join(c, key, 1, NULL, NULL, &v), HK_SF_HIT);
		assert_string_equal(v, key);
	}
	assert_int_equal(r.calls, 3000);
	hk_sf_forget_all(c);
	assert_int_equal(hk_sf_join(c, "subnet-00000001/az-1", 1, NULL, NULL, &v), HK_SF_FETCH);
	hk_sf_free(c);
}

/* The fetch's detail reaches the waiters while they are called (and only
 * then); a done() from inside a callback carries none. */
typedef struct detail_rec {
	hk_sf *c;
	const void *seen[8];
	int calls;
	bool refetch;
} detail_rec;

static void on_ready_detail(void *arg, const char *key, hk_err err, void *value)
{
	detail_rec *d = arg;
	d->seen[d->calls++] = hk_sf_detail(d->c, key);
	if (d->refetch) {
		d->refetch = false;
		void *v;
		assert_int_equal(hk_sf_join(d->c, key, 0, on_ready_detail, d, &v), HK_SF_FETCH);
		int local = 7;
		hk_sf_done_with(d->c, key, HK_ERR_IO, NULL, 0, 0, &local);
	}
}

static bool match_value(const char *key, const void *value, void *arg)
{
	return strcmp(value, arg) == 0;
}

static void test_sf_detail_and_forget_if(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, 0, free);
	detail_rec d = {.c = c, .refetch = true};
	int answer = 1;
	void *v;
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready_detail, &d, &v), HK_SF_FETCH);
	hk_sf_done_with(c, "k", HK_ERR_THROTTLED, NULL, 0, 1000, &answer);
	assert_int_equal(d.calls, 2);
	assert_ptr_equal(d.seen[0], &answer);
	assert_null(d.seen[1]); /* the nested done(): delivered later, no detail */
	assert_null(hk_sf_detail(c, "k"));
	/* forget_if drops the matching values only */
	const char *keys[3] = {"net-a/az1", "net-b/az1", "net-a/az2"};
	const char *vals[3] = {"subnet-1", "subnet-2", "subnet-1"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hk_sf_join(c, keys[i], 0, NULL, NULL, &v), HK_SF_FETCH);
		assert_int_equal(hk_sf_join(c, keys[i], 0, on_ready_detail, &d, &v), HK_SF_FETCH);
		hk_sf_done(c, keys[i], HK_OK, strdup(vals[i]), 0, 1000);
	}
	assert_int_equal(hk_sf_forget_if(c, match_value, "subnet-1"), 2);
	assert_int_equal(hk_sf_join(c, keys[0], 1, NULL, NULL, &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_join(c, keys[1], 1, NULL, NULL, &v), HK_SF_HIT);
	assert_string_equal(v, "subnet-2");
	assert_int_equal(hk_sf_join(c, keys[2], 1, NULL, NULL, &v), HK_SF_FETCH);
	hk_sf_free(c);
}

/* A TTL of 0 (the engine's instance-type lookup): the waiters of one fetch
 * share it; a later lookup is never a HIT. */
typedef struct order_rec {
	const void *who[8];
	int n;
} order_rec;

static order_rec g_order;

static void on_ready_order(void *arg, const char *key, hk_err err, void *value)
{
	assert_true(g_order.n < 8);
	g_order.who[g_order.n++] = arg;
}

static void sf_ttl_zero_coalesces_only_concurrent_misses(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, 0, NULL);
	int a, b, cc, d;
	void *v;
	g_order.n = 0;
	/* three misses at once: one fetch, two waiters */
	assert_int_equal(hk_sf_join(c, "m5.large", 1000, on_ready_order, &a, &v), HK_SF_FETCH);
	assert_int_equal(hk_sf_join(c, "m5.large", 1000, on_ready_order, &b, &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "m5.large", 1001, on_ready_order, &cc, &v), HK_SF_WAIT);
	hk_sf_done(c, "m5.large", HK_OK, NULL, 1002, 0);
	assert_int_equal(g_order.n, 3);
	assert_ptr_equal(g_order.who[0], &a);
	assert_ptr_equal(g_order.who[1], &b);
	assert_ptr_equal(g_order.who[2], &cc);
	/* the value lives elsewhere (aws/'s cache): a later lookup, even at the
	 * same millisecond, is never a HIT but asks (and is answered from there) */
	assert_int_equal(hk_sf_join(c, "m5.large", 1002, on_ready_order, &d, &v), HK_SF_FETCH);
	hk_sf_done(c, "m5.large", HK_ERR_TRANSIENT, NULL, 1003, 0);
	assert_int_equal(g_order.n, 4);
	assert_ptr_equal(g_order.who[3], &d);
	hk_sf_free(c);
}

/* The engine's caches (hook timing, subnet choice) on hk_sf: the cases the
 * engine's own single-flight slots were tested with, key by key. */
#define T_MAX_WAITERS 4096u

static void sf_first_fetches_others_wait_in_order(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, T_MAX_WAITERS, free);
	int a, b, cc;
	void *v;
	g_order.n = 0;
	assert_int_equal(hk_sf_join(c, "hook", 1000, on_ready_order, &a, &v), HK_SF_FETCH);
	assert_true(hk_sf_inflight(c, "hook"));
	assert_int_equal(hk_sf_join(c, "hook", 1001, on_ready_order, &b, &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_join(c, "hook", 1002, on_ready_order, &cc, &v), HK_SF_WAIT);
	hk_sf_done(c, "hook", HK_OK, strdup("600"), 1030, 600000);
	assert_false(hk_sf_inflight(c, "hook"));
	assert_int_equal(g_order.n, 3);
	assert_ptr_equal(g_order.who[0], &a);
	assert_ptr_equal(g_order.who[1], &b);
	assert_ptr_equal(g_order.who[2], &cc);
	assert_int_equal(hk_sf_waiting(c), 0);
	/* the answer is reused without queueing while it is young */
	assert_int_equal(hk_sf_join(c, "hook", 1030 + 599999, on_ready_order, &a, &v), HK_SF_HIT);
	assert_string_equal(v, "600");
	assert_int_equal(hk_sf_waiting(c), 0);
	assert_false(hk_sf_inflight(c, "hook"));
	hk_sf_free(c);
}

static void sf_ttl_expiry_and_clock_backwards_refetch(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, T_MAX_WAITERS, free);
	int a;
	void *v;
	g_order.n = 0;
	assert_int_equal(hk_sf_join(c, "k", 5000, on_ready_order, &a, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_OK, strdup("x"), 5000, 60000);
	assert_int_equal(hk_sf_join(c, "k", 5000 + 59999, on_ready_order, &a, &v), HK_SF_HIT);
	/* exactly the TTL old: expired, one new fetch */
	assert_int_equal(hk_sf_join(c, "k", 5000 + 60000, on_ready_order, &a, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_OK, strdup("y"), 70000, 60000);
	/* a clock gone backwards does not make an old answer young */
	assert_int_equal(hk_sf_join(c, "k", 69999, on_ready_order, &a, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_ERR_TRANSIENT, NULL, 69999, 60000);
	assert_int_equal(g_order.n, 3);
	hk_sf_free(c);
}

static void sf_failure_wakes_every_waiter_and_caches_nothing(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, T_MAX_WAITERS, free);
	int ws[5];
	void *v;
	g_order.n = 0;
	assert_int_equal(hk_sf_join(c, "k", 100, on_ready_order, &ws[0], &v), HK_SF_FETCH);
	for (size_t i = 1; i < 4; i++)
		assert_int_equal(hk_sf_join(c, "k", 101, on_ready_order, &ws[i], &v), HK_SF_WAIT);
	hk_sf_done(c, "k", HK_ERR_NOT_FOUND, NULL, 130, 60000);
	assert_null(hk_sf_peek(c, "k", 130, NULL));
	assert_int_equal(g_order.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_ptr_equal(g_order.who[i], &ws[i]);
	/* nothing cached: the next caller leads a new fetch */
	assert_int_equal(hk_sf_join(c, "k", 131, on_ready_order, &ws[4], &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_ERR_NOT_FOUND, NULL, 140, 60000);
	assert_int_equal(g_order.n, 5);
	assert_ptr_equal(g_order.who[4], &ws[4]);
	assert_int_equal(hk_sf_waiting(c), 0);
	hk_sf_free(c);
}

static void sf_waiter_list_is_bounded(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, T_MAX_WAITERS, free);
	static char ws[T_MAX_WAITERS + 1];
	rec r = {0};
	void *v;
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &ws[0], &v), HK_SF_FETCH);
	for (size_t i = 1; i < T_MAX_WAITERS; i++)
		assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &ws[i], &v), HK_SF_WAIT);
	assert_int_equal(hk_sf_waiting(c), T_MAX_WAITERS);
	/* one more: not queued, fetches on its own */
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready, &r, &v), HK_SF_ALONE);
	assert_int_equal(hk_sf_waiting(c), T_MAX_WAITERS);
	hk_sf_free(c);
}

static void sf_forget_refetches(void **state)
{
	(void)state;
	hk_sf *c = hk_sf_new(0, T_MAX_WAITERS, free);
	int a;
	void *v;
	g_order.n = 0;
	assert_int_equal(hk_sf_join(c, "k", 0, on_ready_order, &a, &v), HK_SF_FETCH);
	hk_sf_done(c, "k", HK_OK, strdup("subnet-1"), 0, 60000);
	assert_int_equal(hk_sf_join(c, "k", 10, on_ready_order, &a, &v), HK_SF_HIT);
	hk_sf_forget(c, "k"); /* InvalidSubnetID.NotFound */
	assert_int_equal(hk_sf_join(c, "k", 20, on_ready_order, &a, &v), HK_SF_FETCH);
	hk_sf_free(c);
}

int main(void);
static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grow),
    cmocka_unit_test(sf_first_fetches_others_wait_in_order),
    cmocka_unit_test(sf_ttl_expiry_and_clock_backwards_refetch),
    cmocka_unit_test(sf_failure_wakes_every_waiter_and_caches_nothing),
    cmocka_unit_test(sf_waiter_list_is_bounded),
    cmocka_unit_test(sf_forget_refetches),
    cmocka_unit_test(sf_ttl_zero_coalesces_only_concurrent_misses),
    cmocka_unit_test(test_sf_detail_and_forget_if),
    cmocka_unit_test(test_file_read_ok),
    cmocka_unit_test(test_file_read_cap),
    cmocka_unit_test(test_file_read_missing_and_dir),
    cmocka_unit_test(test_env_hex_clock),
    cmocka_unit_test(test_json_load_errors),
    cmocka_unit_test(test_json_load_object),
    cmocka_unit_test(test_json_getters),
    cmocka_unit_test(test_list),
    cmocka_unit_test(test_sf_single_flight),
    cmocka_unit_test(test_sf_ttl_zero_and_cancel),
    cmocka_unit_test(test_sf_done_inside_callback),
    cmocka_unit_test(test_sf_caps),
    cmocka_unit_test(test_sf_many_keys),
};
HK_TEST_MAIN(tests)
