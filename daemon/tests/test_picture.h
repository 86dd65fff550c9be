/* SPDX-License-Identifier: BSD-2-Clause */
/* CAPTURE-like destination pictures for the tests, and their MD5 in framemd5's layout. */
#ifndef DAEDALUS_TEST_PICTURE_H
#define DAEDALUS_TEST_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct pic {
	int refs;
	int failed;
	uint32_t fourcc;
	uint32_t width, height; /* frame size */
	struct dd_picture dst;
	uint8_t *mem[DD_MAX_PLANES];
	size_t alloc_size[DD_MAX_PLANES];
};

/* A buffer as a driver would size it for a w x h frame, poisoned, refcount 1. */
struct pic *pic_new(uint32_t fourcc, uint32_t w, uint32_t h);
struct pic *pic_ref(struct pic *p);
void pic_unref(struct pic *p);
/* MD5 of the frame as planar yuv420p / yuv420p10le, the way framemd5 hashes it. */
void pic_md5(const struct pic *p, char out[33]);

#endif
