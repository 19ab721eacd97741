/* Retry and rate-limit policy (see retry.h and docs/aws-signing.md). */
#include "retry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "hk_caps.h"

/* ---- classification ---- */

static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(code, list[i]))
			return true;
	return false;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* botocore 1.43 retries/standard.py ThrottlingErrorDetector, minus the codes of
 * services we never call. */
static const char *const throttle_codes[] = {
    "RequestLimitExceeded",	"Throttling",
    "ThrottlingException",	"ThrottledException",
    "RequestThrottled",		"RequestThrottledException",
    "TooManyRequestsException", "SlowDown",
    "EC2ThrottledException",	"PriorRequestNotComplete",
    "BandwidthLimitExceeded",
};

static const char *const transient_codes[] = {
    "InternalError",  "InternalFailure",	 "ServiceUnavailable",	  "Unavailable",
    "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
};

static const char *const auth_codes[] = {
    "AuthFailure",	     "SignatureDoesNotMatch",
    "InvalidClientTokenId",  "UnrecognizedClientException",
    "IncompleteSignature",   "ExpiredToken",
    "ExpiredTokenException", "MissingAuthenticationToken",
    "InvalidAccessKeyId",    "InvalidSecurity",
    "InvalidToken",	     "RequestExpired", /* clock skew: the signature's time is too far off */
    "InvalidIdentityToken",
};

static const char *const denied_codes[] = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Blocked", "OptInRequired",
};

static const char *const full_codes[] = {
    "InsufficientFreeAddressesInSubnet",
    "AttachmentLimitExceeded",
    "NetworkInterfaceLimitExceeded",
    "PrivateIpAddressLimitExceeded",
    "AddressLimitExceeded",
    "TagLimitExceeded",
    "ResourceLimitExceeded",
    "LimitExceeded",
    "LimitExceededException",
    "InsufficientCidrBlocks",
};

static const char *const state_codes[] = {
    "IncorrectState",
    "IncorrectInstanceState",
    "InvalidNetworkInterface.InUse",
    "InvalidAttachment.InUse",
    "DependencyViolation",
    "ResourceInUse",
    "ScalingActivityInProgress",
    "ResourceContention",
    "InvalidState",
};

static const char *const invalid_codes[] = {
    "ValidationError",
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "InvalidParameter",
    "MissingParameter",
    "UnknownParameter",
    "InvalidAction",
    "MalformedQueryString",
    "InvalidQueryParameter",
    "IdempotentParameterMismatch",
    "InvalidRequest",
    "InvalidInput",
    "InvalidSubnet.Conflict",
    "InvalidSubnet.Range",
    "InvalidParameterException",
};

static bool has_code(const char *code)
{
	return code && *code;
}

retry_class retry_classify(hk_err transport, long http_status, const char *aws_code)
{
	if (transport != HK_OK) {
		switch (transport) {
		case HK_ERR_TIMEOUT:
		case HK_ERR_TRANSIENT:
		case HK_ERR_IO:
			return RETRY_TRANSIENT;
		case HK_ERR_THROTTLED:
			return RETRY_THROTTLE;
		default:
			return RETRY_PERMANENT;
		}
	}
	if (has_code(aws_code)) {
		if (in_list(aws_code, throttle_codes, HK_ARRAY_LEN(throttle_codes)))
			return RETRY_THROTTLE;
		if (in_list(aws_code, transient_codes, HK_ARRAY_LEN(transient_codes)))
			return RETRY_TRANSIENT;
		/* A 5xx with a code we do not know is still the server's fault. */
		return http_status >= 500 && http_status <= 599 ? RETRY_TRANSIENT : RETRY_PERMANENT;
	}
	if (http_status == 429 || http_status == 503)
		return RETRY_THROTTLE;
	if (http_status >= 500 && http_status <= 599)
		return RETRY_TRANSIENT;
	if (http_status >= 200 && http_status <= 399)
		return RETRY_OK;
	return RETRY_PERMANENT; /* 4xx without a code, 1xx, nonsense */
}

