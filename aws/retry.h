/* aws/ internal: retry and rate-limit policy. Pure: no I/O, no clock reads, no
 * logging (the caller passes the outcome, the attempt number, the time and a
 * random source). Implemented in retry.c. Rationale: docs/aws-signing.md.
 *
 * How the client core uses it, per call:
 *   1. before every attempt: wait tbucket_acquire(buckets, family, now_us) us;
 *   2. after the attempt: cls = retry_classify(...); err = retry_map_err(...);
 *      feed the bucket (tbucket_on_throttle / tbucket_on_success);
 *   3. if retry_should_retry(cls, idempotent, attempts_made, max_attempts):
 *      wait retry_backoff_us(&policy, cls, attempts_made - 1, rnd, arg) and go to 1.
 */
#ifndef AWS_RETRY_H
#define AWS_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "hk_common.h"

/* ---- classification ---------------------------------------------------- */

typedef enum retry_class {
	RETRY_OK = 0,	 /* success (2xx/3xx and no AWS error code) */
	RETRY_THROTTLE,	 /* AWS throttled the call: always retryable, slow down */
	RETRY_TRANSIENT, /* 5xx, connection failure, timeout: retryable if idempotent */
	RETRY_PERMANENT	 /* anything else: never retried */
} retry_class;

/* Classify one attempt's outcome.
 * `transport`: HK_OK when an HTTP response arrived; otherwise the transport error
 *   (HK_ERR_TIMEOUT, HK_ERR_TRANSIENT or HK_ERR_IO for connect/send/receive
 *   failures are transient; HK_ERR_CANCELLED, HK_ERR_TOO_LARGE, HK_ERR_NOMEM and
 *   anything else are permanent). http_status/aws_code are then ignored.
 * `http_status`: the HTTP status; `aws_code`: the error code parsed from the body
 *   (NULL or "" when none, e.g. a non-XML 5xx page).
 * Throttle: codes RequestLimitExceeded, Throttling, ThrottlingException,
 *   ThrottledException, RequestThrottled, RequestThrottledException,
 *   TooManyRequestsException, SlowDown, EC2ThrottledException,
 *   PriorRequestNotComplete, BandwidthLimitExceeded; HTTP 429; HTTP 503 without code.
 * Transient: codes InternalError, InternalFailure, ServiceUnavailable, Unavailable,
 *   RequestTimeout, RequestTimeoutException, IDPCommunicationError; any other 5xx. */
retry_class retry_classify(hk_err transport, long http_status, const char *aws_code);

/* The project error for an outcome (HK_OK for success). Throttles ->
 * HK_ERR_THROTTLED; other transient outcomes -> the transport error itself, or
 * HK_ERR_TRANSIENT for 5xx; AuthFailure, SignatureDoesNotMatch,
 * InvalidClientTokenId, UnrecognizedClientException, IncompleteSignature,
 * ExpiredToken, ExpiredTokenException, MissingAuthenticationToken,
 * InvalidAccessKeyId, InvalidSecurity -> HK_ERR_AUTH;
 * AccessDenied, AccessDeniedException, UnauthorizedOperation -> HK_ERR_DENIED;
 * "*.NotFound" and NotFound codes -> HK_ERR_NOT_FOUND; "*.InUse" ->
 * HK_ERR_EXISTS for addresses, HK_ERR_STATE otherwise; limit codes
 * (InsufficientFreeAddressesInSubnet, AttachmentLimitExceeded,
 * NetworkInterfaceLimitExceeded, ...) -> HK_ERR_FULL; IncorrectState,
 * IncorrectInstanceState -> HK_ERR_STATE; validation codes (ValidationError,
 * InvalidParameterValue, InvalidParameterCombination, MissingParameter,
 * "*.Malformed", ...) -> HK_ERR_INVALID; any other AWS error -> HK_ERR_AWS.
 * The full table is in retry.c; callers that care about one code compare the
 * code string, not this coarse value. */
