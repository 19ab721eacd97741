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
#include "query.h"

#define REFRESH_BEFORE_S     300 /* refresh this long before expiry ... */
#define REFRESH_JITTER_S     60	 /* ... plus up to this much */
#define EXPIRY_MARGIN_S	     10	 /* never hand out credentials closer to expiry */
#define STALE_RETRY_S	     60	 /* after a failed refresh, keep the old ones this long */
#define IMDS_CONNECT_MS	     1000L
#define IMDS_TIMEOUT_MS	     2000L
#define IMDS_TOKEN_TTL	     "21600"
#define IMDS_DEFAULT	     "http://169.254.169.254"
#define IMDS_DEFAULT_V6	     "http://[fd00:ec2::254]"
#define CONTAINER_RELATIVE   "http://169.254.170.2"
#define STS_DEFAULT_ENDPOINT "https://sts.amazonaws.com"
#define STS_VERSION	     "2011-06-15"

enum stage { ST_ENV = 0, ST_WEB_IDENTITY, ST_CONTAINER, ST_FILES, ST_IMDS, ST_DONE };

/* What a stage did. */
enum stage_rc {
	STAGE_SKIP,   /* not configured: try the next provider */
	STAGE_PENDING /* started an HTTP request, or finished the fetch */
};

enum imds_step { IMDS_TOKEN, IMDS_ROLE, IMDS_CREDS, IMDS_REGION };

struct waiter {
	creds_done_fn done;
	void *arg;
	hk_err err;
	creds_value *creds; /* a reference, on success */
	char *errtext;
	struct waiter *next;
};

struct fetch {
	creds_provider *p;
	enum stage stage;
	enum imds_step imds;
	httpc_xfer *xfer;
	char *imds_token;
	char *role;
};

struct region_req {
	creds_provider *p;
	enum imds_step imds;
	httpc_xfer *xfer;
	char *imds_token;
	creds_region_fn done;
	void *arg;
	hk_err err;
	char *region;
	char errtext[256];
	struct event *ev;
};

struct creds_provider {
	struct event_base *base;
	httpc *http;
	creds_config cfg; /* strings below are our copies */
	char *sts_endpoint;
	creds_value *static_creds;
	creds_value *cached;
	int64_t refresh_at;
	struct fetch *fetch;
	struct waiter *waiting, **waiting_tail; /* on the fetch */
	struct waiter *ready, **ready_tail;	/* results to deliver */
	size_t n_waiters;
	struct event *deliver_ev;
	unsigned n_fetches;
	struct region_req *region;
};

/* ---- small helpers ------------------------------------------------------ */

static const char *env_get(const creds_provider *p, const char *name)
{
	const char *v = p->cfg.env ? p->cfg.env(name, p->cfg.env_arg) : getenv(name);
	return v && *v ? v : NULL;
}

static int64_t now_s(const creds_provider *p)
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

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

creds_value *creds_ref(creds_value *v)
{
	if (v)
		v->refs++;
	return v;
}

void creds_unref(creds_value *v)
{
	if (!v || --v->refs > 0)
		return;
	wipe_free(v->access_key_id);
	wipe_free(v->secret_access_key);
	wipe_free(v->session_token);
	OPENSSL_cleanse(v, sizeof(*v));
	free(v);
}

/* A new value with one reference, or NULL (ENOMEM / missing key). */
static creds_value *creds_make(const char *akid, const char *secret, const char *token,
			       int64_t expiration, const char *source)
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

/* Read a whole local file (capped). Synchronous by design: local disk. */
static hk_err read_file(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return HK_ERR_IO;
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return HK_ERR_TOO_LARGE;
	}
	size_t want = (size_t)st.st_size;
	char *buf = malloc(want + 1);
	if (!buf) {
		close(fd);
		return HK_ERR_NOMEM;
	}
	size_t len = 0;
	while (len < want) {
		ssize_t n = read(fd, buf + len, want - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return HK_OK;
}

static void trim_right(char *s)
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

/* Nesting of a JSON value, bounded: stops counting at limit + 1. */
static unsigned json_depth(const json_t *j, unsigned limit)
{
	if (limit == 0)
		return 1;
	unsigned max = 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
		{
			unsigned d = json_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			unsigned d = json_depth(v, limit - 1);
			if (d > max)
				max = d;
		}
		return max + 1;
	}
	return 1;
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
	wipe_free(f->imds_token);
	free(f->role);
	free(f);
}

