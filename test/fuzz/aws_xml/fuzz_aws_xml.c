/* libFuzzer target: the AWS XML reader (awsxml_parse with its caps and DOCTYPE
 * refusal), the error envelope reader, and the reader helpers walking whatever
 * tree came out. Must never crash, leak, or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "awsxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const xmlNode *n, unsigned depth)
{
	if (depth > 80)
		return;
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		const char *t = awsxml_text(c);
		if (t)
			(void)strlen(t);
		unsigned long long u = 0;
		long long i = 0;
		int b = 0;
		unsigned ok = 0;
		ok += awsxml_u64(c, &u) == HK_OK;
		ok += awsxml_i64(c, &i) == HK_OK;
		ok += awsxml_bool(c, &b) == HK_OK;
		(void)ok;
		(void)awsxml_count_named(c, "item");
		for (xmlNode *it = awsxml_first_named(c, "member"); it;
		     it = awsxml_next_named(it, "member"))
			(void)awsxml_child_text(it, "Key");
		walk(c, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	if (awsxml_parse(buf, size, &doc, &ei) == HK_OK) {
		awsxml_error e = {0};
		if (awsxml_error_from_doc(doc, &e) == HK_OK) {
			(void)strlen(e.code);
			awsxml_error_cleanup(&e);
		}
		const char *rid = awsxml_request_id(doc);
		if (rid)
			(void)strlen(rid);
		walk(awsxml_root(doc), 0);
		(void)awsxml_path(awsxml_root(doc), "Errors", "Error", "Code", (const char *)NULL);
		xmlFreeDoc(doc);
	}
	awsxml_error e2 = {0};
	if (awsxml_parse_error(buf, size, &e2, &ei) == HK_OK)
		awsxml_error_cleanup(&e2);
	return 0;
}
