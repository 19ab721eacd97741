/* hook/intake: declarations shared by the intake's files (not a public
 * header: the rest of the daemon includes hook_intake.h).
 *
 *   sns.c         POST /v1/sns: SNS HTTP(S) subscriptions. Every message is
 *                 verified (TopicArn allow-list, SigningCertURL checks, the
 *                 certificate's chain, the RSA signature) before anything acts
 *                 on it; SubscriptionConfirmation GETs the checked SubscribeURL.
 *   sqs.c         the SQS consumer: long-polls a queue, commits lifecycle
 *                 events, deletes a message only after its commit.
 *   intake.c      hook_intake_commit(), shared by all three paths.
 *
 * docs/intake.md describes both paths for operators. Everything runs on the
 * one loop thread and nothing here blocks it. */
#ifndef HOOK_INTAKE_INTERNAL_H
#define HOOK_INTAKE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hk_caps.h"
#include "hk_common.h"
#include "hook_intake.h"

struct event_base;
struct evhttp_request;
struct x509_st;
struct x509_store_st;

/* ======================================================================
 * Commit (intake.c): the one place an accepted lifecycle event is stored
 * ====================================================================== */

typedef enum hook_commit_result {
	HOOK_COMMIT_ACCEPTED = 0, /* a new action was committed (engine told) */
	HOOK_COMMIT_DUPLICATE,	  /* same token+instance or event id: nothing changed */
	HOOK_COMMIT_IGNORED,	  /* TEST_NOTIFICATION: nothing to do */
	HOOK_COMMIT_FOREIGN_HOOK, /* another tool's hook on a group we serve: not stored */
	HOOK_COMMIT_NO_GROUP,	  /* no node group matches: permanent, not stored */
	HOOK_COMMIT_STORE_FAILED, /* the store could not commit: retry later */
} hook_commit_result;

/* Commit a parsed event `ev` (kind LIFECYCLE or TEST; borrowed, not
 * modified) to `store`, log the
 * outcome (`via` names the path in logs: "http", "sns", "sqs"), and on
 * ACCEPTED hand the new action to `engine`. *ret_id (may be NULL) receives
 * the action id for ACCEPTED/DUPLICATE. Never blocks beyond the local SQLite
 * commit. */
hook_commit_result hook_intake_commit(const hook_config *cfg, hook_store *store,
				      hook_engine *engine, hook_event *ev, const char *via,
				      int64_t *ret_id);
/* The HTTP answer to a commit (the /v1/events and /v1/sns paths): 202 or 200
 * with {"status", "action_id"}; 200 "ignored" for a test notification or
 * another tool's hook; 400 naming the unmatched group; 503 with Retry-After
 * when the store failed. */
struct evhttp_request;
void hook_intake_reply_commit(struct evhttp_request *req, hook_commit_result r, int64_t id,
			      const hook_event *ev);
/* 503 with Retry-After: the sender should retry (nothing was stored). */
void hook_intake_reply_503(struct evhttp_request *req, const char *reason);

/* ======================================================================
 * SNS (sns.c)
 * ====================================================================== */

typedef enum hook_sns_type {
	HOOK_SNS_NOTIFICATION = 0,
	HOOK_SNS_SUBSCRIPTION_CONFIRMATION,
	HOOK_SNS_UNSUBSCRIBE_CONFIRMATION,
} hook_sns_type;

/* An SNS HTTP message, as far as verification needs it. Every string is a
 * heap copy (NUL-free, checked against its cap) or NULL when absent; release
 * with hook_sns_msg_cleanup(). */
typedef struct hook_sns_msg {
	hook_sns_type type;
	char *type_str;		 /* "Notification", ... */
	char *message_id;	 /* MessageId */
	char *topic_arn;	 /* TopicArn */
	char *subject;		 /* Subject (Notification only; may be NULL) */
	char *message;		 /* Message (may contain anything but NUL) */
	size_t message_len;	 /* bytes of message */
	char *timestamp;	 /* Timestamp */
	char *token;		 /* Token (confirmations) */
	char *subscribe_url;	 /* SubscribeURL (confirmations) */
	char *signature_version; /* "1" or "2" */
	char *signature;	 /* base64 */
	char *signing_cert_url;	 /* SigningCertURL */
} hook_sns_msg;

