// SPDX-License-Identifier: BSD-2-Clause
/* VP8 and VP9 in FFmpeg's v4l2-request pattern: see dv_vpx_ffmpeg.h. */
#include <stdio.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "dv_request_pipe.h"
#include "dv_vpx_ffmpeg.h"
#include "dv_vpx_frame.h"

/* What a CAPTURE buffer in flight holds, for its check when it comes back. */
struct pending {
	long display;	/* its place in display order, -1 for a hidden frame */
	uint32_t w, h;
};

struct run {
	struct dv_rp rp;
	bool open;
	struct pending pend[RP_MAX_CAPTURE];
	/* the buffer's last frame came back with ERROR: showing it again shows no picture */
	bool cap_err[RP_MAX_CAPTURE];
	uint32_t cap_w[RP_MAX_CAPTURE], cap_h[RP_MAX_CAPTURE];
	long failed;
};

static int print_picture(struct run *r, unsigned int cap, long display)
{
	char md5[33];

	if (r->cap_err[cap]) {
		printf("pic %ld FAILED\n", display);
		return 0;
	}
	if (dv_rp_md5(&r->rp, cap, 0, 0, r->cap_w[cap], r->cap_h[cap], md5))
		return -1;
	printf("pic %ld %ux%u %s\n", display, r->cap_w[cap], r->cap_h[cap], md5);
	return 0;
}

/* A CAPTURE buffer came back (in decoding order): a shown frame is printed now. */
static int frame_back(void *opaque, unsigned int idx, uint32_t flags)
{
	struct run *r = opaque;
	const struct pending *pd = &r->pend[idx];

	r->cap_err[idx] = flags & V4L2_BUF_FLAG_ERROR;
	r->cap_w[idx] = pd->w;
	r->cap_h[idx] = pd->h;
	if (r->cap_err[idx]) {
		fprintf(stderr, "frame %ld back (CAPTURE %u) with ERROR\n", r->rp.completed - 1,
			idx);
		r->failed++;
	}
	return pd->display < 0 ? 0 : print_picture(r, idx, pd->display);
}

/*
 * The hwaccel set up for this stream: a fresh probe with VP9's frame header set outside a
 * request (profile and depth decide the CAPTURE format), a fresh pool.
 */
static int start(struct run *r, struct dv_vpx_frame *fr)
{
	struct v4l2_ext_control init = {
		.id = V4L2_CID_STATELESS_VP9_FRAME, .size = sizeof(fr->c9), .ptr = &fr->c9,
	};
	/* FFmpeg's OUTPUT buffer sizes and first frame pools */
	uint32_t coded = fr->vp9 ? V4L2_PIX_FMT_VP9_FRAME : V4L2_PIX_FMT_VP8_FRAME;
	size_t out_size = fr->vp9 ? 3u << 20 : 2u << 20;
	unsigned int pool = fr->vp9 ? 10 : 4;

	if (dv_rp_open(&r->rp, coded, fr->width, fr->height, out_size, &init, fr->vp9 ? 1 : 0) ||
	    dv_rp_start(&r->rp, pool, frame_back, r))
		return -1;
	r->open = true;
	if (r->rp.cap_fmt.fmt.pix_mp.pixelformat != fr->fourcc) {
		fprintf(stderr, "CAPTURE %.4s for a stream of %.4s\n",
			(const char *)&r->rp.cap_fmt.fmt.pix_mp.pixelformat,
			(const char *)&fr->fourcc);
		return -1;
	}
	fprintf(stderr, "dv-vpxclient: %s + %s, %ux%u, CAPTURE %.4s\n", r->rp.video, r->rp.media,
		fr->width, fr->height, (const char *)&fr->fourcc);
	return 0;
}

/*
 * Everything in flight back, the node closed: before a new setup or at the end. The most
 * requests in flight and the largest pool so far go into @in_flight and @pool.
 */
