/* EC2 Describe calls: DescribeInstances, DescribeInstanceTypes (cached),
 * DescribeSubnets, DescribeNetworkInterfaces, GetSubnetCidrReservations.
 * Readers append each page to the result; the driver follows NextToken. */
#include "calls_internal.h"

#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"

/* Each paginated result carries the capacity of its growing top-level array
 * behind the public struct (which stays first, so the root is the public one). */
struct di_out {
	ec2_describe_instances_out pub;
	size_t cap;
};
struct dit_out {
	ec2_describe_instance_types_out pub;
	size_t cap;
};
struct ds_out {
	ec2_describe_subnets_out pub;
	size_t cap;
};
struct dni_out {
	ec2_describe_network_interfaces_out pub;
	size_t cap;
};
struct gscr_out {
	ec2_get_subnet_cidr_reservations_out pub;
	size_t cap;
};

/* What an invalid entry of a request is, in errors (cq_b_done). */
#define EC2_EMPTY "an empty id, filter, tag key or list entry"

static bool ids_ok(const char *const *ids, size_t n)
{
	if (n && !ids)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ids[i] || !*ids[i])
			return false;
	return true;
}

/* ---- DescribeInstances ---------------------------------------------------- */

hk_err ec2_build_describe_instances(const ec2_describe_instances_req *req, query_params **ret,
				    hk_errinfo *ei)
{
	static const char action[] = "DescribeInstances";
	if (!req || !ids_ok(req->instance_ids, req->n_instance_ids))
		return cq_bad(ei, action, "bad instance id list");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_list(&b, "InstanceId", req->instance_ids, req->n_instance_ids);
	cq_b_filters(&b, req->filters, req->n_filters);
	/* AWS refuses MaxResults together with instance ids. */
	if (req->n_instance_ids == 0)
		cq_b_uint(&b, "MaxResults", 1000);
	return cq_b_done(&b, ret, ei);
}

static void read_instance_eni(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_instance_eni *e = elem;
	e->eni_id = cq_x_str(r, it, "networkInterfaceId", true);
	e->subnet_id = cq_x_str_opt_nonempty(r, it, "subnetId");
	e->private_ip = cq_x_str_opt_nonempty(r, it, "privateIpAddress");
	xmlNode *att = cq_x_need(r, it, "attachment");
	e->attachment_id = cq_x_str(r, att, "attachmentId", true);
	e->attachment_status = cq_x_str_opt_nonempty(r, att, "status");
	e->device_index = cq_x_uint(r, att, "deviceIndex", true, 0);
	e->network_card_index = cq_x_uint(r, att, "networkCardIndex", false, 0);
	e->delete_on_termination = cq_x_bool(r, att, "deleteOnTermination", false, false);
}

static void read_instance(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_instance *in = elem;
	in->instance_id = cq_x_str(r, it, "instanceId", true);
	in->instance_type = cq_x_str(r, it, "instanceType", true);
	xmlNode *st = cq_x_need(r, it, "instanceState");
	in->state = cq_x_str(r, st, "name", true);
	in->state_code = cq_x_uint(r, st, "code", false, 0);
	in->az = cq_x_str(r, cq_x_need(r, it, "placement"), "availabilityZone", true);
	in->subnet_id = cq_x_str_opt_nonempty(r, it, "subnetId");
	in->vpc_id = cq_x_str_opt_nonempty(r, it, "vpcId");
	in->private_ip = cq_x_str_opt_nonempty(r, it, "privateIpAddress");
	cq_x_tags(r, it, "tagSet", "item", "key", "value", &in->tags, &in->n_tags);
	in->enis =
	    cq_x_items(r, awsxml_child(it, "networkInterfaceSet"), "item", HK_CAP_AWS_SUBITEMS,
		       sizeof(ec2_instance_eni), read_instance_eni, NULL, NULL, &in->n_enis, NULL);
}

