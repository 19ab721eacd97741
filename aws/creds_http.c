/* Credential providers over HTTP: web identity (STS AssumeRoleWithWebIdentity,
 * sent unsigned: the token is the credential) and the container endpoint
 * (ECS / EKS Pod Identity). One stage each of the chain (creds.c). */
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
#include "hk_util.h"
#include "query.h"

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
		hk_err err = creds_http_failure(r, why, sizeof(why));
		creds_fetch_finish(f, err, NULL, "web identity: STS AssumeRoleWithWebIdentity: %s",
				   why);
		return;
	}
	creds_value *v = NULL;
	hk_err err = creds_from_sts_xml(r->body, r->body_len, &v, why, sizeof(why));
	creds_fetch_finish(f, err, v, "web identity: STS answer: %s", why);
}

enum stage_rc creds_stage_web_identity(struct fetch *f)
{
	creds_provider *p = f->p;
	const char *role = creds_env_get(p, "AWS_ROLE_ARN");
	const char *token_file = creds_env_get(p, "AWS_WEB_IDENTITY_TOKEN_FILE");
	if (!role || !token_file)
		return STAGE_SKIP;
	char *token = NULL;
	size_t token_len = 0;
	hk_err err = hk_file_read(token_file, HK_CAP_CREDS_FILE, &token, &token_len, NULL);
	if (err != HK_OK) {
		creds_fetch_finish(
		    f, err == HK_ERR_NOT_FOUND ? HK_ERR_IO : err, NULL,
		    "web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE %.200s: %s", token_file,
		    hk_err_str(err));
		return STAGE_PENDING;
	}
	creds_trim_right(token);
	char session[64];
	const char *sess = creds_env_get(p, "AWS_ROLE_SESSION_NAME");
	if (!sess) {
		snprintf(session, sizeof(session), "multus-hookd-%lld", (long long)creds_now_s(p));
		sess = session;
	}
	/* The typed call's own builder (sts_msgs.c); sent unsigned on the
	 * provider's HTTP client, since the chain runs below the signing client. */
	char *body = NULL;
	size_t body_len = 0;
	sts_assume_role_web_identity_req sreq = {
	    .role_arn = role, .session_name = sess, .web_identity_token = token};
	query_params *q = NULL;
	err = sts_build_assume_role_web_identity(&sreq, &q, NULL);
	if (err == HK_OK)
		err = query_encode(q, &body, &body_len);
	query_params_free(q);
	OPENSSL_cleanse(token, token_len);
	free(token);
	if (err != HK_OK) {
		creds_fetch_finish(f, err, NULL, "web identity: cannot build the STS request: %s",
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
		creds_fetch_finish(f, err, NULL, "web identity: cannot send to %.200s: %s",
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
		hk_err err = creds_http_failure(r, why, sizeof(why));
		creds_fetch_finish(f, err, NULL, "container credentials endpoint: %s", why);
		return;
	}
	creds_value *v = NULL;
	hk_err err =
	    creds_from_json(r->body, r->body_len, "Token", "container", &v, why, sizeof(why));
	creds_fetch_finish(f, err, v, "container credentials: %s", why);
}

enum stage_rc creds_stage_container(struct fetch *f)
{
	creds_provider *p = f->p;
	const char *rel = creds_env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = creds_env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (!rel && !full)
		return STAGE_SKIP;
	char url[2048];
	if (rel) {
		int n = snprintf(url, sizeof(url), "%s%s%s", CONTAINER_RELATIVE,
				 rel[0] == '/' ? "" : "/", rel);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			creds_fetch_finish(
			    f, HK_ERR_INVALID, NULL,
			    "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI too long");
			return STAGE_PENDING;
		}
	} else {
		if (!creds_container_uri_allowed(full)) {
			creds_fetch_finish(
			    f, HK_ERR_INVALID, NULL,
			    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI %.200s must be "
			    "https or http to loopback, 169.254.170.2 or 169.254.170.23",
			    full);
			return STAGE_PENDING;
		}
		int n = snprintf(url, sizeof(url), "%s", full);
		if (n < 0 || (size_t)n >= sizeof(url)) {
			creds_fetch_finish(
			    f, HK_ERR_INVALID, NULL,
			    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI too long");
			return STAGE_PENDING;
		}
	}
	char *token = NULL;
	const char *token_file = creds_env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (token_file) {
		size_t len = 0;
		hk_err err = hk_file_read(token_file, HK_CAP_CREDS_FILE, &token, &len, NULL);
		if (err != HK_OK) {
			creds_fetch_finish(
			    f, err == HK_ERR_NOT_FOUND ? HK_ERR_IO : err, NULL,
			    "container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
			    "%.200s: %s",
			    token_file, hk_err_str(err));
			return STAGE_PENDING;
		}
		creds_trim_right(token);
	} else if (creds_env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
		token = strdup(creds_env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN"));
		if (!token) {
			creds_fetch_finish(f, HK_ERR_NOMEM, NULL, "container: out of memory");
			return STAGE_PENDING;
		}
	}
	if (token && strpbrk(token, "\r\n")) {
		creds_wipe_free(token);
		creds_fetch_finish(f, HK_ERR_INVALID, NULL,
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
	creds_wipe_free(token);
	if (err != HK_OK)
		creds_fetch_finish(f, err, NULL, "container: cannot send to %.200s: %s", url,
				   hk_err_str(err));
	return STAGE_PENDING;
}
