/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AV1 OBU writers (see av1_obu_writer.h). Section numbers refer to the AV1 bitstream
 * specification (5.5 sequence header, 5.9 uncompressed header, 5.11 tile group). Every value
 * taken from a control is range-checked before it is written: a value that does not fit its
 * syntax element fails the job instead of being truncated into a different stream.
 */
#include <limits.h>
#include <string.h>

#include "av1_obu_writer.h"
#include "error.h"

#define PRIMARY_REF_NONE 7
#define SUPERRES_DENOM_MIN 9
#define WARPEDMODEL_PREC_BITS 16
#define MAX_TILE_WIDTH 4096
#define MAX_TILE_AREA (4096 * 2304)
#define MAX_TILE_COLS 64
#define MAX_TILE_ROWS 64
#define FRAME_SIZE_BITS 16
/* the tile sizes we code in our own tile group */
#define OUR_TILE_SIZE_BYTES 4

/* ---- bit writer ---------------------------------------------------------------------- */

struct bw {
	uint8_t *buf;
	size_t cap; /* bytes */
	size_t pos; /* bits written */
	const char *bad; /* first syntax element that could not be written */
};

static void put_bit(struct bw *w, unsigned int bit)
{
	size_t byte = w->pos >> 3;

	if (byte >= w->cap) {
		if (!w->bad)
			w->bad = "header larger than its buffer";
		return;
	}
	if (!(w->pos & 7))
		w->buf[byte] = 0;
	if (bit)
		w->buf[byte] |= (uint8_t)(0x80u >> (w->pos & 7));
	w->pos++;
}

/* f(n): value must fit in n bits, else the job fails with what's name. */
static void put(struct bw *w, uint32_t v, unsigned int n, const char *what)
{
	if (n < 32 && (v >> n)) {
		if (!w->bad)
			w->bad = what;
		v = 0;
	}
	while (n--)
		put_bit(w, (v >> n) & 1);
}

static void put_flag(struct bw *w, bool v)
{
	put_bit(w, v ? 1 : 0);
}

/* su(n): two's complement in n bits */
static void put_su(struct bw *w, int32_t v, unsigned int n, const char *what)
{
	int32_t lo = -(1 << (n - 1)), hi = (1 << (n - 1)) - 1;

	if (v < lo || v > hi) {
		if (!w->bad)
			w->bad = what;
		v = 0;
	}
	put(w, (uint32_t)v & ((1u << n) - 1), n, what);
}

static unsigned int floor_log2(uint32_t x)
{
	unsigned int s = 0;

	while (x > 1) {
		x >>= 1;
		s++;
	}
	return s;
}

/* ns(n): the inverse of the spec's non-symmetric unsigned read (4.10.7) */
static void put_ns(struct bw *w, uint32_t v, uint32_t n, const char *what)
{
	unsigned int bits;
	uint32_t m;

	if (!n || v >= n) {
		if (!w->bad)
			w->bad = what;
		return;
	}
	bits = floor_log2(n) + 1;
	m = (1u << bits) - n;
	if (v < m) {
		put(w, v, bits - 1, what);
	} else {
		put(w, (v + m) >> 1, bits - 1, what);
		put_bit(w, (v + m) & 1);
	}
}

static void trailing_bits(struct bw *w)
{
	put_bit(w, 1);
	while (w->pos & 7)
		put_bit(w, 0);
}

/* ---- OBU framing --------------------------------------------------------------------- */

static size_t leb128_len(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t put_leb128(uint8_t *p, size_t v)
{
	size_t n = 0;

	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		p[n++] = v ? (uint8_t)(b | 0x80) : b;
	} while (v);
	return n;
}

/*
 * Moves a payload written at out + 1 + leb128_len(max) into place behind its OBU header.
 * Returns the OBU's length.
 */
static size_t frame_obu(uint8_t *out, unsigned int type, size_t reserved, size_t payload)
{
	size_t n = leb128_len(payload);

	out[0] = (uint8_t)(type << 3 | 1 << 1); /* obu_has_size_field */
	memmove(out + 1 + n, out + 1 + reserved, payload);
	put_leb128(out + 1, payload);
	return 1 + n + payload;
}

/* Payloads of the header OBUs are small: reserve a fixed-size size field in front of them. */
#define HDR_SIZE_RESERVE 4

static int finish_header_obu(struct bw *w, uint8_t *out, unsigned int type, struct dd_error *err)
{
	trailing_bits(w);
	if (w->bad)
		return dd_fail(err, "AV1 %s: cannot code %s",
			       type == DD_AV1_OBU_SEQUENCE_HEADER ? "sequence header" :
			       "frame header", w->bad);
	return (int)frame_obu(out, type, HDR_SIZE_RESERVE, w->pos >> 3);
}

static bool start_header_obu(struct bw *w, uint8_t *out, size_t cap)
{
	if (cap < 1 + HDR_SIZE_RESERVE + 1)
		return false;
	*w = (struct bw){ .buf = out + 1 + HDR_SIZE_RESERVE, .cap = cap - 1 - HDR_SIZE_RESERVE };
	/* the size field can code at most 2^28 - 1 bytes in 4 leb128 bytes */
	if (w->cap > (1u << 28) - 1)
		w->cap = (1u << 28) - 1;
	return true;
}

/* ---- sequence header (5.5) ----------------------------------------------------------- */

static bool seq_flag(const struct v4l2_ctrl_av1_sequence *s, uint32_t f)
{
	return s->flags & f;
}

static int check_sequence(const struct v4l2_ctrl_av1_sequence *s, struct dd_error *err)
{
	if (s->seq_profile != 0)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "AV1 seq_profile %u is not supported (Main profile only)",
				    s->seq_profile);
	if (s->bit_depth != 8 && s->bit_depth != 10)
		return dd_fail_kind(err, DD_ERR_UNSUPPORTED,
				    "AV1 bit depth %u is not supported in the Main profile",
				    s->bit_depth);
	if (!seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X) ||
	    !seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y))
		return dd_fail(err, "AV1 Main profile is 4:2:0 but the sequence says otherwise");
	if (seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT) &&
	    (s->order_hint_bits < 1 || s->order_hint_bits > 8))
		return dd_fail(err, "AV1 order_hint_bits %u out of range 1..8", s->order_hint_bits);
	if (!seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT) &&
	    (seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_JNT_COMP) ||
	     seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_REF_FRAME_MVS)))
		return dd_fail(err, "AV1 sequence enables tools that need order hints without them");
	return 0;
}