hk_err retry_map_err(hk_err transport, long http_status, const char *aws_code)
{
	retry_class cls = retry_classify(transport, http_status, aws_code);
	if (transport != HK_OK)
		return cls == RETRY_THROTTLE ? HK_ERR_THROTTLED : transport;
	switch (cls) {
	case RETRY_OK:
		return HK_OK;
	case RETRY_THROTTLE:
		return HK_ERR_THROTTLED;
	case RETRY_TRANSIENT:
		return HK_ERR_TRANSIENT;
	case RETRY_PERMANENT:
		break;
	}
	if (!has_code(aws_code))
		return HK_ERR_AWS; /* 4xx without a parsable error */
	if (in_list(aws_code, auth_codes, HK_ARRAY_LEN(auth_codes)))
		return HK_ERR_AUTH;
	if (in_list(aws_code, denied_codes, HK_ARRAY_LEN(denied_codes)))
		return HK_ERR_DENIED;
	if (in_list(aws_code, full_codes, HK_ARRAY_LEN(full_codes)))
		return HK_ERR_FULL;
	if (in_list(aws_code, state_codes, HK_ARRAY_LEN(state_codes)))
		return HK_ERR_STATE;
	if (in_list(aws_code, invalid_codes, HK_ARRAY_LEN(invalid_codes)) ||
	    ends_with(aws_code, ".Malformed"))
		return HK_ERR_INVALID;
	if (ends_with(aws_code, ".NotFound") || !strcmp(aws_code, "NotFound") ||
	    ends_with(aws_code, "NotFoundException"))
		return HK_ERR_NOT_FOUND;
	if (ends_with(aws_code, ".InUse")) /* an address taken, or a resource busy */
		return strstr(aws_code, "Address") ? HK_ERR_EXISTS : HK_ERR_STATE;
	if (ends_with(aws_code, ".Duplicate") || !strcmp(aws_code, "AlreadyExists") ||
	    !strcmp(aws_code, "AlreadyExistsFault"))
		return HK_ERR_EXISTS;
	return HK_ERR_AWS;
}

bool retry_should_retry(retry_class cls, bool idempotent, unsigned attempts_made,
			unsigned max_attempts)
{
	if (attempts_made >= max_attempts)
		return false;
	switch (cls) {
	case RETRY_THROTTLE:
		return true;
	case RETRY_TRANSIENT:
		return idempotent;
	default:
		return false;
	}
}

/* ---- backoff ---- */

#define RETRY_CAP_MAX_US (3600ull * 1000000ull)

void retry_policy_default(retry_policy *p)
{
	p->base_us = 50000;	       /* 50 ms: botocore non_throttling_base_scale */
	p->throttle_base_us = 1000000; /* 1 s: botocore throttling_base_scale */
	p->cap_us = 20000000;	       /* 20 s: botocore _MAX_BACKOFF */
	p->max_attempts = HK_CAP_AWS_ATTEMPTS;
}

static uint32_t rand_openssl(void *arg)
{
	(void)arg;
	uint32_t v = 0;
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)random(); /* never seen; still a spread, not a crash */
	return v;
}

uint64_t retry_backoff_us(const retry_policy *p, retry_class cls, unsigned retry, retry_rand_fn rnd,
			  void *rnd_arg)
{
	uint64_t cap = p->cap_us > RETRY_CAP_MAX_US ? RETRY_CAP_MAX_US : p->cap_us;
	uint64_t base = cls == RETRY_THROTTLE ? p->throttle_base_us : p->base_us;
	uint64_t bound = base;
	/* base * 2^retry, saturating at cap without overflow. */
	for (unsigned i = 0; i < retry && bound < cap; i++)
		bound = bound > cap / 2 ? cap : bound * 2;
	if (bound > cap)
		bound = cap;
	uint32_t r = (rnd ? rnd : rand_openssl)(rnd_arg);
	/* Uniform over [0, bound]: (bound + 1) * r / 2^32; bound <= 2^32 us, so the
	 * product fits in 64 bits. */
	return (uint64_t)(((bound + 1) * (uint64_t)r) >> 32);
}

/* ---- token buckets ---- */

typedef struct tbucket_def {
	const char *name;
	double burst;
	double refill;
} tbucket_def;

