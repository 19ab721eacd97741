/* POST /v1/sns: SNS HTTP(S) subscriptions (docs/aws-facts.md).
 *
 * Nothing in an SNS message is acted on before it is verified, in this order:
 *   1. the body parses as an SNS message with every field signing needs;
 *   2. its TopicArn is in sns.topic_arns (so an unlisted topic costs no fetch);
 *   3. SigningCertURL (and SubscribeURL) pass hook_sns_url_check(): https, an
 *      sns.<region>.amazonaws.com[.cn] host, no userinfo, port or IP literal.
 *      Only then is anything fetched (SSRF);
 *   4. the signing certificate, fetched asynchronously (httpc, https only, TLS
 *      verified) or taken from the cache, chains to the trust roots;
 *   5. the RSA signature (PKCS#1 v1.5, SHA1 for version 1, SHA256 for 2) over
 *      the exact string to sign verifies with the certificate's key;
 *   6. its Timestamp is within sns.max_age_s (and not 5 min ahead), and a
 *      confirmation's SubscribeURL confirms its own TopicArn (stale_why).
 * Then: Notification -> the Message is an Auto Scaling notification, committed
 * like any other event (answered 2xx only after the commit, 503 when the store
 * cannot commit so SNS retries); SubscriptionConfirmation -> GET SubscribeURL,
 * 200 once SNS answered 200; UnsubscribeConfirmation -> logged, 200.
 *
 * Certificates are cached by URL in common's single-flight cache (hk_sf:
 * HK_CAP_SNS_CERT_CACHE entries, the oldest idle one evicted, refetched after
 * a day or once expired). Requests waiting for the same URL share one fetch. A request waiting on a
 * fetch keeps its evhttp_request: libevent detaches a request whose connection dies before the
 * reply (it is freed by the reply), so answering late is safe; hook_sns_free() drops waiters before
 * the intake frees the connections. */
#include "intake_internal.h"

#include "hk_list.h"
#include "hk_sf.h"

#include "hk_json.h"

#include "awsclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#define FETCH_CONNECT_MS 3000
#define FETCH_TIMEOUT_MS 5000
#define CERT_MAX_AGE_MS	 (24 * 3600 * 1000LL)

/* ------------------------------------------------------------ URL checks */

static bool ends_with(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);
	return len >= n && memcmp(s + len - n, suf, n) == 0;
}

hk_err hook_sns_url_check(const char *url, bool cert, hk_errinfo *ei)
{
	const char *what = cert ? "SigningCertURL" : "SubscribeURL";
	if (!url || !*url)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: missing", what);
	size_t len = strlen(url);
	if (len > HK_CAP_SNS_URL)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: longer than %u bytes", what,
				      HK_CAP_SNS_URL);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
			return hk_errinfo_set(ei, HK_ERR_INVALID, i,
					      "%s: character at offset %zu not allowed", what, i);
	}
	if (strncmp(url, "https://", 8) != 0)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: must start with https://", what);
	const char *host = url + 8;
	size_t hlen = strcspn(host, "/?");
	if (host[hlen] != '/')
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: no path after the host", what);
	if (memchr(host, '@', hlen))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: user information not allowed",
				      what);
	if (memchr(host, ':', hlen) || memchr(host, '[', hlen))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s: a port or an IP literal is not allowed", what);
	if (!hook_sns_host_ok(host, hlen))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				      "%s: host is not sns.<region>.amazonaws.com[.cn]", what);
	const char *path = host + hlen;
	if (cert) {
		if (strchr(path, '?'))
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: query not allowed", what);
		if (!ends_with(path, strlen(path), ".pem") || strlen(path) < 6)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: path must end in .pem",
					      what);
	}
	return HK_OK;
}

bool hook_sns_topic_allowed(const hook_config *cfg, const char *arn)
{
	if (!cfg || !arn)
		return false;
	for (size_t i = 0; i < cfg->n_sns_topic_arns; i++)
		if (cfg->sns_topic_arns[i] && !strcmp(cfg->sns_topic_arns[i], arn))
			return true;
	return false;
}

