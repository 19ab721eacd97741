/* awsxml: safe parsing, caps, error envelopes, reader helpers. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"

static hk_err parse_error_str(const char *s, awsxml_error *e)
{
	hk_errinfo ei = {0};
	return awsxml_parse_error(s, strlen(s), e, &ei);
}

static void xml_ec2_error_envelope(void **state)
{
	const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<Response><Errors><Error><Code>InvalidIPAddress.InUse</Code>"
			   "<Message>Address 10.0.0.5 is in use.</Message></Error>"
			   "<Error><Code>Second</Code></Error></Errors>"
			   "<RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>";
	awsxml_error e = {0};
	assert_int_equal(parse_error_str(body, &e), HK_OK);
	assert_string_equal(e.code, "InvalidIPAddress.InUse");
	assert_string_equal(e.message, "Address 10.0.0.5 is in use.");
	assert_string_equal(e.request_id, "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");
	assert_null(e.type);
	awsxml_error_cleanup(&e);
	assert_null(e.code);
}

static void xml_query_error_envelope(void **state)
{
	const char *body =
	    "<ErrorResponse xmlns=\"https://autoscaling.amazonaws.com/doc/2011-01-01/\">"
	    "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
	    "</Error><RequestId>1d3c5a3b-0000</RequestId></ErrorResponse>";
	awsxml_error e = {0};
	assert_int_equal(parse_error_str(body, &e), HK_OK);
	assert_string_equal(e.code, "Throttling");
	assert_string_equal(e.message, "Rate exceeded");
	assert_string_equal(e.type, "Sender");
	assert_string_equal(e.request_id, "1d3c5a3b-0000");
	awsxml_error_cleanup(&e);
}

static void xml_moto_errors_envelope(void **state)
{
	/* moto's shape: ErrorResponse/Errors/Error, no request id. */
	const char *body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors>"
			   "<Error><Code>AuthFailure</Code><Message>AWS was not able to validate "
			   "the provided access credentials</Message><Type>Sender</Type></Error>"
			   "</Errors></ErrorResponse>";
	awsxml_error e = {0};
	assert_int_equal(parse_error_str(body, &e), HK_OK);
	assert_string_equal(e.code, "AuthFailure");
	assert_null(e.request_id);
	awsxml_error_cleanup(&e);
}

static void xml_error_without_code_is_not_an_envelope(void **state)
{
	awsxml_error e = {0};
	assert_int_equal(parse_error_str("<Response><Errors><Error><Message>x</Message></Error>"
					 "</Errors></Response>",
					 &e),
			 HK_ERR_NOT_FOUND);
	assert_int_equal(parse_error_str("<DescribeVpcsResponse/>", &e), HK_ERR_NOT_FOUND);
	assert_int_equal(parse_error_str("<Response><Errors><Error><Code></Code></Error></Errors>"
					 "</Response>",
					 &e),
			 HK_ERR_NOT_FOUND);
	assert_null(e.code);
}

static void xml_non_xml_5xx_page(void **state)
{
	const char *html = "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title>"
			   "</head><body><h1>Internal Server Error</h1><p>The server encountered "
			   "an internal error<br></p></body></html>";
	awsxml_error e = {0};
	hk_errinfo ei = {0};
	assert_int_equal(awsxml_parse_error(html, strlen(html), &e, &ei), HK_ERR_PARSE);
	assert_null(e.code);
	assert_true(ei.text[0] != '\0');
	const char *plain = "upstream connect error or disconnect/reset before headers";
	assert_int_equal(awsxml_parse_error(plain, strlen(plain), &e, &ei), HK_ERR_PARSE);
}

static void xml_truncated(void **state)
{
	const char *full = "<Response><Errors><Error><Code>InternalError</Code><Message>An "
			   "internal error has occurred</Message></Error></Errors>"
			   "<RequestID>abc</RequestID></Response>";
	size_t n = strlen(full);
	/* Every proper prefix is refused, none crashes. */
	for (size_t cut = 0; cut < n; cut++) {
		xmlDocPtr doc = NULL;
		hk_errinfo ei = {0};
		hk_err err = awsxml_parse(full, cut, &doc, &ei);
		assert_int_equal(err, HK_ERR_PARSE);
		assert_null(doc);
	}
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse(full, n, &doc, NULL), HK_OK);
	xmlFreeDoc(doc);
}

