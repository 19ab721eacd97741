/* SNS verification pieces (hook/intake/sns.c): envelope parsing, the exact string to
 * sign, URL checks against SSRF tricks, certificate chains and RSA signatures.
 * Keys and certificates are made at test time (a CA, a signer it issued, and
 * an unrelated self-signed signer); signatures are made here over strings the
 * test builds itself, so the daemon's string-to-sign code is checked, not
 * reused. */
#include "hk_test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "intake_internal.h"

/* ------------------------------------------------------------- fixtures */

static EVP_PKEY *make_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	assert_non_null(k);
	return k;
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		       long from_s, long to_s)
{
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(rand() & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
						  ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ca) {
		ext =
		    X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static char *pem_of(X509 *x, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *out = malloc((size_t)n + 1);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

typedef struct pki {
	EVP_PKEY *ca_key, *signer_key, *rogue_key;
	X509 *ca, *signer, *rogue;
	X509_STORE *roots;
} pki;

static pki P;

/* RSA key generation dominates this binary's run time (minutes under valgrind),
 * so the three keys are made once per process and shared by every case; each
 * case still gets fresh certificates and its own references. */
static EVP_PKEY *key_cache[3];

static EVP_PKEY *cached_key(size_t i)
{
	if (!key_cache[i])
		key_cache[i] = make_key();
	assert_int_equal(EVP_PKEY_up_ref(key_cache[i]), 1);
	return key_cache[i];
}

__attribute__((destructor)) static void key_cache_free(void)
{
	for (size_t i = 0; i < HK_ARRAY_LEN(key_cache); i++)
		EVP_PKEY_free(key_cache[i]);
}

static int pki_setup(void **state)
{
	P.ca_key = cached_key(0);
	P.signer_key = cached_key(1);
	P.rogue_key = cached_key(2);
	P.ca = make_cert("test CA", P.ca_key, NULL, NULL, true, -3600, 86400);
	P.signer =
	    make_cert("sns.amazonaws.com", P.signer_key, P.ca, P.ca_key, false, -3600, 86400);
	P.rogue = make_cert("sns.amazonaws.com", P.rogue_key, NULL, NULL, false, -3600, 86400);
	P.roots = X509_STORE_new();
	assert_int_equal(X509_STORE_add_cert(P.roots, P.ca), 1);
	return 0;
}

static int pki_teardown(void **state)
{
	X509_STORE_free(P.roots);
	X509_free(P.ca);
	X509_free(P.signer);
	X509_free(P.rogue);
	EVP_PKEY_free(P.ca_key);
	EVP_PKEY_free(P.signer_key);
	EVP_PKEY_free(P.rogue_key);
	memset(&P, 0, sizeof(P));
	return 0;
}

/* base64(RSA-PKCS1v15-sign(text)) with SHA1 ("1") or SHA256 ("2"). */
static char *sign_b64(EVP_PKEY *key, const char *version, const char *text)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const EVP_MD *md = !strcmp(version, "1") ? EVP_sha1() : EVP_sha256();
	assert_int_equal(EVP_DigestSignInit(c, NULL, md, NULL, key), 1);
	size_t sl = 0;
	assert_int_equal(EVP_DigestSign(c, NULL, &sl, (const unsigned char *)text, strlen(text)),
			 1);
	unsigned char *sig = malloc(sl);
	assert_int_equal(EVP_DigestSign(c, sig, &sl, (const unsigned char *)text, strlen(text)), 1);
	EVP_MD_CTX_free(c);
	char *b64 = malloc(4 * ((sl + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)sl);
	free(sig);
	return b64;
}

#define TOPIC	 "arn:aws:sns:us-east-1:123456789012:multus-hooks"
#define CERT_URL "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
#define SUB_URL                                                                                    \
	"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" TOPIC          \
	"&Token=2336412f37"
#define NOTE                                                                                       \
	"{\"LifecycleTransition\":\"autoscaling:EC2_INSTANCE_LAUNCHING\",\"EC2InstanceId\":"       \
	"\"i-0123456789abcdef0\"}"

/* A Notification envelope as SNS sends it (JSON text, caller frees). The
 * signature covers the expected string built here by hand. */
static char *notification_json(EVP_PKEY *key, const char *version, const char *subject,
			       const char *signed_message)
{
	char tbs[2048];
	if (subject)
		snprintf(tbs, sizeof(tbs),
			 "Message\n%s\nMessageId\nm-1\nSubject\n%s\nTimestamp\n2026-01-02T03:04:"
			 "05.678Z\nTopicArn\n%s\nType\nNotification\n",
			 signed_message, subject, TOPIC);
	else
		snprintf(tbs, sizeof(tbs),
			 "Message\n%s\nMessageId\nm-1\nTimestamp\n2026-01-02T03:04:05.678Z\n"
			 "TopicArn\n%s\nType\nNotification\n",
			 signed_message, TOPIC);
	char *sig = sign_b64(key, version, tbs);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Type", "Notification",
			      "MessageId", "m-1", "TopicArn", TOPIC, "Message", NOTE, "Timestamp",
			      "2026-01-02T03:04:05.678Z", "SignatureVersion", version, "Signature",
			      sig, "SigningCertURL", CERT_URL, "UnsubscribeURL",
			      "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe");
	if (subject)
		json_object_set_new(o, "Subject", json_string(subject));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(sig);
	return text;
}

static hk_err parse_text(const char *text, hook_sns_msg *m, hk_errinfo *ei)
{
	return hook_sns_msg_parse(text, strlen(text), m, ei);
}

/* ------------------------------------------------------- string to sign */

static void test_string_to_sign_notification(void **state)
{
	char *text = notification_json(P.signer_key, "1", NULL, NOTE);
	hook_sns_msg m;
	hk_errinfo ei = {0};
	assert_int_equal(parse_text(text, &m, &ei), HK_OK);
	char *s = NULL;
	size_t len = 0;
	assert_int_equal(hook_sns_string_to_sign(&m, &s, &len), HK_OK);
	assert_string_equal(s,
			    "Message\n" NOTE "\nMessageId\nm-1\nTimestamp\n"
			    "2026-01-02T03:04:05.678Z\nTopicArn\n" TOPIC "\nType\nNotification\n");
	assert_int_equal(len, strlen(s));
	free(s);
	hook_sns_msg_cleanup(&m);
	free(text);
}

static void test_string_to_sign_subject(void **state)
{
	char *text = notification_json(P.signer_key, "2", "Auto Scaling:  Lifecycle action", NOTE);
	hook_sns_msg m;
	hk_errinfo ei = {0};
	assert_int_equal(parse_text(text, &m, &ei), HK_OK);
	char *s = NULL;
	size_t len = 0;
	assert_int_equal(hook_sns_string_to_sign(&m, &s, &len), HK_OK);
	assert_string_equal(
	    s, "Message\n" NOTE "\nMessageId\nm-1\nSubject\nAuto Scaling:  "
	       "Lifecycle action\nTimestamp\n2026-01-02T03:04:05.678Z\nTopicArn\n" TOPIC
	       "\nType\nNotification\n");
	free(s);
	hook_sns_msg_cleanup(&m);
	free(text);
}

static void test_string_to_sign_confirmation(void **state)
{
	/* UnsubscribeURL and other extra keys never enter the string; Token and
	 * SubscribeURL do, in AWS's order. */
	const char *body =
	    "{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"c-1\","
	    "\"Token\":\"2336412f37\",\"TopicArn\":\"" TOPIC "\","
	    "\"Message\":\"You have chosen to subscribe.\\nVisit it.\","
	    "\"SubscribeURL\":\"" SUB_URL "\",\"Timestamp\":\"2026-01-02T03:04:05Z\","
	    "\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\",\"SigningCertURL\":"
	    "\"" CERT_URL "\",\"Extra\":1}";
	hook_sns_msg m;
	hk_errinfo ei = {0};
	assert_int_equal(parse_text(body, &m, &ei), HK_OK);
	assert_int_equal(m.type, HOOK_SNS_SUBSCRIPTION_CONFIRMATION);
	char *s = NULL;
	size_t len = 0;
	assert_int_equal(hook_sns_string_to_sign(&m, &s, &len), HK_OK);
	assert_string_equal(s, "Message\nYou have chosen to subscribe.\nVisit it.\nMessageId\nc-1\n"
			       "SubscribeURL\n" SUB_URL "\nTimestamp\n2026-01-02T03:04:05Z\nToken\n"
			       "2336412f37\nTopicArn\n" TOPIC "\nType\nSubscriptionConfirmation\n");
	free(s);
	hook_sns_msg_cleanup(&m);
}

static void test_string_to_sign_missing(void **state)
{
	hook_sns_msg m;
	memset(&m, 0, sizeof(m));
	char *s = NULL;
	size_t len = 0;
	assert_int_equal(hook_sns_string_to_sign(&m, &s, &len), HK_ERR_INVALID);
	assert_null(s);
}

/* ---------------------------------------------------------------- parse */

static void test_parse_problems(void **state)
{
	static const struct {
		const char *body;
		hk_err err;
		const char *text;
	} cases[] = {
	    {"", HK_ERR_PARSE, "empty"},
	    {"{", HK_ERR_PARSE, "not valid JSON"},
	    {"[]", HK_ERR_INVALID, "JSON object"},
	    {"{\"Type\":\"Notification\",\"Type\":\"Notification\"}", HK_ERR_PARSE, "duplicate"},
	    {"{\"Type\":\"Bogus\"}", HK_ERR_INVALID, "Type: \"Bogus\""},
	    {"{\"Type\":5}", HK_ERR_INVALID, "Type: must be a string"},
	    {"{\"Type\":\"Notification\"}", HK_ERR_INVALID, "MessageId: missing"},
	    {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"t\",\"Message\":\"x\","
	     "\"Timestamp\":\"t\",\"SignatureVersion\":\"3\",\"Signature\":\"AAAA\","
	     "\"SigningCertURL\":\"u\"}",
	     HK_ERR_INVALID, "SignatureVersion: \"3\""},
	    {"{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"t\",\"Message\":\"x\","
	     "\"Timestamp\":\"t\",\"SignatureVersion\":1,\"Signature\":\"AAAA\","
	     "\"SigningCertURL\":\"u\"}",
	     HK_ERR_INVALID, "SignatureVersion: must be a string"},
	    {"{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m\",\"TopicArn\":\"t\","
	     "\"Message\":\"x\",\"Timestamp\":\"t\",\"SignatureVersion\":\"1\",\"Signature\":\"A\","
	     "\"SigningCertURL\":\"u\",\"SubscribeURL\":\"s\"}",
	     HK_ERR_INVALID, "Token: missing"},
	    {"{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m\",\"TopicArn\":\"t\","
	     "\"Message\":\"x\",\"Timestamp\":\"t\",\"SignatureVersion\":\"1\",\"Signature\":\"A\","
	     "\"SigningCertURL\":\"u\",\"Token\":\"k\"}",
	     HK_ERR_INVALID, "SubscribeURL: missing"},
	    {"{\"Type\":\"Notification\",\"MessageId\":\"m\\u0000x\"}", HK_ERR_PARSE,
	     "not allowed"},
	    {"{\"Type\":\"Notification\",\"MessageId\":\"\"}", HK_ERR_INVALID, "must not be empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hook_sns_msg m;
		memset(&m, 0x5a, sizeof(m));
		hk_errinfo ei = {0};
		hk_err err = parse_text(cases[i].body, &m, &ei);
		if (err != cases[i].err || !strstr(ei.text, cases[i].text))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, err, ei.text,
				 cases[i].err, cases[i].text);
		/* untouched on failure */
		assert_int_equal(((unsigned char *)&m)[0], 0x5a);
	}
}

static void test_parse_caps(void **state)
{
	/* A Message over HK_CAP_SNS_MESSAGE and a URL over HK_CAP_SNS_URL. */
	size_t big = HK_CAP_SNS_MESSAGE + 10;
	char *msg = malloc(big + 1);
	memset(msg, 'a', big);
	msg[big] = '\0';
	json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "Type", "Notification", "MessageId", "m",
			      "TopicArn", TOPIC, "Message", msg);
	char *text = json_dumps(o, JSON_COMPACT);
	hook_sns_msg m;
	hk_errinfo ei = {0};
	assert_int_equal(parse_text(text, &m, &ei), HK_ERR_TOO_LARGE);
	assert_non_null(strstr(ei.text, "Message"));
	free(text);
	json_decref(o);
	free(msg);

	char deep[200];
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(parse_text(deep, &m, &ei), HK_ERR_PARSE);
}

/* ----------------------------------------------------------- URL checks */

static void test_host_table(void **state)
{
	static const struct {
		const char *host;
		bool ok;
	} cases[] = {
	    {"sns.us-east-1.amazonaws.com", true},
	    {"sns.cn-north-1.amazonaws.com.cn", true},
	    {"sns.eu-west-3.amazonaws.com", true},
	    {"sns.AbC.amazonaws.com", true},
	    {"sns.ab.amazonaws.com", false},
	    {"sns..amazonaws.com", false},
	    {"sns.us-east-1.amazonaws.com.evil.com", false},
	    {"sns.us-east-1.amazonaws.co", false},
	    {"evilsns.us-east-1.amazonaws.com", false},
	    {"sns.us-east-1.evil.amazonaws.com", false},
	    {"sns.us_east_1.amazonaws.com", false},
	    {"SNS.us-east-1.amazonaws.com", false},
	    {"sns.us-east-1.amazonaws.com.", false},
	    {"sns.us-east-1.amazonaws.com.cn.x", false},
	    {"127.0.0.1", false},
	    {"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hook_sns_host_ok(cases[i].host, strlen(cases[i].host)) != cases[i].ok)
			fail_msg("host \"%s\": want %s", cases[i].host, cases[i].ok ? "ok" : "bad");
}

static void test_url_table(void **state)
{
	static const struct {
		const char *url;
		bool cert;
		bool ok;
		const char *why;
	} cases[] = {
	    {CERT_URL, true, true, NULL},
	    {"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem", true, true,
	     NULL},
	    {SUB_URL, false, true, NULL},
	    {"https://sns.us-east-1.amazonaws.com/", false, true, NULL},
	    {"http://sns.us-east-1.amazonaws.com/x.pem", true, false, "https://"},
	    {"HTTPS://sns.us-east-1.amazonaws.com/x.pem", true, false, "https://"},
	    {"ftp://sns.us-east-1.amazonaws.com/x.pem", true, false, "https://"},
	    {"https://sns.us-east-1.amazonaws.com.evil.com/x.pem", true, false, "host"},
	    {"https://evil.com/sns.us-east-1.amazonaws.com/x.pem", true, false, "host"},
	    {"https://sns.us-east-1.amazonaws.com@evil.com/x.pem", true, false, "user"},
	    {"https://user:pw@sns.us-east-1.amazonaws.com/x.pem", true, false, "user"},
	    {"https://sns.us-east-1.amazonaws.com:8443/x.pem", true, false, "port"},
	    {"https://sns.us-east-1.amazonaws.com:443/x.pem", true, false, "port"},
	    {"https://127.0.0.1/x.pem", true, false, "host"},
	    {"https://[::1]/x.pem", true, false, "IP literal"},
	    {"https://169.254.169.254/latest/meta-data/x.pem", true, false, "host"},
	    {"https://sns.us-east-1.amazonaws.com/x.pem?a=b", true, false, "query"},
	    {"https://sns.us-east-1.amazonaws.com/x.txt", true, false, ".pem"},
	    {"https://sns.us-east-1.amazonaws.com/.pem", true, false, ".pem"},
	    {"https://sns.us-east-1.amazonaws.com", true, false, "no path"},
	    {"https://sns.us-east-1.amazonaws.com?x.pem", true, false, "no path"},
	    {"https://sns.us-east-1.amazonaws.com/x.pem#frag", true, false, "character"},
	    {"https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem", true, false, "character"},
	    {"https://sns.us-east-1.amazonaws.com/a b.pem", true, false, "character"},
	    {"https://sns.us-east-1.amazonaws.com/a\r\nHost: x.pem", true, false, "character"},
	    {"https://sns.us-east-1.amazonaws.com/\xc3\xa9.pem", true, false, "character"},
	    {"https://sns.us-east-1.amazonaws.com%2eevil.com/x.pem", true, false, "host"},
	    {"", true, false, "missing"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hk_errinfo ei = {0};
		hk_err err = hook_sns_url_check(cases[i].url, cases[i].cert, &ei);
		if ((err == HK_OK) != cases[i].ok ||
		    (!cases[i].ok && (err != HK_ERR_INVALID || !strstr(ei.text, cases[i].why))))
			fail_msg("url %zu \"%s\": got %d \"%s\"", i, cases[i].url, err, ei.text);
	}
	/* over the cap */
	char *long_url = malloc(HK_CAP_SNS_URL + 64);
	snprintf(long_url, HK_CAP_SNS_URL + 64, "https://sns.us-east-1.amazonaws.com/");
	size_t n = strlen(long_url);
	memset(long_url + n, 'a', HK_CAP_SNS_URL);
	memcpy(long_url + n + HK_CAP_SNS_URL, ".pem", 5);
	hk_errinfo ei = {0};
	assert_int_equal(hook_sns_url_check(long_url, true, &ei), HK_ERR_INVALID);
	assert_non_null(strstr(ei.text, "longer"));
	free(long_url);
}

static void test_topic_allowed(void **state)
{
	char *arns[] = {(char *)TOPIC, (char *)"arn:aws:sns:eu-west-1:123456789012:other"};
	hook_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.sns_topic_arns = arns;
	cfg.n_sns_topic_arns = 2;
	assert_true(hook_sns_topic_allowed(&cfg, TOPIC));
	assert_true(hook_sns_topic_allowed(&cfg, "arn:aws:sns:eu-west-1:123456789012:other"));
	assert_false(hook_sns_topic_allowed(&cfg, TOPIC "x"));
	assert_false(hook_sns_topic_allowed(&cfg, "arn:aws:sns:us-east-1:123456789012:multus"));
	assert_false(hook_sns_topic_allowed(&cfg, ""));
	assert_false(hook_sns_topic_allowed(&cfg, NULL));
	cfg.n_sns_topic_arns = 0;
	assert_false(hook_sns_topic_allowed(&cfg, TOPIC));
}

/* ---------------------------------------------------------- certificates */

static void test_cert_chain_ok(void **state)
{
	size_t len;
	char *pem = pem_of(P.signer, &len);
	X509 *got = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_sns_cert_load(pem, len, P.roots, &got, &ei), HK_OK);
	assert_int_equal(X509_cmp(got, P.signer), 0);
	X509_free(got);
	free(pem);
}

static void test_cert_untrusted(void **state)
{
	size_t len;
	char *pem = pem_of(P.rogue, &len);
	X509 *got = (X509 *)(uintptr_t)1;
	hk_errinfo ei = {0};
	assert_int_equal(hook_sns_cert_load(pem, len, P.roots, &got, &ei), HK_ERR_DENIED);
	assert_non_null(strstr(ei.text, "not trusted"));
	assert_ptr_equal(got, (X509 *)(uintptr_t)1);
	free(pem);
	/* The CA itself appended as an "intermediate" does not make a rogue
	 * certificate trusted. */
	size_t l2;
	char *ca = pem_of(P.ca, &l2);
	char *both = malloc(len + l2 + 1);
	pem = pem_of(P.rogue, &len);
	memcpy(both, pem, len);
	memcpy(both + len, ca, l2 + 1);
	assert_int_equal(hook_sns_cert_load(both, len + l2, P.roots, &got, &ei), HK_ERR_DENIED);
	free(both);
	free(pem);
	free(ca);
}

static void test_cert_expired(void **state)
{
	X509 *old =
	    make_cert("sns.amazonaws.com", P.signer_key, P.ca, P.ca_key, false, -86400 * 3, -86400);
	size_t len;
	char *pem = pem_of(old, &len);
	X509 *got = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_sns_cert_load(pem, len, P.roots, &got, &ei), HK_ERR_DENIED);
	assert_non_null(strstr(ei.text, "expired"));
	free(pem);
	X509_free(old);
}

static void test_cert_other_subject(void **state)
{
	/* chained to the trusted CA, but issued to another name */
	X509 *other =
	    make_cert("www.example.com", P.signer_key, P.ca, P.ca_key, false, -3600, 86400);
	size_t len;
	char *pem = pem_of(other, &len);
	X509 *got = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_sns_cert_load(pem, len, P.roots, &got, &ei), HK_ERR_DENIED);
	assert_non_null(strstr(ei.text, "not issued to sns.amazonaws.com"));
	free(pem);
	X509_free(other);
}

/* The checks after the signature: Timestamp age and the confirmation's URL. */
static void test_stale_why(void **state)
{
	(void)state;
	hook_sns_msg m = {.type = HOOK_SNS_NOTIFICATION,
			  .timestamp = "2026-01-02T03:04:05.678Z",
			  .topic_arn = "arn:aws:sns:us-east-1:123456789012:t"};
	const int64_t at = 1767323045678; /* 2026-01-02T03:04:05.678Z */
	assert_null(hook_sns_stale_why(&m, 3600, at));
	assert_null(hook_sns_stale_why(&m, 3600, at + 3600 * 1000));
	assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at + 3600 * 1000 + 1), "older"));
	assert_null(hook_sns_stale_why(&m, 3600, at - 300 * 1000));
	assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at - 300 * 1000 - 1), "future"));
	static const char *const bad_times[] = {"2026-01-02 03:04:05Z", "2026-01-02T03:04:05",
						"2026-13-02T03:04:05Z", "t", ""};
	char buf[64];
	for (size_t i = 0; i < HK_ARRAY_LEN(bad_times); i++) {
		snprintf(buf, sizeof(buf), "%s", bad_times[i]);
		m.timestamp = buf;
		assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at), "not an ISO 8601"));
	}
	m.timestamp = "2026-01-02T03:04:05Z";
	m.type = HOOK_SNS_SUBSCRIPTION_CONFIRMATION;
	m.subscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&"
			  "TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Token=x";
	assert_null(hook_sns_stale_why(&m, 3600, at));
	m.subscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&"
			  "TopicArn=arn:aws:sns:us-east-1:123456789012:other&Token=x";
	assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at), "SubscribeURL"));
	m.subscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&"
			  "TopicArn=arn:aws:sns:us-east-1:123456789012:t&Token=x";
	assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at), "SubscribeURL"));
	m.subscribe_url = "https://sns.us-east-1.amazonaws.com/";
	assert_non_null(strstr(hook_sns_stale_why(&m, 3600, at), "SubscribeURL"));
}