/* --------------------------------------------------------- message parse */

void hook_sns_msg_cleanup(hook_sns_msg *m)
{
	if (!m)
		return;
	char **all[] = {
	    &m->type_str,  &m->message_id,	  &m->topic_arn,       &m->subject,
	    &m->message,   &m->timestamp,	  &m->token,	       &m->subscribe_url,
	    &m->signature, &m->signature_version, &m->signing_cert_url};
	for (size_t i = 0; i < HK_ARRAY_LEN(all); i++) {
		free(*all[i]);
		*all[i] = NULL;
	}
	m->message_len = 0;
}

/* Copy string member `key` into *out (NULL when absent and not required). */
static hk_err take(json_t *root, const char *key, bool required, size_t cap, char **out,
		   size_t *ret_len, hk_errinfo *ei)
{
	json_t *j = json_object_get(root, key);
	if (!j || json_is_null(j)) {
		if (required)
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: missing (required)", key);
		return HK_OK;
	}
	if (!json_is_string(j))
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: must be a string", key);
	size_t len = json_string_length(j);
	const char *s = json_string_value(j);
	if (len > cap)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "%s: longer than %zu bytes", key,
				      cap);
	if (strlen(s) != len)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: contains a NUL character", key);
	if (required && len == 0)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "%s: must not be empty", key);
	*out = malloc(len + 1);
	if (!*out)
		return hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	memcpy(*out, s, len + 1);
	if (ret_len)
		*ret_len = len;
	return HK_OK;
}

/* The SNS message of one JSON object (hk_json_parse_object's `from`). */
static hk_err sns_msg_from(json_t *root, void *ret, hk_errinfo *ei)
{
	hook_sns_msg m = {0};
	hk_err err;
	if ((err = take(root, "Type", true, 64, &m.type_str, NULL, ei)))
		goto out;
	if (!strcmp(m.type_str, "Notification")) {
		m.type = HOOK_SNS_NOTIFICATION;
	} else if (!strcmp(m.type_str, "SubscriptionConfirmation")) {
		m.type = HOOK_SNS_SUBSCRIPTION_CONFIRMATION;
	} else if (!strcmp(m.type_str, "UnsubscribeConfirmation")) {
		m.type = HOOK_SNS_UNSUBSCRIBE_CONFIRMATION;
	} else {
		err = hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				     "Type: \"%.64s\": not an SNS message type (Notification, "
				     "SubscriptionConfirmation, UnsubscribeConfirmation)",
				     m.type_str);
		goto out;
	}
	bool confirm = m.type != HOOK_SNS_NOTIFICATION;
	if ((err = take(root, "MessageId", true, HK_CAP_SNS_FIELD, &m.message_id, NULL, ei)) ||
	    (err = take(root, "TopicArn", true, HK_CAP_SNS_FIELD, &m.topic_arn, NULL, ei)) ||
	    (err =
		 take(root, "Message", true, HK_CAP_SNS_MESSAGE, &m.message, &m.message_len, ei)) ||
	    (err = take(root, "Timestamp", true, HK_CAP_SNS_FIELD, &m.timestamp, NULL, ei)) ||
	    (err = take(root, "SignatureVersion", true, 8, &m.signature_version, NULL, ei)) ||
	    (err = take(root, "Signature", true, HK_CAP_SNS_FIELD, &m.signature, NULL, ei)) ||
	    (err = take(root, "SigningCertURL", true, HK_CAP_SNS_URL, &m.signing_cert_url, NULL,
			ei)) ||
	    (!confirm &&
	     (err = take(root, "Subject", false, HK_CAP_SNS_FIELD, &m.subject, NULL, ei))) ||
	    (confirm && (err = take(root, "Token", true, HK_CAP_SNS_FIELD, &m.token, NULL, ei))) ||
	    (confirm &&
	     (err = take(root, "SubscribeURL", true, HK_CAP_SNS_URL, &m.subscribe_url, NULL, ei))))
		goto out;
	if (strcmp(m.signature_version, "1") != 0 && strcmp(m.signature_version, "2") != 0)
		err = hk_errinfo_set(ei, HK_ERR_INVALID, 0,
				     "SignatureVersion: \"%.8s\": must be \"1\" or \"2\"",
				     m.signature_version);
