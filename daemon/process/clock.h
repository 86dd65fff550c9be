/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The monotonic clock in the units the daemon's timeouts use. CLOCK_MONOTONIC: a wall
 * clock change must not fire a hang, fence or grace timeout.
 */
#ifndef DAEDALUS_DAEMON_CLOCK_H
#define DAEDALUS_DAEMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t dm_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline int64_t dm_now_ms(void)
{
	return dm_now_ns() / 1000000;
}

#endif