static int stop(struct run *r, unsigned int *in_flight, unsigned int *pool)
{
	int ret = dv_rp_drain(&r->rp);

	if (r->rp.max_in_flight > *in_flight)
		*in_flight = r->rp.max_in_flight;
	if (r->rp.ncap > *pool)
		*pool = r->rp.ncap;

	dv_rp_close(&r->rp);
	r->open = false;
	return ret;
}

int dv_vpx_ffmpeg_run(const struct ivf *ivf, bool vp9)
{
	static struct run run;
	static struct dv_vpx_frame fr;
	struct run *r = &run;
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9c = { 0 };
	int slot_buf[8];
	uint32_t cur_w = 0, cur_h = 0, cur_fourcc = 0;
	long display = 0, changes = 0;
	unsigned int max_in_flight = 0, max_pool = 0;

	for (size_t i = 0; i < ivf->count; i++) {
		struct v4l2_ext_control ctl[2];
		struct pending *pd;
		unsigned int n;
		int cap;

		memset(&fr, 0, sizeof(fr));
		fr.vp9 = vp9;
		if (dv_vpx_parse(&fr, &vp8, &vp9c, ivf->frames[i].data, ivf->frames[i].size)) {
			fprintf(stderr, "frame %zu: cannot parse its header\n", i);
			return 1;
		}
		if (fr.show_existing) {
			int b = slot_buf[fr.show_slot];

			/* shown after every frame before it: all of them back first */
			if (!r->open || dv_rp_drain(&r->rp))
				return 1;
			if (b < 0) {
				printf("pic %ld FAILED\n", display++);
				r->failed++;
			} else if (print_picture(r, (unsigned int)b, display++)) {
				return 1;
			}
			continue;
		}
		if (fr.key && (fr.width != cur_w || fr.height != cur_h || fr.fourcc != cur_fourcc)) {
			if (r->open) {
				if (stop(r, &max_in_flight, &max_pool))
					return 1;
				changes++;
			}
			long failed = r->failed;

			memset(r, 0, sizeof(*r));
			r->failed = failed;
			if (start(r, &fr))
				return 1;
			cur_w = fr.width;
			cur_h = fr.height;
			cur_fourcc = fr.fourcc;
			for (int s = 0; s < 8; s++)
				slot_buf[s] = -1;
		}
		if (!r->open) {
			fprintf(stderr, "frame %zu: the stream does not start with a key frame\n", i);
			return 1;
		}
		/* what the slots hold may be read by this frame */
		for (int s = 0; s < 8; s++)
			if (slot_buf[s] >= 0)
				dv_rp_needs(&r->rp, (unsigned int)slot_buf[s]);
		cap = dv_rp_pick_capture(&r->rp);
		if (cap < 0)
			return 1;
		pd = &r->pend[cap];
		*pd = (struct pending){ .display = fr.show ? display++ : -1, .w = fr.width,
					.h = fr.height };
		n = dv_vpx_controls(&fr, ctl);
		if (dv_rp_submit(&r->rp, (unsigned int)cap, dv_rp_ts((unsigned int)cap), ctl, n,
				 ivf->frames[i].data, ivf->frames[i].size))
			return 1;
		/* the reference slots follow the bitstream */
		dv_vpx_update_slots(&fr, slot_buf, cap);
		if (vp9)
			vp9_client_update_refs(&vp9c, &fr.i9, dv_rp_ts((unsigned int)cap));
		else
			vp8_client_update_refs(&vp8, &fr.i8, dv_rp_ts((unsigned int)cap));
		if (dv_rp_reap(&r->rp, 0))
			return 1;
	}
	if (r->open && stop(r, &max_in_flight, &max_pool))
		return 1;
	fprintf(stderr, "dv-vpxclient: %s, %zu frames, %ld failed, %ld pictures shown, %ld "
		"resolution changes, up to %u in flight, CAPTURE pool up to %u\n",
		vp9 ? "VP9" : "VP8", ivf->count, r->failed, display, changes, max_in_flight,
		max_pool);
	return r->failed ? 1 : 0;
}
