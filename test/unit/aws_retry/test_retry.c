/* aws/retry.c: outcome classification, error mapping, full-jitter backoff with
 * an injected random source, and the adaptive token buckets with injected time. */
#include "hk_test.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "hk_caps.h"
#include "retry.h"

/* ---- classification ---- */

typedef struct outcome_row {
	hk_err transport;
	long status;
	const char *code;
	retry_class cls;
	hk_err err;
} outcome_row;

static const outcome_row outcomes[] = {
    /* success */
    {HK_OK, 200, NULL, RETRY_OK, HK_OK},
    {HK_OK, 204, "", RETRY_OK, HK_OK},
    /* throttles */
    {HK_OK, 503, "RequestLimitExceeded", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 400, "Throttling", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 400, "ThrottlingException", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 400, "RequestThrottled", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 400, "TooManyRequestsException", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 503, "SlowDown", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 503, "EC2ThrottledException", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 429, NULL, RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 429, "", RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_OK, 503, NULL, RETRY_THROTTLE, HK_ERR_THROTTLED},
    {HK_ERR_THROTTLED, 0, NULL, RETRY_THROTTLE, HK_ERR_THROTTLED},
    /* transient */
    {HK_OK, 500, NULL, RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 502, NULL, RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 504, NULL, RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 500, "InternalError", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 503, "ServiceUnavailable", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 503, "Unavailable", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 500, "SomeNewServerFault", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 400, "RequestTimeout", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_OK, 400, "IDPCommunicationError", RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_ERR_TIMEOUT, 0, NULL, RETRY_TRANSIENT, HK_ERR_TIMEOUT},
    {HK_ERR_TRANSIENT, 0, NULL, RETRY_TRANSIENT, HK_ERR_TRANSIENT},
    {HK_ERR_IO, 0, NULL, RETRY_TRANSIENT, HK_ERR_IO},
    /* the transport error wins over whatever status/code came with it */
    {HK_ERR_TIMEOUT, 200, "AuthFailure", RETRY_TRANSIENT, HK_ERR_TIMEOUT},
    /* permanent transport outcomes */
    {HK_ERR_CANCELLED, 0, NULL, RETRY_PERMANENT, HK_ERR_CANCELLED},
    {HK_ERR_TOO_LARGE, 200, NULL, RETRY_PERMANENT, HK_ERR_TOO_LARGE},
    {HK_ERR_NOMEM, 0, NULL, RETRY_PERMANENT, HK_ERR_NOMEM},
    /* auth */
    {HK_OK, 401, "AuthFailure", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 403, "SignatureDoesNotMatch", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 403, "InvalidClientTokenId", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 400, "UnrecognizedClientException", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 403, "IncompleteSignature", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 400, "ExpiredToken", RETRY_PERMANENT, HK_ERR_AUTH},
    {HK_OK, 400, "RequestExpired", RETRY_PERMANENT, HK_ERR_AUTH},
    /* denied */
    {HK_OK, 403, "AccessDenied", RETRY_PERMANENT, HK_ERR_DENIED},
    {HK_OK, 403, "UnauthorizedOperation", RETRY_PERMANENT, HK_ERR_DENIED},
    {HK_OK, 400, "AccessDeniedException", RETRY_PERMANENT, HK_ERR_DENIED},
    /* EC2 resource errors */
    {HK_OK, 400, "InvalidNetworkInterfaceID.NotFound", RETRY_PERMANENT, HK_ERR_NOT_FOUND},
    {HK_OK, 400, "InvalidSubnetID.NotFound", RETRY_PERMANENT, HK_ERR_NOT_FOUND},
    {HK_OK, 400, "InvalidIPAddress.InUse", RETRY_PERMANENT, HK_ERR_EXISTS},
    {HK_OK, 400, "InvalidNetworkInterface.InUse", RETRY_PERMANENT, HK_ERR_STATE},
    {HK_OK, 400, "InsufficientFreeAddressesInSubnet", RETRY_PERMANENT, HK_ERR_FULL},
    {HK_OK, 400, "AttachmentLimitExceeded", RETRY_PERMANENT, HK_ERR_FULL},
    {HK_OK, 400, "IncorrectState", RETRY_PERMANENT, HK_ERR_STATE},
    {HK_OK, 400, "InvalidParameterValue", RETRY_PERMANENT, HK_ERR_INVALID},
    {HK_OK, 400, "InvalidSubnetID.Malformed", RETRY_PERMANENT, HK_ERR_INVALID},
    {HK_OK, 400, "ValidationError", RETRY_PERMANENT, HK_ERR_INVALID},
    {HK_OK, 400, "IdempotentParameterMismatch", RETRY_PERMANENT, HK_ERR_INVALID},
    {HK_OK, 400, "InvalidSubnetCidrReservation.Duplicate", RETRY_PERMANENT, HK_ERR_EXISTS},
    {HK_OK, 400, "SomethingElse", RETRY_PERMANENT, HK_ERR_AWS},
    {HK_OK, 404, NULL, RETRY_PERMANENT, HK_ERR_AWS},
    {HK_OK, 400, "", RETRY_PERMANENT, HK_ERR_AWS},
    /* code matching is exact and case-sensitive */
    {HK_OK, 400, "throttling", RETRY_PERMANENT, HK_ERR_AWS},
};

