/* hook/: the multus-hookd service. Public header of the hookd_hook library:
 * the subcommands main() dispatches to. Each returns a process exit code
 * (0 success, 1 runtime failure, 2 usage or input error). */
#ifndef HOOK_H
#define HOOK_H

#include "hk_common.h"

/* `multus-hookd plan ...`: print the addresses the next workers get (hook/plan.c). */
int hook_cmd_plan(int argc, char **argv);

/* `multus-hookd serve --config F [--log-level L] [--log-file F] [--ready-file F]`:
 * run the lifecycle hook service until SIGTERM/SIGINT (hook/serve.c). */
int hook_cmd_serve(int argc, char **argv);

/* `multus-hookd check-config --config F`: validate, print every problem;
 * 0 valid, 2 invalid (hook/serve.c). */
int hook_cmd_check_config(int argc, char **argv);

#endif
