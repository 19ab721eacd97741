/* `multus-hookd serve` and `multus-hookd check-config`.
 *
 * serve: load and validate the configuration, open the state store, bind the
 * intake and admin listeners, start the engine (it resumes unfinished
 * actions), write the ready file, run the loop. Signals are libevent signal
 * events (the handlers only record; the work runs on the loop):
 *   SIGTERM, SIGINT  stop intake, let the engine finish or checkpoint within
 *                    limits.shutdown_grace_ms, exit 0
 *   SIGHUP           reopen the log file (--log-file)
 * Exit codes: 0 clean stop, 1 runtime failure, 2 usage or invalid config. */
#include "hook_admin.h"
#include "hook_cli.h"
#include "hook_cli_internal.h"
#include "hook_engine.h"
#include "hook_intake.h"

#include "awsclient.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

/* ------------------------------------------------------- engine dispatch */

/* ------------------------------------------------------------ check-config */

static void print_problems(FILE *out, const char *path, const hook_problems *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *m = i < p->cap ? p->msgs[i] : NULL;
		fprintf(out, "%s: %s\n", path, m ? m : "(message lost: out of memory)");
	}
}

static void check_usage(FILE *out)
{
	fprintf(out, "usage: multus-hookd check-config [--no-files] --config FILE\n"
		     "       multus-hookd check-config [--no-files] FILE\n\n"
		     "Validate the configuration and print one line per problem.\n"
		     "  --config FILE   the JSON configuration (see docs/configuration.md)\n"
		     "  --no-files      do not read the auth secret files\n"
		     "Exit status: 0 valid, 2 invalid or usage error.\n");
}

int hook_cmd_check_config(int argc, char **argv)
{
	struct {
		const char *path;
		bool no_files;
	} a = {0};
	/* The file may also be given as the one argument: check-config FILE. */
	static const cli_opt opts[] = {{"config", CLI_STR, offsetof(__typeof__(a), path), 'c'},
				       {"no-files", CLI_FLAG, offsetof(__typeof__(a), no_files), 0},
				       {NULL, CLI_ARG, offsetof(__typeof__(a), path), 0}};
	int rc = cli_parse(argc, argv, opts, HK_ARRAY_LEN(opts), &a, check_usage);
	if (rc >= 0)
		return rc;
	if (!a.path) {
		check_usage(stderr);
		return 2;
	}
	const char *path = a.path;
	unsigned flags = a.no_files ? HOOK_CONFIG_NO_FILES : 0;
	hook_problems probs = {0};
	hook_config *cfg = NULL;
	hk_err err = hook_config_load(path, flags, &cfg, &probs);
	if (err) {
		print_problems(stderr, path, &probs);
		fprintf(stderr, "%s: invalid (%zu problem%s)\n", path, probs.n,
			probs.n == 1 ? "" : "s");
		hook_problems_cleanup(&probs);
		return 2;
	}
	size_t nets = 0;
	for (size_t i = 0; i < cfg->n_groups; i++)
		nets += cfg->groups[i].n_networks;
	printf("%s: valid: %zu node group%s, %zu network%s\n", path, cfg->n_groups,
	       cfg->n_groups == 1 ? "" : "s", nets, nets == 1 ? "" : "s");
	hook_config_free(cfg);
	hook_problems_cleanup(&probs);
	return 0;
}

/* ------------------------------------------------------------------- serve */

typedef struct server {
	struct event_base *base;
	hook_config *cfg;
	hook_store *store;
	hook_engine engine;
	hook_health health;
	hook_intake *intake;
	hook_sqs *sqs; /* SQS consumer (sqs.queue_url), or NULL */
	hook_admin *admin;
	hook_probe *probe;     /* the AWS readiness probe (probe.c) */
	hook_sd *sd;	       /* systemd notification, or NULL */
	struct event *sigs[3]; /* SIGTERM, SIGINT: stop; SIGHUP: reopen the log */
	struct event *grace;
	bool stopping;
} server;