static void test_classification_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < HK_ARRAY_LEN(outcomes); i++) {
		const outcome_row *r = &outcomes[i];
		retry_class cls = retry_classify(r->transport, r->status, r->code);
		hk_err err = retry_map_err(r->transport, r->status, r->code);
		if (cls != r->cls || err != r->err)
			fail_msg("row %zu (%s, %ld, %s): class %d err %s, want class %d err %s", i,
				 hk_err_str(r->transport), r->status, r->code ? r->code : "NULL",
				 (int)cls, hk_err_str(err), (int)r->cls, hk_err_str(r->err));
	}
}

static void test_should_retry(void **state)
{
	(void)state;
	/* Throttles always, within the budget. */
	assert_true(retry_should_retry(RETRY_THROTTLE, false, 1, 3));
	assert_true(retry_should_retry(RETRY_THROTTLE, false, 2, 3));
	assert_false(retry_should_retry(RETRY_THROTTLE, false, 3, 3));
	/* Transient only when idempotent. */
	assert_true(retry_should_retry(RETRY_TRANSIENT, true, 1, 3));
	assert_false(retry_should_retry(RETRY_TRANSIENT, false, 1, 3));
	assert_false(retry_should_retry(RETRY_TRANSIENT, true, 3, 3));
	/* Never for success or permanent errors. */
	assert_false(retry_should_retry(RETRY_OK, true, 1, 8));
	assert_false(retry_should_retry(RETRY_PERMANENT, true, 1, 8));
	/* A budget of one attempt means no retry. */
	assert_false(retry_should_retry(RETRY_THROTTLE, true, 1, 1));
	assert_false(retry_should_retry(RETRY_THROTTLE, true, 0, 0));
}

/* ---- backoff ---- */

static uint32_t rnd_fixed(void *arg)
{
	return *(const uint32_t *)arg;
}

typedef struct lcg {
	uint64_t s;
} lcg;

static uint32_t rnd_lcg(void *arg)
{
	lcg *g = arg;
	g->s = g->s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(g->s >> 32);
}

static void test_policy_defaults(void **state)
{
	(void)state;
	retry_policy p;
	retry_policy_default(&p);
	assert_int_equal(p.base_us, 50000);
	assert_int_equal(p.throttle_base_us, 1000000);
	assert_int_equal(p.cap_us, 20000000);
	assert_int_equal(p.max_attempts, HK_CAP_AWS_ATTEMPTS);
}

/* The largest random value yields exactly the bound; 0 yields 0. */
static uint64_t bound_of(const retry_policy *p, retry_class cls, unsigned retry)
{
	uint32_t max = UINT32_MAX, zero = 0;
	assert_int_equal(retry_backoff_us(p, cls, retry, rnd_fixed, &zero), 0);
	return retry_backoff_us(p, cls, retry, rnd_fixed, &max);
}