int dd_av1_write_sequence_header(const struct v4l2_ctrl_av1_sequence *s, uint8_t *out,
				 size_t cap, struct dd_error *err)
{
	struct bw w;
	bool order_hint = seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT);
	bool mono = seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME);

	if (check_sequence(s, err))
		return -1;
	if (!start_header_obu(&w, out, cap))
		return dd_fail(err, "AV1 sequence header: no room");
	put(&w, s->seq_profile, 3, "seq_profile");
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_STILL_PICTURE));
	put_flag(&w, false); /* reduced_still_picture_header */
	put_flag(&w, false); /* timing_info_present_flag */
	put_flag(&w, false); /* initial_display_delay_present_flag */
	put(&w, 0, 5, "operating_points_cnt_minus_1");
	put(&w, 0, 12, "operating_point_idc");
	put(&w, 31, 5, "seq_level_idx"); /* 31: no level constraints */
	put_flag(&w, false);             /* seq_tier */
	put(&w, FRAME_SIZE_BITS - 1, 4, "frame_width_bits_minus_1");
	put(&w, FRAME_SIZE_BITS - 1, 4, "frame_height_bits_minus_1");
	put(&w, s->max_frame_width_minus_1, FRAME_SIZE_BITS, "max_frame_width_minus_1");
	put(&w, s->max_frame_height_minus_1, FRAME_SIZE_BITS, "max_frame_height_minus_1");
	put_flag(&w, false); /* frame_id_numbers_present_flag */
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_USE_128X128_SUPERBLOCK));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_FILTER_INTRA));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_INTRA_EDGE_FILTER));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_INTERINTRA_COMPOUND));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_MASKED_COMPOUND));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_WARPED_MOTION));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_DUAL_FILTER));
	put_flag(&w, order_hint);
	if (order_hint) {
		put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_JNT_COMP));
		put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_REF_FRAME_MVS));
	}
	put_flag(&w, true); /* seq_choose_screen_content_tools: SELECT, coded per frame */
	put_flag(&w, true); /* seq_choose_integer_mv: SELECT, coded per frame */
	if (order_hint)
		put(&w, s->order_hint_bits - 1u, 3, "order_hint_bits_minus_1");
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_CDEF));
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_ENABLE_RESTORATION));
	/* color_config() */
	put_flag(&w, s->bit_depth == 10); /* high_bitdepth */
	put_flag(&w, mono);
	put_flag(&w, false); /* color_description_present_flag */
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_COLOR_RANGE));
	if (!mono) {
		put(&w, 0, 2, "chroma_sample_position"); /* CSP_UNKNOWN */
		put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_SEPARATE_UV_DELTA_Q));
	}
	put_flag(&w, seq_flag(s, V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT));
	return finish_header_obu(&w, out, DD_AV1_OBU_SEQUENCE_HEADER, err);
}

/* ---- state --------------------------------------------------------------------------- */

static void default_gm(int32_t gm[V4L2_AV1_TOTAL_REFS_PER_FRAME][6])
{
	for (int r = 0; r < V4L2_AV1_TOTAL_REFS_PER_FRAME; r++) {
		for (int i = 0; i < 6; i++)
			gm[r][i] = (i % 3 == 2) ? 1 << WARPEDMODEL_PREC_BITS : 0;
	}
}

void dd_av1_state_reset(struct dd_av1_state *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
		default_gm(st->slot[i].gm_params);
}

void dd_av1_state_update(struct dd_av1_state *st, const struct dd_av1_frame_info *info,
			 uint64_t ts)
{
	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++) {
		struct dd_av1_slot *s = &st->slot[i];

		if (!(info->refresh_frame_flags & (1u << i)))
			continue;
		s->valid = true;
		s->frame_type = info->frame_type;
		s->showable = info->frame_type == V4L2_AV1_KEY_FRAME && info->showable_frame;
		s->order_hint = info->order_hint;
		memcpy(s->gm_params, info->gm_params, sizeof(s->gm_params));
		s->ts = ts;
	}
}

void dd_av1_state_show_existing_key(struct dd_av1_state *st, unsigned int slot)
{
	struct dd_av1_slot shown = st->slot[slot & 7];

	/* stays showable: the backend may replay a re-show it cannot tell from an earlier one */
	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
		st->slot[i] = shown;
}

int dd_av1_write_show_existing(unsigned int slot, uint8_t *out, size_t cap, struct dd_error *err)
{
	struct bw w;

	if (!start_header_obu(&w, out, cap))
		return dd_fail(err, "AV1 frame header: no room");
	put_flag(&w, true); /* show_existing_frame */
	put(&w, slot, 3, "frame_to_show_map_idx");
	return finish_header_obu(&w, out, DD_AV1_OBU_FRAME_HEADER, err);
}

/* ---- frame header (5.9) -------------------------------------------------------------- */

struct fh {
	struct bw w;
	const struct v4l2_ctrl_av1_sequence *seq;
	const struct v4l2_ctrl_av1_frame *f;
	const struct v4l2_ctrl_av1_film_grain *fg;
	const struct dd_av1_state *st;
	struct dd_av1_frame_info *info;
	unsigned int num_planes;
	unsigned int order_hint_bits;
	bool order_hint_enabled;
	bool allow_sct, allow_intrabc, force_integer_mv, allow_hp_mv;
	bool error_resilient, coded_lossless, all_lossless;
	uint8_t primary_ref_frame;
	unsigned int mi_cols, mi_rows;
	struct dd_error *err;
};

static bool ff(const struct fh *h, uint32_t flag)
{
	return h->f->flags & flag;
}

static int get_relative_dist(const struct fh *h, uint32_t a, uint32_t b)
{
	uint32_t diff, m;

	if (!h->order_hint_enabled)
		return 0;
	/* the spec's signed arithmetic, in unsigned so no value can overflow */
	m = 1u << (h->order_hint_bits - 1);
	diff = (a - b) & (2 * m - 1);
	return (int)(diff & (m - 1)) - (int)(diff & m);
}

static void superres_params(struct fh *h)
{
	const struct v4l2_ctrl_av1_frame *f = h->f;
	unsigned int denom = 8;

	if (h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES)
		put_flag(&h->w, ff(h, V4L2_AV1_FRAME_FLAG_USE_SUPERRES));
	if ((h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES) &&
	    ff(h, V4L2_AV1_FRAME_FLAG_USE_SUPERRES)) {
		denom = f->superres_denom;
		put(&h->w, denom - SUPERRES_DENOM_MIN, 3, "superres_denom");
		if (denom < SUPERRES_DENOM_MIN)
			denom = SUPERRES_DENOM_MIN;
	}
	h->info->frame_width = (h->info->upscaled_width * 8 + denom / 2) / denom;
}

static void frame_size(struct fh *h)
{
	put(&h->w, h->info->upscaled_width - 1, FRAME_SIZE_BITS, "frame width");
	put(&h->w, h->info->frame_height - 1, FRAME_SIZE_BITS, "frame height");
	superres_params(h);
	/* render_size(): does not affect decoding, but keep it */
	put_flag(&h->w, true);
	put(&h->w, h->f->render_width_minus_1, 16, "render_width_minus_1");
	put(&h->w, h->f->render_height_minus_1, 16, "render_height_minus_1");
}

static unsigned int tile_log2(uint32_t blk, uint32_t target)
{
	unsigned int k = 0;

	while ((blk << k) < target && k < 31)
		k++;
	return k;
}

