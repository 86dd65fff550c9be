/* SPDX-License-Identifier: BSD-2-Clause */
#include <limits.h>
#include <string.h>

#include <linux/videodev2.h>

#include "error.h"
#include "picture.h"
#include "picture_rows.h"

unsigned int dd_fourcc_bit_depth(uint32_t fourcc)
{
	switch (fourcc) {
	case V4L2_PIX_FMT_NV12:
	case V4L2_PIX_FMT_YUV420M:
		return 8;
	case V4L2_PIX_FMT_P010:
		return 10;
	default:
		return 0;
	}
}

const char *dd_fourcc_name(uint32_t fourcc, char buf[8])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)((fourcc >> (8 * i)) & 0xff);

		buf[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

struct plane_need {
	uint64_t row_bytes;
	uint64_t rows;
};

/* The bytes each plane of fourcc needs for a w x h frame. Returns the plane count or 0. */
static unsigned int plane_needs(uint32_t fourcc, uint32_t w, uint32_t h,
				struct plane_need need[DD_MAX_PLANES])
{
	uint64_t cw = ((uint64_t)w + 1) / 2, ch = ((uint64_t)h + 1) / 2;

	switch (fourcc) {
	case V4L2_PIX_FMT_NV12:
		need[0] = (struct plane_need){ w, h };
		need[1] = (struct plane_need){ cw * 2, ch };
		return 2;
	case V4L2_PIX_FMT_P010:
		need[0] = (struct plane_need){ (uint64_t)w * 2, h };
		need[1] = (struct plane_need){ cw * 4, ch };
		return 2;
	case V4L2_PIX_FMT_YUV420M:
		need[0] = (struct plane_need){ w, h };
		need[1] = (struct plane_need){ cw, ch };
		need[2] = (struct plane_need){ cw, ch };
		return 3;
	default:
		return 0;
	}
}

int dd_picture_check(const struct dd_picture *dst, uint32_t width, uint32_t height,
		     unsigned int bit_depth, struct dd_error *err)
{
	struct plane_need need[DD_MAX_PLANES];
	unsigned int n;
	char name[8];

	if (!dst)
		return dd_fail(err, "no destination picture");
	n = plane_needs(dst->fourcc, width, height, need);
	if (!n)
		return dd_fail(err, "unsupported capture format %s",
			       dd_fourcc_name(dst->fourcc, name));
	if (dd_fourcc_bit_depth(dst->fourcc) != bit_depth)
		return dd_fail(err, "capture format %s cannot hold a %u-bit picture",
			       dd_fourcc_name(dst->fourcc, name), bit_depth);
	if (dst->num_planes != n)
		return dd_fail(err, "capture format %s needs %u planes, got %u",
			       dd_fourcc_name(dst->fourcc, name), n, dst->num_planes);
	if (width == 0 || height == 0)
		return dd_fail(err, "empty frame size %ux%u", width, height);
	if (width > dst->width || height > dst->height)
		return dd_fail(err, "frame %ux%u does not fit the %ux%u capture buffer", width,
			       height, dst->width, dst->height);
	for (unsigned int i = 0; i < n; i++) {
		const struct dd_plane *p = &dst->planes[i];

		if (!p->data)
			return dd_fail(err, "capture plane %u is not mapped", i);
		if (p->stride < need[i].row_bytes)
			return dd_fail(err, "capture plane %u stride %u < %llu bytes per line", i,
				       p->stride, (unsigned long long)need[i].row_bytes);
		/* the last line only needs its own bytes, not a whole stride */
		if ((uint64_t)p->stride * (need[i].rows - 1) + need[i].row_bytes > p->size)
			return dd_fail(err, "capture plane %u has %zu bytes, %ux%u needs more", i,
				       p->size, width, height);
	}
	return 0;
}

/* Each plane's rows, with the row kernels of picture_rows.c (streaming stores where the CPU has them). */
static void copy_plane(uint8_t *dst, uint32_t dst_stride, const uint8_t *src,
		       ptrdiff_t src_stride, size_t row_bytes, uint32_t rows)
{
	for (uint32_t y = 0; y < rows; y++)
		dd_row_copy(dst + (size_t)y * dst_stride, src + y * src_stride, row_bytes);
}

static void interleave8(uint8_t *dst, uint32_t dst_stride, const uint8_t *u, ptrdiff_t us,
			const uint8_t *v, ptrdiff_t vs, uint32_t cw, uint32_t ch)
{
	for (uint32_t y = 0; y < ch; y++)
		dd_row_interleave8(dst + (size_t)y * dst_stride, u + y * us, v + y * vs, cw);
}

static void luma_to_p010(uint8_t *dst, uint32_t dst_stride, const uint8_t *src, ptrdiff_t ss,
			 uint32_t w, uint32_t h, unsigned int shift)
{
	for (uint32_t y = 0; y < h; y++)
		dd_row_p010(dst + (size_t)y * dst_stride,
			    (const uint16_t *)(const void *)(src + y * ss), w, shift);
}

static void chroma_to_p010(uint8_t *dst, uint32_t dst_stride, const uint8_t *u, ptrdiff_t us,
			   const uint8_t *v, ptrdiff_t vs, uint32_t cw, uint32_t ch,
			   unsigned int shift)
{
	for (uint32_t y = 0; y < ch; y++)
		dd_row_p010_chroma(dst + (size_t)y * dst_stride,
				   (const uint16_t *)(const void *)(u + y * us),
				   (const uint16_t *)(const void *)(v + y * vs), cw, shift);
}

int dd_picture_write(const struct dd_picture *dst, const struct dd_yuv420 *src,
		     struct dd_error *err)
{
	uint32_t w = src->width, h = src->height;
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	const struct dd_plane *p;

	if (dd_picture_check(dst, w, h, src->bit_depth, err))
		return -1;
	p = dst->planes;

	switch (dst->fourcc) {
	case V4L2_PIX_FMT_NV12:
		copy_plane(p[0].data, p[0].stride, src->data[0], src->stride[0], w, h);
		interleave8(p[1].data, p[1].stride, src->data[1], src->stride[1], src->data[2],
			    src->stride[2], cw, ch);
		dd_rows_done();
		return 0;
	case V4L2_PIX_FMT_YUV420M:
		copy_plane(p[0].data, p[0].stride, src->data[0], src->stride[0], w, h);
		copy_plane(p[1].data, p[1].stride, src->data[1], src->stride[1], cw, ch);
		copy_plane(p[2].data, p[2].stride, src->data[2], src->stride[2], cw, ch);
		dd_rows_done();
		return 0;
	case V4L2_PIX_FMT_P010:
		luma_to_p010(p[0].data, p[0].stride, src->data[0], src->stride[0], w, h,
			     16 - src->bit_depth);
		chroma_to_p010(p[1].data, p[1].stride, src->data[1], src->stride[1],
			       src->data[2], src->stride[2], cw, ch, 16 - src->bit_depth);
		dd_rows_done();
		return 0;
	default:
		return dd_fail(err, "unsupported capture format");
	}
}

int dd_picture_write_field(const struct dd_picture *dst, const struct dd_yuv420 *src,
			   bool bottom, struct dd_error *err)
{
	struct dd_picture fd = *dst;
	struct dd_yuv420 fs = *src;
	unsigned int skip = bottom ? 1 : 0;

	/* a frame of 2n lines (chroma n) whose lines alternate between the fields */
	if (src->height % 4 || dst->height % 2)
		return dd_fail(err, "field of a %u-line frame", src->height);
	if (dd_picture_check(dst, src->width, src->height, src->bit_depth, err))
		return -1;
	for (unsigned int i = 0; i < dst->num_planes; i++)
		if (dst->planes[i].stride > UINT32_MAX / 2)
			return dd_fail(err, "capture plane %u stride %u is too large", i,
				       dst->planes[i].stride);
	fd.height = dst->height / 2;
	fs.height = src->height / 2;
	for (unsigned int i = 0; i < dst->num_planes; i++) {
		fd.planes[i].data += (size_t)dst->planes[i].stride * skip;
		fd.planes[i].size -= (size_t)dst->planes[i].stride * skip;
		fd.planes[i].stride = dst->planes[i].stride * 2;
	}
	for (unsigned int i = 0; i < 3; i++) {
		fs.data[i] += src->stride[i] * skip;
		fs.stride[i] = src->stride[i] * 2;
	}
	return dd_picture_write(&fd, &fs, err);
}
