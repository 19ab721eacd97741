/* awscall: run ONE typed AWS call (aws/awscalls.h) and print its result as JSON.
 *
 *   awscall <call> ['<json arguments>']
 *
 * The client is configured the SDK way from the environment (AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...). stdout gets
 * one JSON object: {"err": "OK"|"<HK_ERR name>", "http_status", "aws_code",
 * "aws_message", "request_id", "errtext", "attempts", "result": {...}|null}.
 * Exit status: 0 when the call delivered (whatever its outcome), 2 when it could
 * not be started (bad arguments: {"start_error": ...}). Used by
 * test_aws_calls.py against moto; handy by hand too. Never prints secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "awsclient.h"

static const char *const err_names[HK_ERR__COUNT] = {
    [HK_OK] = "OK",
    [HK_ERR_NOMEM] = "NOMEM",
    [HK_ERR_INVALID] = "INVALID",
    [HK_ERR_RANGE] = "RANGE",
    [HK_ERR_NOT_FOUND] = "NOT_FOUND",
    [HK_ERR_EXISTS] = "EXISTS",
    [HK_ERR_FULL] = "FULL",
    [HK_ERR_TOO_LARGE] = "TOO_LARGE",
    [HK_ERR_IO] = "IO",
    [HK_ERR_PARSE] = "PARSE",
    [HK_ERR_AUTH] = "AUTH",
    [HK_ERR_DENIED] = "DENIED",
    [HK_ERR_THROTTLED] = "THROTTLED",
    [HK_ERR_TRANSIENT] = "TRANSIENT",
    [HK_ERR_AWS] = "AWS",
    [HK_ERR_TIMEOUT] = "TIMEOUT",
    [HK_ERR_CANCELLED] = "CANCELLED",
    [HK_ERR_STATE] = "STATE",
    [HK_ERR_NO_CREDENTIALS] = "NO_CREDENTIALS",
    [HK_ERR_INTERNAL] = "INTERNAL",
};

static struct {
	struct event_base *base;
	awc_client *client;
	json_t *args;
	json_t *results; /* one entry per run */
	int repeat;	 /* DescribeInstanceTypes: run this many times */
	int (*start)(void);
} g;

/* ---- JSON helpers -------------------------------------------------------- */

static json_t *js(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jstrs(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, js(v[i]));
	return a;
}

static json_t *jtags(const ec2_tag *t, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, t[i].key, js(t[i].value));
	return o;
}

static const char *astr(const char *key)
{
	return json_string_value(json_object_get(g.args, key));
}

