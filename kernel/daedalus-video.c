// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: formats, V4L2 ioctls and vb2 queue operations.
 */

#include <linux/sizes.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "daedalus.h"

/* In the order of ENUM_FMT; the first is the default. */
static const struct daedalus_coded_fmt *const daedalus_coded_fmts[] = {
	&daedalus_h264_fmt,
	&daedalus_vp8_fmt,
	&daedalus_vp9_fmt,
	&daedalus_av1_fmt,
};

/* The CAPTURE formats whose layout daedalus_fill_cap() knows. */
static const u32 daedalus_fourccs_8bit[] = {
	V4L2_PIX_FMT_NV12,
	V4L2_PIX_FMT_YUV420M,
};

static const u32 daedalus_fourccs_10bit[] = {
	V4L2_PIX_FMT_P010,
};

const struct daedalus_decoded_fmts daedalus_decoded_8bit = {
	.depth = 8,
	.fourccs = daedalus_fourccs_8bit,
	.num_fourccs = ARRAY_SIZE(daedalus_fourccs_8bit),
};

const struct daedalus_decoded_fmts daedalus_decoded_10bit = {
	.depth = 10,
	.fourccs = daedalus_fourccs_10bit,
	.num_fourccs = ARRAY_SIZE(daedalus_fourccs_10bit),
};

#define DAEDALUS_OUT_MIN_SIZE	SZ_4K
#define DAEDALUS_OUT_MAX_SIZE	SZ_32M

/**
 * daedalus_coded_fmt() - the OUTPUT formats, in ENUM_FMT order
 * @index: the position
 *
 * Return: the format, or NULL past the last one.
 */
const struct daedalus_coded_fmt *daedalus_coded_fmt(unsigned int index)
{
	return index < ARRAY_SIZE(daedalus_coded_fmts) ?
	       daedalus_coded_fmts[index] : NULL;
}

const struct daedalus_coded_fmt *daedalus_find_coded(u32 fourcc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(daedalus_coded_fmts); i++)
		if (daedalus_coded_fmts[i]->fourcc == fourcc)
			return daedalus_coded_fmts[i];
	return NULL;
}

/**
 * daedalus_decoded_fmts() - the CAPTURE formats of a codec at a bit depth
 * @fmt:	the codec
 * @depth:	bit depth of the stream
 *
 * Return: the formats, or NULL if the codec is not decoded at that depth.
 */
const struct daedalus_decoded_fmts *
daedalus_decoded_fmts(const struct daedalus_coded_fmt *fmt, u32 depth)
{
	unsigned int i;

	for (i = 0; i < DAEDALUS_MAX_DEPTHS && fmt->decoded[i]; i++)
		if (fmt->decoded[i]->depth == depth)
			return fmt->decoded[i];
	return NULL;
}

/* The CAPTURE formats of the context's codec and bit depth. */
static const struct daedalus_decoded_fmts *
daedalus_cap_list(struct daedalus_ctx *ctx)
{
	const struct daedalus_decoded_fmts *list;

	list = daedalus_decoded_fmts(ctx->coded, ctx->bit_depth);
	/* bit_depth is always one of the codec's (daedalus-ctrls.c) */
	return list ?: ctx->coded->decoded[0];
}

static bool daedalus_cap_allowed(struct daedalus_ctx *ctx, u32 fourcc)
{
	const struct daedalus_decoded_fmts *list = daedalus_cap_list(ctx);
	unsigned int i;

	for (i = 0; i < list->num_fourccs; i++)
		if (list->fourccs[i] == fourcc)
			return true;
	return false;
}

