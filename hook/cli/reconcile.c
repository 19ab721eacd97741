/* `multus-hookd reconcile`: ask the running daemon to attach the missing
 * Multus ENIs of InService instances (POST /v1/reconcile), wait for its report
 * (GET /v1/reconcile/<id>) and print it. docs/operations.md, "reconcile". */
#include "hook_cli_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- reconcile ------------------------------------------------------------- */

static void reconcile_usage(FILE *out)
{
	fprintf(out,
		"usage: multus-hookd reconcile --config FILE [--admin URL] [--group G]\n"
		"                              [--instance ID] [--dry-run] [--json]\n\n"
		"InService instances of the configured node groups that lack a Multus ENI\n"
		"(launched before the hook existed, during an outage, an ENI deleted by hand)\n"
		"get the missing ENIs attached in place by the running daemon, through the same\n"
		"engine path as a launch. Nothing is terminated; an ENI a node has stays.\n"
		"  --group G      only this node group\n"
		"  --instance ID  only this instance\n"
		"  --dry-run      print what would be attached, start nothing\n"
		"  --admin URL    the admin API (default: the configuration's admin listener)\n"
		"Exit status: 0 done, 1 the daemon could not be reached or an AWS call failed,\n"
		"2 usage.\n");
}

typedef struct reconcile_args {
	ops_common c;
	const char *group, *instance;
	bool dry_run;
} reconcile_args;

static const cli_opt reconcile_opts[] = {CLI_OPS_COMMON(reconcile_args),
					 CLI_OPT_STR(reconcile_args, "group", group),
					 CLI_OPT_STR(reconcile_args, "instance", instance),
					 CLI_OPT_FLAG(reconcile_args, "dry-run", dry_run)};

static void url_query_add(char *q, size_t size, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	size_t l = strlen(q);
	snprintf(q + l, size - l, "%s%s=%s", l ? "&" : "?", key, esc ? esc : "");
	curl_free(esc);
}

static void print_reconcile(const json_t *doc)
{
	json_t *insts = json_object_get(doc, "instances");
	bool dry = json_is_true(json_object_get(doc, "dry_run"));
	printf("%s%lld InService instance%s checked, %zu lacking a Multus ENI\n",
	       dry ? "dry run: " : "",
	       (long long)json_integer_value(json_object_get(doc, "checked")),
	       json_integer_value(json_object_get(doc, "checked")) == 1 ? "" : "s",
	       json_array_size(insts));
	for (size_t i = 0; i < json_array_size(insts); i++) {
		json_t *o = json_array_get(insts, i);
		json_t *miss = json_object_get(o, "missing");
		printf("  %s %s/%s missing", jstr(o, "instance_id"), jstr(o, "group"),
		       jstr(o, "asg"));
		for (size_t k = 0; k < json_array_size(miss); k++)
			printf("%s%s", k ? ", " : " ", json_string_value(json_array_get(miss, k)));
		const char *st = jstr(o, "status");
		long long id = (long long)json_integer_value(json_object_get(o, "action_id"));
		if (!strcmp(st, "started"))
			printf(": attaching (action #%lld)\n", id);
		else if (!strcmp(st, "in_flight"))
			printf(": left alone, action #%lld is in flight for it\n", id);
		else if (!strcmp(st, "would_attach"))
			printf(": would attach\n");
		else
			printf(": %s\n", *jstr(o, "error") ? jstr(o, "error") : st);
	}
	json_t *errs = json_object_get(doc, "errors");
	for (size_t i = 0; i < json_array_size(errs); i++) {
		json_t *e = json_array_get(errs, i);
		printf("error: %s: %s\n", jstr(e, "call"), jstr(e, "error"));
	}
}

int hook_cmd_reconcile(int argc, char **argv)
{
	reconcile_args r = {0};
	int rc = cli_parse(argc, argv, reconcile_opts, HK_ARRAY_LEN(reconcile_opts), &r,
			   reconcile_usage);
	if (rc >= 0)
		return rc;
	const ops_common c = r.c;
	hook_config *cfg = NULL;
	if (!c.config && !c.admin) {
		fprintf(stderr, "multus-hookd reconcile: give --config FILE (or --admin URL)\n");
		return 2;
	}
	if (c.config && hook_cli_load_config("reconcile", c.config, &cfg) != HK_OK)
		return 2;
	char url[ADMIN_URL_MAX];
	bool have_url = admin_url(c.admin, cfg, url, sizeof(url));
	hook_config_free(cfg);
	if (!have_url) {
		fprintf(stderr,
			"multus-hookd reconcile: the admin listener's port is 0 in %s: give "
			"--admin http://ADDRESS:PORT\n",
			c.config);
		return 2;
	}
	char path[600] = "";
	if (r.group)
		url_query_add(path, sizeof(path), "group", r.group);
	if (r.instance)
		url_query_add(path, sizeof(path), "instance_id", r.instance);
	if (r.dry_run)
		url_query_add(path, sizeof(path), "dry_run", "1");
	char full[700], err[400] = "";
	snprintf(full, sizeof(full), "/v1/reconcile%s", path);
	long status = 0;
	json_t *doc = NULL;
	if (hook_admin_call("POST", url, full, &status, &doc, err, sizeof(err)) != HK_OK) {
		fprintf(stderr, "multus-hookd reconcile: %s\n", err);
		return 1;
	}
	if (status != 202) {
		fprintf(stderr, "multus-hookd reconcile: the daemon refused (%ld): %s\n", status,
			jstr(doc, "reason"));
		json_decref(doc);
		return status == 400 ? 2 : 1;
	}
	long long id = (long long)json_integer_value(json_object_get(doc, "reconcile_id"));
	json_decref(doc);
	doc = NULL;
	snprintf(full, sizeof(full), "/v1/reconcile/%lld", id);
	for (unsigned waited_ms = 0;; waited_ms += 200) {
		json_decref(doc);
		doc = NULL;
		if (hook_admin_call("GET", url, full, &status, &doc, err, sizeof(err)) != HK_OK) {
			fprintf(stderr, "multus-hookd reconcile: %s\n", err);
			return 1;
		}
		if (status != 200 || strcmp(jstr(doc, "status"), "running") != 0)
			break;
		if (waited_ms >= 300000) {
			fprintf(stderr,
				"multus-hookd reconcile: no report after 300 s (GET %s%s)\n", url,
				full);
			json_decref(doc);
			return 1;
		}
		usleep(200000);
	}
	if (status != 200 || strcmp(jstr(doc, "status"), "done") != 0) {
		fprintf(stderr, "multus-hookd reconcile: the reconcile did not finish (%ld %s)\n",
			status, jstr(doc, "status"));
		json_decref(doc);
		return 1;
	}
	if (c.json)
		print_json(doc);
	else
		print_reconcile(doc);
	rc = json_array_size(json_object_get(doc, "errors")) ? 1 : 0;
	json_decref(doc);
	return rc;
}