static long long aint(const char *key, long long dflt)
{
	json_t *v = json_object_get(g.args, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool abool(const char *key, bool dflt)
{
	json_t *v = json_object_get(g.args, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* String arrays and tag objects live in a per-run pool freed at exit. */
static void *pool[4096];
static size_t npool;

static void *keep(void *p)
{
	if (p && npool < sizeof(pool) / sizeof(pool[0]))
		pool[npool++] = p;
	return p;
}

static const char *const *alist(const char *key, size_t *n)
{
	json_t *a = json_object_get(g.args, key);
	*n = json_array_size(a);
	if (!*n)
		return NULL;
	const char **v = keep(calloc(*n, sizeof(*v)));
	for (size_t i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return v;
}

static const ec2_tag *atags(const char *key, size_t *n)
{
	json_t *o = json_object_get(g.args, key);
	*n = json_object_size(o);
	if (!*n)
		return NULL;
	ec2_tag *t = keep(calloc(*n, sizeof(*t)));
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		t[i].key = k;
		t[i].value = json_string_value(v);
		i++;
	}
	return t;
}

/* {"name": ["v1", "v2"], ...} -> filters */
static const ec2_filter *afilters(size_t *n)
{
	json_t *o = json_object_get(g.args, "filters");
	*n = json_object_size(o);
	if (!*n)
		return NULL;
	ec2_filter *f = keep(calloc(*n, sizeof(*f)));
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		f[i].name = k;
		f[i].n_values = json_array_size(v);
		const char **vals = keep(calloc(f[i].n_values + 1, sizeof(*vals)));
		for (size_t j = 0; j < f[i].n_values; j++)
			vals[j] = json_string_value(json_array_get(v, j));
		f[i].values = vals;
		i++;
	}
	return f;
}

/* ---- result converters --------------------------------------------------------- */

static json_t *j_eni(const ec2_eni *e)
{
	json_t *ips = json_array();
	for (size_t i = 0; i < e->n_private_ips; i++)
		json_array_append_new(ips, json_pack("{s:o,s:b}", "address",
						     js(e->private_ips[i].address), "primary",
						     e->private_ips[i].primary));
	json_t *att = json_null();
	if (e->attached)
		att = json_pack("{s:o,s:o,s:o,s:i,s:i,s:b}", "attachment_id",
				js(e->attachment.attachment_id), "instance_id",
				js(e->attachment.instance_id), "status", js(e->attachment.status),
				"device_index", (json_int_t)e->attachment.device_index,
				"network_card_index", (json_int_t)e->attachment.network_card_index,
				"delete_on_termination", e->attachment.delete_on_termination);
	json_t *o = json_object();
	json_object_set_new(o, "eni_id", js(e->eni_id));
	json_object_set_new(o, "subnet_id", js(e->subnet_id));
	json_object_set_new(o, "vpc_id", js(e->vpc_id));
	json_object_set_new(o, "az", js(e->az));
	json_object_set_new(o, "description", js(e->description));
	json_object_set_new(o, "status", js(e->status));
	json_object_set_new(o, "mac", js(e->mac));
	json_object_set_new(o, "private_ip", js(e->private_ip));
	json_object_set_new(o, "interface_type", js(e->interface_type));
	json_object_set_new(o, "source_dest_check", json_boolean(e->source_dest_check));
	json_object_set_new(o, "requester_managed", json_boolean(e->requester_managed));
	json_object_set_new(o, "attachment", att);
	json_object_set_new(o, "private_ips", ips);
	json_object_set_new(o, "ipv6_addresses", jstrs(e->ipv6_addresses, e->n_ipv6_addresses));
	json_object_set_new(o, "ipv4_prefixes", jstrs(e->ipv4_prefixes, e->n_ipv4_prefixes));
	json_object_set_new(o, "ipv6_prefixes", jstrs(e->ipv6_prefixes, e->n_ipv6_prefixes));
	json_object_set_new(o, "security_group_ids",
			    jstrs(e->security_group_ids, e->n_security_group_ids));
	json_object_set_new(o, "tags", jtags(e->tags, e->n_tags));
	return o;
}

static json_t *j_reservation(const ec2_cidr_reservation *r)
{
	return json_pack("{s:o,s:o,s:o,s:s,s:b,s:o,s:o,s:o}", "reservation_id",
			 js(r->reservation_id), "subnet_id", js(r->subnet_id), "cidr", js(r->cidr),
			 "type", r->type == EC2_RESERVATION_PREFIX ? "prefix" : "explicit", "ipv6",
			 r->ipv6, "description", js(r->description), "owner_id", js(r->owner_id),
			 "tags", jtags(r->tags, r->n_tags));
}

static json_t *j_instances(const ec2_describe_instances_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_instances; i++) {
		const ec2_instance *in = &o->instances[i];
		json_t *enis = json_array();
		for (size_t k = 0; k < in->n_enis; k++) {
			const ec2_instance_eni *e = &in->enis[k];
			json_array_append_new(
			    enis,
			    json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:b}", "eni_id", js(e->eni_id),
				      "subnet_id", js(e->subnet_id), "private_ip",
				      js(e->private_ip), "attachment_id", js(e->attachment_id),
				      "attachment_status", js(e->attachment_status), "device_index",
				      (json_int_t)e->device_index, "network_card_index",
				      (json_int_t)e->network_card_index, "delete_on_termination",
				      e->delete_on_termination));
		}
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "instance_id",
				 js(in->instance_id), "instance_type", js(in->instance_type),
				 "state", js(in->state), "state_code", (json_int_t)in->state_code,
				 "az", js(in->az), "subnet_id", js(in->subnet_id), "vpc_id",
				 js(in->vpc_id), "private_ip", js(in->private_ip), "tags",
				 jtags(in->tags, in->n_tags), "enis", enis));
	}
	return json_pack("{s:o}", "instances", a);
}

