/* EC2 writes: ENI create/attach/detach/delete/modify, IPv6 assignment, tags,
 * subnet CIDR reservation create/delete. */
#include "calls_internal.h"

#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"

static hk_err new_params(const char *action, query_params **ret, hk_errinfo *ei)
{
	return cq_new_params(action, CQ_EC2_VERSION, ret, ei);
}

/* Finish a builder (cq_built): on error free the list and name the problem. */
static hk_err built(hk_err err, query_params *p, query_params **ret, hk_errinfo *ei,
		    const char *action)
{
	return cq_built(err, p, ret, ei, action, "an empty id, tag key or list entry");
}

/* The root of a write's response: <ActionResponse>. */
static xmlNode *write_root(cq_rd *r, const xmlDoc *doc)
{
	char name[96];
	snprintf(name, sizeof(name), "%sResponse", r->action);
	return cq_x_root(r, doc, name);
}

/* ---- subnet CIDR reservations ----------------------------------------------- */

hk_err ec2_build_create_subnet_cidr_reservation(const ec2_create_subnet_cidr_reservation_req *req,
						query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "CreateSubnetCidrReservation";
	if (!req || !cq_set(req->subnet_id) || !cq_set(req->cidr))
		return cq_bad(ei, action, "subnet_id and cidr are required");
	if (req->type != EC2_RESERVATION_EXPLICIT && req->type != EC2_RESERVATION_PREFIX)
		return cq_bad(ei, action, "bad reservation type");
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "SubnetId", req->subnet_id);
	if (!err)
		err = query_add(p, "Cidr", req->cidr);
	if (!err)
		err = query_add(p, "ReservationType",
				req->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit");
	if (!err && cq_set(req->description))
		err = query_add(p, "Description", req->description);
	if (!err && req->n_tags) {
		err = query_add(p, "TagSpecification.1.ResourceType", "subnet-cidr-reservation");
		if (!err)
			err = cq_add_tags(p, "TagSpecification.1.Tag", req->tags, req->n_tags);
	}
	return built(err, p, ret, ei, action);
}

hk_err ec2_build_delete_subnet_cidr_reservation(const ec2_delete_subnet_cidr_reservation_req *req,
						query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DeleteSubnetCidrReservation";
	if (!req || !cq_set(req->reservation_id))
		return cq_bad(ei, action, "reservation_id is required");
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "SubnetCidrReservationId", req->reservation_id);
	return built(err, p, ret, ei, action);
}

static void read_one_reservation(cq_rd *r, const xmlDoc *doc, void *outp, const char *el)
{
	ec2_subnet_cidr_reservation_out *o = outp;
	xmlNode *res = cq_x_need(r, write_root(r, doc), el);
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
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "SubnetId", req->subnet_id);
	if (!err && cq_set(req->description))
		err = query_add(p, "Description", req->description);
	if (!err)
		err = cq_add_list(p, "SecurityGroupId", req->security_group_ids,
				  req->n_security_group_ids);
	if (!err && cq_set(req->private_ip))
		err = query_add(p, "PrivateIpAddress", req->private_ip);
	if (!err && req->secondary_ip_count)
		err = cq_add_uint(p, "SecondaryPrivateIpAddressCount", req->secondary_ip_count);
	if (!err && req->ipv6_count)
		err = cq_add_uint(p, "Ipv6AddressCount", req->ipv6_count);
	for (size_t i = 0; !err && i < req->n_ipv6_addresses; i++)
		err = req->ipv6_addresses && cq_set(req->ipv6_addresses[i])
			  ? query_addf(p, req->ipv6_addresses[i], "Ipv6Addresses.%zu.Ipv6Address",
				       i + 1)
			  : HK_ERR_INVALID;
	if (!err && req->n_tags) {
		err = query_add(p, "TagSpecification.1.ResourceType", "network-interface");
		if (!err)
			err = cq_add_tags(p, "TagSpecification.1.Tag", req->tags, req->n_tags);
	}
	if (!err && cq_set(req->client_token))
		err = query_add(p, "ClientToken", req->client_token);
	return built(err, p, ret, ei, action);
}

