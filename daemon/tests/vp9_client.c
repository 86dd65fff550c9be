/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "boolcoder.h"
#include "vp9_client.h"

static int sync_code(struct bitreader *b)
{
	return br_bits(b, 8) == 0x49 && br_bits(b, 8) == 0x83 && br_bits(b, 8) == 0x42;
}

static int color_config(struct vp9_client *c, struct bitreader *b, unsigned int profile)
{
	c->bit_depth = profile >= 2 ? (br_bits(b, 1) ? 12 : 10) : 8;
	if (br_bits(b, 3) != 7) { /* not CS_RGB */
		c->color_range = br_bits(b, 1);
		if (profile == 1 || profile == 3) {
			c->subsampling_x = br_bits(b, 1);
			c->subsampling_y = br_bits(b, 1);
			if (br_bits(b, 1))
				return -1;
		} else {
			c->subsampling_x = c->subsampling_y = 1;
		}
	} else {
		c->color_range = 1;
		if (profile == 1 || profile == 3) {
			c->subsampling_x = c->subsampling_y = 0;
			if (br_bits(b, 1))
				return -1;
		}
	}
	return 0;
}

static void frame_size(struct bitreader *b, struct v4l2_ctrl_vp9_frame *f,
		       struct vp9_frame_info *info)
{
	f->frame_width_minus_1 = (uint16_t)br_bits(b, 16);
	f->frame_height_minus_1 = (uint16_t)br_bits(b, 16);
	info->width = f->frame_width_minus_1 + 1u;
	info->height = f->frame_height_minus_1 + 1u;
}

static void render_size(struct bitreader *b, struct v4l2_ctrl_vp9_frame *f)
{
	if (br_bits(b, 1)) {
		f->render_width_minus_1 = (uint16_t)br_bits(b, 16);
		f->render_height_minus_1 = (uint16_t)br_bits(b, 16);
	} else {
		f->render_width_minus_1 = f->frame_width_minus_1;
		f->render_height_minus_1 = f->frame_height_minus_1;
	}
}

static void loop_filter(struct vp9_client *c, struct bitreader *b)
{
	c->lf.level = (uint8_t)br_bits(b, 6);
	c->lf.sharpness = (uint8_t)br_bits(b, 3);
	c->lf.flags = 0;
	if (br_bits(b, 1)) {
		c->lf.flags |= V4L2_VP9_LOOP_FILTER_FLAG_DELTA_ENABLED;
		if (br_bits(b, 1)) {
			c->lf.flags |= V4L2_VP9_LOOP_FILTER_FLAG_DELTA_UPDATE;
			for (int i = 0; i < 4; i++)
				if (br_bits(b, 1))
					c->lf.ref_deltas[i] = (int8_t)br_signed(b, 6);
			for (int i = 0; i < 2; i++)
				if (br_bits(b, 1))
					c->lf.mode_deltas[i] = (int8_t)br_signed(b, 6);
		}
	}
}

static int8_t delta_q(struct bitreader *b)
{
	return br_bits(b, 1) ? (int8_t)br_signed(b, 4) : 0;
}

static void segmentation(struct vp9_client *c, struct bitreader *b)
{
	static const unsigned int feature_bits[4] = { 8, 6, 2, 0 };
	struct v4l2_vp9_segmentation *s = &c->seg;

	s->flags &= V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE;
	if (!br_bits(b, 1))
		return;
	s->flags |= V4L2_VP9_SEGMENTATION_FLAG_ENABLED;
	if (br_bits(b, 1)) {
		s->flags |= V4L2_VP9_SEGMENTATION_FLAG_UPDATE_MAP;
		for (int i = 0; i < 7; i++)
			s->tree_probs[i] = br_bits(b, 1) ? (uint8_t)br_bits(b, 8) : 255;
		if (br_bits(b, 1)) {
			s->flags |= V4L2_VP9_SEGMENTATION_FLAG_TEMPORAL_UPDATE;
			for (int i = 0; i < 3; i++)
				s->pred_probs[i] = br_bits(b, 1) ? (uint8_t)br_bits(b, 8) : 255;
		} else {
			memset(s->pred_probs, 255, sizeof(s->pred_probs));
		}
	}
	if (br_bits(b, 1)) {
		s->flags |= V4L2_VP9_SEGMENTATION_FLAG_UPDATE_DATA;
		if (br_bits(b, 1))
			s->flags |= V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE;
		else
			s->flags &= ~V4L2_VP9_SEGMENTATION_FLAG_ABS_OR_DELTA_UPDATE;
		memset(s->feature_enabled, 0, sizeof(s->feature_enabled));
		memset(s->feature_data, 0, sizeof(s->feature_data));
		for (int i = 0; i < 8; i++) {
			for (int j = 0; j < 4; j++) {
				int v = 0;

				if (!br_bits(b, 1))
					continue;
				s->feature_enabled[i] |= (uint8_t)(1u << j);
				v = (int)br_bits(b, feature_bits[j]);
				if (j < 2 && br_bits(b, 1))
					v = -v;
				s->feature_data[i][j] = (int16_t)v;
			}
		}
	}
}

