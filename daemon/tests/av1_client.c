/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdlib.h>
#include <string.h>

#include "av1_client.h"

int av1_client_init(struct av1_client *c, enum av1_layout layout)
{
	memset(c, 0, sizeof(*c));
	c->layout = layout;
	c->parser = gst_av1_parser_new();
	return c->parser ? 0 : -1;
}

void av1_client_free(struct av1_client *c)
{
	if (c->parser)
		gst_av1_parser_free(c->parser);
	c->parser = NULL;
}

void av1_client_start_tu(struct av1_client *c, const uint8_t *data, size_t size)
{
	c->tu = data;
	c->tu_size = size;
	c->pos = 0;
}

static void fill_sequence(const GstAV1SequenceHeaderOBU *s, struct v4l2_ctrl_av1_sequence *v)
{
	const GstAV1ColorConfig *cc = &s->color_config;
	static const struct {
		uint32_t flag;
		size_t offset;
	} flags[] = {
#define F(flag, field) { V4L2_AV1_SEQUENCE_FLAG_##flag, offsetof(GstAV1SequenceHeaderOBU, field) }
		F(STILL_PICTURE, still_picture),
		F(USE_128X128_SUPERBLOCK, use_128x128_superblock),
		F(ENABLE_FILTER_INTRA, enable_filter_intra),
		F(ENABLE_INTRA_EDGE_FILTER, enable_intra_edge_filter),
		F(ENABLE_INTERINTRA_COMPOUND, enable_interintra_compound),
		F(ENABLE_MASKED_COMPOUND, enable_masked_compound),
		F(ENABLE_WARPED_MOTION, enable_warped_motion),
		F(ENABLE_DUAL_FILTER, enable_dual_filter),
		F(ENABLE_ORDER_HINT, enable_order_hint),
		F(ENABLE_JNT_COMP, enable_jnt_comp),
		F(ENABLE_REF_FRAME_MVS, enable_ref_frame_mvs),
		F(ENABLE_SUPERRES, enable_superres),
		F(ENABLE_CDEF, enable_cdef),
		F(ENABLE_RESTORATION, enable_restoration),
#undef F
	};

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (*(const gboolean *)((const char *)s + flags[i].offset))
			v->flags |= flags[i].flag;
	if (cc->mono_chrome)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME;
	if (cc->color_range)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_COLOR_RANGE;
	if (cc->subsampling_x)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X;
	if (cc->subsampling_y)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y;
	if (s->film_grain_params_present)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT;
	if (cc->separate_uv_delta_q)
		v->flags |= V4L2_AV1_SEQUENCE_FLAG_SEPARATE_UV_DELTA_Q;
	v->seq_profile = (uint8_t)s->seq_profile;
	v->order_hint_bits = s->order_hint_bits;
	v->bit_depth = s->bit_depth;
	v->max_frame_width_minus_1 = s->max_frame_width_minus_1;
	v->max_frame_height_minus_1 = s->max_frame_height_minus_1;
}

static void fill_grain(const GstAV1FilmGrainParams *g, struct v4l2_ctrl_av1_film_grain *v)
{
	memset(v, 0, sizeof(*v));
	v->flags = (g->apply_grain ? V4L2_AV1_FILM_GRAIN_FLAG_APPLY_GRAIN : 0) |
		   (g->update_grain ? V4L2_AV1_FILM_GRAIN_FLAG_UPDATE_GRAIN : 0) |
		   (g->chroma_scaling_from_luma ? V4L2_AV1_FILM_GRAIN_FLAG_CHROMA_SCALING_FROM_LUMA : 0) |
		   (g->overlap_flag ? V4L2_AV1_FILM_GRAIN_FLAG_OVERLAP : 0) |
		   (g->clip_to_restricted_range ? V4L2_AV1_FILM_GRAIN_FLAG_CLIP_TO_RESTRICTED_RANGE : 0);
	v->cr_mult = g->cr_mult;
	v->grain_seed = g->grain_seed;
	v->film_grain_params_ref_idx = g->film_grain_params_ref_idx;
	v->num_y_points = g->num_y_points;
	memcpy(v->point_y_value, g->point_y_value, sizeof(v->point_y_value));
	memcpy(v->point_y_scaling, g->point_y_scaling, sizeof(v->point_y_scaling));
	v->num_cb_points = g->num_cb_points;
	memcpy(v->point_cb_value, g->point_cb_value, sizeof(v->point_cb_value));
	memcpy(v->point_cb_scaling, g->point_cb_scaling, sizeof(v->point_cb_scaling));
	v->num_cr_points = g->num_cr_points;
	memcpy(v->point_cr_value, g->point_cr_value, sizeof(v->point_cr_value));
	memcpy(v->point_cr_scaling, g->point_cr_scaling, sizeof(v->point_cr_scaling));
	v->grain_scaling_minus_8 = g->grain_scaling_minus_8;
	v->ar_coeff_lag = g->ar_coeff_lag;
	memcpy(v->ar_coeffs_y_plus_128, g->ar_coeffs_y_plus_128, sizeof(v->ar_coeffs_y_plus_128));
	memcpy(v->ar_coeffs_cb_plus_128, g->ar_coeffs_cb_plus_128, sizeof(v->ar_coeffs_cb_plus_128));
	memcpy(v->ar_coeffs_cr_plus_128, g->ar_coeffs_cr_plus_128, sizeof(v->ar_coeffs_cr_plus_128));
	v->ar_coeff_shift_minus_6 = g->ar_coeff_shift_minus_6;
	v->grain_scale_shift = g->grain_scale_shift;
	v->cb_mult = g->cb_mult;
	v->cb_luma_mult = g->cb_luma_mult;
	v->cr_luma_mult = g->cr_luma_mult;
	v->cb_offset = g->cb_offset;
	v->cr_offset = g->cr_offset;
}

