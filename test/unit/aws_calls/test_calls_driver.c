/* The asynchronous driver with a fake transport: exactly-once asynchronous
 * delivery, NextToken pagination and its caps, error pass-through, the
 * instance-type cache, ownership (keep/forget), and the idempotency each call
 * declares to the core's retry. */
#include "calls_test.h"

#include <stdlib.h>
#include <string.h>

#include "hk_caps.h"
#include "hk_test.h"

/* What a callback saw. */
static struct {
	unsigned calls;
	hk_err err;
	char aws_code[64];
	char request_id[64];
	char errtext[256];
	unsigned attempts;
	bool had_out;
	size_t n;	/* items in out */
	char first[64]; /* an id from out */
	bool from_cache;
	const void *kept; /* awscalls_keep()ed result */
	bool keep;
	bool free_in_callback; /* awscalls_free() the kept result before returning */
} seen;

static void note(const awc_result *res, const void *out)
{
	seen.calls++;
	seen.err = res->err;
	snprintf(seen.aws_code, sizeof(seen.aws_code), "%s", res->aws_code ? res->aws_code : "");
	snprintf(seen.request_id, sizeof(seen.request_id), "%s",
		 res->request_id ? res->request_id : "");
	snprintf(seen.errtext, sizeof(seen.errtext), "%s", res->errtext ? res->errtext : "");
	seen.attempts = res->attempts;
	seen.had_out = out != NULL;
	assert_true((res->err == HK_OK) == (out != NULL));
	if (out && seen.keep)
		seen.kept = awscalls_keep(out);
	if (seen.kept && seen.free_in_callback) {
		awscalls_free(CQ_MUT(void, seen.kept));
		seen.kept = NULL;
	}
}

static void on_dni(const awc_result *res, const ec2_describe_network_interfaces_out *out, void *arg)
{
	note(res, out);
	if (out) {
		seen.n = out->n_enis;
		if (out->n_enis)
			snprintf(seen.first, sizeof(seen.first), "%s", out->enis[0].eni_id);
	}
}

static void on_subnets(const awc_result *res, const ec2_describe_subnets_out *out, void *arg)
{
	note(res, out);
	if (out)
		seen.n = out->n_subnets;
}

static void on_groups(const awc_result *res, const asg_describe_groups_out *out, void *arg)
{
	note(res, out);
	if (out) {
		seen.n = out->n_groups;
		snprintf(seen.first, sizeof(seen.first), "%s", out->groups[1].name);
	}
}

static void on_types(const awc_result *res, const ec2_describe_instance_types_out *out, void *arg)
{
	note(res, out);
	if (out) {
		seen.n = out->n_types;
		seen.from_cache = out->from_cache;
		snprintf(seen.first, sizeof(seen.first), "%s", out->types[0].instance_type);
	}
}

static void on_any(const awc_result *res, const void *out, void *arg)
{
	note(res, out);
}

static int setup(void **state)
{
	memset(&seen, 0, sizeof(seen));
	ct_fake_setup();
	return 0;
}

static int teardown(void **state)
{
	ct_fake_teardown();
	return 0;
}

static const ec2_filter subnet_filter[] = {{"subnet-id", (const char *[]){"subnet-0aaa"}, 1}};

static void paginates_network_interfaces(void **state)
{
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_page1.xml";
	ct_f.pages[1] = "DescribeNetworkInterfaces/aws_page2.xml";
	ct_f.pages[2] = "DescribeNetworkInterfaces/aws_page3.xml";
	ct_f.n_pages = 3;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	assert_int_equal(seen.calls, 0); /* never from inside the call */
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HK_OK);
	assert_int_equal(seen.n, 5);
	assert_string_equal(seen.first, "eni-page1n1");
	assert_int_equal(ct_f.requests, 3);
	assert_string_equal(ct_f.next_tokens[0], "");
	assert_string_equal(ct_f.next_tokens[1], "token-after-page-1");
	assert_string_equal(ct_f.next_tokens[2], "token-after-page-2");
	for (int i = 0; i < 3; i++)
		assert_true(ct_f.idempotent[i]);
}