static void ec2_read_describe_instances(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	struct di_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	xmlNode *rset = cq_x_need(r, root, "reservationSet");
	size_t nres = cq_x_count(r, rset, "item", HK_CAP_AWS_ITEMS);
	for (xmlNode *res = awsxml_first_named(rset, "item"); res && nres && !r->err;
	     res = awsxml_next_named(res, "item")) {
		o->pub.instances = cq_x_items(r, cq_x_need(r, res, "instancesSet"), "item",
					      HK_CAP_AWS_ITEMS, sizeof(ec2_instance), read_instance,
					      NULL, o->pub.instances, &o->pub.n_instances, &o->cap);
	}
	*next = cq_x_peek(root, "nextToken");
}

const ec2_instance *ec2_instances_find(const ec2_describe_instances_out *out,
				       const char *instance_id)
{
	for (size_t i = 0; out && instance_id && i < out->n_instances; i++)
		if (strcmp(out->instances[i].instance_id, instance_id) == 0)
			return &out->instances[i];
	return NULL;
}

/* ---- DescribeInstanceTypes (+ cache) ----------------------------------------- */

hk_err ec2_build_describe_instance_types(const ec2_describe_instance_types_req *req,
					 query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DescribeInstanceTypes";
	if (!req || req->n_instance_types == 0 ||
	    !ids_ok(req->instance_types, req->n_instance_types))
		return cq_bad(ei, action, "no instance type, or an empty one");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_list(&b, "InstanceType", req->instance_types, req->n_instance_types);
	return cq_b_done(&b, ret, ei);
}

static void read_network_card(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_network_card *c = elem;
	c->index = cq_x_uint(r, it, "networkCardIndex", true, 0);
	c->max_enis = cq_x_uint(r, it, "maximumNetworkInterfaces", true, 0);
}

static void read_instance_type(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_instance_type *t = elem;
	t->instance_type = cq_x_str(r, it, "instanceType", true);
	xmlNode *ni = cq_x_need(r, it, "networkInfo");
	t->max_enis = cq_x_uint(r, ni, "maximumNetworkInterfaces", true, 0);
	t->ipv4_per_eni = cq_x_uint(r, ni, "ipv4AddressesPerInterface", false, 0);
	t->ipv6_per_eni = cq_x_uint(r, ni, "ipv6AddressesPerInterface", false, 0);
	t->ipv6_supported = cq_x_bool(r, ni, "ipv6Supported", false, false);
	t->max_network_cards = cq_x_uint(r, ni, "maximumNetworkCards", false, 1);
	t->default_network_card_index = cq_x_uint(r, ni, "defaultNetworkCardIndex", false, 0);
	t->cards =
	    cq_x_items(r, awsxml_child(ni, "networkCards"), "item", HK_CAP_AWS_SUBITEMS,
		       sizeof(ec2_network_card), read_network_card, NULL, NULL, &t->n_cards, NULL);
}

static void ec2_read_describe_instance_types(cq_rd *r, const xmlDoc *doc, void *outp,
					     const char **next)
{
	struct dit_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	o->pub.types = cq_x_items(r, cq_x_need(r, root, "instanceTypeSet"), "item",
				  HK_CAP_AWS_ITEMS, sizeof(ec2_instance_type), read_instance_type,
				  NULL, o->pub.types, &o->pub.n_types, &o->cap);
	*next = cq_x_peek(root, "nextToken");
}

/* The cache: one arena per client holding deep copies. Instance type facts
 * do not change while the daemon runs. */
struct ec2_type_cache {
	cq_arena *a;
	void *root; /* the arena's root (unused content) */
	ec2_instance_type *types;
	size_t n, cap;
};

void ec2_type_cache_free(struct ec2_type_cache *tc)
{
	if (!tc)
		return;
	cq_arena_free(tc->a);
	free(tc->types);
	free(tc);
}