static void fill_frame(const struct av1_client *c, const GstAV1FrameHeaderOBU *f,
		       struct v4l2_ctrl_av1_frame *v)
{
	const GstAV1TileInfo *ti = &f->tile_info;
	const GstAV1QuantizationParams *q = &f->quantization_params;
	const GstAV1SegmenationParams *sg = &f->segmentation_params;
	const GstAV1LoopFilterParams *lf = &f->loop_filter_params;
	const GstAV1CDEFParams *cd = &f->cdef_params;
	const GstAV1LoopRestorationParams *lr = &f->loop_restoration_params;
	const GstAV1GlobalMotionParams *gm = &f->global_motion_params;

	memset(v, 0, sizeof(*v));
	v->tile_info.flags = ti->uniform_tile_spacing_flag ? V4L2_AV1_TILE_INFO_FLAG_UNIFORM_TILE_SPACING : 0;
	v->tile_info.context_update_tile_id = ti->context_update_tile_id;
	v->tile_info.tile_cols = ti->tile_cols;
	v->tile_info.tile_rows = ti->tile_rows;
	for (int i = 0; i <= V4L2_AV1_MAX_TILE_COLS; i++)
		v->tile_info.mi_col_starts[i] = ti->mi_col_starts[i];
	for (int i = 0; i <= V4L2_AV1_MAX_TILE_ROWS; i++)
		v->tile_info.mi_row_starts[i] = ti->mi_row_starts[i];
	for (int i = 0; i < V4L2_AV1_MAX_TILE_COLS; i++)
		v->tile_info.width_in_sbs_minus_1[i] = (uint32_t)ti->width_in_sbs_minus_1[i];
	for (int i = 0; i < V4L2_AV1_MAX_TILE_ROWS; i++)
		v->tile_info.height_in_sbs_minus_1[i] = (uint32_t)ti->height_in_sbs_minus_1[i];
	v->tile_info.tile_size_bytes = ti->tile_size_bytes;

	v->quantization.flags = (q->diff_uv_delta ? V4L2_AV1_QUANTIZATION_FLAG_DIFF_UV_DELTA : 0) |
				(q->using_qmatrix ? V4L2_AV1_QUANTIZATION_FLAG_USING_QMATRIX : 0) |
				(q->delta_q_present ? V4L2_AV1_QUANTIZATION_FLAG_DELTA_Q_PRESENT : 0);
	v->quantization.base_q_idx = q->base_q_idx;
	v->quantization.delta_q_y_dc = q->delta_q_y_dc;
	v->quantization.delta_q_u_dc = q->delta_q_u_dc;
	v->quantization.delta_q_u_ac = q->delta_q_u_ac;
	v->quantization.delta_q_v_dc = q->delta_q_v_dc;
	v->quantization.delta_q_v_ac = q->delta_q_v_ac;
	v->quantization.qm_y = q->qm_y;
	v->quantization.qm_u = q->qm_u;
	v->quantization.qm_v = q->qm_v;
	v->quantization.delta_q_res = q->delta_q_res;
	v->superres_denom = (uint8_t)f->superres_denom;

