/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A deadline for a blocking call that has none of its own.
 *
 * DMA_BUF_IOCTL_SYNC waits for the fences other devices left on a dmabuf, interruptibly
 * but for as long as they take: a client that attaches a fence that never signals
 * (DMA_BUF_IOCTL_IMPORT_SYNC_FILE) just after the worker's poll() saw the buffer ready
 * would hold that worker, its decoder and its memory claim for ever. A POSIX timer sends
 * DM_DEADLINE_SIGNAL to the calling thread only, at the deadline and every
 * DM_DEADLINE_REPEAT_MS after it until disarmed, so that a signal that came just before
 * the call entered the kernel is followed by another. The handler does nothing and is
 * installed without SA_RESTART: the call fails with EINTR, and the caller, seeing its
 * deadline passed, gives up.
 *
 * The signal is never blocked in the daemon's threads (main.c blocks only the signalfd's),
 * and goes to no thread but the one that armed the timer. A signal due while the timer is
 * deleted is delivered as the deleting call returns, to the handler: it interrupts nothing
 * later. It ends only interruptible waits: the dma-buf core's wait for fences is one, an
 * exporter's own lock taken uninterruptibly in its begin_cpu_access is not.
 */
#ifndef DAEDALUS_DAEMON_DEADLINE_SIGNAL_H
#define DAEDALUS_DAEMON_DEADLINE_SIGNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define DM_DEADLINE_SIGNAL (SIGRTMIN + 1)
#define DM_DEADLINE_REPEAT_MS 20

/* Installs the signal's handler; once, before any thread arms a deadline. 0 or -errno. */
int dm_deadline_install(void);

/* How many of the signals the handler has taken (tests). */
unsigned int dm_deadline_fired(void);

struct dm_deadline {
	timer_t timer;
	bool armed;
};

/*
 * Signals the calling thread from deadline_ms (dm_now_ms()'s clock) on, at once if it has
 * passed. 0 or -errno (nothing will signal the thread then): -EINVAL before
 * dm_deadline_install(), -EAGAIN when the user's RLIMIT_SIGPENDING is reached (each armed
 * deadline holds one queued signal).
 */
int dm_deadline_arm(struct dm_deadline *d, int64_t deadline_ms);

/* Stops the signals; a deadline that is not armed is left alone. */
void dm_deadline_disarm(struct dm_deadline *d);

#endif
