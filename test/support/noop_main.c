/* multus-hookd-noop-engine: `multus-hookd serve` with the stand-in engine of
 * noop_engine.h, for the integration tests of intake alone (accepted actions
 * stay PENDING in the store; no AWS call is made for them), and the real
 * check-config. Test only. */
#include <stdio.h>
#include <string.h>

#include "noop_engine.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return hook_cmd_serve_with(argc - 1, argv + 1, hook_engine_factory_noop);
	if (argc >= 2 && strcmp(argv[1], "check-config") == 0)
		return hook_cmd_check_config(argc - 1, argv + 1);
	fprintf(stderr, "usage: multus-hookd-noop-engine serve|check-config --config FILE ...\n");
	return 2;
}