static void test_cert_garbage(void **state)
{
	X509_STORE *roots = X509_STORE_new();
	X509 *got = NULL;
	hk_errinfo ei = {0};
	const char *junk = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
	assert_int_equal(hook_sns_cert_load(junk, strlen(junk), roots, &got, &ei), HK_ERR_PARSE);
	assert_int_equal(hook_sns_cert_load("", 0, roots, &got, &ei), HK_ERR_PARSE);
	char *huge = calloc(1, HK_CAP_SNS_CERT + 2);
	memset(huge, 'A', HK_CAP_SNS_CERT + 1);
	assert_int_equal(hook_sns_cert_load(huge, HK_CAP_SNS_CERT + 1, roots, &got, &ei),
			 HK_ERR_TOO_LARGE);
	free(huge);
	assert_null(got);
	X509_STORE_free(roots);
}

/* ------------------------------------------------------------ signatures */

static hk_err verify_text(const char *text, X509 *cert, hk_errinfo *ei)
{
	hook_sns_msg m;
	hk_err err = parse_text(text, &m, ei);
	assert_int_equal(err, HK_OK);
	err = hook_sns_verify(&m, cert, ei);
	hook_sns_msg_cleanup(&m);
	return err;
}

static void test_verify_v1(void **state)
{
	char *t = notification_json(P.signer_key, "1", NULL, NOTE);
	hk_errinfo ei = {0};
	assert_int_equal(verify_text(t, P.signer, &ei), HK_OK);
	free(t);
	t = notification_json(P.signer_key, "1", "Auto Scaling: test notification", NOTE);
	assert_int_equal(verify_text(t, P.signer, &ei), HK_OK);
	free(t);
}

