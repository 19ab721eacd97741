/* Unit tests of the engine's pure helpers (hook/engine/engine_internal.h). */
#include "hk_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_internal.h"

/* ---- ClientToken -------------------------------------------------------- */

static void token_deterministic_and_short(void **state)
{
	(void)state;
	char a[HOOK_CLIENT_TOKEN_LEN], b[HOOK_CLIENT_TOKEN_LEN];
	hook_engine_client_token("i-0123456789abcdef0", "sig", 1, "tok-1", 0, a);
	hook_engine_client_token("i-0123456789abcdef0", "sig", 1, "tok-1", 0, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 43);
	assert_true(strlen(a) <= 64);
	assert_memory_equal(a, "mh-", 3);
	for (size_t i = 3; i < strlen(a); i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
}

static void token_depends_on_every_input(void **state)
{
	(void)state;
	char base[HOOK_CLIENT_TOKEN_LEN], t[HOOK_CLIENT_TOKEN_LEN];
	hook_engine_client_token("i-1", "sig", 1, "tok", 0, base);
	hook_engine_client_token("i-2", "sig", 1, "tok", 0, t);
	assert_string_not_equal(base, t);
	hook_engine_client_token("i-1", "media", 1, "tok", 0, t);
	assert_string_not_equal(base, t);
	hook_engine_client_token("i-1", "sig", 2, "tok", 0, t);
	assert_string_not_equal(base, t);
	hook_engine_client_token("i-1", "sig", 1, "tok2", 0, t);
	assert_string_not_equal(base, t);
	hook_engine_client_token("i-1", "sig", 1, "tok", 1, t);
	assert_string_not_equal(base, t);
	/* separators: ("i-1","sig") must differ from ("i-1s","ig") */
	hook_engine_client_token("i-1s", "ig", 1, "tok", 0, t);
	assert_string_not_equal(base, t);
}

static void token_handles_null_and_long_inputs(void **state)
{
	(void)state;
	char t[HOOK_CLIENT_TOKEN_LEN];
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	hook_engine_client_token(NULL, NULL, 0, NULL, 0, t);
	assert_int_equal(strlen(t), 43);
	hook_engine_client_token(big, big, 4294967295u, big, 4294967295u, t);
	assert_int_equal(strlen(t), 43);
}

/* ---- tags --------------------------------------------------------------- */

static void tags_engine_first_user_after(void **state)
{
	(void)state;
	hook_kv user[3] = {{"team", "ran"}, {HOOK_TAG_INSTANCE, "i-evil"}, {"empty", NULL}};
	hook_network net = {.name = "sig", .device_index = 2, .tags = user, .n_tags = 3};
	ec2_tag tags[10];
	char dev[12];
	size_t n = hook_engine_build_tags("i-abc", &net, dev, tags, 10);
	assert_int_equal(n, 6);
	assert_string_equal(tags[0].key, HOOK_TAG_NO_MANAGE);
	assert_string_equal(tags[0].value, "true");
	assert_string_equal(tags[1].key, HOOK_TAG_INSTANCE);
	assert_string_equal(tags[1].value, "i-abc");
	assert_string_equal(tags[2].key, HOOK_TAG_NETWORK);
	assert_string_equal(tags[2].value, "sig");
	assert_string_equal(tags[3].key, HOOK_TAG_DEVICE_INDEX);
	assert_string_equal(tags[3].value, "2");
	assert_string_equal(tags[4].key, "team");
	assert_string_equal(tags[5].key, "empty");
	assert_string_equal(tags[5].value, "");
}

static void tags_respect_max(void **state)
{
	(void)state;
	hook_kv user[2] = {{"a", "1"}, {"b", "2"}};
	hook_network net = {.name = "sig", .device_index = 1, .tags = user, .n_tags = 2};
	ec2_tag tags[5];
	char dev[12];
	assert_int_equal(hook_engine_build_tags("i-1", &net, dev, tags, 3), 3);
	assert_int_equal(hook_engine_build_tags("i-1", &net, dev, tags, 5), 5);
	assert_int_equal(hook_engine_build_tags("i-1", &net, dev, tags, 0), 0);
}

/* ---- steps -------------------------------------------------------------- */

static void steps_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ENG_STEP__COUNT; i++)
		assert_int_equal(hook_engine_step_parse(hook_engine_step_str((hook_engine_step)i)),
				 i);
	assert_int_equal(hook_engine_step_parse("bogus"), ENG_STEP_NONE);
	assert_int_equal(hook_engine_step_parse(NULL), ENG_STEP_NONE);
	assert_string_equal(hook_engine_step_str(ENG_STEP__COUNT), "");
	for (unsigned i = 0; i < ENG_ENI__COUNT; i++)
		assert_int_equal(hook_eni_state_parse(hook_eni_state_str((hook_eni_state)i)), i);
	assert_int_equal(hook_eni_state_parse("nope"), ENG_ENI_NONE);
}

static void resume_mapping(void **state)
{
	(void)state;
	const hook_transition L = HOOK_TRANSITION_LAUNCHING, T = HOOK_TRANSITION_TERMINATING;
	/* pending or running anywhere: from the top (adoption makes it safe) */
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_PENDING, "", L), ENG_STEP_HOOK);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_RUNNING, "enis", L), ENG_STEP_HOOK);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_RUNNING, "adopt", L), ENG_STEP_HOOK);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_RUNNING, "garbage", L), ENG_STEP_HOOK);
	/* a launch that began failing keeps cleaning up, never creates again */
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_CLEANUP, "enis", L), ENG_STEP_CLEANUP);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_RUNNING, "cleanup", L),
			 ENG_STEP_CLEANUP);
	/* a terminate's cleanup is its work */
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_CLEANUP, "detach-delete", T),
			 ENG_STEP_T_FIND);
	/* completion resumes as completion */
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_COMPLETING, "complete", L),
			 ENG_STEP_COMPLETE);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_RUNNING, "complete", T),
			 ENG_STEP_COMPLETE);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_DONE, "done", L), ENG_STEP_DONE);
	assert_int_equal(hook_engine_resume_step(HOOK_ACTION_FAILED, "enis", L), ENG_STEP_DONE);
}

