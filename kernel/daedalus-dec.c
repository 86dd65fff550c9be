// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: turning a request into a job for the daemon, and finishing
 * jobs (daemon reply, watchdog, abort, daemon gone).
 *
 * device_run() may run in the application's QBUF / request queue call with
 * its queue lock held, or in the m2m worker: it never blocks on the daemon
 * and takes no V4L2 lock. Everything the daemon needs is copied into the job
 * (control payloads, buffer descriptions, dmabuf references) before the job
 * is published, because the next request changes the controls.
 */

#include <linux/slab.h>
#include <media/v4l2-ctrls.h>

#include "daedalus.h"

static void daedalus_job_release(struct kref *ref)
{
	struct daedalus_kjob *job = container_of(ref, struct daedalus_kjob, ref);
	unsigned int i, j;

	for (i = 0; i < DAEDALUS_MAX_MEM_PLANES; i++) {
		if (job->out_h[i])
			daedalus_handle_put(job->out_h[i]);
		if (job->cap_h[i])
			daedalus_handle_put(job->cap_h[i]);
		for (j = 0; j < DAEDALUS_MAX_REFS; j++)
			if (job->ref_h[j][i])
				daedalus_handle_put(job->ref_h[j][i]);
	}
	kvfree(job->ctrl_data);
	kfree(job);
}

void daedalus_job_put(struct daedalus_kjob *job)
{
	kref_put(&job->ref, daedalus_job_release);
}

/* Describe a vb2 buffer and take a reference on each of its dmabufs. */
static int daedalus_describe(struct daedalus_ctx *ctx, struct vb2_buffer *vb,
			     struct daedalus_buffer *desc,
			     struct daedalus_handle **hs)
{
	struct daedalus_buf *buf = daedalus_vb_to_buf(vb);
	unsigned int i;
	int ret = 0;

	if (vb->num_planes > DAEDALUS_MAX_MEM_PLANES)
		return -EINVAL;
	desc->timestamp = vb->timestamp;
	desc->index = vb->index;
	desc->num_mem_planes = vb->num_planes;
	spin_lock(&ctx->handle_lock);
	desc->flags = buf->error ? DAEDALUS_BUF_FLAG_ERROR : 0;
	for (i = 0; i < vb->num_planes; i++) {
		struct daedalus_handle *h = buf->handle[i];

		if (!h) {
			ret = -EINVAL;
			break;
		}
		kref_get(&h->ref);
		hs[i] = h;
		desc->mem[i].handle = h->id;
		desc->mem[i].fd = -1;
		desc->mem[i].length = h->length;
	}
	spin_unlock(&ctx->handle_lock);
	return ret;
}

static void daedalus_fill_picture(struct daedalus_ctx *ctx,
				  struct daedalus_picture *pic)
{
	const struct v4l2_pix_format_mplane *pix = &ctx->cap_fmt.fmt.pix_mp;
	const struct v4l2_plane_pix_format *p = pix->plane_fmt;
	u32 luma = p[0].bytesperline * pix->height;

	pic->fourcc = pix->pixelformat;
	pic->width = pix->width;
	pic->height = pix->height;
	pic->coded_width = ctx->out_fmt.fmt.pix_mp.width;
	pic->coded_height = ctx->out_fmt.fmt.pix_mp.height;
	pic->plane[0].stride = p[0].bytesperline;
	pic->plane[0].size = luma;
	if (pix->pixelformat == V4L2_PIX_FMT_YUV420M) {
		pic->num_color_planes = 3;
		pic->plane[1] = (struct daedalus_color_plane) {
			1, 0, p[1].bytesperline, p[1].sizeimage };
		pic->plane[2] = (struct daedalus_color_plane) {
			2, 0, p[2].bytesperline, p[2].sizeimage };
	} else {
		pic->num_color_planes = 2;
		pic->plane[1] = (struct daedalus_color_plane) {
			0, luma, p[0].bytesperline, luma / 2 };
	}
}