static void test_verify_v2(void **state)
{
	char *t = notification_json(P.signer_key, "2", "subject", NOTE);
	hk_errinfo ei = {0};
	assert_int_equal(verify_text(t, P.signer, &ei), HK_OK);
	free(t);
}

static void test_verify_tampered(void **state)
{
	/* Signed over another Message than the one sent. */
	char *t = notification_json(P.signer_key, "2", NULL, NOTE " ");
	hk_errinfo ei = {0};
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
	/* Each signed field changed after signing. */
	static const char *const fields[] = {"MessageId", "Timestamp", "TopicArn", "Subject",
					     "Message"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		t = notification_json(P.signer_key, "1", "subject", NOTE);
		json_t *o = json_loads(t, 0, NULL);
		free(t);
		const char *old = json_string_value(json_object_get(o, fields[i]));
		char nv[1024];
		snprintf(nv, sizeof(nv), "%sX", old);
		json_object_set_new(o, fields[i], json_string(nv));
		t = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (verify_text(t, P.signer, &ei) != HK_ERR_DENIED)
			fail_msg("changing %s went unnoticed", fields[i]);
		free(t);
	}
	/* Dropping the Subject changes the string to sign too. */
	t = notification_json(P.signer_key, "1", "subject", NOTE);
	json_t *o = json_loads(t, 0, NULL);
	free(t);
	json_object_del(o, "Subject");
	t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
}

