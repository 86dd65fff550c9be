/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test scaffolding: what a V4L2 client (GStreamer's vp8 parser + v4l2slvp8dec) does per
 * frame: parse the frame header, fill struct v4l2_ctrl_vp8_frame, and track which
 * timestamp each reference slot (last, golden, altref) holds.
 */
#ifndef DAEDALUS_TEST_VP8_CLIENT_H
#define DAEDALUS_TEST_VP8_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

struct vp8_client {
	uint16_t width, height;
	uint64_t last_ts, golden_ts, alt_ts;
	int have_keyframe;
	/* persistent header state */
	struct v4l2_vp8_segment segment;
	struct v4l2_vp8_loop_filter lf;
};

struct vp8_frame_info {
	int key_frame;
	int show_frame;
	/* reference updates after this frame */
	int refresh_last, refresh_golden, refresh_alt;
	int copy_to_golden, copy_to_alt; /* 0 none, 1 last, 2 the other one */
};

/* Fills ctrl for a frame with timestamp ts. -1 if the header cannot be parsed. */
int vp8_client_fill(struct vp8_client *c, const uint8_t *data, size_t size,
		    struct v4l2_ctrl_vp8_frame *ctrl, struct vp8_frame_info *info);
/* After the request completed (successfully or not): update the reference slots. */
void vp8_client_update_refs(struct vp8_client *c, const struct vp8_frame_info *info,
			    uint64_t ts);

#endif
