/* Fuzz the lifecycle event parser with arbitrary POST bodies. Besides the
 * sanitizers, check what the intake relies on: a parsed event has its
 * required fields, all strings are terminated within their buffers, and the
 * metadata respects its cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook_intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hook_event ev;
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	hk_err err = hook_event_parse((const char *)data, size, &ev, &ei);
	if (err != HK_OK) {
		if (memchr(ei.text, '\0', sizeof(ei.text)) == NULL)
			abort();
		return 0;
	}
	if (ev.kind == HOOK_EVENT_LIFECYCLE) {
		if (!ev.token[0] || !ev.asg[0] || !ev.hook[0] || !ev.instance_id[0])
			abort();
		if (memchr(ev.instance_id, '\0', sizeof(ev.instance_id)) == NULL ||
		    memchr(ev.event_id, '\0', sizeof(ev.event_id)) == NULL)
			abort();
		if (ev.metadata && strlen(ev.metadata) > 4u * HK_CAP_METADATA_LEN)
			abort();
	}
	hook_event_cleanup(&ev);
	return 0;
}