static void test_verify_wrong_key_or_version(void **state)
{
	hk_errinfo ei = {0};
	/* Signed by the rogue key, verified with the real certificate. */
	char *t = notification_json(P.rogue_key, "1", NULL, NOTE);
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
	/* A SHA1 signature presented as version 2. */
	t = notification_json(P.signer_key, "1", NULL, NOTE);
	json_t *o = json_loads(t, 0, NULL);
	free(t);
	json_object_set_new(o, "SignatureVersion", json_string("2"));
	t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
}

static void test_verify_bad_signature_text(void **state)
{
	static const char *const sigs[] = {"",	   "A",	     "AAA",  "!!!!",
					   "AA=A", "AAAA\n", "====", "QUFB QUFB"};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char *t = notification_json(P.signer_key, "1", NULL, NOTE);
		json_t *o = json_loads(t, 0, NULL);
		free(t);
		json_object_set_new(o, "Signature", json_string(sigs[i]));
		t = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		hook_sns_msg m;
		hk_errinfo ei = {0};
		hk_err err = parse_text(t, &m, &ei);
		if (err == HK_OK) {
			err = hook_sns_verify(&m, P.signer, &ei);
			hook_sns_msg_cleanup(&m);
		}
		if (err == HK_OK)
			fail_msg("signature \"%s\" accepted", sigs[i]);
		free(t);
	}
	/* Right length, right alphabet, wrong bytes. */
	char *t = notification_json(P.signer_key, "1", NULL, NOTE);
	json_t *o = json_loads(t, 0, NULL);
	free(t);
	char sig[1024];
	snprintf(sig, sizeof(sig), "%s", json_string_value(json_object_get(o, "Signature")));
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	json_object_set_new(o, "Signature", json_string(sig));
	t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	hk_errinfo ei = {0};
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
}