static void test_backoff_bounds_grow_and_cap(void **state)
{
	(void)state;
	retry_policy p;
	retry_policy_default(&p);
	const uint64_t transient[] = {50000,   100000,	200000,	  400000,   800000,  1600000,
				      3200000, 6400000, 12800000, 20000000, 20000000};
	for (unsigned i = 0; i < HK_ARRAY_LEN(transient); i++)
		assert_int_equal(bound_of(&p, RETRY_TRANSIENT, i), transient[i]);
	const uint64_t throttle[] = {1000000, 2000000, 4000000, 8000000, 16000000, 20000000};
	for (unsigned i = 0; i < HK_ARRAY_LEN(throttle); i++)
		assert_int_equal(bound_of(&p, RETRY_THROTTLE, i), throttle[i]);
	/* Monotonic, and never above the cap, up to absurd attempt numbers. */
	uint64_t prev = 0;
	for (unsigned i = 0; i < 200; i++) {
		uint64_t b = bound_of(&p, RETRY_TRANSIENT, i);
		assert_true(b >= prev);
		assert_true(b <= p.cap_us);
		prev = b;
	}
	assert_int_equal(bound_of(&p, RETRY_THROTTLE, UINT_MAX), p.cap_us);
	/* A cap above one hour is clamped; no overflow with a huge base. */
	p.cap_us = UINT64_MAX;
	p.base_us = UINT64_MAX / 2;
	assert_int_equal(bound_of(&p, RETRY_TRANSIENT, 5), 3600ull * 1000000ull);
}

static void test_backoff_full_jitter(void **state)
{
	(void)state;
	retry_policy p;
	retry_policy_default(&p);
	lcg g = {42};
	for (unsigned retry = 0; retry < 8; retry++) {
		uint64_t bound = bound_of(&p, RETRY_THROTTLE, retry);
		uint64_t lo = UINT64_MAX, hi = 0;
		double sum = 0;
		for (int i = 0; i < 2000; i++) {
			uint64_t d = retry_backoff_us(&p, RETRY_THROTTLE, retry, rnd_lcg, &g);
			assert_true(d <= bound);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += (double)d;
		}
		/* Spans the whole interval [0, bound] and centres on bound/2. */
		assert_true((double)lo < 0.02 * (double)bound);
		assert_true((double)hi > 0.98 * (double)bound);
		double mean = sum / 2000.0;
		assert_true(mean > 0.4 * (double)bound && mean < 0.6 * (double)bound);
	}
	/* The midpoint random value lands on the middle. */
	uint32_t half = 1u << 31;
	assert_int_equal(retry_backoff_us(&p, RETRY_TRANSIENT, 0, rnd_fixed, &half), 25000);
	/* The default (OpenSSL) source stays within bounds too. */
	for (int i = 0; i < 100; i++)
		assert_true(retry_backoff_us(&p, RETRY_TRANSIENT, 3, NULL, NULL) <= 400000);
}

/* ---- token buckets ---- */

#define S(x) ((uint64_t)(x)*1000000u)
#define T0   S(1000)

