// SPDX-License-Identifier: GPL-2.0
/*
 * daedalus-v4l2: the m2m operations: turning a request into a job for the
 * daemon (device_run), flow control (job_ready) and job_abort. What becomes
 * of a job once it is published is in daedalus-job.c.
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
	/* a reference may be finished meanwhile (jobs in flight) */
	desc->flags = READ_ONCE(buf->error) ? DAEDALUS_BUF_FLAG_ERROR : 0;
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
			     struct vb2_v4l2_buffer *src, bool hold, bool new_picture,
			     u32 in_req)
{
	struct daedalus_job *msg = &job->msg;
	struct daedalus_buf *dst = daedalus_vb_to_buf(&job->dst->vb2_buf);
	struct vb2_buffer *svb = &src->vb2_buf;
	u32 payload, offset;
	int ret;

	msg->ctx_id = ctx->id;
	msg->codec = ctx->coded->codec;
	msg->sequence = src->sequence;
	/*
	 * A new picture in the buffer: the verdict on the one it held goes.
	 * Not at buf_queue: until this job writes it, the buffer still holds
	 * that picture, and a job naming its timestamp (the client queued it
	 * again, the stream still refers to it) must see ERROR if it failed.
	 * Not at the finish either: with jobs in flight (max_inflight > 1)
	 * the next job, built before this one finishes, may name this buffer
	 * as its reference; it is this job's picture then, whose verdict the
	 * daemon learns itself (a failure in flight flags it at once:
	 * daedalus_cap_failed()).
	 */
	if (new_picture) {
		msg->flags |= DAEDALUS_JOB_FLAG_NEW_FRAME;
		WRITE_ONCE(dst->error, false);
	}
	if (hold)
		msg->flags |= DAEDALUS_JOB_FLAG_HOLD;
	/*
	 * A piece lost before the OUTPUT stream restarted belongs to a picture
	 * the client has abandoned (a buffer held across STREAMOFF of OUTPUT
	 * alone): what is decoded into it from now on starts anew.
	 */
	if (!src->sequence)
		dst->lost = false;
	/* an earlier piece of this picture failed: see daedalus_cap_done() */
	if (dst->lost)
		msg->flags |= DAEDALUS_JOB_FLAG_LOST_PIECE;
	/* STREAM_START: at the submit (daedalus_ctx.stream_start) */
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
static bool daedalus_can_pipeline(struct daedalus_ctx *ctx, bool hold)
{
	return READ_ONCE(ctx->dev->bridge.max_inflight) > 1 && !hold;
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
	bool pipelined = false, hold, new_picture;
	u32 in_req;
	int ret, why;

	src = v4l2_m2m_next_src_buf(ctx->fh.m2m_ctx);
	dst = v4l2_m2m_next_dst_buf(ctx->fh.m2m_ctx);
	req = src->vb2_buf.req_obj.req;
	/*
	 * Read once: V4L2_DEC_CMD_FLUSH clears the flag under the m2m job
	 * spinlock, and device_run() does not always hold q_lock. The job,
	 * the CAPTURE sequence and the pipelining follow this one value; a
	 * flag cleared afterwards releases the CAPTURE buffer at the job's
	 * finish, marked unwritten (daedalus_job_finish()).
	 */
	hold = READ_ONCE(src->flags) & V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF;

	in_req = daedalus_in_request(ctx, req);
	/*
	 * A control the request cannot apply (a bit depth change while
	 * CAPTURE buffers exist) stops the others too: the job fails.
	 */
	ret = v4l2_ctrl_request_setup(req, &ctx->hdl);
	/*
	 * The job's first piece of a picture: a CAPTURE buffer that holds no
	 * piece of this timestamp, or one queued since its last job
	 * (daedalus_buf.fresh: Chromium queues a buffer again with its old
	 * timestamp). The job says so to the daemon (NEW_FRAME), and the
	 * picture is numbered here: a held picture whose rest never comes (the
	 * m2m core hands it back with ERROR) keeps its own number, and the
	 * next picture gets the following one, as for any dropped frame.
	 * Read from the buffers before their metadata is copied, not from
	 * m2m's new_frame: the m2m core derives that from the OUTPUT queue's
	 * HOLD_CAPTURE_BUF flag, which daedalus_finish_m2m_job() clears for a
	 * moment under q_lock only, while the module's own finishers (a HOLD
	 * job's daedalus_job_finish(), daedalus_return_done()) and
	 * v4l2_m2m_request_queue() schedule the context without q_lock: a
	 * second field scheduled then would be told it starts a picture, and
	 * the daemon would drop the first.
	 */
	new_picture = !dst->vb2_buf.copied_timestamp ||
		      dst->vb2_buf.timestamp != src->vb2_buf.timestamp ||
		      daedalus_vb_to_buf(&dst->vb2_buf)->fresh;
	v4l2_m2m_buf_copy_metadata(src, dst, true);
	src->sequence = ctx->out_seq++;
	if (!ctx->out_seq)
		ctx->out_seq = 1;
	if (new_picture)
		dst->sequence = ctx->cap_seq++;
	/*
	 * Here, not where the job is filled: a first piece that fails before
	 * (its request's controls refused, no memory for its controls) has still
	 * started the picture, and the next piece the held buffer gets must
	 * not number it again nor tell the daemon it starts one.
	 */
	daedalus_vb_to_buf(&dst->vb2_buf)->fresh = false;
	dst->field = V4L2_FIELD_NONE;

	/*
	 * Reserved when the OUTPUT buffer was prepared, so that it is there
	 * also for a request that failed: a pipelined one fails in order.
	 * Without one (vb2 ran a buffer it did not prepare) the job fails at
	 * once, ahead of any in flight.
	 */
	job = daedalus_job_take_reserved(daedalus_vb_to_buf(&src->vb2_buf));
	if (WARN_ON_ONCE(!job) && !ret)
		ret = -ENOMEM;
	if (job) {
		kref_init(&job->ref);
		INIT_LIST_HEAD(&job->table);
		INIT_LIST_HEAD(&job->node.entry);
		job->node.type = DAEDALUS_MSG_JOB;
		INIT_LIST_HEAD(&job->cancel.entry);
		INIT_DELAYED_WORK(&job->watchdog, daedalus_watchdog_work);
		job->bridge = &dev->bridge;
		atomic_inc(&dev->bridge.live_jobs);
		job->ctx = ctx;
		job->dst = dst;
		job->msg.job_id = atomic64_inc_return(&dev->bridge.next_job_id);
		daedalus_job_init_fds(&job->msg);
		if (!ret)
			ret = daedalus_job_fill(ctx, job, src, hold, new_picture,
						in_req);
	}
	if (job && daedalus_can_pipeline(ctx, hold)) {
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
		daedalus_cap_done(&dst->vb2_buf, true, hold);
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
	return src && daedalus_can_pipeline(ctx, src->flags &
					    V4L2_BUF_FLAG_M2M_HOLD_CAPTURE_BUF);
}

const struct v4l2_m2m_ops daedalus_m2m_ops = {
	.device_run = daedalus_device_run,
	.job_ready = daedalus_job_ready,
	.job_abort = daedalus_job_abort,
};
