/* The AWS client core: one state machine per call.
 *
 *   WAIT_REGION -> WAIT_CREDS -> WAIT_TOKEN -> IN_FLIGHT -> (BACKOFF -> WAIT_CREDS ...)
 *                                                       -> DONE (delivered by a
 *                                                          zero-delay timer)
 *
 * Every user callback runs from the call's own timer, at the top of the loop's
 * stack, never nested inside httpc or creds dispatch; so a callback may free
 * the client. Nothing here sleeps: waits are event timers. */
#include "awc_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "awsconf.h"
#include "awsxml.h"
#include "creds_value.h"
#include "hk_caps.h"
#include "httpc.h"
#include "retry.h"
#include "sigv4.h"

#define AWC_DEFAULT_CONNECT_MS 3000L
#define AWC_DEFAULT_TIMEOUT_MS 20000L

static const char *const svc_names[AWC_SVC__COUNT] = {"ec2", "autoscaling", "sts", "sqs", "sns"};
_Static_assert((int)AWC_SVC__COUNT == (int)AWSCONF_SVC__COUNT, "awc_service follows awsconf");

/* ---- the call state ---------------------------------------------------------- */

/* Names for the transition trace, indexed by enum call_state. */
static const char *const call_state_names[] = {
    [CS_WAIT_REGION] = "WAIT_REGION", [CS_WAIT_CREDS] = "WAIT_CREDS",
    [CS_WAIT_TOKEN] = "WAIT_TOKEN",   [CS_IN_FLIGHT] = "IN_FLIGHT",
    [CS_BACKOFF] = "BACKOFF",	      [CS_DONE] = "DONE",
};
_Static_assert(HK_ARRAY_LEN(call_state_names) == CS_DONE + 1, "one name per call state");

/* The one place a call's state changes (as curl's mstate()): the optional
 * debug hook (awc_config.debug) sees every transition. */
static void call_set_state(awc_call *k, enum call_state to)
{
	const awc_config *cfg = &k->c->cfg;
	if (cfg->debug && k->state != to)
		cfg->debug(cfg->debug_arg, "aws call %s %s: %s -> %s", svc_names[k->svc], k->action,
			   call_state_names[k->state], call_state_names[to]);
	k->state = to;
}

/* ---- small helpers --------------------------------------------------------- */

static const char *env_get(const awc_client *c, const char *name)
{
	const char *v = c->cfg.env ? c->cfg.env(name, c->cfg.env_arg) : getenv(name);
	return v && *v ? v : NULL;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval us_to_tv(uint64_t us)
{
	struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
			     .tv_usec = (suseconds_t)(us % 1000000u)};
	return tv;
}

const char *awc_service_name(awc_service svc)
{
	return (unsigned)svc < AWC_SVC__COUNT ? svc_names[svc] : NULL;
}

static void emit(const awc_call *k, awc_event_kind kind, hk_err err, long status, const char *code,
		 uint64_t delay_us, uint64_t bound_us)
{
	const awc_client *c = k->c;
	if (!c->cfg.on_event)
		return;
	awc_event ev = {.kind = kind,
			.svc = k->svc,
			.action = k->action,
			.attempt = k->attempts,
			.err = err,
			.http_status = status,
			.aws_code = code,
			.delay_us = delay_us,
			.bound_us = bound_us,
			.family = tbucket_family_name(k->family),
			.rate_factor = c->buckets ? tbucket_factor(c->buckets, k->family) : 1.0};
	c->cfg.on_event(&ev, c->cfg.event_arg);
}

static void endpoint_cleanup(struct awc_endpoint *e)
{
	free(e->url);
	free(e->host);
	free(e->path);
	memset(e, 0, sizeof(*e));
}

