/* The configuration file: one JSON document, validated as a whole. Every
 * problem gets its own message "path: value: why" and validation goes on
 * after a problem, so one run of check-config shows them all. Unknown keys
 * are problems (a typo must not silently fall back to a default).
 * Key by key documentation: docs/configuration.md. */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Defaults (documented in docs/configuration.md). */

hook_config *hook_config_ref(const hook_config *cfg)
{
	/* the count is the one field a holder of a const configuration changes */
	hook_config *c = (hook_config *)(uintptr_t)cfg;
	if (c)
		c->extra_refs++;
	return c;
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool rate_limits_differ(const hook_config *a, const hook_config *b)
{
	if (a->aws_rate_scale != b->aws_rate_scale || a->n_aws_rate_limits != b->n_aws_rate_limits)
		return true;
	for (size_t i = 0; i < a->n_aws_rate_limits; i++) {
		const hook_rate_limit *x = &a->aws_rate_limits[i], *y = &b->aws_rate_limits[i];
		if (str_differs(x->family, y->family) || x->burst != y->burst ||
		    x->refill_per_s != y->refill_per_s)
			return true;
	}
	return false;
}

static bool topics_differ(const hook_config *a, const hook_config *b)
{
	if (a->n_sns_topic_arns != b->n_sns_topic_arns)
		return true;
	for (size_t i = 0; i < a->n_sns_topic_arns; i++)
		if (str_differs(a->sns_topic_arns[i], b->sns_topic_arns[i]))
			return true;
	return false;
}

void hook_config_restart_diff(const hook_config *a, const hook_config *b, char *out, size_t size)
{
	const struct {
		const char *key;
		bool differs;
	} keys[] = {
	    {"aws.region", str_differs(a->region, b->region)},
	    {"aws.endpoints.ec2", str_differs(a->endpoint_ec2, b->endpoint_ec2)},
	    {"aws.endpoints.autoscaling",
	     str_differs(a->endpoint_autoscaling, b->endpoint_autoscaling)},
	    {"aws.endpoints.sts", str_differs(a->endpoint_sts, b->endpoint_sts)},
	    {"aws.endpoints.sqs", str_differs(a->endpoint_sqs, b->endpoint_sqs)},
	    {"aws.endpoints.sns", str_differs(a->endpoint_sns, b->endpoint_sns)},
	    {"aws.rate_limits", rate_limits_differ(a, b)},
	    {"listeners.intake",
	     str_differs(a->intake.address, b->intake.address) || a->intake.port != b->intake.port},
	    {"listeners.admin", str_differs(a->admin.address, b->admin.address) ||
				    a->admin.port != b->admin.port ||
				    a->admin_auth.kind != b->admin_auth.kind},
	    {"state_dir", str_differs(a->state_dir, b->state_dir)},
	    {"sns", a->sns_enabled != b->sns_enabled || topics_differ(a, b) ||
			str_differs(a->sns_test_ca_file, b->sns_test_ca_file) ||
			str_differs(a->sns_test_connect_to, b->sns_test_connect_to)},
	    {"sqs", str_differs(a->sqs_queue_url, b->sqs_queue_url) ||
			a->sqs_wait_time_s != b->sqs_wait_time_s ||
			a->sqs_max_messages != b->sqs_max_messages ||
			a->sqs_visibility_timeout_s != b->sqs_visibility_timeout_s ||
			a->sqs_ack != b->sqs_ack},
	    {"limits.max_header_bytes", a->max_header_bytes != b->max_header_bytes},
	    {"limits.sweep_interval_s", a->sweep_interval_s != b->sweep_interval_s},
	    {"testing", a->test_time_scale != b->test_time_scale},
	};
	size_t n = 0;
	if (size)
		out[0] = '\0';
	for (size_t i = 0; i < HK_ARRAY_LEN(keys); i++) {
		if (!keys[i].differs || n >= size)
			continue;
		int m = snprintf(out + n, size - n, "%s%s", n ? ", " : "", keys[i].key);
		n = m < 0 ? size : n + (size_t)m;
	}
}

static void auth_free(hook_auth *a)
{
	free(a->header);
	free(a->username);
	if (a->secret) {
		OPENSSL_cleanse(a->secret, a->secret_len);
		free(a->secret);
	}
	if (a->basic_expect) {
		OPENSSL_cleanse(a->basic_expect, a->basic_expect_len);
		free(a->basic_expect);
	}
}

void hook_config_free(hook_config *cfg)
{
	if (!cfg)
		return;
	if (cfg->extra_refs) {
		cfg->extra_refs--;
		return;
	}
	free(cfg->path);
	free(cfg->region);
	free(cfg->endpoint_ec2);
	free(cfg->endpoint_autoscaling);
	free(cfg->endpoint_sts);
	free(cfg->intake.address);
	free(cfg->admin.address);
	auth_free(&cfg->auth);
	auth_free(&cfg->admin_auth);
	free(cfg->state_dir);
	/* SNS / SQS intake */
	cfg_strv_free(cfg->sns_topic_arns, cfg->n_sns_topic_arns);
	free(cfg->sns_test_ca_file);
	free(cfg->sns_test_connect_to);
	free(cfg->sqs_queue_url);
	free(cfg->endpoint_sqs);
	free(cfg->endpoint_sns);
	free(cfg->notify_sns_topic_arn);
	free(cfg->notify_webhook_url);
	free(cfg->notify_test_ca_file);
	for (size_t i = 0; i < cfg->n_aws_rate_limits; i++)
		free(cfg->aws_rate_limits[i].family);
	free(cfg->aws_rate_limits);
	for (size_t i = 0; i < cfg->n_groups; i++)
		cfg_group_cleanup(&cfg->groups[i]);
	free(cfg->groups);
	free(cfg);
}

hk_err hook_config_parse(const char *buf, size_t len, const char *base_dir, unsigned flags,
			 hook_config **ret_cfg, hook_problems *probs)
{
	if (!buf || !ret_cfg)
		return HK_ERR_INVALID;
	if (len > HK_CAP_CONFIG_FILE) {
		hook_problems_add(probs, "config: larger than %u bytes", HK_CAP_CONFIG_FILE);
		return HK_ERR_TOO_LARGE;
	}
	if (!hk_json_depth_ok(buf, len, HK_CAP_JSON_DEPTH)) {
		hook_problems_add(probs, "config: nested deeper than %u levels", HK_CAP_JSON_DEPTH);
		return HK_ERR_INVALID;
	}
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		hook_problems_add(probs, "config: line %d column %d: %s", jerr.line, jerr.column,
				  jerr.text);
		return HK_ERR_INVALID;
	}
	size_t before = probs ? probs->n : 0;
	hook_problems local = {0};
	hook_problems *p = probs ? probs : &local;
	vctx v = {.p = p, .base_dir = base_dir, .flags = flags};
	hook_config *cfg = calloc(1, sizeof(*cfg));
	hk_err err = HK_OK;
	if (!cfg) {
		err = HK_ERR_NOMEM;
		goto out;
	}
	if (!json_is_object(root)) {
		hook_problems_add(p, "config: the document must be a JSON object, not %s",
				  cfg_json_type_name(root));
		err = HK_ERR_INVALID;
		goto out;
	}
	static const char *const keys[] = {"aws",    "listeners",   "auth", "state_dir",
					   "limits", "node_groups", "sns",  "sqs",
					   "notify", "testing",	    NULL};
	cfg_check_keys(&v, "", root, keys);
	cfg_parse_aws(&v, root, cfg);

	json_t *lis = cfg_get_obj(&v, "", root, "listeners", false);
	json_t *empty = json_object();
	if (!empty) {
		err = HK_ERR_NOMEM;
		goto out;
	}
	if (lis) {
		static const char *const lkeys[] = {"intake", "admin", NULL};
		cfg_check_keys(&v, "listeners", lis, lkeys);
	}
	cfg_parse_listener(&v, lis ? lis : empty, "intake", &cfg->intake, DEF_INTAKE_ADDR,
			   DEF_INTAKE_PORT);
	cfg_parse_listener(&v, lis ? lis : empty, "admin", &cfg->admin, DEF_ADMIN_ADDR,
			   DEF_ADMIN_PORT);
	json_decref(empty);
	if (cfg->intake.address && cfg->admin.address && cfg->intake.port != 0 &&
	    cfg->intake.port == cfg->admin.port && !strcmp(cfg->intake.address, cfg->admin.address))
		hook_problems_add(p,
				  "listeners.admin.port: %u: same address and port as "
				  "listeners.intake",
				  cfg->admin.port);

	cfg_parse_auth(&v, root, cfg);
	cfg_parse_admin_auth(&v, root, cfg);

	const char *sd = cfg_get_str(&v, "", root, "state_dir", true, 1024, NULL);
	if (sd)
		cfg->state_dir = cfg_resolve_path(&v, sd);

	cfg_parse_limits(&v, root, cfg);
	cfg_parse_sns(&v, root, cfg);
	cfg_parse_sqs(&v, root, cfg);
	cfg_parse_notify(&v, root, cfg);
	cfg_parse_testing(&v, root, cfg);

	json_t *groups = cfg_get_arr(&v, "", root, "node_groups", true, true);
	if (groups) {
		size_t n = json_array_size(groups);
		cfg->groups = calloc(n, sizeof(*cfg->groups));
		if (!cfg->groups) {
			err = HK_ERR_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			char gp[PATH_MAX_LEN];
			cfg_ipath(gp, "node_groups", i);
			json_t *e = json_array_get(groups, i);
			if (!json_is_object(e)) {
				hook_problems_add(p, "%s: must be an object, not %s", gp,
						  cfg_json_type_name(e));
				continue;
			}
			hook_node_group *g = &cfg->groups[cfg->n_groups++];
			cfg_parse_group(&v, gp, e, g);
			for (size_t j = 0; j + 1 < cfg->n_groups; j++)
				if (g->name && cfg->groups[j].name &&
				    !strcmp(g->name, cfg->groups[j].name))
					hook_problems_add(p, "%s.name: \"%s\": used twice", gp,
							  g->name);
		}
	}
	if (v.oom)
		err = HK_ERR_NOMEM;
	else if (p->n > before)
		err = HK_ERR_INVALID;
out:
	json_decref(root);
	hook_problems_cleanup(&local);
	if (err != HK_OK) {
		hook_config_free(cfg);
		return err;
	}
	*ret_cfg = cfg;
	return HK_OK;
}