/* ---- classification ----------------------------------------------------- */

static void classify_codes(void **state)
{
	(void)state;
	assert_int_equal(hook_engine_classify(HK_OK, NULL), ENG_FAULT_NONE);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InvalidIPAddress.InUse"),
			 ENG_FAULT_IP_IN_USE);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "IdempotentParameterMismatch"),
			 ENG_FAULT_TOKEN_MISMATCH);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InsufficientFreeAddressesInSubnet"),
			 ENG_FAULT_SUBNET_FULL);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "AttachmentLimitExceeded"),
			 ENG_FAULT_ATTACH_LIMIT);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InvalidNetworkInterfaceID.NotFound"),
			 ENG_FAULT_NOT_FOUND);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InvalidInstanceID.NotFound"),
			 ENG_FAULT_NOT_FOUND);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "ValidationError"),
			 ENG_FAULT_NO_ACTIVE_ACTION);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InvalidNetworkInterface.InUse"),
			 ENG_FAULT_ENI_IN_USE);
	assert_int_equal(hook_engine_classify(HK_ERR_DENIED, "AccessDenied"), ENG_FAULT_FATAL);
	assert_int_equal(hook_engine_classify(HK_ERR_DENIED, "UnauthorizedOperation"),
			 ENG_FAULT_FATAL);
	assert_int_equal(hook_engine_classify(HK_ERR_AUTH, "AuthFailure"), ENG_FAULT_FATAL);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, "InvalidParameterValue"),
			 ENG_FAULT_FATAL);
	assert_int_equal(hook_engine_classify(HK_ERR_AWS, NULL), ENG_FAULT_FATAL);
	assert_int_equal(hook_engine_classify(HK_ERR_PARSE, NULL), ENG_FAULT_FATAL);
}

static void classify_transient(void **state)
{
	(void)state;
	assert_int_equal(hook_engine_classify(HK_ERR_THROTTLED, "RequestLimitExceeded"),
			 ENG_FAULT_RETRY);
	assert_int_equal(hook_engine_classify(HK_ERR_THROTTLED, "Throttling"), ENG_FAULT_RETRY);
	assert_int_equal(hook_engine_classify(HK_ERR_TRANSIENT, NULL), ENG_FAULT_RETRY);
	assert_int_equal(hook_engine_classify(HK_ERR_TIMEOUT, NULL), ENG_FAULT_RETRY);
	assert_int_equal(hook_engine_classify(HK_ERR_NO_CREDENTIALS, NULL), ENG_FAULT_RETRY);
	assert_string_equal(hook_engine_fault_str(ENG_FAULT_IP_IN_USE), "ip-in-use");
	assert_string_equal(hook_engine_fault_str((hook_engine_fault)99), "unknown");
}

/* ---- timing ------------------------------------------------------------- */

static void timing_defaults(void **state)
{
	(void)state;
	hook_engine_timing t;
	hook_engine_timing_make(3600, 0, 60000, &t);
	assert_int_equal(t.heartbeat_ms, 3600000);
	assert_int_equal(t.global_ms, 48LL * 3600 * 1000); /* min(48 h, 100 x 1 h) */
	assert_int_equal(t.margin_ms, 60000);
	assert_int_equal(t.interval_ms, 1800000); /* half the heartbeat timeout */
	hook_engine_timing_make(0, 0, 0, &t);	  /* AWS default 3600 */
	assert_int_equal(t.heartbeat_ms, 3600000);
}

static void timing_short_heartbeat(void **state)
{
	(void)state;
	hook_engine_timing t;
	/* 30 s (the minimum): a 60 s margin is clamped to a quarter */
	hook_engine_timing_make(30, 0, 60000, &t);
	assert_int_equal(t.heartbeat_ms, 30000);
	assert_int_equal(t.global_ms, 3000000);
	assert_int_equal(t.margin_ms, 7500);
	assert_int_equal(t.interval_ms, 7500); /* hb - margin < hb/4: at least hb/4 */
	assert_true(t.interval_ms < t.heartbeat_ms - t.margin_ms);
	/* hb - margin earlier than hb/2 */
	hook_engine_timing_make(300, 0, 200000, &t);
	assert_int_equal(t.interval_ms, 100000);
	assert_int_equal(t.margin_ms, 75000);
	/* reported global timeout wins */
	hook_engine_timing_make(60, 600, 1000, &t);
	assert_int_equal(t.global_ms, 600000);
	assert_int_equal(t.interval_ms, 30000);
}

static void giveup_math(void **state)
{
	(void)state;
	hook_engine_timing t;
	hook_engine_timing_make(60, 600, 10000, &t);
	/* no heartbeat yet: heartbeat expiry minus margin */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1000000), 1000000 + 60000 - 10000);
	/* after a heartbeat the expiry moves */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1030000), 1030000 + 60000 - 10000);
	/* but never past the global deadline minus the margin */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1580000), 1000000 + 600000 - 10000);
	/* a last beat before the start counts as the start */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 0), 1000000 + 60000 - 10000);
}

/* ---- subnet choice -------------------------------------------------------- */

static void subnet_explicit_ids(void **state)
{
	(void)state;
	hook_kv ids[2] = {{"us-east-1a", "subnet-a"}, {"us-east-1b", "subnet-b"}};
	hook_network net = {.name = "sig", .subnet_ids = ids, .n_subnet_ids = 2};
	assert_string_equal(hook_engine_pick_subnet(&net, "us-east-1b", NULL, 0), "subnet-b");
	assert_string_equal(hook_engine_pick_subnet(&net, "us-east-1a", NULL, 0), "subnet-a");
	assert_null(hook_engine_pick_subnet(&net, "us-east-1c", NULL, 0));
	assert_null(hook_engine_pick_subnet(&net, NULL, NULL, 0));
}

