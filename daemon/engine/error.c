/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static void fill(struct dd_error *err, enum dd_error_kind kind, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->kind = kind;
}

int dd_fail(struct dd_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	fill(err, DD_ERR_DATA, fmt, ap);
	va_end(ap);
	return -1;
}

int dd_fail_kind(struct dd_error *err, enum dd_error_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	fill(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}