/* Split an endpoint URL into what the request and the signer need. */
static hk_err endpoint_parse(const char *url, struct awc_endpoint *ret, hk_errinfo *ei)
{
	awsconf_url u;
	hk_err err = awsconf_url_parse(url, &u, ei);
	if (err != HK_OK)
		return err;
	struct awc_endpoint e = {
	    .url = strdup(url),
	    .host = strdup(u.host_header),
	    .path = strndup(u.path, strcspn(u.path, "?#")),
	};
	if (!e.url || !e.host || !e.path) {
		endpoint_cleanup(&e);
		return HK_ERR_NOMEM;
	}
	if (!*e.path) {
		free(e.path);
		if (!(e.path = strdup("/"))) {
			endpoint_cleanup(&e);
			return HK_ERR_NOMEM;
		}
	}
	*ret = e;
	return HK_OK;
}

const char *awc_awsconf_env_adapter(const char *name, void *arg)
{
	return env_get(arg, name);
}

/* Resolve every service's endpoint once the region is known: awc_config's
 * endpoint, else awsconf (AWS_ENDPOINT_URL_<SVC>, AWS_ENDPOINT_URL, default). */
hk_err awc_endpoints_resolve(awc_client *c, hk_errinfo *ei)
{
	if (!c->region)
		return HK_OK;
	for (int s = 0; s < AWC_SVC__COUNT; s++) {
		char *url = NULL;
		hk_err err;
		if (c->endpoint_cfg[s])
			err = (url = strdup(c->endpoint_cfg[s])) ? HK_OK : HK_ERR_NOMEM;
		else
			err = awsconf_endpoint((awsconf_service)s, c->region,
					       awc_awsconf_env_adapter, c, &url, ei);
		if (err != HK_OK)
			return err;
		struct awc_endpoint e = {0};
		err = endpoint_parse(url, &e, ei);
		free(url);
		if (err != HK_OK)
			return err;
		endpoint_cleanup(&c->ep[s]);
		c->ep[s] = e;
	}
	return HK_OK;
}

/* ---- call lifecycle ---------------------------------------------------------- */

static void call_step_creds(awc_call *k);
static void call_send(awc_call *k);

static void call_free(awc_call *k)
{
	if (!k)
		return;
	httpc_cancel(k->xfer);
	if (k->timer)
		event_free(k->timer);
	creds_unref(k->creds);
	free(k->target);
	if (k->body)
		OPENSSL_cleanse(k->body, k->body_len);
	free(k->body);
	free(k->aws_code);
	free(k->aws_message);
	free(k->request_id);
	xmlFreeDoc(k->doc);
	json_decref(k->jdoc);
	free(k);
}

static void call_unlink(awc_call *k)
{
	if (!hk_list_linked(&k->link))
		return;
	hk_list_del(&k->link);
	k->c->n_calls--;
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	awc_call *k = arg;
	emit(k, AWC_EV_DONE, k->err, k->status, k->aws_code, awc_now_us() - k->started_us, 0);
	call_unlink(k);
	awc_result res = {
	    .err = k->err,
	    .http_status = k->status,
	    .aws_code = k->aws_code,
	    .aws_message = k->aws_message,
	    .request_id = k->request_id,
	    .errtext = k->errtext[0] ? k->errtext : hk_err_str(k->err),
	    .doc = k->err == HK_OK ? k->doc : NULL,
	    .json = k->err == HK_OK ? k->jdoc : NULL,
	    .attempts = k->attempts,
	};
	/* The client may be freed inside: k is already unlinked from it. */
	k->done(&res, k->arg);
	call_free(k);
}

static void call_finish(awc_call *k, hk_err err, const char *fmt, ...) HK_PRINTF(3, 4);
static void call_finish(awc_call *k, hk_err err, const char *fmt, ...)
{
	static const struct timeval zero = {0, 0};
	call_set_state(k, CS_DONE);
	k->err = err;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(k->errtext, sizeof(k->errtext), fmt, ap);
		va_end(ap);
	}
	creds_unref(k->creds);
	k->creds = NULL;
	/* The call's one timer delivers (timer_step_cb sees CS_DONE). */
	evtimer_del(k->timer);
	(void)evtimer_add(k->timer, &zero);
}

