/* hook/admin: the admin listener (/healthz, /readyz, /metrics, /v1/actions,
 * POST /v1/actions/<id>/retry) and the readiness probe that keeps the health
 * flags fresh. Uses store/, config/, core/, aws/, and the engine only through
 * its dispatch interface. */
#ifndef HOOK_ADMIN_H
#define HOOK_ADMIN_H

#include "hook_config.h"
#include "hook_engine.h"
#include "hook_store.h"

typedef struct hook_admin hook_admin;

/* `engine` (borrowed, may be NULL) runs the actions POST
 * /v1/actions/<id>/retry hands back to it, through its dispatch interface. */
HK_MUST_CHECK hk_err hook_admin_new(struct event_base *base, const hook_config *cfg,
				    hook_store *store, const hook_health *health,
				    hook_engine *engine, hook_admin **ret, unsigned *ret_port);
void hook_admin_free(hook_admin *ad);
/* SIGHUP: the configuration requests are checked against from now on. */
void hook_admin_set_config(hook_admin *ad, const hook_config *cfg);

/* ======================================================================
 * The readiness probe (probe.c)
 * ====================================================================== */

/* The periodic AWS readiness probe behind GET /readyz.
 *
 * At start and every HOOK_PROBE_INTERVAL_S, one STS GetCallerIdentity on an
 * AWS client of its own (the configuration's region, aws.endpoints.sts and
 * credential chain, like the engine's). Its outcome sets the health flags
 * region, credentials and aws_reachable (docs/operations.md, "Readiness").
 * It runs whichever engine is wired. */
/* Open admin connections at once (probes, Prometheus, operators): beyond, new
 * clients wait in the kernel backlog. */
#define HOOK_ADMIN_MAX_CONNECTIONS 32u
#define HOOK_PROBE_INTERVAL_S	   30u
/* The probe's retry window: a probe still failing after it reports. */
#define HOOK_PROBE_WINDOW_S 10u

typedef struct hook_probe hook_probe;

/* Create the probe (its AWS client from cfg) and send the first check on the
 * next loop turn. cfg and health are borrowed and must outlive the probe.
 * Errors: those of hook_aws_client_new(), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err hook_probe_new(struct event_base *base, const hook_config *cfg,
				    hook_health *health, hook_probe **ret);
/* No further checks (SIGTERM); a check in flight still reports. NULL-safe. */
void hook_probe_stop(hook_probe *p);
/* Frees everything; a check in flight is cancelled without a report.
 * NULL-safe. */
void hook_probe_free(hook_probe *p);

#endif
