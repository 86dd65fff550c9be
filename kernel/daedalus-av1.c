// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: AV1 (V4L2_PIX_FMT_AV1_FRAME): its controls, what the daemon
 * decodes of it, and where a job finds its references.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

static int daedalus_av1_validate_sequence(union v4l2_ctrl_ptr p)
{
	/* Main profile: 4:2:0 or monochrome; the depth is checked apart. */
	return p.p_av1_sequence->seq_profile ? -EINVAL : 0;
}

/* The default value has bit_depth 0. */
static u32 daedalus_av1_sequence_depth(union v4l2_ctrl_ptr p)
{
	return p.p_av1_sequence->bit_depth ?: 8;
}

static int daedalus_av1_validate_frame(union v4l2_ctrl_ptr p)
{
	const struct v4l2_ctrl_av1_frame *f = p.p_av1_frame;
	const struct v4l2_frmsize_stepwise *s = &daedalus_av1_fmt.frmsize;
	unsigned int i;

	/*
	 * Intra frames have no references: GStreamer leaves their indices
	 * at -1. The daemon checks the slots of inter frames again.
	 */
	for (i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
		if (f->frame_type != V4L2_AV1_KEY_FRAME &&
		    f->frame_type != V4L2_AV1_INTRA_ONLY_FRAME &&
		    (f->ref_frame_idx[i] < 0 ||
		     f->ref_frame_idx[i] >= V4L2_AV1_TOTAL_REFS_PER_FRAME))
			return -EINVAL;
	if (f->frame_width_minus_1 >= s->max_width ||
	    f->upscaled_width > s->max_width ||
	    f->frame_height_minus_1 >= s->max_height)
		return -EINVAL;
	return 0;
}

static const struct daedalus_ctrl_desc daedalus_av1_ctrls[] = {
	{
		.cfg.id = V4L2_CID_STATELESS_AV1_SEQUENCE,
		.validate = daedalus_av1_validate_sequence,
		.depth = daedalus_av1_sequence_depth,
	},
	{
		.cfg.id = V4L2_CID_STATELESS_AV1_FRAME,
		.need = 1,
		.validate = daedalus_av1_validate_frame,
	},
	{
		.cfg.id = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
		.cfg.flags = V4L2_CTRL_FLAG_DYNAMIC_ARRAY,
		.cfg.dims = { V4L2_AV1_MAX_TILE_COUNT },
		.need = 2,
	},
	{ .cfg.id = V4L2_CID_STATELESS_AV1_FILM_GRAIN },
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_AV1_PROFILE,
		.cfg.min = V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN,
		.cfg.max = V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN,
		.cfg.def = V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN,
	},
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_AV1_LEVEL,
		.cfg.min = V4L2_MPEG_VIDEO_AV1_LEVEL_2_0,
		.cfg.max = V4L2_MPEG_VIDEO_AV1_LEVEL_5_3,
		.cfg.def = V4L2_MPEG_VIDEO_AV1_LEVEL_5_3,
	},
};

/* The eight reference frame slots of the frame header. */
static void daedalus_av1_ref_slots(const void *p, u64 *ts, bool *used)
{
	const struct v4l2_ctrl_av1_frame *f = p;
	unsigned int i;

	for (i = 0; i < V4L2_AV1_TOTAL_REFS_PER_FRAME; i++) {
		ts[i] = f->reference_frame_ts[i];
		used[i] = true;
	}
}

/* ctx->ctrls[] holds them NULL-terminated */
static_assert(ARRAY_SIZE(daedalus_av1_ctrls) < DAEDALUS_MAX_CODEC_CTRLS);
static_assert(V4L2_AV1_TOTAL_REFS_PER_FRAME <= DAEDALUS_MAX_REFS);

/* Main profile, 8 and 10 bit. */
const struct daedalus_coded_fmt daedalus_av1_fmt = {
	.fourcc = V4L2_PIX_FMT_AV1_FRAME,
	.codec = DAEDALUS_AV1,
	.frmsize = DAEDALUS_FRMSIZE,
	.subsystem_flags = VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF,
	.ctrls = daedalus_av1_ctrls,
	.num_ctrls = ARRAY_SIZE(daedalus_av1_ctrls),
	.decoded = { &daedalus_decoded_8bit, &daedalus_decoded_10bit },
	.ref_cid = V4L2_CID_STATELESS_AV1_FRAME,
	.ref_size = sizeof(struct v4l2_ctrl_av1_frame),
	.num_refs = V4L2_AV1_TOTAL_REFS_PER_FRAME,
	.ref_slots = daedalus_av1_ref_slots,
};
