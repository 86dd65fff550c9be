// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: H.264 (V4L2_PIX_FMT_H264_SLICE): its controls, what the
 * daemon decodes of it, and where a job finds its references.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

static int daedalus_h264_validate_sps(union v4l2_ctrl_ptr p)
{
	const struct v4l2_ctrl_h264_sps *sps = p.p_h264_sps;
	u32 width = (sps->pic_width_in_mbs_minus1 + 1) * 16;
	u32 height = (sps->pic_height_in_map_units_minus1 + 1) * 16;

	if (!(sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY))
		height *= 2;
	/* 4:2:0 or monochrome (decoded as grey 4:2:0); the depth is checked apart. */
	if (sps->chroma_format_idc > 1)
		return -EINVAL;
	if (sps->bit_depth_luma_minus8 != sps->bit_depth_chroma_minus8)
		return -EINVAL;
	if (!daedalus_size_ok(&daedalus_h264_fmt, width, height))
		return -EINVAL;
	return 0;
}

static u32 daedalus_h264_sps_depth(union v4l2_ctrl_ptr p)
{
	return p.p_h264_sps->bit_depth_luma_minus8 + 8;
}

/*
 * Clients take the menu's current value (GStreamer) or its default (FFmpeg):
 * the module parameters choose the mode they use (see daedalus-core.c).
 */
static s64 daedalus_h264_decode_mode_def(void)
{
	return daedalus_h264_slice_based ?
	       V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED :
	       V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED;
}

static s64 daedalus_h264_start_code_def(void)
{
	return daedalus_h264_no_start_code ?
	       V4L2_STATELESS_H264_START_CODE_NONE :
	       V4L2_STATELESS_H264_START_CODE_ANNEX_B;
}

static const struct daedalus_ctrl_desc daedalus_h264_ctrls[] = {
	{
		.cfg.id = V4L2_CID_STATELESS_H264_SPS,
		.validate = daedalus_h264_validate_sps,
		.depth = daedalus_h264_sps_depth,
	},
	{ .cfg.id = V4L2_CID_STATELESS_H264_PPS },
	{ .cfg.id = V4L2_CID_STATELESS_H264_SCALING_MATRIX },
	/* Frame mode sends DECODE_PARAMS, slice mode SLICE_PARAMS per slice. */
	{ .cfg.id = V4L2_CID_STATELESS_H264_DECODE_PARAMS, .need = 1 },
	{ .cfg.id = V4L2_CID_STATELESS_H264_SLICE_PARAMS, .need = 1 },
	{ .cfg.id = V4L2_CID_STATELESS_H264_PRED_WEIGHTS },
	/* Frame based + Annex B by default: what GStreamer, FFmpeg, Chromium use. */
	{
		.cfg.id = V4L2_CID_STATELESS_H264_DECODE_MODE,
		.cfg.min = V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED,
		.cfg.max = V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED,
		.cfg.def = V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED,
		.def = daedalus_h264_decode_mode_def,
	},
	{
		.cfg.id = V4L2_CID_STATELESS_H264_START_CODE,
		.cfg.min = V4L2_STATELESS_H264_START_CODE_NONE,
		.cfg.max = V4L2_STATELESS_H264_START_CODE_ANNEX_B,
		.cfg.def = V4L2_STATELESS_H264_START_CODE_ANNEX_B,
		.def = daedalus_h264_start_code_def,
	},
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_H264_PROFILE,
		.cfg.min = V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE,
		.cfg.max = V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_10,
		.cfg.def = V4L2_MPEG_VIDEO_H264_PROFILE_HIGH,
		.cfg.menu_skip_mask = BIT(V4L2_MPEG_VIDEO_H264_PROFILE_EXTENDED),
	},
	{
		.cfg.id = V4L2_CID_MPEG_VIDEO_H264_LEVEL,
		.cfg.min = V4L2_MPEG_VIDEO_H264_LEVEL_1_0,
		.cfg.max = V4L2_MPEG_VIDEO_H264_LEVEL_5_2,
		.cfg.def = V4L2_MPEG_VIDEO_H264_LEVEL_5_2,
	},
};

/* The DPB: every entry marked valid is a slot the picture may use. */
static void daedalus_h264_ref_slots(const void *p, u64 *ts, bool *used)
{
	const struct v4l2_ctrl_h264_decode_params *dp = p;
	unsigned int i;

	for (i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++) {
		ts[i] = dp->dpb[i].reference_ts;
		used[i] = dp->dpb[i].flags & V4L2_H264_DPB_ENTRY_FLAG_VALID;
	}
}

/* ctx->ctrls[] holds them NULL-terminated */
static_assert(ARRAY_SIZE(daedalus_h264_ctrls) < DAEDALUS_MAX_CODEC_CTRLS);
static_assert(V4L2_H264_NUM_DPB_ENTRIES <= DAEDALUS_MAX_REFS);

/*
 * HOLD_CAPTURE_BUF is what H.264 slices and field pairs need; the other
 * codecs offer it too, because Raspberry Pi's FFmpeg rejects a device whose
 * OUTPUT queue does not report it, whatever the codec.
 */
const struct daedalus_coded_fmt daedalus_h264_fmt = {
	.fourcc = V4L2_PIX_FMT_H264_SLICE,
	.codec = DAEDALUS_H264,
	.frmsize = DAEDALUS_FRMSIZE,
	.subsystem_flags = VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF,
	.ctrls = daedalus_h264_ctrls,
	.num_ctrls = ARRAY_SIZE(daedalus_h264_ctrls),
	.decoded = { &daedalus_decoded_8bit, &daedalus_decoded_10bit },
	.ref_cid = V4L2_CID_STATELESS_H264_DECODE_PARAMS,
	.ref_size = sizeof(struct v4l2_ctrl_h264_decode_params),
	.num_refs = V4L2_H264_NUM_DPB_ENTRIES,
	.ref_slots = daedalus_h264_ref_slots,
};