/* The layout documented in docs/protocol.md, section 5. */
static void daedalus_fill_cap(struct v4l2_pix_format_mplane *pix, u32 fourcc,
			      u32 width, u32 height)
{
	u32 w = ALIGN(clamp(width, DAEDALUS_MIN_WIDTH, DAEDALUS_MAX_WIDTH),
		      DAEDALUS_CAP_ALIGN);
	u32 h = ALIGN(clamp(height, DAEDALUS_MIN_HEIGHT, DAEDALUS_MAX_HEIGHT),
		      DAEDALUS_CAP_ALIGN);
	struct v4l2_plane_pix_format *p = pix->plane_fmt;

	memset(p, 0, sizeof(pix->plane_fmt));
	pix->pixelformat = fourcc;
	pix->width = w;
	pix->height = h;
	pix->field = V4L2_FIELD_NONE;
	pix->flags = 0;
	switch (fourcc) {
	case V4L2_PIX_FMT_YUV420M:
		pix->num_planes = 3;
		p[0].bytesperline = w;
		p[0].sizeimage = w * h;
		p[1].bytesperline = w / 2;
		p[1].sizeimage = w * h / 4;
		p[2] = p[1];
		break;
	case V4L2_PIX_FMT_P010:
		pix->num_planes = 1;
		p[0].bytesperline = w * 2;
		p[0].sizeimage = w * h * 3;
		break;
	default:
		pix->pixelformat = V4L2_PIX_FMT_NV12;
		pix->num_planes = 1;
		p[0].bytesperline = w;
		p[0].sizeimage = w * h * 3 / 2;
		break;
	}
	memset(pix->reserved, 0, sizeof(pix->reserved));
}

static void daedalus_fill_out(struct v4l2_pix_format_mplane *pix,
			      const struct daedalus_coded_fmt *coded)
{
	struct v4l2_plane_pix_format *p = pix->plane_fmt;
	u32 sizeimage = p[0].sizeimage;

	pix->pixelformat = coded->fourcc;
	v4l2_apply_frmsize_constraints(&pix->width, &pix->height,
				       &coded->frmsize);
	pix->field = V4L2_FIELD_NONE;
	pix->num_planes = 1;
	pix->flags = 0;
	if (!sizeimage)
		sizeimage = max_t(u32, SZ_256K, pix->width * pix->height * 3 / 4);
	memset(p, 0, sizeof(pix->plane_fmt));
	p[0].sizeimage = clamp_t(u32, sizeimage, DAEDALUS_OUT_MIN_SIZE,
				 DAEDALUS_OUT_MAX_SIZE);
	memset(pix->reserved, 0, sizeof(pix->reserved));
}

static void daedalus_copy_colorimetry(struct v4l2_pix_format_mplane *dst,
				      const struct v4l2_pix_format_mplane *src)
{
	dst->colorspace = src->colorspace;
	dst->xfer_func = src->xfer_func;
	dst->ycbcr_enc = src->ycbcr_enc;
	dst->quantization = src->quantization;
}

void daedalus_reset_cap_format(struct daedalus_ctx *ctx)
{
	struct v4l2_pix_format_mplane *out = &ctx->out_fmt.fmt.pix_mp;
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE };

	/* Made aside: REQBUFS on CAPTURE may read it meanwhile (@fmt_lock). */
	daedalus_fill_cap(&f.fmt.pix_mp, daedalus_cap_list(ctx)->fourccs[0],
			  out->width, out->height);
	daedalus_copy_colorimetry(&f.fmt.pix_mp, out);
	spin_lock(&ctx->fmt_lock);
	ctx->cap_fmt = f;
	spin_unlock(&ctx->fmt_lock);
}

void daedalus_set_default_formats(struct daedalus_ctx *ctx)
{
	struct v4l2_pix_format_mplane *out = &ctx->out_fmt.fmt.pix_mp;
	unsigned int i;

	/* The first OUTPUT format is a parameter so that tests can cover each. */
	ctx->coded = daedalus_coded_fmts[0];
	for (i = 0; i < ARRAY_SIZE(daedalus_coded_fmts); i++)
		if (daedalus_coded_fmts[i]->codec == READ_ONCE(daedalus_default_codec))
			ctx->coded = daedalus_coded_fmts[i];
	ctx->bit_depth = 8;
	memset(&ctx->out_fmt, 0, sizeof(ctx->out_fmt));
	ctx->out_fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE;
	out->width = 1280;
	out->height = 720;
	out->colorspace = V4L2_COLORSPACE_REC709;
	out->xfer_func = V4L2_XFER_FUNC_DEFAULT;
	out->ycbcr_enc = V4L2_YCBCR_ENC_DEFAULT;
	out->quantization = V4L2_QUANTIZATION_DEFAULT;
	daedalus_fill_out(out, ctx->coded);
	daedalus_reset_cap_format(ctx);
}