static hk_err type_copy(cq_arena *a, const ec2_instance_type *src, ec2_instance_type *dst)
{
	*dst = *src;
	dst->instance_type = cq_strdup(a, src->instance_type);
	dst->cards = NULL;
	if (src->n_cards) {
		ec2_network_card *c = cq_alloc(a, src->n_cards, sizeof(*c));
		if (!c)
			return HK_ERR_NOMEM;
		memcpy(c, src->cards, src->n_cards * sizeof(*c));
		dst->cards = c;
	}
	return dst->instance_type ? HK_OK : HK_ERR_NOMEM;
}

static const ec2_instance_type *cache_find(const struct ec2_type_cache *tc, const char *name)
{
	for (size_t i = 0; tc && i < tc->n; i++)
		if (strcmp(tc->types[i].instance_type, name) == 0)
			return &tc->types[i];
	return NULL;
}

/* After AWS answered: remember the types (a full cache just stops growing). */
static hk_err ec2_finish_instance_types(cq_call *call, void *outp, hk_errinfo *ei)
{
	const struct dit_out *o = outp;
	struct ec2_type_cache **slot = cq_client_type_cache(cq_call_client(call));
	if (!slot)
		return HK_OK; /* no memory for the state: just no cache */
	if (!*slot) {
		struct ec2_type_cache *tc = calloc(1, sizeof(*tc));
		if (!tc)
			return HK_OK;
		tc->root = cq_root_new(1, &tc->a);
		if (!tc->root) {
			free(tc);
			return HK_OK;
		}
		*slot = tc;
	}
	struct ec2_type_cache *tc = *slot;
	for (size_t i = 0; i < o->pub.n_types; i++) {
		if (cache_find(tc, o->pub.types[i].instance_type))
			continue;
		if (tc->n >= HK_CAP_AWS_TYPE_CACHE)
			break;
		if (tc->n == tc->cap) {
			size_t ncap = tc->cap ? tc->cap * 2 : 8;
			ec2_instance_type *nv = realloc(tc->types, ncap * sizeof(*nv));
			if (!nv)
				break;
			tc->types = nv;
			tc->cap = ncap;
		}
		if (type_copy(tc->a, &o->pub.types[i], &tc->types[tc->n]) != HK_OK)
			break;
		tc->n++;
	}
	(void)ei;
	return HK_OK;
}

/* Every requested type is cached: build the answer from the cache. */
static hk_err answer_from_cache(const struct ec2_type_cache *tc,
				const ec2_describe_instance_types_req *req, void **ret_out)
{
	cq_arena *a;
	struct dit_out *o = cq_root_new(sizeof(*o), &a);
	if (!o)
		return HK_ERR_NOMEM;
	ec2_instance_type *v = cq_alloc(a, req->n_instance_types, sizeof(*v));
	if (!v) {
		cq_arena_free(a);
		return HK_ERR_NOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < req->n_instance_types; i++) {
		const ec2_instance_type *t = cache_find(tc, req->instance_types[i]);
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(v[j].instance_type, t->instance_type) == 0;
		if (dup)
			continue;
		if (type_copy(a, t, &v[n]) != HK_OK) {
			cq_arena_free(a);
			return HK_ERR_NOMEM;
		}
		n++;
	}
	o->pub.types = v;
	o->pub.n_types = n;
	o->pub.from_cache = true;
	*ret_out = o;
	return HK_OK;
}

hk_err ec2_describe_instance_types(awc_client *c, const ec2_describe_instance_types_req *req,
				   ec2_describe_instance_types_fn done, void *arg,
				   const awc_call_opts *opts)
{
	query_params *p;
	hk_err err = ec2_build_describe_instance_types(req, &p, NULL);
	if (err)
		return err;
	struct ec2_type_cache **slot = c ? cq_client_type_cache(c) : NULL;
	bool all = slot && *slot && awc_client_base(c);
	for (size_t i = 0; all && i < req->n_instance_types; i++)
		all = cache_find(*slot, req->instance_types[i]) != NULL;
	if (all && done) {
		void *out;
		err = answer_from_cache(*slot, req, &out);
		if (!err) {
			query_params_free(p);
			return cq_start_ready(c, &ec2_spec_describe_instance_types, out,
					      (cq_generic_fn)done, arg);
		}
	}
	/* Ask AWS for all of them: simpler than merging, and rare (once per type
	 * per client). */
	return cq_start_query(c, &ec2_spec_describe_instance_types, p, opts, NULL, NULL,
			      (cq_generic_fn)done, arg);
}

