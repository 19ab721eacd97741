/* The stand-in engine of noop_engine.h. */
#include "noop_engine.h"

#include <stdlib.h>

#include <event2/event.h>

/* The placeholder engine: nothing in flight, so draining is immediate (on the
 * next loop turn, as callbacks are never synchronous). */
typedef struct noop_engine {
	struct event_base *base;
	struct event *done_ev;
	hook_engine_drained_fn done;
	void *done_arg;
} noop_engine;

static void noop_start(void *impl)
{
	(void)impl;
	hook_log(HOOK_LOG_WARN,
		 "lifecycle engine not built in: accepted actions stay pending in the store", NULL);
}

static void noop_submit(void *impl, int64_t action_id)
{
	(void)impl;
	json_t *f = json_pack("{s:I}", "action_id", (json_int_t)action_id);
	hook_log_json(HOOK_LOG_DEBUG, "action left pending (no engine)", f);
}

static void noop_done_cb(evutil_socket_t fd, short what, void *arg)
{
	noop_engine *ne = arg;
	if (ne->done)
		ne->done(ne->done_arg);
}

static void noop_drain(void *impl, hook_engine_drained_fn done, void *arg)
{
	noop_engine *ne = impl;
	ne->done = done;
	ne->done_arg = arg;
	event_active(ne->done_ev, 0, 0);
}

static void noop_free(void *impl)
{
	noop_engine *ne = impl;
	if (!ne)
		return;
	if (ne->done_ev)
		event_free(ne->done_ev);
	free(ne);
}

static const hook_engine_ops noop_ops = {
    .start_fn = noop_start,
    .submit_fn = noop_submit,
    .drain_fn = noop_drain,
    .free_fn = noop_free,
};

hk_err hook_engine_noop_new(struct event_base *base, hook_engine *ret)
{
	noop_engine *ne = calloc(1, sizeof(*ne));
	if (!ne)
		return HK_ERR_NOMEM;
	ne->base = base;
	ne->done_ev = event_new(base, -1, 0, noop_done_cb, ne);
	if (!ne->done_ev) {
		free(ne);
		return HK_ERR_NOMEM;
	}
	ret->ops = &noop_ops;
	ret->impl = ne;
	return HK_OK;
}

hk_err hook_engine_factory_noop(struct event_base *base, const hook_config *cfg, hook_store *store,
				hook_health *health, hook_engine *ret)
{
	(void)cfg;
	(void)store;
	(void)health;
	return hook_engine_noop_new(base, ret);
}
