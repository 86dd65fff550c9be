/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "md5.h"
#include "test_picture.h"

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * A CAPTURE buffer as a driver would size it: 16-aligned height, stride aligned to 64 bytes
 * and then some, poisoned so that unwritten pixels show up in the MD5.
 */
struct pic *pic_new(uint32_t fourcc, uint32_t w, uint32_t h)
{
	struct pic *p = calloc(1, sizeof(*p));
	uint32_t aw = align_up(w, 16), ah = align_up(h, 16);
	unsigned int bpp = fourcc == V4L2_PIX_FMT_P010 ? 2 : 1;
	uint32_t ystride = align_up(aw * bpp, 64) + 64;

	if (!p)
		abort();
	p->refs = 1;
	p->fourcc = fourcc;
	p->dst.fourcc = fourcc;
	p->dst.width = aw;
	p->dst.height = ah;
	if (fourcc == V4L2_PIX_FMT_YUV420M) {
		uint32_t cstride = ystride / 2;

		p->dst.num_planes = 3;
		p->alloc_size[0] = (size_t)ystride * ah;
		p->alloc_size[1] = p->alloc_size[2] = (size_t)cstride * (ah / 2);
		for (int i = 0; i < 3; i++) {
			p->mem[i] = malloc(p->alloc_size[i]);
			if (!p->mem[i])
				abort();
			memset(p->mem[i], 0xa5, p->alloc_size[i]);
			p->dst.planes[i] = (struct dd_plane){ p->mem[i], i ? cstride : ystride,
							      p->alloc_size[i] };
		}
	} else {
		/* single-plane NV12/P010: CbCr follows the luma plane in the same buffer */
		size_t ysize = (size_t)ystride * ah, total = ysize + (size_t)ystride * (ah / 2);

		p->dst.num_planes = 2;
		p->alloc_size[0] = total;
		p->mem[0] = malloc(total);
		if (!p->mem[0])
			abort();
		memset(p->mem[0], 0xa5, total);
		p->dst.planes[0] = (struct dd_plane){ p->mem[0], ystride, ysize };
		p->dst.planes[1] = (struct dd_plane){ p->mem[0] + ysize, ystride, total - ysize };
	}
	return p;
}

struct pic *pic_ref(struct pic *p)
{
	if (p)
		p->refs++;
	return p;
}

void pic_unref(struct pic *p)
{
	if (!p || --p->refs)
		return;
	for (int i = 0; i < DD_MAX_PLANES; i++)
		free(p->mem[i]);
	free(p);
}

/* MD5 of the picture as planar yuv420p / yuv420p10le, the way framemd5 hashes it. */
void pic_md5(const struct pic *p, char out[33])
{
	const struct dd_picture *d = &p->dst;
	uint32_t w = p->width, h = p->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	uint8_t *row = malloc((size_t)w * 2 + 4);
	struct md5 m;

	md5_init(&m);
	if (p->fourcc == V4L2_PIX_FMT_YUV420M) {
		for (uint32_t y = 0; y < h; y++)
			md5_update(&m, d->planes[0].data + (size_t)y * d->planes[0].stride, w);
		for (int pl = 1; pl < 3; pl++)
			for (uint32_t y = 0; y < ch; y++)
				md5_update(&m, d->planes[pl].data + (size_t)y * d->planes[pl].stride,
					   cw);
	} else if (p->fourcc == V4L2_PIX_FMT_NV12) {
		for (uint32_t y = 0; y < h; y++)
			md5_update(&m, d->planes[0].data + (size_t)y * d->planes[0].stride, w);
		for (int c = 0; c < 2; c++)
			for (uint32_t y = 0; y < ch; y++) {
				const uint8_t *s = d->planes[1].data + (size_t)y * d->planes[1].stride;

				for (uint32_t x = 0; x < cw; x++)
					row[x] = s[2 * x + c];
				md5_update(&m, row, cw);
			}
	} else { /* P010 -> 10-bit little-endian */
		for (uint32_t y = 0; y < h; y++) {
			const uint8_t *s = d->planes[0].data + (size_t)y * d->planes[0].stride;

			for (uint32_t x = 0; x < w; x++) {
				unsigned int v = (s[2 * x] | s[2 * x + 1] << 8) >> 6;

				row[2 * x] = (uint8_t)v;
				row[2 * x + 1] = (uint8_t)(v >> 8);
			}
			md5_update(&m, row, (size_t)w * 2);
		}
		for (int c = 0; c < 2; c++)
			for (uint32_t y = 0; y < ch; y++) {
				const uint8_t *s = d->planes[1].data + (size_t)y * d->planes[1].stride;

				for (uint32_t x = 0; x < cw; x++) {
					const uint8_t *q = s + 4 * x + 2 * c;
					unsigned int v = (q[0] | q[1] << 8) >> 6;

					row[2 * x] = (uint8_t)v;
					row[2 * x + 1] = (uint8_t)(v >> 8);
				}
				md5_update(&m, row, (size_t)cw * 2);
			}
	}
	free(row);
	md5_hex(&m, out);
}
