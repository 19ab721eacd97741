/* hook/config: declarations shared by the configuration's files (not a
 * public header: the rest of the daemon includes hook_config.h).
 *
 *   config.c           problems, syntax checks, parse/load/free, matching,
 *                      the AWS client from the configuration
 *   config_read.c      the validation context and typed readers (each
 *                      problem recorded with its key path)
 *   config_sections.c  listeners, aws, auth, limits, testing, sns, sqs
 *   config_groups.c    node groups, their networks and hook names */
#ifndef HOOK_CONFIG_INTERNAL_H
#define HOOK_CONFIG_INTERNAL_H

#include <jansson.h>

#include "hk_json.h"
#include "hook_config.h"

#include "awsclient.h"
#include "cidr.h"

/* ---- shared by the config_*.c files ---- */
#define DEF_INTAKE_ADDR		"0.0.0.0"
#define DEF_INTAKE_PORT		8080u
#define DEF_ADMIN_ADDR		"127.0.0.1"
#define DEF_ADMIN_PORT		9901u
#define DEF_API_KEY_HEADER	"x-api-key"
#define DEF_MAX_CONNECTIONS	256u
#define DEF_SNS_MAX_AGE_S	3600u
#define DEF_READ_TIMEOUT_MS	5000u
#define DEF_REQUEST_TIMEOUT_MS	10000u
#define DEF_MAX_CONCURRENT	32u
#define DEF_HEARTBEAT_MARGIN_MS 60000u
#define DEF_SHUTDOWN_GRACE_MS	20000u
#define DEF_SWEEP_INTERVAL_S	600u
#define MAX_NETWORKS_PER_GROUP	15u
#define MAX_SECURITY_GROUPS	16u
#define MAX_USER_TAGS		40u
#define MAX_DEVICE_INDEX	31u
#define MAX_NETWORK_CARD_INDEX	15u
#define PATH_MAX_LEN		256
#define TBUCKET_OVERRIDES_MAX	32u /* aws.rate_limits.buckets entries (12 families exist) */

typedef struct vctx {
	hook_problems *p;
	const char *base_dir;
	unsigned flags;
	bool oom;
} vctx;

void cfg_kpath(char *out, const char *parent, const char *key);
void cfg_ipath(char *out, const char *parent, size_t i);
const char *cfg_json_type_name(const json_t *v);
char *cfg_xstrdup(vctx *v, const char *s);
void cfg_check_keys(vctx *v, const char *path, json_t *obj, const char *const *allowed);
const char *cfg_get_str(vctx *v, const char *path, json_t *obj, const char *key, bool required,
			size_t max_len, bool *bad);
unsigned long long cfg_get_uint(vctx *v, const char *path, json_t *obj, const char *key,
				unsigned long long min, unsigned long long max,
				unsigned long long def);
bool cfg_get_bool(vctx *v, const char *path, json_t *obj, const char *key, bool def);
int cfg_get_enum(vctx *v, const char *path, json_t *obj, const char *key, const char *const *names,
		 int def);
/* The JSON types a member may be asked to have (cfg_member). */
typedef enum cfg_type {
	CFG_STRING,
	CFG_INTEGER,
	CFG_NUMBER,
	CFG_BOOL,
	CFG_OBJECT,
	CFG_ARRAY
} cfg_type;
/* obj[key] when present and of type `t`; NULL when missing ("<path>: missing
 * (required)" when required) or of another type ("<path>: must be <a t>, not
 * <its type>"), with *bad set in both reported cases. Its key path goes to p
 * (PATH_MAX_LEN). */
json_t *cfg_member(vctx *v, const char *path, json_t *obj, const char *key, cfg_type t,
		   bool required, bool *bad, char *p);
json_t *cfg_get_obj(vctx *v, const char *path, json_t *obj, const char *key, bool required);
/* An optional top-level section: root[name] when it is an object, its keys
 * checked against `keys` (cfg_check_keys); NULL when absent or not an object
 * (said). */
json_t *cfg_section(vctx *v, json_t *root, const char *name, const char *const *keys);
json_t *cfg_get_arr(vctx *v, const char *path, json_t *obj, const char *key, bool required,
		    bool nonempty);
/* One element of a string list (cfg_get_strs): the text to keep, or NULL
 * after reporting why at `ep` (the element's path). `kept` holds the n
 * elements accepted before it. */
typedef const char *(*cfg_elem_fn)(vctx *v, const char *ep, const json_t *e, char *const *kept,
				   size_t n, const void *ctx);
/* The string list at obj[key]: the array (cfg_get_arr's required/nonempty),
 * at most `max_n` elements when max_n is not 0 ("<path>: at most N <what>"),
 * each element checked by `elem` and copied. NULL when absent, empty or
 * refused (*ret_n 0). */
char **cfg_get_strs(vctx *v, const char *path, json_t *obj, const char *key, bool required,
		    bool nonempty, size_t max_n, const char *what, cfg_elem_fn elem,
		    const void *ctx, size_t *ret_n);
/* A string of 1 to max_len bytes without NUL (else NULL; nothing reported). */
const char *cfg_plain_str(const json_t *e, size_t max_len);
bool cfg_match_id(const char *s, const char *prefix);
bool cfg_name_ok(const char *s);
hook_kv *cfg_get_kv(vctx *v, const char *path, json_t *obj, size_t max_key, size_t max_val,
		    size_t *ret_n);
void cfg_kv_free(hook_kv *kv, size_t n);
void cfg_strv_free(char **sv, size_t n);
char *cfg_resolve_path(vctx *v, const char *p);
char *cfg_read_secret(vctx *v, const char *keypath, const char *file, size_t *ret_len);
bool cfg_addr_ok(const char *s);
void cfg_parse_listener(vctx *v, json_t *parent, const char *name, hook_listener_cfg *out,
			const char *def_addr, unsigned def_port);
void cfg_parse_aws(vctx *v, json_t *root, hook_config *cfg);
/* listeners.admin.auth (after the listeners): required off loopback. */
void cfg_parse_admin_auth(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_auth(vctx *v, json_t *root, hook_config *cfg);
/* listeners.admin.auth (after the listeners): required off loopback. */
void cfg_parse_admin_auth(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_limits(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_testing(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_sns(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_sqs(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_notify(vctx *v, json_t *root, hook_config *cfg);
void cfg_parse_group(vctx *v, const char *path, json_t *o, hook_node_group *g);
void cfg_group_cleanup(hook_node_group *g);

#endif