static void on_drained(void *arg)
{
	server *sv = arg;
	hook_log(HOOK_LOG_INFO, "in-flight work finished: exiting", NULL);
	event_base_loopexit(sv->base, NULL);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	server *sv = arg;
	json_t *f = json_pack("{s:I}", "shutdown_grace_ms", (json_int_t)sv->cfg->shutdown_grace_ms);
	hook_log_json(HOOK_LOG_WARN,
		      "grace period over: exiting; unfinished actions resume at next start", f);
	event_base_loopexit(sv->base, NULL);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	server *sv = arg;
	if (sv->stopping) {
		hook_log(HOOK_LOG_INFO, "already stopping", NULL);
		return;
	}
	sv->stopping = true;
	sv->health.draining = true;
	hook_sd_stopping(sv->sd);
	json_t *f = json_pack("{s:s,s:I}", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM",
			      "shutdown_grace_ms", (json_int_t)sv->cfg->shutdown_grace_ms);
	hook_log_json(HOOK_LOG_INFO, "stopping: intake closed, draining", f);
	hook_intake_stop(sv->intake);
	hook_sqs_stop(sv->sqs);
	hook_probe_stop(sv->probe);
	struct timeval tv = {(time_t)(sv->cfg->shutdown_grace_ms / 1000),
			     (suseconds_t)((sv->cfg->shutdown_grace_ms % 1000) * 1000)};
	evtimer_add(sv->grace, &tv);
	hook_engine_drain(&sv->engine, on_drained, sv);
}

/* SIGHUP, part two: read the configuration file again (and the API key
 * file it names). A valid file whose restart-only keys are unchanged goes to
 * intake, SQS, admin and the engine for new work; actions in flight keep the
 * configuration they started with (each holds a reference). Anything else
 * is refused, logged, and the running configuration stays. */
/* Descriptors the daemon needs besides its listeners' connections: the
 * store, the log, the listening sockets, the loop's own, and AWS connections. */
#define FD_RESERVE 256u

/* Whether the soft RLIMIT_NOFILE holds both listeners' connection caps plus
 * FD_RESERVE (said when not). At start (raise) the soft limit is first
 * raised to the hard one. */
