/* aws/query.c: AWS Query parameter lists and RFC 3986 form encoding. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>

#include "query.h"

static char *encode(const query_params *p)
{
	char *body = NULL;
	size_t len = 0;
	assert_int_equal(query_encode(p, &body, &len), HK_OK);
	assert_non_null(body);
	assert_int_equal(len, strlen(body));
	return body;
}

static void expect_body(const query_params *p, const char *want)
{
	char *body = encode(p);
	assert_string_equal(body, want);
	free(body);
}

static void test_action_version_first(void **state)
{
	(void)state;
	query_params *p = query_params_new("DescribeSubnets", "2016-11-15");
	assert_non_null(p);
	expect_body(p, "Action=DescribeSubnets&Version=2016-11-15");
	assert_string_equal(query_get(p, "Action"), "DescribeSubnets");
	assert_string_equal(query_get(p, "Version"), "2016-11-15");
	assert_null(query_get(p, "SubnetId.1"));
	query_params_free(p);
	query_params_free(NULL);
	assert_null(query_params_new(NULL, "v"));
	assert_null(query_params_new("A", ""));
}

/* Insertion order, not sorted: botocore's order (docs/aws-signing.md). */
static void test_insertion_order(void **state)
{
	(void)state;
	query_params *p = query_params_new("X", "1");
	assert_int_equal(query_add(p, "Zeta", "z"), HK_OK);
	assert_int_equal(query_add(p, "Alpha", "a"), HK_OK);
	assert_int_equal(query_add(p, "Mid", "m"), HK_OK);
	expect_body(p, "Action=X&Version=1&Zeta=z&Alpha=a&Mid=m");
	query_params_free(p);
}

static void test_lists(void **state)
{
	(void)state;
	query_params *p = query_params_new("DescribeNetworkInterfaces", "2016-11-15");
	const char *filters[][3] = {{"subnet-id", "subnet-1", "subnet-2"},
				    {"tag:owner", "hookd", NULL}};
	for (unsigned n = 0; n < 2; n++) {
		assert_int_equal(query_addf(p, filters[n][0], "Filter.%u.Name", n + 1), HK_OK);
		for (unsigned m = 1; m < 3 && filters[n][m]; m++)
			assert_int_equal(
			    query_addf(p, filters[n][m], "Filter.%u.Value.%u", n + 1, m), HK_OK);
	}
	assert_int_equal(query_addf(p, "i-1", "AutoScalingGroupNames.member.%u", 1u), HK_OK);
	assert_int_equal(query_addf(p, "network-interface", "TagSpecification.%u.ResourceType", 1u),
			 HK_OK);
	assert_int_equal(query_addf(p, "k", "TagSpecification.%u.Tag.%u.Key", 1u, 1u), HK_OK);
	assert_int_equal(query_addf(p, "v", "TagSpecification.%u.Tag.%u.Value", 1u, 1u), HK_OK);
	expect_body(p,
		    "Action=DescribeNetworkInterfaces&Version=2016-11-15"
		    "&Filter.1.Name=subnet-id&Filter.1.Value.1=subnet-1&Filter.1.Value.2=subnet-2"
		    "&Filter.2.Name=tag%3Aowner&Filter.2.Value.1=hookd"
		    "&AutoScalingGroupNames.member.1=i-1"
		    "&TagSpecification.1.ResourceType=network-interface"
		    "&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v");
	assert_string_equal(query_get(p, "Filter.1.Value.2"), "subnet-2");
	query_params_free(p);
}

static void test_reserved_and_unreserved(void **state)
{
	(void)state;
	/* Every printable ASCII character, against an independently written table. */
	char all[96];
	for (int c = 0x20; c < 0x7f; c++)
		all[c - 0x20] = (char)c;
	all[95] = '\0';
	query_params *p = query_params_new("A", "1");
	assert_int_equal(query_add(p, "V", all), HK_OK);
	expect_body(p, "Action=A&Version=1&V="
		       "+%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F"
		       "%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz"
		       "%7B%7C%7D~");
	query_params_free(p);
}

static void test_unicode_and_names(void **state)
{
	(void)state;
	query_params *p = query_params_new("A", "1");
	/* U+00FC, U+1234, U+1F600 as UTF-8, also in a name. */
	assert_int_equal(query_add(p, "Tag.\xc3\xbc", "\xc3\xbc \xe1\x88\xb4\xf0\x9f\x98\x80"),
			 HK_OK);
	expect_body(p, "Action=A&Version=1&Tag.%C3%BC=%C3%BC+%E1%88%B4%F0%9F%98%80");
	query_params_free(p);
}

static void test_empty_values(void **state)
{
	(void)state;
	query_params *p = query_params_new("A", "1");
	assert_int_equal(query_add(p, "Empty", ""), HK_OK);
	assert_int_equal(query_add(p, "After", "x"), HK_OK);
	expect_body(p, "Action=A&Version=1&Empty=&After=x");
	assert_string_equal(query_get(p, "Empty"), "");
	query_params_free(p);
}

