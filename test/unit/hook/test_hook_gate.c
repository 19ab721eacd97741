/* The request gate (hook/core/gate.c): framing refused, credentials judged
 * before the body, bodies followed so pipelined requests are gated too, and
 * the same verdicts whatever the read boundaries. */
#include "hk_test.h"

#include <stdlib.h>
#include <string.h>

#include "hook_core.h"

typedef struct seen {
	unsigned heads;
	char last_target[64];
	bool refuse_all;
} seen;

static hook_gate_verdict check(const hook_gate_head *h, void *arg)
{
	seen *s = arg;
	s->heads++;
	snprintf(s->last_target, sizeof(s->last_target), "%s", h->target);
	if (s->refuse_all || (hook_gate_header(h, "x-key") == NULL && strcmp(h->method, "GET")))
		return (hook_gate_verdict){.status = 401, .reason = "no key"};
	return (hook_gate_verdict){0};
}

/* Feed `text` in pieces of `step` bytes (0: whole); the first refusal. */
static int feed(const char *text, size_t step, seen *s, char *out)
{
	hook_gate *g = hook_gate_new(4096, check, s);
	assert_non_null(g);
	size_t n = strlen(text);
	char *copy = strdup(text);
	int status = 0;
	for (size_t off = 0; off < n && !status;) {
		size_t k = step && step < n - off ? step : n - off;
		status = hook_gate_feed(g, copy + off, k).status;
		off += k;
	}
	if (out)
		memcpy(out, copy, n + 1);
	free(copy);
	hook_gate_free(g);
	return status;
}

static int feed_all_ways(const char *text, seen *s)
{
	seen a = {0}, b = {0}, c = {0};
	a.refuse_all = b.refuse_all = c.refuse_all = s->refuse_all;
	int whole = feed(text, 0, &a, NULL);
	assert_int_equal(feed(text, 1, &b, NULL), whole);
	assert_int_equal(feed(text, 7, &c, NULL), whole);
	assert_int_equal(a.heads, b.heads);
	assert_int_equal(a.heads, c.heads);
	*s = a;
	return whole;
}

static void test_gate_passes_plain_requests(void **state)
{
	(void)state;
	seen s = {0};
	assert_int_equal(feed_all_ways("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &s), 0);
	assert_int_equal(s.heads, 1);
	/* two pipelined POSTs with bodies: both heads are judged */
	assert_int_equal(feed_all_ways("POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
				       "Content-Length: 5\r\n\r\nhello"
				       "POST /b HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
				       "Content-Length: 2\r\n\r\nhi",
				       &s),
			 0);
	assert_int_equal(s.heads, 2);
	assert_string_equal(s.last_target, "/b");
	/* a body that looks like a request is not one */
	assert_int_equal(feed_all_ways("POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
				       "Content-Length: 35\r\n\r\n"
				       "POST /evil HTTP/1.1\r\nHost: x\r\n\r\n",
				       &s),
			 0);
	assert_int_equal(s.heads, 1);
	/* HTTP/1.0 needs no Host */
	assert_int_equal(feed_all_ways("GET / HTTP/1.0\r\n\r\n", &s), 0);
}

static void test_gate_credentials_before_body(void **state)
{
	(void)state;
	seen s = {0};
	/* refused as soon as the head is complete: the body never matters */
	assert_int_equal(feed_all_ways("POST /v1/events HTTP/1.1\r\nHost: x\r\n"
				       "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
				       &s),
			 401);
	assert_int_equal(s.heads, 1);
	/* the second pipelined request without a key is refused too */
	assert_int_equal(feed_all_ways("POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
				       "Content-Length: 1\r\n\r\nx"
				       "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx",
				       &s),
			 401);
	assert_int_equal(s.heads, 2);
}

static void test_gate_refuses_ambiguous_framing(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2 2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "GET / HTTP/1.1\nHost: x\n\n",
	    "GET / HTTP/1.1\r\nHost: x\n\r\n",
	    "GET / HTTP/1.1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nX: 1\r\n folded\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 1\r\n\r\n",
	    "GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
	    "GET\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		seen s = {0};
		int st = feed_all_ways(bad[i], &s);
		if (st != 400 && st != 505)
			fail_msg("case %zu passed: %s", i, bad[i]);
		assert_int_equal(s.heads, 0); /* refused before the check */
	}
	/* identical Content-Lengths are one length */
	seen s = {0};
	assert_int_equal(feed_all_ways("POST / HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
				       "Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
				       &s),
			 0);
}

static void test_gate_chunks(void **state)
{
	(void)state;
	seen s = {0};
	const char *req = "POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n"
			  "5;name=value\r\nhello\r\n3 ; x\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"
			  "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(feed_all_ways(req, &s), 0);
	assert_int_equal(s.heads, 2);
	assert_string_equal(s.last_target, "/next");
	/* the extensions are blanked in place, whatever the read boundaries */
	char out[512], out1[512];
	assert_int_equal(feed(req, 0, &s, out), 0);
	assert_int_equal(feed(req, 1, &s, out1), 0);
	assert_string_equal(out, out1);
	assert_non_null(strstr(out, "5           \r\nhello\r\n3    \r\nabc"));
	/* malformed chunks */
	static const char *const bad[] = {
	    "POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n",
	    "POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nabc\r\n",
	    "POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\nab\r\n",
	    "POST /a HTTP/1.1\r\nHost: x\r\nx-key: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "ffffffffffffffffff\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(feed_all_ways(bad[i], &s), 400);
}

static void test_gate_head_cap(void **state)
{
	(void)state;
	char big[6000];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX: ", 28);
	big[sizeof(big) - 1] = '\0';
	seen s = {0};
	assert_int_equal(feed_all_ways(big, &s), 400); /* 4096 bytes at most */
	assert_int_equal(s.heads, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gate_passes_plain_requests),
    cmocka_unit_test(test_gate_credentials_before_body),
    cmocka_unit_test(test_gate_refuses_ambiguous_framing),
    cmocka_unit_test(test_gate_chunks),
    cmocka_unit_test(test_gate_head_cap),
};

HK_TEST_MAIN(tests)