out:
	if (err)
		hook_sns_msg_cleanup(&m);
	else
		*(hook_sns_msg *)ret = m;
	return err;
}

hk_err hook_sns_msg_parse(const char *body, size_t len, hook_sns_msg *ret, hk_errinfo *ei)
{
	return hk_json_parse_object(body, len, "an SNS message", "the SNS message", sns_msg_from,
				    ret, ei);
}

/* ---------------------------------------------------------- string to sign */

hk_err hook_sns_string_to_sign(const hook_sns_msg *m, char **ret, size_t *ret_len)
{
	const char *keys[7], *vals[7];
	size_t n = 0;
	if (!m || !m->message || !m->message_id || !m->timestamp || !m->topic_arn || !m->type_str)
		return HK_ERR_INVALID;
#define ADD(k, v)                                                                                  \
	do {                                                                                       \
		keys[n] = (k);                                                                     \
		vals[n] = (v);                                                                     \
		n++;                                                                               \
	} while (0)
	ADD("Message", m->message);
	ADD("MessageId", m->message_id);
	if (m->type == HOOK_SNS_NOTIFICATION) {
		if (m->subject)
			ADD("Subject", m->subject);
		ADD("Timestamp", m->timestamp);
	} else {
		if (!m->subscribe_url || !m->token)
			return HK_ERR_INVALID;
		ADD("SubscribeURL", m->subscribe_url);
		ADD("Timestamp", m->timestamp);
		ADD("Token", m->token);
	}
	ADD("TopicArn", m->topic_arn);
	ADD("Type", m->type_str);
#undef ADD
	size_t total = 1;
	for (size_t i = 0; i < n; i++) {
		size_t vl = vals[i] == m->message ? m->message_len : strlen(vals[i]);
		total += strlen(keys[i]) + vl + 2;
	}
	char *buf = malloc(total);
	if (!buf)
		return HK_ERR_NOMEM;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i]);
		size_t vl = vals[i] == m->message ? m->message_len : strlen(vals[i]);
		memcpy(buf + off, keys[i], kl);
		off += kl;
		buf[off++] = '\n';
		memcpy(buf + off, vals[i], vl);
		off += vl;
		buf[off++] = '\n';
	}
	buf[off] = '\0';
	*ret = buf;
	*ret_len = off;
	return HK_OK;
}

/* ------------------------------------------------------- crypto (OpenSSL) */

/* The name SNS signing certificates are issued to. */
#define SNS_SIGNER_NAME "sns.amazonaws.com"

hk_err hook_sns_cert_load(const char *pem, size_t len, X509_STORE *roots, X509 **ret,
			  hk_errinfo *ei)
{
	if (!pem || !roots)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "no certificate or no trust roots");
	if (len > HK_CAP_SNS_CERT)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "certificate larger than %u bytes",
				      HK_CAP_SNS_CERT);
	if (len > (size_t)INT32_MAX)
		return hk_errinfo_set(ei, HK_ERR_TOO_LARGE, 0, "certificate too large");
	hk_err err = HK_OK;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *ctx = NULL;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
		goto out;
	}
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!cert) {
		err = hk_errinfo_set(ei, HK_ERR_PARSE, 0, "not a PEM certificate");
		goto out;
	}
	/* Anything after the first certificate is an untrusted intermediate. */
	chain = sk_X509_new_null();
	if (!chain) {
		err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
		goto out;
	}
	for (int i = 0; i < 8; i++) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x)
			break;
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
			goto out;
		}
	}
	ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, roots, cert, chain) != 1) {
		err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "cannot set up verification");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		err = hk_errinfo_set(ei, HK_ERR_DENIED, 0, "certificate not trusted: %s",
				     X509_verify_cert_error_string(e));
		goto out;
	}
	/* A trusted chain is not enough: any certificate a public CA issued
	 * would pass. SNS signs with one issued to sns.amazonaws.com. */
	if (X509_check_host(cert, SNS_SIGNER_NAME, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) !=
	    1) {
		err = hk_errinfo_set(ei, HK_ERR_DENIED, 0,
				     "certificate not issued to " SNS_SIGNER_NAME);
		goto out;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(bio);
	if (err) {
		X509_free(cert);
		return err;
	}
	*ret = cert;
	return HK_OK;
}

