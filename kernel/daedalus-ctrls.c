// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: codec controls, their validation, and request validation.
 *
 * try_ctrl rejects what the daemon cannot decode (4:2:2, 4:4:4, 12 bit,
 * sizes beyond the limits) and indices the V4L2 core does not check. It has
 * no side effects and accepts every control's default value, since
 * applications round-trip the current values through TRY/S_EXT_CTRLS.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

/**
 * struct daedalus_ctrl_desc - a control of one codec
 * @cfg:	control configuration (standard ids only need @cfg.id)
 * @codec:	the codec it belongs to
 * @required:	must be part of every request of this codec
 */
struct daedalus_ctrl_desc {
	struct v4l2_ctrl_config cfg;
	enum daedalus_codec codec;
	bool required;
};

static int daedalus_depth(unsigned int depth)
{
	if (depth == 0 || depth == 8)
		return 8;
	if (depth == 10)
		return 10;
	return -EINVAL;
}

static bool daedalus_size_ok(u32 width, u32 height)
{
	return width <= DAEDALUS_MAX_WIDTH && height <= DAEDALUS_MAX_HEIGHT;
}

static int daedalus_try_h264_sps(const struct v4l2_ctrl_h264_sps *sps)
{
	u32 width = (sps->pic_width_in_mbs_minus1 + 1) * 16;
	u32 height = (sps->pic_height_in_map_units_minus1 + 1) * 16;

	if (!(sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY))
		height *= 2;
	/* 4:2:0 or monochrome (decoded as grey 4:2:0), 8 or 10 bit. */
	if (sps->chroma_format_idc > 1)
		return -EINVAL;
	if (sps->bit_depth_luma_minus8 != sps->bit_depth_chroma_minus8)
		return -EINVAL;
	if (daedalus_depth(sps->bit_depth_luma_minus8 + 8) < 0)
		return -EINVAL;
	if (!daedalus_size_ok(width, height))
		return -EINVAL;
	return 0;
}

static int daedalus_try_vp8_frame(const struct v4l2_ctrl_vp8_frame *f)
{
	return daedalus_size_ok(f->width, f->height) ? 0 : -EINVAL;
}

static int daedalus_try_vp9_frame(const struct v4l2_ctrl_vp9_frame *f)
{
	/* Profiles 1 and 3 are 4:2:2 / 4:4:0 / 4:4:4. */
	if (f->profile != 0 && f->profile != 2)
		return -EINVAL;
	if (daedalus_depth(f->bit_depth) < 0)
		return -EINVAL;
	if (!daedalus_size_ok(f->frame_width_minus_1 + 1U,
			      f->frame_height_minus_1 + 1U))
		return -EINVAL;
	return 0;
}

static int daedalus_try_av1_sequence(const struct v4l2_ctrl_av1_sequence *s)
{
	/* Main profile: 4:2:0 or monochrome, 8 or 10 bit. */
	if (s->seq_profile != 0)
		return -EINVAL;
	return daedalus_depth(s->bit_depth) < 0 ? -EINVAL : 0;
}

static int daedalus_try_av1_frame(const struct v4l2_ctrl_av1_frame *f)
{
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
	if (f->frame_width_minus_1 >= DAEDALUS_MAX_WIDTH ||
	    f->upscaled_width > DAEDALUS_MAX_WIDTH ||
	    f->frame_height_minus_1 >= DAEDALUS_MAX_HEIGHT)
		return -EINVAL;
	return 0;
}

static int daedalus_try_ctrl(struct v4l2_ctrl *ctrl)
{
	switch (ctrl->id) {
	case V4L2_CID_STATELESS_H264_SPS:
		return daedalus_try_h264_sps(ctrl->p_new.p_h264_sps);
	case V4L2_CID_STATELESS_VP8_FRAME:
		return daedalus_try_vp8_frame(ctrl->p_new.p_vp8_frame);
	case V4L2_CID_STATELESS_VP9_FRAME:
		return daedalus_try_vp9_frame(ctrl->p_new.p_vp9_frame);
	case V4L2_CID_STATELESS_AV1_SEQUENCE:
		return daedalus_try_av1_sequence(ctrl->p_new.p_av1_sequence);
	case V4L2_CID_STATELESS_AV1_FRAME:
		return daedalus_try_av1_frame(ctrl->p_new.p_av1_frame);
	}
	return 0;
}

