/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fence another device would leave on a buffer, made with sw_sync (the kernel's fence test
 * driver, /sys/kernel/debug/sync/sw_sync, CONFIG_SW_SYNC: the testbed's debug kernel) and
 * attached to dmabufs as a write fence (DMA_BUF_IOCTL_IMPORT_SYNC_FILE): as if a GPU were
 * still drawing into a CAPTURE buffer the client queues again. The daemon must not write
 * the buffer before the fence signals, and must give the job up if it never does.
 */
#ifndef DV_FENCE_H
#define DV_FENCE_H

#include <sys/types.h>

struct dv_fence {
	int timeline;		/* -1 until the first fence */
	unsigned int value;	/* the timeline's last fence point */
	pid_t signaler;		/* the child that signals it, 0 if none */
};

void dv_fence_init(struct dv_fence *f);
/*
 * A new fence on every one of @n dmabufs; it signals @signal_ms ms from now (a child process
 * advances the timeline and then prints "fence-signalled <ms>" on stdout, CLOCK_REALTIME),
 * or, with @signal_ms < 0, only at dv_fence_end(). 0 or -errno.
 */
int dv_fence_attach(struct dv_fence *f, const int *dmabufs, unsigned int n, int signal_ms);
/* Waits for the signaler; closing the timeline signals what is left (with an error). */
void dv_fence_end(struct dv_fence *f);

#endif
