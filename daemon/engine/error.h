/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef DAEDALUS_ERROR_H
#define DAEDALUS_ERROR_H

#include "engine.h"

/*
 * Fills err (if not NULL) and returns -1, so error paths read `return dd_fail(err, ...)`.
 * dd_fail is a DD_ERR_DATA failure; dd_fail_kind names another kind.
 */
int dd_fail(struct dd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dd_fail_kind(struct dd_error *err, enum dd_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
