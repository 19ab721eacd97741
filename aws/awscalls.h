/* aws/: the typed AWS calls. One asynchronous function per AWS action, taking a
 * plain C request struct and delivering a plain C result struct. Built on
 * awc_query() (EC2, Auto Scaling, STS: Query protocol, XML) and awc_json() (SQS).
 * Implemented in ec2_describe.c, ec2_eni.c, asg.c, sts.c, sqs.c, calls_driver.c.
 * See docs/aws-calls.md.
 *
 * Conventions, the same for every call:
 *
 * - Calling: `hk_err ec2_xxx(awc_client *c, const ec2_xxx_req *req, ec2_xxx_fn done,
 *   void *arg, const awc_call_opts *opts)`. `opts` (NULL: defaults) are the
 *   call's own options: its retry window (deadline_us) covers every page, its
 *   timeout each request; idempotency is the call's own. The request and
 *   everything it points to are borrowed: they are
 *   copied before the function returns. A non-HK_OK return means the call was not
 *   started (HK_ERR_INVALID names a missing or contradictory request field,
 *   HK_ERR_NOMEM) and `done` will NOT run. HK_OK means `done` runs exactly once,
 *   always later from the event loop, never from inside the call.
 *
 * - The callback gets (res, out, arg). `res` (awc.h) is the error information:
 *   res->err is HK_OK on success, else the classified error with res->aws_code
 *   ("InvalidIPAddress.InUse", "AttachmentLimitExceeded", ...), res->aws_message,
 *   res->request_id and res->errtext (one line for logs). A response whose
 *   document lacks a required element or has a malformed value is HK_ERR_PARSE
 *   (errtext names the element); a list longer than its cap (hk_caps.h) is
 *   HK_ERR_TOO_LARGE; a Describe that keeps paging past HK_CAP_AWS_PAGES is
 *   HK_ERR_TOO_LARGE. `out` is non-NULL exactly when res->err == HK_OK.
 *
 * - Ownership of `out`: borrowed, valid until the callback returns, then freed.
 *   To keep it, call awscalls_keep(out) inside the callback; the caller then owns
 *   it and releases it with awscalls_free() (or the type's own _free()). All the
 *   strings and arrays inside an `out` live and die with it.
 *
 * - Strings in results are NUL-terminated UTF-8 as AWS sent them; an optional
 *   element AWS did not send is NULL (strings) or the documented default (numbers,
 *   booleans). Arrays come as (pointer, n_count); pointer is NULL when n is 0.
 *
 * - Describe calls that AWS paginates follow NextToken themselves (MaxResults
 *   where AWS allows it) and deliver every page concatenated, once.
 *
 * - Retries are the client core's (awc.h). Each call tells it whether a retry
 *   after an ambiguous failure is safe (docs/aws-calls.md has the table): reads and
 *   set-to-a-value writes are; CreateNetworkInterface only with a client_token. */
#ifndef AWS_AWSCALLS_H
#define AWS_AWSCALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awc.h"
#include "hk_common.h"

/* ---- ownership of results ---------------------------------------------- */

/* Keep a result past its callback: returns `out` (now owned by the caller, who
 * frees it with awscalls_free()). Only valid on an `out` handed to a callback,
 * during that callback; calling it twice is harmless. NULL-safe. */
void *awscalls_keep(const void *out);
/* Free a result kept with awscalls_keep(). NULL-safe. Safe inside the callback
 * that kept it too (the result is then released when the callback returns). */
void awscalls_free(void *out);
/* Defines `static void name(res, out, arg)`, a callback of a call whose
 * result is kept: with arg as T *x, it stores awscalls_keep(out) in
 * x->member when the call succeeded, else calls fail(x, call, res) (call: the
 * action's name); then done(x) either way. */
#define AWSCALLS_KEEP_CB(name, out_t, T, member, call, fail, done)                                 \
	static void name(const awc_result *res, const out_t *out, void *arg)                       \
	{                                                                                          \
		T *x = arg;                                                                        \
		if (res->err)                                                                      \
			fail(x, call, res);                                                        \
		else                                                                               \
			x->member = awscalls_keep(out);                                            \
		done(x);                                                                           \
	}

