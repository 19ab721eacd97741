/* Lifecycle event parsing (docs/aws-facts.md). Three shapes arrive on
 * POST /v1/events:
 *   - an EventBridge event (API destination): {"detail-type", "id", "detail"}
 *   - a bare Auto Scaling notification (the SQS/SNS message body format)
 *   - an SNS HTTP envelope {"Type", "MessageId", "Message": "<notification>"}
 * Unknown fields are ignored (AWS adds fields over time); the fields we use
 * are checked for presence, type and shape, and an error names the field. */
#include "hook_intake.h"

#include "hk_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DT_LAUNCH    "EC2 Instance-launch Lifecycle Action"
#define DT_TERMINATE "EC2 Instance-terminate Lifecycle Action"
#define TEST_EVENT   "autoscaling:TEST_NOTIFICATION"

void hook_event_cleanup(hook_event *ev)
{
	if (!ev)
		return;
	free(ev->metadata);
	ev->metadata = NULL;
}

/* Number of Unicode code points of valid UTF-8 (jansson validated it). */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0u) != 0x80u)
			n++;
	return n;
}

typedef enum shape {
	SHAPE_ANY = 0,	/* any printable text */
	SHAPE_TOKEN,	/* [A-Za-z0-9-] */
	SHAPE_INSTANCE, /* i- + 8 or 17 hex */
	SHAPE_WORD,	/* [A-Za-z0-9] */
} shape;

static bool shape_ok(const char *s, shape sh)
{
	switch (sh) {
	case SHAPE_ANY:
		for (const unsigned char *c = (const unsigned char *)s; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				return false;
		return true;
	case SHAPE_TOKEN:
		for (const char *c = s; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-'))
				return false;
		return true;
	case SHAPE_INSTANCE: {
		if (strncmp(s, "i-", 2) != 0)
			return false;
		size_t n = strlen(s + 2);
		if (n < 8 || n > 17)
			return false;
		for (const char *c = s + 2; *c; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
				return false;
		return true;
	}
	case SHAPE_WORD:
		for (const char *c = s; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9')))
				return false;
		return true;
	}
	return false;
}

/* Copy string member `key` of `obj` into out[cap]. `pfx` prefixes the field
 * name in messages ("detail."). */
static hk_err take_str(json_t *obj, const char *pfx, const char *key, bool required, shape sh,
		       char *out, size_t cap, hk_errinfo *ei)
{
	json_t *j = json_object_get(obj, key);
	if (!j || json_is_null(j)) {
		if (required)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s: missing (required)",
					      pfx, key);
		out[0] = '\0';
		return HK_OK;
	}
	if (!json_is_string(j))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s: must be a string", pfx, key);
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	if (strlen(s) != len)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s: contains a NUL character", pfx,
				      key);
	if (len == 0) {
		if (required)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s: must not be empty", pfx,
					      key);
		out[0] = '\0';
		return HK_OK;
	}
	if (len >= cap)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s%s: too long (%zu bytes, at most %zu)", pfx, key, len,
				      cap - 1);
	if (!shape_ok(s, sh)) {
		static const char *const expected[] = {
		    [SHAPE_ANY] = "printable text",
		    [SHAPE_TOKEN] = "letters, digits and '-' (a lifecycle action token)",
		    [SHAPE_INSTANCE] =
			"i- and 8 or 17 hexadecimal digits, like i-0123456789abcdef0",
		    [SHAPE_WORD] = "letters and digits only",
		};
		/* Never echo a token (it authorises completing the action). */
		if (sh == SHAPE_TOKEN)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s%s: malformed: expected %s",
					      pfx, key, expected[sh]);
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s%s: \"%.64s\": malformed: expected %s", pfx, key, s,
				      expected[sh]);
	}
	memcpy(out, s, len + 1);
	return HK_OK;
}

/* The hook fields of a notification object (bare, in EventBridge "detail",
 * or in an SNS Message). */
