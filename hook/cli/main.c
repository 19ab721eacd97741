/* multus-hookd: entry point. Dispatches to the subcommands of hook.h. */
#include "hook_cli.h"

#include <stdio.h>
#include <string.h>

typedef int (*cmd_fn)(int argc, char **argv);

static const struct command {
	const char *name;
	cmd_fn fn;
	const char *summary;
} commands[] = {
    {"serve", hook_cmd_serve, "run the lifecycle hook service (intake, state, admin)"},
    {"check-config", hook_cmd_check_config, "validate a configuration file"},
    {"plan", hook_cmd_plan, "show which addresses the next workers get in a subnet"},
    {"status", hook_cmd_status, "the Multus subnets and the running daemon's actions"},
    {"reconcile", hook_cmd_reconcile, "attach missing Multus ENIs to running instances"},
    {"reserve", hook_cmd_reserve, "create, delete or list subnet CIDR reservations"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: multus-hookd <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < HK_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "  %-14s %s\n", "version", "print the version");
	fprintf(out, "\n`multus-hookd <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("multus-hookd %s\n", HOOKD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < HK_ARRAY_LEN(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "multus-hookd: unknown command '%s' (see multus-hookd --help)\n", cmd);
	return 2;
}
