/* SPDX-License-Identifier: BSD-2-Clause */
#include "h264_slice_header.h"

/* Reads RBSP bits from a NAL unit's payload, skipping emulation prevention bytes. */
struct rbsp {
	const uint8_t *p;
	size_t len, pos; /* byte position */
	unsigned int bit, zeros;
	bool overrun;
};

static unsigned int rbsp_bit(struct rbsp *r)
{
	unsigned int b;

	if (r->bit == 0) {
		if (r->pos < r->len && r->zeros >= 2 && r->p[r->pos] == 3) {
			r->pos++;
			r->zeros = 0;
		}
		if (r->pos >= r->len) {
			r->overrun = true;
			return 0;
		}
		r->zeros = r->p[r->pos] ? 0 : r->zeros + 1;
	}
	b = (r->p[r->pos] >> (7 - r->bit)) & 1;
	if (++r->bit == 8) {
		r->bit = 0;
		r->pos++;
	}
	return b;
}

static uint32_t rbsp_bits(struct rbsp *r, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 1 | rbsp_bit(r);
	return v;
}

static uint32_t rbsp_ue(struct rbsp *r)
{
	unsigned int zeros = 0;

	while (!rbsp_bit(r) && !r->overrun)
		if (++zeros > 31) {
			r->overrun = true;
			return 0;
		}
	return (uint32_t)((1ull << zeros) - 1 + rbsp_bits(r, zeros));
}

static int32_t rbsp_se(struct rbsp *r)
{
	uint32_t k = rbsp_ue(r);

	/* 9.1.1: 1, -1, 2, -2, ... ; k is below 2^32 - 1, so the magnitude fits */
	return k & 1 ? (int32_t)((k + 1ull) / 2) : -(int32_t)(k / 2);
}

int dd_h264_read_slice_header(const uint8_t *nal, size_t len, const struct v4l2_ctrl_h264_sps *sps,
			      const struct v4l2_ctrl_h264_pps *pps, struct dd_h264_slice_header *sh)
{
	struct rbsp r = { .p = nal + 1, .len = len ? len - 1 : 0 };
	bool bottom_poc = pps->flags & V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT;

	*sh = (struct dd_h264_slice_header){ .idr = len && (nal[0] & 0x1f) == 5 };
	sh->first_mb_in_slice = rbsp_ue(&r);
	sh->slice_type = rbsp_ue(&r);
	sh->pic_parameter_set_id = rbsp_ue(&r);
	if (sps->flags & V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE)
		rbsp_bits(&r, 2); /* colour_plane_id */
	sh->frame_num = rbsp_bits(&r, sps->log2_max_frame_num_minus4 + 4u);
	if (!(sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY)) {
		sh->field_pic = rbsp_bit(&r);
		if (sh->field_pic)
			sh->bottom_field = rbsp_bit(&r);
	}
	if (sh->idr)
		sh->idr_pic_id = rbsp_ue(&r);
	if (sps->pic_order_cnt_type == 0) {
		sh->pic_order_cnt_lsb = rbsp_bits(&r, sps->log2_max_pic_order_cnt_lsb_minus4 + 4u);
		if (bottom_poc && !sh->field_pic)
			sh->delta_pic_order_cnt_bottom = rbsp_se(&r);
	} else if (sps->pic_order_cnt_type == 1 &&
		   !(sps->flags & V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO)) {
		sh->delta_pic_order_cnt[0] = rbsp_se(&r);
		if (bottom_poc && !sh->field_pic)
			sh->delta_pic_order_cnt[1] = rbsp_se(&r);
	}
	return r.overrun || sh->slice_type > 9 ? -1 : 0;
}