static void test_duplicates_and_set(void **state)
{
	(void)state;
	query_params *p = query_params_new("DescribeSubnets", "2016-11-15");
	assert_int_equal(query_add(p, "MaxResults", "5"), HK_OK);
	assert_int_equal(query_add(p, "MaxResults", "6"), HK_ERR_EXISTS);
	assert_int_equal(query_addf(p, "7", "Max%s", "Results"), HK_ERR_EXISTS);
	assert_int_equal(query_add(p, "Action", "Other"), HK_ERR_EXISTS);
	/* query_set: new name appended, existing one replaced in place. */
	assert_int_equal(query_set(p, "NextToken", "t1"), HK_OK);
	assert_int_equal(query_add(p, "Z", "z"), HK_OK);
	assert_int_equal(query_set(p, "NextToken", "t2/+="), HK_OK);
	expect_body(p, "Action=DescribeSubnets&Version=2016-11-15&MaxResults=5"
		       "&NextToken=t2%2F%2B%3D&Z=z");
	query_params_free(p);
}

static void test_invalid_arguments(void **state)
{
	(void)state;
	query_params *p = query_params_new("A", "1");
	assert_int_equal(query_add(p, "", "x"), HK_ERR_INVALID);
	assert_int_equal(query_add(p, NULL, "x"), HK_ERR_INVALID);
	assert_int_equal(query_add(p, "N", NULL), HK_ERR_INVALID);
	assert_int_equal(query_add(NULL, "N", "x"), HK_ERR_INVALID);
	assert_int_equal(query_addf(p, "x", "%s", ""), HK_ERR_INVALID);
	assert_int_equal(query_set(p, "", "x"), HK_ERR_INVALID);
	assert_null(query_get(NULL, "Action"));
	char *out = (char *)"untouched";
	assert_int_equal(query_encode(NULL, &out, NULL), HK_ERR_INVALID);
	assert_string_equal(out, "untouched");
	assert_int_equal(query_pct_encode(NULL, 1, &out), HK_ERR_INVALID);
	expect_body(p, "Action=A&Version=1");
	query_params_free(p);
}

static void test_long_names(void **state)
{
	(void)state;
	query_params *p = query_params_new("A", "1");
	char seg[301];
	memset(seg, 'x', 300);
	seg[300] = '\0';
	assert_int_equal(query_addf(p, "v", "Long.%s.%u", seg, 7u), HK_OK);
	char want[400];
	snprintf(want, sizeof(want), "Long.%s.7", seg);
	assert_string_equal(query_get(p, want), "v");
	char *body = encode(p);
	assert_int_equal(strlen(body), strlen("Action=A&Version=1&") + strlen(want) + 2);
	free(body);
	query_params_free(p);
}

static void test_pct_encode_bytes(void **state)
{
	(void)state;
	char *out;
	const char in[] = {'a', '\0', (char)0xff, ' ', '~', '\n'};
	assert_int_equal(query_pct_encode(in, sizeof(in), &out), HK_OK);
	assert_string_equal(out, "a%00%FF%20~%0A");
	free(out);
	assert_int_equal(query_pct_encode("", 0, &out), HK_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(query_pct_encode(NULL, 0, &out), HK_OK);
	assert_string_equal(out, "");
	free(out);
}

static void test_unfiltered(void **state)
{
	(void)state;
	query_params *p = query_params_new("DescribeInstances", "2016-11-15");
	assert_true(query_is_unfiltered(p));
	assert_int_equal(query_add(p, "DryRun", "true"), HK_OK);
	assert_int_equal(query_add(p, "NextToken", "t"), HK_OK);
	assert_true(query_is_unfiltered(p));
	assert_int_equal(query_add(p, "InstanceId.1", "i-1"), HK_OK);
	assert_false(query_is_unfiltered(p));
	query_params_free(p);
	p = query_params_new("DescribeInstances", "2016-11-15");
	assert_int_equal(query_add(p, "MaxResults", "5"), HK_OK);
	assert_false(query_is_unfiltered(p));
	query_params_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_action_version_first),
    cmocka_unit_test(test_insertion_order),
    cmocka_unit_test(test_lists),
    cmocka_unit_test(test_reserved_and_unreserved),
    cmocka_unit_test(test_unicode_and_names),
    cmocka_unit_test(test_empty_values),
    cmocka_unit_test(test_duplicates_and_set),
    cmocka_unit_test(test_invalid_arguments),
    cmocka_unit_test(test_long_names),
    cmocka_unit_test(test_pct_encode_bytes),
    cmocka_unit_test(test_unfiltered),
};

HK_TEST_MAIN(tests)
