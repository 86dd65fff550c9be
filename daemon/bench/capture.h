/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bench's CAPTURE queue: K buffers laid out as the kernel module lays out its CAPTURE
 * buffers (docs/protocol.md, section 5), allocated once and handed out round robin, the way
 * a client requeues its CAPTURE buffers. The engine never keeps a CAPTURE buffer (it decodes
 * into its own pictures and copies out), so reusing them is what a real client does too.
 */
#ifndef DAEDALUS_BENCH_CAPTURE_H
#define DAEDALUS_BENCH_CAPTURE_H

#include <stdint.h>

#include "engine.h"

struct capture_buf {
	uint8_t *mem[DD_MAX_PLANES];
	struct dd_picture pic;
};

struct capture_ring {
	unsigned int count, next;
	/* the padded CAPTURE format all buffers have (fourcc 0: none yet) */
	uint32_t fourcc, width, height;
	struct capture_buf *bufs;
	long allocations;
	/*
	 * Seconds spent allocating and touching the buffers: the client's REQBUFS in the real
	 * thing (the kernel allocates and zeroes the pages there, and the daemon's mapping of
	 * a buffer is populated whole at mmap()), not the decode the bench measures.
	 */
	double alloc_s;
};

void capture_ring_init(struct capture_ring *r, unsigned int count);

/*
 * The next buffer for a width x height frame in fourcc. When the format differs from the
 * ring's (a resolution or bit depth change), the whole ring is reallocated first, as a
 * client does on the source-change event. NULL when out of memory.
 */
const struct dd_picture *capture_ring_next(struct capture_ring *r, uint32_t fourcc,
					   uint32_t width, uint32_t height);

void capture_ring_free(struct capture_ring *r);

#endif
