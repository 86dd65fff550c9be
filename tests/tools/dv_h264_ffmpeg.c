// SPDX-License-Identifier: BSD-2-Clause
/* H.264 in FFmpeg's v4l2-request pattern: see dv_h264_ffmpeg.h. */
#include <limits.h>
#include <stdio.h>
#include <linux/v4l2-controls.h>

#include "dv_h264_ffmpeg.h"
#include "dv_request_pipe.h"

/* FFmpeg's OUTPUT buffer size for H.264; its first frame pool: 1 + 2 of the hwaccel, + 3 */
#define OUT_SIZE	(4u << 20)
#define INITIAL_POOL	6

struct run {
	struct dv_rp rp;
	/*
	 * What each CAPTURE buffer in flight holds, for its check when it comes back: job, the
	 * request that starts its frame, or -1 for a first field (half a picture, not shown)
	 */
	struct {
		long job;
		uint32_t crop_x, crop_y, crop_w, crop_h;
	} pend[RP_MAX_CAPTURE];
	/*
	 * Field pictures: the hwaccel sends each field alone, the second into the CAPTURE
	 * buffer of the first, queued again once the first is back (no HOLD_CAPTURE_BUF)
	 */
	int field_cap;		/* the first field's CAPTURE buffer, -1: none open */
	long field_job;		/* its request */
	int32_t field_poc;
	bool field_failed;	/* it came back with ERROR: so does its frame */
	/*
	 * FFmpeg's output: decoded pictures wait here in POC order until more than @delay do,
	 * and a picture goes to the application (its request waited for) when it leaves
	 */
	struct {
		int32_t poc;
		unsigned int cap;
	} held[RP_MAX_CAPTURE];
	unsigned int nheld;
	int delay;
	int32_t last_out; /* the POC last handed out (INT_MIN: none since the IDR) */
	long failed;
};

/* A CAPTURE buffer came back: its picture's MD5, cropped, read through the dma-buf. */
static int picture_back(void *opaque, unsigned int idx, uint32_t flags)
{
	struct run *r = opaque;
	char md5[33];

	if (r->pend[idx].job < 0) {
		/* a first field: its frame is checked when the second field is back */
		r->field_failed = flags & V4L2_BUF_FLAG_ERROR;
		return 0;
	}
	if ((flags & V4L2_BUF_FLAG_ERROR) || r->field_failed) {
		r->field_failed = false;
		fprintf(stderr, "request %ld (CAPTURE %u) came back with ERROR\n", r->pend[idx].job,
			idx);
		printf("pic %ld FAILED\n", r->pend[idx].job);
		r->failed++;
		return 0;
	}
	if (dv_rp_md5(&r->rp, idx, r->pend[idx].crop_x, r->pend[idx].crop_y, r->pend[idx].crop_w,
		      r->pend[idx].crop_h, md5))
		return -1;
	printf("pic %ld %ux%u %s\n", r->pend[idx].job, r->pend[idx].crop_w, r->pend[idx].crop_h,
	       md5);
	return 0;
}

/*
 * The picture of lowest POC leaves the output queue: the application gets it once its
 * request is complete. A POC below the last one handed out means the queue was too short:
 * FFmpeg then lengthens it, as here.
 */
static int output_one(struct run *r)
{
	unsigned int k = 0;

	for (unsigned int i = 1; i < r->nheld; i++)
		if (r->held[i].poc < r->held[k].poc)
			k = i;
	if (r->held[k].poc < r->last_out)
		r->delay++;
	r->last_out = r->held[k].poc;
	if (dv_rp_wait_capture(&r->rp, r->held[k].cap))
		return -1;
	r->held[k] = r->held[--r->nheld];
	return 0;
}

static int start(struct run *r, struct h264_job *job)
{
	struct v4l2_ext_control sps = {
		.id = V4L2_CID_STATELESS_H264_SPS, .size = sizeof(job->sps), .ptr = &job->sps,
	};
	struct v4l2_ext_control modes[2] = {
		{ .id = V4L2_CID_STATELESS_H264_DECODE_MODE },
		{ .id = V4L2_CID_STATELESS_H264_START_CODE },
	};

	if (dv_rp_open(&r->rp, V4L2_PIX_FMT_H264_SLICE, job->width, job->height, OUT_SIZE,
		       &sps, 1))
		return -1;
	/* the hwaccel takes both modes from the defaults and sets them back once */
	modes[0].value = (int32_t)dv_rp_default(&r->rp, modes[0].id);
	modes[1].value = (int32_t)dv_rp_default(&r->rp, modes[1].id);
	if (modes[0].value != V4L2_STATELESS_H264_DECODE_MODE_FRAME_BASED ||
	    modes[1].value != V4L2_STATELESS_H264_START_CODE_ANNEX_B) {
		fprintf(stderr, "defaults DECODE_MODE %d START_CODE %d: this client sends frames "
			"with start codes only\n", modes[0].value, modes[1].value);
		return -1;
	}
	if (dv_rp_set(&r->rp, modes, 2))
		return -1;
	if (dv_rp_start(&r->rp, INITIAL_POOL, picture_back, r))
		return -1;
	/* the SPS's reorder depth when its VUI gives one, else none until one shows */
	r->delay = job->reorder > 0 ? job->reorder : 0;
	r->field_cap = -1;
	r->last_out = INT_MIN;
	fprintf(stderr, "dv-h264client: %s + %s, CAPTURE %.4s, HOLD_CAPTURE_BUF %s\n",
		r->rp.video, r->rp.media, (const char *)&r->rp.cap_fmt.fmt.pix_mp.pixelformat,
		r->rp.can_hold ? "offered" : "not offered");
	return 0;
}