static void tile_info(struct fh *h)
{
	const struct v4l2_av1_tile_info *t = &h->f->tile_info;
	bool sb128 = h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_USE_128X128_SUPERBLOCK;
	unsigned int sb_shift = sb128 ? 5 : 4, sb_size = sb_shift + 2;
	uint32_t sb_cols = sb128 ? (h->mi_cols + 31) >> 5 : (h->mi_cols + 15) >> 4;
	uint32_t sb_rows = sb128 ? (h->mi_rows + 31) >> 5 : (h->mi_rows + 15) >> 4;
	uint32_t max_tile_width_sb = MAX_TILE_WIDTH >> sb_size;
	uint32_t max_tile_area_sb = MAX_TILE_AREA >> (2 * sb_size);
	unsigned int min_log2_cols = tile_log2(max_tile_width_sb, sb_cols);
	unsigned int max_log2_cols = tile_log2(1, sb_cols < MAX_TILE_COLS ? sb_cols : MAX_TILE_COLS);
	unsigned int max_log2_rows = tile_log2(1, sb_rows < MAX_TILE_ROWS ? sb_rows : MAX_TILE_ROWS);
	unsigned int min_log2_tiles = tile_log2(max_tile_area_sb, sb_rows * sb_cols);
	unsigned int cols_log2 = 0, rows_log2 = 0, n;
	uint32_t start;

	if (min_log2_tiles < min_log2_cols)
		min_log2_tiles = min_log2_cols;
	if (!sb_cols || !sb_rows) {
		if (!h->w.bad)
			h->w.bad = "frame size (no superblocks)";
		return;
	}
	if (!t->tile_cols || !t->tile_rows || t->tile_cols > MAX_TILE_COLS ||
	    t->tile_rows > MAX_TILE_ROWS) {
		if (!h->w.bad)
			h->w.bad = "tile_cols/tile_rows";
		return;
	}
	put_flag(&h->w, t->flags & V4L2_AV1_TILE_INFO_FLAG_UNIFORM_TILE_SPACING);
	if (t->flags & V4L2_AV1_TILE_INFO_FLAG_UNIFORM_TILE_SPACING) {
		/* the log2 is not in the controls: the first one that gives tile_cols */
		for (cols_log2 = min_log2_cols; cols_log2 <= max_log2_cols; cols_log2++) {
			uint32_t w = (sb_cols + (1u << cols_log2) - 1) >> cols_log2;

			if ((sb_cols + w - 1) / w == t->tile_cols)
				break;
		}
		if (cols_log2 > max_log2_cols) {
			if (!h->w.bad)
				h->w.bad = "tile_cols (no uniform spacing gives that count)";
			return;
		}
		for (n = min_log2_cols; n < cols_log2; n++)
			put_flag(&h->w, true);
		if (cols_log2 < max_log2_cols)
			put_flag(&h->w, false);
		n = min_log2_tiles > cols_log2 ? min_log2_tiles - cols_log2 : 0;
		for (rows_log2 = n; rows_log2 <= max_log2_rows; rows_log2++) {
			uint32_t hh = (sb_rows + (1u << rows_log2) - 1) >> rows_log2;

			if ((sb_rows + hh - 1) / hh == t->tile_rows)
				break;
		}
		if (rows_log2 > max_log2_rows) {
			if (!h->w.bad)
				h->w.bad = "tile_rows (no uniform spacing gives that count)";
			return;
		}
		for (; n < rows_log2; n++)
			put_flag(&h->w, true);
		if (rows_log2 < max_log2_rows)
			put_flag(&h->w, false);
	} else {
		uint32_t widest = 0, max_h;

		start = 0;
		for (n = 0; n < t->tile_cols; n++) {
			uint32_t max_w, size = t->width_in_sbs_minus_1[n] + 1u;

			if (start >= sb_cols || !size) {
				if (!h->w.bad)
					h->w.bad = "width_in_sbs_minus_1 (tiles past the frame)";
				return;
			}
			max_w = sb_cols - start < max_tile_width_sb ? sb_cols - start :
				max_tile_width_sb;
			put_ns(&h->w, size - 1, max_w, "width_in_sbs_minus_1");
			widest = size > widest ? size : widest;
			start += size;
		}
		if (start != sb_cols) {
			if (!h->w.bad)
				h->w.bad = "width_in_sbs_minus_1 (tiles do not cover the frame)";
			return;
		}
		cols_log2 = tile_log2(1, t->tile_cols);
		max_tile_area_sb = min_log2_tiles ? (sb_rows * sb_cols) >> (min_log2_tiles + 1) :
			sb_rows * sb_cols;
		max_h = widest ? max_tile_area_sb / widest : 1;
		if (max_h < 1)
			max_h = 1;
		start = 0;
		for (n = 0; n < t->tile_rows; n++) {
			uint32_t mh, size = t->height_in_sbs_minus_1[n] + 1u;

			if (start >= sb_rows || !size) {
				if (!h->w.bad)
					h->w.bad = "height_in_sbs_minus_1 (tiles past the frame)";
				return;
			}
			mh = sb_rows - start < max_h ? sb_rows - start : max_h;
			put_ns(&h->w, size - 1, mh, "height_in_sbs_minus_1");
			start += size;
		}
		if (start != sb_rows) {
			if (!h->w.bad)
				h->w.bad = "height_in_sbs_minus_1 (tiles do not cover the frame)";
			return;
		}
		rows_log2 = tile_log2(1, t->tile_rows);
	}
	h->info->tile_cols = t->tile_cols;
	h->info->tile_rows = t->tile_rows;
	h->info->tile_size_bytes = 0;
	if (cols_log2 || rows_log2) {
		put(&h->w, t->context_update_tile_id, rows_log2 + cols_log2,
		    "context_update_tile_id");
		if (t->context_update_tile_id >= t->tile_cols * t->tile_rows && !h->w.bad)
			h->w.bad = "context_update_tile_id";
		put(&h->w, OUR_TILE_SIZE_BYTES - 1, 2, "tile_size_bytes_minus_1");
		h->info->tile_size_bytes = OUR_TILE_SIZE_BYTES;
	}
}

static void delta_q(struct fh *h, int8_t v, const char *what)
{
	put_flag(&h->w, v != 0);
	if (v)
		put_su(&h->w, v, 7, what);
}

static void quantization_params(struct fh *h)
{
	const struct v4l2_av1_quantization *q = &h->f->quantization;
	bool sep = h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_SEPARATE_UV_DELTA_Q;
	bool diff = q->flags & V4L2_AV1_QUANTIZATION_FLAG_DIFF_UV_DELTA;

	put(&h->w, q->base_q_idx, 8, "base_q_idx");
	delta_q(h, q->delta_q_y_dc, "delta_q_y_dc");
	if (h->num_planes > 1) {
		if (sep)
			put_flag(&h->w, diff);
		else
			diff = false;
		delta_q(h, q->delta_q_u_dc, "delta_q_u_dc");
		delta_q(h, q->delta_q_u_ac, "delta_q_u_ac");
		if (diff) {
			delta_q(h, q->delta_q_v_dc, "delta_q_v_dc");
			delta_q(h, q->delta_q_v_ac, "delta_q_v_ac");
		} else if (q->delta_q_v_dc != q->delta_q_u_dc ||
			   q->delta_q_v_ac != q->delta_q_u_ac) {
			if (!h->w.bad)
				h->w.bad = "delta_q_v (differs from U without DIFF_UV_DELTA)";
		}
	}
	put_flag(&h->w, q->flags & V4L2_AV1_QUANTIZATION_FLAG_USING_QMATRIX);
	if (q->flags & V4L2_AV1_QUANTIZATION_FLAG_USING_QMATRIX) {
		put(&h->w, q->qm_y, 4, "qm_y");
		put(&h->w, q->qm_u, 4, "qm_u");
		if (sep)
			put(&h->w, q->qm_v, 4, "qm_v");
	}
}

