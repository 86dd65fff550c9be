/* SPDX-License-Identifier: BSD-2-Clause */
#include <inttypes.h>

#include "error.h"
#include "vpx_check.h"
#include "vpx_header.h"

int dd_check_vp8_job(const struct dd_job *job, struct dd_expectation *x,
		     struct dd_error *err)
{
	const struct v4l2_ctrl_vp8_frame *c = job->ctrl.vp8.frame;
	struct dd_vp8_tag tag;
	bool key, show;
	uint64_t end;

	if (!c)
		return dd_fail(err, "VP8 job without V4L2_CID_STATELESS_VP8_FRAME");
	if (dd_vp8_parse_tag(job->bitstream, job->bitstream_size, &tag, err))
		return -1;
	key = c->flags & V4L2_VP8_FRAME_FLAG_KEY_FRAME;
	show = c->flags & V4L2_VP8_FRAME_FLAG_SHOW_FRAME;
	if (key != tag.key_frame)
		return dd_fail(err, "controls say %s, bitstream says %s", key ? "keyframe" :
			       "inter frame", tag.key_frame ? "keyframe" : "inter frame");
	if (show != tag.show_frame)
		return dd_fail(err, "controls say show_frame=%d, bitstream says %d", show,
			       tag.show_frame);
	if (tag.version > 3 || c->version != tag.version)
		return dd_fail(err, "controls say version %u, bitstream says %u", c->version,
			       tag.version);
	if (c->first_part_size != tag.first_part_size)
		return dd_fail(err, "controls say first partition of %u bytes, bitstream says %u",
			       c->first_part_size, tag.first_part_size);
	if (c->num_dct_parts != 1 && c->num_dct_parts != 2 && c->num_dct_parts != 4 &&
	    c->num_dct_parts != 8)
		return dd_fail(err, "invalid number of DCT partitions %u", c->num_dct_parts);
	end = tag.header_size + (uint64_t)tag.first_part_size + 3 * (c->num_dct_parts - 1u);
	for (unsigned int i = 0; i < c->num_dct_parts; i++)
		end += c->dct_part_sizes[i];
	if (end > job->bitstream_size)
		return dd_fail(err, "frame truncated: partitions need %" PRIu64 " bytes, buffer has %zu",
			       end, job->bitstream_size);
	if (key && (tag.width != c->width || tag.height != c->height))
		return dd_fail(err, "controls say %ux%u, bitstream says %ux%u", c->width,
			       c->height, tag.width, tag.height);

	*x = (struct dd_expectation){
		.width = c->width,
		.height = c->height,
		.bit_depth = 8,
		.profile = (int)tag.version,
		.key_frame = key,
		.inherits = key && (c->segment.flags & V4L2_VP8_SEGMENT_FLAG_ENABLED) &&
			    !(c->segment.flags & V4L2_VP8_SEGMENT_FLAG_UPDATE_MAP),
	};
	if (!key) {
		x->num_refs = 3;
		x->ref_ts[0] = c->last_frame_ts;
		x->ref_ts[1] = c->golden_frame_ts;
		x->ref_ts[2] = c->alt_frame_ts;
	}
	return 0;
}

/*
 * Every tile but the last is preceded by its 4-byte size, so a buffer cut short anywhere
 * before the last tile is detected here. The last tile runs to the end of the buffer: a
 * cut inside it cannot be told from a shorter tile (nor can hardware decoders tell).
 */
static int check_vp9_tiles(const struct dd_job *job, const struct v4l2_ctrl_vp9_frame *c,
			   struct dd_error *err)
{
	uint64_t pos = (uint64_t)c->uncompressed_header_size + c->compressed_header_size;
	unsigned int tiles;

	if (c->tile_cols_log2 > 6 || c->tile_rows_log2 > 2)
		return dd_fail(err, "invalid tile layout log2 %ux%u", c->tile_cols_log2,
			       c->tile_rows_log2);
	tiles = (1u << c->tile_cols_log2) << c->tile_rows_log2;
	for (unsigned int t = 0; t + 1 < tiles; t++) {
		const uint8_t *p = job->bitstream + pos;
		uint32_t size;

		if (pos + 4 > job->bitstream_size)
			return dd_fail(err, "frame truncated before the size of tile %u of %u", t,
				       tiles);
		size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		pos += 4 + (uint64_t)size;
		if (pos >= job->bitstream_size)
			return dd_fail(err, "frame truncated: tile %u of %u needs %" PRIu64
				       " bytes, buffer has %zu", t, tiles, pos + 1,
				       job->bitstream_size);
	}
	return 0;
}

