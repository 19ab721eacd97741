/* Fuzz the configuration parser/validator (no secret files are read). A valid
 * result must be internally consistent: every group named with networks, and
 * group matching must not crash on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hook_problems probs = {0};
	hook_config *cfg = NULL;
	hk_err err =
	    hook_config_parse((const char *)data, size, NULL, HOOK_CONFIG_NO_FILES, &cfg, &probs);
	if (err == HK_OK) {
		if (!cfg || cfg->n_groups == 0 || probs.n != 0)
			abort();
		for (size_t i = 0; i < cfg->n_groups; i++)
			if (!cfg->groups[i].name || cfg->groups[i].n_networks == 0)
				abort();
		(void)hook_config_match_group(cfg, "asg-a", "{\"k\":\"v\"}");
		hook_config_free(cfg);
	} else if (cfg || probs.n == 0) {
		abort(); /* every refusal says why */
	}
	hook_problems_cleanup(&probs);
	return 0;
}