/* ---- shared EC2 types --------------------------------------------------- */

typedef struct ec2_tag {
	const char *key;
	const char *value; /* "" when AWS sent an empty value */
} ec2_tag;

/* A Describe filter: Filter.N.Name = name, Filter.N.Value.M = values[M-1].
 * Names as AWS documents them: "subnet-id", "attachment.instance-id",
 * "tag:KEY", "tag-key", "status", "vpc-id", ... */
typedef struct ec2_filter {
	const char *name;
	const char *const *values;
	size_t n_values;
} ec2_filter;

/* ---- EC2 DescribeInstances ---------------------------------------------- */

typedef struct ec2_describe_instances_req {
	const char *const *instance_ids; /* InstanceId.N */
	size_t n_instance_ids;
	const ec2_filter *filters; /* Filter.N */
	size_t n_filters;
} ec2_describe_instances_req;

typedef struct ec2_instance_eni {
	const char *eni_id;	       /* networkInterfaceId */
	const char *subnet_id;	       /* NULL if absent */
	const char *private_ip;	       /* primary private IPv4, NULL if absent */
	const char *attachment_id;     /* attachment.attachmentId (required) */
	const char *attachment_status; /* attaching|attached|detaching|detached, or NULL */
	unsigned device_index;	       /* attachment.deviceIndex (required) */
	unsigned network_card_index;   /* attachment.networkCardIndex, default 0 */
	bool delete_on_termination;    /* attachment.deleteOnTermination, default false */
} ec2_instance_eni;

typedef struct ec2_instance {
	const char *instance_id;
	const char *instance_type;
	const char *state; /* pending|running|shutting-down|terminated|stopping|stopped */
	unsigned state_code;
	const char *az;		/* placement.availabilityZone */
	const char *subnet_id;	/* NULL for a terminated instance */
	const char *vpc_id;	/* NULL if absent */
	const char *private_ip; /* NULL if absent */
	const ec2_tag *tags;
	size_t n_tags;
	const ec2_instance_eni *enis; /* in document order */
	size_t n_enis;
} ec2_instance;

/* Instances of every reservation, flattened, in document order. */
typedef struct ec2_describe_instances_out {
	const ec2_instance *instances;
	size_t n_instances;
} ec2_describe_instances_out;

typedef void (*ec2_describe_instances_fn)(const awc_result *res,
					  const ec2_describe_instances_out *out, void *arg);
/* DescribeInstances (paginated; MaxResults=1000 when no instance ids are given). */
HK_MUST_CHECK hk_err ec2_describe_instances(awc_client *c, const ec2_describe_instances_req *req,
					    ec2_describe_instances_fn done, void *arg,
					    const awc_call_opts *opts);
/* Convenience: the instance with `instance_id` in `out`, or NULL. */
const ec2_instance *ec2_instances_find(const ec2_describe_instances_out *out,
				       const char *instance_id);

/* ---- EC2 DescribeInstanceTypes ------------------------------------------ */

typedef struct ec2_describe_instance_types_req {
	const char *const *instance_types; /* InstanceType.N, at least one */
	size_t n_instance_types;
} ec2_describe_instance_types_req;

typedef struct ec2_network_card {
	unsigned index;	   /* networkCardIndex */
	unsigned max_enis; /* maximumNetworkInterfaces on this card */
} ec2_network_card;

typedef struct ec2_instance_type {
	const char *instance_type;
	unsigned max_enis;		     /* networkInfo.maximumNetworkInterfaces */
	unsigned ipv4_per_eni;		     /* ipv4AddressesPerInterface, default 0 */
	unsigned ipv6_per_eni;		     /* ipv6AddressesPerInterface, default 0 */
	bool ipv6_supported;		     /* ipv6Supported, default false */
	unsigned max_network_cards;	     /* maximumNetworkCards, default 1 */
	unsigned default_network_card_index; /* default 0 */
	const ec2_network_card *cards;	     /* networkCards (may be empty) */
	size_t n_cards;
} ec2_instance_type;

