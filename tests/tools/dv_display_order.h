/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The pictures of a VP8, VP9 or AV1 stream decoded through dv_request_pipe.h, printed in
 * display order, handed out as FFmpeg hands them to the application: a frame shown when
 * decoded is waited for right after it is queued (the hwaccel's post_process), so only
 * hidden frames stay in flight behind it; a frame shown again (show_existing_frame) waits for
 * its buffer alone. "pic <n> <w>x<h> <md5>", or "pic <n> FAILED" for a picture whose request
 * came back with V4L2_BUF_FLAG_ERROR.
 */
#ifndef DV_DISPLAY_ORDER_H
#define DV_DISPLAY_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "dv_request_pipe.h"

struct dv_display {
	struct dv_rp rp;
	bool open;
	/* what each CAPTURE buffer in flight will hold: display index (-1: not shown now), size */
	struct {
		long display;
		uint32_t w, h;
	} pend[RP_MAX_CAPTURE];
	/* the buffer's last frame came back with ERROR: showing it again shows no picture */
	bool cap_err[RP_MAX_CAPTURE];
	uint32_t cap_w[RP_MAX_CAPTURE], cap_h[RP_MAX_CAPTURE];
	/* over every setup of the stream */
	unsigned int max_in_flight, max_pool;
	long failed;
};

/* dv_rp_start()'s callback, with the struct dv_display as @opaque. */
int dv_display_back(void *opaque, unsigned int cap, uint32_t flags);
/* CAPTURE @cap will hold a frame of @w x @h shown as picture @display (-1: not shown now). */
void dv_display_expect(struct dv_display *d, unsigned int cap, long display, uint32_t w,
		       uint32_t h);
/* The frame just queued into CAPTURE @cap is shown: wait for it (it prints when back). */
int dv_display_shown(struct dv_display *d, unsigned int cap);
/* Picture @display shows CAPTURE @cap again (-1: nothing decoded there). */
int dv_display_again(struct dv_display *d, int cap, long display);
/*
 * Everything in flight back, the node closed, the maxima kept. With @pool the frame pool
 * stays open there, for the caller to release after the next setup (FFmpeg keeps its old
 * frames while it sets the hwaccel up anew); else it is released too.
 */
int dv_display_stop(struct dv_display *d, struct dv_rp *pool);

#endif
