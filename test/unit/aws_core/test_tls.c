/* httpc's TLS verification against a loopback https server whose self-signed
 * certificate (CN and SAN localhost / 127.0.0.1) is made at test time with the
 * OpenSSL APIs. The server is a minimal blocking SSL accept loop in a thread of
 * its own (the test's libevent loop drives httpc on the main thread). Without
 * trusting it httpc must fail with a TLS error; with the certificate passed as
 * ca_file it must succeed; a name the certificate does not carry must fail even
 * then (host verification). */
#include "hk_test.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "httpc.h"

#define RESPONSE                                                                                   \
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"                     \
	"Connection: close\r\n\r\ntls-hello"

struct tls_srv {
	SSL_CTX *ctx;
	int lfd;
	unsigned short port;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint handshakes_ok;
	atomic_uint handshakes_failed;
	char ca_path[64];
};

struct fx {
	struct event_base *base;
	httpc *http;
	struct tls_srv srv;
};

/* ---- the certificate -------------------------------------------------------- */

static EVP_PKEY *make_key(void)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_non_null(kctx);
	assert_int_equal(EVP_PKEY_keygen_init(kctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_group_name(kctx, "P-256"), 1);
	assert_int_equal(EVP_PKEY_generate(kctx, &pkey), 1);
	EVP_PKEY_CTX_free(kctx);
	return pkey;
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A self-signed certificate for localhost and 127.0.0.1, valid for an hour. */
static X509 *make_cert(EVP_PKEY *pkey)
{
	X509 *x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, pkey), 1);
	X509_NAME *name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"localhost", -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign");
	add_ext(x, NID_subject_key_identifier, "hash");
	add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	return x;
}

/* ---- the server thread ----------------------------------------------------------- */

static void serve_one(struct tls_srv *s, int fd)
{
	SSL *ssl = SSL_new(s->ctx);
	if (!ssl) {
		close(fd);
		return;
	}
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		atomic_fetch_add(&s->handshakes_failed, 1);
		goto out;
	}
	atomic_fetch_add(&s->handshakes_ok, 1);
	char req[4096];
	size_t len = 0;
	while (len < sizeof(req) - 1) {
		int n = SSL_read(ssl, req + len, (int)(sizeof(req) - 1 - len));
		if (n <= 0)
			goto out;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	(void)SSL_write(ssl, RESPONSE, (int)strlen(RESPONSE));
	(void)SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	ERR_clear_error();
	close(fd);
}

static void *serve(void *arg)
{
	struct tls_srv *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 5};
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve_one(s, fd);
	}
	return NULL;
}

