/* SPDX-License-Identifier: BSD-2-Clause */
#include "h264_slice_header.h"

/* Reads RBSP bits from a NAL unit's payload, skipping emulation prevention bytes. */
struct rbsp {
	const uint8_t *p;
	size_t len, pos; /* byte position */
	size_t emulation; /* emulation prevention bytes skipped */
	unsigned int bit, zeros;
	bool overrun;
};

static unsigned int rbsp_bit(struct rbsp *r)
{
	unsigned int b;

	if (r->bit == 0) {
		if (r->pos < r->len && r->zeros >= 2 && r->p[r->pos] == 3) {
			r->pos++;
			r->emulation++;
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

/* Reads a signed Exp-Golomb value and tells whether it lies in [lo, hi]. */
static bool se_in(struct rbsp *r, int32_t lo, int32_t hi)
{
	int32_t v = rbsp_se(r);

	return v >= lo && v <= hi;
}

/* 7.3.3.1: the changes to the initial reference lists */
static enum dd_h264_header_fault read_ref_mods(struct rbsp *r, struct dd_h264_slice_header *sh,
						unsigned int lists, uint32_t max_pic_num)
{
	for (unsigned int l = 0; l < lists; l++) {
		if (!rbsp_bit(r)) /* ref_pic_list_modification_flag_lX */
			continue;
		for (;;) {
			uint32_t idc = rbsp_ue(r);
			struct dd_h264_ref_mod *m;

			if (r->overrun)
				return DD_H264_HEADER_CUT;
			if (idc == 3)
				break;
			/* 4 and 5 are MVC's, in NAL unit types 20 and 21 only */
			if (idc > 3 || sh->num_ref_mods[l] >= sh->num_ref_idx_active[l])
				return DD_H264_HEADER_REF_MODS;
			m = &sh->ref_mods[l][sh->num_ref_mods[l]++];
			m->idc = (uint8_t)idc;
			m->value = rbsp_ue(r);
			if (idc < 2 && m->value >= max_pic_num)
				return DD_H264_HEADER_REF_MODS;
		}
	}
	return DD_H264_HEADER_OK;
}

/* 7.3.3.2: read for its length and its ranges (7.4.3.2) only */
static enum dd_h264_header_fault read_weights(struct rbsp *r, const struct dd_h264_slice_header *sh,
					      unsigned int lists, bool chroma)
{
	if (rbsp_ue(r) > 7 || (chroma && rbsp_ue(r) > 7)) /* the log2 denominators */
		return DD_H264_HEADER_WEIGHTS;
	for (unsigned int l = 0; l < lists; l++)
		for (uint32_t i = 0; i < sh->num_ref_idx_active[l]; i++) {
			if (rbsp_bit(r) && (!se_in(r, -128, 127) || !se_in(r, -128, 127)))
				return DD_H264_HEADER_WEIGHTS;
			if (chroma && rbsp_bit(r))
				for (unsigned int c = 0; c < 2; c++)
					if (!se_in(r, -128, 127) || !se_in(r, -128, 127))
						return DD_H264_HEADER_WEIGHTS;
			if (r->overrun)
				return DD_H264_HEADER_CUT;
		}
	return DD_H264_HEADER_OK;
}

/* 7.3.3.3: read for its length and its operation codes only */
static enum dd_h264_header_fault read_marking(struct rbsp *r, const struct dd_h264_slice_header *sh)
{
	/* more operations than any DPB of 16 frames could use (FFmpeg's MAX_MMCO_COUNT) */
	unsigned int left = 66;

	if (sh->idr) {
		rbsp_bits(r, 2); /* no_output_of_prior_pics_flag, long_term_reference_flag */
		return DD_H264_HEADER_OK;
	}
	if (!rbsp_bit(r)) /* adaptive_ref_pic_marking_mode_flag */
		return DD_H264_HEADER_OK;
	for (;;) {
		uint32_t op = rbsp_ue(r);

		if (r->overrun)
			return DD_H264_HEADER_CUT;
		if (!op)
			return DD_H264_HEADER_OK;
		if (op > 6 || !left--)
			return DD_H264_HEADER_MARKING;
		if (op == 1 || op == 3)
			rbsp_ue(r); /* difference_of_pic_nums_minus1 */
		if (op == 2)
			rbsp_ue(r); /* long_term_pic_num */
		if (op == 3 || op == 6)
			rbsp_ue(r); /* long_term_frame_idx */
		if (op == 4)
			rbsp_ue(r); /* max_long_term_frame_idx_plus1 */
	}
}

/* The fields DECODE_PARAMS carries: from first_mb_in_slice to the picture order count. */
static enum dd_h264_header_fault read_start(struct rbsp *r, const struct v4l2_ctrl_h264_sps *sps,
					    const struct v4l2_ctrl_h264_pps *pps,
					    struct dd_h264_slice_header *sh)
{
	bool bottom_poc = pps->flags & V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT;

	sh->first_mb_in_slice = rbsp_ue(r);
	sh->slice_type = rbsp_ue(r);
	/* 7.4.3: an IDR picture's slices are I or SI */
	if (sh->slice_type > 9 || (sh->idr && sh->slice_type % 5 != 2 && sh->slice_type % 5 != 4))
		return r->overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_SLICE_TYPE;
	sh->pic_parameter_set_id = rbsp_ue(r);
	if (sps->flags & V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE)
		rbsp_bits(r, 2); /* colour_plane_id */
	sh->frame_num = rbsp_bits(r, sps->log2_max_frame_num_minus4 + 4u);
	if (!(sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY)) {
		sh->field_pic = rbsp_bit(r);
		if (sh->field_pic)
			sh->bottom_field = rbsp_bit(r);
	}
	if (sh->idr)
		sh->idr_pic_id = rbsp_ue(r);
	if (sps->pic_order_cnt_type == 0) {
		sh->pic_order_cnt_lsb = rbsp_bits(r, sps->log2_max_pic_order_cnt_lsb_minus4 + 4u);
		if (bottom_poc && !sh->field_pic)
			sh->delta_pic_order_cnt_bottom = rbsp_se(r);
	} else if (sps->pic_order_cnt_type == 1 &&
		   !(sps->flags & V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO)) {
		sh->delta_pic_order_cnt[0] = rbsp_se(r);
		if (bottom_poc && !sh->field_pic)
			sh->delta_pic_order_cnt[1] = rbsp_se(r);
	}
	return r->overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_OK;
}

enum dd_h264_header_fault dd_h264_read_slice_header(const uint8_t *nal, size_t len,
						    const struct v4l2_ctrl_h264_sps *sps,
						    const struct v4l2_ctrl_h264_pps *pps,
						    struct dd_h264_slice_header *sh)
{
	struct rbsp r = { .p = nal + 1, .len = len ? len - 1 : 0 };
	uint32_t flags = pps->flags, max_pic_num, type;
	bool chroma = sps->chroma_format_idc &&
		      !(sps->flags & V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE);
	unsigned int lists;
	enum dd_h264_header_fault f;
	int64_t qp; /* a hostile Exp-Golomb value is near 2^31 */

	*sh = (struct dd_h264_slice_header){
		.idr = len && (nal[0] & 0x1f) == 5,
		.nal_ref_idc = len ? (nal[0] >> 5) & 3 : 0,
	};
	f = read_start(&r, sps, pps, sh);
	if (f)
		return f;
	type = sh->slice_type % 5; /* 0 P, 1 B, 2 I, 3 SP, 4 SI */
	lists = type == 1 ? 2 : type == 2 || type == 4 ? 0 : 1;
	max_pic_num = (sh->field_pic ? 2u : 1u) << (sps->log2_max_frame_num_minus4 + 4u);

	if (flags & V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT) {
		sh->redundant_pic_cnt = rbsp_ue(&r);
		if (sh->redundant_pic_cnt > 127)
			return r.overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_REDUNDANT;
	}
	if (type == 1)
		rbsp_bit(&r); /* direct_spatial_mv_pred_flag */
	if (lists) {
		sh->num_ref_idx_active[0] = pps->num_ref_idx_l0_default_active_minus1 + 1u;
		sh->num_ref_idx_active[1] = lists > 1 ?
					    pps->num_ref_idx_l1_default_active_minus1 + 1u : 0;
		if (rbsp_bit(&r)) { /* num_ref_idx_active_override_flag */
			sh->num_ref_idx_active[0] = rbsp_ue(&r) + 1u;
			if (lists > 1)
				sh->num_ref_idx_active[1] = rbsp_ue(&r) + 1u;
		}
		for (unsigned int l = 0; l < lists; l++)
			if (sh->num_ref_idx_active[l] > (sh->field_pic ? 32u : 16u))
				return r.overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_REF_COUNT;
		f = read_ref_mods(&r, sh, lists, max_pic_num);
		if (f)
			return f;
	}
	if (((flags & V4L2_H264_PPS_FLAG_WEIGHTED_PRED) && (type == 0 || type == 3)) ||
	    (pps->weighted_bipred_idc == 1 && type == 1)) {
		f = read_weights(&r, sh, lists, chroma);
		if (f)
			return f;
	}
	if (sh->nal_ref_idc) {
		f = read_marking(&r, sh);
		if (f)
			return f;
	}
	if ((flags & V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE) && lists && rbsp_ue(&r) > 2)
		return DD_H264_HEADER_QP; /* cabac_init_idc */
	qp = 26 + pps->pic_init_qp_minus26 + (int64_t)rbsp_se(&r);
	if (qp < -6 * (int64_t)sps->bit_depth_luma_minus8 || qp > 51)
		return r.overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_QP;
	if (type == 3 || type == 4) {
		if (type == 3)
			rbsp_bit(&r); /* sp_for_switch_flag */
		qp = 26 + pps->pic_init_qs_minus26 + (int64_t)rbsp_se(&r);
		if (qp < 0 || qp > 51)
			return DD_H264_HEADER_QP;
	}
	if (flags & V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT) {
		uint32_t idc = rbsp_ue(&r);

		if (idc > 2 || (idc != 1 && (!se_in(&r, -6, 6) || !se_in(&r, -6, 6))))
			return r.overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_DEBLOCKING;
	}
	if (r.overrun)
		return DD_H264_HEADER_CUT;
	sh->header_bits = (uint32_t)((r.pos - r.emulation) * 8 + r.bit);
	/* 7.3.4: CABAC slice data starts on a byte boundary, the bits before it all ones */
	if (flags & V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE)
		while (r.bit)
			if (!rbsp_bit(&r))
				return DD_H264_HEADER_ALIGNMENT;
	return r.overrun ? DD_H264_HEADER_CUT : DD_H264_HEADER_OK;
}

const char *dd_h264_header_fault_name(enum dd_h264_header_fault f)
{
	switch (f) {
	case DD_H264_HEADER_OK:
		return "no fault";
	case DD_H264_HEADER_CUT:
		return "the slice ends inside its header";
	case DD_H264_HEADER_SLICE_TYPE:
		return "slice_type out of range, or an inter slice in an IDR picture";
	case DD_H264_HEADER_REDUNDANT:
		return "redundant_pic_cnt out of range";
	case DD_H264_HEADER_REF_COUNT:
		return "num_ref_idx_active_minus1 out of range";
	case DD_H264_HEADER_REF_MODS:
		return "ref_pic_list_modification out of range";
	case DD_H264_HEADER_WEIGHTS:
		return "pred_weight_table out of range";
	case DD_H264_HEADER_MARKING:
		return "dec_ref_pic_marking out of range";
	case DD_H264_HEADER_QP:
		return "slice QP, QS or cabac_init_idc out of range";
	case DD_H264_HEADER_DEBLOCKING:
		return "deblocking filter fields out of range";
	case DD_H264_HEADER_ALIGNMENT:
		return "a cabac_alignment_one_bit is 0";
	}
	return "unknown fault";
}
