/* One case of the AWS SigV4 test suite (test/vectors/sigv4/<case>/), named by
 * the environment variable HK_SIGV4_VECTOR (ctest runs this binary once per
 * case folder); without it (valgrind-unit.sh), every case folder under
 * HK_SIGV4_VECTORS_DIR in turn. Parses request.txt, signs it with context.json's credentials,
 * region, service and time, and compares the canonical request, the string to
 * sign, the signature and the Authorization header byte for byte with the
 * header-*.txt files. The query-*.txt (presigned) files are not used. */
#include "hk_test.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sigv4.h"

static char *read_file(const char *dir, const char *name, size_t *ret_len)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

typedef struct parsed_request {
	char *method;
	char *path;
	char *query;
	sigv4_header headers[32];
	char *names[32];
	char *values[32];
	size_t n_headers;
	const char *body;
	size_t body_len;
	char *raw;
} parsed_request;

static char *dupn(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	assert_non_null(r);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* request.txt: "METHOD PATH[?QUERY] HTTP/1.1", header lines "Name:value" (a line
 * starting with whitespace continues the previous value, kept with its line
 * break: the signer folds it), an empty line, the body. The path may contain
 * spaces (get-space-*), so the request line is split at the first space and the
 * last " HTTP/". */
static void parse_request(const char *dir, parsed_request *r)
{
	memset(r, 0, sizeof(*r));
	size_t len;
	r->raw = read_file(dir, "request.txt", &len);
	const char *p = r->raw, *end = r->raw + len;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	assert_non_null(eol);
	const char *sp = memchr(p, ' ', (size_t)(eol - p));
	assert_non_null(sp);
	r->method = dupn(p, (size_t)(sp - p));
	const char *http = NULL;
	for (const char *q = sp; q + 6 <= eol; q++)
		if (!memcmp(q, " HTTP/", 6))
			http = q;
	assert_non_null(http);
	const char *target = sp + 1;
	const char *qm = memchr(target, '?', (size_t)(http - target));
	if (qm) {
		r->path = dupn(target, (size_t)(qm - target));
		r->query = dupn(qm + 1, (size_t)(http - qm - 1));
	} else {
		r->path = dupn(target, (size_t)(http - target));
	}
	p = eol + 1;
	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if (le == p) { /* empty line: the body follows */
			p = le + 1;
			r->body = p;
			r->body_len = (size_t)(end - p);
			break;
		}
		if ((*p == ' ' || *p == '\t') && r->n_headers) {
			size_t i = r->n_headers - 1;
			size_t ol = strlen(r->values[i]);
			char *nv = malloc(ol + 1 + (size_t)(le - p) + 1);
			assert_non_null(nv);
			memcpy(nv, r->values[i], ol);
			nv[ol] = '\n';
			memcpy(nv + ol + 1, p, (size_t)(le - p));
			nv[ol + 1 + (size_t)(le - p)] = '\0';
			free(r->values[i]);
			r->values[i] = nv;
		} else {
			const char *colon = memchr(p, ':', (size_t)(le - p));
			assert_non_null(colon);
			assert_true(r->n_headers < HK_ARRAY_LEN(r->headers));
			r->names[r->n_headers] = dupn(p, (size_t)(colon - p));
			r->values[r->n_headers] = dupn(colon + 1, (size_t)(le - colon - 1));
			r->n_headers++;
		}
		p = eol ? eol + 1 : end;
	}
	for (size_t i = 0; i < r->n_headers; i++)
		r->headers[i] = (sigv4_header){r->names[i], r->values[i]};
}

static void free_request(parsed_request *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->raw);
}

/* The expected Authorization value: the "Authorization:" line of
 * header-signed-request.txt. */
static char *expected_authorization(const char *dir)
{
	char *text = read_file(dir, "header-signed-request.txt", NULL);
	char *a = strstr(text, "\nAuthorization:");
	assert_non_null(a);
	a += strlen("\nAuthorization:");
	char *e = strchr(a, '\n');
	char *r = dupn(a, e ? (size_t)(e - a) : strlen(a));
	free(text);
	return r;
}