typedef struct ec2_describe_instance_types_out {
	const ec2_instance_type *types; /* the types AWS returned */
	size_t n_types;
	bool from_cache; /* every type came from the client's cache (no AWS call) */
} ec2_describe_instance_types_out;

typedef void (*ec2_describe_instance_types_fn)(const awc_result *res,
					       const ec2_describe_instance_types_out *out,
					       void *arg);
/* DescribeInstanceTypes, cached per client: types already known are answered
 * from the cache (still asynchronously, on the next loop turn, with
 * res->attempts == 0); only the others are asked from AWS and then cached. The
 * cache holds at most HK_CAP_AWS_TYPE_CACHE types and lives as long as the
 * client (awsclient_free()). Answering from the cache needs the client's event
 * base, i.e. a client made with awsclient_new(); with a bare awc_client_new()
 * client every call asks AWS. */
HK_MUST_CHECK hk_err ec2_describe_instance_types(awc_client *c,
						 const ec2_describe_instance_types_req *req,
						 ec2_describe_instance_types_fn done, void *arg,
						 const awc_call_opts *opts);
const ec2_instance_type *ec2_instance_types_find(const ec2_describe_instance_types_out *out,
						 const char *instance_type);
/* The max ENIs on network card `card` (the card's own limit when networkCards is
 * present, else max_enis for card 0 and 0 for any other). */
unsigned ec2_instance_type_card_max_enis(const ec2_instance_type *t, unsigned card);

/* ---- EC2 DescribeSubnets ------------------------------------------------ */

typedef struct ec2_describe_subnets_req {
	const char *const *subnet_ids; /* SubnetId.N */
	size_t n_subnet_ids;
	const ec2_filter *filters; /* e.g. {"tag:multus.io/network", {"sig"}} */
	size_t n_filters;
} ec2_describe_subnets_req;

typedef struct ec2_ipv6_cidr {
	const char *cidr;	    /* ipv6CidrBlock */
	const char *association_id; /* NULL if absent */
	const char *state;	    /* ipv6CidrBlockState.state (associated, ...) or NULL */
} ec2_ipv6_cidr;

typedef struct ec2_subnet {
	const char *subnet_id;
	const char *vpc_id;
	const char *cidr; /* IPv4 cidrBlock; NULL for an IPv6-only subnet */
	const char *az;
	const char *az_id; /* NULL if absent */
	const char *state; /* NULL if absent */
	uint64_t available_ips;
	const ec2_ipv6_cidr *ipv6_cidrs;
	size_t n_ipv6_cidrs;
	const ec2_tag *tags;
	size_t n_tags;
} ec2_subnet;

typedef struct ec2_describe_subnets_out {
	const ec2_subnet *subnets;
	size_t n_subnets;
} ec2_describe_subnets_out;

typedef void (*ec2_describe_subnets_fn)(const awc_result *res, const ec2_describe_subnets_out *out,
					void *arg);
/* DescribeSubnets (paginated; MaxResults=1000 when no subnet ids are given). */
HK_MUST_CHECK hk_err ec2_describe_subnets(awc_client *c, const ec2_describe_subnets_req *req,
					  ec2_describe_subnets_fn done, void *arg,
					  const awc_call_opts *opts);

/* ---- EC2 DescribeNetworkInterfaces (and the ENI shape used by Create) ---- */

typedef struct ec2_private_ip {
	const char *address;
	bool primary;
} ec2_private_ip;

typedef struct ec2_eni_attachment {
	const char *attachment_id;
	const char *instance_id; /* NULL if absent (e.g. attached to a service) */
	const char *status;	 /* attaching|attached|detaching|detached, or NULL */
	unsigned device_index;	 /* default 0 */
	unsigned network_card_index;
	bool delete_on_termination;
} ec2_eni_attachment;

