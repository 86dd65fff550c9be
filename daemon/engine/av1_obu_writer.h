/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rebuilds AV1 OBUs from the V4L2 stateless AV1 controls, so that a decoder fed with them
 * reconstructs exactly the frame the client parsed, whatever the client put around the tile
 * data in its OUTPUT buffer (GStreamer: OBU payloads; Chromium: the whole temporal unit;
 * others: bare tile data). Only the tile offsets and sizes are taken from the buffer.
 *
 * The V4L2 structs carry the *effective* values of the frame header, not its syntax: some
 * syntax elements are coded relative to state the controls lack (global motion is coded
 * against the primary reference's parameters; skip_mode_present exists only when the
 * reference order hints allow it). That per-slot state is kept here, in struct
 * dd_av1_state, updated after each decoded frame exactly as the decoder updates its slots.
 *
 * Choices made for the rebuilt sequence header: one operating point (idc 0, level 31), 16-bit
 * frame size fields, no frame ids, no timing or decoder model, screen content tools and
 * integer MV selected per frame, no colour description. The frame header always codes an
 * explicit frame size and explicit reference indices, and full segmentation, loop-filter
 * delta and film-grain data, so nothing else depends on what came before.
 */
#ifndef DAEDALUS_AV1_OBU_WRITER_H
#define DAEDALUS_AV1_OBU_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/v4l2-controls.h>

#include "engine.h"

#define DD_AV1_OBU_SEQUENCE_HEADER 1
#define DD_AV1_OBU_FRAME_HEADER 3
#define DD_AV1_OBU_TILE_GROUP 4

#define DD_AV1_NUM_SLOTS 8

/* What the decoder remembers per reference slot that the frame header syntax depends on. */
struct dd_av1_slot {
	bool valid;
	bool showable;        /* a key frame that show_existing_frame may still show */
	uint8_t frame_type;   /* enum v4l2_av1_frame_type */
	uint32_t order_hint;
	int32_t gm_params[V4L2_AV1_TOTAL_REFS_PER_FRAME][6]; /* saved global motion */
	uint64_t ts;          /* the job that wrote the slot */
};

struct dd_av1_state {
	struct dd_av1_slot slot[DD_AV1_NUM_SLOTS];
};

/* The frame a job describes, as the writers need it. film_grain may be NULL. */
struct dd_av1_frame_in {
	const struct v4l2_ctrl_av1_sequence *seq;
	const struct v4l2_ctrl_av1_frame *frame;
	const struct v4l2_ctrl_av1_film_grain *film_grain;
};

/* Derived by dd_av1_write_frame_header(); needed by the tile group and the state update. */
struct dd_av1_frame_info {
	uint32_t upscaled_width, frame_width, frame_height;
	unsigned int tile_cols, tile_rows;
	unsigned int tile_size_bytes; /* 0: no tile sizes coded (a single tile) */
	bool show_frame, showable_frame, intra;
	uint8_t frame_type;
	uint8_t refresh_frame_flags;
	uint32_t order_hint;
	int32_t gm_params[V4L2_AV1_TOTAL_REFS_PER_FRAME][6]; /* as the decoder computes them */
};

void dd_av1_state_reset(struct dd_av1_state *st);

/* Records the frame's effect on the slots (refresh_frame_flags), once it decoded. */
void dd_av1_state_update(struct dd_av1_state *st, const struct dd_av1_frame_info *info,
			 uint64_t ts);

/* A key frame shown again by show_existing_frame refreshes every slot with itself. */
void dd_av1_state_show_existing_key(struct dd_av1_state *st, unsigned int slot);

/*
 * Each writer produces one complete OBU (header, leb128 size, payload) at out and returns
 * its length, or -1 with err filled (a control value the syntax cannot carry, an
 * inconsistency between controls, or cap too small). Never reads outside its inputs.
 */
int dd_av1_write_sequence_header(const struct v4l2_ctrl_av1_sequence *seq, uint8_t *out,
				 size_t cap, struct dd_error *err);

int dd_av1_write_frame_header(const struct dd_av1_frame_in *in, const struct dd_av1_state *st,
			      struct dd_av1_frame_info *info, uint8_t *out, size_t cap,
			      struct dd_error *err);

/* A frame header OBU with show_existing_frame = 1 for slot (used for re-shown key frames). */
int dd_av1_write_show_existing(unsigned int slot, uint8_t *out, size_t cap,
			       struct dd_error *err);

/*
 * One tile group with every tile of the frame, taken from data at the entries' offsets and
 * sizes. Entries are placed by their tile_row/tile_col; each tile must appear exactly once.
 * Returns the OBU length, or -1 with err filled.
 */
long dd_av1_write_tile_group(const struct dd_av1_frame_info *info,
			     const struct v4l2_ctrl_av1_tile_group_entry *tiles, unsigned int n,
			     const uint8_t *data, size_t size, uint8_t *out, size_t cap,
			     struct dd_error *err);

/* Upper bound of dd_av1_write_tile_group()'s output for tile data of data_bytes. */
size_t dd_av1_tile_group_bound(unsigned int n, size_t data_bytes);

#endif
