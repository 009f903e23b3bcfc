/* Minimal unit-test harness: each test binary prints one closing line
 * "N passed, N failed" and exits non-zero on any failure. */
#ifndef MMVM_TESTS_UNIT_H
#define MMVM_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (cond) {                                                \
			unit_passed++;                                     \
		} else {                                                   \
			unit_failed++;                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",       \
				__FILE__, __LINE__, #cond);                \
		}                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                     \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);        \
		if (_a == _b) {                                            \
			unit_passed++;                                     \
		} else {                                                   \
			unit_failed++;                                     \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s" \
				" (%lld != %lld)\n", __FILE__, __LINE__,   \
				#a, #b, _a, _b);                           \
		}                                                          \
	} while (0)

#define RUN(fn)                                                            \
	do {                                                               \
		int _f = unit_failed;                                      \
		fn();                                                      \
		fprintf(stderr, "%s %s\n", unit_failed == _f ? "ok  " :    \
			"FAIL", #fn);                                      \
	} while (0)

static inline int unit_finish(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
