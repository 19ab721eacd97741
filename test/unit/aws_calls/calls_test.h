/* Helpers for the typed-call unit tests: recorded responses from
 * test/data/aws (HK_AWS_DATA_DIR, or $HK_AWS_DATA), exact parameter-list checks, and a
 * fake transport that answers from the event loop with recorded pages. */
#ifndef CALLS_TEST_H
#define CALLS_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "calls_internal.h"

/* The bytes of test/data/aws/<rel> (NUL-terminated); fails the test if absent. */
char *ct_load(const char *rel, size_t *ret_len);
/* Parse test/data/aws/<rel> with the core's awsxml_parse (as awc.c does). */
xmlDocPtr ct_doc(const char *rel);
json_t *ct_json(const char *rel);
/* Read one recorded page with `spec`'s reader; asserts HK_OK. Free the result
 * with ct_free(). */
void *ct_read(const cq_spec *spec, const char *rel, const char **ret_next);
/* Read expecting failure: returns the error and copies its text into ei. */
hk_err ct_read_fail(const cq_spec *spec, const char *rel, hk_errinfo *ei);
void ct_free(const void *out);

/* Assert that `p` is exactly the NULL-terminated list of "Name=Value" strings. */
void ct_expect_params(const query_params *p, const char *const *expected);
#define CT_PARAMS(p, ...) ct_expect_params((p), (const char *const[]){__VA_ARGS__, NULL})

/* ---- the fake transport --------------------------------------------------- */

#define CT_MAX_PAGES 32

typedef struct ct_fake {
	struct event_base *base;
	/* Served in order, one per request (the last repeats). A name ending in
	 * ".json" is served as JSON. */
	const char *pages[CT_MAX_PAGES];
	size_t n_pages;
	/* Instead of pages: answer every request with this error. */
	hk_err fail_err;
	const char *fail_code;
	long fail_status;
	/* Instead of pages: an endless paginated DescribeNetworkInterfaces. */
	bool endless;
	bool same_token; /* endless, but always the same token */
	/* Never answer (the call stays in flight). */
	bool hold;
	/* Refuse the request at once with this error (0 = accept), from request
	 * number refuse_at on (0 = the first). */
	hk_err refuse;
	unsigned refuse_at;
	/* What was asked. */
	unsigned requests;
	char next_tokens[CT_MAX_PAGES][64]; /* NextToken of each request ("" = none) */
	char actions[CT_MAX_PAGES][64];
	char target[64];
	bool idempotent[CT_MAX_PAGES];
	long timeout_ms;
	char *json_body; /* last JSON body, serialised with sorted keys */
	unsigned pending;
} ct_fake;

extern ct_fake ct_f;
extern awc_client *CT_CLIENT;

/* Install the fake (fresh state, a new event base, CT_CLIENT: a client whose
 * typed calls use the fake transport). */
void ct_fake_setup(void);
/* Run the loop until nothing is pending. */
void ct_run(void);
/* Free the client and the base. */
void ct_fake_teardown(void);

#endif