static bool fd_limit_ok(const hook_config *cfg, bool raise)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return true; /* cannot tell: accept() backs off if it runs out */
	if (raise && rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = {rl.rlim_max, rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	rlim_t need = (rlim_t)cfg->max_connections + HOOK_ADMIN_MAX_CONNECTIONS + FD_RESERVE;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return true;
	json_t *f =
	    json_pack("{s:I,s:I,s:I,s:I,s:I}", "nofile_limit", (json_int_t)rl.rlim_cur, "needed",
		      (json_int_t)need, "max_connections", (json_int_t)cfg->max_connections,
		      "admin_max_connections", (json_int_t)HOOK_ADMIN_MAX_CONNECTIONS, "reserve",
		      (json_int_t)FD_RESERVE);
	hook_log_json(HOOK_LOG_ERROR,
		      "the open-files limit (RLIMIT_NOFILE) cannot hold limits.max_connections, "
		      "the admin connections and the daemon's own files: raise it (systemd "
		      "LimitNOFILE=, ulimit -n) or lower limits.max_connections",
		      f);
	return false;
}

static void reload_config(server *sv)
{
	if (sv->stopping)
		return;
	const char *path = sv->cfg->path;
	if (!path)
		return;
	hook_problems probs = {0};
	hook_config *next = NULL;
	hk_err err = hook_config_load(path, 0, &next, &probs);
	if (err) {
		for (size_t i = 0; i < probs.n && i < probs.cap; i++)
			hook_log(HOOK_LOG_ERROR,
				 "configuration reload refused: the running configuration stays",
				 "config", path, "problem",
				 probs.msgs[i] ? probs.msgs[i] : "(lost)", NULL);
		if (!probs.n)
			hook_log(HOOK_LOG_ERROR,
				 "configuration reload refused: the running configuration stays",
				 "config", path, "error", hk_err_str(err), NULL);
		hook_problems_cleanup(&probs);
		return;
	}
	hook_problems_cleanup(&probs);
	char diff[512];
	hook_config_restart_diff(sv->cfg, next, diff, sizeof(diff));
	if (diff[0]) {
		hook_log(HOOK_LOG_ERROR,
			 "configuration reload refused: these keys change only with a restart",
			 "config", path, "keys", diff, NULL);
		hook_config_free(next);
		return;
	}
	if (!fd_limit_ok(next, false)) {
		hook_log(HOOK_LOG_ERROR,
			 "configuration reload refused: the running configuration stays", "config",
			 path, NULL);
		hook_config_free(next);
		return;
	}
	hook_config *old = sv->cfg;
	sv->cfg = next;
	hook_intake_set_config(sv->intake, next);
	hook_sqs_set_config(sv->sqs, next);
	hook_admin_set_config(sv->admin, next);
	hook_engine_reload(&sv->engine, next);
	hook_config_free(old); /* `path` was old's */
	json_t *f =
	    json_pack("{s:s,s:I}", "config", next->path, "node_groups", (json_int_t)next->n_groups);
	hook_log_json(HOOK_LOG_INFO, "configuration reloaded: new actions use it", f);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	if (hook_log_reopen() != HK_OK)
		hook_log(HOOK_LOG_ERROR, "cannot reopen the log file: still writing the old one",
			 NULL);
	else
		hook_log(HOOK_LOG_INFO, "log reopened", NULL);
	reload_config(arg);
}

/* Write {"intake_port":..,"admin_port":..,"pid":..} atomically (tmp+rename),
 * so a reader never sees half a file. */
static hk_err write_ready_file(const char *path, unsigned intake_port, unsigned admin_port)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	if (!tmp)
		return HK_ERR_NOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	hk_err err = HK_OK;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(tmp);
		return HK_ERR_IO;
	}
	char buf[128];
	int len = snprintf(buf, sizeof(buf), "{\"intake_port\":%u,\"admin_port\":%u,\"pid\":%ld}\n",
			   intake_port, admin_port, (long)getpid());
	if (len < 0 || write(fd, buf, (size_t)len) != (ssize_t)len)
		err = HK_ERR_IO;
	if (close(fd) != 0)
		err = HK_ERR_IO;
	if (err == HK_OK && rename(tmp, path) != 0)
		err = HK_ERR_IO;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* The real lifecycle engine, on an AWS client made from the config's region
 * and endpoints (else the SDK environment). */
hk_err hook_engine_factory_aws(struct event_base *base, const hook_config *cfg, hook_store *store,
			       hook_health *health, hook_engine *ret)
{
	awc_client *client = NULL;
	hk_err err = hook_aws_client_new(base, cfg, &client);
	if (err) {
		hook_log(HOOK_LOG_ERROR, "cannot create the AWS client", "error", hk_err_str(err),
			 NULL);
		return err;
	}
	const char *region = awc_client_region(client);
	hook_health_set(health, HOOK_HEALTH_REGION, region ? HOOK_YES : HOOK_UNKNOWN, NULL);
	return hook_engine_aws_new(base, cfg, store, health, client, ret);
}

static void serve_usage(FILE *out)
{
	fprintf(out,
		"usage: multus-hookd serve --config FILE [--log-level LEVEL] [--log-file FILE]\n"
		"                          [--ready-file FILE]\n\n"
		"Run the lifecycle hook service.\n"
		"  --config FILE      the JSON configuration (see docs/configuration.md)\n"
		"  --log-level LEVEL  debug, info (default), warn or error\n"
		"  --log-file FILE    log there instead of stderr (SIGHUP reopens it)\n"
		"  --ready-file FILE  once listening, write {\"intake_port\",\"admin_port\","
		"\"pid\"}\n"
		"Exit status: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 usage or "
		"invalid configuration.\n");
}

static void server_cleanup(server *sv)
{
	hook_intake_free(sv->intake);
	hook_sqs_free(sv->sqs);
	hook_admin_free(sv->admin);
	hook_probe_free(sv->probe);
	hook_sd_free(sv->sd);
	hook_engine_free(&sv->engine);
	hook_store_close(sv->store);
	for (size_t i = 0; i < HK_ARRAY_LEN(sv->sigs); i++)
		hook_event_free(&sv->sigs[i]);
	hook_event_free(&sv->grace);
	if (sv->base)
		event_base_free(sv->base);
	hook_config_free(sv->cfg);
}

