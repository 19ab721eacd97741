/* aws/sigv4.c: unit cases, and the botocore goldens (test/golden/sigv4/ (JSON),
 * made by test/golden/gen_sigv4_goldens.py): each golden's parameters are
 * encoded with aws/query.c and signed with aws/sigv4.c, and the body, the sent
 * headers, the canonical request, the string to sign, the signature and the
 * Authorization header must equal botocore's byte for byte. */
#include "hk_test.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "query.h"
#include "sigv4.h"

static const sigv4_creds test_creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				       NULL};

/* 2015-08-30T12:36:00Z, the test suite's time. */
#define SUITE_TIME ((time_t)1440938160)

static hk_err sign_simple(const char *path, const char *query, const sigv4_header *h, size_t nh,
			  sigv4_signed *ret)
{
	sigv4_request req = {
	    .method = "GET", .path = path, .query = query, .headers = h, .n_headers = nh};
	return sigv4_sign(&req, &test_creds, "us-east-1", "service", SUITE_TIME, ret);
}

/* The canonical request's second (URI) or third (query) line. */
static char *cr_line(const sigv4_signed *s, int line)
{
	const char *p = s->canonical_request;
	for (int i = 0; i < line; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	const char *e = strchr(p, '\n');
	assert_non_null(e);
	char *r = strndup(p, (size_t)(e - p));
	assert_non_null(r);
	return r;
}

static const sigv4_header host_only[] = {{"Host", "example.amazonaws.com"}};

static void check_uri(const char *path, bool normalize, const char *want)
{
	sigv4_request req = {.method = "GET",
			     .path = path,
			     .headers = host_only,
			     .n_headers = 1,
			     .no_path_normalize = !normalize};
	sigv4_signed s;
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-east-1", "service", SUITE_TIME, &s),
			 HK_OK);
	char *got = cr_line(&s, 1);
	assert_string_equal(got, want);
	free(got);
	sigv4_signed_cleanup(&s);
}

static void test_uri_normalization(void **state)
{
	(void)state;
	check_uri(NULL, true, "/");
	check_uri("", true, "/");
	check_uri("/", true, "/");
	check_uri("/a/./b/../c//d/", true, "/a/c/d/");
	check_uri("/../../x", true, "/x");
	check_uri("/a/..", true, "/");
	check_uri("/a/.", true, "/a/");
	check_uri("/a/b/..", true, "/a/");
	check_uri("relative/x", true, "/relative/x");
	check_uri("/a b/\xc3\xbc", true, "/a%20b/%C3%BC");
	/* A path already encoded on the wire is encoded again (non-S3 rule). */
	check_uri("/a%20b", true, "/a%2520b");
	check_uri("/-._~", true, "/-._~");
	check_uri("//a//./", false, "//a//./");
}

static void check_query(const char *query, const char *want)
{
	sigv4_signed s;
	assert_int_equal(sign_simple("/", query, host_only, 1, &s), HK_OK);
	char *got = cr_line(&s, 2);
	assert_string_equal(got, want);
	free(got);
	sigv4_signed_cleanup(&s);
}

static void test_query_canonicalization(void **state)
{
	(void)state;
	check_query(NULL, "");
	check_query("", "");
	check_query("b=2&a=1&a=0", "a=0&a=1&b=2");
	check_query("flag", "flag=");
	check_query("a=&b", "a=&b=");
	check_query("a=1&&b=2", "a=1&b=2");
	check_query("x=%7e%7E", "x=~~");
	check_query("x=a+b", "x=a%2Bb");
	check_query("x=%zz&y=%4", "x=%25zz&y=%254");
	check_query("x=a%20b c", "x=a%20b%20c");
	check_query("%E1%88%B4=1&\xe1\x88\xb4=0", "%E1%88%B4=0&%E1%88%B4=1");
	/* Sorted by encoded name: '%' (0x25) sorts before letters. */
	check_query("Param-3=a&Param=b&%41=c", "A=c&Param=b&Param-3=a");
}

