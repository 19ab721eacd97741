/* hook/intake: everything that accepts lifecycle events. POST /v1/events
 * (intake.c: auth, limits, answer), event parsing (event.c), SNS HTTP(S)
 * subscriptions (sns.c), the SQS consumer (sqs.c), and the durable commit
 * they share. It hands committed actions to the engine through the dispatch
 * interface of hook_engine.h only. Uses engine/ (interface), store/,
 * config/, core/, aws/ (SQS, SNS certificate fetches). */
#ifndef HOOK_INTAKE_H
#define HOOK_INTAKE_H

#include "hook_config.h"
#include "hook_engine.h"
#include "hook_store.h"

/* ======================================================================
 * Auth (intake.c)
 * ====================================================================== */

/* Whether a request's headers carry the configured credentials. Reads only
 * the one header that auth needs; never logs. */
bool hook_auth_ok(const hook_config *cfg, struct evhttp_request *req);

/* ======================================================================
 * Lifecycle events (event.c)
 * ====================================================================== */

typedef enum hook_event_kind {
	HOOK_EVENT_LIFECYCLE = 0, /* a lifecycle action to carry out */
	HOOK_EVENT_TEST,	  /* autoscaling:TEST_NOTIFICATION: acknowledge, ignore */
	HOOK_EVENT_SNS_CONTROL,	  /* SNS SubscriptionConfirmation / UnsubscribeConfirmation */
} hook_event_kind;

/* Field size caps (bytes incl. NUL). AWS limits: names 255, token a UUID. */
#define HOOK_EV_ID_MAX	     129
#define HOOK_EV_NAME_MAX     256
#define HOOK_EV_TOKEN_MAX    129
#define HOOK_EV_INSTANCE_MAX 32
#define HOOK_EV_PLACE_MAX    33

/* A parsed event. Fixed storage except `metadata` (heap, owned: release with
 * hook_event_cleanup). Fields not present are "". */
typedef struct hook_event {
	hook_event_kind kind;
	hook_event_source source;
	hook_transition transition;
	char sns_type[32];			/* SNS_CONTROL: the envelope's Type */
	char event_id[HOOK_EV_ID_MAX];		/* "eventbridge:<id>" / "sns:<MessageId>" / "" */
	char token[HOOK_EV_TOKEN_MAX];		/* LifecycleActionToken */
	char asg[HOOK_EV_NAME_MAX];		/* AutoScalingGroupName */
	char hook[HOOK_EV_NAME_MAX];		/* LifecycleHookName */
	char instance_id[HOOK_EV_INSTANCE_MAX]; /* EC2InstanceId */
	char origin[HOOK_EV_PLACE_MAX];		/* EC2 | AutoScalingGroup | WarmPool | "" */
	char destination[HOOK_EV_PLACE_MAX];
	char *metadata; /* NotificationMetadata (<= HK_CAP_METADATA_LEN chars) or NULL */
} hook_event;

/* Parse one POST body. HK_OK fills *ret (call hook_event_cleanup after).
 * HK_ERR_PARSE: not JSON / too deep. HK_ERR_INVALID: a required field is
 * missing, has the wrong type or a bad value, or the detail-type/transition
 * is not a lifecycle action (ei->text names the field and the reason, fit to
 * send back to the client). HK_ERR_TOO_LARGE: metadata over its cap.
 * `ret` is untouched on failure. Never logs. */
HK_MUST_CHECK hk_err hook_event_parse(const char *body, size_t len, hook_event *ret,
				      hk_errinfo *ei);
void hook_event_cleanup(hook_event *ev);

/* ======================================================================
 * The intake listener (intake.c)
 * ====================================================================== */

typedef struct hook_intake hook_intake;

/* Bind the intake listener from cfg->intake with every limit of cfg. All
 * pointers are borrowed and must outlive the intake. *ret_port is the port
 * actually bound (useful with port 0). HK_ERR_IO when it cannot bind. */
HK_MUST_CHECK hk_err hook_intake_new(struct event_base *base, const hook_config *cfg,
				     hook_store *store, hook_engine *engine, hook_intake **ret,
				     unsigned *ret_port);
/* SIGHUP: requests from now on use `cfg` (auth, node groups, limits); the
 * listener stays bound where it is. `cfg` is borrowed like the first. */
void hook_intake_set_config(hook_intake *in, const hook_config *cfg);
/* Stop accepting connections and close idle ones (SIGTERM). */
void hook_intake_stop(hook_intake *in);
void hook_intake_free(hook_intake *in);

/* ======================================================================
 * The SQS consumer (sqs.c)
 * ====================================================================== */

typedef struct hook_sqs hook_sqs;

/* Create the consumer of cfg->sqs_queue_url with its own AWS client (region
 * and aws.endpoints.sqs from cfg, else the SDK environment). Nothing is sent
 * before hook_sqs_start(). Errors: HK_ERR_INVALID, HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err hook_sqs_new(struct event_base *base, const hook_config *cfg,
				  hook_store *store, hook_engine *engine, hook_sqs **ret);
/* Start long-polling. */
void hook_sqs_start(hook_sqs *q);
/* SIGHUP: events from now on are matched with `cfg` (same sqs.* settings). */
void hook_sqs_set_config(hook_sqs *q, const hook_config *cfg);
/* SIGTERM: no new receive; messages still arriving are left in the queue
 * (they reappear after their visibility timeout). Deletes in flight finish
 * if the loop still runs. */
void hook_sqs_stop(hook_sqs *q);
/* Cancel everything (no callbacks) and free. NULL-safe. */
void hook_sqs_free(hook_sqs *q);

#endif
