/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VP8 and VP9 for the generic engine: the controls name three references (last, golden,
 * altref) by timestamp, a key frame refreshes all of them, so the engine's own rules (every
 * reference decoded since the last key frame or flush) apply, with one more: the decoder's
 * state is chained through every frame (codec.h), so nothing decodes between a failed or
 * lost frame and the next key frame.
 */
#include "codec.h"
#include "vpx_check.h"

static const char *vpx_ref_name(unsigned int i)
{
	static const char *const names[3] = { "last", "golden", "altref" };

	return names[i < 3 ? i : 2];
}

static void vp8_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height)
{
	const struct v4l2_ctrl_vp8_frame *f = job->ctrl.vp8.frame;

	if (!f)
		return;
	*width = f->width;
	*height = f->height;
}

static void vp9_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height)
{
	const struct v4l2_ctrl_vp9_frame *f = job->ctrl.vp9.frame;

	if (!f)
		return;
	*width = f->frame_width_minus_1 + 1u;
	*height = f->frame_height_minus_1 + 1u;
}

const struct dd_codec_ops dd_codec_vp8 = {
	.codec = DD_CODEC_VP8,
	.name = "VP8",
	.check = dd_check_vp8_job,
	.ref_name = vpx_ref_name,
	.predicts_from = dd_codec_refs_predicted,
	.coded_size = vp8_coded_size,
	.chained = true,
};

const struct dd_codec_ops dd_codec_vp9 = {
	.codec = DD_CODEC_VP9,
	.name = "VP9",
	.check = dd_check_vp9_job,
	.ref_name = vpx_ref_name,
	.predicts_from = dd_codec_refs_predicted,
	.coded_size = vp9_coded_size,
	.chained = true,
};