const ec2_instance_type *ec2_instance_types_find(const ec2_describe_instance_types_out *out,
						 const char *instance_type)
{
	for (size_t i = 0; out && instance_type && i < out->n_types; i++)
		if (strcmp(out->types[i].instance_type, instance_type) == 0)
			return &out->types[i];
	return NULL;
}

unsigned ec2_instance_type_card_max_enis(const ec2_instance_type *t, unsigned card)
{
	if (!t)
		return 0;
	for (size_t i = 0; i < t->n_cards; i++)
		if (t->cards[i].index == card)
			return t->cards[i].max_enis;
	return t->n_cards == 0 && card == 0 ? t->max_enis : 0;
}

/* ---- DescribeSubnets -------------------------------------------------------- */

hk_err ec2_build_describe_subnets(const ec2_describe_subnets_req *req, query_params **ret,
				  hk_errinfo *ei)
{
	static const char action[] = "DescribeSubnets";
	if (!req || !ids_ok(req->subnet_ids, req->n_subnet_ids))
		return cq_bad(ei, action, "bad subnet id list");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_list(&b, "SubnetId", req->subnet_ids, req->n_subnet_ids);
	cq_b_filters(&b, req->filters, req->n_filters);
	if (req->n_subnet_ids == 0)
		cq_b_uint(&b, "MaxResults", 1000);
	return cq_b_done(&b, ret, ei);
}

static void read_ipv6_cidr(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_ipv6_cidr *c = elem;
	c->cidr = cq_x_str(r, it, "ipv6CidrBlock", true);
	c->association_id = cq_x_str_opt_nonempty(r, it, "associationId");
	c->state = cq_x_str_opt_nonempty(r, awsxml_child(it, "ipv6CidrBlockState"), "state");
}

static void read_subnet(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_subnet *s = elem;
	s->subnet_id = cq_x_str(r, it, "subnetId", true);
	s->vpc_id = cq_x_str(r, it, "vpcId", true);
	s->cidr = cq_x_str_opt_nonempty(r, it, "cidrBlock");
	s->az = cq_x_str(r, it, "availabilityZone", true);
	s->az_id = cq_x_str_opt_nonempty(r, it, "availabilityZoneId");
	s->state = cq_x_str_opt_nonempty(r, it, "state");
	s->available_ips = cq_x_u64(r, it, "availableIpAddressCount", false, 0);
	cq_x_tags(r, it, "tagSet", "item", "key", "value", &s->tags, &s->n_tags);
	s->ipv6_cidrs = cq_x_items(r, awsxml_child(it, "ipv6CidrBlockAssociationSet"), "item",
				   HK_CAP_AWS_SUBITEMS, sizeof(ec2_ipv6_cidr), read_ipv6_cidr, NULL,
				   NULL, &s->n_ipv6_cidrs, NULL);
}

static void ec2_read_describe_subnets(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	struct ds_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	o->pub.subnets = cq_x_items(r, cq_x_need(r, root, "subnetSet"), "item", HK_CAP_AWS_ITEMS,
				    sizeof(ec2_subnet), read_subnet, NULL, o->pub.subnets,
				    &o->pub.n_subnets, &o->cap);
	*next = cq_x_peek(root, "nextToken");
}

/* ---- DescribeNetworkInterfaces ------------------------------------------------ */

