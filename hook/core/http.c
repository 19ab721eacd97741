/* HTTP replies and bound ports, shared by the intake and admin listeners. */
#include "hook_core.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

void hook_http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *buf = evbuffer_new();
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	evhttp_add_header(oh, "Content-Type", "application/json");
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (buf) {
		if (text)
			evbuffer_add_printf(buf, "%s\n", text);
		else
			evbuffer_add_printf(buf, "{\"status\":\"error\"}\n");
	}
	free(text);
	hook_http_send(req, status, buf);
	if (buf)
		evbuffer_free(buf);
}

void hook_http_send(struct evhttp_request *req, int status, struct evbuffer *body)
{
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD && body) {
		/* HEAD: the headers GET would have, no body (libevent 2.1 would
		 * send it, corrupting the next response on a kept-alive connection). */
		char len[32];
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, status, NULL, body);
}

void hook_http_reply_reason(struct evhttp_request *req, int status, const char *word,
			    const char *reason)
{
	json_t *o = json_object();
	if (o) {
		json_object_set_new(o, "status", json_string(word));
		json_t *r = reason ? json_string(reason) : NULL;
		/* A reason built from client input truncated mid-UTF-8 is not a valid
		 * JSON string: fall back to a generic text rather than no reason. */
		if (reason && !r)
			r = json_string("request rejected (reason not printable)");
		if (r)
			json_object_set_new(o, "reason", r);
	}
	hook_http_reply_json(req, status, o);
}

hk_err hook_http_bound_port(struct evhttp_bound_socket *sock, unsigned *ret)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) != 0)
		return HK_ERR_IO;
	if (ss.ss_family == AF_INET)
		*ret = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*ret = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return HK_ERR_IO;
	return HK_OK;
}

void hook_event_free(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}
