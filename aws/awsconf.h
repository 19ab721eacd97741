/* aws/ internal: region, endpoint and shared-file configuration, resolved the way
 * the AWS SDKs do. Pure: no I/O, no getenv(), no logging. The caller passes an
 * environment lookup function and the CONTENTS of the shared files (the client
 * core reads them, within HK_CAP_CREDS_FILE). Implemented in awsconf.c;
 * rationale and rules in docs/aws-signing.md. */
#ifndef AWS_AWSCONF_H
#define AWS_AWSCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "hk_common.h"

/* Environment lookup: the value of `name`, or NULL when unset. An empty value
 * is treated as unset everywhere below. For the real environment, pass
 * awsconf_getenv_process (a wrapper around getenv). */
typedef const char *(*awsconf_getenv_fn)(const char *name, void *arg);
const char *awsconf_getenv_process(const char *name, void *arg);

/* The services we talk to, in the order of awc_service (awc.h). */
typedef enum awsconf_service {
	AWSCONF_SVC_EC2 = 0,
	AWSCONF_SVC_AUTOSCALING,
	AWSCONF_SVC_STS,
	AWSCONF_SVC_SQS,
	AWSCONF_SVC_SNS,
	AWSCONF_SVC__COUNT
} awsconf_service;

/* The service's SigV4 signing name ("ec2", "autoscaling", "sts", "sqs", "sns"). */
const char *awsconf_service_signing_name(awsconf_service svc);

/* ---- shared files ---- */

/* Paths of the shared files: AWS_CONFIG_FILE, else $HOME/.aws/config;
 * AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials. A leading "~/" is
 * replaced by $HOME. Caller frees *ret. HK_ERR_NOT_FOUND when HOME is needed
 * but unset; HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err awsconf_config_path(awsconf_getenv_fn env, void *arg, char **ret);
HK_MUST_CHECK hk_err awsconf_credentials_path(awsconf_getenv_fn env, void *arg, char **ret);

/* The selected profile: AWS_PROFILE, else "default". Borrowed (from the
 * environment or static). */
const char *awsconf_profile(awsconf_getenv_fn env, void *arg);

typedef enum awsconf_file_kind {
	AWSCONF_FILE_CONFIG = 0,  /* ~/.aws/config: [default], [profile NAME] */
	AWSCONF_FILE_CREDENTIALS, /* ~/.aws/credentials: [NAME] */
} awsconf_file_kind;

/* A parsed shared file. */
typedef struct awsconf_ini awsconf_ini;

/* Parse `len` bytes of a shared file (need not be NUL-terminated).
 * Syntax (the SDKs' INI dialect):
 *  - lines end with LF or CRLF; a UTF-8 BOM at the start is skipped;
 *  - blank lines and lines whose first non-blank character is '#' or ';' are
 *    comments; on a section line anything after ']' must be a comment; on a
 *    property line '#' or ';' start a comment only after a space or tab (so
 *    values may contain them);
 *  - "[NAME]" starts a section (name trimmed). In a config file "[default]"
 *    and "[profile NAME]" are profiles and other sections ("[sso-session x]",
 *    "[services x]", "[NAME]" without the prefix) are skipped; in a
 *    credentials file every "[NAME]" is the profile NAME, taken literally;
 *  - "key = value": key trimmed and lowercased, value trimmed;
 *  - an indented line after a property continues it: a sub-property
 *    ("key = value") when the property's value was empty (skipped: none of the
 *    settings we read uses them), otherwise more text appended with '\n';
 *  - a section named twice is one section; a key set twice keeps the last value.
 * Errors (with the 1-based line number in ei->text and the line's byte offset in
 * ei->offset): HK_ERR_TOO_LARGE above HK_CAP_CREDS_FILE; HK_ERR_PARSE for a NUL
 * byte, a property before any section, a line without '=', an empty key, an
 * unterminated or empty section header, text after ']'; HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err awsconf_ini_parse(const char *data, size_t len, awsconf_file_kind kind,
				       awsconf_ini **ret, hk_errinfo *ei);
/* Frees and wipes every string (values may be secrets). NULL-safe. */
void awsconf_ini_free(awsconf_ini *ini);
/* The value of `key` (case-insensitive) in `profile`, or NULL. Borrowed. */
const char *awsconf_ini_get(const awsconf_ini *ini, const char *profile, const char *key);
bool awsconf_ini_has_profile(const awsconf_ini *ini, const char *profile);

