// SPDX-License-Identifier: BSD-2-Clause
/* H.264 in FFmpeg's v4l2-request pattern: see dv_h264_ffmpeg.h. */
#include <stdio.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "dv_h264_ffmpeg.h"
#include "dv_request_pipe.h"

/* FFmpeg's OUTPUT buffer size for H.264, and its first frame pool */
#define OUT_SIZE	(4u << 20)
#define INITIAL_POOL	3

/* What a CAPTURE buffer in flight holds, for its check when it comes back. */
struct pending {
	long job;
	uint32_t crop_x, crop_y, crop_w, crop_h;
};

struct run {
	struct dv_rp rp;
	struct pending pend[RP_MAX_CAPTURE];
	long failed;
};

/* A CAPTURE buffer came back: its picture's MD5, cropped, read through the dma-buf. */
static int picture_back(void *opaque, unsigned int idx, uint32_t flags)
{
	struct run *r = opaque;
	const struct pending *pd = &r->pend[idx];
	char md5[33];

	/* the pipe counted it already: the frames before it are back */
	if (pd->job != r->rp.completed - 1) {
		fprintf(stderr, "request %ld came back as the %ld-th\n", pd->job,
			r->rp.completed);
		return -1;
	}
	if (flags & V4L2_BUF_FLAG_ERROR) {
		fprintf(stderr, "request %ld (CAPTURE %u) came back with ERROR\n", pd->job, idx);
		printf("pic %ld FAILED\n", pd->job);
		r->failed++;
		return 0;
	}
	if (dv_rp_md5(&r->rp, idx, pd->crop_x, pd->crop_y, pd->crop_w, pd->crop_h, md5))
		return -1;
	printf("pic %ld %ux%u %s\n", pd->job, pd->crop_w, pd->crop_h, md5);
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
	fprintf(stderr, "dv-h264client: %s + %s, CAPTURE %.4s, HOLD_CAPTURE_BUF %s\n",
		r->rp.video, r->rp.media, (const char *)&r->rp.cap_fmt.fmt.pix_mp.pixelformat,
		r->rp.can_hold ? "offered" : "not offered");
	return 0;
}

int dv_h264_ffmpeg_run(struct h264_client *client)
{
	static struct run run;
	static struct h264_job job;
	struct run *r = &run;
	bool started = false;
	long n = 0;
	int ret, status = 0;

	while ((ret = h264_client_next(client, &job)) == 1) {
		struct v4l2_ext_control c[4] = {
			{ .id = V4L2_CID_STATELESS_H264_SPS, .size = sizeof(job.sps),
			  .ptr = &job.sps },
			{ .id = V4L2_CID_STATELESS_H264_PPS, .size = sizeof(job.pps),
			  .ptr = &job.pps },
			{ .id = V4L2_CID_STATELESS_H264_SCALING_MATRIX, .size = sizeof(job.matrix),
			  .ptr = &job.matrix },
			{ .id = V4L2_CID_STATELESS_H264_DECODE_PARAMS, .size = sizeof(job.dp),
			  .ptr = &job.dp },
		};
		struct pending *pd;
		uint64_t ts;
		int cap;

		if (!started && start(r, &job))
			return 1;
		started = true;
		for (unsigned int i = 0; i < V4L2_H264_NUM_DPB_ENTRIES; i++) {
			int named = dv_rp_named(&r->rp, job.dp.dpb[i].reference_ts);

			if ((job.dp.dpb[i].flags & V4L2_H264_DPB_ENTRY_FLAG_VALID) && named >= 0)
				dv_rp_needs(&r->rp, (unsigned int)named);
		}
		cap = dv_rp_pick_capture(&r->rp);
		if (cap < 0)
			return 1;
		ts = dv_rp_ts((unsigned int)cap);
		pd = &r->pend[cap];
		*pd = (struct pending){ .job = n, .crop_x = job.crop_x, .crop_y = job.crop_y,
					.crop_w = job.crop_w, .crop_h = job.crop_h };
		if (dv_rp_submit(&r->rp, (unsigned int)cap, ts, c, 4, job.buf, job.size))
			return 1;
		h264_client_done(client, &job, ts);
		n++;
		/* hand back what completed, as the hwaccel does before its next frame */
		if (dv_rp_reap(&r->rp, 0))
			return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "GStreamer's parser failed after %ld pictures\n", n);
		status = 1;
	}
	if (started && dv_rp_drain(&r->rp))
		status = 1;
	if (r->failed)
		status = 1;
	fprintf(stderr, "dv-h264client: %ld requests, %ld failed, up to %u in flight, CAPTURE "
		"pool grew to %u\n", n, r->failed, r->rp.max_in_flight, r->rp.ncap);
	if (started)
		dv_rp_close(&r->rp);
	return status;
}
