// SPDX-License-Identifier: BSD-2-Clause
/* Signal files between a test tool and its shell test (dv_signal.h). */
#include "dv_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Long enough for any path a test passes (its temporary directory and a name). */
#define NAME_MAX_LEN 4096

static int name_of(char *name, const char *path, const char *suffix)
{
	if (snprintf(name, NAME_MAX_LEN, "%s%s", path, suffix) >= NAME_MAX_LEN)
		return -ENAMETOOLONG;
	return 0;
}

int dv_signal_create(const char *path, const char *suffix)
{
	char name[NAME_MAX_LEN];
	int fd, r = name_of(name, path, suffix);

	if (r)
		return r;
	fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return close(fd) ? -errno : 0;
}

int dv_signal_wait(const char *path, const char *suffix, bool present, int poll_ms,
		   int limit_ms, const volatile sig_atomic_t *stop)
{
	char name[NAME_MAX_LEN];
	struct timespec nap = { .tv_sec = poll_ms / 1000, .tv_nsec = poll_ms % 1000 * 1000000L };
	int r = name_of(name, path, suffix);

	if (r)
		return r;
	for (int waited = 0; (access(name, F_OK) == 0) != present; waited += poll_ms) {
		if (stop && *stop)
			return -EINTR;
		if (limit_ms >= 0 && waited >= limit_ms)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}