	v->segmentation.flags = (sg->segmentation_enabled ? V4L2_AV1_SEGMENTATION_FLAG_ENABLED : 0) |
		(sg->segmentation_update_map ? V4L2_AV1_SEGMENTATION_FLAG_UPDATE_MAP : 0) |
		(sg->segmentation_temporal_update ? V4L2_AV1_SEGMENTATION_FLAG_TEMPORAL_UPDATE : 0) |
		(sg->segmentation_update_data ? V4L2_AV1_SEGMENTATION_FLAG_UPDATE_DATA : 0) |
		(sg->seg_id_pre_skip ? V4L2_AV1_SEGMENTATION_FLAG_SEG_ID_PRE_SKIP : 0);
	v->segmentation.last_active_seg_id = sg->last_active_seg_id;
	for (int i = 0; i < V4L2_AV1_MAX_SEGMENTS; i++) {
		for (int j = 0; j < V4L2_AV1_SEG_LVL_MAX; j++) {
			if (sg->feature_enabled[i][j])
				v->segmentation.feature_enabled[i] |= (uint8_t)(1u << j);
			v->segmentation.feature_data[i][j] = sg->feature_data[i][j];
		}
	}

	v->loop_filter.flags = (lf->loop_filter_delta_enabled ? V4L2_AV1_LOOP_FILTER_FLAG_DELTA_ENABLED : 0) |
		(lf->loop_filter_delta_update ? V4L2_AV1_LOOP_FILTER_FLAG_DELTA_UPDATE : 0) |
		(lf->delta_lf_present ? V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_PRESENT : 0) |
		(lf->delta_lf_multi ? V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_MULTI : 0);
	memcpy(v->loop_filter.level, lf->loop_filter_level, 4);
	v->loop_filter.sharpness = lf->loop_filter_sharpness;
	memcpy(v->loop_filter.ref_deltas, lf->loop_filter_ref_deltas, 8);
	memcpy(v->loop_filter.mode_deltas, lf->loop_filter_mode_deltas, 2);
	v->loop_filter.delta_lf_res = lf->delta_lf_res;

	v->cdef.damping_minus_3 = (uint8_t)(cd->cdef_damping - 3);
	v->cdef.bits = cd->cdef_bits;
	memcpy(v->cdef.y_pri_strength, cd->cdef_y_pri_strength, 8);
	memcpy(v->cdef.y_sec_strength, cd->cdef_y_sec_strength, 8);
	memcpy(v->cdef.uv_pri_strength, cd->cdef_uv_pri_strength, 8);
	memcpy(v->cdef.uv_sec_strength, cd->cdef_uv_sec_strength, 8);

	memcpy(v->skip_mode_frame, f->skip_mode_frame, 2);
	v->primary_ref_frame = f->primary_ref_frame;

	v->loop_restoration.flags = lr->uses_lr ? V4L2_AV1_LOOP_RESTORATION_FLAG_USES_LR : 0;
	v->loop_restoration.lr_unit_shift = lr->lr_unit_shift;
	v->loop_restoration.lr_uv_shift = (uint8_t)lr->lr_uv_shift;
	for (int i = 0; i < 3; i++) {
		v->loop_restoration.frame_restoration_type[i] =
			(enum v4l2_av1_frame_restoration_type)lr->frame_restoration_type[i];
		v->loop_restoration.loop_restoration_size[i] = lr->loop_restoration_size[i];
		if (i && lr->frame_restoration_type[i])
			v->loop_restoration.flags |= V4L2_AV1_LOOP_RESTORATION_FLAG_USES_CHROMA_LR;
	}