static void srv_start(struct tls_srv *s)
{
	/* A client that gives up mid-handshake closes the socket: the server's
	 * alert must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	EVP_PKEY *pkey = make_key();
	X509 *cert = make_cert(pkey);
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, pkey), 1);
	/* The trust anchor a client may be given: the certificate itself, as PEM. */
	snprintf(s->ca_path, sizeof(s->ca_path), "/tmp/hk-tls-ca-XXXXXX");
	int cfd = mkstemp(s->ca_path);
	assert_true(cfd >= 0);
	FILE *pem = fdopen(cfd, "w");
	assert_non_null(pem);
	assert_int_equal(PEM_write_X509(pem, cert), 1);
	assert_int_equal(fclose(pem), 0);
	X509_free(cert);
	EVP_PKEY_free(pkey);

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	socklen_t alen = sizeof(a);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	atomic_init(&s->stop, false);
	atomic_init(&s->handshakes_ok, 0);
	atomic_init(&s->handshakes_failed, 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void srv_stop(struct tls_srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	SSL_CTX_free(s->ctx);
	unlink(s->ca_path);
}

/* ---- fixture and helpers ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	assert_int_equal(httpc_new(f->base, &f->http), HK_OK);
	srv_start(&f->srv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	httpc_free(f->http);
	srv_stop(&f->srv);
	event_base_free(f->base);
	free(f);
	return 0;
}

struct got {
	int calls;
	hk_err err;
	long status;
	char body[64];
	char errtext[256];
};

static void got_cb(const httpc_response *r, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->err = r->err;
	g->status = r->status;
	snprintf(g->body, sizeof(g->body), "%.*s", (int)r->body_len, r->body ? r->body : "");
	snprintf(g->errtext, sizeof(g->errtext), "%s", r->errtext ? r->errtext : "");
}

/* GET https://<host>:<port>/ (host "127.0.0.1" or a name routed there with
 * connect_to), trusting `ca_file` when non-NULL. */
static void get(struct fx *f, const char *host, const char *ca_file, struct got *g)
{
	char url[128], connect_to[160];
	snprintf(url, sizeof(url), "https://%s:%u/", host, f->srv.port);
	snprintf(connect_to, sizeof(connect_to), "%s:%u:127.0.0.1:%u", host, f->srv.port,
		 f->srv.port);
	httpc_request req = {.method = "GET",
			     .url = url,
			     .ca_file = ca_file,
			     .connect_to = strcmp(host, "127.0.0.1") ? connect_to : NULL,
			     .no_proxy = true,
			     /* generous: under valgrind on a loaded machine the first
			      * handshake (loading the system CA store) is slow */
			     .connect_timeout_ms = 60000,
			     .timeout_ms = 60000};
	assert_int_equal(httpc_send(f->http, &req, got_cb, g, NULL), HK_OK);
	for (int i = 0; i < 20000 && g->calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(g->calls, 1);
}

/* ---- tests ------------------------------------------------------------------------- */

static void tls_untrusted_self_signed_fails(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	/* The system store does not know our certificate: no response, a TLS error. */
	get(f, "127.0.0.1", NULL, &g);
	assert_int_equal(g.err, HK_ERR_IO);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.body, "");
	assert_non_null(strstr(g.errtext, "certificate"));
	assert_int_equal(atomic_load(&f->srv.handshakes_ok), 0);
	/* A CA file that does not contain it fails the same way. */
	char other[] = "/tmp/hk-tls-other-XXXXXX";
	int fd = mkstemp(other);
	assert_true(fd >= 0);
	FILE *pem = fdopen(fd, "w");
	EVP_PKEY *k = make_key();
	X509 *c = make_cert(k);
	assert_int_equal(PEM_write_X509(pem, c), 1);
	assert_int_equal(fclose(pem), 0);
	X509_free(c);
	EVP_PKEY_free(k);
	struct got g2 = {0};
	get(f, "127.0.0.1", other, &g2);
	unlink(other);
	assert_int_equal(g2.err, HK_ERR_IO);
	assert_int_equal(g2.status, 0);
	assert_int_equal(atomic_load(&f->srv.handshakes_ok), 0);
}

static void tls_trusted_ca_file_succeeds(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	get(f, "127.0.0.1", f->srv.ca_path, &g);
	assert_int_equal(g.err, HK_OK);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "tls-hello");
	/* By name too (the SAN's DNS entry), through connect_to. */
	struct got g2 = {0};
	get(f, "localhost", f->srv.ca_path, &g2);
	assert_int_equal(g2.err, HK_OK);
	assert_string_equal(g2.body, "tls-hello");
}

static void tls_wrong_host_name_fails(void **state)
{
	struct fx *f = *state;
	struct got g = {0};
	/* Trusted certificate, but not for this name: host verification refuses. */
	get(f, "sts.example.test", f->srv.ca_path, &g);
	assert_int_equal(g.err, HK_ERR_IO);
	assert_int_equal(g.status, 0);
	assert_string_equal(g.body, "");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(tls_untrusted_self_signed_fails, setup, teardown),
    cmocka_unit_test_setup_teardown(tls_trusted_ca_file_succeeds, setup, teardown),
    cmocka_unit_test_setup_teardown(tls_wrong_host_name_fails, setup, teardown),
};

HK_TEST_MAIN(tests)
