/* SPDX-License-Identifier: BSD-2-Clause */
/* The daemon's log: stderr in the foreground, syslog once detached. */
#ifndef DAEDALUS_DAEMON_LOG_H
#define DAEDALUS_DAEMON_LOG_H

#include <stdbool.h>

#include "engine.h"

void dm_log_init(bool to_syslog, bool verbose);
void dm_log(enum dd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dd_log_fn for the engine */
void dm_log_engine(void *opaque, enum dd_log_level level, const char *msg);

#define dm_err(...) dm_log(DD_LOG_ERROR, __VA_ARGS__)
#define dm_warn(...) dm_log(DD_LOG_WARNING, __VA_ARGS__)
#define dm_info(...) dm_log(DD_LOG_INFO, __VA_ARGS__)
#define dm_dbg(...) dm_log(DD_LOG_DEBUG, __VA_ARGS__)

#endif
