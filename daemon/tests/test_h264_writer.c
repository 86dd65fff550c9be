/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The H.264 parameter-set writer, checked against an independent reader: GStreamer's
 * codecparsers (what GStreamer's own v4l2codecs element parses streams with).
 *
 * Random SPS/PPS/scaling-matrix controls within the ranges dd_h264_check_params() accepts
 * are written, parsed back, and every field must come back unchanged (scaling lists after
 * GStreamer's zig-zag-to-raster conversion, which also checks our scan tables). Then raw
 * random bytes and mutated valid controls: whatever the check accepts must round-trip too,
 * and nothing may read or write outside its buffers (ASan/UBSan build). Usage: [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GST_USE_UNSTABLE_API /* the codecparsers API carries no stability promise */
#include <gst/codecparsers/gsth264parser.h>

#include "error.h"
#include "h264_check.h"
#include "h264_param_writer.h"

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static unsigned int failures, checked, rejected;

static uint32_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)state;
}

static int32_t rnd_range(int32_t lo, int32_t hi)
{
	return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static void plausible(struct v4l2_ctrl_h264_sps *sps, struct v4l2_ctrl_h264_pps *pps,
		      struct v4l2_ctrl_h264_scaling_matrix *m)
{
	static const uint8_t profiles[] = { 66, 77, 88, 100, 110, 122, 244 };
	bool high;

	memset(sps, 0, sizeof(*sps));
	memset(pps, 0, sizeof(*pps));
	sps->profile_idc = profiles[rnd() % sizeof(profiles)];
	high = dd_h264_high_profile(sps->profile_idc);
	sps->constraint_set_flags = (uint8_t)(rnd() & 0x3f); /* V4L2's SET0..SET5, bits 0..5 */
	sps->level_idc = (uint8_t)rnd_range(9, 62);
	sps->seq_parameter_set_id = (uint8_t)rnd_range(0, 31);
	sps->chroma_format_idc = high ? (uint8_t)rnd_range(0, 1) : 1;
	sps->bit_depth_luma_minus8 = high && rnd() % 2 ? 2 : 0;
	sps->bit_depth_chroma_minus8 = sps->bit_depth_luma_minus8;
	sps->log2_max_frame_num_minus4 = (uint8_t)rnd_range(0, 12);
	sps->pic_order_cnt_type = (uint8_t)rnd_range(0, 2);
	sps->log2_max_pic_order_cnt_lsb_minus4 = (uint8_t)rnd_range(0, 12);
	sps->max_num_ref_frames = (uint8_t)rnd_range(0, 16);
	sps->num_ref_frames_in_pic_order_cnt_cycle = (uint8_t)(rnd() % 4 ? rnd_range(0, 8) :
							      rnd_range(0, 255));
	for (int i = 0; i < 255; i++)
		sps->offset_for_ref_frame[i] = rnd() % 4 ? rnd_range(-1000, 1000) :
					       (int32_t)(rnd() | 1);
	sps->offset_for_non_ref_pic = rnd_range(-70000, 70000);
	sps->offset_for_top_to_bottom_field = (int32_t)(rnd() | 1);
	sps->pic_width_in_mbs_minus1 = (uint16_t)rnd_range(0, 1023);
	sps->pic_height_in_map_units_minus1 = (uint16_t)rnd_range(0, 1023);
	sps->flags = rnd() & (V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO |
			      V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED |
			      V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY |
			      V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD |
			      V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE);
	if (high && rnd() % 4 == 0)
		sps->flags |= V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS;
	if (sps->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY)
		sps->flags &= ~V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD;

	pps->pic_parameter_set_id = (uint8_t)rnd_range(0, 255);
	pps->seq_parameter_set_id = sps->seq_parameter_set_id;
	pps->num_ref_idx_l0_default_active_minus1 = (uint8_t)rnd_range(0, 31);
	pps->num_ref_idx_l1_default_active_minus1 = (uint8_t)rnd_range(0, 31);
	pps->weighted_bipred_idc = (uint8_t)rnd_range(0, 2);
	pps->pic_init_qp_minus26 = (int8_t)rnd_range(-26 - 6 * sps->bit_depth_luma_minus8, 25);
	pps->pic_init_qs_minus26 = (int8_t)rnd_range(-26, 25);
	pps->chroma_qp_index_offset = (int8_t)rnd_range(-12, 12);
	pps->second_chroma_qp_index_offset = high && rnd() % 2 ? (int8_t)rnd_range(-12, 12) :
					     pps->chroma_qp_index_offset;
	pps->flags = rnd() & (V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE |
			      V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT |
			      V4L2_H264_PPS_FLAG_WEIGHTED_PRED |
			      V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT |
			      V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED |
			      V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT);
	if (high && rnd() % 2)
		pps->flags |= V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE;
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 16; j++)
			m->scaling_list_4x4[i][j] = (uint8_t)rnd_range(1, 255);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 64; j++)
			m->scaling_list_8x8[i][j] = (uint8_t)rnd_range(1, 255);
}

