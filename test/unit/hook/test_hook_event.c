/* Event parsing: the three wire shapes, TEST_NOTIFICATION, SNS control
 * messages, missing and mistyped fields (named in the error), unknown fields
 * tolerated, size and depth caps. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>

#include "hook_intake.h"

#define TOKEN	 "c613620e-07e2-4ed2-a9e2-ef8258911ade"
#define INSTANCE "i-1234567890abcdef0"

static json_t *detail(const char *transition)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "LifecycleActionToken", TOKEN,
			 "AutoScalingGroupName", "eks-telco-workers-1", "LifecycleHookName",
			 "multus-launch", "EC2InstanceId", INSTANCE, "LifecycleTransition",
			 transition, "NotificationMetadata", "{\"multus\":\"sig\"}", "Origin",
			 "EC2", "Destination", "AutoScalingGroup");
}

static json_t *eventbridge(const char *dt, const char *transition)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:o}", "version", "0", "id",
			 "12345678-1234-1234-1234-123456789012", "detail-type", dt, "source",
			 "aws.autoscaling", "account", "123456789012", "time",
			 "2026-01-02T03:04:05Z", "region", "us-east-1", "resources",
			 "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x", "detail",
			 detail(transition));
}

#define DT_L "EC2 Instance-launch Lifecycle Action"
#define DT_T "EC2 Instance-terminate Lifecycle Action"
#define TR_L "autoscaling:EC2_INSTANCE_LAUNCHING"
#define TR_T "autoscaling:EC2_INSTANCE_TERMINATING"

/* Serialise `o` (reference stolen) and parse it. */
static hk_err parse_obj(json_t *o, hook_event *ev, hk_errinfo *ei)
{
	assert_non_null(o);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(text);
	memset(ei, 0, sizeof(*ei));
	hk_err err = hook_event_parse(text, strlen(text), ev, ei);
	free(text);
	return err;
}

static void expect_error(json_t *o, hk_err want, const char *sub)
{
	hook_event ev;
	hk_errinfo ei;
	hk_err err = parse_obj(o, &ev, &ei);
	if (err == HK_OK)
		hook_event_cleanup(&ev);
	if (err != want || !strstr(ei.text, sub)) {
		print_message("want %s containing \"%s\", got %s: \"%s\"\n", hk_err_str(want), sub,
			      hk_err_str(err), ei.text);
		fail();
	}
}

static void test_eventbridge_launch(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(eventbridge(DT_L, TR_L), &ev, &ei), HK_OK);
	assert_int_equal(ev.kind, HOOK_EVENT_LIFECYCLE);
	assert_int_equal(ev.source, HOOK_SOURCE_EVENTBRIDGE);
	assert_int_equal(ev.transition, HOOK_TRANSITION_LAUNCHING);
	assert_string_equal(ev.event_id, "eventbridge:12345678-1234-1234-1234-123456789012");
	assert_string_equal(ev.token, TOKEN);
	assert_string_equal(ev.asg, "eks-telco-workers-1");
	assert_string_equal(ev.hook, "multus-launch");
	assert_string_equal(ev.instance_id, INSTANCE);
	assert_string_equal(ev.origin, "EC2");
	assert_string_equal(ev.destination, "AutoScalingGroup");
	assert_string_equal(ev.metadata, "{\"multus\":\"sig\"}");
	hook_event_cleanup(&ev);
	assert_null(ev.metadata);
}

static void test_eventbridge_terminate(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(eventbridge(DT_T, TR_T), &ev, &ei), HK_OK);
	assert_int_equal(ev.transition, HOOK_TRANSITION_TERMINATING);
	hook_event_cleanup(&ev);
}

static void test_eventbridge_warm_pool(void **state)
{
	(void)state;
	json_t *o = eventbridge(DT_L, TR_L);
	json_t *d = json_object_get(o, "detail");
	json_object_set_new(d, "Origin", json_string("WarmPool"));
	json_object_set_new(d, "Destination", json_string("AutoScalingGroup"));
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	assert_string_equal(ev.origin, "WarmPool");
	hook_event_cleanup(&ev);
}