static int daedalus_querycap(struct file *file, void *priv,
			     struct v4l2_capability *cap)
{
	strscpy(cap->driver, DAEDALUS_NAME, sizeof(cap->driver));
	strscpy(cap->card, DAEDALUS_NAME, sizeof(cap->card));
	strscpy(cap->bus_info, DAEDALUS_BUS_INFO, sizeof(cap->bus_info));
	return 0;
}

static int daedalus_enum_fmt_out(struct file *file, void *priv,
				 struct v4l2_fmtdesc *f)
{
	if (f->index >= ARRAY_SIZE(daedalus_coded_fmts))
		return -EINVAL;
	f->pixelformat = daedalus_coded_fmts[f->index]->fourcc;
	return 0;
}

static int daedalus_enum_fmt_cap(struct file *file, void *priv,
				 struct v4l2_fmtdesc *f)
{
	const struct daedalus_decoded_fmts *list;

	list = daedalus_cap_list(daedalus_file_to_ctx(file));
	if (f->index >= list->num_fourccs)
		return -EINVAL;
	f->pixelformat = list->fourccs[f->index];
	return 0;
}

static int daedalus_enum_framesizes(struct file *file, void *priv,
				    struct v4l2_frmsizeenum *fsize)
{
	const struct daedalus_coded_fmt *coded;

	if (fsize->index != 0)
		return -EINVAL;
	coded = daedalus_find_coded(fsize->pixel_format);
	if (!coded)
		return -EINVAL;
	fsize->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fsize->stepwise = coded->frmsize;
	return 0;
}

static int daedalus_g_fmt_out(struct file *file, void *priv,
			      struct v4l2_format *f)
{
	f->fmt.pix_mp = daedalus_file_to_ctx(file)->out_fmt.fmt.pix_mp;
	return 0;
}

static int daedalus_g_fmt_cap(struct file *file, void *priv,
			      struct v4l2_format *f)
{
	f->fmt.pix_mp = daedalus_file_to_ctx(file)->cap_fmt.fmt.pix_mp;
	return 0;
}

static int daedalus_try_fmt_out(struct file *file, void *priv,
				struct v4l2_format *f)
{
	const struct daedalus_coded_fmt *coded;

	coded = daedalus_find_coded(f->fmt.pix_mp.pixelformat);
	if (!coded)
		coded = daedalus_coded_fmts[0];
	daedalus_fill_out(&f->fmt.pix_mp, coded);
	return 0;
}

static int daedalus_try_fmt_cap(struct file *file, void *priv,
				struct v4l2_format *f)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	struct v4l2_pix_format_mplane *pix = &f->fmt.pix_mp;
	u32 fourcc = pix->pixelformat;

	if (!daedalus_cap_allowed(ctx, fourcc))
		fourcc = daedalus_cap_list(ctx)->fourccs[0];
	/* The decoded size follows the coded size, as for every decoder. */
	daedalus_fill_cap(pix, fourcc, ctx->out_fmt.fmt.pix_mp.width,
			  ctx->out_fmt.fmt.pix_mp.height);
	daedalus_copy_colorimetry(pix, &ctx->out_fmt.fmt.pix_mp);
	return 0;
}

static int daedalus_s_fmt_out(struct file *file, void *priv,
			      struct v4l2_format *f)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	struct v4l2_m2m_ctx *m2m_ctx = ctx->fh.m2m_ctx;
	struct vb2_queue *out_q = v4l2_m2m_get_src_vq(m2m_ctx);
	struct vb2_queue *cap_q = v4l2_m2m_get_dst_vq(m2m_ctx);
	u32 old_fourcc = ctx->out_fmt.fmt.pix_mp.pixelformat;
	int ret;

	ret = daedalus_try_fmt_out(file, priv, f);
	if (ret)
		return ret;
	if (vb2_is_streaming(out_q))
		return -EBUSY;
	/* Another codec changes the CAPTURE format: not with buffers there. */
	if (f->fmt.pix_mp.pixelformat != old_fourcc &&
	    (vb2_is_busy(out_q) || vb2_is_busy(cap_q)))
		return -EBUSY;
	if (vb2_is_busy(cap_q) &&
	    (f->fmt.pix_mp.width != ctx->out_fmt.fmt.pix_mp.width ||
	     f->fmt.pix_mp.height != ctx->out_fmt.fmt.pix_mp.height))
		return -EBUSY;

	spin_lock(&ctx->fmt_lock);
	ctx->out_fmt.fmt.pix_mp = f->fmt.pix_mp;
	spin_unlock(&ctx->fmt_lock);
	ctx->coded = daedalus_find_coded(f->fmt.pix_mp.pixelformat);
	out_q->subsystem_flags = ctx->coded->subsystem_flags;
	daedalus_ctrls_update_depth(ctx);
	if (!vb2_is_busy(cap_q)) {
		daedalus_reset_cap_format(ctx);
	} else {
		spin_lock(&ctx->fmt_lock);
		daedalus_copy_colorimetry(&ctx->cap_fmt.fmt.pix_mp,
					  &ctx->out_fmt.fmt.pix_mp);
		spin_unlock(&ctx->fmt_lock);
	}
	return 0;
}