int hook_cmd_serve(int argc, char **argv)
{
	return hook_cmd_serve_with(argc, argv, hook_engine_factory_aws);
}

typedef struct serve_args {
	const char *path, *log_file, *ready_file, *level_name;
	hook_log_level level;
} serve_args;

/* The command line of `serve`: -1 to go on, else the exit code. */
static int serve_parse_args(int argc, char **argv, serve_args *a)
{
	static const cli_opt opts[] = {{"config", CLI_STR, offsetof(serve_args, path), 'c'},
				       CLI_OPT_STR(serve_args, "log-level", level_name),
				       CLI_OPT_STR(serve_args, "log-file", log_file),
				       CLI_OPT_STR(serve_args, "ready-file", ready_file)};
	int rc = cli_parse(argc, argv, opts, HK_ARRAY_LEN(opts), a, serve_usage);
	if (rc >= 0)
		return rc;
	a->level = HOOK_LOG_INFO;
	if (a->level_name && hook_log_level_parse(a->level_name, &a->level) != HK_OK) {
		fprintf(stderr,
			"multus-hookd serve: --log-level: \"%s\": use debug, info, warn or error\n",
			a->level_name);
		return 2;
	}
	if (!a->path) {
		serve_usage(stderr);
		return 2;
	}
	return -1;
}

/* Everything between a valid configuration and the loop: the store, the
 * loop and its signals, the engine, the probe, the listeners, the SQS
 * consumer, the ready file. HK_OK when serving (logged). */
/* A listener could not be bound: say which address, and fail. */
static hk_err bind_failed(const char *what, const hook_listener_cfg *l, hk_err err)
{
	json_t *f = json_pack("{s:s,s:I}", "address", l->address, "port", (json_int_t)l->port);
	hook_log_json(HOOK_LOG_ERROR, what, f);
	return err ? err : HK_ERR_INTERNAL;
}