static void tile_info(struct bitreader *b, struct v4l2_ctrl_vp9_frame *f, uint32_t width)
{
	unsigned int sb64_cols = (width + 63) / 64, min_log2 = 0, max_log2 = 1;

	while ((64u << min_log2) < sb64_cols)
		min_log2++;
	while ((sb64_cols >> max_log2) >= 4)
		max_log2++;
	max_log2--;
	f->tile_cols_log2 = (uint8_t)min_log2;
	while (f->tile_cols_log2 < max_log2 && br_bits(b, 1))
		f->tile_cols_log2++;
	f->tile_rows_log2 = (uint8_t)br_bits(b, 1);
	if (f->tile_rows_log2)
		f->tile_rows_log2 += (uint8_t)br_bits(b, 1);
}

/* Only tx_mode: the first thing in the compressed header, after its marker bit. */
static void compressed_tx_mode(const uint8_t *d, size_t size, const struct v4l2_ctrl_vp9_frame *f,
			       struct v4l2_ctrl_vp9_compressed_hdr *chdr)
{
	struct boolcoder bc;
	int lossless = f->quant.base_q_idx == 0 && !f->quant.delta_q_y_dc &&
		       !f->quant.delta_q_uv_dc && !f->quant.delta_q_uv_ac;

	memset(chdr, 0, sizeof(*chdr));
	bc_init(&bc, d, size);
	bc_bool(&bc, 128); /* marker */
	if (lossless) {
		chdr->tx_mode = V4L2_VP9_TX_MODE_ONLY_4X4;
		return;
	}
	chdr->tx_mode = (uint8_t)bc_literal(&bc, 2);
	if (chdr->tx_mode == V4L2_VP9_TX_MODE_ALLOW_32X32)
		chdr->tx_mode += (uint8_t)bc_literal(&bc, 1);
}

int vp9_client_fill(struct vp9_client *c, const uint8_t *d, size_t size,
		    struct v4l2_ctrl_vp9_frame *f, struct v4l2_ctrl_vp9_compressed_hdr *chdr,
		    struct vp9_frame_info *info)
{
	struct bitreader b = { .d = d, .size = size };
	unsigned int profile;
	int error_res, intra_only = 0;