typedef struct ec2_eni {
	const char *eni_id;
	const char *subnet_id;
	const char *vpc_id;	    /* NULL if absent */
	const char *az;		    /* NULL if absent */
	const char *description;    /* NULL if absent or empty */
	const char *status;	    /* available|attaching|in-use|detaching|associated */
	const char *mac;	    /* NULL if absent */
	const char *private_ip;	    /* primary private IPv4, NULL if absent */
	const char *interface_type; /* NULL if absent */
	bool source_dest_check;	    /* default true */
	bool requester_managed;	    /* default false */
	bool attached;		    /* an attachment element was present */
	ec2_eni_attachment attachment;
	const ec2_private_ip *private_ips; /* every private IPv4, primary included */
	size_t n_private_ips;
	const char *const *ipv6_addresses;
	size_t n_ipv6_addresses;
	const char *const *ipv4_prefixes; /* delegated prefixes, "10.0.0.16/28" */
	size_t n_ipv4_prefixes;
	const char *const *ipv6_prefixes;
	size_t n_ipv6_prefixes;
	const char *const *security_group_ids;
	size_t n_security_group_ids;
	const ec2_tag *tags;
	size_t n_tags;
} ec2_eni;

typedef struct ec2_describe_network_interfaces_req {
	const char *const *eni_ids; /* NetworkInterfaceId.N */
	size_t n_eni_ids;
	const ec2_filter *filters;
	size_t n_filters;
	/* Page size when no ids are given: 0 = 1000; else 5..1000 (AWS's range). */
	unsigned max_results;
} ec2_describe_network_interfaces_req;

typedef struct ec2_describe_network_interfaces_out {
	const ec2_eni *enis;
	size_t n_enis;
} ec2_describe_network_interfaces_out;

typedef void (*ec2_describe_network_interfaces_fn)(const awc_result *res,
						   const ec2_describe_network_interfaces_out *out,
						   void *arg);
/* DescribeNetworkInterfaces (paginated). */
HK_MUST_CHECK hk_err ec2_describe_network_interfaces(awc_client *c,
						     const ec2_describe_network_interfaces_req *req,
						     ec2_describe_network_interfaces_fn done,
						     void *arg, const awc_call_opts *opts);
/* The value of tag `key` on `eni`, or NULL. */
const char *ec2_eni_tag(const ec2_eni *eni, const char *key);

/* ---- EC2 subnet CIDR reservations --------------------------------------- */

typedef enum ec2_reservation_type {
	EC2_RESERVATION_EXPLICIT = 0,
	EC2_RESERVATION_PREFIX,
} ec2_reservation_type;

typedef struct ec2_cidr_reservation {
	const char *reservation_id; /* subnetCidrReservationId */
	const char *subnet_id;
	const char *cidr;
	ec2_reservation_type type;
	bool ipv6;		 /* came from the IPv6 set */
	const char *description; /* NULL if absent */
	const char *owner_id;	 /* NULL if absent */
	const ec2_tag *tags;
	size_t n_tags;
} ec2_cidr_reservation;

typedef struct ec2_get_subnet_cidr_reservations_req {
	const char *subnet_id; /* required */
	const ec2_filter *filters;
	size_t n_filters;
} ec2_get_subnet_cidr_reservations_req;

typedef struct ec2_get_subnet_cidr_reservations_out {
	const ec2_cidr_reservation *reservations; /* per page: IPv4 ones, then IPv6 */
	size_t n_reservations;
} ec2_get_subnet_cidr_reservations_out;

typedef void (*ec2_get_subnet_cidr_reservations_fn)(const awc_result *res,
						    const ec2_get_subnet_cidr_reservations_out *out,
						    void *arg);
/* GetSubnetCidrReservations (paginated, MaxResults=1000). */
HK_MUST_CHECK hk_err ec2_get_subnet_cidr_reservations(
    awc_client *c, const ec2_get_subnet_cidr_reservations_req *req,
    ec2_get_subnet_cidr_reservations_fn done, void *arg, const awc_call_opts *opts);

typedef struct ec2_create_subnet_cidr_reservation_req {
	const char *subnet_id; /* required */
	const char *cidr;      /* required, IPv4 or IPv6 */
	ec2_reservation_type type;
	const char *description; /* optional */
	const ec2_tag *tags;	 /* optional: TagSpecification.1 (subnet-cidr-reservation) */
	size_t n_tags;
} ec2_create_subnet_cidr_reservation_req;

