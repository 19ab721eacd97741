/* Response reading from recorded responses (moto captures and AWS-shaped
 * hand-made ones): every field the engine uses, optional elements, and
 * documents that lie (missing, malformed, oversized, wrong root). */
#include "calls_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"
#include "hk_test.h"

static void describe_instances_moto(void **state)
{
	const char *next = "x";
	const ec2_describe_instances_out *o =
	    ct_read(&ec2_spec_describe_instances, "DescribeInstances/moto_by_id.xml", &next);
	assert_null(next);
	assert_int_equal(o->n_instances, 1);
	const ec2_instance *in = &o->instances[0];
	assert_string_equal(in->instance_id, "i-5c86ff8566e4a597d");
	assert_string_equal(in->instance_type, "m5.large");
	assert_string_equal(in->state, "running");
	assert_int_equal(in->state_code, 16);
	assert_string_equal(in->az, "us-east-1a");
	assert_string_equal(in->subnet_id, "subnet-3b2d8b160366e0d13");
	assert_int_equal(in->n_enis, 2);
	assert_int_equal(in->enis[0].device_index, 0);
	assert_int_equal(in->enis[1].device_index, 1);
	assert_string_equal(in->enis[1].eni_id, "eni-69ee6be1ccdfdf112");
	assert_string_equal(in->enis[1].attachment_id, "eni-attach-139b0797dd22aad24");
	assert_string_equal(in->enis[1].private_ip, "10.0.1.10");
	assert_int_equal(in->enis[1].network_card_index, 0);
	assert_false(in->enis[1].delete_on_termination);
	assert_ptr_equal(ec2_instances_find(o, "i-5c86ff8566e4a597d"), in);
	assert_null(ec2_instances_find(o, "i-other"));
	ct_free(o);
}

static void describe_instances_reservations(void **state)
{
	const ec2_describe_instances_out *o =
	    ct_read(&ec2_spec_describe_instances, "DescribeInstances/aws_multi.xml", NULL);
	assert_int_equal(o->n_instances, 3);
	const ec2_instance *a = &o->instances[0];
	assert_string_equal(a->instance_type, "c6in.32xlarge");
	assert_int_equal(a->n_tags, 1);
	assert_string_equal(a->tags[0].value, "workers");
	assert_int_equal(a->n_enis, 2);
	assert_true(a->enis[0].delete_on_termination);
	assert_int_equal(a->enis[1].network_card_index, 1);
	assert_string_equal(a->enis[1].attachment_status, "attaching");
	const ec2_instance *t = &o->instances[1];
	assert_string_equal(t->state, "terminated");
	assert_null(t->subnet_id);
	assert_int_equal(t->n_enis, 0);
	assert_null(t->enis);
	assert_string_equal(o->instances[2].state, "pending");
	ct_free(o);
}

static void describe_instances_lies(void **state)
{
	hk_errinfo ei = {0};
	assert_int_equal(ct_read_fail(&ec2_spec_describe_instances,
				      "DescribeInstances/aws_missing_instance_id.xml", &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "missing <instanceId>"));
	assert_non_null(strstr(ei.text, "DescribeInstances"));
	assert_int_equal(ct_read_fail(&ec2_spec_describe_instances,
				      "DescribeInstances/aws_bad_device_index.xml", &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "deviceIndex"));
	/* An error document that somehow arrived as a success. */
	assert_int_equal(
	    ct_read_fail(&ec2_spec_describe_instances, "DescribeInstances/moto_not_found.xml", &ei),
	    HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "<Response>"));
}

