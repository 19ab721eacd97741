/* Fuzzes awsconf_ini_parse (both file kinds) and the functions built on it:
 * shared credentials and region resolution. The first byte picks the profile
 * looked up, so named profiles get exercised too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awsconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_env(const char *name, void *arg)
{
	(void)name;
	return arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = {"default", "prod", "a", "profile x", ""};
	const char *profile = profiles[size ? data[0] % 5 : 0];
	const char *text = (const char *)data;
	for (int kind = 0; kind < 2; kind++) {
		awsconf_ini *ini = NULL;
		hk_errinfo ei;
		if (awsconf_ini_parse(text, size, (awsconf_file_kind)kind, &ini, &ei) == HK_OK) {
			const char *v = awsconf_ini_get(ini, profile, "region");
			if (v && strlen(v) > size)
				abort(); /* a value cannot be longer than the input */
			(void)awsconf_ini_has_profile(ini, profile);
			awsconf_ini_free(ini);
		} else if (ei.offset > size || !memchr(ei.text, '\0', sizeof(ei.text))) {
			abort();
		}
	}
	awsconf_creds c;
	hk_errinfo ei;
	if (awsconf_shared_creds(text, size, text, size, profile, &c, &ei) == HK_OK)
		awsconf_creds_cleanup(&c);
	char region[AWSCONF_REGION_MAX];
	if (awsconf_region(no_env, NULL, text, size, region, &ei) == HK_OK &&
	    !awsconf_region_valid(region))
		abort();
	return 0;
}