typedef struct ec2_subnet_cidr_reservation_out {
	ec2_cidr_reservation reservation;
} ec2_subnet_cidr_reservation_out;

typedef void (*ec2_subnet_cidr_reservation_fn)(const awc_result *res,
					       const ec2_subnet_cidr_reservation_out *out,
					       void *arg);
/* CreateSubnetCidrReservation (not retried after an ambiguous failure). */
HK_MUST_CHECK hk_err ec2_create_subnet_cidr_reservation(
    awc_client *c, const ec2_create_subnet_cidr_reservation_req *req,
    ec2_subnet_cidr_reservation_fn done, void *arg, const awc_call_opts *opts);

typedef struct ec2_delete_subnet_cidr_reservation_req {
	const char *reservation_id; /* required */
} ec2_delete_subnet_cidr_reservation_req;

/* DeleteSubnetCidrReservation: `out` describes the deleted reservation. */
HK_MUST_CHECK hk_err ec2_delete_subnet_cidr_reservation(
    awc_client *c, const ec2_delete_subnet_cidr_reservation_req *req,
    ec2_subnet_cidr_reservation_fn done, void *arg, const awc_call_opts *opts);

/* ---- EC2 ENI life cycle ------------------------------------------------- */

typedef struct ec2_create_network_interface_req {
	const char *subnet_id;		       /* required */
	const char *const *security_group_ids; /* SecurityGroupId.N */
	size_t n_security_group_ids;
	const char *private_ip;	     /* PrivateIpAddress; NULL = EC2 picks (DHCP mode) */
	unsigned secondary_ip_count; /* SecondaryPrivateIpAddressCount, 0 = none */
	unsigned ipv6_count;	     /* Ipv6AddressCount, 0 = none; exclusive with ipv6_addresses */
	const char *const *ipv6_addresses; /* Ipv6Addresses.N.Ipv6Address */
	size_t n_ipv6_addresses;
	const ec2_tag *tags; /* TagSpecification.1 with ResourceType=network-interface */
	size_t n_tags;
	const char *description;  /* optional */
	const char *client_token; /* optional; makes the call safe to retry (<= 64 ASCII) */
} ec2_create_network_interface_req;

typedef struct ec2_create_network_interface_out {
	ec2_eni eni;		  /* as DescribeNetworkInterfaces would show it */
	const char *client_token; /* echoed by AWS, or NULL */
} ec2_create_network_interface_out;

typedef void (*ec2_create_network_interface_fn)(const awc_result *res,
						const ec2_create_network_interface_out *out,
						void *arg);
HK_MUST_CHECK hk_err ec2_create_network_interface(awc_client *c,
						  const ec2_create_network_interface_req *req,
						  ec2_create_network_interface_fn done, void *arg,
						  const awc_call_opts *opts);

typedef struct ec2_attach_network_interface_req {
	const char *eni_id;	 /* required */
	const char *instance_id; /* required */
	unsigned device_index;
	bool set_network_card_index; /* send NetworkCardIndex (else AWS's default, 0) */
	unsigned network_card_index;
} ec2_attach_network_interface_req;

typedef struct ec2_attach_network_interface_out {
	const char *attachment_id;
	unsigned network_card_index; /* echoed by AWS, default 0 */
} ec2_attach_network_interface_out;

typedef void (*ec2_attach_network_interface_fn)(const awc_result *res,
						const ec2_attach_network_interface_out *out,
						void *arg);
HK_MUST_CHECK hk_err ec2_attach_network_interface(awc_client *c,
						  const ec2_attach_network_interface_req *req,
						  ec2_attach_network_interface_fn done, void *arg,
						  const awc_call_opts *opts);

/* The result of calls that answer only <return>true</return>. AWS's "false"
 * (never seen in practice) is delivered as HK_ERR_AWS with aws_code NULL. */
typedef struct ec2_return_out {
	bool ok; /* always true when delivered */
} ec2_return_out;

typedef void (*ec2_return_fn)(const awc_result *res, const ec2_return_out *out, void *arg);