/* Bit depth a control value announces, or 0 if it says nothing about it. */
static int daedalus_ctrl_depth(u32 id, union v4l2_ctrl_ptr p)
{
	switch (id) {
	case V4L2_CID_STATELESS_H264_SPS:
		return daedalus_depth(p.p_h264_sps->bit_depth_luma_minus8 + 8);
	case V4L2_CID_STATELESS_VP9_FRAME:
		return daedalus_depth(p.p_vp9_frame->bit_depth);
	case V4L2_CID_STATELESS_AV1_SEQUENCE:
		return daedalus_depth(p.p_av1_sequence->bit_depth);
	}
	return 0;
}

static const u32 daedalus_depth_ctrl[DAEDALUS_NUM_CODECS] = {
	[DAEDALUS_H264] = V4L2_CID_STATELESS_H264_SPS,
	[DAEDALUS_VP9] = V4L2_CID_STATELESS_VP9_FRAME,
	[DAEDALUS_AV1] = V4L2_CID_STATELESS_AV1_SEQUENCE,
};

/*
 * The CAPTURE formats follow the bit depth of the stream (spec'd flow:
 * S_FMT(OUTPUT), set SPS / frame / sequence, G_FMT(CAPTURE)). Allocated
 * CAPTURE buffers have the old depth's layout (NV12 is half the size of
 * P010), so a change of depth is refused while they exist, as rkvdec does:
 * the application frees them (REQBUFS 0) and sets the control again, which
 * is what GStreamer's v4l2codecs does on a new sequence. A request carrying
 * such a change fails its job (daedalus_device_run()).
 */
static int daedalus_apply_depth(struct daedalus_ctx *ctx, int depth)
{
	struct vb2_queue *cap_q;

	if (depth <= 0 || depth == ctx->bit_depth)
		return 0;
	if (ctx->fh.m2m_ctx) {
		cap_q = v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx);
		if (vb2_is_busy(cap_q))
			return -EBUSY;
	}
	ctx->bit_depth = depth;
	if (ctx->fh.m2m_ctx)
		daedalus_reset_cap_format(ctx);
	return 0;
}

static int daedalus_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct daedalus_ctx *ctx = ctrl->priv;

	/* s_ctrl sees the value being applied in p_new, p_cur is the old one. */
	if (ctx->coded && daedalus_depth_ctrl[ctx->coded->codec] == ctrl->id)
		return daedalus_apply_depth(ctx, daedalus_ctrl_depth(ctrl->id,
								     ctrl->p_new));
	return 0;
}

/**
 * daedalus_ctrls_update_depth() - take the bit depth of the current codec
 * @ctx: the context, with the OUTPUT format just changed
 */
void daedalus_ctrls_update_depth(struct daedalus_ctx *ctx)
{
	u32 id = daedalus_depth_ctrl[ctx->coded->codec];
	struct v4l2_ctrl *ctrl;
	int depth = 8;

	ctrl = id ? v4l2_ctrl_find(&ctx->hdl, id) : NULL;
	if (ctrl) {
		v4l2_ctrl_lock(ctrl);
		depth = daedalus_ctrl_depth(id, ctrl->p_cur);
		v4l2_ctrl_unlock(ctrl);
	}
	ctx->bit_depth = depth > 0 ? depth : 8;
}

static const struct v4l2_ctrl_ops daedalus_ctrl_ops = {
	.try_ctrl = daedalus_try_ctrl,
	.s_ctrl = daedalus_s_ctrl,
};

#define CTRL(_codec, _id, _req) { \
	.cfg = { .id = (_id), .ops = &daedalus_ctrl_ops }, \
	.codec = (_codec), .required = (_req) }

#define MENU(_codec, _id, _min, _max, _def, _skip) { \
	.cfg = { .id = (_id), .ops = &daedalus_ctrl_ops, .min = (_min), \
		 .max = (_max), .def = (_def), .menu_skip_mask = (_skip) }, \
	.codec = (_codec) }