static void subnet_by_tags_in_az(void **state)
{
	(void)state;
	hook_kv tags[1] = {{"multus.io/network", "sig"}};
	hook_network net = {.name = "sig", .subnet_tags = tags, .n_subnet_tags = 1};
	ec2_subnet s[4] = {
	    {.subnet_id = "subnet-9", .az = "us-east-1a", .state = "available"},
	    {.subnet_id = "subnet-3", .az = "us-east-1b", .state = "available"},
	    {.subnet_id = "subnet-5", .az = "us-east-1a", .state = NULL},
	    {.subnet_id = "subnet-1", .az = "us-east-1a", .state = "pending"},
	};
	/* lowest id among available ones of the AZ; pending skipped */
	assert_string_equal(hook_engine_pick_subnet(&net, "us-east-1a", s, 4), "subnet-5");
	assert_string_equal(hook_engine_pick_subnet(&net, "us-east-1b", s, 4), "subnet-3");
	assert_null(hook_engine_pick_subnet(&net, "us-east-1c", s, 4));
	assert_null(hook_engine_pick_subnet(&net, "us-east-1a", NULL, 0));
}

static void pod_range_parse(void **state)
{
	(void)state;
	cidr_range r;
	cidr_str b;
	assert_int_equal(hook_engine_parse_pod_range("10.0.1.192/26", &r), HK_OK);
	assert_string_equal(cidr_range_str(&r, &b), "10.0.1.192-10.0.1.255");
	assert_int_equal(hook_engine_parse_pod_range("10.0.1.10-10.0.1.20", &r), HK_OK);
	assert_int_equal(hook_engine_parse_pod_range("2001:db8::/120", &r), HK_OK);
	assert_int_not_equal(hook_engine_parse_pod_range("10.0.1.20-10.0.1.10", &r), HK_OK);
	assert_int_not_equal(hook_engine_parse_pod_range("nope", &r), HK_OK);
	assert_int_not_equal(hook_engine_parse_pod_range(NULL, &r), HK_OK);
}

/* ---- time scale (testing.time_scale) and the global margin ---------------- */

static void timing_scaled_by_test_factor(void **state)
{
	(void)state;
	hook_engine_timing t;
	/* 60 s hook, simulator at 0.05: 3 s; a 1 s margin is clamped to 750 ms */
	hook_engine_timing_scaled(60, 0, 1000, 0.05, &t);
	assert_int_equal(t.heartbeat_ms, 3000);
	assert_int_equal(t.global_ms, 300000); /* 100 x 60 s x 0.05 */
	assert_int_equal(t.margin_ms, 750);
	assert_int_equal(t.global_margin_ms, 1000);
	assert_int_equal(t.interval_ms, 1500);
	/* scale 1 (and nonsense scales) = the unscaled math */
	hook_engine_timing u;
	hook_engine_timing_make(60, 0, 1000, &u);
	hook_engine_timing_scaled(60, 0, 1000, 1.0, &t);
	assert_memory_equal(&t, &u, sizeof(t));
	hook_engine_timing_scaled(60, 0, 1000, 0.0, &t);
	assert_memory_equal(&t, &u, sizeof(t));
	hook_engine_timing_scaled(60, 0, 1000, -2.0, &t);
	assert_memory_equal(&t, &u, sizeof(t));
	/* tiny: a floor of 40 ms, never a zero interval */
	hook_engine_timing_scaled(30, 0, 60000, 0.001, &t);
	assert_int_equal(t.heartbeat_ms, 40);
	assert_int_equal(t.interval_ms, 10);
	assert_true(t.global_ms >= t.heartbeat_ms);
}

static void giveup_global_margin_not_clamped_by_heartbeat(void **state)
{
	(void)state;
	hook_engine_timing t;
	/* 30 s hook at 0.01: heartbeat 300 ms, global 30 s; a 5 s margin is
	 * clamped to 75 ms before a heartbeat expiry but kept whole before the
	 * global deadline (the cleanup must fit in it) */
	hook_engine_timing_scaled(30, 0, 5000, 0.01, &t);
	assert_int_equal(t.heartbeat_ms, 300);
	assert_int_equal(t.global_ms, 30000);
	assert_int_equal(t.margin_ms, 75);
	assert_int_equal(t.global_margin_ms, 5000);
	/* heartbeats kept coming: the global deadline decides */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1000000 + 29900),
			 1000000 + 30000 - 5000);
	/* no heartbeat: the heartbeat expiry decides */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1000000), 1000000 + 300 - 75);
	/* a global margin at most a quarter of the global timeout */
	hook_engine_timing_make(30, 40, 60000, &t);
	assert_int_equal(t.global_margin_ms, 10000);
}

/* ---- the stored global deadline wins (a resumed action) ------------------- */

static void keep_deadline_stored_wins_over_assumed_timing(void **state)
{
	(void)state;
	/* first run: a 60 s hook with a 600 s global timeout, created at 1 000 000 */
	hook_engine_timing real;
	hook_engine_timing_make(60, 600, 10000, &real);
	hook_engine_timing t = real;
	int64_t stored = hook_engine_keep_deadline(&t, 1000000, 0, 10000);
	assert_int_equal(stored, 1000000 + 600000);
	assert_int_equal(t.global_ms, 600000); /* nothing recorded: t unchanged */
	/* the restart could not describe the hook: 3600 s assumed (global 100 x
	 * that, capped at 48 h); the recorded deadline stays and so does the
	 * give-up's global part */
	hook_engine_timing_make(3600, 0, 10000, &t);
	assert_int_equal(t.global_ms, (int64_t)48 * 3600 * 1000);
	assert_int_equal(hook_engine_keep_deadline(&t, 1000000, stored, 10000), stored);
	assert_int_equal(t.global_ms, 600000);
	assert_int_equal(t.global_margin_ms, 10000);
	assert_int_equal(t.heartbeat_ms, 3600000); /* only the global part is the record's */
	/* no heartbeat ever: the heartbeat expiry (assumed 3600 s) is later than
	 * the recorded global deadline, which now decides */
	assert_int_equal(hook_engine_giveup_ms(&t, 1000000, 1000000), stored - 10000);
	/* the same hook described again: nothing changes */
	t = real;
	assert_int_equal(hook_engine_keep_deadline(&t, 1000000, stored, 10000), stored);
	assert_int_equal(t.global_ms, real.global_ms);
	assert_int_equal(t.global_margin_ms, real.global_margin_ms);
	/* a short remaining global timeout: the margin is at most a quarter */
	hook_engine_timing_make(3600, 0, 10000, &t);
	assert_int_equal(hook_engine_keep_deadline(&t, 1000000, 1000000 + 20000, 10000),
			 1000000 + 20000);
	assert_int_equal(t.global_ms, 20000);
	assert_int_equal(t.global_margin_ms, 5000);
}

