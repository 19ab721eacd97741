/* SQS over its JSON protocol (X-Amz-Target: AmazonSQS.<Action>):
 * ReceiveMessage (long poll), DeleteMessage, ChangeMessageVisibility. */
#include "calls_internal.h"

#include <string.h>

#include "hk_caps.h"

static bool set(const char *s)
{
	return s && *s;
}

/* Build an object, failing cleanly when jansson runs out of memory. */
static hk_err put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? HK_OK : HK_ERR_NOMEM;
}

hk_err sqs_build_receive(const sqs_receive_req *req, json_t **ret, hk_errinfo *ei)
{
	static const char action[] = "ReceiveMessage";
	if (!req || !set(req->queue_url))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: queue_url is required", action);
	if (req->max_messages > 10 || req->wait_time_s > 20 || req->visibility_timeout_s > 43200)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s: max_messages 1..10, wait_time_s 0..20, "
				      "visibility_timeout_s up to 43200",
				      action);
	json_t *b = json_object();
	if (!b)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	hk_err err = put(b, "QueueUrl", json_string(req->queue_url));
	if (!err)
		err = put(b, "MaxNumberOfMessages",
			  json_integer(req->max_messages ? req->max_messages : 1));
	if (!err)
		err = put(b, "WaitTimeSeconds", json_integer(req->wait_time_s));
	if (!err && req->visibility_timeout_s >= 0)
		err = put(b, "VisibilityTimeout", json_integer(req->visibility_timeout_s));
	if (!err && req->n_attribute_names) {
		json_t *names = json_array();
		err = put(b, "MessageSystemAttributeNames", names);
		for (size_t i = 0; !err && i < req->n_attribute_names; i++) {
			if (!req->attribute_names || !set(req->attribute_names[i]))
				err = HK_ERR_INVALID;
			else if (json_array_append_new(names,
						       json_string(req->attribute_names[i])) != 0)
				err = HK_ERR_NOMEM;
		}
	}
	if (err) {
		json_decref(b);
		return hk_errinfo_set(ei, err, 0, "%s: %s", action,
				      err == HK_ERR_INVALID ? "an empty attribute name"
							    : hk_err_str(err));
	}
	*ret = b;
	return HK_OK;
}

static void sqs_read_receive(cq_rd *r, const json_t *json, void *outp)
{
	sqs_receive_out *o = outp;
	const json_t *msgs = json_object_get(json, "Messages");
	if (!msgs || json_is_null(msgs))
		return; /* an empty long poll: {} */
	if (!json_is_array(msgs)) {
		cq_rd_fail(r, HK_ERR_PARSE, "\"Messages\" is not an array");
		return;
	}
	size_t n = json_array_size(msgs);
	if (n == 0)
		return;
	if (n > HK_CAP_AWS_SUBITEMS) {
		cq_rd_fail(r, HK_ERR_TOO_LARGE, "more than %u messages", HK_CAP_AWS_SUBITEMS);
		return;
	}
	sqs_message *v = cq_alloc(r->a, n, sizeof(*v));
	if (!v) {
		cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < n && !r->err; i++) {
		const json_t *m = json_array_get(msgs, i);
		if (!json_is_object(m)) {
			cq_rd_fail(r, HK_ERR_PARSE, "message %zu is not an object", i);
			return;
		}
		v[i].message_id = cq_j_str(r, m, "MessageId", true, NULL);
		v[i].receipt_handle = cq_j_str(r, m, "ReceiptHandle", true, NULL);
		v[i].body = cq_j_str(r, m, "Body", true, &v[i].body_len);
		v[i].md5_of_body = cq_j_str(r, m, "MD5OfBody", false, NULL);
		const json_t *attrs = json_object_get(m, "Attributes");
		if (r->err || !attrs || json_is_null(attrs))
			continue;
		if (!json_is_object(attrs)) {
			cq_rd_fail(r, HK_ERR_PARSE, "message %zu: \"Attributes\" is not an object",
				   i);
			return;
		}
		size_t na = json_object_size(attrs);
		if (na > HK_CAP_AWS_SUBITEMS) {
			cq_rd_fail(r, HK_ERR_TOO_LARGE, "message %zu: too many attributes", i);
			return;
		}
		if (!na)
			continue;
		sqs_attribute *a = cq_alloc(r->a, na, sizeof(*a));
		if (!a) {
			cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
			return;
		}
		size_t k = 0;
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)(uintptr_t)attrs, key, val)
		{
			if (k >= na)
				break;
			if (!json_is_string(val))
				continue; /* AWS sends strings; skip anything else */
			a[k].name = cq_strdup(r->a, key);
			a[k].value =
			    cq_strndup(r->a, json_string_value(val), json_string_length(val));
			if (!a[k].name || !a[k].value) {
				cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
				return;
			}
			k++;
		}
		v[i].attributes = k ? a : NULL;
		v[i].n_attributes = k;
	}
	o->messages = v;
	o->n_messages = n;
}