static void timer_step_cb(evutil_socket_t fd, short what, void *arg)
{
	awc_call *k = arg;
	if (k->state == CS_WAIT_TOKEN)
		call_send(k);
	else if (k->state == CS_BACKOFF)
		call_step_creds(k);
	else if (k->state == CS_DONE)
		deliver_cb(fd, what, k);
}

static void set_result_strings(awc_call *k, const char *code, const char *msg, const char *rid)
{
	free(k->aws_code);
	free(k->aws_message);
	free(k->request_id);
	k->aws_code = code ? strdup(code) : NULL;
	k->aws_message = msg ? strdup(msg) : NULL;
	k->request_id = rid ? strdup(rid) : NULL;
}

static uint64_t backoff_bound_us(const retry_policy *p, retry_class cls, unsigned retry)
{
	uint64_t base = cls == RETRY_THROTTLE ? p->throttle_base_us : p->base_us;
	uint64_t b = base;
	for (unsigned i = 0; i < retry && b < p->cap_us; i++)
		b *= 2;
	return b < p->cap_us ? b : p->cap_us;
}

/* After a failed attempt: retry with backoff, or finish. */
static void call_after_failure(awc_call *k, retry_class cls, bool not_sent, hk_err err)
{
	awc_client *c = k->c;
	if (retry_should_retry(cls, k->idempotent || not_sent, k->attempts, k->max_attempts)) {
		unsigned retry = k->attempts ? k->attempts - 1 : 0;
		uint64_t bound = backoff_bound_us(&c->policy, cls, retry);
		uint64_t delay = retry_backoff_us(&c->policy, cls, retry, NULL, NULL);
		/* the caller's deadline: report the last error rather than retry
		 * past it (errtext already says what failed) */
		if (k->deadline_us && mono_us() + delay > k->deadline_us) {
			call_finish(k, err, NULL);
			return;
		}
		emit(k, AWC_EV_RETRY, err, k->status, k->aws_code, delay, bound);
		call_set_state(k, CS_BACKOFF);
		struct timeval tv = us_to_tv(delay);
		if (evtimer_add(k->timer, &tv) == 0)
			return;
	}
	/* errtext was set by the caller. */
	call_finish(k, err, NULL);
}

/* http_done() by outcome: no HTTP answer (connection, timeout, TLS). */
static void http_done_no_answer(awc_call *k, const httpc_response *r, creds_value *used,
				const char *svc)
{
	retry_class cls = retry_classify(r->err, 0, NULL);
	hk_err err = retry_map_err(r->err, 0, NULL);
	if (err == HK_OK)
		err = r->err;
	set_result_strings(k, NULL, NULL, NULL);
	snprintf(k->errtext, sizeof(k->errtext), "%s %s: attempt %u: %s: %s", svc, k->action,
		 k->attempts, hk_err_str(r->err), r->errtext);
	creds_unref(used);
	call_after_failure(k, cls, r->not_sent, err);
}

/* A 2xx: the document is read (XML, or JSON for SQS); one that cannot be read
 * is retried only when the call is idempotent (it may have been executed). */
