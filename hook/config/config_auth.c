/* Checking credentials against a listener's hook_auth (hook_config.h). */
#include "hook_config.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

bool hook_secret_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
	unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
	unsigned la = 0, lb = 0;
	if (!a || !b)
		return false;
	if (EVP_Digest(a, a_len, da, &la, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(b, b_len, db, &lb, EVP_sha256(), NULL) != 1 || la != lb)
		return false;
	bool eq = CRYPTO_memcmp(da, db, la) == 0;
	OPENSSL_cleanse(da, sizeof(da));
	OPENSSL_cleanse(db, sizeof(db));
	return eq;
}

bool hook_auth_headers_ok(const hook_auth *a, const char *(*get)(const void *h, const char *name),
			  const void *h)
{
	if (!a || !h || !a->secret || a->kind == HOOK_AUTH_NONE)
		return false;
	if (a->kind == HOOK_AUTH_API_KEY) {
		const char *v = get(h, a->header);
		return v && hook_secret_equal(v, strlen(v), a->secret, a->secret_len);
	}
	const char *v = get(h, "Authorization");
	if (!v || strncasecmp(v, "Basic", 5) != 0 || (v[5] != ' ' && v[5] != '\t'))
		return false;
	v += 5;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t len = strlen(v);
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return a->basic_expect && hook_secret_equal(v, len, a->basic_expect, a->basic_expect_len);
}