static void test_header_canonicalization(void **state)
{
	(void)state;
	const sigv4_header h[] = {
	    {"Host", "example.amazonaws.com"},
	    {"X-B", "  two   words\t\there  "},
	    {"x-a", "first"},
	    {"X-A", "second"},
	    {"X-Empty", "   "},
	    {"X-Fold", "one\r\n  two"},
	    {"Authorization", "old signature: never signed"},
	};
	sigv4_signed s;
	assert_int_equal(sign_simple("/", NULL, h, HK_ARRAY_LEN(h), &s), HK_OK);
	const char *want = "GET\n/\n\n"
			   "host:example.amazonaws.com\n"
			   "x-a:first,second\n"
			   "x-amz-date:20150830T123600Z\n"
			   "x-b:two words here\n"
			   "x-empty:\n"
			   "x-fold:one two\n\n"
			   "host;x-a;x-amz-date;x-b;x-empty;x-fold\n"
			   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	assert_string_equal(s.canonical_request, want);
	assert_non_null(strstr(s.authorization, "SignedHeaders=host;x-a;x-amz-date;x-b;x-empty;"
						"x-fold, Signature="));
	sigv4_signed_cleanup(&s);
}

static void test_clock_and_date_header(void **state)
{
	(void)state;
	sigv4_signed s;
	/* No X-Amz-Date: `now` is the request time. */
	sigv4_request req = {.method = "POST", .path = "/", .headers = host_only, .n_headers = 1};
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-west-2", "ec2", (time_t)1710506096, &s),
			 HK_OK);
	assert_string_equal(s.amz_date, "20240315T123456Z");
	assert_non_null(strstr(s.string_to_sign, "\n20240315/us-west-2/ec2/aws4_request\n"));
	assert_non_null(strstr(s.canonical_request, "\nx-amz-date:20240315T123456Z\n"));
	sigv4_signed_cleanup(&s);

	/* X-Amz-Date in the request wins over `now`. */
	const sigv4_header h[] = {{"Host", "example.amazonaws.com"},
				  {"X-Amz-Date", " 20150830T123600Z "}};
	req.headers = h;
	req.n_headers = 2;
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-west-2", "ec2", (time_t)1710506096, &s),
			 HK_OK);
	assert_string_equal(s.amz_date, "20150830T123600Z");
	assert_non_null(strstr(s.authorization, "Credential=AKIDEXAMPLE/20150830/us-west-2/ec2/"
						"aws4_request, "));
	sigv4_signed_cleanup(&s);
}

static void test_session_token(void **state)
{
	(void)state;
	sigv4_creds c = test_creds;
	c.session_token = "TOKEN/+=";
	sigv4_request req = {.method = "GET", .path = "/", .headers = host_only, .n_headers = 1};
	sigv4_signed a, b;
	assert_int_equal(sigv4_sign(&req, &c, "us-east-1", "service", SUITE_TIME, &a), HK_OK);
	assert_non_null(strstr(a.canonical_request, "\nx-amz-security-token:TOKEN/+=\n"));
	assert_non_null(strstr(a.authorization, "SignedHeaders=host;x-amz-date;"
						"x-amz-security-token, "));
	/* The same token already among the headers: signed once, same signature. */
	const sigv4_header h[] = {{"Host", "example.amazonaws.com"},
				  {"X-Amz-Security-Token", "TOKEN/+="}};
	req.headers = h;
	req.n_headers = 2;
	assert_int_equal(sigv4_sign(&req, &c, "us-east-1", "service", SUITE_TIME, &b), HK_OK);
	assert_string_equal(a.canonical_request, b.canonical_request);
	assert_string_equal(a.signature, b.signature);
	sigv4_signed_cleanup(&a);
	sigv4_signed_cleanup(&b);
	/* "" means no token. */
	c.session_token = "";
	req.headers = host_only;
	req.n_headers = 1;
	assert_int_equal(sigv4_sign(&req, &c, "us-east-1", "service", SUITE_TIME, &a), HK_OK);
	assert_null(strstr(a.canonical_request, "x-amz-security-token"));
	sigv4_signed_cleanup(&a);
}

