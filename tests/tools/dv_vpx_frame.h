/* SPDX-License-Identifier: BSD-2-Clause */
/* One VP8 or VP9 frame as the device clients send it: its header parsed into the controls. */
#ifndef DV_VPX_FRAME_H
#define DV_VPX_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/v4l2-controls.h>
#include <linux/videodev2.h>

#include "vp8_client.h"
#include "vp9_client.h"

/* A frame and what its header says; c8 or c9 + ch9 are its controls */
struct dv_vpx_frame {
	bool vp9, key, show, show_existing;
	unsigned int show_slot;
	uint32_t width, height, fourcc;
	struct v4l2_ctrl_vp8_frame c8;
	struct v4l2_ctrl_vp9_frame c9;
	struct v4l2_ctrl_vp9_compressed_hdr ch9;
	struct vp8_frame_info i8;
	struct vp9_frame_info i9;
};

/* The frame's header into its controls; -1 if it cannot be parsed. */
int dv_vpx_parse(struct dv_vpx_frame *fr, struct vp8_client *vp8, struct vp9_client *vp9,
		 const uint8_t *data, size_t size);
/* Its controls into @ctl: VP8_FRAME, or VP9_FRAME and VP9_COMPRESSED_HDR. Their count. */
unsigned int dv_vpx_controls(struct dv_vpx_frame *fr, struct v4l2_ext_control ctl[2]);
/*
 * The reference slots after the frame, its picture in CAPTURE buffer @cap (-1: none): VP9's
 * 8 slots, VP8's last, golden and alt-ref in 0..2.
 */
void dv_vpx_update_slots(const struct dv_vpx_frame *fr, int slot_buf[8], int cap);

#endif