static void test_unknown_fields_ok(void **state)
{
	(void)state;
	json_t *o = eventbridge(DT_L, TR_L);
	json_object_set_new(o, "new-top-level", json_pack("{s:[i,i]}", "x", 1, 2));
	json_object_set_new(json_object_get(o, "detail"), "FutureField", json_true());
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	hook_event_cleanup(&ev);
}

static void test_bare_notification(void **state)
{
	(void)state;
	json_t *o = detail(TR_T);
	json_object_set_new(o, "Service", json_string("AWS Auto Scaling"));
	json_object_set_new(o, "AccountId", json_string("123456789012"));
	json_object_set_new(o, "RequestId", json_string("abc"));
	json_object_set_new(o, "Time", json_string("2026-01-02T03:04:05.123Z"));
	json_object_del(o, "NotificationMetadata");
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	assert_int_equal(ev.source, HOOK_SOURCE_NOTIFICATION);
	assert_int_equal(ev.transition, HOOK_TRANSITION_TERMINATING);
	assert_string_equal(ev.event_id, "");
	assert_null(ev.metadata);
	hook_event_cleanup(&ev);
}

static void test_test_notification(void **state)
{
	(void)state;
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "AccountId", "123456789012", "RequestId", "r",
		      "AutoScalingGroupARN", "arn:aws:autoscaling:x", "AutoScalingGroupName", "g",
		      "Service", "AWS Auto Scaling", "Event", "autoscaling:TEST_NOTIFICATION");
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	assert_int_equal(ev.kind, HOOK_EVENT_TEST);
	hook_event_cleanup(&ev);
}

static void test_other_asg_event_rejected(void **state)
{
	(void)state;
	expect_error(json_pack("{s:s,s:s}", "Event", "autoscaling:EC2_INSTANCE_LAUNCH",
			       "AutoScalingGroupName", "g"),
		     HK_ERR_INVALID, "Event: \"autoscaling:EC2_INSTANCE_LAUNCH\"");
}

static json_t *sns(const char *type, json_t *message /* stolen, dumped to a string */)
{
	char *m = message ? json_dumps(message, JSON_COMPACT) : NULL;
	json_decref(message);
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Type", type, "MessageId",
	    "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "TopicArn",
	    "arn:aws:sns:us-east-1:123456789012:hooks", "Timestamp", "2026-01-02T03:04:05.123Z",
	    "SignatureVersion", "2", "Signature", "AAAA", "SigningCertURL",
	    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem");
	if (m)
		json_object_set_new(o, "Message", json_string(m));
	free(m);
	return o;
}

static void test_sns_notification(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(sns("Notification", detail(TR_L)), &ev, &ei), HK_OK);
	assert_int_equal(ev.kind, HOOK_EVENT_LIFECYCLE);
	assert_int_equal(ev.source, HOOK_SOURCE_SNS);
	assert_string_equal(ev.event_id, "sns:22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
	assert_string_equal(ev.instance_id, INSTANCE);
	hook_event_cleanup(&ev);
}

static void test_sns_test_notification(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei;
	json_t *m = json_pack("{s:s}", "Event", "autoscaling:TEST_NOTIFICATION");
	assert_int_equal(parse_obj(sns("Notification", m), &ev, &ei), HK_OK);
	assert_int_equal(ev.kind, HOOK_EVENT_TEST);
	hook_event_cleanup(&ev);
}

static void test_sns_subscription_confirmation(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei;
	json_t *o = sns("SubscriptionConfirmation", NULL);
	json_object_set_new(o, "Message", json_string("You have chosen to subscribe..."));
	json_object_set_new(o, "SubscribeURL",
			    json_string("https://sns.us-east-1.amazonaws.com/?x"));
	json_object_set_new(o, "Token", json_string("2336412f37"));
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	assert_int_equal(ev.kind, HOOK_EVENT_SNS_CONTROL);
	assert_string_equal(ev.sns_type, "SubscriptionConfirmation");
	hook_event_cleanup(&ev);
}