static void describe_instance_types(void **state)
{
	const ec2_describe_instance_types_out *o = ct_read(
	    &ec2_spec_describe_instance_types, "DescribeInstanceTypes/moto_m5_large.xml", NULL);
	assert_int_equal(o->n_types, 1);
	const ec2_instance_type *t = &o->types[0];
	assert_string_equal(t->instance_type, "m5.large");
	assert_int_equal(t->max_enis, 3);
	assert_int_equal(t->ipv4_per_eni, 10);
	assert_int_equal(t->ipv6_per_eni, 10);
	assert_true(t->ipv6_supported);
	assert_int_equal(t->n_cards, 1);
	assert_int_equal(ec2_instance_type_card_max_enis(t, 0), 3);
	assert_int_equal(ec2_instance_type_card_max_enis(t, 1), 0);
	assert_false(o->from_cache);
	ct_free(o);

	o = ct_read(&ec2_spec_describe_instance_types, "DescribeInstanceTypes/aws_multicard.xml",
		    NULL);
	assert_int_equal(o->n_types, 2);
	const ec2_instance_type *p4 = ec2_instance_types_find(o, "p4d.24xlarge");
	assert_non_null(p4);
	assert_int_equal(p4->max_enis, 60);
	assert_int_equal(p4->max_network_cards, 4);
	assert_int_equal(p4->n_cards, 4);
	assert_int_equal(ec2_instance_type_card_max_enis(p4, 3), 15);
	const ec2_instance_type *t2 = ec2_instance_types_find(o, "t2.micro");
	assert_int_equal(t2->max_network_cards, 1); /* default */
	assert_int_equal(t2->n_cards, 0);
	assert_int_equal(ec2_instance_type_card_max_enis(t2, 0), 2);
	ct_free(o);

	hk_errinfo ei = {0};
	assert_int_equal(ct_read_fail(&ec2_spec_describe_instance_types,
				      "DescribeInstanceTypes/aws_missing_max_enis.xml", &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "maximumNetworkInterfaces"));
}

static void describe_subnets(void **state)
{
	const ec2_describe_subnets_out *o =
	    ct_read(&ec2_spec_describe_subnets, "DescribeSubnets/moto_by_tag.xml", NULL);
	assert_int_equal(o->n_subnets, 1);
	const ec2_subnet *s = &o->subnets[0];
	assert_string_equal(s->cidr, "10.0.1.0/24");
	assert_string_equal(s->az, "us-east-1a");
	assert_string_equal(s->az_id, "use1-az6");
	assert_int_equal(s->available_ips, 251);
	assert_int_equal(s->n_tags, 1);
	assert_string_equal(s->tags[0].key, "multus.io/network");
	assert_string_equal(s->tags[0].value, "sig");
	assert_int_equal(s->n_ipv6_cidrs, 0);
	ct_free(o);

	const char *next = NULL;
	o = ct_read(&ec2_spec_describe_subnets, "DescribeSubnets/aws_page1.xml", &next);
	assert_string_equal(next, "subnets-page-2");
	s = &o->subnets[0];
	assert_int_equal(s->n_ipv6_cidrs, 1);
	assert_string_equal(s->ipv6_cidrs[0].cidr, "2600:1f18:abcd:1200::/64");
	assert_string_equal(s->ipv6_cidrs[0].state, "associated");
	assert_string_equal(s->ipv6_cidrs[0].association_id, "subnet-cidr-assoc-0aaa");
	assert_int_equal(s->n_tags, 2);
	ct_free(o);
	/* An empty <nextToken/> ends the pages. */
	o = ct_read(&ec2_spec_describe_subnets, "DescribeSubnets/aws_page2.xml", &next);
	assert_null(next);
	ct_free(o);
}

static void describe_network_interfaces_moto(void **state)
{
	const ec2_describe_network_interfaces_out *o =
	    ct_read(&ec2_spec_describe_network_interfaces,
		    "DescribeNetworkInterfaces/moto_by_instance.xml", NULL);
	assert_int_equal(o->n_enis, 2);
	const ec2_eni *e = &o->enis[1];
	assert_string_equal(e->eni_id, "eni-69ee6be1ccdfdf112");
	assert_string_equal(e->status, "in-use");
	assert_string_equal(e->description, "multus eth1");
	assert_true(e->attached);
	assert_string_equal(e->attachment.instance_id, "i-5c86ff8566e4a597d");
	assert_int_equal(e->attachment.device_index, 1);
	assert_string_equal(e->attachment.status, "attached");
	assert_int_equal(e->n_private_ips, 2);
	assert_true(e->private_ips[0].primary);
	assert_string_equal(e->private_ips[1].address, "10.0.1.83");
	assert_false(e->private_ips[1].primary);
	assert_string_equal(ec2_eni_tag(e, "multus-hookd/network"), "sig");
	assert_null(ec2_eni_tag(e, "absent"));
	assert_int_equal(e->n_security_group_ids, 1);
	assert_int_equal(o->enis[0].n_tags, 0);
	ct_free(o);
}

