/* Auth (constant-time compare, API key header, HTTP Basic), JSON log lines,
 * health flags and the engine dispatch helpers. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "hook_intake.h"
#include "noop_engine.h"

static void test_secret_equal(void **state)
{
	(void)state;
	assert_true(hook_secret_equal("abc", 3, "abc", 3));
	assert_false(hook_secret_equal("abc", 3, "abd", 3));
	assert_false(hook_secret_equal("abc", 3, "abcd", 4)); /* prefix is not equal */
	assert_false(hook_secret_equal("", 0, "a", 1));
	assert_true(hook_secret_equal("", 0, "", 0));
	assert_false(hook_secret_equal(NULL, 0, "", 0));
	/* embedded NUL bytes count */
	assert_false(hook_secret_equal("a\0b", 3, "a\0c", 3));
}

static hook_config *api_key_cfg(void)
{
	hook_config *c = calloc(1, sizeof(*c));
	c->auth.kind = HOOK_AUTH_API_KEY;
	c->auth.header = strdup("X-Hook-Key");
	c->auth.secret = strdup("k3y");
	c->auth.secret_len = 3;
	return c;
}

static struct evhttp_request *req_with(const char *name, const char *value)
{
	struct evhttp_request *r = evhttp_request_new(NULL, NULL);
	assert_non_null(r);
	if (name)
		evhttp_add_header(evhttp_request_get_input_headers(r), name, value);
	return r;
}