/* One picture: its controls into a request, then whatever FFmpeg's output lets out. */
static int one_picture(struct run *r, struct h264_client *client, struct h264_job *job)
{
	struct v4l2_ext_control c[4] = {
		{ .id = V4L2_CID_STATELESS_H264_SPS, .size = sizeof(job->sps), .ptr = &job->sps },
		{ .id = V4L2_CID_STATELESS_H264_PPS, .size = sizeof(job->pps), .ptr = &job->pps },
		{ .id = V4L2_CID_STATELESS_H264_SCALING_MATRIX, .size = sizeof(job->matrix),
		  .ptr = &job->matrix },
		{ .id = V4L2_CID_STATELESS_H264_DECODE_PARAMS, .size = sizeof(job->dp),
		  .ptr = &job->dp },
	};
	long n = r->rp.submitted;
	int cap;

	/* an IDR: every picture before it goes out first */
	if (job->dp.flags & V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC) {
		while (r->nheld)
			if (output_one(r))
				return -1;
		r->last_out = INT_MIN;
	}
	for (unsigned int i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++) {
		int named = dv_rp_named(&r->rp, job->dp.dpb[i].reference_ts);

		if ((job->dp.dpb[i].flags & V4L2_H264_DPB_ENTRY_FLAG_VALID) && named >= 0)
			dv_rp_needs(&r->rp, (unsigned int)named);
	}
	if (r->field_cap >= 0 && !job->second_field) {
		fprintf(stderr, "request %ld: a first field whose second never came: this client "
			"shows no lone field\n", r->field_job);
		return -1;
	}
	if (job->second_field && r->field_cap >= 0) {
		/* into its first field's buffer, once the hwaccel has that back */
		cap = r->field_cap;
		if (dv_rp_wait_capture(&r->rp, (unsigned int)cap))
			return -1;
		n = r->field_job;
	} else {
		cap = dv_rp_pick_capture(&r->rp);
		if (cap < 0)
			return -1;
	}
	r->field_cap = -1;
	if ((job->dp.flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC) && !job->second_field) {
		r->field_cap = cap;
		r->field_job = n;
		r->field_poc = job->dp.flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD ?
			       job->dp.bottom_field_order_cnt : job->dp.top_field_order_cnt;
		n = -1;
	}
	r->pend[cap].job = n;
	r->pend[cap].crop_x = job->crop_x;
	r->pend[cap].crop_y = job->crop_y;
	r->pend[cap].crop_w = job->crop_w;
	r->pend[cap].crop_h = job->crop_h;
	if (dv_rp_submit(&r->rp, (unsigned int)cap, dv_rp_ts((unsigned int)cap), c, 4, job->buf,
			 job->size))
		return -1;
	h264_client_done(client, job, dv_rp_ts((unsigned int)cap));
	if (n < 0)
		return dv_rp_reap(&r->rp, false); /* a frame goes out once both fields are in */
	{
		int32_t poc = job->dp.top_field_order_cnt < job->dp.bottom_field_order_cnt ?
			      job->dp.top_field_order_cnt : job->dp.bottom_field_order_cnt;

		/* a frame of fields: the lower of its fields' POCs, as FFmpeg orders it */
		if (job->second_field && r->field_poc < poc)
			poc = r->field_poc;
		r->held[r->nheld].poc = poc;
	}
	r->held[r->nheld++].cap = (unsigned int)cap;
	while ((int)r->nheld > r->delay)
		if (output_one(r))
			return -1;
	/* hand back what completed, as the hwaccel does before its next frame */
	return dv_rp_reap(&r->rp, false);
}

int dv_h264_ffmpeg_run(struct h264_client *client)
{
	static struct run run;
	static struct h264_job job;
	struct run *r = &run;
	bool started = false;
	int ret, status = 0;

	while ((ret = h264_client_next(client, &job)) == 1) {
		if (!started && start(r, &job))
			return 1;
		started = true;
		if (one_picture(r, client, &job))
			return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "GStreamer's parser failed after %ld pictures\n", r->rp.submitted);
		status = 1;
	}
	while (started && r->nheld)
		if (output_one(r))
			return 1;
	if (started && dv_rp_drain(&r->rp))
		status = 1;
	if (r->failed)
		status = 1;
	fprintf(stderr, "dv-h264client: %ld requests, %ld failed, up to %u in flight, CAPTURE "
		"pool grew to %u\n", r->rp.submitted, r->failed, r->rp.max_in_flight, r->rp.ncap);
	if (started) {
		dv_rp_close_node(&r->rp);
		dv_rp_release_pool(&r->rp);
	}
	return status;
}