#define EXPECT(cond, ...)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			if (failures++ < 10) {                                             \
				fprintf(stderr, "case %u: %s: ", checked, #cond);          \
				fprintf(stderr, __VA_ARGS__);                              \
				fputc('\n', stderr);                                       \
			}                                                                  \
			return;                                                            \
		}                                                                          \
	} while (0)

static void compare_sps(const struct v4l2_ctrl_h264_sps *a, const GstH264SPS *b)
{
	bool high = dd_h264_high_profile(a->profile_idc);
	/* what the parser read, in V4L2's order (V4L2_H264_SPS_CONSTRAINT_SET0_FLAG is bit 0) */
	uint8_t cflags = (uint8_t)(b->constraint_set0_flag | b->constraint_set1_flag << 1 |
				   b->constraint_set2_flag << 2 | b->constraint_set3_flag << 3 |
				   b->constraint_set4_flag << 4 | b->constraint_set5_flag << 5);

	EXPECT(b->profile_idc == a->profile_idc && b->level_idc == a->level_idc &&
	       cflags == (a->constraint_set_flags & 0x3f) && b->id == a->seq_parameter_set_id,
	       "profile/level/constraints/id");
	EXPECT(b->chroma_format_idc == a->chroma_format_idc &&
	       b->bit_depth_luma_minus8 == a->bit_depth_luma_minus8 &&
	       b->bit_depth_chroma_minus8 == a->bit_depth_chroma_minus8, "chroma/bit depth");
	EXPECT(!high || b->qpprime_y_zero_transform_bypass_flag ==
	       !!(a->flags & V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS), "qpprime");
	EXPECT(!b->scaling_matrix_present_flag && !b->frame_cropping_flag &&
	       !b->vui_parameters_present_flag, "no SPS lists, crop or VUI");
	EXPECT(b->log2_max_frame_num_minus4 == a->log2_max_frame_num_minus4 &&
	       b->pic_order_cnt_type == a->pic_order_cnt_type, "frame num / poc type");
	if (a->pic_order_cnt_type == 0)
		EXPECT(b->log2_max_pic_order_cnt_lsb_minus4 ==
		       a->log2_max_pic_order_cnt_lsb_minus4, "poc lsb");
	if (a->pic_order_cnt_type == 1) {
		EXPECT(b->delta_pic_order_always_zero_flag ==
		       !!(a->flags & V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO) &&
		       b->offset_for_non_ref_pic == a->offset_for_non_ref_pic &&
		       b->offset_for_top_to_bottom_field == a->offset_for_top_to_bottom_field &&
		       b->num_ref_frames_in_pic_order_cnt_cycle ==
		       a->num_ref_frames_in_pic_order_cnt_cycle, "poc type 1 header");
		for (int i = 0; i < a->num_ref_frames_in_pic_order_cnt_cycle; i++)
			EXPECT(b->offset_for_ref_frame[i] == a->offset_for_ref_frame[i],
			       "offset_for_ref_frame[%d] %d != %d", i, b->offset_for_ref_frame[i],
			       a->offset_for_ref_frame[i]);
	}
	EXPECT(b->num_ref_frames == a->max_num_ref_frames &&
	       b->gaps_in_frame_num_value_allowed_flag ==
	       !!(a->flags & V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED) &&
	       b->pic_width_in_mbs_minus1 == a->pic_width_in_mbs_minus1 &&
	       b->pic_height_in_map_units_minus1 == a->pic_height_in_map_units_minus1 &&
	       b->frame_mbs_only_flag == !!(a->flags & V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY) &&
	       b->mb_adaptive_frame_field_flag ==
	       !!(a->flags & V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD) &&
	       b->direct_8x8_inference_flag ==
	       !!(a->flags & V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE), "refs/size/mbs flags");
}

static void compare_pps(const struct v4l2_ctrl_h264_pps *a,
			const struct v4l2_ctrl_h264_scaling_matrix *m, const GstH264PPS *b)
{
	uint8_t raster[64];
	bool t8x8 = a->flags & V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE;

	EXPECT(b->id == a->pic_parameter_set_id && b->sequence &&
	       b->sequence->id == a->seq_parameter_set_id, "ids");
	EXPECT(b->entropy_coding_mode_flag == !!(a->flags & V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE) &&
	       b->pic_order_present_flag ==
	       !!(a->flags & V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT) &&
	       b->weighted_pred_flag == !!(a->flags & V4L2_H264_PPS_FLAG_WEIGHTED_PRED) &&
	       b->deblocking_filter_control_present_flag ==
	       !!(a->flags & V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT) &&
	       b->constrained_intra_pred_flag ==
	       !!(a->flags & V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED) &&
	       b->redundant_pic_cnt_present_flag ==
	       !!(a->flags & V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT), "flags");
	EXPECT(b->num_slice_groups_minus1 == 0 &&
	       b->num_ref_idx_l0_active_minus1 == a->num_ref_idx_l0_default_active_minus1 &&
	       b->num_ref_idx_l1_active_minus1 == a->num_ref_idx_l1_default_active_minus1 &&
	       b->weighted_bipred_idc == a->weighted_bipred_idc &&
	       b->pic_init_qp_minus26 == a->pic_init_qp_minus26 &&
	       b->pic_init_qs_minus26 == a->pic_init_qs_minus26 &&
	       b->chroma_qp_index_offset == a->chroma_qp_index_offset &&
	       b->second_chroma_qp_index_offset == a->second_chroma_qp_index_offset,
	       "counts and offsets");
	EXPECT(b->transform_8x8_mode_flag == t8x8, "transform_8x8");
	EXPECT(b->pic_scaling_matrix_present_flag == (m != NULL), "matrix present");
	if (!m)
		return;
	for (int i = 0; i < 6; i++) {
		gst_h264_quant_matrix_4x4_get_raster_from_zigzag(raster, b->scaling_lists_4x4[i]);
		EXPECT(!memcmp(raster, m->scaling_list_4x4[i], 16), "4x4 list %d", i);
	}
	for (int i = 0; t8x8 && i < 2; i++) {
		gst_h264_quant_matrix_8x8_get_raster_from_zigzag(raster, b->scaling_lists_8x8[i]);
		EXPECT(!memcmp(raster, m->scaling_list_8x8[i], 64), "8x8 list %d", i);
	}
}