hk_err hook_config_load(const char *path, unsigned flags, hook_config **ret_cfg,
			hook_problems *probs)
{
	/* The capped read of common/; its message names the file, which the
	 * callers print in front of every problem already: say it once. */
	char *buf = NULL;
	size_t len = 0;
	hk_errinfo ei = {0};
	hk_err err =
	    hk_file_read_flags(path, HK_CAP_CONFIG_FILE, HK_FILE_NOFOLLOW, &buf, &len, &ei);
	if (err != HK_OK) {
		const char *why = ei.text;
		size_t pl = strlen(path);
		if (!strncmp(why, path, pl) && !strncmp(why + pl, ": ", 2))
			why += pl + 2;
		hook_problems_add(probs, "%s", why);
		return err == HK_ERR_NOT_FOUND ? HK_ERR_IO : err;
	}
	if (err == HK_OK) {
		char *dir = strdup(path);
		if (!dir) {
			free(buf);
			return HK_ERR_NOMEM;
		}
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
		hook_config *cfg = NULL;
		err = hook_config_parse(buf, len, slash ? (dir[0] ? dir : "/") : NULL, flags, &cfg,
					probs);
		free(dir);
		if (err == HK_OK) {
			cfg->path = strdup(path);
			*ret_cfg = cfg;
		}
	}
	free(buf);
	return err;
}

