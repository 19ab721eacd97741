/* aws/ internal: the AWS credentials provider chain, cached, asynchronous.
 *
 * Providers, in order; the first one that is *configured* decides (a configured
 * provider that fails is an error, the chain does not fall through to the next
 * one, as in botocore, so a broken IRSA setup never silently runs with the
 * node's role):
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
 *   2. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE
 *      [+ AWS_ROLE_SESSION_NAME] -> STS AssumeRoleWithWebIdentity (unsigned)
 *   3. container: AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to loopback,
 *      169.254.170.2, 169.254.170.23 or fd00:ec2::23) or
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2), with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   4. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
 *      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE (default "default")
 *   5. IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true): token PUT, role name,
 *      role credentials; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the endpoint.
 * Local files are read synchronously (local disk); everything on the network
 * goes through httpc and never blocks.
 *
 * Credentials are cached and refreshed 5 minutes (+ up to 1 minute of jitter)
 * before they expire, in the background: callers keep getting the cached ones
 * while they are valid for more than 10 s more. Callers that must wait (nothing
 * cached, or about to expire) share one fetch. If a refresh fails while the
 * cached credentials are still valid, those are kept and the refresh is tried
 * again a minute later. Secrets are
 * wiped (OPENSSL_cleanse) when freed and never appear in error texts.
 * Implemented in creds.c. */
#ifndef AWS_CREDS_H
#define AWS_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "hk_common.h"
#include "creds_value.h"
#include "httpc.h"

struct event_base;

/* One immutable set of credentials, reference counted. */

/* Look up an environment variable: returns the value or NULL (the shape of
 * awsconf_getenv_fn). */

typedef struct creds_provider creds_provider;

/* Create a provider that sends through `http` (borrowed; must outlive the
 * provider). Strings in cfg are copied. Nothing is fetched yet. Errors:
 * HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err creds_provider_new(struct event_base *base, httpc *http,
					const creds_config *cfg, creds_provider **ret);

/* Free; pending waiters are dropped without their callbacks, fetches are
 * cancelled. NULL-safe. Not from inside a creds_done_fn. */
void creds_provider_free(creds_provider *p);

/* Result of creds_get(): on HK_OK `creds` is borrowed for the callback (take a
 * creds_ref() to keep it). On failure creds is NULL and `errtext` says which
 * provider failed and why (no secrets). Errors: HK_ERR_NO_CREDENTIALS (no
 * provider configured/yielding), HK_ERR_AUTH / HK_ERR_DENIED (STS or the
 * container endpoint refused), HK_ERR_TRANSIENT / HK_ERR_TIMEOUT (network),
 * HK_ERR_PARSE (malformed answer or file), HK_ERR_INVALID (e.g. a container URL
 * to a host that is not allowed), HK_ERR_IO (token file unreadable). */

/* Get credentials. `done` runs exactly once, always later from the event loop
 * (never inside creds_get()), unless the provider is freed first. Errors (no
 * callback then): HK_ERR_NOMEM, HK_ERR_FULL (more than HK_CAP_CREDS_WAITERS
 * waiting). */
HK_MUST_CHECK hk_err creds_get(creds_provider *p, creds_done_fn done, void *arg);

/* Forget the cached credentials (e.g. AWS said ExpiredToken): the next
 * creds_get() fetches again. A fetch in flight is not affected. */
void creds_invalidate(creds_provider *p);

/* Number of fetches started so far (for tests and metrics). */
unsigned creds_fetch_count(const creds_provider *p);

/* Region from IMDS (GET /latest/meta-data/placement/region with an IMDSv2
 * token). `done` runs exactly once, later (region borrowed; NULL on failure
 * with errtext). Errors (no callback then): HK_ERR_STATE (IMDS disabled by
 * AWS_EC2_METADATA_DISABLED), HK_ERR_NOMEM, HK_ERR_EXISTS (one already pending). */
HK_MUST_CHECK hk_err creds_imds_region(creds_provider *p, creds_region_fn done, void *arg);

/* Parse an ISO 8601 / RFC 3339 UTC timestamp as AWS sends it
 * ("2024-05-01T12:34:56Z", optional fraction, "Z" or "+00:00") into Unix
 * seconds. Errors: HK_ERR_PARSE. *ret untouched on failure. */
HK_MUST_CHECK hk_err creds_parse_time(const char *s, int64_t *ret);

/* Whether a container credentials full URI may be used (see above). */
bool creds_container_uri_allowed(const char *uri);

/* The default chain as a creds_source (a creds_provider behind the ops): the
 * factory awsclient_new() gives every client. */
HK_MUST_CHECK hk_err creds_source_chain(struct event_base *base, struct httpc *http,
					const creds_config *cfg, creds_source *ret);

#endif