typedef struct ec2_detach_network_interface_req {
	const char *attachment_id; /* required */
	bool force;
} ec2_detach_network_interface_req;
HK_MUST_CHECK hk_err ec2_detach_network_interface(awc_client *c,
						  const ec2_detach_network_interface_req *req,
						  ec2_return_fn done, void *arg,
						  const awc_call_opts *opts);

typedef struct ec2_delete_network_interface_req {
	const char *eni_id; /* required */
} ec2_delete_network_interface_req;
HK_MUST_CHECK hk_err ec2_delete_network_interface(awc_client *c,
						  const ec2_delete_network_interface_req *req,
						  ec2_return_fn done, void *arg,
						  const awc_call_opts *opts);

/* ModifyNetworkInterfaceAttribute changes one attribute per call: two functions. */
HK_MUST_CHECK hk_err ec2_modify_eni_source_dest_check(awc_client *c, const char *eni_id,
						      bool enabled, ec2_return_fn done, void *arg,
						      const awc_call_opts *opts);
HK_MUST_CHECK hk_err ec2_modify_eni_delete_on_termination(awc_client *c, const char *eni_id,
							  const char *attachment_id, bool enabled,
							  ec2_return_fn done, void *arg,
							  const awc_call_opts *opts);

typedef struct ec2_assign_ipv6_addresses_req {
	const char *eni_id;	      /* required */
	unsigned count;		      /* Ipv6AddressCount; exclusive with addresses */
	const char *const *addresses; /* Ipv6Addresses.N */
	size_t n_addresses;
} ec2_assign_ipv6_addresses_req;

typedef struct ec2_assign_ipv6_addresses_out {
	const char *eni_id;	      /* NULL if absent */
	const char *const *addresses; /* assignedIpv6Addresses */
	size_t n_addresses;
} ec2_assign_ipv6_addresses_out;

typedef void (*ec2_assign_ipv6_addresses_fn)(const awc_result *res,
					     const ec2_assign_ipv6_addresses_out *out, void *arg);
HK_MUST_CHECK hk_err ec2_assign_ipv6_addresses(awc_client *c,
					       const ec2_assign_ipv6_addresses_req *req,
					       ec2_assign_ipv6_addresses_fn done, void *arg,
					       const awc_call_opts *opts);

typedef struct ec2_create_tags_req {
	const char *const *resource_ids; /* ResourceId.N, at least one */
	size_t n_resource_ids;
	const ec2_tag *tags; /* Tag.N.Key / Tag.N.Value, at least one */
	size_t n_tags;
} ec2_create_tags_req;
HK_MUST_CHECK hk_err ec2_create_tags(awc_client *c, const ec2_create_tags_req *req,
				     ec2_return_fn done, void *arg, const awc_call_opts *opts);

/* ---- Auto Scaling ------------------------------------------------------- */

typedef enum asg_lifecycle_result {
	ASG_RESULT_CONTINUE = 0,
	ASG_RESULT_ABANDON,
} asg_lifecycle_result;

typedef struct asg_lifecycle_action_req {
	const char *hook_name;	     /* required */
	const char *group_name;	     /* required */
	const char *token;	     /* LifecycleActionToken; token and/or instance_id */
	const char *instance_id;     /* InstanceId */
	asg_lifecycle_result result; /* CompleteLifecycleAction only */
} asg_lifecycle_action_req;

/* Auto Scaling calls with an empty result. */
typedef struct asg_empty_out {
	const char *request_id; /* ResponseMetadata.RequestId, or NULL */
} asg_empty_out;

typedef void (*asg_empty_fn)(const awc_result *res, const asg_empty_out *out, void *arg);

/* CompleteLifecycleAction (not retried after an ambiguous failure: a second
 * completion answers ValidationError "No active Lifecycle Action found"). */
HK_MUST_CHECK hk_err asg_complete_lifecycle_action(awc_client *c,
						   const asg_lifecycle_action_req *req,
						   asg_empty_fn done, void *arg,
						   const awc_call_opts *opts);
/* RecordLifecycleActionHeartbeat (`result` ignored; safe to retry). */
HK_MUST_CHECK hk_err asg_record_lifecycle_action_heartbeat(awc_client *c,
							   const asg_lifecycle_action_req *req,
							   asg_empty_fn done, void *arg,
							   const awc_call_opts *opts);