static void test_invalid_requests(void **state)
{
	(void)state;
	sigv4_signed s;
	memset(&s, 0x5a, sizeof(s));
	sigv4_signed before = s;
	const sigv4_header no_host[] = {{"X-Other", "1"}};
	assert_int_equal(sign_simple("/", NULL, no_host, 1, &s), HK_ERR_INVALID);
	const sigv4_header bad_date[] = {{"Host", "h"}, {"X-Amz-Date", "2015-08-30T12:36:00Z"}};
	assert_int_equal(sign_simple("/", NULL, bad_date, 2, &s), HK_ERR_INVALID);
	const sigv4_header two_dates[] = {
	    {"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}, {"x-amz-date", "20150830T123601Z"}};
	assert_int_equal(sign_simple("/", NULL, two_dates, 3, &s), HK_ERR_INVALID);
	const sigv4_header bad_name[] = {{"Host", "h"}, {"Bad Name", "1"}};
	assert_int_equal(sign_simple("/", NULL, bad_name, 2, &s), HK_ERR_INVALID);
	const sigv4_header null_value[] = {{"Host", "h"}, {"X-A", NULL}};
	assert_int_equal(sign_simple("/", NULL, null_value, 2, &s), HK_ERR_INVALID);
	/* Outputs untouched on failure. */
	assert_memory_equal(&s, &before, sizeof(s));

	sigv4_request req = {.method = "GET", .path = "/", .headers = host_only, .n_headers = 1};
	assert_int_equal(sigv4_sign(&req, &test_creds, "us/east", "service", SUITE_TIME, &s),
			 HK_ERR_INVALID);
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-east-1", "", SUITE_TIME, &s),
			 HK_ERR_INVALID);
	sigv4_creds nokey = {"", "secret", NULL};
	assert_int_equal(sigv4_sign(&req, &nokey, "us-east-1", "service", SUITE_TIME, &s),
			 HK_ERR_INVALID);
	req.method = NULL;
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-east-1", "service", SUITE_TIME, &s),
			 HK_ERR_INVALID);
	req.method = "GET";
	req.body_len = 3; /* body NULL */
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-east-1", "service", SUITE_TIME, &s),
			 HK_ERR_INVALID);
	assert_memory_equal(&s, &before, sizeof(s));
	sigv4_signed_cleanup(NULL);
}

static void test_sha256_and_payload(void **state)
{
	(void)state;
	char hex[65];
	sigv4_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sigv4_sha256_hex(NULL, 0, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sigv4_request req = {.method = "POST",
			     .path = "/",
			     .headers = host_only,
			     .n_headers = 1,
			     .body = "abc",
			     .body_len = 3};
	sigv4_signed s;
	assert_int_equal(sigv4_sign(&req, &test_creds, "us-east-1", "service", SUITE_TIME, &s),
			 HK_OK);
	assert_string_equal(s.payload_hash,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sigv4_signed_cleanup(&s);
}

/* ---- goldens ---- */

static json_t *load_golden(const char *file)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", HK_GOLDEN_DIR, file);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	json_error_t jerr;
	json_t *g = json_load_file(path, 0, &jerr);
	if (!g)
		fail_msg("%s: %s", path, jerr.text);
	return g;
}

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_string(v))
		fail_msg("golden: %s is not a string", key);
	return json_string_value(v);
}

/* Body from the golden's parameter list through query.c. */
static char *golden_body(json_t *g, size_t *ret_len)
{
	json_t *params = json_object_get(g, "params");
	assert_true(json_array_size(params) >= 2);
	const char *action = json_string_value(json_array_get(json_array_get(params, 0), 1));
	const char *version = json_string_value(json_array_get(json_array_get(params, 1), 1));
	assert_string_equal(json_string_value(json_array_get(json_array_get(params, 0), 0)),
			    "Action");
	assert_string_equal(json_string_value(json_array_get(json_array_get(params, 1), 0)),
			    "Version");
	query_params *q = query_params_new(action, version);
	assert_non_null(q);
	for (size_t i = 2; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		assert_int_equal(query_add(q, json_string_value(json_array_get(p, 0)),
					   json_string_value(json_array_get(p, 1))),
				 HK_OK);
	}
	char *body;
	assert_int_equal(query_encode(q, &body, ret_len), HK_OK);
	query_params_free(q);
	return body;
}