static void describe_network_interfaces_prefixes(void **state)
{
	const ec2_describe_network_interfaces_out *o =
	    ct_read(&ec2_spec_describe_network_interfaces,
		    "DescribeNetworkInterfaces/aws_prefixes.xml", NULL);
	assert_int_equal(o->n_enis, 2);
	const ec2_eni *e = &o->enis[0];
	assert_false(e->attached);
	assert_null(e->description); /* <description/> */
	assert_false(e->source_dest_check);
	assert_int_equal(e->n_private_ips, 3);
	assert_int_equal(e->n_ipv4_prefixes, 2);
	assert_string_equal(e->ipv4_prefixes[1], "10.1.0.64/28");
	assert_int_equal(e->n_ipv6_addresses, 1);
	assert_string_equal(e->ipv6_addresses[0], "2600:1f18:abcd:1200::10");
	assert_int_equal(e->n_ipv6_prefixes, 1);
	assert_string_equal(e->ipv6_prefixes[0], "2600:1f18:abcd:1200:8000::/80");
	assert_int_equal(e->n_security_group_ids, 2);
	assert_string_equal(ec2_eni_tag(e, "empty"), "");
	const ec2_eni *b = &o->enis[1];
	assert_true(b->attached);
	assert_int_equal(b->attachment.device_index, 2);
	assert_int_equal(b->attachment.network_card_index, 1);
	assert_true(b->attachment.delete_on_termination);
	assert_int_equal(b->n_ipv4_prefixes, 0);
	assert_null(b->ipv4_prefixes);
	ct_free(o);
}

/* Two pages read one after the other into one result append, in order. */
static void pages_concatenate(void **state)
{
	cq_arena *a;
	void *out = cq_root_new(ec2_spec_describe_network_interfaces.out_size, &a);
	assert_non_null(out);
	cq_rd r;
	cq_rd_init(&r, a, "DescribeNetworkInterfaces");
	for (int p = 1; p <= 3; p++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "DescribeNetworkInterfaces/aws_page%d.xml", p);
		xmlDocPtr doc = ct_doc(rel);
		const char *next = NULL;
		ec2_spec_describe_network_interfaces.read_xml(&r, doc, out, &next);
		assert_int_equal(r.err, HK_OK);
		if (p < 3)
			assert_non_null(next);
		else
			assert_null(next);
		xmlFreeDoc(doc);
	}
	const ec2_describe_network_interfaces_out *o = out;
	assert_int_equal(o->n_enis, 5);
	assert_string_equal(o->enis[0].eni_id, "eni-page1n1");
	assert_string_equal(o->enis[2].eni_id, "eni-page2n1");
	assert_string_equal(o->enis[4].private_ip, "10.2.3.1");
	cq_arena_free(a);
}

static void cidr_reservations(void **state)
{
	const ec2_get_subnet_cidr_reservations_out *o =
	    ct_read(&ec2_spec_get_subnet_cidr_reservations,
		    "GetSubnetCidrReservations/moto_basic.xml", NULL);
	assert_int_equal(o->n_reservations, 1);
	assert_string_equal(o->reservations[0].cidr, "10.0.1.128/26");
	assert_int_equal(o->reservations[0].type, EC2_RESERVATION_EXPLICIT);
	assert_false(o->reservations[0].ipv6);
	ct_free(o);

	o = ct_read(&ec2_spec_get_subnet_cidr_reservations,
		    "GetSubnetCidrReservations/aws_mixed.xml", NULL);
	assert_int_equal(o->n_reservations, 3);
	assert_string_equal(o->reservations[0].description, "whereabouts pod range");
	assert_int_equal(o->reservations[0].n_tags, 1);
	assert_int_equal(o->reservations[1].type, EC2_RESERVATION_PREFIX);
	assert_true(o->reservations[2].ipv6);
	assert_string_equal(o->reservations[2].cidr, "2600:1f18:abcd:1200:ffff::/80");
	ct_free(o);

	hk_errinfo ei = {0};
	assert_int_equal(ct_read_fail(&ec2_spec_get_subnet_cidr_reservations,
				      "GetSubnetCidrReservations/aws_bad_type.xml", &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "reservationType"));

	const ec2_subnet_cidr_reservation_out *c =
	    ct_read(&ec2_spec_create_subnet_cidr_reservation,
		    "CreateSubnetCidrReservation/moto_explicit.xml", NULL);
	assert_string_equal(c->reservation.cidr, "10.0.1.128/26");
	assert_string_equal(c->reservation.reservation_id, "scr-52337af6f33e06289");
	ct_free(c);
	c = ct_read(&ec2_spec_delete_subnet_cidr_reservation,
		    "DeleteSubnetCidrReservation/moto_basic.xml", NULL);
	assert_string_equal(c->reservation.reservation_id, "scr-52337af6f33e06289");
	ct_free(c);
}