static int daedalus_s_fmt_cap(struct file *file, void *priv,
			      struct v4l2_format *f)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	struct vb2_queue *cap_q = v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx);
	int ret;

	ret = daedalus_try_fmt_cap(file, priv, f);
	if (ret)
		return ret;
	if (vb2_is_busy(cap_q))
		return -EBUSY;
	spin_lock(&ctx->fmt_lock);
	ctx->cap_fmt.fmt.pix_mp = f->fmt.pix_mp;
	spin_unlock(&ctx->fmt_lock);
	return 0;
}

/* Is a buffer of @q bound to a request (queued or not)? Caller holds q_lock. */
static bool daedalus_q_has_req_bufs(struct vb2_queue *q)
{
	unsigned int i;

	lockdep_assert_held(q->lock);
	for (i = 0; i < q->max_num_buffers; i++) {
		struct vb2_buffer *vb = vb2_get_buffer(q, i);

		if (vb && vb->req_obj.req)
			return true;
	}
	return false;
}

/*
 * REQBUFS on a queue that does not stream frees its buffers, first
 * cancelling those still queued, and vb2 (6.12) cancels them holding
 * q->mmap_lock. A buffer of a request then completes that request's
 * controls there (buf_request_complete), or drops the last reference of a
 * request whose fd is closed (v4l2_ctrl_request_unbind): both take the
 * control handler's lock. But the control ioctls copy from user memory
 * under that lock (mm->mmap_lock on a fault), and mmap() takes
 * q->mmap_lock under mm->mmap_lock: a possible deadlock, which lockdep
 * reports. So such a queue is cancelled first with a bare vb2_streamoff()
 * (allowed on a queue that does not stream, the same cancel vb2 would do:
 * every buffer back, their requests completed and unbound) under the locks
 * the ioctl already holds and without q->mmap_lock; vb2's own cancel then
 * finds no request left. Not v4l2_m2m_streamoff(): with OUTPUT not
 * streaming no job can be queued or running, and the m2m ready list is
 * empty (buf_queue only runs once streaming started). Only when REQBUFS
 * would cancel too, so that a REQBUFS that fails vb2's checks changes
 * nothing: those checks are repeated (the streaming test first, since a
 * streaming queue's buffers may be completed without q_lock). A workaround
 * for vb2's order in 6.12, to be re-checked for each newer kernel.
 */
static int daedalus_reqbufs(struct file *file, void *priv,
			    struct v4l2_requestbuffers *rb)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	struct vb2_queue *q = v4l2_m2m_get_vq(ctx->fh.m2m_ctx, rb->type);
	int ret;

	if (!vb2_is_streaming(q) &&
	    !vb2_verify_memory_type(q, rb->memory, rb->type) &&
	    !(q->waiting_in_dqbuf && rb->count) &&
	    daedalus_q_has_req_bufs(q)) {
		ret = vb2_streamoff(q, q->type);
		if (WARN_ON_ONCE(ret))
			return ret;
	}
	daedalus_queue_put_orphans(q);
	mutex_lock(&ctx->alloc_lock);
	ret = v4l2_m2m_ioctl_reqbufs(file, priv, rb);
	mutex_unlock(&ctx->alloc_lock);
	return ret;
}

/* See &daedalus_ctx.alloc_lock. */
static int daedalus_create_bufs(struct file *file, void *priv,
				struct v4l2_create_buffers *create)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	int ret;

	mutex_lock(&ctx->alloc_lock);
	ret = v4l2_m2m_ioctl_create_bufs(file, priv, create);
	mutex_unlock(&ctx->alloc_lock);
	return ret;
}

