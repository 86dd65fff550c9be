/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test scaffolding: what a V4L2 client (GStreamer's vp9 parser + v4l2slvp9dec) does per
 * frame: parse the uncompressed header (and tx_mode from the compressed header), fill
 * struct v4l2_ctrl_vp9_frame / v4l2_ctrl_vp9_compressed_hdr, and track the 8 reference
 * slots by timestamp.
 */
#ifndef DAEDALUS_TEST_VP9_CLIENT_H
#define DAEDALUS_TEST_VP9_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

struct vp9_client {
	uint64_t slot_ts[8];
	uint32_t slot_w[8], slot_h[8];
	unsigned int bit_depth;
	unsigned int subsampling_x, subsampling_y, color_range;
	struct v4l2_vp9_loop_filter lf;
	struct v4l2_vp9_segmentation seg;
	int have_keyframe;
};

struct vp9_frame_info {
	int show_existing_frame;
	unsigned int frame_to_show; /* slot, when show_existing_frame */
	int key_frame;
	int show_frame;
	unsigned int refresh_frame_flags;
	uint32_t width, height;
};

int vp9_client_fill(struct vp9_client *c, const uint8_t *data, size_t size,
		    struct v4l2_ctrl_vp9_frame *ctrl, struct v4l2_ctrl_vp9_compressed_hdr *chdr,
		    struct vp9_frame_info *info);
void vp9_client_update_refs(struct vp9_client *c, const struct vp9_frame_info *info,
			    uint64_t ts);

#endif