	for (int r = 0; r < V4L2_AV1_TOTAL_REFS_PER_FRAME; r++) {
		v->global_motion.flags[r] =
			(gm->is_global[r] ? V4L2_AV1_GLOBAL_MOTION_FLAG_IS_GLOBAL : 0) |
			(gm->is_rot_zoom[r] ? V4L2_AV1_GLOBAL_MOTION_FLAG_IS_ROT_ZOOM : 0) |
			(gm->is_translation[r] ? V4L2_AV1_GLOBAL_MOTION_FLAG_IS_TRANSLATION : 0);
		v->global_motion.type[r] = (enum v4l2_av1_warp_model)gm->gm_type[r];
		memcpy(v->global_motion.params[r], gm->gm_params[r], sizeof(v->global_motion.params[r]));
		if (gm->invalid[r])
			v->global_motion.invalid |= (uint8_t)(1u << r);
	}

#define FL(cond, flag) ((cond) ? V4L2_AV1_FRAME_FLAG_##flag : 0)
	v->flags = FL(f->show_frame, SHOW_FRAME) | FL(f->showable_frame, SHOWABLE_FRAME) |
		   FL(f->error_resilient_mode, ERROR_RESILIENT_MODE) |
		   FL(f->disable_cdf_update, DISABLE_CDF_UPDATE) |
		   FL(f->allow_screen_content_tools, ALLOW_SCREEN_CONTENT_TOOLS) |
		   FL(f->force_integer_mv, FORCE_INTEGER_MV) |
		   FL(f->allow_intrabc, ALLOW_INTRABC) | FL(f->use_superres, USE_SUPERRES) |
		   FL(f->allow_high_precision_mv, ALLOW_HIGH_PRECISION_MV) |
		   FL(f->is_motion_mode_switchable, IS_MOTION_MODE_SWITCHABLE) |
		   FL(f->use_ref_frame_mvs, USE_REF_FRAME_MVS) |
		   FL(f->disable_frame_end_update_cdf, DISABLE_FRAME_END_UPDATE_CDF) |
		   FL(f->allow_warped_motion, ALLOW_WARPED_MOTION) |
		   FL(f->reference_select, REFERENCE_SELECT) |
		   FL(f->reduced_tx_set, REDUCED_TX_SET) |
		   FL(f->skip_mode_frame[0] > 0, SKIP_MODE_ALLOWED) |
		   FL(f->skip_mode_present, SKIP_MODE_PRESENT) |
		   FL(f->frame_size_override_flag, FRAME_SIZE_OVERRIDE) |
		   FL(f->buffer_removal_time_present_flag, BUFFER_REMOVAL_TIME_PRESENT) |
		   FL(f->frame_refs_short_signaling, FRAME_REFS_SHORT_SIGNALING);
#undef FL
	v->frame_type = (enum v4l2_av1_frame_type)f->frame_type;
	v->order_hint = f->order_hint;
	v->upscaled_width = f->upscaled_width;
	v->interpolation_filter = (enum v4l2_av1_interpolation_filter)f->interpolation_filter;
	v->tx_mode = (enum v4l2_av1_tx_mode)f->tx_mode;
	v->frame_width_minus_1 = f->frame_width - 1;
	v->frame_height_minus_1 = f->frame_height - 1;
	v->render_width_minus_1 = (uint16_t)(f->render_width - 1);
	v->render_height_minus_1 = (uint16_t)(f->render_height - 1);
	v->current_frame_id = f->current_frame_id;
	for (int i = 0; i < V4L2_AV1_TOTAL_REFS_PER_FRAME; i++) {
		v->order_hints[i] = f->order_hints[i];
		v->reference_frame_ts[i] = c->slot_ts[i];
	}
	memcpy(v->ref_frame_idx, f->ref_frame_idx, sizeof(v->ref_frame_idx));
	v->refresh_frame_flags = f->refresh_frame_flags;
}

static int grow(struct av1_job *job, size_t need)
{
	uint8_t *p;

	if (need <= job->cap)
		return 0;
	p = realloc(job->buf, need);
	if (!p)
		return -1;
	job->buf = p;
	job->cap = need;
	return 0;
}

/* Appends one OBU's tiles to the job in the client's layout. */
static int add_tiles(struct av1_client *c, struct av1_job *job, const GstAV1OBU *obu,
		     const GstAV1TileGroupOBU *tg)
{
	for (unsigned int t = tg->tg_start; t <= tg->tg_end; t++) {
		const GstAV1TileGroupOBUEntry *e = &tg->entry[t];
		struct v4l2_ctrl_av1_tile_group_entry *v;

		if (job->num_tiles >= V4L2_AV1_MAX_TILE_COUNT)
			return -1;
		v = &job->tiles[job->num_tiles++];
		v->tile_row = e->tile_row;
		v->tile_col = e->tile_col;
		v->tile_size = e->tile_size;
		switch (c->layout) {
		case AV1_LAYOUT_GST:
			v->tile_offset = (uint32_t)job->size + e->tile_offset;
			break;
		case AV1_LAYOUT_CHROMIUM:
			v->tile_offset = (uint32_t)(obu->data - c->tu) + e->tile_offset;
			break;
		case AV1_LAYOUT_TILES:
			if (grow(job, job->size + e->tile_size))
				return -1;
			memcpy(job->buf + job->size, obu->data + e->tile_offset, e->tile_size);
			v->tile_offset = (uint32_t)job->size;
			job->size += e->tile_size;
			break;
		}
	}
	if (c->layout == AV1_LAYOUT_GST) {
		if (grow(job, job->size + obu->obu_size))
			return -1;
		memcpy(job->buf + job->size, obu->data, obu->obu_size);
		job->size += obu->obu_size;
	}
	return 0;
}

