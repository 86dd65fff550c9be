/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AV1 for the generic engine. A frame predicts from up to 7 of the 8 reference slots
 * (ref_frame_idx), each slot naming the picture it holds by timestamp. The dav1d backend
 * keeps the slots and checks them (it knows which picture each holds), so the check here
 * lists no references; what the slots name is still what a job in flight depends on.
 */
#include <linux/videodev2.h>

#include "av1_check.h"
#include "codec.h"

/* The pictures in the slots the frame uses: a key or intra-only frame uses none. */
static unsigned int av1_predicts_from(const struct dd_job *job, const struct dd_expectation *x,
				      uint64_t ts[DD_MAX_JOB_REFS])
{
	const struct v4l2_ctrl_av1_frame *f = job->ctrl.av1.frame;
	unsigned int n = 0;

	(void)x;
	if (f->frame_type == V4L2_AV1_KEY_FRAME || f->frame_type == V4L2_AV1_INTRA_ONLY_FRAME)
		return 0;
	for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++) {
		int idx = f->ref_frame_idx[i];

		if (idx >= 0 && idx < V4L2_AV1_TOTAL_REFS_PER_FRAME &&
		    f->reference_frame_ts[idx] != job->timestamp)
			ts[n++] = f->reference_frame_ts[idx];
	}
	return n;
}

/* The decoder outputs the upscaled picture when superres is on. */
static void av1_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height)
{
	const struct v4l2_ctrl_av1_frame *f = job->ctrl.av1.frame;

	if (!f)
		return;
	*width = f->upscaled_width ? f->upscaled_width : f->frame_width_minus_1 + 1u;
	*height = f->frame_height_minus_1 + 1u;
}

const struct dd_codec_ops dd_codec_av1 = {
	.codec = DD_CODEC_AV1,
	.name = "AV1",
	.check = dd_check_av1_job,
	.predicts_from = av1_predicts_from,
	.coded_size = av1_coded_size,
};