static void create_network_interface(void **state)
{
	const ec2_create_network_interface_out *o = ct_read(
	    &ec2_spec_create_network_interface, "CreateNetworkInterface/moto_basic.xml", NULL);
	assert_string_equal(o->eni.eni_id, "eni-69ee6be1ccdfdf112");
	assert_string_equal(o->eni.private_ip, "10.0.1.10");
	assert_string_equal(o->eni.status, "available");
	assert_int_equal(o->eni.n_private_ips, 2);
	assert_int_equal(o->eni.n_tags, 2);
	assert_false(o->eni.attached);
	assert_null(o->client_token);
	ct_free(o);
	o = ct_read(&ec2_spec_create_network_interface, "CreateNetworkInterface/aws_ipv6_token.xml",
		    NULL);
	assert_string_equal(o->client_token, "i-0aaa-sig-1");
	assert_int_equal(o->eni.n_ipv6_addresses, 1);
	assert_string_equal(o->eni.ipv6_addresses[0], "2600:1f18:abcd:1200::4");
	assert_string_equal(ec2_eni_tag(&o->eni, "multus-hookd/device-index"), "1");
	ct_free(o);
}

static void attach(void **state)
{
	const ec2_attach_network_interface_out *o = ct_read(
	    &ec2_spec_attach_network_interface, "AttachNetworkInterface/moto_basic.xml", NULL);
	assert_string_equal(o->attachment_id, "eni-attach-139b0797dd22aad24");
	assert_int_equal(o->network_card_index, 0);
	ct_free(o);
	o = ct_read(&ec2_spec_attach_network_interface, "AttachNetworkInterface/aws_card1.xml",
		    NULL);
	assert_int_equal(o->network_card_index, 1);
	ct_free(o);
	hk_errinfo ei = {0};
	assert_int_equal(ct_read_fail(&ec2_spec_attach_network_interface,
				      "AttachNetworkInterface/aws_missing_attachment_id.xml", &ei),
			 HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "attachmentId"));
}

static void return_shapes(void **state)
{
	/* moto omits <return>; AWS sends true. */
	ct_free(ct_read(&ec2_spec_detach_network_interface, "DetachNetworkInterface/moto_basic.xml",
			NULL));
	const ec2_return_out *o = ct_read(&ec2_spec_detach_network_interface,
					  "DetachNetworkInterface/aws_return_true.xml", NULL);
	assert_true(o->ok);
	ct_free(o);
	ct_free(ct_read(&ec2_spec_delete_network_interface, "DeleteNetworkInterface/moto_basic.xml",
			NULL));
	ct_free(ct_read(&ec2_spec_create_tags, "CreateTags/moto_basic.xml", NULL));
	ct_free(ct_read(&ec2_spec_modify_network_interface_attribute,
			"ModifyNetworkInterfaceAttribute/moto_delete_on_termination.xml", NULL));
	hk_errinfo ei = {0};
	assert_int_equal(ct_read_fail(&ec2_spec_delete_network_interface,
				      "DeleteNetworkInterface/aws_return_false.xml", &ei),
			 HK_ERR_AWS);
	assert_int_equal(ct_read_fail(&ec2_spec_modify_network_interface_attribute,
				      "ModifyNetworkInterfaceAttribute/aws_return_bad.xml", &ei),
			 HK_ERR_PARSE);
	/* The response of another action. */
	assert_int_equal(
	    ct_read_fail(&ec2_spec_create_tags, "DetachNetworkInterface/aws_return_true.xml", &ei),
	    HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "expected <CreateTagsResponse>"));
}

static void assign_ipv6(void **state)
{
	const ec2_assign_ipv6_addresses_out *o =
	    ct_read(&ec2_spec_assign_ipv6_addresses, "AssignIpv6Addresses/aws_two.xml", NULL);
	assert_string_equal(o->eni_id, "eni-0cafe");
	assert_int_equal(o->n_addresses, 2);
	assert_string_equal(o->addresses[1], "2600:1f18:abcd:1200::5");
	ct_free(o);
}