/*
 * A CAPTURE buffer holds no correct picture (&daedalus_buf.error) when a job
 * of its picture failed, the last one or an earlier piece (H.264 slices, a
 * first field: daedalus_cap_done()), or when its last job only handed the
 * daemon pieces of a picture to hold (V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF).
 * A failed last job returns it as ERROR, but two paths return it as DONE:
 * the job completing a picture whose earlier piece failed may succeed, and
 * the m2m core releases a held buffer as DONE by itself, assuming that
 * hardware decoded each piece into it as it came: when the next OUTPUT
 * buffer has another timestamp (an unpaired field, a client that dropped the
 * last slice), on V4L2_DEC_CMD_FLUSH with no OUTPUT buffer pending, and at
 * the finish of a held job whose flag FLUSH cleared while it ran. The daemon
 * decodes a picture only once it has all of its pieces, so such a buffer
 * was never written: the application must not take it as a picture.
 * DQBUF is where it learns how the buffer came back, and the only place
 * that sees every one of these paths, so the flag is added there.
 */
static int daedalus_dqbuf(struct file *file, void *priv, struct v4l2_buffer *b)
{
	struct daedalus_ctx *ctx = daedalus_file_to_ctx(file);
	struct vb2_buffer *vb;
	int ret;

	ret = v4l2_m2m_ioctl_dqbuf(file, priv, b);
	if (ret || !V4L2_TYPE_IS_CAPTURE(b->type))
		return ret;
	vb = vb2_get_buffer(v4l2_m2m_get_vq(ctx->fh.m2m_ctx, b->type), b->index);
	if (vb && READ_ONCE(daedalus_vb_to_buf(vb)->error))
		b->flags |= V4L2_BUF_FLAG_ERROR;
	return 0;
}

const struct v4l2_ioctl_ops daedalus_ioctl_ops = {
	.vidioc_querycap = daedalus_querycap,
	.vidioc_enum_framesizes = daedalus_enum_framesizes,

	.vidioc_enum_fmt_vid_cap = daedalus_enum_fmt_cap,
	.vidioc_g_fmt_vid_cap_mplane = daedalus_g_fmt_cap,
	.vidioc_try_fmt_vid_cap_mplane = daedalus_try_fmt_cap,
	.vidioc_s_fmt_vid_cap_mplane = daedalus_s_fmt_cap,

	.vidioc_enum_fmt_vid_out = daedalus_enum_fmt_out,
	.vidioc_g_fmt_vid_out_mplane = daedalus_g_fmt_out,
	.vidioc_try_fmt_vid_out_mplane = daedalus_try_fmt_out,
	.vidioc_s_fmt_vid_out_mplane = daedalus_s_fmt_out,

	.vidioc_reqbufs = daedalus_reqbufs,
	.vidioc_querybuf = v4l2_m2m_ioctl_querybuf,
	.vidioc_qbuf = v4l2_m2m_ioctl_qbuf,
	.vidioc_dqbuf = daedalus_dqbuf,
	.vidioc_prepare_buf = v4l2_m2m_ioctl_prepare_buf,
	.vidioc_create_bufs = daedalus_create_bufs,
	.vidioc_expbuf = v4l2_m2m_ioctl_expbuf,

	.vidioc_streamon = v4l2_m2m_ioctl_streamon,
	.vidioc_streamoff = v4l2_m2m_ioctl_streamoff,

	.vidioc_decoder_cmd = v4l2_m2m_ioctl_stateless_decoder_cmd,
	.vidioc_try_decoder_cmd = v4l2_m2m_ioctl_stateless_try_decoder_cmd,

	.vidioc_subscribe_event = v4l2_ctrl_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

/* vb2 */

/*
 * A copy of @q's format, whole: the format ioctls change it under the
 * device's lock, the queue ioctls that read it hold only q_lock, and a
 * half-written format gave queue_setup no planes (found by the ioctl fuzzer).
 */
static void daedalus_q_fmt(struct daedalus_ctx *ctx, struct vb2_queue *q,
			   struct v4l2_pix_format_mplane *pix)
{
	spin_lock(&ctx->fmt_lock);
	*pix = V4L2_TYPE_IS_OUTPUT(q->type) ? ctx->out_fmt.fmt.pix_mp :
					      ctx->cap_fmt.fmt.pix_mp;
	spin_unlock(&ctx->fmt_lock);
}

/*
 * The largest plane any format of @q can need: the bitstream buffer's limit,
 * or a P010 picture of the largest size (the largest CAPTURE plane).
 */
static unsigned int daedalus_max_plane_size(struct vb2_queue *q)
{
	if (V4L2_TYPE_IS_OUTPUT(q->type))
		return DAEDALUS_OUT_MAX_SIZE;
	return ALIGN(DAEDALUS_MAX_WIDTH, DAEDALUS_CAP_ALIGN) *
	       ALIGN(DAEDALUS_MAX_HEIGHT, DAEDALUS_CAP_ALIGN) * 3;
}

static int daedalus_queue_setup(struct vb2_queue *q, unsigned int *nbuffers,
				unsigned int *nplanes, unsigned int sizes[],
				struct device *alloc_devs[])
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(q);
	struct v4l2_pix_format_mplane fmt, *pix = &fmt;
	unsigned int i;

	daedalus_q_fmt(ctx, q, pix);
	/*
	 * CREATE_BUFS: planes at least as large as the format's, and no larger
	 * than any format's. The sizes come from the application unchecked, and
	 * the pages are allocated right away: 4 GiB per buffer would call the
	 * OOM killer rather than fail.
	 */
	if (*nplanes) {
		if (*nplanes != pix->num_planes)
			return -EINVAL;
		for (i = 0; i < *nplanes; i++)
			if (sizes[i] < pix->plane_fmt[i].sizeimage ||
			    sizes[i] > daedalus_max_plane_size(q))
				return -EINVAL;
	} else {
		*nplanes = pix->num_planes;
		for (i = 0; i < pix->num_planes; i++)
			sizes[i] = pix->plane_fmt[i].sizeimage;
	}
	/* From its first buffers on, the instance counts for its user. */
	return daedalus_user_charge(ctx);
}