/* Parse an SNS HTTP body. Checks presence and type of every field the string
 * to sign and verification need (by Type), SignatureVersion in {1, 2}, and
 * the caps (HK_CAP_SNS_*). Does NOT check URLs, topic or signature. Errors:
 * HK_ERR_PARSE (not JSON, too deep), HK_ERR_INVALID (ei->text names the
 * field), HK_ERR_TOO_LARGE, HK_ERR_NOMEM. `ret` untouched on failure. */
HK_MUST_CHECK hk_err hook_sns_msg_parse(const char *body, size_t len, hook_sns_msg *ret,
					hk_errinfo *ei);
void hook_sns_msg_cleanup(hook_sns_msg *m);

/* The exact string SNS signs (docs/aws-facts.md): "Key\nValue\n" for
 * each present key, Notification: Message, MessageId, Subject (if present),
 * Timestamp, TopicArn, Type; confirmations: Message, MessageId, SubscribeURL,
 * Timestamp, Token, TopicArn, Type. *ret is a new NUL-terminated string (free
 * it), *ret_len its length. HK_ERR_INVALID when a required field is missing. */
HK_MUST_CHECK hk_err hook_sns_string_to_sign(const hook_sns_msg *m, char **ret, size_t *ret_len);

/* Check an SNS URL before anything is fetched from it: "https://", then a
 * host matching hook_sns_host_ok() with no userinfo, no port, no IP literal,
 * then a path starting with "/" (and, when `cert`, ending in ".pem" and with
 * no query). No control characters, spaces, backslashes or '#' anywhere;
 * at most HK_CAP_SNS_URL bytes. HK_ERR_INVALID with ei->text saying why. */
HK_MUST_CHECK hk_err hook_sns_url_check(const char *url, bool cert, hk_errinfo *ei);

/* Whether `arn` is one of cfg->sns_topic_arns (exact match). */
bool hook_sns_topic_allowed(const hook_config *cfg, const char *arn);

/* Why a verified message is still refused, or NULL (sns_replay.c): a
 * Timestamp that is not ISO 8601 UTC, older than max_age_s or over 5 minutes
 * ahead of `now` (Unix ms); a SubscriptionConfirmation whose SubscribeURL is
 * not a ConfirmSubscription of its own TopicArn. */
const char *hook_sns_stale_why(const hook_sns_msg *m, unsigned max_age_s, int64_t now);

/* Load a signing certificate from PEM (at most HK_CAP_SNS_CERT bytes, the
 * first certificate is the signer; further ones are untrusted intermediates)
 * and verify its chain against `roots` at the current time
 * (X509_verify_cert). *ret is a new X509 (X509_free it). HK_ERR_PARSE (not a
 * PEM certificate), HK_ERR_DENIED (the chain does not verify: ei->text has
 * OpenSSL's reason), HK_ERR_TOO_LARGE, HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err hook_sns_cert_load(const char *pem, size_t len, struct x509_store_st *roots,
					struct x509_st **ret, hk_errinfo *ei);

/* Verify m->signature (base64 RSA PKCS#1 v1.5; SignatureVersion 1 = SHA1,
 * 2 = SHA256) over hook_sns_string_to_sign(m) with `cert`'s public key
 * (EVP_DigestVerify). HK_OK when valid; HK_ERR_DENIED when it does not verify;
 * HK_ERR_INVALID (bad base64, bad version), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err hook_sns_verify(const hook_sns_msg *m, struct x509_st *cert, hk_errinfo *ei);

/* The /v1/sns service: one per intake. */
typedef struct hook_sns hook_sns;

/* Create it (cfg->sns_enabled must be true). Loads the trust roots
 * (cfg->sns_test_ca_file, else the system store) and makes an HTTP client.
 * Borrowed pointers must outlive it. Errors: HK_ERR_IO (trust roots cannot be
 * loaded), HK_ERR_NOMEM, HK_ERR_INTERNAL. */
/* SIGHUP: the new configuration (same SNS settings: a reload refuses others). */
void hook_sns_set_config(hook_sns *s, const hook_config *cfg);
HK_MUST_CHECK hk_err hook_sns_new(struct event_base *base, const hook_config *cfg,
				  hook_store *store, hook_engine *engine, hook_sns **ret);

/* Handle one authenticated-or-not POST /v1/sns request (the caller checked
 * path and method). Answers it now or later (after a certificate fetch or
 * the SubscribeURL GET): the caller must not touch `req` afterwards. */
void hook_sns_handle(hook_sns *s, struct evhttp_request *req);

/* Drop every waiting request without answering (their connections are being
 * freed by the caller right after), cancel fetches, free. NULL-safe. */
void hook_sns_free(hook_sns *s);

#endif
