/* The gate in front of evhttp (hook_core.h: hook_gate): every byte a
 * listener reads passes through it before libevent's HTTP parser sees it.
 *
 * libevent 2.1.12 is lenient where a proxy in front may frame differently
 * (request smuggling): it takes the first of two different Content-Lengths,
 * reads "+2" as 2, accepts two Transfer-Encodings, bare-LF line endings and
 * HTTP/1.1 without Host; it refuses valid chunk extensions; and it reads a
 * whole body before the handler can check the credentials. So the gate reads
 * each request head itself (capped), refuses what is ambiguous, asks the
 * listener's check (credentials) before evhttp reads one byte of the body,
 * then follows the body's framing (Content-Length bytes, or chunks) so that
 * the next request on a keep-alive connection is gated the same way. It sees
 * each byte just before evhttp does, and blanks chunk extensions in place
 * (evhttp takes spaces after a chunk size, not an extension). Pure: no I/O,
 * no loop. */
#include "hook_core.h"

#include "hk_util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 8192u /* a chunk-size or trailer line */
#define HEAD_MAX_LINES 200u  /* header lines of one request */

typedef enum gate_mode {
	G_HEAD,	      /* collecting a request head */
	G_BODY,	      /* passing `left` body bytes */
	G_CHUNK_SIZE, /* a chunk-size line */
	G_CHUNK_DATA, /* `left` bytes of chunk data */
	G_CHUNK_CRLF, /* the CRLF after chunk data */
	G_TRAILER,    /* trailer lines until an empty one */
	G_DEAD	      /* refused: nothing more passes */
} gate_mode;

struct hook_gate {
	size_t head_cap;
	hook_gate_check_fn check;
	void *check_arg;
	gate_mode mode;
	char *buf; /* the head or the current line */
	size_t len, cap;
	unsigned long long left;
	bool in_ext; /* in a chunk-size line, past its ';' */
};

hook_gate *hook_gate_new(size_t head_cap, hook_gate_check_fn check, void *arg)
{
	hook_gate *g = malloc(sizeof(*g));
	if (g)
		*g = (hook_gate){.head_cap = head_cap, .check = check, .check_arg = arg};
	return g;
}

bool hook_gate_waiting_head(const hook_gate *g)
{
	return g && g->mode == G_HEAD;
}

void hook_gate_free(hook_gate *g)
{
	if (!g)
		return;
	free(g->buf);
	free(g);
}

/* Append one byte (and keep the buffer NUL-ended), at most `cap` bytes. */
static bool buf_add(hook_gate *g, char c, size_t cap)
{
	if (g->len + 1 > cap)
		return false;
	char *nb = hk_grow(g->buf, g->len + 1, &g->cap, 1, 512); /* room for c and NUL */
	if (!nb)
		return false;
	g->buf = nb;
	g->buf[g->len++] = c;
	g->buf[g->len] = '\0';
	return true;
}

static hook_gate_verdict refuse(hook_gate *g, int status, const char *reason)
{
	g->mode = G_DEAD;
	return (hook_gate_verdict){.status = status, .reason = reason};
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The value of header line `line` (NUL-ended, no CRLF) when its name is
 * `name`, with the surrounding blanks removed (into `out`); NULL otherwise. */
static const char *header_value(const char *line, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	const char *v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= size)
		vl = size - 1;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return out;
}

const char *hook_gate_header(const hook_gate_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_lines; i++) {
		size_t n = strlen(name);
		const char *l = h->lines[i];
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			l += n + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			return l;
		}
	}
	return NULL;
}

/* Splits a copy of the head (p, ending in CRLF CRLF) into lines in place. */
static hook_gate_verdict split_head(hook_gate *g, char *p, hook_gate_head *h, char **lines)
{
	size_t n = 0;
	for (;;) {
		char *lf = strchr(p, '\n');
		if (!lf)
			return refuse(g, 400, "malformed request head");
		if (lf == p || lf[-1] != '\r')
			return refuse(g, 400, "line not ended by CRLF");
		lf[-1] = '\0';
		if (!*p)
			break; /* the empty line: end of the head */
		if (n == HEAD_MAX_LINES + 1)
			return refuse(g, 400, "too many header lines");
		lines[n++] = p;
		p = lf + 1;
	}
	if (n == 0)
		return refuse(g, 400, "no request line");
	h->lines = (const char *const *)lines + 1;
	h->n_lines = n - 1;
	return (hook_gate_verdict){0};
}