typedef struct asg_describe_lifecycle_hooks_req {
	const char *group_name;	       /* required */
	const char *const *hook_names; /* LifecycleHookNames.member.N, optional */
	size_t n_hook_names;
} asg_describe_lifecycle_hooks_req;

typedef struct asg_lifecycle_hook {
	const char *hook_name;
	const char *group_name;
	const char *transition;		   /* autoscaling:EC2_INSTANCE_LAUNCHING|..._TERMINATING */
	const char *default_result;	   /* CONTINUE|ABANDON, or NULL */
	const char *notification_metadata; /* NULL if absent */
	const char *target_arn;		   /* NotificationTargetARN, or NULL */
	const char *role_arn;		   /* RoleARN, or NULL */
	unsigned heartbeat_timeout_s;	   /* default 3600 */
	unsigned global_timeout_s;	   /* default 0 = not sent */
} asg_lifecycle_hook;

typedef struct asg_describe_lifecycle_hooks_out {
	const asg_lifecycle_hook *hooks;
	size_t n_hooks;
} asg_describe_lifecycle_hooks_out;

typedef void (*asg_describe_lifecycle_hooks_fn)(const awc_result *res,
						const asg_describe_lifecycle_hooks_out *out,
						void *arg);
HK_MUST_CHECK hk_err asg_describe_lifecycle_hooks(awc_client *c,
						  const asg_describe_lifecycle_hooks_req *req,
						  asg_describe_lifecycle_hooks_fn done, void *arg,
						  const awc_call_opts *opts);

typedef struct asg_describe_groups_req {
	const char *const *group_names; /* AutoScalingGroupNames.member.N; none = all */
	size_t n_group_names;
} asg_describe_groups_req;

typedef struct asg_instance {
	const char *instance_id;
	const char *az;
	const char *lifecycle_state; /* Pending, Pending:Wait, InService, Terminating:Wait ... */
	const char *health_status;   /* NULL if absent */
	const char *instance_type;   /* NULL if absent */
	bool protected_from_scale_in;
} asg_instance;

typedef struct asg_launch_template {
	const char *id;	     /* LaunchTemplateId, or NULL */
	const char *name;    /* LaunchTemplateName, or NULL */
	const char *version; /* Version, or NULL */
} asg_launch_template;

typedef struct asg_group {
	const char *name;
	const char *arn; /* NULL if absent */
	unsigned min_size, max_size, desired_capacity;
	const char *const *azs; /* AvailabilityZones */
	size_t n_azs;
	const char *const *subnet_ids; /* VPCZoneIdentifier split at commas */
	size_t n_subnet_ids;
	bool has_launch_template; /* LaunchTemplate, else from MixedInstancesPolicy */
	asg_launch_template launch_template;
	const char *launch_configuration; /* LaunchConfigurationName, or NULL */
	const asg_instance *instances;
	size_t n_instances;
	const ec2_tag *tags; /* Tags (Key/Value) */
	size_t n_tags;
} asg_group;

typedef struct asg_describe_groups_out {
	const asg_group *groups;
	size_t n_groups;
} asg_describe_groups_out;

typedef void (*asg_describe_groups_fn)(const awc_result *res, const asg_describe_groups_out *out,
				       void *arg);
/* DescribeAutoScalingGroups (paginated, MaxRecords=100). */
HK_MUST_CHECK hk_err asg_describe_auto_scaling_groups(awc_client *c,
						      const asg_describe_groups_req *req,
						      asg_describe_groups_fn done, void *arg,
						      const awc_call_opts *opts);

/* ---- STS ---------------------------------------------------------------- */

typedef struct sts_caller_identity_out {
	const char *account;
	const char *arn;
	const char *user_id;
} sts_caller_identity_out;

typedef void (*sts_caller_identity_fn)(const awc_result *res, const sts_caller_identity_out *out,
				       void *arg);
HK_MUST_CHECK hk_err sts_get_caller_identity(awc_client *c, sts_caller_identity_fn done, void *arg,
					     const awc_call_opts *opts);