static void http_done_success(awc_call *k, const httpc_response *r, creds_value *used,
			      const char *svc, const char *hdr_rid, uint64_t now)
{
	awc_client *c = k->c;
	hk_errinfo ei = {0};
	hk_err perr;
	if (k->json) {
		json_error_t je;
		json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, &je) : json_object();
		perr = j ? HK_OK : HK_ERR_PARSE;
		if (j && hk_json_tree_depth(j, HK_CAP_JSON_DEPTH) > HK_CAP_JSON_DEPTH) {
			json_decref(j);
			j = NULL;
			perr = HK_ERR_TOO_LARGE;
		}
		if (perr == HK_OK) {
			json_decref(k->jdoc);
			k->jdoc = j;
		} else {
			snprintf(ei.text, sizeof(ei.text), "%s",
				 perr == HK_ERR_PARSE ? je.text : "JSON nesting over cap");
		}
	} else {
		xmlDocPtr doc = NULL;
		perr = awsxml_parse(r->body, r->body_len, &doc, &ei);
		if (perr == HK_OK) {
			xmlFreeDoc(k->doc);
			k->doc = doc;
		}
	}
	if (perr != HK_OK) {
		/* A 2xx we cannot read: the call may have been executed, so it
		 * is retried only when idempotent. */
		set_result_strings(k, NULL, NULL, hdr_rid);
		snprintf(k->errtext, sizeof(k->errtext),
			 "%s %s: HTTP %ld with an unreadable body: %s", svc, k->action, r->status,
			 ei.text);
		creds_unref(used);
		call_after_failure(k, RETRY_TRANSIENT, false, perr);
		return;
	}
	if (c->buckets) {
		double before = tbucket_factor(c->buckets, k->family);
		tbucket_on_success(c->buckets, k->family, now);
		if (before < 1.0 && tbucket_factor(c->buckets, k->family) >= 1.0)
			emit(k, AWC_EV_RATE, HK_OK, 0, NULL, 0, 0);
	}
	const char *rid = k->doc ? awsxml_request_id(k->doc) : NULL;
	set_result_strings(k, NULL, NULL, rid ? rid : hdr_rid);
	creds_unref(used);
	call_finish(k, HK_OK, NULL);
}

/* An AWS error answer (or something in between pretending to be AWS): its
 * code classifies the retry; expired temporary credentials are fetched again
 * once. */
static void http_done_error(awc_call *k, const httpc_response *r, creds_value *used,
			    const char *svc, const char *hdr_rid, uint64_t now)
{
	awc_client *c = k->c;
	char *code = NULL, *msg = NULL, *rid = NULL;
	if (k->json) {
		awc_json_error_parse(r, &code, &msg);
	} else {
		awsxml_error e = {0};
		if (awsxml_parse_error(r->body, r->body_len, &e, NULL) == HK_OK) {
			code = e.code;
			msg = e.message;
			rid = e.request_id;
			free(e.type);
		}
	}
	if (!code) {
		/* No readable document: AWS front ends still name the error in a
		 * header ("AuthFailure", "ThrottlingException:http://..."). */
		const char *et = httpc_response_header(r, "x-amzn-ErrorType");
		if (et && *et)
			code = strndup(et, strcspn(et, ":"));
	}
	retry_class cls = retry_classify(HK_OK, r->status, code);
	hk_err err = retry_map_err(HK_OK, r->status, code);
	if (err == HK_OK) /* e.g. a 3xx: not something we follow */
		err = HK_ERR_AWS;
	set_result_strings(k, code, msg, rid ? rid : hdr_rid);
	if (code)
		snprintf(k->errtext, sizeof(k->errtext), "%s %s: HTTP %ld %s: %.300s", svc,
			 k->action, r->status, code, msg ? msg : "");
	else
		snprintf(k->errtext, sizeof(k->errtext),
			 "%s %s: HTTP %ld without an AWS error document", svc, k->action,
			 r->status);
	free(code);
	free(msg);
	free(rid);
	if (c->buckets && cls == RETRY_THROTTLE) {
		double before = tbucket_factor(c->buckets, k->family);
		tbucket_on_throttle(c->buckets, k->family, now);
		if (tbucket_factor(c->buckets, k->family) != before)
			emit(k, AWC_EV_RATE, HK_OK, 0, NULL, 0, 0);
	}

	/* Temporary credentials that AWS calls expired: fetch new ones once. */
	if (awc_code_is_expired_token(k->aws_code) && !k->refreshed_creds && used &&
	    used->expiration != 0 && k->attempts < k->max_attempts) {
		k->refreshed_creds = true;
		if (c->creds.invalidate)
			c->creds.invalidate(c->creds.impl);
		creds_unref(used);
		emit(k, AWC_EV_RETRY, err, k->status, k->aws_code, 0, 0);
		call_step_creds(k);
		return;
	}
	creds_unref(used);
	call_after_failure(k, cls, false, err);
}