static json_t *j_types(const ec2_describe_instance_types_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_types; i++) {
		const ec2_instance_type *t = &o->types[i];
		json_t *cards = json_array();
		for (size_t k = 0; k < t->n_cards; k++)
			json_array_append_new(
			    cards, json_pack("{s:i,s:i}", "index", (json_int_t)t->cards[k].index,
					     "max_enis", (json_int_t)t->cards[k].max_enis));
		json_array_append_new(
		    a, json_pack("{s:o,s:i,s:i,s:i,s:b,s:i,s:i,s:o}", "instance_type",
				 js(t->instance_type), "max_enis", (json_int_t)t->max_enis,
				 "ipv4_per_eni", (json_int_t)t->ipv4_per_eni, "ipv6_per_eni",
				 (json_int_t)t->ipv6_per_eni, "ipv6_supported", t->ipv6_supported,
				 "max_network_cards", (json_int_t)t->max_network_cards,
				 "default_network_card_index",
				 (json_int_t)t->default_network_card_index, "cards", cards));
	}
	return json_pack("{s:o,s:b}", "types", a, "from_cache", o->from_cache);
}

static json_t *j_subnets(const ec2_describe_subnets_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_subnets; i++) {
		const ec2_subnet *s = &o->subnets[i];
		json_t *v6 = json_array();
		for (size_t k = 0; k < s->n_ipv6_cidrs; k++)
			json_array_append_new(
			    v6, json_pack("{s:o,s:o,s:o}", "cidr", js(s->ipv6_cidrs[k].cidr),
					  "association_id", js(s->ipv6_cidrs[k].association_id),
					  "state", js(s->ipv6_cidrs[k].state)));
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o}", "subnet_id",
				 js(s->subnet_id), "vpc_id", js(s->vpc_id), "cidr", js(s->cidr),
				 "az", js(s->az), "az_id", js(s->az_id), "state", js(s->state),
				 "available_ips", (json_int_t)s->available_ips, "ipv6_cidrs", v6,
				 "tags", jtags(s->tags, s->n_tags)));
	}
	return json_pack("{s:o}", "subnets", a);
}

static json_t *j_groups(const asg_describe_groups_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_groups; i++) {
		const asg_group *gr = &o->groups[i];
		json_t *ins = json_array();
		for (size_t k = 0; k < gr->n_instances; k++) {
			const asg_instance *x = &gr->instances[k];
			json_array_append_new(
			    ins,
			    json_pack("{s:o,s:o,s:o,s:o,s:o,s:b}", "instance_id",
				      js(x->instance_id), "az", js(x->az), "lifecycle_state",
				      js(x->lifecycle_state), "health_status", js(x->health_status),
				      "instance_type", js(x->instance_type),
				      "protected_from_scale_in", x->protected_from_scale_in));
		}
		json_t *lt = gr->has_launch_template
				 ? json_pack("{s:o,s:o,s:o}", "id", js(gr->launch_template.id),
					     "name", js(gr->launch_template.name), "version",
					     js(gr->launch_template.version))
				 : json_null();
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "name",
				 js(gr->name), "arn", js(gr->arn), "min_size",
				 (json_int_t)gr->min_size, "max_size", (json_int_t)gr->max_size,
				 "desired_capacity", (json_int_t)gr->desired_capacity, "azs",
				 jstrs(gr->azs, gr->n_azs), "subnet_ids",
				 jstrs(gr->subnet_ids, gr->n_subnet_ids), "launch_template", lt,
				 "launch_configuration", js(gr->launch_configuration), "instances",
				 ins, "tags", jtags(gr->tags, gr->n_tags)));
	}
	return json_pack("{s:o}", "groups", a);
}

