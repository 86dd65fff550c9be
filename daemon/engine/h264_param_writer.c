/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdbool.h>
#include <string.h>

#include "h264_check.h"
#include "h264_param_writer.h"

const uint8_t dd_h264_zigzag4x4[16] = {
	0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15,
};

const uint8_t dd_h264_zigzag8x8[64] = {
	0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

/* An RBSP being written; overflow is sticky and makes the result 0. */
struct bitw {
	uint8_t buf[DD_H264_PARAM_NAL_MAX];
	size_t bits;
	bool overflow;
};

static void put_bits(struct bitw *w, unsigned int n, uint64_t v)
{
	while (n--) {
		size_t byte = w->bits / 8;

		if (byte >= sizeof(w->buf)) {
			w->overflow = true;
			return;
		}
		if (w->bits % 8 == 0)
			w->buf[byte] = 0;
		if ((v >> n) & 1)
			w->buf[byte] |= (uint8_t)(0x80u >> (w->bits % 8));
		w->bits++;
	}
}

static void put_flag(struct bitw *w, bool f)
{
	put_bits(w, 1, f);
}

/* Exp-Golomb: codeNum + 1 in binary, preceded by as many zeros as it has bits after the 1. */
static void put_ue(struct bitw *w, uint32_t v)
{
	uint64_t code = (uint64_t)v + 1;
	unsigned int len = 0;

	while ((code >> len) > 1)
		len++;
	put_bits(w, len, 0);
	put_bits(w, len + 1, code);
}

/* Signed: k > 0 -> 2k - 1, k <= 0 -> -2k (computed in 64 bits: INT32_MIN is out of range). */
static void put_se(struct bitw *w, int32_t v)
{
	int64_t k = v;

	put_ue(w, (uint32_t)(k > 0 ? 2 * k - 1 : -2 * k));
}

static void put_trailing_bits(struct bitw *w)
{
	put_bits(w, 1, 1);
	while (w->bits % 8)
		put_bits(w, 1, 0);
}

/*
 * Start code, NAL header, then the RBSP with an emulation prevention byte wherever two zero
 * bytes would be followed by a byte <= 3 (which a reader would take for a start code).
 */
static size_t emit_nal(const struct bitw *w, uint8_t nal_header, uint8_t *out, size_t cap)
{
	size_t n = 0, zeros = 0, len = w->bits / 8;

	if (w->overflow || cap < 5)
		return 0;
	memcpy(out, "\0\0\0\1", 4);
	out[4] = nal_header;
	n = 5;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = w->buf[i];

		if (zeros >= 2 && b <= 3) {
			if (n >= cap)
				return 0;
			out[n++] = 3;
			zeros = 0;
		}
		if (n >= cap)
			return 0;
		out[n++] = b;
		zeros = b ? 0 : zeros + 1;
	}
	return n;
}

size_t dd_h264_write_sps(const struct v4l2_ctrl_h264_sps *sps, uint8_t *out, size_t cap)
{
	struct bitw w = { 0 };
	uint32_t f = sps->flags;

	put_bits(&w, 8, sps->profile_idc);
	/* V4L2 keeps constraint_set0_flag in bit 0, the bitstream first: then reserved_zero_2bits */
	for (unsigned int i = 0; i < 6; i++)
		put_flag(&w, sps->constraint_set_flags & (1u << i));
	put_bits(&w, 2, 0);
	put_bits(&w, 8, sps->level_idc);
	put_ue(&w, sps->seq_parameter_set_id);
	if (dd_h264_high_profile(sps->profile_idc)) {
		put_ue(&w, sps->chroma_format_idc);
		if (sps->chroma_format_idc == 3)
			put_flag(&w, f & V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE);
		put_ue(&w, sps->bit_depth_luma_minus8);
		put_ue(&w, sps->bit_depth_chroma_minus8);
		put_flag(&w, f & V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS);
		put_flag(&w, false); /* seq_scaling_matrix_present_flag: the PPS has the lists */
	}
	put_ue(&w, sps->log2_max_frame_num_minus4);
	put_ue(&w, sps->pic_order_cnt_type);
	if (sps->pic_order_cnt_type == 0) {
		put_ue(&w, sps->log2_max_pic_order_cnt_lsb_minus4);
	} else if (sps->pic_order_cnt_type == 1) {
		put_flag(&w, f & V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO);
		put_se(&w, sps->offset_for_non_ref_pic);
		put_se(&w, sps->offset_for_top_to_bottom_field);
		put_ue(&w, sps->num_ref_frames_in_pic_order_cnt_cycle);
		for (unsigned int i = 0; i < sps->num_ref_frames_in_pic_order_cnt_cycle; i++)
			put_se(&w, sps->offset_for_ref_frame[i]);
	}
	put_ue(&w, sps->max_num_ref_frames);
	put_flag(&w, f & V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED);
	put_ue(&w, sps->pic_width_in_mbs_minus1);
	put_ue(&w, sps->pic_height_in_map_units_minus1);
	put_flag(&w, f & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY);
	if (!(f & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY))
		put_flag(&w, f & V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD);
	put_flag(&w, f & V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE);
	put_flag(&w, false); /* frame_cropping_flag: the client crops */
	put_flag(&w, false); /* vui_parameters_present_flag */
	put_trailing_bits(&w);
	return emit_nal(&w, 0x67, out, cap); /* nal_ref_idc 3, type 7 */
}

