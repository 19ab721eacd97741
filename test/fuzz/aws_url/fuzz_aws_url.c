/* Fuzzes awsconf_url_parse and awsconf_endpoint with the input as an
 * AWS_ENDPOINT_URL override. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awsconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *env_url(const char *name, void *arg)
{
	return strcmp(name, "AWS_ENDPOINT_URL") ? NULL : arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	awsconf_url u;
	hk_errinfo ei;
	if (awsconf_url_parse(url, &u, &ei) == HK_OK) {
		/* Invariants the client core relies on. */
		if (!u.host[0] || u.port > 65535 || u.path[0] == '\0' ||
		    strncmp(u.host_header, u.host, strlen(u.host)))
			abort();
	}
	char *ep = NULL;
	if (awsconf_endpoint(AWSCONF_SVC_EC2, "us-east-1", env_url, url, &ep, &ei) == HK_OK) {
		if (strlen(url) && strcmp(ep, url))
			abort();
		free(ep);
	}
	free(url);
	return 0;
}
