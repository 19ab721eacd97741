/* The daemon's Prometheus metrics (hook_core.h, docs/operations.md#metrics):
 * one registry for the process, its families made once at start. */
#include "hook_core.h"

#include <stdlib.h>

hook_metrics_set hook_m;
static hk_metrics *g_reg;

static const double call_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
static const double completion_bounds[] = {0.25, 0.5, 1,   2.5, 5,   10,   20,
					   30,	 60,  120, 300, 600, 1800, 3600};

hk_err hook_metrics_init(const char *version)
{
	hook_metrics_free();
	g_reg = hk_metrics_new();
	if (!g_reg)
		return HK_ERR_NOMEM;
	hk_metrics *r = g_reg;
	hook_m.events = hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_events_total",
				       "Lifecycle events received, by source and outcome.",
				       "source,outcome", NULL, 0);
	hook_m.actions_finished = hk_metrics_add(
	    r, HK_METRIC_COUNTER, "multus_hookd_actions_finished_total",
	    "Lifecycle actions finished, by transition and result.", "transition,result", NULL, 0);
	hook_m.completion_seconds =
	    hk_metrics_add(r, HK_METRIC_HISTOGRAM, "multus_hookd_event_to_completion_seconds",
			   "From the event's arrival to the action's end, by transition.",
			   "transition", completion_bounds, HK_ARRAY_LEN(completion_bounds));
	hook_m.aws_calls = hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_aws_calls_total",
					  "AWS calls finished (after retries), by outcome.",
					  "service,action,outcome", NULL, 0);
	hook_m.aws_retries =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_aws_retries_total",
			   "AWS call attempts retried, by token-bucket family.", "family", NULL, 0);
	hook_m.bucket_waits = hk_metrics_add(
	    r, HK_METRIC_COUNTER, "multus_hookd_aws_bucket_waits_total",
	    "Attempts the client-side token bucket delayed, by family.", "family", NULL, 0);
	hook_m.bucket_wait_seconds = hk_metrics_add(
	    r, HK_METRIC_COUNTER, "multus_hookd_aws_bucket_wait_seconds_total",
	    "Time attempts waited for the token bucket, by family.", "family", NULL, 0);
	hook_m.rate_factor = hk_metrics_add(
	    r, HK_METRIC_GAUGE, "multus_hookd_aws_rate_factor",
	    "Adaptive rate factor of a token-bucket family (1: nominal).", "family", NULL, 0);
	hook_m.heartbeats =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_heartbeats_total",
			   "Lifecycle action heartbeats sent, by outcome.", "outcome", NULL, 0);
	hook_m.enis =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_enis_total",
			   "Multus ENIs created, attached, adopted and deleted.", "event", NULL, 0);
	hook_m.orphans_swept =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_orphans_swept_total",
			   "Available ENIs of gone instances deleted by the sweep.", NULL, NULL, 0);
	hook_m.sqs_messages =
	    hk_metrics_add(r, HK_METRIC_COUNTER, "multus_hookd_sqs_messages_total",
			   "SQS messages received and deleted.", "event", NULL, 0);
	hook_m.in_flight = hk_metrics_add(r, HK_METRIC_GAUGE, "multus_hookd_actions_in_flight",
					  "Actions running now, by step.", "step", NULL, 0);
	hook_m.oldest_age =
	    hk_metrics_add(r, HK_METRIC_GAUGE, "multus_hookd_oldest_action_age_seconds",
			   "Age of the oldest action running now (0: none).", NULL, NULL, 0);
	hook_m.aws_call_seconds = hk_metrics_add(
	    r, HK_METRIC_HISTOGRAM, "multus_hookd_aws_call_seconds",
	    "AWS calls from start to answer (retries and bucket waits included), by action.",
	    "action", call_bounds, HK_ARRAY_LEN(call_bounds));
	hook_m.subnet_free = hk_metrics_add(
	    r, HK_METRIC_GAUGE, "multus_hookd_subnet_free_addresses",
	    "IPv4 addresses a worker could still get in a Multus subnet, as last read.",
	    "subnet,network", NULL, 0);
	hook_m.subnet_resv =
	    hk_metrics_add(r, HK_METRIC_GAUGE, "multus_hookd_subnet_reserved_ranges",
			   "Subnet CIDR reservations of a Multus subnet, as last read.",
			   "subnet,network", NULL, 0);
	hk_metric *info = hk_metrics_add(r, HK_METRIC_GAUGE, "multus_hookd_build_info",
					 "The daemon's version.", "version", NULL, 0);
	const char *v[1] = {version ? version : ""};
	hk_metric_set(info, v, 1);
	return HK_OK;
}

hk_metrics *hook_metrics_registry(void)
{
	return g_reg;
}

void hook_metrics_free(void)
{
	hk_metrics_free(g_reg);
	g_reg = NULL;
	hook_metrics_set empty = {0};
	hook_m = empty;
}
