/* SPDX-License-Identifier: BSD-2-Clause */
#include <string.h>

#include "boolcoder.h"
#include "vp8_client.h"

static int8_t opt_signed(struct boolcoder *bc, unsigned int bits)
{
	return bc_bool(bc, 128) ? (int8_t)bc_signed(bc, bits) : 0;
}

int vp8_client_fill(struct vp8_client *c, const uint8_t *d, size_t size,
		    struct v4l2_ctrl_vp8_frame *f, struct vp8_frame_info *info)
{
	struct boolcoder bc;
	uint32_t tag;
	size_t hdr, part_off;
	unsigned int nparts;

	memset(f, 0, sizeof(*f));
	memset(info, 0, sizeof(*info));
	if (size < 3)
		return -1;
	tag = d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16;
	info->key_frame = !(tag & 1);
	info->show_frame = (tag >> 4) & 1;
	f->version = (tag >> 1) & 7;
	f->first_part_size = tag >> 5;
	hdr = 3;
	if (info->key_frame) {
		if (size < 10)
			return -1;
		c->width = (d[6] | d[7] << 8) & 0x3fff;
		c->height = (d[8] | d[9] << 8) & 0x3fff;
		f->horizontal_scale = d[7] >> 6;
		f->vertical_scale = d[9] >> 6;
		hdr = 10;
		c->have_keyframe = 1;
		memset(&c->segment, 0, sizeof(c->segment));
		memset(&c->lf, 0, sizeof(c->lf));
	}
	if (hdr + f->first_part_size > size)
		return -1;
	bc_init(&bc, d + hdr, f->first_part_size);
	if (info->key_frame) {
		bc_literal(&bc, 1); /* color_space */
		bc_literal(&bc, 1); /* clamping_type */
	}

	/* segmentation: the values persist until updated */
	c->segment.flags &= ~(V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP |
			      V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA);
	if (bc_literal(&bc, 1)) {
		int update_map, update_data;

		c->segment.flags |= V4L2_VP8_SEGMENT_FLAG_ENABLED;
		update_map = bc_literal(&bc, 1);
		update_data = bc_literal(&bc, 1);
		if (update_data) {
			c->segment.flags |= V4L2_VP8_SEGMENT_FLAG_UPDATE_FEATURE_DATA;
			if (bc_literal(&bc, 1)) /* absolute values */
				c->segment.flags &= ~V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE;
			else
				c->segment.flags |= V4L2_VP8_SEGMENT_FLAG_DELTA_VALUE_MODE;
			for (int i = 0; i < 4; i++)
				c->segment.quant_update[i] = opt_signed(&bc, 7);
			for (int i = 0; i < 4; i++)
				c->segment.lf_update[i] = opt_signed(&bc, 6);
		}
		if (update_map) {
			c->segment.flags |= V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP;
			for (int i = 0; i < 3; i++)
				c->segment.segment_probs[i] =
					bc_bool(&bc, 128) ? (uint8_t)bc_literal(&bc, 8) : 255;
		}
	} else {
		c->segment.flags &= ~V4L2_VP8_SEGMENT_FLAG_ENABLED;
	}
	f->segment = c->segment;

	c->lf.flags = 0;
	if (bc_literal(&bc, 1))
		c->lf.flags |= V4L2_VP8_LF_FILTER_TYPE_SIMPLE;
	c->lf.level = (uint8_t)bc_literal(&bc, 6);
	c->lf.sharpness_level = (uint8_t)bc_literal(&bc, 3);
	if (bc_literal(&bc, 1)) {
		c->lf.flags |= V4L2_VP8_LF_ADJ_ENABLE;
		if (bc_literal(&bc, 1)) {
			c->lf.flags |= V4L2_VP8_LF_DELTA_UPDATE;
			for (int i = 0; i < 4; i++)
				if (bc_bool(&bc, 128))
					c->lf.ref_frm_delta[i] = (int8_t)bc_signed(&bc, 6);
			for (int i = 0; i < 4; i++)
				if (bc_bool(&bc, 128))
					c->lf.mb_mode_delta[i] = (int8_t)bc_signed(&bc, 6);
		}
	}
	f->lf = c->lf;