static const tbucket_def defs[TBUCKET__COUNT] = {
    [TBUCKET_EC2_DESCRIBE] = {"ec2-describe", 100, 20},
    [TBUCKET_EC2_DESCRIBE_UNFILTERED] = {"ec2-describe-unfiltered", 50, 10},
    [TBUCKET_EC2_MUTATING] = {"ec2-mutating", 50, 5},
    [TBUCKET_EC2_CREATE_ENI] = {"ec2-create-network-interface", 100, 5},
    [TBUCKET_EC2_DELETE_ENI] = {"ec2-delete-network-interface", 100, 5},
    [TBUCKET_EC2_MODIFY_ENI_ATTRIBUTE] = {"ec2-modify-network-interface-attribute", 100, 5},
    [TBUCKET_EC2_ASSIGN_IPV6] = {"ec2-assign-ipv6-addresses", 100, 5},
    [TBUCKET_EC2_CREATE_TAGS] = {"ec2-create-tags", 100, 10},
    [TBUCKET_EC2_CIDR_RESERVATION] = {"ec2-subnet-cidr-reservation", 5, 1},
    [TBUCKET_AUTOSCALING] = {"autoscaling", 20, 2},
    /* Our choice (AWS publishes no Auto Scaling limits): the two small writes the
     * hook design expects per instance (one completion, a heartbeat per interval
     * per action). 20/s lets a burst of launches complete at EC2's ENI pace
     * (5 ENIs/s) with room for heartbeats; aws.rate_limits can lower it. */
    [TBUCKET_AUTOSCALING_LIFECYCLE] = {"autoscaling-lifecycle", 100, 20},
    [TBUCKET_STS] = {"sts", 10, 1},
    [TBUCKET_SQS] = {"sqs", 200, 100},
    [TBUCKET_SNS] = {"sns", 30, 10},
};

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

tbucket_family tbucket_family_of(const char *service, const char *action, bool unfiltered)
{
	if (!service || !action)
		return TBUCKET_STS;
	if (!strcmp(service, "autoscaling"))
		return !strcmp(action, "CompleteLifecycleAction") ||
			       !strcmp(action, "RecordLifecycleActionHeartbeat")
			   ? TBUCKET_AUTOSCALING_LIFECYCLE
			   : TBUCKET_AUTOSCALING;
	if (!strcmp(service, "sqs"))
		return TBUCKET_SQS;
	if (!strcmp(service, "sns"))
		return TBUCKET_SNS;
	if (strcmp(service, "ec2"))
		return TBUCKET_STS;
	static const struct {
		const char *action;
		tbucket_family f;
	} map[] = {
	    {"CreateNetworkInterface", TBUCKET_EC2_CREATE_ENI},
	    {"DeleteNetworkInterface", TBUCKET_EC2_DELETE_ENI},
	    {"ModifyNetworkInterfaceAttribute", TBUCKET_EC2_MODIFY_ENI_ATTRIBUTE},
	    {"AssignIpv6Addresses", TBUCKET_EC2_ASSIGN_IPV6},
	    {"CreateTags", TBUCKET_EC2_CREATE_TAGS},
	    {"CreateSubnetCidrReservation", TBUCKET_EC2_CIDR_RESERVATION},
	    {"DeleteSubnetCidrReservation", TBUCKET_EC2_CIDR_RESERVATION},
	    {"GetSubnetCidrReservations", TBUCKET_EC2_CIDR_RESERVATION},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(map); i++)
		if (!strcmp(action, map[i].action))
			return map[i].f;
	if (starts_with(action, "Describe"))
		return unfiltered ? TBUCKET_EC2_DESCRIBE_UNFILTERED : TBUCKET_EC2_DESCRIBE;
	if (starts_with(action, "Get"))
		return TBUCKET_EC2_DESCRIBE;
	return TBUCKET_EC2_MUTATING;
}

const char *tbucket_family_name(tbucket_family f)
{
	if ((unsigned)f >= TBUCKET__COUNT)
		return "unknown";
	return defs[f].name;
}

hk_err tbucket_family_from_name(const char *name, tbucket_family *ret)
{
	if (!name || !ret)
		return HK_ERR_INVALID;
	for (unsigned i = 0; i < TBUCKET__COUNT; i++) {
		if (!strcmp(name, defs[i].name)) {
			*ret = (tbucket_family)i;
			return HK_OK;
		}
	}
	return HK_ERR_NOT_FOUND;
}

void tbucket_default_size(tbucket_family f, double *ret_burst, double *ret_refill_per_s)
{
	if ((unsigned)f >= TBUCKET__COUNT)
		f = TBUCKET_STS;
	if (ret_burst)
		*ret_burst = defs[f].burst;
	if (ret_refill_per_s)
		*ret_refill_per_s = defs[f].refill;
}

/* Adaptive rule (docs/aws-signing.md): multiplicative decrease, additive
 * recovery, like TCP's AIMD and simpler than the SDKs' CUBIC. */
#define TB_DECREASE	   0.5	    /* rate factor multiplier on a throttle */
#define TB_FLOOR	   0.1	    /* lowest rate factor */
#define TB_RECOVER_PER_S   0.05	    /* rate factor regained per second */
#define TB_DECREASE_GAP_US 1000000u /* throttles closer than this count once */

