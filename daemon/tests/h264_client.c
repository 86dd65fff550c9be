/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h264_client.h"

int h264_client_init(struct h264_client *c, enum h264_pattern pattern, const uint8_t *data,
		     size_t size)
{
	memset(c, 0, sizeof(*c));
	c->parser = gst_h264_nal_parser_new();
	c->pattern = pattern;
	c->data = data;
	c->size = size;
	c->last_sps_id = c->last_pps_id = -1;
	return c->parser ? 0 : -1;
}

void h264_client_free(struct h264_client *c)
{
	if (c->parser)
		gst_h264_nal_parser_free(c->parser);
	c->parser = NULL;
}

static void fill_sps(struct v4l2_ctrl_h264_sps *s, const GstH264SPS *g)
{
	memset(s, 0, sizeof(*s));
	s->profile_idc = g->profile_idc;
	/* as GStreamer, FFmpeg and Chromium fill it: constraint_set0_flag in bit 0 */
	s->constraint_set_flags =
		(uint8_t)((g->constraint_set0_flag ? V4L2_H264_SPS_CONSTRAINT_SET0_FLAG : 0) |
			  (g->constraint_set1_flag ? V4L2_H264_SPS_CONSTRAINT_SET1_FLAG : 0) |
			  (g->constraint_set2_flag ? V4L2_H264_SPS_CONSTRAINT_SET2_FLAG : 0) |
			  (g->constraint_set3_flag ? V4L2_H264_SPS_CONSTRAINT_SET3_FLAG : 0) |
			  (g->constraint_set4_flag ? V4L2_H264_SPS_CONSTRAINT_SET4_FLAG : 0) |
			  (g->constraint_set5_flag ? V4L2_H264_SPS_CONSTRAINT_SET5_FLAG : 0));
	s->level_idc = g->level_idc;
	s->seq_parameter_set_id = (uint8_t)g->id;
	s->chroma_format_idc = g->chroma_format_idc;
	s->bit_depth_luma_minus8 = g->bit_depth_luma_minus8;
	s->bit_depth_chroma_minus8 = g->bit_depth_chroma_minus8;
	s->log2_max_frame_num_minus4 = g->log2_max_frame_num_minus4;
	s->pic_order_cnt_type = g->pic_order_cnt_type;
	s->log2_max_pic_order_cnt_lsb_minus4 = g->log2_max_pic_order_cnt_lsb_minus4;
	s->max_num_ref_frames = (uint8_t)g->num_ref_frames;
	s->num_ref_frames_in_pic_order_cnt_cycle = g->num_ref_frames_in_pic_order_cnt_cycle;
	for (int i = 0; i < 255; i++)
		s->offset_for_ref_frame[i] = g->offset_for_ref_frame[i];
	s->offset_for_non_ref_pic = g->offset_for_non_ref_pic;
	s->offset_for_top_to_bottom_field = g->offset_for_top_to_bottom_field;
	s->pic_width_in_mbs_minus1 = (uint16_t)g->pic_width_in_mbs_minus1;
	s->pic_height_in_map_units_minus1 = (uint16_t)g->pic_height_in_map_units_minus1;
	if (g->separate_colour_plane_flag)
		s->flags |= V4L2_H264_SPS_FLAG_SEPARATE_COLOUR_PLANE;
	if (g->qpprime_y_zero_transform_bypass_flag)
		s->flags |= V4L2_H264_SPS_FLAG_QPPRIME_Y_ZERO_TRANSFORM_BYPASS;
	if (g->delta_pic_order_always_zero_flag)
		s->flags |= V4L2_H264_SPS_FLAG_DELTA_PIC_ORDER_ALWAYS_ZERO;
	if (g->gaps_in_frame_num_value_allowed_flag)
		s->flags |= V4L2_H264_SPS_FLAG_GAPS_IN_FRAME_NUM_VALUE_ALLOWED;
	if (g->frame_mbs_only_flag)
		s->flags |= V4L2_H264_SPS_FLAG_FRAME_MBS_ONLY;
	if (g->mb_adaptive_frame_field_flag)
		s->flags |= V4L2_H264_SPS_FLAG_MB_ADAPTIVE_FRAME_FIELD;
	if (g->direct_8x8_inference_flag)
		s->flags |= V4L2_H264_SPS_FLAG_DIRECT_8X8_INFERENCE;
}

