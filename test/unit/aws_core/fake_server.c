/* See fake_server.h. */
#include "fake_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define FSRV_MAX_ROUTES 32
#define FSRV_MAX_SEEN	64

struct fsrv {
	struct evhttp *http;
	char url[64];
	fsrv_route routes[FSRV_MAX_ROUTES];
	unsigned used[FSRV_MAX_ROUTES];
	size_t n_routes;
	fsrv_seen seen[FSRV_MAX_SEEN];
	size_t n_seen;
};

static void copy_hdr(struct evkeyvalq *h, const char *name, char *dst, size_t len)
{
	const char *v = evhttp_find_header(h, name);
	snprintf(dst, len, "%s", v ? v : "");
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	default:
		return "OTHER";
	}
}

static void handler(struct evhttp_request *req, void *arg)
{
	fsrv *s = arg;
	const char *method = method_name(evhttp_request_get_command(req));
	const char *uri = evhttp_request_get_uri(req);
	char path[256];
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(uri, "?"), uri);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	if (s->n_seen < FSRV_MAX_SEEN) {
		fsrv_seen *w = &s->seen[s->n_seen++];
		snprintf(w->method, sizeof(w->method), "%s", method);
		snprintf(w->path, sizeof(w->path), "%s", path);
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(b);
		w->body = calloc(1, n + 1);
		if (w->body)
			evbuffer_copyout(b, w->body, n);
		copy_hdr(in, "Authorization", w->authorization, sizeof(w->authorization));
		copy_hdr(in, "Content-Type", w->content_type, sizeof(w->content_type));
		copy_hdr(in, "Host", w->host, sizeof(w->host));
		copy_hdr(in, "X-Amz-Date", w->amz_date, sizeof(w->amz_date));
		copy_hdr(in, "X-Amz-Target", w->amz_target, sizeof(w->amz_target));
		copy_hdr(in, "X-Amz-Security-Token", w->security_token, sizeof(w->security_token));
		copy_hdr(in, "X-aws-ec2-metadata-token", w->imds_token, sizeof(w->imds_token));
		copy_hdr(in, "X-aws-ec2-metadata-token-ttl-seconds", w->imds_ttl,
			 sizeof(w->imds_ttl));
		char *addr = NULL;
		ev_uint16_t port = 0;
		evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
		w->peer_port = port;
	}
	for (size_t i = 0; i < s->n_routes; i++) {
		const fsrv_route *r = &s->routes[i];
		if (strcmp(r->method, method) != 0 || strcmp(r->path, path) != 0)
			continue;
		if (r->times && s->used[i] >= r->times)
			continue;
		s->used[i]++;
		if (r->hang)
			return; /* freed with the connection at fsrv_free() */
		if (r->require) {
			const char *colon = strchr(r->require, ':');
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)(colon - r->require), r->require);
			const char *v = evhttp_find_header(in, name);
			if (!v || strcmp(v, colon + 2) != 0) {
				evhttp_send_reply(req, 401, "Unauthorized", NULL);
				return;
			}
		}
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);
		evhttp_add_header(out, "Content-Type",
				  r->content_type ? r->content_type : "text/xml");
		for (unsigned h = 0; h < r->n_headers; h++) {
			char hn[32];
			snprintf(hn, sizeof(hn), "X-Fill-%u", h);
			evhttp_add_header(out, hn, "v");
		}
		struct evbuffer *b = evbuffer_new();
		if (r->filler_len) {
			char *fill = malloc(r->filler_len);
			memset(fill, 'a', r->filler_len);
			evbuffer_add(b, fill, r->filler_len);
			free(fill);
		} else if (r->body) {
			evbuffer_add(b, r->body, strlen(r->body));
		}
		evhttp_send_reply(req, r->status, "X", b);
		evbuffer_free(b);
		return;
	}
	evhttp_send_reply(req, 404, "Not Found", NULL);
}

fsrv *fsrv_new(struct event_base *base)
{
	fsrv *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->http = evhttp_new(base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	if (!bs) {
		evhttp_free(s->http);
		free(s);
		return NULL;
	}
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
	evhttp_set_gencb(s->http, handler, s);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	return s;
}

void fsrv_free(fsrv *s)
{
	if (!s)
		return;
	evhttp_free(s->http);
	for (size_t i = 0; i < s->n_seen; i++)
		free(s->seen[i].body);
	free(s);
}

void fsrv_add(fsrv *s, const fsrv_route *r)
{
	if (s->n_routes < FSRV_MAX_ROUTES)
		s->routes[s->n_routes++] = *r;
}

const char *fsrv_url(const fsrv *s)
{
	return s->url;
}

size_t fsrv_n_seen(const fsrv *s)
{
	return s->n_seen;
}

const fsrv_seen *fsrv_seen_at(const fsrv *s, size_t i)
{
	return i < s->n_seen ? &s->seen[i] : NULL;
}

size_t fsrv_count(const fsrv *s, const char *path)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_seen; i++)
		if (strcmp(s->seen[i].path, path) == 0)
			n++;
	return n;
}
