/* Reading AWS's error answers: the request id header, JSON error bodies
 * (SQS), the depth cap on them. */
#include "awc_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "awsxml.h"
#include "hk_caps.h"
#include "sigv4.h"

const char *awc_find_header(const httpc_response *r, const char *a, const char *b)
{
	const char *v = httpc_response_header(r, a);
	return v ? v : (b ? httpc_response_header(r, b) : NULL);
}

bool awc_code_is_expired_token(const char *code)
{
	return code && (!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException") ||
			!strcmp(code, "RequestExpired"));
}

/* Error body of the JSON protocol: {"__type":"com.amazonaws.sqs#Code","message":..}. */
void awc_json_error_parse(const httpc_response *r, char **ret_code, char **ret_msg)
{
	json_error_t je;
	json_t *j = json_loadb(r->body, r->body_len, 0, &je);
	if (!j)
		return;
	const char *type = json_string_value(json_object_get(j, "__type"));
	if (!type)
		type = json_string_value(json_object_get(j, "code"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(j, "Message"));
	if (type) {
		const char *hash = strrchr(type, '#');
		*ret_code = strdup(hash ? hash + 1 : type);
	}
	if (msg)
		*ret_msg = strdup(msg);
	json_decref(j);
}