static json_t *j_hooks(const asg_describe_lifecycle_hooks_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_hooks; i++) {
		const asg_lifecycle_hook *h = &o->hooks[i];
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:i}", "hook_name",
				 js(h->hook_name), "group_name", js(h->group_name), "transition",
				 js(h->transition), "default_result", js(h->default_result),
				 "notification_metadata", js(h->notification_metadata),
				 "target_arn", js(h->target_arn), "role_arn", js(h->role_arn),
				 "heartbeat_timeout_s", (json_int_t)h->heartbeat_timeout_s,
				 "global_timeout_s", (json_int_t)h->global_timeout_s));
	}
	return json_pack("{s:o}", "hooks", a);
}

static json_t *j_messages(const sqs_receive_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_messages; i++) {
		const sqs_message *m = &o->messages[i];
		json_t *attrs = json_object();
		for (size_t k = 0; k < m->n_attributes; k++)
			json_object_set_new(attrs, m->attributes[k].name,
					    js(m->attributes[k].value));
		json_array_append_new(a, json_pack("{s:o,s:o,s:s%,s:o,s:o}", "message_id",
						   js(m->message_id), "receipt_handle",
						   js(m->receipt_handle), "body", m->body,
						   m->body_len, "md5_of_body", js(m->md5_of_body),
						   "attributes", attrs));
	}
	return json_pack("{s:o}", "messages", a);
}

static json_t *j_enis(const ec2_describe_network_interfaces_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_enis; i++)
		json_array_append_new(a, j_eni(&o->enis[i]));
	return json_pack("{s:o}", "enis", a);
}

static json_t *j_reservations(const ec2_get_subnet_cidr_reservations_out *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < o->n_reservations; i++)
		json_array_append_new(a, j_reservation(&o->reservations[i]));
	return json_pack("{s:o}", "reservations", a);
}

/* ---- delivery ------------------------------------------------------------- */

static void finish(const awc_result *res, json_t *result)
{
	json_t *o = json_object();
	json_object_set_new(
	    o, "err",
	    json_string((unsigned)res->err < HK_ERR__COUNT ? err_names[res->err] : "UNKNOWN"));
	json_object_set_new(o, "http_status", json_integer(res->http_status));
	json_object_set_new(o, "aws_code", js(res->aws_code));
	json_object_set_new(o, "aws_message", js(res->aws_message));
	json_object_set_new(o, "request_id", js(res->request_id));
	json_object_set_new(o, "errtext", js(res->errtext));
	json_object_set_new(o, "attempts", json_integer(res->attempts));
	json_object_set_new(o, "result", result ? result : json_null());
	json_array_append_new(g.results, o);
	if (--g.repeat > 0 && g.start() == 0)
		return;
	event_base_loopbreak(g.base);
}

#define DONE(name, type, conv)                                                                     \
	static void name(const awc_result *res, const type *out, void *arg)                        \
	{                                                                                          \
		finish(res, out ? conv : NULL);                                                    \
	}

DONE(done_instances, ec2_describe_instances_out, j_instances(out))
DONE(done_types, ec2_describe_instance_types_out, j_types(out))
DONE(done_subnets, ec2_describe_subnets_out, j_subnets(out))
DONE(done_enis, ec2_describe_network_interfaces_out, j_enis(out))
DONE(done_reservations, ec2_get_subnet_cidr_reservations_out, j_reservations(out))
DONE(done_reservation, ec2_subnet_cidr_reservation_out, j_reservation(&out->reservation))
DONE(done_create_eni, ec2_create_network_interface_out,
     json_pack("{s:o,s:o}", "eni", j_eni(&out->eni), "client_token", js(out->client_token)))
DONE(done_attach, ec2_attach_network_interface_out,
     json_pack("{s:o,s:i}", "attachment_id", js(out->attachment_id), "network_card_index",
	       (json_int_t)out->network_card_index))
DONE(done_return, ec2_return_out, json_pack("{s:b}", "ok", out->ok))
DONE(done_assign, ec2_assign_ipv6_addresses_out,
     json_pack("{s:o,s:o}", "eni_id", js(out->eni_id), "addresses",
	       jstrs(out->addresses, out->n_addresses)))