/* Copy the current values of the codec's controls into the job. */
static int daedalus_snapshot_ctrls(struct daedalus_ctx *ctx,
				   struct daedalus_kjob *job, u32 in_req)
{
	struct v4l2_ctrl **ctrls = ctx->ctrls[job->msg.codec];
	struct daedalus_job *msg = &job->msg;
	u32 total = 0, n;
	int ret = 0;

	mutex_lock(ctx->hdl.lock);
	for (n = 0; ctrls[n]; n++)
		total = ALIGN(total, 8) + ctrls[n]->elems * ctrls[n]->elem_size;
	if (n > DAEDALUS_MAX_CTRLS || total > DAEDALUS_MAX_CTRL_BYTES) {
		ret = -ENOSPC;
		goto out;
	}
	job->ctrl_data = kvzalloc(max_t(u32, total, 8), GFP_KERNEL);
	if (!job->ctrl_data) {
		ret = -ENOMEM;
		goto out;
	}
	total = 0;
	for (n = 0; ctrls[n]; n++) {
		struct daedalus_ctrl *c = &msg->ctrls[n];
		u32 size = ctrls[n]->elems * ctrls[n]->elem_size;

		total = ALIGN(total, 8);
		c->id = ctrls[n]->id;
		c->elem_size = ctrls[n]->elem_size;
		c->elems = ctrls[n]->elems;
		c->offset = total;
		c->size = size;
		c->flags = (in_req & BIT(n)) ? DAEDALUS_CTRL_FLAG_IN_REQUEST : 0;
		memcpy(job->ctrl_data + total, ctrls[n]->p_cur.p, size);
		total += size;
	}
	msg->num_ctrls = n;
	msg->ctrl_bytes = total;
out:
	mutex_unlock(ctx->hdl.lock);
	return ret;
}

static const void *daedalus_job_ctrl(struct daedalus_kjob *job, u32 id,
				     size_t size)
{
	unsigned int i;

	for (i = 0; i < job->msg.num_ctrls; i++)
		if (job->msg.ctrls[i].id == id && job->msg.ctrls[i].size >= size)
			return job->ctrl_data + job->msg.ctrls[i].offset;
	return NULL;
}

static int daedalus_resolve_refs(struct daedalus_ctx *ctx,
				 struct daedalus_kjob *job)
{
	struct vb2_queue *cap_q = v4l2_m2m_get_dst_vq(ctx->fh.m2m_ctx);
	const struct daedalus_coded_fmt *fmt = ctx->coded;
	bool used[DAEDALUS_MAX_REFS] = { };
	u64 ts[DAEDALUS_MAX_REFS] = { };
	unsigned int i, n = 0;
	const void *p;
	int ret;

	/* The slots the codec's descriptor names, none without its control. */
	p = daedalus_job_ctrl(job, fmt->ref_cid, fmt->ref_size);
	if (p) {
		fmt->ref_slots(p, ts, used);
		n = fmt->num_refs;
	}
	job->msg.num_refs = n;
	for (i = 0; i < n; i++) {
		struct daedalus_ref *ref = &job->msg.refs[i];
		struct vb2_buffer *vb;

		ref->timestamp = ts[i];
		if (!used[i])
			continue;
		ref->flags = DAEDALUS_REF_FLAG_USED;
		vb = vb2_find_buffer(cap_q, ts[i]);
		if (!vb)
			continue;
		ret = daedalus_describe(ctx, vb, &ref->buf, job->ref_h[i]);
		if (ret)
			return ret;
		ref->flags |= DAEDALUS_REF_FLAG_FOUND;
		if (vb == &job->dst->vb2_buf)
			ref->flags |= DAEDALUS_REF_FLAG_SELF;
	}
	return 0;
}

