/* Shared include for the cmocka unit tests.
 * HK_TEST_MAIN(tests) runs the group, honouring HK_TEST_FILTER (set by ctest,
 * one case per ctest test; see cmake/hookd.cmake). */
#ifndef HK_TEST_H
#define HK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#define HK_TEST_MAIN(tests)                                                                        \
	int main(void)                                                                             \
	{                                                                                          \
		const char *hk_filter_ = getenv("HK_TEST_FILTER");                                 \
		if (hk_filter_ && *hk_filter_)                                                     \
			cmocka_set_test_filter(hk_filter_);                                        \
		return cmocka_run_group_tests(tests, NULL, NULL);                                  \
	}

#endif