static const unsigned int seg_bits[V4L2_AV1_SEG_LVL_MAX] = { 8, 6, 6, 6, 6, 3, 0, 0 };
static const bool seg_signed[V4L2_AV1_SEG_LVL_MAX] = { 1, 1, 1, 1, 1, 0, 0, 0 };
static const int seg_max[V4L2_AV1_SEG_LVL_MAX] = { 255, 63, 63, 63, 63, 7, 0, 0 };

static bool seg_enabled(const struct fh *h)
{
	return h->f->segmentation.flags & V4L2_AV1_SEGMENTATION_FLAG_ENABLED;
}

static void segmentation_params(struct fh *h)
{
	const struct v4l2_av1_segmentation *s = &h->f->segmentation;

	put_flag(&h->w, seg_enabled(h));
	if (!seg_enabled(h))
		return;
	if (h->primary_ref_frame != PRIMARY_REF_NONE) {
		bool map = s->flags & V4L2_AV1_SEGMENTATION_FLAG_UPDATE_MAP;

		put_flag(&h->w, map);
		if (map)
			put_flag(&h->w, s->flags & V4L2_AV1_SEGMENTATION_FLAG_TEMPORAL_UPDATE);
		/* always the full data: the controls hold the effective values */
		put_flag(&h->w, true);
	}
	for (int i = 0; i < V4L2_AV1_MAX_SEGMENTS; i++) {
		for (int j = 0; j < V4L2_AV1_SEG_LVL_MAX; j++) {
			bool on = s->feature_enabled[i] & V4L2_AV1_SEGMENT_FEATURE_ENABLED(j);
			int v = s->feature_data[i][j];

			put_flag(&h->w, on);
			if (!on)
				continue;
			if (v > seg_max[j] || v < (seg_signed[j] ? -seg_max[j] : 0)) {
				if (!h->w.bad)
					h->w.bad = "segmentation feature_data";
				v = 0;
			}
			if (seg_signed[j])
				put_su(&h->w, v, 1 + seg_bits[j], "segmentation feature_data");
			else if (seg_bits[j])
				put(&h->w, (uint32_t)v, seg_bits[j], "segmentation feature_data");
		}
	}
}

/* CodedLossless / AllLossless (5.9.2 end): decide which of the later fields are coded. */
static void compute_lossless(struct fh *h)
{
	const struct v4l2_av1_quantization *q = &h->f->quantization;
	const struct v4l2_av1_segmentation *s = &h->f->segmentation;

	h->coded_lossless = true;
	for (int i = 0; i < V4L2_AV1_MAX_SEGMENTS; i++) {
		int qindex = q->base_q_idx;

		if (seg_enabled(h) &&
		    (s->feature_enabled[i] & V4L2_AV1_SEGMENT_FEATURE_ENABLED(V4L2_AV1_SEG_LVL_ALT_Q))) {
			qindex += s->feature_data[i][V4L2_AV1_SEG_LVL_ALT_Q];
			qindex = qindex < 0 ? 0 : qindex > 255 ? 255 : qindex;
		}
		if (qindex || q->delta_q_y_dc || q->delta_q_u_ac || q->delta_q_u_dc ||
		    q->delta_q_v_ac || q->delta_q_v_dc)
			h->coded_lossless = false;
	}
	h->all_lossless = h->coded_lossless && h->info->frame_width == h->info->upscaled_width;
}

static void delta_params(struct fh *h)
{
	const struct v4l2_av1_quantization *q = &h->f->quantization;
	const struct v4l2_av1_loop_filter *lf = &h->f->loop_filter;
	bool dq = q->flags & V4L2_AV1_QUANTIZATION_FLAG_DELTA_Q_PRESENT;
	bool dlf = lf->flags & V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_PRESENT;

	if (q->base_q_idx > 0)
		put_flag(&h->w, dq);
	else
		dq = false;
	if (!dq)
		return;
	put(&h->w, q->delta_q_res, 2, "delta_q_res");
	if (h->allow_intrabc)
		return;
	put_flag(&h->w, dlf);
	if (dlf) {
		put(&h->w, lf->delta_lf_res, 2, "delta_lf_res");
		put_flag(&h->w, lf->flags & V4L2_AV1_LOOP_FILTER_FLAG_DELTA_LF_MULTI);
	}
}

static void loop_filter_params(struct fh *h)
{
	const struct v4l2_av1_loop_filter *lf = &h->f->loop_filter;
	bool delta = lf->flags & V4L2_AV1_LOOP_FILTER_FLAG_DELTA_ENABLED;

	if (h->coded_lossless || h->allow_intrabc)
		return;
	put(&h->w, lf->level[0], 6, "loop_filter_level[0]");
	put(&h->w, lf->level[1], 6, "loop_filter_level[1]");
	if (h->num_planes > 1 && (lf->level[0] || lf->level[1])) {
		put(&h->w, lf->level[2], 6, "loop_filter_level[2]");
		put(&h->w, lf->level[3], 6, "loop_filter_level[3]");
	}
	put(&h->w, lf->sharpness, 3, "loop_filter_sharpness");
	put_flag(&h->w, delta);
	if (!delta)
		return;
	/* always every delta: the controls hold the effective ones */
	put_flag(&h->w, true); /* loop_filter_delta_update */
	for (int i = 0; i < V4L2_AV1_TOTAL_REFS_PER_FRAME; i++) {
		put_flag(&h->w, true);
		put_su(&h->w, lf->ref_deltas[i], 7, "loop_filter_ref_deltas");
	}
	for (int i = 0; i < 2; i++) {
		put_flag(&h->w, true);
		put_su(&h->w, lf->mode_deltas[i], 7, "loop_filter_mode_deltas");
	}
}

static unsigned int cdef_sec(uint8_t v)
{
	/* the effective strength 4 is coded as 3; accept either convention */
	return v == 4 ? 3 : v;
}

