/* The connections of one evhttp listener, shared by the intake and admin
 * listeners (hook_core.h: hook_listen).
 *
 * libevent 2.1 has no connection limit, no whole-request deadline and no
 * answer to running out of descriptors (its accept loop spins and warns per
 * try), so this file adds all three. evhttp_set_bevcb lets us create each
 * connection's bufferevent and keep a reference to it. A sweep timer (while
 * connections exist) releases those whose evhttp connection is gone (evhttp
 * clears the callbacks when it frees its side) and shuts down the socket of
 * connections that have not delivered a complete request within the
 * deadline (evhttp then sees EOF and frees the connection). While the count
 * is at the cap, accepting is off: further clients wait in the kernel
 * backlog. When accept() fails for want of descriptors or memory, accepting
 * pauses for a back-off (100 ms doubling to 1 s) instead of spinning, one
 * warn line per 10 s says so with the count of failures, the connections
 * already open go on being served, and accepting resumes by itself. */
#include "hook_core.h"

#include "hk_list.h"
#include "hk_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#define SWEEP_INTERVAL_MS   250
#define PAUSE_FIRST_MS	    100
#define PAUSE_MAX_MS	    1000
#define PAUSE_LOG_PERIOD_MS 10000
/* A connection this young is never closed to admit another: a flood of new
 * clients cannot close a real one before its first bytes are read. */
#define EVICT_MIN_AGE_MS 250
/* After a refusal the answer goes out with a FIN, and what the client still
 * sends is read and dropped this long before the socket closes: closing
 * with unread input would reset the connection and could lose the answer. */
#define LINGER_MS 2000

typedef struct conn {
	hk_list link;		 /* in hook_listen.conns */
	struct hook_listen *l;	 /* its listener */
	struct bufferevent *bev; /* evhttp's; we hold one reference */
	hook_gate *gate;	 /* sees every read byte before evhttp */
	struct event *admit;	 /* the next turn: its peer known, per-source cap */
	int64_t deadline_ms;	 /* monotonic: complete request due by then */
	int64_t accepted_ms;
	int64_t linger_ms;     /* refused: input read and dropped until then */
	struct event *drain;   /* reads and drops it (evhttp's reading is off) */
	unsigned heads, dones; /* request heads passed, requests completed */
	struct sockaddr_storage peer;
	bool peer_known;
	bool cut; /* shutdown() already done */
} conn;

struct hook_listen {
	hk_list link; /* in all_listens */
	struct event_base *base;
	struct evhttp *http;
	hook_listen_cfg cfg;
	struct evhttp_bound_socket *sock;
	struct event *sweep;
	struct event *resume;	 /* end of an accept back-off */
	hk_list conns;		 /* conn, newest first */
	unsigned n_conns, n_cut; /* tracked; of them cut (closing) */
	bool off;		 /* accepting switched off (full or paused) */
	bool paused;		 /* in an accept back-off */
	int64_t pause_ms;	 /* the current back-off */
	int64_t last_log_ms;
	unsigned accept_failures; /* since the last log line */
};

/* Every listener: evhttp owns each listening socket's user data (its own
 * struct), so the accept error callback finds its hook_listen here, by the
 * evconnlistener. The loop is single-threaded; at most two entries. */
static hk_list all_listens = HK_LIST_INIT(all_listens);

static hook_listen *listen_of(const struct evconnlistener *el)
{
	for (hk_list *n = all_listens.next; n != &all_listens; n = n->next) {
		hook_listen *l = HK_CONTAINER_OF(n, hook_listen, link);
		if (l->sock && evhttp_bound_socket_get_listener(l->sock) == el)
			return l;
	}
	return NULL;
}

static void sweep_arm(hook_listen *l)
{
	if (l->n_conns && !evtimer_pending(l->sweep, NULL)) {
		struct timeval tv = {0, SWEEP_INTERVAL_MS * 1000};
		evtimer_add(l->sweep, &tv);
	}
}

