/* Credential values: references, wiped when the last one goes. */
#include "creds_value.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void wipe_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

creds_value *creds_ref(creds_value *v)
{
	if (v)
		v->refs++;
	return v;
}

void creds_unref(creds_value *v)
{
	if (!v || --v->refs > 0)
		return;
	wipe_free(v->access_key_id);
	wipe_free(v->secret_access_key);
	wipe_free(v->session_token);
	OPENSSL_cleanse(v, sizeof(*v));
	free(v);
}