static void http_done(const httpc_response *r, void *arg)
{
	awc_call *k = arg;
	k->xfer = NULL;
	creds_value *used = k->creds;
	k->creds = NULL;
	k->status = r->status;
	const char *svc = svc_names[k->svc];
	uint64_t now = mono_us();
	if (r->err != HK_OK) {
		http_done_no_answer(k, r, used, svc);
		return;
	}
	const char *hdr_rid = awc_find_header(r, "x-amzn-RequestId", "x-amz-request-id");
	if (r->status >= 200 && r->status <= 299)
		http_done_success(k, r, used, svc, hdr_rid, now);
	else
		http_done_error(k, r, used, svc, hdr_rid, now);
}

static void call_send(awc_call *k)
{
	awc_client *c = k->c;
	const struct awc_endpoint *ep = &c->ep[k->svc];
	call_set_state(k, CS_IN_FLIGHT);
	k->attempts++;
	emit(k, AWC_EV_SEND, HK_OK, 0, NULL, 0, 0);

	sigv4_header sh[3];
	size_t n = 0;
	sh[n++] = (sigv4_header){"Host", ep->host};
	sh[n++] = (sigv4_header){"Content-Type",
				 k->json ? "application/x-amz-json-1.0"
					 : "application/x-www-form-urlencoded; charset=utf-8"};
	if (k->json)
		sh[n++] = (sigv4_header){"X-Amz-Target", k->target};
	sigv4_request sreq = {
	    .method = "POST",
	    .path = ep->path,
	    .query = "",
	    .headers = sh,
	    .n_headers = n,
	    .body = k->body,
	    .body_len = k->body_len,
	};
	sigv4_creds sc = {
	    .access_key_id = k->creds->access_key_id,
	    .secret_access_key = k->creds->secret_access_key,
	    .session_token = k->creds->session_token,
	};
	sigv4_signed sig;
	memset(&sig, 0, sizeof(sig));
	hk_err err = sigv4_sign(&sreq, &sc, c->region, svc_names[k->svc], time(NULL), &sig);
	if (err != HK_OK) {
		call_finish(k, err, "%s %s: signing failed: %s", svc_names[k->svc], k->action,
			    hk_err_str(err));
		return;
	}
	httpc_header hh[7];
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		hh[m++] = (httpc_header){sh[i].name, sh[i].value};
	hh[m++] = (httpc_header){"X-Amz-Date", sig.amz_date};
	hh[m++] = (httpc_header){"Authorization", sig.authorization};
	if (sc.session_token && *sc.session_token)
		hh[m++] = (httpc_header){"X-Amz-Security-Token", sc.session_token};
	httpc_request req = {
	    .method = "POST",
	    .url = ep->url,
	    .headers = hh,
	    .n_headers = m,
	    .body = k->body,
	    .body_len = k->body_len,
	    .connect_timeout_ms = c->cfg.connect_timeout_ms,
	    .timeout_ms = k->timeout_ms,
	    .max_body = HK_CAP_AWS_RESPONSE_BODY,
	};
	err = httpc_send(c->http, &req, http_done, k, &k->xfer);
	sigv4_signed_cleanup(&sig);
	if (err != HK_OK)
		call_finish(k, err, "%s %s: cannot send: %s", svc_names[k->svc], k->action,
			    hk_err_str(err));
}

static void creds_done(hk_err err, creds_value *v, const char *errtext, void *arg)
{
	awc_call *k = arg;
	if (err != HK_OK) {
		/* Counts as an attempt; a network hiccup while fetching credentials
		 * is retried like any transient failure (nothing was sent to AWS). */
		k->attempts++;
		retry_class cls = retry_classify(err, 0, NULL);
		snprintf(k->errtext, sizeof(k->errtext), "%s %s: credentials: %s",
			 svc_names[k->svc], k->action, errtext);
		call_after_failure(k, err == HK_ERR_NO_CREDENTIALS ? RETRY_PERMANENT : cls, true,
				   err);
		return;
	}
	k->creds = creds_ref(v);
	awc_client *c = k->c;
	uint64_t wait = c->buckets ? tbucket_acquire(c->buckets, k->family, mono_us()) : 0;
	if (wait == 0) {
		call_send(k);
		return;
	}
	emit(k, AWC_EV_BUCKET_WAIT, HK_OK, 0, NULL, wait, wait);
	call_set_state(k, CS_WAIT_TOKEN);
	struct timeval tv = us_to_tv(wait);
	if (evtimer_add(k->timer, &tv) != 0)
		call_finish(k, HK_ERR_INTERNAL, "%s %s: cannot arm a timer", svc_names[k->svc],
			    k->action);
}