/* Waiting for a request head, nothing of it in the handler's hands: a
 * connection a new client may take the place of. */
static bool evictable(const conn *c, int64_t now)
{
	return !c->cut && c->heads == c->dones && hook_gate_waiting_head(c->gate) &&
	       now - c->accepted_ms >= EVICT_MIN_AGE_MS;
}

/* The oldest evictable connection other than `except`, or NULL. */
static conn *oldest_evictable(hook_listen *l, const conn *except)
{
	int64_t now = hk_mono_ms();
	for (hk_list *n = l->conns.prev; n != &l->conns; n = n->prev) {
		conn *c = HK_CONTAINER_OF(n, conn, link);
		if (c != except && evictable(c, now))
			return c;
	}
	return NULL;
}

static void accepting_update(hook_listen *l)
{
	struct evconnlistener *el = l->sock ? evhttp_bound_socket_get_listener(l->sock) : NULL;
	if (!el)
		return;
	bool full = l->cfg.max_connections && l->n_conns - l->n_cut >= l->cfg.max_connections;
	bool want_off = l->paused || (full && !oldest_evictable(l, NULL));
	if (want_off && !l->off) {
		evconnlistener_disable(el);
		l->off = true;
		if (full && !l->paused)
			hook_log(HOOK_LOG_WARN, "connection limit reached: new connections wait",
				 "listener", l->cfg.name, NULL);
	} else if (!want_off && l->off) {
		evconnlistener_enable(el);
		l->off = false;
	}
}

/* Both ends of the socket shut: evhttp sees EOF and frees its side. */
static void conn_cut(conn *c)
{
	evutil_socket_t s = bufferevent_getfd(c->bev);
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
	if (!c->cut)
		c->l->n_cut++;
	c->cut = true;
}

static void conn_release(hook_listen *l, conn *c)
{
	hk_list_del(&c->link);
	bufferevent_decref(c->bev); /* our reference: closes the socket */
	hook_gate_free(c->gate);
	hook_event_free(&c->admit);
	hook_event_free(&c->drain);
	if (c->cut)
		l->n_cut--;
	free(c);
	l->n_conns--;
}

static bool evhttp_gone(struct bufferevent *bev)
{
	bufferevent_data_cb r = NULL, w = NULL;
	bufferevent_event_cb e = NULL;
	void *arg = NULL;
	bufferevent_getcb(bev, &r, &w, &e, &arg);
	return !r && !w && !e;
}

static void linger_end(conn *c);

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	hook_listen *l = arg;
	int64_t now = hk_mono_ms();
	hk_list *n, *tmp;
	HK_LIST_FOREACH_SAFE(n, tmp, &l->conns)
	{
		conn *c = HK_CONTAINER_OF(n, conn, link);
		if (evhttp_gone(c->bev)) {
			conn_release(l, c);
			continue;
		}
		if (c->linger_ms && now > c->linger_ms) {
			linger_end(c); /* lingered enough */
			continue;
		}
		if (!c->cut && now > c->deadline_ms) {
			conn_cut(c);
			json_t *f =
			    json_pack("{s:s,s:I}", "listener", l->cfg.name, "request_timeout_ms",
				      (json_int_t)l->cfg.request_timeout_ms);
			hook_log_json(HOOK_LOG_WARN, "client too slow: connection cut", f);
		}
	}
	accepting_update(l);
	sweep_arm(l);
}

/* The end of a refused connection's linger: both ends shut, and evhttp,
 * reading again, sees EOF and lets the connection go. */
static void linger_end(conn *c)
{
	hook_event_free(&c->drain);
	c->linger_ms = 0;
	conn_cut(c);
	bufferevent_enable(c->bev, EV_READ);
}

/* Lingering: what the refused client still sends is read into one small
 * buffer and dropped (nothing is kept: no memory grows with it). */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	static char sink[16384];
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, sink, sizeof(sink), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		linger_end(c); /* the client closed (or failed): done */
		return;
	}
}