static void cdef_params(struct fh *h)
{
	const struct v4l2_av1_cdef *c = &h->f->cdef;

	if (h->coded_lossless || h->allow_intrabc ||
	    !(h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_CDEF))
		return;
	put(&h->w, c->damping_minus_3, 2, "cdef_damping_minus_3");
	put(&h->w, c->bits, 2, "cdef_bits");
	for (unsigned int i = 0; i < (1u << (c->bits & 3)); i++) {
		put(&h->w, c->y_pri_strength[i], 4, "cdef_y_pri_strength");
		put(&h->w, cdef_sec(c->y_sec_strength[i]), 2, "cdef_y_sec_strength");
		if (h->num_planes > 1) {
			put(&h->w, c->uv_pri_strength[i], 4, "cdef_uv_pri_strength");
			put(&h->w, cdef_sec(c->uv_sec_strength[i]), 2, "cdef_uv_sec_strength");
		}
	}
}

static void lr_params(struct fh *h)
{
	const struct v4l2_av1_loop_restoration *lr = &h->f->loop_restoration;
	/* V4L2 has the remapped FrameRestorationType; the syntax codes lr_type */
	static const uint8_t lr_type[4] = { 0, 2, 3, 1 };
	bool sb128 = h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_USE_128X128_SUPERBLOCK;
	bool uses_lr = false, uses_chroma = false;
	unsigned int shift, uv_shift;

	if (h->all_lossless || h->allow_intrabc ||
	    !(h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_RESTORATION))
		return;
	for (unsigned int i = 0; i < h->num_planes; i++) {
		unsigned int t = lr->frame_restoration_type[i];

		if (t > 3) {
			if (!h->w.bad)
				h->w.bad = "frame_restoration_type";
			return;
		}
		put(&h->w, lr_type[t], 2, "lr_type");
		if (t) {
			uses_lr = true;
			if (i)
				uses_chroma = true;
		}
	}
	if (!uses_lr)
		return;
	/* LoopRestorationSize is the unambiguous field; lr_unit_shift if a client left it 0 */
	switch (lr->loop_restoration_size[0]) {
	case 64: shift = 0; break;
	case 128: shift = 1; break;
	case 256: shift = 2; break;
	default: shift = lr->lr_unit_shift; break;
	}
	uv_shift = lr->lr_uv_shift;
	if (lr->loop_restoration_size[0] && lr->loop_restoration_size[1])
		uv_shift = lr->loop_restoration_size[1] < lr->loop_restoration_size[0];
	if (shift > 2 || (sb128 && !shift)) {
		if (!h->w.bad)
			h->w.bad = "loop restoration unit size";
		return;
	}
	if (sb128) {
		put_flag(&h->w, shift == 2);
	} else {
		put_flag(&h->w, shift > 0);
		if (shift)
			put_flag(&h->w, shift == 2);
	}
	if (uses_chroma)
		put(&h->w, uv_shift, 1, "lr_uv_shift"); /* 4:2:0 only */
}

static void skip_mode_params(struct fh *h)
{
	const struct v4l2_ctrl_av1_frame *f = h->f;
	int fwd = -1, bwd = -1, fwd2 = -1;
	uint32_t fwd_hint = 0, bwd_hint = 0, fwd2_hint = 0;
	bool allowed;

	if (h->info->intra || !ff(h, V4L2_AV1_FRAME_FLAG_REFERENCE_SELECT) ||
	    !h->order_hint_enabled) {
		allowed = false;
	} else {
		for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++) {
			uint32_t hint = h->st->slot[f->ref_frame_idx[i] & 7].order_hint;

			if (get_relative_dist(h, hint, f->order_hint) < 0) {
				if (fwd < 0 || get_relative_dist(h, hint, fwd_hint) > 0) {
					fwd = i;
					fwd_hint = hint;
				}
			} else if (get_relative_dist(h, hint, f->order_hint) > 0) {
				if (bwd < 0 || get_relative_dist(h, hint, bwd_hint) < 0) {
					bwd = i;
					bwd_hint = hint;
				}
			}
		}
		if (fwd < 0) {
			allowed = false;
		} else if (bwd >= 0) {
			allowed = true;
		} else {
			for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++) {
				uint32_t hint = h->st->slot[f->ref_frame_idx[i] & 7].order_hint;

				if (get_relative_dist(h, hint, fwd_hint) < 0 &&
				    (fwd2 < 0 || get_relative_dist(h, hint, fwd2_hint) > 0)) {
					fwd2 = i;
					fwd2_hint = hint;
				}
			}
			allowed = fwd2 >= 0;
		}
	}
	if (allowed)
		put_flag(&h->w, ff(h, V4L2_AV1_FRAME_FLAG_SKIP_MODE_PRESENT));
	else if (ff(h, V4L2_AV1_FRAME_FLAG_SKIP_MODE_PRESENT) && !h->w.bad)
		h->w.bad = "skip_mode_present (skip mode is not allowed for these references)";
}

/* ---- global motion (5.9.24, 5.9.25, 5.9.26-28 inverted) ------------------------------ */

static uint32_t recenter(uint32_t r, uint32_t v)
{
	if (v > 2 * r)
		return v;
	if (v >= r)
		return (v - r) << 1;
	return ((r - v) << 1) - 1;
}

/* inverse of decode_subexp(num_syms) */
static void put_subexp(struct bw *w, uint32_t v, uint32_t num_syms)
{
	unsigned int i = 0, k = 3;
	uint32_t mk = 0;

	for (;;) {
		unsigned int b2 = i ? k + i - 1 : k;
		uint32_t a = 1u << b2;

		if (num_syms <= mk + 3 * a) {
			put_ns(w, v - mk, num_syms - mk, "global motion parameter");
			return;
		}
		if (v >= mk + a) {
			put_bit(w, 1);
			i++;
			mk += a;
		} else {
			put_bit(w, 0);
			put(w, v - mk, b2, "global motion parameter");
			return;
		}
	}
}

static void global_param(struct fh *h, int type, int ref, int idx, const int32_t *prev,
			 int32_t *out)
{
	unsigned int abs_bits = 12, prec_bits = 15, prec_diff;
	int32_t round, sub, mx, r, value = h->f->global_motion.params[ref][idx];
	int64_t coded;
	uint32_t num_syms, rr, y;

	if (idx < 2) {
		if (type == V4L2_AV1_WARP_MODEL_TRANSLATION) {
			abs_bits = 9 - !h->allow_hp_mv;
			prec_bits = 3 - !h->allow_hp_mv;
		} else {
			abs_bits = 12;
			prec_bits = 6;
		}
	}
	prec_diff = WARPEDMODEL_PREC_BITS - prec_bits;
	round = (idx % 3) == 2 ? 1 << WARPEDMODEL_PREC_BITS : 0;
	sub = (idx % 3) == 2 ? 1 << prec_bits : 0;
	mx = 1 << abs_bits;
	r = (prev[idx] >> prec_diff) - sub;
	/* (coded << prec_diff) + round must give back the control's value exactly */
	coded = ((int64_t)value - round) / (1 << prec_diff);
	if (coded * (1 << prec_diff) + round != value || coded < -mx || coded > mx ||
	    r < -mx || r > mx) {
		if (!h->w.bad)
			h->w.bad = "global motion parameter";
		return;
	}
	num_syms = (uint32_t)(2 * mx + 1);
	rr = (uint32_t)(r + mx);
	y = (uint32_t)(coded + mx);
	if ((rr << 1) <= num_syms)
		put_subexp(&h->w, recenter(rr, y), num_syms);
	else
		put_subexp(&h->w, recenter(num_syms - 1 - rr, num_syms - 1 - y), num_syms);
	out[idx] = value;
}