static char *nested(unsigned depth)
{
	char *s = malloc(depth * 7 + 8);
	char *w = s;
	for (unsigned i = 0; i < depth; i++)
		w += snprintf(w, 4, "<a>");
	w += snprintf(w, 2, "x");
	for (unsigned i = 0; i < depth; i++)
		w += snprintf(w, 5, "</a>");
	return s;
}

static void xml_too_deep(void **state)
{
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	char *ok = nested(HK_CAP_XML_DEPTH);
	assert_int_equal(awsxml_parse(ok, strlen(ok), &doc, &ei), HK_OK);
	xmlFreeDoc(doc);
	doc = NULL;
	char *deep = nested(HK_CAP_XML_DEPTH + 1);
	assert_int_equal(awsxml_parse(deep, strlen(deep), &doc, &ei), HK_ERR_TOO_LARGE);
	assert_null(doc);
	assert_non_null(strstr(ei.text, "deeper"));
	/* Far beyond libxml2's own limit: still a clean refusal. */
	char *very = nested(5000);
	hk_err err = awsxml_parse(very, strlen(very), &doc, &ei);
	assert_true(err == HK_ERR_TOO_LARGE || err == HK_ERR_PARSE);
	assert_null(doc);
	free(ok);
	free(deep);
	free(very);
}

static void xml_oversized_body(void **state)
{
	size_t len = HK_CAP_AWS_RESPONSE_BODY + 1;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "<a>", 3);
	memcpy(big + len - 4, "</a>", 4);
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(awsxml_parse(big, len, &doc, &ei), HK_ERR_TOO_LARGE);
	assert_null(doc);
	free(big);
}

static void xml_billion_laughs_refused(void **state)
{
	const char *bomb =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n<Response><Errors><Error><Code>&lol9;</Code></Error></Errors>"
	    "</Response>";
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(awsxml_parse(bomb, strlen(bomb), &doc, &ei), HK_ERR_PARSE);
	assert_null(doc);
	assert_non_null(strstr(ei.text, "DOCTYPE"));
	awsxml_error e = {0};
	assert_int_equal(awsxml_parse_error(bomb, strlen(bomb), &e, &ei), HK_ERR_PARSE);
	assert_null(e.code);
}

static void xml_external_entity_refused(void **state)
{
	/* Neither a local file nor a network URL may be read. */
	const char *xxe[] = {
	    "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	    "<Response><Errors><Error><Code>&x;</Code></Error></Errors></Response>",
	    "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"http://127.0.0.1:9/evil.dtd\">"
	    "<Response/>",
	    "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x\"> "
	    "%p;]>"
	    "<Response/>",
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(xxe); i++) {
		xmlDocPtr doc = NULL;
		hk_errinfo ei = {0};
		assert_int_equal(awsxml_parse(xxe[i], strlen(xxe[i]), &doc, &ei), HK_ERR_PARSE);
		assert_null(doc);
	}
	/* An undeclared entity without a DTD is simply malformed. */
	const char *undeclared = "<Response><Code>&x;</Code></Response>";
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse(undeclared, strlen(undeclared), &doc, NULL), HK_ERR_PARSE);
}

static void xml_empty_and_garbage(void **state)
{
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse("", 0, &doc, NULL), HK_ERR_PARSE);
	assert_int_equal(awsxml_parse(NULL, 0, &doc, NULL), HK_ERR_PARSE);
	const char nul[] = "<a>\0</a>";
	assert_int_equal(awsxml_parse(nul, sizeof(nul) - 1, &doc, NULL), HK_ERR_PARSE);
	assert_int_equal(awsxml_parse("<a></b>", 7, &doc, NULL), HK_ERR_PARSE);
	assert_int_equal(awsxml_parse("<a/><b/>", 8, &doc, NULL), HK_ERR_PARSE);
	assert_null(doc);
}