static void asg_groups(void **state)
{
	const asg_describe_groups_out *o =
	    ct_read(&asg_spec_describe_groups, "DescribeAutoScalingGroups/moto_basic.xml", NULL);
	assert_int_equal(o->n_groups, 1);
	const asg_group *g = &o->groups[0];
	assert_string_equal(g->name, "workers");
	assert_true(g->has_launch_template);
	assert_string_equal(g->launch_template.name, "workers-lt");
	assert_int_equal(g->n_subnet_ids, 1);
	assert_int_equal(g->n_instances, 1);
	assert_string_equal(g->instances[0].lifecycle_state, "InService");
	assert_string_equal(g->instances[0].az, "us-east-1a");
	ct_free(o);

	const char *next = NULL;
	o = ct_read(&asg_spec_describe_groups, "DescribeAutoScalingGroups/aws_page1.xml", &next);
	assert_string_equal(next, "asg-page-2");
	g = &o->groups[0];
	assert_string_equal(g->launch_template.id, "lt-0mixed"); /* MixedInstancesPolicy */
	assert_string_equal(g->launch_template.version, "$Default");
	assert_int_equal(g->n_subnet_ids, 2);
	assert_string_equal(g->subnet_ids[0], "subnet-0aaa");
	assert_string_equal(g->subnet_ids[1], "subnet-0bbb"); /* space trimmed */
	assert_int_equal(g->n_azs, 2);
	assert_string_equal(g->instances[0].lifecycle_state, "Pending:Wait");
	assert_true(g->instances[1].protected_from_scale_in);
	assert_int_equal(g->n_tags, 1);
	assert_string_equal(g->tags[0].key, "multus-hookd/group");
	assert_int_equal(g->desired_capacity, 2);
	ct_free(o);
	o = ct_read(&asg_spec_describe_groups, "DescribeAutoScalingGroups/aws_page2.xml", &next);
	assert_null(next);
	assert_false(o->groups[0].has_launch_template);
	assert_string_equal(o->groups[0].launch_configuration, "old-lc");
	ct_free(o);
}

static void asg_hooks(void **state)
{
	const asg_describe_lifecycle_hooks_out *o = ct_read(
	    &asg_spec_describe_lifecycle_hooks, "DescribeLifecycleHooks/moto_basic.xml", NULL);
	assert_int_equal(o->n_hooks, 1);
	assert_int_equal(o->hooks[0].heartbeat_timeout_s, 300);
	assert_int_equal(o->hooks[0].global_timeout_s, 172800);
	assert_string_equal(o->hooks[0].default_result, "ABANDON");
	ct_free(o);
	o = ct_read(&asg_spec_describe_lifecycle_hooks, "DescribeLifecycleHooks/aws_two.xml", NULL);
	assert_int_equal(o->n_hooks, 2);
	assert_string_equal(o->hooks[0].notification_metadata, "{\"group\":\"sig\"}");
	assert_null(o->hooks[0].target_arn);
	assert_string_equal(o->hooks[1].transition, "autoscaling:EC2_INSTANCE_TERMINATING");
	assert_int_equal(o->hooks[1].heartbeat_timeout_s, 3600); /* default */
	assert_string_equal(o->hooks[1].role_arn, "arn:aws:iam::123456789012:role/asg-hooks");
	ct_free(o);
}

static void asg_actions(void **state)
{
	const asg_empty_out *o = ct_read(&asg_spec_complete_lifecycle_action,
					 "CompleteLifecycleAction/aws_ok.xml", NULL);
	assert_string_equal(o->request_id, "d4e5f6a7-example");
	ct_free(o);
	o = ct_read(&asg_spec_record_heartbeat, "RecordLifecycleActionHeartbeat/aws_ok.xml", NULL);
	ct_free(o);
	hk_errinfo ei = {0};
	assert_int_equal(
	    ct_read_fail(&asg_spec_record_heartbeat, "CompleteLifecycleAction/aws_ok.xml", &ei),
	    HK_ERR_PARSE);
}

static void sns(void **state)
{
	const sns_publish_out *o = ct_read(&sns_spec_publish, "Publish/aws_ok.xml", NULL);
	assert_string_equal(o->message_id, "567910cd-659e-55d4-8ccb-5aaf14679dc0");
	ct_free(o);
}