/* Method SP target SP HTTP/1.x, into h. */
static hook_gate_verdict parse_request_line(hook_gate *g, hook_gate_head *h, char *line)
{
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
		return refuse(g, 400, "malformed request line");
	for (char *c = line; c < sp1; c++)
		if (!is_tchar((unsigned char)*c))
			return refuse(g, 400, "malformed method");
	const char *ver = sp2 + 1;
	if (!strcmp(ver, "HTTP/1.1"))
		h->http11 = true;
	else if (strcmp(ver, "HTTP/1.0") != 0)
		return refuse(g, 505, "only HTTP/1.0 and HTTP/1.1");
	*sp1 = '\0';
	*sp2 = '\0';
	h->method = line;
	h->target = sp1 + 1;
	return (hook_gate_verdict){0};
}

/* Content-Length: digits only, and every copy the same. */
static bool content_length(const char *v, unsigned long long *ret)
{
	if (!*v || strlen(v) > 18)
		return false;
	unsigned long long n = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		n = n * 10 + (unsigned)(*v - '0');
	}
	*ret = n;
	return true;
}

/* The framing headers of the head: at most one body length, said one way. */
static hook_gate_verdict framing(hook_gate *g, hook_gate_head *h)
{
	unsigned n_cl = 0, n_te = 0, n_host = 0;
	unsigned long long cl = 0;
	char v[64];
	for (size_t i = 0; i < h->n_lines; i++) {
		const char *l = h->lines[i];
		if (*l == ' ' || *l == '\t')
			return refuse(g, 400, "folded header line");
		const char *colon = strchr(l, ':');
		if (!colon || colon == l)
			return refuse(g, 400, "malformed header line");
		for (const char *c = l; c < colon; c++)
			if (!is_tchar((unsigned char)*c))
				return refuse(g, 400, "malformed header name");
		if (header_value(l, "Content-Length", v, sizeof(v))) {
			unsigned long long x;
			if (!content_length(v, &x))
				return refuse(g, 400, "Content-Length is not a plain number");
			if (n_cl++ && x != cl)
				return refuse(g, 400, "Content-Length headers disagree");
			cl = x;
		} else if (header_value(l, "Transfer-Encoding", v, sizeof(v))) {
			if (n_te++)
				return refuse(g, 400, "more than one Transfer-Encoding header");
			if (strcasecmp(v, "chunked") != 0)
				return refuse(g, 400, "Transfer-Encoding other than chunked");
		} else if (header_value(l, "Host", v, sizeof(v))) {
			n_host++;
		}
	}
	if (n_cl && n_te)
		return refuse(g, 400, "both Content-Length and Transfer-Encoding");
	if (n_host > 1)
		return refuse(g, 400, "more than one Host header");
	if (h->http11 && !n_host)
		return refuse(g, 400, "HTTP/1.1 request without Host");
	h->chunked = n_te > 0;
	h->content_length = cl;
	return (hook_gate_verdict){0};
}

/* A complete head is in g->buf: check it, then let it through. */
static hook_gate_verdict head_done(hook_gate *g)
{
	char *copy = malloc(g->len + 1);
	char **lines = malloc((HEAD_MAX_LINES + 2) * sizeof(*lines));
	hook_gate_verdict v = {0};
	hook_gate_head h = {0};
	if (!copy || !lines) {
		v = refuse(g, 503, "out of memory");
		goto out;
	}
	memcpy(copy, g->buf, g->len + 1); /* cut into lines; g->buf goes out as read */
	v = split_head(g, copy, &h, lines);
	if (v.status || (v = parse_request_line(g, &h, lines[0])).status ||
	    (v = framing(g, &h)).status)
		goto out;
	if (g->check && (v = g->check(&h, g->check_arg)).status) {
		g->mode = G_DEAD;
		goto out;
	}
	g->len = 0;
	if (h.chunked) {
		g->mode = G_CHUNK_SIZE;
	} else if (h.content_length) {
		g->mode = G_BODY;
		g->left = h.content_length;
	} else {
		g->mode = G_HEAD;
	}
out:
	free(copy);
	free(lines);
	return v;
}