static int daedalus_buf_out_validate(struct vb2_buffer *vb)
{
	to_vb2_v4l2_buffer(vb)->field = V4L2_FIELD_NONE;
	return 0;
}

static int daedalus_buf_prepare(struct vb2_buffer *vb)
{
	struct vb2_queue *q = vb->vb2_queue;
	struct daedalus_ctx *ctx = vb2_get_drv_priv(q);
	struct v4l2_pix_format_mplane fmt, *pix = &fmt;
	unsigned int i;

	daedalus_q_fmt(ctx, q, pix);
	if (vb->num_planes != pix->num_planes)
		return -EINVAL;
	for (i = 0; i < pix->num_planes; i++) {
		if (vb2_plane_size(vb, i) < pix->plane_fmt[i].sizeimage)
			return -EINVAL;
		if (!V4L2_TYPE_IS_OUTPUT(q->type))
			vb2_set_plane_payload(vb, i, pix->plane_fmt[i].sizeimage);
	}
	/* Its job now: a shortage fails this QBUF or request, not a frame. */
	if (V4L2_TYPE_IS_OUTPUT(q->type))
		return daedalus_job_reserve(daedalus_vb_to_buf(vb));
	return 0;
}

/* Drop @vb's handles (and with them their dmabuf references), if it has any. */
static void daedalus_buf_put_handles(struct vb2_buffer *vb)
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);
	struct daedalus_buf *buf = daedalus_vb_to_buf(vb);
	struct daedalus_handle *h[VIDEO_MAX_PLANES];
	unsigned int i;

	spin_lock(&ctx->handle_lock);
	memcpy(h, buf->handle, sizeof(h));
	memset(buf->handle, 0, sizeof(buf->handle));
	spin_unlock(&ctx->handle_lock);
	for (i = 0; i < VIDEO_MAX_PLANES; i++)
		if (h[i])
			daedalus_handle_put(h[i]);
}

/*
 * Give every plane a dmabuf and a handle for the daemon. vb2 calls buf_init
 * after allocating or (re)attaching memory and buf_cleanup before releasing
 * it, so a handle always names the memory currently behind the plane.
 */