static void keep_deadline_none_or_nonsense_uses_timing(void **state)
{
	(void)state;
	hook_engine_timing t;
	hook_engine_timing_scaled(60, 0, 1000, 0.05, &t); /* global 300 s */
	hook_engine_timing u = t;
	/* 0: none recorded yet */
	assert_int_equal(hook_engine_keep_deadline(&t, 5000, 0, 1000), 5000 + 300000);
	/* a deadline not after the creation cannot be the hook's: recomputed */
	assert_int_equal(hook_engine_keep_deadline(&t, 5000, 5000, 1000), 5000 + 300000);
	assert_int_equal(hook_engine_keep_deadline(&t, 5000, 4000, 1000), 5000 + 300000);
	assert_int_equal(hook_engine_keep_deadline(&t, 5000, -1, 1000), 5000 + 300000);
	assert_memory_equal(&t, &u, sizeof(t));
}

/* ---- dhcp: pod ranges vs explicit reservations --------------------------- */

static cidr_prefix pfx(const char *s)
{
	cidr_prefix p;
	assert_int_equal(cidr_parse_prefix(s, CIDR_PARSE_BARE, &p, NULL), HK_OK);
	return p;
}

static cidr_range rng(const char *s)
{
	cidr_range r;
	assert_int_equal(hook_engine_parse_pod_range(s, &r), HK_OK);
	return r;
}

static void dhcp_range_covered_by_union(void **state)
{
	(void)state;
	cidr_prefix resv[3] = {pfx("10.0.1.192/27"), pfx("10.0.1.224/28"), pfx("10.0.1.240/28")};
	cidr_range r = rng("10.0.1.192/26");
	assert_true(hook_engine_range_covered(&r, resv, 3));  /* three pieces, no gap */
	assert_false(hook_engine_range_covered(&r, resv, 2)); /* .240-.255 missing */
	r = rng("10.0.1.200-10.0.1.230");
	assert_true(hook_engine_range_covered(&r, resv, 2));
	r = rng("10.0.1.191-10.0.1.200"); /* one address below */
	assert_false(hook_engine_range_covered(&r, resv, 3));
	assert_false(hook_engine_range_covered(&r, NULL, 0));
	/* nested and overlapping reservations, in any order */
	cidr_prefix ov[3] = {pfx("10.0.1.200/29"), pfx("10.0.1.128/25"), pfx("10.0.1.0/25")};
	r = rng("10.0.1.0/24");
	assert_true(hook_engine_range_covered(&r, ov, 3));
	/* the other family never covers */
	cidr_prefix v6[1] = {pfx("2001:db8::/64")};
	r = rng("10.0.1.0/28");
	assert_false(hook_engine_range_covered(&r, v6, 1));
	r = rng("2001:db8::100/120");
	assert_true(hook_engine_range_covered(&r, v6, 1));
	/* the top of the address space (no overflow past the last address) */
	cidr_prefix top[1] = {pfx("255.255.255.0/24")};
	r = rng("255.255.255.128/25");
	assert_true(hook_engine_range_covered(&r, top, 1));
}

static void dhcp_uncovered_per_subnet(void **state)
{
	(void)state;
	cidr_prefix sub = pfx("10.0.1.0/24");
	cidr_range pods[4] = {rng("10.0.1.192/26"), rng("10.0.2.192/26"), /* another AZ */
			      rng("10.0.1.128/27"), rng("2001:db8::/120")};
	cidr_prefix resv[2] = {pfx("10.0.1.192/26"), pfx("10.0.1.128/28")};
	bool bad[4];
	assert_int_equal(hook_engine_dhcp_uncovered(&sub, pods, 4, resv, 2, bad), 1);
	assert_false(bad[0]);
	assert_false(bad[1]);
	assert_true(bad[2]); /* only half of it is reserved */
	assert_false(bad[3]);
	/* a range straddling the subnet: only the part inside counts */
	cidr_range straddle[1] = {rng("10.0.0.250-10.0.1.10")};
	cidr_prefix low[1] = {pfx("10.0.1.0/28")};
	assert_int_equal(hook_engine_dhcp_uncovered(&sub, straddle, 1, low, 1, bad), 0);
	assert_int_equal(hook_engine_dhcp_uncovered(&sub, straddle, 1, NULL, 0, bad), 1);
	/* no reservations at all: every range inside is uncovered */
	assert_int_equal(hook_engine_dhcp_uncovered(&sub, pods, 4, NULL, 0, bad), 2);
	/* IPv6 subnet */
	cidr_prefix sub6 = pfx("2001:db8::/64");
	cidr_prefix r6[1] = {pfx("2001:db8::/120")};
	assert_int_equal(hook_engine_dhcp_uncovered(&sub6, pods, 4, r6, 1, bad), 0);
	assert_int_equal(hook_engine_dhcp_uncovered(&sub6, pods, 4, resv, 2, bad), 1);
	assert_true(bad[3]);
}

/* ---- configuration keys the engine reads ---------------------------------- */

static hook_config *cfg_parse(const char *extra, hook_problems *pr)
{
	char buf[2048];
	snprintf(
	    buf, sizeof(buf),
	    "{\"auth\": {\"type\": \"api_key\", \"value_file\": \"k\"}, \"state_dir\": \"s\","
	    " \"node_groups\": [{\"name\": \"g\", \"asg_names\": [\"a\"], \"hook_names\": [\"h\"], "
	    "\"networks\": "
	    "[{\"name\": \"n\", \"subnet\": {\"tags\": {\"t\": \"v\"}}}]}]%s}",
	    extra);
	hook_config *c = NULL;
	if (hook_config_parse(buf, strlen(buf), NULL, HOOK_CONFIG_NO_FILES, &c, pr) != HK_OK)
		return NULL;
	return c;
}