/* One parser for every case: it keeps parameter sets by id, each case writes its own first. */
static GstH264NalParser *parser;

static void round_trip(const struct v4l2_ctrl_h264_sps *sps, const struct v4l2_ctrl_h264_pps *pps,
		       const struct v4l2_ctrl_h264_scaling_matrix *m)
{
	uint8_t buf[2 * DD_H264_PARAM_NAL_MAX];
	size_t n1, n2;
	GstH264NalUnit nalu;
	GstH264SPS gsps;
	GstH264PPS gpps;
	GstH264ParserResult r;

	checked++;
	n1 = dd_h264_write_sps(sps, buf, DD_H264_PARAM_NAL_MAX);
	n2 = dd_h264_write_pps(pps, m, buf + n1, DD_H264_PARAM_NAL_MAX);
	if (!n1 || !n2) {
		EXPECT(0, "writer returned 0 for checked controls (%zu, %zu)", n1, n2);
		return;
	}
	r = gst_h264_parser_identify_nalu(parser, buf, 0, n1 + n2, &nalu);
	if (r == GST_H264_PARSER_OK || r == GST_H264_PARSER_NO_NAL_END)
		r = gst_h264_parser_parse_sps(parser, &nalu, &gsps);
	if (r != GST_H264_PARSER_OK) {
		EXPECT(0, "GStreamer cannot parse the SPS (%d)", r);
	} else {
		compare_sps(sps, &gsps);
		r = gst_h264_parser_identify_nalu(parser, buf, n1, n1 + n2, &nalu);
		if (r == GST_H264_PARSER_OK || r == GST_H264_PARSER_NO_NAL_END)
			r = gst_h264_parser_parse_pps(parser, &nalu, &gpps);
		if (r != GST_H264_PARSER_OK) {
			EXPECT(0, "GStreamer cannot parse the PPS (%d)", r);
		} else {
			compare_pps(pps, m, &gpps);
			gst_h264_pps_clear(&gpps);
		}
		gst_h264_sps_clear(&gsps);
	}
}

/* Random bytes over a struct, or a few of them flipped. */
static void mutate(void *p, size_t n, bool all)
{
	uint8_t *b = p;
	unsigned int flips = 1 + rnd() % 4;

	if (all)
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rnd();
	else
		while (flips--)
			b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
}

int main(int argc, char **argv)
{
	unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	struct v4l2_ctrl_h264_sps sps;
	struct v4l2_ctrl_h264_pps pps;
	struct v4l2_ctrl_h264_scaling_matrix m;
	struct dd_error err;
	unsigned long valid = iterations / 4;

	parser = gst_h264_nal_parser_new();
	for (unsigned long i = 0; i < iterations; i++) {
		bool with_matrix = rnd() % 2;

		plausible(&sps, &pps, &m);
		if (i >= valid) {
			switch (rnd() % 3) {
			case 0:
				mutate(&sps, sizeof(sps), rnd() % 8 == 0);
				break;
			case 1:
				mutate(&pps, sizeof(pps), rnd() % 8 == 0);
				break;
			default:
				mutate(&m, sizeof(m), rnd() % 8 == 0);
			}
		}
		if (dd_h264_check_params(&sps, &pps, with_matrix ? &m : NULL, &err)) {
			if (i < valid && failures++ < 10)
				fprintf(stderr, "valid case %lu rejected: %s\n", i, err.msg);
			rejected++;
			continue;
		}
		/* as h264_packet does: no lists outside the High profiles */
		round_trip(&sps, &pps, with_matrix && dd_h264_high_profile(sps.profile_idc) ?
			   &m : NULL);
	}
	gst_h264_nal_parser_free(parser);
	printf("%lu cases: %u round trips through GStreamer's parser, %u rejected by the check, "
	       "%u failures\n", iterations, checked, rejected, failures);
	return failures ? 1 : 0;
}