DONE(done_asg_empty, asg_empty_out, json_pack("{s:o}", "request_id", js(out->request_id)))
DONE(done_hooks, asg_describe_lifecycle_hooks_out, j_hooks(out))
DONE(done_groups, asg_describe_groups_out, j_groups(out))
DONE(done_identity, sts_caller_identity_out,
     json_pack("{s:o,s:o,s:o}", "account", js(out->account), "arn", js(out->arn), "user_id",
	       js(out->user_id)))
/* Never the secret or the session token: only whether they came and how long. */
DONE(done_web_identity, sts_credentials_out,
     json_pack("{s:o,s:I,s:I,s:o,s:o}", "access_key_id", js(out->access_key_id), "secret_len",
	       (json_int_t)strlen(out->secret_access_key), "session_token_len",
	       (json_int_t)strlen(out->session_token), "expiration", js(out->expiration),
	       "assumed_role_arn", js(out->assumed_role_arn)))
DONE(done_receive, sqs_receive_out, j_messages(out))
DONE(done_sqs_empty, sqs_empty_out, json_pack("{s:b}", "ok", out->ok))

/* ---- the calls -------------------------------------------------------------- */

static hk_err c_describe_instances(void)
{
	ec2_describe_instances_req r = {0};
	r.instance_ids = alist("instance_ids", &r.n_instance_ids);
	r.filters = afilters(&r.n_filters);
	return ec2_describe_instances(g.client, &r, done_instances, NULL, NULL);
}

static hk_err c_describe_instance_types(void)
{
	ec2_describe_instance_types_req r = {0};
	r.instance_types = alist("instance_types", &r.n_instance_types);
	return ec2_describe_instance_types(g.client, &r, done_types, NULL, NULL);
}

static hk_err c_describe_subnets(void)
{
	ec2_describe_subnets_req r = {0};
	r.subnet_ids = alist("subnet_ids", &r.n_subnet_ids);
	r.filters = afilters(&r.n_filters);
	return ec2_describe_subnets(g.client, &r, done_subnets, NULL, NULL);
}

static hk_err c_describe_network_interfaces(void)
{
	ec2_describe_network_interfaces_req r = {0};
	r.eni_ids = alist("eni_ids", &r.n_eni_ids);
	r.filters = afilters(&r.n_filters);
	r.max_results = (unsigned)aint("max_results", 0);
	return ec2_describe_network_interfaces(g.client, &r, done_enis, NULL, NULL);
}

static hk_err c_get_reservations(void)
{
	ec2_get_subnet_cidr_reservations_req r = {.subnet_id = astr("subnet_id")};
	r.filters = afilters(&r.n_filters);
	return ec2_get_subnet_cidr_reservations(g.client, &r, done_reservations, NULL, NULL);
}

static hk_err c_create_reservation(void)
{
	const char *type = astr("type");
	ec2_create_subnet_cidr_reservation_req r = {.subnet_id = astr("subnet_id"),
						    .cidr = astr("cidr"),
						    .type = type && strcmp(type, "prefix") == 0
								? EC2_RESERVATION_PREFIX
								: EC2_RESERVATION_EXPLICIT,
						    .description = astr("description")};
	r.tags = atags("tags", &r.n_tags);
	return ec2_create_subnet_cidr_reservation(g.client, &r, done_reservation, NULL, NULL);
}

static hk_err c_delete_reservation(void)
{
	ec2_delete_subnet_cidr_reservation_req r = {.reservation_id = astr("reservation_id")};
	return ec2_delete_subnet_cidr_reservation(g.client, &r, done_reservation, NULL, NULL);
}

static hk_err c_create_eni(void)
{
	ec2_create_network_interface_req r = {.subnet_id = astr("subnet_id"),
					      .private_ip = astr("private_ip"),
					      .secondary_ip_count =
						  (unsigned)aint("secondary_ip_count", 0),
					      .ipv6_count = (unsigned)aint("ipv6_count", 0),
					      .description = astr("description"),
					      .client_token = astr("client_token")};
	r.security_group_ids = alist("security_group_ids", &r.n_security_group_ids);
	r.ipv6_addresses = alist("ipv6_addresses", &r.n_ipv6_addresses);
	r.tags = atags("tags", &r.n_tags);
	return ec2_create_network_interface(g.client, &r, done_create_eni, NULL, NULL);
}