static void check_golden(const char *file)
{
	json_t *g = load_golden(file);
	size_t body_len;
	char *body = golden_body(g, &body_len);
	assert_string_equal(body, jstr(g, "body"));

	json_t *creds = json_object_get(g, "credentials");
	json_t *tok = json_object_get(creds, "session_token");
	sigv4_creds c = {jstr(creds, "access_key_id"), jstr(creds, "secret_access_key"),
			 json_is_string(tok) ? json_string_value(tok) : NULL};

	/* The daemon passes Content-Type and Host; the signer adds the rest. */
	json_t *hdrs = json_object_get(g, "headers");
	sigv4_header h[2];
	size_t nh = 0;
	for (size_t i = 0; i < json_array_size(hdrs); i++) {
		const char *name = json_string_value(json_array_get(json_array_get(hdrs, i), 0));
		const char *value = json_string_value(json_array_get(json_array_get(hdrs, i), 1));
		if (!strcmp(name, "Content-Type") || !strcmp(name, "Host")) {
			assert_true(nh < 2);
			h[nh++] = (sigv4_header){name, value};
		}
	}
	assert_int_equal(nh, 2);

	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(jstr(g, "time"), "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_true(end && !*end);
	sigv4_request req = {.method = "POST",
			     .path = "/",
			     .headers = h,
			     .n_headers = nh,
			     .body = body,
			     .body_len = body_len};
	sigv4_signed s;
	assert_int_equal(
	    sigv4_sign(&req, &c, jstr(g, "region"), jstr(g, "service"), timegm(&tm), &s), HK_OK);

	/* Exactly the headers botocore sent, in its order. */
	size_t want_n = c.session_token ? 4 : 3;
	assert_int_equal(json_array_size(hdrs), want_n);
	const char *sent[4][2] = {{"Content-Type", h[0].value},
				  {"Host", h[1].value},
				  {"X-Amz-Date", s.amz_date},
				  {"X-Amz-Security-Token", c.session_token}};
	for (size_t i = 0; i < want_n; i++) {
		json_t *p = json_array_get(hdrs, i);
		assert_string_equal(json_string_value(json_array_get(p, 0)), sent[i][0]);
		assert_string_equal(json_string_value(json_array_get(p, 1)), sent[i][1]);
	}
	assert_string_equal(s.canonical_request, jstr(g, "canonical_request"));
	assert_string_equal(s.string_to_sign, jstr(g, "string_to_sign"));
	assert_string_equal(s.signature, jstr(g, "signature"));
	assert_string_equal(s.authorization, jstr(g, "authorization"));

	sigv4_signed_cleanup(&s);
	free(body);
	json_decref(g);
}

#define GOLDEN(fn, file)                                                                           \
	static void fn(void **state)                                                               \
	{                                                                                          \
		(void)state;                                                                       \
		check_golden(file ".json");                                                        \
	}

static const char *const golden_files[] = {
    "ec2-describe-instances-filters",
    "ec2-describe-instances-filters-token",
    "ec2-create-network-interface",
    "ec2-create-network-interface-token",
    "ec2-modify-network-interface-attribute",
    "ec2-modify-network-interface-attribute-token",
    "ec2-describe-subnets-cn",
    "ec2-describe-subnets-cn-token",
    "autoscaling-complete-lifecycle-action",
    "autoscaling-complete-lifecycle-action-token",
    "sts-get-caller-identity",
    "sts-get-caller-identity-token",
};

GOLDEN(golden_ec2_describe_instances, "ec2-describe-instances-filters")
GOLDEN(golden_ec2_describe_instances_token, "ec2-describe-instances-filters-token")
GOLDEN(golden_ec2_create_eni, "ec2-create-network-interface")
GOLDEN(golden_ec2_create_eni_token, "ec2-create-network-interface-token")
GOLDEN(golden_ec2_modify_eni_attribute, "ec2-modify-network-interface-attribute")
GOLDEN(golden_ec2_modify_eni_attribute_token, "ec2-modify-network-interface-attribute-token")
GOLDEN(golden_ec2_describe_subnets_cn, "ec2-describe-subnets-cn")
GOLDEN(golden_ec2_describe_subnets_cn_token, "ec2-describe-subnets-cn-token")
GOLDEN(golden_asg_complete_lifecycle_action, "autoscaling-complete-lifecycle-action")
GOLDEN(golden_asg_complete_lifecycle_action_token, "autoscaling-complete-lifecycle-action-token")
GOLDEN(golden_sts_get_caller_identity, "sts-get-caller-identity")
GOLDEN(golden_sts_get_caller_identity_token, "sts-get-caller-identity-token")

/* Every golden file on disk has a case above (a new golden cannot be skipped). */
static void golden_all_listed(void **state)
{
	(void)state;
	DIR *d = opendir(HK_GOLDEN_DIR);
	assert_non_null(d);
	struct dirent *de;
	size_t found = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		found++;
		bool listed = false;
		for (size_t i = 0; i < HK_ARRAY_LEN(golden_files); i++)
			if (strlen(golden_files[i]) == n - 5 &&
			    !strncmp(golden_files[i], de->d_name, n - 5))
				listed = true;
		if (!listed)
			fail_msg("golden %s has no test case", de->d_name);
	}
	closedir(d);
	assert_int_equal(found, HK_ARRAY_LEN(golden_files));
}

