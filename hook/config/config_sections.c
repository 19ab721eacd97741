/* The configuration's top-level sections: listeners, aws (region,
 * endpoints, rate limits), auth (and its secret files), limits, testing,
 * sns, sqs. */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void cfg_parse_listener(vctx *v, json_t *parent, const char *name, hook_listener_cfg *out,
			const char *def_addr, unsigned def_port)
{
	char p[PATH_MAX_LEN];
	cfg_kpath(p, "listeners", name);
	out->address = NULL;
	out->port = def_port;
	json_t *o = cfg_get_obj(v, "listeners", parent, name, false);
	if (o) {
		static const char *const intake_keys[] = {"address", "port", NULL};
		static const char *const admin_keys[] = {"address", "port", "auth", NULL};
		cfg_check_keys(v, p, o, strcmp(name, "admin") ? intake_keys : admin_keys);
		bool bad = false;
		const char *a = cfg_get_str(v, p, o, "address", false, 63, &bad);
		if (a) {
			if (!cfg_addr_ok(a))
				hook_problems_add(
				    v->p, "%s.address: \"%s\": not a numeric IPv4 or IPv6 address",
				    p, a);
			else
				out->address = cfg_xstrdup(v, a);
		}
		out->port = (unsigned)cfg_get_uint(v, p, o, "port", 0, 65535, def_port);
	}
	if (!out->address)
		out->address = cfg_xstrdup(v, def_addr);
}

/* A number member in [min, max]; missing = def. */
static double get_double(vctx *v, const char *path, json_t *obj, const char *key, double min,
			 double max, double def)
{
	char p[PATH_MAX_LEN];
	json_t *j = cfg_member(v, path, obj, key, CFG_NUMBER, false, NULL, p);
	if (!j)
		return def;
	double d = json_number_value(j);
	if (!(d >= min && d <= max)) {
		hook_problems_add(v->p, "%s: %g: out of range (%g to %g)", p, d, min, max);
		return def;
	}
	return d;
}

/* aws.rate_limits: {"scale": x, "buckets": {"<family>": {"burst", "refill_per_s"}}}. */
static void parse_rate_limits(vctx *v, json_t *aws, hook_config *cfg)
{
	json_t *o = cfg_get_obj(v, "aws", aws, "rate_limits", false);
	if (!o)
		return;
	static const char *const keys[] = {"scale", "buckets", NULL};
	cfg_check_keys(v, "aws.rate_limits", o, keys);
	cfg->aws_rate_scale = get_double(v, "aws.rate_limits", o, "scale", 0.01, 100.0, 1.0);
	json_t *b = cfg_get_obj(v, "aws.rate_limits", o, "buckets", false);
	if (!b)
		return;
	size_t n = json_object_size(b);
	if (n == 0)
		return;
	if (n > TBUCKET_OVERRIDES_MAX) {
		hook_problems_add(v->p, "aws.rate_limits.buckets: more than %u families",
				  TBUCKET_OVERRIDES_MAX);
		return;
	}
	cfg->aws_rate_limits = calloc(n, sizeof(*cfg->aws_rate_limits));
	if (!cfg->aws_rate_limits) {
		hook_problems_add(v->p, "aws.rate_limits.buckets: out of memory");
		return;
	}
	const char *fam;
	json_t *e;
	json_object_foreach(b, fam, e)
	{
		char path[PATH_MAX_LEN];
		snprintf(path, sizeof(path), "aws.rate_limits.buckets.%s", fam);
		if (!awc_bucket_family_known(fam)) {
			hook_problems_add(v->p,
					  "%s: unknown token-bucket family (see "
					  "docs/configuration.md#aws for the names)",
					  path);
			continue;
		}
		if (!json_is_object(e)) {
			hook_problems_add(v->p, "%s: must be an object, not %s", path,
					  cfg_json_type_name(e));
			continue;
		}
		static const char *const bkeys[] = {"burst", "refill_per_s", NULL};
		cfg_check_keys(v, path, e, bkeys);
		if (!json_object_get(e, "burst") || !json_object_get(e, "refill_per_s")) {
			hook_problems_add(v->p, "%s: needs both burst and refill_per_s", path);
			continue;
		}
		hook_rate_limit *r = &cfg->aws_rate_limits[cfg->n_aws_rate_limits];
		r->burst = get_double(v, path, e, "burst", 1.0, 100000.0, 1.0);
		r->refill_per_s = get_double(v, path, e, "refill_per_s", 0.01, 100000.0, 1.0);
		r->family = cfg_xstrdup(v, fam);
		if (r->family)
			cfg->n_aws_rate_limits++;
	}
}