static void paginates_subnets_and_groups(void **state)
{
	ct_f.pages[0] = "DescribeSubnets/aws_page1.xml";
	ct_f.pages[1] = "DescribeSubnets/aws_page2.xml";
	ct_f.n_pages = 2;
	ec2_describe_subnets_req sreq = {0};
	assert_int_equal(ec2_describe_subnets(CT_CLIENT, &sreq, on_subnets, NULL, NULL), HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.n, 2);
	assert_int_equal(ct_f.requests, 2);
	assert_string_equal(ct_f.next_tokens[1], "subnets-page-2");

	ct_fake_teardown();
	setup(state);
	ct_f.pages[0] = "DescribeAutoScalingGroups/aws_page1.xml";
	ct_f.pages[1] = "DescribeAutoScalingGroups/aws_page2.xml";
	ct_f.n_pages = 2;
	asg_describe_groups_req greq = {0};
	assert_int_equal(asg_describe_auto_scaling_groups(CT_CLIENT, &greq, on_groups, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.first, "workers-b");
	assert_string_equal(ct_f.next_tokens[1], "asg-page-2");
}

static void page_cap(void **state)
{
	ct_f.endless = true;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HK_ERR_TOO_LARGE);
	assert_false(seen.had_out);
	assert_int_equal(ct_f.requests, HK_CAP_AWS_PAGES);
	assert_non_null(strstr(seen.errtext, "pages"));
}

static void repeated_token(void **state)
{
	ct_f.endless = true;
	ct_f.same_token = true;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.err, HK_ERR_PARSE);
	assert_int_equal(ct_f.requests, 2);
}

static void aws_error_passes_through(void **state)
{
	ct_f.fail_err = HK_ERR_FULL;
	ct_f.fail_code = "AttachmentLimitExceeded";
	ct_f.fail_status = 400;
	ec2_attach_network_interface_req req = {
	    .eni_id = "eni-1", .instance_id = "i-1", .device_index = 3};
	assert_int_equal(ec2_attach_network_interface(
			     CT_CLIENT, &req, (ec2_attach_network_interface_fn)on_any, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HK_ERR_FULL);
	assert_string_equal(seen.aws_code, "AttachmentLimitExceeded");
	assert_string_equal(seen.request_id, "fake-request-id");
	assert_false(seen.had_out);
}

/* moto answers CompleteLifecycleAction with a 500 HTML page: the core makes
 * it a transient error without a code, and it reaches the caller as such. */
static void transient_without_code(void **state)
{
	ct_f.fail_err = HK_ERR_TRANSIENT;
	ct_f.fail_status = 500;
	asg_lifecycle_action_req req = {.hook_name = "h", .group_name = "g", .instance_id = "i-1"};
	assert_int_equal(
	    asg_complete_lifecycle_action(CT_CLIENT, &req, (asg_empty_fn)on_any, NULL, NULL),
	    HK_OK);
	ct_run();
	assert_int_equal(seen.err, HK_ERR_TRANSIENT);
	assert_string_equal(seen.aws_code, "");
	assert_false(ct_f.idempotent[0]);
}

/* A page that is not the expected document, after a good one. */
static void bad_second_page(void **state)
{
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_page1.xml";
	ct_f.pages[1] = "errors/ec2_eni_in_use.xml";
	ct_f.n_pages = 2;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HK_ERR_PARSE);
	assert_string_equal(seen.request_id, "fake-request-id");
	assert_non_null(strstr(seen.errtext, "DescribeNetworkInterfaces"));
}

static void refused_at_once(void **state)
{
	ct_f.refuse = HK_ERR_STATE;
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_page1.xml";
	ct_f.n_pages = 1;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_ERR_STATE);
	ct_run();
	assert_int_equal(seen.calls, 0);
	/* A bad request never reaches the transport. */
	ct_f.refuse = 0;
	ec2_describe_network_interfaces_req bad = {.max_results = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &bad, on_dni, NULL, NULL),
			 HK_ERR_INVALID);
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, NULL, NULL, NULL),
			 HK_ERR_INVALID);
	ct_run();
	assert_int_equal(seen.calls, 0);
	assert_int_equal(ct_f.requests, 0);
}

static void refused_second_page(void **state)
{
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_page1.xml";
	ct_f.n_pages = 1;
	ct_f.refuse = HK_ERR_NOMEM;
	ct_f.refuse_at = 1;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.err, HK_ERR_NOMEM);
	assert_non_null(strstr(seen.errtext, "page 2"));
}