hk_err ec2_build_describe_network_interfaces(const ec2_describe_network_interfaces_req *req,
					     query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DescribeNetworkInterfaces";
	if (!req || !ids_ok(req->eni_ids, req->n_eni_ids))
		return cq_bad(ei, action, "bad network interface id list");
	if (req->max_results && (req->max_results < 5 || req->max_results > 1000))
		return cq_bad(ei, action, "max_results must be 5..1000");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_list(&b, "NetworkInterfaceId", req->eni_ids, req->n_eni_ids);
	cq_b_filters(&b, req->filters, req->n_filters);
	/* AWS refuses MaxResults together with ids; without ids, always page. */
	if (req->n_eni_ids == 0)
		cq_b_uint(&b, "MaxResults", req->max_results ? req->max_results : 1000);
	return cq_b_done(&b, ret, ei);
}

static void read_private_ip(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_private_ip *p = elem;
	p->address = cq_x_str(r, it, "privateIpAddress", true);
	p->primary = cq_x_bool(r, it, "primary", false, false);
}

static void read_private_ips(cq_rd *r, const xmlNode *it, ec2_eni *e)
{
	e->private_ips = cq_x_items(r, awsxml_child(it, "privateIpAddressesSet"), "item",
				    HK_CAP_AWS_SUBITEMS, sizeof(ec2_private_ip), read_private_ip,
				    NULL, NULL, &e->n_private_ips, NULL);
}

void ec2_read_eni(cq_rd *r, const xmlNode *it, ec2_eni *e)
{
	e->eni_id = cq_x_str(r, it, "networkInterfaceId", true);
	e->subnet_id = cq_x_str(r, it, "subnetId", true);
	e->vpc_id = cq_x_str_opt_nonempty(r, it, "vpcId");
	e->az = cq_x_str_opt_nonempty(r, it, "availabilityZone");
	e->description = cq_x_str_opt_nonempty(r, it, "description");
	e->status = cq_x_str(r, it, "status", true);
	e->mac = cq_x_str_opt_nonempty(r, it, "macAddress");
	e->private_ip = cq_x_str_opt_nonempty(r, it, "privateIpAddress");
	e->interface_type = cq_x_str_opt_nonempty(r, it, "interfaceType");
	e->source_dest_check = cq_x_bool(r, it, "sourceDestCheck", false, true);
	e->requester_managed = cq_x_bool(r, it, "requesterManaged", false, false);
	xmlNode *att = awsxml_child(it, "attachment");
	if (att && cq_x_peek(att, "attachmentId")) {
		e->attached = true;
		e->attachment.attachment_id = cq_x_str(r, att, "attachmentId", true);
		e->attachment.instance_id = cq_x_str_opt_nonempty(r, att, "instanceId");
		e->attachment.status = cq_x_str_opt_nonempty(r, att, "status");
		e->attachment.device_index = cq_x_uint(r, att, "deviceIndex", false, 0);
		e->attachment.network_card_index = cq_x_uint(r, att, "networkCardIndex", false, 0);
		e->attachment.delete_on_termination =
		    cq_x_bool(r, att, "deleteOnTermination", false, false);
	}
	read_private_ips(r, it, e);
	cq_x_strings(r, it, "ipv6AddressesSet", "item", "ipv6Address", &e->ipv6_addresses,
		     &e->n_ipv6_addresses);
	cq_x_strings(r, it, "ipv4PrefixSet", "item", "ipv4Prefix", &e->ipv4_prefixes,
		     &e->n_ipv4_prefixes);
	cq_x_strings(r, it, "ipv6PrefixSet", "item", "ipv6Prefix", &e->ipv6_prefixes,
		     &e->n_ipv6_prefixes);
	cq_x_strings(r, it, "groupSet", "item", "groupId", &e->security_group_ids,
		     &e->n_security_group_ids);
	cq_x_tags(r, it, "tagSet", "item", "key", "value", &e->tags, &e->n_tags);
}

static void read_eni_item(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_read_eni(r, it, elem);
}

