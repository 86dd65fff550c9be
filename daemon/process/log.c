/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static bool use_syslog;
static bool verbose;

void dm_log_init(bool to_syslog, bool be_verbose)
{
	use_syslog = to_syslog;
	verbose = be_verbose;
	if (use_syslog)
		/* connected now: the sandbox (sandbox.c) refuses connect() later */
		openlog("daedalus-v4l2d", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void emit(enum dd_log_level level, const char *msg)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	struct timespec now;

	if (level == DD_LOG_DEBUG && !verbose)
		return;
	if (use_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* one fprintf per line: stdio locks the stream, so worker lines never interleave */
	fprintf(stderr, "[%5lld.%03ld] daedalus-v4l2d %s: %s\n", (long long)now.tv_sec,
		now.tv_nsec / 1000000, tag[level], msg);
}

void dm_log(enum dd_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level == DD_LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

void dm_log_engine(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	emit(level, msg);
}