static void test_verify_confirmation(void **state)
{
	const char *tbs = "Message\nconfirm me\nMessageId\nc-1\nSubscribeURL\n" SUB_URL
			  "\nTimestamp\n2026-01-02T03:04:05Z\nToken\n2336412f37\nTopicArn\n" TOPIC
			  "\nType\nSubscriptionConfirmation\n";
	char *sig = sign_b64(P.signer_key, "2", tbs);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Type",
			      "SubscriptionConfirmation", "MessageId", "c-1", "Token", "2336412f37",
			      "TopicArn", TOPIC, "Message", "confirm me", "SubscribeURL", SUB_URL,
			      "Timestamp", "2026-01-02T03:04:05Z", "SignatureVersion", "2",
			      "Signature", sig, "SigningCertURL", CERT_URL);
	char *t = json_dumps(o, JSON_COMPACT);
	hk_errinfo ei = {0};
	assert_int_equal(verify_text(t, P.signer, &ei), HK_OK);
	free(t);
	/* A SubscribeURL swapped for another (still valid-looking) one. */
	json_object_set_new(o, "SubscribeURL",
			    json_string("https://sns.us-east-1.amazonaws.com/?Action=Other"));
	t = json_dumps(o, JSON_COMPACT);
	assert_int_equal(verify_text(t, P.signer, &ei), HK_ERR_DENIED);
	free(t);
	json_decref(o);
	free(sig);
}