static void ec2_read_create_network_interface(cq_rd *r, const xmlDoc *doc, void *outp,
					      const char **next)
{
	ec2_create_network_interface_out *o = outp;
	xmlNode *root = write_root(r, doc);
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
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "NetworkInterfaceId", req->eni_id);
	if (!err)
		err = query_add(p, "InstanceId", req->instance_id);
	if (!err)
		err = cq_add_uint(p, "DeviceIndex", req->device_index);
	if (!err && req->set_network_card_index)
		err = cq_add_uint(p, "NetworkCardIndex", req->network_card_index);
	return built(err, p, ret, ei, action);
}

static void ec2_read_attach(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_attach_network_interface_out *o = outp;
	xmlNode *root = write_root(r, doc);
	o->attachment_id = cq_x_str(r, root, "attachmentId", true);
	o->network_card_index = cq_x_uint(r, root, "networkCardIndex", false, 0);
}

/* ---- calls that answer <return>true</return> ---------------------------------- */

/* AWS sends <return>true</return>; moto sends nothing. "false" means the call
 * did not take effect. */
static void ec2_read_return(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_return_out *o = outp;
	xmlNode *root = write_root(r, doc);
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
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "AttachmentId", req->attachment_id);
	if (!err && req->force)
		err = cq_add_bool(p, "Force", true);
	return built(err, p, ret, ei, action);
}

hk_err ec2_build_delete_network_interface(const ec2_delete_network_interface_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DeleteNetworkInterface";
	if (!req || !cq_set(req->eni_id))
		return cq_bad(ei, action, "eni_id is required");
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "NetworkInterfaceId", req->eni_id);
	return built(err, p, ret, ei, action);
}

hk_err ec2_build_modify_source_dest_check(const char *eni_id, bool enabled, query_params **ret,
					  hk_errinfo *ei)
{
	static const char action[] = "ModifyNetworkInterfaceAttribute";
	if (!cq_set(eni_id))
		return cq_bad(ei, action, "eni_id is required");
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "NetworkInterfaceId", eni_id);
	if (!err)
		err = cq_add_bool(p, "SourceDestCheck.Value", enabled);
	return built(err, p, ret, ei, action);
}

hk_err ec2_build_modify_delete_on_termination(const char *eni_id, const char *attachment_id,
					      bool enabled, query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "ModifyNetworkInterfaceAttribute";
	if (!cq_set(eni_id) || !cq_set(attachment_id))
		return cq_bad(ei, action, "eni_id and attachment_id are required");
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "NetworkInterfaceId", eni_id);
	if (!err)
		err = query_add(p, "Attachment.AttachmentId", attachment_id);
	if (!err)
		err = cq_add_bool(p, "Attachment.DeleteOnTermination", enabled);
	return built(err, p, ret, ei, action);
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
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = cq_add_list(p, "ResourceId", req->resource_ids, req->n_resource_ids);
	if (!err)
		err = cq_add_tags(p, "Tag", req->tags, req->n_tags);
	return built(err, p, ret, ei, action);
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
	query_params *p;
	hk_err err = new_params(action, &p, ei);
	if (err)
		return err;
	err = query_add(p, "NetworkInterfaceId", req->eni_id);
	if (!err && req->count)
		err = cq_add_uint(p, "Ipv6AddressCount", req->count);
	if (!err)
		err = cq_add_list(p, "Ipv6Addresses", req->addresses, req->n_addresses);
	return built(err, p, ret, ei, action);
}

static void ec2_read_assign_ipv6(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	ec2_assign_ipv6_addresses_out *o = outp;
	xmlNode *root = write_root(r, doc);
	if (r->err)
		return;
	o->eni_id = cq_x_str_opt_nonempty(r, root, "networkInterfaceId");
	cq_x_strings(r, root, "assignedIpv6Addresses", "item", NULL, &o->addresses,
		     &o->n_addresses);
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_EC2_ENI)
CQ_DEFINE_STARTS(CQ_STARTS_EC2_ENI)
