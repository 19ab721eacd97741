/* Auto Scaling (Query protocol, Version 2011-01-01): lifecycle action
 * completion and heartbeats, DescribeLifecycleHooks, DescribeAutoScalingGroups. */
#include "calls_internal.h"

#include <string.h>

#include "awsxml.h"
#include "hk_caps.h"

struct dg_out {
	asg_describe_groups_out pub;
	size_t cap;
};

/* What an invalid entry of a request is, in errors (cq_b_done). */
#define ASG_EMPTY "an empty name or list entry"

/* ---- CompleteLifecycleAction / RecordLifecycleActionHeartbeat ---------------- */

static hk_err build_action(const char *action, const asg_lifecycle_action_req *req,
			   bool with_result, query_params **ret, hk_errinfo *ei)
{
	if (!req || !cq_set(req->hook_name) || !cq_set(req->group_name))
		return cq_bad(ei, action, "hook_name and group_name are required");
	if (!cq_set(req->token) && !cq_set(req->instance_id))
		return cq_bad(ei, action, "a token or an instance id is required");
	if (with_result && req->result != ASG_RESULT_CONTINUE && req->result != ASG_RESULT_ABANDON)
		return cq_bad(ei, action, "result must be CONTINUE or ABANDON");
	cq_b b = cq_b_start(action, CQ_ASG_VERSION, ASG_EMPTY);
	cq_b_str(&b, "LifecycleHookName", req->hook_name);
	cq_b_str(&b, "AutoScalingGroupName", req->group_name);
	cq_b_opt(&b, "LifecycleActionToken", req->token);
	if (with_result)
		cq_b_str(&b, "LifecycleActionResult",
			 req->result == ASG_RESULT_ABANDON ? "ABANDON" : "CONTINUE");
	cq_b_opt(&b, "InstanceId", req->instance_id);
	return cq_b_done(&b, ret, ei);
}

hk_err asg_build_complete_lifecycle_action(const asg_lifecycle_action_req *req, query_params **ret,
					   hk_errinfo *ei)
{
	return build_action("CompleteLifecycleAction", req, true, ret, ei);
}

hk_err asg_build_record_heartbeat(const asg_lifecycle_action_req *req, query_params **ret,
				  hk_errinfo *ei)
{
	return build_action("RecordLifecycleActionHeartbeat", req, false, ret, ei);
}

/* <XResponse><XResult/><ResponseMetadata><RequestId/></ResponseMetadata>. The
 * Result element carries nothing for these two; its absence is tolerated. */
static void asg_read_empty(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	asg_empty_out *o = outp;
	xmlNode *root = cq_x_response(r, doc);
	if (r->err)
		return;
	o->request_id =
	    cq_x_str_opt_nonempty(r, awsxml_child(root, "ResponseMetadata"), "RequestId");
}

/* ---- DescribeLifecycleHooks --------------------------------------------------- */

hk_err asg_build_describe_lifecycle_hooks(const asg_describe_lifecycle_hooks_req *req,
					  query_params **ret, hk_errinfo *ei)
{
	static const char action[] = "DescribeLifecycleHooks";
	if (!req || !cq_set(req->group_name))
		return cq_bad(ei, action, "group_name is required");
	cq_b b = cq_b_start(action, CQ_ASG_VERSION, ASG_EMPTY);
	cq_b_str(&b, "AutoScalingGroupName", req->group_name);
	cq_b_list(&b, "LifecycleHookNames.member", req->hook_names, req->n_hook_names);
	return cq_b_done(&b, ret, ei);
}

static void read_hook(cq_rd *r, const xmlNode *m, void *elem, const void *ctx)
{
	asg_lifecycle_hook *h = elem;
	h->hook_name = cq_x_str(r, m, "LifecycleHookName", true);
	h->group_name = cq_x_str(r, m, "AutoScalingGroupName", true);
	h->transition = cq_x_str(r, m, "LifecycleTransition", true);
	h->default_result = cq_x_str_opt_nonempty(r, m, "DefaultResult");
	h->notification_metadata = cq_x_str_opt_nonempty(r, m, "NotificationMetadata");
	h->target_arn = cq_x_str_opt_nonempty(r, m, "NotificationTargetARN");
	h->role_arn = cq_x_str_opt_nonempty(r, m, "RoleARN");
	h->heartbeat_timeout_s = cq_x_uint(r, m, "HeartbeatTimeout", false, 3600);
	h->global_timeout_s = cq_x_uint(r, m, "GlobalTimeout", false, 0);
}

static void asg_read_describe_lifecycle_hooks(cq_rd *r, const xmlDoc *doc, void *outp,
					      const char **next)
{
	asg_describe_lifecycle_hooks_out *o = outp;
	xmlNode *res = cq_x_result(r, doc);
	o->hooks = cq_x_items(r, cq_x_need(r, res, "LifecycleHooks"), "member", HK_CAP_AWS_ITEMS,
			      sizeof(asg_lifecycle_hook), read_hook, NULL, NULL, &o->n_hooks, NULL);
}

/* ---- DescribeAutoScalingGroups ------------------------------------------------ */