static hk_err c_attach(void)
{
	json_t *card = json_object_get(g.args, "network_card_index");
	ec2_attach_network_interface_req r = {.eni_id = astr("eni_id"),
					      .instance_id = astr("instance_id"),
					      .device_index = (unsigned)aint("device_index", 1),
					      .set_network_card_index = card != NULL,
					      .network_card_index =
						  (unsigned)aint("network_card_index", 0)};
	return ec2_attach_network_interface(g.client, &r, done_attach, NULL, NULL);
}

static hk_err c_detach(void)
{
	ec2_detach_network_interface_req r = {.attachment_id = astr("attachment_id"),
					      .force = abool("force", false)};
	return ec2_detach_network_interface(g.client, &r, done_return, NULL, NULL);
}

static hk_err c_delete_eni(void)
{
	ec2_delete_network_interface_req r = {.eni_id = astr("eni_id")};
	return ec2_delete_network_interface(g.client, &r, done_return, NULL, NULL);
}

static hk_err c_source_dest(void)
{
	return ec2_modify_eni_source_dest_check(g.client, astr("eni_id"), abool("enabled", true),
						done_return, NULL, NULL);
}

static hk_err c_dot(void)
{
	return ec2_modify_eni_delete_on_termination(g.client, astr("eni_id"), astr("attachment_id"),
						    abool("enabled", true), done_return, NULL,
						    NULL);
}

static hk_err c_assign_ipv6(void)
{
	ec2_assign_ipv6_addresses_req r = {.eni_id = astr("eni_id"),
					   .count = (unsigned)aint("count", 0)};
	r.addresses = alist("addresses", &r.n_addresses);
	return ec2_assign_ipv6_addresses(g.client, &r, done_assign, NULL, NULL);
}

static hk_err c_create_tags(void)
{
	ec2_create_tags_req r = {0};
	r.resource_ids = alist("resource_ids", &r.n_resource_ids);
	r.tags = atags("tags", &r.n_tags);
	return ec2_create_tags(g.client, &r, done_return, NULL, NULL);
}

static asg_lifecycle_action_req lifecycle_req(void)
{
	const char *result = astr("result");
	asg_lifecycle_action_req r = {.hook_name = astr("hook_name"),
				      .group_name = astr("group_name"),
				      .token = astr("token"),
				      .instance_id = astr("instance_id"),
				      .result = result && strcmp(result, "ABANDON") == 0
						    ? ASG_RESULT_ABANDON
						    : ASG_RESULT_CONTINUE};
	return r;
}

static hk_err c_complete(void)
{
	asg_lifecycle_action_req r = lifecycle_req();
	return asg_complete_lifecycle_action(g.client, &r, done_asg_empty, NULL, NULL);
}

static hk_err c_heartbeat(void)
{
	asg_lifecycle_action_req r = lifecycle_req();
	return asg_record_lifecycle_action_heartbeat(g.client, &r, done_asg_empty, NULL, NULL);
}

static hk_err c_hooks(void)
{
	asg_describe_lifecycle_hooks_req r = {.group_name = astr("group_name")};
	r.hook_names = alist("hook_names", &r.n_hook_names);
	return asg_describe_lifecycle_hooks(g.client, &r, done_hooks, NULL, NULL);
}

static hk_err c_groups(void)
{
	asg_describe_groups_req r = {0};
	r.group_names = alist("group_names", &r.n_group_names);
	return asg_describe_auto_scaling_groups(g.client, &r, done_groups, NULL, NULL);
}

static hk_err c_identity(void)
{
	return sts_get_caller_identity(g.client, done_identity, NULL, NULL);
}

static hk_err c_web_identity(void)
{
	sts_assume_role_web_identity_req r = {.role_arn = astr("role_arn"),
					      .session_name = astr("session_name"),
					      .web_identity_token = astr("web_identity_token"),
					      .duration_s = (unsigned)aint("duration_s", 0)};
	return sts_assume_role_with_web_identity(g.client, &r, done_web_identity, NULL, NULL);
}

