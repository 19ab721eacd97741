/* Unit tests of the orphan sweep's pure batching (hook/engine/engine_sweep.c):
 * eng_sweep_distinct (sort + drop repeats) and eng_sweep_batch_len (the
 * DescribeInstances batches of at most ENG_SWEEP_BATCH ids). */
#include "hk_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* The batches the sweep sends for n ids: lengths into ret_len (cap entries),
 * returns how many. Walks exactly as inst_next/inst_cb do. */
static size_t batches(size_t n, size_t batch_max, size_t *ret_len, size_t cap)
{
	size_t k = 0, next = 0;
	for (;;) {
		size_t len = eng_sweep_batch_len(n, next, batch_max);
		if (!len)
			break;
		assert_true(k < cap);
		ret_len[k++] = len;
		next += len;
	}
	assert_int_equal(next, n); /* every id once, none past the end */
	return k;
}

static void batch_limit_is_200(void **state)
{
	(void)state;
	assert_int_equal(ENG_SWEEP_BATCH, 200);
}

static void batch_none_for_no_ids(void **state)
{
	(void)state;
	size_t len[4];
	assert_int_equal(batches(0, ENG_SWEEP_BATCH, len, 4), 0);
	assert_int_equal(eng_sweep_batch_len(0, 0, ENG_SWEEP_BATCH), 0);
	assert_int_equal(eng_sweep_batch_len(5, 7, ENG_SWEEP_BATCH), 0); /* next past the end */
	assert_int_equal(eng_sweep_batch_len(5, 0, 0), 0);
}

static void batch_exactly_200_is_one_call(void **state)
{
	(void)state;
	size_t len[4];
	assert_int_equal(batches(1, ENG_SWEEP_BATCH, len, 4), 1);
	assert_int_equal(len[0], 1);
	assert_int_equal(batches(199, ENG_SWEEP_BATCH, len, 4), 1);
	assert_int_equal(len[0], 199);
	assert_int_equal(batches(200, ENG_SWEEP_BATCH, len, 4), 1);
	assert_int_equal(len[0], 200);
}

static void batch_201_is_200_then_1(void **state)
{
	(void)state;
	size_t len[4];
	assert_int_equal(batches(201, ENG_SWEEP_BATCH, len, 4), 2);
	assert_int_equal(len[0], 200);
	assert_int_equal(len[1], 1);
}

static void batch_many_ids_all_covered(void **state)
{
	(void)state;
	size_t len[64];
	assert_int_equal(batches(450, ENG_SWEEP_BATCH, len, 64), 3);
	assert_int_equal(len[0], 200);
	assert_int_equal(len[1], 200);
	assert_int_equal(len[2], 50);
	assert_int_equal(batches(1000, ENG_SWEEP_BATCH, len, 64), 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(len[i], 200);
	/* every count from 0 to 1001: ceil(n / 200) batches, none above 200 */
	for (size_t n = 0; n <= 1001; n++) {
		size_t k = batches(n, ENG_SWEEP_BATCH, len, 64);
		assert_int_equal(k, (n + 199) / 200);
		for (size_t i = 0; i < k; i++)
			assert_true(len[i] >= 1 && len[i] <= ENG_SWEEP_BATCH);
	}
}

static void distinct_empty_and_one(void **state)
{
	(void)state;
	const char *one[1] = {"i-1"};
	assert_int_equal(eng_sweep_distinct(NULL, 0), 0);
	assert_int_equal(eng_sweep_distinct(one, 1), 1);
	assert_string_equal(one[0], "i-1");
}

static void distinct_sorts_and_drops_repeats(void **state)
{
	(void)state;
	const char *v[7] = {"i-c", "i-a", "i-c", "i-b", "i-a", "i-a", "i-d"};
	size_t n = eng_sweep_distinct(v, 7);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "i-a");
	assert_string_equal(v[1], "i-b");
	assert_string_equal(v[2], "i-c");
	assert_string_equal(v[3], "i-d");
}

/* 450 instances with 2 ENIs each (900 tagged ENIs, shuffled): 450 distinct
 * ids, then 3 batches that together name each instance exactly once. */
static void distinct_then_batches_name_each_instance_once(void **state)
{
	(void)state;
	enum { N_INST = 450, N_ENI = 2 * N_INST };
	static char names[N_INST][24];
	const char *ids[N_ENI];
	for (size_t i = 0; i < N_INST; i++) {
		snprintf(names[i], sizeof(names[i]), "i-%017zx", i * 7919u);
		ids[2 * i] = names[i];
		ids[2 * i + 1] = names[i];
	}
	unsigned seed = 12345u;
	for (size_t i = N_ENI - 1; i > 0; i--) { /* Fisher-Yates, fixed LCG */
		seed = seed * 1103515245u + 12345u;
		size_t j = (size_t)(seed >> 8) % (i + 1);
		const char *t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	size_t n = eng_sweep_distinct(ids, N_ENI);
	assert_int_equal(n, N_INST);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	unsigned seen[N_INST] = {0};
	size_t next = 0, calls = 0;
	for (size_t len; (len = eng_sweep_batch_len(n, next, ENG_SWEEP_BATCH)) != 0; next += len) {
		calls++;
		for (size_t i = next; i < next + len; i++)
			for (size_t k = 0; k < N_INST; k++)
				if (ids[i] == names[k])
					seen[k]++;
	}
	assert_int_equal(calls, 3);
	for (size_t k = 0; k < N_INST; k++)
		assert_int_equal(seen[k], 1);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(batch_limit_is_200),
    cmocka_unit_test(batch_none_for_no_ids),
    cmocka_unit_test(batch_exactly_200_is_one_call),
    cmocka_unit_test(batch_201_is_200_then_1),
    cmocka_unit_test(batch_many_ids_all_covered),
    cmocka_unit_test(distinct_empty_and_one),
    cmocka_unit_test(distinct_sorts_and_drops_repeats),
    cmocka_unit_test(distinct_then_batches_name_each_instance_once),
};

HK_TEST_MAIN(tests)