typedef struct tbucket {
	double burst;	      /* scaled capacity, >= 1 */
	double nominal;	      /* scaled refill rate, tokens/s */
	double factor;	      /* adaptive multiplier in [TB_FLOOR, 1] */
	double tokens;	      /* may go negative: reserved slots */
	uint64_t last_us;     /* last refill */
	uint64_t adjust_us;   /* last adaptive change (decrease or recovery) */
	uint64_t decrease_us; /* last decrease */
	bool decreased_once;  /* decrease_us is meaningful */
} tbucket;

struct tbucket_set {
	double scale;
	tbucket b[TBUCKET__COUNT];
};

static void tb_init(tbucket *b, double scale, double burst, double refill, uint64_t now_us)
{
	b->burst = burst * scale < 1.0 ? 1.0 : burst * scale;
	b->nominal = refill * scale;
	b->factor = 1.0;
	b->tokens = b->burst;
	b->last_us = now_us;
	b->adjust_us = now_us;
	b->decrease_us = 0;
	b->decreased_once = false;
}

static void tb_refill(tbucket *b, uint64_t now_us)
{
	if (now_us <= b->last_us)
		return; /* time never goes backwards here */
	double dt = (double)(now_us - b->last_us) / 1e6;
	b->tokens += dt * b->nominal * b->factor;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_us = now_us;
}

hk_err tbucket_set_new(double scale, uint64_t now_us, tbucket_set **ret)
{
	if (!ret || !(scale > 0.0) || !(scale <= 100.0))
		return HK_ERR_RANGE;
	tbucket_set *s = calloc(1, sizeof(*s));
	if (!s)
		return HK_ERR_NOMEM;
	s->scale = scale;
	for (unsigned i = 0; i < TBUCKET__COUNT; i++)
		tb_init(&s->b[i], scale, defs[i].burst, defs[i].refill, now_us);
	*ret = s;
	return HK_OK;
}

void tbucket_set_free(tbucket_set *s)
{
	free(s);
}

hk_err tbucket_set_override(tbucket_set *s, tbucket_family f, double burst, double refill_per_s,
			    uint64_t now_us)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return HK_ERR_INVALID;
	if (!(burst >= 1.0) || !(burst <= 1e6) || !(refill_per_s > 0.0) || !(refill_per_s <= 1e6))
		return HK_ERR_RANGE;
	tb_init(&s->b[f], s->scale, burst, refill_per_s, now_us);
	return HK_OK;
}

uint64_t tbucket_acquire(tbucket_set *s, tbucket_family f, uint64_t now_us)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return 0;
	tbucket *b = &s->b[f];
	tb_refill(b, now_us);
	if (now_us < b->last_us)
		now_us = b->last_us;
	b->tokens -= 1.0;
	if (b->tokens >= 0.0)
		return 0;
	double rate = b->nominal * b->factor;
	double wait = ceil(-b->tokens / rate * 1e6);
	return wait < 1.0 ? 1 : (uint64_t)wait;
}

void tbucket_on_throttle(tbucket_set *s, tbucket_family f, uint64_t now_us)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return;
	tbucket *b = &s->b[f];
	tb_refill(b, now_us);
	if (b->tokens > 0.0)
		b->tokens = 0.0; /* AWS's shared bucket is empty: ours is too */
	uint64_t now = now_us > b->last_us ? now_us : b->last_us;
	if (b->decreased_once && now < b->decrease_us + TB_DECREASE_GAP_US)
		return; /* one burst of throttles is one signal */
	b->factor *= TB_DECREASE;
	if (b->factor < TB_FLOOR)
		b->factor = TB_FLOOR;
	b->adjust_us = b->decrease_us = now;
	b->decreased_once = true;
}

void tbucket_on_success(tbucket_set *s, tbucket_family f, uint64_t now_us)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return;
	tbucket *b = &s->b[f];
	tb_refill(b, now_us); /* tokens earned so far accrue at the old rate */
	if (b->factor >= 1.0 || now_us <= b->adjust_us)
		return;
	double dt = (double)(now_us - b->adjust_us) / 1e6;
	b->factor += TB_RECOVER_PER_S * dt;
	if (b->factor > 1.0)
		b->factor = 1.0;
	b->adjust_us = now_us;
}

double tbucket_factor(const tbucket_set *s, tbucket_family f)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return 1.0;
	return s->b[f].factor;
}

double tbucket_rate(const tbucket_set *s, tbucket_family f)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return 0.0;
	return s->b[f].nominal * s->b[f].factor;
}

double tbucket_burst(const tbucket_set *s, tbucket_family f)
{
	if (!s || (unsigned)f >= TBUCKET__COUNT)
		return 0.0;
	return s->b[f].burst;
}