/* Strict base64 (RFC 4648, padded, no whitespace) into out[cap]. */
static hk_err b64_decode(const char *s, unsigned char *out, size_t cap, size_t *ret_len)
{
	size_t len = strlen(s);
	if (len == 0 || len % 4 != 0 || (len / 4) * 3 > cap)
		return HK_ERR_INVALID;
	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (!ok || pad)
			return HK_ERR_INVALID;
	}
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad)
		return HK_ERR_INVALID;
	*ret_len = (size_t)n - pad;
	return HK_OK;
}

hk_err hook_sns_verify(const hook_sns_msg *m, X509 *cert, hk_errinfo *ei)
{
	if (!m || !cert || !m->signature || !m->signature_version)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "nothing to verify");
	const EVP_MD *md;
	if (!strcmp(m->signature_version, "1"))
		md = EVP_sha1();
	else if (!strcmp(m->signature_version, "2"))
		md = EVP_sha256();
	else
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "SignatureVersion: must be 1 or 2");
	unsigned char sig[HK_CAP_SNS_FIELD];
	size_t sig_len = 0;
	if (b64_decode(m->signature, sig, sizeof(sig), &sig_len) != HK_OK)
		return hk_errinfo_set(ei, HK_ERR_INVALID, 0, "Signature: not base64");
	char *tbs = NULL;
	size_t tbs_len = 0;
	hk_err err = hook_sns_string_to_sign(m, &tbs, &tbs_len);
	if (err)
		return hk_errinfo_set(ei, err, 0, "cannot build the string to sign");
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		err = hk_errinfo_set(ei, HK_ERR_DENIED, 0, "signing certificate has no RSA key");
	} else if (!ctx) {
		err = hk_errinfo_set(ei, HK_ERR_NOMEM, 0, "out of memory");
	} else if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) != 1) {
		err = hk_errinfo_set(ei, HK_ERR_DENIED, 0, "cannot verify with this key");
	} else if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)tbs, tbs_len) != 1) {
		err = hk_errinfo_set(ei, HK_ERR_DENIED, 0, "signature does not verify");
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(tbs);
	return err;
}

/* ---------------------------------------------------------- the service */

typedef struct cert_fetch cert_fetch;

/* One request waiting for a certificate or for its SubscribeURL GET. */
typedef struct pending {
	hk_list link; /* in hook_sns.waiting or hook_sns.confirms */
	hook_sns *s;
	struct evhttp_request *req;
	hook_sns_msg msg;
	httpc_xfer *xfer; /* the SubscribeURL GET, while confirming */
} pending;

/* One certificate fetch in flight (the key of the cache entry it fills). */
struct cert_fetch {
	hk_list link; /* in hook_sns.fetches */
	hook_sns *s;
	char *url;
	httpc_xfer *xfer;
};

struct hook_sns {
	struct event_base *base;
	const hook_config *cfg;
	hook_store *store;
	hook_engine *engine;
	httpc *http;
	X509_STORE *roots;
	hk_sf *certs;	 /* URL -> X509 (cert_ready waiters are pending) */
	hk_list fetches; /* cert_fetch */
	hk_list waiting; /* pending, waiting on a certificate */
	size_t n_waiting;
	hk_list confirms; /* pending */
};

/* The first request of `list` taken off it, or NULL. */
static pending *pending_pop(hk_list *list)
{
	hk_list *n = hk_list_first(list);
	if (!n)
		return NULL;
	hk_list_del(n);
	return HK_CONTAINER_OF(n, pending, link);
}

