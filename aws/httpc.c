/* Asynchronous HTTP on curl multi + libevent. The wiring follows curl's
 * docs/examples/multi-event.c: curl tells us which sockets to watch
 * (socket_cb) and when to wake it (timer_cb); libevent calls back into
 * curl_multi_socket_action(), after which every finished transfer is drained
 * from curl_multi_info_read(). */
#include "httpc.h"
#include "hk_list.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "hk_caps.h"

#define HTTPC_DEFAULT_CONNECT_MS 3000L
#define HTTPC_DEFAULT_TIMEOUT_MS 20000L

struct httpc_sock {
	struct event *ev;
	curl_socket_t fd;
	httpc *h;
	hk_list link; /* on httpc.socks */
};

struct httpc_xfer {
	httpc *h;
	CURL *easy;
	struct curl_slist *req_headers;
	struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO list, or NULL */
	char *req_body;		       /* ours, wiped on release: may carry tokens */
	size_t req_body_len;
	bool sensitive;
	httpc_done_fn done;
	void *arg;
	char *body;
	size_t body_len, body_cap, max_body;
	bool too_large;
	httpc_header *headers; /* owned name/value strings */
	size_t n_headers;
	char errbuf[CURL_ERROR_SIZE];
	hk_list link; /* on httpc.xfers */
};

struct httpc {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	hk_list xfers;	/* httpc_xfer.link */
	hk_list socks;	/* httpc_sock.link */
	unsigned depth; /* > 0 while dispatching callbacks */
	bool dead;	/* httpc_free() called during dispatch */
};

/* Request headers carry Authorization and tokens: wipe before freeing. */
static void wipe_slist(struct curl_slist *l)
{
	for (; l; l = l->next)
		if (l->data)
			OPENSSL_cleanse(l->data, strlen(l->data));
}

static void xfer_free_headers(struct httpc_xfer *x)
{
	for (size_t i = 0; i < x->n_headers; i++) {
		free((char *)(uintptr_t)x->headers[i].name);
		free((char *)(uintptr_t)x->headers[i].value);
	}
	free(x->headers);
	x->headers = NULL;
	x->n_headers = 0;
}

static void xfer_unlink(struct httpc_xfer *x)
{
	hk_list_del(&x->link);
}

