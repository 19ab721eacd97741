/* Fuzz the request gate (hook/core/gate.c) with arbitrary byte streams.
 * Besides the sanitizers, check what the listeners rely on: the verdicts and
 * the bytes evhttp gets (chunk extensions blanked) do not depend on where
 * reads end, and a refused stream stays refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hook_gate_verdict check(const hook_gate_head *h, void *arg)
{
	unsigned *heads = arg;
	(*heads)++;
	if (!h->method || !h->target || (h->n_lines && !h->lines))
		abort();
	if (hook_gate_header(h, "x-refuse"))
		return (hook_gate_verdict){.status = 401, .reason = "refused"};
	return (hook_gate_verdict){0};
}

static int run(const uint8_t *data, size_t size, size_t step, char *out, unsigned *heads)
{
	hook_gate *g = hook_gate_new(2048, check, heads);
	if (!g)
		abort();
	memcpy(out, data, size);
	int status = 0;
	for (size_t off = 0; off < size && !status;) {
		size_t k = step && step < size - off ? step : size - off;
		status = hook_gate_feed(g, out + off, k).status;
		off += k;
	}
	if (status && hook_gate_feed(g, out, size ? 1 : 0).status == 0 && size)
		abort(); /* refused once, refused for good */
	hook_gate_free(g);
	return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *a = malloc(size + 1), *b = malloc(size + 1);
	if (!a || !b)
		abort();
	unsigned ha = 0, hb = 0;
	size_t step = size ? (size_t)data[0] % 13 + 1 : 1;
	int sa = run(data, size, 0, a, &ha);
	int sb = run(data, size, step, b, &hb);
	if (sa != sb || ha != hb)
		abort();
	if (!sa && memcmp(a, b, size) != 0)
		abort();
	free(a);
	free(b);
	return 0;
}
