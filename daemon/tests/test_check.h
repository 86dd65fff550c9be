/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CHECK(cond, fmt, ...) for the daemon's small unit tests: a failed condition is reported
 * with its place and message and counted in the test's own `failures`, so one run lists
 * every failure instead of stopping at the first.
 */
#ifndef DAEDALUS_TEST_CHECK_H
#define DAEDALUS_TEST_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

/* The end of a test's main(): a line saying how it went, and the exit status. */
static inline int check_summary(const char *test, int failed)
{
	if (failed) {
		fprintf(stderr, "%s: %d failures\n", test, failed);
		return 1;
	}
	printf("%s: ok\n", test);
	return 0;
}

#endif