/* Detach from curl and the client's list, release everything. */
static void xfer_destroy(struct httpc_xfer *x)
{
	httpc *h = x->h;
	xfer_unlink(x);
	if (x->easy) {
		curl_multi_remove_handle(h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	wipe_slist(x->req_headers);
	curl_slist_free_all(x->req_headers);
	curl_slist_free_all(x->connect_to);
	xfer_free_headers(x);
	if (x->body && x->sensitive)
		OPENSSL_cleanse(x->body, x->body_cap);
	free(x->body);
	if (x->req_body)
		OPENSSL_cleanse(x->req_body, x->req_body_len);
	free(x->req_body);
	free(x);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct httpc_xfer *x = userp;
	size_t n = size * nmemb;
	if (n > x->max_body - x->body_len) {
		x->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (x->body_len + n + 1 > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 4096;
		while (cap < x->body_len + n + 1)
			cap *= 2;
		if (cap > x->max_body + 1)
			cap = x->max_body + 1;
		char *nb = malloc(cap);
		if (!nb)
			return 0;
		if (x->body) {
			memcpy(nb, x->body, x->body_len);
			if (x->sensitive)
				OPENSSL_cleanse(x->body, x->body_cap);
			free(x->body);
		}
		x->body = nb;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, ptr, n);
	x->body_len += n;
	x->body[x->body_len] = '\0';
	return n;
}

static char *dup_trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	char *r = malloc(len + 1);
	if (r) {
		memcpy(r, s, len);
		r[len] = '\0';
	}
	return r;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct httpc_xfer *x = userp;
	size_t n = size * nitems;
	/* A new status line starts a new response (100 Continue, proxies): keep
	 * only the final response's headers. */
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		xfer_free_headers(x);
		return n;
	}
	if (n > HK_CAP_AWS_HEADER_LINE || x->n_headers >= HK_CAP_AWS_RESPONSE_HEADERS)
		return n; /* dropped: capped */
	const char *colon = memchr(buf, ':', n);
	if (!colon || colon == buf)
		return n;
	if (!x->headers) {
		x->headers = calloc(HK_CAP_AWS_RESPONSE_HEADERS, sizeof(*x->headers));
		if (!x->headers)
			return 0;
	}
	char *name = dup_trimmed(buf, (size_t)(colon - buf));
	char *value = dup_trimmed(colon + 1, n - (size_t)(colon - buf) - 1);
	if (!name || !value) {
		free(name);
		free(value);
		return 0;
	}
	x->headers[x->n_headers].name = name;
	x->headers[x->n_headers].value = value;
	x->n_headers++;
	return n;
}

static hk_err map_curl(CURLcode rc, const struct httpc_xfer *x)
{
	switch (rc) {
	case CURLE_OK:
		return HK_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HK_ERR_TIMEOUT;
	case CURLE_OUT_OF_MEMORY:
		return HK_ERR_NOMEM;
	case CURLE_FILESIZE_EXCEEDED: /* Content-Length over the cap */
		return HK_ERR_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		return x->too_large ? HK_ERR_TOO_LARGE : HK_ERR_NOMEM;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return HK_ERR_TRANSIENT;
	default:
		/* TLS verification failures, unsupported protocol, bad URL: a
		 * retry would meet the same answer. */
		return HK_ERR_IO;
	}
}

static void check_multi_info(httpc *h)
{
	CURLMsg *msg;
	int left;
	h->depth++;
	while (!h->dead && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct httpc_xfer *x = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		httpc_response resp = {0};
		resp.err = map_curl(rc, x);
		long status = 0;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		resp.status = status;
		resp.body = x->body ? x->body : "";
		resp.body_len = x->body_len;
		resp.headers = x->headers;
		resp.n_headers = x->n_headers;
		if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
		    rc == CURLE_COULDNT_CONNECT) {
			resp.not_sent = true;
		} else if (rc == CURLE_OPERATION_TIMEDOUT) {
			curl_off_t connect_us = 0;
			curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
			resp.not_sent = connect_us == 0;
		}
		if (resp.err == HK_ERR_TOO_LARGE)
			resp.errtext = "response body exceeds its cap";
		else if (resp.err != HK_OK)
			resp.errtext = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
		else
			resp.errtext = "";
		/* Unhook from curl and the list before the callback: it may start
		 * new transfers or free the client (which then must not see x). */
		curl_multi_remove_handle(h->multi, easy);
		xfer_unlink(x);
		httpc_done_fn done = x->done;
		void *arg = x->arg;
		done(&resp, arg);
		xfer_destroy(x);
	}
	h->depth--;
	if (h->dead && h->depth == 0)
		httpc_free(h);
}

static void event_cb(evutil_socket_t fd, short kind, void *arg)
{
	httpc *h = arg;
	int action =
	    ((kind & EV_READ) ? CURL_CSELECT_IN : 0) | ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	int running = 0;
	curl_multi_socket_action(h->multi, (curl_socket_t)fd, action, &running);
	check_multi_info(h);
}

static void timer_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	httpc *h = arg;
	int running = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	httpc *h = userp;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	return evtimer_add(h->timer, &tv) == 0 ? 0 : -1;
}