static int daedalus_job_fill(struct daedalus_ctx *ctx, struct daedalus_kjob *job,
			     struct vb2_v4l2_buffer *src, u32 in_req)
{
	struct daedalus_job *msg = &job->msg;
	struct vb2_buffer *svb = &src->vb2_buf;
	u32 payload, offset;
	int ret;

	msg->ctx_id = ctx->id;
	msg->codec = ctx->coded->codec;
	msg->sequence = src->sequence;
	if (ctx->fh.m2m_ctx->new_frame)
		msg->flags |= DAEDALUS_JOB_FLAG_NEW_FRAME;
	if (src->flags & V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF)
		msg->flags |= DAEDALUS_JOB_FLAG_HOLD;
	/* out_seq restarts at STREAMON and skips 0 when it wraps */
	if (!src->sequence)
		msg->flags |= DAEDALUS_JOB_FLAG_STREAM_START;
	daedalus_fill_picture(ctx, &msg->picture);

	ret = daedalus_describe(ctx, svb, &msg->output, job->out_h);
	if (ret)
		return ret;
	payload = vb2_get_plane_payload(svb, 0);
	offset = svb->planes[0].data_offset;
	if (offset > payload || payload > svb->planes[0].length)
		return -EINVAL;
	msg->output.mem[0].bytesused = payload - offset;
	msg->output.mem[0].data_offset = offset;

	ret = daedalus_describe(ctx, &job->dst->vb2_buf, &msg->capture, job->cap_h);
	if (ret)
		return ret;
	ret = daedalus_snapshot_ctrls(ctx, job, in_req);
	if (ret)
		return ret;
	return daedalus_resolve_refs(ctx, job);
}

/* No fd in any plane until GET_MSG installs one. */
static void daedalus_job_init_fds(struct daedalus_job *msg)
{
	unsigned int i, p;

	for (p = 0; p < DAEDALUS_MAX_MEM_PLANES; p++) {
		msg->output.mem[p].fd = -1;
		msg->capture.mem[p].fd = -1;
		for (i = 0; i < DAEDALUS_MAX_REFS; i++)
			msg->refs[i].buf.mem[p].fd = -1;
	}
}

/* Which of the codec's controls are part of the request itself. */
static u32 daedalus_in_request(struct daedalus_ctx *ctx, struct media_request *req)
{
	struct v4l2_ctrl **ctrls = ctx->ctrls[ctx->coded->codec];
	struct v4l2_ctrl_handler *req_hdl;
	u32 mask = 0;
	unsigned int n;

	if (!req)
		return 0;
	req_hdl = v4l2_ctrl_request_hdl_find(req, &ctx->hdl);
	if (!req_hdl)
		return 0;
	for (n = 0; ctrls[n]; n++)
		if (v4l2_ctrl_request_hdl_ctrl_find(req_hdl, ctrls[n]->id))
			mask |= BIT(n);
	v4l2_ctrl_request_hdl_put(req_hdl);
	return mask;
}

/*
 * Finish a job that the caller has claimed (see daedalus_bridge_timeout()):
 * return its buffers. Takes no V4L2 lock: only the m2m job spinlock and the
 * vb2 done lock.
 */
void daedalus_job_finish(struct daedalus_kjob *job, enum vb2_buffer_state state,
			 const u32 *bytesused, unsigned int num_planes)
{
	struct daedalus_ctx *ctx = job->ctx;
	struct vb2_buffer *dst = &job->dst->vb2_buf;
	unsigned int i;

	if (state == VB2_BUF_STATE_DONE)
		for (i = 0; i < num_planes && i < dst->num_planes; i++)
			if (bytesused[i])
				vb2_set_plane_payload(dst, i, bytesused[i]);
	daedalus_vb_to_buf(dst)->error = state != VB2_BUF_STATE_DONE;
	job->ctx = NULL;
	v4l2_m2m_buf_done_and_job_finish(ctx->m2m->m2m_dev, ctx->fh.m2m_ctx, state);
}