static void instance_type_cache(void **state)
{
	ct_f.pages[0] = "DescribeInstanceTypes/moto_m5_large.xml";
	ct_f.pages[1] = "DescribeInstanceTypes/aws_multicard.xml";
	ct_f.n_pages = 2;
	const char *m5[] = {"m5.large"};
	ec2_describe_instance_types_req req = {.instance_types = m5, .n_instance_types = 1};
	assert_int_equal(ec2_describe_instance_types(CT_CLIENT, &req, on_types, NULL, NULL), HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_false(seen.from_cache);
	assert_int_equal(ct_f.requests, 1);

	/* The same type again: from the cache, still on a later loop turn. */
	assert_int_equal(ec2_describe_instance_types(CT_CLIENT, &req, on_types, NULL, NULL), HK_OK);
	assert_int_equal(seen.calls, 1);
	ct_run();
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.err, HK_OK);
	assert_true(seen.from_cache);
	assert_int_equal(seen.attempts, 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.first, "m5.large");
	assert_int_equal(ct_f.requests, 1);

	/* One type unknown: AWS is asked (and the answer fills the cache). */
	const char *two[] = {"p4d.24xlarge", "m5.large"};
	req.instance_types = two;
	req.n_instance_types = 2;
	assert_int_equal(ec2_describe_instance_types(CT_CLIENT, &req, on_types, NULL, NULL), HK_OK);
	ct_run();
	assert_int_equal(ct_f.requests, 2);
	assert_false(seen.from_cache);
	const char *p4[] = {"p4d.24xlarge", "t2.micro", "p4d.24xlarge"};
	req.instance_types = p4;
	req.n_instance_types = 3;
	assert_int_equal(ec2_describe_instance_types(CT_CLIENT, &req, on_types, NULL, NULL), HK_OK);
	ct_run();
	assert_int_equal(ct_f.requests, 2);
	assert_true(seen.from_cache);
	assert_int_equal(seen.n, 2); /* duplicates folded */
	assert_string_equal(seen.first, "p4d.24xlarge");
}

static void keep_result(void **state)
{
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_prefixes.xml";
	ct_f.n_pages = 1;
	seen.keep = true;
	ec2_describe_network_interfaces_req req = {.eni_ids = (const char *[]){"eni-1"},
						   .n_eni_ids = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	const ec2_describe_network_interfaces_out *o = seen.kept;
	assert_non_null(o);
	assert_int_equal(o->n_enis, 2);
	assert_string_equal(o->enis[0].ipv4_prefixes[0], "10.1.0.48/28");
	awscalls_free(CQ_MUT(void, o));
	awscalls_free(NULL);
	assert_null(awscalls_keep(NULL));
}

/* Keeping and then freeing inside the same callback: the result is released
 * once, after the callback (ASan/valgrind would flag a use after free or a
 * double free; a leak shows as well). */
static void keep_then_free_in_callback(void **state)
{
	ct_f.pages[0] = "DescribeNetworkInterfaces/aws_prefixes.xml";
	ct_f.n_pages = 1;
	seen.keep = true;
	seen.free_in_callback = true;
	ec2_describe_network_interfaces_req req = {.eni_ids = (const char *[]){"eni-1"},
						   .n_eni_ids = 1};
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 1);
	assert_true(seen.had_out);
	assert_null(seen.kept);
	/* A later result is unaffected by the earlier deferred free. */
	seen.free_in_callback = false;
	assert_int_equal(ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_non_null(seen.kept);
	awscalls_free(CQ_MUT(void, seen.kept));
}

/* Shutting down with calls in flight: they are freed, never called back. */
static void forget_in_flight(void **state)
{
	ct_f.hold = true;
	ec2_describe_network_interfaces_req req = {.filters = subnet_filter, .n_filters = 1};
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    ec2_describe_network_interfaces(CT_CLIENT, &req, on_dni, NULL, NULL), HK_OK);
	const char *m5[] = {"m5.large"};
	ec2_describe_instance_types_req treq = {.instance_types = m5, .n_instance_types = 1};
	assert_int_equal(ec2_describe_instance_types(CT_CLIENT, &treq, on_types, NULL, NULL),
			 HK_OK);
	assert_int_equal(ct_f.requests, 4);
	awc_client_free(CT_CLIENT); /* the typed calls' state goes with the client */
	CT_CLIENT = NULL;
	ct_run();
	assert_int_equal(seen.calls, 0);
}

