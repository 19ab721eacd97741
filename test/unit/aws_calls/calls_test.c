#include "calls_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "awsxml.h"
#include "hk_test.h"

ct_fake ct_f;
awc_client *CT_CLIENT;

char *ct_load(const char *rel, size_t *ret_len)
{
	const char *dir = getenv("HK_AWS_DATA");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : HK_AWS_DATA_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

xmlDocPtr ct_doc(const char *rel)
{
	size_t len;
	char *buf = ct_load(rel, &len);
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	hk_err err = awsxml_parse(buf, len, &doc, &ei);
	free(buf);
	if (err)
		fail_msg("%s: %s", rel, ei.text);
	return doc;
}

json_t *ct_json(const char *rel)
{
	size_t len;
	char *buf = ct_load(rel, &len);
	json_error_t je;
	json_t *j = json_loadb(buf, len, 0, &je);
	free(buf);
	if (!j)
		fail_msg("%s: %s", rel, je.text);
	return j;
}

void *ct_read(const cq_spec *spec, const char *rel, const char **ret_next)
{
	void *out = NULL;
	hk_errinfo ei = {0};
	hk_err err;
	if (spec->read_json) {
		json_t *j = ct_json(rel);
		err = cq_read_json_once(spec, j, &out, &ei);
		json_decref(j);
	} else {
		xmlDocPtr doc = ct_doc(rel);
		const char *next = NULL;
		err = cq_read_xml_once(spec, doc, &out, &next, &ei);
		/* The token is borrowed from the document: copy it into the result. */
		if (ret_next)
			*ret_next = next && out ? cq_strdup(cq_arena_of(out), next) : NULL;
		xmlFreeDoc(doc);
	}
	if (err)
		fail_msg("%s: %s: %s", rel, hk_err_str(err), ei.text);
	return out;
}

hk_err ct_read_fail(const cq_spec *spec, const char *rel, hk_errinfo *ei)
{
	void *out = NULL;
	hk_err err;
	if (spec->read_json) {
		json_t *j = ct_json(rel);
		err = cq_read_json_once(spec, j, &out, ei);
		json_decref(j);
	} else {
		xmlDocPtr doc = ct_doc(rel);
		err = cq_read_xml_once(spec, doc, &out, NULL, ei);
		xmlFreeDoc(doc);
	}
	if (err == HK_OK) {
		ct_free(out);
		fail_msg("%s: read succeeded, expected an error", rel);
	}
	return err;
}

void ct_free(const void *out)
{
	cq_arena_free(cq_arena_of(out));
}

void ct_expect_params(const query_params *p, const char *const *expected)
{
	size_t n = 0;
	while (expected[n])
		n++;
	size_t got = query_params_count(p);
	for (size_t i = 0; i < got || i < n; i++) {
		char have[512] = "(none)";
		if (i < got)
			snprintf(have, sizeof(have), "%s=%s", query_params_name(p, i),
				 query_params_value(p, i));
		const char *want = i < n ? expected[i] : "(none)";
		if (strcmp(have, want) != 0)
			fail_msg("parameter %zu: got '%s', expected '%s'", i + 1, have, want);
	}
}

/* ---- fake transport --------------------------------------------------------- */

typedef struct ct_pending {
	awc_done_fn done;
	void *arg;
	unsigned index; /* request number */
	bool json;
} ct_pending;

static char *endless_page(unsigned index)
{
	char *buf = malloc(512);
	assert_non_null(buf);
	snprintf(buf, 512,
		 "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
		 "<networkInterfaceId>eni-%u</networkInterfaceId><subnetId>s</subnetId>"
		 "<status>available</status></item></networkInterfaceSet>"
		 "<nextToken>tok-%u</nextToken></DescribeNetworkInterfacesResponse>",
		 index, ct_f.same_token ? 0u : index);
	return buf;
}

static void ct_answer(evutil_socket_t fd, short what, void *arg)
{
	ct_pending *pd = arg;
	ct_f.pending--;
	awc_result r;
	memset(&r, 0, sizeof(r));
	r.attempts = 1;
	r.request_id = "fake-request-id";
	r.errtext = "";
	xmlDocPtr doc = NULL;
	json_t *json = NULL;
	if (ct_f.fail_err) {
		r.err = ct_f.fail_err;
		r.aws_code = ct_f.fail_code;
		r.aws_message = ct_f.fail_code ? "recorded AWS message" : NULL;
		r.http_status = ct_f.fail_status;
		r.errtext = "fake failure";
	} else if (ct_f.endless) {
		char *page = endless_page(pd->index);
		hk_errinfo ei;
		assert_int_equal(awsxml_parse(page, strlen(page), &doc, &ei), HK_OK);
		free(page);
		r.http_status = 200;
		r.doc = doc;
	} else {
		assert_true(ct_f.n_pages > 0);
		size_t i = pd->index < ct_f.n_pages ? pd->index : ct_f.n_pages - 1;
		const char *rel = ct_f.pages[i];
		r.http_status = 200;
		if (strstr(rel, ".json")) {
			json = ct_json(rel);
			r.json = json;
		} else {
			doc = ct_doc(rel);
			r.doc = doc;
		}
	}
	pd->done(&r, pd->arg);
	xmlFreeDoc(doc);
	json_decref(json);
	free(pd);
}

static hk_err ct_enqueue(awc_done_fn done, void *arg, const awc_call_opts *opts, bool json)
{
	if (ct_f.refuse && ct_f.requests >= ct_f.refuse_at)
		return ct_f.refuse;
	unsigned idx = ct_f.requests++;
	if (idx < CT_MAX_PAGES)
		ct_f.idempotent[idx] = opts->idempotent;
	ct_f.timeout_ms = opts->timeout_ms;
	if (ct_f.hold)
		return HK_OK;
	ct_pending *pd = calloc(1, sizeof(*pd));
	assert_non_null(pd);
	pd->done = done;
	pd->arg = arg;
	pd->index = idx;
	pd->json = json;
	struct timeval tv = {0, 0};
	assert_int_equal(event_base_once(ct_f.base, -1, EV_TIMEOUT, ct_answer, pd, &tv), 0);
	ct_f.pending++;
	return HK_OK;
}

static hk_err ct_query(awc_client *c, awc_service svc, const query_params *p,
		       const char *next_token, const awc_call_opts *opts, awc_done_fn done,
		       void *arg)
{
	assert_ptr_equal(c, CT_CLIENT);
	unsigned idx = ct_f.requests;
	if (idx < CT_MAX_PAGES) {
		snprintf(ct_f.next_tokens[idx], sizeof(ct_f.next_tokens[idx]), "%s",
			 next_token ? next_token : "");
		snprintf(ct_f.actions[idx], sizeof(ct_f.actions[idx]), "%s",
			 query_get(p, "Action"));
	}
	/* The real conversion must work too (query.c). */
	query_params *q = NULL;
	assert_int_equal(cq_page_params(p, next_token, &q), HK_OK);
	if (next_token)
		assert_string_equal(query_get(q, "NextToken"), next_token);
	query_params_free(q);
	return ct_enqueue(done, arg, opts, false);
}

static hk_err ct_json_call(awc_client *c, awc_service svc, const char *target, const json_t *body,
			   const awc_call_opts *opts, awc_done_fn done, void *arg)
{
	assert_ptr_equal(c, CT_CLIENT);
	assert_int_equal(svc, AWC_SVC_SQS);
	snprintf(ct_f.target, sizeof(ct_f.target), "%s", target);
	free(ct_f.json_body);
	ct_f.json_body = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
	return ct_enqueue(done, arg, opts, true);
}

static const cq_transport ct_transport = {.query = ct_query, .json = ct_json_call};

static const char *ct_no_env(const char *name, void *arg)
{
	(void)name;
	(void)arg;
	return NULL;
}

void ct_fake_setup(void)
{
	memset(&ct_f, 0, sizeof(ct_f));
	ct_f.base = event_base_new();
	assert_non_null(ct_f.base);
	/* A real client whose typed calls go to the fake transport: no AWS, no
	 * credentials (nothing is signed). */
	awc_config cfg = {.region = "us-east-1", .env = ct_no_env, .call_transport = &ct_transport};
	assert_int_equal(awc_client_new(ct_f.base, &cfg, &CT_CLIENT), HK_OK);
}

void ct_run(void)
{
	assert_int_not_equal(event_base_dispatch(ct_f.base), -1);
}

void ct_fake_teardown(void)
{
	awc_client_free(CT_CLIENT);
	CT_CLIENT = NULL;
	event_base_free(ct_f.base);
	free(ct_f.json_body);
	memset(&ct_f, 0, sizeof(ct_f));
}