/* ------------------------------------------------------ configuration */

#define CFG_HEAD                                                                                   \
	"{\"auth\":{\"type\":\"api_key\",\"value_file\":\"k\"},\"state_dir\":\"/s\","              \
	"\"node_groups\":[{\"name\":\"g\",\"asg_names\":[\"a\"],\"hook_names\":[\"h\"],"           \
	"\"networks\":[{\"name\":\"n\","                                                           \
	"\"subnet\":{\"tags\":{\"t\":\"v\"}}}]}]"

static hk_err cfg_parse(const char *tail, hook_config **ret, hook_problems *p)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s}", CFG_HEAD, tail);
	return hook_config_parse(buf, strlen(buf), NULL, HOOK_CONFIG_NO_FILES, ret, p);
}

static void test_config_defaults(void **state)
{
	hook_config *cfg = NULL;
	hook_problems p = {0};
	assert_int_equal(cfg_parse("", &cfg, &p), HK_OK);
	assert_false(cfg->sns_enabled);
	assert_null(cfg->sqs_queue_url);
	assert_int_equal(cfg->sqs_wait_time_s, 20);
	assert_int_equal(cfg->sqs_max_messages, 10);
	assert_int_equal(cfg->sqs_visibility_timeout_s, 60);
	hook_config_free(cfg);
	cfg = NULL;
	assert_int_equal(
	    cfg_parse(",\"aws\":{\"endpoints\":{\"sqs\":\"http://127.0.0.1:4566\"}},"
		      "\"sns\":{\"enabled\":true,\"topic_arns\":[\"" TOPIC "\","
		      "\"arn:aws-cn:sns:cn-north-1:123456789012:t.fifo\"],"
		      "\"test_ca_file\":\"ca.pem\",\"test_connect_to\":"
		      "\"sns.us-east-1.amazonaws.com:443:127.0.0.1:8443\"},"
		      "\"sqs\":{\"queue_url\":\"https://sqs.us-east-1.amazonaws.com/1/q\","
		      "\"wait_time_s\":5,\"max_messages\":3,\"visibility_timeout_s\":30}",
		      &cfg, &p),
	    HK_OK);
	assert_true(cfg->sns_enabled);
	assert_int_equal(cfg->n_sns_topic_arns, 2);
	assert_string_equal(cfg->sns_topic_arns[0], TOPIC);
	assert_string_equal(cfg->sns_test_ca_file, "ca.pem");
	assert_string_equal(cfg->sns_test_connect_to,
			    "sns.us-east-1.amazonaws.com:443:127.0.0.1:8443");
	assert_string_equal(cfg->sqs_queue_url, "https://sqs.us-east-1.amazonaws.com/1/q");
	assert_string_equal(cfg->endpoint_sqs, "http://127.0.0.1:4566");
	assert_int_equal(cfg->sqs_wait_time_s, 5);
	assert_int_equal(cfg->sqs_max_messages, 3);
	assert_int_equal(cfg->sqs_visibility_timeout_s, 30);
	hook_config_free(cfg);
	hook_problems_cleanup(&p);
}