static const char *g_dir;

static void test_vector(void **state)
{
	(void)state;
	const char *dir = g_dir;

	json_error_t jerr;
	char *ctx_text = read_file(dir, "context.json", NULL);
	json_t *ctx = json_loads(ctx_text, 0, &jerr);
	free(ctx_text);
	if (!ctx)
		fail_msg("context.json: %s", jerr.text);
	const char *akid = NULL, *secret = NULL, *token = NULL, *region = NULL, *service = NULL,
		   *stamp = NULL;
	int normalize = 1, sign_body = 0, omit_token = 0;
	int rc = json_unpack_ex(ctx, &jerr, 0, "{s:{s:s, s:s, s?s}, s:s, s:s, s:s, s?b, s?b, s?b}",
				"credentials", "access_key_id", &akid, "secret_access_key", &secret,
				"token", &token, "region", &region, "service", &service,
				"timestamp", &stamp, "normalize", &normalize, "sign_body",
				&sign_body, "omit_session_token", &omit_token);
	if (rc != 0)
		fail_msg("context.json: %s", jerr.text);

	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *endp = strptime(stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_true(endp && *endp == '\0');
	time_t now = timegm(&tm);

	parsed_request r;
	parse_request(dir, &r);
	/* sign_body: the suite's signer adds X-Amz-Content-Sha256 (signed). */
	char body_hash[65];
	if (sign_body) {
		sigv4_sha256_hex(r.body, r.body_len, body_hash);
		assert_true(r.n_headers < HK_ARRAY_LEN(r.headers));
		r.headers[r.n_headers++] = (sigv4_header){"X-Amz-Content-Sha256", body_hash};
	}
	sigv4_request req = {
	    .method = r.method,
	    .path = r.path,
	    .query = r.query,
	    .headers = r.headers,
	    .n_headers = r.n_headers,
	    .body = r.body,
	    .body_len = r.body_len,
	    .no_path_normalize = !normalize,
	};
	/* omit_session_token: the token is added to the request after signing, so
	 * it is not part of the signature: sign without it. */
	sigv4_creds creds = {akid, secret, omit_token ? NULL : token};
	sigv4_signed s;
	hk_err err = sigv4_sign(&req, &creds, region, service, now, &s);
	assert_int_equal(err, HK_OK);

	char *want_cr = read_file(dir, "header-canonical-request.txt", NULL);
	char *want_sts = read_file(dir, "header-string-to-sign.txt", NULL);
	char *want_sig = read_file(dir, "header-signature.txt", NULL);
	char *want_auth = expected_authorization(dir);
	assert_string_equal(s.canonical_request, want_cr);
	assert_string_equal(s.string_to_sign, want_sts);
	assert_string_equal(s.signature, want_sig);
	assert_string_equal(s.authorization, want_auth);

	free(want_cr);
	free(want_sts);
	free(want_sig);
	free(want_auth);
	sigv4_signed_cleanup(&s);
	free_request(&r);
	json_decref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector),
	};
	const char *one = getenv("HK_SIGV4_VECTOR");
	if (one && *one) {
		g_dir = one;
		return cmocka_run_group_tests(tests, NULL, NULL);
	}
	DIR *d = opendir(HK_SIGV4_VECTORS_DIR);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", HK_SIGV4_VECTORS_DIR);
		return 1;
	}
	int failed = 0, ran = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char path[4096], req[4200];
		int n = snprintf(path, sizeof(path), "%s/%s", HK_SIGV4_VECTORS_DIR, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		snprintf(req, sizeof(req), "%s/request.txt", path);
		FILE *f = fopen(req, "rb");
		if (!f)
			continue;
		fclose(f);
		g_dir = path;
		fprintf(stderr, "vector %s\n", de->d_name);
		failed += cmocka_run_group_tests(tests, NULL, NULL);
		ran++;
	}
	closedir(d);
	return ran == 0 || failed != 0;
}