/* End the fetch: cache on success, fall back to still-valid cached
 * credentials on failure, wake every waiter. Takes `v` (may be NULL). */
static void fetch_finish(struct fetch *f, hk_err err, creds_value *v, const char *fmt, ...)
    HK_PRINTF(4, 5);
static void fetch_finish(struct fetch *f, hk_err err, creds_value *v, const char *fmt, ...)
{
	creds_provider *p = f->p;
	char errtext[512] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errtext, sizeof(errtext), fmt, ap);
		va_end(ap);
	}
	int64_t now = now_s(p);
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
	const char *akid = env_get(p, "AWS_ACCESS_KEY_ID");
	const char *secret = env_get(p, "AWS_SECRET_ACCESS_KEY");
	if (!akid && !secret)
		return STAGE_SKIP;
	if (!akid || !secret) {
		fetch_finish(
		    f, HK_ERR_NO_CREDENTIALS, NULL,
		    "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be "
		    "set");
		return STAGE_PENDING;
	}
	creds_value *v =
	    creds_make(akid, secret, env_get(p, "AWS_SESSION_TOKEN"), 0, "environment");
	if (!v)
		fetch_finish(f, HK_ERR_NOMEM, NULL, "environment: out of memory");
	else
		fetch_finish(f, HK_OK, v, NULL);
	return STAGE_PENDING;
}

/* ---- helpers for HTTP-backed stages ------------------------------------- */