static void fill_pps(struct v4l2_ctrl_h264_pps *p, const GstH264PPS *g, bool sps_lists,
		     enum h264_pattern pattern)
{
	memset(p, 0, sizeof(*p));
	p->pic_parameter_set_id = (uint8_t)g->id;
	p->seq_parameter_set_id = (uint8_t)g->sequence->id;
	p->num_slice_groups_minus1 = g->num_slice_groups_minus1;
	p->num_ref_idx_l0_default_active_minus1 = g->num_ref_idx_l0_active_minus1;
	p->num_ref_idx_l1_default_active_minus1 = g->num_ref_idx_l1_active_minus1;
	p->weighted_bipred_idc = g->weighted_bipred_idc;
	p->pic_init_qp_minus26 = g->pic_init_qp_minus26;
	p->pic_init_qs_minus26 = g->pic_init_qs_minus26;
	p->chroma_qp_index_offset = g->chroma_qp_index_offset;
	p->second_chroma_qp_index_offset = g->second_chroma_qp_index_offset;
	if (g->entropy_coding_mode_flag)
		p->flags |= V4L2_H264_PPS_FLAG_ENTROPY_CODING_MODE;
	if (g->pic_order_present_flag)
		p->flags |= V4L2_H264_PPS_FLAG_BOTTOM_FIELD_PIC_ORDER_IN_FRAME_PRESENT;
	if (g->weighted_pred_flag)
		p->flags |= V4L2_H264_PPS_FLAG_WEIGHTED_PRED;
	if (g->deblocking_filter_control_present_flag)
		p->flags |= V4L2_H264_PPS_FLAG_DEBLOCKING_FILTER_CONTROL_PRESENT;
	if (g->constrained_intra_pred_flag)
		p->flags |= V4L2_H264_PPS_FLAG_CONSTRAINED_INTRA_PRED;
	if (g->redundant_pic_cnt_present_flag)
		p->flags |= V4L2_H264_PPS_FLAG_REDUNDANT_PIC_CNT_PRESENT;
	if (g->transform_8x8_mode_flag)
		p->flags |= V4L2_H264_PPS_FLAG_TRANSFORM_8X8_MODE;
	/* GStreamer: lists in the SPS or the PPS; Chromium: lists in the PPS only; FFmpeg: always */
	if (g->pic_scaling_matrix_present_flag || pattern == H264_PATTERN_FFMPEG ||
	    (pattern == H264_PATTERN_GST && sps_lists))
		p->flags |= V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT;
}

/* The parser resolves the fall-back rules into the PPS's lists, in zig-zag order. */
static void fill_matrix(struct v4l2_ctrl_h264_scaling_matrix *m, const GstH264PPS *g)
{
	for (int i = 0; i < 6; i++)
		gst_h264_quant_matrix_4x4_get_raster_from_zigzag(m->scaling_list_4x4[i],
								 g->scaling_lists_4x4[i]);
	for (int i = 0; i < 6; i++)
		gst_h264_quant_matrix_8x8_get_raster_from_zigzag(m->scaling_list_8x8[i],
								 g->scaling_lists_8x8[i]);
}

static int append_slice(struct h264_job *job, const GstH264NalUnit *n)
{
	size_t need = job->size + 3 + n->size;

	if (need > job->cap) {
		size_t cap = job->cap ? job->cap * 2 : 1 << 16;
		uint8_t *b;

		while (cap < need)
			cap *= 2;
		b = realloc(job->buf, cap);
		if (!b)
			return -1;
		job->buf = b;
		job->cap = cap;
	}
	memcpy(job->buf + job->size, "\0\0\1", 3);
	memcpy(job->buf + job->size + 3, n->data + n->offset, n->size);
	job->size = need;
	return 0;
}