/*
 * Several jobs of a context in flight (max_inflight > 1): device_run() takes
 * both buffers off the m2m queues and finishes the m2m job as soon as the job
 * is queued to the daemon, so that m2m dispatches the next one. The OUTPUT
 * buffer is returned only with its picture, which keeps the request open
 * until then (clients wait on the request, then dequeue CAPTURE). Whatever
 * the order of the daemon's answers, the buffers of a context go back in
 * dispatch order: a done job waits in ctx->inflight for the older ones.
 *
 * Not for an OUTPUT buffer that asks for HOLD (H.264 slices or a first field
 * sharing the CAPTURE buffer with what follows): it runs as the m2m job until
 * its own COMPLETE, alone (see daedalus_job_ready()). A whole H.264 picture,
 * as GStreamer, FFmpeg and Chromium send in frame-based mode, is pipelined
 * like any other codec's; the daemon finds its references by timestamp.
 */
static bool daedalus_can_pipeline(struct daedalus_ctx *ctx,
				  struct vb2_v4l2_buffer *src)
{
	return READ_ONCE(ctx->dev->bridge.max_inflight) > 1 &&
	       !(src->flags & V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF);
}

/*
 * Every OUTPUT queue advertises HOLD_CAPTURE_BUF (see daedalus-h264.c), and
 * v4l2_m2m_job_finish() warns for such queues on 6.12, expecting
 * v4l2_m2m_buf_done_and_job_finish(), which returns the buffers now. So the
 * flag is cleared around the call, under q_lock: every queue ioctl and
 * request queueing holds it, and vb2 reads the flag only there. device_run()
 * may or may not hold q_lock, so it leaves the call to daedalus_finish_work(),
 * or to job_abort when STREAMOFF or close (holding q_lock) gets there first
 * (daedalus_bridge_submit() queues the work and sets finish_pending under the
 * bridge lock, which daedalus_bridge_abort() takes too). Caller holds q_lock.
 */
static void daedalus_finish_m2m_job(struct daedalus_ctx *ctx)
{
	struct vb2_queue *out_q = v4l2_m2m_get_src_vq(ctx->fh.m2m_ctx);
	u32 flags;

	lockdep_assert_held(&ctx->q_lock);
	if (!atomic_xchg(&ctx->finish_pending, 0))
		return;
	flags = out_q->subsystem_flags;
	out_q->subsystem_flags &= ~VB2_V4L2_FL_SUPPORTS_M2M_HOLD_CAPTURE_BUF;
	v4l2_m2m_job_finish(ctx->m2m->m2m_dev, ctx->fh.m2m_ctx);
	out_q->subsystem_flags = flags;
}

void daedalus_finish_work(struct work_struct *work)
{
	struct daedalus_ctx *ctx = container_of(work, struct daedalus_ctx,
						finish_work);

	mutex_lock(&ctx->q_lock);
	daedalus_finish_m2m_job(ctx);
	mutex_unlock(&ctx->q_lock);
}

/* Return the buffers of a done pipelined job; under ctx->done_lock. */
static void daedalus_job_return(struct daedalus_kjob *job)
{
	struct vb2_buffer *dst = &job->dst->vb2_buf;
	unsigned int i;

	if (job->result == VB2_BUF_STATE_DONE)
		for (i = 0; i < DAEDALUS_MAX_MEM_PLANES && i < dst->num_planes; i++)
			if (job->bytesused[i])
				vb2_set_plane_payload(dst, i, job->bytesused[i]);
	daedalus_vb_to_buf(dst)->error = job->result != VB2_BUF_STATE_DONE;
	/* CAPTURE first: returning OUTPUT completes the request. */
	v4l2_m2m_buf_done(job->dst, job->result);
	v4l2_m2m_buf_done(job->src, job->result);
}

/**
 * daedalus_return_done() - return the buffers of a context's done jobs
 * @ctx: the context
 *
 * Returns those at the head of its in-flight list, oldest first, up to the
 * first job not done yet. Takes ctx->done_lock, so that two finishers cannot
 * return out of order, and no V4L2 lock. Asks m2m for the next job when a
 * slot was freed.
 */
