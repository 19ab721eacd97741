/* The lifecycle vocabulary: transition names, SNS endpoint hosts. */
#include "hook_core.h"

#include <string.h>

static const char *const transition_names[] = {
    [HOOK_TRANSITION_LAUNCHING] = "autoscaling:EC2_INSTANCE_LAUNCHING",
    [HOOK_TRANSITION_TERMINATING] = "autoscaling:EC2_INSTANCE_TERMINATING",
};

const char *hook_transition_str(hook_transition t)
{
	return hk_name_of(transition_names, HK_ARRAY_LEN(transition_names), t, "unknown");
}

hk_err hook_transition_parse(const char *s, hook_transition *ret)
{
	int i = hk_name_find(transition_names, HK_ARRAY_LEN(transition_names), 0, s);
	if (i < 0)
		return HK_ERR_INVALID;
	*ret = (hook_transition)i;
	return HK_OK;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static bool ends_with(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);
	return len >= n && memcmp(s + len - n, suf, n) == 0;
}

bool hook_sns_host_ok(const char *host, size_t len)
{
	if (!host || len < 4 || memcmp(host, "sns.", 4) != 0)
		return false;
	size_t mid_end;
	if (ends_with(host, len, ".amazonaws.com.cn"))
		mid_end = len - strlen(".amazonaws.com.cn");
	else if (ends_with(host, len, ".amazonaws.com"))
		mid_end = len - strlen(".amazonaws.com");
	else
		return false;
	if (mid_end < 4 || mid_end - 4 < 3)
		return false;
	for (size_t i = 4; i < mid_end; i++)
		if (!host_char(host[i]))
			return false;
	return true;
}