static void test_sns_problems(void **state)
{
	(void)state;
	expect_error(sns("Notification", NULL), HK_ERR_INVALID, "Message: missing");
	json_t *o = sns("Notification", NULL);
	json_object_set_new(o, "Message", json_string("not json"));
	expect_error(o, HK_ERR_PARSE, "Message: not valid JSON");
	expect_error(sns("Bogus", detail(TR_L)), HK_ERR_INVALID, "Type: \"Bogus\"");
	json_t *d = detail(TR_L);
	json_object_del(d, "LifecycleHookName");
	expect_error(sns("Notification", d), HK_ERR_INVALID, "Message.LifecycleHookName: missing");
}

static void test_missing_fields_named(void **state)
{
	(void)state;
	const char *fields[] = {"LifecycleActionToken", "AutoScalingGroupName", "LifecycleHookName",
				"EC2InstanceId", "LifecycleTransition"};
	for (size_t i = 0; i < HK_ARRAY_LEN(fields); i++) {
		json_t *o = eventbridge(DT_L, TR_L);
		json_object_del(json_object_get(o, "detail"), fields[i]);
		char want[96];
		snprintf(want, sizeof(want), "detail.%s: missing (required)", fields[i]);
		expect_error(o, HK_ERR_INVALID, want);
	}
	json_t *o = eventbridge(DT_L, TR_L);
	json_object_del(o, "detail");
	expect_error(o, HK_ERR_INVALID, "detail: missing");
	o = eventbridge(DT_L, TR_L);
	json_object_del(o, "id");
	expect_error(o, HK_ERR_INVALID, "id: missing");
	o = eventbridge(DT_L, TR_L);
	json_object_del(o, "source");
	expect_error(o, HK_ERR_INVALID, "source: missing");
}

static void test_wrong_types(void **state)
{
	(void)state;
	json_t *o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "EC2InstanceId", json_integer(5));
	expect_error(o, HK_ERR_INVALID, "detail.EC2InstanceId: must be a string");
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(o, "detail", json_string("x"));
	expect_error(o, HK_ERR_INVALID, "detail: must be an object");
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(o, "detail-type", json_integer(1));
	expect_error(o, HK_ERR_INVALID, "detail-type: must be a string");
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "NotificationMetadata", json_object());
	expect_error(o, HK_ERR_INVALID, "NotificationMetadata: must be a string");
}

static void test_bad_values(void **state)
{
	(void)state;
	json_t *o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "EC2InstanceId", json_string("i-xyz"));
	expect_error(o, HK_ERR_INVALID,
		     "detail.EC2InstanceId: \"i-xyz\": malformed: expected i- and 8 or 17 "
		     "hexadecimal digits, like i-0123456789abcdef0");
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "LifecycleActionToken",
			    json_string("tok en"));
	expect_error(o, HK_ERR_INVALID, "LifecycleActionToken");
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(o, "source", json_string("aws.ec2"));
	expect_error(o, HK_ERR_INVALID, "source: \"aws.ec2\"");
}

static void test_other_detail_type(void **state)
{
	(void)state;
	expect_error(eventbridge("EC2 Instance Launch Successful", TR_L), HK_ERR_INVALID,
		     "detail-type: \"EC2 Instance Launch Successful\" is not a lifecycle action");
}

static void test_other_transition(void **state)
{
	(void)state;
	expect_error(eventbridge(DT_L, "autoscaling:EC2_INSTANCE_REBOOTING"), HK_ERR_INVALID,
		     "detail.LifecycleTransition: \"autoscaling:EC2_INSTANCE_REBOOTING\": not "
		     "handled");
	expect_error(eventbridge(DT_L, TR_T), HK_ERR_INVALID, "does not match detail-type");
}

