/* The last checks of a verified SNS message (intake_internal.h:
 * hook_sns_stale_why): its signed Timestamp's age, and what a confirmation's
 * SubscribeURL confirms. Pure. */
#include "intake_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Signed clocks may differ: a Timestamp this far ahead is still taken. */
#define SNS_CLOCK_SKEW_MS (5 * 60 * 1000)

/* "2026-12-08T01:02:03[.123]Z" as Unix milliseconds; false when it is not
 * such a UTC time. */
static bool iso_utc_ms(const char *t, int64_t *ret)
{
	struct tm tm = {0};
	int ms = 0, used = 0;
	if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return false;
	const char *p = t + used;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		for (; digits > 0 && digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t secs = timegm(&tm);
	if (secs == (time_t)-1)
		return false;
	*ret = (int64_t)secs * 1000 + ms;
	return true;
}

/* Why a verified message is still refused (a replay of an old one, a
 * confirmation whose SubscribeURL names another topic), or NULL. */
const char *hook_sns_stale_why(const hook_sns_msg *m, unsigned max_age_s, int64_t now)
{
	int64_t ts = 0;
	if (!iso_utc_ms(m->timestamp, &ts))
		return "Timestamp: not an ISO 8601 UTC time";
	if (now - ts > (int64_t)max_age_s * 1000)
		return "Timestamp: older than sns.max_age_s (a replayed message)";
	if (ts - now > SNS_CLOCK_SKEW_MS)
		return "Timestamp: in the future";
	if (m->type == HOOK_SNS_SUBSCRIPTION_CONFIRMATION) {
		/* the URL must confirm this message's own topic */
		const char *q = strchr(m->subscribe_url, '?');
		const char *t = q ? strstr(q, "TopicArn=") : NULL;
		char arn[600];
		size_t n = 0;
		for (t = t ? t + 9 : NULL; t && *t && *t != '&' && n + 1 < sizeof(arn); t++) {
			if (*t == '%' && t[1] && t[2]) {
				unsigned v = 0;
				if (sscanf(t + 1, "%2x", &v) != 1)
					return "SubscribeURL: malformed TopicArn";
				arn[n++] = (char)v;
				t += 2;
			} else {
				arn[n++] = *t;
			}
		}
		arn[n] = '\0';
		if (strcmp(arn, m->topic_arn) != 0 || !strstr(q, "Action=ConfirmSubscription"))
			return "SubscribeURL: does not confirm this message's TopicArn";
	}
	return NULL;
}
