/* Request building: the exact Query parameters (names checked against botocore's
 * serialiser for the same input) and SQS JSON bodies, plus refused requests. */
#include "calls_test.h"

#include <stdlib.h>
#include <string.h>

#include "hk_test.h"
#include "query.h"

#define BUILD_OK(expr) assert_int_equal((expr), HK_OK)

static void describe_instances_by_ids(void **state)
{
	const char *ids[] = {"i-1", "i-2"};
	ec2_describe_instances_req req = {.instance_ids = ids, .n_instance_ids = 2};
	query_params *p;
	BUILD_OK(ec2_build_describe_instances(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeInstances", "Version=2016-11-15", "InstanceId.1=i-1",
		  "InstanceId.2=i-2");
	query_params_free(p);
}

static void describe_instances_filters_page(void **state)
{
	const char *v[] = {"running", "pending"};
	ec2_filter f[] = {{"instance-state-name", v, 2}};
	ec2_describe_instances_req req = {.filters = f, .n_filters = 1};
	query_params *p;
	BUILD_OK(ec2_build_describe_instances(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeInstances", "Version=2016-11-15",
		  "Filter.1.Name=instance-state-name", "Filter.1.Value.1=running",
		  "Filter.1.Value.2=pending", "MaxResults=1000");
	query_params_free(p);
}

static void describe_instance_types(void **state)
{
	const char *t[] = {"m5.large", "c6in.32xlarge"};
	ec2_describe_instance_types_req req = {.instance_types = t, .n_instance_types = 2};
	query_params *p;
	BUILD_OK(ec2_build_describe_instance_types(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeInstanceTypes", "Version=2016-11-15",
		  "InstanceType.1=m5.large", "InstanceType.2=c6in.32xlarge");
	query_params_free(p);
	hk_errinfo ei = {0};
	req.n_instance_types = 0;
	assert_int_equal(ec2_build_describe_instance_types(&req, &p, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "DescribeInstanceTypes"));
}

static void describe_subnets_by_tags(void **state)
{
	const char *net[] = {"sig"};
	const char *az[] = {"us-east-1a"};
	ec2_filter f[] = {{"tag:multus.io/network", net, 1}, {"availability-zone", az, 1}};
	ec2_describe_subnets_req req = {.filters = f, .n_filters = 2};
	query_params *p;
	BUILD_OK(ec2_build_describe_subnets(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeSubnets", "Version=2016-11-15",
		  "Filter.1.Name=tag:multus.io/network", "Filter.1.Value.1=sig",
		  "Filter.2.Name=availability-zone", "Filter.2.Value.1=us-east-1a",
		  "MaxResults=1000");
	query_params_free(p);
}

static void describe_subnets_by_ids(void **state)
{
	const char *ids[] = {"subnet-a"};
	ec2_describe_subnets_req req = {.subnet_ids = ids, .n_subnet_ids = 1};
	query_params *p;
	BUILD_OK(ec2_build_describe_subnets(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeSubnets", "Version=2016-11-15", "SubnetId.1=subnet-a");
	query_params_free(p);
	const char *bad[] = {""};
	req.subnet_ids = bad;
	assert_int_equal(ec2_build_describe_subnets(&req, &p, NULL), HK_ERR_INVALID);
}

static void describe_network_interfaces_filters(void **state)
{
	const char *subnets[] = {"subnet-a", "subnet-b"};
	const char *none[] = {"x"};
	const char *status[] = {"available"};
	ec2_filter f[] = {{"subnet-id", subnets, 2},
			  {"tag-key", (const char *[]){"multus-hookd/instance-id"}, 1},
			  {"tag:multus-hookd/network", none, 1},
			  {"status", status, 1}};
	ec2_describe_network_interfaces_req req = {.filters = f, .n_filters = 4};
	query_params *p;
	BUILD_OK(ec2_build_describe_network_interfaces(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeNetworkInterfaces", "Version=2016-11-15",
		  "Filter.1.Name=subnet-id", "Filter.1.Value.1=subnet-a",
		  "Filter.1.Value.2=subnet-b", "Filter.2.Name=tag-key",
		  "Filter.2.Value.1=multus-hookd/instance-id",
		  "Filter.3.Name=tag:multus-hookd/network", "Filter.3.Value.1=x",
		  "Filter.4.Name=status", "Filter.4.Value.1=available", "MaxResults=1000");
	query_params_free(p);
	req.max_results = 5;
	BUILD_OK(ec2_build_describe_network_interfaces(&req, &p, NULL));
	assert_string_equal(query_get(p, "MaxResults"), "5");
	query_params_free(p);
	/* AWS's range with filters is 5..1000. */
	req.max_results = 4;
	assert_int_equal(ec2_build_describe_network_interfaces(&req, &p, NULL), HK_ERR_INVALID);
	req.max_results = 1001;
	assert_int_equal(ec2_build_describe_network_interfaces(&req, &p, NULL), HK_ERR_INVALID);
	/* A filter without values is refused, not sent half-built. */
	ec2_filter empty[] = {{"subnet-id", NULL, 0}};
	ec2_describe_network_interfaces_req r2 = {.filters = empty, .n_filters = 1};
	assert_int_equal(ec2_build_describe_network_interfaces(&r2, &p, NULL), HK_ERR_INVALID);
}

static void describe_network_interfaces_by_ids(void **state)
{
	const char *ids[] = {"eni-1", "eni-2"};
	ec2_describe_network_interfaces_req req = {.eni_ids = ids, .n_eni_ids = 2};
	query_params *p;
	BUILD_OK(ec2_build_describe_network_interfaces(&req, &p, NULL));
	/* No MaxResults: AWS refuses it together with ids. */
	CT_PARAMS(p, "Action=DescribeNetworkInterfaces", "Version=2016-11-15",
		  "NetworkInterfaceId.1=eni-1", "NetworkInterfaceId.2=eni-2");
	query_params_free(p);
}

static void get_subnet_cidr_reservations(void **state)
{
	const char *t[] = {"explicit"};
	ec2_filter f[] = {{"reservationType", t, 1}};
	ec2_get_subnet_cidr_reservations_req req = {
	    .subnet_id = "subnet-a", .filters = f, .n_filters = 1};
	query_params *p;
	BUILD_OK(ec2_build_get_subnet_cidr_reservations(&req, &p, NULL));
	CT_PARAMS(p, "Action=GetSubnetCidrReservations", "Version=2016-11-15", "SubnetId=subnet-a",
		  "Filter.1.Name=reservationType", "Filter.1.Value.1=explicit", "MaxResults=1000");
	query_params_free(p);
	req.subnet_id = NULL;
	assert_int_equal(ec2_build_get_subnet_cidr_reservations(&req, &p, NULL), HK_ERR_INVALID);
}

static void create_subnet_cidr_reservation(void **state)
{
	ec2_tag tags[] = {{"multus-hookd/pool", "pods"}};
	ec2_create_subnet_cidr_reservation_req req = {.subnet_id = "subnet-a",
						      .cidr = "10.0.1.128/26",
						      .type = EC2_RESERVATION_EXPLICIT,
						      .description = "pods",
						      .tags = tags,
						      .n_tags = 1};
	query_params *p;
	BUILD_OK(ec2_build_create_subnet_cidr_reservation(&req, &p, NULL));
	CT_PARAMS(p, "Action=CreateSubnetCidrReservation", "Version=2016-11-15",
		  "SubnetId=subnet-a", "Cidr=10.0.1.128/26", "ReservationType=explicit",
		  "Description=pods", "TagSpecification.1.ResourceType=subnet-cidr-reservation",
		  "TagSpecification.1.Tag.1.Key=multus-hookd/pool",
		  "TagSpecification.1.Tag.1.Value=pods");
	query_params_free(p);
	ec2_create_subnet_cidr_reservation_req r2 = {
	    .subnet_id = "subnet-a", .cidr = "2600::/80", .type = EC2_RESERVATION_PREFIX};
	BUILD_OK(ec2_build_create_subnet_cidr_reservation(&r2, &p, NULL));
	CT_PARAMS(p, "Action=CreateSubnetCidrReservation", "Version=2016-11-15",
		  "SubnetId=subnet-a", "Cidr=2600::/80", "ReservationType=prefix");
	query_params_free(p);
	r2.cidr = NULL;
	assert_int_equal(ec2_build_create_subnet_cidr_reservation(&r2, &p, NULL), HK_ERR_INVALID);
}

static void delete_subnet_cidr_reservation(void **state)
{
	ec2_delete_subnet_cidr_reservation_req req = {.reservation_id = "scr-1"};
	query_params *p;
	BUILD_OK(ec2_build_delete_subnet_cidr_reservation(&req, &p, NULL));
	CT_PARAMS(p, "Action=DeleteSubnetCidrReservation", "Version=2016-11-15",
		  "SubnetCidrReservationId=scr-1");
	query_params_free(p);
	req.reservation_id = "";
	assert_int_equal(ec2_build_delete_subnet_cidr_reservation(&req, &p, NULL), HK_ERR_INVALID);
}

static void create_network_interface_full(void **state)
{
	const char *sgs[] = {"sg-1", "sg-2"};
	const char *v6[] = {"2001:db8::5"};
	ec2_tag tags[] = {{"node.k8s.amazonaws.com/no_manage", "true"},
			  {"multus-hookd/device-index", "1"}};
	ec2_create_network_interface_req req = {.subnet_id = "subnet-1",
						.security_group_ids = sgs,
						.n_security_group_ids = 2,
						.private_ip = "10.0.0.5",
						.secondary_ip_count = 2,
						.ipv6_addresses = v6,
						.n_ipv6_addresses = 1,
						.tags = tags,
						.n_tags = 2,
						.description = "multus eth1",
						.client_token = "i-1-sig-1"};
	query_params *p;
	BUILD_OK(ec2_build_create_network_interface(&req, &p, NULL));
	CT_PARAMS(p, "Action=CreateNetworkInterface", "Version=2016-11-15", "SubnetId=subnet-1",
		  "Description=multus eth1", "SecurityGroupId.1=sg-1", "SecurityGroupId.2=sg-2",
		  "PrivateIpAddress=10.0.0.5", "SecondaryPrivateIpAddressCount=2",
		  "Ipv6Addresses.1.Ipv6Address=2001:db8::5",
		  "TagSpecification.1.ResourceType=network-interface",
		  "TagSpecification.1.Tag.1.Key=node.k8s.amazonaws.com/no_manage",
		  "TagSpecification.1.Tag.1.Value=true",
		  "TagSpecification.1.Tag.2.Key=multus-hookd/device-index",
		  "TagSpecification.1.Tag.2.Value=1", "ClientToken=i-1-sig-1");
	query_params_free(p);
}

static void create_network_interface_dhcp(void **state)
{
	ec2_create_network_interface_req req = {.subnet_id = "subnet-1", .ipv6_count = 1};
	query_params *p;
	BUILD_OK(ec2_build_create_network_interface(&req, &p, NULL));
	/* No PrivateIpAddress: EC2 picks (DHCP mode). */
	CT_PARAMS(p, "Action=CreateNetworkInterface", "Version=2016-11-15", "SubnetId=subnet-1",
		  "Ipv6AddressCount=1");
	query_params_free(p);
}

static void create_network_interface_refused(void **state)
{
	query_params *p = NULL;
	hk_errinfo ei = {0};
	ec2_create_network_interface_req none = {0};
	assert_int_equal(ec2_build_create_network_interface(&none, &p, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "subnet_id"));
	const char *v6[] = {"2001:db8::5"};
	ec2_create_network_interface_req both = {
	    .subnet_id = "s", .ipv6_count = 1, .ipv6_addresses = v6, .n_ipv6_addresses = 1};
	assert_int_equal(ec2_build_create_network_interface(&both, &p, &ei), HK_ERR_INVALID);
	char tok[80];
	memset(tok, 'x', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	ec2_create_network_interface_req longtok = {.subnet_id = "s", .client_token = tok};
	assert_int_equal(ec2_build_create_network_interface(&longtok, &p, &ei), HK_ERR_INVALID);
	ec2_tag badtag[] = {{"", "v"}};
	ec2_create_network_interface_req tagreq = {.subnet_id = "s", .tags = badtag, .n_tags = 1};
	assert_int_equal(ec2_build_create_network_interface(&tagreq, &p, &ei), HK_ERR_INVALID);
	assert_null(p);
}

static void attach_network_interface(void **state)
{
	ec2_attach_network_interface_req req = {
	    .eni_id = "eni-1", .instance_id = "i-1", .device_index = 2};
	query_params *p;
	BUILD_OK(ec2_build_attach_network_interface(&req, &p, NULL));
	CT_PARAMS(p, "Action=AttachNetworkInterface", "Version=2016-11-15",
		  "NetworkInterfaceId=eni-1", "InstanceId=i-1", "DeviceIndex=2");
	query_params_free(p);
	req.set_network_card_index = true;
	req.network_card_index = 1;
	BUILD_OK(ec2_build_attach_network_interface(&req, &p, NULL));
	CT_PARAMS(p, "Action=AttachNetworkInterface", "Version=2016-11-15",
		  "NetworkInterfaceId=eni-1", "InstanceId=i-1", "DeviceIndex=2",
		  "NetworkCardIndex=1");
	query_params_free(p);
	req.instance_id = NULL;
	assert_int_equal(ec2_build_attach_network_interface(&req, &p, NULL), HK_ERR_INVALID);
}

static void detach_and_delete(void **state)
{
	ec2_detach_network_interface_req d = {.attachment_id = "eni-attach-1", .force = true};
	query_params *p;
	BUILD_OK(ec2_build_detach_network_interface(&d, &p, NULL));
	CT_PARAMS(p, "Action=DetachNetworkInterface", "Version=2016-11-15",
		  "AttachmentId=eni-attach-1", "Force=true");
	query_params_free(p);
	d.force = false;
	BUILD_OK(ec2_build_detach_network_interface(&d, &p, NULL));
	CT_PARAMS(p, "Action=DetachNetworkInterface", "Version=2016-11-15",
		  "AttachmentId=eni-attach-1");
	query_params_free(p);
	ec2_delete_network_interface_req del = {.eni_id = "eni-1"};
	BUILD_OK(ec2_build_delete_network_interface(&del, &p, NULL));
	CT_PARAMS(p, "Action=DeleteNetworkInterface", "Version=2016-11-15",
		  "NetworkInterfaceId=eni-1");
	query_params_free(p);
}

static void modify_attributes(void **state)
{
	query_params *p;
	BUILD_OK(ec2_build_modify_source_dest_check("eni-1", false, &p, NULL));
	CT_PARAMS(p, "Action=ModifyNetworkInterfaceAttribute", "Version=2016-11-15",
		  "NetworkInterfaceId=eni-1", "SourceDestCheck.Value=false");
	query_params_free(p);
	BUILD_OK(ec2_build_modify_delete_on_termination("eni-1", "eni-attach-1", true, &p, NULL));
	CT_PARAMS(p, "Action=ModifyNetworkInterfaceAttribute", "Version=2016-11-15",
		  "NetworkInterfaceId=eni-1", "Attachment.AttachmentId=eni-attach-1",
		  "Attachment.DeleteOnTermination=true");
	query_params_free(p);
	assert_int_equal(ec2_build_modify_delete_on_termination("eni-1", NULL, true, &p, NULL),
			 HK_ERR_INVALID);
}

static void assign_ipv6(void **state)
{
	ec2_assign_ipv6_addresses_req req = {.eni_id = "eni-1", .count = 2};
	query_params *p;
	BUILD_OK(ec2_build_assign_ipv6_addresses(&req, &p, NULL));
	CT_PARAMS(p, "Action=AssignIpv6Addresses", "Version=2016-11-15", "NetworkInterfaceId=eni-1",
		  "Ipv6AddressCount=2");
	query_params_free(p);
	const char *a[] = {"2001:db8::1", "2001:db8::2"};
	ec2_assign_ipv6_addresses_req r2 = {.eni_id = "eni-1", .addresses = a, .n_addresses = 2};
	BUILD_OK(ec2_build_assign_ipv6_addresses(&r2, &p, NULL));
	CT_PARAMS(p, "Action=AssignIpv6Addresses", "Version=2016-11-15", "NetworkInterfaceId=eni-1",
		  "Ipv6Addresses.1=2001:db8::1", "Ipv6Addresses.2=2001:db8::2");
	query_params_free(p);
	r2.count = 1;
	assert_int_equal(ec2_build_assign_ipv6_addresses(&r2, &p, NULL), HK_ERR_INVALID);
	ec2_assign_ipv6_addresses_req r3 = {.eni_id = "eni-1"};
	assert_int_equal(ec2_build_assign_ipv6_addresses(&r3, &p, NULL), HK_ERR_INVALID);
}

static void create_tags(void **state)
{
	const char *res[] = {"eni-1", "eni-2"};
	ec2_tag tags[] = {{"k", "v"}, {"empty", NULL}};
	ec2_create_tags_req req = {
	    .resource_ids = res, .n_resource_ids = 2, .tags = tags, .n_tags = 2};
	query_params *p;
	BUILD_OK(ec2_build_create_tags(&req, &p, NULL));
	CT_PARAMS(p, "Action=CreateTags", "Version=2016-11-15", "ResourceId.1=eni-1",
		  "ResourceId.2=eni-2", "Tag.1.Key=k", "Tag.1.Value=v", "Tag.2.Key=empty",
		  "Tag.2.Value=");
	query_params_free(p);
	req.n_tags = 0;
	assert_int_equal(ec2_build_create_tags(&req, &p, NULL), HK_ERR_INVALID);
}

static void complete_lifecycle_action(void **state)
{
	asg_lifecycle_action_req req = {.hook_name = "multus",
					.group_name = "workers",
					.token = "00000000-0000-0000-0000-000000000001",
					.instance_id = "i-1",
					.result = ASG_RESULT_CONTINUE};
	query_params *p;
	BUILD_OK(asg_build_complete_lifecycle_action(&req, &p, NULL));
	CT_PARAMS(p, "Action=CompleteLifecycleAction", "Version=2011-01-01",
		  "LifecycleHookName=multus", "AutoScalingGroupName=workers",
		  "LifecycleActionToken=00000000-0000-0000-0000-000000000001",
		  "LifecycleActionResult=CONTINUE", "InstanceId=i-1");
	query_params_free(p);
	req.token = NULL;
	req.result = ASG_RESULT_ABANDON;
	BUILD_OK(asg_build_complete_lifecycle_action(&req, &p, NULL));
	CT_PARAMS(p, "Action=CompleteLifecycleAction", "Version=2011-01-01",
		  "LifecycleHookName=multus", "AutoScalingGroupName=workers",
		  "LifecycleActionResult=ABANDON", "InstanceId=i-1");
	query_params_free(p);
	req.instance_id = NULL;
	assert_int_equal(asg_build_complete_lifecycle_action(&req, &p, NULL), HK_ERR_INVALID);
	req.instance_id = "i-1";
	req.result = (asg_lifecycle_result)7;
	assert_int_equal(asg_build_complete_lifecycle_action(&req, &p, NULL), HK_ERR_INVALID);
}

static void record_heartbeat(void **state)
{
	asg_lifecycle_action_req req = {.hook_name = "multus",
					.group_name = "workers",
					.token = "tok",
					.result = ASG_RESULT_ABANDON /* ignored */};
	query_params *p;
	BUILD_OK(asg_build_record_heartbeat(&req, &p, NULL));
	CT_PARAMS(p, "Action=RecordLifecycleActionHeartbeat", "Version=2011-01-01",
		  "LifecycleHookName=multus", "AutoScalingGroupName=workers",
		  "LifecycleActionToken=tok");
	query_params_free(p);
}

static void describe_lifecycle_hooks(void **state)
{
	const char *names[] = {"a", "b"};
	asg_describe_lifecycle_hooks_req req = {
	    .group_name = "workers", .hook_names = names, .n_hook_names = 2};
	query_params *p;
	BUILD_OK(asg_build_describe_lifecycle_hooks(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeLifecycleHooks", "Version=2011-01-01",
		  "AutoScalingGroupName=workers", "LifecycleHookNames.member.1=a",
		  "LifecycleHookNames.member.2=b");
	query_params_free(p);
	req.group_name = NULL;
	assert_int_equal(asg_build_describe_lifecycle_hooks(&req, &p, NULL), HK_ERR_INVALID);
}

static void describe_groups(void **state)
{
	const char *names[] = {"a", "b"};
	asg_describe_groups_req req = {.group_names = names, .n_group_names = 2};
	query_params *p;
	BUILD_OK(asg_build_describe_groups(&req, &p, NULL));
	CT_PARAMS(p, "Action=DescribeAutoScalingGroups", "Version=2011-01-01",
		  "AutoScalingGroupNames.member.1=a", "AutoScalingGroupNames.member.2=b",
		  "MaxRecords=100");
	query_params_free(p);
}

static void sts_requests(void **state)
{
	query_params *p;
	BUILD_OK(sts_build_get_caller_identity(&p, NULL));
	CT_PARAMS(p, "Action=GetCallerIdentity", "Version=2011-06-15");
	query_params_free(p);
	sts_assume_role_web_identity_req req = {.role_arn = "arn:aws:iam::123456789012:role/r",
						.session_name = "hookd",
						.web_identity_token = "eyJtoken",
						.duration_s = 900};
	BUILD_OK(sts_build_assume_role_web_identity(&req, &p, NULL));
	CT_PARAMS(p, "Action=AssumeRoleWithWebIdentity", "Version=2011-06-15",
		  "RoleArn=arn:aws:iam::123456789012:role/r", "RoleSessionName=hookd",
		  "WebIdentityToken=eyJtoken", "DurationSeconds=900");
	query_params_free(p);
	req.web_identity_token = NULL;
	assert_int_equal(sts_build_assume_role_web_identity(&req, &p, NULL), HK_ERR_INVALID);
}

static void sns_requests(void **state)
{
	query_params *p;
	sns_publish_req req = {.topic_arn = "arn:aws:sns:us-east-1:123456789012:t",
			       .message = "{\"kind\":\"launch_abandoned\"}",
			       .subject = "s"};
	BUILD_OK(sns_build_publish(&req, &p, NULL));
	CT_PARAMS(p, "Action=Publish", "Version=2010-03-31",
		  "TopicArn=arn:aws:sns:us-east-1:123456789012:t",
		  "Message={\"kind\":\"launch_abandoned\"}", "Subject=s");
	query_params_free(p);
	req.subject = NULL;
	BUILD_OK(sns_build_publish(&req, &p, NULL));
	CT_PARAMS(p, "Action=Publish", "Version=2010-03-31",
		  "TopicArn=arn:aws:sns:us-east-1:123456789012:t",
		  "Message={\"kind\":\"launch_abandoned\"}");
	query_params_free(p);
	req.message = "";
	assert_int_equal(sns_build_publish(&req, &p, NULL), HK_ERR_INVALID);
	char *big = malloc(256 * 1024 + 2);
	assert_non_null(big);
	memset(big, 'x', 256 * 1024 + 1);
	big[256 * 1024 + 1] = '\0';
	req.message = big;
	assert_int_equal(sns_build_publish(&req, &p, NULL), HK_ERR_TOO_LARGE);
	free(big);
}

static void expect_json(json_t *body, const char *want)
{
	char *s = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	json_decref(body);
}

static void sqs_bodies(void **state)
{
	const char *attrs[] = {"All"};
	sqs_receive_req req = {.queue_url = "http://q/1/hooks",
			       .max_messages = 10,
			       .wait_time_s = 20,
			       .visibility_timeout_s = 60,
			       .attribute_names = attrs,
			       .n_attribute_names = 1};
	json_t *b;
	BUILD_OK(sqs_build_receive(&req, &b, NULL));
	expect_json(b, "{\"MaxNumberOfMessages\":10,\"MessageSystemAttributeNames\":[\"All\"],"
		       "\"QueueUrl\":\"http://q/1/hooks\",\"VisibilityTimeout\":60,"
		       "\"WaitTimeSeconds\":20}");
	sqs_receive_req dflt = {.queue_url = "u", .visibility_timeout_s = -1};
	BUILD_OK(sqs_build_receive(&dflt, &b, NULL));
	expect_json(b, "{\"MaxNumberOfMessages\":1,\"QueueUrl\":\"u\",\"WaitTimeSeconds\":0}");
	req.wait_time_s = 21;
	assert_int_equal(sqs_build_receive(&req, &b, NULL), HK_ERR_INVALID);
	req.wait_time_s = 0;
	req.max_messages = 11;
	assert_int_equal(sqs_build_receive(&req, &b, NULL), HK_ERR_INVALID);
	BUILD_OK(sqs_build_delete("u", "rh", &b, NULL));
	expect_json(b, "{\"QueueUrl\":\"u\",\"ReceiptHandle\":\"rh\"}");
	BUILD_OK(sqs_build_change_visibility("u", "rh", 0, &b, NULL));
	expect_json(b, "{\"QueueUrl\":\"u\",\"ReceiptHandle\":\"rh\",\"VisibilityTimeout\":0}");
	assert_int_equal(sqs_build_delete("u", "", &b, NULL), HK_ERR_INVALID);
}

/* The list converts to query.c's params with every entry and a NextToken, and
 * encodes as the sorted, percent-encoded form body. */
static void to_query_encoding(void **state)
{
	ec2_tag tags[] = {{"a b", "x/y"}};
	ec2_create_tags_req req = {.resource_ids = (const char *[]){"eni-1"},
				   .n_resource_ids = 1,
				   .tags = tags,
				   .n_tags = 1};
	query_params *p;
	BUILD_OK(ec2_build_create_tags(&req, &p, NULL));
	query_params *q;
	BUILD_OK(cq_page_params(p, "tok/1=", &q));
	assert_string_equal(query_get(q, "Tag.1.Key"), "a b");
	assert_string_equal(query_get(q, "NextToken"), "tok/1=");
	char *body;
	size_t len;
	BUILD_OK(query_encode(q, &body, &len));
	/* query.c keeps insertion order (botocore's); NextToken goes last. */
	assert_string_equal(body, "Action=CreateTags&Version=2016-11-15&ResourceId.1=eni-1&"
				  "Tag.1.Key=a+b&Tag.1.Value=x%2Fy&NextToken=tok%2F1%3D");
	free(body);
	query_params_free(q);
	query_params_free(p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(describe_instances_by_ids),
    cmocka_unit_test(describe_instances_filters_page),
    cmocka_unit_test(describe_instance_types),
    cmocka_unit_test(describe_subnets_by_tags),
    cmocka_unit_test(describe_subnets_by_ids),
    cmocka_unit_test(describe_network_interfaces_filters),
    cmocka_unit_test(describe_network_interfaces_by_ids),
    cmocka_unit_test(get_subnet_cidr_reservations),
    cmocka_unit_test(create_subnet_cidr_reservation),
    cmocka_unit_test(delete_subnet_cidr_reservation),
    cmocka_unit_test(create_network_interface_full),
    cmocka_unit_test(create_network_interface_dhcp),
    cmocka_unit_test(create_network_interface_refused),
    cmocka_unit_test(attach_network_interface),
    cmocka_unit_test(detach_and_delete),
    cmocka_unit_test(modify_attributes),
    cmocka_unit_test(assign_ipv6),
    cmocka_unit_test(create_tags),
    cmocka_unit_test(complete_lifecycle_action),
    cmocka_unit_test(record_heartbeat),
    cmocka_unit_test(describe_lifecycle_hooks),
    cmocka_unit_test(describe_groups),
    cmocka_unit_test(sts_requests),
    cmocka_unit_test(sns_requests),
    cmocka_unit_test(sqs_bodies),
    cmocka_unit_test(to_query_encoding),
};

HK_TEST_MAIN(tests)
