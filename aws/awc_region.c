/* The client's region: from the configuration, the environment, the shared
 * config file, or (asynchronously) IMDS through the credential provider. */
#include "awc_internal.h"

#include "hk_util.h"

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

/* ---- region ----------------------------------------------------------------- */

void awc_region_done(hk_err err, const char *region, const char *errtext, void *arg)
{
	awc_client *c = arg;
	c->region_pending = false;
	hk_errinfo ei = {0};
	if (err == HK_OK && awsconf_region_valid(region)) {
		free(c->region);
		c->region = strdup(region);
		if (c->region && awc_endpoints_resolve(c, &ei) != HK_OK) {
			free(c->region);
			c->region = NULL;
			snprintf(c->region_err, sizeof(c->region_err), "endpoint: %.200s", ei.text);
		}
	} else {
		snprintf(c->region_err, sizeof(c->region_err),
			 "no region in the environment or profile, and %s", errtext);
	}
	/* Resume every call that waited; they finish or proceed on their own. */
	hk_list *n, *tmp;
	HK_LIST_FOREACH_SAFE(n, tmp, &c->calls)
	{
		awc_call *k = HK_CONTAINER_OF(n, awc_call, link);
		if (k->state == CS_WAIT_REGION)
			awc_call_begin(k);
	}
}

/* Region from cfg, then AWS_REGION, AWS_DEFAULT_REGION, the profile's region.
 * HK_ERR_NOT_FOUND: none (IMDS is asked next). */
hk_err awc_region_from_config(awc_client *c, const awc_config *cfg, hk_errinfo *ei)
{
	char region[AWSCONF_REGION_MAX];
	if (cfg && cfg->region && *cfg->region) {
		if (!awsconf_region_valid(cfg->region))
			return hk_errinfo_set(ei, HK_ERR_INVALID, 0,
					      "awc_config.region is invalid");
		snprintf(region, sizeof(region), "%s", cfg->region);
	} else {
		char *path = NULL, *text = NULL;
		size_t len = 0;
		if (awsconf_config_path(awc_awsconf_env_adapter, c, &path) == HK_OK) {
			/* absent: no profile region; unreadable: said, naming the file */
			hk_err rerr = hk_file_read(path, HK_CAP_CREDS_FILE, &text, &len, ei);
			free(path);
			if (rerr != HK_OK && rerr != HK_ERR_NOT_FOUND)
				return rerr;
		}
		hk_err err = awsconf_region(awc_awsconf_env_adapter, c, text, len, region, ei);
		free(text);
		if (err != HK_OK)
			return err;
	}
	c->region = strdup(region);
	return c->region ? HK_OK : HK_ERR_NOMEM;
}
