/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One-line checks for the kernel test programs (dv-dmabuf-check, dv-format-check): every
 * check prints "ok   what" or "FAIL what (errno N)", so a log shows each step, and a
 * failure does not stop the program (later checks still tell what else broke).
 */
#ifndef DV_CHECK_H
#define DV_CHECK_H

#include <errno.h>
#include <stdio.h>

extern int dv_check_fails;

#define CHECK(c, ...)                                              \
	do {                                                       \
		if (!(c)) {                                        \
			int check_errno_ = errno;                  \
			printf("FAIL " __VA_ARGS__);               \
			printf(" (errno %d)\n", check_errno_);     \
			dv_check_fails++;                          \
		} else {                                           \
			printf("ok   " __VA_ARGS__);               \
			printf("\n");                              \
		}                                                  \
	} while (0)

#endif