static bool has_problem(const hook_problems *p, const char *needle)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->msgs[i] && strstr(p->msgs[i], needle))
			return true;
	return false;
}

static void config_sweep_interval(void **state)
{
	(void)state;
	hook_problems pr = {0};
	hook_config *c = cfg_parse("", &pr);
	assert_non_null(c);
	assert_int_equal(c->sweep_interval_s, 600);
	assert_true(c->test_time_scale == 1.0);
	hook_config_free(c);
	c = cfg_parse(", \"limits\": {\"sweep_interval_s\": 0}", &pr);
	assert_non_null(c);
	assert_int_equal(c->sweep_interval_s, 0);
	hook_config_free(c);
	c = cfg_parse(", \"limits\": {\"sweep_interval_s\": 2}", &pr);
	assert_non_null(c);
	assert_int_equal(c->sweep_interval_s, 2);
	hook_config_free(c);
	assert_null(cfg_parse(", \"limits\": {\"sweep_interval_s\": 86401}", &pr));
	assert_true(has_problem(&pr, "limits.sweep_interval_s: 86401: out of range"));
	assert_null(cfg_parse(", \"limits\": {\"sweep_interval_s\": \"60\"}", &pr));
	assert_true(has_problem(&pr, "limits.sweep_interval_s: must be an integer"));
	hook_problems_cleanup(&pr);
}

static void config_testing_time_scale(void **state)
{
	(void)state;
	hook_problems pr = {0};
	hook_config *c = cfg_parse(", \"testing\": {\"time_scale\": 0.05}", &pr);
	assert_non_null(c);
	assert_true(c->test_time_scale > 0.0499 && c->test_time_scale < 0.0501);
	hook_config_free(c);
	c = cfg_parse(", \"testing\": {\"time_scale\": 2}", &pr);
	assert_non_null(c);
	assert_true(c->test_time_scale == 2.0);
	hook_config_free(c);
	c = cfg_parse(", \"testing\": {}", &pr);
	assert_non_null(c);
	assert_true(c->test_time_scale == 1.0);
	hook_config_free(c);
	assert_int_equal(pr.n, 0);
	assert_null(cfg_parse(", \"testing\": {\"time_scale\": 0}", &pr));
	assert_true(has_problem(&pr, "testing.time_scale: must be a number from 0.001"));
	size_t n = pr.n;
	assert_null(cfg_parse(", \"testing\": {\"time_scale\": \"0.5\"}", &pr));
	assert_true(pr.n > n);
	n = pr.n;
	assert_null(cfg_parse(", \"testing\": {\"timescale\": 0.5}", &pr));
	assert_true(pr.n > n);
	n = pr.n;
	assert_null(cfg_parse(", \"testing\": 1", &pr));
	assert_true(pr.n > n);
	hook_problems_cleanup(&pr);
}

/* ---- last_error kept after a successful completion ------------------------ */

static void final_error_rules(void **state)
{
	(void)state;
	/* a failed launch keeps its reason */
	assert_string_equal(hook_engine_final_error(true, "no subnet in us-east-1a", "x"),
			    "no subnet in us-east-1a");
	assert_string_equal(hook_engine_final_error(true, NULL, "x"), "");
	/* a cleanup that left ENIs keeps its note, for /v1/actions */
	const char *note = "cleanup incomplete: 1 ENI(s) left (first eni-1); left to the "
			   "orphan sweep";
	assert_ptr_equal(hook_engine_final_error(false, NULL, note), note);
	/* trouble that was overcome is cleared */
	assert_string_equal(hook_engine_final_error(false, NULL, "Throttling: retrying"), "");
	assert_string_equal(hook_engine_final_error(false, "ignored", NULL), "");
}

/* ---- token redaction in logged AWS text ------------------------------------ */

#define TOK "4bac1ffe-9c1e-4a3b-8b2d-0123456789ab"

static void redact_replaces_every_occurrence(void **state)
{
	(void)state;
	char *r = hook_engine_redact_token(
	    "No active Lifecycle Action found with token " TOK " (again: " TOK ")", TOK);
	assert_non_null(r);
	assert_string_equal(r, "No active Lifecycle Action found with token 4bac1ffe... "
			       "(again: 4bac1ffe...)");
	free(r);
	/* case-insensitive, and the token alone */
	r = hook_engine_redact_token("4BAC1FFE-9C1E-4A3B-8B2D-0123456789AB", TOK);
	assert_non_null(r);
	assert_string_equal(r, "4bac1ffe...");
	free(r);
}

static void redact_truncated_token_at_end(void **state)
{
	(void)state;
	/* the client cut the body in the middle of the token */
	char *r = hook_engine_redact_token("found with token 4bac1ffe-9c1e-4a", TOK);
	assert_non_null(r);
	assert_string_equal(r, "found with token 4bac1ffe...");
	free(r);
	/* no more than the prefix shows: left as is */
	r = hook_engine_redact_token("x 4bac1ffe", TOK);
	assert_non_null(r);
	assert_string_equal(r, "x 4bac1ffe");
	free(r);
	/* a partial match in the middle is not the token */
	r = hook_engine_redact_token("4bac1ffe-9c1e-4a3b tail", TOK);
	assert_non_null(r);
	assert_string_equal(r, "4bac1ffe-9c1e-4a3b tail");
	free(r);
}

static void redact_edge_inputs(void **state)
{
	(void)state;
	assert_null(hook_engine_redact_token(NULL, TOK));
	char *r = hook_engine_redact_token("", TOK);
	assert_non_null(r);
	assert_string_equal(r, "");
	free(r);
	r = hook_engine_redact_token("plain text " TOK, NULL);
	assert_non_null(r);
	assert_string_equal(r, "plain text " TOK);
	free(r);
	r = hook_engine_redact_token("plain text", "");
	assert_non_null(r);
	assert_string_equal(r, "plain text");
	free(r);
	/* a one-character token: every match grows the text */
	r = hook_engine_redact_token("aaaa", "a");
	assert_non_null(r);
	assert_string_equal(r, "a...a...a...a...");
	free(r);
}