/* ----------------------------------------------------------- group match */

static bool metadata_matches(const hook_node_group *g, const char *metadata)
{
	if (g->metadata_glob)
		return metadata && fnmatch(g->metadata_glob, metadata, 0) == 0;
	if (g->n_metadata_match == 0)
		return true;
	if (!metadata)
		return false;
	json_t *m = NULL;
	if (hk_json_depth_ok(metadata, strlen(metadata), HK_CAP_JSON_DEPTH))
		m = json_loads(metadata, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(m)) {
		json_decref(m);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < g->n_metadata_match && ok; i++) {
		const hook_kv *kv = &g->metadata_match[i];
		json_t *val = json_object_get(m, kv->key);
		ok = json_is_string(val) && fnmatch(kv->value, json_string_value(val), 0) == 0;
	}
	json_decref(m);
	return ok;
}

static bool name_hit(const hook_node_group *g, const char *asg)
{
	for (size_t j = 0; j < g->n_asg_names; j++)
		if (fnmatch(g->asg_names[j], asg, 0) == 0)
			return true;
	return false;
}

static bool group_wants(const hook_node_group *g, const char *asg, const char *metadata)
{
	return name_hit(g, asg) && metadata_matches(g, metadata);
}

const hook_node_group *hook_config_group_for_asg(const hook_config *cfg, const char *asg)
{
	for (size_t i = 0; cfg && asg && i < cfg->n_groups; i++)
		if (name_hit(&cfg->groups[i], asg))
			return &cfg->groups[i];
	return NULL;
}

