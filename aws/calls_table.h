/* The typed AWS calls, one row each (an X-macro table).
 *
 * Each service file ends by expanding its own section of these tables
 * (CQ_DEFINE_SPECS, CQ_DEFINE_STARTS below) into what every call needs and
 * what was once written by hand per call: the delivery trampoline that casts
 * the generic callback back to its real type, the cq_spec, and (for the calls
 * that take one request struct) the start wrapper; calls_internal.h expands
 * the whole tables into the declarations. The request builders and the
 * response readers stay hand-written in the service files (ec2_describe.c,
 * ec2_eni.c, asg.c, sts_msgs.c, sqs.c), above the expansion.
 *
 * CQ_SPECS_*(X): X(spec, callback type, service, "Action", protocol, reader,
 *                  result size, cq_spec fields...)
 *   protocol is xml (Query: the reader is a cq_xml_read) or json (SQS: a
 *   cq_json_read); the result size is CQ_PAGES(T) for paginated calls, whose
 *   reader appends to a page accumulator; the fields start with
 *   `.idempotent` (whether a retry after an ambiguous failure is safe).
 *
 * CQ_STARTS_*(X): X(function, request type, callback type, builder, spec)
 *   hk_err function(awc_client *, const request *, callback, void *arg,
 *                   const awc_call_opts *) builds the parameters with
 *   builder(request, &params, NULL) and starts spec. Calls with other
 *   arguments, a cache or a choice of spec (DescribeInstanceTypes,
 *   CreateNetworkInterface, the Modify pair, GetCallerIdentity, SQS) keep a
 *   hand-written start beside their builder. */
#ifndef AWS_CALLS_TABLE_H
#define AWS_CALLS_TABLE_H

/* The result of a paginated call: the public result and the capacity of its
 * growing item array (the reader's accumulator; same layout as the readers'
 * own struct { T pub; size_t cap; }). */
#define CQ_PAGES(T)                                                                                \
	sizeof(struct {                                                                            \
		T pub;                                                                             \
		size_t cap;                                                                        \
	})

/* clang-format off */
#define CQ_SPECS_EC2_DESCRIBE(X)                                                                   \
	X(ec2_spec_describe_instances, ec2_describe_instances_fn, EC2, "DescribeInstances",         \
	  xml, ec2_read_describe_instances, CQ_PAGES(ec2_describe_instances_out),                  \
	  .idempotent = true, .paginated = true)                                                   \
	X(ec2_spec_describe_instance_types, ec2_describe_instance_types_fn, EC2,                   \
	  "DescribeInstanceTypes", xml, ec2_read_describe_instance_types,                          \
	  CQ_PAGES(ec2_describe_instance_types_out),                                               \
	  .idempotent = true, .paginated = true, .finish = ec2_finish_instance_types)              \
	X(ec2_spec_describe_subnets, ec2_describe_subnets_fn, EC2, "DescribeSubnets",               \
	  xml, ec2_read_describe_subnets, CQ_PAGES(ec2_describe_subnets_out),                      \
	  .idempotent = true, .paginated = true)                                                   \
	X(ec2_spec_describe_network_interfaces, ec2_describe_network_interfaces_fn, EC2,           \
	  "DescribeNetworkInterfaces", xml, ec2_read_describe_network_interfaces,                  \
	  CQ_PAGES(ec2_describe_network_interfaces_out),                                           \
	  .idempotent = true, .paginated = true)                                                   \
	X(ec2_spec_get_subnet_cidr_reservations, ec2_get_subnet_cidr_reservations_fn, EC2,         \
	  "GetSubnetCidrReservations", xml, ec2_read_get_subnet_cidr_reservations,                 \
	  CQ_PAGES(ec2_get_subnet_cidr_reservations_out),                                          \
	  .idempotent = true, .paginated = true)

