/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dd_check_h264_job() against slice headers written here bit by bit: a job whose
 * DECODE_PARAMS and PPS say what its slices say passes, and each field a client copies from
 * the slice header (PPS id, frame_num, field or frame, idr_pic_id, the picture order count
 * fields) fails the job when one bit of it differs, as a damaged header does. The fields
 * VA-API does not carry pass when the control leaves them 0 (what a VA-API bridge sends).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bit_writer.h"
#include "engine.h"
#include "expectation.h"
#include "h264_check.h"
#include "test_check.h"

static int failures;

static void put_ue(struct bw *w, uint32_t v)
{
	unsigned int len = 0;

	while ((v + 1ull) >> (len + 1))
		len++;
	put(w, 0, len);
	put(w, v + 1, len + 1);
}

static void put_se(struct bw *w, int32_t v)
{
	put_ue(w, v > 0 ? 2u * (uint32_t)v - 1 : 2u * (uint32_t)-v);
}

/* What one slice header says; the controls are made from the same values. */
struct header {
	bool idr, field, bottom;
	uint32_t pps_id, frame_num, idr_pic_id, poc_lsb;
	int32_t delta_bottom;
	int32_t delta[2];	/* pic_order_cnt_type 1 */
};

/* The sequence the slices belong to: pic_order_cnt_type 0 or 1, fields allowed or not. */
static unsigned int poc_type;
static bool frames_only;

/*
 * An Annex B slice NAL unit: the header for an SPS with 4-bit frame_num, pic_order_cnt_type
 * poc_type (type 0: a 6-bit lsb), field pictures unless frames_only, and a PPS with the
 * bottom field POC fields; then slice_qp_delta and a few bytes of "data" (no byte of it may
 * look like a start code).
 */
static size_t write_slice(uint8_t *out, const struct header *h)
{
	struct bw w = { 0 };

	put(&w, h->idr ? 0x65 : 0x41, 8);
	put_ue(&w, 0);			/* first_mb_in_slice */
	put_ue(&w, h->idr ? 7 : 5);	/* I or P, all slices alike */
	put_ue(&w, h->pps_id);
	put(&w, h->frame_num, 4);
	if (!frames_only) {
		put(&w, h->field, 1);
		if (h->field)
			put(&w, h->bottom, 1);
	}
	if (h->idr)
		put_ue(&w, h->idr_pic_id);
	if (poc_type == 0) {
		put(&w, h->poc_lsb, 6);
		if (!h->field)
			put_se(&w, h->delta_bottom);
	} else {
		put_se(&w, h->delta[0]);
		if (!h->field)
			put_se(&w, h->delta[1]);
	}
	put_ue(&w, 3); /* stands for the rest of the header and the slice data */
	put(&w, 0x5a5a5a, 24);
	put(&w, 1, 1); /* rbsp_stop_one_bit */
	memcpy(out, "\0\0\1", 3);
	memcpy(out + 3, w.buf, (w.pos + 7) / 8);
	return 3 + (w.pos + 7) / 8;
}

/* Runs the check on a slice with `slice`'s header and controls made from `ctrl`. */
static int check(const struct header *slice, const struct header *ctrl, struct dd_error *err)
{
	struct v4l2_ctrl_h264_sps sps = {
		.profile_idc = 100, .level_idc = 40, .chroma_format_idc = 1,
		.log2_max_frame_num_minus4 = 0, .pic_order_cnt_type = (uint8_t)poc_type,
		.log2_max_pic_order_cnt_lsb_minus4 = 2, .max_num_ref_frames = 2,
		.pic_width_in_mbs_minus1 = 3, .pic_height_in_map_units_minus1 = 1,
		.flags = V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE |
			 (frames_only ? V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY : 0),
	};
	struct v4l2_ctrl_h264_pps pps = {
		.pic_parameter_set_id = (uint8_t)ctrl->pps_id,
		.flags = V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT,
	};
	struct v4l2_ctrl_h264_decode_params dp = {
		.frame_num = (uint16_t)ctrl->frame_num,
		.idr_pic_id = (uint16_t)ctrl->idr_pic_id,
		.pic_order_cnt_lsb = (uint16_t)ctrl->poc_lsb,
		.delta_pic_order_cnt_bottom = ctrl->delta_bottom,
		.delta_pic_order_cnt0 = ctrl->delta[0],
		.delta_pic_order_cnt1 = ctrl->delta[1],
		.flags = (ctrl->idr ? V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC : 0) |
			 (ctrl->field ? V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC : 0) |
			 (ctrl->bottom ? V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD : 0),
	};
	uint8_t bitstream[64];
	struct dd_job job = { .codec = DD_CODEC_H264 };
	struct dd_expectation x;

	job.ctrl.h264.sps = &sps;
	job.ctrl.h264.pps = &pps;
	job.ctrl.h264.decode_params = &dp;
	job.ctrl.h264.annex_b = true;
	job.bitstream = bitstream;
	job.bitstream_size = write_slice(bitstream, slice);
	memset(err, 0, sizeof(*err));
	return dd_check_h264_job(&job, &x, err);
}