static int daedalus_buf_init(struct vb2_buffer *vb)
{
	struct vb2_queue *q = vb->vb2_queue;
	struct daedalus_ctx *ctx = vb2_get_drv_priv(q);
	struct daedalus_buf *buf = daedalus_vb_to_buf(vb);
	struct daedalus_handle *h[VIDEO_MAX_PLANES] = { };
	unsigned int i;

	/*
	 * An imported dmabuf must hold the plane length the application gave
	 * (the daemon writes that many bytes). Checked here, once vb2 holds
	 * every plane, not in attach_dmabuf (daedalus-mem.c says why).
	 */
	if (vb->memory == VB2_MEMORY_DMABUF)
		for (i = 0; i < vb->num_planes; i++)
			if (vb->planes[i].dbuf->size < vb->planes[i].length)
				return -EINVAL;
	/* Those of memory vb2 released without buf_cleanup, if any. */
	daedalus_buf_put_handles(vb);

	for (i = 0; i < vb->num_planes; i++) {
		struct dma_buf *dbuf;

		if (vb->memory == VB2_MEMORY_MMAP) {
			dbuf = q->mem_ops->get_dmabuf(vb, vb->planes[i].mem_priv,
						      V4L2_TYPE_IS_OUTPUT(q->type) ?
						      O_RDONLY : O_RDWR);
		} else {
			dbuf = vb->planes[i].dbuf;
			if (dbuf)
				get_dma_buf(dbuf);
		}
		if (!dbuf)
			goto err;
		h[i] = daedalus_handle_new(&ctx->dev->bridge, dbuf,
					   vb->planes[i].length);
		if (!h[i]) {
			dma_buf_put(dbuf);
			goto err;
		}
	}
	spin_lock(&ctx->handle_lock);
	memcpy(buf->handle, h, sizeof(h));
	WRITE_ONCE(buf->error, false);
	buf->lost = false;
	spin_unlock(&ctx->handle_lock);
	return 0;

err:
	while (i--)
		daedalus_handle_put(h[i]);
	return -ENOMEM;
}

/* DQBUF (or a queue being cancelled), in process context. */
static void daedalus_buf_finish(struct vb2_buffer *vb)
{
	unsigned int i;

	if (V4L2_TYPE_IS_OUTPUT(vb->vb2_queue->type)) {
		/* Not run (STREAMOFF): its reserved job is still here. */
		daedalus_job_unreserve(daedalus_vb_to_buf(vb));
		return;
	}
	if (vb->memory != VB2_MEMORY_MMAP)
		return;
	for (i = 0; i < vb->num_planes; i++)
		daedalus_mem_dequeued(vb->planes[i].mem_priv);
}

static void daedalus_buf_cleanup(struct vb2_buffer *vb)
{
	daedalus_buf_put_handles(vb);
	/*
	 * Cancelling the queue (buf_finish) has freed it before vb2 frees a
	 * prepared buffer; kept so that no path of vb2 can leak it.
	 */
	daedalus_job_unreserve(daedalus_vb_to_buf(vb));
}

/**
 * daedalus_queue_put_orphans() - drop the handles of buffers without memory
 * @q: a queue of the context, whose q_lock the caller holds
 *
 * When a QBUF (or a request's prepare) of an imported buffer fails for a
 * bad fd or too short a plane, vb2 (__prepare_dmabuf, 6.12) releases the
 * planes the buffer held without calling buf_cleanup, and buf_cleanup runs
 * later only for buffers that hold memory. Their handles, each holding its
 * dmabuf (and one exported by this module holding the module), would then
 * live for good (and a reserved job with them). Called before vb2 frees a
 * queue's buffers;
 * daedalus_buf_init() does the same for the buffer it sets up.
 */
void daedalus_queue_put_orphans(struct vb2_queue *q)
{
	unsigned int i;

	lockdep_assert_held(q->lock);
	for (i = 0; i < q->max_num_buffers; i++) {
		struct vb2_buffer *vb = vb2_get_buffer(q, i);

		if (vb && !vb->planes[0].mem_priv) {
			daedalus_buf_put_handles(vb);
			daedalus_job_unreserve(daedalus_vb_to_buf(vb));
		}
	}
}