typedef struct sts_assume_role_web_identity_req {
	const char *role_arn;		/* required */
	const char *session_name;	/* required */
	const char *web_identity_token; /* required; a secret: never logged */
	unsigned duration_s;		/* 0 = AWS default */
} sts_assume_role_web_identity_req;

typedef struct sts_credentials_out {
	const char *access_key_id;
	const char *secret_access_key; /* wiped when the result is freed */
	const char *session_token;     /* wiped when the result is freed */
	const char *expiration;	       /* ISO 8601, as sent */
	const char *assumed_role_arn;  /* NULL if absent */
} sts_credentials_out;

typedef void (*sts_credentials_fn)(const awc_result *res, const sts_credentials_out *out,
				   void *arg);
/* AssumeRoleWithWebIdentity. Note: STS does not need signed credentials for
 * this call; the client core decides how it sends it (creds.c may use
 * sts_read_assume_role_web_identity() on its own response instead). */
HK_MUST_CHECK hk_err sts_assume_role_with_web_identity(awc_client *c,
						       const sts_assume_role_web_identity_req *req,
						       sts_credentials_fn done, void *arg,
						       const awc_call_opts *opts);

/* ---- SNS Publish (the failure notices, hook/engine/engine_notify.c) -------- */

typedef struct sns_publish_req {
	const char *topic_arn; /* required */
	const char *message;   /* required, at most 256 KiB */
	const char *subject;   /* optional, at most 100 printable ASCII characters */
} sns_publish_req;

typedef struct sns_publish_out {
	const char *message_id;
} sns_publish_out;

typedef void (*sns_publish_fn)(const awc_result *res, const sns_publish_out *out, void *arg);
/* SNS Publish (Query protocol, 2010-03-31). */
HK_MUST_CHECK hk_err sns_publish(awc_client *c, const sns_publish_req *req, sns_publish_fn done,
				 void *arg, const awc_call_opts *opts);

/* ---- SQS (JSON protocol) ------------------------------------------------ */

typedef struct sqs_receive_req {
	const char *queue_url;		    /* required */
	unsigned max_messages;		    /* 1..10; 0 = 1 */
	unsigned wait_time_s;		    /* 0..20: long poll */
	int visibility_timeout_s;	    /* < 0 = the queue's default */
	const char *const *attribute_names; /* MessageSystemAttributeNames, e.g. "All" */
	size_t n_attribute_names;
} sqs_receive_req;

typedef struct sqs_attribute {
	const char *name;
	const char *value;
} sqs_attribute;

typedef struct sqs_message {
	const char *message_id;
	const char *receipt_handle;
	const char *body;
	size_t body_len;
	const char *md5_of_body;	 /* NULL if absent */
	const sqs_attribute *attributes; /* system attributes (SentTimestamp, ...) */
	size_t n_attributes;
} sqs_message;

typedef struct sqs_receive_out {
	const sqs_message *messages;
	size_t n_messages; /* 0 when the long poll ended empty */
} sqs_receive_out;

typedef void (*sqs_receive_fn)(const awc_result *res, const sqs_receive_out *out, void *arg);
/* ReceiveMessage. The request timeout is raised by wait_time_s. */
HK_MUST_CHECK hk_err sqs_receive_message(awc_client *c, const sqs_receive_req *req,
					 sqs_receive_fn done, void *arg, const awc_call_opts *opts);

typedef struct sqs_empty_out {
	bool ok; /* always true when delivered */
} sqs_empty_out;

typedef void (*sqs_empty_fn)(const awc_result *res, const sqs_empty_out *out, void *arg);
HK_MUST_CHECK hk_err sqs_delete_message(awc_client *c, const char *queue_url,
					const char *receipt_handle, sqs_empty_fn done, void *arg,
					const awc_call_opts *opts);
HK_MUST_CHECK hk_err sqs_change_message_visibility(awc_client *c, const char *queue_url,
						   const char *receipt_handle,
						   unsigned visibility_timeout_s, sqs_empty_fn done,
						   void *arg, const awc_call_opts *opts);

#endif
