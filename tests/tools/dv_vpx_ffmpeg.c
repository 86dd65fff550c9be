// SPDX-License-Identifier: BSD-2-Clause
/* VP8 and VP9 in FFmpeg's v4l2-request pattern: see dv_vpx_ffmpeg.h. */
#include <stdio.h>
#include <string.h>
#include <linux/v4l2-controls.h>

#include "dv_display_order.h"
#include "dv_vpx_ffmpeg.h"
#include "dv_vpx_frame.h"

/*
 * The hwaccel set up for this stream, again at each change of size or depth (any frame's, as
 * FFmpeg's VP8 and VP9 decoders do): what was in flight finishes, the old node is closed, a
 * fresh probe with VP9's frame header set outside a request (profile and depth decide the
 * CAPTURE format) and a fresh pool; the old pool's buffers are released after that.
 */
static int start(struct dv_display *d, struct dv_vpx_frame *fr)
{
	static struct dv_rp old;
	struct v4l2_ext_control init = {
		.id = V4L2_CID_STATELESS_VP9_FRAME, .size = sizeof(fr->c9), .ptr = &fr->c9,
	};
	/* FFmpeg's OUTPUT buffer sizes; its first frame pools: the hwaccel's 1 + 3 and 1 + 8, + 3 */
	uint32_t coded = fr->vp9 ? V4L2_PIX_FMT_VP9_FRAME : V4L2_PIX_FMT_VP8_FRAME;
	size_t out_size = fr->vp9 ? 3u << 20 : 2u << 20;
	unsigned int pool = fr->vp9 ? 12 : 7;
	bool again = d->open;
	uint32_t got;

	if (again && dv_display_stop(d, &old))
		return -1;
	if (dv_rp_open(&d->rp, coded, fr->width, fr->height, out_size, &init, fr->vp9 ? 1 : 0) ||
	    dv_rp_start(&d->rp, pool, dv_display_back, d))
		return -1;
	d->open = true;
	if (again)
		dv_rp_release_pool(&old);
	got = d->rp.cap_fmt.fmt.pix_mp.pixelformat;
	if (got != fr->fourcc) {
		fprintf(stderr, "CAPTURE %.4s for a stream of %.4s\n", (const char *)&got,
			(const char *)&fr->fourcc);
		return -1;
	}
	fprintf(stderr, "dv-vpxclient: %s + %s, %ux%u, CAPTURE %.4s\n", d->rp.video, d->rp.media,
		fr->width, fr->height, (const char *)&got);
	return 0;
}

int dv_vpx_ffmpeg_run(const struct ivf *ivf, bool vp9)
{
	static struct dv_display disp;
	static struct dv_vpx_frame fr;
	struct dv_display *d = &disp;
	struct vp8_client vp8 = { 0 };
	struct vp9_client vp9c = { 0 };
	int slot_buf[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
	uint32_t cur_w = 0, cur_h = 0, cur_fourcc = 0;
	long display = 0, changes = 0;

	for (size_t i = 0; i < ivf->count; i++) {
		struct v4l2_ext_control ctl[2];
		unsigned int n;
		int cap;

		memset(&fr, 0, sizeof(fr));
		fr.vp9 = vp9;
		if (dv_vpx_parse(&fr, &vp8, &vp9c, ivf->frames[i].data, ivf->frames[i].size)) {
			fprintf(stderr, "frame %zu: cannot parse its header\n", i);
			return 1;
		}
		if (fr.show_existing) {
			if (dv_display_again(d, slot_buf[fr.show_slot], display++))
				return 1;
			continue;
		}
		if (fr.width != cur_w || fr.height != cur_h || fr.fourcc != cur_fourcc) {
			changes += d->open;
			if (start(d, &fr))
				return 1;
			cur_w = fr.width;
			cur_h = fr.height;
			cur_fourcc = fr.fourcc;
			for (int s = 0; s < 8; s++)
				slot_buf[s] = -1;
		}
		if (!d->open) {
			fprintf(stderr, "frame %zu: the stream does not start with a key frame\n", i);
			return 1;
		}
		/* what the slots hold may be read by this frame */
		for (int s = 0; s < 8; s++)
			if (slot_buf[s] >= 0)
				dv_rp_needs(&d->rp, (unsigned int)slot_buf[s]);
		cap = dv_rp_pick_capture(&d->rp);
		if (cap < 0)
			return 1;
		dv_display_expect(d, (unsigned int)cap, fr.show ? display++ : -1, fr.width,
				  fr.height);
		n = dv_vpx_controls(&fr, ctl);
		if (dv_rp_submit(&d->rp, (unsigned int)cap, dv_rp_ts((unsigned int)cap), ctl, n,
				 ivf->frames[i].data, ivf->frames[i].size))
			return 1;
		if (fr.show && dv_display_shown(d, (unsigned int)cap))
			return 1;
		/* the reference slots follow the bitstream */
		dv_vpx_update_slots(&fr, slot_buf, cap);
		if (vp9)
			vp9_client_update_refs(&vp9c, &fr.i9, dv_rp_ts((unsigned int)cap));
		else
			vp8_client_update_refs(&vp8, &fr.i8, dv_rp_ts((unsigned int)cap));
		if (dv_rp_reap(&d->rp, false))
			return 1;
	}
	if (d->open && dv_display_stop(d, NULL))
		return 1;
	fprintf(stderr, "dv-vpxclient: %s, %zu frames, %ld failed, %ld pictures shown, %ld "
		"resolution changes, up to %u in flight, CAPTURE pool up to %u\n",
		vp9 ? "VP9" : "VP8", ivf->count, d->failed, display, changes, d->max_in_flight,
		d->max_pool);
	return d->failed ? 1 : 0;
}
