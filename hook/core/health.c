/* Health flags: readiness inputs (hook_core.h). */
#include "hook_core.h"

#include <stdio.h>

static const char *const flag_names[HOOK_HEALTH__COUNT] = {
    [HOOK_HEALTH_REGION] = "region",
    [HOOK_HEALTH_CREDENTIALS] = "credentials",
    [HOOK_HEALTH_AWS_REACHABLE] = "aws_reachable",
};

const char *hook_health_flag_str(hook_health_flag f)
{
	return hk_name_of(flag_names, HOOK_HEALTH__COUNT, f, "unknown");
}

void hook_health_set(hook_health *h, hook_health_flag f, hook_tristate v, const char *detail)
{
	if (!h || (unsigned)f >= HOOK_HEALTH__COUNT)
		return;
	h->flag[f] = v;
	h->checked_ms[f] = hook_now_ms();
	snprintf(h->detail[f], sizeof(h->detail[f]), "%s", detail ? detail : "");
}