static void log_aws_detail_has_no_token(void **state)
{
	(void)state;
	char path[] = "/tmp/hook_engine_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hook_log_open(path, HOOK_LOG_DEBUG), HK_OK);
	eng_action a;
	memset(&a, 0, sizeof(a));
	a.rec.id = 7;
	a.rec.token = (char *)TOK;
	a.rec.instance_id = (char *)"i-0123";
	a.rec.asg = (char *)"asg";
	awc_result res = {.err = HK_ERR_INVALID,
			  .aws_code = "ValidationError",
			  .errtext = "autoscaling CompleteLifecycleAction: HTTP 400: No active "
				     "Lifecycle Action found with token " TOK};
	eng_log_aws(&a, HOOK_LOG_WARN, "x", "CompleteLifecycleAction", &res);
	hook_log_close();
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	unlink(path);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "found with token 4bac1ffe..."));
	assert_null(strstr(buf, "4bac1ffe-9c1e"));
}

/* ---- ClientToken generation recovery (restart) ------------------------------ */

static void token_gen_recovered_from_recorded_token(void **state)
{
	(void)state;
	char tok[HOOK_CLIENT_TOKEN_LEN];
	assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", NULL), 0);
	assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", ""), 0);
	for (unsigned g = 0; g < 6; g++) {
		hook_engine_client_token("i-1", "sig", 1, "lt", g, tok);
		assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", tok), g);
	}
	hook_engine_client_token("i-1", "sig", 1, "lt", HOOK_TOKEN_GEN_MAX - 1, tok);
	assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", tok), HOOK_TOKEN_GEN_MAX - 1);
	/* another action's (or instance's) token: beyond every generation tried */
	hook_engine_client_token("i-1", "sig", 1, "other-action", 0, tok);
	assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", tok), HOOK_TOKEN_GEN_MAX);
	assert_int_equal(hook_engine_token_gen("i-1", "sig", 1, "lt", "mh-junk"),
			 HOOK_TOKEN_GEN_MAX);
}

/* The "recorded ENI no longer exists" reset records the next generation's
 * token (engine_launch.c eng_slot_forget): a restart reading the row back
 * derives generation 1, never the old token whose ENI EC2 deleted. */
static void slot_forget_persists_the_bumped_token(void **state)
{
	(void)state;
	char dir[] = "/tmp/hook_engine_store_XXXXXX";
	assert_non_null(mkdtemp(dir));
	hook_store *st = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_store_open(dir, &st, &ei), HK_OK);
	static char inst[] = "i-0abc", grp[] = "g", asg[] = "asg", hk[] = "launch",
		    lt[] = "4bac1ffe-9c1e-4a3b-8b2d-0123456789ab", src[] = "eventbridge",
		    origin[] = "EC2", dest[] = "AutoScalingGroup", md[] = "";
	hook_action in = {.instance_id = inst,
			  .group = grp,
			  .asg = asg,
			  .hook = hk,
			  .token = lt,
			  .transition = HOOK_TRANSITION_LAUNCHING,
			  .origin = origin,
			  .destination = dest,
			  .metadata = md,
			  .source = src};
	int64_t id = 0;
	bool created = false;
	assert_int_equal(hook_store_action_insert(st, &in, &id, &created), HK_OK);
	assert_true(created);

	hook_eng eng;
	memset(&eng, 0, sizeof(eng));
	eng.store = st;
	eng_action a;
	memset(&a, 0, sizeof(a));
	a.eng = &eng;
	a.rec = in;
	a.rec.id = id;
	static char netname[] = "sig";
	hook_network net = {.name = netname, .device_index = 1};
	char tok0[HOOK_CLIENT_TOKEN_LEN], tok1[HOOK_CLIENT_TOKEN_LEN];
	hook_engine_client_token(inst, "sig", 1, lt, 0, tok0);
	hook_engine_client_token(inst, "sig", 1, lt, 1, tok1);
	eng_slot sl = {.act = &a, .net = &net, .gen = 0};
	sl.subnet_id = strdup("subnet-1");
	sl.ipv4 = strdup("10.0.0.4");
	sl.ipv6 = strdup("");
	sl.client_token = strdup(tok0);
	sl.eni_id = strdup("eni-gone");
	sl.attachment_id = strdup("eni-attach-1");
	assert_int_equal(eng_slot_save(&a, &sl, ENG_ENI_ATTACHED), HK_OK);

	assert_int_equal(eng_slot_forget(&a, &sl), HK_OK);
	assert_int_equal(sl.gen, 1);
	assert_string_equal(sl.client_token, tok1);

	/* what a restart reads back */
	hook_eni_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_eni_list(st, id, &rows, &n), HK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].client_token, tok1);
	assert_string_equal(rows[0].eni_id, "");
	assert_string_equal(rows[0].ipv4, "");
	assert_int_equal(hook_eni_state_parse(rows[0].state), ENG_ENI_NONE);
	assert_int_equal(hook_engine_token_gen(inst, "sig", 1, lt, rows[0].client_token), 1);
	hook_eni_rows_free(rows, n);

	free(sl.subnet_id);
	free(sl.ipv4);
	free(sl.ipv6);
	free(sl.client_token);
	free(sl.eni_id);
	free(sl.attachment_id);
	hook_store_close(st);
	char p[128];
	const char *names[] = {HOOK_STORE_FILE, HOOK_STORE_FILE "-wal", HOOK_STORE_FILE "-shm",
			       HOOK_STORE_LOCK_FILE};
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ---- transient-retry budget ---------------------------------------------- */

