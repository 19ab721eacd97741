/* SNS typed call: Publish (the daemon's failure notices). Query protocol,
 * Version 2010-03-31: Action=Publish&TopicArn=..&Message=..[&Subject=..];
 * the answer is PublishResponse/PublishResult/MessageId. */
#include "calls_internal.h"

#include <string.h>

#define SNS_MESSAGE_MAX (256u * 1024) /* AWS's limit on a message */
#define SNS_SUBJECT_MAX 100u

hk_err sns_build_publish(const sns_publish_req *req, query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "Publish";
	if (!req || !req->topic_arn || !*req->topic_arn || !req->message || !*req->message)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s: topic_arn and message are required", action);
	if (strlen(req->message) > SNS_MESSAGE_MAX)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "%s: message over 256 KiB", action);
	if (req->subject && strlen(req->subject) > SNS_SUBJECT_MAX)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: subject over 100 characters",
				      action);
	cq_b b = cq_b_start(action, CQ_SNS_VERSION, "an empty topic ARN or message");
	cq_b_str(&b, "TopicArn", req->topic_arn);
	cq_b_str(&b, "Message", req->message);
	cq_b_opt(&b, "Subject", req->subject);
	return cq_b_done(&b, ret, ei);
}

static void sns_read_publish(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	sns_publish_out *o = outp;
	xmlNode *res = cq_x_result(r, doc);
	o->message_id = cq_x_str(r, res, "MessageId", true);
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_SNS)
CQ_DEFINE_STARTS(CQ_STARTS_SNS)