static void global_motion_params(struct fh *h)
{
	const struct v4l2_av1_global_motion *gm = &h->f->global_motion;
	int32_t prev[V4L2_AV1_TOTAL_REFS_PER_FRAME][6];

	default_gm(h->info->gm_params);
	if (h->info->intra)
		return;
	if (h->primary_ref_frame == PRIMARY_REF_NONE)
		default_gm(prev);
	else
		memcpy(prev, h->st->slot[h->f->ref_frame_idx[h->primary_ref_frame] & 7].gm_params,
		       sizeof(prev));
	for (int ref = V4L2_AV1_REF_LAST_FRAME; ref <= V4L2_AV1_REF_ALTREF_FRAME; ref++) {
		int type = gm->type[ref];
		int32_t *out = h->info->gm_params[ref];

		if (type < V4L2_AV1_WARP_MODEL_IDENTITY || type > V4L2_AV1_WARP_MODEL_AFFINE) {
			if (!h->w.bad)
				h->w.bad = "global motion type";
			return;
		}
		put_flag(&h->w, type != V4L2_AV1_WARP_MODEL_IDENTITY);
		if (type != V4L2_AV1_WARP_MODEL_IDENTITY) {
			put_flag(&h->w, type == V4L2_AV1_WARP_MODEL_ROTZOOM);
			if (type != V4L2_AV1_WARP_MODEL_ROTZOOM)
				put_flag(&h->w, type == V4L2_AV1_WARP_MODEL_TRANSLATION);
		}
		if (type >= V4L2_AV1_WARP_MODEL_ROTZOOM) {
			global_param(h, type, ref, 2, prev[ref], out);
			global_param(h, type, ref, 3, prev[ref], out);
			if (type == V4L2_AV1_WARP_MODEL_AFFINE) {
				global_param(h, type, ref, 4, prev[ref], out);
				global_param(h, type, ref, 5, prev[ref], out);
			} else {
				out[4] = -out[3];
				out[5] = out[2];
			}
		}
		if (type >= V4L2_AV1_WARP_MODEL_TRANSLATION) {
			global_param(h, type, ref, 0, prev[ref], out);
			global_param(h, type, ref, 1, prev[ref], out);
		}
	}
}

/* ---- film grain (5.9.30) ------------------------------------------------------------- */

static void put_points(struct bw *w, unsigned int n, const uint8_t *value, const uint8_t *scaling,
		       const char *what)
{
	put(w, n, 4, what);
	for (unsigned int i = 0; i < n && i < 16; i++) {
		put(w, value[i], 8, what);
		put(w, scaling[i], 8, what);
	}
}

static void film_grain_params(struct fh *h)
{
	const struct v4l2_ctrl_av1_film_grain *g = h->fg;
	bool mono = h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME;
	bool cfl, apply;
	unsigned int num_cb = 0, num_cr = 0, pos_luma, pos_chroma;

	if (!(h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_FILM_GRAIN_PARAMS_PRESENT) ||
	    (!h->info->show_frame && !h->info->showable_frame))
		return;
	/* a client that does not send FILM_GRAIN gets grain-free pictures (as from Chromium) */
	apply = g && (g->flags & V4L2_AV1_FILM_GRAIN_FLAG_APPLY_GRAIN);
	put_flag(&h->w, apply);
	if (!apply)
		return;
	put(&h->w, g->grain_seed, 16, "grain_seed");
	if (h->info->frame_type == V4L2_AV1_INTER_FRAME) {
		bool update = g->flags & V4L2_AV1_FILM_GRAIN_FLAG_UPDATE_GRAIN;

		put_flag(&h->w, update);
		if (!update) {
			/* the decoder loads them from that slot, as from the original stream */
			put(&h->w, g->film_grain_params_ref_idx, 3, "film_grain_params_ref_idx");
			return;
		}
	}
	if (g->num_y_points > 14 || g->num_cb_points > 10 || g->num_cr_points > 10) {
		if (!h->w.bad)
			h->w.bad = "film grain point count";
		return;
	}
	put_points(&h->w, g->num_y_points, g->point_y_value, g->point_y_scaling, "film grain y");
	cfl = !mono && (g->flags & V4L2_AV1_FILM_GRAIN_FLAG_CHROMA_SCALING_FROM_LUMA);
	if (!mono)
		put_flag(&h->w, cfl);
	if (!(mono || cfl || !g->num_y_points)) {
		num_cb = g->num_cb_points;
		num_cr = g->num_cr_points;
		put_points(&h->w, num_cb, g->point_cb_value, g->point_cb_scaling, "film grain cb");
		put_points(&h->w, num_cr, g->point_cr_value, g->point_cr_scaling, "film grain cr");
	}
	put(&h->w, g->grain_scaling_minus_8, 2, "grain_scaling_minus_8");
	put(&h->w, g->ar_coeff_lag, 2, "ar_coeff_lag");
	pos_luma = 2u * (g->ar_coeff_lag & 3) * ((g->ar_coeff_lag & 3) + 1);
	pos_chroma = pos_luma;
	if (g->num_y_points) {
		pos_chroma = pos_luma + 1;
		for (unsigned int i = 0; i < pos_luma; i++)
			put(&h->w, g->ar_coeffs_y_plus_128[i], 8, "ar_coeffs_y");
	}
	if (cfl || num_cb)
		for (unsigned int i = 0; i < pos_chroma; i++)
			put(&h->w, g->ar_coeffs_cb_plus_128[i], 8, "ar_coeffs_cb");
	if (cfl || num_cr)
		for (unsigned int i = 0; i < pos_chroma; i++)
			put(&h->w, g->ar_coeffs_cr_plus_128[i], 8, "ar_coeffs_cr");
	put(&h->w, g->ar_coeff_shift_minus_6, 2, "ar_coeff_shift_minus_6");
	put(&h->w, g->grain_scale_shift, 2, "grain_scale_shift");
	if (num_cb) {
		put(&h->w, g->cb_mult, 8, "cb_mult");
		put(&h->w, g->cb_luma_mult, 8, "cb_luma_mult");
		put(&h->w, g->cb_offset, 9, "cb_offset");
	}
	if (num_cr) {
		put(&h->w, g->cr_mult, 8, "cr_mult");
		put(&h->w, g->cr_luma_mult, 8, "cr_luma_mult");
		put(&h->w, g->cr_offset, 9, "cr_offset");
	}
	put_flag(&h->w, g->flags & V4L2_AV1_FILM_GRAIN_FLAG_OVERLAP);
	put_flag(&h->w, g->flags & V4L2_AV1_FILM_GRAIN_FLAG_CLIP_TO_RESTRICTED_RANGE);
}

/* ---- the uncompressed header --------------------------------------------------------- */