void daedalus_return_done(struct daedalus_ctx *ctx)
{
	struct daedalus_bridge *br = &ctx->dev->bridge;
	struct daedalus_kjob *job;
	bool returned = false;

	mutex_lock(&ctx->done_lock);
	while ((job = daedalus_bridge_pop_done(br, ctx))) {
		daedalus_job_return(job);
		job->ctx = NULL;
		atomic_dec(&ctx->nr_inflight);
		daedalus_job_put(job);	/* the list's reference */
		returned = true;
	}
	mutex_unlock(&ctx->done_lock);
	/* A dying context is never scheduled again; release cancels the work. */
	if (returned && !READ_ONCE(ctx->dying))
		schedule_work(&ctx->resched_work);
}

/*
 * try_schedule() may run device_run() itself, so not from the finishers:
 * they may be the daemon's COMPLETE call or hold locks of their own.
 */
void daedalus_resched_work(struct work_struct *work)
{
	struct daedalus_ctx *ctx = container_of(work, struct daedalus_ctx,
						resched_work);

	v4l2_m2m_try_schedule(ctx->fh.m2m_ctx);
}

/**
 * daedalus_job_complete() - finish a claimed job, whichever path it took
 * @job:	the job, claimed by the caller
 * @state:	DONE or ERROR
 * @bytesused:	CAPTURE payloads (DONE only)
 * @num_planes:	entries of @bytesused
 */
void daedalus_job_complete(struct daedalus_kjob *job, enum vb2_buffer_state state,
			   const u32 *bytesused, unsigned int num_planes)
{
	struct daedalus_ctx *ctx = job->ctx;
	unsigned int i;

	if (!job->src) {
		daedalus_job_finish(job, state, bytesused, num_planes);
		return;
	}
	for (i = 0; i < num_planes && i < DAEDALUS_MAX_MEM_PLANES; i++)
		job->bytesused[i] = bytesused[i];
	daedalus_bridge_mark_done(job->bridge, job, state);
	daedalus_return_done(ctx);
}

/**
 * daedalus_fail_inflight() - fail every pipelined job of a context, in order
 * @ctx: the context (stop_streaming of either queue, under q_lock)
 *
 * Their m2m jobs are finished, so v4l2_m2m_cancel_job() does not see them,
 * and vb2 wants every buffer back before stop_streaming returns.
 */
void daedalus_fail_inflight(struct daedalus_ctx *ctx)
{
	if (!atomic_read(&ctx->nr_inflight))
		return;
	daedalus_bridge_cancel_inflight(&ctx->dev->bridge, ctx);
	daedalus_return_done(ctx);
}

/*
 * Without a daemon every frame fails: say so once per context and count the
 * rest, which the context's close line reports (docs/kernel.md). Aborting or
 * closing is normal; a table past its hard limit (job_ready holds contexts
 * back well before) and a job that cannot be built are worth a line.
 */
static void daedalus_log_failed_run(struct daedalus_ctx *ctx, int why)
{
	struct daedalus_dev *dev = ctx->dev;

	switch (why) {
	case -ECANCELED:
		dd_dbg(1, dev, "ctx %u: job refused (aborted or closing)\n", ctx->id);
		break;
	case -ENOTCONN:
		if (!ctx->nodaemon_fails++)
			dev_warn(dev->v4l2_dev.dev,
				 "ctx %u: no decoding daemon attached, failing frames\n",
				 ctx->id);
		break;
	case -ENOSPC:
		dev_warn_ratelimited(dev->v4l2_dev.dev,
				     "ctx %u: job table full (%u jobs), failing a frame\n",
				     ctx->id, DAEDALUS_MAX_JOBS_HARD);
		break;
	default:
		dev_err_ratelimited(dev->v4l2_dev.dev, "ctx %u: cannot build job: %d\n",
				    ctx->id, why);
	}
}

