/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The AV1 OBU writers fed random control values: whatever a client puts in the controls,
 * the writers return an OBU within the buffer they were given or an error with a reason,
 * and never read or write outside their inputs (run under ASan/UBSan by
 * tests/unit/daemon-engine.sh). Half of the cases start from plausible values with a few
 * fields randomised, so that the checks deep inside the frame header are reached too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "av1_obu_writer.h"

static uint64_t state = 88172645463325252ULL;

static uint32_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)state;
}

static void randomize(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* A valid-looking 4:2:0 8/10-bit sequence and key or inter frame, then some bytes flipped. */
static void plausible(struct v4l2_ctrl_av1_sequence *seq, struct v4l2_ctrl_av1_frame *f,
		      struct v4l2_ctrl_av1_film_grain *g)
{
	memset(seq, 0, sizeof(*seq));
	memset(f, 0, sizeof(*f));
	randomize(g, sizeof(*g));
	seq->flags = (rnd() & 0x3fffff) | V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_X |
		     V4L2_AV1_SEQUENCE_FLAG_SUBSAMPLING_Y;
	seq->flags &= ~V4L2_AV1_SEQUENCE_FLAG_MONO_CHROME;
	if (rnd() % 8)
		seq->flags |= V4L2_AV1_SEQUENCE_FLAG_ENABLE_ORDER_HINT;
	seq->bit_depth = rnd() & 1 ? 10 : 8;
	seq->order_hint_bits = (uint8_t)(1 + rnd() % 8);
	seq->max_frame_width_minus_1 = (uint16_t)(rnd() % 4096);
	seq->max_frame_height_minus_1 = (uint16_t)(rnd() % 2304);
	f->frame_type = (enum v4l2_av1_frame_type)(rnd() % 2 ? 0 : rnd() % 4);
	f->flags = rnd();
	if (rnd() % 4)
		f->flags &= ~V4L2_AV1_FRAME_FLAG_SKIP_MODE_PRESENT;
	f->frame_width_minus_1 = rnd() % (seq->max_frame_width_minus_1 + 1u);
	f->frame_height_minus_1 = rnd() % (seq->max_frame_height_minus_1 + 1u);
	f->upscaled_width = f->frame_width_minus_1 + 1 + rnd() % 3;
	f->superres_denom = (uint8_t)(8 + rnd() % 10);
	f->tile_info.flags = rnd() & 1;
	f->tile_info.tile_cols = (uint8_t)(rnd() % 2 ? 1 : 1 + rnd() % 4);
	f->tile_info.tile_rows = (uint8_t)(rnd() % 2 ? 1 : 1 + rnd() % 4);
	for (int i = 0; i < 4; i++) {
		f->tile_info.width_in_sbs_minus_1[i] = rnd() % 8;
		f->tile_info.height_in_sbs_minus_1[i] = rnd() % 8;
	}
	f->quantization.base_q_idx = (uint8_t)rnd();
	f->quantization.flags = rnd() & 7;
	f->segmentation.flags = rnd() & 0x1f;
	for (int i = 0; i < 8; i++) {
		f->segmentation.feature_enabled[i] = (uint8_t)rnd();
		for (int j = 0; j < 8; j++)
			f->segmentation.feature_data[i][j] = (int16_t)((int)(rnd() % 600) - 300);
	}
	f->loop_filter.flags = rnd() & 0xf;
	f->cdef.bits = rnd() % 4;
	f->loop_restoration.frame_restoration_type[0] =
		(enum v4l2_av1_frame_restoration_type)(rnd() % 5);
	f->loop_restoration.loop_restoration_size[0] = 32u << (rnd() % 5);
	for (int r = 0; r < 8; r++) {
		f->global_motion.type[r] = (enum v4l2_av1_warp_model)(rnd() % 5);
		for (int i = 0; i < 6; i++)
			f->global_motion.params[r][i] = (int32_t)(rnd() % 0x30000) - 0x8000;
	}
	for (int i = 0; i < 7; i++)
		f->ref_frame_idx[i] = (int8_t)(rnd() % 9) - (rnd() % 16 == 0);
	f->primary_ref_frame = (uint8_t)(rnd() % 8);
	f->refresh_frame_flags = (uint8_t)rnd();
	f->order_hint = rnd() % (rnd() % 8 ? 1u << seq->order_hint_bits : 300);
	if (rnd() % 2)
		f->primary_ref_frame = 7;
	f->interpolation_filter = (enum v4l2_av1_interpolation_filter)(rnd() % 6);
	f->tx_mode = (enum v4l2_av1_tx_mode)(rnd() % 3);
	for (int k = rnd() % 4 ? 0 : rnd() % 4; k > 0; k--)
		((uint8_t *)f)[rnd() % sizeof(*f)] ^= (uint8_t)(1u << (rnd() % 8));
}

/*
 * Tiles that each lie in the bitstream but overlap are refused: a client's sizes could
 * otherwise add up past SIZE_MAX on a 32-bit build and slip past the room check (here,
 * on 64 bits, four copies of the whole bitstream would be written).
 */
static int overlapping_tiles(const uint8_t *data, size_t size, uint8_t *out, size_t cap)
{
	struct v4l2_ctrl_av1_tile_group_entry tiles[4] = { 0 };
	struct dd_av1_frame_info info = { .tile_cols = 2, .tile_rows = 2, .tile_size_bytes = 4 };
	struct dd_error err = { 0 };
	long len;

	for (unsigned int i = 0; i < 4; i++) {
		tiles[i].tile_row = i / 2;
		tiles[i].tile_col = i % 2;
		tiles[i].tile_size = (uint32_t)size;
	}
	len = dd_av1_write_tile_group(&info, tiles, 4, data, size, out, cap, &err);
	if (len >= 0 || !strstr(err.msg, "overlap"))
		return printf("FAIL overlapping tiles: %ld bytes written, \"%s\"\n", len,
			      err.msg), 1;
	/* the same tiles one after the other are fine */
	for (unsigned int i = 0; i < 4; i++) {
		tiles[i].tile_offset = (uint32_t)(i * size / 4);
		tiles[i].tile_size = (uint32_t)(size / 4);
	}
	len = dd_av1_write_tile_group(&info, tiles, 4, data, size, out, cap, &err);
	if (len < 0)
		return printf("FAIL disjoint tiles refused: \"%s\"\n", err.msg), 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct v4l2_ctrl_av1_tile_group_entry tiles[V4L2_AV1_MAX_TILE_COUNT + 1];
	static uint8_t out[1 << 16], data[4096];
	long iterations = argc > 1 ? atol(argv[1]) : 200000, ok[3] = { 0 }, failed[3] = { 0 };
	struct v4l2_ctrl_av1_sequence seq;
	struct v4l2_ctrl_av1_frame frame;
	struct v4l2_ctrl_av1_film_grain grain;
	struct dd_av1_state st;
	struct dd_error err;

	dd_av1_state_reset(&st);
	for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
		st.slot[i].valid = true;
	randomize(data, sizeof(data));
	if (overlapping_tiles(data, sizeof(data), out, sizeof(out)))
		return 1;
	for (long it = 0; it < iterations; it++) {
		struct dd_av1_frame_in in = { &seq, &frame, rnd() % 4 ? &grain : NULL };
		struct dd_av1_frame_info info;
		size_t cap = rnd() % 8 ? sizeof(out) : rnd() % 64;
		unsigned int n;
		long len;
		int r;

		if (it % 2) {
			randomize(&seq, sizeof(seq));
			randomize(&frame, sizeof(frame));
			randomize(&grain, sizeof(grain));
		} else {
			plausible(&seq, &frame, &grain);
		}
		if (rnd() % 16 == 0) {
			/* odd but well-typed state: order hints and global motion of any value */
			for (int i = 0; i < DD_AV1_NUM_SLOTS; i++) {
				st.slot[i].valid = rnd() & 1;
				st.slot[i].showable = rnd() & 1;
				st.slot[i].frame_type = (uint8_t)(rnd() % 4);
				st.slot[i].order_hint = rnd();
				randomize(st.slot[i].gm_params, sizeof(st.slot[i].gm_params));
			}
		}
		err.msg[0] = '\0';
		r = dd_av1_write_sequence_header(&seq, out, cap, &err);
		if (r > (long)cap || (r < 0 && !err.msg[0]))
			return printf("FAIL sequence header: %d bytes of %zu, \"%s\"\n", r, cap,
				      err.msg), 1;
		r < 0 ? failed[0]++ : ok[0]++;
		err.msg[0] = '\0';
		r = dd_av1_write_frame_header(&in, &st, &info, out, cap, &err);
		if (r > (long)cap || (r < 0 && !err.msg[0]))
			return printf("FAIL frame header: %d bytes of %zu, \"%s\"\n", r, cap,
				      err.msg), 1;
		r < 0 ? failed[1]++ : ok[1]++;
		if (r < 0) {
			if (getenv("AV1_FUZZ_REASONS") && it % 2 == 0)
				printf("%s\n", err.msg);
			continue;
		}
		n = info.tile_cols * info.tile_rows;
		if (rnd() % 4 == 0)
			n = rnd() % 16 ? 1 + rnd() % 16 : rnd() % (V4L2_AV1_MAX_TILE_COUNT + 2);
		for (unsigned int i = 0; i < n; i++) {
			tiles[i].tile_row = rnd() % 2 ? i / (info.tile_cols ? info.tile_cols : 1) :
					    rnd() % 70;
			tiles[i].tile_col = rnd() % 2 ? i % (info.tile_cols ? info.tile_cols : 1) :
					    rnd() % 70;
			tiles[i].tile_offset = rnd() % 8 ? rnd() % sizeof(data) : rnd();
			tiles[i].tile_size = rnd() % 8 ? 1 + rnd() % 300 : rnd();
		}
		err.msg[0] = '\0';
		len = dd_av1_write_tile_group(&info, tiles, n, data, sizeof(data), out, cap, &err);
		if (len > (long)cap || (len < 0 && !err.msg[0]))
			return printf("FAIL tile group: %ld bytes of %zu, \"%s\"\n", len, cap,
				      err.msg), 1;
		len < 0 ? failed[2]++ : ok[2]++;
		dd_av1_state_update(&st, &info, (uint64_t)it);
		if (rnd() % 64 == 0)
			dd_av1_state_show_existing_key(&st, rnd());
		if (rnd() % 256 == 0) {
			dd_av1_state_reset(&st);
			for (int i = 0; i < DD_AV1_NUM_SLOTS; i++)
				st.slot[i].valid = rnd() % 4 != 0;
		}
	}
	printf("%ld random cases: sequence header %ld written / %ld refused, frame header %ld / "
	       "%ld, tile group %ld / %ld\n", iterations, ok[0], failed[0], ok[1], failed[1],
	       ok[2], failed[2]);
	/* the plausible half must reach deep enough to write headers and tile groups */
	return ok[0] && ok[1] && ok[2] ? 0 : 1;
}