static void progress_orders_steps_then_enis(void **state)
{
	(void)state;
	assert_true(hook_engine_progress(ENG_STEP_INSTANCE, 0) >
		    hook_engine_progress(ENG_STEP_HOOK, 0));
	assert_true(hook_engine_progress(ENG_STEP_ENIS, 0) >
		    hook_engine_progress(ENG_STEP_CAPACITY, 5000));
	assert_true(hook_engine_progress(ENG_STEP_ENIS, 3) >
		    hook_engine_progress(ENG_STEP_ENIS, 2));
	assert_true(hook_engine_progress(ENG_STEP_T_DETACH, 0) >
		    hook_engine_progress(ENG_STEP_T_FIND, 0));
	assert_true(hook_engine_progress(ENG_STEP_T_FIND, 0) >
		    hook_engine_progress(ENG_STEP_HOOK, 0));
	assert_int_equal(hook_engine_progress((hook_engine_step)99, 0), 0);
}

static void retry_budget_without_progress(void **state)
{
	(void)state;
	hook_engine_retry r = {0};
	unsigned p = hook_engine_progress(ENG_STEP_ENIS, 2);
	const unsigned want[HOOK_ENGINE_RETRY_MAX] = {1000,  2000,  4000,  8000,  16000, 30000,
						      30000, 30000, 30000, 30000, 30000, 30000};
	for (unsigned i = 0; i < HOOK_ENGINE_RETRY_MAX; i++) {
		unsigned d = 0;
		assert_true(hook_engine_retry_next(&r, p, 1000, &d));
		assert_int_equal(d, want[i]);
	}
	unsigned d = 7;
	assert_false(hook_engine_retry_next(&r, p, 1000, &d));
	assert_int_equal(d, 7); /* untouched */
	/* a re-run failing at an earlier step is no progress either */
	assert_false(hook_engine_retry_next(&r, hook_engine_progress(ENG_STEP_HOOK, 0), 1000, &d));
}

static void retry_budget_resets_on_progress(void **state)
{
	(void)state;
	hook_engine_retry r = {0};
	unsigned d = 0;
	for (unsigned i = 0; i < HOOK_ENGINE_RETRY_MAX; i++)
		assert_true(
		    hook_engine_retry_next(&r, hook_engine_progress(ENG_STEP_ENIS, 1), 1000, &d));
	/* one ENI further: the count and the backoff start again */
	assert_true(hook_engine_retry_next(&r, hook_engine_progress(ENG_STEP_ENIS, 2), 1000, &d));
	assert_int_equal(d, 1000);
	assert_int_equal(r.count, 1);
	/* a burst: 100 throttles, forward progress every 5: never gives up */
	hook_engine_retry b = {0};
	unsigned eni = 0;
	for (unsigned i = 0; i < 100; i++) {
		if (i % 5 == 4)
			eni++;
		assert_true(
		    hook_engine_retry_next(&b, hook_engine_progress(ENG_STEP_ENIS, eni), 1000, &d));
		/* a re-run throttled at an earlier step in between */
		assert_true(hook_engine_retry_next(&b, hook_engine_progress(ENG_STEP_SUBNETS, 0),
						   1000, &d));
	}
	assert_true(b.count <= HOOK_ENGINE_RETRY_MAX);
}

/* ---- one instance, one plan ------------------------------------------ */

static hook_action sib(int64_t id, const char *inst, hook_transition tr, const char *origin,
		       const char *dest, hook_action_state st, const char *result)
{
	hook_action a;
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.instance_id = (char *)(uintptr_t)inst;
	a.transition = tr;
	a.origin = (char *)(uintptr_t)origin;
	a.destination = (char *)(uintptr_t)dest;
	a.state = st;
	a.result = (char *)(uintptr_t)result;
	return a;
}

static void same_episode_rules(void **state)
{
	(void)state;
	hook_action a = sib(1, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "AutoScalingGroup",
			    HOOK_ACTION_PENDING, "");
	hook_action b = sib(2, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "AutoScalingGroup",
			    HOOK_ACTION_DONE, "CONTINUE");
	assert_true(hook_engine_same_episode(&a, &b));
	b.instance_id = (char *)"i-2";
	assert_false(hook_engine_same_episode(&a, &b));
	b = sib(2, "i-1", HOOK_TRANSITION_TERMINATING, "EC2", "AutoScalingGroup", HOOK_ACTION_DONE,
		"");
	assert_false(hook_engine_same_episode(&a, &b));
	/* warm pool: entering the pool and leaving it are two launches */
	b = sib(2, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "WarmPool", HOOK_ACTION_DONE, "");
	assert_false(hook_engine_same_episode(&a, &b));
	b = sib(2, "i-1", HOOK_TRANSITION_LAUNCHING, "WarmPool", "AutoScalingGroup",
		HOOK_ACTION_DONE, "");
	assert_false(hook_engine_same_episode(&a, &b));
	/* NULL origin/destination count as "" */
	hook_action c = sib(3, "i-1", HOOK_TRANSITION_LAUNCHING, NULL, NULL, HOOK_ACTION_DONE, "");
	hook_action d = sib(4, "i-1", HOOK_TRANSITION_LAUNCHING, "", "", HOOK_ACTION_DONE, "");
	assert_true(hook_engine_same_episode(&c, &d));
}

