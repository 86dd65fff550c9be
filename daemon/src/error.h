/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef DAEDALUS_ERROR_H
#define DAEDALUS_ERROR_H

#include "engine.h"

/* Fills err (if not NULL) and returns -1, so error paths read `return dd_fail(err, ...)`. */
int dd_fail(struct dd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
