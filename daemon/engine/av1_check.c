/* SPDX-License-Identifier: BSD-2-Clause */
#include "av1_check.h"
#include "error.h"

int dd_check_av1_job(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err)
{
	const struct v4l2_ctrl_av1_sequence *seq = job->ctrl.av1.sequence;
	const struct v4l2_ctrl_av1_frame *f = job->ctrl.av1.frame;
	bool superres;

	if (!seq || !f)
		return dd_fail(err, "AV1 job without SEQUENCE or FRAME control");
	if (!job->ctrl.av1.tiles || !job->ctrl.av1.num_tiles)
		return dd_fail(err, "AV1 job without TILE_GROUP_ENTRY elements");
	superres = (seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES) &&
		   (f->flags & V4L2_AV1_FRAME_FLAG_USE_SUPERRES) && f->upscaled_width;
	/* the decoder outputs the upscaled picture */
	x->width = superres ? f->upscaled_width : f->frame_width_minus_1 + 1u;
	x->height = f->frame_height_minus_1 + 1u;
	x->bit_depth = seq->bit_depth;
	x->profile = seq->seq_profile;
	/* a shown key frame refreshes every slot: nothing before it can be referenced */
	x->key_frame = f->frame_type == V4L2_AV1_KEY_FRAME &&
		       (f->flags & V4L2_AV1_FRAME_FLAG_SHOW_FRAME);
	x->num_refs = 0;
	return 0;
}