static hk_err parse_notification(json_t *obj, const char *pfx, hook_event *ev, hk_errinfo *ei)
{
	json_t *evj = json_object_get(obj, "Event");
	if (evj) {
		if (!json_is_string(evj))
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%sEvent: must be a string",
					      pfx);
		if (!strcmp(json_string_value(evj), TEST_EVENT)) {
			ev->kind = HOOK_EVENT_TEST;
			return HK_OK;
		}
		/* Notification configurations (not hooks) send EC2_INSTANCE_LAUNCH etc.
		 * with no LifecycleTransition: name what we got. */
		if (!json_object_get(obj, "LifecycleTransition"))
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
					      "%sEvent: \"%.64s\" is not a lifecycle hook action "
					      "(only lifecycle transitions and %s are handled)",
					      pfx, json_string_value(evj), TEST_EVENT);
	}
	char tr[64];
	hk_err err = take_str(obj, pfx, "LifecycleTransition", true, SHAPE_ANY, tr, sizeof(tr), ei);
	if (err)
		return err;
	if (hook_transition_parse(tr, &ev->transition) != HK_OK)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%sLifecycleTransition: \"%.64s\": not handled (expected %s "
				      "or %s)",
				      pfx, tr, hook_transition_str(HOOK_TRANSITION_LAUNCHING),
				      hook_transition_str(HOOK_TRANSITION_TERMINATING));
	if ((err = take_str(obj, pfx, "LifecycleActionToken", true, SHAPE_TOKEN, ev->token,
			    sizeof(ev->token), ei)) ||
	    (err = take_str(obj, pfx, "AutoScalingGroupName", true, SHAPE_ANY, ev->asg,
			    sizeof(ev->asg), ei)) ||
	    (err = take_str(obj, pfx, "LifecycleHookName", true, SHAPE_ANY, ev->hook,
			    sizeof(ev->hook), ei)) ||
	    (err = take_str(obj, pfx, "EC2InstanceId", true, SHAPE_INSTANCE, ev->instance_id,
			    sizeof(ev->instance_id), ei)) ||
	    (err = take_str(obj, pfx, "Origin", false, SHAPE_WORD, ev->origin, sizeof(ev->origin),
			    ei)) ||
	    (err = take_str(obj, pfx, "Destination", false, SHAPE_WORD, ev->destination,
			    sizeof(ev->destination), ei)))
		return err;
	json_t *md = json_object_get(obj, "NotificationMetadata");
	if (md && !json_is_null(md)) {
		if (!json_is_string(md))
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
					      "%sNotificationMetadata: must be a string", pfx);
		size_t len = json_string_length(md);
		const char *s = json_string_value(md);
		if (strlen(s) != len)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
					      "%sNotificationMetadata: contains a NUL character",
					      pfx);
		size_t chars = utf8_chars(s, len);
		if (chars > HK_CAP_METADATA_LEN)
			return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0,
					      "%sNotificationMetadata: %zu characters, at most %u",
					      pfx, chars, HK_CAP_METADATA_LEN);
		if (len) {
			ev->metadata = strdup(s);
			if (!ev->metadata)
				return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
		}
	}
	ev->kind = HOOK_EVENT_LIFECYCLE;
	return HK_OK;
}

static hk_err parse_eventbridge(json_t *root, hook_event *ev, hk_errinfo *ei)
{
	json_t *dt = json_object_get(root, "detail-type");
	if (!json_is_string(dt))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "detail-type: must be a string");
	const char *dts = json_string_value(dt);
	hook_transition want;
	if (!strcmp(dts, DT_LAUNCH))
		want = HOOK_TRANSITION_LAUNCHING;
	else if (!strcmp(dts, DT_TERMINATE))
		want = HOOK_TRANSITION_TERMINATING;
	else
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "detail-type: \"%.64s\" is not a lifecycle action (expected "
				      "\"" DT_LAUNCH "\" or \"" DT_TERMINATE "\")",
				      dts);
	char src[64];
	hk_err err = take_str(root, "", "source", true, SHAPE_ANY, src, sizeof(src), ei);
	if (err)
		return err;
	if (strcmp(src, "aws.autoscaling") != 0)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "source: \"%.64s\": expected \"aws.autoscaling\"", src);
	char id[HOOK_EV_ID_MAX - 16];
	if ((err = take_str(root, "", "id", true, SHAPE_ANY, id, sizeof(id), ei)))
		return err;
	json_t *detail = json_object_get(root, "detail");
	if (!detail)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "detail: missing (required)");
	if (!json_is_object(detail))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "detail: must be an object");
	if ((err = parse_notification(detail, "detail.", ev, ei)))
		return err;
	if (ev->kind != HOOK_EVENT_LIFECYCLE)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "detail.Event: a test notification inside a lifecycle "
				      "action event");
	if (ev->transition != want)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "detail.LifecycleTransition: %s does not match detail-type "
				      "\"%s\"",
				      hook_transition_str(ev->transition), dts);
	ev->source = HOOK_SOURCE_EVENTBRIDGE;
	snprintf(ev->event_id, sizeof(ev->event_id), "eventbridge:%s", id);
	return HK_OK;
}

