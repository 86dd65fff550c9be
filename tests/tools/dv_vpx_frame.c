// SPDX-License-Identifier: BSD-2-Clause
/* One VP8 or VP9 frame as the device clients send it: see dv_vpx_frame.h. */
#include "dv_vpx_frame.h"

int dv_vpx_parse(struct dv_vpx_frame *fr, struct vp8_client *vp8, struct vp9_client *vp9,
		 const uint8_t *data, size_t size)
{
	if (!fr->vp9) {
		if (vp8_client_fill(vp8, data, size, &fr->c8, &fr->i8))
			return -1;
		fr->key = fr->i8.key_frame;
		fr->show = fr->i8.show_frame;
		fr->width = fr->c8.width;
		fr->height = fr->c8.height;
		fr->fourcc = V4L2_PIX_FMT_NV12;
		return 0;
	}
	if (vp9_client_fill(vp9, data, size, &fr->c9, &fr->ch9, &fr->i9))
		return -1;
	fr->show_existing = fr->i9.show_existing_frame;
	fr->show_slot = fr->i9.frame_to_show & 7;
	fr->key = fr->i9.key_frame;
	fr->show = fr->i9.show_frame;
	fr->width = fr->i9.width;
	fr->height = fr->i9.height;
	fr->fourcc = fr->c9.bit_depth > 8 ? V4L2_PIX_FMT_P010 : V4L2_PIX_FMT_NV12;
	return 0;
}

void dv_vpx_update_slots(const struct dv_vpx_frame *fr, int slot_buf[8], int cap)
{
	int last = slot_buf[0], gold = slot_buf[1], alt = slot_buf[2];

	if (fr->vp9) {
		for (int s = 0; s < 8; s++)
			if (fr->i9.refresh_frame_flags & (1u << s))
				slot_buf[s] = cap;
		return;
	}
	/* libvpx's order: the altref copy first, the golden copy may see it */
	if (fr->i8.copy_to_alt == 1)
		alt = last;
	else if (fr->i8.copy_to_alt == 2)
		alt = gold;
	if (fr->i8.copy_to_golden == 1)
		gold = last;
	else if (fr->i8.copy_to_golden == 2)
		gold = alt;
	if (fr->i8.refresh_golden)
		gold = cap;
	if (fr->i8.refresh_alt)
		alt = cap;
	if (fr->i8.refresh_last)
		last = cap;
	slot_buf[0] = last;
	slot_buf[1] = gold;
	slot_buf[2] = alt;
}

unsigned int dv_vpx_controls(struct dv_vpx_frame *fr, struct v4l2_ext_control ctl[2])
{
	if (!fr->vp9) {
		ctl[0] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_VP8_FRAME,
			.size = sizeof(fr->c8), .ptr = &fr->c8 };
		return 1;
	}
	ctl[0] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_VP9_FRAME,
		.size = sizeof(fr->c9), .ptr = &fr->c9 };
	ctl[1] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_VP9_COMPRESSED_HDR,
		.size = sizeof(fr->ch9), .ptr = &fr->ch9 };
	return 2;
}