static void test_family_mapping(void **state)
{
	(void)state;
	static const struct {
		const char *svc, *action;
		bool unfiltered;
		tbucket_family f;
	} rows[] = {
	    {"ec2", "CreateNetworkInterface", false, TBUCKET_EC2_CREATE_ENI},
	    {"ec2", "DeleteNetworkInterface", false, TBUCKET_EC2_DELETE_ENI},
	    {"ec2", "ModifyNetworkInterfaceAttribute", false, TBUCKET_EC2_MODIFY_ENI_ATTRIBUTE},
	    {"ec2", "AssignIpv6Addresses", false, TBUCKET_EC2_ASSIGN_IPV6},
	    {"ec2", "CreateTags", false, TBUCKET_EC2_CREATE_TAGS},
	    {"ec2", "AttachNetworkInterface", false, TBUCKET_EC2_MUTATING},
	    {"ec2", "DetachNetworkInterface", false, TBUCKET_EC2_MUTATING},
	    {"ec2", "UnassignIpv6Addresses", false, TBUCKET_EC2_MUTATING},
	    {"ec2", "DescribeNetworkInterfaces", false, TBUCKET_EC2_DESCRIBE},
	    {"ec2", "DescribeInstances", true, TBUCKET_EC2_DESCRIBE_UNFILTERED},
	    {"ec2", "DescribeInstanceTypes", false, TBUCKET_EC2_DESCRIBE},
	    {"ec2", "CreateSubnetCidrReservation", false, TBUCKET_EC2_CIDR_RESERVATION},
	    {"ec2", "DeleteSubnetCidrReservation", false, TBUCKET_EC2_CIDR_RESERVATION},
	    {"ec2", "GetSubnetCidrReservations", true, TBUCKET_EC2_CIDR_RESERVATION},
	    {"ec2", "GetSomethingElse", true, TBUCKET_EC2_DESCRIBE},
	    {"autoscaling", "CompleteLifecycleAction", false, TBUCKET_AUTOSCALING_LIFECYCLE},
	    {"autoscaling", "RecordLifecycleActionHeartbeat", false, TBUCKET_AUTOSCALING_LIFECYCLE},
	    {"autoscaling", "DescribeLifecycleHooks", false, TBUCKET_AUTOSCALING},
	    {"autoscaling", "CompleteLifecycleActionX", false, TBUCKET_AUTOSCALING},
	    {"autoscaling", "DescribeAutoScalingGroups", true, TBUCKET_AUTOSCALING},
	    {"sts", "AssumeRoleWithWebIdentity", false, TBUCKET_STS},
	    {"sqs", "ReceiveMessage", false, TBUCKET_SQS},
	    {"lambda", "Invoke", false, TBUCKET_STS},
	    {NULL, "Invoke", false, TBUCKET_STS},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(rows); i++) {
		tbucket_family f =
		    tbucket_family_of(rows[i].svc, rows[i].action, rows[i].unfiltered);
		if (f != rows[i].f)
			fail_msg("%s %s -> %s, want %s", rows[i].svc ? rows[i].svc : "NULL",
				 rows[i].action, tbucket_family_name(f),
				 tbucket_family_name(rows[i].f));
	}
}

static void test_family_names_and_sizes(void **state)
{
	(void)state;
	for (unsigned i = 0; i < TBUCKET__COUNT; i++) {
		tbucket_family f;
		assert_int_equal(
		    tbucket_family_from_name(tbucket_family_name((tbucket_family)i), &f), HK_OK);
		assert_int_equal(f, i);
	}
	tbucket_family f = TBUCKET_SQS;
	assert_int_equal(tbucket_family_from_name("ec2-nope", &f), HK_ERR_NOT_FOUND);
	assert_int_equal(f, TBUCKET_SQS);
	assert_string_equal(tbucket_family_name(TBUCKET__COUNT), "unknown");
	assert_int_equal(tbucket_family_from_name("autoscaling-lifecycle", &f), HK_OK);
	assert_int_equal(f, TBUCKET_AUTOSCALING_LIFECYCLE);
	/* docs/aws-facts.md, "Rate limits". */
	static const struct {
		tbucket_family f;
		double burst, refill;
	} doc[] = {
	    {TBUCKET_EC2_CREATE_ENI, 100, 5},
	    {TBUCKET_EC2_DELETE_ENI, 100, 5},
	    {TBUCKET_EC2_MODIFY_ENI_ATTRIBUTE, 100, 5},
	    {TBUCKET_EC2_ASSIGN_IPV6, 100, 5},
	    {TBUCKET_EC2_CREATE_TAGS, 100, 10},
	    {TBUCKET_EC2_MUTATING, 50, 5},
	    {TBUCKET_EC2_DESCRIBE, 100, 20},
	    {TBUCKET_EC2_DESCRIBE_UNFILTERED, 50, 10},
	    {TBUCKET_EC2_CIDR_RESERVATION, 5, 1},
	    /* our choices (docs/configuration.md) */
	    {TBUCKET_AUTOSCALING, 20, 2},
	    {TBUCKET_AUTOSCALING_LIFECYCLE, 100, 20},
	};
	for (size_t i = 0; i < HK_ARRAY_LEN(doc); i++) {
		double b, r;
		tbucket_default_size(doc[i].f, &b, &r);
		assert_true(b == doc[i].burst && r == doc[i].refill);
	}
}

/* Takes n tokens at `now`, asserting that none waits. */
static void take_free(tbucket_set *s, tbucket_family f, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++)
		if (tbucket_acquire(s, f, now) != 0)
			fail_msg("%s: token %u of %u waited", tbucket_family_name(f), i + 1, n);
}