static void sock_unlink(httpc *h, struct httpc_sock *s)
{
	hk_list_del(&s->link);
	if (s->ev)
		event_free(s->ev);
	free(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	httpc *h = userp;
	struct httpc_sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(h->multi, fd, NULL);
			sock_unlink(h, s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->fd = fd;
		s->h = h;
		hk_list_push_front(&h->socks, &s->link);
		curl_multi_assign(h->multi, fd, s);
	}
	if (s->ev) {
		event_free(s->ev);
		s->ev = NULL;
	}
	short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	s->ev = event_new(h->base, fd, kind, event_cb, h);
	if (!s->ev || event_add(s->ev, NULL) != 0)
		return -1;
	return 0;
}

hk_err httpc_new(struct event_base *base, httpc **ret)
{
	static bool global_done;
	if (!global_done) {
		/* Idempotent in practice; the daemon is single-threaded. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return HK_ERR_INTERNAL;
		global_done = true;
	}
	httpc *h = calloc(1, sizeof(*h));
	if (h) {
		hk_list_init(&h->xfers);
		hk_list_init(&h->socks);
	}
	if (!h)
		return HK_ERR_NOMEM;
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, timer_event_cb, h);
	if (!h->multi || !h->timer) {
		if (h->timer)
			event_free(h->timer);
		if (h->multi)
			curl_multi_cleanup(h->multi);
		free(h);
		return HK_ERR_NOMEM;
	}
	if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		event_free(h->timer);
		curl_multi_cleanup(h->multi);
		free(h);
		return HK_ERR_INTERNAL;
	}
	*ret = h;
	return HK_OK;
}

void httpc_free(httpc *h)
{
	if (!h)
		return;
	hk_list *n;
	while ((n = hk_list_first(&h->xfers)))
		xfer_destroy(HK_CONTAINER_OF(n, struct httpc_xfer, link));
	if (h->depth > 0) {
		h->dead = true; /* finished by check_multi_info() */
		return;
	}
	evtimer_del(h->timer);
	curl_multi_cleanup(h->multi);
	while ((n = hk_list_first(&h->socks)))
		sock_unlink(h, HK_CONTAINER_OF(n, struct httpc_sock, link));
	event_free(h->timer);
	free(h);
}

static bool header_ok(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

static bool method_ok(const char *m)
{
	if (!m || !*m)
		return false;
	for (const char *p = m; *p; p++)
		if (!isupper((unsigned char)*p))
			return false;
	return true;
}

#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (curl_easy_setopt(x->easy, opt, val) != CURLE_OK) {                             \
			err = HK_ERR_INTERNAL;                                                     \
			goto fail;                                                                 \
		}                                                                                  \
	} while (0)

/* The request is one curl may be given: method, http(s) URL without blanks,
 * https when required, header names and values without CR/LF. */
static bool request_ok(const httpc_request *req, httpc_done_fn done)
{
	if (!req || !done || !method_ok(req->method) || !req->url ||
	    (strncasecmp(req->url, "http://", 7) != 0 && strncasecmp(req->url, "https://", 8) != 0))
		return false;
	if (strpbrk(req->url, "\r\n \t"))
		return false;
	if (req->https_only && strncasecmp(req->url, "https://", 8) != 0)
		return false;
	for (size_t i = 0; i < req->n_headers; i++)
		if (!header_ok(req->headers[i].name) || !header_ok(req->headers[i].value) ||
		    !*req->headers[i].name || strchr(req->headers[i].name, ':'))
			return false;
	return true;
}

/* The request headers as curl's list (each line wiped after copying). */
static hk_err xfer_headers(struct httpc_xfer *x, const httpc_request *req)
{
	/* "Expect:" off: AWS does not need 100-continue and it costs a round trip. */
	x->req_headers = curl_slist_append(NULL, "Expect:");
	if (!x->req_headers)
		return HK_ERR_NOMEM;
	for (size_t i = 0; i < req->n_headers; i++) {
		size_t ln = strlen(req->headers[i].name) + strlen(req->headers[i].value) + 3;
		char *line = malloc(ln);
		if (!line)
			return HK_ERR_NOMEM;
		/* "Name;" is curl's way to send a header with an empty value. */
		if (*req->headers[i].value)
			snprintf(line, ln, "%s: %s", req->headers[i].name, req->headers[i].value);
		else
			snprintf(line, ln, "%s;", req->headers[i].name);
		struct curl_slist *nl = curl_slist_append(x->req_headers, line);
		OPENSSL_cleanse(line, ln);
		free(line);
		if (!nl)
			return HK_ERR_NOMEM;
		x->req_headers = nl;
	}
	return HK_OK;
}

