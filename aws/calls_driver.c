/* The typed calls' driver: the per-client state (a field of the client), the
 * transport, sending a call, following NextToken, delivering the typed result
 * exactly once. */
#include "calls_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "awsclient.h"
#include "creds.h"
#include "awsxml.h"
#include "hk_caps.h"
#include "query.h"

/* ---- per-client state ---------------------------------------------------- */

struct cq_client_state {
	const awc_client *c;
	cq_call *calls; /* in flight, doubly linked */
	struct ec2_type_cache *type_cache;
};

static void state_free(struct cq_client_state *s);

/* The state is a field of the client (awc_client_set_calls), made on first use. */
static struct cq_client_state *state_of(awc_client *c, bool create)
{
	struct cq_client_state *s = awc_client_calls(c);
	if (s || !create || !c)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	awc_client_set_calls(c, s, state_free);
	return s;
}

struct ec2_type_cache **cq_client_type_cache(awc_client *c)
{
	struct cq_client_state *s = state_of(c, true);
	return s ? &s->type_cache : NULL;
}

/* ---- the driver ------------------------------------------------------------ */

struct cq_call {
	cq_call *prev, *next;
	struct cq_client_state *st;
	awc_client *c;
	const cq_spec *spec;
	query_params *params;
	awc_call_opts opts;
	void *out;
	cq_generic_fn fn;
	void *arg;
	void *ctx;
	void (*ctx_free)(void *);
	unsigned pages;
	char *next_token;
	struct event *ev; /* cq_start_ready() */
};

static hk_err dflt_query(awc_client *c, awc_service svc, const query_params *p,
			 const char *next_token, const awc_call_opts *opts, awc_done_fn done,
			 void *arg)
{
	query_params *q;
	hk_err err = cq_page_params(p, next_token, &q);
	if (err)
		return err;
	return awc_query(c, svc, q, opts, done, arg);
}

static hk_err dflt_json(awc_client *c, awc_service svc, const char *target, const json_t *body,
			const awc_call_opts *opts, awc_done_fn done, void *arg)
{
	return awc_json(c, svc, target, body, opts, done, arg);
}

static const cq_transport dflt_transport = {.query = dflt_query, .json = dflt_json};
static const cq_transport *transport_of(const awc_client *c)
{
	const cq_transport *t = awc_client_call_transport(c);
	return t ? t : &dflt_transport;
}

void *cq_call_ctx(const cq_call *call)
{
	return call->ctx;
}

awc_client *cq_call_client(const cq_call *call)
{
	return call->c;
}

static void call_unlink(cq_call *call)
{
	if (!call->st)
		return;
	if (call->prev)
		call->prev->next = call->next;
	else
		call->st->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	call->st = NULL;
}

static void call_free(cq_call *call)
{
	if (!call)
		return;
	call_unlink(call);
	if (call->ev)
		event_free(call->ev);
	if (call->out)
		cq_arena_free(cq_arena_of(call->out));
	query_params_free(call->params);
	if (call->ctx_free)
		call->ctx_free(call->ctx);
	free(call->next_token);
	free(call);
}

static hk_err call_new(awc_client *c, const cq_spec *spec, const awc_call_opts *opts,
		       cq_generic_fn fn, void *arg, cq_call **ret)
{
	if (!c || !spec || !fn)
		return HK_ERR_INVALID;
	cq_call *call = calloc(1, sizeof(*call));
	if (!call)
		return HK_ERR_NOMEM;
	cq_arena *a;
	call->out = cq_root_new(spec->out_size, &a);
	struct cq_client_state *st = state_of(c, true);
	if (!call->out || !st) {
		call_free(call);
		return HK_ERR_NOMEM;
	}
	if (spec->sensitive)
		cq_arena_set_sensitive(a);
	call->c = c;
	call->spec = spec;
	call->fn = fn;
	call->arg = arg;
	if (opts)
		call->opts = *opts; /* every page shares the caller's deadline */
	call->opts.idempotent = spec->idempotent;
	call->st = st;
	call->next = st->calls;
	if (st->calls)
		st->calls->prev = call;
	st->calls = call;
	*ret = call;
	return HK_OK;
}

/* Hand the result to the user and free the call. The call leaves the client's
 * list first, so the callback may free the client. */
static void deliver(cq_call *call, const awc_result *res)
{
	call_unlink(call);
	void *out = res->err == HK_OK ? call->out : NULL;
	cq_arena *a = out ? cq_arena_of(out) : NULL;
	cq_arena_delivering d;
	cq_arena_deliver_begin(a, &d);
	call->spec->deliver(call->fn, res, out, call->arg);
	/* Kept and not freed inside the callback: now the user's. Otherwise
	 * call_free() releases it with the call. */
	if (cq_arena_deliver_end(a, &d))
		call->out = NULL;
	call_free(call);
}

static void deliver_error(cq_call *call, const awc_result *base, hk_err err, const char *text)
{
	awc_result r;
	if (base)
		r = *base;
	else
		memset(&r, 0, sizeof(r));
	r.err = err;
	r.errtext = text;
	r.aws_code = NULL;
	r.aws_message = NULL;
	r.doc = NULL;
	r.json = NULL;
	deliver(call, &r);
}

static void on_query_done(const awc_result *res, void *arg);