hk_err asg_build_describe_groups(const asg_describe_groups_req *req, query_params **ret,
				 hk_errinfo *ei)
{
	static const char action[] = "DescribeAutoScalingGroups";
	if (!req)
		return cq_bad(ei, action, "no request");
	cq_b b = cq_b_start(action, CQ_ASG_VERSION, ASG_EMPTY);
	cq_b_list(&b, "AutoScalingGroupNames.member", req->group_names, req->n_group_names);
	cq_b_uint(&b, "MaxRecords", 100);
	return cq_b_done(&b, ret, ei);
}

static void read_launch_template(cq_rd *r, const xmlNode *lt, asg_launch_template *t)
{
	t->id = cq_x_str_opt_nonempty(r, lt, "LaunchTemplateId");
	t->name = cq_x_str_opt_nonempty(r, lt, "LaunchTemplateName");
	t->version = cq_x_str_opt_nonempty(r, lt, "Version");
}

/* VPCZoneIdentifier is "subnet-a,subnet-b" (AWS may add spaces). */
static void split_subnets(cq_rd *r, const char *list, asg_group *g)
{
	if (!list || !*list || r->err)
		return;
	size_t n = 1;
	for (const char *c = list; *c; c++)
		n += *c == ',';
	if (n > HK_CAP_AWS_SUBITEMS) {
		cq_rd_fail(r, HK_ERR_TOO_LARGE, "more than %u subnets in VPCZoneIdentifier",
			   HK_CAP_AWS_SUBITEMS);
		return;
	}
	const char **v = cq_alloc(r->a, n, sizeof(*v));
	if (!v) {
		cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
		return;
	}
	size_t i = 0;
	const char *s = list;
	for (;;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len) {
			v[i] = cq_strndup(r->a, s, len);
			if (!v[i]) {
				cq_rd_fail(r, HK_ERR_NOMEM, "out of memory");
				return;
			}
			i++;
		}
		if (!e)
			break;
		s = e + 1;
	}
	g->subnet_ids = i ? v : NULL;
	g->n_subnet_ids = i;
}

static void read_instance(cq_rd *r, const xmlNode *x, void *elem, const void *ctx)
{
	asg_instance *in = elem;
	in->instance_id = cq_x_str(r, x, "InstanceId", true);
	in->az = cq_x_str(r, x, "AvailabilityZone", true);
	in->lifecycle_state = cq_x_str(r, x, "LifecycleState", true);
	in->health_status = cq_x_str_opt_nonempty(r, x, "HealthStatus");
	in->instance_type = cq_x_str_opt_nonempty(r, x, "InstanceType");
	in->protected_from_scale_in = cq_x_bool(r, x, "ProtectedFromScaleIn", false, false);
}

static void read_instances(cq_rd *r, const xmlNode *m, asg_group *g)
{
	g->instances =
	    cq_x_items(r, awsxml_child(m, "Instances"), "member", HK_CAP_AWS_SUBITEMS,
		       sizeof(asg_instance), read_instance, NULL, NULL, &g->n_instances, NULL);
}

static void read_group(cq_rd *r, const xmlNode *m, void *elem, const void *ctx)
{
	asg_group *g = elem;
	g->name = cq_x_str(r, m, "AutoScalingGroupName", true);
	g->arn = cq_x_str_opt_nonempty(r, m, "AutoScalingGroupARN");
	g->min_size = cq_x_uint(r, m, "MinSize", true, 0);
	g->max_size = cq_x_uint(r, m, "MaxSize", true, 0);
	g->desired_capacity = cq_x_uint(r, m, "DesiredCapacity", true, 0);
	cq_x_strings(r, m, "AvailabilityZones", "member", NULL, &g->azs, &g->n_azs);
	split_subnets(r, cq_x_str(r, m, "VPCZoneIdentifier", false), g);
	g->launch_configuration = cq_x_str_opt_nonempty(r, m, "LaunchConfigurationName");
	xmlNode *lt = awsxml_child(m, "LaunchTemplate");
	if (!lt)
		lt = awsxml_path(m, "MixedInstancesPolicy", "LaunchTemplate",
				 "LaunchTemplateSpecification", NULL);
	if (lt) {
		g->has_launch_template = true;
		read_launch_template(r, lt, &g->launch_template);
	}
	read_instances(r, m, g);
	cq_x_tags(r, m, "Tags", "member", "Key", "Value", &g->tags, &g->n_tags);
}

static void asg_read_describe_groups(cq_rd *r, const xmlDoc *doc, void *outp, const char **next)
{
	struct dg_out *o = outp;
	xmlNode *res = cq_x_result(r, doc);
	o->pub.groups = cq_x_items(r, cq_x_need(r, res, "AutoScalingGroups"), "member",
				   HK_CAP_AWS_ITEMS, sizeof(asg_group), read_group, NULL,
				   o->pub.groups, &o->pub.n_groups, &o->cap);
	*next = cq_x_peek(res, "NextToken");
}

/* ---- the generated part (calls_table.h) ---- */

CQ_DEFINE_SPECS(CQ_SPECS_ASG)
CQ_DEFINE_STARTS(CQ_STARTS_ASG)
