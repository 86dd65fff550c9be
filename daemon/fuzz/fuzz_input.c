/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/v4l2-controls.h>

#include "fuzz_input.h"

#define DESC(id, type) { (id), sizeof(type), 1 }

/* In the kernel's order (kernel/daedalus-ctrls.c), without the controls the daemon ignores. */
static const struct fz_ctrl_desc h264_ctrls[] = {
	DESC(V4L2_CID_STATELESS_H264_SPS, struct v4l2_ctrl_h264_sps),
	DESC(V4L2_CID_STATELESS_H264_PPS, struct v4l2_ctrl_h264_pps),
	DESC(V4L2_CID_STATELESS_H264_SCALING_MATRIX, struct v4l2_ctrl_h264_scaling_matrix),
	DESC(V4L2_CID_STATELESS_H264_DECODE_PARAMS, struct v4l2_ctrl_h264_decode_params),
	DESC(V4L2_CID_STATELESS_H264_START_CODE, uint32_t),
};
static const struct fz_ctrl_desc vp8_ctrls[] = {
	DESC(V4L2_CID_STATELESS_VP8_FRAME, struct v4l2_ctrl_vp8_frame),
};
static const struct fz_ctrl_desc vp9_ctrls[] = {
	DESC(V4L2_CID_STATELESS_VP9_FRAME, struct v4l2_ctrl_vp9_frame),
	DESC(V4L2_CID_STATELESS_VP9_COMPRESSED_HDR, struct v4l2_ctrl_vp9_compressed_hdr),
};
static const struct fz_ctrl_desc av1_ctrls[] = {
	DESC(V4L2_CID_STATELESS_AV1_SEQUENCE, struct v4l2_ctrl_av1_sequence),
	DESC(V4L2_CID_STATELESS_AV1_FRAME, struct v4l2_ctrl_av1_frame),
	{ V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY, sizeof(struct v4l2_ctrl_av1_tile_group_entry),
	  V4L2_AV1_MAX_TILE_COUNT },
	DESC(V4L2_CID_STATELESS_AV1_FILM_GRAIN, struct v4l2_ctrl_av1_film_grain),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

unsigned int fz_codec_ctrls(enum dd_codec codec, const struct fz_ctrl_desc **descs)
{
	switch (codec) {
	case DD_CODEC_H264:
		*descs = h264_ctrls;
		return COUNT(h264_ctrls);
	case DD_CODEC_VP8:
		*descs = vp8_ctrls;
		return COUNT(vp8_ctrls);
	case DD_CODEC_VP9:
		*descs = vp9_ctrls;
		return COUNT(vp9_ctrls);
	case DD_CODEC_AV1:
		*descs = av1_ctrls;
		return COUNT(av1_ctrls);
	default:
		*descs = NULL;
		return 0;
	}
}

bool fz_read(struct fz_reader *r, void *dst, size_t len)
{
	size_t got;
	const uint8_t *p = fz_take(r, len, &got);

	memcpy(dst, p, got);
	memset((uint8_t *)dst + got, 0, len - got);
	return got == len;
}

const uint8_t *fz_take(struct fz_reader *r, size_t len, size_t *got)
{
	const uint8_t *p = r->data + r->pos;
	size_t left = r->size - r->pos;

	*got = len < left ? len : left;
	r->pos += *got;
	return p;
}

bool fz_at_end(const struct fz_reader *r)
{
	return r->pos >= r->size;
}

void fz_write(struct fz_writer *w, const void *src, size_t len)
{
	if (w->size + len > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap < w->size + len)
			cap *= 2;
		w->data = realloc(w->data, cap);
		if (!w->data) {
			fprintf(stderr, "fz_write: out of memory\n");
			abort();
		}
		w->cap = cap;
	}
	memcpy(w->data + w->size, src, len);
	w->size += len;
}

void fz_writer_free(struct fz_writer *w)
{
	free(w->data);
	*w = (struct fz_writer){ 0 };
}