static void test_bucket_burst_and_debt(void **state)
{
	(void)state;
	tbucket_set *s;
	assert_int_equal(tbucket_set_new(1.0, T0, &s), HK_OK);
	take_free(s, TBUCKET_EC2_CREATE_ENI, 100, T0);
	/* Then one slot every 1/5 s, each caller its own. */
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CREATE_ENI, T0), 200000);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CREATE_ENI, T0), 400000);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CREATE_ENI, T0), 600000);
	/* Other families are independent. */
	take_free(s, TBUCKET_EC2_MUTATING, 50, T0);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_MUTATING, T0), 200000);
	take_free(s, TBUCKET_EC2_CIDR_RESERVATION, 5, T0);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CIDR_RESERVATION, T0), 1000000);
	tbucket_set_free(s);
	tbucket_set_free(NULL);
}

static void test_bucket_refill(void **state)
{
	(void)state;
	tbucket_set *s;
	assert_int_equal(tbucket_set_new(1.0, T0, &s), HK_OK);
	take_free(s, TBUCKET_EC2_DESCRIBE, 100, T0);
	/* 20 per second: after 1 s, 20 more tokens, then a wait of 1/20 s. */
	take_free(s, TBUCKET_EC2_DESCRIBE, 20, T0 + S(1));
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_DESCRIBE, T0 + S(1)), 50000);
	/* Refill never exceeds the burst, however long the pause. */
	take_free(s, TBUCKET_EC2_DESCRIBE, 100, T0 + S(3600));
	assert_true(tbucket_acquire(s, TBUCKET_EC2_DESCRIBE, T0 + S(3600)) > 0);
	/* Time going backwards adds nothing and breaks nothing. */
	assert_true(tbucket_acquire(s, TBUCKET_EC2_DESCRIBE, T0) > 0);
	tbucket_set_free(s);
}

static void test_bucket_scale(void **state)
{
	(void)state;
	tbucket_set *s;
	assert_int_equal(tbucket_set_new(0.5, T0, &s), HK_OK);
	assert_true(tbucket_burst(s, TBUCKET_EC2_CREATE_ENI) == 50.0);
	assert_true(tbucket_rate(s, TBUCKET_EC2_CREATE_ENI) == 2.5);
	take_free(s, TBUCKET_EC2_CREATE_ENI, 50, T0);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CREATE_ENI, T0), 400000);
	tbucket_set_free(s);
	/* A tiny scale keeps at least one token of burst. */
	assert_int_equal(tbucket_set_new(0.01, T0, &s), HK_OK);
	assert_true(tbucket_burst(s, TBUCKET_EC2_CIDR_RESERVATION) == 1.0);
	take_free(s, TBUCKET_EC2_CIDR_RESERVATION, 1, T0);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CIDR_RESERVATION, T0), S(100));
	tbucket_set_free(s);
	const double bad[] = {0.0, -1.0, 100.5, NAN, INFINITY};
	for (size_t i = 0; i < HK_ARRAY_LEN(bad); i++) {
		s = (tbucket_set *)0x1;
		assert_int_equal(tbucket_set_new(bad[i], T0, &s), HK_ERR_RANGE);
		assert_ptr_equal(s, (tbucket_set *)0x1);
	}
}

