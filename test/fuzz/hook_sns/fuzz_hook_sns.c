/* Fuzz what /v1/sns does with an untrusted body before any network or crypto:
 * parse the envelope, check both URLs, build the string to sign. Besides the
 * sanitizers, check the invariants the service relies on: a parsed message
 * has every field its type signs; a URL that passes the check is https, on an
 * SNS host, without userinfo or port; the string to sign starts with the
 * Message and ends with the Type. The raw input is also fed to the URL check
 * (as a NUL-terminated string) so odd URLs are explored directly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const char *url, bool cert)
{
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	if (hook_sns_url_check(url, cert, &ei) != HK_OK) {
		if (!memchr(ei.text, '\0', sizeof(ei.text)))
			abort();
		return;
	}
	if (strncmp(url, "https://", 8) != 0)
		abort();
	const char *host = url + 8;
	size_t hl = strcspn(host, "/");
	if (memchr(host, '@', hl) || memchr(host, ':', hl) || !hook_sns_host_ok(host, hl))
		abort();
	if (cert && (strchr(url, '?') || strlen(url) < 4 || strcmp(url + strlen(url) - 4, ".pem")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size <= 4096) {
		char *s = malloc(size + 1);
		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		check_url(s, true);
		check_url(s, false);
		free(s);
	}
	hook_sns_msg m;
	hk_errinfo ei;
	memset(&ei, 0, sizeof(ei));
	if (hook_sns_msg_parse((const char *)data, size, &m, &ei) != HK_OK) {
		if (!memchr(ei.text, '\0', sizeof(ei.text)))
			abort();
		return 0;
	}
	if (!m.type_str || !m.message_id || !m.topic_arn || !m.message || !m.timestamp ||
	    !m.signature || !m.signing_cert_url || !m.signature_version)
		abort();
	if (m.type != HOOK_SNS_NOTIFICATION && (!m.token || !m.subscribe_url))
		abort();
	check_url(m.signing_cert_url, true);
	if (m.subscribe_url)
		check_url(m.subscribe_url, false);
	char *tbs = NULL;
	size_t len = 0;
	if (hook_sns_string_to_sign(&m, &tbs, &len) != HK_OK)
		abort();
	size_t tl = strlen(m.type_str);
	if (len < 8 + m.message_len || memcmp(tbs, "Message\n", 8) != 0 ||
	    memcmp(tbs + 8, m.message, m.message_len) != 0 || len < tl + 1 ||
	    memcmp(tbs + len - tl - 1, m.type_str, tl) != 0)
		abort();
	free(tbs);
	hook_sns_msg_cleanup(&m);
	return 0;
}
