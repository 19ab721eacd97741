/* libFuzzer target for the typed calls' response readers: arbitrary bytes are
 * parsed the way the client core parses AWS responses (awsxml_parse for XML,
 * json_loadb for SQS) and handed to every reader, twice into the same result
 * (the pagination append path). A reader may refuse a document; it must never
 * crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libxml/tree.h>

#include "awsxml.h"
#include "calls_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const cq_spec *const xml_specs[] = {
    &ec2_spec_describe_instances,
    &ec2_spec_describe_instance_types,
    &ec2_spec_describe_subnets,
    &ec2_spec_describe_network_interfaces,
    &ec2_spec_get_subnet_cidr_reservations,
    &ec2_spec_create_subnet_cidr_reservation,
    &ec2_spec_delete_subnet_cidr_reservation,
    &ec2_spec_create_network_interface,
    &ec2_spec_attach_network_interface,
    &ec2_spec_detach_network_interface,
    &ec2_spec_delete_network_interface,
    &ec2_spec_modify_network_interface_attribute,
    &ec2_spec_create_tags,
    &ec2_spec_assign_ipv6_addresses,
    &asg_spec_complete_lifecycle_action,
    &asg_spec_record_heartbeat,
    &asg_spec_describe_lifecycle_hooks,
    &asg_spec_describe_groups,
    &sts_spec_get_caller_identity,
    &sts_spec_assume_role_web_identity,
    &sns_spec_publish,
};

static const cq_spec *const json_specs[] = {&sqs_spec_receive, &sqs_spec_empty};

static void read_twice(const cq_spec *spec, const xmlDoc *doc)
{
	cq_arena *a;
	void *out = cq_root_new(spec->out_size, &a);
	if (!out)
		return;
	for (int i = 0; i < 2; i++) {
		cq_rd r;
		cq_rd_init(&r, a, spec->action);
		const char *next = NULL;
		spec->read_xml(&r, doc, out, &next);
		if (r.err)
			break;
	}
	cq_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDocPtr doc = NULL;
	hk_errinfo ei;
	if (awsxml_parse((const char *)data, size, &doc, &ei) == HK_OK) {
		for (size_t i = 0; i < HK_ARRAY_LEN(xml_specs); i++)
			read_twice(xml_specs[i], doc);
		xmlFreeDoc(doc);
	}
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, 0, &je);
	if (j) {
		for (size_t i = 0; i < HK_ARRAY_LEN(json_specs); i++) {
			void *out = NULL;
			if (cq_read_json_once(json_specs[i], j, &out, &ei) == HK_OK)
				cq_arena_free(cq_arena_of(out));
		}
		json_decref(j);
	}
	return 0;
}