void cfg_parse_aws(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->aws_rate_scale = 1.0;
	static const char *const keys[] = {"region", "endpoints", "rate_limits", NULL};
	json_t *o = cfg_section(v, root, "aws", keys);
	if (!o)
		return;
	const char *r = cfg_get_str(v, "aws", o, "region", false, 32, NULL);
	if (r) {
		bool ok = true;
		for (const char *c = r; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
				ok = false;
		if (!ok || !strchr(r, '-'))
			hook_problems_add(
			    v->p, "aws.region: \"%s\": not a region name (like us-east-1)", r);
		else
			cfg->region = cfg_xstrdup(v, r);
	}
	parse_rate_limits(v, o, cfg);
	json_t *e = cfg_get_obj(v, "aws", o, "endpoints", false);
	if (!e)
		return;
	static const char *const ekeys[] = {"ec2", "autoscaling", "sts", "sqs", "sns", NULL};
	cfg_check_keys(v, "aws.endpoints", e, ekeys);
	char **dst[] = {&cfg->endpoint_ec2, &cfg->endpoint_autoscaling, &cfg->endpoint_sts,
			&cfg->endpoint_sqs, &cfg->endpoint_sns};
	for (size_t i = 0; i < HK_ARRAY_LEN(dst); i++) {
		const char *u = cfg_get_str(v, "aws.endpoints", e, ekeys[i], false, 512, NULL);
		if (!u)
			continue;
		if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
			hook_problems_add(v->p,
					  "aws.endpoints.%s: \"%s\": must start with https:// "
					  "or http://",
					  ekeys[i], u);
			continue;
		}
		*dst[i] = cfg_xstrdup(v, u);
	}
}

