/* The engine dispatch interface (hook_engine.h): NULL-safe calls through
 * the ops of whichever engine is wired. */
#include "hook_engine.h"

void hook_engine_start(hook_engine *e)
{
	if (e && e->ops && e->ops->start_fn)
		e->ops->start_fn(e->impl);
}

void hook_engine_submit(hook_engine *e, int64_t action_id)
{
	if (e && e->ops && e->ops->submit_fn)
		e->ops->submit_fn(e->impl, action_id);
}

void hook_engine_drain(hook_engine *e, hook_engine_drained_fn done, void *arg)
{
	if (e && e->ops && e->ops->drain_fn)
		e->ops->drain_fn(e->impl, done, arg);
}

void hook_engine_free(hook_engine *e)
{
	if (e && e->ops && e->ops->free_fn)
		e->ops->free_fn(e->impl);
	if (e) {
		e->ops = NULL;
		e->impl = NULL;
	}
}

hk_err hook_engine_reconcile(hook_engine *e, const hook_reconcile_req *req,
			     hook_reconcile_done_fn done, void *arg)
{
	if (!e || !e->ops || !e->ops->reconcile_fn)
		return HK_ERR_STATE;
	return e->ops->reconcile_fn(e->impl, req, done, arg);
}

void hook_engine_reload(hook_engine *e, const hook_config *cfg)
{
	if (e && e->ops && e->ops->reload_fn)
		e->ops->reload_fn(e->impl, cfg);
}
