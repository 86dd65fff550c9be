// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: VP8 (V4L2_PIX_FMT_VP8_FRAME): its controls, what the daemon
 * decodes of it, and where a job finds its references.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

static int daedalus_vp8_validate_frame(union v4l2_ctrl_ptr p)
{
	const struct v4l2_ctrl_vp8_frame *f = p.p_vp8_frame;

	return daedalus_size_ok(&daedalus_vp8_fmt, f->width, f->height) ?
	       0 : -EINVAL;
}

static const struct daedalus_ctrl_desc daedalus_vp8_ctrls[] = {
	{
		.cfg.id = V4L2_CID_STATELESS_VP8_FRAME,
		.need = 1,
		.validate = daedalus_vp8_validate_frame,
	},
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_VP8_PROFILE,
		.cfg.min = V4L2_MPEG_VIDEO_VP8_PROFILE_0,
		.cfg.max = V4L2_MPEG_VIDEO_VP8_PROFILE_3,
		.cfg.def = V4L2_MPEG_VIDEO_VP8_PROFILE_0,
	},
};

/* Last, golden and altref frame, all three always named. */
static void daedalus_vp8_ref_slots(const void *p, u64 *ts, bool *used)
{
	const struct v4l2_ctrl_vp8_frame *f = p;

	ts[0] = f->last_frame_ts;
	ts[1] = f->golden_frame_ts;
	ts[2] = f->alt_frame_ts;
	used[0] = true;
	used[1] = true;
	used[2] = true;
}

/* ctx->ctrls[] holds them NULL-terminated */
static_assert(ARRAY_SIZE(daedalus_vp8_ctrls) < DAEDALUS_MAX_CODEC_CTRLS);

/* 8 bit only: VP8 has no other depth. */
const struct daedalus_coded_fmt daedalus_vp8_fmt = {
	.fourcc = V4L2_PIX_FMT_VP8_FRAME,
	.codec = DAEDALUS_VP8,
	.frmsize = DAEDALUS_FRMSIZE,
	.subsystem_flags = VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF,
	.ctrls = daedalus_vp8_ctrls,
	.num_ctrls = ARRAY_SIZE(daedalus_vp8_ctrls),
	.decoded = { &daedalus_decoded_8bit },
	.ref_cid = V4L2_CID_STATELESS_VP8_FRAME,
	.ref_size = sizeof(struct v4l2_ctrl_vp8_frame),
	.num_refs = 3,
	.ref_slots = daedalus_vp8_ref_slots,
};