hk_err sqs_receive_message(awc_client *c, const sqs_receive_req *req, sqs_receive_fn done,
			   void *arg, const awc_call_opts *opts)
{
	json_t *body;
	hk_err err = sqs_build_receive(req, &body, NULL);
	if (err)
		return err;
	/* The long poll holds the request open: give it its wait on top of the
	 * usual 20 s. */
	long timeout_ms = req->wait_time_s ? 20000L + (long)req->wait_time_s * 1000L : 0;
	err = cq_start_json(c, &sqs_spec_receive, "AmazonSQS.ReceiveMessage", body, opts,
			    timeout_ms, (cq_generic_fn)done, arg);
	json_decref(body);
	return err;
}

hk_err sqs_build_delete(const char *queue_url, const char *receipt_handle, json_t **ret,
			hk_errinfo *ei)
{
	if (!set(queue_url) || !set(receipt_handle))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "DeleteMessage: queue_url and receipt_handle are required");
	json_t *b = json_object();
	hk_err err = b ? put(b, "QueueUrl", json_string(queue_url)) : HK_ERR_NOMEM;
	if (!err)
		err = put(b, "ReceiptHandle", json_string(receipt_handle));
	if (err) {
		json_decref(b);
		return hk_errinfo_set(ei, err, 0, "out of memory");
	}
	*ret = b;
	return HK_OK;
}

hk_err sqs_build_change_visibility(const char *queue_url, const char *receipt_handle,
				   unsigned timeout_s, json_t **ret, hk_errinfo *ei)
{
	if (!set(queue_url) || !set(receipt_handle) || timeout_s > 43200)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "ChangeMessageVisibility: queue_url and receipt_handle are "
				      "required, timeout up to 43200 s");
	json_t *b;
	hk_err err = sqs_build_delete(queue_url, receipt_handle, &b, ei);
	if (err)
		return err;
	err = put(b, "VisibilityTimeout", json_integer(timeout_s));
	if (err) {
		json_decref(b);
		return hk_errinfo_set(ei, err, 0, "out of memory");
	}
	*ret = b;
	return HK_OK;
}

/* DeleteMessage and ChangeMessageVisibility answer {} (or nothing). */
static void sqs_read_empty(cq_rd *r, const json_t *json, void *outp)
{
	sqs_empty_out *o = outp;
	o->ok = true;
}

hk_err sqs_delete_message(awc_client *c, const char *queue_url, const char *receipt_handle,
			  sqs_empty_fn done, void *arg, const awc_call_opts *opts)
{
	json_t *body;
	hk_err err = sqs_build_delete(queue_url, receipt_handle, &body, NULL);
	if (err)
		return err;
	err = cq_start_json(c, &sqs_spec_empty, "AmazonSQS.DeleteMessage", body, opts, 0,
			    (cq_generic_fn)done, arg);
	json_decref(body);
	return err;
}

hk_err sqs_change_message_visibility(awc_client *c, const char *queue_url,
				     const char *receipt_handle, unsigned visibility_timeout_s,
				     sqs_empty_fn done, void *arg, const awc_call_opts *opts)
{
	json_t *body;
	hk_err err = sqs_build_change_visibility(queue_url, receipt_handle, visibility_timeout_s,
						 &body, NULL);
	if (err)
		return err;
	err = cq_start_json(c, &sqs_spec_empty, "AmazonSQS.ChangeMessageVisibility", body, opts, 0,
			    (cq_generic_fn)done, arg);
	json_decref(body);
	return err;
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_SQS)
