/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Signal files: how a test tool and the shell test driving it hand each other
 * turns. The tool creates a file to say where it is (FILE, FILE.held,
 * FILE.go...) and polls for one the test creates or removes; the test does
 * the same with `touch`, `rm` and a wait loop. Files, not signals or pipes:
 * a shell test in the guest can wait for them whatever process made them,
 * and a test that dies leaves the tool polling, not blocked in a read.
 */
#ifndef DV_SIGNAL_H
#define DV_SIGNAL_H

#include <signal.h>
#include <stdbool.h>

/* An empty file at PATH with SUFFIX appended ("" for none): 0, or -errno. */
int dv_signal_create(const char *path, const char *suffix);

/*
 * Polls every POLL_MS until PATH+SUFFIX exists (PRESENT true) or is gone
 * (false): 0 then, -ETIMEDOUT after LIMIT_MS (negative: no limit), -EINTR once
 * *STOP (may be NULL) is set, -ENAMETOOLONG for a name that does not fit.
 */
int dv_signal_wait(const char *path, const char *suffix, bool present, int poll_ms,
		   int limit_ms, const volatile sig_atomic_t *stop);

#endif