static void pending_free(pending *p)
{
	if (!p)
		return;
	if (p->xfer)
		httpc_cancel(p->xfer);
	hook_sns_msg_cleanup(&p->msg);
	free(p);
}

static void log_msg(hook_log_level l, const char *text, const hook_sns_msg *m, const char *why)
{
	json_t *f =
	    json_pack("{s:s,s:s?,s:s?,s:s?}", "via", "sns", "sns_type", m ? m->type_str : NULL,
		      "topic_arn", m ? m->topic_arn : NULL, "message_id", m ? m->message_id : NULL);
	if (l == HOOK_LOG_WARN) {
		hook_log_rejected(text, why, f); /* a rejection: rate limited */
		return;
	}
	if (f && why)
		json_object_set_new(f, "reason", json_string(why));
	hook_log_json(l, text, f);
}

static void finish_notification(hook_sns *s, pending *p)
{
	hook_event ev;
	hk_errinfo ei = {0};
	hk_err err = hook_event_parse(p->msg.message, p->msg.message_len, &ev, &ei);
	if (err == HK_OK && ev.kind == HOOK_EVENT_SNS_CONTROL) {
		hook_event_cleanup(&ev);
		err = hk_errinfo_set(&ei, HK_ERR_INVALID, 0,
				     "Message: an SNS message inside an SNS message");
	}
	if (err) {
		if (err == HK_ERR_NOMEM)
			hook_intake_reply_503(p->req, "out of memory");
		else
			hook_http_reply_reason(p->req, 400, "bad request", ei.text);
		log_msg(HOOK_LOG_WARN, "SNS notification rejected", &p->msg, ei.text);
		return;
	}
	/* The verified envelope names the delivery: dedupe on its MessageId (SNS
	 * retries reuse it), as the unverified /v1/events path does. */
	ev.source = HOOK_SOURCE_SNS;
	snprintf(ev.event_id, sizeof(ev.event_id), "sns:%.*s", (int)(sizeof(ev.event_id) - 5),
		 p->msg.message_id);
	int64_t id = 0;
	hook_commit_result r = hook_intake_commit(s->cfg, s->store, s->engine, &ev, "sns", &id);
	hook_intake_reply_commit(p->req, r, id, &ev);
	hook_event_cleanup(&ev);
}

static void on_confirmed(const httpc_response *resp, void *arg)
{
	pending *p = arg;
	p->xfer = NULL;
	hk_list_del(&p->link);
	if (resp->err == HK_OK && resp->status == 200) {
		hook_http_reply_reason(p->req, 200, "confirmed", "subscription confirmed");
		log_msg(HOOK_LOG_INFO, "SNS subscription confirmed", &p->msg, NULL);
	} else {
		char why[160];
		if (resp->err)
			snprintf(why, sizeof(why), "SubscribeURL GET failed: %s",
				 hk_err_str(resp->err));
		else
			snprintf(why, sizeof(why), "SubscribeURL answered HTTP %ld", resp->status);
		hook_intake_reply_503(p->req, "could not confirm the subscription now: retry");
		log_msg(HOOK_LOG_WARN, "SNS subscription not confirmed", &p->msg, why);
	}
	pending_free(p);
}

static httpc_request fetch_request(const hook_sns *s, const char *url, size_t max_body)
{
	httpc_request r;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = url;
	r.connect_timeout_ms = FETCH_CONNECT_MS;
	r.timeout_ms = FETCH_TIMEOUT_MS;
	r.max_body = max_body;
	r.https_only = true;
	r.ca_file = s->cfg->sns_test_ca_file;
	r.connect_to = s->cfg->sns_test_connect_to;
	return r;
}