static void test_bucket_override(void **state)
{
	(void)state;
	tbucket_set *s;
	assert_int_equal(tbucket_set_new(2.0, T0, &s), HK_OK);
	/* The scale applies to overrides too: 10/1 becomes 20/2. */
	assert_int_equal(tbucket_set_override(s, TBUCKET_EC2_CREATE_ENI, 10, 1, T0), HK_OK);
	take_free(s, TBUCKET_EC2_CREATE_ENI, 20, T0);
	assert_int_equal(tbucket_acquire(s, TBUCKET_EC2_CREATE_ENI, T0), 500000);
	assert_int_equal(tbucket_set_override(s, TBUCKET_EC2_CREATE_ENI, 0.5, 1, T0), HK_ERR_RANGE);
	assert_int_equal(tbucket_set_override(s, TBUCKET_EC2_CREATE_ENI, 10, 0, T0), HK_ERR_RANGE);
	assert_int_equal(tbucket_set_override(s, TBUCKET_EC2_CREATE_ENI, NAN, 1, T0), HK_ERR_RANGE);
	assert_int_equal(tbucket_set_override(s, TBUCKET__COUNT, 10, 1, T0), HK_ERR_INVALID);
	/* A failed override left the bucket as it was. */
	assert_true(tbucket_rate(s, TBUCKET_EC2_CREATE_ENI) == 2.0);
	tbucket_set_free(s);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void test_bucket_adaptive(void **state)
{
	(void)state;
	tbucket_set *s;
	const tbucket_family f = TBUCKET_EC2_CREATE_ENI; /* 100 / 5 */
	assert_int_equal(tbucket_set_new(1.0, T0, &s), HK_OK);
	take_free(s, f, 10, T0);
	/* AWS throttles although we had 90 tokens: empty the bucket, halve the rate. */
	tbucket_on_throttle(s, f, T0);
	assert_true(near(tbucket_rate(s, f), 2.5));
	assert_int_equal(tbucket_acquire(s, f, T0), 400000); /* 1 / 2.5 per s */
	/* More throttles within a second are the same signal. */
	tbucket_on_throttle(s, f, T0 + 500000);
	assert_true(near(tbucket_rate(s, f), 2.5));
	/* A second later they count again; the floor is 10% of the nominal rate. */
	tbucket_on_throttle(s, f, T0 + S(1));
	assert_true(near(tbucket_rate(s, f), 1.25));
	for (unsigned i = 2; i < 10; i++)
		tbucket_on_throttle(s, f, T0 + S(i));
	assert_true(near(tbucket_rate(s, f), 0.5));
	/* Recovery: +5% of nominal (0.25 tokens/s) per second, on successes. */
	tbucket_on_success(s, f, T0 + S(9) + S(4)); /* 4 s after the last decrease */
	assert_true(near(tbucket_rate(s, f), 0.5 + 4 * 0.25));
	tbucket_on_success(s, f, T0 + S(13) + S(2));
	assert_true(near(tbucket_rate(s, f), 2.0));
	/* Never above nominal. */
	tbucket_on_success(s, f, T0 + S(500));
	assert_true(near(tbucket_rate(s, f), 5.0));
	tbucket_on_success(s, f, T0 + S(501));
	assert_true(near(tbucket_rate(s, f), 5.0));
	/* A success right after a recovery step does not block the next decrease. */
	tbucket_on_throttle(s, f, T0 + S(501) + 1);
	assert_true(near(tbucket_rate(s, f), 2.5));
	/* Other families are untouched. */
	assert_true(near(tbucket_rate(s, TBUCKET_EC2_DELETE_ENI), 5.0));
	tbucket_set_free(s);
}

/* Tokens earned before a rate change accrue at the old rate. */
static void test_bucket_adaptive_accrual(void **state)
{
	(void)state;
	tbucket_set *s;
	const tbucket_family f = TBUCKET_EC2_CIDR_RESERVATION; /* 5 / 1 */
	assert_int_equal(tbucket_set_new(1.0, T0, &s), HK_OK);
	take_free(s, f, 5, T0);
	tbucket_on_throttle(s, f, T0); /* rate 0.5 */
	/* 4 s at 0.5/s: 2 tokens. */
	take_free(s, f, 2, T0 + S(4));
	assert_int_equal(tbucket_acquire(s, f, T0 + S(4)), S(2));
	tbucket_set_free(s);
	/* NULL and out-of-range families are ignored. */
	tbucket_on_throttle(NULL, f, T0);
	tbucket_on_success(NULL, f, T0);
	assert_int_equal(tbucket_acquire(NULL, f, T0), 0);
	assert_true(tbucket_rate(NULL, f) == 0.0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_classification_table),
    cmocka_unit_test(test_should_retry),
    cmocka_unit_test(test_policy_defaults),
    cmocka_unit_test(test_backoff_bounds_grow_and_cap),
    cmocka_unit_test(test_backoff_full_jitter),
    cmocka_unit_test(test_family_mapping),
    cmocka_unit_test(test_family_names_and_sizes),
    cmocka_unit_test(test_bucket_burst_and_debt),
    cmocka_unit_test(test_bucket_refill),
    cmocka_unit_test(test_bucket_scale),
    cmocka_unit_test(test_bucket_override),
    cmocka_unit_test(test_bucket_adaptive),
    cmocka_unit_test(test_bucket_adaptive_accrual),
};

HK_TEST_MAIN(tests)