/* The picture's POC (8.2.1.1 and 8.2.1.3; type 1 is left zero). */
static void compute_poc(struct h264_client *c, const GstH264NalUnit *n, const GstH264SliceHdr *sh,
			struct v4l2_ctrl_h264_decode_params *dp)
{
	const GstH264SPS *sps = sh->pps->sequence;
	int32_t max_lsb = 1 << (sps->log2_max_pic_order_cnt_lsb_minus4 + 4);
	int32_t max_frame_num = 1 << (sps->log2_max_frame_num_minus4 + 4);
	int32_t lsb = sh->pic_order_cnt_lsb, msb, poc;

	if (n->idr_pic_flag) {
		c->prev_poc_msb = c->prev_poc_lsb = 0;
		c->frame_num_offset = 0;
		c->prev_frame_num = 0;
	}
	if (sps->pic_order_cnt_type == 0) {
		if (lsb < c->prev_poc_lsb && c->prev_poc_lsb - lsb >= max_lsb / 2)
			msb = c->prev_poc_msb + max_lsb;
		else if (lsb > c->prev_poc_lsb && lsb - c->prev_poc_lsb > max_lsb / 2)
			msb = c->prev_poc_msb - max_lsb;
		else
			msb = c->prev_poc_msb;
		c->poc_msb = msb;
		c->poc_lsb = lsb;
		dp->top_field_order_cnt = msb + lsb;
		dp->bottom_field_order_cnt = dp->top_field_order_cnt +
					     (sh->field_pic_flag ? 0 : sh->delta_pic_order_cnt_bottom);
	} else if (sps->pic_order_cnt_type == 2) {
		c->cur_frame_num_offset = c->frame_num_offset +
					  (sh->frame_num < c->prev_frame_num ? max_frame_num : 0);
		if (n->idr_pic_flag)
			c->cur_frame_num_offset = 0;
		poc = 2 * (c->cur_frame_num_offset + sh->frame_num) - (n->ref_idc ? 0 : 1);
		dp->top_field_order_cnt = dp->bottom_field_order_cnt = poc;
	}
}

/* V4L2_H264_TOP_FIELD_REF or _BOTTOM_, or both for a frame picture. */
static uint8_t field_parity(const struct v4l2_ctrl_h264_decode_params *dp)
{
	if (!(dp->flags & V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC))
		return V4L2_H264_FRAME_REF;
	return dp->flags & V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD ? V4L2_H264_BOTTOM_FIELD_REF :
	       V4L2_H264_TOP_FIELD_REF;
}