/* The gate's refusal: a complete answer written straight to the socket
 * (small, and nothing else is queued on a connection still reading its
 * request), then both ends shut. */
static void refuse(conn *c, const hook_gate_verdict *v)
{
	static const struct {
		int status;
		const char *phrase, *word;
	} words[] = {{400, "Bad Request", "bad request"},
		     {401, "Unauthorized", "unauthorized"},
		     {404, "Not Found", "not found"},
		     {503, "Service Unavailable", "unavailable"},
		     {505, "HTTP Version Not Supported", "bad request"}};
	size_t w = 0;
	for (size_t i = 0; i < HK_ARRAY_LEN(words); i++)
		if (words[i].status == v->status)
			w = i;
	const char *word = words[w].phrase;
	json_t *o = json_pack("{s:s,s:s}", "status", words[w].word, "reason",
			      v->reason ? v->reason : "refused");
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n%s%s%s"
			 "Content-Length: %zu\r\n\r\n",
			 v->status, word, v->www_authenticate ? "WWW-Authenticate: " : "",
			 v->www_authenticate ? v->www_authenticate : "",
			 v->www_authenticate ? "\r\n" : "", body ? strlen(body) + 1 : 0);
	evutil_socket_t s = bufferevent_getfd(c->bev);
	if (s >= 0 && n > 0 && (size_t)n < sizeof(head)) {
		struct iovec iov[3] = {
		    {head, (size_t)n}, {body, body ? strlen(body) : 0}, {"\n", 1}};
		ssize_t sent = writev(s, iov, body ? 3 : 1);
		(void)sent; /* best effort: the connection closes either way */
	}
	free(body);
	if (!c->cut)
		c->l->n_cut++;
	c->cut = true; /* on_input drops what evhttp still has */
	if (s >= 0)
		shutdown(s, SHUT_WR);
	bufferevent_disable(c->bev, EV_READ);
	c->drain = s >= 0 ? event_new(c->l->base, s, EV_READ | EV_PERSIST, on_drain, c) : NULL;
	if (c->drain && event_add(c->drain, NULL) == 0) {
		c->linger_ms = hk_mono_ms() + LINGER_MS;
		sweep_arm(c->l);
	} else {
		linger_end(c);
	}
	hook_log_rejected("request refused before its body", v->reason,
			  json_pack("{s:s,s:i}", "listener", c->l->cfg.name, "status", v->status));
}