static hk_err server_start(server *sv, const serve_args *args, hook_engine_factory_fn make_engine)
{
	hk_err err = HK_OK;
	hk_errinfo ei = {0};
	if ((err = hook_store_open(sv->cfg->state_dir, &sv->store, &ei))) {
		hook_log(HOOK_LOG_ERROR, "cannot open the state store", "error", hk_err_str(err),
			 "detail", ei.text, NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	sv->base = event_base_new();
	if (!sv->base) {
		hook_log(HOOK_LOG_ERROR, "cannot create the event loop", NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	static const struct {
		int signo;
		event_callback_fn fn;
	} sigs[] = {{SIGTERM, on_stop_signal}, {SIGINT, on_stop_signal}, {SIGHUP, on_hup}};
	_Static_assert(HK_ARRAY_LEN(sigs) == HK_ARRAY_LEN(sv->sigs), "one event per signal");
	bool ok = (sv->grace = evtimer_new(sv->base, on_grace, sv)) != NULL;
	for (size_t i = 0; ok && i < HK_ARRAY_LEN(sigs); i++)
		ok = (sv->sigs[i] = evsignal_new(sv->base, sigs[i].signo, sigs[i].fn, sv)) &&
		     evsignal_add(sv->sigs[i], NULL) == 0;
	if (!ok) {
		hook_log(HOOK_LOG_ERROR, "cannot install signal events", NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	if ((err = make_engine(sv->base, sv->cfg, sv->store, &sv->health, &sv->engine))) {
		hook_log(HOOK_LOG_ERROR, "cannot create the engine", "error", hk_err_str(err),
			 NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	/* Readiness needs AWS checked whichever engine runs (also the noop one). */
	if ((err = hook_probe_new(sv->base, sv->cfg, &sv->health, &sv->probe))) {
		hook_log(HOOK_LOG_ERROR, "cannot create the readiness probe", "error",
			 hk_err_str(err), NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	unsigned intake_port = 0, admin_port = 0;
	if ((err = hook_admin_new(sv->base, sv->cfg, sv->store, &sv->health, &sv->engine,
				  &sv->admin, &admin_port)))
		return bind_failed("cannot bind the admin listener", &sv->cfg->admin, err);
	if ((err = hook_intake_new(sv->base, sv->cfg, sv->store, &sv->engine, &sv->intake,
				   &intake_port)))
		return bind_failed("cannot bind the intake listener", &sv->cfg->intake, err);
	if (sv->cfg->sqs_queue_url &&
	    (err = hook_sqs_new(sv->base, sv->cfg, sv->store, &sv->engine, &sv->sqs))) {
		hook_log(HOOK_LOG_ERROR, "cannot create the SQS consumer", "error", hk_err_str(err),
			 NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	hook_engine_start(&sv->engine);
	hook_sqs_start(sv->sqs);
	json_t *f = json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:I,s:i}", "version", HOOKD_VERSION,
			      "intake_address", sv->cfg->intake.address, "intake_port",
			      (json_int_t)intake_port, "admin_address", sv->cfg->admin.address,
			      "admin_port", (json_int_t)admin_port, "state_dir", sv->cfg->state_dir,
			      "node_groups", (json_int_t)sv->cfg->n_groups, "schema_version",
			      hook_store_schema_version(sv->store));
	hook_log_json(HOOK_LOG_INFO, "multus-hookd serving", f);
	if (args->ready_file &&
	    write_ready_file(args->ready_file, intake_port, admin_port) != HK_OK) {
		hook_log(HOOK_LOG_ERROR, "cannot write the ready file", "path", args->ready_file,
			 NULL);
		return err ? err : HK_ERR_INTERNAL;
	}
	/* Store open, listeners bound: systemd hears READY=1 once the first
	 * credentials are resolved (sdnotify.c). */
	if ((err = hook_sd_start(sv->base, &sv->health, &sv->sd))) {
		hook_log(HOOK_LOG_ERROR, "cannot set up the systemd notification", NULL);
		return err;
	}
	return HK_OK;
}

int hook_cmd_serve_with(int argc, char **argv, hook_engine_factory_fn make_engine)
{
	serve_args args = {0};
	int prc = serve_parse_args(argc, argv, &args);
	if (prc >= 0)
		return prc;
	if (hook_log_open(args.log_file, args.level) != HK_OK) {
		fprintf(stderr, "multus-hookd serve: --log-file %s: cannot open: %s\n",
			args.log_file, strerror(errno));
		return 2;
	}
	hook_log_route_libraries();
	if (hook_metrics_init(HOOKD_VERSION) != HK_OK)
		hook_log(HOOK_LOG_WARN, "metrics not available (out of memory)", NULL);

	server sv;
	memset(&sv, 0, sizeof(sv));
	int rc = 1;
	hook_problems probs = {0};
	hk_err err = hook_config_load(args.path, 0, &sv.cfg, &probs);
	if (err) {
		for (size_t i = 0; i < probs.n && i < probs.cap; i++)
			hook_log(HOOK_LOG_ERROR, "invalid configuration", "config", args.path,
				 "problem", probs.msgs[i] ? probs.msgs[i] : "(lost)", NULL);
		hook_problems_cleanup(&probs);
		hook_metrics_free();
		hook_log_close();
		return 2;
	}
	hook_problems_cleanup(&probs);
	if (!fd_limit_ok(sv.cfg, true)) {
		hook_config_free(sv.cfg);
		hook_metrics_free();
		hook_log_close();
		return 1;
	}

	/* A client closing its socket mid-reply must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	if (server_start(&sv, &args, make_engine) != HK_OK)
		goto out;
	if (event_base_dispatch(sv.base) < 0) {
		hook_log(HOOK_LOG_ERROR, "event loop failed", NULL);
		goto out;
	}
	rc = 0;
	hook_log(HOOK_LOG_INFO, "multus-hookd stopped", NULL);
out:
	server_cleanup(&sv);
	hook_metrics_free();
	hook_log_close();
	return rc;
}