static void call_step_creds(awc_call *k)
{
	call_set_state(k, CS_WAIT_CREDS);
	creds_source *src = &k->c->creds;
	hk_err err = src->get ? src->get(src->impl, creds_done, k) : HK_ERR_NO_CREDENTIALS;
	if (err != HK_OK)
		call_finish(k, err, "%s %s: credentials: %s", svc_names[k->svc], k->action,
			    hk_err_str(err));
}

/* Begin (or, after the region arrived, resume) a call. */
void awc_call_begin(awc_call *k)
{
	awc_client *c = k->c;
	if (c->region_pending) {
		call_set_state(k, CS_WAIT_REGION);
		return;
	}
	if (!c->region || !c->ep[k->svc].url) {
		call_finish(
		    k, HK_ERR_INVALID, "%s %s: no AWS region: %s", svc_names[k->svc], k->action,
		    c->region_err[0] ? c->region_err : "set AWS_REGION or a profile region");
		return;
	}
	call_step_creds(k);
}

static hk_err call_new(awc_client *c, awc_service svc, const char *action,
		       const awc_call_opts *opts, awc_done_fn done, void *arg, awc_call **ret)
{
	if ((unsigned)svc >= AWC_SVC__COUNT || !action || !*action || !done)
		return HK_ERR_INVALID;
	if (strlen(action) >= sizeof(((awc_call *)0)->action))
		return HK_ERR_INVALID;
	if (c->n_calls >= HK_CAP_AWS_PENDING_CALLS)
		return HK_ERR_FULL;
	awc_call *k = calloc(1, sizeof(*k));
	if (!k)
		return HK_ERR_NOMEM;
	hk_list_init(&k->link);
	k->c = c;
	k->svc = svc;
	k->started_us = awc_now_us();
	snprintf(k->action, sizeof(k->action), "%s", action);
	k->done = done;
	k->arg = arg;
	k->idempotent = opts ? opts->idempotent : false;
	k->max_attempts = opts && opts->max_attempts ? opts->max_attempts : c->policy.max_attempts;
	if (k->max_attempts > HK_CAP_AWS_ATTEMPTS * 4)
		k->max_attempts = HK_CAP_AWS_ATTEMPTS * 4;
	k->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : c->cfg.request_timeout_ms;
	k->deadline_us = opts ? opts->deadline_us : 0;
	k->timer = evtimer_new(c->base, timer_step_cb, k);
	if (!k->timer) {
		free(k);
		return HK_ERR_NOMEM;
	}
	*ret = k;
	return HK_OK;
}

static void call_link_and_begin(awc_client *c, awc_call *k)
{
	hk_list_push_front(&c->calls, &k->link);
	c->n_calls++;
	awc_call_begin(k);
}

uint64_t awc_now_us(void)
{
	return mono_us();
}

struct cq_client_state *awc_client_calls(const awc_client *c)
{
	return c ? c->calls_state : NULL;
}

void awc_client_set_calls(awc_client *c, struct cq_client_state *st,
			  void (*free_fn)(struct cq_client_state *st))
{
	c->calls_state = st;
	c->calls_free = free_fn;
}

struct event_base *awc_client_base(const awc_client *c)
{
	return c ? c->base : NULL;
}

const struct cq_transport *awc_client_call_transport(const awc_client *c)
{
	return c ? c->cfg.call_transport : NULL;
}

