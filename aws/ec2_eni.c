/* EC2 writes: ENI create/attach/detach/delete/modify, IPv6 assignment, tags,
 * subnet CIDR reservation create/delete. */
#include "calls_internal.h"

#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"

/* What an invalid entry of a request is, in errors (cq_b_done). */
#define EC2_EMPTY "an empty id, tag key or list entry"

/* ---- subnet CIDR reservations ----------------------------------------------- */

hk_err ec2_build_create_subnet_cidr_reservation(const ec2_create_subnet_cidr_reservation_req *req,
						query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "CreateSubnetCidrReservation";
	if (!req || !cq_set(req->subnet_id) || !cq_set(req->cidr))
		return cq_bad(ei, action, "subnet_id and cidr are required");
	if (req->type != EC2_RESERVATION_EXPLICIT && req->type != EC2_RESERVATION_PREFIX)
		return cq_bad(ei, action, "bad reservation type");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "SubnetId", req->subnet_id);
	cq_b_str(&b, "Cidr", req->cidr);
	cq_b_str(&b, "ReservationType",
		 req->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit");
	cq_b_opt(&b, "Description", req->description);
	if (req->n_tags) {
		cq_b_str(&b, "TagSpecification.1.ResourceType", "subnet-cidr-reservation");
		cq_b_tags(&b, "TagSpecification.1.Tag", req->tags, req->n_tags);
	}
	return cq_b_done(&b, ret, ei);
}

hk_err ec2_build_delete_subnet_cidr_reservation(const ec2_delete_subnet_cidr_reservation_req *req,
						query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DeleteSubnetCidrReservation";
	if (!req || !cq_set(req->reservation_id))
		return cq_bad(ei, action, "reservation_id is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "SubnetCidrReservationId", req->reservation_id);
	return cq_b_done(&b, ret, ei);
}

static void read_one_reservation(cq_rd *r, const xmlDoc *doc, void *outp, const char *el)
{
	ec2_subnet_cidr_reservation_out *o = outp;
	xmlNode *res = cq_x_need(r, cq_x_response(r, doc), el);
	if (r->err)
		return;
	const char *cidr = cq_x_peek(res, "cidr");
	ec2_read_cidr_reservation(r, res, cidr && strchr(cidr, ':') != NULL, &o->reservation);
}

static void ec2_read_create_reservation(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	read_one_reservation(r, doc, outp, "subnetCidrReservation");
}

static void ec2_read_delete_reservation(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	read_one_reservation(r, doc, outp, "deletedSubnetCidrReservation");
}

/* ---- CreateNetworkInterface ------------------------------------------------- */

hk_err ec2_build_create_network_interface(const ec2_create_network_interface_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "CreateNetworkInterface";
	if (!req || !cq_set(req->subnet_id))
		return cq_bad(ei, action, "subnet_id is required");
	if (req->ipv6_count && req->n_ipv6_addresses)
		return cq_bad(ei, action, "ipv6_count and ipv6_addresses are exclusive");
	if (req->client_token && strlen(req->client_token) > 64)
		return cq_bad(ei, action, "client_token longer than 64 characters");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "SubnetId", req->subnet_id);
	cq_b_opt(&b, "Description", req->description);
	cq_b_list(&b, "SecurityGroupId", req->security_group_ids, req->n_security_group_ids);
	cq_b_opt(&b, "PrivateIpAddress", req->private_ip);
	if (req->secondary_ip_count)
		cq_b_uint(&b, "SecondaryPrivateIpAddressCount", req->secondary_ip_count);
	if (req->ipv6_count)
		cq_b_uint(&b, "Ipv6AddressCount", req->ipv6_count);
	for (size_t i = 0; i < req->n_ipv6_addresses; i++)
		cq_b_strf(&b, req->ipv6_addresses ? req->ipv6_addresses[i] : NULL,
			  "Ipv6Addresses.%zu.Ipv6Address", i + 1);
	if (req->n_tags) {
		cq_b_str(&b, "TagSpecification.1.ResourceType", "network-interface");
		cq_b_tags(&b, "TagSpecification.1.Tag", req->tags, req->n_tags);
	}
	cq_b_opt(&b, "ClientToken", req->client_token);
	return cq_b_done(&b, ret, ei);
}

static void ec2_read_create_network_interface(cq_rd *r, const xmlDoc *doc, void *outp,
					      const char **next)
{
	ec2_create_network_interface_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	xmlNode *eni = cq_x_need(r, root, "networkInterface");
	if (r->err)
		return;
	ec2_read_eni(r, eni, &o->eni);
	o->client_token = cq_x_str_opt_nonempty(r, root, "clientToken");
}

hk_err ec2_create_network_interface(awc_client *c, const ec2_create_network_interface_req *req,
				    ec2_create_network_interface_fn done, void *arg,
				    const awc_call_opts *opts)
{
	query_params *p;
	hk_err err = ec2_build_create_network_interface(req, &p, NULL);
	if (err)
		return err;
	const cq_spec *spec = cq_set(req->client_token) ? &ec2_spec_create_network_interface_token
							: &ec2_spec_create_network_interface;
	return cq_start_query(c, spec, p, opts, NULL, NULL, (cq_generic_fn)done, arg);
}

/* ---- AttachNetworkInterface --------------------------------------------------- */

