/* libFuzzer target: every parser creds.c applies to credential answers from the
 * network. The same input goes to the container/IMDS JSON reader (with either
 * token key), the STS AssumeRoleWithWebIdentity XML reader and, as a string
 * (up to the first NUL), to creds_parse_time(). Must never crash, leak, or read
 * outside the input; a success must yield complete credentials. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(hk_err err, creds_value *v, const char *errbuf)
{
	if (err != HK_OK) {
		if (v || !errbuf[0])
			abort(); /* a failure returns nothing and says why */
		return;
	}
	if (!v || !v->access_key_id[0] || !v->secret_access_key[0] || v->refs != 1)
		abort();
	creds_unref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char errbuf[300];
	creds_value *v;

	static const char *const token_keys[] = {"Token", "SessionToken"};
	for (size_t i = 0; i < 2; i++) {
		v = NULL;
		errbuf[0] = '\0';
		hk_err err =
		    creds_from_json(body, size, token_keys[i], "fuzz", &v, errbuf, sizeof(errbuf));
		check(err, v, errbuf);
	}

	v = NULL;
	errbuf[0] = '\0';
	hk_err err = creds_from_sts_xml(body, size, &v, errbuf, sizeof(errbuf));
	check(err, v, errbuf);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	int64_t t = -1;
	if (creds_parse_time(s, &t) == HK_OK && t < 0)
		abort(); /* years before 1970 are refused */
	free(s);
	return 0;
}