static void test_metadata_caps(void **state)
{
	(void)state;
	char big[4002];
	memset(big, 'm', 4001);
	big[4001] = '\0';
	json_t *o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "NotificationMetadata", json_string(big));
	expect_error(o, HK_ERR_TOO_LARGE, "NotificationMetadata: 4001 characters, at most 4000");

	big[4000] = '\0'; /* exactly 4000: fine */
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "NotificationMetadata", json_string(big));
	hook_event ev;
	hk_errinfo ei;
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	assert_int_equal(strlen(ev.metadata), 4000);
	hook_event_cleanup(&ev);

	/* 4000 characters of two bytes each: counted as characters, not bytes */
	char wide[8001];
	for (int i = 0; i < 4000; i++) {
		wide[2 * i] = (char)0xc3;
		wide[2 * i + 1] = (char)0xa9; /* U+00E9 */
	}
	wide[8000] = '\0';
	o = eventbridge(DT_L, TR_L);
	json_object_set_new(json_object_get(o, "detail"), "NotificationMetadata",
			    json_string(wide));
	assert_int_equal(parse_obj(o, &ev, &ei), HK_OK);
	hook_event_cleanup(&ev);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	char buf[300];
	size_t n = 0;
	n += (size_t)snprintf(buf, sizeof(buf), "{\"x\":");
	for (int i = 0; i < 100; i++)
		buf[n++] = '[';
	buf[n] = '\0';
	hook_event ev;
	hk_errinfo ei = {0};
	assert_int_equal(hook_event_parse(buf, n, &ev, &ei), HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "nested deeper"));
}

static void test_not_json_and_empty(void **state)
{
	(void)state;
	hook_event ev;
	hk_errinfo ei = {0};
	assert_int_equal(hook_event_parse("{\"a\":", 5, &ev, &ei), HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "not valid JSON"));
	assert_int_equal(hook_event_parse("", 0, &ev, &ei), HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "empty body"));
	assert_int_equal(hook_event_parse("[1]", 3, &ev, &ei), HK_ERR_INVALID);
	assert_int_equal(hook_event_parse("{\"hello\":1}", 11, &ev, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "not a lifecycle event"));
	/* embedded NUL in the body is not JSON */
	assert_int_equal(hook_event_parse("{\"a\":1}\0xx", 10, &ev, &ei), HK_ERR_PARSE);
}

static void test_duplicate_keys_rejected(void **state)
{
	(void)state;
	const char *t = "{\"LifecycleTransition\":\"" TR_L "\",\"EC2InstanceId\":\"" INSTANCE
			"\",\"EC2InstanceId\":\"i-0000000000000000f\"}";
	hook_event ev;
	hk_errinfo ei = {0};
	assert_int_equal(hook_event_parse(t, strlen(t), &ev, &ei), HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "duplicate"));
}

static void test_token_prefix(void **state)
{
	(void)state;
	char out[12];
	hook_token_prefix(TOKEN, out);
	assert_string_equal(out, "c613620e...");
	hook_token_prefix("", out);
	assert_string_equal(out, "...");
	hook_token_prefix(NULL, out);
	assert_string_equal(out, "...");
}

static void test_transition_names(void **state)
{
	(void)state;
	hook_transition t;
	assert_int_equal(hook_transition_parse(TR_T, &t), HK_OK);
	assert_int_equal(t, HOOK_TRANSITION_TERMINATING);
	assert_string_equal(hook_transition_str(HOOK_TRANSITION_LAUNCHING), TR_L);
	assert_int_equal(hook_transition_parse("x", &t), HK_ERR_INVALID);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_eventbridge_launch),
    cmocka_unit_test(test_eventbridge_terminate),
    cmocka_unit_test(test_eventbridge_warm_pool),
    cmocka_unit_test(test_unknown_fields_ok),
    cmocka_unit_test(test_bare_notification),
    cmocka_unit_test(test_test_notification),
    cmocka_unit_test(test_other_asg_event_rejected),
    cmocka_unit_test(test_sns_notification),
    cmocka_unit_test(test_sns_test_notification),
    cmocka_unit_test(test_sns_subscription_confirmation),
    cmocka_unit_test(test_sns_problems),
    cmocka_unit_test(test_missing_fields_named),
    cmocka_unit_test(test_wrong_types),
    cmocka_unit_test(test_bad_values),
    cmocka_unit_test(test_other_detail_type),
    cmocka_unit_test(test_other_transition),
    cmocka_unit_test(test_metadata_caps),
    cmocka_unit_test(test_deep_nesting),
    cmocka_unit_test(test_not_json_and_empty),
    cmocka_unit_test(test_duplicate_keys_rejected),
    cmocka_unit_test(test_token_prefix),
    cmocka_unit_test(test_transition_names),
};

HK_TEST_MAIN(tests)