static const struct daedalus_ctrl_desc daedalus_ctrl_descs[] = {
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_SPS, false),
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_PPS, false),
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_SCALING_MATRIX, false),
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_DECODE_PARAMS, false),
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_SLICE_PARAMS, false),
	CTRL(DAEDALUS_H264, V4L2_CID_STATELESS_H264_PRED_WEIGHTS, false),
	/* Frame based + Annex B by default: what GStreamer, FFmpeg, Chromium use. */
	MENU(DAEDALUS_H264, V4L2_CID_STATELESS_H264_DECODE_MODE,
	     V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED,
	     V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED,
	     V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED, 0),
	MENU(DAEDALUS_H264, V4L2_CID_STATELESS_H264_START_CODE,
	     V4L2_STATELESS_H264_START_CODE_NONE,
	     V4L2_STATELESS_H264_START_CODE_ANNEX_B,
	     V4L2_STATELESS_H264_START_CODE_ANNEX_B, 0),
	MENU(DAEDALUS_H264, V4L2_CID_MPEG_VIDEO_H264_PROFILE,
	     V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE,
	     V4L2_MPEG_VIDEO_H264_PROFILE_HIGH_10,
	     V4L2_MPEG_VIDEO_H264_PROFILE_HIGH,
	     BIT(V4L2_MPEG_VIDEO_H264_PROFILE_EXTENDED)),
	MENU(DAEDALUS_H264, V4L2_CID_MPEG_VIDEO_H264_LEVEL,
	     V4L2_MPEG_VIDEO_H264_LEVEL_1_0, V4L2_MPEG_VIDEO_H264_LEVEL_5_2,
	     V4L2_MPEG_VIDEO_H264_LEVEL_5_2, 0),

	CTRL(DAEDALUS_VP8, V4L2_CID_STATELESS_VP8_FRAME, true),
	MENU(DAEDALUS_VP8, V4L2_CID_MPEG_VIDEO_VP8_PROFILE,
	     V4L2_MPEG_VIDEO_VP8_PROFILE_0, V4L2_MPEG_VIDEO_VP8_PROFILE_3,
	     V4L2_MPEG_VIDEO_VP8_PROFILE_0, 0),

	CTRL(DAEDALUS_VP9, V4L2_CID_STATELESS_VP9_FRAME, true),
	CTRL(DAEDALUS_VP9, V4L2_CID_STATELESS_VP9_COMPRESSED_HDR, false),
	MENU(DAEDALUS_VP9, V4L2_CID_MPEG_VIDEO_VP9_PROFILE,
	     V4L2_MPEG_VIDEO_VP9_PROFILE_0, V4L2_MPEG_VIDEO_VP9_PROFILE_2,
	     V4L2_MPEG_VIDEO_VP9_PROFILE_0, BIT(V4L2_MPEG_VIDEO_VP9_PROFILE_1)),
	MENU(DAEDALUS_VP9, V4L2_CID_MPEG_VIDEO_VP9_LEVEL,
	     V4L2_MPEG_VIDEO_VP9_LEVEL_1_0, V4L2_MPEG_VIDEO_VP9_LEVEL_5_2,
	     V4L2_MPEG_VIDEO_VP9_LEVEL_5_2, 0),

	CTRL(DAEDALUS_AV1, V4L2_CID_STATELESS_AV1_SEQUENCE, false),
	CTRL(DAEDALUS_AV1, V4L2_CID_STATELESS_AV1_FRAME, true),
	{
		.cfg = {
			.id = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
			.ops = &daedalus_ctrl_ops,
			.flags = V4L2_CTRL_FLAG_DYNAMIC_ARRAY,
			.dims = { V4L2_AV1_MAX_TILE_COUNT },
		},
		.codec = DAEDALUS_AV1,
		.required = true,
	},
	CTRL(DAEDALUS_AV1, V4L2_CID_STATELESS_AV1_FILM_GRAIN, false),
	MENU(DAEDALUS_AV1, V4L2_CID_MPEG_VIDEO_AV1_PROFILE,
	     V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN, V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN,
	     V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN, 0),
	MENU(DAEDALUS_AV1, V4L2_CID_MPEG_VIDEO_AV1_LEVEL,
	     V4L2_MPEG_VIDEO_AV1_LEVEL_2_0, V4L2_MPEG_VIDEO_AV1_LEVEL_5_3,
	     V4L2_MPEG_VIDEO_AV1_LEVEL_5_3, 0),
};

