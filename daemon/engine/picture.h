/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pixel-format writers: from the planar 4:2:0 pictures decoders produce to the CAPTURE
 * formats. Shared by backends so every one of them gets the same bounds checks.
 */
#ifndef DAEDALUS_PICTURE_H
#define DAEDALUS_PICTURE_H

#include "engine.h"

/* A decoded 4:2:0 planar picture; 8-bit samples, or 16-bit host-endian for bit_depth > 8. */
struct dd_yuv420 {
	const uint8_t *data[3];
	ptrdiff_t stride[3];
	uint32_t width;
	uint32_t height;
	unsigned int bit_depth;
};

/* Bit depth a CAPTURE format carries, 0 if unknown. */
unsigned int dd_fourcc_bit_depth(uint32_t fourcc);
const char *dd_fourcc_name(uint32_t fourcc, char buf[8]);

/*
 * Checks that dst is a well-formed picture of its fourcc that can hold a width x height
 * frame of bit_depth. All arithmetic is overflow-checked: dst comes from the client.
 */
int dd_picture_check(const struct dd_picture *dst, uint32_t width, uint32_t height,
		     unsigned int bit_depth, struct dd_error *err);

/* dd_picture_check(), then converts/copies src into dst's top-left corner. */
int dd_picture_write(const struct dd_picture *dst, const struct dd_yuv420 *src,
		     struct dd_error *err);

/*
 * Writes only the lines of one field (bottom: odd lines, else even lines) of an interlaced
 * frame: the other field's lines in dst stay as they are. src is the whole frame.
 */
int dd_picture_write_field(const struct dd_picture *dst, const struct dd_yuv420 *src,
			   bool bottom, struct dd_error *err);

#endif
