// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: VP9 (V4L2_PIX_FMT_VP9_FRAME): its controls, what the daemon
 * decodes of it, and where a job finds its references.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

static int daedalus_vp9_validate_frame(union v4l2_ctrl_ptr p)
{
	const struct v4l2_ctrl_vp9_frame *f = p.p_vp9_frame;

	/* Profiles 1 and 3 are 4:2:2 / 4:4:0 / 4:4:4; the depth is checked apart. */
	if (f->profile != 0 && f->profile != 2)
		return -EINVAL;
	if (!daedalus_size_ok(&daedalus_vp9_fmt, f->frame_width_minus_1 + 1U,
			      f->frame_height_minus_1 + 1U))
		return -EINVAL;
	return 0;
}

/* The default value has bit_depth 0. */
static u32 daedalus_vp9_frame_depth(union v4l2_ctrl_ptr p)
{
	return p.p_vp9_frame->bit_depth ?: 8;
}

static const struct daedalus_ctrl_desc daedalus_vp9_ctrls[] = {
	{
		.cfg.id = V4L2_CID_STATELESS_VP9_FRAME,
		.need = 1,
		.validate = daedalus_vp9_validate_frame,
		.depth = daedalus_vp9_frame_depth,
	},
	{ .cfg.id = V4L2_CID_STATELESS_VP9_COMPRESSED_HDR },
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_VP9_PROFILE,
		.cfg.min = V4L2_MPEG_VIDEO_VP9_PROFILE_0,
		.cfg.max = V4L2_MPEG_VIDEO_VP9_PROFILE_2,
		.cfg.def = V4L2_MPEG_VIDEO_VP9_PROFILE_0,
		.cfg.menu_skip_mask = BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_1),
	},
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_VP9_LEVEL,
		.cfg.min = V4L2_MPEG_VIDEO_VP9_LEVEL_1_0,
		.cfg.max = V4L2_MPEG_VIDEO_VP9_LEVEL_5_2,
		.cfg.def = V4L2_MPEG_VIDEO_VP9_LEVEL_5_2,
	},
};

/* Last, golden and altref frame, all three always named. */
static void daedalus_vp9_ref_slots(const void *p, u64 *ts, bool *used)
{
	const struct v4l2_ctrl_vp9_frame *f = p;

	ts[0] = f->last_frame_ts;
	ts[1] = f->golden_frame_ts;
	ts[2] = f->alt_frame_ts;
	used[0] = true;
	used[1] = true;
	used[2] = true;
}

/* ctx->ctrls[] holds them NULL-terminated */
static_assert(ARRAY_SIZE(daedalus_vp9_ctrls) < DAEDALUS_MAX_CODEC_CTRLS);

/* Profile 0 (8 bit) and 2 (10 bit). */
const struct daedalus_coded_fmt daedalus_vp9_fmt = {
	.fourcc = V4L2_PIX_FMT_VP9_FRAME,
	.codec = DAEDALUS_VP9,
	.frmsize = DAEDALUS_FRMSIZE,
	.subsystem_flags = VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF,
	.ctrls = daedalus_vp9_ctrls,
	.num_ctrls = ARRAY_SIZE(daedalus_vp9_ctrls),
	.decoded = { &daedalus_decoded_8bit, &daedalus_decoded_10bit },
	.ref_cid = V4L2_CID_STATELESS_VP9_FRAME,
	.ref_size = sizeof(struct v4l2_ctrl_vp9_frame),
	.num_refs = 3,
	.ref_slots = daedalus_vp9_ref_slots,
};