/* Map a non-2xx answer or a transport failure to an error and a text. */
static hk_err http_failure(const httpc_response *r, char *buf, size_t len)
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
	if (!json_is_object(j) || json_depth(j, HK_CAP_JSON_DEPTH) > HK_CAP_JSON_DEPTH) {
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

/* ---- 2. web identity ------------------------------------------------------ */

static void wipe_xml_text(xmlNode *el)
{
	for (xmlNode *c = el ? el->children : NULL; c; c = c->next)
		if (c->type == XML_TEXT_NODE && c->content &&
		    !(c->doc && c->doc->dict && xmlDictOwns(c->doc->dict, c->content)))
			OPENSSL_cleanse(c->content, strlen((const char *)c->content));
}

hk_err creds_from_sts_xml(const char *body, size_t len, creds_value **ret, char *errbuf,
			  size_t errlen)
{
	xmlDocPtr doc = NULL;
	hk_errinfo ei = {0};
	if (awsxml_parse(body, len, &doc, &ei) != HK_OK) {
		snprintf(errbuf, errlen, "%s", ei.text);
		return HK_ERR_PARSE;
	}
	/* The one AssumeRoleWithWebIdentity reader (sts.c), shared with the typed call. */
	sts_credentials_out *out = NULL;
	hk_err err = sts_read_assume_role_web_identity(doc, &out, &ei);
	xmlNode *c =
	    awsxml_path(awsxml_root(doc), "AssumeRoleWithWebIdentityResult", "Credentials", NULL);
	wipe_xml_text(awsxml_child(c, "SecretAccessKey"));
	wipe_xml_text(awsxml_child(c, "SessionToken"));
	xmlFreeDoc(doc);
	if (err != HK_OK) {
		snprintf(errbuf, errlen, "%s", ei.text);
		return err == HK_ERR_NOMEM ? err : HK_ERR_PARSE;
	}
	int64_t expiration = 0;
	creds_value *v = NULL;
	err = creds_parse_time(out->expiration, &expiration);
	if (err != HK_OK)
		snprintf(errbuf, errlen, "bad Expiration");
	else if (!(v = creds_make(out->access_key_id, out->secret_access_key, out->session_token,
				  expiration, "web-identity"))) {
		snprintf(errbuf, errlen, "out of memory");
		err = HK_ERR_NOMEM;
	}
	awscalls_free(out); /* wiped: the result is marked sensitive */
	if (err != HK_OK)
		return err == HK_ERR_NOMEM ? err : HK_ERR_PARSE;
	*ret = v;
	return HK_OK;
}

static void web_identity_done(const httpc_response *r, void *arg)
{
	struct fetch *f = arg;
	f->xfer = NULL;
	char why[300];
	if (r->err != HK_OK || r->status < 200 || r->status > 299) {
		hk_err err = http_failure(r, why, sizeof(why));
		fetch_finish(f, err, NULL, "web identity: STS AssumeRoleWithWebIdentity: %s", why);
		return;
	}
	creds_value *v = NULL;
	hk_err err = creds_from_sts_xml(r->body, r->body_len, &v, why, sizeof(why));
	if (err != HK_OK)
		fetch_finish(f, err, NULL, "web identity: STS answer: %s", why);
	else
		fetch_finish(f, HK_OK, v, NULL);
}

static enum stage_rc stage_web_identity(struct fetch *f)
{
	creds_provider *p = f->p;
	const char *role = env_get(p, "AWS_ROLE_ARN");
	const char *token_file = env_get(p, "AWS_WEB_IDENTITY_TOKEN_FILE");
	if (!role || !token_file)
		return STAGE_SKIP;
	char *token = NULL;
	size_t token_len = 0;
	hk_err err = read_file(token_file, HK_CAP_CREDS_FILE, &token, &token_len);
	if (err != HK_OK) {
		fetch_finish(f, err == HK_ERR_NOT_FOUND ? HK_ERR_IO : err, NULL,
			     "web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE %.200s: %s",
			     token_file, hk_err_str(err));
		return STAGE_PENDING;
	}
	trim_right(token);
	char session[64];
	const char *sess = env_get(p, "AWS_ROLE_SESSION_NAME");
	if (!sess) {
		snprintf(session, sizeof(session), "multus-hookd-%lld", (long long)now_s(p));
		sess = session;
	}
	/* The typed call's own builder (sts_msgs.c); sent unsigned on the
	 * provider's HTTP client, since the chain runs below the signing client. */
	char *body = NULL;
	size_t body_len = 0;
	sts_assume_role_web_identity_req sreq = {
	    .role_arn = role, .session_name = sess, .web_identity_token = token};
	cq_params *cp = NULL;
	query_params *q = NULL;
	err = sts_build_assume_role_web_identity(&sreq, &cp, NULL);
	if (err == HK_OK)
		err = cq_params_to_query(cp, NULL, &q);
	if (err == HK_OK)
		err = query_encode(q, &body, &body_len);
	cq_params_free(cp);
	query_params_free(q);
	OPENSSL_cleanse(token, token_len);
	free(token);
	if (err != HK_OK) {
		fetch_finish(f, err, NULL, "web identity: cannot build the STS request: %s",
			     hk_err_str(err));
		return STAGE_PENDING;
	}
	/* Unsigned: the web identity token is the credential. */
	httpc_header hdrs[] = {
	    {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
	    {"Accept", "text/xml"},
	};
	httpc_request req = {
	    .method = "POST",
	    .url = p->sts_endpoint,
	    .headers = hdrs,
	    .n_headers = HK_ARRAY_LEN(hdrs),
	    .body = body,
	    .body_len = body_len,
	    .timeout_ms = p->cfg.timeout_ms,
	    .max_body = HK_CAP_CREDS_BODY,
	    .sensitive = true,
	};
	err = httpc_send(p->http, &req, web_identity_done, f, &f->xfer);
	OPENSSL_cleanse(body, body_len);
	free(body);
	if (err != HK_OK)
		fetch_finish(f, err, NULL, "web identity: cannot send to %.200s: %s",
			     p->sts_endpoint, hk_err_str(err));
	return STAGE_PENDING;
}

/* ---- 3. container ----------------------------------------------------------- */

static void container_done(const httpc_response *r, void *arg)
{
	struct fetch *f = arg;
	f->xfer = NULL;
	char why[300];
	if (r->err != HK_OK || r->status < 200 || r->status > 299) {
		hk_err err = http_failure(r, why, sizeof(why));
		fetch_finish(f, err, NULL, "container credentials endpoint: %s", why);
		return;
	}
	creds_value *v = NULL;
	hk_err err =
	    creds_from_json(r->body, r->body_len, "Token", "container", &v, why, sizeof(why));
	if (err != HK_OK)
		fetch_finish(f, err, NULL, "container credentials: %s", why);
	else
		fetch_finish(f, HK_OK, v, NULL);
}

static enum stage_rc stage_container(struct fetch *f)
{
	creds_provider *p = f->p;
	const char *rel = env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (!rel && !full)
		return STAGE_SKIP;
	char url[2048];
	if (rel) {
		int n = snprintf(url, sizeof(url), "%s%s%s", CONTAINER_RELATIVE,
				 rel[0] == '/' ? "" : "/", rel);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			fetch_finish(f, HK_ERR_INVALID, NULL,
				     "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI too long");
			return STAGE_PENDING;
		}
	} else {
		if (!creds_container_uri_allowed(full)) {
			fetch_finish(f, HK_ERR_INVALID, NULL,
				     "container: AWS_CONTAINER_CREDENTIALS_FULL_URI %.200s must be "
				     "https or http to loopback, 169.254.170.2 or 169.254.170.23",
				     full);
			return STAGE_PENDING;
		}
		int n = snprintf(url, sizeof(url), "%s", full);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			fetch_finish(f, HK_ERR_INVALID, NULL,
				     "container: AWS_CONTAINER_CREDENTIALS_FULL_URI too long");
			return STAGE_PENDING;
		}
	}
	char *token = NULL;
	const char *token_file = env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (token_file) {
		size_t len = 0;
		hk_err err = read_file(token_file, HK_CAP_CREDS_FILE, &token, &len);
		if (err != HK_OK) {
			fetch_finish(
			    f, err == HK_ERR_NOT_FOUND ? HK_ERR_IO : err, NULL,
			    "container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
			    "%.200s: %s",
			    token_file, hk_err_str(err));
			return STAGE_PENDING;
		}
		trim_right(token);
	} else if (env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		token = strdup(env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN"));
		if (!token) {
			fetch_finish(f, HK_ERR_NOMEM, NULL, "container: out of memory");
			return STAGE_PENDING;
		}
	}
	if (token && strpbrk(token, "\r\n")) {
		wipe_free(token);
		fetch_finish(f, HK_ERR_INVALID, NULL,
			     "container: the authorization token contains a line break");
		return STAGE_PENDING;
	}
	httpc_header hdrs[] = {{"Authorization", token ? token : ""},
			       {"Accept", "application/json"}};
	httpc_request req = {
	    .method = "GET",
	    .url = url,
	    .headers = token ? hdrs : hdrs + 1,
	    .n_headers = token ? 2 : 1,
	    .timeout_ms = p->cfg.timeout_ms,
	    .max_body = HK_CAP_CREDS_BODY,
	    .no_proxy = true,
	    .sensitive = true,
	};
	hk_err err = httpc_send(p->http, &req, container_done, f, &f->xfer);
	wipe_free(token);
	if (err != HK_OK)
		fetch_finish(f, err, NULL, "container: cannot send to %.200s: %s", url,
			     hk_err_str(err));
	return STAGE_PENDING;
}

/* ---- 4. shared files ---------------------------------------------------------- */

static const char *env_adapter(const char *name, void *arg)
{
	return env_get(arg, name);
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
		hk_err err = read_file(paths[i], HK_CAP_CREDS_FILE, &text[i], &len[i]);
		if (err == HK_ERR_NOT_FOUND)
			continue;
		if (err != HK_OK) {
			fetch_finish(f, err, NULL, "shared files: cannot read %.200s: %s", paths[i],
				     hk_err_str(err));
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
		fetch_finish(f, err, NULL, "shared files (profile %.64s): %s", profile, ei.text);
		goto out;
	}
	creds_value *v =
	    creds_make(c.access_key_id, c.secret_access_key, c.session_token, 0, "shared-files");
	awsconf_creds_cleanup(&c);
	if (!v)
		fetch_finish(f, HK_ERR_NOMEM, NULL, "shared files: out of memory");
	else
		fetch_finish(f, HK_OK, v, NULL);
out:
	for (int i = 0; i < 2; i++) {
		if (text[i])
			OPENSSL_cleanse(text[i], len[i]);
		free(text[i]);
		free(paths[i]);
	}
	return rc;
}

/* ---- 5. IMDSv2 -------------------------------------------------------------- */

static bool imds_disabled(const creds_provider *p)
{
	const char *d = env_get(p, "AWS_EC2_METADATA_DISABLED");
	return d && strcasecmp(d, "true") == 0;
}

static void imds_base(const creds_provider *p, char *buf, size_t len)
{
	const char *ep = env_get(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env_get(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!ep)
		ep = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
	snprintf(buf, len, "%s", ep);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '/')
		buf[--n] = '\0';
}

/* One IMDS request: PUT for the token step, GET with the token otherwise. */
static hk_err imds_send(creds_provider *p, enum imds_step step, const char *token, const char *role,
			httpc_done_fn done, void *arg, httpc_xfer **ret)
{
	char url[1400];
	char base[1024];
	imds_base(p, base, sizeof(base));
	const char *path = "/latest/api/token";
	if (step == IMDS_ROLE)
		path = "/latest/meta-data/iam/security-credentials/";
	else if (step == IMDS_REGION)
		path = "/latest/meta-data/placement/region";
	int n;
	if (step == IMDS_CREDS)
		n = snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s",
			     base, role);
	else
		n = snprintf(url, sizeof(url), "%s%s", base, path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return HK_ERR_INVALID;
	httpc_header h;
	if (step == IMDS_TOKEN)
		h = (httpc_header){"X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL};
	else
		h = (httpc_header){"X-aws-ec2-metadata-token", token};
	httpc_request req = {
	    .method = step == IMDS_TOKEN ? "PUT" : "GET",
	    .url = url,
	    .headers = &h,
	    .n_headers = 1,
	    .connect_timeout_ms = IMDS_CONNECT_MS,
	    .timeout_ms = IMDS_TIMEOUT_MS,
	    .max_body = HK_CAP_CREDS_BODY,
	    .no_proxy = true,
	    .sensitive = step == IMDS_TOKEN || step == IMDS_CREDS,
	};
	return httpc_send(p->http, &req, done, arg, ret);
}

static void imds_creds_done(const httpc_response *r, void *arg);

static void imds_fail(struct fetch *f, const httpc_response *r, const char *what)
{
	char why[300];
	hk_err err = http_failure(r, why, sizeof(why));
	/* IMDS is the last resort, tried without configuration: not being on
	 * EC2 means "no credentials". */
	if (err == HK_ERR_TRANSIENT || err == HK_ERR_TIMEOUT || err == HK_ERR_IO ||
	    err == HK_ERR_NOT_FOUND)
		err = HK_ERR_NO_CREDENTIALS;
	fetch_finish(f, err, NULL,
		     "no credentials: none in the environment, web identity, container or "
		     "shared files; IMDS %s: %s",
		     what, why);
}

static void imds_creds_done(const httpc_response *r, void *arg)
{
	struct fetch *f = arg;
	creds_provider *p = f->p;
	f->xfer = NULL;
	if (r->err != HK_OK || r->status != 200) {
		imds_fail(f, r,
			  f->imds == IMDS_TOKEN	 ? "token"
			  : f->imds == IMDS_ROLE ? "role name"
						 : "role credentials");
		return;
	}
	hk_err err = HK_OK;
	char why[300];
	switch (f->imds) {
	case IMDS_TOKEN:
		f->imds_token = strndup(r->body, r->body_len);
		if (!f->imds_token)
			goto nomem;
		trim_right(f->imds_token);
		f->imds = IMDS_ROLE;
		err = imds_send(p, IMDS_ROLE, f->imds_token, NULL, imds_creds_done, f, &f->xfer);
		break;
	case IMDS_ROLE: {
		size_t n = strcspn(r->body, "\r\n");
		f->role = strndup(r->body, n);
		if (!f->role)
			goto nomem;
		trim_right(f->role);
		if (!*f->role || strpbrk(f->role, "/?#% ")) {
			fetch_finish(f, HK_ERR_NO_CREDENTIALS, NULL,
				     "no credentials: IMDS has no usable instance role");
			return;
		}
		f->imds = IMDS_CREDS;
		err =
		    imds_send(p, IMDS_CREDS, f->imds_token, f->role, imds_creds_done, f, &f->xfer);
		break;
	}
	case IMDS_CREDS:
	default: {
		creds_value *v = NULL;
		err = creds_from_json(r->body, r->body_len, "Token", "imds", &v, why, sizeof(why));
		if (err != HK_OK)
			fetch_finish(f, err, NULL, "IMDS role credentials: %s", why);
		else
			fetch_finish(f, HK_OK, v, NULL);
		return;
	}
	}
	if (err != HK_OK)
		fetch_finish(f, err, NULL, "IMDS: cannot send: %s", hk_err_str(err));
	return;
nomem:
	fetch_finish(f, HK_ERR_NOMEM, NULL, "IMDS: out of memory");
}

static enum stage_rc stage_imds(struct fetch *f)
{
	creds_provider *p = f->p;
	if (imds_disabled(p))
		return STAGE_SKIP;
	f->imds = IMDS_TOKEN;
	hk_err err = imds_send(p, IMDS_TOKEN, NULL, NULL, imds_creds_done, f, &f->xfer);
	if (err != HK_OK)
		fetch_finish(f, err == HK_ERR_INVALID ? HK_ERR_INVALID : err, NULL,
			     "IMDS: cannot send: %s", hk_err_str(err));
	return STAGE_PENDING;
}

/* ---- the chain ------------------------------------------------------------------ */

static void chain_next(struct fetch *f)
{
	for (;;) {
		enum stage st = f->stage++;
		enum stage_rc rc;
		switch (st) {
		case ST_ENV:
			rc = stage_env(f);
			break;
		case ST_WEB_IDENTITY:
			rc = stage_web_identity(f);
			break;
		case ST_CONTAINER:
			rc = stage_container(f);
			break;
		case ST_FILES:
			rc = stage_files(f);
			break;
		case ST_IMDS:
			rc = stage_imds(f);
			break;
		case ST_DONE:
		default:
			fetch_finish(f, HK_ERR_NO_CREDENTIALS, NULL,
				     "no credentials: none in the environment, web identity, "
				     "container or shared files, and IMDS is disabled");
			return;
		}
		if (rc == STAGE_PENDING)
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
		fetch_finish(f, HK_OK, creds_ref(p->static_creds), NULL);
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

static void region_free(struct region_req *r);

void creds_provider_free(creds_provider *p)
{
	if (!p)
		return;
	fetch_free(p->fetch);
	p->fetch = NULL;
	region_free(p->region);
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
	int64_t now = now_s(p);
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

/* ---- region from IMDS ------------------------------------------------------------ */

static void region_free(struct region_req *r)
{
	if (!r)
		return;
	httpc_cancel(r->xfer);
	wipe_free(r->imds_token);
	free(r->region);
	if (r->ev)
		event_free(r->ev);
	free(r);
}

static void region_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct region_req *r = arg;
	creds_provider *p = r->p;
	p->region = NULL;
	r->done(r->err, r->err == HK_OK ? r->region : NULL, r->errtext, r->arg);
	region_free(r);
}

static void region_finish(struct region_req *r, hk_err err, const char *why)
{
	static const struct timeval zero = {0, 0};
	r->err = err;
	if (why)
		snprintf(r->errtext, sizeof(r->errtext), "IMDS region: %s", why);
	evtimer_add(r->ev, &zero);
}

static void region_http_done(const httpc_response *resp, void *arg)
{
	struct region_req *r = arg;
	r->xfer = NULL;
	char why[300];
	if (resp->err != HK_OK || resp->status != 200) {
		hk_err err = http_failure(resp, why, sizeof(why));
		region_finish(r, err, why);
		return;
	}
	if (r->imds == IMDS_TOKEN) {
		r->imds_token = strndup(resp->body, resp->body_len);
		if (!r->imds_token) {
			region_finish(r, HK_ERR_NOMEM, "out of memory");
			return;
		}
		trim_right(r->imds_token);
		r->imds = IMDS_REGION;
		hk_err err = imds_send(r->p, IMDS_REGION, r->imds_token, NULL, region_http_done, r,
				       &r->xfer);
		if (err != HK_OK)
			region_finish(r, err, hk_err_str(err));
		return;
	}
	r->region = strndup(resp->body, resp->body_len);
	if (!r->region) {
		region_finish(r, HK_ERR_NOMEM, "out of memory");
		return;
	}
	trim_right(r->region);
	bool ok = *r->region != '\0' && strlen(r->region) < 64;
	for (const char *c = r->region; ok && *c; c++)
		ok = isalnum((unsigned char)*c) || *c == '-';
	if (!ok) {
		region_finish(r, HK_ERR_PARSE, "not a region name");
		return;
	}
	region_finish(r, HK_OK, NULL);
}

hk_err creds_imds_region(creds_provider *p, creds_region_fn done, void *arg)
{
	if (imds_disabled(p))
		return HK_ERR_STATE;
	if (p->region)
		return HK_ERR_EXISTS;
	struct region_req *r = calloc(1, sizeof(*r));
	if (!r)
		return HK_ERR_NOMEM;
	r->p = p;
	r->done = done;
	r->arg = arg;
	r->imds = IMDS_TOKEN;
	r->ev = evtimer_new(p->base, region_deliver_cb, r);
	if (!r->ev) {
		free(r);
		return HK_ERR_NOMEM;
	}
	hk_err err = imds_send(p, IMDS_TOKEN, NULL, NULL, region_http_done, r, &r->xfer);
	if (err != HK_OK) {
		region_free(r);
		return err;
	}
	p->region = r;
	return HK_OK;
}
