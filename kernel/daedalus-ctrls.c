// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the codec controls, their validation, the bit depth they
 * announce, and request validation. What each codec has and checks is in
 * its descriptor (daedalus-<codec>.c); nothing here names a codec.
 *
 * try_ctrl rejects what the daemon cannot decode (4:2:2, 4:4:4, 12 bit,
 * sizes beyond the limits) and indices the V4L2 core does not check. It has
 * no side effects and accepts every control's default value, since
 * applications round-trip the current values through TRY/S_EXT_CTRLS.
 */

#include <media/v4l2-ctrls.h>

#include "daedalus.h"

/* The codec a control belongs to, and its description there. */
static const struct daedalus_ctrl_desc *
daedalus_find_ctrl(u32 id, const struct daedalus_coded_fmt **owner)
{
	const struct daedalus_coded_fmt *fmt;
	unsigned int i, j;

	for (i = 0; (fmt = daedalus_coded_fmt(i)); i++)
		for (j = 0; j < fmt->num_ctrls; j++)
			if (fmt->ctrls[j].cfg.id == id) {
				*owner = fmt;
				return &fmt->ctrls[j];
			}
	return NULL;
}

/*
 * Every codec's controls exist at once, whatever the OUTPUT format, so a
 * value is checked against the codec the control belongs to.
 */
static int daedalus_try_ctrl(struct v4l2_ctrl *ctrl)
{
	const struct daedalus_coded_fmt *fmt;
	const struct daedalus_ctrl_desc *d;
	int ret;

	d = daedalus_find_ctrl(ctrl->id, &fmt);
	if (!d)
		return 0;
	if (d->validate) {
		ret = d->validate(ctrl->p_new);
		if (ret)
			return ret;
	}
	/* 12 bit, say: no CAPTURE format for it. */
	if (d->depth && !daedalus_decoded_fmts(fmt, d->depth(ctrl->p_new)))
		return -EINVAL;
	return 0;
}

/*
 * The CAPTURE formats follow the bit depth of the stream (spec'd flow:
 * S_FMT(OUTPUT), set SPS / frame / sequence, G_FMT(CAPTURE)). Allocated
 * CAPTURE buffers have the old depth's layout (NV12 is half the size of
 * P010), so a change of depth is refused while they exist, as rkvdec does:
 * the application frees them (REQBUFS 0) and sets the control again, which
 * is what GStreamer's v4l2codecs does on a new sequence. A request carrying
 * such a change fails its job (daedalus_device_run()).
 */
static int daedalus_apply_depth(struct daedalus_ctx *ctx, u32 depth)
{
	struct vb2_queue *cap_q;

	if (depth == ctx->bit_depth)
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
	const struct daedalus_coded_fmt *fmt;
	const struct daedalus_ctrl_desc *d;
	u32 depth;

	/* Only the current codec's depth counts. */
	d = daedalus_find_ctrl(ctrl->id, &fmt);
	if (!d || !d->depth || fmt != ctx->coded)
		return 0;
	/* s_ctrl sees the value being applied in p_new, p_cur is the old one. */
	depth = d->depth(ctrl->p_new);
	/* try_ctrl refused any other, but not for the handler's setup */
	if (!daedalus_decoded_fmts(fmt, depth))
		return 0;
	return daedalus_apply_depth(ctx, depth);
}

/**
 * daedalus_ctrls_update_depth() - take the bit depth of the current codec
 * @ctx: the context, with the OUTPUT format just changed
 */
void daedalus_ctrls_update_depth(struct daedalus_ctx *ctx)
{
	const struct daedalus_coded_fmt *fmt = ctx->coded;
	struct v4l2_ctrl *ctrl;
	unsigned int i;
	u32 depth = 8;

	for (i = 0; i < fmt->num_ctrls; i++) {
		const struct daedalus_ctrl_desc *d = &fmt->ctrls[i];

		if (!d->depth)
			continue;
		ctrl = v4l2_ctrl_find(&ctx->hdl, d->cfg.id);
		if (ctrl) {
			v4l2_ctrl_lock(ctrl);
			depth = d->depth(ctrl->p_cur);
			v4l2_ctrl_unlock(ctrl);
		}
		break;
	}
	ctx->bit_depth = daedalus_decoded_fmts(fmt, depth) ? depth : 8;
}

static const struct v4l2_ctrl_ops daedalus_ctrl_ops = {
	.try_ctrl = daedalus_try_ctrl,
	.s_ctrl = daedalus_s_ctrl,
};

/* The controls of every codec, so that S_FMT(OUTPUT) never changes them. */
int daedalus_ctrls_init(struct daedalus_ctx *ctx)
{
	struct v4l2_ctrl_handler *hdl = &ctx->hdl;
	const struct daedalus_coded_fmt *fmt;
	unsigned int i, j, n = 0;
	int ret;

	for (i = 0; (fmt = daedalus_coded_fmt(i)); i++)
		n += fmt->num_ctrls;
	v4l2_ctrl_handler_init(hdl, n);
	for (i = 0; (fmt = daedalus_coded_fmt(i)); i++) {
		for (j = 0; j < fmt->num_ctrls; j++) {
			const struct daedalus_ctrl_desc *d = &fmt->ctrls[j];
			struct v4l2_ctrl_config cfg = d->cfg;
			struct v4l2_ctrl *ctrl;

			cfg.ops = &daedalus_ctrl_ops;
			if (d->def)
				cfg.def = d->def();
			ctrl = v4l2_ctrl_new_custom(hdl, &cfg, ctx);
			if (!ctrl)
				break;
			ctx->ctrls[fmt->codec][j] = ctrl;
		}
	}
	ret = hdl->error;
	if (ret) {
		v4l2_ctrl_handler_free(hdl);
		return ret;
	}
	ctx->fh.ctrl_handler = hdl;
	return v4l2_ctrl_handler_setup(hdl);
}

/*
 * Each group of per-frame controls (&daedalus_ctrl_desc.need) has a member
 * in the request.
 */
static bool daedalus_required_present(struct v4l2_ctrl_handler *req_hdl,
				      struct daedalus_ctx *ctx)
{
	const struct daedalus_coded_fmt *fmt = ctx->coded;
	unsigned long missing = 0, present = 0;
	unsigned int i;

	for (i = 0; i < fmt->num_ctrls; i++) {
		const struct daedalus_ctrl_desc *d = &fmt->ctrls[i];

		if (!d->need)
			continue;
		if (v4l2_ctrl_request_hdl_ctrl_find(req_hdl, d->cfg.id))
			present |= BIT(d->need);
		else
			missing |= BIT(d->need);
	}
	return !(missing & ~present);
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