hk_err retry_map_err(hk_err transport, long http_status, const char *aws_code);

/* Whether to try again after an attempt classified `cls`, when `attempts_made`
 * attempts (>= 1) have been made out of `max_attempts`: throttles always (a
 * throttled request was not executed), transient outcomes only when the call is
 * `idempotent` (pass true also when the request provably never left, e.g. a
 * refused connection), never for RETRY_OK/RETRY_PERMANENT or once the budget is
 * spent. */
bool retry_should_retry(retry_class cls, bool idempotent, unsigned attempts_made,
			unsigned max_attempts);

/* ---- backoff ----------------------------------------------------------- */

/* A random source: returns a uniformly distributed 32-bit value. */
typedef uint32_t (*retry_rand_fn)(void *arg);

/* Backoff settings. Defaults (retry_policy_default) follow the AWS SDKs'
 * "standard" retry mode (botocore 1.43 retries/standard.py; AWS SDKs and Tools
 * reference guide, "Retry behavior"): throttles base 1 s, other transient errors
 * base 50 ms, cap 20 s, and HK_CAP_AWS_ATTEMPTS attempts. */
typedef struct retry_policy {
	uint64_t base_us;	   /* transient errors */
	uint64_t throttle_base_us; /* throttles */
	uint64_t cap_us;	   /* no single delay exceeds this (<= 1 hour) */
	unsigned max_attempts;	   /* per call, including the first */
} retry_policy;

void retry_policy_default(retry_policy *p);

/* Full-jitter delay before retry number `retry` (0 for the first retry, i.e.
 * after the first attempt failed): uniform in [0, min(cap, base * 2^retry)]
 * microseconds, base chosen by `cls` (RETRY_THROTTLE uses throttle_base_us).
 * `rnd` NULL uses a CSPRNG (OpenSSL RAND_bytes). Never exceeds p->cap_us. */
uint64_t retry_backoff_us(const retry_policy *p, retry_class cls, unsigned retry, retry_rand_fn rnd,
			  void *rnd_arg);

/* ---- client-side token buckets ------------------------------------------ */

/* EC2 throttles per account, per Region, per API, with token buckets whose sizes
 * AWS documents (docs/aws-facts.md, "Rate limits"). The daemon shares them with every
 * other tool in the account, so it paces itself with buckets of the same size
 * (times a scale factor), one per family of actions. */
typedef enum tbucket_family {
	TBUCKET_EC2_DESCRIBE = 0,	  /* non-mutating Describe, Get: 100 / 20 per s */
	TBUCKET_EC2_DESCRIBE_UNFILTERED,  /* Describe without filter, ids, paging: 50 / 10 */
	TBUCKET_EC2_MUTATING,		  /* Attach/Detach and other mutating: 50 / 5 */
	TBUCKET_EC2_CREATE_ENI,		  /* CreateNetworkInterface: 100 / 5 */
	TBUCKET_EC2_DELETE_ENI,		  /* DeleteNetworkInterface: 100 / 5 */
	TBUCKET_EC2_MODIFY_ENI_ATTRIBUTE, /* ModifyNetworkInterfaceAttribute: 100 / 5 */
	TBUCKET_EC2_ASSIGN_IPV6,	  /* AssignIpv6Addresses: 100 / 5 */
	TBUCKET_EC2_CREATE_TAGS,	  /* CreateTags: 100 / 10 */
	TBUCKET_EC2_CIDR_RESERVATION,	  /* Create/Get/DeleteSubnetCidrReservation: 5 / 1 */
	TBUCKET_AUTOSCALING,		  /* other Auto Scaling actions: 20 / 2 (our choice) */
	TBUCKET_AUTOSCALING_LIFECYCLE,	  /* Complete/RecordLifecycleAction*: 100 / 20 (ours) */
	TBUCKET_STS,			  /* every STS action: 10 / 1 (our choice) */
	TBUCKET_SQS,			  /* every SQS action: 200 / 100 (our choice) */
	TBUCKET_SNS,			  /* every SNS action (notify): 30 / 10 (ours) */
	TBUCKET__COUNT
} tbucket_family;