hk_err awc_query(awc_client *c, awc_service svc, query_params *params, const awc_call_opts *opts,
		 awc_done_fn done, void *arg)
{
	if (!c || !params) {
		query_params_free(params);
		return HK_ERR_INVALID;
	}
	awc_call *k = NULL;
	hk_err err = call_new(c, svc, query_get(params, "Action"), opts, done, arg, &k);
	if (err != HK_OK) {
		query_params_free(params);
		return err;
	}
	k->family = tbucket_family_of(svc_names[svc], k->action, query_is_unfiltered(params));
	err = query_encode(params, &k->body, &k->body_len);
	query_params_free(params);
	if (err != HK_OK) {
		call_free(k);
		return err;
	}
	call_link_and_begin(c, k);
	return HK_OK;
}

hk_err awc_json(awc_client *c, awc_service svc, const char *target, const json_t *body,
		const awc_call_opts *opts, awc_done_fn done, void *arg)
{
	if (!c || !target || strpbrk(target, "\r\n"))
		return HK_ERR_INVALID;
	const char *dot = strrchr(target, '.');
	awc_call *k = NULL;
	hk_err err = call_new(c, svc, dot ? dot + 1 : target, opts, done, arg, &k);
	if (err != HK_OK)
		return err;
	k->json = true;
	k->family = tbucket_family_of(svc_names[svc], k->action, false);
	k->target = strdup(target);
	if (body)
		k->body = json_dumps(body, JSON_COMPACT);
	else
		k->body = strdup("{}");
	if (!k->target || !k->body) {
		call_free(k);
		return body && !json_is_object(body) ? HK_ERR_INVALID : HK_ERR_NOMEM;
	}
	k->body_len = strlen(k->body);
	call_link_and_begin(c, k);
	return HK_OK;
}

/* ---- client ------------------------------------------------------------------ */

/* The STS endpoint for web identity before the region is known: an explicit
 * override, else the global endpoint. */
static char *sts_endpoint_early(awc_client *c)
{
	const char *u = c->endpoint_cfg[AWC_SVC_STS];
	if (!u)
		u = env_get(c, "AWS_ENDPOINT_URL_STS");
	if (!u)
		u = env_get(c, "AWS_ENDPOINT_URL");
	return strdup(u ? u : "https://sts.amazonaws.com");
}

bool awc_bucket_family_known(const char *name)
{
	tbucket_family f;
	return tbucket_family_from_name(name, &f) == HK_OK;
}

