/* A stand-in lifecycle engine for tests of intake alone: submit does nothing
 * (the action stays PENDING in the store, to be resumed by a real engine),
 * drain reports done on the next loop turn. Test code only: the daemon has
 * no such engine. */
#ifndef HOOK_TEST_NOOP_ENGINE_H
#define HOOK_TEST_NOOP_ENGINE_H

#include "hook_cli.h"
#include "hook_engine.h"

HK_MUST_CHECK hk_err hook_engine_noop_new(struct event_base *base, hook_engine *ret);

/* A hook_engine_factory_fn making the stand-in (serve with it). */
hk_err hook_engine_factory_noop(struct event_base *base, const hook_config *cfg, hook_store *store,
				hook_health *health, hook_engine *ret);

#endif
