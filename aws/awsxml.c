/* Safe XML for AWS responses. libxml2 is told not to use the network, and a
 * DOCTYPE stops the parser at once (AWS never sends one; it is the only way to
 * declare entities, so no entity can be expanded or fetched). The depth cap is
 * checked on the tree (libxml2 itself stops at 256 levels without
 * XML_PARSE_HUGE, so the parser's own recursion is bounded). */
#include "awsxml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "hk_caps.h"

/* Set by deny_doctype(); read back after parsing (the context is ours). */
struct parse_state {
	int saw_doctype;
};

static void deny_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			 const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *ps = ctxt->_private;
	if (ps)
		ps->saw_doctype = 1;
	xmlStopParser(ctxt);
}

/* Merge adjacent text children so every simple element has exactly one text
 * node (CDATA already arrives as text with XML_PARSE_NOCDATA). */
static void merge_text(xmlNode *el)
{
	for (xmlNode *c = el->children; c; c = c->next) {
		while (c->type == XML_TEXT_NODE && c->next && c->next->type == XML_TEXT_NODE) {
			xmlNode *second = c->next;
			if (xmlTextMerge(c, second) == NULL || c->next == second)
				break;
		}
	}
}

static hk_err walk_tree(xmlNode *root, hk_errinfo *ei)
{
	xmlNode *n = root;
	unsigned depth = 1;
	while (n) {
		if (n->type == XML_ELEMENT_NODE) {
			if (depth > HK_CAP_XML_DEPTH)
				return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0,
						      "XML nesting deeper than %u",
						      HK_CAP_XML_DEPTH);
			merge_text(n);
			if (n->children) {
				n = n->children;
				depth++;
				continue;
			}
		}
		while (n != root && !n->next) {
			n = n->parent;
			depth--;
		}
		if (n == root)
			break;
		n = n->next;
	}
	return HK_OK;
}

hk_err awsxml_parse(const char *buf, size_t len, xmlDocPtr *ret_doc, hk_errinfo *ei)
{
	if (len > HK_CAP_AWS_RESPONSE_BODY || len > INT_MAX)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "XML body of %zu bytes over cap %u",
				      len, HK_CAP_AWS_RESPONSE_BODY);
	if (!buf || len == 0)
		return hk_errinfo_set(ei, HK_ERR_PARSE, 0, "empty body");
	xmlInitParser();
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	struct parse_state ps = {0};
	ctxt->_private = &ps;
	if (ctxt->sax) {
		ctxt->sax->internalSubset = deny_doctype;
		ctxt->sax->externalSubset = NULL;
	}
	/* No XML_PARSE_NOENT (would substitute entities), no XML_PARSE_DTDLOAD,
	 * no XML_PARSE_HUGE (keeps libxml2's own limits). */
	int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
		   XML_PARSE_NOWARNING;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, opts);
	hk_err err = HK_OK;
	if (ps.saw_doctype) {
		err = hk_errinfo_set(ei, HK_ERR_PARSE, 0, "XML with a DOCTYPE refused");
	} else if (!doc || !ctxt->wellFormed) {
		const xmlError *xe = xmlCtxtGetLastError(ctxt);
		size_t off = 0;
		if (xe && xe->line > 0)
			off = (size_t)xe->line;
		err =
		    hk_errinfo_set(ei, HK_ERR_PARSE, off, "not well-formed XML (line %zu): %.120s",
				   off, xe && xe->message ? xe->message : "parse failed");
		/* libxml2 messages end in a newline: drop it. */
		if (ei) {
			size_t tl = strlen(ei->text);
			while (tl && (ei->text[tl - 1] == '\n' || ei->text[tl - 1] == '\r'))
				ei->text[--tl] = '\0';
		}
	} else if (!xmlDocGetRootElement(doc)) {
		err = hk_errinfo_set(ei, HK_ERR_PARSE, 0, "XML without a root element");
	} else {
		err = walk_tree(xmlDocGetRootElement(doc), ei);
	}
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	if (err != HK_OK) {
		xmlFreeDoc(doc);
		return err;
	}
	*ret_doc = doc;
	return HK_OK;
}

xmlNode *awsxml_root(const xmlDoc *doc)
{
	return doc ? xmlDocGetRootElement(doc) : NULL;
}