/* What each call tells the core's retry logic, and the SQS long-poll timeout. */
static void idempotency_flags(void **state)
{
	ct_f.hold = true;
	unsigned i = 0;
	ec2_create_network_interface_req cni = {.subnet_id = "s"};
	assert_int_equal(ec2_create_network_interface(
			     CT_CLIENT, &cni, (ec2_create_network_interface_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_false(ct_f.idempotent[i++]);
	cni.client_token = "tok";
	assert_int_equal(ec2_create_network_interface(
			     CT_CLIENT, &cni, (ec2_create_network_interface_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_true(ct_f.idempotent[i++]);
	ec2_detach_network_interface_req det = {.attachment_id = "a"};
	assert_int_equal(
	    ec2_detach_network_interface(CT_CLIENT, &det, (ec2_return_fn)on_any, NULL, NULL),
	    HK_OK);
	assert_false(ct_f.idempotent[i++]);
	ec2_delete_network_interface_req del = {.eni_id = "e"};
	assert_int_equal(
	    ec2_delete_network_interface(CT_CLIENT, &del, (ec2_return_fn)on_any, NULL, NULL),
	    HK_OK);
	assert_false(ct_f.idempotent[i++]);
	assert_int_equal(ec2_modify_eni_source_dest_check(CT_CLIENT, "e", false,
							  (ec2_return_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_true(ct_f.idempotent[i++]);
	assert_int_equal(ec2_modify_eni_delete_on_termination(CT_CLIENT, "e", "a", true,
							      (ec2_return_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_true(ct_f.idempotent[i++]);
	ec2_assign_ipv6_addresses_req as6 = {.eni_id = "e", .count = 1};
	assert_int_equal(ec2_assign_ipv6_addresses(
			     CT_CLIENT, &as6, (ec2_assign_ipv6_addresses_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_false(ct_f.idempotent[i++]);
	asg_lifecycle_action_req hb = {.hook_name = "h", .group_name = "g", .token = "t"};
	assert_int_equal(
	    asg_record_lifecycle_action_heartbeat(CT_CLIENT, &hb, (asg_empty_fn)on_any, NULL, NULL),
	    HK_OK);
	assert_true(ct_f.idempotent[i++]);
	ec2_create_subnet_cidr_reservation_req csr = {.subnet_id = "s", .cidr = "10.0.0.0/28"};
	assert_int_equal(ec2_create_subnet_cidr_reservation(
			     CT_CLIENT, &csr, (ec2_subnet_cidr_reservation_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_false(ct_f.idempotent[i++]);
	sqs_receive_req rcv = {.queue_url = "q", .wait_time_s = 20, .visibility_timeout_s = -1};
	assert_int_equal(sqs_receive_message(CT_CLIENT, &rcv, (sqs_receive_fn)on_any, NULL, NULL),
			 HK_OK);
	assert_true(ct_f.idempotent[i++]);
	assert_int_equal(ct_f.timeout_ms, 40000);
	assert_int_equal(ct_f.requests, i);
	awc_client_free(CT_CLIENT);
	CT_CLIENT = NULL;
}

static void on_receive(const awc_result *res, const sqs_receive_out *out, void *arg)
{
	note(res, out);
	if (out) {
		seen.n = out->n_messages;
		snprintf(seen.first, sizeof(seen.first), "%s", out->messages[0].message_id);
	}
}

static void sqs_flow(void **state)
{
	ct_f.pages[0] = "ReceiveMessage/moto_one.json";
	ct_f.pages[1] = "ReceiveMessage/moto_empty.json";
	ct_f.n_pages = 2;
	sqs_receive_req rcv = {.queue_url = "http://127.0.0.1/123456789012/hooks",
			       .max_messages = 10,
			       .visibility_timeout_s = -1};
	assert_int_equal(sqs_receive_message(CT_CLIENT, &rcv, on_receive, NULL, NULL), HK_OK);
	ct_run();
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.first, "ab18224c-a1d7-4011-a7e2-ca697cc20277");
	assert_string_equal(ct_f.target, "AmazonSQS.ReceiveMessage");
	assert_string_equal(ct_f.json_body,
			    "{\"MaxNumberOfMessages\":10,\"QueueUrl\":\"http://"
			    "127.0.0.1/123456789012/hooks\",\"WaitTimeSeconds\":0}");
	assert_int_equal(
	    sqs_delete_message(CT_CLIENT, rcv.queue_url, "rh", (sqs_empty_fn)on_any, NULL, NULL),
	    HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.err, HK_OK);
	assert_string_equal(ct_f.target, "AmazonSQS.DeleteMessage");
	assert_int_equal(sqs_change_message_visibility(CT_CLIENT, rcv.queue_url, "rh", 30,
						       (sqs_empty_fn)on_any, NULL, NULL),
			 HK_OK);
	ct_run();
	assert_int_equal(seen.calls, 3);
	assert_string_equal(ct_f.target, "AmazonSQS.ChangeMessageVisibility");
	assert_non_null(strstr(ct_f.json_body, "\"VisibilityTimeout\":30"));
}

/* Every typed entry point delivers its recorded success exactly once. */
static void every_call_delivers(void **state)
{
	static const char *const pages[] = {
	    "DescribeInstances/moto_by_id.xml",
	    "DescribeSubnets/moto_by_tag.xml",
	    "GetSubnetCidrReservations/aws_mixed.xml",
	    "CreateSubnetCidrReservation/moto_explicit.xml",
	    "DeleteSubnetCidrReservation/moto_basic.xml",
	    "CreateNetworkInterface/moto_basic.xml",
	    "AttachNetworkInterface/moto_basic.xml",
	    "DetachNetworkInterface/aws_return_true.xml",
	    "DeleteNetworkInterface/moto_basic.xml",
	    "ModifyNetworkInterfaceAttribute/moto_delete_on_termination.xml",
	    "AssignIpv6Addresses/aws_two.xml",
	    "CreateTags/moto_basic.xml",
	    "CompleteLifecycleAction/aws_ok.xml",
	    "RecordLifecycleActionHeartbeat/aws_ok.xml",
	    "DescribeLifecycleHooks/aws_two.xml",
	    "GetCallerIdentity/moto_basic.xml",
	    "AssumeRoleWithWebIdentity/aws_ok.xml",
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(pages); i++)
		ct_f.pages[i] = pages[i];
	ct_f.n_pages = HK_ARRAY_LEN(pages);
	void *a = NULL;
	ec2_describe_instances_req di = {.instance_ids = (const char *[]){"i-1"},
					 .n_instance_ids = 1};
	ec2_describe_subnets_req ds = {.subnet_ids = (const char *[]){"s"}, .n_subnet_ids = 1};
	ec2_get_subnet_cidr_reservations_req gr = {.subnet_id = "s"};
	ec2_create_subnet_cidr_reservation_req cr = {.subnet_id = "s", .cidr = "10.0.1.128/26"};
	ec2_delete_subnet_cidr_reservation_req dr = {.reservation_id = "scr-1"};
	ec2_create_network_interface_req cn = {.subnet_id = "s"};
	ec2_attach_network_interface_req at = {.eni_id = "e", .instance_id = "i"};
	ec2_detach_network_interface_req de = {.attachment_id = "a"};
	ec2_delete_network_interface_req dn = {.eni_id = "e"};
	ec2_assign_ipv6_addresses_req as = {.eni_id = "e", .count = 2};
	ec2_create_tags_req ct = {.resource_ids = (const char *[]){"e"},
				  .n_resource_ids = 1,
				  .tags = (const ec2_tag[]){{"k", "v"}},
				  .n_tags = 1};
	asg_lifecycle_action_req la = {.hook_name = "h", .group_name = "g", .token = "t"};
	asg_describe_lifecycle_hooks_req lh = {.group_name = "g"};
	sts_assume_role_web_identity_req ar = {
	    .role_arn = "arn:aws:iam::1:role/r", .session_name = "s", .web_identity_token = "t"};
	/* One at a time, so pages are served in this order. */
#define STEP(call)                                                                                 \
	do {                                                                                       \
		unsigned before = seen.calls;                                                      \
		assert_int_equal((call), HK_OK);                                                   \
		ct_run();                                                                          \
		assert_int_equal(seen.calls, before + 1);                                          \
		if (seen.err != HK_OK)                                                             \
			fail_msg("%s: %s", #call, seen.errtext);                                   \
	} while (0)
	STEP(ec2_describe_instances(CT_CLIENT, &di, (ec2_describe_instances_fn)on_any, a, NULL));
	STEP(ec2_describe_subnets(CT_CLIENT, &ds, (ec2_describe_subnets_fn)on_any, a, NULL));
	STEP(ec2_get_subnet_cidr_reservations(
	    CT_CLIENT, &gr, (ec2_get_subnet_cidr_reservations_fn)on_any, a, NULL));
	STEP(ec2_create_subnet_cidr_reservation(CT_CLIENT, &cr,
						(ec2_subnet_cidr_reservation_fn)on_any, a, NULL));
	STEP(ec2_delete_subnet_cidr_reservation(CT_CLIENT, &dr,
						(ec2_subnet_cidr_reservation_fn)on_any, a, NULL));
	STEP(ec2_create_network_interface(CT_CLIENT, &cn, (ec2_create_network_interface_fn)on_any,
					  a, NULL));
	STEP(ec2_attach_network_interface(CT_CLIENT, &at, (ec2_attach_network_interface_fn)on_any,
					  a, NULL));
	STEP(ec2_detach_network_interface(CT_CLIENT, &de, (ec2_return_fn)on_any, a, NULL));
	STEP(ec2_delete_network_interface(CT_CLIENT, &dn, (ec2_return_fn)on_any, a, NULL));
	STEP(ec2_modify_eni_delete_on_termination(CT_CLIENT, "e", "a", true, (ec2_return_fn)on_any,
						  a, NULL));
	STEP(ec2_assign_ipv6_addresses(CT_CLIENT, &as, (ec2_assign_ipv6_addresses_fn)on_any, a,
				       NULL));
	STEP(ec2_create_tags(CT_CLIENT, &ct, (ec2_return_fn)on_any, a, NULL));
	STEP(asg_complete_lifecycle_action(CT_CLIENT, &la, (asg_empty_fn)on_any, a, NULL));
	STEP(asg_record_lifecycle_action_heartbeat(CT_CLIENT, &la, (asg_empty_fn)on_any, a, NULL));
	STEP(asg_describe_lifecycle_hooks(CT_CLIENT, &lh, (asg_describe_lifecycle_hooks_fn)on_any,
					  a, NULL));
	STEP(sts_get_caller_identity(CT_CLIENT, (sts_caller_identity_fn)on_any, a, NULL));
	STEP(
	    sts_assume_role_with_web_identity(CT_CLIENT, &ar, (sts_credentials_fn)on_any, a, NULL));
#undef STEP
	assert_int_equal(ct_f.requests, HK_ARRAY_LEN(pages));
	for (size_t i = 0; i < HK_ARRAY_LEN(pages); i++) {
		/* The action sent matches the page's directory. */
		size_t n = strlen(ct_f.actions[i]);
		if (strncmp(pages[i], ct_f.actions[i], n) != 0 || pages[i][n] != '/')
			fail_msg("request %zu sent %s for %s", i, ct_f.actions[i], pages[i]);
	}
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(paginates_network_interfaces, setup, teardown),
    cmocka_unit_test_setup_teardown(paginates_subnets_and_groups, setup, teardown),
    cmocka_unit_test_setup_teardown(page_cap, setup, teardown),
    cmocka_unit_test_setup_teardown(repeated_token, setup, teardown),
    cmocka_unit_test_setup_teardown(aws_error_passes_through, setup, teardown),
    cmocka_unit_test_setup_teardown(transient_without_code, setup, teardown),
    cmocka_unit_test_setup_teardown(bad_second_page, setup, teardown),
    cmocka_unit_test_setup_teardown(refused_at_once, setup, teardown),
    cmocka_unit_test_setup_teardown(refused_second_page, setup, teardown),
    cmocka_unit_test_setup_teardown(instance_type_cache, setup, teardown),
    cmocka_unit_test_setup_teardown(keep_result, setup, teardown),
    cmocka_unit_test_setup_teardown(keep_then_free_in_callback, setup, teardown),
    cmocka_unit_test_setup_teardown(forget_in_flight, setup, teardown),
    cmocka_unit_test_setup_teardown(idempotency_flags, setup, teardown),
    cmocka_unit_test_setup_teardown(sqs_flow, setup, teardown),
    cmocka_unit_test_setup_teardown(every_call_delivers, setup, teardown),
};

HK_TEST_MAIN(tests)