static void agree(const char *what, const struct header *h)
{
	struct dd_error err;

	CHECK(check(h, h, &err) == 0, "%s: slice and controls agree, but: %s", what, err.msg);
}

/* The slice says `h` with one field changed; the controls say `h`. */
static void differ(const char *what, const struct header *h, const struct header *slice)
{
	struct dd_error err;

	CHECK(check(slice, h, &err) == -1, "%s: a slice that disagrees with the controls passed",
	      what);
	CHECK(err.kind == DD_ERR_DATA, "%s: error kind %d, want DD_ERR_DATA", what, err.kind);
	printf("ok   %s: %s\n", what, err.msg);
}

int main(void)
{
	const struct header idr = { .idr = true, .pps_id = 3, .frame_num = 0, .idr_pic_id = 5,
				    .poc_lsb = 0, .delta_bottom = 1 };
	const struct header p = { .pps_id = 3, .frame_num = 9, .poc_lsb = 36,
				  .delta_bottom = -2 };
	const struct header top = { .pps_id = 3, .frame_num = 7, .field = true, .poc_lsb = 41 };
	const struct header bottom = { .pps_id = 3, .frame_num = 7, .field = true,
				       .bottom = true, .poc_lsb = 42 };
	struct dd_error err;
	struct header h;

	agree("IDR frame", &idr);
	agree("P frame", &p);
	agree("top field", &top);
	agree("bottom field", &bottom);

	h = idr, h.pps_id ^= 1;
	differ("PPS id", &idr, &h);
	h = p, h.frame_num ^= 4;
	differ("frame_num", &p, &h);
	h = idr, h.idr_pic_id ^= 2;
	differ("idr_pic_id", &idr, &h);
	h = p, h.poc_lsb ^= 16;
	differ("pic_order_cnt_lsb", &p, &h);
	h = p, h.delta_bottom = 2;
	differ("delta_pic_order_cnt_bottom", &p, &h);
	h = top, h.bottom = true;
	differ("bottom field for a top field", &top, &h);
	h = p, h.field = true;
	differ("field for a frame", &p, &h);
	h = p, h.idr = true;
	differ("IDR slice in a non-IDR job", &p, &h);

	/* a VA-API bridge: no PPS id, idr_pic_id or POC fields in the controls */
	h = idr, h.pps_id = 0, h.idr_pic_id = 0, h.poc_lsb = 0, h.delta_bottom = 0;
	CHECK(check(&idr, &h, &err) == 0, "IDR, fields VA-API lacks left 0: %s", err.msg);
	h = p, h.pps_id = 0, h.poc_lsb = 0, h.delta_bottom = 0;
	CHECK(check(&p, &h, &err) == 0, "P, fields VA-API lacks left 0: %s", err.msg);
	h.frame_num ^= 1;
	CHECK(check(&p, &h, &err) == -1, "P, fields VA-API lacks left 0, frame_num off by one: "
	      "passed");

	/* frames only: no field_pic_flag in the header */
	frames_only = true;
	agree("frames-only P frame", &p);
	h = p, h.frame_num ^= 2;
	differ("frames-only frame_num", &p, &h);
	h = p, h.poc_lsb ^= 1;
	differ("frames-only pic_order_cnt_lsb", &p, &h);

	/* pic_order_cnt_type 1: the two deltas instead of the lsb */
	poc_type = 1;
	h = p, h.poc_lsb = 0, h.delta_bottom = 0, h.delta[0] = -3, h.delta[1] = 5;
	agree("POC type 1 P frame", &h);
	{
		struct header d = h;

		d.delta[0] = 3;
		differ("delta_pic_order_cnt[0]", &h, &d);
		d = h, d.delta[1] = 4;
		differ("delta_pic_order_cnt[1]", &h, &d);
	}

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