/* The family of a call. `service` is the signing name ("ec2", "autoscaling",
 * "sts", "sqs"); `action` the API action ("DescribeSubnets"); `unfiltered` true
 * when a Describe call has no filter, no ids and no MaxResults (see
 * query_is_unfiltered() in query.h). Unknown EC2 actions: DescribeX and GetX ->
 * DESCRIBE, anything else -> MUTATING. Auto Scaling: CompleteLifecycleAction and
 * RecordLifecycleActionHeartbeat -> AUTOSCALING_LIFECYCLE (one of each per
 * action: they must not queue behind Describe calls), anything else ->
 * AUTOSCALING. Unknown services -> TBUCKET_STS (the smallest non-EC2 bucket). */
tbucket_family tbucket_family_of(const char *service, const char *action, bool unfiltered);

/* Stable names for config keys and logs ("ec2-describe", "ec2-create-network-
 * interface", ...; see retry.c) and back. Unknown name: HK_ERR_NOT_FOUND. */
const char *tbucket_family_name(tbucket_family f);
HK_MUST_CHECK hk_err tbucket_family_from_name(const char *name, tbucket_family *ret);

/* The documented (unscaled) size of a family. */
void tbucket_default_size(tbucket_family f, double *ret_burst, double *ret_refill_per_s);

typedef struct tbucket_set tbucket_set;

/* A set of buckets, one per family, all full at `now_us` (a monotonic time in
 * microseconds, any origin). `scale` multiplies every burst and refill rate
 * (default sizes and overrides alike; e.g. 0.5 when two daemons share an
 * account); it must be in (0, 100] (HK_ERR_RANGE). Burst never drops below one
 * token. Errors: HK_ERR_RANGE, HK_ERR_NOMEM. */
HK_MUST_CHECK hk_err tbucket_set_new(double scale, uint64_t now_us, tbucket_set **ret);
void tbucket_set_free(tbucket_set *s); /* NULL-safe */

/* Replace a family's size (before scaling) and refill it to full at `now_us`.
 * burst >= 1 and 0 < refill_per_s <= 1e6, else HK_ERR_RANGE. */
HK_MUST_CHECK hk_err tbucket_set_override(tbucket_set *s, tbucket_family f, double burst,
					  double refill_per_s, uint64_t now_us);

/* Reserve one token of family `f` at `now_us` and return how many microseconds
 * to wait before sending (0: send now). The token is taken at once, even when
 * the wait is not 0 (the bucket goes into debt), so concurrent callers each get
 * their own slot, in call order, and nobody polls. A caller that gives up while
 * waiting simply loses its token. `now_us` must not go backwards (a smaller
 * value is treated as the last one seen). */
uint64_t tbucket_acquire(tbucket_set *s, tbucket_family f, uint64_t now_us);

/* Adaptive pacing. AWS throttled a call of `f` although the bucket let it
 * through: the bucket is emptied (AWS says the shared bucket is empty) and its
 * refill rate halves, at most once per second, never below 10% of its size.
 * tbucket_on_success: the rate recovers by 5% of the nominal rate per second
 * elapsed since the last adjustment, up to 100%. */
void tbucket_on_throttle(tbucket_set *s, tbucket_family f, uint64_t now_us);
void tbucket_on_success(tbucket_set *s, tbucket_family f, uint64_t now_us);

/* Current refill rate of `f` in tokens per second (after scale and adaptation),
 * and the burst size; for metrics and tests. */
double tbucket_rate(const tbucket_set *s, tbucket_family f);
/* The adaptive factor of `f` (1: the nominal rate; 0.1 at the lowest). */
double tbucket_factor(const tbucket_set *s, tbucket_family f);
double tbucket_burst(const tbucket_set *s, tbucket_family f);

#endif