static void start_job(struct av1_client *c, struct av1_job *job)
{
	job->num_tiles = 0;
	job->size = 0;
	job->show_existing = false;
	job->show_existing_key = false;
	job->fh = c->fh;
	if (c->layout == AV1_LAYOUT_CHROMIUM && !grow(job, c->tu_size)) {
		memcpy(job->buf, c->tu, c->tu_size);
		job->size = c->tu_size;
	}
}

int av1_client_next(struct av1_client *c, struct av1_job *job, uint64_t ts)
{
	(void)ts;
	while (c->pos < c->tu_size) {
		GstAV1OBU obu;
		guint32 consumed = 0;
		GstAV1ParserResult r;
		static GstAV1FrameOBU frame; /* large: keep it off the stack */
		static GstAV1TileGroupOBU tg;

		r = gst_av1_parser_identify_one_obu(c->parser, c->tu + c->pos,
						    (guint32)(c->tu_size - c->pos), &obu, &consumed);
		if (r == GST_AV1_PARSER_DROP) {
			c->pos += consumed;
			continue;
		}
		if (r != GST_AV1_PARSER_OK)
			return -1;
		c->pos += consumed;
		switch (obu.obu_type) {
		case GST_AV1_OBU_SEQUENCE_HEADER:
			if (gst_av1_parser_parse_sequence_header_obu(c->parser, &obu, &c->seq))
				return -1;
			c->have_seq = true;
			break;
		case GST_AV1_OBU_TEMPORAL_DELIMITER:
			gst_av1_parser_parse_temporal_delimiter_obu(c->parser, &obu);
			break;
		case GST_AV1_OBU_FRAME_HEADER:
		case GST_AV1_OBU_REDUNDANT_FRAME_HEADER:
			if (c->in_frame && obu.obu_type == GST_AV1_OBU_REDUNDANT_FRAME_HEADER)
				break;
			if (gst_av1_parser_parse_frame_header_obu(c->parser, &obu, &c->fh))
				return -1;
			if (c->fh.show_existing_frame) {
				start_job(c, job);
				job->show_existing = true;
				job->show_slot = c->fh.frame_to_show_map_idx;
				job->show_existing_key = c->fh.frame_type == GST_AV1_KEY_FRAME;
				return 1;
			}
			c->in_frame = true;
			start_job(c, job);
			fill_sequence(&c->seq, &job->seq);
			fill_frame(c, &c->fh, &job->frame);
			fill_grain(&c->fh.film_grain_params, &job->grain);
			break;
		case GST_AV1_OBU_FRAME:
			if (gst_av1_parser_parse_frame_obu(c->parser, &obu, &frame))
				return -1;
			c->fh = frame.frame_header;
			start_job(c, job);
			fill_sequence(&c->seq, &job->seq);
			fill_frame(c, &c->fh, &job->frame);
			fill_grain(&c->fh.film_grain_params, &job->grain);
			if (add_tiles(c, job, &obu, &frame.tile_group))
				return -1;
			if (frame.tile_group.tg_end == frame.tile_group.num_tiles - 1)
				return 1;
			c->in_frame = true;
			break;
		case GST_AV1_OBU_TILE_GROUP:
			if (!c->in_frame)
				return -1;
			if (gst_av1_parser_parse_tile_group_obu(c->parser, &obu, &tg))
				return -1;
			if (add_tiles(c, job, &obu, &tg))
				return -1;
			if (tg.tg_end == tg.num_tiles - 1) {
				c->in_frame = false;
				return 1;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

void av1_client_done(struct av1_client *c, struct av1_job *job, uint64_t ts)
{
	GstAV1FrameHeaderOBU fh = job->fh;

	c->in_frame = false;
	gst_av1_parser_reference_frame_update(c->parser, &fh);
	if (job->show_existing) {
		if (job->show_existing_key)
			for (int i = 0; i < 8; i++)
				c->slot_ts[i] = c->slot_ts[job->show_slot & 7];
		return;
	}
	for (int i = 0; i < 8; i++)
		if (job->fh.refresh_frame_flags & (1u << i))
			c->slot_ts[i] = ts;
}

unsigned int av1_job_controls(struct av1_job *job, struct v4l2_ext_control c[4], bool grain)
{
	c[0] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_AV1_SEQUENCE,
		.size = sizeof(job->seq), .ptr = &job->seq };
	c[1] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_AV1_FRAME,
		.size = sizeof(job->frame), .ptr = &job->frame };
	c[2] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY,
		.size = (uint32_t)(sizeof(job->tiles[0]) * job->num_tiles), .ptr = job->tiles };
	c[3] = (struct v4l2_ext_control){ .id = V4L2_CID_STATELESS_AV1_FILM_GRAIN,
		.size = sizeof(job->grain), .ptr = &job->grain };
	return grain ? 4 : 3;
}