/* Static credentials from the shared files. Owned; release with
 * awsconf_creds_cleanup() (wipes with OPENSSL_cleanse). session_token may be
 * NULL. */
typedef struct awsconf_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
} awsconf_creds;

/* Credentials of `profile` (NULL: "default") from the credentials file, else
 * from the config file (either content may be NULL: file absent). The first
 * file whose profile sets aws_access_key_id supplies all three values.
 * HK_ERR_NOT_FOUND: no static keys for the profile (ei says why, e.g. the profile
 * uses role_arn or credential_process, which we do not support);
 * HK_ERR_INVALID: a key id without a secret or the reverse; parse errors as
 * awsconf_ini_parse (ei names the file). *ret is written only on success. */
HK_MUST_CHECK hk_err awsconf_shared_creds(const char *cred_data, size_t cred_len,
					  const char *config_data, size_t config_len,
					  const char *profile, awsconf_creds *ret, hk_errinfo *ei);
void awsconf_creds_cleanup(awsconf_creds *c); /* NULL-safe */

/* ---- region ---- */

#define AWSCONF_REGION_MAX 64 /* buffer size for a region name, NUL included */

/* True for a plausible region name: 1-63 of [a-z0-9-], not starting or ending
 * with '-' (it becomes part of a host name). */
bool awsconf_region_valid(const char *region);

/* Region: AWS_REGION, else AWS_DEFAULT_REGION, else `region` of the selected
 * profile (awsconf_profile) in the config file contents (NULL: no file).
 * HK_OK: ret_region filled. HK_ERR_NOT_FOUND: none configured, ask IMDS.
 * HK_ERR_INVALID: the configured value is not a valid region (ei says which
 * source). Config parse errors as awsconf_ini_parse. */
HK_MUST_CHECK hk_err awsconf_region(awsconf_getenv_fn env, void *arg, const char *config_data,
				    size_t config_len, char ret_region[AWSCONF_REGION_MAX],
				    hk_errinfo *ei);

/* ---- endpoints ---- */

/* A checked endpoint URL, split. */
typedef struct awsconf_url {
	bool https;
	char host[256];	       /* as in the URL; IPv6 literals keep their brackets */
	unsigned port;	       /* 0 when the URL has none */
	char host_header[264]; /* host, plus ":port" unless absent or the scheme's default
				  (what curl sends as Host, hence what must be signed) */
	const char *path;      /* borrowed from the URL; "/" when empty */
} awsconf_url;

/* Check an endpoint URL: scheme http or https (any case), "://", a host
 * (reg-name or bracketed IPv6 literal), an optional port 1-65535, then nothing
 * or a path/query starting with '/', no user info, no spaces or control
 * characters. `ret` may be NULL; its path points into `url`.
 * HK_ERR_INVALID with ei->offset at the offending byte. */
HK_MUST_CHECK hk_err awsconf_url_parse(const char *url, awsconf_url *ret, hk_errinfo *ei);

/* Endpoint URL for `svc` in `region`: AWS_ENDPOINT_URL_EC2 /
 * AWS_ENDPOINT_URL_AUTO_SCALING / AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SQS,
 * else AWS_ENDPOINT_URL, else https://<ec2|autoscaling|sts|sqs>.<region>.
 * amazonaws.com (".amazonaws.com.cn" for cn-* regions). Environment overrides
 * are ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true" (any case).
 * Overrides are checked with awsconf_url_parse; `region` must then still be
 * valid (it is the signing region). Caller frees *ret_url. Errors:
 * HK_ERR_INVALID (bad URL or region: ei names the variable), HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err awsconf_endpoint(awsconf_service svc, const char *region,
				      awsconf_getenv_fn env, void *arg, char **ret_url,
				      hk_errinfo *ei);

#endif