bool hook_group_owns_hook(const hook_node_group *g, const char *hook)
{
	for (size_t i = 0; g && hook && i < g->n_hook_names; i++)
		if (strcmp(g->hook_names[i], hook) == 0)
			return true;
	return false;
}

const hook_node_group *hook_config_match_group(const hook_config *cfg, const char *asg,
					       const char *metadata)
{
	if (!cfg || !asg)
		return NULL;
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (group_wants(&cfg->groups[i], asg, metadata))
			return &cfg->groups[i];
	return NULL;
}

hook_match hook_config_match_event(const hook_config *cfg, const char *asg, const char *hook,
				   const char *metadata, const hook_node_group **ret)
{
	if (!cfg || !asg)
		return HOOK_MATCH_NO_GROUP;
	const hook_node_group *first = NULL;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const hook_node_group *g = &cfg->groups[i];
		if (!group_wants(g, asg, metadata))
			continue;
		if (!first)
			first = g;
		if (hook_group_owns_hook(g, hook)) {
			*ret = g;
			return HOOK_MATCH_OK;
		}
	}
	if (!first)
		return HOOK_MATCH_NO_GROUP;
	*ret = first;
	return HOOK_MATCH_FOREIGN_HOOK;
}

const char *hook_result_str(hook_result r)
{
	return r == HOOK_RESULT_ABANDON ? "ABANDON" : "CONTINUE";
}

hook_result hook_result_of(const char *s)
{
	return s && strcmp(s, "ABANDON") == 0 ? HOOK_RESULT_ABANDON : HOOK_RESULT_CONTINUE;
}

/* aws/'s call-state trace as debug log lines (only when debug is on). */
static void aws_debug(void *arg, const char *fmt, ...) HK_PRINTF(2, 3);
static void aws_debug(void *arg, const char *fmt, ...)
{
	(void)arg;
	if (!hook_log_enabled(HOOK_LOG_DEBUG))
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hook_log(HOOK_LOG_DEBUG, line, NULL);
}

/* "Say why, while it happens": one warn line per retried AWS call, at most
 * one per token-bucket family per second (the next one counts the retries
 * not logged meanwhile, so a storm cannot flood the log), and one info line
 * when a family's adaptive rate changes. Every client of the process shares
 * the limiter (one event loop). */
typedef struct why_slot {
	char family[32];
	int64_t last_ms;
	unsigned suppressed;
} why_slot;

static why_slot g_why[24];

static why_slot *why_of(const char *family)
{
	for (size_t i = 0; i < HK_ARRAY_LEN(g_why); i++) {
		if (!g_why[i].family[0])
			snprintf(g_why[i].family, sizeof(g_why[i].family), "%s", family);
		if (strcmp(g_why[i].family, family) == 0)
			return &g_why[i];
	}
	return NULL;
}