/* A chunk-size line (g->buf, without CRLF): hex size, then blanks or an
 * extension (";name[=value]", blanked in the stream as it passed). */
static hook_gate_verdict chunk_size(hook_gate *g)
{
	const char *p = g->buf;
	unsigned long long n = 0;
	size_t digits = 0;
	for (; *p; p++, digits++) {
		int d = (*p >= '0' && *p <= '9')   ? *p - '0'
			: (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
						   : -1;
		if (d < 0)
			break;
		if (digits == 15)
			return refuse(g, 400, "chunk size too large");
		n = n * 16 + (unsigned)d;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!digits || (*p && *p != ';'))
		return refuse(g, 400, "malformed chunk size");
	g->len = 0;
	g->left = n;
	g->mode = n ? G_CHUNK_DATA : G_TRAILER;
	return (hook_gate_verdict){0};
}

/* Collect one CRLF-ended line into g->buf; true (and the line without its
 * CRLF) when complete. A bare LF or an overlong line refuses. */
static bool take_line(hook_gate *g, char **p, char *end, bool blank_ext, hook_gate_verdict *v)
{
	while (*p < end) {
		char c = **p;
		g->in_ext |= blank_ext && c == ';';
		if (g->in_ext && c != '\r' && c != '\n')
			**p = ' '; /* the extension: evhttp reads spaces after the size */
		(*p)++;
		if (c == '\n') {
			if (!g->len || g->buf[g->len - 1] != '\r') {
				*v = refuse(g, 400, "line not ended by CRLF");
				return false;
			}
			g->buf[--g->len] = '\0';
			g->in_ext = false;
			return true;
		}
		if (!buf_add(g, c, LINE_MAX_BYTES)) {
			*v = refuse(g, 400, "line too long");
			return false;
		}
	}
	return false;
}

/* Head bytes: up to and including the empty line. */
static size_t head_bytes(hook_gate *g, const char *p, size_t n, hook_gate_verdict *v)
{
	for (size_t i = 0; i < n; i++) {
		if (!buf_add(g, p[i], g->head_cap)) {
			*v = refuse(g, 400, "request head too large");
			return i;
		}
		if (p[i] == '\n' && g->len >= 4 && !memcmp(g->buf + g->len - 4, "\r\n\r\n", 4))
			return i + 1;
		if (p[i] == '\n' && (g->len < 2 || g->buf[g->len - 2] != '\r')) {
			*v = refuse(g, 400, "line not ended by CRLF");
			return i;
		}
	}
	return n;
}

hook_gate_verdict hook_gate_feed(hook_gate *g, char *data, size_t n)
{
	hook_gate_verdict v = {0};
	char *p = data, *end = data + n;
	while (p < end && !v.status) {
		switch (g->mode) {
		case G_DEAD:
			return refuse(g, 400, "connection refused earlier");
		case G_HEAD: {
			if (g->len == 0 && (*p == '\r' || *p == '\n')) {
				p++; /* an empty line between requests, tolerated as evhttp does */
				break;
			}
			size_t k = head_bytes(g, p, (size_t)(end - p), &v);
			bool complete =
			    !v.status && g->len >= 4 && !memcmp(g->buf + g->len - 4, "\r\n\r\n", 4);
			p += k;
			if (complete)
				v = head_done(g);
			break;
		}
		case G_BODY:
		case G_CHUNK_DATA: {
			size_t k = (size_t)(end - p);
			if (k > g->left)
				k = (size_t)g->left;
			p += k;
			g->left -= k;
			if (!g->left)
				g->mode = g->mode == G_BODY ? G_HEAD : G_CHUNK_CRLF;
			break;
		}
		case G_CHUNK_CRLF:
			if (take_line(g, &p, end, false, &v)) {
				if (g->len)
					return refuse(g, 400, "chunk data longer than its size");
				g->mode = G_CHUNK_SIZE;
			}
			break;
		case G_CHUNK_SIZE:
			if (take_line(g, &p, end, true, &v))
				v = chunk_size(g);
			break;
		case G_TRAILER:
			if (take_line(g, &p, end, false, &v)) {
				bool last = g->len == 0;
				g->len = 0;
				if (last)
					g->mode = G_HEAD;
			}
			break;
		}
	}
	return v;
}