static hk_err parse_sns(json_t *root, hook_event *ev, hk_errinfo *ei)
{
	char type[32], mid[HOOK_EV_ID_MAX - 16];
	hk_err err = take_str(root, "", "Type", true, SHAPE_WORD, type, sizeof(type), ei);
	if (err)
		return err;
	if ((err = take_str(root, "", "MessageId", true, SHAPE_ANY, mid, sizeof(mid), ei)))
		return err;
	if (!strcmp(type, "SubscriptionConfirmation") || !strcmp(type, "UnsubscribeConfirmation")) {
		ev->kind = HOOK_EVENT_SNS_CONTROL;
		ev->source = HOOK_SOURCE_SNS;
		snprintf(ev->sns_type, sizeof(ev->sns_type), "%s", type);
		snprintf(ev->event_id, sizeof(ev->event_id), "sns:%s", mid);
		return HK_OK;
	}
	if (strcmp(type, "Notification") != 0)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "Type: \"%s\": not an SNS message type (Notification, "
				      "SubscriptionConfirmation, UnsubscribeConfirmation)",
				      type);
	json_t *msg = json_object_get(root, "Message");
	if (!msg)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "Message: missing (required)");
	if (!json_is_string(msg))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "Message: must be a string");
	size_t len = json_string_length(msg);
	if (len > HK_CAP_SNS_MESSAGE)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "Message: longer than %u bytes",
				      HK_CAP_SNS_MESSAGE);
	const char *text = json_string_value(msg);
	json_t *inner = NULL;
	hk_err jerr = hk_json_load(text, len, "Message", &inner, ei);
	if (jerr)
		return jerr;
	if (!json_is_object(inner)) {
		json_decref(inner);
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "Message: must be a JSON object");
	}
	err = parse_notification(inner, "Message.", ev, ei);
	json_decref(inner);
	if (err)
		return err;
	ev->source = HOOK_SOURCE_SNS;
	snprintf(ev->event_id, sizeof(ev->event_id), "sns:%s", mid);
	return HK_OK;
}

/* The event of one JSON object (hk_json_parse_object's `from`). */
static hk_err event_from(json_t *root, void *out, hk_errinfo *ei)
{
	hook_event ev = {0};
	hk_err err;
	if (json_object_get(root, "detail-type")) {
		err = parse_eventbridge(root, &ev, ei);
	} else if (json_object_get(root, "Type") && json_object_get(root, "MessageId")) {
		err = parse_sns(root, &ev, ei);
	} else if (json_object_get(root, "LifecycleTransition") || json_object_get(root, "Event")) {
		err = parse_notification(root, "", &ev, ei);
		ev.source = HOOK_SOURCE_NOTIFICATION;
	} else {
		err = hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				     "not a lifecycle event: expected an EventBridge event "
				     "(detail-type), an Auto Scaling notification "
				     "(LifecycleTransition) or an SNS message (Type, MessageId)");
	}
	if (err)
		hook_event_cleanup(&ev);
	else
		*(hook_event *)out = ev;
	return err;
}

hk_err hook_event_parse(const char *body, size_t len, hook_event *ret, hk_errinfo *ei)
{
	return hk_json_parse_object(body, len, "a JSON event", "the event", event_from, ret, ei);
}
