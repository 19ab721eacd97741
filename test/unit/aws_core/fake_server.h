/* A scripted loopback HTTP server on the test's own libevent loop (evhttp),
 * standing in for STS, IMDS, container endpoints and AWS itself in the
 * aws_core unit tests. Listens on 127.0.0.1, port chosen by the kernel. */
#ifndef FAKE_SERVER_H
#define FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

typedef struct fsrv_route {
	const char *method; /* "GET", "POST", "PUT" */
	const char *path;   /* exact path, query string ignored */
	int status;
	const char *body;
	const char *content_type;
	unsigned times;	     /* answer this many times, then fall through; 0 = always */
	size_t filler_len;   /* > 0: body is this many 'a' bytes instead */
	unsigned n_headers;  /* extra response headers X-Fill-N: v */
	bool hang;	     /* never answer */
	const char *require; /* "Header: value" the request must carry, else 401 */
} fsrv_route;

typedef struct fsrv_seen {
	char method[8];
	char path[256];
	char *body;
	char authorization[512];
	char content_type[128];
	char host[128];
	char amz_date[32];
	char amz_target[128];
	char security_token[256];
	char imds_token[128];
	char imds_ttl[32];
	unsigned short peer_port;
} fsrv_seen;

typedef struct fsrv fsrv;

fsrv *fsrv_new(struct event_base *base);
void fsrv_free(fsrv *s);
void fsrv_add(fsrv *s, const fsrv_route *r);
/* "http://127.0.0.1:PORT" */
const char *fsrv_url(const fsrv *s);
size_t fsrv_n_seen(const fsrv *s);
const fsrv_seen *fsrv_seen_at(const fsrv *s, size_t i);
/* Requests seen for a path. */
size_t fsrv_count(const fsrv *s, const char *path);

#endif