static void test_auth_api_key(void **state)
{
	(void)state;
	hook_config *c = api_key_cfg();
	struct evhttp_request *r;
	r = req_with("x-hook-key", "k3y"); /* header names are case-insensitive */
	assert_true(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("X-Hook-Key", "k3y ");
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("X-Other", "k3y");
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with(NULL, NULL);
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	hook_config_free(c);
}

static void test_auth_basic(void **state)
{
	(void)state;
	hook_config *c = calloc(1, sizeof(*c));
	c->auth.kind = HOOK_AUTH_BASIC;
	c->auth.username = strdup("eb");
	c->auth.secret = strdup("pass");
	c->auth.secret_len = 4;
	c->auth.basic_expect = strdup("ZWI6cGFzcw==");
	c->auth.basic_expect_len = strlen(c->auth.basic_expect);
	struct evhttp_request *r;
	r = req_with("Authorization", "Basic ZWI6cGFzcw==");
	assert_true(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("Authorization", "basic   ZWI6cGFzcw==");
	assert_true(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("Authorization", "Basic ZWI6cGFzcx==");
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("Authorization", "Bearer ZWI6cGFzcw==");
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with("Authorization", "BasicZWI6cGFzcw==");
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	r = req_with(NULL, NULL);
	assert_false(hook_auth_ok(c, r));
	evhttp_request_free(r);
	hook_config_free(c);
}

/* Log (at INFO) to a new temporary file named in path (a mkstemp template). */
static void log_to_temp_file(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hook_log_open(path, HOOK_LOG_INFO), HK_OK);
}

static void test_log_lines(void **state)
{
	(void)state;
	char path[] = "/tmp/hooklogXXXXXX";
	log_to_temp_file(path);
	hook_log(HOOK_LOG_DEBUG, "hidden", NULL);
	hook_log(HOOK_LOG_INFO, "hello \"world\"\n", "asg", "evil\"}\n{\"level\":\"error", NULL);
	hook_log_json(HOOK_LOG_ERROR, "with fields",
		      json_pack("{s:I,s:s}", "action_id", (json_int_t)7, "msg", "not overwritten"));
	assert_int_equal(hook_log_reopen(), HK_OK);
	hook_log(HOOK_LOG_WARN, "after reopen", NULL);
	hook_log_close();

	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[1024];
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		assert_non_null(o); /* every line is one JSON object */
		const char *msg = json_string_value(json_object_get(o, "msg"));
		const char *level = json_string_value(json_object_get(o, "level"));
		const char *t = json_string_value(json_object_get(o, "time"));
		assert_non_null(t);
		assert_int_equal(strlen(t), strlen("2026-01-02T03:04:05.678Z"));
		assert_int_equal(t[strlen(t) - 1], 'Z');
		if (lines == 0) {
			assert_string_equal(msg, "hello \"world\"\n");
			assert_string_equal(level, "info");
			assert_string_equal(json_string_value(json_object_get(o, "asg")),
					    "evil\"}\n{\"level\":\"error");
		} else if (lines == 1) {
			assert_string_equal(msg, "with fields");
			assert_string_equal(level, "error");
			assert_int_equal(json_integer_value(json_object_get(o, "action_id")), 7);
		} else {
			assert_string_equal(msg, "after reopen");
		}
		json_decref(o);
		lines++;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(lines, 3);
	assert_int_equal(hook_log_open(NULL, HOOK_LOG_INFO), HK_OK);
}

/* libevent's own warnings come out as JSON lines, not raw "[warn]" text. */
static void test_log_libevent_warnings(void **state)
{
	(void)state;
	char path[] = "/tmp/hooklogXXXXXX";
	log_to_temp_file(path);
	hook_log_route_libraries();
	/* no backend left: libevent warns "no event mechanism available" */
	struct event_config *cfg = event_config_new();
	assert_non_null(cfg);
	const char **methods = event_get_supported_methods();
	for (size_t i = 0; methods && methods[i]; i++)
		assert_int_equal(event_config_avoid_method(cfg, methods[i]), 0);
	struct event_base *base = event_base_new_with_config(cfg);
	assert_null(base);
	event_config_free(cfg);
	hook_log_close();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[1024];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		assert_non_null(o); /* JSON, never raw text */
		const char *lib = json_string_value(json_object_get(o, "library"));
		const char *msg = json_string_value(json_object_get(o, "msg"));
		if (lib && strcmp(lib, "libevent") == 0 && msg &&
		    strstr(msg, "no event mechanism available")) {
			assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
			found++;
		}
		json_decref(o);
	}
	fclose(f);
	unlink(path);
	assert_true(found >= 1);
	event_set_log_callback(NULL);
	assert_int_equal(hook_log_open(NULL, HOOK_LOG_INFO), HK_OK);
}

static void test_log_rejected_rate_limited(void **state)
{
	(void)state;
	char path[] = "/tmp/hooklogXXXXXX";
	log_to_temp_file(path);
	/* 1000 rejections of one reason within a second: one line; 200 distinct
	 * reasons: at most 20 lines a second */
	int64_t t0 = hk_mono_ms();
	for (int i = 0; i < 1000; i++)
		hook_log_rejected("test rejected", "same reason", NULL);
	char why[32];
	for (int i = 0; i < 200; i++) {
		snprintf(why, sizeof(why), "reason %d", i);
		hook_log_rejected("test rejected", why, json_pack("{s:i}", "n", i));
	}
	bool same_second = hk_mono_ms() / 1000 == t0 / 1000;
	hook_log_close();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[1024];
	int lines = 0, same = 0;
	while (fgets(line, sizeof(line), f)) {
		json_t *o = json_loads(line, 0, NULL);
		assert_non_null(o);
		assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
		same += !strcmp(json_string_value(json_object_get(o, "reason")), "same reason");
		json_decref(o);
		lines++;
	}
	fclose(f);
	unlink(path);
	if (same_second) { /* the loop ran within one second (it takes microseconds) */
		assert_int_equal(same, 1);
		assert_true(lines <= 20);
	} else {
		assert_true(same <= 2);
		assert_true(lines <= 40);
	}
	assert_true(lines >= 2);
}

static void test_log_levels(void **state)
{
	(void)state;
	hook_log_level l;
	assert_int_equal(hook_log_level_parse("debug", &l), HK_OK);
	assert_int_equal(l, HOOK_LOG_DEBUG);
	assert_int_equal(hook_log_level_parse("warning", &l), HK_OK);
	assert_int_equal(l, HOOK_LOG_WARN);
	assert_int_equal(hook_log_level_parse("loud", &l), HK_ERR_INVALID);
	assert_int_equal(hook_log_open("/nonexistent/dir/log", HOOK_LOG_INFO), HK_ERR_IO);
}

static void test_health_flags(void **state)
{
	(void)state;
	hook_health h;
	memset(&h, 0, sizeof(h));
	assert_int_equal(h.flag[HOOK_HEALTH_CREDENTIALS], HOOK_UNKNOWN);
	hook_health_set(&h, HOOK_HEALTH_CREDENTIALS, HOOK_NO, "no provider in the chain");
	assert_int_equal(h.flag[HOOK_HEALTH_CREDENTIALS], HOOK_NO);
	assert_string_equal(h.detail[HOOK_HEALTH_CREDENTIALS], "no provider in the chain");
	assert_true(h.checked_ms[HOOK_HEALTH_CREDENTIALS] > 0);
	hook_health_set(&h, HOOK_HEALTH__COUNT, HOOK_YES, NULL); /* ignored */
	assert_string_equal(hook_health_flag_str(HOOK_HEALTH_AWS_REACHABLE), "aws_reachable");
}

static int drained;
static void on_drained(void *arg)
{
	(void)arg;
	drained++;
}

static void test_noop_engine(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	hook_engine e;
	assert_int_equal(hook_engine_noop_new(base, &e), HK_OK);
	hook_engine_submit(&e, 1);
	drained = 0;
	hook_engine_drain(&e, on_drained, NULL);
	assert_int_equal(drained, 0); /* never synchronous */
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(drained, 1);
	hook_engine_free(&e);
	hook_engine_submit(&e, 2); /* freed engine: no-op */
	hook_engine_submit(NULL, 3);
	event_base_free(base);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_secret_equal), cmocka_unit_test(test_auth_api_key),
    cmocka_unit_test(test_auth_basic),	 cmocka_unit_test(test_log_lines),
    cmocka_unit_test(test_log_levels),	 cmocka_unit_test(test_log_rejected_rate_limited),
    cmocka_unit_test(test_health_flags), cmocka_unit_test(test_log_libevent_warnings),
    cmocka_unit_test(test_noop_engine),
};

HK_TEST_MAIN(tests)
