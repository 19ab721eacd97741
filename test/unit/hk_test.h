/* Shared include for the cmocka unit tests.
 * HK_TEST_MAIN(tests) runs the group, honouring HK_TEST_FILTER (set by ctest,
 * one case per ctest test; see cmake/hookd.cmake). A filter that names no case
 * of the group fails (exit 1) instead of passing with zero tests run. */
#ifndef HK_TEST_H
#define HK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define HK_TEST_MAIN(tests)                                                                        \
	int main(void)                                                                             \
	{                                                                                          \
		const char *hk_filter_ = getenv("HK_TEST_FILTER");                                 \
		if (hk_filter_ && *hk_filter_) {                                                   \
			size_t hk_hits_ = 0;                                                       \
			for (size_t i_ = 0; i_ < sizeof(tests) / sizeof((tests)[0]); i_++)         \
				if ((tests)[i_].name && !strcmp((tests)[i_].name, hk_filter_))     \
					hk_hits_++;                                                \
			if (hk_hits_ == 0) {                                                       \
				fprintf(stderr,                                                    \
					"HK_TEST_FILTER=%s names no test of this binary\n",        \
					hk_filter_);                                               \
				return 1;                                                          \
			}                                                                          \
			cmocka_set_test_filter(hk_filter_);                                        \
		}                                                                                  \
		return cmocka_run_group_tests(tests, NULL, NULL);                                  \
	}

#endif