/*
 * One list, every entry explicit: delta_scale is the difference to the previous entry in
 * zig-zag order, wrapped into [-128, 127] (the reader adds modulo 256). Entries are
 * 1..255 (checked), so no delta makes the reader stop early or fall back to a default.
 */
static void put_scaling_list(struct bitw *w, const uint8_t *raster, const uint8_t *zigzag,
			     unsigned int n)
{
	int last = 8;

	put_flag(w, true); /* pic_scaling_list_present_flag[i] */
	for (unsigned int j = 0; j < n; j++) {
		int v = raster[zigzag[j]];
		int delta = v - last;

		if (delta > 127)
			delta -= 256;
		if (delta < -128)
			delta += 256;
		put_se(w, delta);
		last = v;
	}
}

size_t dd_h264_write_pps(const struct v4l2_ctrl_h264_pps *pps,
			 const struct v4l2_ctrl_h264_scaling_matrix *matrix, uint8_t *out,
			 size_t cap)
{
	struct bitw w = { 0 };
	uint32_t f = pps->flags;
	bool t8x8 = f & V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE;

	put_ue(&w, pps->pic_parameter_set_id);
	put_ue(&w, pps->seq_parameter_set_id);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT);
	put_ue(&w, pps->num_slice_groups_minus1); /* checked to be 0: no FMO */
	put_ue(&w, pps->num_ref_idx_l0_default_active_minus1);
	put_ue(&w, pps->num_ref_idx_l1_default_active_minus1);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_WEIGHTED_PRED);
	put_bits(&w, 2, pps->weighted_bipred_idc);
	put_se(&w, pps->pic_init_qp_minus26);
	put_se(&w, pps->pic_init_qs_minus26);
	put_se(&w, pps->chroma_qp_index_offset);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED);
	put_flag(&w, f & V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT);
	/*
	 * The extension exists only in High profiles; readers skip it for constrained
	 * Baseline/Main/Extended streams, so it is written only when it says something.
	 */
	if (t8x8 || matrix || pps->second_chroma_qp_index_offset != pps->chroma_qp_index_offset) {
		put_flag(&w, t8x8);
		put_flag(&w, matrix != NULL);
		if (matrix) {
			for (unsigned int i = 0; i < 6; i++)
				put_scaling_list(&w, matrix->scaling_list_4x4[i], dd_h264_zigzag4x4,
						 16);
			/* 4:2:0: Intra Y and Inter Y, which V4L2 stores at 0 and 1 */
			for (unsigned int i = 0; t8x8 && i < 2; i++)
				put_scaling_list(&w, matrix->scaling_list_8x8[i], dd_h264_zigzag8x8,
						 64);
		}
		put_se(&w, pps->second_chroma_qp_index_offset);
	}
	put_trailing_bits(&w);
	return emit_nal(&w, 0x68, out, cap); /* nal_ref_idc 3, type 8 */
}