	memset(f, 0, sizeof(*f));
	memset(info, 0, sizeof(*info));
	if (br_bits(&b, 2) != 2)
		return -1;
	profile = br_bits(&b, 1);
	profile |= br_bits(&b, 1) << 1;
	if (profile == 3)
		br_bits(&b, 1);
	f->profile = (uint8_t)profile;
	if (br_bits(&b, 1)) {
		info->show_existing_frame = 1;
		info->frame_to_show = br_bits(&b, 3);
		return b.overrun ? -1 : 0;
	}
	info->key_frame = !br_bits(&b, 1);
	info->show_frame = (int)br_bits(&b, 1);
	error_res = (int)br_bits(&b, 1);
	if (info->key_frame) {
		if (!sync_code(&b) || color_config(c, &b, profile))
			return -1;
		frame_size(&b, f, info);
		render_size(&b, f);
		info->refresh_frame_flags = 0xff;
		c->have_keyframe = 1;
		memset(&c->lf, 0, sizeof(c->lf));
		/* defaults set up by setup_past_independence() */
		c->lf.ref_deltas[0] = 1;
		c->lf.ref_deltas[2] = -1;
		c->lf.ref_deltas[3] = -1;
		memset(&c->seg, 0, sizeof(c->seg));
	} else {
		if (!info->show_frame)
			intra_only = (int)br_bits(&b, 1);
		if (!error_res)
			f->reset_frame_context = (uint8_t)br_bits(&b, 2);
		if (intra_only) {
			if (!sync_code(&b))
				return -1;
			if (profile > 0) {
				if (color_config(c, &b, profile))
					return -1;
			} else {
				c->bit_depth = 8;
				c->subsampling_x = c->subsampling_y = 1;
			}
			info->refresh_frame_flags = br_bits(&b, 8);
			frame_size(&b, f, info);
			render_size(&b, f);
		} else {
			unsigned int idx[3];
			int found = 0;

			info->refresh_frame_flags = br_bits(&b, 8);
			for (int i = 0; i < 3; i++) {
				idx[i] = br_bits(&b, 3);
				if (br_bits(&b, 1))
					f->ref_frame_sign_bias |= (uint8_t)(1u << (i + 1));
			}
			for (int i = 0; i < 3 && !found; i++) {
				if (br_bits(&b, 1)) {
					found = 1;
					info->width = c->slot_w[idx[i]];
					info->height = c->slot_h[idx[i]];
					f->frame_width_minus_1 = (uint16_t)(info->width - 1);
					f->frame_height_minus_1 = (uint16_t)(info->height - 1);
				}
			}
			if (!found)
				frame_size(&b, f, info);
			render_size(&b, f);
			if (br_bits(&b, 1))
				f->flags |= V4L2_VP9_FRAME_FLAG_ALLOW_HIGH_PREC_MV;
			if (br_bits(&b, 1)) {
				f->interpolation_filter = V4L2_VP9_INTERP_FILTER_SWITCHABLE;
			} else {
				static const uint8_t map[4] = {
					V4L2_VP9_INTERP_FILTER_EIGHTTAP_SMOOTH,
					V4L2_VP9_INTERP_FILTER_EIGHTTAP,
					V4L2_VP9_INTERP_FILTER_EIGHTTAP_SHARP,
					V4L2_VP9_INTERP_FILTER_BILINEAR,
				};
				f->interpolation_filter = map[br_bits(&b, 2)];
			}
			f->last_frame_ts = c->slot_ts[idx[0]];
			f->golden_frame_ts = c->slot_ts[idx[1]];
			f->alt_frame_ts = c->slot_ts[idx[2]];
		}
	}
	if (!c->have_keyframe)
		return -1;
	if (!error_res) {
		if (br_bits(&b, 1))
			f->flags |= V4L2_VP9_FRAME_FLAG_REFRESH_FRAME_CTX;
		if (br_bits(&b, 1))
			f->flags |= V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE;
	} else {
		f->flags |= V4L2_VP9_FRAME_FLAG_PARALLEL_DEC_MODE;
	}
	f->frame_context_idx = (uint8_t)br_bits(&b, 2);
	if (info->key_frame || intra_only || error_res) {
		/* setup_past_independence() resets the persistent deltas and segment data */
		memset(&c->lf, 0, sizeof(c->lf));
		c->lf.ref_deltas[0] = 1;
		c->lf.ref_deltas[2] = -1;
		c->lf.ref_deltas[3] = -1;
		memset(&c->seg, 0, sizeof(c->seg));
	}
	loop_filter(c, &b);
	f->lf = c->lf;
	f->quant.base_q_idx = (uint8_t)br_bits(&b, 8);
	f->quant.delta_q_y_dc = delta_q(&b);
	f->quant.delta_q_uv_dc = delta_q(&b);
	f->quant.delta_q_uv_ac = delta_q(&b);
	segmentation(c, &b);
	f->seg = c->seg;
	tile_info(&b, f, info->width);
	f->compressed_header_size = (uint16_t)br_bits(&b, 16);
	if (b.overrun)
		return -1;
	f->uncompressed_header_size = (uint16_t)((b.pos + 7) / 8);

	f->bit_depth = (uint8_t)c->bit_depth;
	if (info->key_frame)
		f->flags |= V4L2_VP9_FRAME_FLAG_KEY_FRAME;
	if (info->show_frame)
		f->flags |= V4L2_VP9_FRAME_FLAG_SHOW_FRAME;
	if (error_res)
		f->flags |= V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT;
	if (intra_only)
		f->flags |= V4L2_VP9_FRAME_FLAG_INTRA_ONLY;
	if (c->subsampling_x)
		f->flags |= V4L2_VP9_FRAME_FLAG_X_SUBSAMPLING;
	if (c->subsampling_y)
		f->flags |= V4L2_VP9_FRAME_FLAG_Y_SUBSAMPLING;
	if (c->color_range)
		f->flags |= V4L2_VP9_FRAME_FLAG_COLOR_RANGE_FULL_SWING;
	if (f->uncompressed_header_size + (size_t)f->compressed_header_size > size)
		return -1;
	compressed_tx_mode(d + f->uncompressed_header_size, f->compressed_header_size, f, chdr);
	/*
	 * The rest of the compressed header (probability deltas, reference_mode) is left 0:
	 * the FFmpeg backend reads it from the bitstream. A backend that needs it must bring
	 * a full compressed-header parser into these tests.
	 */
	return 0;
}

void vp9_client_update_refs(struct vp9_client *c, const struct vp9_frame_info *info,
			    uint64_t ts)
{
	for (int i = 0; i < 8; i++) {
		if (!(info->refresh_frame_flags & (1u << i)))
			continue;
		c->slot_ts[i] = ts;
		c->slot_w[i] = info->width;
		c->slot_h[i] = info->height;
	}
}