static void test_config_problems(void **state)
{
	static const struct {
		const char *tail;
		const char *want;
	} cases[] = {
	    {",\"sns\":{\"enabled\":true}", "sns.topic_arns: missing"},
	    {",\"sns\":{\"enabled\":true,\"topic_arns\":[]}", "sns.topic_arns: must not be empty"},
	    {",\"sns\":{\"enabled\":true,\"topic_arns\":[\"arn:aws:sqs:us-east-1:123456789012:q\"]"
	     "}",
	     "sns.topic_arns[0]"},
	    {",\"sns\":{\"enabled\":true,\"topic_arns\":[\"arn:aws:sns:us-east-1:1234:t\"]}",
	     "sns.topic_arns[0]"},
	    {",\"sns\":{\"enabled\":true,\"topic_arns\":[\"*\"]}", "sns.topic_arns[0]"},
	    {",\"sns\":{\"enabled\":\"yes\",\"topic_arns\":[\"" TOPIC "\"]}",
	     "sns.enabled: must be true or false"},
	    {",\"sns\":{\"topic_arn\":[]}", "sns.topic_arn: unknown key"},
	    {",\"sns\":{\"test_connect_to\":\"evil.com:443:127.0.0.1:1\"}", "sns.test_connect_to"},
	    {",\"sns\":{\"test_connect_to\":\"sns.us-east-1.amazonaws.com:80:127.0.0.1:1\"}",
	     "sns.test_connect_to"},
	    {",\"sns\":{\"test_connect_to\":\"sns.us-east-1.amazonaws.com:443:evil.com:1\"}",
	     "sns.test_connect_to"},
	    {",\"sns\":{\"test_connect_to\":\"sns.us-east-1.amazonaws.com:443:127.0.0.1:0\"}",
	     "sns.test_connect_to"},
	    {",\"sns\":{\"test_connect_to\":\"sns.us-east-1.amazonaws.com:443:127.0.0.1\"}",
	     "sns.test_connect_to"},
	    {",\"sqs\":{}", "sqs.queue_url: missing"},
	    {",\"sqs\":{\"queue_url\":\"ftp://x/q\"}", "sqs.queue_url"},
	    {",\"sqs\":{\"queue_url\":\"https://x/q\",\"wait_time_s\":0}", "sqs.wait_time_s: 0"},
	    {",\"sqs\":{\"queue_url\":\"https://x/q\",\"wait_time_s\":21}", "sqs.wait_time_s: 21"},
	    {",\"sqs\":{\"queue_url\":\"https://x/q\",\"max_messages\":11}", "sqs.max_messages"},
	    {",\"sqs\":{\"queue_url\":\"https://x/q\",\"visibility_timeout_s\":0}",
	     "sqs.visibility_timeout_s"},
	    {",\"aws\":{\"endpoints\":{\"sqs\":\"sqs.local\"}}", "aws.endpoints.sqs"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hook_config *cfg = NULL;
		hook_problems p = {0};
		hk_err err = cfg_parse(cases[i].tail, &cfg, &p);
		bool found = false;
		for (size_t j = 0; j < p.n && j < p.cap; j++)
			if (p.msgs[j] && strstr(p.msgs[j], cases[i].want))
				found = true;
		if (err != HK_ERR_INVALID || !found)
			fail_msg("case %zu (%s): err %d, first problem \"%s\"", i, cases[i].want,
				 err, p.n && p.msgs[0] ? p.msgs[0] : "");
		assert_null(cfg);
		hook_problems_cleanup(&p);
	}
	/* IPv6 connect-to target and an empty host part are accepted. */
	hook_config *cfg = NULL;
	hook_problems p = {0};
	assert_int_equal(cfg_parse(",\"sns\":{\"test_connect_to\":\"::[::1]:8443\"}", &cfg, &p),
			 HK_OK);
	hook_config_free(cfg);
	hook_problems_cleanup(&p);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_string_to_sign_notification, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_string_to_sign_subject, pki_setup, pki_teardown),
    cmocka_unit_test(test_string_to_sign_confirmation),
    cmocka_unit_test(test_string_to_sign_missing),
    cmocka_unit_test(test_parse_problems),
    cmocka_unit_test(test_parse_caps),
    cmocka_unit_test(test_host_table),
    cmocka_unit_test(test_url_table),
    cmocka_unit_test(test_topic_allowed),
    cmocka_unit_test_setup_teardown(test_cert_chain_ok, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_cert_untrusted, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_cert_expired, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_cert_other_subject, pki_setup, pki_teardown),
    cmocka_unit_test(test_stale_why),
    cmocka_unit_test(test_cert_garbage),
    cmocka_unit_test_setup_teardown(test_verify_v1, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_verify_v2, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_verify_tampered, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_verify_wrong_key_or_version, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_verify_bad_signature_text, pki_setup, pki_teardown),
    cmocka_unit_test_setup_teardown(test_verify_confirmation, pki_setup, pki_teardown),
    cmocka_unit_test(test_config_defaults),
    cmocka_unit_test(test_config_problems),
};

HK_TEST_MAIN(tests)
