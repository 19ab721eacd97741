/* IMDSv2: the credential provider (token, role, credentials), the last stage
 * of the chain (creds.c), and the region lookup for a client with no other
 * source. */
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

/* ---- 5. IMDSv2 -------------------------------------------------------------- */

bool creds_imds_disabled(const creds_provider *p)
{
	const char *d = creds_env_get(p, "AWS_EC2_METADATA_DISABLED");
	return d && strcasecmp(d, "true") == 0;
}

static void imds_base(const creds_provider *p, char *buf, size_t len)
{
	const char *ep = creds_env_get(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = creds_env_get(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!ep)
		ep = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
	snprintf(buf, len, "%s", ep);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '/')
		buf[--n] = '\0';
}

/* One IMDS request: PUT for the token step, GET with the token otherwise. */
hk_err creds_imds_send(creds_provider *p, enum imds_step step, const char *token, const char *role,
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
	hk_err err = creds_http_failure(r, why, sizeof(why));
	/* IMDS is the last resort, tried without configuration: not being on
	 * EC2 means "no credentials". */
	if (err == HK_ERR_TRANSIENT || err == HK_ERR_TIMEOUT || err == HK_ERR_IO ||
	    err == HK_ERR_NOT_FOUND)
		err = HK_ERR_NO_CREDENTIALS;
	creds_fetch_finish(f, err, NULL,
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
		creds_trim_right(f->imds_token);
		f->imds = IMDS_ROLE;
		err = creds_imds_send(p, IMDS_ROLE, f->imds_token, NULL, imds_creds_done, f,
				      &f->xfer);
		break;
	case IMDS_ROLE: {
		size_t n = strcspn(r->body, "\r\n");
		f->role = strndup(r->body, n);
		if (!f->role)
			goto nomem;
		creds_trim_right(f->role);
		if (!*f->role || strpbrk(f->role, "/?#% ")) {
			creds_fetch_finish(f, HK_ERR_NO_CREDENTIALS, NULL,
					   "no credentials: IMDS has no usable instance role");
			return;
		}
		f->imds = IMDS_CREDS;
		err = creds_imds_send(p, IMDS_CREDS, f->imds_token, f->role, imds_creds_done, f,
				      &f->xfer);
		break;
	}
	case IMDS_CREDS:
	default: {
		creds_value *v = NULL;
		err = creds_from_json(r->body, r->body_len, "Token", "imds", &v, why, sizeof(why));
		creds_fetch_finish(f, err, v, "IMDS role credentials: %s", why);
		return;
	}
	}
	if (err != HK_OK)
		creds_fetch_finish(f, err, NULL, "IMDS: cannot send: %s", hk_err_str(err));
	return;
nomem:
	creds_fetch_finish(f, HK_ERR_NOMEM, NULL, "IMDS: out of memory");
}

enum stage_rc creds_stage_imds(struct fetch *f)
{
	creds_provider *p = f->p;
	if (creds_imds_disabled(p))
		return STAGE_SKIP;
	f->imds = IMDS_TOKEN;
	hk_err err = creds_imds_send(p, IMDS_TOKEN, NULL, NULL, imds_creds_done, f, &f->xfer);
	if (err != HK_OK)
		creds_fetch_finish(f, err == HK_ERR_INVALID ? HK_ERR_INVALID : err, NULL,
				   "IMDS: cannot send: %s", hk_err_str(err));
	return STAGE_PENDING;
}

/* ---- the region from IMDS (placement/region), for a client with no other
 * source ---- */

/* ---- region from IMDS ------------------------------------------------------------ */

void creds_region_free(struct region_req *r)
{
	if (!r)
		return;
	httpc_cancel(r->xfer);
	creds_wipe_free(r->imds_token);
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
	creds_region_free(r);
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
		hk_err err = creds_http_failure(resp, why, sizeof(why));
		region_finish(r, err, why);
		return;
	}
	if (r->imds == IMDS_TOKEN) {
		r->imds_token = strndup(resp->body, resp->body_len);
		if (!r->imds_token) {
			region_finish(r, HK_ERR_NOMEM, "out of memory");
			return;
		}
		creds_trim_right(r->imds_token);
		r->imds = IMDS_REGION;
		hk_err err = creds_imds_send(r->p, IMDS_REGION, r->imds_token, NULL,
					     region_http_done, r, &r->xfer);
		if (err != HK_OK)
			region_finish(r, err, hk_err_str(err));
		return;
	}
	r->region = strndup(resp->body, resp->body_len);
	if (!r->region) {
		region_finish(r, HK_ERR_NOMEM, "out of memory");
		return;
	}
	creds_trim_right(r->region);
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
	if (creds_imds_disabled(p))
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
	hk_err err = creds_imds_send(p, IMDS_TOKEN, NULL, NULL, region_http_done, r, &r->xfer);
	if (err != HK_OK) {
		creds_region_free(r);
		return err;
	}
	p->region = r;
	return HK_OK;
}