/* Controls of the picture from its first slice. */
static void start_picture(struct h264_client *c, struct h264_job *job, const GstH264NalUnit *n,
			  const GstH264SliceHdr *sh)
{
	const GstH264PPS *pps = sh->pps;
	const GstH264SPS *sps = pps->sequence;
	struct v4l2_ctrl_h264_decode_params *dp = &job->dp;

	fill_sps(&job->sps, sps);
	fill_pps(&job->pps, pps, sps->scaling_matrix_present_flag, c->pattern);
	if (c->never_flag_matrix)
		job->pps.flags &= ~V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT;
	fill_matrix(&job->matrix, pps);
	/* FFmpeg fills the 8x8 lists of Cb and Cr only for 4:4:4 */
	if (c->pattern == H264_PATTERN_FFMPEG && sps->chroma_format_idc != 3)
		memset(job->matrix.scaling_list_8x8[2], 0, sizeof(job->matrix.scaling_list_8x8[0]) * 4);
	job->reorder = sps->vui_parameters_present_flag &&
		       sps->vui_parameters.bitstream_restriction_flag ?
		       (int)sps->vui_parameters.num_reorder_frames : -1;
	job->send_sps_pps = c->pattern != H264_PATTERN_GST || sps->id != c->last_sps_id ||
			    pps->id != c->last_pps_id;
	job->send_matrix = c->pattern != H264_PATTERN_GST ||
			   (job->pps.flags & V4L2_H264_PPS_FLAG_SCALING_MATRIX_PRESENT);
	c->last_sps_id = sps->id;
	c->last_pps_id = pps->id;
	job->reference = n->ref_idc != 0;
	job->width = (sps->pic_width_in_mbs_minus1 + 1u) * 16;
	job->height = (sps->pic_height_in_map_units_minus1 + 1u) * 16 *
		      (sps->frame_mbs_only_flag ? 1 : 2);
	job->crop_x = sps->frame_cropping_flag ? (uint32_t)sps->crop_rect_x : 0;
	job->crop_y = sps->frame_cropping_flag ? (uint32_t)sps->crop_rect_y : 0;
	job->crop_w = sps->frame_cropping_flag ? (uint32_t)sps->crop_rect_width : job->width;
	job->crop_h = sps->frame_cropping_flag ? (uint32_t)sps->crop_rect_height : job->height;
	job->bit_depth = sps->bit_depth_luma_minus8 + 8u;

	memset(dp, 0, sizeof(*dp));
	dp->nal_ref_idc = n->ref_idc;
	dp->frame_num = sh->frame_num;
	dp->idr_pic_id = sh->idr_pic_id;
	dp->pic_order_cnt_lsb = sh->pic_order_cnt_lsb;
	dp->delta_pic_order_cnt_bottom = sh->delta_pic_order_cnt_bottom;
	dp->delta_pic_order_cnt0 = sh->delta_pic_order_cnt[0];
	dp->delta_pic_order_cnt1 = sh->delta_pic_order_cnt[1];
	dp->dec_ref_pic_marking_bit_size = sh->dec_ref_pic_marking.bit_size;
	dp->pic_order_cnt_bit_size = sh->pic_order_cnt_bit_size;
	dp->slice_group_change_cycle = sh->slice_group_change_cycle;
	if (n->idr_pic_flag) {
		dp->flags |= V4L2_H264_DECODE_PARAM_FLAG_IDR_PIC;
		c->num_refs = 0;
	}
	compute_poc(c, n, sh, dp);
	if (sh->field_pic_flag)
		dp->flags |= V4L2_H264_DECODE_PARAM_FLAG_FIELD_PIC;
	if (sh->bottom_field_flag)
		dp->flags |= V4L2_H264_DECODE_PARAM_FLAG_BOTTOM_FIELD;
	job->second_field = sh->field_pic_flag && c->field_open &&
			    c->open_frame_num == sh->frame_num &&
			    c->open_parity != field_parity(dp) && !n->idr_pic_flag &&
			    c->open_reference == (n->ref_idc != 0);
	for (unsigned int i = 0; i < c->num_refs; i++) {
		/* FFmpeg lists its short-term references newest first */
		unsigned int k = c->pattern == H264_PATTERN_FFMPEG ? c->num_refs - 1 - i : i;
		struct v4l2_h264_dpb_entry *e = &dp->dpb[i];

		e->reference_ts = c->refs[k].ts;
		e->frame_num = c->refs[k].frame_num;
		e->pic_num = c->refs[k].frame_num;
		e->top_field_order_cnt = c->refs[k].top_poc;
		e->bottom_field_order_cnt = c->refs[k].bottom_poc;
		e->fields = c->refs[k].fields;
		e->flags = V4L2_H264_DPB_ENTRY_FLAG_VALID | V4L2_H264_DPB_ENTRY_FLAG_ACTIVE;
	}
}