/* One auth object (`path`: "auth" or "listeners.admin.auth") into *a. */
static void parse_auth_object(vctx *v, json_t *o, const char *path, hook_auth *a)
{
	static const char *const types[] = {"api_key", "basic", NULL};
	bool bad = false;
	char kp[PATH_MAX_LEN];
	const char *t = cfg_get_str(v, path, o, "type", true, 16, &bad);
	if (!t)
		return;
	if (!strcmp(t, "api_key")) {
		static const char *const keys[] = {"type", "header", "value_file", NULL};
		cfg_check_keys(v, path, o, keys);
		a->kind = HOOK_AUTH_API_KEY;
		const char *h = cfg_get_str(v, path, o, "header", false, 64, NULL);
		if (h) {
			bool ok = true;
			for (const char *c = h; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
					ok = false;
			if (!ok || !strcasecmp(h, "authorization"))
				hook_problems_add(v->p,
						  "%s.header: \"%s\": not a usable header name "
						  "(letters, digits, '-', '_'; not Authorization)",
						  path, h);
			else
				a->header = cfg_xstrdup(v, h);
		}
		if (!a->header)
			a->header = cfg_xstrdup(v, DEF_API_KEY_HEADER);
		const char *f = cfg_get_str(v, path, o, "value_file", true, 4096, NULL);
		if (f && !(v->flags & HOOK_CONFIG_NO_FILES)) {
			cfg_kpath(kp, path, "value_file");
			a->secret = cfg_read_secret(v, kp, f, &a->secret_len);
		}
	} else if (!strcmp(t, "basic")) {
		static const char *const keys[] = {"type", "username", "password_file", NULL};
		cfg_check_keys(v, path, o, keys);
		a->kind = HOOK_AUTH_BASIC;
		const char *u = cfg_get_str(v, path, o, "username", true, 128, NULL);
		if (u && strchr(u, ':'))
			hook_problems_add(v->p, "%s.username: must not contain ':' (RFC 7617)",
					  path);
		else if (u)
			a->username = cfg_xstrdup(v, u);
		const char *f = cfg_get_str(v, path, o, "password_file", true, 4096, NULL);
		if (f && !(v->flags & HOOK_CONFIG_NO_FILES)) {
			cfg_kpath(kp, path, "password_file");
			a->secret = cfg_read_secret(v, kp, f, &a->secret_len);
		}
		if (a->username && a->secret) {
			/* Precompute base64("user:password") once; requests are compared
			 * in constant time against it, nothing untrusted is decoded. */
			size_t ul = strlen(a->username);
			size_t plain_len = ul + 1 + a->secret_len;
			unsigned char *plain = malloc(plain_len);
			size_t enc_cap = 4 * ((plain_len + 2) / 3) + 1;
			char *enc = malloc(enc_cap);
			if (!plain || !enc) {
				v->oom = true;
				free(plain);
				free(enc);
				return;
			}
			memcpy(plain, a->username, ul);
			plain[ul] = ':';
			memcpy(plain + ul + 1, a->secret, a->secret_len);
			int n = EVP_EncodeBlock((unsigned char *)enc, plain, (int)plain_len);
			OPENSSL_cleanse(plain, plain_len);
			free(plain);
			a->basic_expect = enc;
			a->basic_expect_len = n > 0 ? (size_t)n : 0;
		}
	} else {
		hook_problems_add(v->p, "%s.type: \"%s\": must be one of \"%s\", \"%s\"", path, t,
				  types[0], types[1]);
	}
}

void cfg_parse_auth(vctx *v, json_t *root, hook_config *cfg)
{
	json_t *o = cfg_get_obj(v, "", root, "auth", true);
	if (o)
		parse_auth_object(v, o, "auth", &cfg->auth);
}

void cfg_parse_admin_auth(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->admin_auth.kind = HOOK_AUTH_NONE;
	json_t *lis = json_object_get(root, "listeners");
	json_t *adm = json_is_object(lis) ? json_object_get(lis, "admin") : NULL;
	json_t *o =
	    json_is_object(adm) ? cfg_get_obj(v, "listeners.admin", adm, "auth", false) : NULL;
	if (o)
		parse_auth_object(v, o, "listeners.admin.auth", &cfg->admin_auth);
	/* The admin API changes state (retry, reconcile) and shows tokens'
	 * prefixes and instance ids: off loopback it needs credentials. */
	const char *addr = cfg->admin.address;
	bool loopback = addr && (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1"));
	if (addr && !loopback && cfg->admin_auth.kind == HOOK_AUTH_NONE)
		hook_problems_add(v->p,
				  "listeners.admin.address: \"%s\" is not a loopback address: set "
				  "listeners.admin.auth (api_key or basic) or bind it to 127.0.0.1",
				  addr);
}

void cfg_parse_limits(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->max_body_bytes = HK_CAP_HTTP_BODY_DEFAULT;
	cfg->max_header_bytes = HK_CAP_HTTP_HEADERS_SIZE;
	cfg->max_connections = DEF_MAX_CONNECTIONS;
	cfg->read_timeout_ms = DEF_READ_TIMEOUT_MS;
	cfg->request_timeout_ms = DEF_REQUEST_TIMEOUT_MS;
	cfg->max_concurrent_actions = DEF_MAX_CONCURRENT;
	cfg->heartbeat_margin_ms = DEF_HEARTBEAT_MARGIN_MS;
	cfg->shutdown_grace_ms = DEF_SHUTDOWN_GRACE_MS;
	cfg->sweep_interval_s = DEF_SWEEP_INTERVAL_S;
	static const char *const keys[] = {"max_body_bytes",	     "max_header_bytes",
					   "max_connections",	     "max_connections_per_source",
					   "read_timeout_ms",	     "request_timeout_ms",
					   "max_concurrent_actions", "heartbeat_margin_ms",
					   "shutdown_grace_ms",	     "sweep_interval_s",
					   "reconcile_interval_s",   NULL};
	json_t *o = cfg_section(v, root, "limits", keys);
	if (!o)
		return;
	cfg->max_body_bytes = (size_t)cfg_get_uint(v, "limits", o, "max_body_bytes", 1024,
						   64ull * 1024 * 1024, HK_CAP_HTTP_BODY_DEFAULT);
	cfg->max_header_bytes = (size_t)cfg_get_uint(v, "limits", o, "max_header_bytes", 1024,
						     1024 * 1024, HK_CAP_HTTP_HEADERS_SIZE);
	cfg->max_connections = (unsigned)cfg_get_uint(v, "limits", o, "max_connections", 1,
						      HK_CAP_HTTP_CONNECTIONS, DEF_MAX_CONNECTIONS);
	cfg->max_connections_per_source = (unsigned)cfg_get_uint(
	    v, "limits", o, "max_connections_per_source", 0, HK_CAP_HTTP_CONNECTIONS, 0);
	cfg->read_timeout_ms = (unsigned)cfg_get_uint(v, "limits", o, "read_timeout_ms", 100,
						      600000, DEF_READ_TIMEOUT_MS);
	cfg->request_timeout_ms = (unsigned)cfg_get_uint(v, "limits", o, "request_timeout_ms", 100,
							 600000, DEF_REQUEST_TIMEOUT_MS);
	cfg->max_concurrent_actions = (unsigned)cfg_get_uint(
	    v, "limits", o, "max_concurrent_actions", 1, 10000, DEF_MAX_CONCURRENT);
	cfg->heartbeat_margin_ms = (unsigned)cfg_get_uint(v, "limits", o, "heartbeat_margin_ms",
							  1000, 3600000, DEF_HEARTBEAT_MARGIN_MS);
	cfg->shutdown_grace_ms = (unsigned)cfg_get_uint(v, "limits", o, "shutdown_grace_ms", 0,
							600000, DEF_SHUTDOWN_GRACE_MS);
	cfg->sweep_interval_s = (unsigned)cfg_get_uint(v, "limits", o, "sweep_interval_s", 0, 86400,
						       DEF_SWEEP_INTERVAL_S);
	cfg->reconcile_interval_s =
	    (unsigned)cfg_get_uint(v, "limits", o, "reconcile_interval_s", 0, 86400, 0);
}

/* ---- lifecycle engine: TEST ONLY keys (docs/configuration.md, `testing`) ---- */
void cfg_parse_testing(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->test_time_scale = 1.0;
	static const char *const keys[] = {"time_scale", NULL};
	json_t *o = cfg_section(v, root, "testing", keys);
	if (!o)
		return;
	json_t *j = json_object_get(o, "time_scale");
	if (!j)
		return;
	double d = json_is_number(j) ? json_number_value(j) : -1.0;
	if (!json_is_number(j) || !(d >= 0.001 && d <= 1000.0))
		hook_problems_add(v->p,
				  "testing.time_scale: must be a number from 0.001 to 1000 "
				  "(test only: lifecycle hook timeouts are multiplied by it)");
	else
		cfg->test_time_scale = d;
}

/* ---- SNS and SQS intake (docs/intake.md; hook/intake/sns.c, hook/intake/sqs.c) ---- */
#define DEF_SQS_WAIT_TIME_S	     20u
#define DEF_SQS_MAX_MESSAGES	     10u
#define DEF_SQS_VISIBILITY_TIMEOUT_S 60u

/* arn:<partition>:sns:<region>:<12 digits>:<name>, name [A-Za-z0-9_-]{1,256}
 * with an optional ".fifo". */
static bool topic_arn_ok(const char *s)
{
	const char *p = s;
	if (strncmp(p, "arn:", 4) != 0)
		return false;
	p += 4;
	size_t n = strcspn(p, ":");
	if (n == 0 || n > 32 || strncmp(p, "aws", 3) != 0)
		return false;
	p += n;
	if (strncmp(p, ":sns:", 5) != 0)
		return false;
	p += 5;
	n = strcspn(p, ":");
	if (n < 4 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return false;
	p += n;
	if (*p++ != ':')
		return false;
	for (int i = 0; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	p += 12;
	if (*p++ != ':')
		return false;
	n = strlen(p);
	if (n > 5 && !strcmp(p + n - 5, ".fifo"))
		n -= 5;
	if (n == 0 || n > 256)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'))
			return false;
	return true;
}

/* curl's CONNECT_TO syntax restricted to what the tests need:
 * "HOST:PORT:ADDR:PORT" where HOST is empty or an SNS host, the first PORT
 * empty or 443, ADDR a numeric IPv4 address or a bracketed IPv6 one. */
/* <section>.test_ca_file (tests only: a private CA to trust), resolved
 * against the file's folder and, unless files are not checked, readable;
 * NULL when absent. */
static char *test_ca_file(vctx *v, const char *section, json_t *o)
{
	const char *ca = cfg_get_str(v, section, o, "test_ca_file", false, 4096, NULL);
	if (!ca)
		return NULL;
	char *path = cfg_resolve_path(v, ca);
	if (path && !(v->flags & HOOK_CONFIG_NO_FILES) && access(path, R_OK) != 0)
		hook_problems_add(v->p, "%s.test_ca_file: \"%s\": cannot read: %s", section, ca,
				  strerror(errno));
	return path;
}

static bool connect_to_ok(const char *s)
{
	const char *c1 = strchr(s, ':');
	if (!c1 || (c1 != s && !hook_sns_host_ok(s, (size_t)(c1 - s))))
		return false;
	const char *c2 = strchr(c1 + 1, ':');
	if (!c2 || (c2 != c1 + 1 && !(c2 - c1 == 4 && !strncmp(c1 + 1, "443", 3))))
		return false;
	const char *addr = c2 + 1;
	const char *c3;
	char ab[64];
	if (*addr == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof(ab))
			return false;
		memcpy(ab, addr + 1, (size_t)(rb - addr - 1));
		ab[rb - addr - 1] = '\0';
		if (!strchr(ab, ':'))
			return false;
		c3 = rb + 1;
	} else {
		c3 = strchr(addr, ':');
		if (!c3 || (size_t)(c3 - addr) >= sizeof(ab))
			return false;
		memcpy(ab, addr, (size_t)(c3 - addr));
		ab[c3 - addr] = '\0';
		if (strchr(ab, ':'))
			return false;
	}
	if (!cfg_addr_ok(ab))
		return false;
	const char *port = c3 + 1;
	if (!*port || strlen(port) > 5)
		return false;
	unsigned long pv = 0;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		pv = pv * 10 + (unsigned long)(*c - '0');
	}
	return pv >= 1 && pv <= 65535;
}

void cfg_parse_sns(vctx *v, json_t *root, hook_config *cfg)
{
	static const char *const keys[] = {"enabled",	      "topic_arns", "test_ca_file",
					   "test_connect_to", "max_age_s",  NULL};
	cfg->sns_max_age_s = DEF_SNS_MAX_AGE_S;
	json_t *o = cfg_section(v, root, "sns", keys);
	if (!o)
		return;
	cfg->sns_enabled = cfg_get_bool(v, "sns", o, "enabled", false);
	cfg->sns_max_age_s =
	    (unsigned)cfg_get_uint(v, "sns", o, "max_age_s", 1, 7 * 86400, DEF_SNS_MAX_AGE_S);
	json_t *arns = cfg_get_arr(v, "sns", o, "topic_arns", cfg->sns_enabled, cfg->sns_enabled);
	if (arns) {
		size_t n = json_array_size(arns);
		if (n > HK_CAP_SNS_TOPICS) {
			hook_problems_add(v->p, "sns.topic_arns: at most %u topics",
					  HK_CAP_SNS_TOPICS);
			n = 0;
		}
		cfg->sns_topic_arns = n ? calloc(n, sizeof(char *)) : NULL;
		if (n && !cfg->sns_topic_arns)
			v->oom = true;
		for (size_t i = 0; i < n && cfg->sns_topic_arns; i++) {
			json_t *e = json_array_get(arns, i);
			const char *a = json_is_string(e) ? json_string_value(e) : NULL;
			if (!a || strlen(a) != json_string_length(e) || strlen(a) > 512 ||
			    !topic_arn_ok(a)) {
				hook_problems_add(v->p,
						  "sns.topic_arns[%zu]: must be an SNS topic ARN "
						  "(arn:aws:sns:REGION:ACCOUNT:NAME)",
						  i);
				continue;
			}
			cfg->sns_topic_arns[cfg->n_sns_topic_arns++] = cfg_xstrdup(v, a);
		}
	}
	cfg->sns_test_ca_file = test_ca_file(v, "sns", o);
	const char *ct = cfg_get_str(v, "sns", o, "test_connect_to", false, 300, NULL);
	if (ct) {
		if (!connect_to_ok(ct))
			hook_problems_add(v->p,
					  "sns.test_connect_to: \"%s\": expected "
					  "\"sns.REGION.amazonaws.com:443:ADDRESS:PORT\" (numeric "
					  "address)",
					  ct);
		else
			cfg->sns_test_connect_to = cfg_xstrdup(v, ct);
	}
}

void cfg_parse_notify(vctx *v, json_t *root, hook_config *cfg)
{
	static const char *const keys[] = {"sns_topic_arn", "webhook_url", "test_ca_file", NULL};
	json_t *o = cfg_section(v, root, "notify", keys);
	if (!o)
		return;
	const char *arn = cfg_get_str(v, "notify", o, "sns_topic_arn", false, 512, NULL);
	const char *url = cfg_get_str(v, "notify", o, "webhook_url", false, 2048, NULL);
	if (!arn == !url) {
		hook_problems_add(v->p,
				  "notify: give exactly one of sns_topic_arn and webhook_url");
		return;
	}
	/* exactly one is set: check it, keep it */
	bool ok =
	    arn ? topic_arn_ok(arn)
		: strncmp(url, "https://", 8) == 0 && strlen(url) >= 9 && !strpbrk(url, " \t\r\n");
	if (!ok)
		hook_problems_add(v->p, "notify.%s: \"%s\": %s",
				  arn ? "sns_topic_arn" : "webhook_url", arn ? arn : url,
				  arn ? "must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
				      : "must be an https:// URL (the notices carry instance and "
					"group names)");
	else if (arn)
		cfg->notify_sns_topic_arn = cfg_xstrdup(v, arn);
	else
		cfg->notify_webhook_url = cfg_xstrdup(v, url);
	cfg->notify_test_ca_file = test_ca_file(v, "notify", o);
}

void cfg_parse_sqs(vctx *v, json_t *root, hook_config *cfg)
{
	cfg->sqs_wait_time_s = DEF_SQS_WAIT_TIME_S;
	cfg->sqs_max_messages = DEF_SQS_MAX_MESSAGES;
	cfg->sqs_visibility_timeout_s = DEF_SQS_VISIBILITY_TIMEOUT_S;
	static const char *const keys[] = {
	    "queue_url", "wait_time_s", "max_messages", "visibility_timeout_s", "ack", NULL};
	json_t *o = cfg_section(v, root, "sqs", keys);
	if (!o)
		return;
	const char *u = cfg_get_str(v, "sqs", o, "queue_url", true, 1024, NULL);
	if (u) {
		if ((strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
		    strpbrk(u, " \t\r\n"))
			hook_problems_add(v->p,
					  "sqs.queue_url: \"%s\": must be an https:// (or http://) "
					  "queue URL",
					  u);
		else
			cfg->sqs_queue_url = cfg_xstrdup(v, u);
	}
	cfg->sqs_wait_time_s =
	    (unsigned)cfg_get_uint(v, "sqs", o, "wait_time_s", 1, 20, DEF_SQS_WAIT_TIME_S);
	cfg->sqs_max_messages =
	    (unsigned)cfg_get_uint(v, "sqs", o, "max_messages", 1, 10, DEF_SQS_MAX_MESSAGES);
	cfg->sqs_visibility_timeout_s = (unsigned)cfg_get_uint(
	    v, "sqs", o, "visibility_timeout_s", 5, 43200, DEF_SQS_VISIBILITY_TIMEOUT_S);
	static const char *const acks[] = {"on_finish", "on_commit", NULL};
	cfg->sqs_ack = (hook_sqs_ack)cfg_get_enum(v, "sqs", o, "ack", acks, HOOK_SQS_ACK_ON_FINISH);
}
