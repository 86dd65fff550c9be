/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The few VP8/VP9 frame-header fields the engine reads itself, so that it can check the
 * client's controls against the bitstream before any decoder sees the frame. Not a full
 * parser: the backend parses the rest.
 */
#ifndef DAEDALUS_VPX_HEADER_H
#define DAEDALUS_VPX_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct dd_vp8_tag {
	bool key_frame;
	bool show_frame;
	unsigned int version;
	uint32_t first_part_size;
	size_t header_size; /* 3, or 10 for keyframes */
	uint32_t width;     /* keyframes only, 14 bits */
	uint32_t height;
};

int dd_vp8_parse_tag(const uint8_t *data, size_t size, struct dd_vp8_tag *tag,
		     struct dd_error *err);

struct dd_vp9_peek {
	unsigned int profile;
	bool show_existing_frame;
	bool key_frame;
	bool show_frame;
	bool error_resilient;
	bool intra_only;
	unsigned int reset_frame_context; /* the bitstream's 0..3 (3: reset all four) */
	bool has_size;      /* keyframes and intra-only frames carry an explicit size */
	unsigned int bit_depth; /* valid when has_size */
	uint32_t width;
	uint32_t height;
};

int dd_vp9_peek(const uint8_t *data, size_t size, struct dd_vp9_peek *hdr,
		struct dd_error *err);

/* Number of frames in a VP9 superframe index at the end of data, 0 if there is none. */
unsigned int dd_vp9_superframe_count(const uint8_t *data, size_t size);
/*
 * With a superframe index at the end of data: whether its frame sizes are all above 0 and
 * add up to exactly the bytes before it. libavcodec's superframe splitter refuses sizes
 * past the data and passes a size of 0 on as an empty packet, both before any decoder
 * thread sees the packet.
 */
bool dd_vp9_superframe_exact(const uint8_t *data, size_t size);

#endif