hk_err ec2_build_attach_network_interface(const ec2_attach_network_interface_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "AttachNetworkInterface";
	if (!req || !cq_set(req->eni_id) || !cq_set(req->instance_id))
		return cq_bad(ei, action, "eni_id and instance_id are required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "NetworkInterfaceId", req->eni_id);
	cq_b_str(&b, "InstanceId", req->instance_id);
	cq_b_uint(&b, "DeviceIndex", req->device_index);
	if (req->set_network_card_index)
		cq_b_uint(&b, "NetworkCardIndex", req->network_card_index);
	return cq_b_done(&b, ret, ei);
}

static void ec2_read_attach(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_attach_network_interface_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	o->attachment_id = cq_x_str(r, root, "attachmentId", true);
	o->network_card_index = cq_x_uint(r, root, "networkCardIndex", false, 0);
}

/* ---- calls that answer <return>true</return> ---------------------------------- */

/* AWS sends <return>true</return>; moto sends nothing. "false" means the call
 * did not take effect. */
static void ec2_read_return(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_return_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	if (r->err)
		return;
	o->ok = cq_x_bool(r, root, "return", false, true);
	if (!r->err && !o->ok)
		cq_rd_fail(r, HK_ERR_AWS, "AWS answered <return>false</return>");
}

hk_err ec2_build_detach_network_interface(const ec2_detach_network_interface_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DetachNetworkInterface";
	if (!req || !cq_set(req->attachment_id))
		return cq_bad(ei, action, "attachment_id is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "AttachmentId", req->attachment_id);
	if (req->force)
		cq_b_bool(&b, "Force", true);
	return cq_b_done(&b, ret, ei);
}

hk_err ec2_build_delete_network_interface(const ec2_delete_network_interface_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DeleteNetworkInterface";
	if (!req || !cq_set(req->eni_id))
		return cq_bad(ei, action, "eni_id is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "NetworkInterfaceId", req->eni_id);
	return cq_b_done(&b, ret, ei);
}

hk_err ec2_build_modify_source_dest_check(const char *eni_id, bool enabled, query_params **ret,
					  hk_errinfo *ei)
{
	static const char action[] = "ModifyNetworkInterfaceAttribute";
	if (!cq_set(eni_id))
		return cq_bad(ei, action, "eni_id is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "NetworkInterfaceId", eni_id);
	cq_b_bool(&b, "SourceDestCheck.Value", enabled);
	return cq_b_done(&b, ret, ei);
}

hk_err ec2_build_modify_delete_on_termination(const char *eni_id, const char *attachment_id,
					      bool enabled, query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "ModifyNetworkInterfaceAttribute";
	if (!cq_set(eni_id) || !cq_set(attachment_id))
		return cq_bad(ei, action, "eni_id and attachment_id are required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "NetworkInterfaceId", eni_id);
	cq_b_str(&b, "Attachment.AttachmentId", attachment_id);
	cq_b_bool(&b, "Attachment.DeleteOnTermination", enabled);
	return cq_b_done(&b, ret, ei);
}

hk_err ec2_modify_eni_source_dest_check(awc_client *c, const char *eni_id, bool enabled,
					ec2_return_fn done, void *arg, const awc_call_opts *opts)
{
	query_params *p;
	hk_err err = ec2_build_modify_source_dest_check(eni_id, enabled, &p, NULL);
	if (err)
		return err;
	return cq_start_query(c, &ec2_spec_modify_network_interface_attribute, p, opts, NULL, NULL,
			      (cq_generic_fn)done, arg);
}

hk_err ec2_modify_eni_delete_on_termination(awc_client *c, const char *eni_id,
					    const char *attachment_id, bool enabled,
					    ec2_return_fn done, void *arg,
					    const awc_call_opts *opts)
{
	query_params *p;
	hk_err err =
	    ec2_build_modify_delete_on_termination(eni_id, attachment_id, enabled, &p, NULL);
	if (err)
		return err;
	return cq_start_query(c, &ec2_spec_modify_network_interface_attribute, p, opts, NULL, NULL,
			      (cq_generic_fn)done, arg);
}

hk_err ec2_build_create_tags(const ec2_create_tags_req *req, query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "CreateTags";
	if (!req || req->n_resource_ids == 0 || req->n_tags == 0)
		return cq_bad(ei, action, "at least one resource and one tag are required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_list(&b, "ResourceId", req->resource_ids, req->n_resource_ids);
	cq_b_tags(&b, "Tag", req->tags, req->n_tags);
	return cq_b_done(&b, ret, ei);
}

/* ---- AssignIpv6Addresses ------------------------------------------------------- */

hk_err ec2_build_assign_ipv6_addresses(const ec2_assign_ipv6_addresses_req *req, query_params **ret,
				       hk_errinfo *ei)
{
	static const char action[] = "AssignIpv6Addresses";
	if (!req || !cq_set(req->eni_id))
		return cq_bad(ei, action, "eni_id is required");
	if ((req->count == 0) == (req->n_addresses == 0))
		return cq_bad(ei, action, "exactly one of count and addresses is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "NetworkInterfaceId", req->eni_id);
	if (req->count)
		cq_b_uint(&b, "Ipv6AddressCount", req->count);
	cq_b_list(&b, "Ipv6Addresses", req->addresses, req->n_addresses);
	return cq_b_done(&b, ret, ei);
}

static void ec2_read_assign_ipv6(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_assign_ipv6_addresses_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	if (r->err)
		return;
	o->eni_id = cq_x_str_opt_nonempty(r, root, "networkInterfaceId");
	cq_x_strings(r, root, "assignedIpv6Addresses", "item", NULL, &o->addresses,
		     &o->n_addresses);
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_EC2_ENI)
CQ_DEFINE_STARTS(CQ_STARTS_EC2_ENI)
