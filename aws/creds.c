/* The credentials provider chain. One fetch at a time walks the providers in
 * order; every caller that asks meanwhile waits on the same fetch. Results are
 * always delivered from a zero-delay timer, so a synchronous provider
 * (environment, files) still answers asynchronously. */
#include "creds.h"
#include "creds_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "awsconf.h"
#include "awsxml.h"
#include "calls_internal.h"
#include "hk_caps.h"
#include "hk_json.h"
#include "hk_util.h"
#include "query.h"

/* ---- small helpers ------------------------------------------------------ */

const char *creds_env_get(const creds_provider *p, const char *name)
{
	const char *v = p->cfg.env ? p->cfg.env(name, p->cfg.env_arg) : getenv(name);
	return v && *v ? v : NULL;
}

int64_t creds_now_s(const creds_provider *p)
{
	return p->cfg.now ? p->cfg.now(p->cfg.now_arg) : (int64_t)time(NULL);
}

static uint32_t rand32(const creds_provider *p)
{
	if (p->cfg.rand)
		return p->cfg.rand(p->cfg.rand_arg);
	uint32_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)time(NULL);
	return r;
}

void creds_wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* A new value with one reference, or NULL (ENOMEM / missing key). */
creds_value *creds_make(const char *akid, const char *secret, const char *token, int64_t expiration,
			const char *source)
{
	if (!akid || !*akid || !secret || !*secret)
		return NULL;
	creds_value *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->refs = 1;
	v->access_key_id = strdup(akid);
	v->secret_access_key = strdup(secret);
	v->session_token = token && *token ? strdup(token) : NULL;
	v->expiration = expiration;
	v->source = source;
	if (!v->access_key_id || !v->secret_access_key || (token && *token && !v->session_token)) {
		creds_unref(v);
		return NULL;
	}
	return v;
}

void creds_trim_right(char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

hk_err creds_parse_time(const char *s, int64_t *ret)
{
	if (!s)
		return HK_ERR_PARSE;
	unsigned v[6] = {0};
	const char seps[6] = {'-', '-', 'T', ':', ':', 0};
	const unsigned widths[6] = {4, 2, 2, 2, 2, 2};
	const char *c = s;
	for (int i = 0; i < 6; i++) {
		for (unsigned w = 0; w < widths[i]; w++, c++) {
			if (*c < '0' || *c > '9')
				return HK_ERR_PARSE;
			v[i] = v[i] * 10 + (unsigned)(*c - '0');
		}
		if (seps[i]) {
			if (*c != seps[i] && !(i == 2 && (*c == 't' || *c == ' ')))
				return HK_ERR_PARSE;
			c++;
		}
	}
	if (*c == '.') {
		c++;
		if (*c < '0' || *c > '9')
			return HK_ERR_PARSE;
		while (*c >= '0' && *c <= '9')
			c++;
	}
	if (!((c[0] == 'Z' || c[0] == 'z') && c[1] == '\0') && strcmp(c, "+00:00") != 0)
		return HK_ERR_PARSE;
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return HK_ERR_PARSE;
	struct tm tm = {0};
	tm.tm_year = (int)v[0] - 1900;
	tm.tm_mon = (int)v[1] - 1;
	tm.tm_mday = (int)v[2];
	tm.tm_hour = (int)v[3];
	tm.tm_min = (int)v[4];
	tm.tm_sec = (int)v[5];
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return HK_ERR_PARSE;
	*ret = (int64_t)t;
	return HK_OK;
}

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	size_t n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		char tmp[64];
		if (n - 2 >= sizeof(tmp))
			return false;
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) == 1)
			return memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
	}
	return false;
}