static void sts(void **state)
{
	const sts_caller_identity_out *o =
	    ct_read(&sts_spec_get_caller_identity, "GetCallerIdentity/moto_basic.xml", NULL);
	assert_string_equal(o->account, "123456789012");
	assert_string_equal(o->arn, "arn:aws:sts::123456789012:user/moto");
	ct_free(o);
	xmlDocPtr doc = ct_doc("AssumeRoleWithWebIdentity/aws_ok.xml");
	sts_credentials_out *c = NULL;
	assert_int_equal(sts_read_assume_role_web_identity(doc, &c, NULL), HK_OK);
	xmlFreeDoc(doc);
	assert_string_equal(c->access_key_id, "ASIAEXAMPLEEXAMPLE01");
	assert_string_equal(c->session_token, "FQoGZXIvYXdzEXAMPLETOKEN");
	assert_string_equal(c->expiration, "2030-01-01T00:00:00Z");
	assert_string_equal(c->assumed_role_arn,
			    "arn:aws:sts::123456789012:assumed-role/hookd/hookd-session");
	awscalls_free(c);
}

static void sqs_receive(void **state)
{
	const sqs_receive_out *o = ct_read(&sqs_spec_receive, "ReceiveMessage/moto_one.json", NULL);
	assert_int_equal(o->n_messages, 1);
	assert_string_equal(o->messages[0].message_id, "ab18224c-a1d7-4011-a7e2-ca697cc20277");
	assert_string_equal(o->messages[0].body, "{\"Event\": \"x\", \"n\": \"\\u00e9\"}");
	assert_int_equal(o->messages[0].n_attributes, 4);
	ct_free(o);
	o = ct_read(&sqs_spec_receive, "ReceiveMessage/moto_empty.json", NULL);
	assert_int_equal(o->n_messages, 0);
	assert_null(o->messages);
	ct_free(o);
	o = ct_read(&sqs_spec_receive, "ReceiveMessage/aws_two.json", NULL);
	assert_int_equal(o->n_messages, 2);
	assert_int_equal(o->messages[0].body_len, 4); /* "a\u00e9b": UTF-8, 4 bytes */
	assert_string_equal(o->messages[0].body, "a\xc3\xa9"
						 "b");
	assert_string_equal(o->messages[0].receipt_handle, "rh-1");
	assert_null(o->messages[1].md5_of_body);
	assert_int_equal(o->messages[1].n_attributes, 0);
	ct_free(o);
	hk_errinfo ei = {0};
	assert_int_equal(
	    ct_read_fail(&sqs_spec_receive, "ReceiveMessage/aws_bad_messages.json", &ei),
	    HK_ERR_PARSE);
	assert_int_equal(
	    ct_read_fail(&sqs_spec_receive, "ReceiveMessage/aws_missing_handle.json", &ei),
	    HK_ERR_PARSE);
	assert_non_null(strstr(ei.text, "ReceiptHandle"));
	json_t *arr = json_array();
	void *out = NULL;
	assert_int_equal(cq_read_json_once(&sqs_spec_receive, arr, &out, &ei), HK_ERR_PARSE);
	assert_int_equal(cq_read_json_once(&sqs_spec_empty, arr, &out, &ei), HK_ERR_PARSE);
	json_decref(arr);
}

/* Error envelopes as recorded: the core reads the code (awsxml); any reader
 * handed one as if it were a success answers HK_ERR_PARSE, never crashes. */
static void error_shapes(void **state)
{
	static const struct {
		const char *file, *code;
	} cases[] = {
	    {"errors/ec2_ip_in_use.xml", "InvalidIPAddress.InUse"},
	    {"errors/ec2_idempotent_mismatch.xml", "IdempotentParameterMismatch"},
	    {"errors/ec2_attachment_limit.xml", "AttachmentLimitExceeded"},
	    {"errors/ec2_eni_not_found.xml", "InvalidNetworkInterfaceID.NotFound"},
	    {"errors/ec2_eni_in_use.xml", "InvalidNetworkInterface.InUse"},
	    {"errors/ec2_insufficient_addresses.xml", "InsufficientFreeAddressesInSubnet"},
	    {"errors/ec2_request_limit.xml", "RequestLimitExceeded"},
	    {"errors/asg_validation_error.xml", "ValidationError"},
	    {"DeleteNetworkInterface/moto_not_found.xml", "InvalidNetworkInterfaceID.NotFound"},
	};
	const cq_spec *specs[] = {&ec2_spec_describe_instances,
				  &ec2_spec_describe_network_interfaces,
				  &ec2_spec_create_network_interface,
				  &ec2_spec_attach_network_interface,
				  &ec2_spec_create_tags,
				  &asg_spec_complete_lifecycle_action,
				  &asg_spec_describe_groups,
				  &sts_spec_get_caller_identity};
	for (size_t i = 0; i < HK_ARRAY_LEN(cases); i++) {
		size_t len;
		char *body = ct_load(cases[i].file, &len);
		awsxml_error e = {0};
		assert_int_equal(awsxml_parse_error(body, len, &e, NULL), HK_OK);
		assert_string_equal(e.code, cases[i].code);
		awsxml_error_cleanup(&e);
		free(body);
		for (size_t s = 0; s < HK_ARRAY_LEN(specs); s++) {
			hk_errinfo ei = {0};
			assert_int_equal(ct_read_fail(specs[s], cases[i].file, &ei), HK_ERR_PARSE);
		}
	}
}

