/* STS (Query protocol, Version 2011-06-15) messages: the request builders,
 * the answer readers and the call specs of GetCallerIdentity and
 * AssumeRoleWithWebIdentity. No transport: the typed calls (sts.c) and the
 * credential chain's web identity provider (creds.c, which runs below the
 * client and sends unsigned) both use them. The credentials result is wiped
 * when freed. */
#include "calls_internal.h"

#include "awsxml.h"

/* What an invalid entry of a request is, in errors (cq_b_done). */
#define STS_EMPTY "an empty role, session name or token"

static bool set(const char *s)
{
	return s && *s;
}

hk_err sts_build_get_caller_identity(query_params **ret, hk_errinfo *ei)
{
	cq_b b = cq_b_start("GetCallerIdentity", CQ_STS_VERSION, STS_EMPTY);
	return cq_b_done(&b, ret, ei);
}

static void sts_read_caller_identity(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	sts_caller_identity_out *o = outp;
	xmlNode *res = cq_x_result(r, doc);
	o->account = cq_x_str(r, res, "Account", true);
	o->arn = cq_x_str(r, res, "Arn", true);
	o->user_id = cq_x_str(r, res, "UserId", true);
}

hk_err sts_build_assume_role_web_identity(const sts_assume_role_web_identity_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "AssumeRoleWithWebIdentity";
	if (!req || !set(req->role_arn) || !set(req->session_name) || !set(req->web_identity_token))
		return hk_errinfo_set(
		    ei, HK_ERR_INVALID, 0,
		    "%s: role_arn, session_name and web_identity_token are required", action);
	cq_b b = cq_b_start(action, CQ_STS_VERSION, STS_EMPTY);
	cq_b_str(&b, "RoleArn", req->role_arn);
	cq_b_str(&b, "RoleSessionName", req->session_name);
	cq_b_str(&b, "WebIdentityToken", req->web_identity_token);
	if (req->duration_s)
		cq_b_uint(&b, "DurationSeconds", req->duration_s);
	return cq_b_done(&b, ret, ei);
}

static void sts_read_assume_role(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	sts_credentials_out *o = outp;
	xmlNode *res = cq_x_result(r, doc);
	xmlNode *cr = cq_x_need(r, res, "Credentials");
	o->access_key_id = cq_x_str(r, cr, "AccessKeyId", true);
	o->secret_access_key = cq_x_str(r, cr, "SecretAccessKey", true);
	o->session_token = cq_x_str(r, cr, "SessionToken", true);
	o->expiration = cq_x_str(r, cr, "Expiration", true);
	o->assumed_role_arn = cq_x_str_opt_nonempty(r, awsxml_child(res, "AssumedRoleUser"), "Arn");
}

hk_err sts_read_assume_role_web_identity(const xmlDoc *doc, sts_credentials_out **ret_out,
					 hk_errinfo *ei)
{
	void *out;
	hk_err err = cq_read_xml_once(&sts_spec_assume_role_web_identity, doc, &out, NULL, ei);
	if (err)
		return err;
	cq_arena_set_sensitive(cq_arena_of(out));
	*ret_out = out;
	return HK_OK;
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_STS)
