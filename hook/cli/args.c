/* The command lines of the subcommands: one table-driven getopt_long loop
 * (hook_cli_internal.h: cli_opt, cli_parse). */
#include "hook_cli_internal.h"

#include "hk_common.h"

#include <getopt.h>
#include <stdbool.h>

/* The usage on stderr after the message naming the problem: exit code 2. */
static int usage_error(void (*usage)(FILE *out))
{
	usage(stderr);
	return 2;
}

int cli_parse(int argc, char **argv, const cli_opt *opts, size_t n, void *args,
	      void (*usage)(FILE *out))
{
	struct option lo[CLI_OPTS_MAX + 2];
	char shorts[2 * CLI_OPTS_MAX + 4] = ":h";
	size_t k = 0, sl = 2;
	const cli_opt *arg = NULL;
	for (size_t i = 0; i < n && k < CLI_OPTS_MAX; i++) {
		if (opts[i].kind == CLI_ARG) {
			arg = &opts[i];
			continue;
		}
		lo[k++] = (struct option){opts[i].name,
					  opts[i].kind == CLI_STR ? required_argument : no_argument,
					  NULL, 1000 + (int)i};
		if (opts[i].short_name) {
			shorts[sl++] = opts[i].short_name;
			if (opts[i].kind == CLI_STR)
				shorts[sl++] = ':';
		}
	}
	lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[k] = (struct option){NULL, 0, NULL, 0};
	shorts[sl] = '\0';
	optind = 0; /* full re-initialisation (glibc): main may not be the only caller */
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		size_t i = n;
		for (size_t j = 0; o < 1000 && j < n; j++)
			if (opts[j].short_name == o)
				i = j;
		if (o >= 1000)
			i = (size_t)(o - 1000);
		if (o == 'h') {
			usage(stdout);
			return 0;
		}
		if (o == ':') {
			fprintf(stderr, "multus-hookd %s: option %s needs a value\n", argv[0],
				argv[optind - 1]);
			return usage_error(usage);
		}
		if (i >= n) {
			fprintf(
			    stderr,
			    "multus-hookd %s: invalid option '%s' (see multus-hookd %s --help)\n",
			    argv[0], argv[optind - 1], argv[0]);
			return usage_error(usage);
		}
		char *field = (char *)args + opts[i].off;
		if (opts[i].kind == CLI_STR)
			*(const char **)(void *)field = optarg;
		else
			*(bool *)(void *)field = true;
	}
	if (arg && optind == argc - 1 && !*(const char **)(void *)((char *)args + arg->off))
		*(const char **)(void *)((char *)args + arg->off) = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
			"multus-hookd %s: unexpected argument '%s' (see multus-hookd %s --help)\n",
			argv[0], argv[optind], argv[0]);
		return usage_error(usage);
	}
	return -1;
}
