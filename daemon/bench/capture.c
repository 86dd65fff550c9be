/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/videodev2.h>

#include "capture.h"

/* kernel/daedalus.h: DAEDALUS_CAP_ALIGN */
#define CAP_ALIGN 64u

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * 64-byte aligned memory, touched once: the driver hands out zeroed pages, so the first
 * decode into a buffer must not pay for page faults a real CAPTURE buffer would not take.
 */
static uint8_t *alloc_plane(size_t size)
{
	uint8_t *p = aligned_alloc(CAP_ALIGN, (size + CAP_ALIGN - 1) / CAP_ALIGN * CAP_ALIGN);

	if (p)
		memset(p, 0, size);
	return p;
}

static void free_bufs(struct capture_ring *r)
{
	if (!r->bufs)
		return;
	for (unsigned int i = 0; i < r->count; i++)
		for (int p = 0; p < DD_MAX_PLANES; p++)
			free(r->bufs[i].mem[p]);
	free(r->bufs);
	r->bufs = NULL;
	r->fourcc = 0;
}

/* One buffer in the layout of docs/protocol.md, section 5. */
static int alloc_buf(struct capture_buf *b, uint32_t fourcc, uint32_t w, uint32_t h)
{
	struct dd_picture *pic = &b->pic;

	pic->fourcc = fourcc;
	pic->width = w;
	pic->height = h;
	if (fourcc == V4L2_PIX_FMT_YUV420M) {
		size_t ysize = (size_t)w * h, csize = ysize / 4;

		pic->num_planes = 3;
		for (int p = 0; p < 3; p++) {
			b->mem[p] = alloc_plane(p ? csize : ysize);
			if (!b->mem[p])
				return -1;
			pic->planes[p] = (struct dd_plane){ b->mem[p], p ? w / 2 : w,
							    p ? csize : ysize };
		}
	} else {
		/* NV12 / P010: one memory plane, CbCr at bytesperline * height */
		uint32_t stride = fourcc == V4L2_PIX_FMT_P010 ? w * 2 : w;
		size_t ysize = (size_t)stride * h;

		pic->num_planes = 2;
		b->mem[0] = alloc_plane(ysize + ysize / 2);
		if (!b->mem[0])
			return -1;
		pic->planes[0] = (struct dd_plane){ b->mem[0], stride, ysize };
		pic->planes[1] = (struct dd_plane){ b->mem[0] + ysize, stride, ysize / 2 };
	}
	return 0;
}

void capture_ring_init(struct capture_ring *r, unsigned int count)
{
	memset(r, 0, sizeof(*r));
	r->count = count;
}

const struct dd_picture *capture_ring_next(struct capture_ring *r, uint32_t fourcc,
					   uint32_t width, uint32_t height)
{
	uint32_t w = align_up(width ? width : 1, CAP_ALIGN);
	uint32_t h = align_up(height ? height : 1, CAP_ALIGN);
	const struct dd_picture *pic;

	if (!r->bufs || r->fourcc != fourcc || r->width != w || r->height != h) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		free_bufs(r);
		r->bufs = calloc(r->count, sizeof(*r->bufs));
		if (!r->bufs)
			return NULL;
		for (unsigned int i = 0; i < r->count; i++)
			if (alloc_buf(&r->bufs[i], fourcc, w, h)) {
				free_bufs(r);
				return NULL;
			}
		r->fourcc = fourcc;
		r->width = w;
		r->height = h;
		r->next = 0;
		r->allocations++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		r->alloc_s += (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	pic = &r->bufs[r->next].pic;
	r->next = (r->next + 1) % r->count;
	return pic;
}

void capture_ring_free(struct capture_ring *r)
{
	free_bufs(r);
}