/* The same CreateNetworkInterface body built the way a typed call builds it,
 * with query_addf list names. */
static void golden_create_eni_built_by_hand(void **state)
{
	(void)state;
	json_t *g = load_golden("ec2-create-network-interface.json");
	query_params *q = query_params_new("CreateNetworkInterface", "2016-11-15");
	assert_non_null(q);
	const char *groups[] = {"sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"};
	const char *tags[][2] = {{"multus-hookd/owner", "i-0123456789abcdef0"},
				 {"Name", "eni f\xc3\xbcr pod-0"},
				 {"empty", ""}};
	assert_int_equal(query_add(q, "SubnetId", "subnet-0123456789abcdef0"), HK_OK);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(query_addf(q, groups[i], "SecurityGroupId.%u", i + 1), HK_OK);
	assert_int_equal(query_add(q, "PrivateIpAddress", "10.0.4.17"), HK_OK);
	assert_int_equal(query_add(q, "Ipv6AddressCount", "1"), HK_OK);
	assert_int_equal(
	    query_add(q, "Description", "multus-hookd: ns/pod-0 (net1) *reserved* chars !'()~"),
	    HK_OK);
	assert_int_equal(query_addf(q, "network-interface", "TagSpecification.%u.ResourceType", 1u),
			 HK_OK);
	for (unsigned m = 0; m < 3; m++) {
		assert_int_equal(
		    query_addf(q, tags[m][0], "TagSpecification.%u.Tag.%u.Key", 1u, m + 1), HK_OK);
		assert_int_equal(
		    query_addf(q, tags[m][1], "TagSpecification.%u.Tag.%u.Value", 1u, m + 1),
		    HK_OK);
	}
	assert_int_equal(query_add(q, "ClientToken", "b6c3a2de-7f10-4c1e-9a5e-0c4d8e2f1a99"),
			 HK_OK);
	char *body;
	size_t len;
	assert_int_equal(query_encode(q, &body, &len), HK_OK);
	assert_string_equal(body, jstr(g, "body"));
	assert_int_equal(len, strlen(jstr(g, "body")));
	free(body);
	query_params_free(q);
	json_decref(g);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_uri_normalization),
    cmocka_unit_test(test_query_canonicalization),
    cmocka_unit_test(test_header_canonicalization),
    cmocka_unit_test(test_clock_and_date_header),
    cmocka_unit_test(test_session_token),
    cmocka_unit_test(test_invalid_requests),
    cmocka_unit_test(test_sha256_and_payload),
    cmocka_unit_test(golden_ec2_describe_instances),
    cmocka_unit_test(golden_ec2_describe_instances_token),
    cmocka_unit_test(golden_ec2_create_eni),
    cmocka_unit_test(golden_ec2_create_eni_token),
    cmocka_unit_test(golden_ec2_modify_eni_attribute),
    cmocka_unit_test(golden_ec2_modify_eni_attribute_token),
    cmocka_unit_test(golden_ec2_describe_subnets_cn),
    cmocka_unit_test(golden_ec2_describe_subnets_cn_token),
    cmocka_unit_test(golden_asg_complete_lifecycle_action),
    cmocka_unit_test(golden_asg_complete_lifecycle_action_token),
    cmocka_unit_test(golden_sts_get_caller_identity),
    cmocka_unit_test(golden_sts_get_caller_identity_token),
    cmocka_unit_test(golden_all_listed),
    cmocka_unit_test(golden_create_eni_built_by_hand),
};

HK_TEST_MAIN(tests)