static void daedalus_buf_queue(struct vb2_buffer *vb)
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);

	/* A new picture starts in it, no piece of which is lost yet. */
	if (V4L2_TYPE_IS_CAPTURE(vb->vb2_queue->type)) {
		daedalus_vb_to_buf(vb)->lost = false;
		daedalus_vb_to_buf(vb)->fresh = true;
	}
	v4l2_m2m_buf_queue(ctx->fh.m2m_ctx, to_vb2_v4l2_buffer(vb));
}

static void daedalus_buf_request_complete(struct vb2_buffer *vb)
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(vb->vb2_queue);

	v4l2_ctrl_request_complete(vb->req_obj.req, &ctx->hdl);
}

static int daedalus_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(q);

	/* Never fails for want of a daemon: jobs fail instead. */
	spin_lock(&ctx->dev->bridge.lock);
	ctx->abort_requested = false;
	if (V4L2_TYPE_IS_OUTPUT(q->type))
		ctx->stream_start = true;
	spin_unlock(&ctx->dev->bridge.lock);
	if (V4L2_TYPE_IS_OUTPUT(q->type))
		ctx->out_seq = 0;
	else
		ctx->cap_seq = 0;
	return 0;
}

static void daedalus_stop_streaming(struct vb2_queue *q)
{
	struct daedalus_ctx *ctx = vb2_get_drv_priv(q);
	struct vb2_v4l2_buffer *vbuf;

	/* Jobs already dispatched hold buffers of both queues. */
	daedalus_fail_inflight(ctx);
	for (;;) {
		if (V4L2_TYPE_IS_OUTPUT(q->type))
			vbuf = v4l2_m2m_src_buf_remove(ctx->fh.m2m_ctx);
		else
			vbuf = v4l2_m2m_dst_buf_remove(ctx->fh.m2m_ctx);
		if (!vbuf)
			break;
		v4l2_ctrl_request_complete(vbuf->vb2_buf.req_obj.req, &ctx->hdl);
		v4l2_m2m_buf_done(vbuf, VB2_BUF_STATE_ERROR);
	}
}

static const struct vb2_ops daedalus_qops = {
	.queue_setup = daedalus_queue_setup,
	.buf_out_validate = daedalus_buf_out_validate,
	.buf_init = daedalus_buf_init,
	.buf_prepare = daedalus_buf_prepare,
	.buf_finish = daedalus_buf_finish,
	.buf_cleanup = daedalus_buf_cleanup,
	.buf_queue = daedalus_buf_queue,
	.buf_request_complete = daedalus_buf_request_complete,
	.start_streaming = daedalus_start_streaming,
	.stop_streaming = daedalus_stop_streaming,
#if !DAEDALUS_KERNEL_AT_LEAST(6, 13)
	/* Removed upstream once vb2 drops q->lock itself while waiting. */
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
#endif
};

static void daedalus_init_vq(struct daedalus_ctx *ctx, struct vb2_queue *q,
			     enum v4l2_buf_type type)
{
	q->type = type;
	q->io_modes = VB2_MMAP | VB2_DMABUF;
	q->drv_priv = ctx;
	q->buf_struct_size = sizeof(struct daedalus_buf);
	q->ops = &daedalus_qops;
	q->mem_ops = &daedalus_mem_ops;
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_COPY;
	q->lock = &ctx->q_lock;
	q->dev = ctx->dev->v4l2_dev.dev;
	/* Enough for a full H.264 DPB plus what GStreamer asks on top. */
	q->max_num_buffers = 64;
}

int daedalus_queue_init(void *priv, struct vb2_queue *src_vq,
			struct vb2_queue *dst_vq)
{
	struct daedalus_ctx *ctx = priv;
	int ret;

	daedalus_init_vq(ctx, src_vq, V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE);
	/*
	 * Every bitstream buffer comes with its request: one queued without
	 * would be decoded with whatever controls the last request left
	 * (stale slice / frame parameters). vb2 refuses it with EBADR, as
	 * for cedrus, rkvdec and hantro's stateless codecs.
	 */
	src_vq->supports_requests = true;
	src_vq->requires_requests = true;
	src_vq->subsystem_flags = ctx->coded->subsystem_flags;
	ret = vb2_queue_init(src_vq);
	if (ret)
		return ret;

	daedalus_init_vq(ctx, dst_vq, V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE);
	return vb2_queue_init(dst_vq);
}