static void ec2_read_describe_network_interfaces(cq_rd *r, const xmlDoc *doc, void *outp,
						 const char **next)
{
	struct dni_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	o->pub.enis =
	    cq_x_items(r, cq_x_need(r, root, "networkInterfaceSet"), "item", HK_CAP_AWS_ITEMS,
		       sizeof(ec2_eni), read_eni_item, NULL, o->pub.enis, &o->pub.n_enis, &o->cap);
	*next = cq_x_peek(root, "nextToken");
}

const char *ec2_eni_tag(const ec2_eni *eni, const char *key)
{
	for (size_t i = 0; eni && key && i < eni->n_tags; i++)
		if (strcmp(eni->tags[i].key, key) == 0)
			return eni->tags[i].value;
	return NULL;
}

/* ---- GetSubnetCidrReservations ------------------------------------------------ */

hk_err ec2_build_get_subnet_cidr_reservations(const ec2_get_subnet_cidr_reservations_req *req,
					      query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "GetSubnetCidrReservations";
	if (!req || !cq_set(req->subnet_id))
		return cq_bad(ei, action, "subnet_id is required");
	cq_b b = cq_b_start(action, CQ_EC2_VERSION, EC2_EMPTY);
	cq_b_str(&b, "SubnetId", req->subnet_id);
	cq_b_filters(&b, req->filters, req->n_filters);
	cq_b_uint(&b, "MaxResults", 1000);
	return cq_b_done(&b, ret, ei);
}

void ec2_read_cidr_reservation(cq_rd *r, const xmlNode *it, bool ipv6, ec2_cidr_reservation *res)
{
	res->reservation_id = cq_x_str(r, it, "subnetCidrReservationId", true);
	res->subnet_id = cq_x_str(r, it, "subnetId", true);
	res->cidr = cq_x_str(r, it, "cidr", true);
	res->ipv6 = ipv6;
	const char *type = cq_x_str(r, it, "reservationType", true);
	if (type && strcmp(type, "prefix") == 0)
		res->type = EC2_RESERVATION_PREFIX;
	else if (type && strcmp(type, "explicit") == 0)
		res->type = EC2_RESERVATION_EXPLICIT;
	else if (!r->err)
		cq_rd_fail(r, HK_ERR_PARSE, "unknown reservationType '%.32s' (line %ld)", type,
			   xmlGetLineNo(it));
	res->description = cq_x_str_opt_nonempty(r, it, "description");
	res->owner_id = cq_x_str_opt_nonempty(r, it, "ownerId");
	cq_x_tags(r, it, "tagSet", "item", "key", "value", &res->tags, &res->n_tags);
}

static void read_reservation_item(cq_rd *r, const xmlNode *it, void *elem, const void *ctx)
{
	ec2_read_cidr_reservation(r, it, *(const bool *)ctx, elem);
}

static void read_reservation_set(cq_rd *r, struct gscr_out *o, const xmlNode *set, bool ipv6)
{
	o->pub.reservations = cq_x_items(r, set, "item", HK_CAP_AWS_ITEMS,
					 sizeof(ec2_cidr_reservation), read_reservation_item, &ipv6,
					 o->pub.reservations, &o->pub.n_reservations, &o->cap);
}

static void ec2_read_get_subnet_cidr_reservations(cq_rd *r, const xmlDoc *doc, void *outp,
						  const char **next)
{
	struct gscr_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	if (r->err)
		return;
	xmlNode *v4 = awsxml_child(root, "subnetIpv4CidrReservationSet");
	xmlNode *v6 = awsxml_child(root, "subnetIpv6CidrReservationSet");
	if (!v4 && !v6) {
		cq_rd_fail(r, HK_ERR_PARSE, "no reservation set in the response");
		return;
	}
	read_reservation_set(r, o, v4, false);
	read_reservation_set(r, o, v6, true);
	*next = cq_x_peek(root, "nextToken");
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_EC2_DESCRIBE)
CQ_DEFINE_STARTS(CQ_STARTS_EC2_DESCRIBE)