static void daedalus_device_run(void *priv)
{
	struct daedalus_ctx *ctx = priv;
	struct daedalus_dev *dev = ctx->dev;
	struct vb2_v4l2_buffer *src, *dst;
	struct media_request *req;
	struct daedalus_kjob *job = NULL;
	bool pipelined = false;
	u32 in_req;
	int ret, why;

	src = v4l2_m2m_next_src_buf(ctx->fh.m2m_ctx);
	dst = v4l2_m2m_next_dst_buf(ctx->fh.m2m_ctx);
	req = src->vb2_buf.req_obj.req;

	in_req = daedalus_in_request(ctx, req);
	/*
	 * A control the request cannot apply (a bit depth change while
	 * CAPTURE buffers exist) stops the others too: the job fails.
	 */
	ret = v4l2_ctrl_request_setup(req, &ctx->hdl);
	v4l2_m2m_buf_copy_metadata(src, dst, true);
	src->sequence = ctx->out_seq++;
	if (!ctx->out_seq)
		ctx->out_seq = 1;
	dst->sequence = ctx->cap_seq;
	if (!(src->flags & V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF))
		ctx->cap_seq++;
	dst->field = V4L2_FIELD_NONE;

	/* Also for a request that failed: a pipelined one fails in order. */
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job && !ret)
		ret = -ENOMEM;
	if (job) {
		kref_init(&job->ref);
		INIT_LIST_HEAD(&job->table);
		INIT_LIST_HEAD(&job->node.entry);
		job->node.type = DAEDALUS_MSG_JOB;
		INIT_LIST_HEAD(&job->cancel.entry);
		INIT_DELAYED_WORK(&job->watchdog, daedalus_watchdog_work);
		job->bridge = &dev->bridge;
		job->ctx = ctx;
		job->dst = dst;
		job->msg.job_id = atomic64_inc_return(&dev->bridge.next_job_id);
		daedalus_job_init_fds(&job->msg);
		if (!ret)
			ret = daedalus_job_fill(ctx, job, src, in_req);
	}
	if (job && daedalus_can_pipeline(ctx, src)) {
		pipelined = true;
		job->src = src;
	}
	/* The request's controls are applied and copied: let it complete. */
	v4l2_ctrl_request_complete(req, &ctx->hdl);

	switch (daedalus_bridge_submit(&dev->bridge, ctx, job, ret, pipelined, &why)) {
	case DAEDALUS_SUBMITTED:
		/* Pipelined: it may be finished, and the context gone, from here on. */
		return;
	case DAEDALUS_SUBMIT_FAILED_IN_ORDER:
		/*
		 * Failed, and on ctx->inflight with its buffers: they go back
		 * after those of the older jobs still in flight (now, if none
		 * is). finish_work (or job_abort) finishes the m2m job, queued
		 * only now, so that the next job of the context does not run
		 * while this one still uses the context.
		 */
		daedalus_log_failed_run(ctx, why);
		daedalus_return_done(ctx);
		schedule_work(&ctx->finish_work);
		break;
	case DAEDALUS_SUBMIT_FAILED:
		daedalus_log_failed_run(ctx, why);
		daedalus_vb_to_buf(&dst->vb2_buf)->error = true;
		v4l2_m2m_buf_done_and_job_finish(ctx->m2m->m2m_dev, ctx->fh.m2m_ctx,
						 VB2_BUF_STATE_ERROR);
		break;
	}
	/*
	 * Failed here: submit counted this in ctx->finishing, so close() does
	 * not free the context while it is still used above.
	 */
	if (job)
		daedalus_job_put(job);
	daedalus_bridge_finished(ctx);
}