static hk_err c_receive(void)
{
	sqs_receive_req r = {.queue_url = astr("queue_url"),
			     .max_messages = (unsigned)aint("max_messages", 1),
			     .wait_time_s = (unsigned)aint("wait_time_s", 0),
			     .visibility_timeout_s = (int)aint("visibility_timeout_s", -1)};
	r.attribute_names = alist("attribute_names", &r.n_attribute_names);
	return sqs_receive_message(g.client, &r, done_receive, NULL, NULL);
}

static hk_err c_sqs_delete(void)
{
	return sqs_delete_message(g.client, astr("queue_url"), astr("receipt_handle"),
				  done_sqs_empty, NULL, NULL);
}

static hk_err c_sqs_visibility(void)
{
	return sqs_change_message_visibility(g.client, astr("queue_url"), astr("receipt_handle"),
					     (unsigned)aint("visibility_timeout_s", 0),
					     done_sqs_empty, NULL, NULL);
}

static const struct {
	const char *name;
	hk_err (*fn)(void);
} calls[] = {
    {"describe-instances", c_describe_instances},
    {"describe-instance-types", c_describe_instance_types},
    {"describe-subnets", c_describe_subnets},
    {"describe-network-interfaces", c_describe_network_interfaces},
    {"get-subnet-cidr-reservations", c_get_reservations},
    {"create-subnet-cidr-reservation", c_create_reservation},
    {"delete-subnet-cidr-reservation", c_delete_reservation},
    {"create-network-interface", c_create_eni},
    {"attach-network-interface", c_attach},
    {"detach-network-interface", c_detach},
    {"delete-network-interface", c_delete_eni},
    {"modify-source-dest-check", c_source_dest},
    {"modify-delete-on-termination", c_dot},
    {"assign-ipv6-addresses", c_assign_ipv6},
    {"create-tags", c_create_tags},
    {"complete-lifecycle-action", c_complete},
    {"record-lifecycle-action-heartbeat", c_heartbeat},
    {"describe-lifecycle-hooks", c_hooks},
    {"describe-auto-scaling-groups", c_groups},
    {"get-caller-identity", c_identity},
    {"assume-role-with-web-identity", c_web_identity},
    {"sqs-receive-message", c_receive},
    {"sqs-delete-message", c_sqs_delete},
    {"sqs-change-message-visibility", c_sqs_visibility},
};

static hk_err (*g_call)(void);
static hk_err g_start_err;

static int start(void)
{
	g_start_err = g_call();
	return g_start_err == HK_OK ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: awscall <call> ['<json arguments>']\ncalls:");
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		fprintf(stderr, " %s", calls[i].name);
	fprintf(stderr, "\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return usage();
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(argv[1], calls[i].name) == 0)
			g_call = calls[i].fn;
	if (!g_call)
		return usage();
	json_error_t je;
	g.args = argc == 3 ? json_loads(argv[2], 0, &je) : json_object();
	if (!json_is_object(g.args)) {
		fprintf(stderr, "awscall: arguments are not a JSON object\n");
		return 2;
	}
	g.repeat = (int)aint("repeat", 1);
	g.results = json_array();
	g.start = start;
	g.base = event_base_new();
	int rc = 0;
	hk_err err = g.base ? awsclient_new(g.base, NULL, &g.client) : HK_ERR_NOMEM;
	if (err == HK_OK && start() != 0)
		err = g_start_err;
	if (err == HK_OK) {
		event_base_dispatch(g.base);
		/* One object per run; with "repeat", {"runs": [...]}. */
		json_t *out = json_array_size(g.results) == 1
				  ? json_incref(json_array_get(g.results, 0))
				  : json_pack("{s:O}", "runs", g.results);
		char *s = json_dumps(out, JSON_SORT_KEYS);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(out);
	} else {
		printf("{\"start_error\": \"%s\"}\n", err_names[err]);
		rc = 2;
	}
	awsclient_free(g.client);
	if (g.base)
		event_base_free(g.base);
	json_decref(g.results);
	json_decref(g.args);
	for (size_t i = 0; i < npool; i++)
		free(pool[i]);
	return rc;
}