	nparts = 1u << bc_literal(&bc, 2);
	f->num_dct_parts = (uint8_t)nparts;
	f->quant.y_ac_qi = (uint8_t)bc_literal(&bc, 7);
	f->quant.y_dc_delta = opt_signed(&bc, 4);
	f->quant.y2_dc_delta = opt_signed(&bc, 4);
	f->quant.y2_ac_delta = opt_signed(&bc, 4);
	f->quant.uv_dc_delta = opt_signed(&bc, 4);
	f->quant.uv_ac_delta = opt_signed(&bc, 4);

	if (info->key_frame) {
		info->refresh_last = info->refresh_golden = info->refresh_alt = 1;
		bc_literal(&bc, 1); /* refresh_entropy_probs */
	} else {
		info->refresh_golden = (int)bc_literal(&bc, 1);
		info->refresh_alt = (int)bc_literal(&bc, 1);
		if (!info->refresh_golden)
			info->copy_to_golden = (int)bc_literal(&bc, 2);
		if (!info->refresh_alt)
			info->copy_to_alt = (int)bc_literal(&bc, 2);
		if (bc_literal(&bc, 1))
			f->flags |= V4L2_VP8_FRAME_FLAG_SIGN_BIAS_GOLDEN;
		if (bc_literal(&bc, 1))
			f->flags |= V4L2_VP8_FRAME_FLAG_SIGN_BIAS_ALT;
		bc_literal(&bc, 1); /* refresh_entropy_probs */
		info->refresh_last = (int)bc_literal(&bc, 1);
	}
	/*
	 * The token probability updates follow; decoding them needs the spec's update
	 * probability tables, which only a hardware decoder would use. The FFmpeg backend reads
	 * them from the bitstream, so entropy/coder_state/prob_* stay 0 here.
	 */

	/* DCT partitions: 3-byte sizes of all but the last, which takes the rest */
	part_off = hdr + f->first_part_size;
	if (part_off + 3 * (nparts - 1) > size)
		return -1;
	{
		size_t data_off = part_off + 3 * (nparts - 1), used = 0;

		for (unsigned int i = 0; i + 1 < nparts; i++) {
			const uint8_t *p = d + part_off + 3 * i;

			f->dct_part_sizes[i] = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
			used += f->dct_part_sizes[i];
		}
		if (data_off + used > size)
			return -1;
		f->dct_part_sizes[nparts - 1] = (uint32_t)(size - data_off - used);
	}

	if (info->key_frame)
		f->flags |= V4L2_VP8_FRAME_FLAG_KEY_FRAME;
	if (info->show_frame)
		f->flags |= V4L2_VP8_FRAME_FLAG_SHOW_FRAME;
	f->width = c->width;
	f->height = c->height;
	f->last_frame_ts = c->last_ts;
	f->golden_frame_ts = c->golden_ts;
	f->alt_frame_ts = c->alt_ts;
	return c->have_keyframe ? 0 : -1;
}

void vp8_client_update_refs(struct vp8_client *c, const struct vp8_frame_info *info,
			    uint64_t ts)
{
	/* the same order as libvpx: altref copy first, golden copy may see the new altref */
	if (info->copy_to_alt == 1)
		c->alt_ts = c->last_ts;
	else if (info->copy_to_alt == 2)
		c->alt_ts = c->golden_ts;
	if (info->copy_to_golden == 1)
		c->golden_ts = c->last_ts;
	else if (info->copy_to_golden == 2)
		c->golden_ts = c->alt_ts;
	if (info->refresh_golden)
		c->golden_ts = ts;
	if (info->refresh_alt)
		c->alt_ts = ts;
	if (info->refresh_last)
		c->last_ts = ts;
}
