/* hook/engine: the lifecycle engine. Its public face is the dispatch
 * interface below (what intake and serve see) and hook_eng_new(); the
 * engine's own files share engine_internal.h. Uses store/, config/, core/,
 * aws/ and cidr/; nothing below it calls into it except through this header. */
#ifndef HOOK_ENGINE_H
#define HOOK_ENGINE_H

#include "awscalls.h"
#include "cidr.h"
#include "hook_config.h"
#include "hook_store.h"

/* ======================================================================
 * The dispatch interface (dispatch.c)
 * ====================================================================== */

/* The lifecycle engine as seen by intake and serve: a small interface the
 * engine (hook_eng_new, below) implements, so that intake can hand it actions
 * without knowing it (and tests can give intake a stand-in). Every op runs on
 * the loop thread and must not block; callbacks it makes are asynchronous. */
typedef void (*hook_engine_drained_fn)(void *arg);

/* What a reconcile looks at (POST /v1/reconcile, `multus-hookd reconcile`). */
typedef struct hook_reconcile_req {
	const char *group;	 /* only this node group (NULL: every one) */
	const char *instance_id; /* only this instance (NULL: every one) */
	bool dry_run;		 /* report, start nothing */
} hook_reconcile_req;
/* The report: a JSON object (borrowed for the call) with "dry_run", "checked"
 * (InService instances looked at), "instances" (those lacking a Multus ENI:
 * instance_id, group, asg, missing networks, status "started" with its
 * action_id, "would_attach" or "in_flight") and "errors" (AWS calls that
 * failed). `err` is HK_OK unless the reconcile could not run at all. When the
 * engine is freed with a reconcile in flight, done(HK_ERR_CANCELLED, NULL, arg)
 * is called from the free: it may only release `arg`. */
typedef void (*hook_reconcile_done_fn)(hk_err err, const json_t *report, void *arg);

typedef struct hook_engine_ops {
	/* After listeners are up: resume unfinished actions (the engine reads
	 * them with hook_store_action_list_unfinished). May be NULL. */
	void (*start_fn)(void *impl);
	/* A new action `action_id` was committed (state PENDING) and answered
	 * 202. The engine takes it from the store. Must not block. */
	void (*submit_fn)(void *impl, int64_t action_id);
	/* SIGTERM: start no new work, finish or checkpoint what is in flight,
	 * then call done(arg) exactly once (possibly later; never synchronously
	 * from inside drain_fn). serve gives up waiting after shutdown_grace_ms. */
	void (*drain_fn)(void *impl, hook_engine_drained_fn done, void *arg);
	/* Free everything; called once, after the loop stopped. May be NULL. */
	void (*free_fn)(void *impl);
	/* Attach the missing Multus ENIs of running instances: InService
	 * instances of the configured groups with no ENI at a network's device
	 * index get a launch action without a lifecycle hook (same engine path:
	 * durable, adoption-safe; nothing is terminated or completed). done() is
	 * called exactly once, later. HK_ERR_STATE when draining. May be NULL
	 * (HK_ERR_STATE). */
	hk_err (*reconcile_fn)(void *impl, const hook_reconcile_req *req,
			       hook_reconcile_done_fn done, void *arg);
	/* SIGHUP: new actions use `cfg` (the engine takes a reference); those
	 * in flight keep theirs. May be NULL. */
	void (*reload_fn)(void *impl, const hook_config *cfg);
} hook_engine_ops;

typedef struct hook_engine {
	const hook_engine_ops *ops;
	void *impl;
} hook_engine;

/* Dispatch helpers: NULL-safe on `e` and on each optional op. */
void hook_engine_start(hook_engine *e);
void hook_engine_submit(hook_engine *e, int64_t action_id);
void hook_engine_drain(hook_engine *e, hook_engine_drained_fn done, void *arg);
void hook_engine_free(hook_engine *e);
void hook_engine_reload(hook_engine *e, const hook_config *cfg);
HK_MUST_CHECK hk_err hook_engine_reconcile(hook_engine *e, const hook_reconcile_req *req,
					   hook_reconcile_done_fn done, void *arg);

/* The `source` of the actions a reconcile starts: launch actions with no
 * lifecycle hook (hook "", no heartbeat, no completion). */
#define HOOK_SOURCE_RECONCILE "reconcile"

/* ======================================================================
 * The engine (engine.c)
 * ====================================================================== */

struct awc_client;

/* Create the real engine. `client` is TAKEN (freed with the engine, before
 * the actions, so no callback runs into freed memory); the engine keeps a
 * reference to cfg (hook_config_ref); store and health are borrowed and must
 * outlive the engine. */
HK_MUST_CHECK hk_err hook_engine_aws_new(struct event_base *base, const hook_config *cfg,
					 hook_store *store, hook_health *health,
					 struct awc_client *client, hook_engine *ret);

/* ======================================================================
 * Rules the operator commands share with the engine (engine_rules.c)
 * ====================================================================== */

/* The subnet of `net` in availability zone `az`: the explicit subnet id for
 * that AZ, else among `subnets` (a DescribeSubnets answer for the network's tag
 * filters) those in `az` whose state is "available" (or absent), the lowest
 * subnet id (deterministic). NULL when none. */
const char *hook_engine_pick_subnet(const hook_network *net, const char *az,
				    const ec2_subnet *subnets, size_t n_subnets);

/* Feed one subnet's pools (v4 and/or v6, either may be NULL) from what AWS
 * reports: every used address and delegated prefix of `enis` (a
 * DescribeNetworkInterfaces answer for the subnet), the explicit and prefix
 * reservations of `resv`, and the pod ranges of `net` that lie inside the
 * subnet (net may be NULL). Used addresses and reservations are replaced;
 * pending addresses stay. Entries outside the subnet are skipped. */
void hook_engine_pool_fill(cidr_pool *v4, cidr_pool *v6, const hook_network *net,
			   const ec2_describe_network_interfaces_out *enis,
			   const ec2_get_subnet_cidr_reservations_out *resv);

#endif