int awsxml_is(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && node->name &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNode *awsxml_child(const xmlNode *parent, const char *name)
{
	if (!parent || parent->type != XML_ELEMENT_NODE)
		return NULL;
	for (xmlNode *c = parent->children; c; c = c->next)
		if (awsxml_is(c, name))
			return c;
	return NULL;
}

xmlNode *awsxml_path(const xmlNode *from, ...)
{
	va_list ap;
	va_start(ap, from);
	xmlNode *n = (xmlNode *)(uintptr_t)from;
	const char *name;
	while (n && (name = va_arg(ap, const char *)) != NULL)
		n = awsxml_child(n, name);
	va_end(ap);
	return n;
}

const char *awsxml_text(const xmlNode *el)
{
	if (!el || el->type != XML_ELEMENT_NODE)
		return NULL;
	for (const xmlNode *c = el->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE && c->content)
			return (const char *)c->content;
	return "";
}

const char *awsxml_child_text(const xmlNode *parent, const char *name)
{
	return awsxml_text(awsxml_child(parent, name));
}

xmlNode *awsxml_first_named(const xmlNode *parent, const char *name)
{
	return awsxml_child(parent, name);
}

xmlNode *awsxml_next_named(const xmlNode *node, const char *name)
{
	if (!node)
		return NULL;
	for (xmlNode *c = node->next; c; c = c->next)
		if (awsxml_is(c, name))
			return c;
	return NULL;
}

size_t awsxml_count_named(const xmlNode *parent, const char *name)
{
	size_t n = 0;
	for (xmlNode *c = awsxml_child(parent, name); c; c = awsxml_next_named(c, name))
		n++;
	return n;
}

hk_err awsxml_u64(const xmlNode *el, unsigned long long *ret)
{
	const char *s = awsxml_text(el);
	if (!s)
		return HK_ERR_NOT_FOUND;
	if (*s < '0' || *s > '9')
		return HK_ERR_PARSE;
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || !end || *end != '\0')
		return HK_ERR_PARSE;
	*ret = v;
	return HK_OK;
}

hk_err awsxml_i64(const xmlNode *el, long long *ret)
{
	const char *s = awsxml_text(el);
	if (!s)
		return HK_ERR_NOT_FOUND;
	if (!((*s >= '0' && *s <= '9') || *s == '-'))
		return HK_ERR_PARSE;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || !end || end == s || *end != '\0')
		return HK_ERR_PARSE;
	*ret = v;
	return HK_OK;
}

hk_err awsxml_bool(const xmlNode *el, int *ret)
{
	const char *s = awsxml_text(el);
	if (!s)
		return HK_ERR_NOT_FOUND;
	if (strcmp(s, "true") == 0)
		*ret = 1;
	else if (strcmp(s, "false") == 0)
		*ret = 0;
	else
		return HK_ERR_PARSE;
	return HK_OK;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

hk_err awsxml_error_from_doc(const xmlDoc *doc, awsxml_error *ret)
{
	xmlNode *root = awsxml_root(doc);
	xmlNode *err = NULL;
	const char *rid = NULL;
	if (awsxml_is(root, "Response") || awsxml_is(root, "ErrorResponse")) {
		/* EC2: Response/Errors/Error; Query services: ErrorResponse/Error;
		 * moto also sends ErrorResponse/Errors/Error. */
		err = awsxml_child(root, "Error");
		if (!err)
			err = awsxml_path(root, "Errors", "Error", NULL);
		rid = awsxml_child_text(root, "RequestID");
		if (!rid)
			rid = awsxml_child_text(root, "RequestId");
	} else if (awsxml_is(root, "Error")) { /* bare <Error> (some services, proxies) */
		err = root;
		rid = awsxml_child_text(root, "RequestId");
	}
	const char *code = awsxml_child_text(err, "Code");
	if (!code || !*code)
		return HK_ERR_NOT_FOUND;
	awsxml_error e = {0};
	e.code = strdup(code);
	e.message = dup_or_null(awsxml_child_text(err, "Message"));
	e.type = dup_or_null(awsxml_child_text(err, "Type"));
	e.request_id = rid && *rid ? strdup(rid) : NULL;
	if (!e.code || (awsxml_child(err, "Message") && !e.message) ||
	    (awsxml_child(err, "Type") && !e.type) || (rid && *rid && !e.request_id)) {
		awsxml_error_cleanup(&e);
		return HK_ERR_NOMEM;
	}
	*ret = e;
	return HK_OK;
}

hk_err awsxml_parse_error(const char *body, size_t len, awsxml_error *ret, hk_errinfo *ei)
{
	xmlDocPtr doc = NULL;
	hk_err err = awsxml_parse(body, len, &doc, ei);
	if (err != HK_OK)
		return err;
	err = awsxml_error_from_doc(doc, ret);
	if (err == HK_ERR_NOT_FOUND)
		hk_errinfo_set(ei, err, 0, "XML is not an AWS error document (root <%.64s>)",
			       (const char *)awsxml_root(doc)->name);
	xmlFreeDoc(doc);
	return err;
}

void awsxml_error_cleanup(awsxml_error *e)
{
	if (!e)
		return;
	free(e->code);
	free(e->message);
	free(e->request_id);
	free(e->type);
	memset(e, 0, sizeof(*e));
}

const char *awsxml_request_id(const xmlDoc *doc)
{
	xmlNode *root = awsxml_root(doc);
	const char *rid = awsxml_child_text(root, "requestId");
	if (!rid)
		rid = awsxml_child_text(awsxml_child(root, "ResponseMetadata"), "RequestId");
	return rid;
}
