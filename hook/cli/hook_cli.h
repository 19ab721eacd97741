/* hook/cli: the multus-hookd commands. Public header of the hookd_hook_cli
 * library: the subcommands main() dispatches to. Uses every other hook/
 * library. Each returns a process exit code
 * (0 success, 1 runtime failure, 2 usage or input error). */
#ifndef HOOK_CLI_H
#define HOOK_CLI_H

#include "hk_common.h"

struct event_base;
struct hook_config;
struct hook_engine;
struct hook_health;
struct hook_store;

/* `multus-hookd plan ...`: print the addresses the next workers get (plan.c). */
int hook_cmd_plan(int argc, char **argv);

/* The operator commands (ops.c): `status`, `reserve`, `reconcile`. */
int hook_cmd_status(int argc, char **argv);
int hook_cmd_reconcile(int argc, char **argv);
int hook_cmd_reserve(int argc, char **argv);

/* `multus-hookd serve --config F [--log-level L] [--log-file F] [--ready-file F]`:
 * run the lifecycle hook service until SIGTERM/SIGINT (serve.c). */
int hook_cmd_serve(int argc, char **argv);

/* What makes the lifecycle engine `serve` runs: the real one
 * (hook_engine_factory_aws) or, in tests of intake alone, a stand-in. */
typedef hk_err (*hook_engine_factory_fn)(struct event_base *base, const struct hook_config *cfg,
					 struct hook_store *store, struct hook_health *health,
					 struct hook_engine *ret);
hk_err hook_engine_factory_aws(struct event_base *base, const struct hook_config *cfg,
			       struct hook_store *store, struct hook_health *health,
			       struct hook_engine *ret);
/* hook_cmd_serve() with another engine factory. */
int hook_cmd_serve_with(int argc, char **argv, hook_engine_factory_fn make_engine);

/* systemd notification (sdnotify.c): with NOTIFY_SOCKET set, READY=1 once
 * `health` says the first credentials were obtained (STATUS= while waiting),
 * WATCHDOG=1 every half WATCHDOG_USEC from the loop, STOPPING=1 from
 * hook_sd_stopping(). Without NOTIFY_SOCKET *ret is NULL and nothing is done.
 * Every function accepts NULL. */
typedef struct hook_sd hook_sd;
hk_err hook_sd_start(struct event_base *base, const struct hook_health *health, hook_sd **ret);
void hook_sd_stopping(hook_sd *sd);
void hook_sd_free(hook_sd *sd);

/* `multus-hookd check-config --config F`: validate, print every problem;
 * 0 valid, 2 invalid (serve.c). */
int hook_cmd_check_config(int argc, char **argv);

#endif