/* Truncated, non-XML, HTML and DOCTYPE bodies never become documents; a NULL
 * document is a parse error for every reader. */
static void not_documents(void **state)
{
	const char *files[] = {"errors/truncated.xml", "errors/not_xml.txt", "errors/doctype.xml",
			       "CompleteLifecycleAction/moto_not_implemented.html"};
	for (size_t i = 0; i < HK_ARRAY_LEN(files); i++) {
		size_t len;
		char *body = ct_load(files[i], &len);
		xmlDocPtr doc = NULL;
		hk_errinfo ei = {0};
		hk_err err = awsxml_parse(body, len, &doc, &ei);
		free(body);
		if (err == HK_OK) {
			/* HTML may parse as XML-ish: then the readers must refuse it. */
			void *out = NULL;
			assert_int_equal(cq_read_xml_once(&asg_spec_complete_lifecycle_action, doc,
							  &out, NULL, &ei),
					 HK_ERR_PARSE);
			xmlFreeDoc(doc);
		}
	}
	const cq_spec *specs[] = {&ec2_spec_describe_instances,
				  &ec2_spec_describe_instance_types,
				  &ec2_spec_describe_subnets,
				  &ec2_spec_describe_network_interfaces,
				  &ec2_spec_get_subnet_cidr_reservations,
				  &ec2_spec_create_subnet_cidr_reservation,
				  &ec2_spec_delete_subnet_cidr_reservation,
				  &ec2_spec_create_network_interface,
				  &ec2_spec_attach_network_interface,
				  &ec2_spec_detach_network_interface,
				  &ec2_spec_assign_ipv6_addresses,
				  &asg_spec_complete_lifecycle_action,
				  &asg_spec_describe_lifecycle_hooks,
				  &asg_spec_describe_groups,
				  &sts_spec_get_caller_identity,
				  &sts_spec_assume_role_web_identity};
	for (size_t s = 0; s < HK_ARRAY_LEN(specs); s++) {
		void *out = NULL;
		hk_errinfo ei = {0};
		assert_int_equal(cq_read_xml_once(specs[s], NULL, &out, NULL, &ei), HK_ERR_PARSE);
		assert_null(out);
	}
}

/* An element with only its root: required sets are missing. */
static void empty_roots(void **state)
{
	static const struct {
		const cq_spec *spec;
		const char *xml;
		hk_err want;
	} cases[] = {
	    {&ec2_spec_describe_instances, "<DescribeInstancesResponse/>", HK_ERR_PARSE},
	    {&ec2_spec_describe_instance_types, "<DescribeInstanceTypesResponse/>", HK_ERR_PARSE},
	    {&ec2_spec_describe_subnets, "<DescribeSubnetsResponse/>", HK_ERR_PARSE},
	    {&ec2_spec_describe_network_interfaces, "<DescribeNetworkInterfacesResponse/>",
	     HK_ERR_PARSE},
	    {&ec2_spec_get_subnet_cidr_reservations, "<GetSubnetCidrReservationsResponse/>",
	     HK_ERR_PARSE},
	    {&ec2_spec_create_network_interface, "<CreateNetworkInterfaceResponse/>", HK_ERR_PARSE},
	    {&ec2_spec_attach_network_interface, "<AttachNetworkInterfaceResponse/>", HK_ERR_PARSE},
	    {&asg_spec_describe_groups, "<DescribeAutoScalingGroupsResponse/>", HK_ERR_PARSE},
	    {&asg_spec_describe_lifecycle_hooks, "<DescribeLifecycleHooksResponse/>", HK_ERR_PARSE},
	    {&sts_spec_get_caller_identity, "<GetCallerIdentityResponse/>", HK_ERR_PARSE},
	    {&sns_spec_publish, "<PublishResponse/>", HK_ERR_PARSE},
	    /* Empty lists are fine. */
	    {&ec2_spec_describe_network_interfaces,
	     "<DescribeNetworkInterfacesResponse><networkInterfaceSet/>"
	     "</DescribeNetworkInterfacesResponse>",
	     HK_OK},
	    {&ec2_spec_create_tags, "<CreateTagsResponse/>", HK_OK},
	    {&asg_spec_complete_lifecycle_action, "<CompleteLifecycleActionResponse/>", HK_OK},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(cases); i++) {
		xmlDocPtr doc = NULL;
		assert_int_equal(awsxml_parse(cases[i].xml, strlen(cases[i].xml), &doc, NULL),
				 HK_OK);
		void *out = NULL;
		hk_errinfo ei = {0};
		hk_err err = cq_read_xml_once(cases[i].spec, doc, &out, NULL, &ei);
		if (err != cases[i].want)
			fail_msg("case %zu: %s: %s", i, hk_err_str(err), ei.text);
		ct_free(out);
		xmlFreeDoc(doc);
	}
}