int daedalus_ctrls_init(struct daedalus_ctx *ctx)
{
	unsigned int n[DAEDALUS_NUM_CODECS] = { };
	struct v4l2_ctrl_handler *hdl = &ctx->hdl;
	unsigned int i;
	int ret;

	v4l2_ctrl_handler_init(hdl, ARRAY_SIZE(daedalus_ctrl_descs));
	for (i = 0; i < ARRAY_SIZE(daedalus_ctrl_descs); i++) {
		const struct daedalus_ctrl_desc *d = &daedalus_ctrl_descs[i];
		struct v4l2_ctrl_config cfg = d->cfg;
		struct v4l2_ctrl *ctrl;

		if (cfg.id == V4L2_CID_STATELESS_H264_DECODE_MODE &&
		    daedalus_h264_slice_based)
			cfg.def = V4L2_STATELESS_H264_DECODE_MODE_SLICE_BASED;
		if (cfg.id == V4L2_CID_STATELESS_H264_START_CODE &&
		    daedalus_h264_no_start_code)
			cfg.def = V4L2_STATELESS_H264_START_CODE_NONE;
		ctrl = v4l2_ctrl_new_custom(hdl, &cfg, ctx);
		if (!ctrl)
			break;
		if (n[d->codec] < DAEDALUS_MAX_CODEC_CTRLS - 1)
			ctx->ctrls[d->codec][n[d->codec]++] = ctrl;
	}
	ret = hdl->error;
	if (ret) {
		v4l2_ctrl_handler_free(hdl);
		return ret;
	}
	ctx->fh.ctrl_handler = hdl;
	return v4l2_ctrl_handler_setup(hdl);
}

#define DECODE_PARAMS	V4L2_CID_STATELESS_H264_DECODE_PARAMS
#define SLICE_PARAMS	V4L2_CID_STATELESS_H264_SLICE_PARAMS

static bool daedalus_required_present(struct v4l2_ctrl_handler *req_hdl,
				      struct daedalus_ctx *ctx)
{
	enum daedalus_codec codec = ctx->coded->codec;
	unsigned int i;

	/* Frame mode sends DECODE_PARAMS, slice mode SLICE_PARAMS per slice. */
	if (codec == DAEDALUS_H264)
		return v4l2_ctrl_request_hdl_ctrl_find(req_hdl, DECODE_PARAMS) ||
		       v4l2_ctrl_request_hdl_ctrl_find(req_hdl, SLICE_PARAMS);

	for (i = 0; i < ARRAY_SIZE(daedalus_ctrl_descs); i++) {
		const struct daedalus_ctrl_desc *d = &daedalus_ctrl_descs[i];

		if (d->codec == codec && d->required &&
		    !v4l2_ctrl_request_hdl_ctrl_find(req_hdl, d->cfg.id))
			return false;
	}
	return true;
}

int daedalus_request_validate(struct media_request *req)
{
	struct v4l2_ctrl_handler *req_hdl;
	struct media_request_object *obj;
	struct daedalus_ctx *ctx = NULL;
	unsigned int count;
	bool ok;

	list_for_each_entry(obj, &req->objects, list) {
		struct vb2_buffer *vb;

		if (vb2_request_object_is_buffer(obj)) {
			vb = container_of(obj, struct vb2_buffer, req_obj);
			ctx = vb2_get_drv_priv(vb->vb2_queue);
			break;
		}
	}
	if (!ctx)
		return -ENOENT;

	count = vb2_request_buffer_cnt(req);
	if (!count)
		return -ENOENT;
	if (count > 1)
		return -EINVAL;

	req_hdl = v4l2_ctrl_request_hdl_find(req, &ctx->hdl);
	if (!req_hdl)
		return -ENOENT;
	ok = daedalus_required_present(req_hdl, ctx);
	v4l2_ctrl_request_hdl_put(req_hdl);
	if (!ok) {
		dd_dbg(1, ctx->dev, "request lacks a required control\n");
		return -ENOENT;
	}
	return vb2_request_validate(req);
}