hk_err awc_client_new(struct event_base *base, const awc_config *cfg, awc_client **ret)
{
	awc_client *c = calloc(1, sizeof(*c));
	if (c)
		hk_list_init(&c->calls);
	if (!c)
		return HK_ERR_NOMEM;
	hk_err err = HK_ERR_NOMEM;
	c->base = base;
	if (cfg)
		c->cfg = *cfg;
	c->cfg.region = NULL;
	memset(c->cfg.endpoint, 0, sizeof(c->cfg.endpoint));
	c->cfg.bucket_overrides = NULL;
	c->cfg.n_bucket_overrides = 0;
	if (c->cfg.connect_timeout_ms <= 0)
		c->cfg.connect_timeout_ms = AWC_DEFAULT_CONNECT_MS;
	if (c->cfg.request_timeout_ms <= 0)
		c->cfg.request_timeout_ms = AWC_DEFAULT_TIMEOUT_MS;
	retry_policy_default(&c->policy);
	if (c->cfg.max_attempts)
		c->policy.max_attempts = c->cfg.max_attempts;
	if (c->cfg.backoff_base_ms > 0)
		c->policy.base_us = (uint64_t)c->cfg.backoff_base_ms * 1000u;
	if (c->cfg.backoff_throttle_base_ms > 0)
		c->policy.throttle_base_us = (uint64_t)c->cfg.backoff_throttle_base_ms * 1000u;
	if (c->cfg.backoff_cap_ms > 0)
		c->policy.cap_us = (uint64_t)c->cfg.backoff_cap_ms * 1000u;

	hk_errinfo ei = {0};
	for (int s = 0; s < AWC_SVC__COUNT; s++) {
		if (cfg && cfg->endpoint[s]) {
			if (awsconf_url_parse(cfg->endpoint[s], NULL, &ei) != HK_OK) {
				err = HK_ERR_INVALID;
				goto fail;
			}
			if (!(c->endpoint_cfg[s] = strdup(cfg->endpoint[s]))) {
				err = HK_ERR_NOMEM;
				goto fail;
			}
		}
	}
	err = awc_region_from_config(c, cfg, &ei);
	if (err != HK_OK && err != HK_ERR_NOT_FOUND)
		goto fail;
	if ((err = awc_endpoints_resolve(c, &ei)) != HK_OK)
		goto fail;

	if (!c->cfg.no_buckets) {
		double scale = c->cfg.bucket_scale > 0 ? c->cfg.bucket_scale : 1.0;
		if ((err = tbucket_set_new(scale, mono_us(), &c->buckets)) != HK_OK)
			goto fail;
		for (size_t i = 0; cfg && i < cfg->n_bucket_overrides; i++) {
			const awc_bucket_override *o = &cfg->bucket_overrides[i];
			tbucket_family f;
			if (!o->family || tbucket_family_from_name(o->family, &f) != HK_OK) {
				err = HK_ERR_INVALID;
				goto fail;
			}
			if ((err = tbucket_set_override(c->buckets, f, o->burst, o->refill_per_s,
							mono_us())) != HK_OK)
				goto fail;
		}
	}

	if ((err = httpc_new(base, &c->http)) != HK_OK)
		goto fail;
	char *sts = c->ep[AWC_SVC_STS].url ? strdup(c->ep[AWC_SVC_STS].url) : sts_endpoint_early(c);
	if (!sts) {
		err = HK_ERR_NOMEM;
		goto fail;
	}
	creds_config cc = {
	    .env = awc_awsconf_env_adapter,
	    .env_arg = c,
	    .sts_endpoint = sts,
	    .timeout_ms = c->cfg.request_timeout_ms < 5000 ? c->cfg.request_timeout_ms : 5000,
	};
	err = c->cfg.creds_factory ? c->cfg.creds_factory(base, c->http, &cc, &c->creds) : HK_OK;
	free(sts);
	if (err != HK_OK)
		goto fail;
	if (!c->region) {
		err = c->creds.imds_region ? c->creds.imds_region(c->creds.impl, awc_region_done, c)
					   : HK_ERR_STATE;
		if (err == HK_OK)
			c->region_pending = true;
		else if (err == HK_ERR_STATE)
			snprintf(c->region_err, sizeof(c->region_err),
				 "no region in the environment or profile, and IMDS is disabled");
		else
			goto fail;
	}
	*ret = c;
	return HK_OK;
fail:
	awc_client_free(c);
	return err;
}

void awc_client_free(awc_client *c)
{
	if (!c)
		return;
	if (c->calls_free)
		c->calls_free(c->calls_state); /* typed calls first: they sit on ours */
	hk_list *n;
	while ((n = hk_list_first(&c->calls))) {
		awc_call *k = HK_CONTAINER_OF(n, awc_call, link);
		call_unlink(k);
		call_free(k);
	}
	if (c->creds.free)
		c->creds.free(c->creds.impl);
	httpc_free(c->http);
	tbucket_set_free(c->buckets);
	for (int s = 0; s < AWC_SVC__COUNT; s++) {
		free(c->endpoint_cfg[s]);
		endpoint_cleanup(&c->ep[s]);
	}
	free(c->region);
	free(c);
}

const char *awc_client_region(const awc_client *c)
{
	return c ? c->region : NULL;
}

const char *awc_client_endpoint(const awc_client *c, awc_service svc)
{
	return c && (unsigned)svc < AWC_SVC__COUNT ? c->ep[svc].url : NULL;
}

size_t awc_client_pending(const awc_client *c)
{
	return c ? c->n_calls : 0;
}
