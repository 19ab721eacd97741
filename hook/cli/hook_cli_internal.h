/* hook/cli: what the command files share (not part of the library's public
 * header): the live survey of the Multus subnets (live.c) and the admin API
 * client (ops.c). */
#ifndef HOOK_CLI_INTERNAL_H
#define HOOK_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "awscalls.h"
#include "cidr.h"
#include "hook_cli.h"
#include "hook_config.h"

struct live_run;
struct event_base;

/* A short-lived loop and AWS client for a command (live.c): calls start with
 * `opts` (idempotent, a 30 s retry window from cli_aws_arm) and are counted in
 * `pending`; each callback calls cli_aws_done(); cli_aws_wait() runs the loop
 * until none is left. */
typedef struct cli_aws {
	struct event_base *base;
	awc_client *c;
	unsigned pending;
	awc_call_opts opts;
} cli_aws;
/* HK_ERR_INVALID (with `err` saying what to check) when no client can be made. */
HK_MUST_CHECK hk_err cli_aws_open(cli_aws *a, const hook_config *cfg, char *err, size_t err_len);
void cli_aws_close(cli_aws *a);
/* A fresh retry window for the calls about to start. */
void cli_aws_arm(cli_aws *a);
void cli_aws_done(cli_aws *a);
/* HK_ERR_INTERNAL when calls are pending but nothing is left that could answer. */
HK_MUST_CHECK hk_err cli_aws_wait(cli_aws *a);
/* "Call: Code: message" of a failed call into out (res may be NULL: `err`). */
void cli_aws_why(char *out, size_t size, const char *call, const awc_result *res, hk_err err);

/* One Multus subnet of one network of one node group, as AWS shows it. */
typedef struct hook_live_subnet {
	const hook_node_group *group; /* borrowed from the configuration */
	const hook_network *net;
	char *az;
	char *subnet_id;
	char *cidr;	 /* IPv4 CIDR */
	char *ipv6_cidr; /* first associated IPv6 CIDR, or NULL */
	hk_err err;	 /* HK_OK, else `why` says what failed */
	char why[400];
	/* filled by the survey */
	ec2_describe_network_interfaces_out *enis;
	ec2_get_subnet_cidr_reservations_out *resv;
	cidr_pool *v4, *v6;
	cidr_pool_stats stats; /* of v4, before the next workers */
	cidr_addr *next;       /* first-free: the next workers' IPv4 addresses */
	size_t n_next;
	cidr_addr *next6; /* ipv6 first_free: their IPv6 addresses */
	size_t n_next6;
	bool full; /* first-free: fewer free addresses than asked */
	bool have_tail;
	cidr_range tail; /* the free run at the end of the subnet (after them) */
	struct live_run *run;
} hook_live_subnet;

typedef struct hook_live {
	hook_live_subnet *v;
	size_t n, cap;
} hook_live;

typedef struct hook_live_opts {
	const char *group;     /* only this node group (NULL: all) */
	const char *subnet_id; /* only this subnet (NULL: all) */
	unsigned count;	       /* next addresses to compute per subnet (0: none) */
} hook_live_opts;

/* Survey the configured networks (DescribeSubnets per network, then
 * DescribeNetworkInterfaces and GetSubnetCidrReservations per chosen subnet)
 * on a loop of its own, blocking until AWS answered (each call's retries end
 * after 30 s). A failure of one subnet's calls is recorded in that entry
 * (hook_live_failed); the return is an error only when the survey could not
 * run at all (`err` says why). */
HK_MUST_CHECK hk_err hook_live_survey(const hook_config *cfg, const hook_live_opts *o,
				      hook_live *ret, char *err, size_t err_len);
void hook_live_subnet_cleanup(hook_live_subnet *s);
void hook_live_free(hook_live *l);
bool hook_live_failed(const hook_live *l);
void hook_live_print_text(FILE *out, const hook_live *l);
/* A new JSON array, one object per entry. */
json_t *hook_live_json(const hook_live *l);
json_t *hook_live_reservations_json(const hook_live_subnet *s);

/* Load and validate the configuration for an operator command (secret
 * files are not read: the command needs none); every problem is printed as
 * "multus-hookd CMD: ...". */
HK_MUST_CHECK hk_err hook_cli_load_config(const char *cmd, const char *path, hook_config **ret);

/* The admin API of a running daemon (ops.c): `method` on base_url + path;
 * *ret_status the HTTP status, *ret_doc the JSON answer (NULL when the body
 * was not JSON). HK_ERR_IO when the daemon cannot be reached (`err` says
 * why). Answers over 8 MiB are refused. */
HK_MUST_CHECK hk_err hook_admin_call(const char *method, const char *base_url, const char *path,
				     long *ret_status, json_t **ret_doc, char *err, size_t err_len);

/* Shared by the operator commands (ops.c). */
#define ADMIN_URL_MAX 512
/* A command-line option (cli_parse): --name (and -short_name when not 0)
 * stores its value (CLI_STR: a const char *, the last one given wins) or
 * true (CLI_FLAG: a bool) at offset `off` of the command's argument struct.
 * CLI_ARG (no name) takes one positional argument into a const char * that
 * no option set. */
typedef enum cli_kind { CLI_STR, CLI_FLAG, CLI_ARG } cli_kind;
typedef struct cli_opt {
	const char *name;
	cli_kind kind;
	size_t off;
	char short_name;
} cli_opt;
#define CLI_OPTS_MAX 16
#define CLI_OPT_STR(T, name, member)                                                               \
	{                                                                                          \
		name, CLI_STR, offsetof(T, member), 0                                              \
	}
#define CLI_OPT_FLAG(T, name, member)                                                              \
	{                                                                                          \
		name, CLI_FLAG, offsetof(T, member), 0                                             \
	}

/* Options every operator command takes: --config, --admin, --json (and
 * --help, which cli_parse answers itself). An argument struct holds them as
 * its member `c`; CLI_OPS_COMMON(T) lists them for its table. */
typedef struct ops_common {
	const char *config;
	const char *admin;
	bool json;
} ops_common;
#define CLI_OPS_COMMON(T)                                                                          \
	CLI_OPT_STR(T, "config", c.config), CLI_OPT_STR(T, "admin", c.admin),                      \
	    CLI_OPT_FLAG(T, "json", c.json)

/* getopt_long over `opts` (at most CLI_OPTS_MAX) and --help/-h: -1 to go
 * on; 0 once usage(stdout) answered --help; 2 after one message on stderr
 * naming the bad option or argument and the usage. argv[0] is the command's name. */
int cli_parse(int argc, char **argv, const cli_opt *opts, size_t n, void *args,
	      void (*usage)(FILE *out));
/* --admin, else the configuration's admin listener; false when neither. */
bool admin_url(const char *given, const hook_config *cfg, char *out, size_t size);
/* A string member, "" when absent. */
const char *jstr(const json_t *o, const char *key);
/* Pretty-print a document on stdout. */
void print_json(json_t *doc);

/* `plan --live`: the survey's next addresses (live.c); exit code. */
int hook_live_plan(const char *config_path, unsigned count, bool json);

#endif
