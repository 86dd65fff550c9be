// SPDX-License-Identifier: BSD-2-Clause
/* AV1 in FFmpeg's v4l2-request pattern: see dv_av1_ffmpeg.h. */
#include <stdio.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "av1_client.h"
#include "dv_av1_ffmpeg.h"
#include "dv_display_order.h"

/* FFmpeg's OUTPUT buffer size for AV1; its first frame pool: the hwaccel's 1 + 2, + 3 */
#define OUT_SIZE	(3u << 20)
#define INITIAL_POOL	6

/*
 * The hwaccel set up once for the stream, at the sequence header's largest frame size (FFmpeg's
 * AV1 decoder does not set it up again within a stream).
 */
static int start(struct dv_display *d, struct av1_job *job)
{
	struct v4l2_ext_control init = {
		.id = V4L2_CID_STATELESS_AV1_SEQUENCE, .size = sizeof(job->seq), .ptr = &job->seq,
	};
	uint32_t fourcc = job->seq.bit_depth > 8 ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
	uint32_t w = job->seq.max_frame_width_minus_1 + 1u;
	uint32_t h = job->seq.max_frame_height_minus_1 + 1u;
	uint32_t got;

	if (dv_rp_open(&d->rp, V4L2_PIX_FMT_AV1_FRAME, w, h, OUT_SIZE, &init, 1) ||
	    dv_rp_start(&d->rp, INITIAL_POOL, dv_display_back, d))
		return -1;
	d->open = true;
	got = d->rp.cap_fmt.fmt.pix_mp.pixelformat;
	if (got != fourcc) {
		fprintf(stderr, "CAPTURE %.4s for a stream of %.4s\n", (const char *)&got,
			(const char *)&fourcc);
		return -1;
	}
	fprintf(stderr, "dv-av1client: %s + %s, %ux%u, CAPTURE %.4s\n", d->rp.video, d->rp.media,
		w, h, (const char *)&got);
	return 0;
}

/* One frame of a temporal unit: shown again, or decoded. 0 or -1. */
static int one_frame(struct dv_display *d, struct av1_client *client, struct av1_job *job,
		     int slot_buf[8], long *display)
{
	uint32_t w = job->frame.upscaled_width, h = job->frame.frame_height_minus_1 + 1;
	struct v4l2_ext_control c[4];
	unsigned int n;
	int cap;

	if (job->show_existing) {
		if (dv_display_again(d, slot_buf[job->show_slot & 7], (*display)++))
			return -1;
		if (job->show_existing_key)
			for (int i = 0; i < 8; i++)
				slot_buf[i] = slot_buf[job->show_slot & 7];
		av1_client_done(client, job, 0);
		return 0;
	}
	if (!d->open && start(d, job))
		return -1;
	/* what the slots hold may be read by this frame */
	for (int i = 0; i < 8; i++)
		if (slot_buf[i] >= 0)
			dv_rp_needs(&d->rp, (unsigned int)slot_buf[i]);
	cap = dv_rp_pick_capture(&d->rp);
	if (cap < 0)
		return -1;
	dv_display_expect(d, (unsigned int)cap, job->fh.show_frame ? (*display)++ : -1, w, h);
	n = av1_job_controls(job, c, true);
	if (dv_rp_submit(&d->rp, (unsigned int)cap, dv_rp_ts((unsigned int)cap), c, n, job->buf,
			 job->size))
		return -1;
	if (job->fh.show_frame && dv_display_shown(d, (unsigned int)cap))
		return -1;
	for (int i = 0; i < 8; i++)
		if (job->fh.refresh_frame_flags & (1u << i))
			slot_buf[i] = cap;
	av1_client_done(client, job, dv_rp_ts((unsigned int)cap));
	return dv_rp_reap(&d->rp, false);
}

int dv_av1_ffmpeg_run(const struct ivf *ivf)
{
	static struct dv_display run;
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
	if (run.open && dv_display_stop(&run, NULL))
		ret = -1;
	fprintf(stderr, "dv-av1client: %zu temporal units, %ld failed, %ld pictures shown, up to "
		"%u in flight, CAPTURE pool up to %u\n", ivf->count, run.failed, display,
		run.max_in_flight, run.max_pool);
	av1_client_free(&client);
	return ret || run.failed ? 1 : 0;
}
