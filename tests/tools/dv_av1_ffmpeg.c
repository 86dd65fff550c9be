// SPDX-License-Identifier: BSD-2-Clause
/* AV1 in FFmpeg's v4l2-request pattern: see dv_av1_ffmpeg.h. */
#include <stdio.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "av1_client.h"
#include "dv_av1_ffmpeg.h"
#include "dv_display_order.h"

/* FFmpeg's OUTPUT buffer size for AV1; its first frame pool (not read in its sources: 8) */
#define OUT_SIZE	(3u << 20)
#define INITIAL_POOL	8

/* The stream's current setup */
struct run {
	struct dv_display d;
	uint32_t w, h, fourcc;
};

/* The hwaccel set up for this sequence: a fresh probe, a fresh pool. */
static int start(struct run *r, struct av1_job *job, uint32_t w, uint32_t h)
{
	struct v4l2_ext_control init = {
		.id = V4L2_CID_STATELESS_AV1_SEQUENCE, .size = sizeof(job->seq), .ptr = &job->seq,
	};
	uint32_t fourcc = job->seq.bit_depth > 8 ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;

	if (r->d.open && dv_display_stop(&r->d))
		return -1;
	if (dv_rp_open(&r->d.rp, V4L2_PIX_FMT_AV1_FRAME, w, h, OUT_SIZE, &init, 1) ||
	    dv_rp_start(&r->d.rp, INITIAL_POOL, dv_display_back, &r->d))
		return -1;
	r->d.open = true;
	r->w = w;
	r->h = h;
	r->fourcc = fourcc;
	if (r->d.rp.cap_fmt.fmt.pix_mp.pixelformat != fourcc) {
		fprintf(stderr, "CAPTURE %.4s for a stream of %.4s\n",
			(const char *)&r->d.rp.cap_fmt.fmt.pix_mp.pixelformat, (const char *)&fourcc);
		return -1;
	}
	fprintf(stderr, "dv-av1client: %s + %s, %ux%u, CAPTURE %.4s\n", r->d.rp.video,
		r->d.rp.media, w, h, (const char *)&fourcc);
	return 0;
}

/* One frame of a temporal unit: shown again, or decoded. 0 or -1. */
static int one_frame(struct run *r, struct av1_client *client, struct av1_job *job,
		     int slot_buf[8], long *display)
{
	uint32_t w = job->frame.upscaled_width, h = job->frame.frame_height_minus_1 + 1;
	struct v4l2_ext_control c[4];
	uint32_t fourcc = job->seq.bit_depth > 8 ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
	unsigned int n;
	int cap;

	if (job->show_existing) {
		if (dv_display_again(&r->d, slot_buf[job->show_slot & 7], (*display)++))
			return -1;
		if (job->show_existing_key)
			for (int i = 0; i < 8; i++)
				slot_buf[i] = slot_buf[job->show_slot & 7];
		av1_client_done(client, job, 0);
		return 0;
	}
	if (!r->d.open || (job->frame.frame_type == V4L2_AV1_KEY_FRAME &&
			 (w != r->w || h != r->h || fourcc != r->fourcc))) {
		if (start(r, job, w, h))
			return -1;
		for (int i = 0; i < 8; i++)
			slot_buf[i] = -1;
	}
	/* what the slots hold may be read by this frame */
	for (int i = 0; i < 8; i++)
		if (slot_buf[i] >= 0)
			dv_rp_needs(&r->d.rp, (unsigned int)slot_buf[i]);
	cap = dv_rp_pick_capture(&r->d.rp);
	if (cap < 0)
		return -1;
	dv_display_expect(&r->d, (unsigned int)cap, job->fh.show_frame ? (*display)++ : -1, w, h);
	n = av1_job_controls(job, c, true);
	if (dv_rp_submit(&r->d.rp, (unsigned int)cap, dv_rp_ts((unsigned int)cap), c, n, job->buf,
			 job->size))
		return -1;
	for (int i = 0; i < 8; i++)
		if (job->fh.refresh_frame_flags & (1u << i))
			slot_buf[i] = cap;
	av1_client_done(client, job, dv_rp_ts((unsigned int)cap));
	return dv_rp_reap(&r->d.rp, 0);
}

int dv_av1_ffmpeg_run(const struct ivf *ivf)
{
	static struct run run;
	static struct av1_job job;
	struct av1_client client;
	int slot_buf[8], ret = 0;
	long display = 0;

	if (av1_client_init(&client, AV1_LAYOUT_TILES))
		return 1;
	for (int i = 0; i < 8; i++)
		slot_buf[i] = -1;
	for (size_t f = 0; f < ivf->count && !ret; f++) {
		av1_client_start_tu(&client, ivf->frames[f].data, ivf->frames[f].size);
		while (!ret && (ret = av1_client_next(&client, &job, 0)) == 1)
			ret = one_frame(&run, &client, &job, slot_buf, &display);
		if (ret < 0)
			fprintf(stderr, "temporal unit %zu: not decoded\n", f);
	}
	if (run.d.open && dv_display_stop(&run.d))
		ret = -1;
	fprintf(stderr, "dv-av1client: %zu temporal units, %ld failed, %ld pictures shown, up to "
		"%u in flight, CAPTURE pool up to %u\n", ivf->count, run.d.failed, display,
		run.d.max_in_flight, run.d.max_pool);
	av1_client_free(&client);
	return ret || run.d.failed ? 1 : 0;
}