void daedalus_watchdog_work(struct work_struct *work)
{
	struct daedalus_kjob *job = container_of(to_delayed_work(work),
						 struct daedalus_kjob, watchdog);
	struct daedalus_bridge *br = job->bridge;
	struct device *dev = container_of(br, struct daedalus_dev, bridge)->v4l2_dev.dev;
	struct daedalus_ctx *ctx;
	u32 ctx_id = 0;

	switch (daedalus_bridge_timeout(br, job, &ctx_id)) {
	case DAEDALUS_TIMEOUT_WAIT:
		dev_warn_ratelimited(dev, "ctx %u: job %llu timed out after %u ms, waiting for the daemon to let go of its buffers\n",
				     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		break;
	case DAEDALUS_TIMEOUT_CLAIMED:
		ctx = job->ctx;
		if (job->timed_out)
			dev_warn_ratelimited(dev, "ctx %u: job %llu: the daemon did not let go of it in another %u ms, failing it while the daemon may still write its CAPTURE buffer\n",
					     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		else
			dev_warn_ratelimited(dev, "ctx %u: job %llu timed out after %u ms\n",
					     ctx_id, job->msg.job_id, daedalus_job_timeout_ms);
		daedalus_job_complete(job, VB2_BUF_STATE_ERROR, NULL, 0);
		daedalus_bridge_finished(ctx);
		daedalus_job_put(job);	/* the table's reference */
		break;
	case DAEDALUS_TIMEOUT_NONE:
		break;
	}
	daedalus_job_put(job);		/* the watchdog's reference */
}

/*
 * STREAMOFF or close: v4l2_m2m_cancel_job() waits for the running job
 * without a timeout, so the job fails now instead of waiting for the daemon,
 * which is told to stop working on it.
 */
static void daedalus_job_abort(void *priv)
{
	struct daedalus_ctx *ctx = priv;
	struct daedalus_kjob *job;

	job = daedalus_bridge_abort(&ctx->dev->bridge, ctx);
	if (!job) {
		/* A pipelined dispatch waiting for finish_work: not under q_lock. */
		daedalus_finish_m2m_job(ctx);
		return;
	}
	daedalus_job_finish(job, VB2_BUF_STATE_ERROR, NULL, 0);
	daedalus_job_put(job);
}

/*
 * Flow control of the pipelined path: no new job while max_inflight are out,
 * and a job that will not be pipelined (an OUTPUT buffer asking for HOLD)
 * only once none is: it runs as the m2m job until its own COMPLETE and
 * returns its buffers then, which would be ahead of older jobs still in
 * flight. Called under the m2m job spinlock (the next OUTPUT buffer is read
 * under its queue spinlock, as the m2m core does there), so only reads, and
 * takes the bridge's irq-safe wait_lock for the job table's room.
 */
static int daedalus_job_ready(void *priv)
{
	struct daedalus_ctx *ctx = priv;
	unsigned int n = atomic_read(&ctx->nr_inflight);
	struct vb2_v4l2_buffer *src;

	/* A full job table holds the context back; see daedalus_bridge_has_room(). */
	if (!daedalus_bridge_has_room(&ctx->dev->bridge, ctx))
		return 0;
	if (!n)
		return 1;
	if (n >= READ_ONCE(ctx->dev->bridge.max_inflight))
		return 0;
	/*
	 * A job beyond the first only while the device-wide job table is
	 * less than half full: this context gets rescheduled when one of
	 * its jobs comes back, while a stream with none out finding the table
	 * full would wait behind the extra jobs of pipelined contexts.
	 */
	if (READ_ONCE(ctx->dev->bridge.nr_jobs) >= DAEDALUS_MAX_JOBS / 2)
		return 0;
	src = v4l2_m2m_next_src_buf(ctx->fh.m2m_ctx);
	return src && daedalus_can_pipeline(ctx, src);
}

const struct v4l2_m2m_ops daedalus_m2m_ops = {
	.device_run = daedalus_device_run,
	.job_ready = daedalus_job_ready,
	.job_abort = daedalus_job_abort,
};