/* Every curl option of the transfer. */
static hk_err xfer_options(struct httpc_xfer *x, const httpc_request *req)
{
	hk_err err = HK_ERR_INTERNAL;
	long connect_ms =
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTPC_DEFAULT_CONNECT_MS;
	long total_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;

	SETOPT(CURLOPT_PRIVATE, (char *)x);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, req->https_only ? "https" : "http,https");
	if (req->ca_file)
		SETOPT(CURLOPT_CAINFO, req->ca_file);
	if (req->connect_to) {
		x->connect_to = curl_slist_append(NULL, req->connect_to);
		if (!x->connect_to) {
			err = HK_ERR_NOMEM;
			goto fail;
		}
		SETOPT(CURLOPT_CONNECT_TO, x->connect_to);
	}
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, total_ms);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_HTTPHEADER, x->req_headers);
	SETOPT(CURLOPT_USERAGENT, "multus-hookd/" HOOKD_VERSION);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
	if (req->no_proxy)
		SETOPT(CURLOPT_NOPROXY, "*");

	bool is_get = strcmp(req->method, "GET") == 0;
	bool is_head = strcmp(req->method, "HEAD") == 0;
	if (is_head) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (is_get && req->body_len == 0) {
		SETOPT(CURLOPT_HTTPGET, 1L);
	} else {
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(CURLOPT_POSTFIELDS, x->req_body);
		if (strcmp(req->method, "POST") != 0)
			SETOPT(CURLOPT_CUSTOMREQUEST, req->method);
	}
	return HK_OK;
fail:
	return err;
}

hk_err httpc_send(httpc *h, const httpc_request *req, httpc_done_fn done, void *arg,
		  httpc_xfer **ret_xfer)
{
	if (h->dead)
		return HK_ERR_STATE;
	if (!request_ok(req, done))
		return HK_ERR_INVALID;
	hk_err err = HK_ERR_NOMEM;
	struct httpc_xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return HK_ERR_NOMEM;
	hk_list_init(&x->link);
	x->h = h;
	x->done = done;
	x->arg = arg;
	x->max_body = req->max_body ? req->max_body : HK_CAP_AWS_RESPONSE_BODY;
	x->sensitive = req->sensitive;
	x->req_body = malloc(req->body_len + 1);
	if (!x->req_body) {
		free(x);
		return HK_ERR_NOMEM;
	}
	if (req->body_len)
		memcpy(x->req_body, req->body, req->body_len);
	x->req_body[req->body_len] = '\0';
	x->req_body_len = req->body_len;
	x->easy = curl_easy_init();
	if (!x->easy)
		goto fail;

	if ((err = xfer_headers(x, req)) != HK_OK || (err = xfer_options(x, req)) != HK_OK)
		goto fail;

	/* Link first: adding the handle may already call socket/timer callbacks,
	 * which never complete a transfer synchronously. */
	hk_list_push_front(&h->xfers, &x->link);
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		err = HK_ERR_INTERNAL;
		xfer_destroy(x);
		return err;
	}
	if (ret_xfer)
		*ret_xfer = x;
	return HK_OK;

fail:
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->connect_to);
	wipe_slist(x->req_headers);
	curl_slist_free_all(x->req_headers);
	OPENSSL_cleanse(x->req_body, x->req_body_len);
	free(x->req_body);
	free(x);
	return err;
}

void httpc_cancel(httpc_xfer *x)
{
	if (x)
		xfer_destroy(x);
}

const char *httpc_response_header(const httpc_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}