#define CQ_SPECS_EC2_ENI(X)                                                                        \
	/* A repeated create or delete of a reservation fails or doubles it. */                    \
	X(ec2_spec_create_subnet_cidr_reservation, ec2_subnet_cidr_reservation_fn, EC2,            \
	  "CreateSubnetCidrReservation", xml, ec2_read_create_reservation,                         \
	  sizeof(ec2_subnet_cidr_reservation_out), .idempotent = false)                            \
	X(ec2_spec_delete_subnet_cidr_reservation, ec2_subnet_cidr_reservation_fn, EC2,            \
	  "DeleteSubnetCidrReservation", xml, ec2_read_delete_reservation,                         \
	  sizeof(ec2_subnet_cidr_reservation_out), .idempotent = false)                            \
	/* Without a ClientToken a repeat makes a second ENI; with one, EC2 answers a              \
	 * repeated token with the ENI it already made, so a retry is safe. */                     \
	X(ec2_spec_create_network_interface, ec2_create_network_interface_fn, EC2,                 \
	  "CreateNetworkInterface", xml, ec2_read_create_network_interface,                        \
	  sizeof(ec2_create_network_interface_out), .idempotent = false)                           \
	X(ec2_spec_create_network_interface_token, ec2_create_network_interface_fn, EC2,           \
	  "CreateNetworkInterface", xml, ec2_read_create_network_interface,                        \
	  sizeof(ec2_create_network_interface_out), .idempotent = true)                            \
	/* Attach, detach and delete fail when repeated (the engine re-reads the                   \
	 * ENI instead); modify and tags set a value and may be repeated. */                       \
	X(ec2_spec_attach_network_interface, ec2_attach_network_interface_fn, EC2,                 \
	  "AttachNetworkInterface", xml, ec2_read_attach,                                          \
	  sizeof(ec2_attach_network_interface_out), .idempotent = false)                           \
	X(ec2_spec_detach_network_interface, ec2_return_fn, EC2, "DetachNetworkInterface",         \
	  xml, ec2_read_return, sizeof(ec2_return_out), .idempotent = false)                       \
	X(ec2_spec_delete_network_interface, ec2_return_fn, EC2, "DeleteNetworkInterface",         \
	  xml, ec2_read_return, sizeof(ec2_return_out), .idempotent = false)                       \
	X(ec2_spec_modify_network_interface_attribute, ec2_return_fn, EC2,                         \
	  "ModifyNetworkInterfaceAttribute", xml, ec2_read_return, sizeof(ec2_return_out),         \
	  .idempotent = true)                                                                      \
	X(ec2_spec_create_tags, ec2_return_fn, EC2, "CreateTags",                                  \
	  xml, ec2_read_return, sizeof(ec2_return_out), .idempotent = true)                        \
	/* A repeated count would assign more addresses. */                                        \
	X(ec2_spec_assign_ipv6_addresses, ec2_assign_ipv6_addresses_fn, EC2,                       \
	  "AssignIpv6Addresses", xml, ec2_read_assign_ipv6,                                        \
	  sizeof(ec2_assign_ipv6_addresses_out), .idempotent = false)

#define CQ_SPECS_ASG(X)                                                                            \
	/* A second completion fails ("No active Lifecycle Action found"), so an                   \
	 * ambiguous failure is not retried blindly; a heartbeat may be repeated. */               \
	X(asg_spec_complete_lifecycle_action, asg_empty_fn, AUTOSCALING,                           \
	  "CompleteLifecycleAction", xml, asg_read_empty, sizeof(asg_empty_out),                   \
	  .idempotent = false)                                                                     \
	X(asg_spec_record_heartbeat, asg_empty_fn, AUTOSCALING,                                    \
	  "RecordLifecycleActionHeartbeat", xml, asg_read_empty, sizeof(asg_empty_out),            \
	  .idempotent = true)                                                                      \
	X(asg_spec_describe_lifecycle_hooks, asg_describe_lifecycle_hooks_fn, AUTOSCALING,         \
	  "DescribeLifecycleHooks", xml, asg_read_describe_lifecycle_hooks,                        \
	  sizeof(asg_describe_lifecycle_hooks_out), .idempotent = true)                            \
	X(asg_spec_describe_groups, asg_describe_groups_fn, AUTOSCALING,                           \
	  "DescribeAutoScalingGroups", xml, asg_read_describe_groups,                              \
	  CQ_PAGES(asg_describe_groups_out), .idempotent = true, .paginated = true)

