/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The start of an H.264 slice header (7.3.3), read with the SPS and PPS the job's controls
 * give: from first_mb_in_slice through the picture order count fields. These are what a
 * client copies into DECODE_PARAMS, so a job can be checked against its own slices.
 */
#ifndef DAEDALUS_H264_SLICE_HEADER_H
#define DAEDALUS_H264_SLICE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

struct dd_h264_slice_header {
	uint32_t first_mb_in_slice;
	uint32_t slice_type;		/* 0..9 */
	uint32_t pic_parameter_set_id;
	uint32_t frame_num;
	bool field_pic, bottom_field;
	bool idr;			/* nal_unit_type 5 */
	uint32_t idr_pic_id;		/* IDR only */
	uint32_t pic_order_cnt_lsb;	/* pic_order_cnt_type 0 */
	int32_t delta_pic_order_cnt_bottom;
	int32_t delta_pic_order_cnt[2];	/* pic_order_cnt_type 1 */
};

/*
 * Reads the header of one slice NAL unit (NAL header byte included, emulation prevention
 * bytes allowed). Fields the SPS and PPS leave out of the header are 0. Returns 0, or -1
 * when the unit ends inside these fields or an Exp-Golomb code is longer than 32 bits.
 */
int dd_h264_read_slice_header(const uint8_t *nal, size_t len, const struct v4l2_ctrl_h264_sps *sps,
			      const struct v4l2_ctrl_h264_pps *pps, struct dd_h264_slice_header *sh);

#endif