static int check_frame(struct fh *h)
{
	const struct v4l2_ctrl_av1_frame *f = h->f;
	struct dd_av1_frame_info *info = h->info;
	uint32_t width;

	/* the sizes must fit the 16-bit fields we code (and "+ 1" must not wrap to 0) */
	if (f->frame_width_minus_1 >= 1u << FRAME_SIZE_BITS ||
	    f->frame_height_minus_1 >= 1u << FRAME_SIZE_BITS ||
	    f->upscaled_width > 1u << FRAME_SIZE_BITS)
		return dd_fail(h->err, "AV1 frame size %u x %u (upscaled %u) too large",
			       f->frame_width_minus_1, f->frame_height_minus_1, f->upscaled_width);
	width = f->frame_width_minus_1 + 1u;
	if (f->frame_type > V4L2_AV1_SWITCH_FRAME)
		return dd_fail(h->err, "AV1 frame_type %u is invalid", (unsigned int)f->frame_type);
	info->frame_type = (uint8_t)f->frame_type;
	info->intra = f->frame_type == V4L2_AV1_KEY_FRAME ||
		      f->frame_type == V4L2_AV1_INTRA_ONLY_FRAME;
	info->show_frame = ff(h, V4L2_AV1_FRAME_FLAG_SHOW_FRAME);
	info->showable_frame = info->show_frame ? f->frame_type != V4L2_AV1_KEY_FRAME :
			       ff(h, V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME);
	/* clients may fill upscaled_width only with superres */
	info->upscaled_width = f->upscaled_width ? f->upscaled_width : width;
	info->frame_height = f->frame_height_minus_1 + 1u;
	if (!(h->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_SUPERRES) ||
	    !ff(h, V4L2_AV1_FRAME_FLAG_USE_SUPERRES))
		info->upscaled_width = width;
	if (info->upscaled_width > h->seq->max_frame_width_minus_1 + 1u ||
	    info->frame_height > h->seq->max_frame_height_minus_1 + 1u)
		return dd_fail(h->err, "AV1 frame %ux%u exceeds the sequence's maximum %ux%u",
			       info->upscaled_width, info->frame_height,
			       h->seq->max_frame_width_minus_1 + 1u,
			       h->seq->max_frame_height_minus_1 + 1u);
	if (h->order_hint_enabled && f->order_hint >> h->order_hint_bits)
		return dd_fail(h->err, "AV1 order_hint %u does not fit order_hint_bits %u",
			       f->order_hint, h->order_hint_bits);
	if (!info->intra) {
		for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++) {
			int idx = f->ref_frame_idx[i];

			if (idx < 0 || idx >= DD_AV1_NUM_SLOTS)
				return dd_fail(h->err, "AV1 ref_frame_idx[%d] = %d is invalid", i,
					       idx);
			if (!h->st->slot[idx].valid)
				return dd_fail_kind(h->err, DD_ERR_REFERENCE,
						    "AV1 reference slot %d (ref_frame_idx[%d]) "
						    "holds no decoded frame", idx, i);
		}
	}
	if (f->primary_ref_frame > PRIMARY_REF_NONE)
		return dd_fail(h->err, "AV1 primary_ref_frame %u is invalid", f->primary_ref_frame);
	return 0;
}

int dd_av1_write_frame_header(const struct dd_av1_frame_in *in, const struct dd_av1_state *st,
			      struct dd_av1_frame_info *info, uint8_t *out, size_t cap,
			      struct dd_error *err)
{
	const struct v4l2_ctrl_av1_frame *f = in->frame;
	struct fh h = {
		.seq = in->seq, .f = f, .fg = in->film_grain, .st = st, .info = info, .err = err,
	};
	struct bw *w = &h.w;
	bool key_shown;

	memset(info, 0, sizeof(*info));
	if (check_sequence(in->seq, err))
		return -1;
	h.num_planes = (in->seq->flags & V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME) ? 1 : 3;
	h.order_hint_enabled = in->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT;
	h.order_hint_bits = h.order_hint_enabled ? in->seq->order_hint_bits : 0;
	if (check_frame(&h))
		return -1;
	if (!start_header_obu(w, out, cap))
		return dd_fail(err, "AV1 frame header: no room");