bool creds_container_uri_allowed(const char *uri)
{
	if (!uri)
		return false;
	CURLU *u = curl_url();
	if (!u)
		return false;
	bool ok = false;
	char *scheme = NULL, *host = NULL;
	if (curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcasecmp(scheme, "https") == 0)
			ok = true;
		else if (strcasecmp(scheme, "http") == 0)
			ok = host_is_loopback(host) || strcmp(host, "169.254.170.2") == 0 ||
			     strcmp(host, "169.254.170.23") == 0 ||
			     strcasecmp(host, "[fd00:ec2::23]") == 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* ---- delivery ---------------------------------------------------------- */

static void schedule_delivery(creds_provider *p)
{
	static const struct timeval zero = {0, 0};
	evtimer_add(p->deliver_ev, &zero);
}

static void waiter_free(struct waiter *w)
{
	creds_unref(w->creds);
	free(w->errtext);
	free(w);
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	creds_provider *p = arg;
	/* Detach the list first: callbacks may queue new waiters. */
	struct waiter *list = p->ready;
	p->ready = NULL;
	p->ready_tail = &p->ready;
	while (list) {
		struct waiter *w = list;
		list = w->next;
		p->n_waiters--;
		w->done(w->err, w->err == HK_OK ? w->creds : NULL, w->errtext ? w->errtext : "",
			w->arg);
		waiter_free(w);
	}
}

/* Move every fetch waiter to the ready list with this result. */
static void release_waiters(creds_provider *p, hk_err err, creds_value *v, const char *errtext)
{
	struct waiter *w = p->waiting;
	p->waiting = NULL;
	p->waiting_tail = &p->waiting;
	while (w) {
		struct waiter *next = w->next;
		w->next = NULL;
		w->err = err;
		if (err == HK_OK)
			w->creds = creds_ref(v);
		else if (!(w->errtext = strdup(errtext)))
			w->errtext = NULL;
		*p->ready_tail = w;
		p->ready_tail = &w->next;
		w = next;
	}
	schedule_delivery(p);
}

static void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	httpc_cancel(f->xfer);
	creds_wipe_free(f->imds_token);
	free(f->role);
	free(f);
}

/* End the fetch: cache on success, fall back to still-valid cached
 * credentials on failure, wake every waiter. Takes `v` (may be NULL). */
void creds_fetch_finish(struct fetch *f, hk_err err, creds_value *v, const char *fmt, ...)
{
	creds_provider *p = f->p;
	char errtext[512] = "";
	if (fmt &&
	    err != HK_OK) { /* the text of a failure only (its args may be unset on success) */
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errtext, sizeof(errtext), fmt, ap);
		va_end(ap);
	}
	if (err != HK_OK && v) {
		creds_unref(v);
		v = NULL;
	}
	int64_t now = creds_now_s(p);
	if (err == HK_OK && v && v->expiration && v->expiration <= now + EXPIRY_MARGIN_S) {
		snprintf(errtext, sizeof(errtext), "%s: credentials already expired", v->source);
		creds_unref(v);
		v = NULL;
		err = HK_ERR_AUTH;
	}
	p->fetch = NULL;
	fetch_free(f);
	if (err == HK_OK) {
		creds_unref(p->cached);
		p->cached = v;
		if (v->expiration) {
			int64_t at = v->expiration - REFRESH_BEFORE_S -
				     (int64_t)(rand32(p) % REFRESH_JITTER_S);
			int64_t floor = now + STALE_RETRY_S;
			if (floor > v->expiration - EXPIRY_MARGIN_S)
				floor = v->expiration - EXPIRY_MARGIN_S;
			p->refresh_at = at > floor ? at : floor;
		} else {
			p->refresh_at = INT64_MAX;
		}
		release_waiters(p, HK_OK, v, NULL);
		return;
	}
	if (p->cached &&
	    (p->cached->expiration == 0 || p->cached->expiration > now + EXPIRY_MARGIN_S)) {
		/* Static stability: AWS still accepts the old ones. */
		p->refresh_at = now + STALE_RETRY_S;
		release_waiters(p, HK_OK, p->cached, NULL);
		return;
	}
	release_waiters(p, err, NULL, errtext[0] ? errtext : hk_err_str(err));
}

static void chain_next(struct fetch *f);

/* ---- 1. environment ------------------------------------------------------ */