static void sibling_verdicts(void **state)
{
	(void)state;
	hook_action self = sib(5, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "AutoScalingGroup",
			       HOOK_ACTION_PENDING, "");
	int64_t by = -1;
	/* alone (itself in the list): run */
	assert_int_equal(hook_engine_sibling_verdict(&self, &self, 1, &by), ENG_VERDICT_RUN);
	assert_int_equal(by, -1);
	assert_int_equal(hook_engine_sibling_verdict(&self, NULL, 0, NULL), ENG_VERDICT_RUN);
	hook_action v[4];
	/* the same launch continued by another hook's action: run (adoption) */
	v[0] = sib(3, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "AutoScalingGroup", HOOK_ACTION_DONE,
		   "CONTINUE");
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 1, &by), ENG_VERDICT_RUN);
	/* ... abandoned: abandoned too */
	v[0].result = (char *)"ABANDON";
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 1, &by), ENG_VERDICT_ABANDONED);
	assert_int_equal(by, 3);
	/* an abandoned action of another instance or another launch: run */
	v[0].instance_id = (char *)"i-2";
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 1, NULL), ENG_VERDICT_RUN);
	v[0] = sib(3, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "WarmPool", HOOK_ACTION_DONE,
		   "ABANDON");
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 1, NULL), ENG_VERDICT_RUN);
	/* a still running sibling abandoning decides nothing yet */
	v[0] = sib(3, "i-1", HOOK_TRANSITION_LAUNCHING, "EC2", "AutoScalingGroup",
		   HOOK_ACTION_COMPLETING, "ABANDON");
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 1, NULL), ENG_VERDICT_RUN);
	/* a terminate to EC2, in any state and whatever its order: leaving */
	v[1] = sib(9, "i-1", HOOK_TRANSITION_TERMINATING, "AutoScalingGroup", "EC2",
		   HOOK_ACTION_PENDING, "");
	by = -1;
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 2, &by), ENG_VERDICT_LEAVING);
	assert_int_equal(by, 9);
	/* a terminate into the warm pool: the instance comes back, run */
	v[1].destination = (char *)"WarmPool";
	assert_int_equal(hook_engine_sibling_verdict(&self, v, 2, NULL), ENG_VERDICT_RUN);
	/* a terminate always runs its own plan */
	hook_action t = sib(9, "i-1", HOOK_TRANSITION_TERMINATING, "AutoScalingGroup", "EC2",
			    HOOK_ACTION_PENDING, "");
	v[0].state = HOOK_ACTION_DONE;
	assert_int_equal(hook_engine_sibling_verdict(&t, v, 1, NULL), ENG_VERDICT_RUN);
}

/* The store lists an instance's actions newest first, bounded. */
static void store_lists_an_instances_actions(void **state)
{
	(void)state;
	char dir[] = "/tmp/hook_engine_store_XXXXXX";
	assert_non_null(mkdtemp(dir));
	hook_store *st = NULL;
	hk_errinfo ei = {0};
	assert_int_equal(hook_store_open(dir, &st, &ei), HK_OK);
	static const char *const insts[] = {"i-a", "i-b", "i-a", "i-a"};
	static const char *const hooks[] = {"launch", "launch", "launch-2", "terminate"};
	for (size_t i = 0; i < 4; i++) {
		char tok[40];
		snprintf(tok, sizeof(tok), "tok-%zu", i);
		hook_action in = {.instance_id = (char *)(uintptr_t)insts[i],
				  .group = (char *)"g",
				  .asg = (char *)"asg",
				  .hook = (char *)(uintptr_t)hooks[i],
				  .token = tok,
				  .transition = i == 3 ? HOOK_TRANSITION_TERMINATING
						       : HOOK_TRANSITION_LAUNCHING,
				  .source = (char *)"eventbridge"};
		int64_t id = 0;
		bool created = false;
		assert_int_equal(hook_store_action_insert(st, &in, &id, &created), HK_OK);
		assert_true(created);
	}
	hook_action *v = NULL;
	size_t n = 0;
	assert_int_equal(hook_store_action_list_instance(st, "i-a", 10, &v, &n), HK_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].hook, "terminate");
	assert_string_equal(v[1].hook, "launch-2");
	assert_string_equal(v[2].hook, "launch");
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list_instance(st, "i-a", 2, &v, &n), HK_OK);
	assert_int_equal(n, 2);
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list_instance(st, "i-none", 10, &v, &n), HK_OK);
	assert_int_equal(n, 0);
	hook_actions_free(v, n);
	assert_int_equal(hook_store_action_list_instance(st, "", 10, &v, &n), HK_ERR_INVALID);
	hook_store_close(st);
	char p[128];
	const char *names[] = {HOOK_STORE_FILE, HOOK_STORE_FILE "-wal", HOOK_STORE_FILE "-shm",
			       HOOK_STORE_LOCK_FILE};
	for (size_t i = 0; i < HK_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(token_deterministic_and_short),
    cmocka_unit_test(token_depends_on_every_input),
    cmocka_unit_test(token_handles_null_and_long_inputs),
    cmocka_unit_test(tags_engine_first_user_after),
    cmocka_unit_test(tags_respect_max),
    cmocka_unit_test(steps_round_trip),
    cmocka_unit_test(resume_mapping),
    cmocka_unit_test(classify_codes),
    cmocka_unit_test(classify_transient),
    cmocka_unit_test(timing_defaults),
    cmocka_unit_test(timing_short_heartbeat),
    cmocka_unit_test(giveup_math),
    cmocka_unit_test(subnet_explicit_ids),
    cmocka_unit_test(subnet_by_tags_in_az),
    cmocka_unit_test(pod_range_parse),
    cmocka_unit_test(timing_scaled_by_test_factor),
    cmocka_unit_test(giveup_global_margin_not_clamped_by_heartbeat),
    cmocka_unit_test(keep_deadline_stored_wins_over_assumed_timing),
    cmocka_unit_test(keep_deadline_none_or_nonsense_uses_timing),
    cmocka_unit_test(dhcp_range_covered_by_union),
    cmocka_unit_test(dhcp_uncovered_per_subnet),
    cmocka_unit_test(config_sweep_interval),
    cmocka_unit_test(config_testing_time_scale),
    cmocka_unit_test(final_error_rules),
    cmocka_unit_test(redact_replaces_every_occurrence),
    cmocka_unit_test(redact_truncated_token_at_end),
    cmocka_unit_test(redact_edge_inputs),
    cmocka_unit_test(log_aws_detail_has_no_token),
    cmocka_unit_test(token_gen_recovered_from_recorded_token),
    cmocka_unit_test(slot_forget_persists_the_bumped_token),
    cmocka_unit_test(progress_orders_steps_then_enis),
    cmocka_unit_test(retry_budget_without_progress),
    cmocka_unit_test(retry_budget_resets_on_progress),
    cmocka_unit_test(same_episode_rules),
    cmocka_unit_test(sibling_verdicts),
    cmocka_unit_test(store_lists_an_instances_actions),
};

HK_TEST_MAIN(tests)
