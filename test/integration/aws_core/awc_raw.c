/* awc_raw: runs one raw AWS call (or one credentials resolution) through the
 * client core and prints the outcome as one JSON object on stdout. Used by the
 * aws_core integration tests; also handy by hand.
 *
 *   awc_raw [options] query <ec2|autoscaling|sts|sqs> <Action> [Name=Value ...]
 *   awc_raw [options] json sqs <Target> '<json body>'
 *   awc_raw [options] creds
 *
 * Options: --idempotent, --max-attempts N, --base-ms N, --throttle-base-ms N,
 *          --cap-ms N, --no-buckets, --timeout-ms N.
 * Region, endpoints and credentials come from the environment, as in the
 * daemon. Secrets are never printed (only the access key id and whether a
 * session token is present). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "awc.h"
#include "awsclient.h"
#include "creds.h"
#include "httpc.h"

struct run {
	struct event_base *base;
	json_t *out;
	json_t *events;
	bool done;
};

static const char *err_name(hk_err e)
{
	static const char *const names[] = {"ok",
					    "nomem",
					    "invalid",
					    "range",
					    "not_found",
					    "exists",
					    "full",
					    "too_large",
					    "io",
					    "parse",
					    "auth",
					    "denied",
					    "throttled",
					    "transient",
					    "aws",
					    "timeout",
					    "cancelled",
					    "state",
					    "no_credentials",
					    "internal"};
	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}

static const char *kind_name(awc_event_kind k)
{
	switch (k) {
	case AWC_EV_SEND:
		return "send";
	case AWC_EV_BUCKET_WAIT:
		return "bucket_wait";
	case AWC_EV_RETRY:
		return "retry";
	case AWC_EV_DONE:
		return "done";
	case AWC_EV_RATE:
		return "rate";
	}
	return "?";
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void on_event(const awc_event *ev, void *arg)
{
	struct run *r = arg;
	json_t *e = json_pack(
	    "{s:s, s:s, s:I, s:s, s:I, s:o, s:I, s:I}", "kind", kind_name(ev->kind), "action",
	    ev->action, "attempt", (json_int_t)ev->attempt, "err", err_name(ev->err), "http_status",
	    (json_int_t)ev->http_status, "aws_code", str_or_null(ev->aws_code), "delay_us",
	    (json_int_t)ev->delay_us, "bound_us", (json_int_t)ev->bound_us);
	if (e)
		json_array_append_new(r->events, e);
}

static void call_done(const awc_result *res, void *arg)
{
	struct run *r = arg;
	json_object_set_new(r->out, "err", json_string(err_name(res->err)));
	json_object_set_new(r->out, "http_status", json_integer(res->http_status));
	json_object_set_new(r->out, "aws_code", str_or_null(res->aws_code));
	json_object_set_new(r->out, "aws_message", str_or_null(res->aws_message));
	json_object_set_new(r->out, "request_id", str_or_null(res->request_id));
	json_object_set_new(r->out, "errtext", json_string(res->errtext ? res->errtext : ""));
	json_object_set_new(r->out, "attempts", json_integer(res->attempts));
	if (res->doc) {
		xmlChar *mem = NULL;
		int len = 0;
		xmlDocDumpMemory(res->doc, &mem, &len);
		if (mem)
			json_object_set_new(r->out, "xml",
					    json_stringn((const char *)mem, (size_t)len));
		xmlFree(mem);
	}
	if (res->json)
		json_object_set(r->out, "json", res->json);
	r->done = true;
	event_base_loopbreak(r->base);
}

static void creds_cb(hk_err err, creds_value *v, const char *errtext, void *arg)
{
	struct run *r = arg;
	json_object_set_new(r->out, "err", json_string(err_name(err)));
	json_object_set_new(r->out, "errtext", json_string(errtext ? errtext : ""));
	if (v) {
		json_object_set_new(r->out, "source", json_string(v->source));
		json_object_set_new(r->out, "access_key_id", json_string(v->access_key_id));
		json_object_set_new(r->out, "has_session_token", json_boolean(v->session_token));
		json_object_set_new(r->out, "expiration", json_integer(v->expiration));
	}
	r->done = true;
	event_base_loopbreak(r->base);
}

static int parse_long(const char *s, long *ret)
{
	errno = 0;
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (errno || !end || *end || end == s || v < 0)
		return -1;
	*ret = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: awc_raw [options] query <service> <Action> [Name=Value ...]\n"
			"       awc_raw [options] json sqs <Target> <json>\n"
			"       awc_raw [options] creds\n");
	return 2;
}

static int svc_of(const char *s, awc_service *ret)
{
	for (int i = 0; i < AWC_SVC__COUNT; i++)
		if (strcmp(s, awc_service_name((awc_service)i)) == 0) {
			*ret = (awc_service)i;
			return 0;
		}
	return -1;
}

int main(int argc, char **argv)
{
	awc_config cfg = {0};
	awc_call_opts opts = {0};
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		long v = 0;
		if (strcmp(argv[i], "--idempotent") == 0) {
			opts.idempotent = true;
		} else if (strcmp(argv[i], "--no-buckets") == 0) {
			cfg.no_buckets = true;
		} else if (i + 1 < argc && parse_long(argv[i + 1], &v) == 0) {
			if (strcmp(argv[i], "--max-attempts") == 0)
				opts.max_attempts = (unsigned)v;
			else if (strcmp(argv[i], "--base-ms") == 0)
				cfg.backoff_base_ms = v;
			else if (strcmp(argv[i], "--throttle-base-ms") == 0)
				cfg.backoff_throttle_base_ms = v;
			else if (strcmp(argv[i], "--cap-ms") == 0)
				cfg.backoff_cap_ms = v;
			else if (strcmp(argv[i], "--timeout-ms") == 0)
				opts.timeout_ms = v;
			else
				return usage();
			i++;
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();

	struct run r = {0};
	r.base = event_base_new();
	r.out = json_object();
	r.events = json_array();
	if (!r.base || !r.out || !r.events)
		return 1;
	cfg.on_event = on_event;
	cfg.event_arg = &r;
	int rc = 1;
	awc_client *c = NULL;
	httpc *http = NULL;
	creds_provider *cp = NULL;

	if (strcmp(argv[i], "creds") == 0) {
		if (httpc_new(r.base, &http) != HK_OK)
			goto out;
		const char *sts = getenv("AWS_ENDPOINT_URL_STS");
		creds_config cc = {.sts_endpoint = sts ? sts : getenv("AWS_ENDPOINT_URL")};
		if (creds_provider_new(r.base, http, &cc, &cp) != HK_OK ||
		    creds_get(cp, creds_cb, &r) != HK_OK)
			goto out;
	} else {
		hk_err err = awsclient_new(r.base, &cfg, &c);
		if (err != HK_OK) {
			fprintf(stderr, "awc_raw: awc_client_new: %s\n", hk_err_str(err));
			goto out;
		}
		awc_service svc;
		if (i + 2 >= argc || svc_of(argv[i + 1], &svc) != 0) {
			rc = usage();
			goto out;
		}
		if (strcmp(argv[i], "query") == 0) {
			static const char *const versions[AWC_SVC__COUNT] = {
			    "2016-11-15", "2011-01-01", "2011-06-15", "2012-11-05"};
			query_params *q = query_params_new(argv[i + 2], versions[svc]);
			if (!q)
				goto out;
			for (int a = i + 3; a < argc; a++) {
				char *eq = strchr(argv[a], '=');
				if (!eq) {
					query_params_free(q);
					rc = usage();
					goto out;
				}
				*eq = '\0';
				if (query_set(q, argv[a], eq + 1) != HK_OK) {
					query_params_free(q);
					goto out;
				}
			}
			err = awc_query(c, svc, q, &opts, call_done, &r);
		} else if (strcmp(argv[i], "json") == 0 && i + 3 < argc) {
			json_error_t je;
			json_t *body = json_loads(argv[i + 3], 0, &je);
			if (!body) {
				rc = usage();
				goto out;
			}
			err = awc_json(c, svc, argv[i + 2], body, &opts, call_done, &r);
			json_decref(body);
		} else {
			rc = usage();
			goto out;
		}
		if (err != HK_OK) {
			fprintf(stderr, "awc_raw: start: %s\n", hk_err_str(err));
			goto out;
		}
	}
	event_base_dispatch(r.base);
	if (!r.done)
		goto out;
	if (c)
		json_object_set_new(r.out, "region", str_or_null(awc_client_region(c)));
	json_object_set(r.out, "events", r.events);
	char *s = json_dumps(r.out, JSON_COMPACT);
	if (s) {
		puts(s);
		free(s);
		rc = 0;
	}
out:
	awc_client_free(c);
	creds_provider_free(cp);
	httpc_free(http);
	json_decref(r.out);
	json_decref(r.events);
	event_base_free(r.base);
	xmlCleanupParser();
	return rc;
}