static hk_err send_page(cq_call *call)
{
	return transport_of(call->c)->query(call->c, call->spec->svc, call->params,
					    call->next_token, &call->opts, on_query_done, call);
}

static void on_query_done(const awc_result *res, void *arg)
{
	cq_call *call = arg;
	if (res->err != HK_OK) {
		deliver(call, res);
		return;
	}
	call->pages++;
	cq_rd r;
	cq_rd_init(&r, cq_arena_of(call->out), call->spec->action);
	const char *next = NULL;
	if (!res->doc)
		cq_rd_fail(&r, HK_ERR_PARSE, "no XML document in the response");
	else
		call->spec->read_xml(&r, res->doc, call->out, &next);
	if (r.err) {
		deliver_error(call, res, r.err, r.ei.text);
		return;
	}
	if (call->spec->paginated && next && *next) {
		if (call->next_token && strcmp(call->next_token, next) == 0) {
			cq_rd_fail(&r, HK_ERR_PARSE, "the same NextToken twice");
			deliver_error(call, res, r.err, r.ei.text);
			return;
		}
		if (call->pages >= HK_CAP_AWS_PAGES) {
			cq_rd_fail(&r, HK_ERR_TOO_LARGE, "more than %u pages", HK_CAP_AWS_PAGES);
			deliver_error(call, res, r.err, r.ei.text);
			return;
		}
		char *tok = cq_xstrdup(next);
		hk_err err = tok ? HK_OK : HK_ERR_NOMEM;
		if (!err) {
			free(call->next_token);
			call->next_token = tok;
			err = send_page(call);
		}
		if (err) {
			cq_rd_fail(&r, err, "cannot send page %u: %s", call->pages + 1,
				   hk_err_str(err));
			deliver_error(call, res, r.err, r.ei.text);
		}
		return;
	}
	if (call->spec->finish) {
		hk_errinfo ei = {0};
		hk_err err = call->spec->finish(call, call->out, &ei);
		if (err) {
			deliver_error(call, res, err, ei.text);
			return;
		}
	}
	deliver(call, res);
}

static void on_json_done(const awc_result *res, void *arg)
{
	cq_call *call = arg;
	if (res->err != HK_OK) {
		deliver(call, res);
		return;
	}
	cq_rd r;
	cq_rd_init(&r, cq_arena_of(call->out), call->spec->action);
	cq_json_answer(&r, call->spec, res->json, call->out);
	if (r.err) {
		deliver_error(call, res, r.err, r.ei.text);
		return;
	}
	deliver(call, res);
}

hk_err cq_start_query(awc_client *c, const cq_spec *spec, query_params *params,
		      const awc_call_opts *opts, void *ctx, void (*ctx_free)(void *),
		      cq_generic_fn fn, void *arg)
{
	cq_call *call = NULL;
	hk_err err = params ? call_new(c, spec, opts, fn, arg, &call) : HK_ERR_INVALID;
	if (err) {
		query_params_free(params);
		if (ctx_free)
			ctx_free(ctx);
		return err;
	}
	call->params = params;
	call->ctx = ctx;
	call->ctx_free = ctx_free;
	err = send_page(call);
	if (err)
		call_free(call);
	return err;
}

hk_err cq_start_json(awc_client *c, const cq_spec *spec, const char *target, const json_t *body,
		     const awc_call_opts *opts, long timeout_ms, cq_generic_fn fn, void *arg)
{
	cq_call *call = NULL;
	hk_err err = call_new(c, spec, opts, fn, arg, &call);
	if (err)
		return err;
	if (timeout_ms)
		call->opts.timeout_ms = timeout_ms;
	err = transport_of(c)->json(c, spec->svc, target, body, &call->opts, on_json_done, call);
	if (err)
		call_free(call);
	return err;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	cq_call *call = arg;
	awc_result r;
	memset(&r, 0, sizeof(r));
	r.err = HK_OK;
	r.errtext = "";
	deliver(call, &r);
}

hk_err cq_start_ready(awc_client *c, const cq_spec *spec, void *out, cq_generic_fn fn, void *arg)
{
	struct event_base *base = awc_client_base(c);
	if (!base || !out) {
		cq_arena_free(cq_arena_of(out));
		return base ? HK_ERR_INVALID : HK_ERR_STATE;
	}
	cq_call *call = NULL;
	hk_err err = call_new(c, spec, NULL, fn, arg, &call);
	if (err) {
		cq_arena_free(cq_arena_of(out));
		return err;
	}
	cq_arena_free(cq_arena_of(call->out));
	call->out = out;
	call->ev = event_new(base, -1, 0, on_ready, call);
	if (!call->ev) {
		call_free(call);
		return HK_ERR_NOMEM;
	}
	event_active(call->ev, 0, 0);
	return HK_OK;
}

static void state_free(struct cq_client_state *s)
{
	if (!s)
		return;
	while (s->calls)
		call_free(s->calls);
	ec2_type_cache_free(s->type_cache);
	free(s);
}

/* ---- the umbrella's client wrappers ------------------------------------- */

hk_err awsclient_new(struct event_base *base, const awc_config *cfg, awc_client **ret)
{
	awc_config c = cfg ? *cfg : (awc_config){0};
	if (!c.creds_factory)
		c.creds_factory = creds_source_chain;
	return awc_client_new(base, &c, ret);
}

void awsclient_free(awc_client *c)
{
	awc_client_free(c);
}