static enum stage_rc stage_env(struct fetch *f)
{
	creds_provider *p = f->p;
	const char *akid = creds_env_get(p, "AWS_ACCESS_KEY_ID");
	const char *secret = creds_env_get(p, "AWS_SECRET_ACCESS_KEY");
	if (!akid && !secret)
		return STAGE_SKIP;
	if (!akid || !secret) {
		creds_fetch_finish(
		    f, HK_ERR_NO_CREDENTIALS, NULL,
		    "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be "
		    "set");
		return STAGE_PENDING;
	}
	creds_value *v =
	    creds_make(akid, secret, creds_env_get(p, "AWS_SESSION_TOKEN"), 0, "environment");
	creds_fetch_finish(f, v ? HK_OK : HK_ERR_NOMEM, v, "environment: out of memory");
	return STAGE_PENDING;
}

/* ---- helpers for HTTP-backed stages ------------------------------------- */

/* Map a non-2xx answer or a transport failure to an error and a text. */
hk_err creds_http_failure(const httpc_response *r, char *buf, size_t len)
{
	if (r->err != HK_OK) {
		snprintf(buf, len, "%s", r->errtext);
		return r->err == HK_ERR_TOO_LARGE ? HK_ERR_PARSE : r->err;
	}
	awsxml_error e = {0};
	if (awsxml_parse_error(r->body, r->body_len, &e, NULL) == HK_OK) {
		snprintf(buf, len, "HTTP %ld %s: %.200s", r->status, e.code,
			 e.message ? e.message : "");
		hk_err err = HK_ERR_AWS;
		if (r->status >= 500 || r->status == 429)
			err = HK_ERR_TRANSIENT;
		else if (r->status == 401 || r->status == 403)
			err = strstr(e.code, "AccessDenied") ? HK_ERR_DENIED : HK_ERR_AUTH;
		awsxml_error_cleanup(&e);
		return err;
	}
	snprintf(buf, len, "HTTP %ld", r->status);
	if (r->status >= 500 || r->status == 429)
		return HK_ERR_TRANSIENT;
	if (r->status == 401 || r->status == 403)
		return HK_ERR_AUTH;
	if (r->status == 404)
		return HK_ERR_NOT_FOUND;
	return HK_ERR_AWS;
}

/* Credentials from the container / IMDS JSON shape. Wipes nothing itself: the
 * response body is marked sensitive. */
hk_err creds_from_json(const char *body, size_t len, const char *token_key, const char *source,
		       creds_value **ret, char *errbuf, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(errbuf, errlen, "malformed JSON at offset %d", je.position);
		return HK_ERR_PARSE;
	}
	hk_err err = HK_ERR_PARSE;
	if (!json_is_object(j) || hk_json_tree_depth(j, HK_CAP_JSON_DEPTH) > HK_CAP_JSON_DEPTH) {
		snprintf(errbuf, errlen, "credentials JSON is not a flat object");
		goto out;
	}
	const char *code = json_string_value(json_object_get(j, "Code"));
	if (code && strcmp(code, "Success") != 0) {
		snprintf(errbuf, errlen, "credentials Code is %.64s", code);
		err = HK_ERR_AUTH;
		goto out;
	}
	const char *akid = json_string_value(json_object_get(j, "AccessKeyId"));
	const char *secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	const char *token = json_string_value(json_object_get(j, token_key));
	const char *exp = json_string_value(json_object_get(j, "Expiration"));
	int64_t expiration = 0;
	if (!akid || !*akid || !secret || !*secret) {
		snprintf(errbuf, errlen, "credentials JSON lacks AccessKeyId/SecretAccessKey");
		goto out;
	}
	if (exp && creds_parse_time(exp, &expiration) != HK_OK) {
		snprintf(errbuf, errlen, "bad Expiration %.40s", exp);
		goto out;
	}
	creds_value *v = creds_make(akid, secret, token, expiration, source);
	if (!v) {
		snprintf(errbuf, errlen, "out of memory");
		err = HK_ERR_NOMEM;
		goto out;
	}
	*ret = v;
	err = HK_OK;
out:;
	/* Wipe the secret strings jansson holds before releasing them. */
	const char *k;
	json_t *val;
	if (json_is_object(j)) {
		json_object_foreach(j, k, val)
		{
			if (json_is_string(val))
				OPENSSL_cleanse((void *)(uintptr_t)json_string_value(val),
						json_string_length(val));
		}
	}
	json_decref(j);
	return err;
}