	key_shown = f->frame_type == V4L2_AV1_KEY_FRAME && info->show_frame;
	info->order_hint = h.order_hint_enabled ? f->order_hint : 0;
	put_flag(w, false); /* show_existing_frame */
	put(w, f->frame_type, 2, "frame_type");
	put_flag(w, info->show_frame);
	if (!info->show_frame)
		put_flag(w, info->showable_frame);
	if (f->frame_type == V4L2_AV1_SWITCH_FRAME || key_shown) {
		h.error_resilient = true;
	} else {
		h.error_resilient = ff(&h, V4L2_AV1_FRAME_FLAG_ERROR_RESILIENT_MODE);
		put_flag(w, h.error_resilient);
	}
	put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_DISABLE_CDF_UPDATE));
	h.allow_sct = ff(&h, V4L2_AV1_FRAME_FLAG_ALLOW_SCREEN_CONTENT_TOOLS);
	put_flag(w, h.allow_sct);
	if (h.allow_sct)
		put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_FORCE_INTEGER_MV));
	h.force_integer_mv = info->intra || (h.allow_sct &&
					     ff(&h, V4L2_AV1_FRAME_FLAG_FORCE_INTEGER_MV));
	if (f->frame_type != V4L2_AV1_SWITCH_FRAME)
		put_flag(w, true); /* frame_size_override_flag: sizes always explicit */
	if (h.order_hint_enabled)
		put(w, f->order_hint, h.order_hint_bits, "order_hint");
	if (info->intra || h.error_resilient) {
		h.primary_ref_frame = PRIMARY_REF_NONE;
	} else {
		h.primary_ref_frame = f->primary_ref_frame;
		put(w, f->primary_ref_frame, 3, "primary_ref_frame");
	}
	if (h.primary_ref_frame != PRIMARY_REF_NONE &&
	    !st->slot[f->ref_frame_idx[h.primary_ref_frame] & 7].valid)
		return dd_fail_kind(err, DD_ERR_REFERENCE, "AV1 primary reference frame's slot is empty");
	if (f->frame_type == V4L2_AV1_SWITCH_FRAME || key_shown) {
		info->refresh_frame_flags = 0xff;
	} else {
		info->refresh_frame_flags = f->refresh_frame_flags;
		put(w, f->refresh_frame_flags, 8, "refresh_frame_flags");
		if (f->frame_type == V4L2_AV1_INTRA_ONLY_FRAME && f->refresh_frame_flags == 0xff)
			return dd_fail(err, "AV1 intra-only frame refreshes every slot");
	}
	if ((!info->intra || info->refresh_frame_flags != 0xff) && h.error_resilient &&
	    h.order_hint_enabled) {
		/* decoders only compare them with their own slots: ours are what they hold */
		for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
			put(w, st->slot[i].order_hint & ((1u << h.order_hint_bits) - 1),
			    h.order_hint_bits, "ref_order_hint");
	}
	if (info->intra) {
		frame_size(&h);
		if (h.allow_sct && info->upscaled_width == info->frame_width) {
			h.allow_intrabc = ff(&h, V4L2_AV1_FRAME_FLAG_ALLOW_INTRABC);
			put_flag(w, h.allow_intrabc);
		}
	} else {
		if (h.order_hint_enabled)
			put_flag(w, false); /* frame_refs_short_signaling */
		for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
			put(w, (uint32_t)f->ref_frame_idx[i], 3, "ref_frame_idx");
		if (!h.error_resilient)
			for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
				put_flag(w, false); /* found_ref */
		frame_size(&h);
		h.allow_hp_mv = !h.force_integer_mv &&
				ff(&h, V4L2_AV1_FRAME_FLAG_ALLOW_HIGH_PRECISION_MV);
		if (!h.force_integer_mv)
			put_flag(w, h.allow_hp_mv);
		if (f->interpolation_filter > V4L2_AV1_INTERPOLATION_FILTER_SWITCHABLE)
			return dd_fail(err, "AV1 interpolation_filter %u is invalid",
				       (unsigned int)f->interpolation_filter);
		put_flag(w, f->interpolation_filter == V4L2_AV1_INTERPOLATION_FILTER_SWITCHABLE);
		if (f->interpolation_filter != V4L2_AV1_INTERPOLATION_FILTER_SWITCHABLE)
			put(w, f->interpolation_filter, 2, "interpolation_filter");
		put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_IS_MOTION_MODE_SWITCHABLE));
		if (!h.error_resilient &&
		    (in->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_REF_FRAME_MVS))
			put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_USE_REF_FRAME_MVS));
	}
	if (!ff(&h, V4L2_AV1_FRAME_FLAG_DISABLE_CDF_UPDATE))
		put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_DISABLE_FRAME_END_UPDATE_CDF));
	h.mi_cols = 2 * ((info->frame_width + 7) >> 3);
	h.mi_rows = 2 * ((info->frame_height + 7) >> 3);
	tile_info(&h);
	quantization_params(&h);
	segmentation_params(&h);
	delta_params(&h);
	compute_lossless(&h);
	loop_filter_params(&h);
	cdef_params(&h);
	lr_params(&h);
	if (!h.coded_lossless)
		put_flag(w, f->tx_mode == V4L2_AV1_TX_MODE_SELECT);
	if (!info->intra)
		put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_REFERENCE_SELECT));
	skip_mode_params(&h);
	if (!info->intra && !h.error_resilient &&
	    (in->seq->flags & V4L2_AV1_SEQUENCE_FLAG_ENABLE_WARPED_MOTION))
		put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_ALLOW_WARPED_MOTION));
	put_flag(w, ff(&h, V4L2_AV1_FRAME_FLAG_REDUCED_TX_SET));
	global_motion_params(&h);
	film_grain_params(&h);
	return finish_header_obu(w, out, DD_AV1_OBU_FRAME_HEADER, err);
}

/* ---- tile group (5.11.1) ------------------------------------------------------------- */

size_t dd_av1_tile_group_bound(unsigned int n, size_t data_bytes)
{
	return 1 + 8 + 1 + (size_t)n * OUR_TILE_SIZE_BYTES + data_bytes;
}

long dd_av1_write_tile_group(const struct dd_av1_frame_info *info,
			     const struct v4l2_ctrl_av1_tile_group_entry *tiles, unsigned int n,
			     const uint8_t *data, size_t size, uint8_t *out, size_t cap,
			     struct dd_error *err)
{
	unsigned int num = info->tile_cols * info->tile_rows;
	int order[V4L2_AV1_MAX_TILE_COUNT];
	size_t payload = 0, pos, reserve;
	uint64_t tiles_bytes = 0;

	if (!num || num > V4L2_AV1_MAX_TILE_COUNT)
		return dd_fail(err, "AV1 frame has %u tiles", num);
	if (n != num)
		return dd_fail(err, "AV1 frame has %u tiles but %u TILE_GROUP_ENTRY elements", num,
			       n);
	for (unsigned int i = 0; i < num; i++)
		order[i] = -1;
	for (unsigned int i = 0; i < n; i++) {
		const struct v4l2_ctrl_av1_tile_group_entry *t = &tiles[i];
		unsigned int k;

		if (t->tile_row >= info->tile_rows || t->tile_col >= info->tile_cols)
			return dd_fail(err, "AV1 tile %u at row %u col %u lies outside the %ux%u "
				       "tile grid", i, t->tile_row, t->tile_col, info->tile_cols,
				       info->tile_rows);
		k = t->tile_row * info->tile_cols + t->tile_col;
		if (order[k] >= 0)
			return dd_fail(err, "AV1 tile row %u col %u appears twice", t->tile_row,
				       t->tile_col);
		if (!t->tile_size || t->tile_offset > size || t->tile_size > size - t->tile_offset)
			return dd_fail(err, "AV1 tile %u (offset %u, %u bytes) lies outside the "
				       "%zu-byte bitstream", i, t->tile_offset, t->tile_size, size);
		/*
		 * Each tile lies in the bitstream, and together they fit in it: tiles of a real
		 * stream never overlap, and overlapping ones could add up past SIZE_MAX on a
		 * 32-bit build (512 tiles of 32 MiB), making the room check below pass.
		 */
		tiles_bytes += t->tile_size;
		if (tiles_bytes > size)
			return dd_fail(err, "AV1 tiles overlap: %u tiles of %llu bytes or more in "
				       "the %zu-byte bitstream", i + 1,
				       (unsigned long long)tiles_bytes, size);
		order[k] = (int)i;
		payload += t->tile_size + (k + 1 < num ? info->tile_size_bytes : 0);
	}
	if (num > 1 && !info->tile_size_bytes)
		return dd_fail(err, "AV1 tile sizes are not coded for %u tiles", num);
	/* tile_start_and_end_present_flag = 0 (if more than one tile), then byte alignment */
	payload += num > 1 ? 1 : 0;
	reserve = leb128_len(payload);
	if (cap < 1 + reserve || payload > cap - 1 - reserve || payload > (size_t)LONG_MAX / 2)
		return dd_fail(err, "AV1 tile group of %zu bytes does not fit", payload);
	out[0] = (uint8_t)(DD_AV1_OBU_TILE_GROUP << 3 | 1 << 1);
	pos = 1 + put_leb128(out + 1, payload);
	if (num > 1)
		out[pos++] = 0; /* tile_start_and_end_present_flag = 0, aligned */
	for (unsigned int k = 0; k < num; k++) {
		const struct v4l2_ctrl_av1_tile_group_entry *t = &tiles[order[k]];

		if (k + 1 < num) {
			uint32_t v = t->tile_size - 1;

			for (unsigned int b = 0; b < info->tile_size_bytes; b++)
				out[pos++] = (uint8_t)(v >> (8 * b));
		}
		memcpy(out + pos, data + t->tile_offset, t->tile_size);
		pos += t->tile_size;
	}
	return (long)pos;
}