int h264_client_next(struct h264_client *c, struct h264_job *job)
{
	bool started = false;

	job->size = 0;
	while (c->pos < c->size) {
		GstH264NalUnit n;
		GstH264SliceHdr sh;
		GstH264ParserResult r;

		r = gst_h264_parser_identify_nalu(c->parser, c->data, (guint)c->pos,
						  c->size, &n);
		if (r == GST_H264_PARSER_NO_NAL)
			break;
		if (r != GST_H264_PARSER_OK && r != GST_H264_PARSER_NO_NAL_END)
			return -1;
		if (n.type == GST_H264_NAL_SLICE || n.type == GST_H264_NAL_SLICE_IDR) {
			if (gst_h264_parser_parse_slice_hdr(c->parser, &n, &sh, TRUE, TRUE) !=
			    GST_H264_PARSER_OK)
				return -1;
			if (started && sh.first_mb_in_slice == 0)
				return 1; /* the next picture: this NAL again next time */
			if (!started) {
				start_picture(c, job, &n, &sh);
				/* start code, NAL header, slice header (its size is in bits) */
				job->slice_hdr_end = 3 + n.header_bytes + (sh.header_size + 7) / 8 +
						     sh.n_emulation_prevention_bytes;
			}
			started = true;
			if (GST_H264_IS_B_SLICE(&sh))
				job->dp.flags |= V4L2_H264_DECODE_PARAM_FLAG_BFRAME;
			else if (GST_H264_IS_P_SLICE(&sh))
				job->dp.flags |= V4L2_H264_DECODE_PARAM_FLAG_PFRAME;
			if (append_slice(job, &n))
				return -1;
		} else if (n.type == GST_H264_NAL_SPS || n.type == GST_H264_NAL_PPS ||
			   n.type == GST_H264_NAL_AU_DELIMITER) {
			/* a new access unit starts; parameter sets take effect from it */
			if (started)
				return 1;
			if (n.type == GST_H264_NAL_SPS) {
				GstH264SPS sps;

				if (gst_h264_parser_parse_sps(c->parser, &n, &sps))
					return -1;
				gst_h264_sps_clear(&sps);
			} else if (n.type == GST_H264_NAL_PPS) {
				GstH264PPS pps;

				if (gst_h264_parser_parse_pps(c->parser, &n, &pps))
					return -1;
				gst_h264_pps_clear(&pps);
			}
		}
		c->pos = n.offset + n.size;
	}
	return started ? 1 : 0;
}

void h264_client_seek(struct h264_client *c)
{
	c->num_refs = 0;
	c->field_open = false;
	c->prev_poc_msb = c->prev_poc_lsb = c->frame_num_offset = 0;
	c->prev_frame_num = 0;
}

void h264_client_done(struct h264_client *c, const struct h264_job *job, uint64_t ts)
{
	unsigned int max = job->sps.max_num_ref_frames ? job->sps.max_num_ref_frames : 1;
	uint8_t parity = field_parity(&job->dp);

	c->frame_num_offset = c->cur_frame_num_offset;
	c->prev_frame_num = job->dp.frame_num;
	/* a first field opens its frame, whose second field is the next job or never comes */
	c->field_open = parity != V4L2_H264_FRAME_REF && !job->second_field;
	c->open_parity = parity;
	c->open_reference = job->reference;
	c->open_frame_num = job->dp.frame_num;
	if (!job->reference)
		return;
	c->prev_poc_msb = c->poc_msb;
	c->prev_poc_lsb = c->poc_lsb;
	if (job->second_field && c->num_refs &&
	    c->refs[c->num_refs - 1].frame_num == job->dp.frame_num) {
		/* its frame's entry (8.2.5.1: no sliding window for a second field) */
		c->refs[c->num_refs - 1].fields |= parity;
		if (parity == V4L2_H264_BOTTOM_FIELD_REF)
			c->refs[c->num_refs - 1].bottom_poc = job->dp.bottom_field_order_cnt;
		else
			c->refs[c->num_refs - 1].top_poc = job->dp.top_field_order_cnt;
		return;
	}
	while (c->num_refs >= max) {
		memmove(&c->refs[0], &c->refs[1], (c->num_refs - 1) * sizeof(c->refs[0]));
		c->num_refs--;
	}
	c->refs[c->num_refs].ts = ts;
	c->refs[c->num_refs].frame_num = job->dp.frame_num;
	c->refs[c->num_refs].top_poc = job->dp.top_field_order_cnt;
	c->refs[c->num_refs].bottom_poc = job->dp.bottom_field_order_cnt;
	c->refs[c->num_refs].fields = parity;
	c->num_refs++;
}