/* The certificate is trusted: verify and act. Takes ownership of `p`. */
static void finish(hook_sns *s, pending *p, X509 *cert)
{
	hk_errinfo ei = {0};
	hk_err err = hook_sns_verify(&p->msg, cert, &ei);
	if (err) {
		if (err == HK_ERR_NOMEM)
			hook_intake_reply_503(p->req, "out of memory");
		else
			hook_http_reply_reason(p->req, 403, "forbidden",
					       "SNS message signature does not verify");
		log_msg(HOOK_LOG_WARN, "SNS message rejected: bad signature", &p->msg, ei.text);
		pending_free(p);
		return;
	}
	const char *stale = hook_sns_stale_why(&p->msg, s->cfg->sns_max_age_s, hook_now_ms());
	if (stale) {
		hook_http_reply_reason(p->req, 403, "forbidden", stale);
		log_msg(HOOK_LOG_WARN, "SNS message rejected", &p->msg, stale);
		pending_free(p);
		return;
	}
	switch (p->msg.type) {
	case HOOK_SNS_NOTIFICATION:
		finish_notification(s, p);
		break;
	case HOOK_SNS_UNSUBSCRIBE_CONFIRMATION:
		hook_http_reply_reason(p->req, 200, "ok", "unsubscribe confirmation noted");
		log_msg(HOOK_LOG_INFO, "SNS unsubscribe confirmation received", &p->msg, NULL);
		break;
	case HOOK_SNS_SUBSCRIPTION_CONFIRMATION: {
		httpc_request r = fetch_request(s, p->msg.subscribe_url, HK_CAP_SNS_CONFIRM_BODY);
		/* The URL carries the subscription token: never logged. */
		if (httpc_send(s->http, &r, on_confirmed, p, &p->xfer) != HK_OK) {
			hook_intake_reply_503(p->req, "cannot confirm the subscription now: retry");
			log_msg(HOOK_LOG_ERROR, "SNS subscription confirmation not sent", &p->msg,
				NULL);
			break;
		}
		hk_list_push_back(&s->confirms, &p->link);
		log_msg(HOOK_LOG_INFO, "SNS subscription confirmation: confirming", &p->msg, NULL);
		return; /* answered in on_confirmed */
	}
	}
	pending_free(p);
}

static void cert_free(void *cert)
{
	X509_free(cert);
}

static void cert_fetch_free(cert_fetch *f)
{
	hk_list_del(&f->link);
	if (f->xfer)
		httpc_cancel(f->xfer);
	free(f->url);
	free(f);
}

/* Why a fetch gave no certificate (the detail its waiters read). */
typedef struct cert_answer {
	int status; /* 503: retry later; else 400 */
	const char *reason;
} cert_answer;

/* A request waiting on a certificate: verify with it, or answer why not. */
static void cert_ready(void *arg, const char *key, hk_err err, void *value)
{
	pending *p = arg;
	hook_sns *s = p->s;
	hk_list_del(&p->link);
	s->n_waiting--;
	if (err == HK_OK) {
		finish(s, p, value);
		return;
	}
	const cert_answer *ans = hk_sf_detail(s->certs, key);
	if (!ans || ans->status == 503)
		hook_intake_reply_503(p->req,
				      ans ? ans->reason
					  : "cannot fetch the SNS signing certificate now: retry");
	else
		hook_http_reply_reason(p->req, ans->status, "bad request", ans->reason);
	pending_free(p);
}
static void on_cert_fetched(const httpc_response *resp, void *arg)
{
	cert_fetch *f = arg;
	hook_sns *s = f->s;
	f->xfer = NULL;
	X509 *cert = NULL;
	hk_errinfo ei = {0};
	int status = 0; /* 0 = cert ready */
	const char *reason = NULL;
	if (resp->err != HK_OK || resp->status >= 500 || resp->status == 429) {
		status = 503;
		reason = "cannot fetch the SNS signing certificate now: retry";
		snprintf(ei.text, sizeof(ei.text), "fetch failed: %s (HTTP %ld)",
			 resp->err ? hk_err_str(resp->err) : "status", resp->status);
	} else if (resp->status != 200) {
		status = 400;
		reason = "SigningCertURL does not serve a certificate";
		snprintf(ei.text, sizeof(ei.text), "SigningCertURL answered HTTP %ld",
			 resp->status);
	} else if (hook_sns_cert_load(resp->body, resp->body_len, s->roots, &cert, &ei) != HK_OK) {
		status = 400;
		reason = "the SNS signing certificate is not trusted";
	}
	if (status) {
		/* not cached: the next message fetches again */
		log_msg(HOOK_LOG_WARN, "SNS signing certificate rejected", NULL, ei.text);
		cert_answer ans = {status, reason};
		hk_sf_done_with(s->certs, f->url, HK_ERR_INVALID, NULL, hk_mono_ms(), 0, &ans);
	} else {
		hook_log(HOOK_LOG_INFO, "SNS signing certificate fetched and trusted", NULL);
		/* the waiters, in arrival order, verify with it */
		hk_sf_done(s->certs, f->url, HK_OK, cert, hk_mono_ms(), CERT_MAX_AGE_MS);
	}
	cert_fetch_free(f);
}
/* A cached certificate is used until a day old (the cache's TTL) or its
 * notAfter has passed. */