/* ---- 4. shared files ---------------------------------------------------------- */

static const char *env_adapter(const char *name, void *arg)
{
	return creds_env_get(arg, name);
}

static enum stage_rc stage_files(struct fetch *f)
{
	creds_provider *p = f->p;
	char *paths[2] = {NULL, NULL};
	char *text[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	enum stage_rc rc = STAGE_PENDING;
	/* No HOME and no explicit paths: there are no shared files. */
	if (awsconf_credentials_path(env_adapter, p, &paths[0]) != HK_OK)
		paths[0] = NULL;
	if (awsconf_config_path(env_adapter, p, &paths[1]) != HK_OK)
		paths[1] = NULL;
	for (int i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		hk_err err = hk_file_read(paths[i], HK_CAP_CREDS_FILE, &text[i], &len[i], NULL);
		if (err == HK_ERR_NOT_FOUND)
			continue;
		if (err != HK_OK) {
			creds_fetch_finish(f, err, NULL, "shared files: cannot read %.200s: %s",
					   paths[i], hk_err_str(err));
			goto out;
		}
	}
	if (!text[0] && !text[1]) {
		rc = STAGE_SKIP;
		goto out;
	}
	const char *profile = awsconf_profile(env_adapter, p);
	awsconf_creds c = {0};
	hk_errinfo ei = {0};
	hk_err err = awsconf_shared_creds(text[0], len[0], text[1], len[1], profile, &c, &ei);
	if (err == HK_ERR_NOT_FOUND) {
		rc = STAGE_SKIP;
		goto out;
	}
	if (err != HK_OK) {
		creds_fetch_finish(f, err, NULL, "shared files (profile %.64s): %s", profile,
				   ei.text);
		goto out;
	}
	creds_value *v =
	    creds_make(c.access_key_id, c.secret_access_key, c.session_token, 0, "shared-files");
	awsconf_creds_cleanup(&c);
	creds_fetch_finish(f, v ? HK_OK : HK_ERR_NOMEM, v, "shared files: out of memory");
out:
	for (int i = 0; i < 2; i++) {
		if (text[i])
			OPENSSL_cleanse(text[i], len[i]);
		free(text[i]);
		free(paths[i]);
	}
	return rc;
}

/* ---- the chain ------------------------------------------------------------------ */

/* The providers in the order the chain asks them (as the AWS SDKs do). */
static enum stage_rc (*const chain_stages[])(struct fetch *f) = {
    [ST_ENV] = stage_env,
    [ST_WEB_IDENTITY] = creds_stage_web_identity,
    [ST_CONTAINER] = creds_stage_container,
    [ST_FILES] = stage_files,
    [ST_IMDS] = creds_stage_imds,
};
_Static_assert(HK_ARRAY_LEN(chain_stages) == ST_DONE, "one provider per stage before ST_DONE");

static void chain_next(struct fetch *f)
{
	for (;;) {
		enum stage st = f->stage++;
		if (st >= ST_DONE) {
			creds_fetch_finish(f, HK_ERR_NO_CREDENTIALS, NULL,
					   "no credentials: none in the environment, web identity, "
					   "container or shared files, and IMDS is disabled");
			return;
		}
		if (chain_stages[st](f) == STAGE_PENDING)
			return;
	}
}

static hk_err fetch_start(creds_provider *p)
{
	struct fetch *f = calloc(1, sizeof(*f));
	if (!f)
		return HK_ERR_NOMEM;
	f->p = p;
	p->fetch = f;
	p->n_fetches++;
	if (p->static_creds) {
		creds_fetch_finish(f, HK_OK, creds_ref(p->static_creds), NULL);
		return HK_OK;
	}
	chain_next(f);
	return HK_OK;
}

/* ---- public ------------------------------------------------------------------- */

hk_err creds_provider_new(struct event_base *base, httpc *http, const creds_config *cfg,
			  creds_provider **ret)
{
	creds_provider *p = calloc(1, sizeof(*p));
	if (!p)
		return HK_ERR_NOMEM;
	p->base = base;
	p->http = http;
	if (cfg)
		p->cfg = *cfg;
	p->cfg.sts_endpoint = NULL;
	p->cfg.static_access_key_id = p->cfg.static_secret_access_key = NULL;
	p->cfg.static_session_token = NULL;
	if (p->cfg.timeout_ms <= 0)
		p->cfg.timeout_ms = 5000;
	p->waiting_tail = &p->waiting;
	p->ready_tail = &p->ready;
	p->sts_endpoint =
	    strdup(cfg && cfg->sts_endpoint ? cfg->sts_endpoint : STS_DEFAULT_ENDPOINT);
	p->deliver_ev = evtimer_new(base, deliver_cb, p);
	if (cfg && cfg->static_access_key_id) {
		p->static_creds =
		    creds_make(cfg->static_access_key_id, cfg->static_secret_access_key,
			       cfg->static_session_token, 0, "static");
		if (!p->static_creds) {
			creds_provider_free(p);
			return HK_ERR_NOMEM;
		}
	}
	if (!p->sts_endpoint || !p->deliver_ev) {
		creds_provider_free(p);
		return HK_ERR_NOMEM;
	}
	*ret = p;
	return HK_OK;
}

void creds_provider_free(creds_provider *p)
{
	if (!p)
		return;
	fetch_free(p->fetch);
	p->fetch = NULL;
	creds_region_free(p->region);
	for (struct waiter *w = p->waiting, *n; w; w = n) {
		n = w->next;
		waiter_free(w);
	}
	for (struct waiter *w = p->ready, *n; w; w = n) {
		n = w->next;
		waiter_free(w);
	}
	if (p->deliver_ev)
		event_free(p->deliver_ev);
	creds_unref(p->cached);
	creds_unref(p->static_creds);
	free(p->sts_endpoint);
	free(p);
}

hk_err creds_get(creds_provider *p, creds_done_fn done, void *arg)
{
	if (p->n_waiters >= HK_CAP_CREDS_WAITERS)
		return HK_ERR_FULL;
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return HK_ERR_NOMEM;
	w->done = done;
	w->arg = arg;
	p->n_waiters++;
	int64_t now = creds_now_s(p);
	bool usable = p->cached &&
		      (p->cached->expiration == 0 || p->cached->expiration > now + EXPIRY_MARGIN_S);
	if (usable) {
		w->creds = creds_ref(p->cached);
		*p->ready_tail = w;
		p->ready_tail = &w->next;
		schedule_delivery(p);
		/* Due for refresh but still valid: refresh in the background,
		 * nobody waits for it. */
		if (now >= p->refresh_at && !p->fetch && fetch_start(p) != HK_OK)
			p->refresh_at = now + STALE_RETRY_S;
		return HK_OK;
	}
	*p->waiting_tail = w;
	p->waiting_tail = &w->next;
	if (!p->fetch) {
		hk_err err = fetch_start(p);
		if (err != HK_OK) {
			/* Undo: w is the only waiter (no fetch was running). */
			p->waiting = NULL;
			p->waiting_tail = &p->waiting;
			p->n_waiters--;
			free(w);
			return err;
		}
	}
	return HK_OK;
}

void creds_invalidate(creds_provider *p)
{
	creds_unref(p->cached);
	p->cached = NULL;
	p->refresh_at = 0;
}

unsigned creds_fetch_count(const creds_provider *p)
{
	return p->n_fetches;
}

static hk_err src_get(void *impl, creds_done_fn done, void *arg)
{
	return creds_get(impl, done, arg);
}

static void src_invalidate(void *impl)
{
	creds_invalidate(impl);
}

static hk_err src_imds_region(void *impl, creds_region_fn done, void *arg)
{
	return creds_imds_region(impl, done, arg);
}

static void src_free(void *impl)
{
	creds_provider_free(impl);
}

hk_err creds_source_chain(struct event_base *base, struct httpc *http, const creds_config *cfg,
			  creds_source *ret)
{
	creds_provider *p = NULL;
	hk_err err = creds_provider_new(base, http, cfg, &p);
	if (err)
		return err;
	*ret = (creds_source){.impl = p,
			      .get = src_get,
			      .invalidate = src_invalidate,
			      .imds_region = src_imds_region,
			      .free = src_free};
	return HK_OK;
}