static void xml_reader_helpers(void **state)
{
	const char *body =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeSubnetsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	    "  <requestId>req-1</requestId>\n"
	    "  <subnetSet>\n"
	    "    <item><subnetId>subnet-1</subnetId><availableIpAddressCount>251"
	    "</availableIpAddressCount><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>"
	    "<tagSet><item><key>a&amp;b</key><value><![CDATA[x<y]]> &lt;z&gt;</value></item>"
	    "</tagSet></item>\n"
	    "    <other/>\n"
	    "    <item><subnetId>subnet-2</subnetId><availableIpAddressCount>-1"
	    "</availableIpAddressCount><mapPublicIpOnLaunch>yes</mapPublicIpOnLaunch>"
	    "<empty></empty></item>\n"
	    "  </subnetSet>\n"
	    "  <nextToken>tok</nextToken>\n"
	    "</DescribeSubnetsResponse>";
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(awsxml_parse(body, strlen(body), &doc, &ei), HK_OK);
	xmlNode *root = awsxml_root(doc);
	assert_true(awsxml_is(root, "DescribeSubnetsResponse"));
	assert_string_equal(awsxml_request_id(doc), "req-1");
	assert_string_equal(awsxml_child_text(root, "nextToken"), "tok");
	xmlNode *set = awsxml_child(root, "subnetSet");
	assert_int_equal(awsxml_count_named(set, "item"), 2);
	xmlNode *it = awsxml_first_named(set, "item");
	assert_string_equal(awsxml_child_text(it, "subnetId"), "subnet-1");
	unsigned long long u = 0;
	assert_int_equal(awsxml_u64(awsxml_child(it, "availableIpAddressCount"), &u), HK_OK);
	assert_int_equal(u, 251);
	int b = -1;
	assert_int_equal(awsxml_bool(awsxml_child(it, "mapPublicIpOnLaunch"), &b), HK_OK);
	assert_int_equal(b, 0);
	xmlNode *tag = awsxml_path(it, "tagSet", "item", NULL);
	assert_string_equal(awsxml_child_text(tag, "key"), "a&b");
	/* CDATA and entity text merged into one node. */
	assert_string_equal(awsxml_child_text(tag, "value"), "x<y <z>");
	it = awsxml_next_named(it, "item");
	assert_non_null(it);
	assert_string_equal(awsxml_child_text(it, "subnetId"), "subnet-2");
	assert_int_equal(awsxml_u64(awsxml_child(it, "availableIpAddressCount"), &u), HK_ERR_PARSE);
	assert_int_equal(u, 251); /* untouched */
	long long s = 0;
	assert_int_equal(awsxml_i64(awsxml_child(it, "availableIpAddressCount"), &s), HK_OK);
	assert_int_equal(s, -1);
	assert_int_equal(awsxml_bool(awsxml_child(it, "mapPublicIpOnLaunch"), &b), HK_ERR_PARSE);
	assert_string_equal(awsxml_child_text(it, "empty"), "");
	assert_null(awsxml_child_text(it, "absent"));
	assert_int_equal(awsxml_u64(awsxml_child(it, "absent"), &u), HK_ERR_NOT_FOUND);
	assert_null(awsxml_next_named(it, "item"));
	assert_null(awsxml_child(NULL, "x"));
	assert_null(awsxml_path(root, "subnetSet", "nope", "item", NULL));
	xmlFreeDoc(doc);
}

static void xml_query_request_id(void **state)
{
	const char *body =
	    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\"><GetCallerIdentityResult><Account>123456789012</Account>"
	    "</GetCallerIdentityResult><ResponseMetadata><RequestId>rid-9</RequestId>"
	    "</ResponseMetadata></GetCallerIdentityResponse>";
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse(body, strlen(body), &doc, NULL), HK_OK);
	assert_string_equal(awsxml_request_id(doc), "rid-9");
	assert_string_equal(
	    awsxml_child_text(awsxml_child(awsxml_root(doc), "GetCallerIdentityResult"), "Account"),
	    "123456789012");
	xmlFreeDoc(doc);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(xml_ec2_error_envelope),
    cmocka_unit_test(xml_query_error_envelope),
    cmocka_unit_test(xml_moto_errors_envelope),
    cmocka_unit_test(xml_error_without_code_is_not_an_envelope),
    cmocka_unit_test(xml_non_xml_5xx_page),
    cmocka_unit_test(xml_truncated),
    cmocka_unit_test(xml_too_deep),
    cmocka_unit_test(xml_oversized_body),
    cmocka_unit_test(xml_billion_laughs_refused),
    cmocka_unit_test(xml_external_entity_refused),
    cmocka_unit_test(xml_empty_and_garbage),
    cmocka_unit_test(xml_reader_helpers),
    cmocka_unit_test(xml_query_request_id),
};

HK_TEST_MAIN(tests)