int dd_check_vp9_job(const struct dd_job *job, struct dd_expectation *x,
		     struct dd_error *err)
{
	const struct v4l2_ctrl_vp9_frame *c = job->ctrl.vp9.frame;
	unsigned int frames = dd_vp9_superframe_count(job->bitstream, job->bitstream_size);
	struct dd_vp9_peek h;
	bool key, show, er, intra_only;
	unsigned int want_depth;

	if (!c)
		return dd_fail(err, "VP9 job without V4L2_CID_STATELESS_VP9_FRAME");
	if (frames > 1)
		return dd_fail(err, "buffer holds a VP9 superframe of %u frames; each frame must be "
			       "its own request", frames);
	/*
	 * An index of one frame: libavcodec splits it off before decoding and refuses the packet
	 * when the size is wrong, so no frame thread gets it and PIPE mode's count of packets
	 * in flight would be one off. Only an index that describes the data before it passes.
	 */
	if (frames == 1 && !dd_vp9_superframe_exact(job->bitstream, job->bitstream_size))
		return dd_fail(err, "VP9 superframe index of one frame whose size is not that of "
			       "the data before it");
	if (dd_vp9_peek(job->bitstream, job->bitstream_size, &h, err))
		return -1;
	if (h.show_existing_frame)
		return dd_fail(err, "VP9 show_existing_frame is not a decode request (the client "
			       "shows the existing picture itself)");
	key = c->flags & V4L2_VP9_FRAME_FLAG_KEY_FRAME;
	show = c->flags & V4L2_VP9_FRAME_FLAG_SHOW_FRAME;
	er = c->flags & V4L2_VP9_FRAME_FLAG_ERROR_RESILIENT;
	intra_only = c->flags & V4L2_VP9_FRAME_FLAG_INTRA_ONLY;
	if (c->profile != h.profile)
		return dd_fail(err, "controls say profile %u, bitstream says %u", c->profile,
			       h.profile);
	if (key != h.key_frame || show != h.show_frame || er != h.error_resilient ||
	    intra_only != h.intra_only)
		return dd_fail(err, "frame flags disagree with the bitstream (controls key=%d "
			       "show=%d error_resilient=%d intra_only=%d, bitstream %d %d %d %d)",
			       key, show, er, intra_only, h.key_frame, h.show_frame,
			       h.error_resilient, h.intra_only);
	want_depth = c->profile < 2 ? 8 : c->bit_depth;
	if (c->bit_depth != want_depth || (want_depth != 8 && want_depth != 10 &&
					   want_depth != 12))
		return dd_fail(err, "bit depth %u is invalid for profile %u", c->bit_depth,
			       c->profile);
	if (h.has_size && (h.bit_depth != c->bit_depth || h.width != c->frame_width_minus_1 + 1u ||
			   h.height != c->frame_height_minus_1 + 1u))
		return dd_fail(err, "controls say %ux%u %u-bit, bitstream says %ux%u %u-bit",
			       c->frame_width_minus_1 + 1u, c->frame_height_minus_1 + 1u,
			       c->bit_depth, h.width, h.height, h.bit_depth);
	if (!c->uncompressed_header_size || !c->compressed_header_size ||
	    (uint64_t)c->uncompressed_header_size + c->compressed_header_size >=
		    job->bitstream_size)
		return dd_fail(err, "frame truncated: headers of %u + %u bytes leave no tile data in "
			       "%zu bytes", c->uncompressed_header_size,
			       c->compressed_header_size, job->bitstream_size);

	if (check_vp9_tiles(job, c, err))
		return -1;

	*x = (struct dd_expectation){
		.width = c->frame_width_minus_1 + 1u,
		.height = c->frame_height_minus_1 + 1u,
		.bit_depth = c->bit_depth,
		.profile = c->profile,
		.key_frame = key,
		.sets_probs = key || er || (intra_only && h.reset_frame_context == 3),
	};
	x->needs_probs = intra_only && !x->sets_probs;
	if (!key && !intra_only) {
		x->num_refs = 3;
		x->ref_ts[0] = c->last_frame_ts;
		x->ref_ts[1] = c->golden_frame_ts;
		x->ref_ts[2] = c->alt_frame_ts;
	}
	return 0;
}