#define CQ_SPECS_STS(X)                                                                            \
	X(sts_spec_get_caller_identity, sts_caller_identity_fn, STS, "GetCallerIdentity",          \
	  xml, sts_read_caller_identity, sizeof(sts_caller_identity_out), .idempotent = true)      \
	/* A repeat only mints other credentials; the answer is a secret. */                       \
	X(sts_spec_assume_role_web_identity, sts_credentials_fn, STS,                              \
	  "AssumeRoleWithWebIdentity", xml, sts_read_assume_role, sizeof(sts_credentials_out),     \
	  .idempotent = true, .sensitive = true)

#define CQ_SPECS_SQS(X)                                                                            \
	/* A repeated receive only delays messages until their visibility timeout;                 \
	 * deleting twice or setting the same visibility twice is harmless. */                     \
	X(sqs_spec_receive, sqs_receive_fn, SQS, "ReceiveMessage",                                 \
	  json, sqs_read_receive, sizeof(sqs_receive_out), .idempotent = true)                     \
	X(sqs_spec_empty, sqs_empty_fn, SQS, "SQS",                                                \
	  json, sqs_read_empty, sizeof(sqs_empty_out), .idempotent = true)

#define CQ_SPECS_SNS(X)                                                                            \
	/* A repeat after an ambiguous failure may deliver the message twice:                      \
	 * notices say so (their receivers dedupe on the notice id). */                            \
	X(sns_spec_publish, sns_publish_fn, SNS, "Publish",                                        \
	  xml, sns_read_publish, sizeof(sns_publish_out), .idempotent = true)

#define CQ_STARTS_SNS(X)                                                                           \
	X(sns_publish, sns_publish_req, sns_publish_fn, sns_build_publish, sns_spec_publish)

#define CQ_STARTS_EC2_DESCRIBE(X)                                                                  \
	X(ec2_describe_instances, ec2_describe_instances_req, ec2_describe_instances_fn,           \
	  ec2_build_describe_instances, ec2_spec_describe_instances)                               \
	X(ec2_describe_subnets, ec2_describe_subnets_req, ec2_describe_subnets_fn,                 \
	  ec2_build_describe_subnets, ec2_spec_describe_subnets)                                   \
	X(ec2_describe_network_interfaces, ec2_describe_network_interfaces_req,                    \
	  ec2_describe_network_interfaces_fn, ec2_build_describe_network_interfaces,               \
	  ec2_spec_describe_network_interfaces)                                                    \
	X(ec2_get_subnet_cidr_reservations, ec2_get_subnet_cidr_reservations_req,                  \
	  ec2_get_subnet_cidr_reservations_fn, ec2_build_get_subnet_cidr_reservations,             \
	  ec2_spec_get_subnet_cidr_reservations)

#define CQ_STARTS_EC2_ENI(X)                                                                       \
	X(ec2_create_subnet_cidr_reservation, ec2_create_subnet_cidr_reservation_req,              \
	  ec2_subnet_cidr_reservation_fn, ec2_build_create_subnet_cidr_reservation,                \
	  ec2_spec_create_subnet_cidr_reservation)                                                 \
	X(ec2_delete_subnet_cidr_reservation, ec2_delete_subnet_cidr_reservation_req,              \
	  ec2_subnet_cidr_reservation_fn, ec2_build_delete_subnet_cidr_reservation,                \
	  ec2_spec_delete_subnet_cidr_reservation)                                                 \
	X(ec2_attach_network_interface, ec2_attach_network_interface_req,                          \
	  ec2_attach_network_interface_fn, ec2_build_attach_network_interface,                     \
	  ec2_spec_attach_network_interface)                                                       \
	X(ec2_detach_network_interface, ec2_detach_network_interface_req, ec2_return_fn,           \
	  ec2_build_detach_network_interface, ec2_spec_detach_network_interface)                   \
	X(ec2_delete_network_interface, ec2_delete_network_interface_req, ec2_return_fn,           \
	  ec2_build_delete_network_interface, ec2_spec_delete_network_interface)                   \
	X(ec2_create_tags, ec2_create_tags_req, ec2_return_fn, ec2_build_create_tags,              \
	  ec2_spec_create_tags)                                                                    \
	X(ec2_assign_ipv6_addresses, ec2_assign_ipv6_addresses_req, ec2_assign_ipv6_addresses_fn,  \
	  ec2_build_assign_ipv6_addresses, ec2_spec_assign_ipv6_addresses)

