/* The region from IMDS (placement/region), for a client that has no other
 * source; single-flight through the provider. */
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