/* Bytes were added to the connection's input: the gate sees them before
 * evhttp's read callback does (the callback runs inside the read). A refused
 * request is drained, so evhttp never parses it, and answered here. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	conn *c = arg;
	if (!info->n_added)
		return;
	if (c->cut || !c->gate) {
		if (!c->cut)
			conn_cut(c);
		evbuffer_drain(buf, evbuffer_get_length(buf));
		return;
	}
	struct evbuffer_ptr at;
	if (evbuffer_ptr_set(buf, &at, info->orig_size, EVBUFFER_PTR_SET) != 0)
		return;
	size_t left = info->n_added;
	struct evbuffer_iovec v[16];
	while (left) {
		int k = evbuffer_peek(buf, (ev_ssize_t)left, &at, v, 16);
		if (k <= 0)
			return;
		for (int i = 0; i < k && i < 16 && left; i++) {
			size_t n = v[i].iov_len < left ? v[i].iov_len : left;
			hook_gate_verdict r = hook_gate_feed(c->gate, v[i].iov_base, n);
			left -= n;
			if (r.status) {
				refuse(c, &r);
				evbuffer_drain(buf, evbuffer_get_length(buf));
				return;
			}
			evbuffer_ptr_set(buf, &at, n, EVBUFFER_PTR_ADD);
		}
	}
}

/* The listener's check of each head (hook_listen_cfg.check), counted. */
static hook_gate_verdict conn_check(const hook_gate_head *h, void *arg)
{
	conn *c = arg;
	c->heads++;
	return c->l->cfg.check ? c->l->cfg.check(h, c->l->cfg.check_arg) : (hook_gate_verdict){0};
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

/* The turn after the accept (evhttp has given the socket to the
 * bufferevent by then): the peer's address, and its connection count. */
static void on_admit(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	hook_listen *l = c->l;
	evutil_socket_t s = bufferevent_getfd(c->bev);
	socklen_t len = sizeof(c->peer);
	if (c->cut || s < 0 || getpeername(s, (struct sockaddr *)&c->peer, &len) != 0)
		return;
	c->peer_known = true;
	if (!l->cfg.max_per_source)
		return;
	unsigned same = 0;
	for (hk_list *n = l->conns.next; n != &l->conns; n = n->next) {
		conn *o = HK_CONTAINER_OF(n, conn, link);
		same += !o->cut && o->peer_known && same_addr(&o->peer, &c->peer);
	}
	if (same > l->cfg.max_per_source) {
		hook_gate_verdict v = {.status = 503,
				       .reason = "too many connections from this address"};
		refuse(c, &v);
	}
}

static struct bufferevent *on_new_conn(struct event_base *base, void *arg)
{
	hook_listen *l = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL; /* evhttp then makes its own, untracked */
	conn *c = calloc(1, sizeof(*c));
	if (!c || !evbuffer_add_cb(bufferevent_get_input(bev), on_input, c)) {
		free(c); /* out of memory: evhttp makes its own (ungated) connection */
		bufferevent_free(bev);
		return NULL;
	}
	/* Without a gate (out of memory) the connection is cut at its first byte. */
	c->l = l;
	c->bev = bev;
	c->gate = hook_gate_new(l->cfg.head_cap, conn_check, c);
	c->admit = evtimer_new(base, on_admit, c);
	if (c->admit) {
		struct timeval now = {0, 0};
		evtimer_add(c->admit, &now);
	}
	bufferevent_incref(bev);
	c->accepted_ms = hk_mono_ms();
	c->deadline_ms = c->accepted_ms + l->cfg.request_timeout_ms;
	hk_list_push_front(&l->conns, &c->link);
	l->n_conns++;
	if (l->cfg.max_connections && l->n_conns - l->n_cut > l->cfg.max_connections) {
		conn *victim = oldest_evictable(l, c);
		if (victim) {
			conn_cut(victim);
			hook_log_rejected("connection closed to admit a new one", l->cfg.name,
					  json_pack("{s:s,s:i}", "listener", l->cfg.name,
						    "max_connections",
						    (int)l->cfg.max_connections));
		}
	}
	accepting_update(l);
	sweep_arm(l);
	return bev;
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	hook_listen *l = arg;
	l->paused = false;
	accepting_update(l);
}

/* accept() failed for a reason other than a retriable one. */
static void on_accept_error(struct evconnlistener *el, void *arg)
{
	hook_listen *l = listen_of(el);
	if (!l)
		return;
	int err = EVUTIL_SOCKET_ERROR();
	bool starved = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
	int64_t now = hk_mono_ms();
	/* Back off on any accept failure; the want of descriptors is the
	 * usual one. The pause doubles while failures follow each other. */
	l->pause_ms = l->paused || (l->pause_ms && now - l->last_log_ms < PAUSE_MAX_MS)
			  ? (l->pause_ms * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : l->pause_ms * 2)
			  : PAUSE_FIRST_MS;
	if (l->pause_ms < PAUSE_FIRST_MS)
		l->pause_ms = PAUSE_FIRST_MS;
	l->paused = true;
	l->accept_failures++;
	accepting_update(l);
	struct timeval tv = {(time_t)(l->pause_ms / 1000),
			     (suseconds_t)(l->pause_ms % 1000) * 1000};
	evtimer_add(l->resume, &tv);
	if (l->last_log_ms && now - l->last_log_ms < PAUSE_LOG_PERIOD_MS)
		return;
	json_t *f = json_pack("{s:s,s:s,s:I,s:I,s:I}", "listener", l->cfg.name, "error",
			      strerror(err), "failures", (json_int_t)l->accept_failures, "pause_ms",
			      (json_int_t)l->pause_ms, "open_connections", (json_int_t)l->n_conns);
	hook_log_json(HOOK_LOG_WARN,
		      starved ? "cannot accept connections: out of file descriptors or memory; "
				"accepting paused, open connections still served"
			      : "cannot accept connections: accepting paused",
		      f);
	l->last_log_ms = now;
	l->accept_failures = 0;
}

hk_err hook_listen_new(struct event_base *base, const hook_listen_cfg *cfg,
		       void (*on_request)(struct evhttp_request *req, void *arg), void *arg,
		       hook_listen **ret)
{
	hook_listen *l = malloc(sizeof(*l));
	if (!l)
		return HK_ERR_NOMEM;
	*l = (hook_listen){.base = base, .http = evhttp_new(base), .cfg = *cfg};
	hk_list_init(&l->conns);
	hk_list_push_back(&all_listens, &l->link);
	l->sweep = evtimer_new(base, on_sweep, l);
	l->resume = evtimer_new(base, on_resume, l);
	if (!l->http || !l->sweep || !l->resume) {
		hook_listen_free(l);
		return HK_ERR_NOMEM;
	}
	evhttp_set_max_headers_size(l->http, (ev_ssize_t)cfg->max_header_bytes);
	evhttp_set_bevcb(l->http, on_new_conn, l);
	evhttp_set_gencb(l->http, on_request, arg);
	*ret = l;
	return HK_OK;
}

struct evhttp *hook_listen_http(hook_listen *l)
{
	return l->http;
}

hk_err hook_listen_bind(hook_listen *l, const char *address, unsigned port, unsigned *ret_port)
{
	l->sock = evhttp_bind_socket_with_handle(l->http, address, (ev_uint16_t)port);
	if (!l->sock)
		return HK_ERR_IO;
	struct evconnlistener *el = evhttp_bound_socket_get_listener(l->sock);
	if (el)
		evconnlistener_set_error_cb(el, on_accept_error);
	return hook_http_bound_port(l->sock, ret_port);
}

void hook_listen_set_cfg(hook_listen *l, const hook_listen_cfg *cfg)
{
	if (!l)
		return;
	l->cfg = *cfg;
	accepting_update(l);
}

static void on_complete(struct evhttp_request *req, void *arg)
{
	conn *c = arg;
	c->dones++;
}

void hook_listen_request_done(hook_listen *l, struct evhttp_request *req)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(req);
	struct bufferevent *bev = ec ? evhttp_connection_get_bufferevent(ec) : NULL;
	for (hk_list *n = l->conns.next; bev && n != &l->conns; n = n->next) {
		conn *c = HK_CONTAINER_OF(n, conn, link);
		if (c->bev == bev) {
			c->deadline_ms = hk_mono_ms() + l->cfg.request_timeout_ms;
			evhttp_request_set_on_complete_cb(req, on_complete, c);
			return;
		}
	}
}

void hook_listen_stop(hook_listen *l)
{
	if (!l || !l->sock)
		return;
	evhttp_del_accept_socket(l->http, l->sock);
	l->sock = NULL;
	l->off = false;
}

void hook_listen_free(hook_listen *l)
{
	if (!l)
		return;
	hk_list_del(&l->link);
	if (l->http)
		evhttp_free(l->http); /* frees evhttp's side of every connection */
	while (!hk_list_empty(&l->conns))
		conn_release(l, HK_CONTAINER_OF(l->conns.next, conn, link));
	hook_event_free(&l->sweep);
	hook_event_free(&l->resume);
	free(l);
}