static void aws_event(const awc_event *ev, void *arg)
{
	(void)arg;
	const char *family = ev->family ? ev->family : "";
	const char *fam[1] = {family};
	if (ev->kind == AWC_EV_DONE) {
		const char *outcome = ev->err == HK_OK		    ? "ok"
				      : ev->err == HK_ERR_THROTTLED ? "throttled"
				      : ev->err == HK_ERR_TRANSIENT || ev->err == HK_ERR_TIMEOUT
					  ? "transient"
					  : "permanent";
		hk_metric_inc3(hook_m.aws_calls, awc_service_name(ev->svc),
			       ev->action ? ev->action : "", outcome);
		const char *act[1] = {ev->action ? ev->action : ""};
		hk_metric_observe(hook_m.aws_call_seconds, act, (double)ev->delay_us / 1e6);
		return;
	}
	if (ev->kind == AWC_EV_BUCKET_WAIT) {
		hk_metric_add(hook_m.bucket_waits, fam, 1);
		hk_metric_add(hook_m.bucket_wait_seconds, fam, (double)ev->delay_us / 1e6);
		return;
	}
	if (ev->kind == AWC_EV_RATE)
		hk_metric_set(hook_m.rate_factor, fam, ev->rate_factor);
	if (ev->kind == AWC_EV_RETRY)
		hk_metric_add(hook_m.aws_retries, fam, 1);
	if (ev->kind == AWC_EV_RATE) {
		json_t *f =
		    json_pack("{s:s,s:f}", "family", family, "rate_factor", ev->rate_factor);
		hook_log_json(HOOK_LOG_INFO,
			      ev->rate_factor < 1.0
				  ? "AWS throttling: pacing this family slower"
				  : "AWS throttling over: this family at full rate",
			      f);
		return;
	}
	if (ev->kind != AWC_EV_RETRY)
		return;
	why_slot *w = why_of(family);
	int64_t now = hk_mono_ms();
	if (w && w->last_ms && now - w->last_ms < 1000) {
		w->suppressed++;
		return;
	}
	json_t *f =
	    json_pack("{s:s,s:s,s:s,s:s?,s:I,s:I,s:s}", "service", awc_service_name(ev->svc),
		      "call", ev->action ? ev->action : "", "error", hk_err_str(ev->err),
		      "aws_code", ev->aws_code, "attempt", (json_int_t)ev->attempt, "retry_in_ms",
		      (json_int_t)(ev->delay_us / 1000), "family", family);
	if (f && ev->http_status)
		json_object_set_new(f, "http_status", json_integer(ev->http_status));
	if (f && w && w->suppressed)
		json_object_set_new(f, "suppressed", json_integer(w->suppressed));
	hook_log_json(HOOK_LOG_WARN, "AWS call failed: retrying", f);
	if (w) {
		w->last_ms = now;
		w->suppressed = 0;
	}
}

hk_err hook_aws_client_new(struct event_base *base, const hook_config *cfg, awc_client **ret)
{
	awc_bucket_override ov[TBUCKET_OVERRIDES_MAX];
	size_t n = cfg->n_aws_rate_limits;
	if (n > HK_ARRAY_LEN(ov))
		return HK_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		ov[i].family = cfg->aws_rate_limits[i].family;
		ov[i].burst = cfg->aws_rate_limits[i].burst;
		ov[i].refill_per_s = cfg->aws_rate_limits[i].refill_per_s;
	}
	awc_config ac;
	memset(&ac, 0, sizeof(ac));
	ac.region = cfg->region;
	ac.endpoint[AWC_SVC_EC2] = cfg->endpoint_ec2;
	ac.endpoint[AWC_SVC_AUTOSCALING] = cfg->endpoint_autoscaling;
	ac.endpoint[AWC_SVC_STS] = cfg->endpoint_sts;
	ac.endpoint[AWC_SVC_SQS] = cfg->endpoint_sqs;
	ac.endpoint[AWC_SVC_SNS] = cfg->endpoint_sns;
	ac.bucket_scale = cfg->aws_rate_scale > 0 ? cfg->aws_rate_scale : 1.0;
	ac.bucket_overrides = n ? ov : NULL;
	ac.n_bucket_overrides = n;
	ac.debug = aws_debug;
	ac.on_event = aws_event;
	return awsclient_new(base, &ac, ret);
}