static bool cert_unexpired(const X509 *cert)
{
	return X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
}
void hook_sns_handle(hook_sns *s, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	if (len > s->cfg->max_body_bytes) {
		hook_http_reply_reason(req, 413, "too large", "body exceeds limits.max_body_bytes");
		return;
	}
	const char *data = len ? (const char *)evbuffer_pullup(body, -1) : "";
	pending *p = calloc(1, sizeof(*p));
	if (!p) {
		hook_intake_reply_503(req, "out of memory");
		return;
	}
	p->s = s;
	p->req = req;
	hk_errinfo ei = {0};
	hk_err err = hook_sns_msg_parse(data, len, &p->msg, &ei);
	if (err) {
		if (err == HK_ERR_NOMEM)
			hook_intake_reply_503(req, "out of memory");
		else
			hook_http_reply_reason(req, 400, "bad request", ei.text);
		log_msg(HOOK_LOG_WARN, "SNS message rejected", NULL, ei.text);
		free(p);
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *ht = evhttp_find_header(h, "x-amz-sns-message-type");
	const char *ha = evhttp_find_header(h, "x-amz-sns-topic-arn");
	const char *bad = NULL;
	int status = 400;
	if ((ht && strcmp(ht, p->msg.type_str) != 0) || (ha && strcmp(ha, p->msg.topic_arn) != 0)) {
		bad = "x-amz-sns-message-type / x-amz-sns-topic-arn headers contradict the body";
	} else if (!hook_sns_topic_allowed(s->cfg, p->msg.topic_arn)) {
		status = 403;
		bad = "TopicArn is not in sns.topic_arns";
	} else if (hook_sns_url_check(p->msg.signing_cert_url, true, &ei) != HK_OK ||
		   (p->msg.subscribe_url &&
		    hook_sns_url_check(p->msg.subscribe_url, false, &ei) != HK_OK)) {
		bad = ei.text;
	}
	if (bad) {
		hook_http_reply_reason(req, status, status == 403 ? "forbidden" : "bad request",
				       bad);
		log_msg(HOOK_LOG_WARN, "SNS message rejected", &p->msg, bad);
		pending_free(p);
		return;
	}

	int64_t now = hk_mono_ms();
	const char *url = p->msg.signing_cert_url;
	void *cert = NULL;
	hk_sf_next next = hk_sf_join(s->certs, url, now, NULL, NULL, &cert); /* a probe */
	if (next == HK_SF_HIT && !cert_unexpired(cert)) {
		hk_sf_forget(s->certs, url);
		next = HK_SF_FETCH;
	}
	if (next == HK_SF_HIT) {
		finish(s, p, cert);
		return;
	}
	if (s->n_waiting >= HK_CAP_SNS_WAITERS) {
		hook_intake_reply_503(req, "too many SNS messages waiting for certificates: retry");
		log_msg(HOOK_LOG_WARN, "SNS message deferred: waiter limit", &p->msg, NULL);
		pending_free(p);
		return;
	}
	next = hk_sf_join(s->certs, url, now, cert_ready, p, &cert);
	if (next == HK_SF_ALONE) {
		hook_intake_reply_503(req, "cannot fetch the SNS signing certificate now: retry");
		log_msg(HOOK_LOG_WARN, "SNS message deferred: certificate cache busy", &p->msg,
			NULL);
		pending_free(p);
		return;
	}
	hk_list_push_back(&s->waiting, &p->link);
	s->n_waiting++;
	if (next != HK_SF_FETCH)
		return; /* a fetch of this URL is out: cert_ready answers */
	cert_fetch *f = calloc(1, sizeof(*f));
	if (f) {
		hk_list_init(&f->link);
		f->s = s;
		f->url = strdup(url);
	}
	httpc_request r = fetch_request(s, url, HK_CAP_SNS_CERT);
	if (!f || !f->url || httpc_send(s->http, &r, on_cert_fetched, f, &f->xfer) != HK_OK) {
		log_msg(HOOK_LOG_ERROR, "SNS certificate fetch not started", &p->msg, NULL);
		if (f)
			cert_fetch_free(f);
		/* no detail: every waiter (only p yet) hears "retry" */
		hk_sf_done(s->certs, url, HK_ERR_IO, NULL, now, 0);
		return;
	}
	hk_list_push_back(&s->fetches, &f->link);
}

hk_err hook_sns_new(struct event_base *base, const hook_config *cfg, hook_store *store,
		    hook_engine *engine, hook_sns **ret)
{
	hook_sns *s = malloc(sizeof(*s));
	if (!s)
		return HK_ERR_NOMEM;
	*s = (hook_sns){.base = base, .cfg = cfg, .store = store, .engine = engine};
	hk_list_init(&s->fetches);
	hk_list_init(&s->waiting);
	hk_list_init(&s->confirms);
	hk_err err = HK_ERR_NOMEM;
	s->roots = X509_STORE_new();
	if (!s->roots)
		goto fail;
	int ok = cfg->sns_test_ca_file ? X509_STORE_load_file(s->roots, cfg->sns_test_ca_file)
				       : X509_STORE_set_default_paths(s->roots);
	ERR_clear_error();
	if (ok != 1) {
		err = HK_ERR_IO;
		goto fail;
	}
	if ((err = httpc_new(base, &s->http)))
		goto fail;
	s->certs = hk_sf_new(HK_CAP_SNS_CERT_CACHE, HK_CAP_SNS_WAITERS, cert_free);
	if (!s->certs) {
		err = HK_ERR_NOMEM;
		goto fail;
	}
	if (cfg->sns_test_ca_file || cfg->sns_test_connect_to)
		hook_log(HOOK_LOG_WARN,
			 "SNS test settings in effect (sns.test_ca_file / sns.test_connect_to): "
			 "not for production",
			 NULL);
	*ret = s;
	return HK_OK;
fail:
	hook_sns_free(s);
	return err;
}

/* Teardown: a request whose connection already died was detached by evhttp
 * and is ours to free; the others go with their connections. */
static void pending_drop(pending *p)
{
	if (p->req && !evhttp_request_get_connection(p->req))
		evhttp_request_free(p->req);
	pending_free(p);
}

void hook_sns_free(hook_sns *s)
{
	if (!s)
		return;
	while (!hk_list_empty(&s->fetches))
		cert_fetch_free(HK_CONTAINER_OF(s->fetches.next, cert_fetch, link));
	for (pending *p; (p = pending_pop(&s->waiting));) {
		s->n_waiting--;
		pending_drop(p);
	}
	hk_sf_free(s->certs); /* its waiters were dropped above */
	for (pending *p; (p = pending_pop(&s->confirms));)
		pending_drop(p);
	httpc_free(s->http);
	X509_STORE_free(s->roots);
	free(s);
}

void hook_sns_set_config(hook_sns *s, const hook_config *cfg)
{
	if (s)
		s->cfg = cfg;
}
