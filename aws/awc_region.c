/* The client's region: from the configuration, the environment, the shared
 * config file, or (asynchronously) IMDS through the credential provider. */
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
	for (awc_call *k = c->calls; k; k = k->next)
		if (k->state == CS_WAIT_REGION)
			awc_call_begin(k);
}

/* Read a local file (the shared config file) whole, capped. NULL when absent. */
static hk_err slurp(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return HK_ERR_NOT_FOUND;
	char *buf = malloc(HK_CAP_CREDS_FILE + 1);
	if (!buf) {
		fclose(f);
		return HK_ERR_NOMEM;
	}
	size_t n = fread(buf, 1, HK_CAP_CREDS_FILE + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || n > HK_CAP_CREDS_FILE) {
		free(buf);
		return bad ? HK_ERR_IO : HK_ERR_TOO_LARGE;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return HK_OK;
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
			hk_err rerr = slurp(path, &text, &len);
			free(path);
			if (rerr != HK_OK && rerr != HK_ERR_NOT_FOUND)
				return hk_errinfo_set(ei, rerr, 0,
						      "cannot read the AWS config file");
		}
		hk_err err = awsconf_region(awc_awsconf_env_adapter, c, text, len, region, ei);
		free(text);
		if (err != HK_OK)
			return err;
	}
	c->region = strdup(region);
	return c->region ? HK_OK : HK_ERR_NOMEM;
}