/* A list longer than its cap is HK_ERR_TOO_LARGE, not a truncated answer. */
static void list_caps(void **state)
{
	size_t n = HK_CAP_AWS_SUBITEMS + 1;
	size_t cap = 256 + n * 64;
	char *xml = malloc(cap);
	assert_non_null(xml);
	size_t len =
	    (size_t)snprintf(xml, cap,
			     "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item>"
			     "<networkInterfaceId>eni-1</networkInterfaceId><subnetId>s"
			     "</subnetId><status>available</status><tagSet>");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(xml + len, cap - len,
					"<item><key>k%zu</key><value>v</value></item>", i);
	len += (size_t)snprintf(xml + len, cap - len,
				"</tagSet></item></networkInterfaceSet>"
				"</DescribeNetworkInterfacesResponse>");
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse(xml, len, &doc, NULL), HK_OK);
	free(xml);
	void *out = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(
	    cq_read_xml_once(&ec2_spec_describe_network_interfaces, doc, &out, NULL, &ei),
	    HK_ERR_TOO_LARGE);
	assert_non_null(strstr(ei.text, "tagSet"));
	xmlFreeDoc(doc);
}

/* Text that goes to logs stays one printable line. */
static void errtext_printable(void **state)
{
	const char *xml = "<DescribeInstanceTypesResponse><instanceTypeSet><item>"
			  "<instanceType>x</instanceType><networkInfo>"
			  "<maximumNetworkInterfaces>1\n\t2</maximumNetworkInterfaces>"
			  "</networkInfo></item></instanceTypeSet></DescribeInstanceTypesResponse>";
	xmlDocPtr doc = NULL;
	assert_int_equal(awsxml_parse(xml, strlen(xml), &doc, NULL), HK_OK);
	void *out = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(cq_read_xml_once(&ec2_spec_describe_instance_types, doc, &out, NULL, &ei),
			 HK_ERR_PARSE);
	for (const char *c = ei.text; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	xmlFreeDoc(doc);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(describe_instances_moto),
    cmocka_unit_test(describe_instances_reservations),
    cmocka_unit_test(describe_instances_lies),
    cmocka_unit_test(describe_instance_types),
    cmocka_unit_test(describe_subnets),
    cmocka_unit_test(describe_network_interfaces_moto),
    cmocka_unit_test(describe_network_interfaces_prefixes),
    cmocka_unit_test(pages_concatenate),
    cmocka_unit_test(cidr_reservations),
    cmocka_unit_test(create_network_interface),
    cmocka_unit_test(attach),
    cmocka_unit_test(return_shapes),
    cmocka_unit_test(assign_ipv6),
    cmocka_unit_test(asg_groups),
    cmocka_unit_test(asg_hooks),
    cmocka_unit_test(asg_actions),
    cmocka_unit_test(sts),
    cmocka_unit_test(sns),
    cmocka_unit_test(sqs_receive),
    cmocka_unit_test(error_shapes),
    cmocka_unit_test(not_documents),
    cmocka_unit_test(empty_roots),
    cmocka_unit_test(list_caps),
    cmocka_unit_test(errtext_printable),
};

HK_TEST_MAIN(tests)