#define CQ_STARTS_ASG(X)                                                                           \
	X(asg_complete_lifecycle_action, asg_lifecycle_action_req, asg_empty_fn,                   \
	  asg_build_complete_lifecycle_action, asg_spec_complete_lifecycle_action)                 \
	X(asg_record_lifecycle_action_heartbeat, asg_lifecycle_action_req, asg_empty_fn,           \
	  asg_build_record_heartbeat, asg_spec_record_heartbeat)                                   \
	X(asg_describe_lifecycle_hooks, asg_describe_lifecycle_hooks_req,                          \
	  asg_describe_lifecycle_hooks_fn, asg_build_describe_lifecycle_hooks,                     \
	  asg_spec_describe_lifecycle_hooks)                                                       \
	X(asg_describe_auto_scaling_groups, asg_describe_groups_req, asg_describe_groups_fn,       \
	  asg_build_describe_groups, asg_spec_describe_groups)

#define CQ_STARTS_STS(X)                                                                           \
	X(sts_assume_role_with_web_identity, sts_assume_role_web_identity_req, sts_credentials_fn, \
	  sts_build_assume_role_web_identity, sts_spec_assume_role_web_identity)

#define CQ_SPECS(X)                                                                                \
	CQ_SPECS_EC2_DESCRIBE(X) CQ_SPECS_EC2_ENI(X) CQ_SPECS_ASG(X) CQ_SPECS_STS(X) CQ_SPECS_SQS(X) \
	CQ_SPECS_SNS(X)
#define CQ_STARTS(X)                                                                               \
	CQ_STARTS_EC2_DESCRIBE(X) CQ_STARTS_EC2_ENI(X) CQ_STARTS_ASG(X) CQ_STARTS_STS(X)      \
	CQ_STARTS_SNS(X)
/* clang-format on */

/* The trampoline and the spec of every row of `table`. */
#define CQ_DEFINE_SPECS(table) table(CQ_TRAMPOLINE_) table(CQ_SPEC_)
#define CQ_TRAMPOLINE_(spec, fn_type, svc, act, proto, reader, size, ...)                          \
	static void deliver_##spec(cq_generic_fn fn, const awc_result *res, const void *out,       \
				   void *arg)                                                      \
	{                                                                                          \
		((fn_type)fn)(res, out, arg);                                                      \
	}
#define CQ_SPEC_(spec, fn_type, service, act, proto, reader, size, ...)                            \
	const cq_spec spec = {.svc = AWC_SVC_##service,                                            \
			      .action = act,                                                       \
			      .out_size = size,                                                    \
			      .read_##proto = reader,                                              \
			      .deliver = deliver_##spec,                                           \
			      __VA_ARGS__};

/* The start wrapper of every row of `table`. */
#define CQ_DEFINE_STARTS(table) table(CQ_START_)
#define CQ_START_(name, req_type, fn_type, builder, spec)                                          \
	hk_err name(awc_client *c, const req_type *req, fn_type done, void *arg,                   \
		    const awc_call_opts *opts)                                                     \
	{                                                                                          \
		query_params *p;                                                                   \
		hk_err err = builder(req, &p, NULL);                                               \
		if (err)                                                                           \
			return err;                                                                \
		return cq_start_query(c, &spec, p, opts, NULL, NULL, (cq_generic_fn)done, arg);    \
	}

#endif
