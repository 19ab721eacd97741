/* STS typed calls: GetCallerIdentity and AssumeRoleWithWebIdentity through
 * the client (messages in sts_msgs.c). */
#include "calls_internal.h"

hk_err sts_get_caller_identity(awc_client *c, sts_caller_identity_fn done, void *arg,
			       const awc_call_opts *opts)
{
	query_params *p;
	hk_err err = sts_build_get_caller_identity(&p, NULL);
	if (err)
		return err;
	return cq_start_query(c, &sts_spec_get_caller_identity, p, opts, NULL, NULL,
			      (cq_generic_fn)done, arg);
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_STARTS(CQ_STARTS_STS)
